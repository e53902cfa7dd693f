"""Our 8-bit output equals dcmtk's dcmj2pnm within one grey level.

Synthetic images (every LUT path; no shared data needed) and every single-frame
greyscale sample of the shared test data (transfer-syntaxes/ and three slices of each
series/), each at the file's own window and at fixed windows. JPEG-LS is decompressed
with dcmdjpls first (Debian's dcmj2pnm has no JPEG-LS codec); JPEG 2000 has no dcmtk
decoder at all, so lossless J2K is checked bit for bit against its lossless twin in the
set (which is itself checked against dcmtk here) and lossy J2K is skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from tests.conftest import TESTDATA
from tests.imaging.dcmtk import DCMJ2PNM, assert_within_one_level, dcmtk_readable, dcmtk_render
from tests.imaging.synthetic import ct_slice, make_image, ramp, save
from workstation.imaging.decode import decode_frame
from workstation.imaging.frame import Frame
from workstation.imaging.render import to_display_u8

pytestmark = [
    pytest.mark.dcmtk,
    pytest.mark.skipif(DCMJ2PNM is None, reason="dcmtk (dcmj2pnm) is not installed"),
]


def _own_window_args(frame: Frame) -> list[str]:
    if frame.info.windows:
        return ["+Wi", "1"]
    if frame.info.voi_luts:
        return ["+Wl", "1"]
    return ["+Wm"]


def _fixed_windows(frame: Frame) -> list[tuple[float, float]]:
    values = frame.modality_values()
    lo, hi = float(values.min()), float(values.max())
    return [(40.0, 400.0), (round(lo + (hi - lo) / 3), max(2.0, round((hi - lo) / 2)))]


def _check_against_dcmtk(path: Path, tmp_path: Path, frame_index: int = 0) -> None:
    frame = decode_frame(path, frame_index)
    assert isinstance(frame, Frame), frame
    readable = dcmtk_readable(path, tmp_path)
    assert readable is not None
    ref = dcmtk_render(readable, _own_window_args(frame), tmp_path, frame_index + 1)
    assert_within_one_level(to_display_u8(frame), ref, f"{path.name} own window")
    for center, width in _fixed_windows(frame):
        ref = dcmtk_render(readable, ["+Ww", str(center), str(width)], tmp_path, frame_index + 1)
        assert_within_one_level(
            to_display_u8(frame, (center, width)), ref, f"{path.name} window {center}/{width}"
        )


# ----- synthetic: every LUT path, always runs -------------------------------------------
def _synthetic_cases() -> dict[str, Dataset]:
    hu = ramp(24, 40, -1024, 3071, "int16")
    stored12 = ramp(24, 40, 0, 4095, "uint16")
    cases = {
        "ct_rescale_window": ct_slice(hu, position=(0, 0, 0), WindowCenter=40, WindowWidth=400),
        "monochrome1": make_image(stored12, bits_stored=12, photometric="MONOCHROME1"),
        "monochrome1_window": make_image(
            stored12, bits_stored=12, photometric="MONOCHROME1", WindowCenter=1500, WindowWidth=2000
        ),
        "inverse_shape": make_image(stored12, bits_stored=12, PresentationLUTShape="INVERSE"),
        "sigmoid": make_image(
            stored12, bits_stored=12, WindowCenter=2000, WindowWidth=1000, VOILUTFunction="SIGMOID"
        ),
        "signed16": make_image(ramp(24, 40, -30000, 30000, "int16"), bits_stored=16),
        "uint8": make_image(ramp(24, 40, 0, 255, "uint8"), WindowCenter=100, WindowWidth=120),
        "fractional_rescale": make_image(
            stored12, bits_stored=12, RescaleSlope=0.25, RescaleIntercept=-100.5
        ),
    }
    lut = make_image(stored12, bits_stored=12)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 12]
    item.add_new(
        0x00283006, "US", [int(v) for v in np.sqrt(np.arange(4096) / 4095.0) * 4095]
    )  # LUT Data
    item.LUTExplanation = "SQRT"
    lut.VOILUTSequence = DicomSequence([item])
    cases["voi_lut_sequence"] = lut
    return cases


@pytest.mark.parametrize("case", sorted(_synthetic_cases()))
def test_synthetic_matches_dcmtk(case: str, tmp_path: Path) -> None:
    path = save(_synthetic_cases()[case], tmp_path / f"{case}.dcm")
    _check_against_dcmtk(path, tmp_path)


def test_monochrome1_comes_out_inverted(tmp_path: Path) -> None:
    stored = ramp(8, 8, 0, 4095, "uint16")
    path = save(make_image(stored, bits_stored=12, photometric="MONOCHROME1"), tmp_path / "m1.dcm")
    frame = decode_frame(path)
    assert isinstance(frame, Frame)
    shown = to_display_u8(frame)
    assert shown[0, 0] == 255 and shown[-1, -1] == 0  # lowest value white, highest black


# ----- shared test data --------------------------------------------------------------
def _greyscale_samples() -> list[str]:
    if TESTDATA is None:
        return []
    out = []
    for path in sorted((TESTDATA / "transfer-syntaxes").rglob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        if (
            int(ds.get("SamplesPerPixel", 1) or 1) != 1
            or int(ds.get("NumberOfFrames", 1) or 1) != 1
        ):
            continue
        if str(ds.get("PhotometricInterpretation", "")).startswith("MONOCHROME"):
            out.append(str(path.relative_to(TESTDATA)))
    for series in sorted((TESTDATA / "series").iterdir()):
        files = sorted(series.glob("*.dcm"))
        out += [str(f.relative_to(TESTDATA)) for f in (files[0], files[len(files) // 2], files[-1])]
    return out


def _ts(path: Path) -> str:
    return str(
        pydicom.dcmread(path, stop_before_pixels=True, force=True).file_meta.get(
            "TransferSyntaxUID", ""
        )
    )


@pytest.mark.parametrize("sample", _greyscale_samples())
def test_sample_matches_dcmtk(sample: str, testdata: Path, tmp_path: Path) -> None:
    path = testdata / sample
    if _ts(path).startswith("1.2.840.10008.1.2.4.9"):
        pytest.skip("dcmtk 3.6.7 cannot decode JPEG 2000; see test_lossless_j2k_equals_its_twin")
    _check_against_dcmtk(path, tmp_path)


#: Lossless JPEG 2000 samples and a lossless encoding of the same image in the set.
J2K_TWINS = [
    ("transfer-syntaxes/pydicom-data/693_J2KR.dcm", "transfer-syntaxes/pydicom-data/693_UNCR.dcm"),
    (
        "transfer-syntaxes/pydicom-data/MR2_J2KR.dcm",
        "transfer-syntaxes/orthanc/1.2.840.10008.1.2.4.57.dcm",
    ),
    (
        "transfer-syntaxes/orthanc/1.2.840.10008.1.2.4.90.dcm",
        "transfer-syntaxes/orthanc/1.2.840.10008.1.2.5.dcm",
    ),
    (
        "transfer-syntaxes/pydicom-data/emri_small_jpeg_2k_lossless.dcm",
        "transfer-syntaxes/pydicom-data/emri_small.dcm",
    ),
]


@pytest.mark.parametrize(("j2k", "twin"), J2K_TWINS)
def test_lossless_j2k_equals_its_twin(j2k: str, twin: str, testdata: Path, tmp_path: Path) -> None:
    frames = int(
        pydicom.dcmread(testdata / twin, stop_before_pixels=True).get("NumberOfFrames", 1) or 1
    )
    for index in sorted({0, frames - 1}):
        ours, other = decode_frame(testdata / j2k, index), decode_frame(testdata / twin, index)
        assert isinstance(ours, Frame) and isinstance(other, Frame)
        assert np.array_equal(ours.modality_values(), other.modality_values())
        assert np.array_equal(to_display_u8(ours), to_display_u8(other))
    if frames == 1:
        _check_against_dcmtk(testdata / twin, tmp_path)  # and the twin is right by dcmtk
