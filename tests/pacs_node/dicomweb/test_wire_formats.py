"""QIDO query strings (Orthanc 1.7 quirks), the capped multipart reader, STOW answers."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from workstation.pacs_node.dicomweb import qido
from workstation.pacs_node.dicomweb.errors import ResponseTooLarge
from workstation.pacs_node.dicomweb.multipart import boundary_of, iter_parts
from workstation.pacs_node.dicomweb.stow import is_permanent, parse_stow_response
from workstation.pacs_node.remote import Outcome


def _multipart(parts: list[bytes], boundary: bytes = b"XyZ") -> bytes:
    out = b"preamble\r\n"
    for part in parts:
        out += b"--" + boundary + b"\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 100_000])
def test_parts_survive_any_chunking(chunk: int) -> None:
    parts = [b"first", b"", b"\r\n--XyZ-not-a-boundary", bytes(range(256)) * 10]
    body = _multipart(parts)
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    assert list(iter_parts(chunks, b"XyZ", max_part_bytes=10_000)) == parts


def test_a_part_over_the_cap_is_refused_before_it_is_buffered() -> None:
    def endless() -> object:
        yield b"--XyZ\r\nContent-Type: application/dicom\r\n\r\n"
        while True:
            yield b"\x00" * 65536

    with pytest.raises(ResponseTooLarge):
        for _ in iter_parts(endless(), b"XyZ", max_part_bytes=1_000_000):  # type: ignore[arg-type]
            pass


def test_boundary_parsing() -> None:
    assert boundary_of('multipart/related; type="application/dicom"; boundary="a b"') == b"a b"
    assert boundary_of("multipart/related; boundary=abc") == b"abc"
    assert boundary_of("application/dicom") is None


def test_qido_query_avoids_what_orthanc_does_not_decode() -> None:
    query, recheck = qido.build_query(
        {"PatientName": "IVANOV^I*", "PatientID": "*", "StudyDate": "20240101-20240131",
         "StudyDescription": "ГРУДЬ"},
        include=["StudyDescription"], limit=10,
    )  # fmt: skip
    assert "PatientName=IVANOV?I*" in query
    assert "PatientID" not in query  # wildcard-only: left out
    assert "StudyDate=20240101-20240131" in query
    assert "%" not in query  # nothing percent-encoded
    assert "includefield=00081030" in query and "limit=10" in query
    assert recheck == {"PatientName": "IVANOV^I*", "StudyDescription": "ГРУДЬ"}
    with pytest.raises(ValueError):
        qido.build_query({"NoSuchKeyword": "x"})


def test_widened_filters_are_rechecked_exactly() -> None:
    ds = Dataset()
    ds.PatientName = "IVANOV^IVAN"
    assert qido.matches(ds, {"PatientName": "ivanov^i*"})
    ds.PatientName = "IVANOV IVAN"
    assert not qido.matches(ds, {"PatientName": "IVANOV^I*"})


def test_stow_response_gives_one_outcome_per_instance() -> None:
    ok, warn, bad = Dataset(), Dataset(), Dataset()
    ok.ReferencedSOPInstanceUID = "1.1"
    warn.ReferencedSOPInstanceUID = "1.2"
    warn.WarningReason = 0xB000
    bad.ReferencedSOPInstanceUID = "1.3"
    bad.FailureReason = 0xC000
    rsp = Dataset()
    rsp.ReferencedSOPSequence = [ok, warn]
    rsp.FailedSOPSequence = [bad]
    outcomes = parse_stow_response(rsp, ["1.1", "1.2", "1.3", "1.4"])
    assert [o.outcome for o in outcomes] == [
        Outcome.STORED,
        Outcome.WARNING,
        Outcome.FAILED,
        Outcome.FAILED,
    ]
    assert is_permanent(outcomes[2]) and not is_permanent(outcomes[3])
    assert "not confirm" in outcomes[3].reason
