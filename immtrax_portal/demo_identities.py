"""The people of the embedded demo: the demo sign-in page offers exactly these identities.

Shared by the demo OpenID Connect provider (which issues their ID tokens) and the demo data
loader (which creates their Person rows, organizations and requests).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoIdentity:
    subject: str
    email: str
    first_name: str
    last_name: str
    description: str


DEMO_IDENTITIES: tuple[DemoIdentity, ...] = (
    DemoIdentity(
        "demo-supervisor-two-orgs", "dana.whitfield@billingsclinic.example", "Dana", "Whitfield",
        "Supervisor of two organizations (Billings Family Clinic and Laurel Pediatrics)",
    ),
    DemoIdentity(
        "demo-supervisor-one-org", "marcus.reyes@bozemanhealth.example", "Marcus", "Reyes",
        "Supervisor of one organization (Bozeman Community Health)",
    ),
    DemoIdentity(
        "demo-applicant", "jordan.tallbull@billingsclinic.example", "Jordan", "Tall Bull",
        "New employee with a pending User Agreement invitation",
    ),
    DemoIdentity(
        "demo-staff", "pat.oconnor@mt.example", "Pat", "O'Connor",
        "Montana Immunization Program staff",
    ),
    DemoIdentity(
        "demo-admin", "lee.nakamura@mt.example", "Lee", "Nakamura",
        "Program staff with the admin flag",
    ),
)


INVITEE_SUBJECT_PREFIX = "demo-invitee-"


def invitee_subject(person_id: int) -> str:
    """The demo sign-in subject of a person invited in the demo (anyone a supervisor invites while
    trying the portal): the demo provider signs them in as this, the portal links it by email."""
    return f"{INVITEE_SUBJECT_PREFIX}{int(person_id)}"
