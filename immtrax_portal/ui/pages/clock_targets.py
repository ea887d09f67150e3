"""The program's targets: one field per request type (business hours), saved together."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.enums import RequestType
from immtrax_portal.ui import theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import field_id, plain_field
from immtrax_portal.ui.components.layout import notice, page_frame
from immtrax_portal.ui.pages.staff_queue import staff_nav
from immtrax_portal.ui.state.clock_targets import FIELDS
from immtrax_portal.ui.state.clock_targets import ClockTargetsState as C


def _form() -> rx.Component:
    return rx.el.form(
        error_summary([(name, field_id(name)) for name in FIELDS], C.errors),
        *[plain_field(f"target_{kind.value}", f"{kind.label} (business hours)",
                      C.targets.get(f"target_{kind.value}", "").to(str), C.errors, C.revision,
                      input_type="text", width="10rem")
          for kind in RequestType],
        rx.el.button("Save targets", type="submit", class_name="portal-button"),
        on_submit=C.save,
        aria_label="Targets per request type",
        no_validate=True,
    )


def clock_targets_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Targets", style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        rx.el.p("How long each type of request may be with the program, in business hours (a business "
                "day is 24 hours of Monday to Friday; weekends do not count). The clock "
                "stops while a request waits on the applicant or the supervisor. The owner is told at "
                "half and three quarters of the target; the owner and the staff inbox when it is passed.",
                style={"max_width": "46rem"}),
        rx.cond(C.problem != "", notice(rx.el.p(C.problem, style={"margin": "0"}), role="alert")),
        rx.el.p(C.message, role="status", aria_live="polite", style={"font_weight": "700"}),
        rx.cond(C.loaded, _form(), rx.el.p("Loading the targets…", aria_live="polite")),
        header_actions=(account_actions(),),
    )
