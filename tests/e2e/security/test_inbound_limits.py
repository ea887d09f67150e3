"""No message stalls the portal: an event over the size limit is refused with a plain message and
does nothing; while worst-case text at the limit goes to every text path (every handler, Reflex's
own included, unknown handler names, router data, the frontend-error report), a second client's
``/ping`` and event round trip stay quick; the frontend-error report is one bounded log line and
rate-limited per tab.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from immtrax_portal.ui import routes
from immtrax_portal.ui.inbound import (
    FRONTEND_ERRORS_PER_TAB,
    FRONTEND_EXCEPTION_EVENT,
    MAX_EVENT_CHARS,
    TOO_LARGE_TITLE,
)
from immtrax_portal.ui.state.organizations import OrganizationsState
from tests.e2e.security import database
from tests.e2e.security.forged_client import (
    NAMESPACE,
    ROOT_STATE,
    ForgedTab,
    handler_name,
    router_data_for,
    text_of,
)
from tests.e2e.security.test_handler_fuzzing import parameters_of

pytestmark = pytest.mark.e2e

# Text built to make a backtracking regex scan far from every start: repeated event reprs (the
# old log redaction), backslash runs (rich's markup escape), Firefox's error shapes (Reflex's
# auto-reload patterns), secret-looking keys without an end, JWT starts, newlines.
_UNIT = ("Event(token=, " + "\\" * 12 + "'cookie': '" + "TypeError: can't access property \"a\", "
         + "eyJ" * 4 + "[a" * 4 + "\n")
# Room left in a frame for the handler name and the router data.
_TEXT_BUDGET = MAX_EVENT_CHARS - 8 * 1024
RESPONSIVE_S = 1.5


def worst_text(size: int) -> str:
    return (_UNIT * (size // len(_UNIT) + 1))[:size]


def attack_frames(handlers) -> list[dict]:
    """One frame per text path, each just under the limit."""
    frames = []
    plain_router = router_data_for(routes.STAFF_ORGANIZATIONS)
    for cls, handler in handlers.values():
        params = parameters_of(cls, handler) or ["text"]
        share = _TEXT_BUDGET // len(params)
        frames.append({"name": handler_name(cls, handler), "router_data": plain_router,
                       "payload": {p: worst_text(share) for p in params}})
    frames.append({"name": f"{ROOT_STATE}.{'Event(token=, ' * (_TEXT_BUDGET // 14)}",
                   "payload": {}, "router_data": plain_router})
    frames.append({"name": f"{ROOT_STATE}.no_such_handler", "router_data": plain_router,
                   "payload": {"x": worst_text(_TEXT_BUDGET)}})
    third = _TEXT_BUDGET // 3
    frames.append({"name": f"{ROOT_STATE}.hydrate", "payload": {}, "router_data": {
        "pathname": "/" + worst_text(third), "asPath": "/" + worst_text(third),
        "query": {"q": worst_text(third)}}})
    frames.append({"name": FRONTEND_EXCEPTION_EVENT, "router_data": plain_router,
                   "payload": {"info": "\\" * (_TEXT_BUDGET // 2), "component_stack": worst_text(third)}})
    return frames


async def slowest_answers(portal: str, until: asyncio.Event) -> tuple[float, float]:
    """A second client: the slowest /ping and the slowest event round trip while ``until`` is unset."""
    slowest_ping = slowest_event = 0.0
    async with httpx.AsyncClient(timeout=60) as http, ForgedTab(portal, page="/") as tab:
        while not until.is_set():
            started = time.perf_counter()
            assert (await http.get(f"{portal}/ping")).status_code == 200
            slowest_ping = max(slowest_ping, time.perf_counter() - started)
            started = time.perf_counter()
            await tab.settle()   # a hydrate event and its full snapshot, then a quiet line
            slowest_event = max(slowest_event, time.perf_counter() - started - 0.15)
            await asyncio.sleep(0.05)
    return slowest_ping, slowest_event


def test_an_event_over_the_size_limit_is_refused_with_a_plain_message_and_changes_nothing(portal, world):
    async def attempt():
        async with ForgedTab(portal, page=routes.STAFF_ORGANIZATIONS, cookie=world.cookies["staff"]) as tab:
            before = database.snapshot(world.db)
            updates = await tab.call(handler_name(OrganizationsState, "search"),
                                     {"form": {"q": "Bozeman" + "x" * MAX_EVENT_CHARS}})
            after = database.snapshot(world.db)
            term = tab.var(OrganizationsState, "search_term")
            # The tab keeps working: a search of ordinary size is answered.
            await tab.call(handler_name(OrganizationsState, "search"), {"form": {"q": "Boz"}})
            return text_of(updates), before, after, term, tab.var(OrganizationsState, "search_term")

    answer, before, after, term_after_refusal, term_after_retry = asyncio.run(attempt())
    assert TOO_LARGE_TITLE in answer and "Nothing was saved or changed" in answer
    assert before.changed_tables(after) == {}
    assert not (term_after_refusal or "").startswith("Bozeman")
    assert term_after_retry == "Boz"


def test_a_second_client_stays_responsive_while_every_text_path_gets_worst_case_text(
        portal, world, handlers):
    frames = attack_frames(handlers)

    async def attack_and_watch():
        done = asyncio.Event()
        watcher = asyncio.create_task(slowest_answers(portal, done))
        await asyncio.sleep(0.5)
        staff = world.cookies["staff"]
        async with ForgedTab(portal, page=routes.STAFF_ORGANIZATIONS, cookie=staff) as attacker:
            for frame in frames:
                await attacker.send("", raw=frame)
                await asyncio.sleep(0.02)
            # Reflex's other error report, a socket event of its own.
            for _ in range(10):
                await attacker._client.emit("client_error", {"error_type": worst_text(_TEXT_BUDGET // 3),
                                                             "message": worst_text(_TEXT_BUDGET // 2)},
                                            namespace=NAMESPACE)
            await attacker.settle()
        done.set()
        return await watcher

    started = time.perf_counter()
    slowest_ping, slowest_event = asyncio.run(attack_and_watch())
    assert len(frames) > 50 and time.perf_counter() - started < 300
    assert slowest_ping < RESPONSIVE_S, f"/ping took {slowest_ping:.2f}s during the attack"
    assert slowest_event < RESPONSIVE_S, f"an event round trip took {slowest_event:.2f}s during the attack"


def test_a_frontend_error_report_is_one_bounded_log_line_and_a_tab_may_send_only_a_few(portal, portal_env):
    log = Path(portal_env["IMMTRAX_DATA_DIR"]) / "portal.log"
    mark = uuid.uuid4().hex[:12]
    start = log.stat().st_size

    async def report():
        async with ForgedTab(portal, page="/") as tab:
            for n in range(FRONTEND_ERRORS_PER_TAB + 4):
                await tab.send(FRONTEND_EXCEPTION_EVENT, {
                    "info": (f"report-{mark}-{n}\n2026-12-01 12:00:00 INFO fake-line-{mark}\x1b[2J"
                             + "z" * 50_000),
                    "component_stack": "at App"})
            await tab.settle()

    asyncio.run(report())
    time.sleep(1)
    written = log.read_bytes()[start:].decode("utf-8", errors="replace")
    lines = [line for line in written.splitlines() if f"report-{mark}" in line]
    assert len(lines) == FRONTEND_ERRORS_PER_TAB, lines
    assert not [line for line in written.splitlines() if line.startswith("2026-12-01 12:00:00 INFO fake")]
    assert "\x1b" not in written
    assert all(len(line) < 2_000 for line in lines)
