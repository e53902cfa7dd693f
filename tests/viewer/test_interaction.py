"""The tools' interaction model driven by events, without Qt or VTK.

A real viewer model and frame source over a synthetic CT (non-square pixels, an oblique
plane); every measurement is checked against numbers computed here from the file's own
header and pixels (pydicom), not from the code under test.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.viewer import synthetic
from workstation.viewer.catalog import FileCatalog
from workstation.viewer.imaging_source import open_frame_source
from workstation.viewer.interaction.events import (
    Button,
    KeyEvent,
    PointerAction,
    PointerEvent,
    ToolKey,
    move,
    press,
    release,
)
from workstation.viewer.interaction.session import PICK_TOLERANCE_PX, ToolSession
from workstation.viewer.interaction.tools import Tool
from workstation.viewer.interaction.viewport_host import ViewportToolHost
from workstation.viewer.model import ViewerModel

#: A plane turned 30 degrees about the patient's vertical axis.
_C, _S = math.cos(math.radians(30)), math.sin(math.radians(30))
OBLIQUE = (_C, _S, 0.0, 0.0, 0.0, -1.0)


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    files = synthetic.write_ct_series(tmp_path / "ct", n=3, orientation=OBLIQUE)
    catalog = FileCatalog(files)
    series = catalog.series(catalog.studies()[0])[0]
    source = open_frame_source(
        catalog.instances(series.series_instance_uid), series.series_instance_uid
    )
    model = ViewerModel()
    vp = model.viewports[0]
    vp.set_source(source, series.series_instance_uid, "CT", "")
    end = time.monotonic() + 20
    while vp.current_frame() is None:
        assert time.monotonic() < end, "the first frame was not decoded"
        time.sleep(0.01)
    host = ViewportToolHost(vp, model, ask_text=lambda kind: "note")
    s = ToolSession(host, vp)
    by_uid = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in files}
    yield s, model, by_uid[vp.current_ref().sop_instance_uid]
    model.close()


def _hu(path: Path) -> np.ndarray:
    ds = pydicom.dcmread(path)
    return ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def _lps(path: Path, col: float, row: float) -> np.ndarray:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    return (
        np.asarray(ds.ImagePositionPatient, dtype=float)
        + col * col_mm * iop[:3]
        + row * row_mm * iop[3:]
    )


def _drag(s: ToolSession, a, b, zoom: float = 1.0, steps: int = 4) -> None:  # type: ignore[no-untyped-def]
    """Press at image point a, move to b, release (the screen at `zoom` x the image)."""

    def on_screen(p):  # type: ignore[no-untyped-def]
        return {"zoom": zoom, "screen": (p[0] * zoom, p[1] * zoom)}

    s.handle(press(a, **on_screen(a)))
    for t in np.linspace(0, 1, steps)[1:]:
        p = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        s.handle(move(p, **on_screen(p)))
    s.handle(release(b, **on_screen(b)))


def test_length_in_mm_and_lps_from_the_header(session) -> None:  # type: ignore[no-untyped-def]
    s, model, path = session
    s.set_tool(Tool.LENGTH)
    a, b = (12.0, 20.0), (130.0, 97.0)
    _drag(s, a, b)
    (ann,) = model.annotations()
    row_mm, col_mm = synthetic.CT_SPACING
    assert ann.results["length"] == pytest.approx(
        math.hypot((b[0] - a[0]) * col_mm, (b[1] - a[1]) * row_mm)
    )
    assert ann.results["length_unit"] == "mm"
    lps = np.asarray(ann.results["points_lps"])
    # (the header holds 6-digit cosines: agreement to a micrometre)
    assert lps == pytest.approx(np.array([_lps(path, *a), _lps(path, *b)]), abs=1e-3)
    assert float(np.linalg.norm(lps[1] - lps[0])) == pytest.approx(ann.results["length"])


def test_roi_and_probe_in_hu_against_the_file_pixels(session) -> None:  # type: ignore[no-untyped-def]
    s, model, path = session
    hu = _hu(path)
    row_mm, col_mm = synthetic.CT_SPACING
    s.set_tool(Tool.RECTANGLE)
    _drag(s, (30.2, 20.6), (70.0, 55.4))  # straddles the bone square and the water disc
    rect = model.annotations()[-1]
    picked = hu[21:56, 31:71]
    assert rect.results["mean"] == pytest.approx(picked.mean())
    assert rect.results["sd"] == pytest.approx(picked.std())
    assert (rect.results["min"], rect.results["max"]) == (picked.min(), picked.max())
    assert rect.results["area"] == pytest.approx((70.0 - 30.2) * col_mm * (55.4 - 20.6) * row_mm)
    assert rect.results["value_unit"] == "HU" and len(np.unique(picked)) > 1

    s.set_tool(Tool.ELLIPSE)
    a, b = (60.0, 30.0), (120.0, 100.0)
    _drag(s, a, b)
    ell = model.annotations()[-1]
    rr, cc = np.mgrid[0 : hu.shape[0], 0 : hu.shape[1]]
    inside = ((cc - 90.0) / 30.0) ** 2 + ((rr - 65.0) / 35.0) ** 2 <= 1.0
    assert ell.results["mean"] == pytest.approx(hu[inside].mean())
    assert ell.results["pixel_count"] == int(inside.sum())
    assert ell.results["area"] == pytest.approx(math.pi * 30 * col_mm * 35 * row_mm)

    s.set_tool(Tool.PROBE)
    s.handle(press((45.0, 37.0)))
    s.handle(release((45.0, 37.0)))
    assert model.annotations()[-1].results["value"] == pytest.approx(hu[37, 45]) == 1000.0


def test_angle_by_clicks_with_non_square_pixels(session) -> None:  # type: ignore[no-untyped-def]
    s, model, path = session
    s.set_tool(Tool.ANGLE)
    pts = [(30.0, 90.0), (60.0, 90.0), (60.0 + 70 / 0.6 * 0.1, 90.0 - 0.1 / 0.7 * 70)]
    for i, p in enumerate(pts):
        s.handle(press(p))
        s.handle(release(p))
        if i < 2:
            assert model.annotations() == [] and s.drawing is not None
    # The rays in mm: (-30*0.6, 0) and (7, -7): 135 degrees.
    (ann,) = model.annotations()
    u = _lps(path, *pts[0]) - _lps(path, *pts[1])
    v = _lps(path, *pts[2]) - _lps(path, *pts[1])
    expected = math.degrees(math.acos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
    assert ann.results["angle"] == pytest.approx(expected) == pytest.approx(135.0)


def test_escape_drops_a_drawing_and_a_click_is_no_shape(session) -> None:  # type: ignore[no-untyped-def]
    s, model, _path = session
    s.set_tool(Tool.COBB)
    s.handle(press((10.0, 10.0)))
    s.handle(move((20.0, 20.0)))
    assert s.drawing is not None and s.drawing.preview() == ((10.0, 10.0), (20.0, 20.0))
    s.handle(KeyEvent(ToolKey.ESCAPE))
    assert s.drawing is None
    s.set_tool(Tool.ELLIPSE)
    _drag(s, (50.0, 50.0), (51.0, 51.0), zoom=2.0)  # 2 screen px: a click, not an ROI
    assert model.annotations() == []


def test_select_within_the_pixel_tolerance_then_delete(session) -> None:  # type: ignore[no-untyped-def]
    s, model, _path = session
    s.set_tool(Tool.LENGTH)
    _drag(s, (20.0, 60.0), (120.0, 60.0))
    (ann,) = model.annotations()
    picked: list[str] = []
    s.selected.connect(picked.append)
    s.set_tool(Tool.SELECT)
    zoom = 2.0
    near = (70.0, 60.0 + (PICK_TOLERANCE_PX - 1) / zoom)  # 5 screen px off the line
    far = (70.0, 60.0 + (PICK_TOLERANCE_PX + 1) / zoom)  # 7 screen px off
    s.handle(press(far, zoom=zoom))
    s.handle(release(far, zoom=zoom))
    assert s.selection == "" and picked == []
    s.handle(press(near, zoom=zoom))
    s.handle(release(near, zoom=zoom))
    assert s.selection == ann.annotation_id and picked == [ann.annotation_id]
    s.handle(KeyEvent(ToolKey.DELETE))
    assert model.annotations() == [] and s.selection == ""


def test_drag_a_handle_re_measures(session) -> None:  # type: ignore[no-untyped-def]
    s, model, path = session
    s.set_tool(Tool.RECTANGLE)
    _drag(s, (30.0, 20.0), (50.0, 40.0))
    (before,) = model.annotations()
    s.set_tool(Tool.SELECT)
    _drag(s, (50.0 + 1.5, 40.0 - 1.0), (70.0, 55.0))  # grab the corner within tolerance
    (after,) = model.annotations()
    assert after.annotation_id == before.annotation_id
    assert after.points == ((30.0, 20.0), (70.0, 55.0))
    assert after.results["mean"] == pytest.approx(_hu(path)[20:56, 30:71].mean())
    assert after.results["mean"] != pytest.approx(before.results["mean"])
    # A click that shakes by less than 4 screen pixels moves nothing.
    _drag(s, (70.0, 55.0), (71.5, 56.0), zoom=2.0)
    (still,) = model.annotations()
    assert still.points == after.points and s.selection == after.annotation_id


def test_view_drags_reach_the_viewport(session) -> None:  # type: ignore[no-untyped-def]
    s, model, _path = session
    vp = model.viewports[0]
    frame = vp.current_frame()
    c0, w0 = vp.display_window(frame)
    s.handle(PointerEvent(PointerAction.PRESS, (5.0, 5.0), (100.0, 100.0), Button.RIGHT))
    s.handle(PointerEvent(PointerAction.MOVE, (5.0, 5.0), (140.0, 90.0)))
    s.handle(PointerEvent(PointerAction.RELEASE, (5.0, 5.0), (140.0, 90.0), Button.RIGHT))
    c1, w1 = vp.window
    assert w1 > w0 and c1 < c0  # right: wider; up: lower level
    s.handle(PointerEvent(PointerAction.PRESS, None, (100.0, 100.0), Button.MIDDLE))
    s.handle(PointerEvent(PointerAction.MOVE, None, (110.0, 93.0)))
    assert vp.transform.pan == (10.0, -7.0)
    assert model.annotations() == []
