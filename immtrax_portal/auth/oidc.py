"""The OpenID Connect client: discovery, the authorization request, the code exchange, ID-token checks.

Protocol only: no database and no web framework, so tests can drive it against real providers.
Authorization code flow with PKCE (S256), a one-time ``state`` and ``nonce`` per attempt, and an
ID token whose signature, issuer, audience, lifetime and nonce are all checked before anyone is
believed. The HTTP calls are synchronous; the Starlette routes run them in the thread pool.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from immtrax_portal.settings import Settings, get_settings
from immtrax_portal.ui import routes

# Signature algorithms we accept. Symmetric (HS*) and "none" are never accepted: an ID token must be
# signed with the provider's private key, not with a secret we share with it.
ASYMMETRIC_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)
CLOCK_LEEWAY_SECONDS = 60
# An ID token comes fresh from the token endpoint; one minted long ago is a replay, not a sign-in.
ID_TOKEN_MAX_AGE_SECONDS = 10 * 60
DISCOVERY_CACHE_SECONDS = 60 * 60
JWKS_REFRESH_MIN_INTERVAL_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0


class SignInError(Exception):
    """A sign-in that must stop. ``reason`` is a stable code for the audit log and the error page;
    ``detail`` is for the audit log only (never shown: it may name claims, never token content)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class OidcClientConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str
    post_logout_redirect_uri: str


def demo_issuer(settings: Settings) -> str:
    """The embedded demo provider's issuer: the exact string it writes into ``iss``."""
    return f"http://127.0.0.1:{settings.demo_oidc_port}"


def client_config_from_settings(settings: Settings | None = None) -> OidcClientConfig:
    """Okta when an issuer is configured, otherwise the embedded demo provider on loopback."""
    settings = settings or get_settings()
    return OidcClientConfig(
        issuer=(settings.oidc_issuer or demo_issuer(settings)).rstrip("/"),
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        redirect_uri=f"{settings.public_url}{routes.AUTH_CALLBACK}",
        scopes=settings.oidc_scopes,
        post_logout_redirect_uri=f"{settings.public_url}{routes.HOME}",
    )


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    signing_algorithms: tuple[str, ...]


_cache_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, tuple[float, dict]] = {}


def forget_cached_provider_data() -> None:
    """Drop cached discovery documents and key sets (tests switch providers; keys rotate)."""
    with _cache_lock:
        _metadata_cache.clear()
        _jwks_cache.clear()


def is_trustworthy_url(url: str) -> bool:
    """https anywhere; plain http only on loopback, where the demo and test providers live."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _get_json(url: str) -> dict:
    if not is_trustworthy_url(url):
        raise SignInError("provider_misconfigured", f"refusing non-https provider URL {url}")
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise SignInError("provider_unreachable", f"{url}: {type(error).__name__}") from error
    if not isinstance(document, dict):
        raise SignInError("provider_unreachable", f"{url}: not a JSON object")
    return document


def provider_metadata(issuer: str) -> ProviderMetadata:
    """The provider's discovery document, fetched once an hour per issuer.

    The document must name exactly the issuer we were configured with (OpenID Connect Discovery
    section 4.3); otherwise a wrong or hostile document could point us at someone else's keys.
    """
    now = time.monotonic()
    with _cache_lock:
        cached = _metadata_cache.get(issuer)
    if cached and now - cached[0] < DISCOVERY_CACHE_SECONDS:
        return cached[1]
    document = _get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise SignInError("provider_misconfigured", "discovery issuer differs from configuration")
    try:
        metadata = ProviderMetadata(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            userinfo_endpoint=document.get("userinfo_endpoint"),
            end_session_endpoint=document.get("end_session_endpoint"),
            signing_algorithms=tuple(
                alg for alg in document.get("id_token_signing_alg_values_supported", ["RS256"])
                if alg in ASYMMETRIC_ALGORITHMS
            ) or ("RS256",),
        )
    except KeyError as error:
        raise SignInError("provider_misconfigured", f"discovery lacks {error}") from error
    for url in (metadata.authorization_endpoint, metadata.token_endpoint, metadata.jwks_uri):
        if not is_trustworthy_url(url):
            raise SignInError("provider_misconfigured", f"refusing non-https endpoint {url}")
    with _cache_lock:
        _metadata_cache[issuer] = (now, metadata)
    return metadata


def _key_set(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    """The provider's public keys, cached; ``refresh`` refetches (at most once a minute) when a
    token names a key we do not know yet, which is how providers roll their keys over."""
    now = time.monotonic()
    with _cache_lock:
        cached = _jwks_cache.get(jwks_uri)
    stale = cached is None or now - cached[0] >= DISCOVERY_CACHE_SECONDS
    may_refresh = cached is None or now - cached[0] >= JWKS_REFRESH_MIN_INTERVAL_SECONDS
    if stale or (refresh and may_refresh):
        document = _get_json(jwks_uri)
        with _cache_lock:
            _jwks_cache[jwks_uri] = (now, document)
    else:
        document = cached[1]
    try:
        return KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise SignInError("provider_misconfigured", "unusable JWKS") from error


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and the secrets that must come back to finish the sign-in."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def _oauth_client(config: OidcClientConfig) -> OAuth2Client:
    return OAuth2Client(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=config.scopes,
        redirect_uri=config.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def new_authorization_request(
    config: OidcClientConfig, metadata: ProviderMetadata
) -> AuthorizationRequest:
    """A fresh state, nonce and PKCE verifier (256 bits or more each) and the URL that carries
    the state, the nonce and the verifier's S256 challenge to the provider."""
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)  # 86 characters: inside RFC 7636's 43..128
    with _oauth_client(config) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=state, code_verifier=code_verifier, nonce=nonce
        )
    return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=code_verifier)


