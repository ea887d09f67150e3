"""The embedded demo world: organizations, the demo identities, grants and requests in every state.

Requests are made through the real submit service and moved with the real lifecycle, so the demo
shows exactly what the portal would have produced. Loading twice changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.demo_identities import DEMO_IDENTITIES
from immtrax_portal.domain.enums import AccessLevel, RequestType, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    Grant,
    Invitation,
    Organization,
    Person,
    SupervisorLink,
    utcnow,
)
from immtrax_portal.domain.workflow import Action, transition
from immtrax_portal.services import agreements, audit
from immtrax_portal.services.requests import RequestDraft, submit_request

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
        ids = {k: p.id for k, p in people.items()}
        org_ids = {k: o.id for k, o in orgs.items()}
    _requests_in_every_state(ids, org_ids)
    return True


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
        start_date=(date.today() + timedelta(days=7)).isoformat(), access_level=level.value,
    )


def _requests_in_every_state(people: dict[str, int], orgs: dict[str, int]) -> None:
    dana, marcus = people["demo-supervisor-two-orgs"], people["demo-supervisor-one-org"]
    staff = people["demo-staff"]
    bfc, lpd, bch = orgs["BFC-0101"], orgs["LPD-0202"], orgs["BCH-0303"]

    def submit(by: int, draft: RequestDraft, tag: str) -> int:
        return submit_request(by, draft, f"demo-request-{tag}-0000000000").id

    # awaiting_agreement: the demo applicant's pending invitation.
    submit(dana, _new_access(bfc, "Jordan", "Tall Bull", "jordan.tallbull@billingsclinic.example",
                             AccessLevel.RECORD_MAINTENANCE), "applicant")
    # in_review: an agreement signed, waiting on staff.
    signed = submit(dana, _new_access(lpd, "Kai", "Morningstar", "kai.morningstar@laurelpeds.example",
                                      AccessLevel.READ_ONLY_CONSENT), "in-review")
    _advance(signed, [Action.SIGN_AGREEMENT], None, Role.APPLICANT)
    # needs_info: staff asked the supervisor a question.
    asked = submit(marcus, RequestDraft(
        organization_id=bch, request_type=RequestType.PERMISSIONS_CHANGE,
        subject_person_id=_person_id("gray.mccall@bozemanhealth.example"),
        access_level=AccessLevel.RECORD_MAINTENANCE.value, note="No longer orders vaccine."), "needs-info")
    _advance(asked, [Action.QUEUE_FOR_REVIEW, Action.ASK_FOR_INFO], staff, Role.STAFF,
             reason="Who will manage vaccine lots at Bozeman after this change?")
    # completed: a Change Employer from Missoula to Billings, provisioned.
    moved = submit(dana, _new_access(bfc, "Indigo", "Brandt", "indigo.brandt@missoulapharm.example",
                                     AccessLevel.RECORD_MAINTENANCE, RequestType.CHANGE_EMPLOYER),
                   "completed")
    _advance(moved, [Action.SIGN_AGREEMENT, Action.PROVISION], staff, Role.STAFF)
    # rejected, cancelled and expired.
    rejected = submit(marcus, _new_access(bch, "Lane", "Fairweather",
                                          "lane.fairweather@bozemanhealth.example",
                                          AccessLevel.VACCINE_MANAGEMENT), "rejected")
    _advance(rejected, [Action.SIGN_AGREEMENT, Action.REJECT], staff, Role.STAFF,
             reason="Vaccine Management needs a VFC coordinator role; resubmit as Record Maintenance.")
    cancelled = submit(dana, _new_access(lpd, "Morgan", "Eagleheart", "morgan.eagleheart@laurelpeds.example",
                                         AccessLevel.READ_ONLY_CONSENT), "cancelled")
    _advance(cancelled, [Action.CANCEL], dana, Role.SUPERVISOR, reason="Offer withdrawn.")
    expired = submit(dana, _new_access(bfc, "Noel", "Sandoval", "noel.sandoval@billingsclinic.example",
                                       AccessLevel.RECORD_MAINTENANCE), "expired")
    _advance(expired, [Action.EXPIRE_INVITATION], None, Role.SYSTEM)
    # submitted: an Access Deletion waiting for staff (the grant is already suspended).
    submit(dana, RequestDraft(
        organization_id=bfc, request_type=RequestType.ACCESS_DELETION,
        subject_person_id=_person_id("casey.lindqvist@billingsclinic.example"),
        deletion_reason="left_employment", last_day=date.today().isoformat()), "deletion")


def _person_id(email: str) -> int:
    with session_scope() as session:
        return session.exec(select(Person.id).where(Person.email == email)).one()


def _advance(request_id: int, actions: list[Action], actor_id: int | None, role: Role,
             reason: str = "") -> None:
    """Demo shortcut for moves whose own screens come with later features."""
    with session_scope() as session:
        request = session.get(AccessRequest, request_id)
        for action in actions:
            audit.record_move(session, transition(request, action, actor_id=actor_id, actor_role=role,
                                   reason=reason if action in (Action.REJECT, Action.ASK_FOR_INFO) else ""))
            if action in (Action.SIGN_AGREEMENT, Action.EXPIRE_INVITATION):
                invitation = session.exec(select(Invitation).where(Invitation.request_id == request.id)).one()
                invitation.consumed_at = utcnow() if action == Action.SIGN_AGREEMENT else None
                if action == Action.EXPIRE_INVITATION:
                    invitation.expires_at = utcnow() - timedelta(days=1)
                session.add(invitation)
            if action == Action.PROVISION:
                _provision(session, request)
        session.add(request)


def _provision(session: Session, request: AccessRequest) -> None:
    held = select(Grant).where(Grant.person_id == request.subject_person_id, Grant.active)
    for grant in session.exec(held):
        grant.active, grant.until = False, utcnow()
        session.add(grant)
    existing = session.exec(select(Grant).where(Grant.person_id == request.subject_person_id,
                                                Grant.organization_id == request.organization_id)).first()
    grant = existing or Grant(person_id=request.subject_person_id, organization_id=request.organization_id,
                              access_level=request.access_level)
    grant.active, grant.until, grant.access_level = True, None, request.access_level
    grant.immtrax_username = "ibrandt"
    session.add(grant)
