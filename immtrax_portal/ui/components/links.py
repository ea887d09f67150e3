"""A link to a route that the server answers itself (a download, the sign-in).

Reflex turns an ``rx.el.a`` with an address into the client router's link, which changes the page
without loading the document again: right for the portal's pages, wrong for a server route, which
the browser must load. (The portal draws both with ``assets/portal.css``; no Radix Themes link, so
no Radix Themes stylesheet of 700 KB for every first paint.)"""

from __future__ import annotations

import reflex as rx
from reflex.components.react_router import ReactRouterLink


def server_link(*children, href, **props) -> rx.Component:
    return ReactRouterLink.create(*children, to=href, reload_document=True, **props)
