"""The roster reviews' schedule, set by staff on /staff/reviews: how often each level is reviewed,
the window supervisors have to answer, the reminders before its end and the grace after it.

Until staff first save it, the schedule is the settings' (``review_*`` in settings.py); afterwards
it is the one ``review_schedule`` row. ``services/reviews.py`` reads it through ``current_schedule``
when it starts a review (its window and grace are kept on the review, so a change applies to the
reviews started afterwards) and when it sends reminders (those of open reviews too). Saving
writes the row and one audit event with every value before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AccessLevel
from immtrax_portal.domain.models import ReviewSchedule, utcnow
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.services import audit
from immtrax_portal.settings import Settings, get_settings

ROW_ID = 1
FIELDS = ("every_months_vaccine_management", "every_months_other_levels", "window_days",
          "first_reminder_days", "second_reminder_days", "grace_days")


def _bounds(setting: str) -> tuple[int, int]:
    """The lowest and highest value the settings accept for ``setting`` (one truth for both)."""
    found = {type(m).__name__: m for m in Settings.model_fields[setting].metadata}
    return found["Ge"].ge, found["Le"].le


MONTHS = _bounds("review_every_months_vaccine_management")
WINDOW = _bounds("review_window_days")
GRACE = _bounds("review_grace_days")


@dataclass(frozen=True)
class Schedule:
    every_months_vaccine_management: int
    every_months_other_levels: int
    window_days: int
    reminder_days: tuple[int, ...]   # days before the end of the window, the earliest first
    grace_days: int

    def months_for(self, level: AccessLevel) -> int:
        return (self.every_months_vaccine_management if level == AccessLevel.VACCINE_MANAGEMENT
                else self.every_months_other_levels)

    def values(self) -> dict[str, int | None]:
        """One value per form field (a third or later reminder of the settings is not one)."""
        first, second = (list(self.reminder_days) + [None, None])[:2]
        return {"every_months_vaccine_management": self.every_months_vaccine_management,
                "every_months_other_levels": self.every_months_other_levels,
                "window_days": self.window_days, "first_reminder_days": first,
                "second_reminder_days": second, "grace_days": self.grace_days}

    def as_form(self) -> dict[str, str]:
        return {name: "" if value is None else str(value) for name, value in self.values().items()}

    def sentence(self) -> str:
        reminders = " and ".join(str(d) for d in self.reminder_days)
        return (f"Reviews start on their own: every {self.every_months_vaccine_management} months for "
                f"Vaccine Management and every {self.every_months_other_levels} months for the other "
                f"levels, with {self.window_days} days to answer"
                + (f", reminders {reminders} days before the end" if reminders else "")
                + f" and {self.grace_days} days of grace.")


def _reminders(*days: int | None) -> tuple[int, ...]:
    return tuple(sorted({d for d in days if d is not None and d > 0}, reverse=True))


def defaults(settings: Settings | None = None) -> Schedule:
    """The settings' schedule (what applies until staff save one)."""
    s = settings or get_settings()
    return Schedule(s.review_every_months_vaccine_management, s.review_every_months_other_levels,
                    s.review_window_days, _reminders(*s.review_reminder_days_before_end),
                    s.review_grace_days)


def _of_row(row: ReviewSchedule) -> Schedule:
    return Schedule(row.every_months_vaccine_management, row.every_months_other_levels, row.window_days,
                    _reminders(row.first_reminder_days, row.second_reminder_days), row.grace_days)


def current_schedule(session: Session | None = None) -> Schedule:
    """The stored schedule, else the settings' defaults."""
    if session is None:
        with session_scope() as own:
            return current_schedule(own)
    row = session.get(ReviewSchedule, ROW_ID)
    return _of_row(row) if row is not None else defaults()


# --- Changing it ----------------------------------------------------------------------------------

