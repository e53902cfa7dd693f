"""Report sync benchmark: 100 signed reports through the outbox to the central side,
beside a plain STOW-RS of the same 100 instances to Orthanc, in the same run.

Started here on loopback: PostgreSQL, the central auth API on it (the report registry),
and two Orthancs on PostgreSQL indexes with the token filter trusting the auth API's
JWKS (one for ours, one for the peer, so neither sees the other's instances).

1. **Ours**: N reports are signed (PAdES B-LT, local timestamp; not timed), which
   queues N ``publish_report`` jobs; the timed part is the outbox draining them: per
   report, STOW-RS of its Encapsulated PDF through the doctors' report route with a
   doctor's token, then ``POST /reports/documents`` to the registry.
2. **Named peer**: STOW-RS of the same N Part-10 files to plain ``/dicom-web/studies``
   (dicomweb-client, operator token), one request per instance and in batches of 50.

    .venv/bin/python benchmarks/report_sync_bench.py [--reports N] [--json]

Everything shares this machine's cores: the ratio is the point, not the absolute time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
os.environ["WORKSTATION_SITE_CONFIG"] = str(ROOT / "tests" / "no-site-file.toml")
os.environ.setdefault("PYTHONPATH", str(ROOT))

from tests.harness.auth_api import AuthApiServer  # noqa: E402
from tests.harness.orthanc import TokenIssuer, build_loopback_shim, start_orthanc  # noqa: E402
from tests.harness.ports import free_port  # noqa: E402
from tests.harness.postgres import PostgresServer, _pg_bin  # noqa: E402

PASSPHRASE = "bench passphrase"


def _central(tmp: Path, servers: list[Any]) -> tuple[Any, ...]:
    """PostgreSQL, the auth API on it, two Orthancs; each is added to ``servers`` (to stop)
    as soon as it runs."""
    bindir = _pg_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found (Debian package postgresql)")
    pg_root = Path(tempfile.mkdtemp(prefix="klinika-pg-"))  # as the harness makes it
    pg = PostgresServer(bindir=bindir, root=pg_root, port=free_port())
    pg.start()
    servers.append(pg)
    (tmp / "auth").mkdir()
    auth = AuthApiServer(
        root=tmp / "auth", database_url=pg.new_database("registry"), name="bench_registry"
    )
    auth.start()
    servers.insert(0, auth)
    shim, issuer = build_loopback_shim(tmp), TokenIssuer()
    for name in ("ours", "peer"):
        servers.insert(
            0,
            start_orthanc(
                tmp / name, shim=shim, index="postgresql", postgres=pg, issuer=issuer,
                jwks_url=auth.jwks_url, name=name,
            ),
        )  # fmt: skip
    return pg, auth, servers[1], servers[0]


def _site(tmp: Path, ours: Any, auth: Any, n: int) -> tuple[Any, ...]:
    from tests.app.synthetic import write_study
    from tests.reports.conftest import session_for
    from workstation.auth.audit import AuditLog
    from workstation.auth.db import AuthDatabase
    from workstation.config import ensure_home, load_settings
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.sync.queue import SyncQueue
    from workstation.reports.store import ReportStore
    from workstation.services.report_actions import ReportActions
    from workstation.services.signing_actions import SigningActions

    os.environ["WORKSTATION_HOME"] = str(tmp / "home")
    settings = load_settings()
    settings = dataclasses.replace(
        settings,
        central=dataclasses.replace(
            settings.central, dicomweb_url=ours.dicomweb_url, auth_url=auth.url
        ),
        reports=dataclasses.replace(settings.reports, upstream_stow_url=ours.reports_url),
    )
    ensure_home(settings)
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    uid = write_study(tmp / "study", patient_name="BENCH^MARK", patient_id="B-1", images=2)
    http = ours.session("operator")
    for f in sorted((tmp / "study").iterdir()):
        archive.store_file(f)
        http.post(f"{ours.http_url}/instances", data=f.read_bytes(), timeout=60).raise_for_status()
    audit = AuditLog(db)
    SigningActions(session_for("ada"), audit, settings).ca_init("Bench Clinic")
    SigningActions(session_for("dora"), audit, settings).enroll(PASSPHRASE)
    queue = SyncQueue(archive.engine)
    actions = ReportActions(
        session_for("dora"), ReportStore(archive.engine), audit, settings,
        archive=archive, outbox=queue,
    )  # fmt: skip
    text = {"findings": "Lungs clear. " * 30, "impression": "No acute findings."}
    reports = [
        actions.sign(actions.create(uid, sections=text).report_id, PASSPHRASE) for _ in range(n)
    ]
    return settings, archive, db, queue, reports


def _drain(settings: Any, archive: Any, queue: Any, auth: Any) -> float:
    from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider
    from workstation.pacs_node.sync.jobs import ACTIVE_STATES, JobState
    from workstation.pacs_node.sync.remotes import remote_resolver
    from workstation.pacs_node.sync.worker import SyncWorker
    from workstation.services.report_upstream import register_report_upstream

    # The signer's own central login records the versions (the local signer is "dora").
    password = "Bench-" + secrets.token_urlsafe(18)
    auth.create_user("dora", password, "doctor")
    tokens = StaticTokenProvider(auth.login("dora", password)["access_token"])
    worker = SyncWorker(queue, archive, remote_resolver(settings, archive, tokens))
    register_report_upstream(worker, settings, tokens)
    t = time.perf_counter()
    while queue.jobs(states=ACTIVE_STATES, limit=1):
        if not worker.run_once() and time.perf_counter() - t > 600:
            raise SystemExit(f"the outbox did not drain: {queue.jobs(limit=1)[0].last_error}")
    elapsed = time.perf_counter() - t
    failed = queue.jobs(states=[JobState.FAILED])
    if failed:
        raise SystemExit(f"{len(failed)} report job(s) failed: {failed[0].last_error}")
    return elapsed


def _peer_stow(peer: Any, files: list[Path], batch: int) -> float:
    from workstation.pacs_node.dicomweb.client import DicomWebNode
    from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider

    node = DicomWebNode(
        peer.dicomweb_url, StaticTokenProvider(peer.token("operator")), stow_batch_instances=batch
    )
    t = time.perf_counter()
    result = node.send(files)
    elapsed = time.perf_counter() - t
    node.close()
    if result.failed_uids():
        raise SystemExit(f"peer STOW failed: {result.error}")
    return elapsed


def run(n: int) -> dict[str, Any]:
    from workstation.reports.encapsulated_pdf import report_instance_uid

    tmp = Path(tempfile.mkdtemp(prefix="klinika-report-sync-"))
    servers: list[Any] = []
    try:
        _pg, auth, ours, peer = _central(tmp, servers)
        settings, archive, db, queue, reports = _site(tmp, ours, auth, n)
        files = [archive.instance_file(report_instance_uid(r.report_id)) for r in reports]
        each = _peer_stow(peer, files, 1)
        # Again in batches of 50, after deleting them there (a repeat is cheaper).
        peer.session("admin").delete(
            f"{peer.http_url}/studies/{_orthanc_study(peer, reports[0].study_instance_uid)}",
            timeout=60,
        )
        batched = _peer_stow(peer, files, 50)
        outbox = _drain(settings, archive, queue, auth)
        registry = auth.request(
            "GET",
            f"/reports?study={reports[0].study_instance_uid}",
            token=auth.token_for("operator"),
        ).json()["reports"]
        archive.close()
        db.close()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if servers and isinstance(servers[-1], PostgresServer):
            shutil.rmtree(servers[-1].root, ignore_errors=True)
    return {
        "reports": n,
        "registry_records": len(registry),
        "outbox_stow_and_registry_s": round(outbox, 2),
        "outbox_ms_per_report": round(1000 * outbox / n, 1),
        "peer_plain_stow_one_per_request_s": round(each, 2),
        "peer_plain_stow_batches_of_50_s": round(batched, 2),
        "ratio_outbox_to_plain_stow_one_per_request": round(outbox / each, 2),
        "ratio_outbox_to_plain_stow_batched": round(outbox / batched, 2),
    }


def _orthanc_study(server: Any, study_uid: str) -> str:
    found = server.session("admin").post(
        f"{server.http_url}/tools/find",
        json={"Level": "Study", "Query": {"StudyInstanceUID": study_uid}},
        timeout=60,
    )
    found.raise_for_status()
    return str(found.json()[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = run(args.reports)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:>44}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
