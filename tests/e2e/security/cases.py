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


def backup_form(code: str, email: str) -> Callable[[World], dict]:
    """Name ``email`` backup at ``code`` for two days far ahead (no other test meets the range)."""
    first = date.today() + timedelta(days=200)
    return lambda w: {"form": {"backup": f"{w.org[code]}:{w.person[email]}", "starts_on": first.isoformat(),
                               "ends_on": (first + timedelta(days=1)).isoformat()}}


def staff_backup_form(email: str) -> Callable[[World], dict]:
    """The staff variant: name the member of staff ``email`` for two days far ahead."""
    first = date.today() + timedelta(days=210)
    return lambda w: {"form": {"backup": str(w.person[email]), "starts_on": first.isoformat(),
                               "ends_on": (first + timedelta(days=1)).isoformat()}}


def staff_backs_up_staff(w: World) -> None:
    rows = database.query(w.db, "SELECT kind, delegator_id, delegate_id FROM delegation WHERE kind = 'staff'")
    pat, lee = w.person[EMAILS["demo-staff"]], w.person[EMAILS["demo-admin"]]
    assert {(r["delegator_id"], r["delegate_id"]) for r in rows} & {(pat, lee), (lee, pat)}


def robin_backs_up_marcus(w: World) -> None:
    rows = database.query(w.db, "SELECT delegator_id, delegate_id FROM delegation")
    assert (w.person[MARCUS], w.person[ROBIN]) in {(r["delegator_id"], r["delegate_id"]) for r in rows}


_labels = itertools.count(1)


def agreement_form(_world: World) -> dict[str, str]:
    """The current text under a label not used before."""
    return {"label": f"harness-{uuid.uuid4().hex[:8]}-{next(_labels)}",
            "title": "imMTrax User Agreement", "body": agreements.DEFAULT_BODY,
            "acknowledgements": "\n".join(agreements.DEFAULT_ACKNOWLEDGEMENTS)}


def newest_agreement_is_the_harness_one(w: World) -> None:
    (row,) = database.query(w.db, "SELECT label FROM agreement_version ORDER BY id DESC LIMIT 1")
    assert row["label"].startswith("harness-"), row


def queue_search(text: str) -> str:
    return routes.with_query(routes.STAFF_QUEUE, f"q={text}")


def bulk_assign(number_of: Callable[[World], str], subject: str) -> Callable[[World], dict]:
    return lambda w: {"form": {"bulk": "assign", "assignee": str(w.id_of(subject)),
                               f"pick_{number_of(w)}": "on"}}


def owner_is(number_of: Callable[[World], str], subject: str) -> Callable[[World], None]:
    def check(w: World) -> None:
        (row,) = database.query(w.db, "SELECT owner_id FROM access_request WHERE number = ?", number_of(w))
        assert row["owner_id"] == w.id_of(subject), row
    return check


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


def review_item(email: str) -> Callable[[World], str]:
    """The item about ``email`` in the newest review of their organization (the demo's Billings)."""
    def item(w: World) -> str:
        rows = database.query(w.db, "SELECT i.id FROM roster_review_item i JOIN person p ON "
                              "p.id = i.person_id WHERE p.email = ? ORDER BY i.id DESC", email)
        return str(rows[0]["id"])
    return item


def grant_of(email: str, code: str) -> Callable[[World], str]:
    def grant(w: World) -> str:
        (row,) = database.query(w.db, "SELECT g.id FROM access_grant g JOIN person p ON p.id = g.person_id "
                                "JOIN organization o ON o.id = g.organization_id WHERE p.email = ? "
                                "AND o.code = ?", email, code)
        return str(row["id"])
    return grant


def open_review_of(code: str) -> Callable[[World], str]:
    def review(w: World) -> str:
        (row,) = database.query(w.db, "SELECT r.id FROM roster_review r JOIN organization o ON "
                                "o.id = r.organization_id WHERE o.code = ? AND r.closed_at IS NULL", code)
        return str(row["id"])
    return review


def staff_only(allowed: Expect | None = None) -> dict[str, Expect]:
    """Program staff pages: everyone else refused (and recorded)."""
    allowed = allowed or allow()
    return {**everyone(deny()), "staff": allowed, "admin": allowed}


# --- The table ------------------------------------------------------------------------------------

# --- Access over time (issue 16) ------------------------------------------------------------------
IN_THIRTY_DAYS = (date.today() + timedelta(days=30)).isoformat()
UNKNOWN_RENEWAL = f"{routes.RENEWAL}/{'y' * 43}"
DREWS_END = lambda w: str(w.drew_end)  # noqa: E731
NOMINATE_FORM = {"form": {"nominate_organization": "", "nominate_first_name": "Pia",
                          "nominate_last_name": "Backup",
                          "nominate_email": "pia.backup@billingsclinic.example"}}


