"""Hostile pixel data gives a readable CannotDisplay, never an exception."""

from __future__ import annotations

import copy
import io
import random
from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, RLELossless

from tests.imaging.synthetic import compressed, ct_slice, make_image, ramp, save
from workstation.imaging.decode import decode_frame
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame


def _cannot(source: object, frame: int = 0) -> CannotDisplay:
    result = decode_frame(source, frame)  # type: ignore[arg-type]
    assert isinstance(result, CannotDisplay), f"expected CannotDisplay, got {type(result).__name__}"
    assert result.reason and result.reason[0].isupper() and result.reason.endswith(".")
    return result


def _ct(rows: int = 64, cols: int = 64) -> object:
    return ct_slice(ramp(rows, cols, -1000, 1000, "int16"), position=(0, 0, 0))


def test_truncated_pixel_data_in_memory_and_on_disk(tmp_path: Path) -> None:
    ds = _ct()
    ds.PixelData = ds.PixelData[:-100]  # type: ignore[attr-defined]
    assert "truncated" in _cannot(save(ds, tmp_path / "short.dcm")).reason
    big = save(_ct(256, 256), tmp_path / "big.dcm")  # pixel data large enough to be read lazily
    data = big.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: len(data) - 5000])
    assert "truncated" in _cannot(cut).reason


def test_inconsistent_pixel_modules(tmp_path: Path) -> None:
    cases = {
        "Rows": lambda ds: delattr(ds, "Rows"),
        "bits": lambda ds: setattr(ds, "BitsStored", 20),
        "allocated": lambda ds: setattr(ds, "BitsAllocated", 12),
        "samples": lambda ds: setattr(ds, "SamplesPerPixel", 3),
        "photometric": lambda ds: setattr(ds, "PhotometricInterpretation", "CMYK"),
        "frames": lambda ds: setattr(ds, "NumberOfFrames", 0),
        "no pixels": lambda ds: delattr(ds, "PixelData"),
    }
    reasons = {}
    for name, spoil in cases.items():
        ds = copy.deepcopy(_ct())
        spoil(ds)
        reasons[name] = _cannot(save(ds, tmp_path / f"{name}.dcm")).reason
    assert "Rows" in reasons["Rows"]
    assert "inconsistent" in reasons["bits"] and "inconsistent" in reasons["samples"]
    assert "CMYK" in reasons["photometric"]
    assert "Pixel Data" in reasons["no pixels"]


def test_sizes_are_capped_before_allocating(tmp_path: Path) -> None:
    ds = _ct(8, 8)
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored = (
        65535,
        65535,
        3,
        32,
        32,
    )
    ds.PhotometricInterpretation = "RGB"
    reason = _cannot(save(ds, tmp_path / "huge.dcm")).reason
    assert "memory" in reason


def _corrupt_fragments(ds: object, spoil: object) -> object:
    bad = copy.deepcopy(ds)
    frames = [bytearray(f) for f in generate_frames(bad.PixelData, number_of_frames=1)]  # type: ignore[attr-defined]
    spoil(frames[0])  # type: ignore[operator]
    bad.PixelData = encapsulate([bytes(f) for f in frames])  # type: ignore[attr-defined]
    return bad


def _wreck_header(stream: bytearray) -> None:
    stream[2:40] = bytes(random.Random(7).randrange(256) for _ in range(38))


