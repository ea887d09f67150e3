"""What a person sees when something fails on the server: a plain message and a reference to
quote on the phone. The exception itself stays in the server log.

A database that cannot be reached gets its own message (``ui.outage``): nothing was saved, try
again in a few minutes. Anything else is a bug, and the person's entries are kept in the page.
"""

from __future__ import annotations

import logging
import secrets

from reflex_components_sonner.toast import toast

from immtrax_portal.db import is_database_unavailable
from immtrax_portal.operations.observation import count_event_failure
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.outage import DATABASE_UNAVAILABLE_TITLE, database_unavailable_advice

log = logging.getLogger("immtrax_portal.errors")


def show_generic_error(exception: Exception):
    count_event_failure(exception)
    reference = secrets.token_hex(4).upper()
    if is_database_unavailable(exception):
        log.error("database unavailable in an event handler (reference %s): %s", reference,
                  " ".join(str(exception).split())[:300])
        return toast(
            f"{DATABASE_UNAVAILABLE_TITLE}.",
            level="error",
            fallback_to_alert=True,
            description=database_unavailable_advice(reference),
            position="top-center",
            duration=24 * 3600 * 1000,  # stays until closed: the page behind it may be empty
            close_button=True,
            id="backend_error",
        )
    log.error("unhandled error in an event handler (reference %s)", reference, exc_info=exception)
    s = get_settings()
    return toast(
        "Something went wrong. Nothing you entered was lost.",
        level="error",
        fallback_to_alert=True,
        description=f"Try again in a moment. If it keeps happening, call the {s.program_name} at "
                    f"{s.program_phone} and quote reference {reference}.",
        position="top-center",
        id="backend_error",
    )