def nominate_for(code: str) -> Callable[[World], dict]:
    return lambda w: {"form": {**NOMINATE_FORM["form"], "nominate_organization": str(w.org[code])}}


def move_form(w: World) -> dict:
    return {"form": {"move_access_end": str(w.drew_end), "move_last_day": IN_THIRTY_DAYS}}


LIFECYCLE_CASES: dict[str, Case] = {
    "AccessEndsState.load": case(routes.STAFF_ACCESS_ENDS, **staff_only()),
    "AccessEndsState.turn_page": case(routes.STAFF_ACCESS_ENDS, {"delta": 1}, **staff_only()),
    "SuccessionState.load": case(routes.STAFF_SUCCESSION, **staff_only()),
    "SuccessionState.turn_page": case(routes.STAFF_SUCCESSION, {"delta": 1}, **staff_only()),
    "SuccessionState.decide": case(
        routes.STAFF_SUCCESSION, lambda w: {"nomination_id": str(w.nomination_for_staff), "approve": True},
        **{**everyone(deny()),
           "staff": allow("supervisor_nomination", "supervisor_link", "person"),
           "admin": allow("supervisor_nomination", "supervisor_link", "person",
                          payload=lambda w: {"nomination_id": str(w.nomination_for_admin),
                                             "approve": True})}),
    # "Needs you" cards about access: only a card on the caller's own list (Marcus's holds neither
    # Drew's end nor Drew; nobody's list holds their own access). Before "move": Drew's end must
    # still be within 14 days.
    "DashboardState.extend_access": case(
        routes.DASHBOARD, lambda w: {"key": f"expiring_access:{w.drew_end}"},
        **supervisors(allow("access_end"), other_org=deny(), self_=deny())),
    "DashboardState.confirm_idle": case(
        routes.DASHBOARD, lambda w: {"key": f"idle_person:{w.drew_grant}"},
        **supervisors(allow("registry_activity"), other_org=deny(), self_=deny())),
    "LifecyclePanelState.load": case(routes.DASHBOARD, **signed_in(allow())),
    "LifecyclePanelState.move": case(
        routes.DASHBOARD, move_form, **supervisors(allow("access_end"), other_org=deny(), self_=deny())),
    "LifecyclePanelState.nominate": case(
        routes.DASHBOARD, nominate_for("BFC-0101"),
        **{**supervisors(allow("supervisor_nomination", "outbound_email"), other_org=deny(),
                         self_=deny(payload=lambda w: {"form": {
                             **NOMINATE_FORM["form"], "nominate_organization": str(w.org["BCH-0303"]),
                             "nominate_email": MARCUS}}))}),
    "RenewalState.load": case(UNKNOWN_RENEWAL, **everyone(allow())),
    "RenewalState.sign": case(UNKNOWN_RENEWAL, SIGNED_FORM, **everyone(deny())),
}

