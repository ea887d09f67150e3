"""The Safari / Apple-device gate in front of every form page.

The server decides from the User-Agent (``SessionState.forms_blocked``, set by every page guard).
The browser adds what only it can know, an iPad posing as a Mac (touch points): that report may
only add a block, never lift the server's. The gate is a convenience for honest browsers, not a
security boundary: the forms' handlers and services validate everything anyway.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from immtrax_portal.browser_policy import IPAD_AS_MAC_JS, describe_ipad_as_mac
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state.session import SessionState

COPY_LINK_JS = (
    "navigator.clipboard.writeText(window.location.href).then(function(){return 'copied'},"
    "function(){return 'failed'})"
)


class BrowserGateState(SessionState):
    ipad_as_mac: bool = False
    gate_page_url: str = ""
    copy_result: str = ""

    @rx.var
    def gate_blocked(self) -> bool:
        return self.forms_blocked or self.ipad_as_mac

    @rx.var
    def gate_message(self) -> str:
        """Why, in plain words: the server's reason first, else the browser's iPad finding."""
        if self.forms_blocked:
            return self.forms_block_message
        if self.ipad_as_mac:
            return describe_ipad_as_mac()
        return ""

    @rx.var
    def gate_mailto(self) -> str:
        """A mailto: link that opens a new email in the device's mail app with this page's address
        in it; the person chooses whom to send it to (the portal sends nothing itself)."""
        subject = "imMTrax Access Portal link"
        body = (f"Open this link on a computer with Chrome, Edge or Firefox:\n\n{self.gate_page_url}\n\n"
                f"Questions: {get_settings().program_name}, {get_settings().program_phone}.")
        return f"mailto:?subject={quote(subject, safe='')}&body={quote(body, safe='')}"

    @rx.event
    def start_browser_check(self):
        """On mount: remember the page's public address and ask the browser about touch points."""
        url = self.router.url
        path = url.path if url.path.startswith("/") else "/"
        query = f"?{url.query}" if url.query else ""
        self.gate_page_url = f"{get_settings().public_url}{path}{query}"[:500]
        self.copy_result = ""
        return rx.call_script(IPAD_AS_MAC_JS, callback=BrowserGateState.note_ipad_as_mac)

    @rx.event
    def note_ipad_as_mac(self, result: bool):
        """The browser's answer. Only ``True`` counts, and it can only add a block."""
        if result is True:
            self.ipad_as_mac = True

    @rx.event
    def copy_link(self):
        return rx.call_script(COPY_LINK_JS, callback=BrowserGateState.note_copy_result)

    @rx.event
    def note_copy_result(self, result: str):
        self.copy_result = "copied" if result == "copied" else "failed"
