"""The words a person reads when the portal cannot reach its database, in one place for the
in-app message and the plain HTML page of the sign-in routes.

Why say so plainly: a generic "something went wrong" makes people retry at once, or re-enter a
whole request fearing it was half sent. Every change is one transaction, so the honest news is
that nothing was saved and that waiting a few minutes is the fix.
"""

from __future__ import annotations

from immtrax_portal.settings import get_settings

DATABASE_UNAVAILABLE_TITLE = "The portal cannot reach its database right now"


def database_unavailable_advice(reference: str = "") -> str:
    """What it means for their work and what to do, with a reference to quote on the phone."""
    s = get_settings()
    quote = f" and quote reference {reference}" if reference else ""
    return (f"Nothing was saved. Try again in a few minutes. If it keeps happening, call the "
            f"{s.program_name} at {s.program_phone}{quote}.")


def database_unavailable_text(reference: str = "") -> str:
    """The whole message in one line (for notices inside a page)."""
    return f"{DATABASE_UNAVAILABLE_TITLE}. {database_unavailable_advice(reference)}"
