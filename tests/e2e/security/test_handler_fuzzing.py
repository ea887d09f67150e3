"""Hypothesis throws garbage at every handler through forged tabs: wrong types, nesting, 1 MB
strings, control characters and NULs, other organizations' ids and other requests' numbers.

Whatever comes in: no exception text reaches the client (a failure shows only the generic message
with a reference), no row changes beyond what the case table lets that caller write (audit rows
aside), every call leaves at most one denial row, a call the handler's guard refuses leaves exactly
one, and the portal keeps answering. The callers are the ones whose legitimate writes cannot touch
shared rows (anonymous, the applicant and a supervisor aiming at another organization) and, for each
handler, every other kind of caller the case table refuses (staff, admin, own-organization
supervisors): refused, they write nothing whatever they send.
"""

from __future__ import annotations

import asyncio
import inspect
import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, rule_refusal
from immtrax_portal.ui.inbound import TOO_LARGE_TITLE, exceeds
from tests.e2e.security import database
from tests.e2e.security.cases import ANY, CASES, Outcome, build
from tests.e2e.security.forged_client import ForgedTab, handler_name, is_alive, router_data_for, text_of
from tests.e2e.security.harness import (
    EXCEPTION_TEXT,
    GENERIC_ERROR,
    app_states,
    page_starts_background_work,
    starts_background_work,
)
from tests.support.databases import SINGLE_BACKEND

pytestmark = pytest.mark.e2e

FUZZ_CALLERS = ("anonymous", "applicant", "supervisor_other_org")
REFUSED_ONLY_CALLERS = ("supervisor", "supervisor_self", "staff", "admin")
# What each caller is, for the guard's rules (the demo identities; see world.CALLERS).
CALLER_ACTORS = {
    "anonymous": None,
    "applicant": Actor(1, "applicant@example"),
    "supervisor": Actor(2, "supervisor@example", supervised_org_ids=frozenset({1})),
    "supervisor_other_org": Actor(3, "other@example", supervised_org_ids=frozenset({1})),
    "supervisor_self": Actor(3, "other@example", supervised_org_ids=frozenset({1})),
    "staff": Actor(4, "staff@example", is_staff=True),
    "admin": Actor(5, "admin@example", is_admin=True),
}
# The full depth on the SQLite pass. The PostgreSQL pass repeats a third of it: what garbage does
# to the database layer (NULs, ids beyond 32 bits) is stopped before any handler and has its own
# tests on both databases (tests/e2e/security/test_event_text.py, tests/unit/test_record_ids.py),
# and the rest of a handler's answer to garbage does not depend on the database.
EXAMPLES_PER_HANDLER = 2 if SINGLE_BACKEND == "postgresql" else 6
HUGE = 1_000_000          # over Engine.IO's frame limit (ui/inbound.py): the portal drops the connection
LARGE = 100_000           # under the event limit: reaches the handler
REFERENCE = re.compile(r"reference [0-9A-F]{8}")
# No shrinking: every example is a round trip to the portal; the first failure is reported as is.
FUZZ_SETTINGS = settings(max_examples=EXAMPLES_PER_HANDLER, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))

control_text = st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), max_size=40)
odd_text = st.one_of(
    # (No lone surrogates: the socket.io client cannot encode them; a browser's JSON would escape
    # them, and the server decodes them to the same str the handlers see for any other text.)
    st.text(max_size=60), control_text, st.just("\x00"), st.just("a\x00b"),
    st.just("²"), st.just("٣"), st.just("9" * 5000), st.just("-1"), st.just(" 1"), st.just("1e3"),
    st.just("x" * LARGE), st.just("<script>alert(1)</script>"),
    st.just("' OR 1=1 --"), st.just("../../etc/passwd"), st.just("{{7*7}}"),
)


def world_ids(world) -> st.SearchStrategy:
    """Real ids and numbers from the running portal: other organizations', other people's."""
    ids = [*world.org.values(), *world.person.values(), *world.request.values()]
    return st.one_of(st.sampled_from(ids), st.sampled_from([str(i) for i in ids]),
                     st.sampled_from(sorted(world.request)))


def values(world) -> st.SearchStrategy:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), odd_text, world_ids(world),
                        st.integers(min_value=2**63, max_value=2**80))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def parameters_of(cls, handler: str) -> list[str]:
    return [p for p in inspect.signature(cls.event_handlers[handler].fn).parameters if p != "self"]


