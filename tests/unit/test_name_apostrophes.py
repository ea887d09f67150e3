"""Names with an apostrophe, typed on a phone or pasted from Word (D’Arcy, U+2019) or on a plain
keyboard (D'Arcy): the same name to the person, so the wizard accepts both, stores one spelling, and
the signature compares them as equal."""

from __future__ import annotations

import pytest

from immtrax_portal.domain.validation import name_problem, tidy_name
from immtrax_portal.services.signing import names_match

TYPOGRAPHIC = ["D\u2019Arcy", "D\u02bcArcy", "D\u2018Arcy"]


@pytest.mark.parametrize("last_name", ["D'Arcy", *TYPOGRAPHIC])
def test_the_wizard_accepts_a_last_name_with_any_kind_of_apostrophe(last_name):
    assert name_problem(last_name, "last") is None


@pytest.mark.parametrize("last_name", TYPOGRAPHIC)
def test_a_typographic_apostrophe_is_stored_as_the_plain_one(last_name):
    assert tidy_name(f"  {last_name}  ") == "D'Arcy"


@pytest.mark.parametrize(("typed", "invited_last"), [("Riley D\u2019Arcy", "D'Arcy"),
                                                      ("Pat O'Connor", "O\u2019Connor"),
                                                      ("pat o\u2019connor", "O'Connor")])
def test_the_signature_matches_whichever_apostrophe_the_signer_types(typed, invited_last):
    assert names_match(typed, typed.split()[0], invited_last)


def test_other_punctuation_in_a_name_is_still_refused():
    assert name_problem("D\u201dArcy", "last") is not None  # a closing quote mark is not an apostrophe
    assert not names_match("Pat O Connor", "Pat", "O'Connor")
