"""Shared Chromium launcher for the end-to-end tests.

Prefers the system Chromium (Debian's /usr/bin/chromium) so the tests do not
depend on Playwright's own browser download; falls back to Playwright's
bundled Chromium when the system one is absent.
"""

from __future__ import annotations

import os

SYSTEM_CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):
    """Launch headless Chromium with quiet, sandbox-free settings for CI."""
    executable = SYSTEM_CHROMIUM if os.path.exists(SYSTEM_CHROMIUM) else None
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
