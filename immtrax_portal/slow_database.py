"""Testing only: a database that is slow for one person, to show that their tab holds up no other.

Off unless ``IMMTRAX_DEBUG_SLOW_DATABASE_PERSON_ID`` is set (refused in production). Then every SQL
statement sent while the portal handles an event of that person (once the guard has identified
them: ``log_context.actor_id``) first waits ``IMMTRAX_DEBUG_SLOW_DATABASE_SECONDS``, in whatever
thread sends it. Sent from the event loop, that wait would stop every tab of the worker; the
end-to-end test ``tests/e2e/test_no_tab_waits.py`` shows it does not. Nothing here imports the
rest of the portal (``db`` installs it).
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

from immtrax_portal.operations import log_context


def install(engine: Engine, person_id: int, seconds: float) -> None:
    def wait(*_args) -> None:
        if log_context.actor_id.get() == person_id:
            time.sleep(seconds)

    event.listen(engine, "before_cursor_execute", wait)
