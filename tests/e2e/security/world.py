"""Who calls, what they call it on, and what each caller must never receive.

The demo world (``demo_data.py``) gives organizations, requests in every state and the demo
identities; ``add_fixtures`` adds what the harness needs on top, through the portal's own services,
in the running portal's database: a second supervisor of Bozeman, a request *about* Marcus (a
supervisor) waiting on his organization's answer, requests for staff and admin to act on, and
people for the admin's staff-role changes. Targets that allowed calls change are fixtures, never
the demo requests other end-to-end tests look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from sqlmodel import select

from immtrax_portal.auth.sessions import hash_of, new_random_id
from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AccessLevel, RequestType, Role
from immtrax_portal.domain.models import AccessRequest, Invitation, Person, SupervisorLink, WebSession, utcnow
from immtrax_portal.domain.workflow import Action, transition
from immtrax_portal.services import audit
from immtrax_portal.services.invitations import issue_invitation
from immtrax_portal.services.requests import RequestDraft, submit_request
from tests.e2e.security import database
from tests.support.databases import use_database
from tests.support.oidc import walk_sign_in


def _advance(request_id: int, actions: list[Action], actor_id: int | None, role: Role,
             reason: str = "") -> None:
    """The harness's shortcut: moves a request without the screens (only permission cases read
    these requests; the demo world itself is made through the services, ``demo_data``)."""
    with session_scope() as session:
        request = session.get(AccessRequest, request_id)
        for action in actions:
            audit.record_move(session, transition(request, action, actor_id=actor_id, actor_role=role,
                                                  reason=reason if action == Action.ASK_FOR_INFO else ""))
            if action == Action.SIGN_AGREEMENT:
                invitation = session.exec(select(Invitation).where(Invitation.request_id == request.id)).one()
                invitation.consumed_at = utcnow()
                session.add(invitation)
        session.add(request)


# Each caller of the case table, and the demo identity it signs in as (None: no session cookie).
CALLERS: dict[str, str | None] = {
    "anonymous": None,
    "applicant": "demo-applicant",                   # Jordan: a pending invitation, supervises nothing
    "supervisor": "demo-supervisor-two-orgs",        # Dana, on her own organizations (BFC, LPD)
    "supervisor_other_org": "demo-supervisor-one-org",  # Marcus (BCH) aiming at Dana's BFC / LPD
    "supervisor_self": "demo-supervisor-one-org",    # Marcus aiming at the request about himself
    "staff": "demo-staff",                           # Pat
    "admin": "demo-admin",                           # Lee
}
EMAILS = {
    "demo-supervisor-two-orgs": "dana.whitfield@billingsclinic.example",
    "demo-supervisor-one-org": "marcus.reyes@bozemanhealth.example",
    "demo-applicant": "jordan.tallbull@billingsclinic.example",
    "demo-staff": "pat.oconnor@mt.example",
    "demo-admin": "lee.nakamura@mt.example",
}
# Whose organizations' people and requests each caller may see (staff and admin: everything).
VISIBLE_ORGS = {
    "anonymous": set(), "applicant": set(), "supervisor": {"BFC-0101", "LPD-0202"},
    "supervisor_other_org": {"BCH-0303"}, "supervisor_self": {"BCH-0303"},
}
ROBIN = "robin.reed@bozemanhealth.example"          # second supervisor of BCH
SPARE_PERSON = "quinn.spare@mt.example"              # signed in once, not staff: admin adds them
SPARE_STAFF = "riley.spare@mt.example"              # staff, not admin: admin removes them
MARCUS = EMAILS["demo-supervisor-one-org"]
JORDAN = EMAILS["demo-applicant"]
SAGE = "sage.harness@laurelpeds.example"
# Four eyes: program staff who is also a supervisor (of Great Falls) and submits a request there.
# Not one of the seven callers of the case table: her cases are FOUR_EYES_CASES (cases.py).
KIM = "kim.dual@mt.example"
STAFF_SUPERVISOR = "staff_supervisor"


def invitation_token(request_id: int, email: str) -> str:
    """A fresh invitation link for a fixture request (the emailed one is revoked): the harness
    needs the token itself, which the portal stores only as a hash."""
    with session_scope() as session:
        _, token = issue_invitation(session, session.get(AccessRequest, request_id), email)
    return token


def session_cookie(portal: str, subject: str) -> str:
    """A real session cookie, got by signing in through the demo OpenID provider over HTTP."""
    with httpx.Client(timeout=30) as client:
        response = walk_sign_in(client, portal, return_to="/dashboard", choose={"sub": subject})
        assert response.status_code == 303, response.text[:500]
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items()
                         if name.endswith("immtrax_session"))


@dataclass
class World:
    db: str
    portal: str
    org: dict[str, int]
    request: dict[str, int]            # number -> id
    person: dict[str, int]             # email -> id
    cookies: dict[str, str] = field(default_factory=dict)   # caller -> Cookie header
    secrets: dict[str, frozenset[str]] = field(default_factory=dict)  # caller -> never to be sent
    about_marcus: str = ""             # number: Marcus is the subject, needs_info at BCH
    for_staff: str = ""                # number: in_review at BCH, staff asks a question
    for_admin: str = ""                # number: in_review at BCH, admin asks a question
    dana_cancels: str = ""             # number: Dana's own awaiting_agreement request at LPD
    dashboard_cancels: str = ""        # number: Dana's own awaiting_agreement at BFC, dashboard cancel
    dana_resends: str = ""             # number: Dana's own awaiting_agreement at BFC, invitation resent
    jordan_signs: str = ""             # number: Dana's request at LPD about Jordan, whose link he signs
    jordan_token: str = ""             # invitation link token: the applicant (Jordan) signs it, at LPD
    sage_token: str = ""               # invitation link token for Sage at LPD: nobody signed in is Sage
    kim_submitted: str = ""            # number: in_review at GFP, submitted by Kim (staff and supervisor)
    kim_session: str = ""              # Kim's session id (a real server-side session row)
    drew_end: int = 0                  # access_end id: Drew's time-limited access at BFC (Dana's)
    drew_grant: int = 0                # his grant at BFC (idle: on Dana's "Needs you" list)
    nomination_for_staff: int = 0      # supervisor_nomination ids: Marcus asks for BCH backups;
    nomination_for_admin: int = 0      # staff and admin each approve one
    dana_answers: str = ""             # number: needs_info at LPD, Dana answers from her dashboard

    def id_of(self, subject: str) -> int:
        return self.person[EMAILS[subject]]

    def caller_id(self, caller: str) -> int | None:
        subject = CALLERS[caller]
        return self.id_of(subject) if subject else None


def _new_access(org_id: int, first: str, last: str, email: str) -> RequestDraft:
    return RequestDraft(organization_id=org_id, request_type=RequestType.NEW_ACCESS, first_name=first,
                        last_name=last, email=email, phone="406-555-0199", job_title="Nurse",
                        start_date=(date.today() + timedelta(days=10)).isoformat(),
                        access_level=AccessLevel.RECORD_MAINTENANCE.value)


def add_fixtures(database_url: str, world: World) -> None:
    """The harness's own rows, made by the portal's services in the running portal's database."""
    bch, lpd = world.org["BCH-0303"], world.org["LPD-0202"]
    with use_database(database_url):
        with session_scope() as session:
            robin = Person(email=ROBIN, first_name="Robin", last_name="Reed")
            spare = Person(email=SPARE_PERSON, first_name="Quinn", last_name="Spare")
            spare_staff = Person(email=SPARE_STAFF, first_name="Riley", last_name="Spare", is_staff=True)
            session.add_all([robin, spare, spare_staff])
            session.flush()
            session.add(SupervisorLink(person_id=robin.id, organization_id=bch))
            robin_id = robin.id
        marcus, dana, pat = (world.id_of(s) for s in ("demo-supervisor-one-org",
                                                        "demo-supervisor-two-orgs", "demo-staff"))
        about = submit_request(robin_id, _new_access(bch, "Marcus", "Reyes", MARCUS),
                               "harness-about-marcus-000000")
        _advance(about.id, [Action.SIGN_AGREEMENT, Action.ASK_FOR_INFO], pat, Role.STAFF,
                 reason="Which clinic will Marcus work at?")
        for_staff = submit_request(marcus, _new_access(bch, "Sky", "Harness", "sky@bozemanhealth.example"),
                                   "harness-for-staff-00000000")
        for_admin = submit_request(marcus, _new_access(bch, "Ash", "Harness", "ash@bozemanhealth.example"),
                                   "harness-for-admin-00000000")
        for request_id in (for_staff.id, for_admin.id):
            _advance(request_id, [Action.SIGN_AGREEMENT], None, Role.APPLICANT)
        cancels = submit_request(dana, _new_access(lpd, "Wren", "Harness", "wren.harness@laurelpeds.example"),
                                 "harness-dana-cancels-00000")
        bfc = world.org["BFC-0101"]
        dashboard_cancels, dana_resends, jordan_signs, sage = (
            submit_request(dana, _new_access(org_id, first, last, email), f"harness-{tag}-0000000000")
            for org_id, first, last, email, tag in (
                (bfc, "Fern", "Harness", "fern.harness@billingsclinic.example", "dashboard-cancels"),
                (bfc, "Moss", "Harness", "moss.harness@billingsclinic.example", "dana-resends"),
                (lpd, "Jordan", "Tall Bull", JORDAN, "jordan-signs"),
                (lpd, "Sage", "Harness", SAGE, "sage-invited")))
        world.jordan_token = invitation_token(jordan_signs.id, JORDAN)
        world.sage_token = invitation_token(sage.id, SAGE)
        world.dashboard_cancels, world.dana_resends = dashboard_cancels.number, dana_resends.number
        world.jordan_signs = jordan_signs.number
        world.about_marcus, world.for_staff = about.number, for_staff.number
        world.for_admin, world.dana_cancels = for_admin.number, cancels.number
        world.kim_submitted, world.kim_session = add_staff_supervisor(world)
        add_access_over_time(world, marcus)
        asked = submit_request(dana, _new_access(lpd, "Ivy", "Harness", "ivy.harness@laurelpeds.example"),
                               "harness-dana-answers-00000")
        _advance(asked.id, [Action.SIGN_AGREEMENT, Action.ASK_FOR_INFO], pat, Role.STAFF,
                 reason="Which room will Ivy work in?")
        world.dana_answers = asked.number
        with session_scope() as session:
            world.person.update({p.email: p.id for p in session.exec(select(Person))})
    world.request.update({r["number"]: r["id"] for r in database.query(
        world.db, "SELECT id, number FROM access_request")})


