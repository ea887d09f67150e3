"""The supervisor request wizard (/requests/new): layout only; every rule is in the state/services."""

from __future__ import annotations

from functools import partial

import reflex as rx

from immtrax_portal.domain.enums import AccessLevel, DeletionReason, RequestType
from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.browser_gate import browser_gate
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import (
    CHOICE_STYLE,
    HINT_STYLE,
    choice,
    choice_group,
    field_error,
    field_id,
    first_choice_id,
    radio,
)
from immtrax_portal.ui.components.form_field import text_area as _text_area
from immtrax_portal.ui.components.form_field import text_field as _text_field
from immtrax_portal.ui.components.layout import notice, page_frame
from immtrax_portal.ui.components.stepper import stepper
from immtrax_portal.ui.state.wizard import HEADING_ID, NOTICE_ID, QUESTIONS
from immtrax_portal.ui.state.wizard import WizardState as W

# Typed fields start afresh from the server's answers whenever the form is replaced (a newer draft
# from another tab, a resumed draft), instead of keeping what was typed into this tab.
text_field = partial(_text_field, revision=W.form_revision)
text_area = partial(_text_area, revision=W.form_revision)

LEVEL_QUESTIONS = {
    "q_inventory": "Will they manage vaccine inventory and lots?",
    "q_records": "Will they add immunizations or patient records?",
    "q_lookup": "Do they only look up records and update consent?",
}
LINK_BUTTON = {"background": "none", "border": "0", "padding": "0.5rem 0.25rem", "min_height": "44px",
               "color": theme.BLUE, "text_decoration": "underline", "font": "inherit", "cursor": "pointer",
               "font_weight": "700"}
ROW = {"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem", "align_items": "center",
       "margin": "1.5rem 0 0"}


def err(name: str) -> rx.Var:
    return W.errors.get(name, "").to(str)


def _nav(*, back: bool = True, continue_label: str = "Continue") -> rx.Component:
    return rx.el.div(
        rx.el.button(continue_label, type="submit", class_name="portal-button", id="wizard-continue"),
        rx.el.button("Back", type="button", class_name="portal-button secondary",
                     on_click=W.go_back) if back else rx.fragment(),
        style=ROW,
    )


def _step_form(*children: rx.Component, back: bool = True) -> rx.Component:
    return rx.el.form(*children, _nav(back=back), on_submit=W.continue_step, no_validate=True)


# --- Step 1 ---------------------------------------------------------------------------------------


def _organization_choice(org: rx.Var, index: rx.Var) -> rx.Component:
    radio_id = rx.cond(index == 0, field_id("organization_id"), field_id("organization_id") + "-" + org["id"])
    return rx.el.label(
        radio(radio_id, "organization_id", org["id"], W.organization_id == org["id"],
              W.choose_organization(org["id"]), org["id"] + "-" + W.form_revision.to_string()),
        rx.el.span(org["name"], style={"font_weight": "700"}),
        html_for=radio_id,
        style=CHOICE_STYLE,
    )


def _step_one() -> rx.Component:
    first_type = next(iter(RequestType)).value
    return _step_form(
        error_summary([("organization_id", field_id("organization_id")),
                       ("request_type", first_choice_id("request_type", first_type))], W.errors),
        rx.cond(
            W.has_several_organizations,
            choice_group("organization_id", "Which organization is this request for?",
                         [rx.foreach(W.organizations, _organization_choice)], err("organization_id")),
            rx.el.p("This request is for ", rx.el.strong(W.organization_name), "."),
        ),
        choice_group(
            "request_type", "What do you need to do?",
            [choice("request_type", kind.value, kind.label, W.request_type == kind.value,
                    W.choose_type(kind.value), revision=W.form_revision, detail=kind.when_to_use)
             for kind in RequestType],
            err("request_type"),
        ),
        back=False,
    )


# --- Step 2 ---------------------------------------------------------------------------------------


