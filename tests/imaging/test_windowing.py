"""VOI windows and LUTs follow PS3.3 C.11.2.1.2, worked by hand here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workstation.imaging.lut import Lut
from workstation.imaging.render import values_to_u8
from workstation.imaging.windowing import VoiWindow, apply_voi, min_max_window, windows_of


def _linear(x: float, c: float, w: float) -> float:
    if x <= c - 0.5 - (w - 1) / 2:
        return 0.0
    if x > c - 0.5 + (w - 1) / 2:
        return 255.0
    return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0


def test_linear_matches_the_standard_formula_at_edges_and_inside() -> None:
    c, w = 40.0, 400.0
    xs = np.array([-1000, c - 0.5 - 199.5, c - 0.5 - 199.4, -100, 0, 40, 239.5, 239.6, 3000], float)
    got = apply_voi(xs, VoiWindow(c, w))
    want = [_linear(x, c, w) for x in xs]
    assert got == pytest.approx(want)
    assert got[0] == 0.0 and got[-1] == 255.0


def test_linear_exact_and_sigmoid() -> None:
    xs = np.array([-200.0, -160.0, 0.0, 40.0, 100.0, 240.0, 500.0])
    exact = apply_voi(xs, VoiWindow(40, 400, "LINEAR_EXACT"))
    for x, y in zip(xs, exact, strict=True):
        want = 0.0 if x <= -160 else 255.0 if x > 240 else ((x - 40) / 400 + 0.5) * 255
        assert y == pytest.approx(want)
    sig = apply_voi(xs, VoiWindow(40, 400, "SIGMOID"))
    for x, y in zip(xs, sig, strict=True):
        assert y == pytest.approx(255 / (1 + math.exp(-4 * (x - 40) / 400)))
    assert sig[3] == pytest.approx(127.5)


def test_width_one_is_a_threshold() -> None:
    got = apply_voi(np.array([9.0, 9.5, 10.0, 11.0]), VoiWindow(10, 1))
    assert list(got) == [0.0, 0.0, 255.0, 255.0]


def test_min_max_window_maps_min_to_black_and_max_to_white() -> None:
    values = np.array([[-1000, 0], [20, 3071]], dtype=np.int16)
    window = min_max_window(values)
    levels = apply_voi(values, window)
    assert levels.min() == 0.0 and levels.max() == 255.0
    floats = np.array([0.25, 0.5, 1.75], dtype=np.float32)
    flevels = apply_voi(floats, min_max_window(floats))
    assert flevels[0] == 0.0 and flevels[-1] == 255.0


def test_voi_lut_table_is_scaled_from_its_bit_depth() -> None:
    table = Lut(first_mapped=-10, bits=12, data=np.array([0, 1000, 4095], dtype=np.uint16))
    got = apply_voi(np.array([-50, -10, -9, -8, 100]), table)
    assert got == pytest.approx([0, 0, 1000 * 255 / 4095, 255, 255])


def test_windows_of_reads_multi_valued_and_skips_invalid() -> None:
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.WindowCenter = [40, -600, 10]
    ds.WindowWidth = [400, 1500, 0]
    ds.WindowCenterWidthExplanation = ["SOFT", "LUNG", "BROKEN"]
    ds.VOILUTFunction = "SIGMOID"
    windows = windows_of(ds)
    assert [(w.center, w.width, w.explanation) for w in windows] == [
        (40, 400, "SOFT"),
        (-600, 1500, "LUNG"),
    ]
    assert all(w.function == "SIGMOID" for w in windows)


def test_values_to_u8_is_the_dicom_linear_formula() -> None:
    """The viewer's 8-bit map of modality values (tables for integers, floats direct)."""
    values = np.arange(-1100, 1100, dtype=np.int16).reshape(20, 110)
    out = values_to_u8(values, (40, 400))
    x = values.astype(float)
    ref = np.clip(((x - 39.5) / 399 + 0.5) * 255, 0, 255)
    assert out.dtype == np.uint8 and np.array_equal(out, np.floor(ref).astype(np.uint8))
    inv = values_to_u8(values, (40, 400), invert=True)
    assert np.array_equal(inv, np.floor(255 - ref).astype(np.uint8))
    floats = values_to_u8(values.astype(np.float32) + 0.25, (40, 400))
    assert np.max(np.abs(floats.astype(int) - out.astype(int))) <= 1
    frame_like = np.array([[-2000, 0, 5000]], dtype=np.int32)
    assert values_to_u8(frame_like, (0, 100)).tolist() == [[0, 128, 255]]
