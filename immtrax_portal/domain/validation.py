"""Input rules for requests. Each returns field -> message; an empty dict means valid.

The wizard shows these next to each field; the submit service runs them again and is the authority.
"""

from __future__ import annotations

from datetime import date, timedelta

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from immtrax_portal.domain.enums import AccessLevel, DeletionReason
from immtrax_portal.domain.person_names import (  # noqa: F401  (names have their own module)
    name_problem,
    tidy_name,
)

MAX_START_DAYS_PAST = 30
MAX_LAST_DAY_DAYS_AHEAD = 90


def normalize_email(value: str) -> str:
    return value.strip().lower()


def email_problem(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "Enter the person's work email address."
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "Enter an email address like name@clinic.org."
    return None


def phone_problem(value: str) -> str | None:
    if not value.strip():
        return "Enter a phone number where the person can be reached."
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return "Enter a US phone number like (406) 555-0123."
    if not phonenumbers.is_valid_number_for_region(number, "US"):
        return "Enter a US phone number like (406) 555-0123."
    return None


def format_phone(value: str) -> str:
    """(406) 555-0123 style, the way the program writes numbers."""
    number = phonenumbers.parse(value, "US")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def shown_phone(value: str) -> str:
    """A phone number as every page shows it ((406) 555-0123); one that is not a valid US number
    (an old row, a number being typed) as it was written."""
    if phone_problem(value) is not None:
        return value.strip()
    return format_phone(value)


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def start_date_problem(value: str, today: date) -> str | None:
    if not value.strip():
        return "Enter the start date."
    start = parse_date(value)
    if start is None:
        return "Enter the start date as a real date, for example 2026-12-01."
    if start < today - timedelta(days=MAX_START_DAYS_PAST):
        return f"The start date cannot be more than {MAX_START_DAYS_PAST} days in the past."
    if start > today + timedelta(days=365):
        return "The start date cannot be more than a year ahead."
    return None


def last_day_problem(value: str, today: date) -> str | None:
    if not value.strip():
        return "Enter the person's last day with access."
    last_day = parse_date(value)
    if last_day is None:
        return "Enter the last day as a real date, for example 2026-12-01."
    if last_day > today + timedelta(days=MAX_LAST_DAY_DAYS_AHEAD):
        return f"The last day cannot be more than {MAX_LAST_DAY_DAYS_AHEAD} days ahead."
    if last_day < today - timedelta(days=365):
        return "The last day cannot be more than a year in the past."
    return None


MAX_ACCESS_END_DAYS_AHEAD = 365


def access_ends_on_problem(value: str, start_date: str, today: date) -> str | None:
    """The optional end date of time-limited access: after the start date, within a year."""
    if not value.strip():
        return None
    ends = parse_date(value)
    if ends is None:
        return "Enter the end date as a real date, for example 2026-12-01, or leave it empty."
    start = parse_date(start_date) or today
    if ends <= max(start, today):
        return "The end date must be after the start date and after today."
    if ends > today + timedelta(days=MAX_ACCESS_END_DAYS_AHEAD):
        return f"The end date cannot be more than {MAX_ACCESS_END_DAYS_AHEAD} days ahead."
    return None


def job_title_problem(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "Enter the person's job title."
    if len(value) > 120:
        return "Keep the job title under 120 characters."
    return None


def access_level_problem(value: str) -> str | None:
    if value not in {level.value for level in AccessLevel}:
        return "Choose an access level."
    return None


def deletion_reason_problem(value: str) -> str | None:
    if value not in {reason.value for reason in DeletionReason}:
        return "Choose why access should be removed."
    return None


def note_problem(value: str, *, required: bool = False, what: str = "note") -> str | None:
    if required and not value.strip():
        return f"Enter a {what}."
    if len(value) > 2000:
        return f"Keep the {what} under 2000 characters."
    return None


def new_person_problems(fields: dict[str, str], today: date) -> dict[str, str]:
    """Rules for the person of a New Access or Change Employer request."""
    checks = {
        "first_name": name_problem(fields.get("first_name", ""), "first"),
        "last_name": name_problem(fields.get("last_name", ""), "last"),
        "email": email_problem(fields.get("email", "")),
        "phone": phone_problem(fields.get("phone", "")),
        "job_title": job_title_problem(fields.get("job_title", "")),
        "start_date": start_date_problem(fields.get("start_date", ""), today),
    }
    return {field: message for field, message in checks.items() if message}