DREW = "drew.farrell@billingsclinic.example"


def add_access_over_time(world: World, marcus: int) -> None:
    """Drew's time-limited access at BFC ends in 10 days (Dana may extend or move it; it is on her
    "Needs you" list) and imMTrax reports him idle for 70 days (on her list too); Marcus asked for
    two more supervisors of BCH (staff and admin each decide on one)."""
    from immtrax_portal.domain.models import Grant, RegistryActivity
    from immtrax_portal.program_time import program_today
    from immtrax_portal.services import access_ends, succession
    from immtrax_portal.services.actors import load_actor

    with session_scope() as session:
        grant = session.exec(select(Grant).join(Person, Person.id == Grant.person_id)
                             .where(Person.email == DREW, Grant.active)).one()
        world.drew_end = access_ends.schedule(session, grant, access_ends.END_DATE,
                                              program_today() + timedelta(days=10), request=None,
                                              actor_id=None, actor_role=Role.SYSTEM).id
        world.drew_grant = grant.id
        session.merge(RegistryActivity(username=grant.immtrax_username.lower(),
                                     last_login_at=utcnow() - timedelta(days=70), reported_at=utcnow()))
        actor = load_actor(session, marcus)
    bch = world.org["BCH-0303"]
    world.nomination_for_staff = succession.nominate_supervisor(
        actor, bch, "nia.nominee@bozemanhealth.example", "Nia", "Nominee")
    world.nomination_for_admin = succession.nominate_supervisor(
        actor, bch, "oren.nominee@bozemanhealth.example", "Oren", "Nominee")


