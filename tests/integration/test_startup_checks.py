"""The portal refuses to serve a database older than its code, and says how to fix it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.databases import SINGLE_BACKEND, empty_database_url

ROOT = Path(__file__).resolve().parents[2]


def test_serve_refuses_an_empty_database_and_names_the_upgrade_command(tmp_path):
    with empty_database_url(SINGLE_BACKEND, tmp_path) as url:
        env = {**os.environ, "IMMTRAX_DATABASE_URL": url, "IMMTRAX_DATA_DIR": str(tmp_path)}
        result = subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "serve"], env=env,
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert "alembic upgrade head" in result.stderr


def test_prepare_twice_loads_the_demo_world_once(tmp_path):
    with empty_database_url(SINGLE_BACKEND, tmp_path) as url:
        env = {**os.environ, "IMMTRAX_DATABASE_URL": url, "IMMTRAX_DATA_DIR": str(tmp_path)}
        first = subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "prepare"], env=env,
                               cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
        second = subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "prepare"], env=env,
                                cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert "Demo data loaded." in first.stdout
    assert "Demo data already present." in second.stdout
