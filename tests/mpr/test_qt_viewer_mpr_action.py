"""The viewer's "MPR / 3-D" action opens the active series in the MPR window (Xvfb)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mpr.phantoms import random_hu, write_series
from tests.viewer.gui_helpers import settle

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def _viewer(qtbot, settings, paths: list[Path]):  # type: ignore[no-untyped-def]
    from workstation.mpr._qt.qt_mpr_launcher import open_mpr_window
    from workstation.viewer._qt.qt_viewer import QtViewer
    from workstation.viewer.catalog import FileCatalog

    catalog = FileCatalog(paths)
    # The app hosts MPR (the layer above both): it hands the viewer this opener.
    viewer = QtViewer(catalog, settings, mpr_opener=open_mpr_window)
    qtbot.addWidget(viewer)
    viewer.resize(900, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    assert viewer.open_study(catalog.studies()[0])
    settle(200)
    return viewer


def test_mpr_action_opens_the_active_series(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = write_series(tmp_path / "ct", random_hu((24, 40, 48)))
    viewer = _viewer(qtbot, settings, paths)
    opened: list[object] = []
    launcher = viewer.open_mpr()
    launcher.sig_opened.connect(opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=60_000)
    window = opened[0]
    assert window.volume.shape == (24, 40, 48)
    assert viewer.toolbar.mpr_action.text() == "MPR / 3-D"
    window.close()
    viewer.close()


def test_mpr_action_explains_a_series_that_is_no_volume(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = write_series(tmp_path / "one", random_hu((1, 16, 16)))
    viewer = _viewer(qtbot, settings, paths)
    errors: list[str] = []
    viewer.sig_error.connect(errors.append)
    viewer.open_mpr()
    qtbot.waitUntil(lambda: bool(errors), timeout=60_000)
    assert "two" in errors[-1]
    viewer.close()
