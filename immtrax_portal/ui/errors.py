"""What a person sees when something fails on the server: a plain message and a reference to
quote on the phone. The exception itself stays in the server log."""

from __future__ import annotations

import logging
import secrets

from reflex_components_sonner.toast import toast

from immtrax_portal.settings import get_settings

log = logging.getLogger("immtrax_portal.errors")


def show_generic_error(exception: Exception):
    reference = secrets.token_hex(4).upper()
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
