"""Names people really have: any script, spaces, hyphens, both apostrophes and periods. One rule
(``domain/person_names.py``) decides for the wizard, the supervisor link and the signature, and the
signature compares the typed name with the invited one after Unicode normalization."""

from __future__ import annotations

import unicodedata

import pytest

from immtrax_portal.domain import validation
from immtrax_portal.domain.person_names import comparable_name, name_problem, names_match, tidy_name
from immtrax_portal.services import organizations, signing

# (first name, last name) as people write them, from many languages.
REAL_NAMES = [
    ("Nguyễn", "Thị Minh Khai"),          # Vietnamese
    ("Siobhán", "Ní Bhriain"),            # Irish
    ("Seán", "O’Sullivan"),               # Irish, typographic apostrophe
    ("Grzegorz", "Brzęczyszczykiewicz"),  # Polish
    ("Małgorzata", "Wóycicka-Żuk"),       # Polish, hyphenated
    ("Αλέξανδρος", "Παπαδόπουλος"),       # Greek
    ("محمد", "عبد الله"),                 # Arabic
    ("Fatimah", "Al-Zahra"),              # Arabic, transliterated
    ("伟", "王"),                          # Chinese
    ("Kaʻiulani", "Kawānanakoa"),         # Hawaiian, with ʻokina and kahakō
    ("José María", "García-Núñez"),       # Spanish
    ("Þórunn", "Guðmundsdóttir"),         # Icelandic
    ("Björk", "Guðmundsdóttir"),          # Icelandic
    ("Zoë", "D’Arcy"),                    # English, typographic apostrophe
    ("Mary", "St. John"),                 # English, abbreviation with a period
    ("J. R.", "Ewing"),                   # initials
    ("Martin", "Luther King Jr."),        # a suffix with a period
    ("Ольга", "Иванова"),                 # Russian
    ("יעל", "כהן"),                       # Hebrew
    ("प्रियंका", "चोपड़ा"),                   # Hindi: vowel signs and a virama are combining marks
    ("さくら", "山田"),                     # Japanese
    ("지민", "박"),                        # Korean
    ("Ngũgĩ", "wa Thiong’o"),             # Kikuyu
    ("Øyvind", "Ødegård"),                # Norwegian
    ("Şükrü", "Çağlar"),                  # Turkish
]


@pytest.mark.parametrize(("first", "last"), REAL_NAMES)
def test_the_wizard_accepts_real_names_from_many_languages(first, last):
    assert name_problem(first, "first") is None
    assert name_problem(last, "last") is None
    assert validation.new_person_problems({"first_name": first, "last_name": last}, _today()).keys() \
        .isdisjoint({"first_name", "last_name"})


@pytest.mark.parametrize(("first", "last"), REAL_NAMES)
def test_names_typed_as_decomposed_letters_are_accepted_and_stored_composed(first, last):
    """macOS and some keyboards send "é" as "e" + a combining accent (NFD)."""
    decomposed = unicodedata.normalize("NFD", last)
    assert name_problem(decomposed, "last") is None
    assert tidy_name(decomposed) == unicodedata.normalize("NFC", tidy_name(last))


@pytest.mark.parametrize(("first", "last"), REAL_NAMES)
def test_the_signer_who_types_their_name_in_another_form_still_matches(first, last):
    """Case, decomposed letters, the kind of apostrophe and extra spaces do not matter."""
    typed = "  " + unicodedata.normalize("NFD", f"{first}  {last}").upper().replace("’", "'") + " "
    assert names_match(typed, tidy_name(first), tidy_name(last))


@pytest.mark.parametrize(("typed", "first", "last"), [
    ("Mary St John", "Mary", "St. John"),
    ("Mary St. John", "Mary", "St John"),
    ("Ka'iulani Kawānanakoa", "Kaʻiulani", "Kawānanakoa"),   # apostrophe typed for the ʻokina
    ("Riley D’Arcy", "Riley", "D'Arcy"),
    ("ＳＥＡＮ Murphy", "Sean", "Murphy"),                    # full-width letters (NFKC)
    ("STRASSE Weiß", "Strasse", "WEISS"),                      # casefold: ß = ss
])
def test_the_signature_compares_names_after_unicode_normalization(typed, first, last):
    assert names_match(typed, first, last)


@pytest.mark.parametrize(("typed", "first", "last"), [
    ("Pat O Connor", "Pat", "O'Connor"),
    ("Pat Connor", "Pat", "O'Connor"),
    ("", "Pat", "O'Connor"),
    ("   ", "", ""),
])
def test_a_different_name_does_not_match(typed, first, last):
    assert not names_match(typed, first, last)


@pytest.mark.parametrize("name", ["R2-D2", "Jane_Doe", "Smith!", "O''Brien", "Anne--Marie", "-Anne",
                                  "Anne-", "D\u201dArcy", "<script>", "Bob@", "Jean..Luc", ".Anne",
                                  "Anne 3rd", "\u0301Anne", "a" * 101])
def test_digits_symbols_and_doubled_joiners_are_refused_with_a_plain_message(name):
    problem = name_problem(name, "last")
    assert problem is not None
    assert "letters, spaces, hyphens, apostrophes or periods" in problem or "100 characters" in problem


def test_an_empty_name_asks_for_it():
    assert name_problem("  ", "first") == "Enter the person's legal first name."


def test_the_wizard_the_supervisor_link_and_the_signature_share_one_rule():
    from immtrax_portal.domain import person_names
    assert validation.name_problem is person_names.name_problem
    assert validation.tidy_name is person_names.tidy_name
    assert signing.names_match is person_names.names_match
    assert organizations.name_problem is person_names.name_problem


def test_the_supervisor_link_asks_for_the_supervisors_name():
    problems = organizations._person_problems("sam@clinic.example", "", "St. John", needs_name=True)
    assert problems == {"first_name": "Enter the supervisor's legal first name."}


def test_a_long_text_is_checked_in_linear_time():
    import time
    started = time.perf_counter()
    for text in ("a-" * 50_000, "a. " * 50_000, "é" * 100_000):
        name_problem(text, "last")
        comparable_name(text)
    assert time.perf_counter() - started < 2


def _today():
    from datetime import date
    return date(2026, 12, 1)
