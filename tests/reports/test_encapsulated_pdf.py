"""A signed report lands in its study as a DICOM Encapsulated PDF, checked by tools that
are not ours: dicom3tools' ``dciodvfy`` (the IOD), dcmtk's ``dcm2pdf`` (the document
comes back byte for byte), poppler's ``pdfsig`` and our verifier (the signature still
holds), and the ``workstation studies --json`` a user runs (the DOC series is there)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pydicom
import pytest

from tests.app.synthetic import write_study
from tests.reports.conftest import Site, need_tool, pdfsig_text, run
from tests.reports.workstation_cli import ws
from workstation.auth.audit import AuditAction
from workstation.reports.encapsulated_pdf import (
    document_of,
    predecessor_uids,
    report_instance_uid,
    report_series_uid,
)
from workstation.services.report_actions import verify_report_pdf

CYRILLIC_NAME = "ИВАНОВА^АННА^СЕРГЕЕВНА"


def signed_instance(site: Site, study_uid: str | None = None, lang: str = "de") -> tuple:
    doctor = site.reports("dora")
    report = doctor.create(
        study_uid or site.study_uid, "ct_chest", lang, {"impression": "Kein Befund."}
    )
    final = doctor.sign(report.report_id)
    sop_uid = report_instance_uid(final.report_id)
    return final, site.archive.instance_file(sop_uid)


def dciodvfy_clean(path: Path) -> None:
    exe = need_tool("dciodvfy")
    checked = run(exe, path)
    out = checked.stdout + checked.stderr
    assert checked.returncode == 0, out
    assert not [line for line in out.splitlines() if "Error" in line], out


def test_signed_report_is_a_valid_encapsulated_pdf_in_its_study(signing_site: Site) -> None:
    final, path = signed_instance(signing_site)
    dciodvfy_clean(path)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds.StudyInstanceUID == signing_site.study_uid
    assert ds.SeriesInstanceUID == report_series_uid(signing_site.study_uid)
    assert ds.SeriesInstanceUID not in {
        s.series_instance_uid
        for s in signing_site.archive.find_series(signing_site.study_uid)
        if s.modality != "DOC"
    }
    assert ds.Modality == "DOC" and ds.ConversionType == "WSD"
    assert ds.InstanceNumber == 1 and ds.BurnedInAnnotation == "YES"
    assert ds.ContentDate and ds.ContentTime and ds.AcquisitionDateTime
    assert ds.DocumentTitle
    code = ds.ConceptNameCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == (
        "18748-4",
        "LN",
        "Diagnostic imaging report",
    )
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert len(ds.EncapsulatedDocument) % 2 == 0
    pdf = signing_site.store.pdf(final.report_id)
    assert pdf is not None and pdf.endswith(b"%%EOF\n")
    assert ds.EncapsulatedDocumentLength == len(pdf)
    assert document_of(ds) == pdf
    assert ds.VerificationFlag == "VERIFIED"
    observer = ds.VerifyingObserverSequence[0]
    assert str(observer.VerifyingObserverName) == "dora"
    assert observer.VerifyingOrganization == "Klinika Nord — Radiologie"
    assert observer.VerificationDateTime.startswith(final.signed_at.strftime("%Y%m%d"))
    assert "PredecessorDocumentsSequence" not in ds
    # Patient and study attributes are the study's own.
    assert str(ds.PatientName) == "MUSTERMANN^ERIKA" and ds.PatientID == "R-1"
    assert ds.PatientBirthDate == "19700101" and ds.StudyDate == "20240115"
    events = signing_site.audit.events(action=AuditAction.REPORT_SEND.value)
    assert [e.detail["sop_instance_uid"] for e in events] == [ds.SOPInstanceUID]
    assert events[0].detail["sha256"] == final.pdf_sha256


def test_dcm2pdf_gives_back_the_signed_pdf_and_it_still_verifies(
    signing_site: Site, tmp_path: Path
) -> None:
    final, path = signed_instance(signing_site)
    dcm2pdf = need_tool("dcm2pdf")
    out = tmp_path / "back.pdf"
    done = run(dcm2pdf, path, out)
    assert done.returncode == 0, done.stderr
    back = out.read_bytes()
    assert back == signing_site.store.pdf(final.report_id)
    assert hashlib.sha256(back).hexdigest() == final.pdf_sha256
    assert verify_report_pdf(signing_site.settings, back).ok  # type: ignore[arg-type]
    ca = signing_site.ca_pem(tmp_path)
    sig = pdfsig_text(out, ca, tmp_path)
    assert "Signature is Valid." in sig and "Certificate is Trusted." in sig, sig
    assert "Total document signed" in sig, sig


def test_cyrillic_patient_name_survives(signing_site: Site, tmp_path: Path) -> None:
    """A study written in ISO 8859-5 (ISO_IR 144) gives a UTF-8 report instance with the
    same name, as pydicom and dcmtk's dcmdump read it."""
    folder = tmp_path / "cyr"
    study_uid = write_study(folder, patient_name="X", patient_id="R-2", images=1)
    for f in sorted(folder.iterdir()):
        ds = pydicom.dcmread(f)
        ds.SpecificCharacterSet = "ISO_IR 144"
        ds.PatientName = CYRILLIC_NAME
        ds.ReferringPhysicianName = "ПЕТРОВ^ИВАН"
        ds.StudyDescription = "КТ грудной клетки"
        ds.save_as(f)
        assert CYRILLIC_NAME.encode("iso8859-5") in f.read_bytes()
        assert signing_site.archive.store_file(f).ok
    _final, path = signed_instance(signing_site, study_uid, lang="ru")
    dciodvfy_clean(path)
    raw = path.read_bytes()
    assert CYRILLIC_NAME.encode("utf-8") in raw
    assert "ПЕТРОВ^ИВАН".encode() in raw and "КТ грудной клетки".encode() in raw
    ds = pydicom.dcmread(path)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert str(ds.PatientName) == CYRILLIC_NAME
    dump = run(need_tool("dcmdump"), "+U8", path)
    assert dump.returncode == 0, dump.stderr
    assert CYRILLIC_NAME in dump.stdout