def test_corrupt_jpeg2000_codestream(tmp_path: Path) -> None:
    j2k = compressed(_ct(), JPEG2000Lossless)
    assert isinstance(decode_frame(j2k), Frame)
    for name, spoil in {
        "header": _wreck_header,
        "truncated": lambda s: s.__delitem__(slice(len(s) // 3, None)),
    }.items():
        bad = _corrupt_fragments(j2k, spoil)
        result = decode_frame(save(bad, tmp_path / f"j2k-{name}.dcm"))  # type: ignore[arg-type]
        assert isinstance(result, CannotDisplay), name
        assert result.detail  # what the decoder said, for the log


def test_corrupt_rle(tmp_path: Path) -> None:
    rle = compressed(_ct(), RLELossless)

    def spoil(stream: bytearray) -> None:
        stream[4:8] = (10**6).to_bytes(4, "little")  # first segment offset beyond the data

    _cannot(save(_corrupt_fragments(rle, spoil), tmp_path / "rle.dcm"))  # type: ignore[arg-type]


def test_corrupt_jpeg_baseline(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    grey = ramp(64, 64, 0, 255, "uint8")
    buf = io.BytesIO()
    image.fromarray(grey).save(buf, format="JPEG", quality=90)
    ds = make_image(grey)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    good = decode_frame(save(ds, tmp_path / "good.dcm"))
    assert isinstance(good, Frame) and np.abs(good.pixels.astype(int) - grey).max() < 16
    bad = _corrupt_fragments(ds, _wreck_header)
    _cannot(save(bad, tmp_path / "bad.dcm"))  # type: ignore[arg-type]


def test_not_dicom_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(5000)))
    assert "not a DICOM file" in _cannot(junk).reason
    assert "does not exist" in _cannot(tmp_path / "missing.dcm").reason
    _cannot(tmp_path)  # a directory


def test_flipped_bytes_never_raise(tmp_path: Path, soak: int) -> None:
    sources = [
        save(_ct(32, 32), tmp_path / "n.dcm").read_bytes(),
        save(compressed(_ct(32, 32), RLELossless), tmp_path / "r.dcm").read_bytes(),
        save(compressed(_ct(32, 32), JPEG2000Lossless), tmp_path / "j.dcm").read_bytes(),
    ]
    rng = random.Random(11)
    target = tmp_path / "fuzz.dcm"
    outcomes = {"frame": 0, "cannot": 0}
    for _ in range(40 * soak):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(132, len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            del data[rng.randrange(132, len(data)) :]
        target.write_bytes(bytes(data))
        result = decode_frame(target)
        assert isinstance(result, Frame | CannotDisplay)
        outcomes["frame" if isinstance(result, Frame) else "cannot"] += 1
    assert outcomes["cannot"] > 0


def test_malformed_samples_of_the_shared_set(testdata: Path) -> None:
    expected = {
        "MR_truncated.dcm": "truncated",
        "DummyCTInvalidRows.dcm": "Pixel Data",
        "Issue22-NoPixelData.dcm": "Pixel Data",
        "badVR.dcm": "Number of Frames",
        "no_meta.dcm": "not a DICOM file",
        "meta_missing_tsyntax.dcm": "Rows",
    }
    for path in sorted((testdata / "malformed").iterdir()):
        for frame in (0, 5):
            result = decode_frame(path, frame)
            assert isinstance(result, Frame | CannotDisplay), path.name
        if path.name in expected:
            result = decode_frame(path)
            assert isinstance(result, CannotDisplay), path.name
            assert expected[path.name] in result.reason, (path.name, result.reason)


def test_corrupt_jpeg_lossless_sample(testdata: Path, tmp_path: Path) -> None:
    import pydicom

    ds = pydicom.dcmread(testdata / "transfer-syntaxes" / "orthanc" / "1.2.840.10008.1.2.4.70.dcm")
    assert isinstance(decode_frame(ds), Frame)
    bad = _corrupt_fragments(ds, _wreck_header)
    _cannot(save(bad, tmp_path / "jll.dcm"))  # type: ignore[arg-type]


def test_compressed_file_over_the_cap_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workstation.imaging import limits

    path = save(compressed(_ct(), RLELossless), tmp_path / "rle.dcm")
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", path.stat().st_size - 1)
    assert "too large" in _cannot(path).reason
    native = save(_ct(256, 256), tmp_path / "native.dcm")  # uncompressed: read frame by frame
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", native.stat().st_size // 2)
    assert isinstance(decode_frame(native), Frame)


def test_damaged_header_is_a_reason(tmp_path: Path) -> None:
    data = save(_ct(), tmp_path / "ok.dcm").read_bytes()
    at = data.index(b"\x28\x00\x10\x00US")  # Rows: cut the header right there
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(data[: at + 5])
    assert _cannot(bad).reason