CASES: dict[str, Case] = {
    # Public: who am I (display only, from the cookie), and the sign-in page's return address.
    "SessionState.load_identity": case(routes.HOME, **everyone(allow())),
    "SignInPageState.load": case(routes.SIGN_IN_PAGE, **everyone(allow())),
    # The idle-timeout warning: the watcher only reads (no activity); "Stay signed in" extends the
    # caller's own session (its last_seen_at) and is refused, recorded, for nobody signed in.
    "SessionTimeoutState.watch": case(routes.HOME, **everyone(allow())),
    "SessionTimeoutState.stay_signed_in": case(routes.HOME, **signed_in(allow("web_session"))),

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
        # A cancel only asks first (nothing changes until ``confirm_action``).
        supervisor=allow(page=request_page(lambda w: w.dana_cancels),
                         payload={"form": {"action": "cancel", "text": "harness"}},
                         check=status_of(lambda w: w.dana_cancels, "awaiting_agreement")),
        supervisor_other_org=deny(payload={"form": {"action": "cancel"}}),
        supervisor_self=deny(page=request_page(lambda w: w.about_marcus),
                             payload={"form": {"action": "answer_info", "text": "It's me"}}),
        staff=allow(ANY, page=request_page(lambda w: w.for_staff),
                    payload={"form": {"action": "ask_for_info", "text": "Which clinic?"}},
                    check=status_of(lambda w: w.for_staff, "needs_info")),
        admin=allow(ANY, page=request_page(lambda w: w.for_admin),
                    payload={"form": {"action": "ask_for_info", "text": "Which clinic?"}},
                    check=status_of(lambda w: w.for_admin, "needs_info"))),
    # "Yes" to the question ``submit_action`` asked: it takes exactly the decision asked about, and
    # only one that ``submit_action`` allowed this caller (with nothing asked, nothing happens).
    "RequestDetailState.confirm_action": case(
        request_page("IMR-2026-000002"),
        **{**signed_in(allow()),
           "supervisor": allow(ANY, page=request_page(lambda w: w.dana_cancels),
                               prelude=[("RequestDetailState.submit_action",
                                         {"form": {"action": "cancel", "text": "harness"}})],
                               check=status_of(lambda w: w.dana_cancels, "cancelled"))}),
    "RequestDetailState.keep_editing": case(request_page("IMR-2026-000002"),
                                            **everyone(allow())),   # forgets the tab's question only

    # Program staff roles: admins only.
    "StaffRolesState.load": case(routes.ADMIN_STAFF, **admins(allow())),
    "StaffRolesState.add_staff": case(
        routes.ADMIN_STAFF, {"form": {"email": SPARE_PERSON}},
        **admins(allow("person", check=is_staff(SPARE_PERSON, True)))),
    "StaffRolesState.ask_remove_staff": case(   # asks only: nothing changes until remove_staff
        routes.ADMIN_STAFF, {"person_id": person(SPARE_STAFF)},
        **admins(allow(check=is_staff(SPARE_STAFF, True)))),
    "StaffRolesState.keep_staff": case(routes.ADMIN_STAFF, **everyone(allow())),   # clears the tab only
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
    # "Same level as a colleague": only a current user of the draft's organization, never oneself.
    "WizardState.search_colleagues": case(routes.WIZARD, {"query": "a"}, **supervisors(allow())),
    "WizardState.choose_colleague": case(
        routes.WIZARD, {"person_id": person(AVERY_AT_BFC)},
        **supervisors(
            allow(DRAFT, prelude=[FRESH_DRAFT, CHOOSE_BFC]),
            other_org=deny(prelude=[FRESH_DRAFT]),                          # Avery is on BFC's roster
            self_=deny(payload={"person_id": person(MARCUS)}, prelude=[FRESH_DRAFT]))),
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

    # Several people in one submission: supervisors only, on their own organizations. The table,
    # the paste and the upload change nothing but the tab until a submission (journeys submit).
    "BatchState.open_page": case(routes.BATCH, **supervisors(allow())),
    "BatchState.choose_organization": case(
        routes.BATCH, {"organization_id": org("BFC-0101")},
        **supervisors(allow(), other_org=deny(),
                      self_=allow(payload={"organization_id": org("BCH-0303")}))),
    "BatchState.set_cell": case(routes.BATCH, {"index": "0", "name": "first_name", "value": "Nora"},
                                **supervisors(allow())),
    "BatchState.add_row": case(routes.BATCH, **supervisors(allow())),
    "BatchState.remove_row": case(routes.BATCH, {"index": "0"}, **supervisors(allow())),
    "BatchState.check": case(   # one look-up of a person new to the registry (audited, not a change)
        routes.BATCH, {"form_data": {"r1.first_name": "Sky", "r1.last_name": "Batch",
                                     "r1.email": "sky.batch@bozemanhealth.example",
                                     "r1.phone": "406-555-0123",
                                     "r1.job_title": "Nurse", "r1.start_date": IN_TEN_DAYS,
                                     "r1.access_level": "record_maintenance"}},
        **supervisors(allow())),
    "BatchState.paste": case(routes.BATCH, {"form_data": {"pasted": "only,two"}}, **supervisors(allow())),
    "BatchState.upload_file": case(routes.BATCH, {"files": []}, **supervisors(allow())),
    "BatchState.switch_row": case(routes.BATCH, {"index": "0"}, **supervisors(allow())),
    "BatchState.submit": case(routes.BATCH, **supervisors(allow())),   # nothing checked: nothing made
    "BatchState.start_over": case(routes.BATCH, **supervisors(allow())),

    # Backups while away: a supervisor names another supervisor of the same organization.
    "BackupsState.load": case(routes.BACKUPS, **supervisors(allow())),
    "BackupsState.save": case(
        routes.BACKUPS, backup_form("BCH-0303", ROBIN),
        **supervisors(deny(),                                                # Dana: not her organization
                      other_org=deny(payload=backup_form("LPD-0202", EMAILS["demo-supervisor-two-orgs"])),
                      self_=allow("delegation", check=robin_backs_up_marcus))),
    "BackupsState.end": case(routes.BACKUPS, {"delegation_id": "999999"},   # nobody's to end
                             **supervisors(deny())),
    # The staff variant (/staff/backups): program staff name each other; everyone else refused.
    "StaffBackupsState.load": case(routes.STAFF_BACKUPS, **staff_only()),
    "StaffBackupsState.save": case(
        routes.STAFF_BACKUPS, staff_backup_form(EMAILS["demo-admin"]),
        **{**staff_only(),
           "staff": allow("delegation", check=staff_backs_up_staff),
           "admin": allow("delegation", payload=staff_backup_form(EMAILS["demo-staff"]),
                          check=staff_backs_up_staff)}),
    "StaffBackupsState.end": case(routes.STAFF_BACKUPS, {"delegation_id": "999999"},   # nobody's to end
                                  **{**staff_only(), "staff": deny(), "admin": deny()}),

    # Live updates open through the guard's door (the page's rule, one recorded refusal): the
    # watcher re-derives the caller from the cookie and re-reads only what that caller's page shows.
    "DashboardState.watch_live": case(routes.DASHBOARD, **signed_in(allow())),
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
    # "Needs you": the answer box on a question's card answers only a question on the caller's own
    # list (Marcus's list holds neither Dana's question nor the one about himself).
    "DashboardState.answer_question": case(
        routes.DASHBOARD, {"form": {"number": lambda w: w.dana_answers, "answer": "Room 4"}},
        anonymous=deny(), applicant=deny(), staff=deny(), admin=deny(),
        supervisor=allow(ANY, check=status_of(lambda w: w.dana_answers, "in_review")),
        supervisor_other_org=deny(payload={"form": {"number": "IMR-2026-000002", "answer": "forged"}}),
        supervisor_self=deny(payload={"form": {"number": lambda w: w.about_marcus, "answer": "It's me"}})),
    # The lists' filters and the "Closed" pages: supervisors, on their own organizations only (an
    # organization that is not theirs is ignored).
    "DashboardState.filter_lists": case(
        routes.DASHBOARD, {"form": {"type": "new_access", "org": org("BFC-0101"), "q": "Harness"}},
        **supervisors(allow())),
    "DashboardState.clear_filters": case(routes.DASHBOARD, **supervisors(allow())),
    "DashboardState.turn_closed_page": case(routes.DASHBOARD, {"delta": 1}, **supervisors(allow())),
    "DashboardState.resend": case(
        routes.DASHBOARD, {"number": lambda w: w.dana_resends},
        anonymous=deny(), applicant=deny(payload={"number": JORDANS_OWN}),
        supervisor=allow(ANY), supervisor_other_org=deny(),
        supervisor_self=deny(payload={"number": lambda w: w.about_marcus}),
        staff=deny(), admin=deny()),     # not on their dashboard (staff resend from the queue's tools)

    # A request's page, live: only that request, re-checked for the caller on every re-read.
    "RequestDetailState.watch_live": case(request_page("IMR-2026-000002"), **signed_in(allow())),
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
    # The owned queue: bulk actions on the rows of the page the tab shows (a search finds one).
    "StaffQueueState.bulk_action": case(
        queue_search("sky@bozemanhealth.example"), bulk_assign(lambda w: w.for_staff, "demo-staff"),
        **{**staff_only(),
           "staff": allow("access_request", check=owner_is(lambda w: w.for_staff, "demo-staff")),
           "admin": allow("access_request", page=queue_search("ash@bozemanhealth.example"),
                          payload=bulk_assign(lambda w: w.for_admin, "demo-admin"),
                          check=owner_is(lambda w: w.for_admin, "demo-admin"))}),
    # "Yes" to a bulk rejection: with nothing asked in this tab there is nothing to reject.
    "StaffQueueState.confirm_bulk_reject": case(queue_search("sky@bozemanhealth.example"), **staff_only()),
    "StaffQueueState.keep_selection": case(queue_search("sky@bozemanhealth.example"),
                                           **everyone(allow())),   # forgets the tab's question only
    # A request's owner: "Assign to me", reassign with a note; the worksheet's copy notice.
    "RequestDetailState.assign_to_me": case(
        request_page("IMR-2026-000002"),
        **{**staff_only(),
           "staff": allow("access_request", page=request_page(lambda w: w.for_staff)),
           "admin": allow("access_request", page=request_page(lambda w: w.for_admin))}),
    "RequestDetailState.reassign": case(
        request_page("IMR-2026-000002"), lambda w: {"form": {"assignee": str(w.id_of("demo-staff")),
                                                             "note": "harness"}},
        **{**staff_only(),
           "staff": allow("access_request", page=request_page(lambda w: w.for_staff),
                          check=owner_is(lambda w: w.for_staff, "demo-staff")),
           "admin": allow("access_request", page=request_page(lambda w: w.for_admin),
                          payload=lambda w: {"form": {"assignee": str(w.id_of("demo-admin"))}},
                          check=owner_is(lambda w: w.for_admin, "demo-admin"))}),
    "RequestDetailState.note_copied": case(request_page("IMR-2026-000002"), {"what": "Last name"},
                                           **staff_only()),
    # The program's targets per request type.
    "ClockTargetsState.load": case(routes.STAFF_TARGETS, **staff_only()),
    "ClockTargetsState.save": case(
        routes.STAFF_TARGETS, {"form": {"target_new_access": "40", "target_change_employer": "40",
                                        "target_permissions_change": "16", "target_access_deletion": "16"}},
        **staff_only(allow("program_clock_target"))),
    # Their live updates: program staff only, refused (and recorded) for anyone else.
    "StaffQueueState.watch_live": case(routes.STAFF_QUEUE, **staff_only()),
    "StaffMetricsState.watch_live": case(routes.STAFF_METRICS, **staff_only()),

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
    "OrganizationsState.watch_live": case(routes.STAFF_ORGANIZATIONS, **staff_only()),
    "OrganizationState.watch_live": case(lambda w: routes.organization_url(w.org["BCH-0303"]),
                                         **staff_only()),
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
    # Roster reviews: a supervisor answers for people at their own organizations (the demo's open
    # review of Billings, and its idle Avery Holm); staff see every review and start extra ones.
    "ReviewsState.load": case(routes.REVIEWS, **supervisors(allow())),
    "ReviewsState.confirm": case(
        routes.REVIEWS, {"item_id": review_item("avery.holm@billingsclinic.example")},
        anonymous=deny(), applicant=deny(), staff=deny(), admin=deny(),
        supervisor=allow("roster_review_item"), supervisor_other_org=deny(),
        supervisor_self=deny(payload={"item_id": review_item("indigo.brandt@missoulapharm.example")})),
    "ReviewsState.confirm_idle": case(
        routes.REVIEWS, {"grant_id": grant_of(AVERY_AT_BFC, "BFC-0101")},
        anonymous=deny(), applicant=deny(), staff=deny(), admin=deny(),
        supervisor=allow("registry_activity"), supervisor_other_org=deny(),
        supervisor_self=deny(payload={"grant_id": grant_of(CASEY_AT_BFC, "BFC-0101")})),
    "ReviewsState.turn_page": case(routes.REVIEWS, {"review_id": open_review_of("BFC-0101"), "delta": 1},
                                   **supervisors(allow())),
    "StaffReviewsState.load": case(routes.STAFF_REVIEWS, **staff_only()),
    "StaffReviewsState.start_extra": case(
        routes.STAFF_REVIEWS, {"form": {"organization_code": "LPD-0202"}},
        # The first starts Laurel's extra review; the second finds it open and is told so.
        **staff_only(allow("roster_review", "roster_review_item", "outbound_email"))),
    "StaffReviewsState.turn_page": case(routes.STAFF_REVIEWS, {"delta": 1}, **staff_only()),
    # The reviews' schedule, sent as it is by default (staff save nothing new, so the reviews other
    # tests start on this portal keep the settings' windows).
    "StaffReviewsState.save_schedule": case(
        routes.STAFF_REVIEWS, {"form": {"every_months_vaccine_management": "3",
                                        "every_months_other_levels": "12", "window_days": "14",
                                        "first_reminder_days": "7", "second_reminder_days": "2",
                                        "grace_days": "7"}},
        **staff_only(allow("review_schedule"))),
    "ReviewFiguresState.load": case(routes.STAFF_METRICS, **staff_only()),
    "InactivityImportState.load": case(routes.STAFF_INACTIVITY, **staff_only()),
    "InactivityImportState.preview_file": case(routes.STAFF_INACTIVITY, {"files": []}, **staff_only()),
    "InactivityImportState.confirm_import": case(routes.STAFF_INACTIVITY, {"fingerprint": "0" * 64},
                                                 **staff_only()),   # no previewed file: nothing stored
    "InactivityImportState.discard_preview": case(routes.STAFF_INACTIVITY, **staff_only()),
    "InactivityImportState.turn_page": case(routes.STAFF_INACTIVITY, {"which": "rows", "delta": 1},
                                            **staff_only()),

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
    **LIFECYCLE_CASES,
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
# Nor take it on as its owner.
FOUR_EYES_CASES["assign_to_me"] = ("RequestDetailState.assign_to_me", deny(page=KIMS_REQUEST))

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
