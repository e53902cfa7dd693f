"""A signed report's FHIR R4 DiagnosticReport: built, checked by the independent npm
``fhir`` validator (offline), refused with a status outside the value set, and POSTed
through the outbox to a real HTTP server in this test."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.reports.conftest import Site
from tests.reports.outbox_site import (
    outbox_actions,
    outbox_worker,
    run_until,
    sign_new,
    with_reports,
)
from workstation.pacs_node.sync.jobs import JobState
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.reports.encapsulated_pdf import report_instance_uid, study_header
from workstation.reports.fhir_report import FhirStatusError, build_diagnostic_report

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR_JS = Path(__file__).with_name("fhir_validate.js")


def _validator_modules() -> Path:
    """node_modules holding the npm ``fhir`` package (scripts/test.sh installs it)."""
    env = os.environ.get("KLINIKA_FHIR_VALIDATOR")
    modules = Path(env) if env else ROOT / ".helpers" / "fhir-validator" / "node_modules"
    if shutil.which("node") is None or not (modules / "fhir").is_dir():
        pytest.skip("node or the npm fhir package is not installed (scripts/test.sh)")
    return modules


def fhir_validate(resource: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    modules = _validator_modules()
    path = tmp_path / "resource.json"
    path.write_text(json.dumps(resource))
    done = subprocess.run(
        ["node", str(VALIDATOR_JS), str(path)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "NODE_PATH": str(modules)}, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return dict(json.loads(done.stdout))


class FhirServer:
    """A small FHIR endpoint: records each POST and answers the status asked for."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[int] = [201]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers),
                     "body": json.loads(self.rfile.read(length))}
                )  # fmt: skip
                status = outer.answers.pop(0) if len(outer.answers) > 1 else outer.answers[0]
                body = json.dumps(
                    {"resourceType": "OperationOutcome",
                     "issue": [{"severity": "error", "code": "invalid",
                                "diagnostics": f"answer {status}"}]}
                    if status >= 400 else {"resourceType": "DiagnosticReport", "id": "1"}
                ).encode()  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    server = FhirServer()
    yield server
    server.close()


def test_diagnostic_report_validates_and_signed_is_refused(
    signing_site: Site, tmp_path: Path
) -> None:
    doctor = signing_site.reports("dora")
    draft = doctor.create(
        signing_site.study_uid, language="ru",
        sections={"findings": "Норма.", "impression": "Патологии не выявлено."},
    )  # fmt: skip
    report = doctor.sign(draft.report_id)
    pdf = signing_site.store.pdf(report.report_id)
    assert pdf is not None
    header = study_header(signing_site.archive, signing_site.study_uid)
    sop = report_instance_uid(report.report_id)
    resource = build_diagnostic_report(report, pdf, header, sop_instance_uid=sop)
    assert resource["status"] == "final" and resource["language"] == "ru"
    assert resource["code"]["coding"][0]["code"] == "18748-4"
    assert resource["conclusion"] == "Патологии не выявлено."
    assert resource["subject"]["identifier"]["value"] == "R-1"
    study_ref = resource["imagingStudy"][0]["identifier"]["value"]
    assert study_ref == f"urn:oid:{signing_site.study_uid}"
    assert resource["resultsInterpreter"][0]["display"] == "dora"
    form = resource["presentedForm"][0]
    assert base64.b64decode(form["data"]) == pdf and form["size"] == len(pdf)
    assert base64.b64decode(form["hash"]) == hashlib.sha1(pdf).digest()

    verdict = fhir_validate(resource, tmp_path)
    errors = [m for m in verdict["messages"] if m["severity"] == "error"]
    assert verdict["valid"] is True and not errors, errors

    with pytest.raises(FhirStatusError):
        build_diagnostic_report(report, pdf, header, sop_instance_uid=sop, status="signed")
    # The independent validator agrees that "signed" is no DiagnosticReport status.
    refused = fhir_validate({**resource, "status": "signed"}, tmp_path)
    assert refused["valid"] is False
    assert any(m["location"] == "DiagnosticReport.status" for m in refused["messages"])


def test_outbox_posts_the_report_retries_5xx_and_fails_on_4xx(
    signing_site: Site, fhir_server: FhirServer
) -> None:
    site = with_reports(signing_site, fhir_enabled=True, fhir_base_url=fhir_server.url)
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(site, queue)
    fhir_server.answers = [503, 201]
    first = sign_new(doctor, site.study_uid)
    (job_id,) = [j.id for j in queue.jobs() if j.kind == "report_fhir"]
    worker = outbox_worker(site, queue)
    job = run_until(worker, queue, job_id, JobState.DONE)
    assert job.attempts == 2 and len(fhir_server.requests) == 2
    posted = fhir_server.requests[-1]
    assert posted["path"] == "/fhir/DiagnosticReport"
    assert posted["headers"]["Content-Type"] == "application/fhir+json"
    sop = report_instance_uid(first.report_id)
    assert posted["headers"]["If-None-Exist"] == f"identifier=urn:dicom:uid|urn:oid:{sop}"
    body = posted["body"]
    assert body["resourceType"] == "DiagnosticReport" and body["status"] == "final"
    pdf = site.store.pdf(first.report_id)
    assert base64.b64decode(body["presentedForm"][0]["data"]) == pdf

    amendment = doctor.amend(first.report_id, "Side corrected")
    doctor.sign(amendment.report_id)
    fhir_server.answers = [422]
    second = max(j.id for j in queue.jobs() if j.kind == "report_fhir")
    job = run_until(worker, queue, second, JobState.FAILED)
    assert "422" in job.last_error and "answer 422" in job.last_error
    assert fhir_server.requests[-1]["body"]["status"] == "amended"


def test_hl7_and_fhir_are_off_by_default(signing_site: Site) -> None:
    queue = SyncQueue(signing_site.archive.engine)
    sign_new(outbox_actions(signing_site, queue), signing_site.study_uid)
    # A standalone site: no central archive, RIS or FHIR server, so nothing is queued.
    assert queue.jobs() == []
