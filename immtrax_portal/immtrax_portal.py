"""The app Reflex loads: pages and the HTTP routes for sign-in. Wiring only."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes
from immtrax_portal.ui.pages.landing import landing_page

app = rx.App(
    stylesheets=["/portal.css"],
    head_components=[rx.script(src="/portal.js")],
)
app.add_page(landing_page, route=routes.HOME, title="imMTrax Access Portal",
             description="Request, change or remove access to imMTrax, Montana's immunization "
                         "information system.")
