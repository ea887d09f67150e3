"""The embedded demo world: organizations, the demo identities, grants and requests in every state.

What exists before the portal (organizations, the people of the registry and their access, who
supervises what) is written as the registry holds it. Everything after that happens only through
the portal's own services, as people would make it happen: supervisors submit (``submit_request``),
invited people open their emailed link, sign in and sign the agreement (``sign_agreement``), staff
review, ask, reject and provision (``act_on_request``), supervisors cancel, and invitations run out
(``expire_overdue_invitations``). So every demo record is what the services would have produced: a
request marked signed has its signature, a provisioned one its grant, each step its audit event and
its emails. Loading twice changes nothing.

Adding a scenario: write one function ``_scenario_name(world)`` that makes one request and moves it
with the services (the helpers below: ``_submit``, ``_sign_as_invitee``, ``_staff_does``,
``_supervisor_does``), and add it to ``SCENARIOS``. Scenarios run in that order, and the request
numbers follow it (``IMR-<year>-000001`` is the first), so add new ones at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

from immtrax_portal.auth import sessions
from immtrax_portal.db import session_scope
from immtrax_portal.demo_identities import DEMO_IDENTITIES, invitee_subject
from immtrax_portal.domain.enums import AccessLevel, RequestType
from immtrax_portal.domain.models import (
    AccessRequest,
    Grant,
    Organization,
    OutboundEmail,
    Person,
    RosterReviewItem,
    SupervisorLink,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor
from immtrax_portal.domain.workflow import Action
from immtrax_portal.program_time import program_today
from immtrax_portal.services import agreements, mailbox, reminders, renewals, signing
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.delivery import INVITATION_LINK
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import RequestDraft, submit_request
from immtrax_portal.settings import get_settings

ORGANIZATIONS = [
    ("BFC-0101", "Billings Family Clinic", "Billings"),
    ("LPD-0202", "Laurel Pediatrics", "Laurel"),
    ("BCH-0303", "Bozeman Community Health", "Bozeman"),
    ("MVP-0404", "Missoula Valley Pharmacy", "Missoula"),
    ("GFP-0505", "Great Falls Public Health", "Great Falls"),
]

# (email, first, last, org code, level): people who already hold imMTrax access.
ROSTER = [
    ("avery.holm@billingsclinic.example", "Avery", "Holm", "BFC-0101", AccessLevel.RECORD_MAINTENANCE),
    ("casey.lindqvist@billingsclinic.example", "Casey", "Lindqvist", "BFC-0101",
     AccessLevel.READ_ONLY_CONSENT),
    ("drew.farrell@billingsclinic.example", "Drew", "Farrell", "BFC-0101", AccessLevel.VACCINE_MANAGEMENT),
    ("emery.two.bulls@laurelpeds.example", "Emery", "Two Bulls", "LPD-0202", AccessLevel.RECORD_MAINTENANCE),
    ("finley.ortiz@laurelpeds.example", "Finley", "Ortiz", "LPD-0202", AccessLevel.READ_ONLY_CONSENT),
    ("gray.mccall@bozemanhealth.example", "Gray", "McCall", "BCH-0303", AccessLevel.VACCINE_MANAGEMENT),
    ("harper.little.owl@bozemanhealth.example", "Harper", "Little Owl", "BCH-0303",
     AccessLevel.RECORD_MAINTENANCE),
    ("indigo.brandt@missoulapharm.example", "Indigo", "Brandt", "MVP-0404", AccessLevel.RECORD_MAINTENANCE),
    ("jules.keller@greatfallsph.example", "Jules", "Keller", "GFP-0505", AccessLevel.READ_ONLY_CONSENT),
]

SUPERVISES = {
    "demo-supervisor-two-orgs": ["BFC-0101", "LPD-0202"],
    "demo-supervisor-one-org": ["BCH-0303"],
}


def load_demo_world() -> bool:
    """Create the demo world unless it exists. Returns whether anything was created."""
    with session_scope() as session:
        if session.exec(select(Organization).where(Organization.code == ORGANIZATIONS[0][0])).first():
            return False
        orgs = _organizations(session)
        people = _identities(session)
        _roster(session, orgs)
        for subject, codes in SUPERVISES.items():
            for code in codes:
                session.add(SupervisorLink(person_id=people[subject].id, organization_id=orgs[code].id))
        agreements.publish_default_agreement(session, published_by_id=people["demo-admin"].id)
        world = DemoWorld(people={k: p.id for k, p in people.items()},
                          organizations={k: o.id for k, o in orgs.items()})
    for scenario in SCENARIOS:
        scenario(world)
    return True


@dataclass
class DemoWorld:
    """Ids the scenarios need: demo identities by subject, organizations by code."""

    people: dict[str, int] = field(default_factory=dict)
    organizations: dict[str, int] = field(default_factory=dict)

    @property
    def dana(self) -> int:
        return self.people["demo-supervisor-two-orgs"]

    @property
    def marcus(self) -> int:
        return self.people["demo-supervisor-one-org"]

    @property
    def staff(self) -> int:
        return self.people["demo-staff"]


def _organizations(session: Session) -> dict[str, Organization]:
    orgs = {code: Organization(code=code, name=name, city=city) for code, name, city in ORGANIZATIONS}
    session.add_all(orgs.values())
    session.flush()
    return orgs


def _identities(session: Session) -> dict[str, Person]:
    people = {}
    for identity in DEMO_IDENTITIES:
        person = Person(
            email=identity.email, first_name=identity.first_name, last_name=identity.last_name,
            is_staff=identity.subject in ("demo-staff", "demo-admin"),
            is_admin=identity.subject == "demo-admin",
        )
        session.add(person)
        people[identity.subject] = person
    session.flush()
    return people


def _roster(session: Session, orgs: dict[str, Organization]) -> None:
    since = utcnow() - timedelta(days=400)
    for email, first, last, code, level in ROSTER:
        person = Person(email=email, first_name=first, last_name=last, phone="(406) 555-0100",
                        job_title="Nurse")
        session.add(person)
        session.flush()
        session.add(Grant(person_id=person.id, organization_id=orgs[code].id, access_level=level,
                          immtrax_username=f"{first[0]}{last.split()[0]}".lower(), since=since))


def _new_access(org_id: int, first: str, last: str, email: str, level: AccessLevel,
                kind: RequestType = RequestType.NEW_ACCESS) -> RequestDraft:
    return RequestDraft(
        organization_id=org_id, request_type=kind, first_name=first, last_name=last, email=email,
        phone="406-555-0142", job_title="Medical Assistant",
        start_date=(program_today() + timedelta(days=7)).isoformat(), access_level=level.value,
    )


# --- What people do, through the services ---------------------------------------------------------

DEMO_ADDRESS = "127.0.0.1"
DEMO_BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
                "Safari/537.36")


def _submit(by: int, draft: RequestDraft, tag: str) -> int:
    """A supervisor submits a request from the wizard (one idempotency key per scenario)."""
    return submit_request(by, draft, f"demo-request-{tag}-0000000000", source_ip=DEMO_ADDRESS).id


def _version(request_id: int) -> int:
    with session_scope() as session:
        return session.get(AccessRequest, request_id).version


def _acts(person_id: int, request_id: int, action: Action, reason: str = "", username: str = "") -> None:
    with session_scope() as session:
        actor = load_actor(session, person_id)
    act_on_request(actor, request_id, ActionInput(action, _version(request_id), reason, username),
                   source_ip=DEMO_ADDRESS)


def _staff_does(world: DemoWorld, request_id: int, *actions: Action, reason: str = "",
                username: str = "") -> None:
    """Program staff take these actions on the request page, one after the other."""
    for action in actions:
        _acts(world.staff, request_id, action, reason, username)


def _supervisor_does(supervisor_id: int, request_id: int, action: Action, reason: str = "") -> None:
    _acts(supervisor_id, request_id, action, reason)


def _invitation_link_token(request_id: int) -> str:
    """The token of the request's newest invitation link, read from the email as the invitee would
    (the demo keeps mail in the development mailbox)."""
    with session_scope() as session:
        bodies = session.exec(select(OutboundEmail.body_text).where(OutboundEmail.request_id == request_id)
                              .order_by(OutboundEmail.id.desc())).all()  # type: ignore[union-attr]
    for body in bodies:
        for link in mailbox.links_in(body):
            if INVITATION_LINK.search(link):
                return link.rsplit("/", 1)[-1]
    raise LookupError(f"no invitation email for request {request_id}")


def _sign_as_invitee(request_id: int) -> None:
    """The invited person opens the emailed link, signs in (the demo sign-in), signs the User
    Agreement with every statement ticked and their name typed, and signs out."""
    token = _invitation_link_token(request_id)
    with session_scope() as session:
        request = session.get(AccessRequest, request_id)
        person = session.get(Person, request.subject_person_id)
        person_id, email, first, last = person.id, person.email, person.first_name, person.last_name
        subject = person.okta_subject or invitee_subject(person.id)
        agreement = agreements.current_agreement(session)
        statements, agreement_id = len(json.loads(agreement.acknowledgements)), agreement.id
    claims = {"sub": subject, "email": email, "email_verified": True, "given_name": first,
              "family_name": last}
    signed_in = sessions.complete_sign_in(claims, id_token="", ip_address=DEMO_ADDRESS,
                                          user_agent=DEMO_BROWSER, replaced_raw_id=None)
    signing.sign_agreement(token, person_id=person_id, okta_subject=subject, verified_email=email,
                           typed_name=f"{first} {last}", acknowledged=list(range(statements)),
                           ip_address=DEMO_ADDRESS, user_agent=DEMO_BROWSER,
                           agreement_version_id=agreement_id)
    sessions.end_session(f"{sessions.session_cookie_name()}={signed_in.raw_session_id}",
                         ip_address=DEMO_ADDRESS)


def _let_invitation_run_out(request_id: int) -> None:
    """Nobody signed in time: the housekeeping job expires the invitation once its days are up."""
    later = utcnow() + timedelta(days=get_settings().invitation_lifetime_days, minutes=1)
    reminders.expire_overdue_invitations(later, request_id=request_id)


# --- The scenarios, one request each (numbers follow this order) ----------------------------------


def _awaiting_agreement(world: DemoWorld) -> None:
    """The demo applicant's pending invitation (Jordan signs in as ``demo-applicant``)."""
    _submit(world.dana, _new_access(world.organizations["BFC-0101"], "Jordan", "Tall Bull",
                                    "jordan.tallbull@billingsclinic.example",
                                    AccessLevel.RECORD_MAINTENANCE), "applicant")


