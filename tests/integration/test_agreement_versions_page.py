"""The staff page for User Agreement versions, through its event handlers as any client could call them.

Each state carries a real server-side session cookie: the handlers re-derive the caller from it,
so a replayed tab presented by a supervisor gets exactly what these tests see.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AgreementVersion, AuditEvent, Person
from immtrax_portal.services import agreements
from immtrax_portal.services.agreement_admin import PAGE_SIZE
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.agreement_versions import AgreementVersionsState
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import cookie_for, run, state_as, use_cookie
from tests.support.queue_world import build_queue_world

NEW_BODY = "First paragraph of the new text.\n\nSecond paragraph,\nwrapped over two lines."
NEW_FORM = {"label": "2026-2", "title": "  imMTrax   User Agreement ", "body": NEW_BODY + "  \r\n",
            "acknowledgements": "I will keep patient data confidential.\n\n"
                                "  I will not share my password. \n"}


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        world = build_queue_world()
        with session_scope() as session:
            agreements.publish_default_agreement(session, published_by_id=None)
            applicant = Person(email="nora.newhire@alpha.example", first_name="Nora", last_name="Newhire")
            session.add(applicant)
            session.flush()
            world.applicant = applicant.id
        yield world


def page_as(person_id: int | None) -> AgreementVersionsState:
    state = state_as(AgreementVersionsState, person_id, path=routes.STAFF_AGREEMENTS)
    run(state.load())
    return state


def versions() -> list[tuple[str, str]]:
    with session_scope() as session:
        found = session.exec(select(AgreementVersion).order_by(AgreementVersion.id))
        return [(v.label, v.title) for v in found]


def events(action: str, outcome: AuditOutcome = AuditOutcome.SUCCESS) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                          AuditEvent.outcome == outcome)))


def test_staff_see_the_current_version_and_the_form_starts_from_its_text(world):
    page = page_as(world.staff)
    assert [(r["label"], r["current"], r["signatures"]) for r in page.rows] == [("2026-1", True, 0)]
    assert page.rows[0]["published_by"] == "The portal (first setup)"
    assert page.current_label == "2026-1" and page.label == ""
    assert page.title == "imMTrax User Agreement"
    assert page.body == agreements.DEFAULT_BODY
    assert page.acknowledgements.splitlines() == agreements.DEFAULT_ACKNOWLEDGEMENTS


def test_staff_review_then_publish_and_applicants_sign_the_new_version(world):
    page = page_as(world.staff)
    run(page.review(NEW_FORM))
    assert page.errors == {} and page.reviewing
    assert page.review_title == "imMTrax User Agreement"
    assert page.review_paragraphs == ["First paragraph of the new text.",
                                      "Second paragraph, wrapped over two lines."]
    assert page.review_acknowledgements == ["I will keep patient data confidential.",
                                            "I will not share my password."]
    assert page.review_changes == "The text and the statements differ from version 2026-1."
    assert versions() == [("2026-1", "imMTrax User Agreement")], "reviewing publishes nothing"

    run(page.publish())
    assert "Version 2026-2 is published" in page.message and not page.reviewing
    assert [(r["label"], r["current"]) for r in page.rows] == [("2026-2", True), ("2026-1", False)]
    assert page.rows[0]["published_by"] == "Stella Staffer"
    with session_scope() as session:
        current = agreements.current_agreement(session)
        assert (current.label, current.body) == ("2026-2", NEW_BODY)
        assert current.text_hash == agreements.text_hash(NEW_BODY)
    published = events("publish_agreement")
    assert len(published) == 1 and published[0].actor_id == world.staff
    assert page.body == NEW_BODY and page.label == "", "the form now starts from the new version"


def test_bad_input_is_reported_next_to_each_field_and_publishes_nothing(world):
    page = page_as(world.staff)
    run(page.review({"label": "new version!", "title": "", "body": "Text with a NUL \x00 character",
                     "acknowledgements": "I agree.\ni agree."}))
    assert set(page.errors) == {"label", "title", "body", "acknowledgements"}
    assert "control characters" in page.errors["body"]
    assert page.errors["acknowledgements"] == "Each statement must be different."
    assert not page.reviewing and page.label == "new version!", "what was typed is kept"
    run(page.publish())
    assert versions() == [("2026-1", "imMTrax User Agreement")]
    assert "nothing to publish" in page.problem


def test_the_review_says_when_only_the_label_is_new(world):
    page = page_as(world.staff)
    run(page.review({"label": "2026-1b", "title": page.title, "body": page.body,
                     "acknowledgements": page.acknowledgements}))
    assert page.review_changes == ("Only the label differs from version 2026-1: applicants would sign "
                                   "the same words.")


def test_a_label_already_used_is_refused_at_review(world):
    page = page_as(world.staff)
    run(page.review({**NEW_FORM, "label": "2026-1"}))
    assert "already used" in page.errors["label"] and not page.reviewing


def test_a_double_click_on_publish_publishes_once(world):
    page = page_as(world.staff)
    run(page.review(NEW_FORM))
    run(page.publish())
    run(page.publish())
    assert [label for label, _ in versions()] == ["2026-1", "2026-2"]
    assert len(events("publish_agreement")) == 1
    assert "Version 2026-2 is published" in page.message
    assert page.problem == "" and page.errors == {}, "the second click is not reported as a failure"


def test_going_back_to_edit_keeps_the_text_and_publishes_nothing(world):
    page = page_as(world.staff)
    run(page.review(NEW_FORM))
    run(page.edit_again())
    assert not page.reviewing and page.label == "2026-2" and page.body == NEW_FORM["body"]
    run(page.publish())
    assert len(versions()) == 1


@pytest.mark.parametrize("who", ["supervisor", "applicant"])
def test_supervisors_and_applicants_cannot_open_the_page(world, who):
    page = state_as(AgreementVersionsState, getattr(world, who), path=routes.STAFF_AGREEMENTS)
    assert routes.NOT_ALLOWED in str(run(page.load()))
    assert page.rows == [] and page.body == ""
    assert [e for e in events("open_page", AuditOutcome.DENIED)
            if json.loads(e.details).get("path") == routes.STAFF_AGREEMENTS]


def test_a_staff_tab_replayed_by_a_supervisor_publishes_nothing(world):
    page = page_as(world.staff)
    run(page.review(NEW_FORM))
    use_cookie(page, cookie_for(world.supervisor), path=routes.STAFF_AGREEMENTS)
    run(page.publish())
    assert len(versions()) == 1
    assert page.problem and events("agreement_versions.publish", AuditOutcome.DENIED)


def test_a_signed_out_caller_cannot_review_or_publish(world):
    page = state_as(AgreementVersionsState, None, path=routes.STAFF_AGREEMENTS)
    run(page.review(NEW_FORM))
    run(page.publish())
    assert not page.reviewing and "Sign in again" in page.problem
    assert len(versions()) == 1
    assert len(events("agreement_versions.review", AuditOutcome.DENIED)) == 1


def test_versions_are_listed_newest_first_a_page_at_a_time(world):
    page = page_as(world.staff)
    for n in range(2, PAGE_SIZE + 4):
        run(page.review({**NEW_FORM, "label": f"2026-{n}"}))
        run(page.publish())
    assert page.total == PAGE_SIZE + 3 and page.pages == 2
    assert [r["label"] for r in page.rows][:2] == [f"2026-{PAGE_SIZE + 3}", f"2026-{PAGE_SIZE + 2}"]
    assert len(page.rows) == PAGE_SIZE and [r["current"] for r in page.rows].count(True) == 1
    run(page.turn_page(1))
    assert [r["label"] for r in page.rows] == ["2026-3", "2026-2", "2026-1"]
    assert not any(r["current"] for r in page.rows)
    run(page.turn_page(1))
    assert page.page == 2, "the last page is the last"


def test_staff_may_require_everyone_to_sign_the_new_version_again_by_a_day(world):
    from datetime import timedelta

    from immtrax_portal.program_time import end_of_program_day, program_today

    state = page_as(world.staff)
    run(state.review({**NEW_FORM, "everyone_signs_again": "on", "resign_by": "2020-01-01"}))
    assert state.errors == {"resign_by": "Choose a day after today."} and not state.reviewing
    by_day = program_today() + timedelta(days=40)
    run(state.review({**NEW_FORM, "everyone_signs_again": "on", "resign_by": by_day.isoformat()}))
    assert state.reviewing and "must sign this version again by the end of" in state.review_resign
    run(state.publish())
    with session_scope() as session:
        newest = session.exec(select(AgreementVersion).order_by(AgreementVersion.id.desc())).first()
    assert newest.label == "2026-2" and newest.resign_by == end_of_program_day(by_day)


def test_without_the_box_ticked_nobody_has_to_sign_again_now(world):
    state = page_as(world.staff)
    run(state.review({**NEW_FORM, "resign_by": "2020-01-01"}))   # the day is ignored
    assert state.reviewing and state.review_resign.startswith("Nobody has to sign again now")
