"""Shared by the integration tests: each test starts with no refusals counted (the ledger that
aggregates repeated refusals lives in process memory, and the tests' forged tabs share a token)."""

from __future__ import annotations

import pytest

from immtrax_portal.services.refusals import LEDGER


@pytest.fixture(autouse=True)
def no_refusals_counted_yet():
    LEDGER.reset()
    yield
    LEDGER.reset()
