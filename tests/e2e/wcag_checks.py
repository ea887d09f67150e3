"""WCAG 2.2 AA checks that axe-core cannot make, run in the page by Chromium.

Each function takes a Playwright page and returns what it found wrong, as short readable strings
(an empty list is a pass), so a failing test names the control and the numbers.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_22_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WCAG_22_AA = {"runOnly": {"type": "tag", "values": WCAG_22_AA_TAGS}, "resultTypes": ["violations"]}

# What can be clicked or focused: the targets of 2.5.8 and the stops of 2.4.11.
_TARGETS = ("a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], "
            "[role=link], [role=tab], [role=checkbox], [role=radio], [tabindex]:not([tabindex='-1'])")

_DESCRIBE_JS = """
window.__wcagDescribe = (el) => {
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40);
  const id = el.id ? '#' + el.id : '', type = el.type ? ' type=' + el.type : '';
  return `<${el.tagName.toLowerCase()}${id}${type}> "${text}"`;
};
"""

_TARGET_SIZE_JS = _DESCRIBE_JS + """
(selector) => {
  const shown = (el) => {
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden') return false;
    if (el.closest('[aria-hidden=true]')) return false;
    // Visually hidden on purpose (1px, clipped): nobody can point at it.
    if (r.width <= 1 && r.height <= 1) return false;
    // The skip link waits above the page until it is focused.
    if (r.bottom <= 0 && getComputedStyle(el).position === 'absolute') return false;
    return true;
  };
  const targets = [...document.querySelectorAll(selector)].filter(shown);
  const rects = targets.map((el) => el.getBoundingClientRect());
  const small = (r) => r.width < 24 || r.height < 24;
  // Inline exception: a link inside a sentence, its size set by the line of text.
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const block = el.parentElement;
    return block && block.innerText.trim().length > el.innerText.trim().length;
  };
  const gap = (r, x, y) => Math.hypot(Math.max(r.left - x, 0, x - r.right),
                                      Math.max(r.top - y, 0, y - r.bottom));
  const found = [];
  targets.forEach((el, i) => {
    const r = rects[i];
    if (!small(r) || inSentence(el)) return;
    // Spacing exception: a 24px circle on its centre meets no other target nor another small
    // target's circle.
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const crowded = targets.some((other, j) => {
      if (j === i || other.contains(el) || el.contains(other)) return false;
      const o = rects[j];
      if (gap(o, x, y) < 12) return true;
      return small(o) && Math.hypot(o.left + o.width / 2 - x, o.top + o.height / 2 - y) < 24;
    });
    const size = `${r.width.toFixed(1)}x${r.height.toFixed(1)} px`;
    if (crowded) found.push(`${window.__wcagDescribe(el)} is ${size}`);
  });
  return found;
}
"""


def undersized_targets(page) -> list[str]:
    """2.5.8 Target Size (Minimum): every target at least 24x24 CSS px, unless inline in text or
    spaced so that a 24 px circle on it touches nothing else."""
    return page.evaluate(_TARGET_SIZE_JS, _TARGETS)


_LABEL_IN_NAME_JS = """
() => {
  const plain = (s) => (s || '').toLowerCase().replace(/[\\u2018\\u2019]/g, "'")
                                .replace(/[^\\p{L}\\p{N}' ]+/gu, ' ').replace(/\\s+/g, ' ').trim();
  const found = [];
  const named = 'a[href], button, [role=button], [role=link], summary, '
              + 'input[type=submit], input[type=button]';
  for (const el of document.querySelectorAll(named)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let name = null;
    if (el.hasAttribute('aria-labelledby')) {
      name = el.getAttribute('aria-labelledby').split(/\\s+/)
               .map((id) => (document.getElementById(id) || {}).textContent || '').join(' ');
    } else if (el.hasAttribute('aria-label')) {
      name = el.getAttribute('aria-label');
    } else continue;  // named by its own text
    const visible = plain(el.tagName === 'INPUT' ? el.value : el.innerText);
    if (visible && !plain(name).includes(visible)) found.push(`"${el.innerText.trim()}" is named "${name}"`);
  }
  return found;
}
"""


def labels_not_in_names(page) -> list[str]:
    """2.5.3 Label in Name: a control's visible words appear, in order, in its accessible name."""
    return page.evaluate(_LABEL_IN_NAME_JS)


# Installed once per page: each Tab keydown first measures the control that has the focus then
# (the previous stop, scrolled into view by now), so a stop costs one key press and no extra call
# into the page. Fixed and sticky elements are collected again only after the page changed.
_FOCUS_WATCH_JS = _DESCRIBE_JS + """
() => {
  let covering = null;
  new MutationObserver(() => { covering = null; })
    .observe(document.body, {subtree: true, childList: true, attributes: true});
  const fixedOrSticky = () => {
    if (covering === null) {
      covering = [...document.body.querySelectorAll('*')].filter((other) => {
        const cs = getComputedStyle(other);
        return (cs.position === 'fixed' || cs.position === 'sticky') && cs.display !== 'none'
          && cs.visibility !== 'hidden' && Number(cs.opacity) !== 0;
      });
    }
    return covering;
  };
  window.__wcagStops = [];
  window.__wcagWrapped = false;
  let first = null;
  window.__wcagMeasureFocus = () => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return;
    if (first === null) first = el;
    else if (el === first) { window.__wcagWrapped = true; return; }  // round the page once
    if (window.__wcagWrapped) return;
    const r = el.getBoundingClientRect();
    const covers = [];
    for (const other of fixedOrSticky()) {
      if (other.contains(el) || el.contains(other)) continue;
      const o = other.getBoundingClientRect();
      const w = Math.min(r.right, o.right) - Math.max(r.left, o.left);
      const h = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
      if (w > 0 && h > 0) covers.push(window.__wcagDescribe(other));
    }
    const inView = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
    window.__wcagStops.push({what: window.__wcagDescribe(el), covers, inView});
  };
  window.addEventListener('keydown', (e) => { if (e.key === 'Tab') window.__wcagMeasureFocus(); },
                          true);
}
"""


def focus_hidden_while_tabbing(page, *, most_stops: int = 80, round_of: int = 8) -> list[str]:
    """2.4.11 Focus Not Obscured: Tab through the page; no part of the focused control may sit
    under fixed or sticky content, and it must be scrolled into view (stricter than AA's "not
    entirely hidden"). Tabbing stops once the focus is back at the first control (or after
    ``most_stops``): a short page costs a round of the page, not ``most_stops`` key presses."""
    page.locator("body").click(position={"x": 1, "y": 1})
    page.evaluate("window.scrollTo(0, 0)")
    page.evaluate(_FOCUS_WATCH_JS)
    pressed = 0
    while pressed < most_stops:
        for _ in range(min(round_of, most_stops - pressed)):
            page.keyboard.press("Tab")
        pressed += round_of
        if page.evaluate("() => window.__wcagWrapped"):
            break
    stops = page.evaluate("() => { window.__wcagMeasureFocus(); return window.__wcagStops; }")
    assert stops, "Tab never focused anything"
    found = []
    for stop in stops:
        if stop["covers"]:
            found.append(f"{stop['what']} is under {', '.join(stop['covers'])}")
        elif not stop["inView"]:
            found.append(f"{stop['what']} has focus but is outside the window")
    return found


_ERRORS_TIED_JS = """
() => {
  const shown = (el) => el && el.getClientRects().length > 0 && el.textContent.trim() !== '';
  const found = [];
  const described = new Set();
  const invalid = [...document.querySelectorAll('[aria-invalid=true]')];
  for (const control of invalid) {
    const ids = (control.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
    ids.forEach((id) => described.add(id));
    const messages = ids.map((id) => document.getElementById(id)).filter(shown);
    if (!messages.some((m) => /error/i.test(m.id) || m.querySelector('.visually-hidden')))
      found.push(`#${control.id || control.name} is marked invalid but no error message describes it`);
  }
  for (const message of document.querySelectorAll('[id$="-error"]')) {
    if (!shown(message)) continue;
    const tied = [...document.querySelectorAll('[aria-describedby]')].some(
      (c) => c.getAttribute('aria-describedby').split(/\\s+/).includes(message.id));
    const words = message.textContent.trim().slice(0, 60);
    if (!tied) found.push(`the message #${message.id} ("${words}") is tied to no field`);
  }
  // A radio group's error is told on its fieldset (the group), which names the message.
  const groups = [...document.querySelectorAll('fieldset[aria-describedby]')].filter((f) =>
    f.getAttribute('aria-describedby').split(/\s+/)
      .some((id) => /error/.test(id) && shown(document.getElementById(id))));
  return {found, invalid: invalid.length + groups.length};
}
"""


def errors_not_tied_to_fields(page, *, expect_field_errors: bool = True) -> list[str]:
    """Errors the server found are told at their field: the control is ``aria-invalid`` (a radio
    group: its fieldset) and its ``aria-describedby`` names the message; no field message floats
    free of its control."""
    result = page.evaluate(_ERRORS_TIED_JS)
    found = list(result["found"])
    if expect_field_errors and result["invalid"] == 0:
        found.append("no field is marked invalid (aria-invalid) although the form was refused")
    return found


def axe_violations(page) -> list:
    results = Axe().run(page, options=WCAG_22_AA)
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]]