def _registry_advice() -> rx.Component:
    return rx.cond(
        W.advice_message != "",
        rx.el.div(
            rx.el.p(W.advice_message, style={"font_weight": "700", "margin_top": "0"}),
            rx.cond(
                W.advice_type != "",
                rx.el.button("Switch to ", W.advice_type_label, type="button", class_name="portal-button",
                             on_click=W.switch_type(W.advice_type)),
            ),
            rx.cond(
                W.advice_request_number != "",
                rx.el.a("Open request ", W.advice_request_number, href=W.advice_request_link,
                        class_name="portal-button secondary"),
            ),
            id="registry-advice",
            tab_index=-1,
            style={"background": theme.WARNING_BG, "border_left": "8px solid #ffbe2e",
                   "padding": "0.9rem 1.1rem", "margin": "0 0 1.5rem", "display": "grid",
                   "gap": "0.6rem", "justify_items": "start"},
        ),
    )


def _new_person() -> rx.Component:
    names = ("first_name", "last_name", "email", "phone", "job_title", "start_date")
    return _step_form(
        error_summary([*[(n, field_id(n)) for n in names], ("registry", "registry-advice")], W.errors),
        _registry_advice(),
        rx.el.p("Enter the person's details as they appear on their legal ID.", style=HINT_STYLE),
        text_field("first_name", "Legal first name", W.first_name,
                   lambda v: W.set_field("first_name", v), err("first_name")),
        text_field("last_name", "Legal last name", W.last_name,
                   lambda v: W.set_field("last_name", v), err("last_name")),
        text_field("email", "Work email", W.email, lambda v: W.set_field("email", v), err("email"),
                   input_type="email", hint="The invitation to sign the User Agreement goes here.",
                   input_mode="email"),
        text_field("phone", "Phone number", W.phone, lambda v: W.set_field("phone", v), err("phone"),
                   input_type="tel", hint="A US number, for example (406) 555-0123.", width="20rem"),
        text_field("job_title", "Job title", W.job_title,
                   lambda v: W.set_field("job_title", v), err("job_title")),
        text_field("start_date", "Start date", W.start_date,
                   lambda v: W.set_field("start_date", v), err("start_date"), input_type="date",
                   hint="Their first day at your organization, no more than 30 days ago.", width="14rem"),
    )


def _roster_choice(match: rx.Var, index: rx.Var) -> rx.Component:
    radio_id = rx.cond(index == 0, field_id("subject_person_id"),
                       field_id("subject_person_id") + "-" + match["person_id"])
    return rx.el.label(
        radio(radio_id, "subject_person_id", match["person_id"], W.subject_person_id == match["person_id"],
              W.choose_person(match["person_id"]), match["person_id"] + "-" + W.form_revision.to_string()),
        rx.el.span(
            rx.el.span(match["full_name"], style={"font_weight": "700", "display": "block"}),
            rx.el.span(match["email"], style={"display": "block", "overflow_wrap": "anywhere"}),
            rx.el.span("Current level: ", match["level"], style={"display": "block", "color": theme.MUTED}),
        ),
        html_for=radio_id,
        style=CHOICE_STYLE,
    )


def _roster_search() -> rx.Component:
    return rx.el.form(
        rx.el.label("Search your organization's users by name or email", html_for="roster-query",
                    style={"font_weight": "700", "display": "block"}),
        rx.el.p("Up to 20 matches are shown.", id="roster-query-hint", style=HINT_STYLE),
        rx.el.div(
            rx.debounce_input(
                rx.el.input(id="roster-query", name="roster_query", type="search", value=W.roster_query,
                            on_change=W.search_people, aria_describedby="roster-query-hint",
                            auto_complete="off",
                            style={"min_height": "44px", "padding": "0.5rem 0.65rem", "font_size": "1.05rem",
                                   "border": f"2px solid {theme.INK}", "border_radius": "0.2rem",
                                   "flex": "1 1 14rem", "min_width": "0", "box_sizing": "border-box"}),
                debounce_timeout=300, force_notify_by_enter=True,
            ),
            rx.el.button("Search", type="submit", class_name="portal-button secondary"),
            style={"display": "flex", "flex_wrap": "wrap", "gap": "0.5rem", "max_width": "36rem",
                   "margin": "0.3rem 0 1.25rem"},
        ),
        on_submit=W.search_form,
        no_validate=True,
        role="search",
    )


