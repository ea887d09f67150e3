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


STAFF_QUEUE = "/staff/queue"
STAFF_METRICS = "/staff/metrics"
STAFF_QUEUE_CSV = "/staff/queue.csv"  # a server route (downloads/queue_csv.py): link with reload_document


def with_query(path: str, query: str) -> str:
    """``path?query``, or just ``path`` when there is no query."""
    return f"{path}?{query}" if query else path
