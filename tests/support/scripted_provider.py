"""A small but real OpenID Connect provider (HTTP on loopback) whose ID tokens a test shapes.

oidc-provider-mock always issues correct tokens; to prove the portal refuses bad ones (wrong
nonce, expired, other audience, other issuer, signed by another key) something must issue them.
This provider serves discovery, JWKS, authorize (signs the person in at once), token (checks the
client secret and S256 PKCE like a real one) and userinfo, and lets the test change the claims
or the signing key of the tokens it issues next.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

KEY_ID = "scripted-key-1"
DELETE = object()  # a claim_changes value that removes the claim


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class ScriptedProvider:
    client_id: str
    client_secret: str
    account: dict
    issuer: str = ""  # set by the test once the server listens
    claim_changes: dict = field(default_factory=dict)
    sign_with_impostor_key: bool = False
    signing_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": KEY_ID}, private=True))
    # Same kid, different key: what an attacker without the provider's private key can make.
    impostor_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": KEY_ID}, private=True))
    _codes: dict = field(default_factory=dict)
    _access_tokens: set = field(default_factory=set)

    def reset(self) -> None:
        self.claim_changes = {}
        self.sign_with_impostor_key = False

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self._discovery),
            Route("/jwks", self._jwks),
            Route("/authorize", self._authorize),
            Route("/token", self._token, methods=["POST"]),
            Route("/userinfo", self._userinfo),
        ])

    async def _discovery(self, request: Request) -> JSONResponse:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        })

    async def _jwks(self, request: Request) -> JSONResponse:
        return JSONResponse(KeySet([self.signing_key]).as_dict(private=False))

    async def _authorize(self, request: Request) -> RedirectResponse:
        params = request.query_params
        code = secrets.token_urlsafe(16)
        self._codes[code] = {key: params.get(key) for key in (
            "client_id", "redirect_uri", "nonce", "code_challenge", "code_challenge_method")}
        query = urlencode({"code": code, "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    def _client_authenticated(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user == self.client_id and password == self.client_secret

    async def _token(self, request: Request) -> JSONResponse:
        form = await request.form()
        grant = self._codes.pop(form.get("code"), None)
        if not self._client_authenticated(request):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if grant["code_challenge_method"] != "S256" or _s256(
                str(form.get("code_verifier", ""))) != grant["code_challenge"]:
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": "PKCE verification failed"}, status_code=400)
        access_token = secrets.token_urlsafe(24)
        self._access_tokens.add(access_token)
        return JSONResponse({"access_token": access_token, "token_type": "Bearer",
                             "expires_in": 300, "id_token": self.id_token(grant["nonce"])},
                            headers={"Cache-Control": "no-store"})

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.account["sub"], "aud": self.client_id,
                  "iat": now, "exp": now + 300, "nonce": nonce,
                  **{k: v for k, v in self.account.items() if k != "sub"}}
        for name, value in self.claim_changes.items():
            if value is DELETE:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.impostor_key if self.sign_with_impostor_key else self.signing_key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)

    async def _userinfo(self, request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self._access_tokens:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(self.account)
