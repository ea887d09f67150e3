"""The catalog of the portal's emails: one function per kind, one template per kind.

Each kind's wording lives in ``immtrax_portal/templates/email/<kind>.j2`` (see the README there).
A template is rendered twice from the same source: as plain text, and as HTML with Jinja2's
autoescaping, so a name like ``<script>`` is text in both. Links are built from ``ui.routes`` and
dates are shown in the program's time zone. The functions here only compose; ``mail.queue_email``
writes the outbox row in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlmodel import Session

from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementVersion,
    Organization,
    OutboundEmail,
    Person,
)
from immtrax_portal.domain.workflow import Action
from immtrax_portal.program_time import program_date, program_time
from immtrax_portal.services.mail import queue_email
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes

# The staff actions whose outcome the submitter is told about, each a kind "notice_<action>".
NOTICE_ACTIONS = (Action.REJECT, Action.ASK_FOR_INFO, Action.PROVISION, Action.APPLY_LEVEL,
                  Action.CONFIRM_DELETION)


# --- Rendering -----------------------------------------------------------------------------------


def _paragraph_lines(body: str) -> list[list[str]]:
    """The body's paragraphs (separated by blank lines), each as its lines, stripped."""
    paragraphs: list[list[str]] = [[]]
    for line in body.split("\n"):
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [lines for lines in paragraphs if lines]


def _text_paragraphs(body: str) -> str:
    return "\n\n".join("\n".join(lines) for lines in _paragraph_lines(body))


def _html_paragraphs(body: str) -> Markup:
    # ``escape`` keeps the autoescaped body as it is (it is already Markup) and escapes anything
    # else, so no text reaches the HTML unescaped; ``Markup.split`` keeps each line Markup.
    return Markup("\n").join(Markup("<p>{}</p>").format(Markup("<br>\n").join(lines))
                             for lines in _paragraph_lines(escape(body)))


def _text_link(label: str, url: str) -> str:
    return f"{label}: {url}"


def _html_link(label: str, url: str) -> Markup:
    return Markup('<a href="{url}">{label}</a><br>{url}').format(url=url, label=label)


