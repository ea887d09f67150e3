"""The marker that tells a tab's lost server state (Redis emptied) from a state it hydrated."""

from __future__ import annotations

import asyncio

import pytest
from reflex.state import State
from reflex_base.event import Event

from immtrax_portal.ui import state_loss
from immtrax_portal.ui.state_loss import NOTICE, ServerStateMarker, StateLossMiddleware

HYDRATE = f"{State.get_full_name()}.hydrate_and_load"
ANY_HANDLER = f"{State.get_full_name()}.immtrax_portal___ui___state___session____session_state.load_identity"


def fresh_tab() -> tuple[State, ServerStateMarker]:
    root = State(_reflex_internal_init=True)
    marker = root.get_substate(ServerStateMarker.get_full_name().split(".")[1:])
    return root, marker


def preprocess(root: State, name: str):
    return asyncio.run(StateLossMiddleware().preprocess(None, root, Event(name=name, payload={})))


def test_an_event_for_a_state_that_never_hydrated_gets_the_notice_and_reload_instead():
    root, _marker = fresh_tab()
    update = preprocess(root, ANY_HANDLER)
    assert update is not None and not update.delta
    [script] = update.events
    assert script.name == "_call_script"
    code = script.payload["javascript_code"]
    assert NOTICE in code and "window.location.reload()" in code and "setAttribute('role', 'alert')" in code


def test_a_hydrated_tab_is_left_alone():
    root, marker = fresh_tab()
    assert preprocess(root, HYDRATE) is None
    assert marker._hydrated
    for _ in range(3):
        assert preprocess(root, ANY_HANDLER) is None


def test_the_marker_is_rewritten_now_and_then_so_it_never_expires_before_the_rest(monkeypatch):
    root, marker = fresh_tab()
    clock = [1_000_000.0]
    monkeypatch.setattr(state_loss.time, "time", lambda: clock[0])
    preprocess(root, HYDRATE)
    marker._clean()
    marker._was_touched = False
    clock[0] += 60
    preprocess(root, ANY_HANDLER)
    assert not marker._was_touched  # nothing to write a minute later
    clock[0] += state_loss.MARKER_REFRESH_SECONDS
    preprocess(root, ANY_HANDLER)
    assert marker._was_touched and marker._written_at == clock[0]


@pytest.mark.parametrize("name", [HYDRATE, f"{State.get_full_name()}.hydrate"])
def test_both_hydrate_events_set_the_marker(name):
    root, marker = fresh_tab()
    preprocess(root, name)
    assert marker._hydrated