def _roster_pick() -> rx.Component:
    return rx.fragment(
        error_summary([("subject_person_id", field_id("subject_person_id")),
                       ("registry", "registry-advice")], W.errors),
        _registry_advice(),
        _roster_search(),
        _step_form(
            rx.el.fieldset(
                rx.el.legend("Who is the request about?", style={"font_weight": "700", "font_size": "1.15rem",
                                                                 "margin_bottom": "0.4rem", "padding": "0"}),
                field_error("subject_person_id", err("subject_person_id")),
                rx.cond(
                    W.roster_matches.length() > 0,
                    rx.el.div(rx.foreach(W.roster_matches, _roster_choice),
                              style={"display": "grid", "gap": "0.5rem", "max_width": "36rem"}),
                    rx.el.p("No current users match that search.", role="status"),
                ),
                aria_describedby=rx.cond(err("subject_person_id") != "",
                                         field_id("subject_person_id") + "-error", ""),
                style={"border": "0", "padding": "0", "margin": "0", "min_width": "0"},
            ),
            rx.cond(W.subject_person_id != "",
                    rx.el.p("Selected: ", rx.el.strong(W.subject_name), " (", W.subject_email, "), ",
                            "currently ", W.subject_level_label, ".", role="status",
                            style={"margin": "1rem 0 0", "overflow_wrap": "anywhere"})),
        ),
    )


def _step_two() -> rx.Component:
    return rx.cond(W.is_roster_type, _roster_pick(), _new_person())


# --- Step 3 ---------------------------------------------------------------------------------------


def _question(name: str, text: str) -> rx.Component:
    answer = getattr(W, name)
    return rx.el.fieldset(
        rx.el.legend(text, style={"font_weight": "700", "padding": "0"}),
        rx.el.div(
            *[choice(name, value, label, answer == value, W.answer_question(name, value),
                     revision=W.form_revision, style={"min_width": "7rem"})
              for value, label in (("yes", "Yes"), ("no", "No"))],
            style={"display": "flex", "flex_wrap": "wrap", "gap": "0.5rem", "margin_top": "0.3rem"},
        ),
        style={"border": "0", "padding": "0", "margin": "0 0 1rem", "min_width": "0"},
    )


def _level_helper() -> rx.Component:
    return rx.el.section(
        rx.el.h3("Not sure? Three questions", id="level-help-heading",
                 style={"font_size": "1.2rem", "margin": "0 0 0.75rem"}),
        *[_question(name, LEVEL_QUESTIONS[name]) for name in QUESTIONS],
        rx.el.div(
            rx.cond(
                W.recommended != "",
                rx.fragment(
                    rx.el.p("Recommended: ", rx.el.strong(W.recommended_label),
                            ", the least access that fits your answers.", style={"margin": "0"}),
                    rx.cond(W.access_level != W.recommended,
                            rx.el.button("Use ", W.recommended_label, type="button", id="use-recommended",
                                         class_name="portal-button secondary",
                                         on_click=W.use_recommended_level)),
                ),
                rx.el.p("Answer yes to at least one question to see a recommendation.",
                        style={"margin": "0"}),
            ),
            role="status",
            style={"display": "grid", "gap": "0.5rem", "justify_items": "start"},
        ),
        aria_labelledby="level-help-heading",
        style={"background": theme.SURFACE, "padding": "1rem 1.1rem", "border_radius": "0.3rem",
               "margin": "0 0 1.5rem"},
    )


