"""Sign-in with OpenID Connect, end to end over real HTTP on loopback.

The portal's auth routes run under uvicorn; the providers are real servers: oidc-provider-mock
(the package the embedded demo uses), the demo provider with its identity picker, and a small
scripted provider that issues the bad ID tokens (wrong nonce, expired, other audience, other key)
that a well-behaved provider never would. httpx plays the browser, redirect by redirect.
"""

from __future__ import annotations

import hashlib
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import sqlalchemy as sa
from oidc_provider_mock import User
from sqlmodel import Session, select

from immtrax_portal.auth.routes import safe_return_to
from immtrax_portal.auth.sessions import person_from_cookie_header, session_cookie_name
from immtrax_portal.domain.models import (
    AuditEvent,
    Person,
    SignInTransaction,
    WebSession,
    utcnow,
)
from immtrax_portal.http_app import build_http_app
from tests.support.databases import dump_database
from tests.support.oidc import (
    configure_portal,
    location,
    reset_portal_configuration,
    run_demo_provider,
    run_mock_provider,
    serve_asgi_in_thread,
    walk_sign_in,
)
from tests.support.scripted_provider import DELETE, ScriptedProvider

CLIENT_ID = "immtrax-portal-test"
CLIENT_SECRET = "test-secret"  # noqa: S105
PHONE = "(406) 444-5580"


def _user(sub: str, email: str, first: str, last: str, *, verified: bool = True) -> User:
    return User(sub=sub, claims={"email": email, "email_verified": verified, "given_name": first,
                                 "family_name": last, "name": f"{first} {last}"})


MOCK_USERS = [
    _user("okta-ann", "Ann.Example@Clinic.example", "Ann", "Example"),
    _user("okta-newbie", "new.person@clinic.example", "Nora", "Newcomb"),
    _user("okta-unverified", "unverified@clinic.example", "Una", "Verified", verified=False),
    _user("okta-impostor", "ann.example@clinic.example", "Ann", "Impostor"),
]


@pytest.fixture(scope="module")
def portal_url():
    with serve_asgi_in_thread(build_http_app()) as url:
        yield url


@pytest.fixture(scope="module")
def mock_issuer():
    with run_mock_provider(MOCK_USERS, require_nonce=True) as issuer:
        yield issuer


@pytest.fixture(scope="module")
def scripted():
    provider = ScriptedProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        account={"sub": "okta-scripted", "email": "sam.scripted@clinic.example",
                 "email_verified": True, "given_name": "Sam", "family_name": "Scripted"})
    with serve_asgi_in_thread(provider.app()) as url:
        provider.issuer = url
        yield provider


@pytest.fixture
def engine(monkeypatch, tmp_path, portal_url, mock_issuer):
    engine = configure_portal(monkeypatch, tmp_path, public_url=portal_url, issuer=mock_issuer,
                              client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    yield engine
    reset_portal_configuration()


@pytest.fixture
def scripted_engine(monkeypatch, tmp_path, portal_url, scripted):
    scripted.reset()
    engine = configure_portal(monkeypatch, tmp_path, public_url=portal_url,
                              issuer=scripted.issuer, client_id=CLIENT_ID,
                              client_secret=CLIENT_SECRET)
    yield engine
    reset_portal_configuration()


@pytest.fixture
def client():
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


# --- helpers -------------------------------------------------------------------------------


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def cookie_from(response: httpx.Response, name: str) -> str:
    (header,) = set_cookie_headers(response, name)
    return header.split(";", 1)[0].split("=", 1)[1]


def audit_events(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)))


def web_sessions(engine) -> list[WebSession]:
    with Session(engine) as db:
        return list(db.exec(select(WebSession)))


def person_by_email(engine, email: str) -> Person | None:
    with Session(engine) as db:
        return db.exec(select(Person).where(Person.email == email)).first()


def add_person(engine, **fields) -> Person:
    with Session(engine, expire_on_commit=False) as db:
        person = Person(**fields)
        db.add(person)
        db.commit()
        return person


def sign_in_as(client, portal_url, sub: str, return_to: str = "/") -> str:
    """Sign in through the mock provider; returns the new session cookie value."""
    response = walk_sign_in(client, portal_url, return_to=return_to, choose={"sub": sub})
    assert response.status_code == 303, response.text
    return cookie_from(response, "immtrax_session")


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def assert_plain_problem_page(response: httpx.Response, phrase: str, *, status: int = 400) -> None:
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/html")
    assert phrase in response.text
    assert PHONE in response.text
    assert 'href="/auth/sign-in' in response.text
    for leak in ("Traceback", "eyJ", "SignInError", "Exception"):
        assert leak not in response.text


