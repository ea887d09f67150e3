"""Small self-contained HTML pages for the sign-in routes: problems, the sign-out confirmation,
and "you are signed out". Plain words, a way forward, the program's phone number; never a stack
trace, never token content. Everything interpolated is escaped."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from starlette.responses import HTMLResponse

from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes
from immtrax_portal.ui.outage import DATABASE_UNAVAILABLE_TITLE, database_unavailable_advice

NO_STORE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    # No scripts, no framing; inline styles only. (No form-action: sign-out's form must be able to
    # follow the redirect to the sign-in provider.)
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# reason code -> (heading, what happened in plain words)
_PROBLEMS: dict[str, tuple[str, str]] = {
    "missing_transaction": (
        "We could not finish signing you in",
        "This sign-in did not start from this browser, or your browser blocked our cookies. "
        "Please start again from the portal, in the same browser window.",
    ),
    "transaction_used": (
        "This sign-in link was already used",
        "Each sign-in can be completed only once. Please start again.",
    ),
    "transaction_expired": (
        "Your sign-in took too long",
        "For your security, a sign-in must be finished within 10 minutes. Please start again.",
    ),
    "state_mismatch": (
        "We could not confirm this sign-in",
        "The answer from the sign-in service did not match the sign-in you started, so we "
        "stopped. This can happen if you used an old or copied link. Please start again.",
    ),
    "provider_error": (
        "Sign-in was not completed",
        "The sign-in service did not sign you in (for example because sign-in was cancelled). "
        "Please try again.",
    ),
    "missing_code": (
        "Sign-in was not completed",
        "The sign-in service sent you back without a sign-in. Please try again.",
    ),
    "token_exchange_failed": (
        "We could not confirm your sign-in with Okta",
        "Okta did not accept our request to finish your sign-in. Please try again.",
    ),
    "nonce_mismatch": (
        "We could not confirm this sign-in",
        "The sign-in answer belongs to a different sign-in attempt. Please start again.",
    ),
    "token_expired": (
        "Your sign-in has expired",
        "The sign-in answer was too old to accept. Please check that this computer's clock is "
        "right, then try again.",
    ),
    "token_time_invalid": (
        "We could not confirm this sign-in",
        "The sign-in answer carries a time that is not valid yet. Please check that this "
        "computer's clock is right, then try again.",
    ),
    "wrong_audience": (
        "We could not confirm this sign-in",
        "The sign-in answer was meant for a different application, so we did not accept it.",
    ),
    "wrong_issuer": (
        "We could not confirm this sign-in",
        "The sign-in answer did not come from the sign-in service we trust.",
    ),
    "bad_signature": (
        "We could not confirm this sign-in",
        "The sign-in answer was not signed by the sign-in service we trust, so we did not "
        "accept it.",
    ),
    "invalid_token": (
        "We could not confirm this sign-in",
        "The sign-in answer was incomplete or not valid, so we did not accept it.",
    ),
    "email_not_verified": (
        "Your Okta email address is not verified",
        "Please verify your email address in Okta (look for Okta's verification email), then "
        "sign in again.",
    ),
    "email_missing": (
        "Your Okta account has no email address",
        "The portal identifies people by their work email. Please add it to your Okta account, "
        "or call us.",
    ),
    "subject_conflict": (
        "This email is linked to a different Okta account",
        "Your email address is already connected to another Okta account in the portal. For "
        "your protection we did not sign you in. Please call us so we can sort it out.",
    ),
    "provider_unreachable": (
        "The sign-in service is not answering",
        "We could not reach the sign-in service. Please try again in a few minutes.",
    ),
    "provider_misconfigured": (
        "Sign-in is not available right now",
        "The portal's connection to the sign-in service is not set up correctly. Please call us.",
    ),
}
_FALLBACK = ("We could not sign you in", "Something went wrong while signing you in.")

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f7fa;
color:#1b2733;line-height:1.5}
main{max-width:36rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin-top:0}
a.button,button{display:inline-block;background:#1d4f91;color:#fff;border:0;border-radius:6px;
padding:.7rem 1.2rem;font-size:1rem;text-decoration:none;cursor:pointer}
a{color:#1d4f91}
.actions{display:flex;flex-wrap:wrap;gap:.75rem 1.25rem;align-items:center;margin:1.25rem 0}
footer{max-width:36rem;margin:0 auto 2rem;padding:0 2rem}
.contact{font-size:.95rem;color:#44525f}
@media (max-width:40rem){main{margin:0;border-radius:0;min-height:100vh;padding:1.25rem}}
"""


