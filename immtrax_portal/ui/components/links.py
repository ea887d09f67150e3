"""The portal's two kinds of link, drawn by ``assets/portal.css``, so that no Radix Themes link is
needed and, with it, no Radix Themes stylesheet of 700 KB for every first paint.

Reflex turns an ``rx.el.a`` with an address into the client router's link, which changes the page
without loading the document again (the queue's tabs, filters and pages are addresses whose
``on_load`` re-reads the rows). A route that the server answers itself (a download, the sign-in)
must be loaded by the browser instead: ``server_link``."""

from __future__ import annotations

import reflex as rx
from reflex.components.react_router import ReactRouterLink


def page_link(*children, href, **props) -> rx.Component:
    return ReactRouterLink.create(*children, to=href, **props)


def server_link(*children, href, **props) -> rx.Component:
    return ReactRouterLink.create(*children, to=href, reload_document=True, **props)
