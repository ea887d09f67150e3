"""Route constants and URL builders: the one place page paths are spelled."""

from urllib.parse import quote

HOME = "/"
DASHBOARD = "/dashboard"
WIZARD = "/requests/new"
NOT_ALLOWED = "/not-allowed"
SIGN_IN = "/auth/sign-in"
SIGN_IN_PAGE = "/sign-in"
SIGN_OUT = "/auth/sign-out"
AGREEMENT = "/agreement"
MAILBOX = "/dev/mailbox"
ADMIN_STAFF = "/admin/staff"
REQUEST = "/request"


def sign_in_url(return_to: str = DASHBOARD) -> str:
    return f"{SIGN_IN}?return_to={quote(return_to, safe='/')}"


def sign_in_page_url(return_to: str = DASHBOARD) -> str:
    """The portal's own page before Okta: what you need, then the button to the provider."""
    return f"{SIGN_IN_PAGE}?return_to={quote(return_to, safe='/')}"


def request_url(number: str) -> str:
    return f"{REQUEST}?number={quote(number)}"


def wizard_prefill_url(request_type: str, organization_id: int | str, person_id: int | str) -> str:
    """The wizard opened on a roster person ("Change level", "Remove access"); the wizard checks
    every parameter against the supervisor's own roster before using it."""
    return f"{WIZARD}?type={quote(str(request_type))}&org={quote(str(organization_id))}" \
           f"&person={quote(str(person_id))}"
