"""Which security headers a response gets, and the CSP's inline-script hashes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from immtrax_portal import security_headers
from immtrax_portal.security_headers import hashes_of_inline_scripts, headers_for
from immtrax_portal.settings import Settings


def as_dict(path: str, **settings) -> dict[str, str]:
    return dict(headers_for(path, Settings(**settings)))


def test_every_response_gets_the_basic_protections():
    headers = as_dict("/dashboard/")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "object-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path", ["/agreement", "/agreement/", "/agreement/?token=abc", "/auth/callback"])
def test_pages_whose_address_may_carry_a_token_send_no_referrer(path):
    assert as_dict(path.split("?")[0])["Referrer-Policy"] == "no-referrer"


def test_hsts_only_when_the_public_address_is_https():
    assert "Strict-Transport-Security" not in as_dict("/", public_url="http://localhost:3000")
    hsts = as_dict("/", public_url="https://access.immtrax.example")["Strict-Transport-Security"]
    assert hsts.startswith("max-age=63072000")


def test_the_websocket_origin_and_the_provider_are_named():
    policy = as_dict("/", public_url="https://access.immtrax.example", environment="development",
                     oidc_issuer="https://mt.okta.example/oauth2/default")["Content-Security-Policy"]
    assert "connect-src 'self' wss://access.immtrax.example" in policy
    assert "form-action 'self' https://mt.okta.example" in policy


def test_inline_scripts_are_hashed_and_external_ones_are_not():
    html = '<script>window.x = 1;</script><script src="/a.js"></script><script type="module">go()</script>'
    expected = {base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
                for body in ("window.x = 1;", "go()")}
    assert hashes_of_inline_scripts(html) == expected


def test_the_policy_lists_the_built_pages_hashes_instead_of_unsafe_inline(tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<html><script>boot()</script></html>")
    monkeypatch.setattr(security_headers, "_built_pages_dir", lambda: tmp_path)
    monkeypatch.setattr(security_headers, "_found_hashes", ())
    policy = as_dict("/")["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(b"boot()").digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]
