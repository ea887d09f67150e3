"""Command line for the README commands: ``prepare`` (migrate, demo data), ``serve``, ``browser-check``,
and ``verify-audit`` (check the audit log's hash chain; exit code 1 names the first broken link).

Usage: python -m immtrax_portal.cli {prepare|serve|browser-check|verify-audit}
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from immtrax_portal.settings import PROJECT_ROOT, get_settings

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def prepare() -> None:
    """Bring the database to the head revision and load the demo world (idempotent)."""
    from immtrax_portal import demo_data
    from immtrax_portal.migrations import upgrade_to_head

    settings = get_settings()
    upgrade_to_head(settings.database_url)
    # The demo world's people sign in through the demo provider only: never beside a real issuer.
    if settings.environment == "development" and settings.uses_demo_sign_in:
        created = demo_data.load_demo_world()
        print("Demo data loaded." if created else "Demo data already present.")


def serve() -> None:
    """Start the demo sign-in provider when no Okta issuer is set, then Reflex in production mode."""
    from immtrax_portal.db import get_engine
    from immtrax_portal.migrations import DatabaseBehindMigrations, ensure_database_is_current

    try:
        ensure_database_is_current(get_engine())
    except DatabaseBehindMigrations as behind:
        sys.exit(f"Refusing to start: {behind}")
    settings = get_settings()
    children: list[subprocess.Popen] = []
    if settings.uses_demo_sign_in:
        children.append(subprocess.Popen([sys.executable, "-m", "immtrax_portal.auth.demo_provider"]))
        print(f"Demo sign-in provider on http://127.0.0.1:{settings.demo_oidc_port}")
    port = settings.public_url.rsplit(":", 1)[-1].split("/")[0]
    command = [str(Path(sys.executable).with_name("reflex")), "run", "--env", "prod",
               "--single-port", "--frontend-port", port if port.isdigit() else "3000"]
    app = subprocess.Popen(command, cwd=PROJECT_ROOT, start_new_session=True)  # noqa: S603 - fixed argv
    children.append(app)

    def stop(*_args) -> None:
        for child in children:
            if child.poll() is None:
                _terminate(child)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app.wait()
    stop()


def _terminate(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGTERM) if child.pid == os.getpgid(child.pid) else child.terminate()
        child.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        child.kill()


def browser_check() -> None:
    """Tests need Chromium: Debian's when present, otherwise Playwright's own download."""
    if DEBIAN_CHROMIUM.exists() or os.environ.get("IMMTRAX_CHROMIUM"):
        return
    print("No /usr/bin/chromium: installing Playwright's Chromium (needs internet access).")
    subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)


def verify_audit() -> None:
    """Walk the audit log's hash chain; print the verdict; exit 1 at the first broken link."""
    from immtrax_portal.db import get_engine
    from immtrax_portal.services.audit_chain import verify_chain

    verdict = verify_chain(get_engine())
    print(verdict.describe())
    if not verdict.intact:
        sys.exit(1)


COMMANDS = {"prepare": prepare, "serve": serve, "browser-check": browser_check,
            "verify-audit": verify_audit}


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        sys.exit(f"usage: python -m immtrax_portal.cli {{{'|'.join(COMMANDS)}}}")
    COMMANDS[argv[0]]()


if __name__ == "__main__":
    main(sys.argv[1:])
