"""What makes an organization's fields valid. Pure: the edit form and the CSV import share it.

The code is the organization's provider PIN. It is stored upper-cased, so the unique constraint on
the column makes it unique case-insensitively: "bfc-0101" and "BFC-0101" are the same organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE_MAX = 32
NAME_MAX = 200
CITY_MAX = 100
_CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9._/-]*[A-Z0-9])?$")


@dataclass(frozen=True)
class OrganizationFields:
    code: str
    name: str
    city: str = ""
    active: bool = True


def normalize_code(raw: str) -> str:
    return raw.strip().upper()


def tidy_text(raw: str) -> str:
    """Inner runs of spaces collapse to one; leading and trailing space goes."""
    return " ".join(raw.split())


def tidy(fields: OrganizationFields) -> OrganizationFields:
    return OrganizationFields(code=normalize_code(fields.code), name=tidy_text(fields.name),
                              city=tidy_text(fields.city), active=bool(fields.active))


def code_problem(code: str) -> str | None:
    code = normalize_code(code)
    if not code:
        return "Enter the organization's code (its provider PIN)."
    if len(code) > CODE_MAX:
        return f"The code must be {CODE_MAX} characters or fewer."
    if not _CODE.match(code):
        return ("The code may contain only letters, digits, hyphens, dots, slashes and underscores, "
                "and must start and end with a letter or digit.")
    return None


def name_problem(name: str) -> str | None:
    name = tidy_text(name)
    if not name:
        return "Enter the organization's name."
    if len(name) > NAME_MAX:
        return f"The name must be {NAME_MAX} characters or fewer (it has {len(name)})."
    return None


def city_problem(city: str) -> str | None:
    if len(tidy_text(city)) > CITY_MAX:
        return f"The city must be {CITY_MAX} characters or fewer."
    return None


def organization_problems(fields: OrganizationFields) -> dict[str, str]:
    """field -> message, in the order of the form; empty when the fields are valid."""
    found = {"name": name_problem(fields.name), "code": code_problem(fields.code),
             "city": city_problem(fields.city)}
    return {field: message for field, message in found.items() if message}


_YES = {"yes", "y", "true", "t", "1", "active"}
_NO = {"no", "n", "false", "f", "0", "inactive"}


def parse_active(raw: str) -> bool | None:
    """yes/no, true/false, 1/0, active/inactive, any case; None when blank. ValueError otherwise."""
    value = raw.strip().lower()
    if not value:
        return None
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"Active must be yes or no (it is \"{raw.strip()[:20]}\").")
