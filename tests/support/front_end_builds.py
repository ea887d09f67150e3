"""One front-end build per test run, whatever the number of portals: run with a portal's
environment (``python -m tests.support.front_end_builds``) before it starts.

Every portal the tests start (one per xdist worker, and the modules with a portal of their own)
serves on its own port, and a build names its origin, so each used to build for its own: six
builds of a minute or more per run, each with its own npm install. Under one lock, the first
builds; the others copy that build for their origin (``serving.rebase_build``), which is what a
build for that origin would give (``tests/integration/test_front_end_build.py``).
"""

from __future__ import annotations

import fcntl
import time

from immtrax_portal import serving
from immtrax_portal.settings import PROJECT_ROOT, get_settings

LOCK = PROJECT_ROOT / ".web-e2e.lock"


def donors() -> list:
    """The test web folders that hold a finished build, newest first."""
    found = [folder for folder in PROJECT_ROOT.glob(".web-e2e*") if folder.is_dir()
             and serving.stamp_of(folder) and (serving.built_pages_dir(folder) / "index.html").is_file()]
    return sorted(found, key=lambda folder: (folder / serving.BUILD_STAMP).stat().st_mtime, reverse=True)


def ensure_front_end() -> str:
    """Make the web folder hold a current build for this environment's public URL; says how."""
    settings = get_settings()
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # released when the file closes, also if this process dies
        if serving.build_is_current(settings):
            return "current"
        for donor in donors():
            if serving.rebase_build(donor, settings):
                return f"copied from {donor.name}"
        started = time.monotonic()
        serving.build_front_end(settings)
        return f"built in {time.monotonic() - started:.0f} s"


if __name__ == "__main__":
    print(f"Front end for {serving.public_origin(get_settings())} in {serving.web_dir()}: "
          f"{ensure_front_end()}.", flush=True)
