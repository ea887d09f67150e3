"""A plain HTML form that the browser itself submits (a POST to a server route, e.g. sign-out)."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML


class NativeForm(BaseHTML):
    """A <form> the browser submits itself (Reflex's own form always prevents that)."""

    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]
