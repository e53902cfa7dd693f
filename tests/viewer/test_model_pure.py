"""Viewer logic without Qt or VTK: windows, transforms, geometry, sorting, loading."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.viewer import synthetic
from workstation.imaging.orientation import orientation_labels
from workstation.imaging.windowing import auto_window
from workstation.viewer import geometry, window_presets
from workstation.viewer.annotations import Annotation, Kind, evaluate, label
from workstation.viewer.catalog import FileCatalog
from workstation.viewer.frames import DisplayFrame, FrameGeometry, FrameSource
from workstation.viewer.imaging_source import open_frame_source
from workstation.viewer.model import ViewerModel
from workstation.viewer.overlays import orientation_markers
from workstation.viewer.view_transform import ViewTransform, fit_zoom


def _wait(cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_presets_and_auto_window() -> None:
    keys = {p.key for p in window_presets.presets_for("CT")}
    assert keys == {"lung", "mediastinum", "bone", "brain", "abdomen"}
    assert window_presets.presets_for("MR") == ()
    values = np.random.default_rng(0).normal(500, 50, (256, 256))
    c, w = auto_window(values)
    assert 480 < c < 520 and 200 < w < 400


def test_view_transform_round_trip_rotate_flip() -> None:
    t = ViewTransform(zoom=2.0, pan=(10, -5), rotation=1, flip_h=True)
    size, view = (160, 128), (400, 300)
    for p in [(0, 0), (159, 127), (33.5, 70.25)]:
        s = t.to_screen(p, size, view)
        back = t.to_image(s, size, view)
        assert back == pytest.approx(p)
    # A quarter turn clockwise sends the image's right edge to the bottom.
    t = ViewTransform(zoom=1.0, rotation=1)
    x0, y0 = t.to_screen((0, 64), size, view)
    x1, y1 = t.to_screen((100, 64), size, view)
    assert y1 - y0 == pytest.approx(100) and x1 == pytest.approx(x0)
    assert fit_zoom((160, 128), (400, 300)) == pytest.approx(0.98 * 300 / 128)


def _markers(iop: tuple[float, ...], t: ViewTransform | None = None) -> dict[str, str]:
    g = FrameGeometry(10, 10, (1, 1), image_position=(0, 0, 0), image_orientation=iop)  # type: ignore[arg-type]
    frame = DisplayFrame("1.2.3", 0, g, np.zeros((10, 10), np.int16))
    return orientation_markers(frame, t or ViewTransform())


def test_orientation_markers_are_the_imaging_labels() -> None:
    """The letters drawn on screen are imaging.orientation's (the ones tested on samples)."""
    assert _markers((1, 0, 0, 0, 1, 0)) == {"right": "L", "left": "R", "bottom": "P", "top": "A"}
    assert _markers((1, 0, 0, 0, 0, -1))["top"] == "H"
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    assert _markers((c, s, 0, 0, 0, -1))["right"] == "LP"
    # A tilt of about 4 degrees is oblique for imaging's 0.05 threshold, on screen too.
    c, s = np.cos(np.radians(4)), np.sin(np.radians(4))
    for iop in [(1, 0, 0, 0, 1, 0), (c, s, 0, -s, c, 0), (c, 0, -s, 0, 0, -1)]:
        labels = orientation_labels(iop)
        assert _markers(iop) == {
            "left": labels.left,
            "right": labels.right,
            "top": labels.top,
            "bottom": labels.bottom,
        }
    assert _markers((c, s, 0, -s, c, 0))["right"] == "LP"
    # A quarter turn clockwise puts the image's left edge (R) at the top.
    assert _markers((1, 0, 0, 0, 1, 0), ViewTransform(rotation=1))["top"] == "R"


def test_reference_line_of_orthogonal_planes() -> None:
    axial = FrameGeometry(
        100,
        100,
        (1, 1),
        image_position=(0, 0, 50),
        image_orientation=(1, 0, 0, 0, 1, 0),
        frame_of_reference_uid="1",
    )
    coronal = FrameGeometry(
        100,
        100,
        (1, 1),
        image_position=(0, 30, 99),
        image_orientation=(1, 0, 0, 0, 0, -1),
        frame_of_reference_uid="1",
    )
    line = geometry.reference_line(axial, coronal)
    assert line is not None
    (c0, r0), (c1, r1) = line
    assert r0 == pytest.approx(30) and r1 == pytest.approx(30)
    assert {round(c0), round(c1)} == {0, 99}
    other_for = FrameGeometry(
        100,
        100,
        (1, 1),
        image_position=(0, 30, 99),
        image_orientation=(1, 0, 0, 0, 0, -1),
        frame_of_reference_uid="2",
    )
    assert geometry.reference_line(axial, other_for) is None
    assert geometry.reference_line(axial, axial) is None


