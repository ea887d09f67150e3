"""The event size limit is chosen from the largest legitimate event, and checking it is cheap."""

from __future__ import annotations

import json
import time

from immtrax_portal.services import agreement_admin
from immtrax_portal.ui.inbound import ENGINE_IO_MAX_CHARS, MAX_EVENT_CHARS, exceeds
from immtrax_portal.ui.state.agreement_versions import AgreementVersionsState


def largest_agreement_version_frame() -> dict:
    """The staff's "Review" of a new User Agreement version at every limit the service allows,
    written with characters that JSON must escape (quotes, backslashes, line breaks)."""
    def text(n: int) -> str:
        return ('"\\\n' * n)[:n]
    statements = "\n".join(text(agreement_admin.MAX_ACKNOWLEDGEMENT)
                           for _ in range(agreement_admin.MAX_ACKNOWLEDGEMENTS))
    form = {"label": text(agreement_admin.MAX_LABEL), "title": text(agreement_admin.MAX_TITLE),
            "body": text(agreement_admin.MAX_BODY), "acknowledgements": statements}
    return {"name": f"{AgreementVersionsState.get_full_name()}.review", "payload": {"form": form},
            "router_data": {"pathname": "/staff/agreements", "asPath": "/staff/agreements", "query": {}}}


def test_the_largest_legitimate_event_fits_well_within_the_limit():
    frame = largest_agreement_version_frame()
    assert not exceeds(frame, MAX_EVENT_CHARS // 4)
    # As sent over the wire (JSON, every quote, backslash and newline escaped) too.
    assert len(json.dumps(frame, ensure_ascii=False)) < ENGINE_IO_MAX_CHARS // 4


def test_an_event_with_more_text_than_the_limit_is_too_large():
    assert exceeds({"payload": {"q": "x" * MAX_EVENT_CHARS}})
    assert exceeds({"payload": {"k" * MAX_EVENT_CHARS: 1}})
    assert not exceeds({"payload": {"q": "x" * (MAX_EVENT_CHARS - 100)}})


def test_many_small_values_count_too_and_the_check_stops_early():
    assert exceeds({"payload": {"list": [""] * (MAX_EVENT_CHARS // 4)}})
    huge = {"payload": {"list": ["x"] * 5_000_000}}
    started = time.perf_counter()
    assert exceeds(huge)
    assert time.perf_counter() - started < 0.5
