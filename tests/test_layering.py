"""The house: sop_core never imports streamlit, its modules import in one direction, no circles.

``lint-imports`` (pyproject.toml) checks the layers of ``sop_core``; these tests also read the
imports hidden inside functions, which is how circles used to be held together, and cover ``ui``.
"""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import sop_core

ROOT = Path(__file__).resolve().parent.parent

BLOCKER = r"""
import importlib, importlib.abc, pkgutil, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ImportError("streamlit is forbidden in sop_core")
sys.meta_path.insert(0, Block())
import sop_core
for m in sorted(pkgutil.walk_packages(sop_core.__path__, "sop_core."), key=lambda m: m.name):
    if m.name != "sop_core.__main__":
        importlib.import_module(m.name)
print("ok", len(list(pkgutil.walk_packages(sop_core.__path__))))
"""


def test_every_sop_core_module_imports_without_streamlit():
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok")


def test_no_sop_core_source_mentions_streamlit_import():
    for mod in pkgutil.walk_packages(sop_core.__path__, "sop_core."):
        path = ROOT / (mod.name.replace(".", "/") + ".py")
        if path.exists():
            text = path.read_text()
            assert "import streamlit" not in text and "from streamlit" not in text, path


# --- the import graph, function-level imports included -----------------------------------------


def _modules() -> dict[str, Path]:
    out = {}
    for folder in ("sop_core", "ui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for each import of the file."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name in known:
                found.append((name, node.lineno, id(node) not in top))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: {target for target, _, _ in _imports(path, known) if target != name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, if there is any (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_circle_and_none_where_there_is_none():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circles_in_sop_core_and_ui_counting_imports_inside_functions():
    assert _cycle(_graph()) is None


def test_a_project_import_inside_a_function_says_why():
    """No sop_core or ui import is hidden in a function unless the line above says why."""
    modules = _modules()
    known = set(modules)
    unexplained = []
    for path in modules.values():
        lines = path.read_text().splitlines()
        for target, line, inside in _imports(path, known):
            if inside and not lines[line - 2].strip().startswith("#"):
                unexplained.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert unexplained == []
