"""What the house promises: lint clean, engine without Qt/VTK, no print, no PHI paths."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ("pacs_node", "imaging", "auth", "reports", "services")
#: Packages whose models stay importable without Qt/VTK outside their _qt/_vtk rooms.
ROOMED = ("viewer", "mpr")
BIN = Path(sys.executable).parent


def test_ruff_clean() -> None:
    result = subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--no-cache",
            *(d for d in ("workstation", "tests", "benchmarks", "central") if (ROOT / d).exists()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.slow
def test_mypy_clean(tmp_path: Path) -> None:
    """The type check configured in pyproject.toml (the engine fully annotated)."""
    result = subprocess.run(
        [str(BIN / "mypy"), "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:]


def test_import_contracts() -> None:
    """pyproject's import-linter contracts: no Qt/VTK in the engine, and the layers."""
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


_BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'vtkmodules', 'vtk', 'shiboken6'):
            raise ImportError(f'{name} is blocked: engine code must not import it')
        return None
sys.meta_path.insert(0, Block())
import importlib, pkgutil, workstation
names = []
for pkg in %r:
    try:
        mod = importlib.import_module('workstation.' + pkg)
    except ModuleNotFoundError as exc:
        if exc.name == 'workstation.' + pkg:
            continue
        raise
    names.append(mod.__name__)
    for info in pkgutil.walk_packages(mod.__path__, mod.__name__ + '.'):
        if any(part in info.name for part in ('._qt', '._vtk', '.migrations', '.alembic')):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
import workstation.cli, workstation.config
print(len(names))
"""


def test_engine_imports_without_qt_or_vtk() -> None:
    """The headless core: every engine module imports with Qt and VTK made unavailable."""
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKER % (ENGINE + ROOMED,)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]


def test_cli_verbs_load() -> None:
    from workstation.cli import build_parser

    parser = build_parser()
    assert parser.prog == "workstation"
    names = [
        i.name for i in pkgutil.iter_modules(importlib.import_module("workstation.cli").__path__)
    ]
    assert "start" in names


@pytest.mark.parametrize("pkg", ENGINE + ROOMED)
def test_engine_source_has_no_qt_imports(pkg: str) -> None:
    base = ROOT / "workstation" / pkg
    if not base.exists():
        pytest.skip(f"workstation.{pkg} not built yet")
    offenders = []
    for path in base.rglob("*.py"):
        if "_qt" in path.parts or "_vtk" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for token in ("import PySide6", "from PySide6", "import vtk", "from vtk"):
            if token in text:
                offenders.append(f"{path.relative_to(ROOT)}: {token}")
    assert not offenders
