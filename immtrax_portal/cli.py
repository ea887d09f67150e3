"""Command line for the README commands: ``prepare`` (migrate, demo data), ``build`` (the front end,
once), ``serve`` (from that build, building it first when missing), ``browser-check``,
and ``verify-audit`` (check the audit log's hash chain; exit code 1 names the first broken link).

Usage: python -m immtrax_portal.cli {prepare|build|serve|browser-check|verify-audit}
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pydantic import ValidationError

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


def build() -> None:
    """Build the front end once (for IMMTRAX_PUBLIC_URL) into the web folder; ``serve`` starts from it."""
    from immtrax_portal import serving

    settings = get_settings()
    started = time.monotonic()
    serving.build_front_end(settings)
    print(f"Front end built for {serving.public_origin(settings)} in {serving.web_dir()} "
          f"({time.monotonic() - started:.0f} s).")


def serve() -> None:
    """Start the demo sign-in provider when no Okta issuer is set, then Granian on the built front end.

    Exits non-zero whenever the portal stops by itself (Granian gave up, the demo provider died), so
    a supervisor that restarts on failure brings it back; exits 0 only when told to stop (SIGTERM).
    """
    from immtrax_portal import serving
    from immtrax_portal.db import get_engine
    from immtrax_portal.migrations import DatabaseBehindMigrations, ensure_database_is_current

    try:
        settings = get_settings()
        ensure_database_is_current(get_engine())
    except (DatabaseBehindMigrations, ValueError) as refusal:
        sys.exit(f"Refusing to start: {_without_values(refusal)}")
    if not serving.build_is_current(settings):
        print("No front-end build for these sources and this public URL in "
              f"{serving.web_dir()}: building it first (python -m immtrax_portal.cli build).")
        build()
    _prepare_operations_environment(settings)
    children: dict[str, subprocess.Popen] = {}
    if settings.uses_demo_sign_in:
        children["the demo sign-in provider"] = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "immtrax_portal.auth.demo_provider"], start_new_session=True)
        print(f"Demo sign-in provider on http://127.0.0.1:{settings.demo_oidc_port}")
    children["the web server"] = subprocess.Popen(  # noqa: S603 - fixed argv
        serving.granian_command(settings), cwd=PROJECT_ROOT, env=serving.serving_environment(),
        start_new_session=True)
    print(f"Serving {settings.public_url} on {settings.listen_host}:{settings.listen_port} "
          f"with {settings.worker_count} worker(s).", flush=True)

    def stop_all(*_args) -> None:
        for child in children.values():
            _stop_process_group(child)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    name, status = _first_to_exit(children)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for child in children.values():
        _stop_process_group(child)
    sys.exit(f"The portal stopped: {name} exited with status {status}." + (
        "" if status else " Exiting with status 1 so a supervisor restarts it."))


def _without_values(refusal: Exception) -> str:
    """The refusal's reasons only: pydantic's own text repeats every setting it was given
    (``input_value={...}``), client secret and SMTP password included, so it never reaches the log."""
    if isinstance(refusal, ValidationError):
        return "; ".join(str(error["msg"]) for error in refusal.errors())
    return str(refusal)


def _prepare_operations_environment(settings) -> None:
    """For every process of the server: one emptied folder for the workers' metrics (so /metrics
    sums all workers), and Reflex's own lines as JSON when the portal logs JSON."""
    from immtrax_portal.operations.metrics import MULTIPROCESS_ENV, prepare_metrics_directory

    os.environ[MULTIPROCESS_ENV] = str(prepare_metrics_directory(settings.metrics_directory))
    if settings.log_format == "json":
        os.environ.setdefault("REFLEX_LOG_JSON", "true")


def _first_to_exit(children: dict[str, subprocess.Popen]) -> tuple[str, int]:
    """Wait until one child process ends by itself; its name and exit status."""
    while True:
        for name, child in children.items():
            if (status := child.poll()) is not None:
                return name, status
        time.sleep(0.5)


def _stop_process_group(child: subprocess.Popen) -> None:
    """SIGTERM to the child's whole process group (its workers too, even when the child itself
    is already gone), SIGKILL to whatever is left after the grace period."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        child.poll()
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


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


COMMANDS = {"prepare": prepare, "build": build, "serve": serve, "browser-check": browser_check,
            "verify-audit": verify_audit}


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        sys.exit(f"usage: python -m immtrax_portal.cli {{{'|'.join(COMMANDS)}}}")
    COMMANDS[argv[0]]()


if __name__ == "__main__":
    main(sys.argv[1:])
