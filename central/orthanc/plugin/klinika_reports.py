"""Report upload for doctors: STOW-RS restricted to report SOP classes.

Doctors may not upload images. Their reports arrive at ``POST
/klinika/reports/studies[/{StudyInstanceUID}]`` - the STOW-RS request shape, so a
DICOMweb client uses ``{orthanc}/klinika/reports`` as its URL prefix. Orthanc's own
HTTP filter does not see request bodies, so this route is where the content is
checked, and the rule is:

- every part must be ``application/dicom`` and parse as DICOM (Orthanc's parser);
- its SOP Class UID must be one of ``REPORT_SOP_CLASSES`` (Encapsulated PDF, the SR
  family, Key Object Selection, Grayscale Softcopy Presentation State) - otherwise the
  whole request is refused with 403 and nothing is stored;
- its study must already exist in the archive for the same Patient ID (a report
  belongs to a study; doctors create no new patients or studies) and match the study
  in the URL, if given.

Accepted parts are stored through Orthanc's ``POST /instances``; the answer is a
STOW-RS response (``application/dicom+json``): 200 when all were stored, 202 when some
failed, 409 when none was stored. Standard library only; the Orthanc calls live in
klinika_token_filter.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REPORT_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.104.1": "Encapsulated PDF Storage",
    "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR Storage",
    "1.2.840.10008.5.1.4.1.1.88.59": "Key Object Selection Document Storage",
    "1.2.840.10008.5.1.4.1.1.11.1": "Grayscale Softcopy Presentation State Storage",
}

MAX_PARTS = 64
MAX_BODY_BYTES = 256 * 1024 * 1024
MAX_PART_HEADER_BYTES = 8192

# STOW-RS failure reasons (PS3.18 / PS3.4 status codes).
FAILURE_PROCESSING = 0x0110
FAILURE_STUDY_MISMATCH = 0xA900

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


class StowRequestError(Exception):
    """The request cannot be processed; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _content_type_params(value: str) -> tuple[str, dict[str, str]]:
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for m in re.finditer(r'\s*([A-Za-z0-9_-]+)\s*=\s*("([^"]*)"|[^;\s]*)\s*;?', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return main.strip().lower(), params


def split_multipart_related(content_type: str, body: bytes) -> list[bytes]:
    """The payloads of a ``multipart/related; type="application/dicom"`` body."""
    if len(body) > MAX_BODY_BYTES:
        raise StowRequestError(413, "request body too large")
    main, params = _content_type_params(content_type or "")
    if main != "multipart/related":
        raise StowRequestError(415, "expected multipart/related")
    if params.get("type", "application/dicom").lower() != "application/dicom":
        raise StowRequestError(415, "only application/dicom parts are accepted")
    boundary = params.get("boundary", "")
    if not 1 <= len(boundary) <= 70:
        raise StowRequestError(400, "missing or bad multipart boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    data = b"\r\n" + body  # so the first delimiter is preceded by CRLF like the others
    chunks = data.split(b"\r\n" + delimiter)
    if len(chunks) < 3:
        raise StowRequestError(400, "no parts in the multipart body")
    if not chunks[-1].startswith(b"--"):
        raise StowRequestError(400, "multipart body without its closing delimiter")
    payloads = []
    for chunk in chunks[1:-1]:
        if len(payloads) >= MAX_PARTS:
            raise StowRequestError(413, f"more than {MAX_PARTS} parts")
        payloads.append(_part_payload(chunk))
    return payloads


def _part_payload(chunk: bytes) -> bytes:
    # After the delimiter: optional transport padding, CRLF, headers, CRLF CRLF, payload.
    line_end = chunk.find(b"\r\n")
    if line_end < 0 or chunk[:line_end].strip(b" \t"):
        raise StowRequestError(400, "malformed multipart delimiter line")
    head_end = chunk.find(b"\r\n\r\n", line_end)
    if head_end < 0:
        head_end = line_end  # no headers at all: the blank line follows the delimiter
        if chunk[line_end : line_end + 4] != b"\r\n\r\n":
            raise StowRequestError(400, "multipart part without a header block")
    if head_end - line_end > MAX_PART_HEADER_BYTES:
        raise StowRequestError(400, "multipart part headers too large")
    headers = chunk[line_end + 2 : head_end].decode("latin-1").split("\r\n")
    for header in headers:
        name, _, value = header.partition(":")
        is_type = name.strip().lower() == "content-type"
        if is_type and _content_type_params(value)[0] != "application/dicom":
            raise StowRequestError(415, "only application/dicom parts are accepted")
    return chunk[head_end + 4 :]


@dataclass(frozen=True)
class ReportPart:
    """The identifying UIDs of one uploaded part, as Orthanc parsed them."""

    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    patient_id: str = ""

    @classmethod
    def from_orthanc_json(cls, tags: dict[str, Any]) -> ReportPart:
        """From Orthanc's instance JSON, keyed by lower-case ``gggg,eeee``.

        Values are either short (``"1.2..."``) or full (``{"Value": "1.2...", ...}``):
        orthanc-python 4.0 answers the full form whatever format is asked for.
        """

        def uid(tag: str) -> str:
            value = tags.get(tag)
            if isinstance(value, dict):
                value = value.get("Value")
            if not isinstance(value, str) or not _UID.match(value.strip()) or len(value) > 64:
                raise StowRequestError(400, f"instance without a valid ({tag})")
            return value.strip()

        patient = tags.get("0010,0020", "")
        if isinstance(patient, dict):
            patient = patient.get("Value", "")
        if not isinstance(patient, str) or len(patient) > 64:
            raise StowRequestError(400, "instance with a bad (0010,0020)")
        return cls(uid("0008,0016"), uid("0008,0018"), uid("0020,000d"), patient.strip())


def check_report_parts(parts: list[ReportPart], url_study: str | None) -> None:
    """Refuse the whole request (403) if any part is not a report."""
    for part in parts:
        if part.sop_class_uid not in REPORT_SOP_CLASSES:
            raise StowRequestError(
                403,
                f"SOP class {part.sop_class_uid} is not a report class; doctors upload reports only",
            )
    if url_study is not None and not _UID.match(url_study):
        raise StowRequestError(400, "bad StudyInstanceUID in the URL")


@dataclass
class StowResult:
    stored: list[ReportPart] = field(default_factory=list)
    failed: list[tuple[ReportPart, int]] = field(default_factory=list)

    @property
    def http_status(self) -> int:
        if not self.failed:
            return 200
        return 202 if self.stored else 409

    def to_json(self) -> bytes:
        def item(part: ReportPart, reason: int | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {
                "00081150": {"vr": "UI", "Value": [part.sop_class_uid]},
                "00081155": {"vr": "UI", "Value": [part.sop_instance_uid]},
            }
            if reason is not None:
                out["00081197"] = {"vr": "US", "Value": [reason]}
            return out

        doc: dict[str, Any] = {}
        if self.stored:
            doc["00081199"] = {"vr": "SQ", "Value": [item(p) for p in self.stored]}
        if self.failed:
            doc["00081198"] = {"vr": "SQ", "Value": [item(p, r) for p, r in self.failed]}
        return json.dumps(doc).encode("utf-8")


def handle_report_upload(
    content_type: str,
    body: bytes,
    url_study: str | None,
    parse: Callable[[bytes], ReportPart],
    study_exists: Callable[[str, str], bool],
    store: Callable[[bytes], bool],
) -> tuple[int, bytes]:
    """Process one report STOW-RS request; return (HTTP status, body).

    ``parse`` reads the UIDs of a DICOM part (Orthanc's parser inside Orthanc),
    ``study_exists(study_uid, patient_id)`` asks the archive, ``store`` stores one part and says whether it
    is now durable (stored or already stored).
    """
    try:
        payloads = split_multipart_related(content_type, body)
        parts = [parse(p) for p in payloads]
        check_report_parts(parts, url_study)
    except StowRequestError as exc:
        return exc.status, json.dumps({"error": str(exc)}).encode("utf-8")
    result = StowResult()
    known: dict[tuple[str, str], bool] = {}  # one archive lookup per study of the request
    for payload, part in zip(payloads, parts):
        wrong_study = url_study is not None and part.study_instance_uid != url_study
        key = (part.study_instance_uid, part.patient_id)
        if not wrong_study and key not in known:
            known[key] = study_exists(*key)
        if wrong_study or not known[key]:
            result.failed.append((part, FAILURE_STUDY_MISMATCH))
        elif store(payload):
            result.stored.append(part)
        else:
            result.failed.append((part, FAILURE_PROCESSING))
    return result.http_status, result.to_json()
