"""The package's import graph, read from the source with ``ast`` (nothing is imported).

Every ``import`` counts, also those inside functions: a circle hidden in a function body is still
a circle, just one that breaks later and in a harder place to see.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "immtrax_portal"

# Modules that only read, and the use-case modules that change requests, people or agreements.
READ_MODULES = ("services.roster", "services.queue", "services.metrics",
                "services.mailbox", "services.signed_agreements", "services.change_feed",
                "services.queue_marks", "services.clock_figures")
WRITE_MODULES = ("services.requests", "services.request_actions", "services.reminders",
                 "services.queue_owner", "services.program_clock",
                 "services.signing", "services.drafts", "services.organizations", "services.staff_roles",
                 "services.org_import", "services.agreement_admin")


def module_files(root: Path = PACKAGE) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (``from a import b`` counts as ``a.b`` when b is one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
                elif base in known:
                    found.add(base)
    found.discard(name)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    files = module_files(root)
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle once, as a path that starts and ends at the same module (depth-first search)."""
    cycles, done, on_path = [], set(), []

    def visit(module: str) -> None:
        on_path.append(module)
        for target in sorted(graph[module]):
            if target in on_path:
                cycles.append([*on_path[on_path.index(target):], target])
            elif target not in done:
                visit(target)
        on_path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return cycles


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_no_module_of_the_package_imports_itself_through_others():
    cycles = import_cycles(import_graph())
    assert cycles == [], "import circles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def test_the_cycle_finder_sees_a_circle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from pkg.c import thing\n")
    (package / "c.py").write_text("from . import a\nthing = 1\n")
    assert import_cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


@pytest.mark.parametrize("read_module", READ_MODULES)
def test_a_reading_module_reaches_no_writing_module(read_module):
    graph = import_graph()
    prefixed = {f"immtrax_portal.{name}" for name in WRITE_MODULES}
    assert f"immtrax_portal.{read_module}" in graph
    assert reachable(graph, f"immtrax_portal.{read_module}") & prefixed == set()


def test_only_the_settings_name_the_program_time_zone():
    spelled = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
               if "America/Denver" in path.read_text() or "ZoneInfo(\"" in path.read_text()]
    assert spelled == ["settings.py"]


def test_only_the_route_module_puts_paths_behind_the_public_address():
    building = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
                if "public_url}/" in path.read_text()]
    assert building == []