def add_staff_supervisor(world: World) -> tuple[str, str]:
    """Kim: program staff and a supervisor of Great Falls, with a signed-in session; the New Access
    she submitted there waits in review. Returns (its number, her session id)."""
    gfp = world.org["GFP-0505"]
    with session_scope() as session:
        kim = Person(email=KIM, first_name="Kim", last_name="Dual", is_staff=True)
        session.add(kim)
        session.flush()
        session.add(SupervisorLink(person_id=kim.id, organization_id=gfp))
        raw, now = new_random_id(), utcnow()
        session.add(WebSession(id_hash=hash_of(raw), person_id=kim.id, created_at=now, last_seen_at=now,
                               expires_at=now + timedelta(hours=8)))
        kim_id = kim.id
    mine = submit_request(kim_id, _new_access(gfp, "Wade", "Harness", "wade.harness@greatfallsph.example"),
                          "harness-kim-submits-000000")
    _advance(mine.id, [Action.SIGN_AGREEMENT], None, Role.APPLICANT)
    return mine.number, raw


def load_world(portal: str, db: str) -> World:
    org = {r["code"]: r["id"] for r in database.query(db, "SELECT id, code FROM organization")}
    request = {r["number"]: r["id"] for r in database.query(db, "SELECT id, number FROM access_request")}
    person = {r["email"]: r["id"] for r in database.query(db, "SELECT id, email FROM person")}
    return World(db=db, portal=portal, org=org, request=request, person=person)