def test_catalog_sorts_by_position(ct_files: list[Path]) -> None:
    cat = FileCatalog(ct_files)
    (study,) = cat.studies()
    (series,) = cat.series(study)
    src = open_frame_source(cat.instances(series.series_instance_uid), series.series_instance_uid)
    try:
        # Head-most first (the synthetic stack numbers its images feet to head).
        assert [src.ref(i).instance_number for i in range(len(src))] == list(range(20, 0, -1))
    finally:
        src.close()


def test_decoded_frame_is_hu_with_geometry(ct_files: list[Path]) -> None:
    cat = FileCatalog(ct_files)
    series = cat.series(cat.studies()[0])[0]
    src = open_frame_source(cat.instances(series.series_instance_uid), series.series_instance_uid)
    _wait(lambda: src.frame(0) is not None)
    f = src.frame(0)
    src.close()
    assert f is not None and f.ok and f.units == "HU"
    assert f.values is not None and f.values.min() == -1024 and f.values.max() == 3000 - 1024 + 1024
    assert f.geometry.pixel_spacing_mm == synthetic.CT_SPACING
    assert src.header.modality == "CT"


def test_truncated_file_gives_reason_tile(tmp_path: Path) -> None:
    path = synthetic.write_truncated(tmp_path / "bad")
    cat = FileCatalog([path])
    series = cat.series(cat.studies()[0])[0]
    src = open_frame_source(cat.instances(series.series_instance_uid), series.series_instance_uid)
    _wait(lambda: src.frame(0) is not None)
    f = src.frame(0)
    src.close()
    assert f is not None and not f.ok and f.error


def test_model_scroll_sync_and_annotations(tmp_path: Path) -> None:
    study = "1.2.826.0.1.3680043.8.498.1"
    for_uid = "1.2.826.0.1.3680043.8.498.2"
    a = synthetic.write_ct_series(
        tmp_path / "a", n=10, study_uid=study, for_uid=for_uid, slice_mm=2.0, series_number=1
    )
    b = synthetic.write_ct_series(
        tmp_path / "b", n=5, study_uid=study, for_uid=for_uid, slice_mm=4.0, series_number=2
    )
    cat = FileCatalog(a + b)
    series = cat.series(study)

    def factory(uid: str) -> FrameSource:
        return open_frame_source(cat.instances(uid), uid)

    model = ViewerModel(factory)
    model.set_layout(1, 2)
    assert model.assign(0, series[0].series_instance_uid, "CT", for_uid)
    assert model.assign(1, series[1].series_instance_uid, "CT", for_uid)
    v0, v1 = model.viewports
    _wait(lambda: v0.source.decoded_count() == 10 and v1.source.decoded_count() == 5)
    # Head-most first: index i of a is z = -100 + 2 (9 - i), of b z = -100 + 4 (4 - i).
    v0.set_index(5)  # z = -100 + 8 mm
    assert model.sync_from(0) == [1]
    assert v1.index == 2  # z = -100 + 8 mm
    assert v0.apply_preset("lung") and v0.window == (-600.0, 1500.0)
    frame = v0.current_frame()
    ann = evaluate(Annotation(Kind.RECTANGLE, ((70, 54), (90, 74)), frame.sop_instance_uid), frame)
    assert ann.results["mean"] == pytest.approx(0.0) and ann.results["value_unit"] == "HU"
    assert "HU" in label(ann)
    model.add_annotation(ann)
    (stored,) = model.annotations_on(frame.sop_instance_uid, 0)
    assert stored.annotation_id == ann.annotation_id and stored.results == ann.results
    assert model.annotations_on(frame.sop_instance_uid, 1) == []
    model.remove_annotation(ann.annotation_id)
    assert model.annotations() == []
    model.close()
