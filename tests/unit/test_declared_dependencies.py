"""Every third-party package the code imports is declared in pyproject.toml.

An undeclared import works only while another package happens to pull it in; the day that package
drops it, a fresh install breaks. The imports are read with ``ast``; each is traced to the
distribution that installs it (``importlib.metadata``).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group()).lower()


def declared(*extras: str) -> set[str]:
    optional = PROJECT["optional-dependencies"]
    requirements = [*PROJECT["dependencies"], *(r for extra in extras for r in optional[extra])]
    return {_name(r) for r in requirements}


def imported_top_level(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__", "immtrax_portal", "tests"}


def undeclared(folder: Path, allowed: set[str]) -> dict[str, list[str]]:
    distributions = packages_distributions()
    missing = {}
    for module in sorted(imported_top_level(folder)):
        installed_by = {_name(d) for d in distributions.get(module, [module])}
        if not installed_by & allowed:
            missing[module] = sorted(installed_by)
    return missing


@pytest.mark.parametrize(("folder", "extras"), [("immtrax_portal", ()), ("alembic", ()),
                                                ("tests", ("test",))])
def test_every_imported_package_is_declared(folder, extras):
    assert undeclared(ROOT / folder, declared(*extras)) == {}


def test_an_import_nobody_declared_is_found(tmp_path):
    (tmp_path / "module.py").write_text("import json\nimport pytest\nfrom fpdf import FPDF\n")
    assert undeclared(tmp_path, declared()) == {"pytest": ["pytest"]}