def _colleague() -> rx.Component:
    """"Same level as a colleague": pick someone on the roster; their level is suggested and said
    why, but the three questions below still decide."""
    return rx.el.section(
        rx.el.h3("Same level as a colleague?", id="colleague-heading",
                 style={"font_size": "1.2rem", "margin": "0 0 0.5rem"}),
        rx.el.p("If the person will do the same work as someone already on your roster, pick them: you will "
                "see their level and why it may or may not fit.", style=HINT_STYLE),
        rx.el.div(
            rx.el.label("Find a colleague by name or email", html_for="colleague-query",
                        style={"font_weight": "700", "display": "block"}),
            rx.debounce_input(
                rx.el.input(id="colleague-query", type="search", value=W.colleague_query,
                            on_change=W.search_colleagues, auto_complete="off",
                            style={"min_height": "44px", "padding": "0.5rem 0.65rem", "font_size": "1.05rem",
                                   "border": f"2px solid {theme.INK}", "border_radius": "0.2rem",
                                   "width": "100%", "max_width": "28rem", "box_sizing": "border-box"}),
                debounce_timeout=300, force_notify_by_enter=True),
            rx.el.label("Colleague", html_for="colleague-pick",
                        style={"font_weight": "700", "display": "block", "margin_top": "0.6rem"}),
            rx.el.select(
                rx.el.option("No colleague", value=""),
                rx.foreach(W.colleague_matches, lambda m: rx.el.option(m["label"], value=m["person_id"])),
                id="colleague-pick", value=W.colleague_person_id, on_change=W.choose_colleague,
                style={"min_height": "44px", "padding": "0.4rem 0.6rem", "font_size": "1.05rem",
                       "border": f"2px solid {theme.INK}", "border_radius": "0.2rem", "background": "white",
                       "width": "100%", "max_width": "28rem"}),
            style={"display": "grid", "gap": "0.3rem", "margin": "0.5rem 0"},
        ),
        rx.cond(W.colleague_note != "", rx.el.p(W.colleague_note, id="colleague-note", role="status",
                                                style={"font_weight": "700", "margin": "0.5rem 0 0"})),
        aria_labelledby="colleague-heading",
        style={"border": f"1px solid {theme.BORDER}", "padding": "1rem 1.1rem", "border_radius": "0.3rem",
               "margin": "0 0 1rem", "background": "white"},
    )


def _level_choice(level: AccessLevel) -> rx.Component:
    return choice(
        "access_level", level.value, level.label, W.access_level == level.value,
        W.choose_level(level.value), revision=W.form_revision,
        detail=rx.el.span(
            rx.el.span(f"Level {level.rank}. ", style={"color": theme.MUTED}), level.description,
            rx.cond(W.recommended == level.value,
                    rx.el.strong(" Recommended.", style={"color": theme.SUCCESS})),
            rx.cond(W.colleague_level == level.value,
                    rx.el.span(" ", W.colleague_name, "'s level.", style={"font_style": "italic"})),
        ),
        style={"height": "100%", "border_top": f"5px solid {theme.BLUE}"},
    )


def _access_level() -> rx.Component:
    return _step_form(
        error_summary([("access_level", first_choice_id("access_level", AccessLevel.READ_ONLY_CONSENT.value)),
                       ("access_ends_on", field_id("access_ends_on")), ("note", field_id("note"))], W.errors),
        rx.cond(W.subject_level != "",
                rx.el.p(W.subject_name, " has ", rx.el.strong(W.subject_level_label), " today.")),
        _colleague(),
        _level_helper(),
        choice_group("access_level", "Which access level do they need?",
                     [_level_choice(level) for level in AccessLevel], err("access_level"),
                     hint="Each level includes everything the one before it allows.", columns="15rem"),
        rx.cond(
            W.request_type != RequestType.PERMISSIONS_CHANGE.value,
            text_field("access_ends_on", "End date of this access (optional)", W.access_ends_on,
                       lambda v: W.set_field("access_ends_on", v), err("access_ends_on"), input_type="date",
                       width="14rem",
                       hint="For students and temporary staff. Access ends by itself at the end of this "
                            "day; you are reminded 14 days and 1 day before and can extend it."),
        ),
        rx.cond(
            W.request_type == RequestType.PERMISSIONS_CHANGE.value,
            text_area("note", "Reason for the change", W.note, lambda v: W.set_field("note", v), err("note"),
                      required=True),
            text_area("note", "Anything the program should know (optional)", W.note,
                      lambda v: W.set_field("note", v), err("note")),
        ),
    )