def payloads(world, params: list[str]) -> st.SearchStrategy:
    """Keyword arguments by the handler's own names (mostly), with some missing or extra."""
    named = st.fixed_dictionaries({p: values(world) for p in params})
    form_like = st.fixed_dictionaries({p: st.dictionaries(
        st.sampled_from(["action", "text", "username", "email", "roster_query", "first_name", "note"]),
        values(world), max_size=4) for p in params})
    extra = st.dictionaries(st.text(max_size=10), values(world), max_size=3)
    return st.one_of(named, form_like, extra, st.builds(lambda a, b: {**a, **b}, named, extra))


class FuzzSession:
    """One event loop and one forged tab per caller for a whole hypothesis run."""

    def __init__(self, portal: str, world, page: str, *, quiet: bool):
        self.portal, self.world, self.page, self.quiet = portal, world, page, quiet
        self.loop = asyncio.new_event_loop()
        self.tabs: dict[str, ForgedTab] = {}

    def tab(self, caller: str) -> ForgedTab:
        tab = self.tabs.get(caller)
        if tab is None or tab.disconnected:
            tab = ForgedTab(self.portal, page=self.page, cookie=self.world.cookies[caller],
                            quiet_on_open=page_starts_background_work(self.page))
            self.loop.run_until_complete(tab.open())
            self.tabs[caller] = tab
        return tab

    def call(self, caller: str, name: str, payload) -> tuple[list[dict], bool]:
        """The updates the call caused, and whether the portal dropped the connection instead."""
        tab = self.tab(caller)
        first = len(tab.updates)
        try:
            self.loop.run_until_complete(tab.call(name, payload, quiet=self.quiet))
        except ConnectionError:
            return tab.updates[first:], True
        return tab.updates[first:], False

    def close(self) -> None:
        for tab in self.tabs.values():
            self.loop.run_until_complete(tab.close())
        self.loop.close()


def fuzz_callers(key: str) -> list[str]:
    refused = [c for c in REFUSED_ONLY_CALLERS if CASES[key].callers[c].outcome is Outcome.DENIED]
    return [*FUZZ_CALLERS, *refused]


def refused_at_the_door(cls, handler: str, caller: str) -> bool:
    """Whether the handler's declared rule (``@guarded``) refuses this kind of caller outright."""
    rule = getattr(cls.event_handlers[handler].fn, "guard_rule", None)
    return rule is not None and rule_refusal(rule, CALLER_ACTORS[caller]) is not None


def judge_denials(world, caller: str, key: str, before, *, refused: bool, dropped: bool) -> None:
    """Exactly one denial row for a call refused at the door, at most one for any call."""
    denials = [e for e in database.audit_events_after(world.db, before.last_audit_id)
               if e["outcome"] == "denied"]
    if dropped:
        assert denials == [], f"a dropped frame reached a handler: {denials}"
        return
    assert len(denials) <= 1, f"{caller} on {key}: one call, {len(denials)} denial rows: {denials}"
    if refused:
        assert len(denials) == 1, f"{caller} refused on {key} without a denial row"
        assert denials[0]["actor_id"] == world.caller_id(caller), denials
        assert AuditAction.parse(denials[0]["action"]) is not None, denials


def judge(world, caller: str, key: str, payload, updates: list[dict], dropped: bool,
          before, after) -> None:
    sent = text_of([payload])
    text = text_of(updates)
    leaked = sorted({m.group(0) for m in EXCEPTION_TEXT.finditer(text)} - {
        m.group(0) for m in EXCEPTION_TEXT.finditer(sent)})
    assert leaked == [], f"exception text reached the client: {text[:2000]}"
    if GENERIC_ERROR in text:
        assert REFERENCE.search(text), "the generic error must carry a reference to quote"
    writes = CASES[key].callers[caller].writes
    changed = set(before.changed_tables(after))
    if ANY not in writes:
        assert changed <= writes, f"{caller} changed {changed} with {sent[:300]}"
    if dropped:
        assert asyncio.run(is_alive(world.portal)), "the portal stopped answering"


