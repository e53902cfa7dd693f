"""A signed report as an HL7 v2.5.1 ORU^R01 message (built with hl7apy, not sent here).

MSH-18 is ``UNICODE UTF-8``: the message is text, to be encoded as UTF-8 by whoever
sends it.  PID comes from a header of the study's own instances (see
:func:`workstation.reports.encapsulated_pdf.study_header`); OBR-3 holds the study's
accession number, OBR-4 the LOINC code 18748-4, OBR-25 the result status (P
preliminary, F final, C a final amendment), OBR-32 the interpreting doctor.  Each line
of the report's text is an OBX of type TX (section headings too); one last OBX of type
ED carries the signed PDF in base64.  Typed text is escaped (``\\F\\`` and friends), so
a report cannot add fields or segments.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

from workstation.reports.encapsulated_pdf import REPORT_CODE
from workstation.reports.model import SECTION_KEYS, Report, ReportStatus
from workstation.reports.templates import heading

SENDING_APPLICATION = "KLINIKA"
#: HL7 v2 escapes of the default delimiters; the escape character goes first.
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))
#: Longest OBX-5 TX line written (longer lines are cut into more OBX segments).
MAX_TX = 65536
#: DICOM Patient's Sex -> HL7 table 0001.
_SEX = {"M": "M", "F": "F", "O": "O"}


def escape(text: str) -> str:
    """``text`` with HL7's delimiters escaped and control characters dropped."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return "".join(ch for ch in text if ch >= " " or ch == "\t")


def result_status(report: Report) -> str:
    """OBR-25 / OBX-11: P (preliminary or draft), F (final), C (a final amendment)."""
    if report.status in (ReportStatus.FINAL, ReportStatus.SUPERSEDED):
        return "C" if report.predecessor_id else "F"
    return "P"


def _hl7_ts(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.strftime("%Y%m%d%H%M%S%z")


def text_lines(report: Report) -> Iterator[str]:
    """The report's text as lines: each filled section's heading, then its lines."""
    for key in SECTION_KEYS:
        body = report.section(key).strip()
        if not body:
            continue
        yield heading(key, report.language)
        for line in body.splitlines():
            while len(line) > MAX_TX:
                yield line[:MAX_TX]
                line = line[MAX_TX:]
            yield line


def _set_name(xpn: Any, dicom_pn: str) -> None:
    # DICOM PN: family^given^middle^prefix^suffix; XPN: family^given^middle^suffix^prefix.
    parts = (dicom_pn.split("=")[0].split("^") + [""] * 5)[:5]
    family, given, middle, prefix, suffix = (escape(p) for p in parts)
    if family:
        xpn.xpn_1 = family
    for attr, value in (("xpn_2", given), ("xpn_3", middle), ("xpn_4", suffix)):
        if value:
            setattr(xpn, attr, value)
    if prefix:
        xpn.xpn_5 = prefix


def _set_code(ce: Any) -> None:
    value, scheme, meaning = REPORT_CODE
    ce.ce_1, ce.ce_2, ce.ce_3 = value, meaning, scheme


def _observation(order: Any, n: int, value_type: str, sub_id: str, status: str) -> Any:
    obx = order.add_group("ORU_R01_OBSERVATION").obx
    obx.obx_1 = str(n)
    obx.obx_2 = value_type
    _set_code(obx.obx_3)
    obx.obx_4 = sub_id
    obx.obx_11 = status
    return obx


def build_oru(
    report: Report,
    pdf: bytes,
    header: Any,
    *,
    facility: str = "",
    receiving_application: str = "",
    receiving_facility: str = "",
    control_id: str = "",
) -> Any:
    """The ORU^R01 message (an hl7apy ``Message``) of a report version and its PDF.

    ``header`` is a pydicom data set of the study (PatientID, PatientName, ...,
    AccessionNumber).  ``message.to_er7()`` gives the text."""
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.core import Message

    moment = report.signed_at or report.updated_at or dt.datetime.now(dt.UTC)
    status = result_status(report)
    msg = Message("ORU_R01", version="2.5.1", validation_level=VALIDATION_LEVEL.TOLERANT)
    msh = msg.msh
    msh.msh_3 = SENDING_APPLICATION
    if facility:
        msh.msh_4 = escape(facility)[:20]
    if receiving_application:
        msh.msh_5 = escape(receiving_application)
    if receiving_facility:
        msh.msh_6 = escape(receiving_facility)
    msh.msh_7 = _hl7_ts(moment)
    msh.msh_9.msg_1, msh.msh_9.msg_2, msh.msh_9.msg_3 = "ORU", "R01", "ORU_R01"
    msh.msh_10 = (control_id or report.report_id)[:20]
    msh.msh_11 = "P"
    msh.msh_18 = "UNICODE UTF-8"

    result = msg.add_group("ORU_R01_PATIENT_RESULT")
    pid = result.add_group("ORU_R01_PATIENT").pid
    pid.pid_1 = "1"
    pid.pid_3.cx_1 = escape(str(header.get("PatientID", "") or ""))
    issuer = str(header.get("IssuerOfPatientID", "") or "")
    if issuer:
        pid.pid_3.cx_4 = escape(issuer)
    _set_name(pid.pid_5, str(header.get("PatientName", "") or ""))
    birth = str(header.get("PatientBirthDate", "") or "")
    if birth:
        pid.pid_7 = birth
    sex = _SEX.get(str(header.get("PatientSex", "") or ""), "U")
    pid.pid_8 = sex

    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    obr = order.obr
    obr.obr_1 = "1"
    accession = str(header.get("AccessionNumber", "") or "")
    if accession:
        obr.obr_3.ei_1 = escape(accession)
    _set_code(obr.obr_4)
    study_date = str(header.get("StudyDate", "") or "")
    if study_date:
        obr.obr_7 = study_date + str(header.get("StudyTime", "") or "").split(".")[0]
    obr.obr_22 = _hl7_ts(moment)
    obr.obr_25 = status
    interpreter = report.signed_by or report.author
    obr.obr_32.ndl_1.cnn_1 = escape(interpreter)

    n = 0
    for n, line in enumerate(text_lines(report), start=1):
        obx = _observation(order, n, "TX", "1", status)
        obx.obx_5 = escape(line)
    obx = _observation(order, n + 1, "ED", "2", status)
    # ED: source application ^ type ^ subtype ^ encoding ^ data (OBX-5 "varies").
    obx.obx_5 = "^AP^PDF^Base64^" + base64.b64encode(pdf).decode("ascii")
    obx.obx_14 = _hl7_ts(moment)
    return msg


def oru_er7(message: Any) -> str:
    """The message as ER7 text, segments ended by CR."""
    return str(message.to_er7())
