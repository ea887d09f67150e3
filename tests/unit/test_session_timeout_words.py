"""The timeout warning's words and its setting: what is shown, what is announced, and when."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from immtrax_portal.settings import Settings
from immtrax_portal.ui.state.session_timeout import ANNOUNCE_AT, clock_text, countdown_words


@pytest.mark.parametrize(("seconds", "words", "clock"), [
    (120, "2 minutes", "2:00"), (65, "1 minute 5 seconds", "1:05"), (61, "1 minute 1 second", "1:01"),
    (30, "30 seconds", "0:30"), (1, "1 second", "0:01"), (0, "0 seconds", "0:00"), (-3, "0 seconds", "0:00"),
])
def test_the_time_left_in_words_and_on_the_clock(seconds, words, clock):
    assert countdown_words(seconds) == words
    assert clock_text(seconds) == clock


def test_the_countdown_is_announced_now_and_then_not_every_second():
    in_the_last_two_minutes = [s for s in ANNOUNCE_AT if s <= 120]
    assert len(in_the_last_two_minutes) <= 8
    assert all(a - b >= 5 for a, b in zip(in_the_last_two_minutes, in_the_last_two_minutes[1:], strict=False))


def test_the_warning_comes_two_minutes_ahead_by_default_and_must_fit_the_idle_time():
    assert Settings().session_warning_seconds == 120
    assert Settings(session_idle_minutes=0.6, session_warning_seconds=24).session_idle_seconds == 36
    with pytest.raises(ValidationError, match="IMMTRAX_SESSION_WARNING_SECONDS"):
        Settings(session_idle_minutes=1, session_warning_seconds=60)
