"""Retake the README's MPR screenshot: the real chest CT in the MPR window (1 x 3),
the crosshair turned 25 degrees in the axial plane and the two oblique planes as 10 mm
MIP slabs (their faces dashed on the axial plane), lung window.

    KLINIKA_TESTDATA=../shared/testdata xvfb-run -a python scripts/mpr_screenshots.py

Writes docs/screenshots/mpr-ct-oblique-mip-slab.png (the 3-D pictures beside it come
from ``workstation render3d``). Needs the public test data (MANIFEST.md there).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERIES = "series/ct-chest-ricord-255sl-jpegll"


def main() -> int:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from workstation.imaging.errors import CannotDisplay
    from workstation.mpr._qt.qt_mpr_view import QtMprView
    from workstation.mpr._vtk.vtk_volume_render import grab_rgb
    from workstation.mpr.geometry import Slab, SlabMode
    from workstation.mpr.series_input import read_series
    from workstation.mpr.volume import build_mpr_volume

    folder = Path(os.environ.get("KLINIKA_TESTDATA", ROOT.parent / "shared" / "testdata")) / SERIES
    paths = sorted(folder.glob("*.dcm"))
    if not paths:
        sys.stderr.write(f"no series in {folder}\n")
        return 1
    app = QApplication.instance() or QApplication([])
    loaded = read_series(paths)
    if isinstance(loaded, CannotDisplay):
        sys.stderr.write(loaded.reason + "\n")
        return 1
    volume = build_mpr_volume(loaded.frames)
    view = QtMprView(volume, "1x3")
    view.resize(1510, 600)
    view.show()
    state = view.state
    for i in range(3):
        state.set_window(i, -600.0, 1600.0)
    state.set_crosshair(volume.index_to_patient([230, 250, 150]))
    state.rotate(0, 25.0)
    state.set_slab(Slab(10.0, SlabMode.MIP), [1, 2])
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    pictures = []
    for plane in view.planes:
        plane.render_now()
        pictures.append(grab_rgb(plane.GetRenderWindow()))
    h = min(p.shape[0] for p in pictures)
    out = np.ascontiguousarray(np.concatenate([p[:h] for p in pictures], axis=1))
    target = ROOT / "docs" / "screenshots" / "mpr-ct-oblique-mip-slab.png"
    image = QImage(
        out.data, out.shape[1], out.shape[0], 3 * out.shape[1], QImage.Format.Format_RGB888
    )
    if not image.copy().save(str(target)):
        sys.stderr.write(f"cannot write {target}\n")
        return 1
    sys.stdout.write(f"wrote {target} ({out.shape[1]}x{out.shape[0]})\n")
    view.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
