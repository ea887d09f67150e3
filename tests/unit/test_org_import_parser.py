"""The organization CSV parser: what it accepts, and an error per bad row with its row number."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immtrax_portal.domain.organization_rules import NAME_MAX, parse_active
from immtrax_portal.services.org_import import (
    MAX_BYTES,
    MAX_ROWS,
    ImportFileRejected,
    parse_organization_csv,
)


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_a_plain_file_gives_one_row_per_organization_with_codes_upper_cased():
    parsed = parse_organization_csv(csv_bytes("code,name,city", "bfc-0101,Billings Family Clinic,Billings",
                                              "LPD-0202,Laurel Pediatrics,Laurel"))
    assert [(r.row, r.fields.code, r.fields.name, r.fields.active) for r in parsed.rows] == [
        (2, "BFC-0101", "Billings Family Clinic", True), (3, "LPD-0202", "Laurel Pediatrics", True)]
    assert parsed.errors == ()


def test_a_byte_order_mark_and_header_case_and_spaces_are_accepted():
    parsed = parse_organization_csv(csv_bytes(" Code , NAME ,City,Active", "X-1,Xeno Clinic,Havre,no",
                                              bom=True))
    assert parsed.rows[0].fields.code == "X-1" and parsed.rows[0].fields.active is False
    assert parsed.rows[0].active_given


def test_quoted_fields_keep_commas_quotes_and_line_breaks():
    parsed = parse_organization_csv(csv_bytes(
        "code,name,city", '"Q-1","Smith, Jones ""and"" Co","Great Falls"', '"Q-2","Two\nLines",Helena'))
    assert parsed.rows[0].fields.name == 'Smith, Jones "and" Co'
    assert parsed.rows[1].fields.name == "Two Lines"  # inner whitespace collapses


def test_each_bad_row_gets_its_own_error_with_the_row_number():
    parsed = parse_organization_csv(csv_bytes(
        "code,name,city,active",
        "A-1,Alpha,Helena,yes",
        ",No Code,Butte,yes",
        "A-1,Alpha Again,Helena,",
        "B-2," + "N" * (NAME_MAX + 1) + ",Butte,",
        "C-3,Gamma,Butte,maybe",
        "D-4,Delta,Butte,yes,extra",
        "E-5,,Butte,",
    ))
    assert [r.fields.code for r in parsed.rows] == ["A-1"]
    errors = {e.row: e.message for e in parsed.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "Enter the organization's code" in errors[3]
    assert "already on row 2" in errors[4]
    assert f"{NAME_MAX} characters or fewer" in errors[5]
    assert 'Active must be yes or no (it is "maybe")' in errors[6]
    assert "5 values" in errors[7]
    assert "Enter the organization's name" in errors[8]


def test_duplicate_codes_are_found_whatever_their_case():
    parsed = parse_organization_csv(csv_bytes("code,name,city", "abc,One,", "ABC,Two,"))
    assert [e.row for e in parsed.errors] == [3] and "already on row 2" in parsed.errors[0].message


def test_blank_lines_are_skipped_and_row_numbers_stay_true_to_the_file():
    parsed = parse_organization_csv(csv_bytes("code,name,city", "", "A,Alpha,", ",,", "B,Beta,"))
    assert [r.row for r in parsed.rows] == [3, 5]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (csv_bytes("code,name"), "missing city"),
    (csv_bytes("code,name,city,colour", "A,B,C,red"), 'unknown "colour"'),
    (csv_bytes("code,name,city,code", "A,B,C,D"), "repeated code"),
    (csv_bytes("code,name,city"), "no organizations"),
    ("code,name,city\r\nA,Caf\u00e9,Helena\r\n".encode("cp1252"), "not UTF-8"),
    (csv_bytes("code,name,city", 'A,"unterminated,Helena'), "not valid CSV"),
    (b"\x00" * 10, "binary"),
])
def test_a_file_that_cannot_be_read_is_rejected_with_a_reason(data, message):
    with pytest.raises(ImportFileRejected, match=message):
        parse_organization_csv(data)


def test_files_over_the_size_or_row_limit_are_rejected():
    with pytest.raises(ImportFileRejected, match="larger than 1 MB"):
        parse_organization_csv(b"code,name,city\r\n" + b"A,B,C\r\n" * (MAX_BYTES // 7 + 1))
    many = ["code,name,city"] + [f"C{n},Clinic {n}," for n in range(MAX_ROWS + 1)]
    with pytest.raises(ImportFileRejected, match="more than 5,000 rows"):
        parse_organization_csv(csv_bytes(*many))
    assert len(parse_organization_csv(csv_bytes(*many[:-1])).rows) == MAX_ROWS


def test_the_digest_identifies_the_exact_bytes():
    one = parse_organization_csv(csv_bytes("code,name,city", "A,Alpha,"))
    two = parse_organization_csv(csv_bytes("code,name,city", "A,Alpha ,"))
    assert one.digest != two.digest and one.rows[0].fields == two.rows[0].fields


@pytest.mark.parametrize(("raw", "expected"), [("Yes", True), ("1", True), ("TRUE", True),
                                               ("active", True), ("No", False), ("0", False),
                                               ("inactive", False), (" ", None), ("", None)])
def test_active_values(raw, expected):
    assert parse_active(raw) is expected


# --- Properties -----------------------------------------------------------------------------------

_code = st.from_regex(r"[A-Z0-9]{1,3}-[0-9]{1,4}", fullmatch=True)
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x00"),
                min_size=1, max_size=40).filter(lambda s: s.strip())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_code, _text, _text, st.booleans()), min_size=1, max_size=20,
                unique_by=lambda t: t[0]), st.booleans())
def test_any_file_a_spreadsheet_writes_reads_back_to_the_same_organizations(orgs, bom):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "city", "active"])
    for code, name, city, active in orgs:
        writer.writerow([code, name, city, "yes" if active else "no"])
    data = (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")
    parsed = parse_organization_csv(data)
    assert parsed.errors == ()
    assert [(r.fields.code, r.fields.name, r.fields.city, r.fields.active) for r in parsed.rows] == [
        (code, " ".join(name.split()), " ".join(city.split()), active) for code, name, city, active in orgs]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_either_rejected_cleanly_or_accounted_for_row_by_row(data):
    try:
        parsed = parse_organization_csv(b"code,name,city\n" + data)
    except ImportFileRejected:
        return
    numbers = [r.row for r in parsed.rows] + [e.row for e in parsed.errors]
    assert len(numbers) == len(set(numbers)) and all(n >= 2 for n in numbers)
