"""The idle-timeout warning (WCAG 2.2.1): warn before the session ends, let the person extend it.

Every page frame mounts ``SessionTimeoutState.watch`` once it is shown. The watcher asks the server
how long the session lasts if nothing happens (``sessions.seconds_left``: a read, so asking is no
activity and never keeps a session alive), sleeps until the warning is due, and then opens the
dialog with a countdown. Activity in any tab of the browser moves the server's end, and the watcher
follows it (the dialog closes by itself when another tab was used). "Stay signed in" extends the
session on the server (``stay_signed_in``, guarded, audited); "Sign out" is the ordinary sign-out
form. When the time is up the tab goes to the sign-in page, which says why, and signing in again
returns to the same page (the wizard with its draft, which is kept on the server).

The countdown is shown every second but announced to screen readers only now and then
(``announcement``, a polite live region), so it does not talk over everything else.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from immtrax_portal.auth.sessions import extend_session, seconds_left
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.session import SessionState, guarded

logger = logging.getLogger(__name__)

DIALOG_ID = "session-timeout-dialog"
STAY_BUTTON_ID = "session-timeout-stay"
# How often a quiet watcher looks again (another tab's activity, a closed tab) before the warning.
QUIET_CHECK_SECONDS = 30.0
# Remaining seconds at which the countdown is announced (politely) while the dialog is open.
ANNOUNCE_AT = (600, 300, 240, 180, 120, 90, 60, 30, 15, 10, 5)

_OPEN_DIALOG = f"""(function () {{
  var keep = document.activeElement;
  if (keep && keep.id !== {STAY_BUTTON_ID!r}) window.__portalFocusBeforeTimeout = keep;
  var tries = 0;
  (function focusStay() {{
    var button = document.getElementById({STAY_BUTTON_ID!r});
    if (button) {{ button.focus(); return; }}
    if (tries++ < 40) window.setTimeout(focusStay, 25);
  }})();
}})()"""
_CLOSE_DIALOG = """(function () {
  var back = window.__portalFocusBeforeTimeout;
  window.__portalFocusBeforeTimeout = null;
  if (back && back !== document.body && document.body.contains(back)) back.focus();
  else { var main = document.getElementById("main"); if (main) main.focus(); }
})()"""


def countdown_words(seconds: int) -> str:
    """"1 minute 5 seconds", "45 seconds": what the dialog says and the live region announces."""
    seconds = max(0, int(seconds))
    minutes, rest = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute" + ("" if minutes == 1 else "s"))
    if rest or not minutes:
        parts.append(f"{rest} second" + ("" if rest == 1 else "s"))
    return " ".join(parts)


def clock_text(seconds: int) -> str:
    minutes, rest = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{rest:02d}"


async def _tab_is_open(token: str) -> bool:
    from immtrax_portal.ui.state.live import _tab_is_open as tab_is_open

    return await tab_is_open(token)


class SessionTimeoutState(SessionState):
    warning_open: bool = False
    seconds_left: int = 0
    countdown: str = ""        # "1:45", shown (not announced) every second
    countdown_words: str = ""  # "1 minute 45 seconds", the dialog's description when it opens
    announcement: str = ""     # the polite live region: changed only at ANNOUNCE_AT
    _watch_generation: int = 0

    def _close(self) -> rx.event.EventSpec | None:
        was_open = self.warning_open
        self.warning_open, self.announcement = False, ""
        return rx.call_script(_CLOSE_DIALOG) if was_open else None

    def _count(self, left: float) -> rx.event.EventSpec | None:
        """Show ``left`` seconds; the first call opens the dialog (and moves focus into it)."""
        seconds = max(0, int(left + 0.5))
        opening = not self.warning_open
        self.seconds_left, self.countdown = seconds, clock_text(seconds)
        if opening:
            self.countdown_words = countdown_words(seconds)
            self.announcement = f"You will be signed out in {countdown_words(seconds)}."
            self.warning_open = True
            return rx.call_script(_OPEN_DIALOG)
        if seconds in ANNOUNCE_AT:
            self.announcement = f"{countdown_words(seconds)} left before you are signed out."
        return None

    @rx.event(background=True)
    async def watch(self):
        """Follow the session's end for this tab (see the module): warn, count down, and send the
        tab to sign in when the time is up. Ends with the tab, the session, or a newer watcher."""
        async with self:
            self._watch_generation += 1
            generation = self._watch_generation
            cookie = self.router.headers.cookie
            token = self.router.session.client_token
        left = await asyncio.to_thread(seconds_left, cookie)
        if left is None:  # nobody signed in on this tab: nothing to warn about
            return
        warning = get_settings().session_warning_seconds
        loop = asyncio.get_running_loop()
        ticks = 0
        while True:
            async with self:
                if self._watch_generation != generation:
                    return  # the tab moved to another page, whose frame started its own watcher
                if left is None or left <= 0:
                    self.warning_open, self.announcement = False, ""
                    address = self._timeout_return_address()
                    yield rx.redirect(routes.timed_out_sign_in_url(address))
                    return
                shown = self._close() if left > warning else self._count(left)
            if shown is not None:
                yield shown
            pause = min(left - warning, QUIET_CHECK_SECONDS) if left > warning else min(1.0, left)
            started = loop.time()
            await asyncio.sleep(max(pause, 0.05))
            if not await _tab_is_open(token):
                return
            ticks += 1
            if left > warning or ticks % 5 == 0 or left <= 2:
                # Asked again: another tab (or this one) may have moved the end.
                left = await asyncio.to_thread(seconds_left, cookie)
            else:
                left -= loop.time() - started

    def _timeout_return_address(self) -> str:
        """This page; the wizard says on return that the draft was kept."""
        address = self._page_address()
        if self.router.url.path == routes.WIZARD:
            step = self.router.url.query_parameters.get("step", "")
            address = f"{routes.WIZARD}?step={step[:1] or '1'}&resumed=1"
        return address

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.SESSION_STAY_SIGNED_IN)
    def stay_signed_in(self, actor: Actor):
        """"Stay signed in": the session's idle time starts again, on the server."""
        left = extend_session(self.router.headers.cookie, ip_address=self._client_ip())
        if left is None:  # ended between the guard and here
            return rx.redirect(routes.timed_out_sign_in_url(self._timeout_return_address()))
        return [event for event in (self._close(), SessionTimeoutState.watch) if event is not None]

    def _on_refused(self, message: str, *, on_load: bool = False):
        """Too late: the session had already ended. On to sign in, and back here afterwards."""
        self.warning_open = False
        return rx.redirect(routes.timed_out_sign_in_url(self._timeout_return_address()))