class ScheduleProblems(ValueError):
    """Some values were not whole numbers in range; nothing was saved. ``problems``: field -> words."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("Some values of the schedule need fixing.")
        self.problems = problems


def _whole(form: dict, name: str) -> int | None:
    raw = str(form.get(name, "")).strip()[:8]
    return int(raw) if raw.isascii() and raw.isdigit() else None


def parse_schedule(form: dict) -> Schedule:
    """The form's schedule (``FIELDS``), or ScheduleProblems naming each bad field in plain words."""
    problems: dict[str, str] = {}

    def number(name: str, low: int, high: int, words: str) -> int | None:
        value = _whole(form, name)
        if value is None or not low <= value <= high:
            problems[name] = f"Enter {words.format(low=low, high=high)}."
            return None
        return value

    vaccine = number("every_months_vaccine_management", *MONTHS,
                     "the months between Vaccine Management reviews as a whole number from {low} to {high}")
    other = number("every_months_other_levels", *MONTHS,
                   "the months between reviews of the other levels as a whole number from {low} to {high}")
    window = number("window_days", *WINDOW,
                    "the review window as a whole number of days from {low} to {high}")
    latest = (window if window is not None else WINDOW[1]) - 1   # a reminder comes before the end
    if latest < 1:
        problems["first_reminder_days"] = ("A review window of 1 day leaves no day for a reminder before "
                                           "its end: enter a window of 2 days or more.")
        first = None
    else:
        first = number("first_reminder_days", 1, latest,
                       "the first reminder as a whole number of days before the end, from {low} to {high}")
    second = None
    if str(form.get("second_reminder_days", "")).strip() and latest >= 1:
        second = _whole(form, "second_reminder_days")
        if second is None or not 1 <= second <= latest:
            problems["second_reminder_days"] = (f"Enter the second reminder as a whole number of days "
                                                f"before the end, from 1 to {latest}, or leave it empty.")
        elif second == first:
            problems["second_reminder_days"] = ("The second reminder is on the same day as the first: "
                                                "enter a different number of days, or leave it empty.")
    grace = number("grace_days", *GRACE, "the grace period as a whole number of days from {low} to {high}")
    if problems:
        raise ScheduleProblems(problems)
    return Schedule(vaccine, other, window, _reminders(first, second), grace)  # type: ignore[arg-type]


def changed_values(before: Schedule, after: Schedule) -> dict[str, dict[str, int | None]]:
    """Each value that differs: ``{field: {"from": old, "to": new}}`` (a third reminder counts too)."""
    old, new = before.values(), after.values()
    changed = {name: {"from": old[name], "to": new[name]} for name in FIELDS if old[name] != new[name]}
    for index, (was, now) in enumerate(zip_longest(before.reminder_days[2:], after.reminder_days[2:])):
        if was != now:
            changed[f"reminder_{index + 3}_days"] = {"from": was, "to": now}
    return changed


def save_schedule(actor: Actor, schedule: Schedule, *, source_ip: str = "") -> int:
    """Store the schedule (one audit event when anything changed); returns how many values changed."""
    require_staff(actor)
    try:
        return _save(actor, schedule, source_ip)
    except IntegrityError:   # two first saves at once: the other one made the row; change it
        return _save(actor, schedule, source_ip)


def _save(actor: Actor, schedule: Schedule, source_ip: str) -> int:
    with session_scope() as session:
        row = session.get(ReviewSchedule, ROW_ID, with_for_update=True)
        changed = changed_values(_of_row(row) if row is not None else defaults(), schedule)
        if not changed:
            return 0
        values = schedule.values()
        row = row or ReviewSchedule(id=ROW_ID, **values)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by_id = utcnow(), actor.person_id
        session.add(row)
        audit.record(session, action=AuditAction.SET_REVIEW_SCHEDULE, actor_id=actor.person_id,
                     actor_role=actor.role, target_type="review_schedule", target_id=ROW_ID,
                     source_ip=source_ip, reason=schedule.sentence()[:200],
                     details={"changed": changed})
        return len(changed)