def _environment(*, html: bool) -> Environment:
    environment = Environment(
        loader=PackageLoader("immtrax_portal", "templates/email"),
        # Plain text is never read as HTML; the HTML twin is rendered with autoescaping.
        autoescape=html,  # noqa: S701
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    environment.filters.update(paragraphs=_html_paragraphs if html else _text_paragraphs,
                               program_time=program_time, program_date=program_date)
    environment.globals.update(layout="_layout.html.j2" if html else "_layout.txt.j2",
                               link=_html_link if html else _text_link)
    return environment


@cache
def _environments() -> tuple[Environment, Environment]:
    return _environment(html=False), _environment(html=True)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render(kind: str, **values) -> RenderedEmail:
    """One kind's subject, plain text and HTML, from ``templates/email/<kind>.j2``."""
    text_env, html_env = _environments()
    values = {"settings": get_settings(), **values}
    template = text_env.get_template(f"{kind}.j2")
    subject = "".join(template.blocks["subject"](template.new_context(values)))
    return RenderedEmail(subject=" ".join(subject.split()), text=template.render(values),
                         html=html_env.get_template(f"{kind}.j2").render(values))


def _queue(session: Session, kind: str, *, to: str, request: AccessRequest, **values) -> OutboundEmail:
    rendered = render(kind, request=request, **values)
    queued = queue_email(session, kind=kind, to=to, subject=rendered.subject, body_text=rendered.text,
                         body_html=rendered.html, request_id=request.id)
    if kind in BACKUP_COPIED:
        _copy_to_backups(session, request, rendered.subject)
    return queued


def _copy_to_backups(session: Session, request: AccessRequest, subject: str) -> None:
    """A notice to the submitter goes, while their backup's range is in force, to the backup too."""
    from immtrax_portal.services.delegations import backups_now  # delegations -> actors -> models

    for backup in backups_now(session, request.submitter_id, request.organization_id):
        backup_copy(session, request, backup, subject)


def backup_copy(session: Session, request: AccessRequest, backup: Person,
                original_subject: str) -> OutboundEmail:
    """To the backup of an absent submitter: a copy of a notice that went to them."""
    return _queue(session, "backup_copy", to=backup.email, request=request, backup=backup,
                  original_subject=original_subject,
                  request_link=_link(routes.request_url(request.number)), **_people(session, request))


# Notices to a request's submitter that their backup, while one is in force, receives a copy of.
BACKUP_COPIED = frozenset({"agreement_signed", "invitation_expired",
                           *(f"notice_{action.value}" for action in NOTICE_ACTIONS)})


def _link(path: str) -> str:
    return routes.absolute_url(path)


def _people(session: Session, request: AccessRequest) -> dict[str, Person | Organization]:
    return {"applicant": session.get(Person, request.subject_person_id),
            "submitter": session.get(Person, request.submitter_id),
            "organization": session.get(Organization, request.organization_id)}


# --- The kinds -----------------------------------------------------------------------------------


def invitation(session: Session, request: AccessRequest, *, to: str, token: str, expires_at: datetime,
               first: bool) -> OutboundEmail:
    """The agreement invitation: at submission (``first``), or resent with until when it works."""
    return _queue(session, "invitation", to=to, request=request, first=first, expires_at=expires_at,
                  agreement_link=_link(routes.agreement_url(token)), **_people(session, request))


def invitation_reminder(session: Session, request: AccessRequest, *, to: str, token: str,
                        expires_at: datetime) -> OutboundEmail:
    """A reminder with a fresh link and the same deadline."""
    return _queue(session, "invitation_reminder", to=to, request=request, first=False,
                  expires_at=expires_at, agreement_link=_link(routes.agreement_url(token)),
                  **_people(session, request))


def submission_receipt(session: Session, request: AccessRequest, steps: list[str]) -> OutboundEmail:
    """To the submitting supervisor: the request arrived, and ``steps`` say what happens next."""
    people = _people(session, request)
    return _queue(session, "receipt", to=people["submitter"].email, request=request, steps=steps, **people)


def batch_receipt(session: Session, requests: list[AccessRequest], steps: list[str]) -> OutboundEmail:
    """To the supervisor who submitted several people at once: one receipt listing every request."""
    people = _people(session, requests[0])
    names = {r.subject_person_id: session.get(Person, r.subject_person_id).full_name for r in requests}
    return _queue(session, "batch_receipt", to=people["submitter"].email, request=requests[0],
                  requests=requests, names=names, steps=steps, dashboard_link=_link(routes.DASHBOARD),
                  **people)


def agreement_receipt(session: Session, request: AccessRequest, agreement: AgreementVersion,
                      signed_at: datetime) -> OutboundEmail:
    people = _people(session, request)
    return _queue(session, "agreement_receipt", to=people["applicant"].email, request=request,
                  agreement=agreement, signed_at=signed_at, dashboard_link=_link(routes.DASHBOARD), **people)


def agreement_signed(session: Session, request: AccessRequest, signed_at: datetime) -> OutboundEmail:
    people = _people(session, request)
    return _queue(session, "agreement_signed", to=people["submitter"].email, request=request,
                  signed_at=signed_at, dashboard_link=_link(routes.DASHBOARD), **people)


def review_needed(session: Session, request: AccessRequest, agreement: AgreementVersion,
                  signed_at: datetime) -> OutboundEmail:
    return _queue(session, "review_needed", to=get_settings().program_inbox, request=request,
                  agreement=agreement, signed_at=signed_at, staff_queue_link=_link(routes.STAFF_QUEUE),
                  **_people(session, request))


def invitation_expired(session: Session, request: AccessRequest) -> OutboundEmail:
    people = _people(session, request)
    return _queue(session, "invitation_expired", to=people["submitter"].email, request=request,
                  dashboard_link=_link(routes.DASHBOARD), **people)


def former_employer_notice(session: Session, request: AccessRequest, *, to: str) -> OutboundEmail:
    """To a supervisor of the organization the person left (``organization`` is the new one)."""
    return _queue(session, "former_employer_notice", to=to, request=request, **_people(session, request))


def action_notice(session: Session, request: AccessRequest, action: Action,
                  reason: str = "") -> OutboundEmail:
    """To the submitter after a staff decision: kind ``notice_<action>``, one per NOTICE_ACTIONS."""
    if action not in NOTICE_ACTIONS:
        raise ValueError(f"no notice is sent for {action.value}")
    people = _people(session, request)
    return _queue(session, f"notice_{action.value}", to=people["submitter"].email, request=request,
                  reason=reason.strip(), dashboard_link=_link(routes.DASHBOARD), **people)


def clock_notice(session: Session, request: AccessRequest, *, to: str, percent: int, used: str,
                 target_hours: int) -> OutboundEmail:
    """The program's clock passed ``percent`` (50 or 75) of the request's target."""
    return _queue(session, "clock_notice", to=to, request=request, percent=percent, used=used,
                  target_hours=target_hours, request_link=_link(routes.request_url(request.number)),
                  **_people(session, request))


def clock_breach(session: Session, request: AccessRequest, *, to: str, used: str, target_hours: int,
                 owner_name: str) -> OutboundEmail:
    """The program's clock passed the request's target: to its owner and the staff inbox."""
    owner_line = (f"It is assigned to {owner_name}." if owner_name
                  else "Nobody is assigned to it yet: assign it in the staff queue.")
    return _queue(session, "clock_breach", to=to, request=request, used=used, target_hours=target_hours,
                  owner_line=owner_line, request_link=_link(routes.request_url(request.number)),
                  **_people(session, request))


# --- Roster reviews and inactivity (services/reviews.py, services/inactivity.py) ----------------


def _queue_plain(session: Session, kind: str, *, to: str, **values) -> OutboundEmail:
    """An email about no single request (a review, a list of idle people)."""
    rendered = render(kind, **values)
    return queue_email(session, kind=kind, to=to, subject=rendered.subject, body_text=rendered.text,
                       body_html=rendered.html)


def review_started(session: Session, *, to: str, organization: Organization, ends_at: datetime,
                   people: int) -> OutboundEmail:
    """To each supervisor: confirm who still needs access, by the end of the window."""
    return _queue_plain(session, "review_started", to=to, organization=organization, ends_at=ends_at,
                        people=people, review_link=_link(routes.REVIEWS))


def review_reminder(session: Session, *, to: str, organization: Organization, ends_at: datetime,
                    pending: int) -> OutboundEmail:
    return _queue_plain(session, "review_reminder", to=to, organization=organization, ends_at=ends_at,
                        pending=pending, review_link=_link(routes.REVIEWS))


def review_overdue_staff(session: Session, *, organization: Organization, ends_at: datetime,
                         grace_ends_at: datetime, pending: int) -> OutboundEmail:
    """To the program: a review's window ended with people unconfirmed."""
    return _queue_plain(session, "review_overdue_staff", to=get_settings().program_inbox,
                        organization=organization, ends_at=ends_at, grace_ends_at=grace_ends_at,
                        pending=pending, reviews_link=_link(routes.STAFF_REVIEWS))


def automatic_deletion(session: Session, request: AccessRequest, *, to: str,
                       explanation: str) -> OutboundEmail:
    """To each supervisor: the portal opened an Access Deletion (and why)."""
    return _queue(session, "automatic_deletion", to=to, request=request, explanation=explanation,
                  dashboard_link=_link(routes.DASHBOARD), **_people(session, request))


def automatic_deletion_person(session: Session, request: AccessRequest, *, explanation: str) -> OutboundEmail:
    """To the person themselves: their access is suspended, and what to do if they still need it."""
    people = _people(session, request)
    return _queue(session, "automatic_deletion_person", to=people["applicant"].email, request=request,
                  explanation=explanation, **people)


def automatic_deletion_staff(session: Session, request: AccessRequest, *, explanation: str) -> OutboundEmail:
    return _queue(session, "automatic_deletion_staff", to=get_settings().program_inbox, request=request,
                  explanation=explanation, request_link=_link(routes.request_url(request.number)),
                  **_people(session, request))


def idle_notice(session: Session, *, to: str, organization: Organization, people: int) -> OutboundEmail:
    """To each supervisor: people the registry saw idle for long; confirm or remove them."""
    return _queue_plain(session, "idle_notice", to=to, organization=organization, people=people,
                        review_link=_link(routes.REVIEWS))
