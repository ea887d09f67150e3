"""The embedded demo sign-in: a real OpenID Connect provider (oidc-provider-mock) on loopback.

With no ``IMMTRAX_OIDC_ISSUER`` the portal signs people in here instead of at Okta, through the
very same code path (discovery, PKCE, state, nonce, signed ID tokens). Start it with::

    python -m immtrax_portal.auth.demo_provider        # 127.0.0.1:${IMMTRAX_DEMO_OIDC_PORT:-3010}

Its sign-in page offers the demo identities (``DEMO_IDENTITIES``) as buttons with their
descriptions: the mock's own page only has a free-text "sub" box, so two of its templates are
overridden through a Jinja ``ChoiceLoader`` (ours first, the package's as fallback). Our
templates are self-contained, with no stylesheet from a CDN, so the page works offline.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
from collections.abc import Callable

import flask
import jinja2
import werkzeug.serving
from oidc_provider_mock import User
from oidc_provider_mock import app as mock_provider_app

from immtrax_portal.auth.demo_invitees import PendingInvitee, pending_invitee, pending_invitees
from immtrax_portal.demo_identities import DEMO_IDENTITIES, INVITEE_SUBJECT_PREFIX, DemoIdentity
from immtrax_portal.log_redaction import install_log_redaction
from immtrax_portal.settings import get_settings

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#eef2f6;
color:#1b2733;line-height:1.45}
main{max-width:40rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:.2rem 0 .6rem}
h2{font-size:1.1rem;margin:1.5rem 0 .3rem}
.badge{display:inline-block;background:#ffe8a3;color:#5c4400;border-radius:4px;padding:.1rem .5rem;
font-size:.8rem;font-weight:600}
.identities{display:grid;gap:.6rem;margin:1rem 0}
.identities button{display:block;width:100%;text-align:left;padding:.75rem 1rem;border:1px solid
#b9c6d3;border-radius:6px;background:#fff;font:inherit;cursor:pointer}
.identities button:hover,.identities button:focus{border-color:#1d4f91;background:#f1f6fd;
outline:2px solid #1d4f91}
.name{display:block;font-weight:600;color:#1d4f91}
.email,.description{display:block;font-size:.9rem;color:#44525f}
.cancel{background:none;border:0;color:#7a2020;text-decoration:underline;font:inherit;
cursor:pointer;padding:0}
.note{font-size:.85rem;color:#5a6772;word-break:break-all}
@media (max-width:42rem){main{margin:0;border-radius:0;min-height:100vh;padding:1rem}}
"""

_BASE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{% block title %}{% endblock %} – demo sign-in</title>"
    "<style>" + _STYLE + "</style></head><body><main>"
    '<span class="badge">Demo sign-in – stands in for Okta</span>'
    "{% block content %}{% endblock %}</main></body></html>"
)

_PICKER = """{% extends "demo_base.html" %}
{% block title %}Choose who you are{% endblock %}
{% block content %}
<h1>Choose who you are</h1>
<p>This demo has no passwords. Pick one of the demo people to sign in to the imMTrax Access
Portal as them.</p>
<form method="post" class="identities" aria-label="Demo people">
{% for identity in demo_identities %}
  <button type="submit" name="sub" value="{{ identity.subject }}"
          data-testid="identity-{{ identity.subject }}">
    <span class="name">{{ identity.first_name }} {{ identity.last_name }}</span>
    <span class="email">{{ identity.email }}</span>
    <span class="description">{{ identity.description }}</span>
  </button>
{% endfor %}
</form>
{% if pending_invitees %}
<h2>Demo only: people with a pending invitation</h2>
<p>Someone a supervisor invited in this demo can sign in here too, to sign the User Agreement as
them. A real installation signs them in with their own Okta account; this list exists only in the
embedded demo.</p>
<form method="post" class="identities" aria-label="Demo only: people with a pending invitation"
      data-testid="pending-invitees">
{% for invitee in pending_invitees %}
  <button type="submit" name="sub" value="{{ invitee.subject }}"
          data-testid="invitee-{{ invitee.email }}">
    <span class="name">{{ invitee.first_name }} {{ invitee.last_name }}</span>
    <span class="email">{{ invitee.email }}</span>
    <span class="description">Invited to {{ invitee.organization }} ({{ invitee.request_number }})</span>
  </button>
{% endfor %}
</form>
{% endif %}
<form method="post">
  <button type="submit" name="action" value="deny" class="cancel">Cancel sign-in</button>
</form>
<p class="note">Afterwards you return to {{ redirect_uri }}</p>
{% endblock %}
"""

