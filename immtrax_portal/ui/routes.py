"""Route constants and URL builders: the one place page paths are spelled.

Plain Python (no Reflex): services build the links in their emails here too, with ``absolute_url``.
"""

from urllib.parse import quote

from immtrax_portal.settings import get_settings

HOME = "/"
DASHBOARD = "/dashboard"
WIZARD = "/requests/new"
BATCH = "/requests/new/several"
BACKUPS = "/backups"
NOT_ALLOWED = "/not-allowed"
AUTH_PREFIX = "/auth/"  # the sign-in routes: never a place to return to after signing in
SIGN_IN = "/auth/sign-in"
AUTH_CALLBACK = "/auth/callback"
SIGN_IN_PAGE = "/sign-in"
SIGN_OUT = "/auth/sign-out"
AGREEMENT = "/agreement"
MAILBOX = "/dev/mailbox"
ADMIN_STAFF = "/admin/staff"
REQUEST = "/request"
SIGNED_AGREEMENT = "/signed-agreement"
SIGNED_AGREEMENT_PDF = "/downloads/signed-agreement"
STAFF_ORGANIZATIONS = "/staff/organizations"
STAFF_ORGANIZATION = "/staff/organization"
STAFF_ORGANIZATION_IMPORT = "/staff/organizations/import"
STAFF_AGREEMENTS = "/staff/agreements"
REVIEWS = "/reviews"
STAFF_REVIEWS = "/staff/reviews"
STAFF_INACTIVITY = "/staff/inactivity"


def absolute_url(path: str) -> str:
    """A path as a full address people can follow from an email: the public URL in front."""
    return f"{get_settings().public_url}{path}"


def agreement_url(token: str) -> str:
    """The emailed invitation link: /agreement/<token> (the token is URL-safe base64)."""
    return f"{AGREEMENT}/{quote(token, safe='')}"


def sign_in_url(return_to: str = DASHBOARD) -> str:
    return f"{SIGN_IN}?return_to={quote(return_to, safe='/')}"


def sign_in_page_url(return_to: str = DASHBOARD) -> str:
    """The portal's own page before Okta: what you need, then the button to the provider."""
    return f"{SIGN_IN_PAGE}?return_to={quote(return_to, safe='/')}"


def timed_out_sign_in_url(return_to: str) -> str:
    """Where a tab goes when its session timed out: the sign-in page, saying why, and back to
    ``return_to`` afterwards."""
    return f"{sign_in_page_url(return_to)}&timed_out=1"


def request_url(number: str) -> str:
    return f"{REQUEST}?number={quote(number)}"


def signed_agreement_url(number: str) -> str:
    return f"{SIGNED_AGREEMENT}?number={quote(number)}"


def signed_agreement_pdf_url(signature_id: int) -> str:
    """A server route (not a page): link to it with a full page load."""
    return f"{SIGNED_AGREEMENT_PDF}/{int(signature_id)}.pdf"


def organization_url(organization_id: int | str, *, created: bool = False) -> str:
    """An organization's staff page; without an id the page creates a new organization."""
    return f"{STAFF_ORGANIZATION}?id={organization_id}" + ("&created=1" if created else "")


def wizard_prefill_url(request_type: str, organization_id: int | str, person_id: int | str) -> str:
    """The wizard opened on a roster person ("Change level", "Remove access"); the wizard checks
    every parameter against the supervisor's own roster before using it."""
    return f"{WIZARD}?type={quote(str(request_type))}&org={quote(str(organization_id))}" \
           f"&person={quote(str(person_id))}"
STAFF_QUEUE = "/staff/queue"
STAFF_METRICS = "/staff/metrics"
STAFF_TARGETS = "/staff/targets"
STAFF_BACKUPS = "/staff/backups"
STAFF_QUEUE_CSV = "/staff/queue.csv"  # a server route (downloads/queue_csv.py): link with reload_document


def with_query(path: str, query: str) -> str:
    """``path?query``, or just ``path`` when there is no query."""
    return f"{path}?{query}" if query else path

# Access over time (issue 16).
RENEWAL = "/renew"                      # the emailed re-signing link: /renew/<token>
STAFF_ACCESS_ENDS = "/staff/access-ends"  # upcoming scheduled removals and end dates
STAFF_SUCCESSION = "/staff/succession"    # organizations with one or no supervisor, nominations


def renewal_url(token: str) -> str:
    return f"{RENEWAL}/{quote(token, safe='')}"


def phone_href(phone: str) -> str:
    """A ``tel:`` link for a US number as the settings spell it ("(406) 444-5580")."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"tel:+1{digits[-10:]}" if len(digits) >= 10 else f"tel:{digits}"