def _org_secrets(db: str) -> dict[str, set[str]]:
    """Per organization: names and emails of the people it holds or requests access for, and the
    numbers of its requests."""
    rows = database.query(db, """
        SELECT o.code, p.email, p.first_name || ' ' || p.last_name AS name, NULL AS number
          FROM access_grant g JOIN person p ON p.id = g.person_id
          JOIN organization o ON o.id = g.organization_id
        UNION ALL
        SELECT o.code, p.email, p.first_name || ' ' || p.last_name, r.number
          FROM access_request r JOIN person p ON p.id = r.subject_person_id
          JOIN organization o ON o.id = r.organization_id""")
    secrets: dict[str, set[str]] = {}
    for row in rows:
        found = (row["email"], row["name"], row["number"])
        secrets.setdefault(row["code"], set()).update(v for v in found if v)
    return secrets


def compute_secrets(world: World) -> None:
    """What each caller must never receive: other organizations' people and request numbers, minus
    what the caller may see anyway (their own name and requests, their organizations' rows)."""
    by_org = _org_secrets(world.db)
    everything = set().union(*by_org.values())
    for caller, subject in CALLERS.items():
        if caller in ("staff", "admin"):
            world.secrets[caller] = frozenset()
            continue
        visible = set().union(*(by_org.get(code, set()) for code in VISIBLE_ORGS[caller]))
        if subject:
            email = EMAILS[subject]
            own = database.query(world.db, """
                SELECT p.first_name || ' ' || p.last_name AS name, r.number FROM person p
                LEFT JOIN access_request r ON r.subject_person_id = p.id WHERE p.email = ?""", email)
            visible |= {email} | {r["name"] for r in own} | {r["number"] for r in own if r["number"]}
        world.secrets[caller] = frozenset(everything - visible)
