"""Rate limits: counted in the database (shared by every worker), refused with a message that
says when to try again, and every refusal in the audit log.

Service tests run on SQLite and PostgreSQL; then the two places wired here: the sign-in callback
over HTTP (429 page) and the wizard's submit handler.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.testclient import TestClient

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AccessRequest, AuditEvent
from immtrax_portal.http_app import build_http_app
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.settings import get_settings
from tests.integration.test_client_address import wizard_behind
from tests.support.databases import BACKENDS, SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.wizard_world import build_world

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def limits(monkeypatch, **values: int) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"IMMTRAX_RATE_LIMIT_{name.upper()}", str(value))
    get_settings.cache_clear()


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path, monkeypatch):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield url
    get_settings.cache_clear()


def denials(action: str) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                          AuditEvent.outcome == AuditOutcome.DENIED)))


# --- The service ----------------------------------------------------------------------------------


def test_attempts_up_to_the_limit_pass_and_the_next_is_refused_with_when_to_try_again(database, monkeypatch):
    limits(monkeypatch, sign_in_per_ip=3, window_minutes=15)
    for _ in range(3):
        check_rate("sign_in", person_id=None, ip="198.51.100.1", now=NOON + timedelta(minutes=1))
    with pytest.raises(RateLimited) as refused:
        check_rate("sign_in", person_id=None, ip="198.51.100.1", now=NOON + timedelta(minutes=1))
    assert "Too many sign-in attempts from your network" in str(refused.value)
    assert "wait 14 minutes and try again" in str(refused.value)
    assert refused.value.retry_after_seconds == 14 * 60
    [denial] = denials("rate_limited:sign_in")
    assert denial.source_ip == "198.51.100.1" and denial.actor_role == "anonymous"
    assert (denial.target_type, denial.target_id) == ("rate_limit", "sign_in")


def test_another_address_and_the_next_window_are_counted_afresh(database, monkeypatch):
    limits(monkeypatch, sign_in_per_ip=1, window_minutes=15)
    check_rate("sign_in", person_id=None, ip="198.51.100.1", now=NOON)
    check_rate("sign_in", person_id=None, ip="198.51.100.2", now=NOON)
    with pytest.raises(RateLimited):
        check_rate("sign_in", person_id=None, ip="198.51.100.1", now=NOON + timedelta(minutes=14))
    check_rate("sign_in", person_id=None, ip="198.51.100.1", now=NOON + timedelta(minutes=15))


def test_a_person_is_limited_whichever_address_they_use(database, monkeypatch):
    world = build_world()
    limits(monkeypatch, submit_per_person=2, submit_per_ip=100)
    check_rate("submit_request", person_id=world.sam, ip="198.51.100.1", now=NOON)
    check_rate("submit_request", person_id=world.sam, ip="198.51.100.2", now=NOON)
    with pytest.raises(RateLimited, match="from your account"):
        check_rate("submit_request", person_id=world.sam, ip="198.51.100.3", now=NOON,
                   actor_role="supervisor")
    check_rate("submit_request", person_id=world.tess, ip="198.51.100.3", now=NOON)
    [denial] = denials("rate_limited:submit_request")
    assert (denial.actor_id, denial.actor_role) == (world.sam, "supervisor")


def test_an_address_is_limited_across_people(database, monkeypatch):
    world = build_world()
    limits(monkeypatch, invitation_per_person=100, invitation_per_ip=2)
    ana, ben, dora = (world.user(f"{name}") for name in
                      ("ana.lopez@alpha.example", "ben.ortiz@alpha.example", "dora.beta@beta.example"))
    check_rate("redeem_invitation", person_id=ana, ip="203.0.113.4", now=NOON)
    check_rate("redeem_invitation", person_id=ben, ip="203.0.113.4", now=NOON)
    with pytest.raises(RateLimited, match="attempts to sign with an invitation from your network"):
        check_rate("redeem_invitation", person_id=dora, ip="203.0.113.4", now=NOON)


def test_attempts_refused_by_a_persons_own_limit_do_not_use_up_the_address(database, monkeypatch):
    """32 attempts from one person at a clinic's address: past her own limit she is refused, and
    those refusals are not counted against the address, so her colleague can still sign."""
    world = build_world()
    limits(monkeypatch, invitation_per_person=10, invitation_per_ip=30)
    ana, ben = world.user("ana.lopez@alpha.example"), world.user("ben.ortiz@alpha.example")
    refused = 0
    for _ in range(32):
        try:
            check_rate("redeem_invitation", person_id=ana, ip="203.0.113.4", now=NOON)
        except RateLimited as limited:
            assert "from your account" in str(limited)
            refused += 1
    assert refused == 22
    check_rate("redeem_invitation", person_id=ben, ip="203.0.113.4", now=NOON)


def test_address_limits_leave_room_for_several_people_behind_one_address():
    settings = get_settings()
    for person_limit, address_limit in (
            (settings.rate_limit_submit_per_person, settings.rate_limit_submit_per_ip),
            (settings.rate_limit_invitation_per_person, settings.rate_limit_invitation_per_ip)):
        assert address_limit >= 5 * person_limit


def test_a_limit_of_zero_is_off(database, monkeypatch):
    limits(monkeypatch, sign_in_per_ip=0)
    for _ in range(5):
        check_rate("sign_in", person_id=None, ip="198.51.100.1", now=NOON)


def test_concurrent_attempts_are_counted_exactly(database, monkeypatch):
    """Twelve workers at once against a limit of five: exactly five get through."""
    limits(monkeypatch, sign_in_per_ip=5)
    passed, refused, errors = [], [], []

    def attempt() -> None:
        try:
            check_rate("sign_in", person_id=None, ip="198.51.100.9", now=NOON)
            passed.append(1)
        except RateLimited:
            refused.append(1)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert (len(passed), len(refused)) == (5, 7)


# --- Wired: the sign-in callback over HTTP ----------------------------------------------------------


def test_the_sign_in_callback_answers_429_with_a_clear_page_past_the_limit(tmp_path, monkeypatch):
    """Junk callbacks (no sign-in started by this browser) have their own budget."""
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        limits(monkeypatch, sign_in_unmatched_per_ip=2)
        client = TestClient(build_http_app(), client=("192.0.2.50", 40000))
        statuses = [client.get("/auth/callback?state=s&code=c", follow_redirects=False).status_code
                    for _ in range(2)]
        assert statuses == [400, 400]  # refused sign-ins, but not limited yet
        limited = client.get("/auth/callback?state=s&code=c", follow_redirects=False)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "Please wait a few minutes" in limited.text
        assert re.search(r"wait \d+ minutes? and try again", limited.text)
        assert "no-store" in limited.headers["cache-control"]
        assert len(denials("rate_limited:sign_in_unmatched")) == 1
        assert denials("rate_limited:sign_in") == []
    get_settings.cache_clear()


# --- Wired: the wizard's submit handler -------------------------------------------------------------


def filled_new_access(state, email: str) -> None:
    state.open_wizard()
    state.choose_type("new_access")
    state.continue_step({})
    for name, value in {"first_name": "Nora", "last_name": "Newhire", "email": email,
                        "phone": "406-555-0142", "job_title": "Nurse",
                        "start_date": (datetime.now(UTC).date() + timedelta(days=3)).isoformat()}.items():
        state.set_field(name, value)
    state.continue_step({})
    state.choose_level("read_only_consent")
    state.continue_step({})
    assert state.step == 4, state.errors


def drain(result) -> None:
    if hasattr(result, "__next__"):
        list(result)


def test_the_wizard_refuses_a_submit_past_the_limit_and_says_when_to_try_again(tmp_path, monkeypatch):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        limits(monkeypatch, submit_per_person=1, submit_per_ip=100)
        world = build_world()
        first = wizard_behind(world.sam, peer="192.0.2.61", forwarded_for="")
        filled_new_access(first, "nora.one@alpha.example")
        drain(first.submit())
        assert first.submitted_number.startswith("IMR-")

        second = wizard_behind(world.sam, peer="192.0.2.61", forwarded_for="")
        filled_new_access(second, "nora.two@alpha.example")
        drain(second.submit())
        assert second.step == 4 and not second.submitting and second.submitted_number == ""
        assert "Too many requests submitted from your account" in second.notice
        assert "try again" in second.notice
        with session_scope() as session:
            assert session.exec(select(func.count()).select_from(AccessRequest)).one() == 1
        [denial] = denials("rate_limited:submit_request")
        assert (denial.actor_id, denial.source_ip) == (world.sam, "192.0.2.61")
    get_settings.cache_clear()
