"""sop_core never imports streamlit: every module imports with streamlit made unimportable."""

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
