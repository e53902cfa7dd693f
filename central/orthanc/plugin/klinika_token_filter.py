"""Orthanc entry point (``"PythonScript"``): bearer-token and role checks on every HTTP request.

Loaded by the orthanc-python plugin, which puts this folder on ``sys.path``. It

- registers an incoming-HTTP-request filter: every REST, DICOMweb and WADO request
  needs ``Authorization: Bearer <RS256 JWT>`` from the central auth API and a role the
  rule table (klinika_access.RULES) allows; Orthanc answers 403 otherwise;
- registers ``POST /klinika/reports/studies[/{study}]``, the doctors' report upload
  (klinika_reports);
- forwards Python logging to Orthanc's log.

If the configuration is unusable the filter still registers and denies everything.
DIMSE is not HTTP: it is locked by ``DicomModalities`` in the configuration.
"""

from __future__ import annotations

import json
import logging

from klinika_access import ORTHANC_METHODS
from klinika_filter import TokenFilter, Verdict
from klinika_reports import ReportPart, StowRequestError, handle_report_upload

import orthanc  # provided by the orthanc-python plugin

logger = logging.getLogger("klinika_token_filter")


class _OrthancLogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = "klinika: " + self.format(record)
            if record.levelno >= logging.ERROR:
                orthanc.LogError(text)
            elif record.levelno >= logging.WARNING:
                orthanc.LogWarning(text)
            else:
                orthanc.LogInfo(text)
        except Exception:  # noqa: BLE001 - logging must never break a request
            pass


def _install_logging() -> None:
    root = logging.getLogger()
    root.handlers[:] = [_OrthancLogHandler()]
    root.setLevel(logging.INFO)


def _load_filter() -> TokenFilter | None:
    try:
        return TokenFilter.from_config(json.loads(orthanc.GetConfiguration()))
    except Exception:  # refuse everything rather than run unchecked
        logger.exception("token filter configuration unusable: every HTTP request is denied")
        return None


_install_logging()
_FILTER = _load_filter()


def _on_http_request(uri: str, **request: object) -> bool:
    if _FILTER is None:
        return False
    headers = request.get("headers")
    verdict: Verdict = _FILTER.check(
        request.get("method", 0),  # type: ignore[arg-type]
        uri,
        headers if isinstance(headers, dict) else {},
    )
    if not verdict.allowed:
        method = request.get("method")
        logger.warning(
            "denied %s %s: %s (sub=%s role=%s ip=%s)",
            ORTHANC_METHODS.get(method, method),  # type: ignore[call-overload]
            uri,
            verdict.reason,
            verdict.subject,
            verdict.role,
            request.get("ip"),
        )
    return verdict.allowed


def _parse_part(payload: bytes) -> ReportPart:
    try:
        instance = orthanc.CreateDicomInstance(payload)
        tags = json.loads(
            instance.GetInstanceJson(
                orthanc.DicomToJsonFormat.SHORT, orthanc.DicomToJsonFlags.NONE, 256
            )
        )
    except Exception as exc:  # Orthanc's parser refused the part
        raise StowRequestError(400, "a part is not a DICOM instance") from exc
    return ReportPart.from_orthanc_json({k.lower(): v for k, v in tags.items()})


def _study_exists(study_uid: str, patient_id: str) -> bool:
    """Does the archive hold this study for exactly this Patient ID?"""
    query = {"Level": "Study", "Query": {"StudyInstanceUID": study_uid}, "Expand": True}
    try:
        studies = json.loads(orthanc.RestApiPost("/tools/find", json.dumps(query)))
    except Exception:  # the index could not answer: treat as unknown
        logger.exception("study lookup failed")
        return False
    return any(
        s.get("PatientMainDicomTags", {}).get("PatientID", "") == patient_id for s in studies
    )


def _store(payload: bytes) -> bool:
    try:
        answer = json.loads(orthanc.RestApiPost("/instances", payload))
    except Exception:  # Orthanc refused to store it
        logger.exception("report instance not stored")
        return False
    return answer.get("Status") in ("Success", "AlreadyStored")


def _on_report_upload(output: object, uri: str, **request: object) -> None:
    if request.get("method") != "POST":
        output.SendMethodNotAllowed("POST")  # type: ignore[attr-defined]
        return
    headers = request.get("headers") or {}
    groups = request.get("groups") or ("",)
    url_study = (groups[0] or "").strip("/") or None  # type: ignore[index]
    status, body = handle_report_upload(
        headers.get("content-type", ""),  # type: ignore[union-attr]
        request.get("body") or b"",  # type: ignore[arg-type]
        url_study,
        _parse_part,
        _study_exists,
        _store,
    )
    logger.info("report upload to %s: HTTP %d", uri, status)
    if status == 200:
        output.AnswerBuffer(body, "application/dicom+json")  # type: ignore[attr-defined]
        return
    # A STOW-RS answer (202 some stored, 409 none) is DICOM JSON; a refused request's is
    # {"error": ...}.  Without the header a client cannot read a 202's failed parts.
    stow_answer = status in (202, 409) and not body.startswith(b'{"error"')
    media = "application/dicom+json" if stow_answer else "application/json"
    output.SetHttpHeader("Content-Type", media)  # type: ignore[attr-defined]
    output.SendHttpStatus(status, body.decode("utf-8"), len(body))  # type: ignore[attr-defined]


orthanc.RegisterIncomingHttpRequestFilter(_on_http_request)
orthanc.RegisterRestCallback("/klinika/reports/studies(/[^/]+)?", _on_report_upload)
