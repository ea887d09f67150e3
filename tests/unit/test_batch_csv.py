"""Reading the several-people CSV: bounded, linear, header optional, plain-words refusals."""

from __future__ import annotations

import time

import pytest

from immtrax_portal.domain.enums import AccessLevel
from immtrax_portal.services.batch.rows import (
    MAX_CSV_BYTES,
    MAX_PEOPLE,
    CsvRejected,
    PersonRow,
    level_value,
    parse_people_csv,
)

LINE = "Nora,Newhire,nora@alpha.example,406-555-0142,Nurse,2027-01-11,Record Maintenance"


def test_a_csv_without_a_header_is_read_in_the_tables_column_order():
    (row,) = parse_people_csv(LINE)
    assert row == PersonRow(
        "Nora", "Newhire", "nora@alpha.example", "406-555-0142", "Nurse", "2027-01-11", "Record Maintenance"
    )


def test_a_header_lets_the_columns_come_in_any_order_and_extra_columns_are_ignored():
    text = (
        "Work email,Level,First name,Last name,Notes,Phone,Job title,Start date\r\n"
        "nora@alpha.example,2,Nora,Newhire,ignored,406-555-0142,Nurse,2027-01-11\r\n"
    )
    (row,) = parse_people_csv(text.encode("utf-8-sig"))
    assert (row.email, row.first_name, row.access_level, row.job_title) == (
        "nora@alpha.example",
        "Nora",
        "2",
        "Nurse",
    )
    assert row.answers(1).access_level == AccessLevel.RECORD_MAINTENANCE.value


def test_rows_pasted_from_a_spreadsheet_are_tab_separated():
    (row,) = parse_people_csv(LINE.replace(",", "\t"))
    assert row.last_name == "Newhire" and row.access_level == "Record Maintenance"


def test_blank_lines_are_skipped_and_quoted_commas_kept():
    rows = parse_people_csv(f'\n{LINE}\n\n"Mary, Jr.",O\'Neil,m@alpha.example,,,,\n')
    assert [r.first_name for r in rows] == ["Nora", "Mary, Jr."]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("", "no people"),
        ("\n\n", "no people"),
        ("\n".join([LINE] * (MAX_PEOPLE + 1)), "at most 25"),
        ("a," * 20, "cells"),
        (b"\xff\xfeN\x00o\x00", "UTF-8"),
        ("Nora\x00,x", "cannot have"),
        ("x" * (MAX_CSV_BYTES + 1), "KB"),
        (b"x" * (MAX_CSV_BYTES + 1), "KB"),
    ],
)
def test_a_csv_that_cannot_be_taken_is_refused_in_plain_words(data, says):
    with pytest.raises(CsvRejected, match=says):
        parse_people_csv(data)


def test_each_cell_is_cut_to_the_wizards_own_limit():
    (row,) = parse_people_csv(f"{'N' * 500},x,y@z.example,,,,")
    assert len(row.first_name) == 100


def test_reading_stays_linear_on_hostile_quotes():
    hostile = '"' + 'a""' * (MAX_CSV_BYTES // 3 - 1)
    started = time.perf_counter()
    with pytest.raises(CsvRejected):
        parse_people_csv(hostile + "\n" + "x," * 50)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("Read Only with Consent", "read_only_consent"),
        ("record_maintenance", "record_maintenance"),
        ("  vaccine   management ", "vaccine_management"),
        ("3", "vaccine_management"),
        ("admin", "admin"),
    ],
)
def test_levels_are_read_as_people_write_them(typed, value):
    assert level_value(typed) == value


def test_a_row_from_a_client_keeps_known_fields_and_types_only():
    row = PersonRow.of(
        {"first_name": "Nora", "is_staff": "yes", "email": 5, "request_type": "access_deletion"}
    )
    assert row == PersonRow(first_name="Nora")
