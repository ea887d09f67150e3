"""How the portal is served in production: the front end built once, then Granian started from it.

``reflex run --env prod`` rebuilds the front end on every start (half a minute or more) and starts
Granian without ``respawn_failed_workers``, so one killed worker stops them all. Here the two are
separated: ``build_front_end`` compiles the pages into the web folder once (and stamps what it was
built from), and ``granian_command`` serves that build with failed workers respawned, on the
listen address and port of the settings rather than the public URL's.

The built bundle names the event websocket's address, so a build is for one public URL: the stamp
records it with a fingerprint of the sources, and ``build_is_current`` says whether a build can be
served as it is. Two builds of the same sources for the same URL are byte-identical
(``tests/integration/test_front_end_build.py``), so two machines serve the same hashed assets and
the same Content-Security-Policy hashes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from immtrax_portal.settings import PROJECT_ROOT, Settings

BUILD_STAMP = "immtrax-build.json"
APP_TARGET = "immtrax_portal.immtrax_portal:app"
# What the front end is compiled from: a change to any of these needs a new build.
BUILD_INPUTS = ("immtrax_portal/**/*.py", "assets/**/*", "rxconfig.py", "reflex.lock/*", "pyproject.toml")
# What the pages show that is fixed when they are compiled (the footer's contact facts, the Okta
# guide link, the demo sign-in label): a change to one of these settings needs a new build too.
BUILD_SETTINGS = ("program_name", "program_phone", "program_hours", "okta_account_guide_url",
                  "uses_demo_sign_in")
# Reflex uses npm and the venv's Node.js, offline-friendly and quiet (see ENVIRONMENT.md).
QUIET_REFLEX = {"REFLEX_USE_NPM": "1", "REFLEX_CHECK_LATEST_VERSION": "false",
                "REFLEX_TELEMETRY_ENABLED": "false"}


def web_dir() -> Path:
    """The web folder Reflex builds into (``REFLEX_WEB_WORKDIR``, default ``.web``)."""
    folder = Path(os.environ.get("REFLEX_WEB_WORKDIR", ".web"))
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def built_pages_dir(folder: Path | None = None) -> Path:
    """Where the built, prerendered pages and hashed assets are (what the port serves)."""
    return (folder or web_dir()) / "build" / "client"


def public_origin(settings: Settings) -> str:
    parts = urlsplit(settings.public_url)
    return f"{parts.scheme}://{parts.netloc}"


def source_fingerprint(settings: Settings) -> str:
    """SHA-256 over the build's inputs, the Reflex version, the public origin and the settings the
    pages show."""
    both = f"{public_origin(settings)}\n{sources_fingerprint(settings)}\n"
    return hashlib.sha256(both.encode()).hexdigest()


def sources_fingerprint(settings: Settings) -> str:
    """The same without the public origin: builds with equal ones differ only in the origin their
    bundle's environment module names (``rebase_build``)."""
    shown = json.dumps({name: getattr(settings, name) for name in BUILD_SETTINGS}, sort_keys=True)
    digest = hashlib.sha256(f"reflex {version('reflex')}\n{shown}\n".encode())
    files = sorted({path for pattern in BUILD_INPUTS for path in PROJECT_ROOT.glob(pattern)
                    if path.is_file() and "__pycache__" not in path.parts})
    for path in files:
        digest.update(f"{path.relative_to(PROJECT_ROOT).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_is_current(settings: Settings) -> bool:
    """Whether the web folder holds a build of these sources for this public URL."""
    stamp = web_dir() / BUILD_STAMP
    if not stamp.is_file() or not (built_pages_dir() / "index.html").is_file():
        return False
    try:
        return json.loads(stamp.read_text())["fingerprint"] == source_fingerprint(settings)
    except (ValueError, KeyError):
        return False


def reflex_environment() -> dict[str, str]:
    env = {**os.environ, **{name: os.environ.get(name, value) for name, value in QUIET_REFLEX.items()}}
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def build_front_end(settings: Settings) -> None:
    """Compile and build the front end for ``settings.public_url`` into ``web_dir()``, and stamp it.

    The bundle's websocket address is the public origin (``REFLEX_API_URL``): behind a balancer
    every instance's pages must connect back through the balancer, not to the instance's own port.
    """
    # PYTHONHASHSEED: Reflex names some generated identifiers after Python's hash() of a var, and
    # string hashes are salted per process unless the seed is fixed. (A var's type hashes by its
    # address whatever the seed: see the acknowledgement ids in ui/pages/agreement.py.)
    env = {**reflex_environment(), "REFLEX_API_URL": public_origin(settings), "PYTHONHASHSEED": "0"}
    (web_dir() / BUILD_STAMP).unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "immtrax_portal.serving", "export"],  # noqa: S603 - fixed argv
                   cwd=PROJECT_ROOT, env=env, check=True)
    _stamp(web_dir(), settings)


def _stamp(folder: Path, settings: Settings) -> None:
    stamp = {"fingerprint": source_fingerprint(settings), "sources": sources_fingerprint(settings),
             "public_origin": public_origin(settings), "reflex": version("reflex")}
    (folder / BUILD_STAMP).write_text(json.dumps(stamp, indent=2) + "\n")