def _deletion_details() -> rx.Component:
    first_reason = next(iter(DeletionReason)).value
    return _step_form(
        error_summary([("deletion_reason", first_choice_id("deletion_reason", first_reason)),
                       ("last_day", field_id("last_day")), ("note", field_id("note"))], W.errors),
        choice_group("deletion_reason", "Why should their access be removed?",
                     [choice("deletion_reason", reason.value, reason.label, W.deletion_reason == reason.value,
                             W.choose_deletion_reason(reason.value), revision=W.form_revision)
                      for reason in DeletionReason],
                     err("deletion_reason")),
        text_field("last_day", "Last day with access", W.last_day, lambda v: W.set_field("last_day", v),
                   err("last_day"), input_type="date", width="14rem",
                   hint="No more than 90 days ahead. Today: access is suspended as soon as you submit. "
                        "A later day: access stays until the end of that day (Montana time), and you "
                        "can move that day or cancel until then."),
        text_area("note", "Anything the program should know (optional)", W.note,
                  lambda v: W.set_field("note", v), err("note")),
    )


def _step_three() -> rx.Component:
    return rx.cond(W.is_deletion, _deletion_details(), _access_level())


# --- Step 4: review -------------------------------------------------------------------------------


def _row(term: str, value: rx.Var | str) -> rx.Component:
    return rx.el.div(
        rx.el.dt(term, style={"font_weight": "700"}),
        rx.el.dd(value, style={"margin": "0", "overflow_wrap": "anywhere"}),
        style={"display": "grid", "grid_template_columns": "repeat(auto-fit, minmax(min(11rem, 100%), 1fr))",
               "gap": "0.1rem 1rem", "padding": "0.5rem 0", "border_bottom": f"1px solid {theme.BORDER}"},
    )


def _review_part(title: str | rx.Var, step: int, what: str, *rows: rx.Component) -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h3(title, style={"font_size": "1.2rem", "margin": "0"}),
            rx.el.button("Edit", rx.el.span(f" {what}", class_name="visually-hidden"), type="button",
                         on_click=W.edit_step(step), style=LINK_BUTTON),
            style={"display": "flex", "justify_content": "space-between", "align_items": "center",
                   "gap": "1rem", "flex_wrap": "wrap"},
        ),
        rx.el.dl(*rows, style={"margin": "0.25rem 0 0"}),
        style={"margin": "0 0 1.5rem", "max_width": "48rem"},
    )


def _review() -> rx.Component:
    return rx.el.form(
        error_summary([("registry", "registry-advice")], W.errors),
        _review_part("Organization and request type", 1, "organization and request type",
                     _row("Organization", W.organization_name), _row("Request type", W.type_label)),
        rx.cond(
            W.is_roster_type,
            _review_part("The user", 2, "the user", _row("Name", W.subject_name),
                         _row("Email", W.subject_email), _row("Access today", W.subject_level_label)),
            _review_part("The person", 2, "the person",
                         _row("Legal name", W.first_name + " " + W.last_name), _row("Work email", W.email),
                         _row("Phone", W.phone_label), _row("Job title", W.job_title),
                         _row("Start date", W.start_date_label)),
        ),
        rx.cond(
            W.is_deletion,
            _review_part("Reason and last day", 3, "reason and last day",
                         _row("Reason", W.deletion_reason_label), _row("Last day", W.last_day_label),
                         _row("Note", rx.cond(W.note != "", W.note, "No note added"))),
            _review_part("Access level", 3, "access level", _row("Access level", W.access_level_label),
                         rx.cond(W.request_type != RequestType.PERMISSIONS_CHANGE.value,
                                 _row("Access ends", rx.cond(W.access_ends_on != "", W.access_ends_on,
                                                             "No end date"))),
                         _row(rx.cond(W.request_type == RequestType.PERMISSIONS_CHANGE.value,
                                      "Reason for the change", "Note"),
                              rx.cond(W.note != "", W.note, "No note added"))),
        ),
        rx.el.p(rx.cond(W.is_deletion,
                        rx.cond(W.deletion_waits,
                                "Their imMTrax access stays until the end of their last day, then ends "
                                "by itself.",
                                "Their imMTrax access is suspended the moment you submit."),
                        "Nothing is sent until you select Submit request.")),
        rx.el.div(
            rx.el.button(rx.cond(W.submitting, "Submitting…", "Submit request"), type="submit",
                         class_name="portal-button", id="wizard-submit", disabled=W.submitting,
                         aria_disabled=rx.cond(W.submitting, "true", "false")),
            rx.el.button("Back", type="button", class_name="portal-button secondary", on_click=W.go_back,
                         disabled=W.submitting),
            rx.el.span(rx.cond(W.submitting, "Submitting your request…", ""), role="status",
                       aria_live="polite"),
            style=ROW,
        ),
        on_submit=W.submit,
        no_validate=True,
        aria_busy=rx.cond(W.submitting, "true", "false"),
    )


