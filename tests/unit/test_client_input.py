"""What clients send to handlers, bounded before use."""

import pytest

from immtrax_portal.ui.client_input import form_text, turned_page


def test_a_form_field_is_text_cut_to_its_limit():
    assert form_text({"q": "Bozeman"}, "q", 3) == "Boz"
    assert form_text({"q": 42}, "q", 10) == "42"
    assert form_text({"q": None}, "q", 10) == ""
    assert form_text(["not", "a", "form"], "q", 10) == ""


@pytest.mark.parametrize(("page", "delta", "wanted"), [
    (1, 1, 2), (2, -1, 1), (1, -1, 1), (3, 1, 3), (2, 5, 2), (2, "1", 2), (2, None, 2),
])
def test_a_page_turns_one_step_within_the_pages(page, delta, wanted):
    assert turned_page(page, 3, delta) == wanted
