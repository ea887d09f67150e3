"""The sign-in, callback and sign-out HTTP routes (Starlette), mounted in front of Reflex.

The handlers are plain functions: Starlette runs them in its thread pool, where the blocking
database and provider calls belong. Every response says ``Cache-Control: no-store``.

Sign-out: POST does it. GET never signs anyone out: with SameSite=Lax cookies, a link or image
on any other site can make a browser send a top-level GET with our cookie, so a GET that signed
out would let strangers sign people out. GET shows a one-button confirmation (or "you are signed
out"); the portal's own sign-out button should be a plain HTML form that POSTs here.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from immtrax_portal.auth import oidc, pages, sessions
from immtrax_portal.auth.oidc import SignInError
from immtrax_portal.client_address import request_client_ip as client_ip
from immtrax_portal.services import rate_limits
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes

_log = logging.getLogger(__name__)


def safe_return_to(candidate: str | None) -> str:
    """A same-site path to come back to after sign-in, or "/". Refuses anything a browser could
    read as another site: "//host", "/\\host", schemes, and control characters (browsers strip
    tabs and newlines, so "/\\t/host" would become "//host")."""
    if not candidate or len(candidate) > 500 or not candidate.startswith("/"):
        return "/"
    if candidate.startswith("//") or "\\" in candidate:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return "/"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or parts.path.startswith(routes.AUTH_PREFIX):
        return "/"
    return candidate


def _refuse(error: SignInError, request: Request, *, return_to: str) -> Response:
    """Log and audit a refused sign-in, and answer with a plain page (no token, no trace)."""
    _log.warning("sign-in refused: %s %s", error.reason, error.detail)
    sessions.record_sign_in_denied(error, ip_address=client_ip(request))
    response = pages.sign_in_problem_page(error.reason, return_to=return_to)
    _delete_cookie(response, sessions.sign_in_cookie_name())
    return response


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=pages.NO_STORE_HEADERS)


def _set_cookie(response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=get_settings().secure_cookies)


def _delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax",
                           secure=get_settings().secure_cookies)


def sign_in(request: Request) -> Response:
    """Start a sign-in: remember state, nonce and PKCE verifier server-side, send the browser to
    the provider. Someone already signed in goes straight to where they were heading."""
    return_to = safe_return_to(request.query_params.get("return_to"))
    if sessions.person_from_cookie_header(request.headers.get("cookie"), touch=False):
        return _redirect(return_to)
    config = oidc.client_config_from_settings()
    try:
        metadata = oidc.provider_metadata(config.issuer)
        auth_request = oidc.new_authorization_request(config, metadata)
    except SignInError as error:
        return _refuse(error, request, return_to=return_to)
    raw_transaction_id = sessions.begin_sign_in_transaction(
        state=auth_request.state, nonce=auth_request.nonce,
        code_verifier=auth_request.code_verifier, return_to=return_to,
    )
    response = _redirect(auth_request.url)
    _set_cookie(response, sessions.sign_in_cookie_name(), raw_transaction_id,
                max_age=int(sessions.SIGN_IN_TRANSACTION_LIFETIME.total_seconds()))
    return response


def _too_many(limited: rate_limits.RateLimited) -> Response:
    return pages.too_many_attempts_page(str(limited), retry_after_seconds=limited.retry_after_seconds)


def _refuse_unmatched(error: SignInError, request: Request) -> Response:
    """A callback that matches no sign-in this browser started costs nothing to send: refused
    before anything else is done, and counted in a budget of its own (``sign_in_unmatched``), so
    a flood of them never uses up the sign-ins that the people behind the same address need."""
    try:
        rate_limits.check_rate("sign_in_unmatched", person_id=None, ip=client_ip(request))
    except rate_limits.RateLimited as limited:
        return _too_many(limited)
    return _refuse(error, request, return_to="/")


def callback(request: Request) -> Response:
    """Finish a sign-in: the browser must bring back our transaction cookie and the matching
    state; the code is exchanged with the PKCE verifier; the ID token must check out. Only a
    callback that matches a sign-in this browser started counts against the address's sign-in
    limit (``rate_limit_sign_in_per_ip``), before the provider is asked anything: guessing codes
    or flooding the provider stops, and junk callbacks cannot lock a clinic out."""
    cookie_header = request.headers.get("cookie")
    params = request.query_params
    try:
        transaction = sessions.claim_sign_in_transaction(
            sessions.cookie_value(cookie_header, sessions.sign_in_cookie_name()))
        # The provider's "not signed in" (cancelled, denied) may come back without the state.
        if params.get("error"):
            raise SignInError("provider_error", f"provider said {params.get('error')[:60]}")
        if not sessions.secrets_match(transaction.state, params.get("state")):
            raise SignInError("state_mismatch")
    except SignInError as error:
        return _refuse_unmatched(error, request)
    return_to = transaction.return_to
    try:
        rate_limits.check_rate("sign_in", person_id=None, ip=client_ip(request))
    except rate_limits.RateLimited as limited:
        return _too_many(limited)
    try:
        if not params.get("code"):
            raise SignInError("missing_code")
        config = oidc.client_config_from_settings()
        metadata = oidc.provider_metadata(config.issuer)
        tokens = oidc.exchange_code_for_tokens(config, metadata, code=params["code"],
                                               code_verifier=transaction.code_verifier)
        claims = oidc.validated_id_token_claims(config, metadata, id_token=tokens["id_token"],
                                                nonce=transaction.nonce,
                                                access_token=tokens.get("access_token"))
        claims = oidc.claims_with_userinfo(config, metadata, claims, tokens.get("access_token"))
        signed_in = sessions.complete_sign_in(
            claims, id_token=tokens["id_token"], ip_address=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            replaced_raw_id=sessions.cookie_value(cookie_header, sessions.session_cookie_name()),
        )
    except SignInError as error:
        return _refuse(error, request, return_to=return_to)
    response = _redirect(return_to)
    _delete_cookie(response, sessions.sign_in_cookie_name())
    # No Max-Age: the cookie ends with the browser; the server enforces idle and absolute limits.
    _set_cookie(response, sessions.session_cookie_name(), signed_in.raw_session_id, max_age=None)
    return response


def _is_cross_site(request: Request) -> bool:
    """A form POST from another site (belt and braces: SameSite=Lax already keeps our cookie
    off it)."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        public = urlsplit(get_settings().public_url)
        return origin.rstrip("/") != f"{public.scheme}://{public.netloc}"
    return request.headers.get("sec-fetch-site") == "cross-site"


