"""The viewer on the shared public test data (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vtkmodules")

from PySide6.QtCore import Qt

from tests.viewer.gui_helpers import drag, open_and_wait, save_png, settle, wait_until
from workstation.viewer import geometry
from workstation.viewer.catalog import FileCatalog

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


def _catalog(folder: Path) -> FileCatalog:
    return FileCatalog(sorted(p for p in folder.iterdir() if p.suffix == ".dcm"))


def test_ct_255_lung_window_length_and_scroll(qtbot, make_viewer, testdata, artifacts_dir) -> None:
    catalog = _catalog(testdata / "series" / "ct-chest-ricord-255sl-jpegll")
    v = make_viewer(catalog, size=(1100, 900))
    open_and_wait(qtbot, v, catalog)
    view = v.views[0]
    vp = view.viewport
    assert vp.count == 255
    vp.set_index(150)
    wait_until(qtbot, lambda: vp.current_frame() is not None)
    assert v.apply_preset("lung")
    view.refresh()
    frame = vp.current_frame()
    assert frame.units == "HU" and frame.values.min() < -900  # air in HU
    # The stack is sorted spatially, head-most first (axial reading order).
    z = [geometry.slice_location(vp.source.ref(i).geometry) for i in (0, 1, 254)]
    assert z[0] > z[1] > z[2]
    assert z[0] - z[2] == pytest.approx(254 * 1.25, abs=0.01)
    v.set_tool(v.tool.LENGTH)
    a, b = (100.0, 256.0), (400.0, 300.0)
    drag(qtbot, view.render_view, view.screen_point(a), view.screen_point(b))
    (ann,) = v.model.annotations()
    header_mm = float(
        np.linalg.norm(
            geometry.pixel_to_patient(frame.geometry, *b)
            - geometry.pixel_to_patient(frame.geometry, *a)
        )
    )
    assert abs(ann.results["length"] - header_mm) < 0.5
    v.set_tool(v.tool.ELLIPSE)
    drag(qtbot, view.render_view, view.screen_point((150, 330)), view.screen_point((190, 370)))
    settle()
    save_png(v.screenshot(), artifacts_dir / "viewer-ct-lung-measure.png")
    # Scroll through the whole stack with the keyboard.
    qtbot.keyClick(view.render_view, Qt.Key.Key_End)
    assert vp.index == 254
    wait_until(qtbot, lambda: vp.current_frame() is not None)


def test_mr_orientation_axial_and_oblique(qtbot, make_viewer, testdata, artifacts_dir) -> None:
    axial = _catalog(testdata / "series" / "mr-head-t1-vsseg-120sl")
    v = make_viewer(axial)
    open_and_wait(qtbot, v, axial)
    c = v.views[0].scene.corners
    assert (c.GetText(7), c.GetText(4), c.GetText(6), c.GetText(5)) == ("A", "P", "R", "L")
    v.close()
    oblique = _catalog(testdata / "series" / "mr-brain-tumorprog-24sl")
    v2 = make_viewer(oblique)
    open_and_wait(qtbot, v2, oblique)
    view = v2.views[0]
    view.viewport.set_index(12)
    wait_until(qtbot, lambda: view.viewport.current_frame() is not None)
    view.refresh()
    c = view.scene.corners
    # Row cosines ~(1, 0.01, 0.06): Left-Head; column cosines ~(0, 0.986, -0.165):
    # Posterior-Feet. The same letters as imaging's test on this sample (threshold 0.05).
    assert (c.GetText(6), c.GetText(5), c.GetText(7), c.GetText(4)) == ("RF", "LH", "AH", "PF")
    settle()
    save_png(v2.screenshot(), artifacts_dir / "viewer-mr-oblique.png")


def test_us_cine_colour_at_file_rate(qtbot, make_viewer, testdata, artifacts_dir) -> None:
    path = testdata / "multiframe-color" / "us-cine-120fr-jpegbaseline-ybr.dcm"
    catalog = FileCatalog([path])
    v = make_viewer(catalog)
    open_and_wait(qtbot, v, catalog)
    vp = v.views[0].viewport
    assert vp.count == 120
    assert vp.cine_fps == pytest.approx(30.0, abs=0.01)  # Frame Time 33.333 ms
    assert vp.current_frame().is_color
    v.toggle_cine()
    start = vp.index
    wait_until(qtbot, lambda: vp.index >= start + 5, 10000)
    v.toggle_cine()
    settle()
    save_png(v.screenshot(), artifacts_dir / "viewer-us-cine.png")


@pytest.mark.parametrize(
    "name",
    [
        "MR_truncated.dcm",
        "emri_small_jpeg_2k_lossless_too_short.dcm",
        "J2K_pixelrep_mismatch.dcm",
        "bad_sequence.dcm",
        "badVR.dcm",
    ],
)
def test_malformed_files_keep_the_app_up(qtbot, make_viewer, testdata, artifacts_dir, name) -> None:
    path = testdata / "malformed" / name
    catalog = FileCatalog([path])
    if not catalog.studies():
        pytest.skip(f"{name}: not indexable as an image (no UIDs); import refuses it")
    v = make_viewer(catalog)
    open_and_wait(qtbot, v, catalog)
    view = v.views[0]
    frame = view.viewport.current_frame()
    assert frame is not None
    if frame.ok:  # some "malformed" files decode fine (e.g. a repairable pixel-rep mismatch)
        assert view.grab_frame().mean() >= 0
    else:
        assert view.scene.message_text.startswith("Cannot display:")
        assert len(frame.error) > 10
        if name == "MR_truncated.dcm":
            save_png(v.screenshot(), artifacts_dir / "viewer-malformed-truncated.png")
    view.viewport.scroll(1)
    qtbot.keyClick(view.render_view, Qt.Key.Key_I)