def exchange_code_for_tokens(
    config: OidcClientConfig, metadata: ProviderMetadata, *, code: str, code_verifier: str
) -> dict:
    """Trade the one-time code (and the PKCE verifier only we know) for the provider's tokens."""
    with _oauth_client(config) as client:
        try:
            token = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )
        except OAuthError as error:
            raise SignInError("token_exchange_failed", f"provider said {error.error}") from error
        except (httpx.HTTPError, ValueError) as error:
            raise SignInError("provider_unreachable", type(error).__name__) from error
    if not token.get("id_token"):
        raise SignInError("token_exchange_failed", "no id_token in token response")
    return dict(token)


def _decode_signed_token(id_token: str, metadata: ProviderMetadata):
    registry = JWSRegistry(algorithms=list(metadata.signing_algorithms), strict_check_header=False)
    try:
        return jwt.decode(id_token, _key_set(metadata.jwks_uri), registry=registry)
    except InvalidKeyIdError:
        keys = _key_set(metadata.jwks_uri, refresh=True)
    except JoseError as error:
        raise SignInError("bad_signature", type(error).__name__) from error
    try:
        return jwt.decode(id_token, keys, registry=registry)
    except JoseError as error:
        raise SignInError("bad_signature", type(error).__name__) from error


_CLAIM_FAILURE_REASONS = {
    "aud": "wrong_audience",
    "azp": "wrong_audience",
    "iss": "wrong_issuer",
    "nonce": "nonce_mismatch",
    "exp": "token_expired",
    "iat": "token_time_invalid",
    "nbf": "token_time_invalid",
}


def validated_id_token_claims(
    config: OidcClientConfig,
    metadata: ProviderMetadata,
    *,
    id_token: str,
    nonce: str,
    access_token: str | None = None,
) -> dict:
    """The ID token's claims, once its signature (against the provider's JWKS), ``iss``, ``aud``,
    ``exp``, ``iat`` and ``nonce`` (and ``azp``/``at_hash`` when present) have all checked out."""
    token = _decode_signed_token(id_token, metadata)
    options = {
        "iss": {"essential": True, "value": metadata.issuer},
        "aud": {"essential": True, "value": config.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }
    params = {"nonce": nonce, "client_id": config.client_id, "access_token": access_token}
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
    except ExpiredTokenError as error:
        raise SignInError("token_expired", "exp passed") from error
    except MissingClaimError as error:
        raise SignInError(_CLAIM_FAILURE_REASONS.get(error.claim, "invalid_token"),
                          f"missing {error.claim}") from error
    except ClaimError as error:
        raise SignInError(_CLAIM_FAILURE_REASONS.get(error.claim, "invalid_token"),
                          f"invalid {error.claim}") from error
    if claims["iat"] < time.time() - ID_TOKEN_MAX_AGE_SECONDS - CLOCK_LEEWAY_SECONDS:
        raise SignInError("token_expired", "iat too old")
    return dict(claims)


def claims_with_userinfo(
    config: OidcClientConfig, metadata: ProviderMetadata, claims: dict, access_token: str | None
) -> dict:
    """Fill in email/name claims from the userinfo endpoint when the ID token left them out
    (providers may keep scope claims out of ID tokens). Userinfo never overrides the ID token,
    and must be about the same subject (OpenID Connect Core 5.3.2)."""
    wanted = ("email", "email_verified", "given_name", "family_name", "name")
    if all(key in claims for key in wanted[:2]) or not access_token:
        return claims
    if not metadata.userinfo_endpoint or not is_trustworthy_url(metadata.userinfo_endpoint):
        return claims
    with _oauth_client(config) as client:
        client.token = {"access_token": access_token, "token_type": "Bearer"}
        try:
            response = client.get(metadata.userinfo_endpoint)
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SignInError("provider_unreachable", f"userinfo {type(error).__name__}") from error
    if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
        raise SignInError("invalid_token", "userinfo subject differs from ID token")
    return {**{k: info[k] for k in wanted if k in info}, **claims}


def end_session_url(
    config: OidcClientConfig, metadata: ProviderMetadata, *, id_token: str
) -> str | None:
    """RP-initiated logout at the provider, back to the portal's home page afterwards."""
    if not metadata.end_session_endpoint or not is_trustworthy_url(metadata.end_session_endpoint):
        return None
    params = {"post_logout_redirect_uri": config.post_logout_redirect_uri,
              "client_id": config.client_id}
    if id_token:
        params["id_token_hint"] = id_token
    separator = "&" if urlsplit(metadata.end_session_endpoint).query else "?"
    return f"{metadata.end_session_endpoint}{separator}{urlencode(params)}"
