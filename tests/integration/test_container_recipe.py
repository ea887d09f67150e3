"""The container recipe (Containerfile, deploy/compose.yaml, deploy/nginx.conf), checked as far as a
machine without Docker allows: the Containerfile's rules are read from it (pinned base, unprivileged
user, health check, the commands it names exist); the RUN steps it runs as the portal user are run
as a script in a clean copy of what it COPYs, in a fresh virtual environment, and the CMD and the
HEALTHCHECK then run against the result; the compose file is checked against the Containerfile and
the nginx config, and that config passes ``nginx -t``. Not executed here: the base image, the root
step that creates the user, and Docker/Compose themselves.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from immtrax_portal.cli import COMMANDS
from immtrax_portal.settings import Settings
from tests.support.balancer import NGINX
from tests.support.databases import selected_backend
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
ONCE = pytest.mark.skipif(selected_backend() == "postgresql",
                          reason="uses no database: runs in the SQLite pass of make test")


def instructions(path: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        lines.append(current.strip())
        current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def env_pairs(arguments: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(arguments))


def cli_command_of(exec_form: str | list[str]) -> str:
    argv = yaml.safe_load(exec_form) if isinstance(exec_form, str) else exec_form  # JSON exec form
    assert argv[:3] == ["python", "-m", "immtrax_portal.cli"], argv
    return argv[3]


def test_the_image_starts_from_a_pinned_base_and_runs_as_an_unprivileged_user():
    steps = instructions()
    [base] = [arguments for op, arguments in steps if op == "FROM"]
    assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+-[\w.-]+(@sha256:[0-9a-f]{64})?", base), base
    users = [index for index, (op, _) in enumerate(steps) if op == "USER"]
    assert users and steps[users[-1]][1] not in ("root", "0")
    later = [op for op, _ in steps[users[0]:]]
    assert "CMD" in later and "RUN" in later  # the build and the server run as that user


def test_the_image_builds_the_front_end_checks_its_health_and_serves_with_known_commands():
    steps = instructions()
    runs = " ".join(arguments for op, arguments in steps if op == "RUN")
    assert "immtrax_portal.cli build" in runs
    [healthcheck] = [arguments for op, arguments in steps if op == "HEALTHCHECK"]
    port = env_pairs(next(a for op, a in steps if op == "ENV" and "IMMTRAX_LISTEN_PORT" in a))
    assert f"127.0.0.1:{port['IMMTRAX_LISTEN_PORT']}/readyz" in healthcheck
    [cmd] = [arguments for op, arguments in steps if op == "CMD"]
    assert cli_command_of(cmd) == "serve" and "serve" in COMMANDS


def test_the_image_copies_every_file_the_portal_is_built_from():
    copied = {part for op, arguments in instructions() if op == "COPY"
              for part in shlex.split(arguments)[:-1] if not part.startswith("--")}
    for needed in ("pyproject.toml", "rxconfig.py", "alembic.ini", "alembic", "assets", "reflex.lock",
                   "immtrax_portal"):
        assert needed in copied, f"the Containerfile does not COPY {needed}"
        assert (ROOT / needed).exists()


def container_root(tmp_path: Path) -> Path:
    """Lay out what the Containerfile COPYs under tmp_path, with its WORKDIR mapped there."""
    workdir = next(arguments for op, arguments in instructions() if op == "WORKDIR")
    root = tmp_path / workdir.lstrip("/")
    root.mkdir(parents=True)
    for op, arguments in instructions():
        if op != "COPY":
            continue
        *sources, destination = [part for part in shlex.split(arguments) if not part.startswith("--")]
        for source in sources:
            target = root / destination / (Path(source).name if destination.endswith("/") else "")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, target)
    return root


def package_caches() -> dict[str, str]:
    """This machine's package-index settings and caches, as a build cache and the build host's
    network settings would give docker build: the packages still come through pip and npm."""
    machine = {name: value for name, value in os.environ.items()
               if name.startswith(("PIP_", "NPM_CONFIG_")) and name != "PIP_NO_CACHE_DIR"}
    return {**machine, "PIP_NO_CACHE_DIR": "0", "NPM_CONFIG_CACHE": str(Path.home() / ".npm")}


@ONCE
def test_the_portal_users_build_steps_run_in_a_clean_environment_and_the_result_serves(tmp_path):
    workdir = next(arguments for op, arguments in instructions() if op == "WORKDIR")
    root = container_root(tmp_path)
    python_dir = tmp_path / "base-image-bin"  # stands in for the base image's python on PATH
    python_dir.mkdir()
    (python_dir / "python").symlink_to(Path(sys._base_executable).resolve())
    env = {"HOME": str(tmp_path), "PATH": f"{python_dir}:/usr/local/bin:/usr/bin:/bin",
           "LANG": "C.UTF-8"}
    user_seen = False
    for op, arguments in instructions():
        arguments = arguments.replace(workdir, str(root))
        if op == "USER":
            user_seen = True
        elif op == "ARG" and "=" in arguments:
            env.update(env_pairs(arguments))
        elif op == "ENV":
            env.update({name: re.sub(r"\$(\w+)", lambda m: env.get(m[1], ""), value)
                        for name, value in env_pairs(arguments).items()})
        elif op == "RUN" and user_seen:
            env.update(package_caches())
            result = subprocess.run(["/bin/sh", "-c", arguments], cwd=root, env=env, timeout=1500,
                                    capture_output=True, text=True)
            errors = "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                               if "npm error" in line or "ERROR" in line)
            assert result.returncode == 0, f"RUN {arguments}\n{errors}\n{result.stderr[-3000:]}"
    assert (root / ".web" / "build" / "client" / "index.html").is_file()

    # The CMD, as `docker run` would start it (development mode: no production secrets here).
    port = free_port()
    run_env = {**env, "IMMTRAX_ENVIRONMENT": "development", "IMMTRAX_LISTEN_HOST": "127.0.0.1",
               "IMMTRAX_LISTEN_PORT": str(port), "IMMTRAX_DEMO_OIDC_PORT": str(free_port())}
    subprocess.run([str(root / ".venv/bin/python"), "-m", "immtrax_portal.cli", "prepare"], cwd=root,
                   env=run_env, check=True, capture_output=True, timeout=300)
    cmd = yaml.safe_load(next(arguments for op, arguments in instructions() if op == "CMD"))
    log = tmp_path / "serve.log"
    started = time.monotonic()
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=root, env=run_env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        healthcheck = yaml.safe_load(next(a for op, a in instructions() if op == "HEALTHCHECK")
                                     .split("CMD", 1)[1])
        healthcheck = [part.replace("127.0.0.1:3000", f"127.0.0.1:{port}") for part in healthcheck]
        while time.monotonic() - started < 120:
            if subprocess.run(healthcheck, cwd=root, env=run_env, capture_output=True).returncode == 0:
                break
            assert server.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
        else:
            raise AssertionError(f"the HEALTHCHECK never passed:\n{log.read_text()[-3000:]}")
        print(f"the image's CMD answered its HEALTHCHECK after {time.monotonic() - started:.1f}s")
        assert "building it first" not in log.read_text()  # it served the image's build
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    assert server.returncode == 0


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_portal_postgresql_redis_and_nginx_from_pinned_images():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "portal-1", "portal-2", "nginx"} <= services.keys()
    for name, service in services.items():
        if "build" in service:
            assert (COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]) \
                .resolve() == CONTAINERFILE
        else:
            assert re.search(r":\d+\.\d+(\.\d+)?(-[\w.]+)?$", service["image"]), f"{name} is not pinned"
    assert cli_command_of(services["migrate"]["command"]) in COMMANDS


def test_compose_instances_share_one_database_and_redis_and_fit_the_connection_budget():
    services = compose()["services"]
    portals = [services["portal-1"], services["portal-2"]]
    assert portals[0]["environment"] == portals[1]["environment"]
    env = {name: re.sub(r"\$\{[^}]+\}", "secret", str(value))
           for name, value in portals[0]["environment"].items()}
    example = dict(line.split("=", 1) for line in (COMPOSE.parent / "portal.env.example").read_text()
                   .splitlines() if line and not line.startswith("#"))
    build_args = portals[0]["build"]["args"]
    filled = {**{name: value or "placeholder" for name, value in example.items()}, **env, **build_args,
              "IMMTRAX_ENVIRONMENT": "production", "IMMTRAX_SMTP_HOST": "smtp.mt.example"}
    settings = Settings(**{name.removeprefix("IMMTRAX_").lower(): value for name, value in filled.items()})
    assert settings.worker_count == 2 and settings.redis_url
    assert len(portals) * settings.database_connections_at_most <= 100 - 3  # PostgreSQL's default


def test_the_nginx_config_sends_to_the_compose_instances_and_passes_nginx_t(tmp_path):
    services = compose()["services"]
    config = NGINX_CONF.read_text()
    upstreams = re.findall(r"^\s*server ([\w-]+):(\d+)", config, flags=re.M)
    assert upstreams and all(host in services for host, _ in upstreams)
    assert {port for _, port in upstreams} == {services["portal-1"]["environment"]["IMMTRAX_LISTEN_PORT"]}
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in services["nginx"]["volumes"])
    for source in mounts:
        assert (COMPOSE.parent / source).exists() or source == "./tls", source
    [include] = re.findall(r"include (\S+);", config)
    assert mounts["./nginx/portal-locations.conf"] == include

    if NGINX is None or shutil.which("openssl") is None:
        pytest.skip("nginx -t needs nginx and openssl")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=access.immtrax.mt.gov", "-keyout", str(tmp_path / "portal.key"),
                    "-out", str(tmp_path / "portal.crt")], check=True, capture_output=True)
    local = (config.replace(include, str(COMPOSE.parent / "nginx" / "portal-locations.conf"))
             .replace("/etc/nginx/tls", str(tmp_path)).replace("/run/nginx.pid", str(tmp_path / "pid"))
             .replace("/var/log/nginx", str(tmp_path)))
    for host, _ in upstreams:
        local = local.replace(f"server {host}:", "server 127.0.0.1:")
    (tmp_path / "nginx.conf").write_text(local)
    result = subprocess.run([NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "err")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
