"""Every LUT and photometric path on images built here, so it runs without shared data."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from tests.imaging.synthetic import (
    compressed,
    ct_slice,
    enhanced_ct,
    make_image,
    palette_image,
    ramp,
    save,
)
from workstation.imaging.decode import decode_frame
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame
from workstation.imaging.render import to_display_u8
from workstation.imaging.windowing import VoiWindow, apply_voi


def _frame(source: object, frame: int = 0) -> Frame:
    result = decode_frame(source, frame)  # type: ignore[arg-type]
    assert isinstance(result, Frame), result
    return result


def test_ct_file_gives_int16_hounsfield_units(tmp_path: Path) -> None:
    hu = ramp(16, 16, -1024, 3071, "int16")
    path = save(ct_slice(hu, position=(0, 0, 0)), tmp_path / "ct.dcm")
    frame = _frame(path)
    assert frame.modality_applied and frame.pixels.dtype == np.int16
    assert np.array_equal(frame.pixels, hu)
    assert frame.info.modality_lut.unit == "HU"


def test_unused_high_bits_are_ignored(tmp_path: Path) -> None:
    clean = ramp(8, 8, 0, 4095, "uint16")
    ds = make_image(clean | np.uint16(0xF000), bits_stored=16)  # garbage in bits 12..15
    ds.BitsStored, ds.HighBit = 12, 11
    assert np.array_equal(_frame(save(ds, tmp_path / "u.dcm")).pixels, clean)
    signed = ramp(8, 8, -2048, 2047, "int16")
    raw = (signed.view(np.uint16) & 0x0FFF).view(np.int16)  # sign bits above bit 11 dropped
    ds = make_image(raw, bits_stored=16)
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 1
    assert np.array_equal(_frame(save(ds, tmp_path / "s.dcm")).pixels, signed)


def test_fractional_rescale_is_applied_on_demand(tmp_path: Path) -> None:
    stored = ramp(8, 8, 0, 1000, "uint16")
    ds = make_image(stored, bits_stored=16, RescaleSlope=0.5, RescaleIntercept=1.25)
    frame = _frame(save(ds, tmp_path / "f.dcm"))
    assert not frame.modality_applied
    assert frame.modality_values() == pytest.approx(stored * 0.5 + 1.25)


def test_modality_lut_sequence(tmp_path: Path) -> None:
    stored = np.array([[0, 1, 2, 3], [4, 5, 6, 7]], dtype=np.uint16)
    ds = make_image(stored, bits_stored=16)
    item = Dataset()
    item.LUTDescriptor = [4, 2, 16]
    item.add_new(0x00283006, "US", [100, 200, 300, 400])  # LUT Data
    item.ModalityLUTType = "OD"
    ds.ModalityLUTSequence = DicomSequence([item])
    frame = _frame(save(ds, tmp_path / "m.dcm"))
    # below the first mapped value -> first entry, above the last -> last entry
    assert frame.modality_values().tolist() == [[100, 100, 100, 200], [300, 400, 400, 400]]


def test_monochrome1_and_inverse_shape_are_inverted(tmp_path: Path) -> None:
    stored = ramp(16, 16, 0, 4095, "uint16")
    window = (2048.0, 4096.0)
    mono2 = _frame(save(make_image(stored, bits_stored=12), tmp_path / "m2.dcm"))
    mono1 = _frame(
        save(make_image(stored, bits_stored=12, photometric="MONOCHROME1"), tmp_path / "m1.dcm")
    )
    shaped = make_image(stored, bits_stored=12, PresentationLUTShape="INVERSE")
    inverse = _frame(save(shaped, tmp_path / "inv.dcm"))
    normal = to_display_u8(mono2, window)
    expected = np.floor(255.0 - apply_voi(stored, VoiWindow(*window))).astype(np.uint8)
    assert mono1.info.invert and inverse.info.invert and not mono2.info.invert
    assert np.array_equal(to_display_u8(mono1, window), expected)
    assert np.array_equal(to_display_u8(inverse, window), expected)
    assert normal[0, 0] == 0 and to_display_u8(mono1, window)[0, 0] == 255


def test_voi_lut_sequence_is_the_default_when_no_window(tmp_path: Path) -> None:
    stored = np.arange(16, dtype=np.uint16).reshape(4, 4)
    ds = make_image(stored, bits_stored=16)
    item = Dataset()
    item.LUTDescriptor = [8, 4, 8]
    item.add_new(0x00283006, "US", [0, 10, 20, 40, 80, 160, 200, 255])  # LUT Data
    item.LUTExplanation = "CURVE"
    ds.VOILUTSequence = DicomSequence([item])
    frame = _frame(save(ds, tmp_path / "v.dcm"))
    shown = to_display_u8(frame)
    table = np.array([0, 10, 20, 40, 80, 160, 200, 255])
    assert shown.ravel().tolist() == table[np.clip(np.arange(16) - 4, 0, 7)].tolist()


def test_window_from_file_and_voi_function(tmp_path: Path) -> None:
    stored = ramp(8, 8, 0, 1000, "uint16")
    ds = make_image(
        stored, bits_stored=16, WindowCenter=500, WindowWidth=200, VOILUTFunction="SIGMOID"
    )
    frame = _frame(save(ds, tmp_path / "w.dcm"))
    want = np.floor(255 / (1 + np.exp(-4 * (stored - 500.0) / 200))).astype(np.uint8)
    assert np.array_equal(to_display_u8(frame), want)


@pytest.mark.parametrize("planar", [0, 1])
def test_rgb_both_planar_configurations(tmp_path: Path, planar: int) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    ds = make_image(rgb, photometric="RGB")
    if planar:
        ds.PlanarConfiguration = 1
        ds.PixelData = np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes()
    frame = _frame(save(ds, tmp_path / "rgb.dcm"))
    assert frame.is_color and np.array_equal(frame.pixels, rgb)
    assert np.array_equal(to_display_u8(frame), rgb)


def test_ybr_full_matches_pydicom_conversion(tmp_path: Path) -> None:
    from pydicom.pixels import convert_color_space

    ybr = np.random.default_rng(2).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    frame = _frame(save(make_image(ybr, photometric="YBR_FULL"), tmp_path / "ybr.dcm"))
    want = convert_color_space(ybr, "YBR_FULL", "RGB")
    assert np.abs(frame.pixels.astype(int) - want.astype(int)).max() <= 1


def test_ybr_full_422_uncompressed_matches_pydicom(tmp_path: Path) -> None:
    import pydicom

    rng = np.random.default_rng(3)
    ybr = rng.integers(0, 256, (4, 8, 3), dtype=np.uint8)
    ybr[:, 1::2, 1:] = ybr[:, ::2, 1:]  # chroma shared by pixel pairs, as 4:2:2 stores it
    ds = make_image(ybr, photometric="YBR_FULL")
    packed = bytearray()
    for row in ybr:
        for x in range(0, 8, 2):
            packed += bytes([row[x, 0], row[x + 1, 0], row[x, 1], row[x, 2]])
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PixelData = bytes(packed)
    path = save(ds, tmp_path / "422.dcm")
    want = pydicom.dcmread(path).pixel_array  # pydicom converts to RGB by default
    assert np.abs(_frame(path).pixels.astype(int) - want.astype(int)).max() <= 1


@pytest.mark.parametrize(("bits", "segmented"), [(8, False), (16, False), (16, True)])
def test_palette_colour_matches_pydicom(tmp_path: Path, bits: int, segmented: bool) -> None:
    import pydicom
    from pydicom.pixels import apply_color_lut

    path = save(palette_image(bits=bits, segmented=segmented), tmp_path / "pal.dcm")
    ds = pydicom.dcmread(path)
    want = apply_color_lut(ds.pixel_array, ds).astype(np.float64)
    if bits == 16:
        want = np.round(want / 257.0)
    frame = _frame(path)
    assert frame.pixels.dtype == np.uint8 and frame.pixels.shape == (*ds.pixel_array.shape, 3)
    assert np.abs(frame.pixels.astype(int) - want.astype(int)).max() <= 1


def test_enhanced_multiframe_uses_per_frame_groups(tmp_path: Path) -> None:
    path = save(enhanced_ct(frames=3), tmp_path / "enh.dcm")
    for k in range(3):
        frame = _frame(path, k)
        assert int(frame.pixels[0, 0]) == 1000 + 100 * k - 1024 - k  # per-frame intercept
        assert (
            frame.info.windows[0].center == 40 + k and frame.info.windows[0].width == 400 + 10 * k
        )
        assert frame.info.geometry is not None and frame.info.geometry.position == (
            0.0,
            0.0,
            3.0 * k,
        )
        assert frame.info.geometry.pixel_spacing_mm == (0.8, 0.6)
        assert frame.info.calibration.row_spacing_mm == 0.8
        assert frame.info.slice_thickness_mm == 1.5
    beyond = decode_frame(path, 3)
    assert isinstance(beyond, CannotDisplay) and "3 frames" in beyond.reason


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless, DeflatedExplicitVRLittleEndian])
def test_compressed_and_deflated_decode_like_native(tmp_path: Path, syntax: str) -> None:
    hu = ramp(32, 32, -1000, 2000, "int16")
    ds = ct_slice(hu, position=(0, 0, 0))
    if syntax == DeflatedExplicitVRLittleEndian:
        out = copy.deepcopy(ds)
        out.file_meta.TransferSyntaxUID = syntax
    else:
        out = compressed(ds, syntax)
    frame = _frame(save(out, tmp_path / "c.dcm"))
    assert frame.info.transfer_syntax == syntax
    assert np.array_equal(frame.modality_values(), hu)


def test_decode_from_a_dataset_in_memory() -> None:
    hu = ramp(8, 8, -100, 100, "int16")
    frame = _frame(ct_slice(hu, position=(0, 0, 0)))
    assert np.array_equal(frame.modality_values(), hu)


def test_colour_multiframe_rle(tmp_path: Path) -> None:
    rgb = np.random.default_rng(4).integers(0, 256, (3, 6, 8, 3), dtype=np.uint8)
    ds = make_image(rgb, photometric="RGB")
    path = save(compressed(ds, RLELossless), tmp_path / "rle.dcm")
    for k in range(3):
        assert np.array_equal(_frame(path, k).pixels, rgb[k])
