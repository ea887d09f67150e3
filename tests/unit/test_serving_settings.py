"""Serving settings: workers, listen address and port, the database pool budget, and the unsafe
shapes the portal refuses to start in."""

from __future__ import annotations

import gzip
import os

import pytest
from pydantic import ValidationError

from immtrax_portal import serving
from immtrax_portal.settings import Settings

POSTGRES = "postgresql://portal@db.example/immtrax"
REDIS = "redis://127.0.0.1:6379/0"
GOOD_PRODUCTION = {"environment": "production", "oidc_issuer": "https://mt.okta.example/oauth2/default",
                   "oidc_client_secret": "a-real-secret-from-the-vault",
                   "public_url": "https://immtrax-access.mt.example", "smtp_host": "smtp.mt.example"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No IMMTRAX_ variable from the outer shell, and no .env file, leaks into a test."""
    for name in list(os.environ):
        if name.upper().startswith("IMMTRAX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_without_redis_one_worker_serves_by_default():
    assert Settings().worker_count == 1


def test_with_redis_the_default_is_one_worker_per_core_at_most_four(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert Settings(redis_url=REDIS).worker_count == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert Settings(redis_url=REDIS).worker_count == 4  # not Reflex's 2 x CPUs + 1


def test_the_worker_count_is_read_from_immtrax_workers(monkeypatch):
    monkeypatch.setenv("IMMTRAX_WORKERS", "3")
    monkeypatch.setenv("IMMTRAX_REDIS_URL", REDIS)
    assert Settings().worker_count == 3


@pytest.mark.parametrize("shape", [{}, GOOD_PRODUCTION], ids=["development", "production"])
def test_several_workers_without_redis_are_refused(monkeypatch, shape):
    monkeypatch.setenv("IMMTRAX_WORKERS", "2")
    with pytest.raises(ValidationError, match="IMMTRAX_WORKERS=2 needs IMMTRAX_REDIS_URL"):
        Settings(**shape)
    assert Settings(**shape, redis_url=REDIS).worker_count == 2


def test_the_listen_port_is_not_taken_from_the_public_url(monkeypatch):
    monkeypatch.setenv("IMMTRAX_PUBLIC_URL", "https://access.example")
    settings = Settings()
    assert (settings.listen_host, settings.listen_port) == ("0.0.0.0", 3000)
    monkeypatch.setenv("IMMTRAX_LISTEN_HOST", "127.0.0.1")
    monkeypatch.setenv("IMMTRAX_LISTEN_PORT", "8080")
    settings = Settings()
    assert (settings.public_url, settings.listen_host, settings.listen_port) == (
        "https://access.example", "127.0.0.1", 8080)


def test_granian_listens_where_the_settings_say_with_failed_workers_respawned():
    command = serving.granian_command(Settings(listen_host="127.0.0.1", listen_port=3521, workers=3,
                                               redis_url=REDIS))
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "3521"
    assert command[command.index("--workers") + 1] == "3"
    assert "--respawn-failed-workers" in command
    assert command[-1] == serving.APP_TARGET


def test_the_default_pool_fits_four_workers_in_the_default_budget():
    settings = Settings(database_url=POSTGRES, redis_url=REDIS, workers=4)
    assert (settings.database_pool_size, settings.database_max_overflow) == (5, 5)
    assert settings.database_connections_at_most == 40 <= settings.database_connection_budget


def test_a_pool_over_the_connection_budget_is_refused():
    with pytest.raises(ValidationError, match=r"8 workers x \(IMMTRAX_DATABASE_POOL_SIZE=10 \+ "
                                              r"IMMTRAX_DATABASE_MAX_OVERFLOW=20\) = 240 database "
                                              r"connections, over IMMTRAX_DATABASE_CONNECTION_BUDGET=90"):
        Settings(database_url=POSTGRES, redis_url=REDIS, workers=8, database_pool_size=10,
                 database_max_overflow=20, database_connection_budget=90)


def test_sqlite_opens_no_pool_so_the_budget_does_not_apply():
    assert Settings(workers=8, redis_url=REDIS, database_pool_size=50).worker_count == 8


def test_the_engine_pool_takes_its_size_from_the_settings(monkeypatch):
    from immtrax_portal.db import build_engine
    from immtrax_portal.settings import get_settings

    monkeypatch.setenv("IMMTRAX_DATABASE_POOL_SIZE", "3")
    monkeypatch.setenv("IMMTRAX_DATABASE_MAX_OVERFLOW", "2")
    get_settings.cache_clear()
    try:
        engine = build_engine(POSTGRES)  # no connection is opened
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 2)
    finally:
        get_settings.cache_clear()


def test_a_build_fingerprint_changes_with_the_public_url():
    first = serving.source_fingerprint(Settings(public_url="http://localhost:3520"))
    assert first == serving.source_fingerprint(Settings(public_url="http://localhost:3520/"))
    assert first != serving.source_fingerprint(Settings(public_url="https://access.example"))


def test_a_build_fingerprint_changes_with_what_the_pages_show_at_build_time():
    first = serving.source_fingerprint(Settings())
    assert first != serving.source_fingerprint(Settings(program_phone="(406) 555-0100"))
    assert first != serving.source_fingerprint(Settings(oidc_issuer="https://mt.okta.example",
                                                                 environment="development"))
    assert first == serving.source_fingerprint(Settings(smtp_host="smtp.mt.example"))


def _fake_build(folder, settings: Settings) -> None:
    """A web folder shaped like a finished build for ``settings`` (stamp, pages, the files that name
    the origin, node_modules and Reflex's note that they are installed), without running Reflex."""
    origin = serving.public_origin(settings)
    module = f"var e={{PING:`{origin}/ping`,EVENT:`{origin.replace('http', 'ws', 1)}/_event`}};"
    for side in ("client", "server"):
        assets = folder / "build" / side / "assets"
        assets.mkdir(parents=True)
        (assets / "reflex-env-Ab1.js").write_text(module)
    client = serving.built_pages_dir(folder)
    (client / "assets" / "reflex-env-Ab1.js.gz").write_bytes(gzip.compress(module.encode()))
    (client / "index.html").write_text('<script src="/assets/reflex-env-Ab1.js">')
    (client / "assets" / "root-X.js").write_text("console.log('localhost:3530 is only text here')")
    (folder / "env.json").write_text(f'{{"PING": "{origin}/ping"}}')
    (folder / "node_modules" / "left").mkdir(parents=True)
    (folder / "reflex.install_frontend_packages.cached").write_text("react-router")
    serving._stamp(folder, settings)


def test_a_build_copied_for_another_origin_names_that_origin_and_is_current_there(tmp_path, monkeypatch):
    donor, target = tmp_path / "donor", tmp_path / "target"
    _fake_build(donor, Settings(public_url="http://localhost:3530"))
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(target))
    wanted = Settings(public_url="http://localhost:3531")

    assert serving.rebase_build(donor, wanted)
    assert serving.build_is_current(wanted)
    module = "var e={PING:`http://localhost:3531/ping`,EVENT:`ws://localhost:3531/_event`};"
    for side in ("client", "server"):
        assert (target / "build" / side / "assets" / "reflex-env-Ab1.js").read_text() == module
    compressed = serving.built_pages_dir(target) / "assets" / "reflex-env-Ab1.js.gz"
    assert gzip.decompress(compressed.read_bytes()).decode() == module    # what browsers are sent
    assert (target / "env.json").read_text() == '{"PING": "http://localhost:3531/ping"}'
    assert (serving.built_pages_dir(target) / "assets" / "root-X.js").read_text() == \
        "console.log('localhost:3530 is only text here')"
    # Its packages are not copied, nor the note that they are installed: its next build installs them.
    assert not (target / "node_modules").exists()
    assert not (target / "reflex.install_frontend_packages.cached").exists()
    assert serving.build_is_current(Settings(public_url="http://localhost:3530")) is False


def test_a_build_of_other_sources_or_another_scheme_is_not_copied(tmp_path, monkeypatch):
    donor, target = tmp_path / "donor", tmp_path / "target"
    _fake_build(donor, Settings(public_url="http://localhost:3530", program_phone="(406) 555-0100"))
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(target))

    assert not serving.rebase_build(donor, Settings(public_url="http://localhost:3531"))
    assert not serving.rebase_build(donor, Settings(public_url="https://localhost:3531",
                                                    program_phone="(406) 555-0100"))
    assert not target.exists()