@pytest.mark.parametrize("key", sorted(CASES))
def test_garbage_arguments_never_crash_leak_or_write(key, portal, world, handlers):
    cls, handler = handlers[key]
    params = parameters_of(cls, handler)
    session = FuzzSession(portal, world, build(CASES[key].page, world),
                          quiet=starts_background_work(cls, handler))
    name = handler_name(cls, handler)

    @FUZZ_SETTINGS
    @given(caller=st.sampled_from(fuzz_callers(key)), payload=payloads(world, params))
    def one_call(caller, payload):
        tab = session.tab(caller)   # the page's own load (and its refusal, if any) before the snapshot
        before = database.snapshot(world.db)
        # A payload of several large strings can add up to more than an event may hold: the portal
        # answers that with its notice before any handler runs, so no handler refuses it either.
        too_large = exceeds({"name": name, "payload": payload, "router_data": router_data_for(tab.page)})
        updates, dropped = session.call(caller, name, payload)
        judge(world, caller, key, payload, updates, dropped, before, database.snapshot(world.db))
        if too_large and not dropped:
            assert TOO_LARGE_TITLE in text_of(updates), "an oversized event got no notice"
        judge_denials(world, caller, key, before, dropped=dropped or too_large,
                      refused=refused_at_the_door(cls, handler, caller))

    try:
        one_call()
    finally:
        session.close()
    assert asyncio.run(is_alive(portal))


def var_names(cls) -> list[str]:
    return sorted(n for n in cls.base_vars if not n.startswith("_"))


@pytest.mark.parametrize("state", [c for c in app_states() if var_names(c)], ids=lambda c: c.__name__)
def test_the_generic_setvar_sets_nothing_on_any_state(state, portal, world):
    """Reflex gives every state ``setvar(var_name, value)``; with automatic setters off it must
    not change a single var, whatever the name and value."""
    async def try_all():
        async with ForgedTab(portal, page="/", cookie=world.cookies["supervisor_other_org"],
                             quiet_on_open=page_starts_background_work("/")) as tab:
            before = database.snapshot(world.db)
            for var in var_names(state):
                shown = tab.var(state, var)
                # setvar is no background handler and chains none: its answer ends at the snapshot.
                updates = await tab.call(handler_name(state, "setvar"),
                                         {"var_name": var, "value": "forged"}, quiet=False)
                assert tab.var(state, var) == shown, f"setvar changed {state.__name__}.{var}"
                judge(world, "supervisor_other_org", "SessionState.load_identity",
                      {"var_name": var}, updates, False, before, database.snapshot(world.db))
    asyncio.run(try_all())


def test_a_frame_over_the_size_limit_drops_only_that_connection(portal, world, handlers):
    """1 MB in any argument: the websocket layer refuses the frame and closes that tab's socket;
    nothing is written and the portal keeps serving. (An event between the event limit and this
    frame limit gets a plain message instead: tests/e2e/security/test_inbound_limits.py.)"""
    cls, handler = handlers["WizardState.set_field"]

    async def send_huge():
        async with ForgedTab(portal, page="/requests/new", cookie=world.cookies["supervisor"]) as tab:
            before = database.snapshot(world.db)
            with pytest.raises(ConnectionError):
                await tab.call(handler_name(cls, handler), {"name": "note", "value": "y" * HUGE})
            assert tab.disconnected
            assert before.changed_tables(database.snapshot(world.db)) == {}
    asyncio.run(send_huge())
    assert asyncio.run(is_alive(portal))


MALFORMED_FRAMES = [
    {"name": "reflex___state____state.immtrax_portal___ui___state___session____session_state._deny",
     "payload": {"actor": None, "action": "x", "reason": "y"}},   # private methods are not handlers
    {"name": "no.such.handler", "payload": {}},
    {"name": "x" * 100_000, "payload": {}},
    {"payload": {}},
    {"name": None},
    [1, 2, 3],
    "not json {",
    {"name": "reflex___state____state.hydrate", "payload": [1, 2]},
    {"name": "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal",
     "payload": {"vars": {"reflex___state____state.immtrax_portal___ui___state___session____session_state"
                          ".is_admin": True}}},
    {"name": "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal",
     "payload": {"vars": {"no.such.state.var": 1}}},
]


@pytest.mark.parametrize("frame", MALFORMED_FRAMES, ids=range(len(MALFORMED_FRAMES)))
def test_malformed_frames_and_private_names_do_nothing(frame, portal, world):
    async def send():
        async with ForgedTab(portal, page="/", cookie=world.cookies["applicant"]) as tab:
            before = database.snapshot(world.db)
            first = len(tab.updates)
            await tab.send("", raw=frame)
            await tab.settle()
            assert tab.var(app_states_by_name()["SessionState"], "is_admin") is False
            judge(world, "applicant", "SessionState.load_identity", frame, tab.updates[first:], False,
                  before, database.snapshot(world.db))
    asyncio.run(send())
    assert asyncio.run(is_alive(portal))


def app_states_by_name() -> dict:
    return {c.__name__: c for c in app_states()}
