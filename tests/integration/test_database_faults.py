"""Database faults: a submission that fails half-way writes nothing, and a database that cannot be
reached gets a message a person can act on, from event handlers and from the sign-in routes.

The failures are real: a trigger in the test database refuses the insert of the outgoing email
(the last row a submission writes), and an outage is made by refusing connections to the test's
own PostgreSQL database or by moving the SQLite file away.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from immtrax_portal.db import build_engine, is_database_unavailable
from immtrax_portal.domain.models import AccessRequest
from immtrax_portal.http_app import build_http_app
from immtrax_portal.services import drafts
from immtrax_portal.services.requests import SubmissionRefused, submit_request
from immtrax_portal.ui.errors import show_generic_error
from tests.integration.test_wizard_handlers import cookie_for, fill_new_person, opened, run
from tests.support.databases import BACKENDS, database_unavailable, fresh_database_url, use_database
from tests.support.wizard_world import access_deletion, build_world, new_access

TABLES = ("access_request", "invitation", "outbound_email", "person", "audit_event",
          "request_number_counter", "wizard_draft", "web_session")


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield url


@pytest.fixture
def world(database_url):
    return build_world()


def snapshot(url: str) -> dict[str, object]:
    """Row counts of every table a submission touches, and which grants are active."""
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            counts: dict[str, object] = {
                table: connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
                for table in TABLES
            }
            counts["active grants"] = sorted(connection.exec_driver_sql(
                "SELECT id FROM access_grant WHERE active").scalars())
            counts["counters"] = sorted(connection.exec_driver_sql(
                "SELECT year, last_value FROM request_number_counter").all())
    finally:
        engine.dispose()
    return counts


class MailStoreRefusing:
    """A trigger that makes every INSERT into outbound_email fail inside the database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = make_url(url).drivername.startswith("sqlite")

    def _run(self, *statements: str) -> None:
        engine = build_engine(self.url)
        try:
            with engine.begin() as connection:
                for statement in statements:
                    connection.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def __enter__(self):
        if self.sqlite:
            self._run("CREATE TRIGGER refuse_mail BEFORE INSERT ON outbound_email "
                      "BEGIN SELECT RAISE(ABORT, 'mail store refuses writes'); END")
        else:
            self._run("CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN RAISE EXCEPTION 'mail store refuses writes'; END $$",
                      "CREATE TRIGGER refuse_mail BEFORE INSERT ON outbound_email "
                      "FOR EACH ROW EXECUTE FUNCTION refuse_mail()")
        return self

    def __exit__(self, *exc_info) -> None:
        if self.sqlite:
            self._run("DROP TRIGGER refuse_mail")
        else:
            self._run("DROP TRIGGER refuse_mail ON outbound_email", "DROP FUNCTION refuse_mail()")


# --- A submission that fails half-way ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["new_access", "access_deletion"])
def test_a_submission_that_fails_at_its_last_write_leaves_no_trace(world, database_url, kind):
    """The request, its number, the new person, the invitation, the audit events and (for a
    deletion) the suspended grant are written before the emails; all of it must roll back."""
    draft = (new_access(world.alpha) if kind == "new_access"
             else access_deletion(world.alpha, world.user("ana.lopez@alpha.example")))
    before = snapshot(database_url)
    with MailStoreRefusing(database_url), pytest.raises((SubmissionRefused, sa.exc.DBAPIError)):
        submit_request(world.sam, draft, "half-way-key-0000000001")
    assert snapshot(database_url) == before

    request = submit_request(world.sam, draft, "half-way-key-0000000001")  # the same key, later
    after = snapshot(database_url)
    assert request.number.endswith("-000001")  # the failed attempt did not use up a number
    assert after["access_request"] == before["access_request"] + 1
    assert after["outbound_email"] == before["outbound_email"] + (2 if kind == "new_access" else 1)
    assert after["invitation"] == before["invitation"] + (1 if kind == "new_access" else 0)


def test_the_wizard_keeps_the_draft_when_its_submission_fails_half_way(world, database_url):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    fill_new_person(state)
    state.continue_step({})
    state.choose_level("read_only_consent")
    state.continue_step({})
    assert state.step == 4
    with MailStoreRefusing(database_url):
        run(state.submit())
    assert state.step == 4 and not state.submitting and state.notice
    assert snapshot(database_url)["access_request"] == 0
    assert drafts.load_draft(world.sam)["email"] == "nora.newhire@alpha.example"
    run(state.submit())
    assert state.step == 5
    assert snapshot(database_url)["access_request"] == 1


# --- The database unavailable -------------------------------------------------------------------------


def message_of(event_spec) -> str:
    return str(event_spec)


def test_an_event_handler_on_an_unreachable_database_gets_the_database_message(world, database_url):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    before = snapshot(database_url)
    with database_unavailable(database_url):
        with pytest.raises(sa.exc.DBAPIError) as failure:
            state.continue_step({})
        with pytest.raises(sa.exc.DBAPIError):
            state.open_wizard()  # what a page load runs
    assert is_database_unavailable(failure.value)
    shown = message_of(show_generic_error(failure.value))
    assert "The portal cannot reach its database right now" in shown
    assert "Nothing was saved. Try again in a few minutes." in shown
    assert "(406) 444-5580" in shown and "quote reference" in shown
    assert "Traceback" not in shown and "OperationalError" not in shown
    assert snapshot(database_url) == before
    state.open_wizard()  # and once it is back, the portal works again without a restart
    assert state.step == 2


def test_any_other_error_keeps_the_generic_message():
    shown = message_of(show_generic_error(ValueError("a bug")))
    assert "Something went wrong" in shown and "database" not in shown
    assert not is_database_unavailable(ValueError("a bug"))
    assert not is_database_unavailable(sa.exc.IntegrityError("INSERT", {}, Exception("duplicate")))


def test_the_sign_in_routes_answer_a_plain_503_page_when_the_database_is_unreachable(world, database_url):
    cookie = cookie_for(world.sam)
    client = TestClient(build_http_app(), raise_server_exceptions=False)
    with database_unavailable(database_url):
        response = client.get("/auth/sign-out", headers={"cookie": cookie})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "The portal cannot reach its database right now" in response.text
    assert "Nothing was saved" in response.text and "(406) 444-5580" in response.text
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    assert client.get("/auth/sign-out", headers={"cookie": cookie}).status_code == 200


def test_the_unavailable_database_helper_really_cuts_the_portal_off(world, database_url):
    """The fault this module relies on: while it lasts, nothing reads; afterwards all is there."""
    with database_unavailable(database_url):
        with pytest.raises(sa.exc.OperationalError):
            drafts.load_draft(world.sam)
    assert drafts.load_draft(world.sam) == {}
    with build_engine(database_url).connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(AccessRequest)).scalar_one() == 0


def test_a_new_state_for_the_same_supervisor_after_the_outage_finds_the_draft(world, database_url):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    with database_unavailable(database_url), pytest.raises(sa.exc.DBAPIError):
        state.set_field("first_name", "Lost")
    fresh = opened(world.sam)
    assert fresh.step == 2 and fresh.request_type == "new_access" and fresh.first_name == ""
