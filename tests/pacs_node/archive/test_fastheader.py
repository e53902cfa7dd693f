"""The fast header reader agrees with pydicom on every sample we have."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest

from tests.pacs_node.archive.synth import make_ct
from workstation.pacs_node.archive import part10
from workstation.pacs_node.archive.fastheader import read_header
from workstation.pacs_node.archive.header import extract_header

BUNDLED = Path(pydicom.__file__).parent / "data" / "test_files"


def _both(data: bytes) -> tuple[object, object] | None:
    meta = part10.read_meta(data)
    if meta is None or not meta[1].get(0x0010):
        return None
    tsyntax = meta[1][0x0010]
    fast = read_header(data, meta[0], tsyntax)
    if fast is None:
        return None
    fast["MediaStorageSOPClassUID"] = meta[1].get(0x0002, "")
    fast["MediaStorageSOPInstanceUID"] = meta[1].get(0x0003, "")

    def run(source: object) -> object:
        try:
            return extract_header(source, tsyntax)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - compare the failure too
            return type(exc).__name__

    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    return run(fast), run(ds)


def _compare(paths: list[Path]) -> int:
    compared = 0
    for path in paths:
        pair = _both(path.read_bytes())
        if pair is None:
            continue
        assert pair[0] == pair[1], path
        compared += 1
    return compared


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_agrees_with_pydicom_on_bundled_files() -> None:
    assert _compare(sorted(p for p in BUNDLED.rglob("*") if p.is_file())) > 50


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_agrees_with_pydicom_on_shared_testdata(testdata: Path) -> None:
    assert _compare(sorted(p for p in testdata.rglob("*") if p.is_file())) > 500


@pytest.mark.parametrize("charset", ["ISO_IR 144", "ISO_IR 192", "ISO_IR 100", "ISO 2022 IR 144"])
@pytest.mark.parametrize("implicit", [False, True])
def test_agrees_on_charsets_and_encodings(charset: str, implicit: bool) -> None:
    name = "Müller^Jürgen" if charset == "ISO_IR 100" else "Сидоров^Пётр"
    ds = make_ct(
        patient_name=name,
        charset=charset,
        description="Описание" if charset != "ISO_IR 100" else "Kopf",
    )
    ds.ReferencedImageSequence = [pydicom.Dataset()]  # a sequence to skip
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.3"
    ds["ReferencedImageSequence"].is_undefined_length = implicit
    buf = io.BytesIO()
    if implicit:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    ds.save_as(buf, enforce_file_format=True)
    fast, slow = _both(buf.getvalue())  # type: ignore[misc]
    assert fast == slow
    assert fast.patient.patient_name == name  # type: ignore[attr-defined]
