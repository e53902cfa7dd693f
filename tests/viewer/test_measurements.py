"""Measurement maths on synthetic frames with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workstation.viewer import measurements as m


def test_length_uses_row_and_column_spacing() -> None:
    # 30 columns at 0.6 mm and 40 rows at 0.7 mm.
    assert m.length((10, 10), (40, 50), (0.7, 0.6)) == pytest.approx(math.hypot(18.0, 28.0))
    assert m.length((0, 0), (3, 4), None) == pytest.approx(5.0)


def test_angle_and_cobb() -> None:
    assert m.angle((10, 0), (0, 0), (0, 10), None) == pytest.approx(90.0)
    # Anisotropic pixels change the true angle: 45° in pixels is not 45° in mm.
    assert m.angle((10, 0), (0, 0), (10, 10), (2.0, 1.0)) == pytest.approx(
        math.degrees(math.atan2(20, 10))
    )
    assert m.cobb_angle(((0, 0), (10, 0)), ((0, 5), (10, 15)), None) == pytest.approx(45.0)
    # Direction of drawing does not matter for Cobb.
    assert m.cobb_angle(((10, 0), (0, 0)), ((0, 5), (10, 15)), None) == pytest.approx(45.0)


def test_rectangle_stats_in_modality_units() -> None:
    values = np.arange(100, dtype=np.int16).reshape(10, 10) - 50
    s = m.rectangle_stats(values, (2, 3), (4, 5), (0.5, 0.5))
    assert s is not None
    picked = values[3:6, 2:5]
    assert s.mean == pytest.approx(picked.mean())
    assert s.sd == pytest.approx(picked.std())
    assert (s.minimum, s.maximum) == (picked.min(), picked.max())
    assert s.area == pytest.approx(2 * 0.5 * 2 * 0.5)
    assert s.pixel_count == 9


def test_ellipse_mask_matches_disc() -> None:
    values = np.zeros((101, 101), dtype=np.float32)
    rr, cc = np.mgrid[0:101, 0:101]
    disc = (rr - 50) ** 2 + (cc - 50) ** 2 <= 30**2
    values[disc] = 100.0
    s = m.ellipse_stats(values, (20, 20), (80, 80), (1.0, 1.0))
    assert s is not None
    assert s.mean == pytest.approx(100.0)
    assert s.sd == pytest.approx(0.0)
    assert s.area == pytest.approx(math.pi * 900, rel=1e-6)
    assert abs(s.pixel_count - math.pi * 900) < 0.02 * math.pi * 900


def test_polygon_mask_triangle() -> None:
    mask = m.polygon_mask((20, 20), [(0, 0), (10, 0), (0, 10)])
    # Centres strictly inside the right triangle x + y < 10 (edges are half-open).
    expected = sum(1 for r in range(20) for c in range(20) if c + r < 10)
    assert abs(int(mask.sum()) - expected) <= 10
    assert mask[2, 2] and not mask[9, 9]
    s = m.polygon_stats(np.ones((20, 20)), [(0, 0), (10, 0), (0, 10)], (1.0, 2.0))
    assert s is not None and s.area == pytest.approx(100.0)


def test_probe_and_outside() -> None:
    values = np.arange(12, dtype=np.int16).reshape(3, 4)
    assert m.probe(values, (2.2, 1.4)) == 6.0
    assert m.probe(values, (10, 10)) is None
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[1, 0] = (1, 2, 3)
    assert m.probe(rgb, (0, 1)) == (1, 2, 3)


def test_empty_roi_is_none() -> None:
    assert m.rectangle_stats(np.zeros((5, 5)), (10, 10), (12, 12), None) is None


def test_ultrasound_regions_calibrate_only_inside() -> None:
    from workstation.imaging.calibration import UltrasoundRegion
    from workstation.viewer.annotations import Annotation, Kind, evaluate
    from workstation.viewer.frames import DisplayFrame, FrameGeometry

    regions = (
        UltrasoundRegion(0, 0, 99, 99, row_spacing_mm=0.2, column_spacing_mm=0.2),
        UltrasoundRegion(100, 0, 199, 99, row_spacing_mm=0.5, column_spacing_mm=0.5),
    )
    g = FrameGeometry(100, 200, (0.2, 0.2), "us_region", regions=regions)
    frame = DisplayFrame("1.2.3", 0, g, np.zeros((100, 200), dtype=np.uint8))
    inside = evaluate(Annotation(Kind.LENGTH, ((10, 10), (40, 50)), "1.2.3"), frame)
    assert inside.results["length_unit"] == "mm"
    assert inside.results["length"] == pytest.approx(0.2 * 50)
    second = evaluate(Annotation(Kind.LENGTH, ((110, 10), (140, 50)), "1.2.3"), frame)
    assert second.results["length"] == pytest.approx(0.5 * 50)
    across = evaluate(Annotation(Kind.LENGTH, ((10, 10), (140, 50)), "1.2.3"), frame)
    assert across.results["length_unit"] == "px"
    roi = evaluate(Annotation(Kind.RECTANGLE, ((120, 20), (130, 30)), "1.2.3"), frame)
    assert roi.results["area_unit"] == "mm2" and roi.results["area"] == pytest.approx(25.0)