def _in_review(world: DemoWorld) -> None:
    """The agreement signed, waiting on staff."""
    signed = _submit(world.dana, _new_access(world.organizations["LPD-0202"], "Kai", "Morningstar",
                                             "kai.morningstar@laurelpeds.example",
                                             AccessLevel.READ_ONLY_CONSENT), "in-review")
    _sign_as_invitee(signed)


def _needs_info(world: DemoWorld) -> None:
    """Staff asked the supervisor a question about a level change."""
    asked = _submit(world.marcus, RequestDraft(
        organization_id=world.organizations["BCH-0303"], request_type=RequestType.PERMISSIONS_CHANGE,
        subject_person_id=_person_id("gray.mccall@bozemanhealth.example"),
        access_level=AccessLevel.RECORD_MAINTENANCE.value, note="No longer orders vaccine."), "needs-info")
    _staff_does(world, asked, Action.QUEUE_FOR_REVIEW, Action.ASK_FOR_INFO,
                reason="Who will manage vaccine lots at Bozeman after this change?")


def _completed(world: DemoWorld) -> None:
    """A Change Employer from Missoula to Billings: signed, then provisioned by staff."""
    moved = _submit(world.dana, _new_access(world.organizations["BFC-0101"], "Indigo", "Brandt",
                                            "indigo.brandt@missoulapharm.example",
                                            AccessLevel.RECORD_MAINTENANCE, RequestType.CHANGE_EMPLOYER),
                    "completed")
    _sign_as_invitee(moved)
    _staff_does(world, moved, Action.PROVISION, username="ibrandt")