def stamp_of(folder: Path) -> dict[str, str]:
    """What a web folder's build was built from ({} when it has no readable stamp)."""
    try:
        stamp = json.loads((folder / BUILD_STAMP).read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


# The installed packages stay with the folder that installed them: a copy without node_modules must
# not carry Reflex's note that they are installed, so that its next build installs them.
NOT_COPIED = ("node_modules", "reflex.install_frontend_packages.cached", BUILD_STAMP)
# What names the backend's addresses: Reflex's env.json and the bundle's module compiled from it, in
# the client build (plain and pre-compressed, which is what browsers are sent) and the server build.
ORIGIN_FILES = ("env.json", "build/*/assets/reflex-env-*.js", "build/*/assets/reflex-env-*.js.gz")


def rebase_build(donor: Path, settings: Settings) -> bool:
    """Copy ``donor``'s build into ``web_dir()`` for ``settings.public_url`` instead of building
    again (tens of seconds): allowed only when the donor was built from the same sources for an
    origin of the same scheme, since then the builds differ only in the files that name the origin
    (``ORIGIN_FILES``). Returns False, changing nothing, when the donor does not qualify."""
    stamp, target = stamp_of(donor), web_dir()
    old, new = urlsplit(stamp.get("public_origin", "")), urlsplit(public_origin(settings))
    if stamp.get("sources") != sources_fingerprint(settings) or old.scheme != new.scheme or not old.netloc:
        return False
    if donor.resolve() == target.resolve() or not (built_pages_dir(donor) / "index.html").is_file():
        return False
    (target / BUILD_STAMP).unlink(missing_ok=True)
    shutil.rmtree(built_pages_dir(target).parent, ignore_errors=True)
    shutil.copytree(donor, target, ignore=shutil.ignore_patterns(*NOT_COPIED), dirs_exist_ok=True)
    before, after = f"//{old.netloc}/".encode(), f"//{new.netloc}/".encode()
    for pattern in ORIGIN_FILES:
        for path in target.glob(pattern):
            _replace_in(path, before, after)
    _stamp(target, settings)
    return True


def _replace_in(path: Path, before: bytes, after: bytes) -> None:
    if path.suffix == ".gz":
        text = gzip.decompress(path.read_bytes()).replace(before, after)
        path.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
    else:
        path.write_bytes(path.read_bytes().replace(before, after))


def granian_command(settings: Settings) -> list[str]:
    """Granian serving the Reflex app (pages, assets, websocket and sign-in routes on one port).

    ``--respawn-failed-workers``: a worker killed by the kernel or a crash is started again while
    the others go on serving; Granian itself gives up (and exits non-zero) only on a crash loop.
    """
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", settings.listen_host, "--port", str(settings.listen_port),
            "--workers", str(settings.worker_count), "--respawn-failed-workers",
            "--respawn-interval", "1", "--workers-kill-timeout", "15",
            "--log-level", os.environ.get("GRANIAN_LOG_LEVEL", "warning"), APP_TARGET]


def serving_environment() -> dict[str, str]:
    """Reflex in production mode, serving the existing build (no compile at start)."""
    # Reflex's internal switches are read from "__"-prefixed variables (reflex_base/environment.py).
    return {**reflex_environment(), "REFLEX_ENV_MODE": "prod", "__REFLEX_SKIP_COMPILE": "true",
            "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true"}


# Reflex writes two per-run values into <web>/reflex.json, which the bundle imports: a random
# project hash (at the web folder's first init) and the time of the build. Fixed, two builds of
# the same sources are byte-identical.
REPRODUCIBLE_PROJECT_HASH = int(hashlib.sha256(b"immtrax-portal").hexdigest()[:30], 16)
REPRODUCIBLE_RUN_TIME = "not recorded (reproducible build)"


def _export_reproducibly() -> None:
    """``reflex export --frontend-only --no-zip --env prod``, with reflex.json's per-run values
    fixed just before the bundle is built (Reflex sets them in ``setup_frontend``)."""
    from reflex.reflex import cli as reflex_cli
    from reflex.utils import path_ops, prerequisites

    def record_fixed_run_values() -> None:
        path_ops.update_json_file(prerequisites.get_web_dir() / "reflex.json",
                                  {"project_hash": REPRODUCIBLE_PROJECT_HASH,
                                   "last_reflex_run_datetime": REPRODUCIBLE_RUN_TIME})

    prerequisites.set_last_reflex_run_time = record_fixed_run_values
    reflex_cli(["export", "--frontend-only", "--no-zip", "--env", "prod"])


if __name__ == "__main__" and sys.argv[1:] == ["export"]:
    _export_reproducibly()


class PageWithoutRedirect:
    """Serve ``/dashboard`` as the built page's folder ``/dashboard/`` itself. The static files
    would answer a redirect to the folder first, and every link, bookmark and sign-in return of
    the portal is written without the slash: one round trip more on every page load."""

    def __init__(self, app, pages_dir: Path | None = None) -> None:
        self.app, self._pages_dir, self._pages = app, pages_dir, None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = scope["path"]
            if not path.endswith("/") and path in self.page_paths():
                scope = {**scope, "path": f"{path}/", "raw_path": f"{path}/".encode()}
        await self.app(scope, receive, send)

    def page_paths(self) -> frozenset[str]:
        """The built pages' addresses without the slash (read once: a build is never changed
        under a running server; a new one is served by a new start)."""
        if self._pages is None:
            root = self._pages_dir or built_pages_dir()
            self._pages = frozenset("/" + page.parent.relative_to(root).as_posix()
                                    for page in root.glob("**/index.html") if page.parent != root)
        return self._pages