def sign_out(request: Request) -> Response:
    """GET: confirm (or say you are signed out). POST: revoke the session, clear the cookie, and
    end the provider's session too when it supports RP-initiated logout."""
    cookie_header = request.headers.get("cookie")
    if request.method == "GET":
        person = sessions.person_from_cookie_header(cookie_header, touch=False)
        if person is None:
            return pages.signed_out_page()
        return pages.sign_out_confirm_page(person.full_name or person.email)
    if _is_cross_site(request):
        return _redirect(routes.SIGN_OUT)  # the confirmation page: the person decides
    ended = sessions.end_session(cookie_header, ip_address=client_ip(request))
    destination = "/"
    if ended is not None:
        config = oidc.client_config_from_settings()
        try:
            metadata = oidc.provider_metadata(config.issuer)
            destination = oidc.end_session_url(config, metadata, id_token=ended.id_token) or "/"
        except SignInError:
            destination = "/"
    response = _redirect(destination)
    _delete_cookie(response, sessions.session_cookie_name())
    return response


def auth_routes() -> list[Route]:
    """The sign-in routes, mounted in front of Reflex by ``immtrax_portal.http_app``."""
    return [
        Route(routes.SIGN_IN, sign_in, methods=["GET"]),
        Route(routes.AUTH_CALLBACK, callback, methods=["GET"]),
        Route(routes.SIGN_OUT, sign_out, methods=["GET", "POST"]),
    ]

