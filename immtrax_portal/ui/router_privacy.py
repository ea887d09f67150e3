"""The browser receives none of the request headers of its connection.

Reflex keeps the websocket handshake's headers in the root state's router vars, where the server
needs them (the session cookie, the User-Agent for the Safari gate, X-Forwarded-For for the
client's address), and sends them to the page with every full state: all but the cookie and
authorization headers, which include whatever a proxy in front of the portal adds (internal host
names, proxy tokens, tracing ids). No page of the portal reads a header in the browser: its
decisions are made on the server. So the headers are serialized for the browser as empty
values; the server-side state keeps them whole.
"""

from __future__ import annotations

import dataclasses

from reflex.istate.data import HeaderData
from reflex_base.utils.serializers import serializer

# Headers a page of the portal reads in the browser: none (see the module docstring).
HEADERS_THE_PAGES_USE: frozenset[str] = frozenset()


@serializer(to=dict, overwrite=True)
def headers_for_the_browser(headers: HeaderData) -> dict:
    """The same shape Reflex sends (so the front end's router var keeps its fields), empty but for
    the headers a page uses."""
    sent = {field.name: (getattr(headers, field.name) if field.name in HEADERS_THE_PAGES_USE else "")
            for field in dataclasses.fields(headers) if field.name != "raw_headers"}
    sent["raw_headers"] = {name: value for name, value in headers.raw_headers.items()
                           if name in HEADERS_THE_PAGES_USE}
    return sent
