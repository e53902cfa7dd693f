"""``workstation render``: the PNG holds exactly what the viewer pipeline produces."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.imaging.synthetic import ct_slice, make_image, palette_image, ramp, save
from workstation.cli import main
from workstation.imaging.decode import decode_frame
from workstation.imaging.frame import Frame
from workstation.imaging.render import to_display_u8


def read_png(path: Path) -> np.ndarray:
    """A minimal independent PNG reader (8-bit grey or RGB, any filter, no interlace)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert (
            zlib.crc32(kind + body)
            == struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        )
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _c, _f, interlace = header
    assert depth == 8 and interlace == 0 and color in (0, 2)
    bpp = 1 if color == 0 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.int32)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        prev = out[y - 1] if y else np.zeros(stride, np.int32)
        row = np.zeros(stride, np.int32)
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2}.get(ftype)
            if pred is None:  # Paeth
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            row[x] = (line[x] + pred) & 0xFF
        out[y] = row
    img = out.astype(np.uint8)
    return img if color == 0 else img.reshape(height, width, 3)


def _render(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["render", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_greyscale_png_with_own_and_given_window(
    tmp_path: Path, ws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hu = ramp(20, 30, -1000, 2000, "int16")
    src = save(
        ct_slice(hu, position=(0, 0, 0), WindowCenter=40, WindowWidth=400), tmp_path / "ct.dcm"
    )
    frame = decode_frame(src)
    assert isinstance(frame, Frame)
    out = tmp_path / "own.png"
    code, stdout, _err = _render([str(src), "--out", str(out), "--json"], capsys)
    assert code == 0 and json.loads(stdout)["window"]["center"] == 40
    assert np.array_equal(read_png(out), to_display_u8(frame))
    lung = tmp_path / "lung.png"
    assert _render([str(src), "--out", str(lung), "--window", "-600", "1500"], capsys)[0] == 0
    assert np.array_equal(read_png(lung), to_display_u8(frame, (-600, 1500)))


def test_default_window_is_min_max_when_file_has_none(
    tmp_path: Path, ws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = save(make_image(ramp(10, 10, 100, 900, "uint16"), bits_stored=12), tmp_path / "plain.dcm")
    out = tmp_path / "plain.png"
    code, stdout, _err = _render([str(src), "--out", str(out), "--json"], capsys)
    image = read_png(out)
    assert code == 0 and json.loads(stdout)["window"]["explanation"] == "MIN-MAX"
    assert image.min() == 0 and image.max() == 255


def test_colour_png_and_frames(
    tmp_path: Path, ws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = save(palette_image(rows=6, cols=9, bits=16), tmp_path / "pal.dcm")
    frame = decode_frame(src)
    assert isinstance(frame, Frame)
    out = tmp_path / "pal.png"
    assert _render([str(src), "--out", str(out)], capsys)[0] == 0
    assert np.array_equal(read_png(out), frame.pixels)
    code, _out, err = _render([str(src), "--out", str(out), "--frame", "2"], capsys)
    assert code == 1 and "Frame 2 does not exist" in err


def test_errors_are_reported_with_exit_codes(
    tmp_path: Path, ws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = _render(
        [str(tmp_path / "nope.dcm"), "--out", str(tmp_path / "x.png")], capsys
    )
    assert code == 4 and "No such file" in err
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x001.2\0")
    code, _out, err = _render([str(broken), "--out", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "Cannot display this image" in err
    assert not (tmp_path / "x.png").exists()
