"""Every public event handler, called over the websocket by every kind of caller, as a forged
browser tab would: refused where it must be (nothing changed, the denial audited, nothing leaked),
allowed where the case table says so. The table is ``cases.py``; the handler list comes from the
app itself, so a handler without a case fails here."""

from __future__ import annotations

import asyncio

import pytest

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import REVIEW_ACTIONS
from immtrax_portal.services import refusals
from immtrax_portal.ui.state.request_detail import RequestDetailState
from tests.e2e.security import database
from tests.e2e.security.cases import ANY, CASES, FOUR_EYES_CASES, REFLEX_INTERNAL, Outcome, build
from tests.e2e.security.forged_client import ForgedTab, handler_name, is_alive
from tests.e2e.security.harness import (
    GENERIC_ERROR,
    discovered_handlers,
    forge,
    is_app_handler,
    resolve,
)
from tests.e2e.security.world import CALLERS, KIM, SPARE_PERSON, STAFF_SUPERVISOR
from tests.support.databases import SINGLE_BACKEND

pytestmark = pytest.mark.e2e


def test_every_handler_the_app_has_has_a_case_and_every_case_a_handler():
    found = discovered_handlers()
    app = {key for key, (cls, _) in found.items() if is_app_handler(cls)}
    internal = set(found) - app
    assert sorted(app - CASES.keys()) == [], "handlers without a case: add them to security/cases.py"
    assert sorted(CASES.keys() - app) == [], "cases for handlers the app no longer has"
    assert sorted(internal - REFLEX_INTERNAL.keys()) == [], "new Reflex handlers: judge them in cases.py"


def test_every_case_says_what_each_kind_of_caller_may_do():
    incomplete = {key: sorted(set(CALLERS) ^ set(case.callers)) for key, case in CASES.items()
                  if set(case.callers) != set(CALLERS)}
    assert incomplete == {}


def callers_on_the_second_database(case) -> set[str]:
    """The PostgreSQL pass runs what a database can change: every allowed call that writes, one
    allowed call that only reads (the handler's queries), and one refusal with and one without a
    signed-in caller (the denial row, with and without an actor). The other refusals differ only in
    who is refused, which the guard decides before any query; the SQLite pass runs the whole table."""
    allowed = [caller for caller in CALLERS if case.callers[caller].outcome == Outcome.ALLOWED]
    refused = [caller for caller in CALLERS if case.callers[caller].outcome == Outcome.DENIED]
    chosen = {caller for caller in allowed if case.callers[caller].writes}
    signed_in_allowed, signed_in_refused = ([caller for caller in callers if caller != "anonymous"]
                                            for callers in (allowed, refused))
    chosen.update(signed_in_allowed[:1] + signed_in_refused[:1])
    chosen.update({"anonymous"} & set(refused))
    return chosen


PARAMS = [pytest.param(key, caller, id=f"{key}-{caller}") for key in CASES for caller in CALLERS
          if SINGLE_BACKEND != "postgresql" or caller in callers_on_the_second_database(CASES[key])]


@pytest.mark.parametrize(("key", "caller"), PARAMS)
def test_a_forged_call_gets_exactly_what_the_case_table_allows(key, caller, portal, world, handlers):
    case, expect = CASES[key], CASES[key].callers[caller]
    cls, handler = handlers[key]
    page = build(expect.page if expect.page is not None else case.page, world)
    payload = resolve(expect.payload if expect.payload is not None else case.payload, world)
    forged = asyncio.run(forge(portal, world, caller=caller, page=page, handler=(cls, handler),
                               payload=payload, prelude=list(expect.prelude), handlers=handlers))

    assert forged.exception_text() == [], forged.text[:3000]
    assert forged.leaked(world.secrets[caller]) == [], "sent to a caller who may not see it"
    assert GENERIC_ERROR not in forged.text, f"the handler failed instead of answering: {forged.text[:3000]}"
    if expect.outcome is Outcome.DENIED:
        assert forged.changed == {}, "a refused call changed rows"
        denials = forged.denials()
        assert len(denials) == 1, f"a refusal leaves exactly one audit row (new events: {forged.audit})"
        assert {d["actor_id"] for d in denials} == {world.caller_id(caller)}
        assert AuditAction.parse(denials[0]["action"]) is not None, denials
    else:
        assert forged.denials() == [], "an allowed call was recorded as a denial"
        if ANY not in expect.writes:
            assert set(forged.changed) <= expect.writes, forged.changed
        if expect.check:
            expect.check(world)


@pytest.mark.parametrize("decision", sorted(FOUR_EYES_CASES))
def test_staff_who_submitted_a_request_cannot_decide_on_it_whatever_their_roles(decision, portal, world,
                                                                                handlers):
    key, expect = FOUR_EYES_CASES[decision]
    cls, handler = handlers[key]
    forged = asyncio.run(forge(portal, world, caller=STAFF_SUPERVISOR, page=build(expect.page, world),
                               handler=(cls, handler), payload=resolve(expect.payload, world),
                               handlers=handlers))
    assert forged.exception_text() == [] and GENERIC_ERROR not in forged.text, forged.text[:3000]
    assert forged.changed == {}, "a decision on one's own request changed rows"
    [denial] = forged.denials()
    assert (denial["actor_id"], denial["target_id"]) == (world.person[KIM], world.kim_submitted)


def test_staff_who_submitted_a_request_are_shown_no_decision_on_it(portal, world):
    async def actions_shown() -> list[str]:
        async with ForgedTab(portal, page=build(FOUR_EYES_CASES["reject"][1].page, world),
                             cookie=world.cookies[STAFF_SUPERVISOR]) as tab:
            assert tab.var(RequestDetailState, "fields"), "the request page did not load for her"
            return [a["action"] for a in tab.var(RequestDetailState, "actions") or []]
    assert not set(asyncio.run(actions_shown())) & {a.value for a in REVIEW_ACTIONS}


def test_a_connection_that_keeps_calling_what_it_may_not_is_counted_then_closed(portal, world, handlers):
    """One socket repeating a refused call does not write a row each: after the first few they are
    summed up, and past the limit the portal closes that connection (and keeps serving others).
    Kim (staff, not admin) calls an admin-only handler; no other test makes that refusal."""
    cls, handler = handlers["StaffRolesState.add_staff"]
    calls = refusals.DROP_CONNECTION_AFTER + 20

    async def flood() -> tuple[bool, database.Snapshot]:
        async with ForgedTab(portal, page="/", cookie=world.cookies[STAFF_SUPERVISOR]) as tab:
            before = database.snapshot(world.db)
            try:
                for _ in range(calls):
                    await tab.send(handler_name(cls, handler), {"form": {"email": SPARE_PERSON}})
                    await asyncio.sleep(0.005)
                for _ in range(100):
                    if tab.disconnected:
                        break
                    await asyncio.sleep(0.1)
            except ConnectionError:
                pass
            return tab.disconnected, before

    dropped, before = asyncio.run(flood())
    rows = [e for e in database.audit_events_after(world.db, before.last_audit_id)
            if e["actor_id"] == world.person[KIM]]
    actions = [e["action"] for e in rows]
    assert dropped, "the connection stayed open"
    assert actions.count(AuditAction.CONNECTION_DROPPED.value) == 1
    assert actions.count(AuditAction.STAFF_ROLES_ADD_STAFF.value) == refusals.ROWS_PER_CONNECTION
    assert AuditAction.REFUSALS_AGGREGATED.value in actions and len(rows) < calls // 4
    assert asyncio.run(is_alive(portal))
