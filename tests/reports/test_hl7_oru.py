"""The ORU^R01 of a signed report, read back by an independent parser (``hl7`` on PyPI):
OBR-25 F (C for an amendment), the Cyrillic PID-5 intact, the typed text whole (with
HL7's delimiters in it), and the PDF equal after base64; hl7apy's own validate()."""

from __future__ import annotations

import base64
from pathlib import Path

import pydicom
import pytest

from tests.app.synthetic import write_study
from tests.reports.conftest import Site
from workstation.reports.encapsulated_pdf import study_header
from workstation.reports.hl7_oru import build_oru, oru_er7

hl7 = pytest.importorskip("hl7", reason="the hl7 parser is not installed (pip install hl7)")
pytest.importorskip("hl7apy", reason="hl7apy is not installed")

TYPED = "Очаг 6 мм | слева ^ 3 & 4 ~ 5 \\ конец"


def cyrillic_study(site: Site, tmp_path: Path) -> str:
    folder = tmp_path / "cyr"
    study_uid = write_study(folder, patient_name="X", patient_id="R-7", images=1, accession="A-77")
    for f in sorted(folder.iterdir()):
        ds = pydicom.dcmread(f)
        ds.SpecificCharacterSet = "ISO_IR 144"
        ds.PatientName = "ИВАНОВА^АННА^СЕРГЕЕВНА"
        ds.PatientSex = "F"
        ds.save_as(f)
        assert site.archive.store_file(f).ok
    return study_uid


def parsed(site: Site, report_id: str) -> object:
    report = site.store.get(report_id)
    pdf = site.store.pdf(report_id)
    assert pdf is not None
    header = study_header(site.archive, report.study_instance_uid)
    message = build_oru(report, pdf, header, facility="Klinika Nord")
    assert message.validate() is True
    text = oru_er7(message)
    assert text.startswith("MSH|^~\\&|KLINIKA|") and "\n" not in text
    return hl7.parse(text)


def test_oru_of_a_final_report_reads_back(signing_site: Site, tmp_path: Path) -> None:
    study_uid = cyrillic_study(signing_site, tmp_path)
    doctor = signing_site.reports("dora")
    draft = doctor.create(study_uid, "ct_chest", "ru", {"findings": TYPED + "\nвторая строка"})
    final = doctor.sign(draft.report_id)
    msg = parsed(signing_site, final.report_id)

    msh = msg.segment("MSH")
    assert str(msh[9]) == "ORU^R01^ORU_R01" and str(msh[12]) == "2.5.1"
    assert str(msh[18]) == "UNICODE UTF-8"
    pid = msg.segment("PID")
    assert str(pid[3]) == "R-7" and str(pid[8]) == "F"
    assert msg.unescape(str(pid[5])) == "ИВАНОВА^АННА^СЕРГЕЕВНА"
    assert str(pid[5][0][0]) == "ИВАНОВА" and str(pid[5][0][1]) == "АННА"
    obr = msg.segment("OBR")
    assert str(obr[3]) == "A-77"
    assert str(obr[4]) == "18748-4^Diagnostic imaging report^LN"
    assert str(obr[25]) == "F"
    assert str(obr[32]) == "dora"
    obxs = msg.segments("OBX")
    tx = [msg.unescape(str(o[5])) for o in obxs if str(o[2]) == "TX"]
    assert TYPED in tx and "вторая строка" in tx
    assert all(str(o[11]) == "F" for o in obxs)
    (ed,) = [o for o in obxs if str(o[2]) == "ED"]
    assert [str(c) for c in ed[5][0][1:4]] == ["AP", "PDF", "Base64"]
    assert base64.b64decode(str(ed[5][0][4])) == signing_site.store.pdf(final.report_id)
    # Typed delimiters never made new fields: every OBX has the same shape.
    assert {str(o[3]) for o in obxs} == {"18748-4^Diagnostic imaging report^LN"}


def test_oru_of_an_amendment_says_corrected(signing_site: Site) -> None:
    doctor = signing_site.reports("dora")
    first = doctor.sign(doctor.create(signing_site.study_uid, "ct_chest", "de").report_id)
    second = doctor.sign(doctor.amend(first.report_id, "Seite korrigiert").report_id)
    old, new = parsed(signing_site, first.report_id), parsed(signing_site, second.report_id)
    assert str(new.segment("OBR")[25]) == "C"
    assert all(str(o[11]) == "C" for o in new.segments("OBX"))
    # The superseded first version still says what it was when sent: final.
    assert str(old.segment("OBR")[25]) == "F"
    assert new.unescape(str(new.segment("PID")[5])) == "MUSTERMANN^ERIKA"
