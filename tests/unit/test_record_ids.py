"""Ids from clients: plain ASCII digits within PostgreSQL's integer, or no id at all."""

import pytest

from immtrax_portal.domain.record_ids import MAX_RECORD_ID, record_id


@pytest.mark.parametrize(("raw", "wanted"), [
    ("42", 42), (" 7 ", 7), (42, 42), (str(MAX_RECORD_ID), MAX_RECORD_ID),
])
def test_plain_ids_are_read(raw, wanted):
    assert record_id(raw) == wanted


@pytest.mark.parametrize("raw", ["", "0", "-3", "²", "٣", "１２", "1e3", "4.0", str(MAX_RECORD_ID + 1),
                                 "9" * 40, None, True, 3.0, ["1"], {"id": 1}])
def test_anything_else_is_no_id(raw):
    assert record_id(raw) == 0