_HELP_JS = """
(phoneDigits) => {
  const digits = (s) => (s || '').replace(/\\D/g, '');
  const links = [...document.querySelectorAll('a[href^="tel:"]')]
    .filter((a) => digits(a.getAttribute('href')).endsWith(phoneDigits));
  const footers = [...document.querySelectorAll('footer')]
    .filter((f) => !f.closest('main, article, section, aside, nav'));
  const footer = footers[footers.length - 1];
  const main = document.querySelector('main');
  const inFooter = footer ? links.filter((a) => footer.contains(a)) : [];
  const first = footer ? footer.querySelector('a[href], button') : null;
  const afterMain = !!(footer && main
                       && (main.compareDocumentPosition(footer) & Node.DOCUMENT_POSITION_FOLLOWING));
  return {footer: !!footer, inFooter: inFooter.length, firstIsHelp: !!first && inFooter.includes(first),
          afterMain, text: inFooter.length ? inFooter[0].innerText.trim() : ''};
}
"""


def help_out_of_place(page, phone_digits: str) -> list[str]:
    """3.2.6 Consistent Help: the program's phone line is a call link, the first control in the
    page footer, after the main content, on every page."""
    help_line = page.evaluate(_HELP_JS, phone_digits)
    found = []
    if not help_line["footer"]:
        found.append("the page has no footer for the help line")
    elif not help_line["inFooter"]:
        found.append("the footer has no call link to the program's phone line")
    elif not help_line["firstIsHelp"]:
        found.append("the phone line is not the footer's first control")
    if help_line["footer"] and not help_line["afterMain"]:
        found.append("the footer does not come after the main content")
    return found