def _rejected(world: DemoWorld) -> None:
    rejected = _submit(world.marcus, _new_access(world.organizations["BCH-0303"], "Lane", "Fairweather",
                                                 "lane.fairweather@bozemanhealth.example",
                                                 AccessLevel.VACCINE_MANAGEMENT), "rejected")
    _sign_as_invitee(rejected)
    _staff_does(world, rejected, Action.REJECT,
                reason="Vaccine Management needs a VFC coordinator role; resubmit as Record Maintenance.")


def _cancelled(world: DemoWorld) -> None:
    cancelled = _submit(world.dana, _new_access(world.organizations["LPD-0202"], "Morgan", "Eagleheart",
                                                "morgan.eagleheart@laurelpeds.example",
                                                AccessLevel.READ_ONLY_CONSENT), "cancelled")
    _supervisor_does(world.dana, cancelled, Action.CANCEL, reason="Offer withdrawn.")


def _expired(world: DemoWorld) -> None:
    expired = _submit(world.dana, _new_access(world.organizations["BFC-0101"], "Noel", "Sandoval",
                                              "noel.sandoval@billingsclinic.example",
                                              AccessLevel.RECORD_MAINTENANCE), "expired")
    _let_invitation_run_out(expired)


def _deletion_submitted(world: DemoWorld) -> None:
    """An Access Deletion waiting for staff (the grant is already suspended)."""
    _submit(world.dana, RequestDraft(
        organization_id=world.organizations["BFC-0101"], request_type=RequestType.ACCESS_DELETION,
        subject_person_id=_person_id("casey.lindqvist@billingsclinic.example"),
        deletion_reason="left_employment", last_day=program_today().isoformat()), "deletion")




def _person_id(email: str) -> int:
    with session_scope() as session:
        return session.exec(select(Person.id).where(Person.email == email)).one()


# --- Access over time (issue 16): one function per scenario, through the real services ----------