def test_amendment_names_its_predecessor_in_the_same_series(
    signing_site: Site, tmp_path: Path
) -> None:
    first, first_path = signed_instance(signing_site)
    doctor = signing_site.reports("dora")
    draft = doctor.amend(first.report_id, "Side corrected")
    second = doctor.sign(draft.report_id)
    second_path = signing_site.archive.instance_file(report_instance_uid(second.report_id))
    dciodvfy_clean(second_path)
    old, new = pydicom.dcmread(first_path), pydicom.dcmread(second_path)
    assert new.SeriesInstanceUID == old.SeriesInstanceUID
    assert (old.InstanceNumber, new.InstanceNumber) == (1, 2)
    assert predecessor_uids(new) == [old.SOPInstanceUID]
    ref = new.PredecessorDocumentsSequence[0]
    assert ref.StudyInstanceUID == signing_site.study_uid
    assert ref.ReferencedSeriesSequence[0].SeriesInstanceUID == old.SeriesInstanceUID
    assert (
        ref.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPClassUID
        == old.SOPClassUID
    )
    # Both versions stay in the study, and both documents still verify.
    for report, ds in ((first, old), (second, new)):
        pdf = document_of(ds)
        assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
        assert verify_report_pdf(signing_site.settings, pdf).ok  # type: ignore[arg-type]
    docs = [
        s for s in signing_site.archive.find_series(signing_site.study_uid) if s.modality == "DOC"
    ]
    assert [(s.series_instance_uid, s.num_instances) for s in docs] == [(old.SeriesInstanceUID, 2)]


def test_storing_again_is_the_same_instance(signing_site: Site) -> None:
    final, path = signed_instance(signing_site)
    before = path.read_bytes()
    doctor = signing_site.reports("dora")
    assert doctor.store_in_study(final.report_id) == report_instance_uid(final.report_id)
    assert signing_site.archive.instance_file(
        report_instance_uid(final.report_id)
    ).read_bytes() == (before)
    assert len(signing_site.archive.study_instances(signing_site.study_uid)) == 3
    draft = doctor.create(signing_site.study_uid, "ct_chest", "de", {"impression": "x"})
    with pytest.raises(Exception, match="not signed"):
        doctor.store_in_study(draft.report_id)


