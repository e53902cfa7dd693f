"""dcmtk's ``dcmj2pnm`` as the independent renderer our 8-bit output is checked against."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom

DCMJ2PNM = shutil.which("dcmj2pnm")
DCMDJPLS = shutil.which("dcmdjpls")
JPEG_LS = ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")
JPEG_2000 = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91")


def read_pnm(path: Path) -> np.ndarray:
    """A binary PGM (P5) or PPM (P6) with maxval 255."""
    data = path.read_bytes()
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert magic in (b"P5", b"P6") and int(maxval) == 255, magic
    channels = 3 if magic == b"P6" else 1
    arr = np.frombuffer(pixels[: int(width) * int(height) * channels], dtype=np.uint8)
    return (
        arr.reshape(int(height), int(width), channels).squeeze(axis=2)
        if channels == 1
        else arr.reshape(int(height), int(width), 3)
    )


def dcmtk_readable(path: Path, workdir: Path) -> Path | None:
    """`path`, or a decompressed copy for JPEG-LS (dcmj2pnm lacks it); None for JPEG 2000."""
    ts = str(
        pydicom.dcmread(path, stop_before_pixels=True, force=True).file_meta.get(
            "TransferSyntaxUID", ""
        )
    )
    if ts in JPEG_2000:
        return None
    if ts in JPEG_LS:
        assert DCMDJPLS is not None
        out = workdir / f"{path.stem}-djpls.dcm"
        subprocess.run([DCMDJPLS, "-q", str(path), str(out)], check=True, timeout=60)
        return out
    return path


def dcmtk_render(path: Path, voi_args: list[str], workdir: Path, frame: int = 1) -> np.ndarray:
    """dcmj2pnm's 8-bit rendering of `path`: no overlays, the given VOI options."""
    assert DCMJ2PNM is not None
    out = workdir / f"{path.stem}-{abs(hash(tuple(voi_args)))}.pnm"
    subprocess.run(
        [DCMJ2PNM, "-q", "-O", "+op", "+F", str(frame), *voi_args, str(path), str(out)],
        check=True,
        timeout=60,
    )
    return read_pnm(out)


def assert_within_one_level(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    assert ours.shape == ref.shape, (what, ours.shape, ref.shape)
    diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
    worst = int(diff.max())
    assert worst <= 1, (
        f"{what}: max difference {worst} levels at {np.argwhere(diff == worst)[0].tolist()}"
    )
