"""The viewer's models import and work with Qt and VTK made unavailable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'vtkmodules', 'vtk', 'shiboken6'):
            raise ImportError(name + ' is blocked')
        return None
sys.meta_path.insert(0, Block())
import importlib, pkgutil, workstation.viewer as v
names = []
for info in pkgutil.walk_packages(v.__path__, 'workstation.viewer.'):
    if '._qt' in info.name or '._vtk' in info.name or '.migrations' in info.name:
        continue
    importlib.import_module(info.name)
    names.append(info.name)
from workstation.viewer import measurements
assert measurements.length((0, 0), (3, 4), None) == 5.0
print(len(names))
"""


def test_viewer_models_need_no_qt_or_vtk() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) >= 15
