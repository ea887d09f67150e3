"""Build once, run many: two builds of the same sources, in two web folders as on two machines,
are byte-identical, so every instance serves the same hashed assets under the same
Content-Security-Policy hashes; and ``serve`` starts from an existing build without rebuilding."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from immtrax_portal import security_headers, serving
from immtrax_portal.settings import Settings
from tests.support.databases import selected_backend

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(selected_backend() == "postgresql",
                                reason="uses no database: runs in the SQLite pass of make test")
PUBLIC_URL = "http://localhost:3599"


def build_into(folder: Path) -> None:
    env = {**os.environ, "REFLEX_WEB_WORKDIR": str(folder), "IMMTRAX_PUBLIC_URL": PUBLIC_URL}
    subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "build"], cwd=ROOT, env=env, check=True,
                   timeout=900)


def tree_digest(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def csp_hashes(folder: Path) -> set[str]:
    found: set[str] = set()
    for page in folder.rglob("*.html"):
        found |= security_headers.hashes_of_inline_scripts(page.read_text(encoding="utf-8"))
    return found


@pytest.fixture(scope="module")
def two_builds() -> tuple[Path, Path]:
    folders = (ROOT / ".web-build-check-1", ROOT / ".web-build-check-2")
    for folder in folders:
        build_into(folder)
    return folders


def test_two_builds_of_the_same_sources_are_byte_identical(two_builds):
    first, second = (tree_digest(serving.built_pages_dir(folder)) for folder in two_builds)
    assert any(name.startswith("assets/") and name.endswith(".js") for name in first)
    differing = sorted(name for name in first.keys() | second.keys() if first.get(name) != second.get(name))
    assert differing == [], f"the builds differ in {differing[:10]}"


def test_two_builds_give_the_same_content_security_policy_hashes(two_builds):
    first, second = (csp_hashes(serving.built_pages_dir(folder)) for folder in two_builds)
    assert first and first == second


def test_a_page_loads_only_the_portals_own_small_stylesheet(two_builds):
    """Every first paint parses the stylesheets before anything shows; the Radix Themes one (700 KB,
    every component in every colour) styled none of the portal's plain elements."""
    assets = serving.built_pages_dir(two_builds[0]) / "assets"
    sheets = {path.name: path.stat().st_size for path in assets.glob("*.css")}
    assert sheets and sum(sheets.values()) < 32_000, sheets
    assert not any("radix-themes" in path.read_text() for path in assets.glob("*.css"))


def test_a_build_is_stamped_for_its_sources_and_public_url(two_builds, monkeypatch):
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(two_builds[0]))
    assert serving.build_is_current(Settings(public_url=PUBLIC_URL))
    assert not serving.build_is_current(Settings(public_url="https://access.example"))
    bundle = "".join(path.read_text(errors="replace")
                     for path in (serving.built_pages_dir(two_builds[0]) / "assets").glob("*.js"))
    assert "ws://localhost:3599/_event" in bundle  # the websocket goes back through the public URL


def test_a_real_build_copied_for_another_origin_differs_only_in_the_module_naming_the_origin(
        two_builds, tmp_path, monkeypatch):
    """What the test portals rely on (``tests/support/front_end_builds.py``): one build serves
    every port once copied, since the origin is in one module of the bundle."""
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(tmp_path / "web"))
    other = Settings(public_url="http://localhost:3598")
    assert serving.rebase_build(two_builds[0], other)
    assert serving.build_is_current(other)
    copy = tmp_path / "web"
    before, after = (tree_digest(serving.built_pages_dir(folder)) for folder in (two_builds[0], copy))
    differing = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    module = next(name for name in before if name.startswith("assets/reflex-env-") and name.endswith(".js"))
    assert differing == [module, f"{module}.gz"], differing
    for sent in (serving.built_pages_dir(copy) / module, copy / "build" / "server" / module):
        assert "ws://localhost:3598/_event" in sent.read_text() and "3599" not in sent.read_text()
    unpacked = gzip.decompress((serving.built_pages_dir(copy) / f"{module}.gz").read_bytes()).decode()
    assert unpacked == (serving.built_pages_dir(copy) / module).read_text()   # what browsers are sent
    assert csp_hashes(serving.built_pages_dir(copy)) == csp_hashes(serving.built_pages_dir(two_builds[0]))