def test_report_series_is_part_of_the_study_for_the_cli(signing_site: Site) -> None:
    signed_instance(signing_site)
    listed = ws("studies", "--json")
    assert listed.returncode == 0, listed.stderr
    (study,) = [
        s for s in json.loads(listed.stdout) if s["study_instance_uid"] == signing_site.study_uid
    ]
    assert "DOC" in study["modalities"] and "CT" in study["modalities"]
    assert study["num_series"] == 2 and study["num_instances"] == 3


def test_orthanc_gives_back_the_unpadded_pdf_of_both_versions(
    signing_site: Site,
    orthanc_factory,  # type: ignore[no-untyped-def]
) -> None:
    """A real Orthanc takes the instances as they are in the local archive, and its
    ``/instances/{id}/pdf`` (which ignores (0042,0015)) gives each signed PDF back with
    the hash the report store keeps; study and patient match the local study."""
    import requests

    first, first_path = signed_instance(signing_site)
    doctor = signing_site.reports("dora")
    second = doctor.sign(doctor.amend(first.report_id, "Side corrected").report_id)
    second_path = signing_site.archive.instance_file(report_instance_uid(second.report_id))
    central = orthanc_factory(token_filter=False, index="sqlite", name="epdf-roundtrip")
    try:
        for report, path in ((first, first_path), (second, second_path)):
            posted = requests.post(
                f"{central.http_url}/instances", data=path.read_bytes(), timeout=30
            )
            assert posted.status_code == 200, posted.text
            orthanc_id = posted.json()["ID"]
            pdf = requests.get(f"{central.http_url}/instances/{orthanc_id}/pdf", timeout=30)
            assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
            assert hashlib.sha256(pdf.content).hexdigest() == report.pdf_sha256
            assert pdf.content == signing_site.store.pdf(report.report_id)
            tags = requests.get(
                f"{central.http_url}/instances/{orthanc_id}/simplified-tags", timeout=30
            ).json()
            assert tags["StudyInstanceUID"] == signing_site.study_uid
            assert tags["PatientID"] == "R-1" and tags["Modality"] == "DOC"
            assert tags["SOPInstanceUID"] == report_instance_uid(report.report_id)
        series = requests.get(f"{central.http_url}/series", timeout=30).json()
        assert len(series) == 1  # both versions in the study's one report series
    finally:
        central.stop()


def test_storing_into_a_deleted_study_is_a_refusal_audited_without_patient_data(
    signing_site: Site,
) -> None:
    final, _path = signed_instance(signing_site)
    signing_site.archive.delete_study(signing_site.study_uid)
    doctor = signing_site.reports("dora")
    assert doctor.store_in_study(final.report_id) is None
    assert signing_site.store.get(final.report_id).status.value == "final"
    sent = signing_site.audit.events(action=AuditAction.REPORT_SEND.value)
    assert [e.outcome for e in sent] == ["success", "failure"]
    assert "holds no instance" in sent[-1].detail["reason"]
    assert all("MUSTERMANN" not in str(e.detail) for e in sent)


def test_study_values_a_strict_writer_refuses_are_left_out(
    signing_site: Site, tmp_path: Path
) -> None:
    """A study whose Patient ID is longer than LO allows (pydicom only warns on reading)
    still gets a valid report instance: the bad value is written empty (Type 2)."""
    import warnings

    from workstation.reports.encapsulated_pdf import build_instance, study_header

    final, _path = signed_instance(signing_site)
    header = study_header(signing_site.archive, signing_site.study_uid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header.PatientID = "X" * 80
    pdf = signing_site.store.pdf(final.report_id)
    assert pdf is not None
    instance = build_instance(final, pdf, header, organisation="K" * 100)
    out = tmp_path / "strict.dcm"
    out.write_bytes(instance.data)
    dciodvfy_clean(out)
    ds = pydicom.dcmread(out)
    assert ds.PatientID == "" and str(ds.PatientName) == "MUSTERMANN^ERIKA"
    assert ds.VerifyingObserverSequence[0].VerifyingOrganization == "K" * 64
