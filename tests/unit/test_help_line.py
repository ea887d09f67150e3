"""The program's phone line, the help every page offers in the same place (WCAG 3.2.6)."""

from __future__ import annotations

import re

from immtrax_portal.auth.pages import sign_in_problem_page, signed_out_page
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.routes import phone_href


def test_a_us_number_becomes_a_call_link():
    assert phone_href("(406) 444-5580") == "tel:+14064445580"
    assert phone_href("+1 406 444 5580") == "tel:+14064445580"


def test_the_sign_in_routes_pages_give_the_help_line_in_their_footer_after_the_main_content():
    phone = get_settings().program_phone
    for response in (signed_out_page(), sign_in_problem_page("state_mismatch")):
        html = response.body.decode()
        footer = re.search(r"</main><footer>(.*?)</footer>", html, re.S)
        assert footer, html
        assert f'<a href="tel:+14064445580">{phone}</a>' in footer.group(1)
        assert footer.group(1).count("<a ") == 1
