"""The supervisor request wizard's rules, without Reflex.

- ``answers``: every answer the wizard collects, with its limit, declared once; the typed
  ``RequestDraft`` a submission takes is made from it.
- ``steps``: which answers belong to which step, what is wrong with a step, the next reachable step,
  the level recommendation.
- ``registry``: what the registry of grants says about the person of a request (step 2), audited and
  rate-limited per supervisor, never naming another organization.

``ui/state/wizard.py`` reads input, calls these and shows the result; it decides nothing itself.
"""
