"""THE CASE TABLE: every public event handler of the portal, and what each caller may do with it.

One entry per handler, keyed ``"StateClass.handler"``; ``test_handler_permissions`` fails for a
handler the app has and this table does not (and for an entry whose handler is gone). Adding a
handler means adding one entry here:

    "MyState.do_thing": case(routes.MY_PAGE, {"arg": ...},
        anonymous=deny(), applicant=deny(), supervisor=allow("table_it_writes"),
        supervisor_other_org=deny(payload=lambda w: {...org B...}), supervisor_self=deny(...),
        staff=allow(), admin=allow()),

- ``page``: the route the forged tab is on when it calls (its ``on_load`` runs first, as in a
  browser); ``payload``: the handler's keyword arguments. Either may be a function of the ``World``
  (ids and numbers of the running portal's database, see ``world.py``).
- ``deny()``: the server must refuse: no table changes (audit log aside), at least one new audit
  event with outcome ``denied`` by this caller, nothing the caller may not see in the answer.
- ``allow(*tables)``: the server lets the caller do it: no denial is recorded, and only the named
  tables may change (``allow(ANY)`` for an action with effects everywhere; give a ``check``).
- Per caller, ``payload``/``page``/``prelude`` override the handler's: the prelude is a list of
  ``(handler key, payload)`` calls made on the same tab before the snapshot (to reach a wizard step).
- Callers (see ``world.CALLERS``): anonymous, applicant, supervisor (own organizations),
  supervisor_other_org (organization A aiming at B), supervisor_self (aiming at a request about
  themselves), staff, admin. Every entry names all seven.

Reflex's own handlers are listed in ``REFLEX_INTERNAL`` with why they need no entry; ``setvar``
exists on every state and is checked for every state and var by its own test.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from immtrax_portal.services import agreements
from immtrax_portal.ui import routes
from tests.e2e.security import database
from tests.e2e.security.world import EMAILS, ROBIN, SPARE_PERSON, SPARE_STAFF, World

Builder = Any  # a value, or a function of the World that returns it
ANY = "*"


class Outcome(StrEnum):
    DENIED = "denied"
    ALLOWED = "allowed"


@dataclass(frozen=True)
class Expect:
    outcome: Outcome
    writes: frozenset[str] = frozenset()
    payload: Builder = None
    page: Builder = None
    prelude: tuple[tuple[str, Builder], ...] = ()
    check: Callable[[World], None] | None = None


@dataclass(frozen=True)
class Case:
    page: Builder
    payload: Builder
    callers: dict[str, Expect]


def deny(*, payload: Builder = None, page: Builder = None, prelude=()) -> Expect:
    return Expect(Outcome.DENIED, payload=payload, page=page, prelude=tuple(prelude))


def allow(*writes: str, payload: Builder = None, page: Builder = None, prelude=(),
          check: Callable[[World], None] | None = None) -> Expect:
    return Expect(Outcome.ALLOWED, frozenset(writes), payload, page, tuple(prelude), check)


def case(page: Builder, payload: Builder = None, **callers: Expect) -> Case:
    return Case(page, payload if payload is not None else {}, callers)


def build(value: Builder, world: World):
    return value(world) if callable(value) else value


# --- Payload pieces -------------------------------------------------------------------------------

def org(code: str) -> Callable[[World], str]:
    return lambda w: str(w.org[code])


def person(email: str) -> Callable[[World], str]:
    return lambda w: str(w.person[email])


def request_page(number: Builder) -> Callable[[World], str]:
    return lambda w: routes.request_url(build(number, w))


def status_of(number_of: Callable[[World], str], wanted: str) -> Callable[[World], None]:
    def check(w: World) -> None:
        (row,) = database.query(w.db, "SELECT status FROM access_request WHERE number = ?", number_of(w))
        assert row["status"] == wanted, row
    return check


def is_staff(email: str, wanted: bool) -> Callable[[World], None]:
    def check(w: World) -> None:
        (row,) = database.query(w.db, "SELECT is_staff FROM person WHERE email = ?", email)
        assert bool(row["is_staff"]) is wanted, row
    return check


MARCUS = EMAILS["demo-supervisor-one-org"]
AVERY_AT_BFC = "avery.holm@billingsclinic.example"
GRAY_AT_BCH = "gray.mccall@bozemanhealth.example"
CASEY_AT_BFC = "casey.lindqvist@billingsclinic.example"
DRAFT = "wizard_draft"
IN_TEN_DAYS = (date.today() + timedelta(days=10)).isoformat()
# A supervisor's way to the review step with a New Access for someone else.
FRESH_DRAFT = ("WizardState.cancel_request", {})
CHOOSE_BFC = ("WizardState.choose_organization", {"organization_id": org("BFC-0101")})
DELETION = ("WizardState.choose_type", {"request_type": "access_deletion"})
TO_REVIEW = (
    FRESH_DRAFT,
    ("WizardState.choose_type", {"request_type": "new_access"}),
    ("WizardState.continue_step", {"form_data": {}}),
    *(("WizardState.set_field", {"name": k, "value": v}) for k, v in {
        "first_name": "Sky", "last_name": "Prelude", "email": "sky.prelude@bozemanhealth.example",
        "phone": "406-555-0123", "job_title": "Nurse", "start_date": IN_TEN_DAYS}.items()),
    ("WizardState.continue_step", {"form_data": {}}),
    ("WizardState.choose_level", {"level": "record_maintenance"}),
    ("WizardState.continue_step", {"form_data": {}}),
)


_labels = itertools.count(1)


def agreement_form(_world: World) -> dict[str, str]:
    """The current text under a label not used before."""
    return {"label": f"harness-{uuid.uuid4().hex[:8]}-{next(_labels)}",
            "title": "imMTrax User Agreement", "body": agreements.DEFAULT_BODY,
            "acknowledgements": "\n".join(agreements.DEFAULT_ACKNOWLEDGEMENTS)}


def newest_agreement_is_the_harness_one(w: World) -> None:
    (row,) = database.query(w.db, "SELECT label FROM agreement_version ORDER BY id DESC LIMIT 1")
    assert row["label"].startswith("harness-"), row


def everyone(expect: Expect) -> dict[str, Expect]:
    return {c: expect for c in ("anonymous", "applicant", "supervisor", "supervisor_other_org",
                                "supervisor_self", "staff", "admin")}


def signed_in(expect: Expect) -> dict[str, Expect]:
    """Anonymous refused; everyone signed in gets ``expect``."""
    return {**everyone(expect), "anonymous": deny()}


def supervisors(own: Expect, other_org: Expect | None = None, self_: Expect | None = None) -> dict:
    """Wizard handlers: people who supervise nothing are refused (and recorded)."""
    return {"anonymous": deny(), "applicant": deny(), "staff": deny(), "admin": deny(),
            "supervisor": own, "supervisor_other_org": other_org or own, "supervisor_self": self_ or own}


def admins(allowed: Expect) -> dict[str, Expect]:
    return {**everyone(deny()), "admin": allowed}


def agreement_page(token_of: Callable[[World], str]) -> Callable[[World], str]:
    return lambda w: f"{routes.AGREEMENT}/{token_of(w)}"


# A well-formed link no invitation has: what a caller who was never sent a link can aim at.
UNKNOWN_LINK = f"{routes.AGREEMENT}/{'x' * 43}"
SIGNED_FORM = {"form": {"typed_name": "Jordan Tall Bull", **{f"ack-{i}": "on" for i in range(20)}}}


def own_request_of(email: str) -> Callable[[World], str]:
    """The first request about ``email`` (the demo applicant's own BFC request)."""
    def number(w: World) -> str:
        rows = database.query(w.db, "SELECT r.number FROM access_request r JOIN person p ON "
                              "p.id = r.subject_person_id WHERE p.email = ? ORDER BY r.id", email)
        return rows[0]["number"]
    return number


JORDANS_OWN = own_request_of(EMAILS["demo-applicant"])
ASK_ABOUT_KAI = ("DashboardState.ask_cancel", {"number": "IMR-2026-000002"})   # Dana's, at LPD


def organization_form(code: str) -> Callable[[World], dict]:
    """The organization's own fields, as its edit form submits them: saving them changes nothing."""
    def form(w: World) -> dict:
        (row,) = database.query(w.db, "SELECT code, name, city, active FROM organization WHERE code = ?",
                                code)
        return {"form": {"code": row["code"], "name": row["name"], "city": row["city"],
                         "active": "on" if row["active"] else ""}}
    return form


def staff_only(allowed: Expect | None = None) -> dict[str, Expect]:
    """Program staff pages: everyone else refused (and recorded)."""
    allowed = allowed or allow()
    return {**everyone(deny()), "staff": allowed, "admin": allowed}


# --- The table ------------------------------------------------------------------------------------

CASES: dict[str, Case] = {
    # Public: who am I (display only, from the cookie), and the sign-in page's return address.
    "SessionState.load_identity": case(routes.HOME, **everyone(allow())),
    "SignInPageState.load": case(routes.SIGN_IN_PAGE, **everyone(allow())),

    # Dashboard: every signed-in person sees their own slices; paging re-derives the caller.
    "DashboardState.load": case(routes.DASHBOARD, **signed_in(allow())),
    "DashboardState.next_org_page": case(routes.DASHBOARD, **signed_in(allow())),
    "DashboardState.previous_org_page": case(routes.DASHBOARD, **signed_in(allow())),
    "DashboardState.next_queue_page": case(routes.DASHBOARD, **signed_in(allow())),
    "DashboardState.previous_queue_page": case(routes.DASHBOARD, **signed_in(allow())),

    # The browser gate: the tab's own display state only (touch points, copy-link result).
    "BrowserGateState.start_browser_check": case(routes.WIZARD, **everyone(allow())),
    "BrowserGateState.note_ipad_as_mac": case(routes.WIZARD, {"result": True}, **everyone(allow())),
    "BrowserGateState.copy_link": case(routes.WIZARD, **everyone(allow())),
    "BrowserGateState.note_copy_result": case(routes.WIZARD, {"result": "copied"}, **everyone(allow())),

    # A request's page: who may see it, and who may act on it.
    "RequestDetailState.load": case(
        request_page("IMR-2026-000002"),       # Kai Morningstar, LPD, in review
        anonymous=deny(), applicant=deny(), supervisor=allow(), supervisor_other_org=deny(),
        supervisor_self=allow(page=request_page(lambda w: w.about_marcus)),   # the subject may look
        staff=allow(), admin=allow()),
    "RequestDetailState.choose": case(request_page("IMR-2026-000002"), {"action": "reject"},
                                      **everyone(allow())),   # picks only from the tab's own list
    "RequestDetailState.submit_action": case(
        request_page("IMR-2026-000002"), {"form": {"action": "reject", "text": "forged"}},
        anonymous=deny(),
        applicant=deny(page=request_page("IMR-2026-000001"), payload={"form": {"action": "cancel"}}),
        supervisor=allow(ANY, page=request_page(lambda w: w.dana_cancels),
                         payload={"form": {"action": "cancel", "text": "harness"}},
                         check=status_of(lambda w: w.dana_cancels, "cancelled")),
        supervisor_other_org=deny(payload={"form": {"action": "cancel"}}),
        supervisor_self=deny(page=request_page(lambda w: w.about_marcus),
                             payload={"form": {"action": "answer_info", "text": "It's me"}}),
        staff=allow(ANY, page=request_page(lambda w: w.for_staff),
                    payload={"form": {"action": "ask_for_info", "text": "Which clinic?"}},
                    check=status_of(lambda w: w.for_staff, "needs_info")),
        admin=allow(ANY, page=request_page(lambda w: w.for_admin),
                    payload={"form": {"action": "ask_for_info", "text": "Which clinic?"}},
                    check=status_of(lambda w: w.for_admin, "needs_info"))),

    # Program staff roles: admins only.
    "StaffRolesState.load": case(routes.ADMIN_STAFF, **admins(allow())),
    "StaffRolesState.add_staff": case(
        routes.ADMIN_STAFF, {"form": {"email": SPARE_PERSON}},
        **admins(allow("person", check=is_staff(SPARE_PERSON, True)))),
    "StaffRolesState.remove_staff": case(
        routes.ADMIN_STAFF, {"person_id": person(SPARE_STAFF)},
        **admins(allow("person", check=is_staff(SPARE_STAFF, False)))),

    # The request wizard: supervisors only, on their own draft and organizations.
    "WizardState.open_wizard": case(routes.WIZARD, **supervisors(allow())),
    "WizardState.choose_organization": case(
        routes.WIZARD, {"organization_id": org("BFC-0101")},
        **supervisors(allow(DRAFT), other_org=deny(),
                      self_=allow(DRAFT, payload={"organization_id": org("BCH-0303")}))),
    "WizardState.choose_type": case(routes.WIZARD, {"request_type": "new_access"},
                                    **supervisors(allow(DRAFT))),
    "WizardState.set_field": case(routes.WIZARD, {"name": "first_name", "value": "Nora"},
                                  **supervisors(allow(DRAFT))),
    "WizardState.search_people": case(routes.WIZARD, {"query": "a"}, **supervisors(allow())),
    "WizardState.search_form": case(routes.WIZARD, {"form_data": {"roster_query": "a"}},
                                    **supervisors(allow())),
    "WizardState.choose_person": case(
        routes.WIZARD, {"person_id": person(AVERY_AT_BFC)},
        **supervisors(
            allow(DRAFT, prelude=[FRESH_DRAFT, CHOOSE_BFC, DELETION]),
            other_org=deny(prelude=[FRESH_DRAFT, DELETION]),               # Avery is on BFC's roster
            self_=deny(payload={"person_id": person(MARCUS)}, prelude=[FRESH_DRAFT, DELETION]))),
    "WizardState.switch_type": case(routes.WIZARD, {"request_type": "change_employer"},
                                    **supervisors(allow())),   # only the type the registry advised
    "WizardState.choose_level": case(routes.WIZARD, {"level": "record_maintenance"},
                                     **supervisors(allow(DRAFT))),
    "WizardState.answer_question": case(routes.WIZARD, {"question": "q_records", "answer": "yes"},
                                        **supervisors(allow(DRAFT))),
    "WizardState.use_recommended_level": case(routes.WIZARD, **supervisors(allow(DRAFT))),
    "WizardState.choose_deletion_reason": case(routes.WIZARD, {"reason": "left_employment"},
                                               **supervisors(allow(DRAFT))),
    "WizardState.continue_step": case(routes.WIZARD, {"form_data": {}}, **supervisors(allow(DRAFT))),
    "WizardState.go_back": case(routes.WIZARD, **supervisors(allow(DRAFT))),
    "WizardState.edit_step": case(routes.WIZARD, {"step": 1}, **supervisors(allow(DRAFT))),
    "WizardState.submit": case(
        routes.WIZARD,
        **supervisors(
            allow(DRAFT),   # at step 1 there is nothing to submit (journeys submit for real)
            # Reach the review step for someone else, then swap in one's own email and submit.
            self_=deny(prelude=[*TO_REVIEW, ("WizardState.set_field", {"name": "email", "value": MARCUS})]))),
    "WizardState.ask_to_cancel": case(routes.WIZARD, **supervisors(allow())),
    "WizardState.keep_editing": case(routes.WIZARD, **supervisors(allow())),
    "WizardState.cancel_request": case(routes.WIZARD, **supervisors(allow(DRAFT))),
    "WizardState.start_over": case(routes.WIZARD, **supervisors(allow())),

    # Dashboard, live: the watcher re-derives the caller from the cookie and re-reads only what
    # that caller's page shows; without a session it stops at once (nothing read, nothing written).
    "DashboardState.watch_live": case(routes.DASHBOARD, **everyone(allow())),
    "DashboardState.next_my_page": case(routes.DASHBOARD, **signed_in(allow())),
    "DashboardState.previous_my_page": case(routes.DASHBOARD, **signed_in(allow())),
    "DashboardState.turn_roster_page": case(
        routes.DASHBOARD, {"organization_id": org("BFC-0101"), "delta": 1},
        anonymous=deny(), applicant=deny(), supervisor=allow(), supervisor_other_org=deny(),
        supervisor_self=allow(payload={"organization_id": org("BCH-0303"), "delta": 1}),  # his own roster
        staff=deny(), admin=deny()),
    # Asking only opens the confirmation for a request on the caller's own dashboard (a number that
    # is not there is refused and recorded); confirm_cancel is where the service decides.
    "DashboardState.ask_cancel": case(
        routes.DASHBOARD, {"number": "IMR-2026-000002"},
        anonymous=deny(), applicant=deny(), supervisor=allow(), supervisor_other_org=deny(),
        supervisor_self=allow(payload={"number": lambda w: w.about_marcus}),   # asks; cannot confirm
        staff=deny(), admin=deny()),
    "DashboardState.confirm_cancel": case(
        routes.DASHBOARD,
        anonymous=deny(),
        # The applicant's own request is on his dashboard, but only its submitter may cancel it.
        applicant=deny(prelude=[("DashboardState.ask_cancel", {"number": JORDANS_OWN})]),
        supervisor=allow(ANY, prelude=[("DashboardState.ask_cancel",
                                        {"number": lambda w: w.dashboard_cancels})],
                         check=status_of(lambda w: w.dashboard_cancels, "cancelled")),
        # Asking about a request not on their dashboard was refused (and recorded): nothing awaits
        # confirmation, so confirming changes nothing.
        supervisor_other_org=allow(prelude=[ASK_ABOUT_KAI]),
        supervisor_self=deny(prelude=[("DashboardState.ask_cancel", {"number": lambda w: w.about_marcus})]),
        staff=allow(prelude=[ASK_ABOUT_KAI]), admin=allow(prelude=[ASK_ABOUT_KAI])),
    "DashboardState.keep_request": case(routes.DASHBOARD, **everyone(allow())),  # clears the tab's question
    "DashboardState.resend": case(
        routes.DASHBOARD, {"number": lambda w: w.dana_resends},
        anonymous=deny(), applicant=deny(payload={"number": JORDANS_OWN}),
        supervisor=allow(ANY), supervisor_other_org=deny(),
        supervisor_self=deny(payload={"number": lambda w: w.about_marcus}),
        staff=deny(), admin=deny()),     # not on their dashboard (staff resend from the queue's tools)

    # A request's page, live: only that request, re-checked for the caller on every re-read.
    "RequestDetailState.watch_live": case(request_page("IMR-2026-000002"), **everyone(allow())),
    "RequestDetailState.save_note": case(
        request_page("IMR-2026-000002"), {"form": {"note": "harness note"}},
        **{**staff_only(),
           "staff": allow("staff_note", page=request_page(lambda w: w.for_staff)),
           "admin": allow("staff_note", page=request_page(lambda w: w.for_admin))}),

    # Staff queue and metrics.
    "StaffQueueState.load": case(routes.STAFF_QUEUE, **staff_only()),
    "StaffQueueState.apply_filters": case(routes.STAFF_QUEUE, {"form": {"status": "all", "q": "Harness"}},
                                          **staff_only()),
    "StaffMetricsState.load": case(routes.STAFF_METRICS, **staff_only()),

    # The invitation link's page. Opening only reads; a link shows its invitee's name to whoever
    # holds it (it was emailed to them), so callers with no business there aim at an unknown link.
    "AgreementState.load": case(
        agreement_page(lambda w: w.sage_token),
        **{**everyone(allow()), "anonymous": allow(page=UNKNOWN_LINK),
           "applicant": allow(page=agreement_page(lambda w: w.jordan_token)),
           "supervisor_other_org": allow(page=UNKNOWN_LINK), "supervisor_self": allow(page=UNKNOWN_LINK)}),
    "AgreementState.sign": case(
        agreement_page(lambda w: w.sage_token), SIGNED_FORM,
        anonymous=deny(page=UNKNOWN_LINK),                        # "your session has ended"
        applicant=allow(ANY, page=agreement_page(lambda w: w.jordan_token),     # the invitee signs
                        check=status_of(lambda w: w.jordan_signs, "in_review")),
        supervisor=deny(),                                        # wrong_identity: Sage's link
        supervisor_other_org=deny(page=UNKNOWN_LINK), supervisor_self=deny(page=UNKNOWN_LINK),
        staff=deny(), admin=deny()),
    "SignedAgreementState.load": case(
        lambda w: routes.signed_agreement_url("IMR-2026-000002"),   # Kai Morningstar's, signed
        anonymous=deny(), applicant=deny(),
        supervisor=deny(),                      # submitted it; only the signer and staff see it
        supervisor_other_org=deny(),
        supervisor_self=allow(page=lambda w: routes.signed_agreement_url(w.about_marcus)),  # his own
        staff=allow(), admin=allow()),

    # The outgoing-mail page: with an SMTP server configured, program staff only.
    "MailboxState.load": case(routes.MAILBOX, **staff_only()),
    "MailboxState.turn_page": case(routes.MAILBOX, {"delta": 1}, **staff_only()),
    "MailboxState.open_email": case(routes.MAILBOX, {"email_id": "1"}, **staff_only()),
    "MailboxState.close_email": case(routes.MAILBOX, **everyone(allow())),   # clears the tab only

    # Organizations: program staff only.
    "OrganizationsState.load": case(routes.STAFF_ORGANIZATIONS, **staff_only()),
    "OrganizationsState.search": case(routes.STAFF_ORGANIZATIONS, {"form": {"q": "Boz"}}, **staff_only()),
    "OrganizationsState.clear_search": case(routes.STAFF_ORGANIZATIONS, **staff_only()),
    "OrganizationsState.next_page": case(routes.STAFF_ORGANIZATIONS, **staff_only()),
    "OrganizationsState.previous_page": case(routes.STAFF_ORGANIZATIONS, **staff_only()),
    "OrganizationState.load": case(lambda w: routes.organization_url(w.org["BCH-0303"]), **staff_only()),
    "OrganizationState.save": case(   # staff save Missoula's own fields again: "Nothing changed."
        lambda w: routes.organization_url(w.org["MVP-0404"]), organization_form("MVP-0404"),
        **staff_only(allow("organization"))),
    "OrganizationState.link_supervisor": case(   # Robin already supervises Bozeman: told so
        lambda w: routes.organization_url(w.org["BCH-0303"]),
        {"form": {"email": ROBIN, "first_name": "Robin", "last_name": "Reed"}},
        **staff_only(allow("person", "supervisor_link"))),
    "OrganizationState.ask_unlink": case(
        lambda w: routes.organization_url(w.org["BCH-0303"]), {"person_id": person(ROBIN)}, **staff_only()),
    "OrganizationState.cancel_unlink": case(
        lambda w: routes.organization_url(w.org["BCH-0303"]), **everyone(allow())),   # clears the tab only
    "OrganizationState.unlink_supervisor": case(   # staff aim at someone who supervises nothing there
        lambda w: routes.organization_url(w.org["BCH-0303"]), {"person_id": person(SPARE_PERSON)},
        **staff_only(allow("supervisor_link"))),
    "OrgImportState.load": case(routes.STAFF_ORGANIZATION_IMPORT, **staff_only()),
    "OrgImportState.preview_file": case(routes.STAFF_ORGANIZATION_IMPORT, {"files": []}, **staff_only()),
    "OrgImportState.confirm_import": case(routes.STAFF_ORGANIZATION_IMPORT, {"fingerprint": "0" * 64},
                                          **staff_only()),   # staff: no previewed file, nothing imported
    "OrgImportState.discard_preview": case(routes.STAFF_ORGANIZATION_IMPORT, **staff_only()),
    "OrgImportState.next_rows_page": case(routes.STAFF_ORGANIZATION_IMPORT, **staff_only()),
    "OrgImportState.previous_rows_page": case(routes.STAFF_ORGANIZATION_IMPORT, **staff_only()),
    "OrgImportState.next_errors_page": case(routes.STAFF_ORGANIZATION_IMPORT, **staff_only()),
    "OrgImportState.previous_errors_page": case(routes.STAFF_ORGANIZATION_IMPORT, **staff_only()),

    # User Agreement versions: program staff review, then publish (the same text under a new label,
    # so the browser tests that sign afterwards meet the agreement they expect).
    "AgreementVersionsState.load": case(routes.STAFF_AGREEMENTS, **staff_only()),
    "AgreementVersionsState.review": case(routes.STAFF_AGREEMENTS, {"form": agreement_form},
                                          **staff_only()),   # reviewing publishes nothing
    "AgreementVersionsState.edit_again": case(routes.STAFF_AGREEMENTS, **staff_only()),
    "AgreementVersionsState.publish": case(
        routes.STAFF_AGREEMENTS,
        **staff_only(allow("agreement_version", check=newest_agreement_is_the_harness_one,
                           prelude=[("AgreementVersionsState.review", {"form": agreement_form})]))),
    "AgreementVersionsState.turn_page": case(routes.STAFF_AGREEMENTS, {"delta": 1}, **staff_only()),
}

# Four eyes: Kim is program staff AND a supervisor of Great Falls, and submitted the request; no role
# of hers lets her decide on it (world.add_staff_supervisor). Each entry: one decision she tries.
KIMS_REQUEST = request_page(lambda w: w.kim_submitted)
FOUR_EYES_CASES: dict[str, tuple[str, Expect]] = {
    decision: ("RequestDetailState.submit_action",
               deny(page=KIMS_REQUEST, payload={"form": {"action": decision, "text": "Looks right to me",
                                                         "username": "wharness", "credentials_sent": "on"}}))
    for decision in ("ask_for_info", "reject", "provision")
}

# Reflex's own handlers, present in every Reflex app; the app defines none of them.
REFLEX_INTERNAL = {
    "State.hydrate": "sends the tab its own state (the harness's sentinel; checked by every case)",
    "State.hydrate_and_load": "the boot event: the tab's state, then the page's on_load handlers, "
                              "which are cases of their own (every case boots through it)",
    "State.set_is_hydrated": "flips the tab's own loading flag",
    "OnLoadInternalState.on_load_internal": "runs the current page's on_load handlers (cases above)",
    "OnLoadInternalState.set_is_hydrated": "flips the tab's own loading flag",
    "UpdateVarsInternalState.update_vars_internal": "sets browser-storage vars (rx.Cookie/LocalStorage);"
                                                    " the app has none: fuzzed in test_handler_fuzzing",
    "FrontendEventExceptionState.handle_frontend_exception": "logs a browser error report: bounded, "
                                                             "rate-limited per tab, one log line "
                                                             "(test_inbound_limits)",
}
