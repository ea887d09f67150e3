"""People's names: the one rule for what a name may hold, how it is stored, and how two spellings of
it are compared. The wizard, the supervisor link, the invitation and the signature all use it.

A name is words of letters in any script (with the combining marks some scripts write on them:
Vietnamese tones typed as separate marks, Devanagari vowel signs), joined by a space, a hyphen, an
apostrophe (' or ’) or a period ("St. John", "J. R."). Digits, underscores and other punctuation
are refused. The check walks the text once (linear time) and never uses a backtracking pattern.
"""

from __future__ import annotations

import unicodedata

NAME_MAX = 100

# Phones, Word and macOS type a typographic apostrophe in D’Arcy or O’Connor; it is the same mark
# to the person, so a stored name keeps one spelling (the ASCII one).
_STORED_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'"})
# When two spellings are compared, the Hawaiian ʻokina (a letter of its own, kept as typed) and a
# backtick also match the apostrophe many keyboards type in its place (Hawaiʻi / Hawai'i).
_COMPARED_APOSTROPHES = str.maketrans({"\u02bb": "'", "`": "'", "\u00b4": "'"})
_JOINERS = frozenset({" ", "-", "'", "."})
# Zero-width (non-)joiners shape Persian and Indic words; they may sit between letters.
_INVISIBLE_IN_WORDS = frozenset({"\u200c", "\u200d"})


def tidy_name(value: str) -> str:
    """A typed name as it is checked and stored: composed (NFC), single spaces, one apostrophe."""
    return " ".join(unicodedata.normalize("NFC", value).translate(_STORED_APOSTROPHES).split())


def comparable_name(value: str) -> str:
    """Two spellings of one name compare equal as this: compatibility forms (NFKC), case
    (casefold), the kind of apostrophe, periods and runs of spaces ("St. John" = "St John")."""
    text = unicodedata.normalize("NFKC", value).translate(_STORED_APOSTROPHES)
    text = text.translate(_COMPARED_APOSTROPHES).replace(".", " ")
    return " ".join(text.casefold().split())


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def is_valid_name(value: str) -> bool:
    """Whether ``value`` (already tidied) is a name by the rule above."""
    if not value or len(value) > NAME_MAX or not _is_letter(value[0]):
        return False
    previous = value[0]
    for char in value[1:]:
        if _is_letter(char):
            pass
        elif _is_mark(char) or char in _INVISIBLE_IN_WORDS:
            if not (_is_letter(previous) or _is_mark(previous)):
                return False
        elif char in _JOINERS:
            # One joiner between words; a period may be followed by a space ("St. John").
            if previous in _JOINERS and not (previous == "." and char == " "):
                return False
        else:
            return False
        previous = char
    # The name ends with a letter, a mark, or the period of an abbreviation ("Jr.").
    return previous not in _JOINERS - {"."} and previous not in _INVISIBLE_IN_WORDS


def name_problem(value: str, which: str, whose: str = "the person's") -> str | None:
    """The message for a first or last name (``which``), or None when it is a name."""
    value = tidy_name(value)
    if not value:
        return f"Enter {whose} legal {which} name."
    if len(value) > NAME_MAX:
        return f"Keep the {which} name to {NAME_MAX} characters or fewer."
    if not is_valid_name(value):
        return (f"Enter the {which} name using letters, spaces, hyphens, apostrophes or periods only "
                "(no digits or other symbols).")
    return None


def names_match(typed: str, first_name: str, last_name: str) -> bool:
    """A typed full name against the invited one, compared as ``comparable_name``."""
    return bool(comparable_name(typed)) and comparable_name(typed) == comparable_name(
        f"{first_name} {last_name}")