def _page(title: str, body: str, *, status: int = 200, headers: dict | None = None) -> HTMLResponse:
    settings = get_settings()
    # The same help line, in the same place (the footer, after the main content), as every page
    # of the portal (WCAG 3.2.6).
    contact = (
        f'<footer><p class="contact" id="help-line">Need help? Call the '
        f"<strong>{escape(settings.program_name)}</strong> at "
        f'<a href="{escape(routes.phone_href(settings.program_phone))}">'
        f"{escape(settings.program_phone)}</a>, {escape(settings.program_hours)}.</p></footer>"
    )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} – imMTrax Access Portal</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main>{contact}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers={**NO_STORE_HEADERS, **(headers or {})})


def sign_in_url(return_to: str = routes.HOME) -> str:
    """The sign-in route, coming back to ``return_to`` (left out when that is the home page)."""
    query = urlencode({"return_to": return_to}) if return_to != routes.HOME else ""
    return routes.with_query(routes.SIGN_IN, query)


def sign_in_problem_page(reason: str, *, return_to: str = routes.HOME) -> HTMLResponse:
    """400 for anything the browser or the provider sent that we refuse; 503 when the provider
    cannot be reached or used, since trying again later may then help."""
    heading, explanation = _PROBLEMS.get(reason, _FALLBACK)
    status = 503 if reason in ("provider_unreachable", "provider_misconfigured") else 400
    body = (
        f"<p>{escape(explanation)}</p>"
        f'<p class="actions"><a class="button" href="{escape(sign_in_url(return_to))}">'
        "Try signing in again</a>"
        f'<a href="{routes.HOME}">Go to the portal home page</a></p>'
    )
    return _page(heading, body, status=status)


def sign_out_confirm_page(full_name: str) -> HTMLResponse:
    """Signing out changes state, so it takes a POST; a GET (a typed or followed link) lands here."""
    body = (
        f"<p>You are signed in as {escape(full_name)}.</p>"
        f'<form class="actions" method="post" action="{routes.SIGN_OUT}">'
        f'<button type="submit">Sign out</button><a href="{routes.HOME}">Stay signed in</a></form>'
    )
    return _page("Sign out of the imMTrax Access Portal?", body)


def refusal_page(title: str, explanation: str, *, status: int, next_link: tuple[str, str] = (routes.DASHBOARD,
                 "Go to your dashboard")) -> HTMLResponse:
    """A refused download or other server route: what happened and one way on."""
    href, text = next_link
    body = (f"<p>{escape(explanation)}</p>"
            f'<p class="actions"><a class="button" href="{escape(href)}">{escape(text)}</a></p>')
    return _page(title, body, status=status)


def signed_out_page() -> HTMLResponse:
    body = (
        "<p>You are signed out of the imMTrax Access Portal.</p>"
        f'<p class="actions"><a class="button" href="{escape(sign_in_url())}">Sign in</a></p>'
    )
    return _page("You are signed out", body)


def too_many_attempts_page(message: str, *, retry_after_seconds: int) -> HTMLResponse:
    """429 with ``Retry-After``: the rate limit's own words say how long to wait."""
    body = (
        f"<p>{escape(message)}</p>"
        f'<p class="actions"><a href="{routes.HOME}">Go to the portal home page</a></p>'
    )
    return _page("Please wait a few minutes", body, status=429,
                 headers={"Retry-After": str(max(1, int(retry_after_seconds)))})


def database_unavailable_page() -> HTMLResponse:
    """503: the database cannot be reached. Nothing was saved; trying later helps."""
    body = (
        f"<p>{escape(database_unavailable_advice())}</p>"
        f'<p class="actions"><a class="button" href="{routes.HOME}">Go to the portal home page</a></p>'
    )
    return _page(DATABASE_UNAVAILABLE_TITLE, body, status=503)
