"""``POST /_upload`` runs only for the session that owns the tab it names: a replayed tab token
with no cookie, or with someone else's cookie, is refused (403), runs nothing and is audited;
the owner's own upload works."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from immtrax_portal.ui import routes
from immtrax_portal.ui.state.org_import import OrgImportState
from immtrax_portal.ui.upload_guard import REFUSED
from tests.e2e.security import database
from tests.e2e.security.forged_client import ForgedTab, handler_name

pytestmark = pytest.mark.e2e

CSV = b"code,name,city\nUPL-001,Upload Probe Clinic,Helena\n"


def staff_import_tab_token(portal: str, cookie: str) -> str:
    async def open_tab():
        async with ForgedTab(portal, page=routes.STAFF_ORGANIZATION_IMPORT, cookie=cookie) as tab:
            return tab.token
    return asyncio.run(open_tab())


def upload(portal: str, token: str, cookie: str) -> httpx.Response:
    headers = {"reflex-client-token": token,
               "reflex-event-handler": handler_name(OrgImportState, "preview_file")}
    if cookie:
        headers["cookie"] = cookie
    return httpx.post(f"{portal}/_upload", headers=headers, timeout=30,
                      files={"files": ("orgs.csv", CSV, "text/csv")})


@pytest.mark.parametrize("presented", ["no_cookie", "supervisor", "applicant"])
def test_an_upload_with_a_tab_token_but_not_its_session_is_refused_and_audited(presented, portal, world):
    token = staff_import_tab_token(portal, world.cookies["staff"])
    before = database.snapshot(world.db)
    response = upload(portal, token, "" if presented == "no_cookie" else world.cookies[presented])
    after = database.snapshot(world.db)
    assert response.status_code == 403
    assert REFUSED in response.text and "Upload Probe Clinic" not in response.text
    assert before.changed_tables(after) == {}
    denied = [e for e in database.audit_events_after(world.db, before.last_audit_id)
              if e["outcome"] == "denied"]
    assert [e["action"] for e in denied] == ["upload_refused"]


def test_the_tabs_own_session_uploads_and_sees_the_preview(portal, world):
    token = staff_import_tab_token(portal, world.cookies["staff"])
    response = upload(portal, token, world.cookies["staff"])
    assert response.status_code == 200
    assert "Upload Probe Clinic" in response.text


PEOPLE_CSV = b"Upload,Probeperson,upload.probe@bozemanhealth.example,406-555-0100,Nurse,2099-01-05,2\n"


def batch_upload(portal: str, token: str, cookie: str) -> httpx.Response:
    from immtrax_portal.ui.state.batch import BatchState

    headers = {"reflex-client-token": token, "reflex-event-handler": handler_name(BatchState, "upload_file")}
    if cookie:
        headers["cookie"] = cookie
    return httpx.post(f"{portal}/_upload", headers=headers, timeout=30,
                      files={"files": ("people.csv", PEOPLE_CSV, "text/csv")})


def supervisor_batch_tab_token(portal: str, cookie: str) -> str:
    async def open_tab():
        async with ForgedTab(portal, page=routes.BATCH, cookie=cookie) as tab:
            return tab.token
    return asyncio.run(open_tab())


def test_the_several_people_upload_goes_through_the_same_guard(portal, world):
    token = supervisor_batch_tab_token(portal, world.cookies["supervisor_self"])   # Marcus, one organization
    refused = batch_upload(portal, token, world.cookies["applicant"])
    assert refused.status_code == 403 and "Probeperson" not in refused.text
    accepted = batch_upload(portal, token, world.cookies["supervisor_self"])
    assert accepted.status_code == 200 and "Probeperson" in accepted.text
