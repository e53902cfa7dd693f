"""The doctors' report route logic without Orthanc: multipart parsing and the SOP class rule."""

from __future__ import annotations

import io
import json

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from klinika_reports import (
    FAILURE_PROCESSING,
    FAILURE_STUDY_MISMATCH,
    ReportPart,
    StowRequestError,
    handle_report_upload,
    split_multipart_related,
)

from tests.central.orthanc.samples import ct_image, multipart_related, pdf_report


def _parse(payload: bytes) -> ReportPart:
    ds = pydicom.dcmread(io.BytesIO(payload))
    return ReportPart(ds.SOPClassUID, ds.SOPInstanceUID, ds.StudyInstanceUID, ds.PatientID)


class Archive:
    """A stand-in archive: which studies exist, what was stored."""

    def __init__(self, studies: set[tuple[str, str]], refuse: bool = False) -> None:
        self.studies = studies
        self.stored: list[bytes] = []
        self.refuse = refuse
        self.lookups = 0

    def exists(self, study_uid: str, patient_id: str) -> bool:
        self.lookups += 1
        return (study_uid, patient_id) in self.studies

    def store(self, payload: bytes) -> bool:
        if self.refuse:
            return False
        self.stored.append(payload)
        return True

    def upload(self, parts: list[bytes], url_study: str | None = None) -> tuple[int, dict]:
        body, ctype = multipart_related(parts)
        status, answer = handle_report_upload(
            ctype, body, url_study, _parse, self.exists, self.store
        )
        return status, json.loads(answer)


def test_multipart_round_trip() -> None:
    parts = [b"first", b"\r\n--not-a-boundary\r\n", b""]
    body, ctype = multipart_related(parts, boundary="b0undary")
    assert split_multipart_related(ctype, body) == parts
    padded = body.replace(b"--b0undary\r\n", b"--b0undary  \r\n")
    assert split_multipart_related(ctype, b"preamble\r\n" + padded) == parts


@pytest.mark.parametrize(
    ("ctype", "body", "status"),
    [
        ("application/dicom", b"x", 415),
        ('multipart/related; type="application/dicom+json"; boundary=b', b"", 415),
        ("multipart/related; boundary=", b"", 400),
        ("multipart/related; boundary=b", b"--b\r\n\r\nx\r\n", 400),
        ("multipart/related; boundary=b", b"nothing here", 400),
        ("multipart/related; boundary=b", b"--bX\r\n\r\nx\r\n--b--", 400),
        (
            "multipart/related; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
            415,
        ),
    ],
)
def test_malformed_requests(ctype: str, body: bytes, status: int) -> None:
    with pytest.raises(StowRequestError) as err:
        split_multipart_related(ctype, body)
    assert err.value.status == status


def test_too_many_parts() -> None:
    body, ctype = multipart_related([b"x"] * 65)
    with pytest.raises(StowRequestError) as err:
        split_multipart_related(ctype, body)
    assert err.value.status == 413


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), boundary=st.sampled_from(["b", "xyz", "--"]))
def test_garbage_bodies_fail_cleanly(body: bytes, boundary: str) -> None:
    status = 200
    parts: list[bytes] = []
    try:
        parts = split_multipart_related(f"multipart/related; boundary={boundary}", body)
    except StowRequestError as exc:
        status = exc.status
    assert status in (200, 400, 413, 415)
    assert sum(len(p) for p in parts) <= len(body)


def test_reports_are_stored_into_existing_studies() -> None:
    ct = ct_image()
    archive = Archive({(ct.study_uid, ct.patient_id)})
    report = pdf_report(ct.study_uid, ct.patient_id)
    status, answer = archive.upload([report.data], url_study=ct.study_uid)
    assert status == 200
    assert answer["00081199"]["Value"][0]["00081155"]["Value"] == [report.sop_uid]
    assert archive.stored == [report.data]


def test_a_batch_of_reports_asks_the_archive_once_per_study() -> None:
    ct, other = ct_image(), ct_image()
    archive = Archive({(ct.study_uid, ct.patient_id), (other.study_uid, other.patient_id)})
    reports = [pdf_report(s.study_uid, s.patient_id) for s in (ct, ct, other, ct, other)]
    status, answer = archive.upload([r.data for r in reports])
    assert status == 200
    assert [i["00081155"]["Value"][0] for i in answer["00081199"]["Value"]] == [
        r.sop_uid for r in reports
    ]  # stored in the order sent
    assert archive.lookups == 2 and archive.stored == [r.data for r in reports]


def test_an_image_among_reports_refuses_the_whole_request() -> None:
    ct = ct_image()
    archive = Archive({(ct.study_uid, ct.patient_id)})
    status, answer = archive.upload([pdf_report(ct.study_uid, ct.patient_id).data, ct.data])
    assert status == 403
    assert "not a report class" in answer["error"]
    assert archive.stored == []


def test_reports_for_unknown_or_other_studies_fail() -> None:
    ct = ct_image()
    archive = Archive({(ct.study_uid, ct.patient_id)})
    orphan = pdf_report("1.2.3.4.5")
    good = pdf_report(ct.study_uid, ct.patient_id)
    status, answer = archive.upload([orphan.data, good.data])
    assert status == 202
    failed = answer["00081198"]["Value"][0]
    assert failed["00081155"]["Value"] == [orphan.sop_uid]
    assert failed["00081197"]["Value"] == [FAILURE_STUDY_MISMATCH]
    status, _ = archive.upload([good.data], url_study="1.2.3.4.5")
    assert status == 409
    other_patient = pdf_report(ct.study_uid, patient_id="SOMEONE-ELSE")
    status, _ = archive.upload([other_patient.data])
    assert status == 409
    assert archive.stored == [good.data]


def test_storage_refusal_is_reported_not_hidden() -> None:
    ct = ct_image()
    archive = Archive({(ct.study_uid, ct.patient_id)}, refuse=True)
    status, answer = archive.upload([pdf_report(ct.study_uid, ct.patient_id).data])
    assert status == 409
    assert answer["00081198"]["Value"][0]["00081197"]["Value"] == [FAILURE_PROCESSING]


def test_orthanc_json_in_short_and_full_form() -> None:
    short = {"0008,0016": "1.2.3", "0008,0018": "4.5", "0020,000d": "6.7 "}
    full = {k: {"Name": "x", "Type": "String", "Value": v} for k, v in short.items()}
    assert ReportPart.from_orthanc_json(short) == ReportPart.from_orthanc_json(full)
    assert ReportPart.from_orthanc_json(full).study_instance_uid == "6.7"
    for bad in ({}, {**short, "0008,0016": None}, {**short, "0008,0018": "1.2.x"}):
        with pytest.raises(StowRequestError):
            ReportPart.from_orthanc_json(bad)
