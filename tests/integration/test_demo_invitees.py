"""The embedded demo lets you sign in as someone you just invited, and nothing else ever does.

In the demo (demo sign-in, development mode) the demo provider's page lists everyone with a pending
invitation under a "Demo only" heading and signs them in with their invited, verified email. With a
real issuer (production, or a test installation in development mode) nobody is listed, and a
forged invitee subject posted to the provider is refused.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from immtrax_portal.auth import demo_invitees
from immtrax_portal.auth.demo_provider import build_demo_provider_app
from immtrax_portal.demo_identities import invitee_subject
from immtrax_portal.services.requests import submit_request
from immtrax_portal.settings import get_settings
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access

REAL_ISSUER = {"IMMTRAX_OIDC_ISSUER": "https://mt.okta.example/oauth2/default",
               "IMMTRAX_OIDC_CLIENT_SECRET": "a-real-secret-of-the-test-installation",
               "IMMTRAX_ENVIRONMENT": "development"}


@pytest.fixture
def invited(tmp_path, monkeypatch):
    """Sam (Alpha Clinic) has just invited Nora Newhire; the demo sign-in is in force."""
    monkeypatch.delenv("IMMTRAX_OIDC_ISSUER", raising=False)
    monkeypatch.delenv("IMMTRAX_ENVIRONMENT", raising=False)
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        world = build_world()
        request = submit_request(world.sam, new_access(world.alpha, email="nora.newhire@alpha.example"),
                                 "invitee-test-key-000000000")
        yield request
    get_settings.cache_clear()


def outside_the_demo(monkeypatch, **extra: str) -> None:
    for name, value in {**REAL_ISSUER, **extra}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def authorize_query() -> str:
    return ("/oauth2/authorize?client_id=immtrax-portal-demo&response_type=code&scope=openid+email"
            "&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fauth%2Fcallback&state=s1&nonce=n1")


def test_the_demo_lists_a_person_with_a_pending_invitation(invited):
    listed = demo_invitees.pending_invitees()
    assert [(i.email, i.first_name, i.request_number) for i in listed] == [
        ("nora.newhire@alpha.example", "Nora", invited.number)]
    assert listed[0].subject == invitee_subject(invited.subject_person_id)


def test_the_demo_provider_offers_them_under_a_demo_label_and_signs_them_in_verified(invited):
    client = build_demo_provider_app().test_client()
    page = client.get(authorize_query()).get_data(as_text=True)
    assert "Demo only: people with a pending invitation" in page
    assert 'data-testid="invitee-nora.newhire@alpha.example"' in page

    subject = invitee_subject(invited.subject_person_id)
    answer = client.post(authorize_query(), data={"sub": subject})
    assert answer.status_code == 302
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = client.post("/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": "immtrax-portal-demo",
        "client_secret": "x", "redirect_uri": "http://localhost:3000/auth/callback"}).get_json()
    claims = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert claims["email"] == "nora.newhire@alpha.example" and claims["email_verified"] is True


def test_someone_without_a_pending_invitation_cannot_be_signed_in_as_an_invitee(invited):
    client = build_demo_provider_app().test_client()
    answer = client.post(authorize_query(), data={"sub": invitee_subject(invited.subject_person_id + 99)})
    assert answer.status_code == 403


PRODUCTION = {"IMMTRAX_ENVIRONMENT": "production", "IMMTRAX_SMTP_HOST": "smtp.example",
              "IMMTRAX_PUBLIC_URL": "https://access.example"}


@pytest.mark.parametrize("extra", [{}, PRODUCTION],
                         ids=["test installation with a real issuer", "production"])
def test_outside_the_demo_nobody_is_listed_and_an_invitee_subject_is_refused(invited, monkeypatch, extra):
    outside_the_demo(monkeypatch, **extra)
    assert demo_invitees.pending_invitees() == []
    subject = invitee_subject(invited.subject_person_id)
    assert demo_invitees.pending_invitee(subject) is None

    client = build_demo_provider_app().test_client()
    page = client.get(authorize_query()).get_data(as_text=True)
    assert "pending invitation" not in page and "nora.newhire" not in page
    assert client.post(authorize_query(), data={"sub": subject}).status_code == 403


def test_the_invitee_list_is_bounded(invited):
    assert len(demo_invitees.pending_invitees(limit=0)) == 0
    assert re.fullmatch(r"demo-invitee-\d+", invitee_subject(7))