def _access_over_time(world: DemoWorld) -> None:
    people, orgs = world.people, world.organizations
    _agreements_due_yearly(lapsing_soon="harper.little.owl@bozemanhealth.example")
    _scheduled_removal(people["demo-supervisor-two-orgs"], orgs["LPD-0202"],
                       "finley.ortiz@laurelpeds.example")
    # An organization with a single supervisor: Bozeman Community Health has only Marcus (SUPERVISES),
    # so he is asked on his dashboard to name a backup and staff see it on the succession page.


def _agreements_due_yearly(lapsing_soon: str) -> None:
    """Everyone with access has a re-signing cycle; one person's agreement lapses within 30 days
    (the 30-day reminder goes out on the first housekeeping run)."""
    now = utcnow()
    with session_scope() as session:
        holders = session.exec(select(Person.id, Person.email).join(Grant, Grant.person_id == Person.id)
                               .where(Grant.active).order_by(Person.id)).all()
        for n, (person_id, email) in enumerate(holders):
            due = now + (timedelta(days=20) if email == lapsing_soon else timedelta(days=90 + 25 * n))
            renewals.open_cycle(session, person_id, due, "yearly", now)


def _scheduled_removal(supervisor_id: int, org_id: int, email: str) -> None:
    """An Access Deletion whose last day is three weeks ahead: access ends when that day ends."""
    last_day = program_today() + timedelta(days=21)
    submit_request(supervisor_id, RequestDraft(
        organization_id=org_id, request_type=RequestType.ACCESS_DELETION, subject_person_id=_person_id(email),
        deletion_reason="changed_position", last_day=last_day.isoformat()), "demo-request-scheduled-0000000")


# --- Roster reviews and inactivity (services/reviews.py, services/inactivity.py) ----------------


def _actor(person_id: int) -> Actor:
    from immtrax_portal.services.actors import load_actor
    with session_scope() as session:
        return load_actor(session, person_id)


def _reviews_answered_last_month(world: DemoWorld) -> None:
    """Laurel and Bozeman were reviewed a month ago and their supervisors answered for everyone, so
    the schedule does not ask them again yet."""
    people = world.people
    from immtrax_portal.services import reviews
    staff = _actor(people["demo-staff"])
    month_ago = utcnow() - timedelta(days=30)
    answered = (("LPD-0202", "demo-supervisor-two-orgs"), ("BCH-0303", "demo-supervisor-one-org"))
    for code, supervisor in answered:
        review = reviews.start_extra_review(staff, code, now=month_ago)
        with session_scope() as session:
            items = session.exec(select(RosterReviewItem.id)
                                 .where(RosterReviewItem.review_id == review.id)).all()
        for item_id in items:
            reviews.confirm_item(_actor(people[supervisor]), item_id, now=month_ago + timedelta(days=2))


def _review_in_progress(world: DemoWorld) -> None:
    """Billings Family Clinic: a review started five days ago, one person confirmed so far."""
    people = world.people
    from immtrax_portal.services import reviews
    started = utcnow() - timedelta(days=5)
    review = reviews.start_extra_review(_actor(people["demo-staff"]), "BFC-0101", now=started)
    with session_scope() as session:
        drew = session.exec(select(RosterReviewItem.id).join(Person, Person.id == RosterReviewItem.person_id)
                            .where(RosterReviewItem.review_id == review.id,
                                   Person.email == "drew.farrell@billingsclinic.example")).one()
    reviews.confirm_item(_actor(people["demo-supervisor-two-orgs"]), drew, now=started + timedelta(days=1))


def _idle_user(world: DemoWorld) -> None:
    """The registry's report says Avery Holm (Billings) last signed in 75 days ago: idle, shown to
    Dana to confirm or remove; everyone else signed in this week."""
    people = world.people
    from immtrax_portal.services import inactivity
    today = program_today()   # the registry's report is in the program's days
    lines = ["username,last_login", f"aholm,{(today - timedelta(days=75)).isoformat()}"]
    lines += [f"{name},{(today - timedelta(days=2)).isoformat()}"
              for name in ("dfarrell", "etwo", "fortiz", "gmccall", "hlittle", "ibrandt", "jkeller")]
    staff = _actor(people["demo-staff"])
    parsed = inactivity.parse_report("\n".join(lines).encode())
    inactivity.apply_report(staff, parsed, inactivity.plan_report(staff, parsed).fingerprint)


SCENARIOS: list[Callable[[DemoWorld], None]] = [
    _awaiting_agreement, _in_review, _needs_info, _completed, _rejected, _cancelled, _expired,
    _deletion_submitted,
    # Added after the first eight (request numbers keep their order).
    _reviews_answered_last_month, _review_in_progress, _idle_user, _access_over_time,
]