def assert_denied(engine, reason: str) -> None:
    events = audit_events(engine, "sign_in_denied")
    assert [event.reason for event in events] == [reason]
    assert events[0].outcome == "denied"
    assert web_sessions(engine) == []
    assert audit_events(engine, "sign_in") == []


# --- the happy path ------------------------------------------------------------------------


def test_sign_in_links_the_person_and_sets_a_hashed_http_only_session_cookie(
    engine, portal_url, client
):
    add_person(engine, email="ann.example@clinic.example", first_name="Ann", last_name="Example")

    start = client.get(f"{portal_url}/auth/sign-in", params={"return_to": "/requests?tab=mine"})
    assert start.status_code == 303
    assert start.headers["cache-control"] == "no-store"
    authorize = urlsplit(location(start))
    query = parse_qs(authorize.query)
    assert query["redirect_uri"] == [f"{portal_url}/auth/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43
    signin_header = set_cookie_headers(start, "immtrax_signin")[0].lower()
    assert "httponly" in signin_header and "samesite=lax" in signin_header
    assert "max-age=600" in signin_header
    signin_raw = cookie_from(start, "immtrax_signin")

    page = client.get(location(start))
    done = client.post(str(page.request.url), data={"sub": "okta-ann"})
    response = client.get(location(done))

    assert response.status_code == 303
    assert location(response) == "/requests?tab=mine"
    assert response.headers["cache-control"] == "no-store"
    (session_header,) = set_cookie_headers(response, "immtrax_session")
    attributes = [part.strip().lower() for part in session_header.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
    assert "secure" not in attributes  # plain http here; see the https test below
    assert not any(a.startswith(("max-age", "expires", "domain")) for a in attributes)
    assert any("max-age=0" in h.lower() for h in set_cookie_headers(response, "immtrax_signin"))
    raw = cookie_from(response, "immtrax_session")
    assert len(raw) >= 43  # 256 bits, base64url

    person = person_by_email(engine, "ann.example@clinic.example")
    assert person.okta_subject == "okta-ann"
    (web_session,) = web_sessions(engine)
    assert web_session.id_hash == sha256(raw)
    assert web_session.person_id == person.id
    assert web_session.revoked_at is None
    assert web_session.ip_address == "127.0.0.1"
    assert web_session.expires_at - web_session.created_at == timedelta(hours=12)
    with Session(engine) as db:
        (transaction,) = db.exec(select(SignInTransaction))
        assert transaction.id_hash == sha256(signin_raw) and transaction.used_at is not None

    # Neither cookie value is stored anywhere in plain: dump the whole database and look.
    dump = dump_database(engine)
    assert raw not in dump and signin_raw not in dump
    assert sha256(raw) in dump

    signed_in = person_from_cookie_header(f"other=1; immtrax_session={raw}")
    assert signed_in is not None
    assert (signed_in.id, signed_in.email, signed_in.full_name) == (
        person.id, "ann.example@clinic.example", "Ann Example")
    (event,) = audit_events(engine, "sign_in")
    assert event.actor_id == person.id and event.outcome == "success"
    assert '"person": "linked"' in event.details

    # Already signed in: "Sign in" goes straight back without a provider round trip.
    again = client.get(f"{portal_url}/auth/sign-in", params={"return_to": "/dashboard"})
    assert (again.status_code, location(again)) == (303, "/dashboard")


def test_first_sign_in_without_a_person_creates_one_with_no_role(engine, portal_url, client):
    sign_in_as(client, portal_url, "okta-newbie")

    person = person_by_email(engine, "new.person@clinic.example")
    assert (person.first_name, person.last_name, person.okta_subject) == (
        "Nora", "Newcomb", "okta-newbie")
    assert not person.is_staff and not person.is_admin
    (event,) = audit_events(engine, "sign_in")
    assert event.actor_role == "applicant" and '"person": "created"' in event.details


def test_the_demo_provider_offers_each_demo_identity_and_signs_in_as_the_one_picked(
    monkeypatch, tmp_path, portal_url, client
):
    from immtrax_portal.demo_identities import DEMO_IDENTITIES

    with run_demo_provider() as issuer:
        port = urlsplit(issuer).port
        # No issuer configured: the portal must find the demo provider on its own.
        engine = configure_portal(monkeypatch, tmp_path, public_url=portal_url, issuer=None,
                                  demo_oidc_port=port)
        try:
            start = client.get(f"{portal_url}/auth/sign-in")
            assert location(start).startswith(f"http://127.0.0.1:{port}/oauth2/authorize?")
            page = client.get(location(start))
            assert page.status_code == 200
            for identity in DEMO_IDENTITIES:
                assert f'name="sub" value="{identity.subject}"' in page.text
                assert identity.email in page.text
                assert identity.description.replace("'", "&#39;") in page.text
            assert "cdn.jsdelivr.net" not in page.text  # works offline
            done = client.post(str(page.request.url), data={"sub": "demo-staff"})
            response = client.get(location(done))
            assert (response.status_code, location(response)) == (303, "/")
            person = person_by_email(engine, "pat.oconnor@mt.example")
            assert (person.okta_subject, person.last_name) == ("demo-staff", "O'Connor")
        finally:
            reset_portal_configuration()


# --- what the browser or the provider sends back ------------------------------------------


def test_a_tampered_state_is_refused_and_the_attempt_is_spent(engine, portal_url, client):
    to_callback = walk_sign_in(client, portal_url, choose={"sub": "okta-ann"},
                               stop_before_callback=True)
    genuine = location(to_callback)

    response = client.get(with_query(genuine, state="forged-state-value"))

    assert_plain_problem_page(response, "did not match the sign-in you started")
    assert any("max-age=0" in h.lower() for h in set_cookie_headers(response, "immtrax_signin"))
    assert_denied(engine, "state_mismatch")
    # The attempt was one-time: even the genuine answer is refused now.
    client.cookies.clear()
    assert client.get(genuine).status_code == 400


def test_two_callbacks_racing_with_one_attempt_sign_in_once(engine, portal_url, client):
    to_callback = walk_sign_in(client, portal_url, choose={"sub": "okta-ann"},
                               stop_before_callback=True)
    url, cookie = location(to_callback), f"immtrax_signin={client.cookies['immtrax_signin']}"

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(
            lambda _: httpx.get(url, headers={"cookie": cookie}).status_code, range(4)))

    assert statuses == [303, 400, 400, 400]
    assert len(web_sessions(engine)) == 1
    assert {e.reason for e in audit_events(engine, "sign_in_denied")} == {"transaction_used"}


def test_a_provider_error_is_shown_in_plain_words(engine, portal_url, client):
    response = walk_sign_in(client, portal_url, choose={"action": "deny"})

    assert "error=access_denied" in str(response.request.url)
    assert_plain_problem_page(response, "Sign-in was not completed")
    assert_denied(engine, "provider_error")


def test_a_callback_without_the_sign_in_cookie_is_refused(engine, portal_url, client):
    to_callback = walk_sign_in(client, portal_url, choose={"sub": "okta-ann"},
                               stop_before_callback=True)
    client.cookies.delete("immtrax_signin")

    response = client.get(location(to_callback))

    assert_plain_problem_page(response, "did not start from this browser")
    assert_denied(engine, "missing_transaction")


def test_an_expired_sign_in_attempt_is_refused(engine, portal_url, client):
    to_callback = walk_sign_in(client, portal_url, choose={"sub": "okta-ann"},
                               stop_before_callback=True)
    with Session(engine) as db:
        db.exec(sa.update(SignInTransaction).values(created_at=utcnow() - timedelta(minutes=11)))
        db.commit()

    response = client.get(location(to_callback))

    assert_plain_problem_page(response, "within 10 minutes")
    assert_denied(engine, "transaction_expired")


def test_no_cookie_from_before_sign_in_is_valid_after_it(engine, portal_url, client):
    planted = "attacker-chosen-session-id-aaaaaaaaaaaaaaaaaaaaaaaa"
    client.cookies.set("immtrax_session", planted, domain="127.0.0.1", path="/")

    to_callback = walk_sign_in(client, portal_url, choose={"sub": "okta-ann"},
                               stop_before_callback=True)
    first_callback = location(to_callback)
    signin_raw = client.cookies.get("immtrax_signin")
    first = client.get(first_callback)
    first_raw = cookie_from(first, "immtrax_session")
    assert first_raw != planted
    assert person_from_cookie_header(f"immtrax_session={planted}") is None

    # A sign-in finishing in a browser that still holds a live session replaces it: new id,
    # old one revoked. (The old cookie is set aside while starting, since "Sign in" with a live
    # session just goes back to where you were.)
    client.cookies.delete("immtrax_session")
    to_callback = walk_sign_in(client, portal_url, choose={"sub": "okta-ann"},
                               stop_before_callback=True)
    client.cookies.set("immtrax_session", first_raw, domain="127.0.0.1", path="/")
    second_raw = cookie_from(client.get(location(to_callback)), "immtrax_session")
    assert second_raw != first_raw
    assert person_from_cookie_header(f"immtrax_session={first_raw}") is None
    assert person_from_cookie_header(f"immtrax_session={second_raw}").okta_subject == "okta-ann"
    revoked = {s.id_hash: s.revoked_at for s in web_sessions(engine)}
    assert revoked[sha256(first_raw)] is not None and revoked[sha256(second_raw)] is None

    # The pre-sign-in transaction cookie cannot be replayed either.
    replay = httpx.get(first_callback, headers={"cookie": f"immtrax_signin={signin_raw}"})
    assert_plain_problem_page(replay, "already used")


def test_sign_out_revokes_the_session_and_a_replayed_cookie_is_signed_out(
    engine, portal_url, mock_issuer, client
):
    raw = sign_in_as(client, portal_url, "okta-ann")

    confirm = client.get(f"{portal_url}/auth/sign-out")  # GET only asks
    assert confirm.status_code == 200 and "Ann Example" in confirm.text
    assert 'method="post" action="/auth/sign-out"' in confirm.text
    assert person_from_cookie_header(f"immtrax_session={raw}") is not None

    response = client.post(f"{portal_url}/auth/sign-out")

    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    target = urlsplit(location(response))
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{mock_issuer}/oauth2/end_session"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == [f"{portal_url}/"]
    assert query["id_token_hint"][0].count(".") == 2
    assert any("max-age=0" in h.lower() for h in set_cookie_headers(response, "immtrax_session"))
    (web_session,) = web_sessions(engine)
    assert web_session.revoked_at is not None
    (event,) = audit_events(engine, "sign_out")
    assert event.actor_id == person_by_email(engine, "ann.example@clinic.example").id

    # The provider's sign-out page leads back to the portal's home page.
    provider_page = client.get(location(response))
    action = re.search(r'<form method="post" action="([^"]+)"', provider_page.text).group(1)
    back = client.post(f"{mock_issuer}{action}", data={"redirect_uri": f"{portal_url}/"})
    assert location(back) == f"{portal_url}/"

    # A copy of the old cookie is worthless.
    assert person_from_cookie_header(f"immtrax_session={raw}") is None
    replayed = httpx.get(f"{portal_url}/auth/sign-out", headers={"cookie": f"immtrax_session={raw}"})
    assert replayed.status_code == 200 and "You are signed out" in replayed.text


def test_a_cross_site_sign_out_post_only_leads_to_the_confirmation(engine, portal_url, client):
    raw = sign_in_as(client, portal_url, "okta-ann")

    response = client.post(f"{portal_url}/auth/sign-out",
                            headers={"origin": "https://evil.example"})

    assert (response.status_code, location(response)) == (303, "/auth/sign-out")
    assert person_from_cookie_header(f"immtrax_session={raw}") is not None


# --- session limits ------------------------------------------------------------------------


def set_session_times(engine, **values) -> None:
    with Session(engine) as db:
        db.exec(sa.update(WebSession).values(**values))
        db.commit()


def test_an_idle_session_ends_and_activity_is_recorded_at_most_once_a_minute(
    engine, portal_url, client
):
    raw = sign_in_as(client, portal_url, "okta-ann")
    header = f"immtrax_session={raw}"

    five_minutes_ago = utcnow() - timedelta(minutes=5)
    set_session_times(engine, last_seen_at=five_minutes_ago)
    assert person_from_cookie_header(header, touch=False) is not None
    assert web_sessions(engine)[0].last_seen_at == five_minutes_ago  # touch=False: no write
    assert person_from_cookie_header(header) is not None
    touched = web_sessions(engine)[0].last_seen_at
    assert touched > five_minutes_ago
    assert person_from_cookie_header(header) is not None
    assert web_sessions(engine)[0].last_seen_at == touched  # within a minute: no write

    set_session_times(engine, last_seen_at=utcnow() - timedelta(minutes=31))
    assert person_from_cookie_header(header) is None


def test_a_session_ends_at_its_absolute_lifetime_however_active(engine, portal_url, client):
    raw = sign_in_as(client, portal_url, "okta-ann")
    header = f"immtrax_session={raw}"

    set_session_times(engine, created_at=utcnow() - timedelta(hours=12, minutes=1),
                      last_seen_at=utcnow())
    assert person_from_cookie_header(header) is None

    set_session_times(engine, created_at=utcnow(), expires_at=utcnow() - timedelta(seconds=1))
    assert person_from_cookie_header(header) is None


# --- who may sign in -----------------------------------------------------------------------


def test_an_unverified_email_is_refused(engine, portal_url, client):
    response = walk_sign_in(client, portal_url, choose={"sub": "okta-unverified"})

    assert_plain_problem_page(response, "email address is not verified")
    assert person_by_email(engine, "unverified@clinic.example") is None
    assert_denied(engine, "email_not_verified")


def test_an_email_linked_to_another_okta_account_is_refused(engine, portal_url, client):
    add_person(engine, email="ann.example@clinic.example", first_name="Ann", last_name="Example",
               okta_subject="okta-ann")

    response = walk_sign_in(client, portal_url, choose={"sub": "okta-impostor"})

    assert_plain_problem_page(response, "linked to a different Okta account")
    assert person_by_email(engine, "ann.example@clinic.example").okta_subject == "okta-ann"
    assert_denied(engine, "subject_conflict")


# --- open redirects ------------------------------------------------------------------------


@pytest.mark.parametrize("candidate", [
    "//evil.example/path", "https://evil.example/", "/\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "evil.example", "", None, "/auth/sign-out", "/" + "a" * 600,
])
def test_return_to_refuses_anything_but_a_same_site_path(candidate):
    assert safe_return_to(candidate) == "/"


def test_return_to_keeps_a_same_site_path_with_query_and_fragment():
    path = "/requests/IMR-2026-000042?tab=timeline#note-3"
    assert safe_return_to(path) == path


def test_an_open_redirect_through_sign_in_is_refused(engine, portal_url, client):
    response = walk_sign_in(client, portal_url, return_to="//evil.example/steal",
                            choose={"sub": "okta-ann"})

    assert (response.status_code, location(response)) == (303, "/")


# --- configuration ---------------------------------------------------------------------------


def test_under_https_cookies_are_secure_and_host_prefixed(
    monkeypatch, tmp_path, portal_url, mock_issuer, client
):
    configure_portal(monkeypatch, tmp_path, public_url="https://portal.example", issuer=mock_issuer)
    try:
        assert session_cookie_name() == "__Host-immtrax_session"
        start = client.get(f"{portal_url}/auth/sign-in")
        (header,) = set_cookie_headers(start, "__Host-immtrax_signin")
        attributes = [part.strip().lower() for part in header.split(";")]
        assert {"secure", "httponly", "path=/", "samesite=lax"} <= set(attributes)
        query = parse_qs(urlsplit(location(start)).query)
        assert query["redirect_uri"] == ["https://portal.example/auth/callback"]
    finally:
        reset_portal_configuration()


def test_an_unreachable_provider_gets_a_plain_page(monkeypatch, tmp_path, portal_url, client):
    configure_portal(monkeypatch, tmp_path, public_url=portal_url, issuer="http://127.0.0.1:9")
    try:
        response = client.get(f"{portal_url}/auth/sign-in")
        assert_plain_problem_page(response, "not answering", status=503)
    finally:
        reset_portal_configuration()


# --- bad ID tokens, from a provider that issues them -----------------------------------------


def test_the_scripted_provider_signs_in_when_its_token_is_good(
    scripted_engine, portal_url, client
):
    response = walk_sign_in(client, portal_url)
    assert response.status_code == 303, response.text
    assert person_by_email(scripted_engine, "sam.scripted@clinic.example") is not None


IMPOSTOR_KEY = "signed with a key the provider never published (same kid)"


@pytest.mark.parametrize(("change", "reason", "phrase"), [
    (lambda now: {"nonce": "a-nonce-from-another-attempt"}, "nonce_mismatch",
     "different sign-in attempt"),
    (lambda now: {"nonce": DELETE}, "nonce_mismatch", "different sign-in attempt"),
    (lambda now: {"exp": now - 120, "iat": now - 400}, "token_expired", "too old"),
    (lambda now: {"aud": "some-other-application"}, "wrong_audience",
     "meant for a different application"),
    (lambda now: {"aud": ["some-other-application", CLIENT_ID]}, "wrong_audience",
     "meant for a different application"),
    (lambda now: {"iss": "https://evil.example"}, "wrong_issuer",
     "did not come from the sign-in service"),
    (lambda now: {"iat": now + 3600}, "token_time_invalid", "not valid yet"),
    (IMPOSTOR_KEY, "bad_signature", "not signed by the sign-in service"),
], ids=["wrong-nonce", "no-nonce", "expired", "wrong-audience", "extra-audience-without-azp",
        "wrong-issuer", "issued-in-future", "signed-by-another-key"])
def test_a_bad_id_token_is_refused(scripted_engine, scripted, portal_url, client,
                                   change, reason, phrase):
    if change == IMPOSTOR_KEY:
        scripted.sign_with_impostor_key = True
    else:
        scripted.claim_changes = change(int(time.time()))

    response = walk_sign_in(client, portal_url)

    assert_plain_problem_page(response, phrase)
    assert_denied(scripted_engine, reason)
    assert person_by_email(scripted_engine, "sam.scripted@clinic.example") is None


# --- Rate limits cannot be turned against the people behind one address ----------------------


def test_a_flood_of_junk_callbacks_does_not_use_up_the_sign_ins_of_the_address(engine, client, portal_url):
    """105 callbacks with a made-up code and state (no sign-in started) from the address a clinic
    shares: each refused, none counted against real sign-ins, and Ann still signs in."""
    with httpx.Client(follow_redirects=False, timeout=10) as attacker:
        answers = {attacker.get(f"{portal_url}/auth/callback?code=x&state=y").status_code
                   for _ in range(105)}
    assert answers == {400}
    assert sign_in_as(client, portal_url, "okta-ann")
    with Session(engine) as db:
        # Counters are kept per fixed window: a flood that crosses a window's end is in two rows.
        counted = db.exec(sa.text("SELECT kind, SUM(hits) FROM rate_limit_counter GROUP BY kind")).all()
    assert dict(counted) == {"sign_in_unmatched": 105, "sign_in": 1}


def test_junk_callbacks_past_their_own_budget_are_refused_and_real_sign_ins_still_work(
        engine, client, portal_url, monkeypatch):
    from immtrax_portal.settings import get_settings

    monkeypatch.setenv("IMMTRAX_RATE_LIMIT_SIGN_IN_UNMATCHED_PER_IP", "3")
    get_settings.cache_clear()
    with httpx.Client(follow_redirects=False, timeout=10) as attacker:
        answers = [attacker.get(f"{portal_url}/auth/callback?code=x&state=y").status_code
                   for _ in range(5)]
    assert answers == [400, 400, 400, 429, 429]
    assert sign_in_as(client, portal_url, "okta-ann")


# --- No usable sign-in attempt at rest --------------------------------------------------------


def test_a_used_sign_in_attempt_keeps_neither_its_return_path_nor_its_secrets(engine, client, portal_url):
    return_to = "/agreement/return-path-invitation-token-0000000000000000"
    sign_in_as(client, portal_url, "okta-ann", return_to=return_to)
    with Session(engine) as db:
        rows = db.exec(select(SignInTransaction)).all()
    assert len(rows) == 1 and rows[0].used_at is not None
    assert (rows[0].return_to, rows[0].nonce, rows[0].code_verifier) == ("/", "", "")
    assert "invitation-token" not in str(rows[0].model_dump())


def test_sign_in_attempts_are_deleted_within_minutes(engine, client, portal_url):
    """An abandoned attempt (its return path an invitation link) is gone once its ten minutes are
    over and the next sign-in starts."""
    walk_sign_in(client, portal_url, return_to="/agreement/abandoned-attempt-token-000000000000000",
                 choose={"sub": "okta-ann"}, stop_before_callback=True)
    with Session(engine) as db:
        db.exec(sa.update(SignInTransaction).values(created_at=utcnow() - timedelta(minutes=11)))
        db.commit()
    with httpx.Client(follow_redirects=False, timeout=10) as other:
        other.get(f"{portal_url}/auth/sign-in")
    with Session(engine) as db:
        paths = [t.return_to for t in db.exec(select(SignInTransaction)).all()]
    assert not any("abandoned-attempt" in path for path in paths) and len(paths) == 1