_END_SESSION = """{% extends "demo_base.html" %}
{% block title %}Signed out{% endblock %}
{% block content %}
<h1>You are signed out of the portal</h1>
<p>Finish by signing out of the demo sign-in service too.</p>
<form method="post" action="{{ end_session_confirm_url }}">
  {% if redirect_uri %}<input type="hidden" name="redirect_uri" value="{{ redirect_uri }}">{% endif %}
  <button type="submit" class="cancel">Sign out of the demo sign-in service</button>
</form>
{% endblock %}
"""

TEMPLATE_OVERRIDES = {
    "demo_base.html": _BASE,
    "authorization_form.html": _PICKER,
    "end_session_form.html": _END_SESSION,
}


def user_for(identity: DemoIdentity) -> User:
    """The provider-side account of one demo identity, with the claims the portal relies on."""
    return User(sub=identity.subject, claims={
        "email": identity.email,
        "email_verified": True,
        "given_name": identity.first_name,
        "family_name": identity.last_name,
        "name": f"{identity.first_name} {identity.last_name}",
    })


def install_identity_picker(app: flask.Flask, identities: tuple[DemoIdentity, ...],
                            invitees: Callable[[], list[PendingInvitee]] = pending_invitees) -> None:
    """Replace the mock's free-text "sub" box with one button per identity (ours win, the
    package's templates still serve every other page), and, in the embedded demo only, one per
    person with a pending invitation (``auth.demo_invitees``)."""
    app.jinja_loader = jinja2.ChoiceLoader([jinja2.DictLoader(TEMPLATE_OVERRIDES),
                                            app.jinja_loader])
    app.context_processor(lambda: {"demo_identities": identities,
                                   "pending_invitees": invitees() if flask.request.method == "GET" else []})
    _admit_pending_invitees(app)


def _admit_pending_invitees(app: flask.Flask) -> None:
    """A chosen invitee is signed in with their invited, verified email; a made-up invitee subject
    (or any, outside the embedded demo) is refused instead of becoming an account without one."""
    endpoint = "oidc-provider-mock.authorize"
    authorize = app.view_functions[endpoint]

    @functools.wraps(authorize)
    def authorize_with_invitees(*args, **kwargs):
        subject = flask.request.form.get("sub", "") if flask.request.method == "POST" else ""
        if subject.startswith(INVITEE_SUBJECT_PREFIX):
            invitee = pending_invitee(subject)
            if invitee is None:
                flask.abort(403, "That person has no pending invitation in this demo.")
            flask.g.oidc_provider_mock_storage.store_user(User(sub=invitee.subject, claims=invitee.claims))
        return authorize(*args, **kwargs)

    app.view_functions[endpoint] = authorize_with_invitees


def build_demo_provider_app(
    identities: tuple[DemoIdentity, ...] = DEMO_IDENTITIES, *, require_nonce: bool = True
) -> flask.Flask:
    """The demo provider as a WSGI app: nonce required, any client id and secret accepted
    (the mock's default without client registration), the identities as its users."""
    app = mock_provider_app(require_nonce=require_nonce,
                            user_claims=[user_for(identity) for identity in identities])
    install_identity_picker(app, identities)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the demo OpenID Connect provider.")
    parser.add_argument("--port", type=int, default=get_settings().demo_oidc_port)
    args = parser.parse_args(argv)
    # Plain http is only acceptable because this listens on loopback and nowhere else; the
    # variable also lets the portal's redirect URI be a non-loopback http address in a LAN demo.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    install_log_redaction()  # its request log lines carry codes and tokens in URLs
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger(__name__).info(
        "demo OpenID Connect provider on http://127.0.0.1:%d (issuer)", args.port)
    werkzeug.serving.run_simple("127.0.0.1", args.port, build_demo_provider_app(),
                                threaded=True, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
