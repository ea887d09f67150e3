"""Several people in one submission: a New Access (or Change Employer) for up to 25 people at one
organization, each row checked by the single wizard's own rules.

- ``rows``: one row per person, as typed into the table or read from CSV (pasted or uploaded):
  the csv module, bounded in bytes, rows and cell lengths.
- ``check``: what is wrong with each row: the wizard's syntax rules (``services.wizard.steps``),
  the person being the supervisor, the same person twice, and the registry (``services.wizard.
  registry``): access elsewhere (one click makes the row a Change Employer), access here (a
  Permissions Change instead), an open request.
- ``submit``: one request per person in one transaction, one receipt, one idempotency key.
"""
