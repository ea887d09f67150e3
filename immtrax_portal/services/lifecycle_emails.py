"""The emails of access over time (issue 16): one function per kind, templates in
``templates/email/lifecycle/``, rendered by the catalog's ``emails.render`` and queued in the
caller's transaction (``mail.queue_email``), so each email commits with the change it tells of."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from immtrax_portal.domain.models import (
    AccessEnd,
    AgreementRenewal,
    Grant,
    Organization,
    OutboundEmail,
    Person,
    SupervisorLink,
    SupervisorNomination,
)
from immtrax_portal.services.emails import render
from immtrax_portal.services.mail import queue_email
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes

KIND_LABELS = {"scheduled_removal": "scheduled removal", "end_date": "end of time-limited access"}


def _queue(session: Session, kind: str, *, to: str, request_id: int | None = None, **values) -> OutboundEmail:
    rendered = render(f"lifecycle/{kind}", **values)
    return queue_email(session, kind=kind, to=to, subject=rendered.subject, body_text=rendered.text,
                       body_html=rendered.html, request_id=request_id)


def supervisor_emails(session: Session, organization_ids: list[int], *, except_person: int = -1) -> list[str]:
    """The supervisors of these organizations, each address once, never ``except_person``."""
    if not organization_ids:
        return []
    return sorted(set(session.exec(
        select(Person.email).join(SupervisorLink, SupervisorLink.person_id == Person.id)
        .where(SupervisorLink.organization_id.in_(organization_ids),  # type: ignore[attr-defined]
               SupervisorLink.person_id != except_person))))


def _day(value) -> str:
    return value.strftime("%B %-d, %Y")


def access_ended(session: Session, end: AccessEnd, grant: Grant, person: Person) -> list[OutboundEmail]:
    organization = session.get(Organization, end.organization_id)
    values = dict(person=person, organization=organization, grant=grant, last_day=_day(end.last_day),
                  kind_label=KIND_LABELS[end.kind], dashboard_link=routes.absolute_url(routes.DASHBOARD))
    sent = [_queue(session, "access_ended", to=to, request_id=end.request_id, to_staff=False, **values)
            for to in supervisor_emails(session, [end.organization_id], except_person=person.id)]
    sent.append(_queue(session, "access_ended", to=get_settings().program_inbox, request_id=end.request_id,
                       to_staff=True, **values))
    return sent


def access_end_reminder(session: Session, end: AccessEnd, person: Person) -> list[OutboundEmail]:
    organization = session.get(Organization, end.organization_id)
    return [_queue(session, "access_end_reminder", to=to, request_id=end.request_id, person=person,
                   organization=organization, last_day=_day(end.last_day),
                   dashboard_link=routes.absolute_url(routes.DASHBOARD))
            for to in supervisor_emails(session, [end.organization_id], except_person=person.id)]


def renewal_reminder(session: Session, renewal: AgreementRenewal, person: Person, token: str,
                     organization_ids: list[int]) -> list[OutboundEmail]:
    """To the person with their fresh link; a copy without the link to each of their supervisors."""
    values = dict(person=person, due_at=renewal.due_at, cause=renewal.cause)
    sent = [_queue(session, "renewal_reminder", to=person.email,
                   renewal_link=routes.absolute_url(routes.renewal_url(token)), **values)]
    sent += [_queue(session, "renewal_reminder_copy", to=to, **values)
             for to in supervisor_emails(session, organization_ids, except_person=person.id)]
    return sent


def agreement_lapsed(session: Session, renewal: AgreementRenewal, person: Person, token: str,
                     grants: list[Grant]) -> list[OutboundEmail]:
    org_ids = [g.organization_id for g in grants]
    values = dict(person=person, due_at=renewal.due_at)
    sent = [_queue(session, "agreement_lapsed", to=person.email, to_person=True,
                   renewal_link=routes.absolute_url(routes.renewal_url(token)), **values)]
    sent += [_queue(session, "agreement_lapsed", to=to, to_person=False, renewal_link="", **values)
             for to in supervisor_emails(session, org_ids, except_person=person.id)]
    sent.append(_queue(session, "agreement_lapsed_staff", to=get_settings().program_inbox,
                       organizations=_names(session, org_ids), usernames=_usernames(grants), **values))
    return sent


def agreement_renewed_staff(session: Session, person: Person, signed_at: datetime,
                            grants: list[Grant]) -> OutboundEmail:
    return _queue(session, "agreement_renewed_staff", to=get_settings().program_inbox, person=person,
                  signed_at=signed_at, organizations=_names(session, [g.organization_id for g in grants]),
                  usernames=_usernames(grants))


def organization_without_supervisor(session: Session, organization: Organization, *, cause: str,
                                    open_requests: int, active_users: int) -> OutboundEmail:
    return _queue(session, "organization_without_supervisor", to=get_settings().program_inbox,
                  organization=organization, cause=cause, open_requests=open_requests,
                  active_users=active_users, succession_link=routes.absolute_url(routes.STAFF_SUCCESSION))


def supervisor_nominated(session: Session, nomination: SupervisorNomination) -> OutboundEmail:
    return _queue(session, "supervisor_nominated", to=get_settings().program_inbox,
                  organization=session.get(Organization, nomination.organization_id),
                  nominated_by=session.get(Person, nomination.nominated_by_id), email=nomination.email,
                  first_name=nomination.first_name, last_name=nomination.last_name,
                  succession_link=routes.absolute_url(routes.STAFF_SUCCESSION))


def _names(session: Session, organization_ids: list[int]) -> str:
    if not organization_ids:
        return "no organization"
    return ", ".join(session.exec(select(Organization.name).where(
        Organization.id.in_(organization_ids)).order_by(Organization.name)))  # type: ignore[attr-defined]


def _usernames(grants: list[Grant]) -> str:
    return ", ".join(sorted({g.immtrax_username for g in grants if g.immtrax_username}))
