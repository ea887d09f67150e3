"""The rows of a several-people request, as typed into the table or read from CSV.

A row is text as the client sent it, cut to the wizard's own limits (``services.wizard.answers``),
so the checks that follow are the wizard's. CSV is read with the csv module (linear in its size)
after three bounds: bytes, rows, and cells per row. A header row is optional: with one, its columns
may come in any order; without, they are first name, last name, work email, phone, job title,
start date, level.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, replace

from immtrax_portal.domain.enums import AccessLevel, RequestType
from immtrax_portal.services.wizard.answers import Answers, bounded

MAX_PEOPLE = 25
MAX_CSV_BYTES = 64 * 1024
MAX_CELLS = 12
# The row's fields, in the order of a CSV without a header (and of the table's columns).
FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "start_date", "access_level")
LABELS = {"first_name": "First name", "last_name": "Last name", "email": "Work email", "phone": "Phone",
          "job_title": "Job title", "start_date": "Start date", "access_level": "Level"}
_HEADERS = {
    "first_name": {"first name", "first", "given name", "first_name"},
    "last_name": {"last name", "last", "surname", "family name", "last_name"},
    "email": {"work email", "email", "e-mail", "email address", "work_email"},
    "phone": {"phone", "phone number", "telephone", "work phone"},
    "job_title": {"job title", "title", "position", "job_title"},
    "start_date": {"start date", "start", "first day", "start_date"},
    "access_level": {"level", "access level", "imMTrax level".lower(), "access_level"},
}
KINDS = (RequestType.NEW_ACCESS.value, RequestType.CHANGE_EMPLOYER.value)


class CsvRejected(ValueError):
    """The CSV as a whole cannot be read; the message says why in plain words. Nothing changed."""


@dataclass(frozen=True)
class PersonRow:
    """One person of the submission, as text; ``request_type`` is New Access unless the supervisor
    made the row a Change Employer (the registry's one-click advice)."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    job_title: str = ""
    start_date: str = ""
    access_level: str = ""
    request_type: str = RequestType.NEW_ACCESS.value

    @classmethod
    def of(cls, values: dict[str, object]) -> PersonRow:
        """A row from whatever a client sent: known fields, strings only, bounded."""
        kind = values.get("request_type")
        return cls(**{name: bounded(name, value) for name in FIELDS
                      if isinstance(value := values.get(name), str)},
                   request_type=kind if kind in KINDS else RequestType.NEW_ACCESS.value)

    @property
    def is_blank(self) -> bool:
        return not any(getattr(self, name).strip() for name in FIELDS)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def as_kind(self, request_type: str) -> PersonRow:
        return replace(self, request_type=request_type if request_type in KINDS else self.request_type)

    def answers(self, organization_id: int) -> Answers:
        """The row as the wizard's answers, the level read as the wizard stores it."""
        return Answers(organization_id=str(organization_id), request_type=self.request_type,
                       **{name: getattr(self, name) for name in FIELDS if name != "access_level"},
                       access_level=level_value(self.access_level))


def level_value(text: str) -> str:
    """A level as people write it ("Record Maintenance", "record_maintenance", "2") as the wizard
    stores it; anything else is kept as typed, so the check says what to choose."""
    wanted = " ".join(text.replace("_", " ").split()).lower()
    for rank, level in enumerate(AccessLevel, start=1):
        if wanted in (level.label.lower(), level.value.replace("_", " "), str(rank)):
            return level.value
    return text.strip()


def _column_order(first: list[str]) -> tuple[str, ...] | None:
    """The fields a header row names, in its order; None when the first row is not a header."""
    names = [" ".join(cell.split()).lower() for cell in first]
    found = [next((field for field, aliases in _HEADERS.items() if name in aliases), "") for name in names]
    return tuple(found) if sum(1 for f in found if f) >= 2 else None


def _text_of(data: bytes | str) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            raise CsvRejected(f"The file is larger than {MAX_CSV_BYTES // 1024} KB. A submission holds at "
                              f"most {MAX_PEOPLE} people: split the list.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CsvRejected("The file is not UTF-8 text. Save it as \"CSV UTF-8\" and try again.") from None
    if len(data) > MAX_CSV_BYTES:
        raise CsvRejected(f"That is more than {MAX_CSV_BYTES // 1024} KB of text. A submission holds at "
                          f"most {MAX_PEOPLE} people: split the list.")
    if "\x00" in data:
        raise CsvRejected("The text holds characters a CSV file cannot have. Save it as CSV and try again.")
    return data.lstrip("\ufeff")


def parse_people_csv(data: bytes | str) -> list[PersonRow]:
    """The people of a pasted or uploaded CSV, blank lines skipped (raises ``CsvRejected``)."""
    text = _text_of(data)
    try:
        dialect = csv.excel_tab if text.count("\t") > text.count(",") else csv.excel  # pasted from a sheet
        records = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        raise CsvRejected("The CSV could not be read: check its quotes (a cell that starts with \" must "
                          "end with \").") from None
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        raise CsvRejected("There are no people in it. Put one person on each line.")
    order = _column_order(records[0])
    if order is not None:
        records = records[1:]
    if len(records) > MAX_PEOPLE:
        raise CsvRejected(f"It lists {len(records)} people; one submission holds at most {MAX_PEOPLE}. "
                          "Split the list.")
    rows = []
    for number, record in enumerate(records, start=1):
        if len(record) > MAX_CELLS:
            raise CsvRejected(f"Line {number} has {len(record)} cells; a line has at most "
                              f"{len(FIELDS)}: {', '.join(LABELS[f].lower() for f in FIELDS)}.")
        fields = order or FIELDS
        cells = zip(fields, record, strict=False)
        rows.append(PersonRow.of({field: cell.strip() for field, cell in cells if field}))
    return rows