# --- Step 5: confirmation -------------------------------------------------------------------------


def _confirmation() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.p("Your request number", style={"margin": "0", "font_size": "1.1rem"}),
            rx.el.p(W.submitted_number, id="request-number",
                    style={"margin": "0.2rem 0", "font_size": "2rem", "font_weight": "800"}),
            rx.el.p(W.submitted_summary, " ", rx.el.a("View the request", href=W.submitted_link),
                    style={"margin": "0"}),
            style={"background": "#e7f4e4", "border_left": f"8px solid {theme.SUCCESS}",
                   "padding": "1rem 1.25rem", "margin": "0 0 1.5rem", "color": theme.INK},
        ),
        rx.el.h3("What happens next", style={"font_size": "1.3rem"}),
        rx.el.ol(rx.foreach(W.submitted_steps, lambda line: rx.el.li(line, style={"margin": "0 0 0.5rem"})),
                 style={"padding_left": "1.5rem", "max_width": "48rem", "list_style_type": "decimal"}),
        rx.el.p("We also emailed you a receipt. You can follow the request on your dashboard."),
        rx.el.div(
            rx.el.a("Go to your dashboard", href=routes.DASHBOARD, class_name="portal-button",
                    id="go-to-dashboard"),
            rx.el.button("Start another request", type="button", class_name="portal-button secondary",
                         on_click=W.start_over),
            style=ROW,
        ),
    )


# --- Frame ----------------------------------------------------------------------------------------


def _cancel_area() -> rx.Component:
    return rx.cond(
        W.confirm_cancel,
        rx.el.div(
            rx.el.p("Discard everything you entered for this request?", style={"font_weight": "700",
                                                                               "margin": "0"}),
            rx.el.div(
                rx.el.button("Yes, discard it", type="button", class_name="portal-button",
                             on_click=W.cancel_request),
                rx.el.button("Keep editing", type="button", class_name="portal-button secondary",
                             on_click=W.keep_editing, custom_attrs={"data-confirm-no": "true"}),
                style={"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem"},
            ),
            id="cancel-confirm",
            tab_index=-1,
            role="group",
            custom_attrs={"data-confirm": "true"},   # Escape is "Keep editing" (assets/portal.js)
            aria_label="Cancel this request",
            style={"border": f"2px solid {theme.BORDER}", "padding": "1rem", "display": "grid",
                   "gap": "0.75rem", "margin": "2rem 0 0", "max_width": "36rem"},
        ),
        rx.el.div(
            rx.el.button("Cancel request", type="button", on_click=W.ask_to_cancel, style=LINK_BUTTON),
            style={"margin": "1.5rem 0 0"},
        ),
    )


def _wizard() -> rx.Component:
    return rx.el.div(
        stepper(["Request type", "Person", W.third_step_title, "Review", "Confirmation"], W.step,
                label="Request steps"),
        rx.cond(W.notice != "", notice(rx.el.p(W.notice, style={"margin": "0"}), role="status",
                                       id=NOTICE_ID, tab_index=-1)),
        rx.el.h2(W.step_heading, id=HEADING_ID, tab_index=-1,
                 style={"font_size": "1.6rem", "margin": "0 0 1rem", "outline": "none"}),
        rx.match(W.step, (1, _step_one()), (2, _step_two()), (3, _step_three()), (4, _review()),
                 (5, _confirmation()), rx.fragment()),
        rx.cond(W.step < 5, _cancel_area()),
    )


def wizard_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Request imMTrax access for your staff",
                 style={"font_size": "clamp(1.6rem, 5vw, 2.2rem)", "line_height": "1.2",
                        "color": theme.NAVY, "margin": "0.25rem 0 1rem"}),
        browser_gate(rx.cond(W.loaded, _wizard(), rx.el.p("Loading your request…", aria_live="polite"))),
        header_actions=(account_actions(),),
    )


open_wizard = W.open_wizard
"""The page's on_load event, exported so the app registers the page with one import."""
