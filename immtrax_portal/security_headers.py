"""Security headers on every HTTP response the portal's single port serves.

An ASGI middleware on the Starlette app that Reflex mounts itself beneath (``build_http_app``),
so Reflex's pages, its static assets, ``/ping`` and the sign-in routes all pass through it. A
response that already carries one of these headers keeps its own value: the sign-in routes'
small pages send a stricter policy of their own (no scripts at all, ``no-referrer``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from immtrax_portal.auth.oidc import client_config_from_settings
from immtrax_portal.settings import Settings, get_settings
from immtrax_portal.ui import routes

# Paths whose URL may carry a secret (the invitation token): their pages send no Referer at all,
# so the token never reaches another site, not even in part.
NO_REFERRER_PREFIXES = (routes.AGREEMENT, routes.AUTH_PREFIX)

HSTS_MAX_AGE_SECONDS = 63072000  # two years


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """The policy the built app works under (checked in Chromium: pages render, the event
    websocket connects, no violation in the console). Why each part is as it is:

    - ``script-src 'self' 'sha256-…'``: Reflex's prerendered pages hydrate through inline
      ``<script>`` blocks (theme, scroll restoration, React Router's context and module
      bootstrap). They are fixed per build, so their hashes are read from the built HTML files
      once (``inline_script_hashes``) and nothing else inline may run: no injected ``<script>``,
      no ``onclick=`` attributes. Only when no build is found (the auth routes served alone in
      tests) does the policy fall back to ``'unsafe-inline'``.
    - ``'unsafe-eval'``: Reflex runs ``rx.call_script`` (focus moves, the full-page loads to the
      sign-in routes) with ``eval`` in the browser; without it those events fail.
    - ``style-src 'self' 'unsafe-inline'``: React and Emotion set ``style`` attributes and
      insert ``<style>`` rules at run time, which hashes cannot name.
    - ``connect-src`` names the websocket origin (ws:// or wss:// of the public URL) explicitly,
      since not every browser lets ``'self'`` cover it.
    - ``form-action``: the sign-out form posts here and is redirected on to the identity
      provider's sign-out page, which ``form-action`` also governs, so that origin is allowed.
    - ``img-src``/``font-src`` allow ``data:`` for the icons and fonts the bundle inlines.
    - ``frame-ancestors 'none'`` (with ``X-Frame-Options: DENY`` for old browsers),
      ``object-src 'none'``, ``base-uri 'self'``.
    """
    hashes = inline_script_hashes()
    inline = " ".join(f"'sha256-{digest}'" for digest in hashes) if hashes else "'unsafe-inline'"
    return _policy(settings.public_url, client_config_from_settings(settings).issuer, inline)


@lru_cache(maxsize=8)
def _policy(public_url: str, issuer: str, inline_scripts: str) -> str:
    public = _origin(public_url)
    websocket = public.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    provider = _origin(issuer)
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'unsafe-eval' {inline_scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        f"connect-src 'self' {websocket}",
        f"form-action 'self' {provider}",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
    ])


_INLINE_SCRIPT = re.compile(r"<script(?P<attributes>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)
_found_hashes: tuple[str, ...] = ()


def _built_pages_dir() -> Path:
    from reflex.utils.prerequisites import get_web_dir  # the web dir REFLEX_WEB_WORKDIR names

    return get_web_dir() / "build" / "client"


def hashes_of_inline_scripts(html: str) -> set[str]:
    """Base64 SHA-256 of every inline (no ``src``) script in ``html``, as CSP wants them."""
    return {
        base64.b64encode(hashlib.sha256(match["body"].encode("utf-8")).digest()).decode("ascii")
        for match in _INLINE_SCRIPT.finditer(html) if "src=" not in match["attributes"]
    }


def inline_script_hashes() -> tuple[str, ...]:
    """The inline scripts of the built pages, read once the build exists (then kept)."""
    global _found_hashes
    if not _found_hashes:
        found: set[str] = set()
        for page in sorted(_built_pages_dir().rglob("*.html")):
            found |= hashes_of_inline_scripts(page.read_text(encoding="utf-8", errors="replace"))
        _found_hashes = tuple(sorted(found))
    return _found_hashes


def headers_for(path: str, settings: Settings) -> list[tuple[str, str]]:
    """The headers a response for ``path`` gets (unless it set them itself)."""
    referrer = "no-referrer" if path.startswith(NO_REFERRER_PREFIXES) else "strict-origin-when-cross-origin"
    headers = [
        ("Content-Security-Policy", content_security_policy(settings)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", referrer),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if settings.public_url.startswith("https://"):
        headers.append(("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"))
    return headers


class SecurityHeadersMiddleware:
    """Adds ``headers_for(path)`` to every HTTP response start; websockets pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope.get("path", ""), get_settings())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
