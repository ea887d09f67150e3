"""PKCE against a provider that enforces it: the certified npm ``oidc-provider`` on Node.

oidc-provider-mock never checks the code verifier, so a portal that sent a wrong one (or none)
would still pass the other tests. Here the provider requires S256 PKCE: the portal's flow must
complete, and a token request with the wrong verifier must be refused by the provider itself.
This provider also keeps email and names out of the ID token (they come from userinfo), which
exercises the portal's userinfo path.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.auth import oidc
from immtrax_portal.auth.oidc import SignInError
from immtrax_portal.auth.sessions import person_from_cookie_header
from immtrax_portal.domain.models import AuditEvent, Person, SignInTransaction, WebSession
from immtrax_portal.http_app import build_http_app
from tests.support.oidc import (
    configure_portal,
    location,
    reset_portal_configuration,
    run_pkce_provider,
    serve_asgi_in_thread,
    walk_sign_in,
)

CLIENT_ID = "immtrax-portal-pkce-test"
CLIENT_SECRET = "pkce-test-secret-with-enough-length-for-hs256"  # noqa: S105
ACCOUNT = {"sub": "okta-pkce-person", "email": "Pia.Kce@Clinic.example", "email_verified": True,
           "given_name": "Pia", "family_name": "Kce", "name": "Pia Kce"}


@pytest.fixture(scope="module")
def portal_url():
    with serve_asgi_in_thread(build_http_app()) as url:
        yield url


@pytest.fixture(scope="module")
def pkce_issuer(portal_url):
    with run_pkce_provider(redirect_uri=f"{portal_url}/auth/callback",
                           post_logout_redirect_uri=f"{portal_url}/",
                           client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                           account=ACCOUNT) as issuer:
        yield issuer


@pytest.fixture
def engine(monkeypatch, tmp_path, portal_url, pkce_issuer):
    engine = configure_portal(monkeypatch, tmp_path, public_url=portal_url, issuer=pkce_issuer,
                              client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    yield engine
    reset_portal_configuration()


@pytest.fixture
def client():
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


def code_from_provider(client: httpx.Client, authorization_url: str, redirect_uri: str) -> str:
    """Follow the provider (it signs the account in and consents by itself) up to the redirect
    back to the portal, and take the authorization code from it without calling the portal."""
    response = client.get(authorization_url)
    for _ in range(10):
        assert response.is_redirect, response.text
        target = str(response.next_request.url) if response.next_request else location(response)
        if target.startswith(redirect_uri):
            query = parse_qs(urlsplit(target).query)
            assert "error" not in query, query
            return query["code"][0]
        response = client.get(target)
    raise AssertionError("the provider never redirected back")


def test_sign_in_completes_with_the_right_verifier(engine, portal_url, pkce_issuer, client):
    response = walk_sign_in(client, portal_url, return_to="/my-requests")

    assert response.status_code == 303, response.text
    assert location(response) == "/my-requests"
    raw = response.cookies["immtrax_session"]
    person = person_from_cookie_header(f"immtrax_session={raw}")
    assert (person.email, person.first_name, person.okta_subject) == (
        "pia.kce@clinic.example", "Pia", "okta-pkce-person")
    with Session(engine) as db:
        (web_session,) = db.exec(select(WebSession))
    payload = web_session.id_token.split(".")[1]
    id_token_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert "email" not in id_token_claims  # so the email above came from userinfo

    signed_out = client.post(f"{portal_url}/auth/sign-out")
    assert location(signed_out).startswith(f"{pkce_issuer}/session/end?")


def test_the_provider_refuses_a_wrong_verifier_and_accepts_the_right_one(engine, client):
    config = oidc.client_config_from_settings()
    metadata = oidc.provider_metadata(config.issuer)
    request = oidc.new_authorization_request(config, metadata)
    code = code_from_provider(client, request.url, config.redirect_uri)

    wrong = request.code_verifier[:-4] + ("AAAA" if not request.code_verifier.endswith("AAAA")
                                          else "BBBB")
    with pytest.raises(SignInError) as refused:
        oidc.exchange_code_for_tokens(config, metadata, code=code, code_verifier=wrong)
    assert refused.value.reason == "token_exchange_failed"
    assert "invalid_grant" in refused.value.detail

    # A fresh attempt with the verifier that matches its challenge goes through.
    request = oidc.new_authorization_request(config, metadata)
    code = code_from_provider(client, request.url, config.redirect_uri)
    tokens = oidc.exchange_code_for_tokens(config, metadata, code=code,
                                           code_verifier=request.code_verifier)
    claims = oidc.validated_id_token_claims(config, metadata, id_token=tokens["id_token"],
                                            nonce=request.nonce,
                                            access_token=tokens["access_token"])
    assert claims["sub"] == "okta-pkce-person"


def test_the_portal_shows_a_plain_page_when_the_provider_refuses_the_verifier(
    engine, portal_url, client
):
    to_callback = walk_sign_in(client, portal_url, stop_before_callback=True)
    with Session(engine) as db:  # as if the verifier had been lost or swapped
        db.exec(sa.update(SignInTransaction).values(code_verifier="x" * 86))
        db.commit()

    response = client.get(location(to_callback))

    assert response.status_code == 400
    assert "Okta did not accept our request" in response.text
    with Session(engine) as db:
        (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "sign_in_denied"))
        assert event.reason == "token_exchange_failed"
        assert db.exec(select(Person)).first() is None


def test_the_provider_refuses_an_authorization_request_without_pkce(engine, client):
    config = oidc.client_config_from_settings()
    metadata = oidc.provider_metadata(config.issuer)
    query = urlencode({"client_id": CLIENT_ID, "response_type": "code", "scope": "openid email",
                       "redirect_uri": config.redirect_uri, "state": "s" * 43,
                       "nonce": "n" * 43})

    response = client.get(f"{metadata.authorization_endpoint}?{query}")

    assert response.is_redirect
    error = parse_qs(urlsplit(location(response)).query)
    assert error["error"] == ["invalid_request"]
    assert "requires PKCE" in error["error_description"][0]
