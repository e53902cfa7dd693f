"""Report sync benchmark: 100 signed reports through the outbox to the central side,
beside a plain STOW-RS of the same 100 instances to Orthanc, in the same run.

Started here on loopback: PostgreSQL, the central auth API on it (the report registry),
and two Orthancs on PostgreSQL indexes with the token filter trusting the auth API's
JWKS (one for ours, one for the peer, so neither sees the other's instances).

1. **Ours**: N reports over S studies are signed (PAdES B-LT, local timestamp; not
   timed), which queues N ``publish_report`` jobs; the timed part is the outbox
   draining them.  Four times in the same run, each time with N fresh reports:

   - *unbatched* (before batching), one worker thread and ``--threads`` threads: per
     report, ``POST /reports/documents`` to the registry, then STOW-RS of its
     Encapsulated PDF through the doctors' report route with a doctor's token;
   - *batched* (now), one thread and ``--threads`` threads: up to 50 jobs per run, one
     ``POST /reports/documents/batch`` and one STOW-RS of their instances.
2. **Named peer**: STOW-RS of the same N Part-10 files to plain ``/dicom-web/studies``
   (dicomweb-client, operator token), one request per instance and in batches of 50.

    .venv/bin/python benchmarks/report_sync_bench.py [--reports N] [--studies S]
        [--threads T] [--json]

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


def _site(tmp: Path, ours: Any, auth: Any, n: int, n_studies: int) -> tuple[Any, ...]:
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
    http = ours.session("operator")
    studies = []
    for i in range(n_studies):
        folder = tmp / f"study{i}"
        studies.append(
            write_study(folder, patient_name="BENCH^MARK", patient_id=f"B-{i}", images=1)
        )
        for f in sorted(folder.iterdir()):
            archive.store_file(f)
            rsp = http.post(f"{ours.http_url}/instances", data=f.read_bytes(), timeout=60)
            rsp.raise_for_status()
    audit = AuditLog(db)
    # Signed with the site CA here (not timed); the central auth URL is the registry's.
    signing = dataclasses.replace(
        settings, central=dataclasses.replace(settings.central, auth_url="")
    )
    SigningActions(session_for("ada"), audit, signing).ca_init("Bench Clinic")
    SigningActions(session_for("dora"), audit, signing).enroll(PASSPHRASE)
    queue = SyncQueue(archive.engine)
    actions = ReportActions(
        session_for("dora"), ReportStore(archive.engine), audit, signing,
        archive=archive, outbox=queue,
    )  # fmt: skip
    text = {"findings": "Lungs clear. " * 30, "impression": "No acute findings."}

    def sign(count: int) -> list[Any]:
        return [
            actions.sign(
                actions.create(studies[i % n_studies], sections=text).report_id, PASSPHRASE
            )
            for i in range(count)
        ]

    return settings, archive, db, queue, sign


def _signer_token(auth: Any) -> str:
    """The signer's own central login records the versions (the local signer is "dora")."""
    password = getattr(auth, "bench_dora_password", "")
    if not password:
        password = auth.bench_dora_password = "Bench-" + secrets.token_urlsafe(18)
        auth.create_user("dora", password, "doctor")
    return str(auth.login("dora", password)["access_token"])


def _drain(
    settings: Any, archive: Any, queue: Any, auth: Any, threads: int, batched: bool
) -> float:
    from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider
    from workstation.pacs_node.sync.jobs import ACTIVE_STATES, JobState
    from workstation.pacs_node.sync.remotes import remote_resolver
    from workstation.pacs_node.sync.worker import SyncWorker
    from workstation.services.report_upstream import (
        PUBLISH_REPORT,
        ReportPublisher,
        register_report_upstream,
    )

    tokens = StaticTokenProvider(_signer_token(auth))
    worker = SyncWorker(
        queue, archive, remote_resolver(settings, archive, tokens), poll_s=0.01,
        concurrency=threads,
    )  # fmt: skip
    register_report_upstream(worker, settings, tokens)
    if not batched:  # one job per run: one registry call and one STOW per report
        worker.register(PUBLISH_REPORT, ReportPublisher(settings, tokens))
    t = time.perf_counter()
    if threads == 1:  # this thread runs one job (or batch) after the other
        while queue.jobs(states=ACTIVE_STATES, limit=1):
            if not worker.run_once() and time.perf_counter() - t > 600:
                raise SystemExit(f"the outbox did not drain: {queue.jobs(limit=1)[0].last_error}")
    else:
        worker.start()
        try:
            while queue.jobs(states=ACTIVE_STATES, limit=1):
                if time.perf_counter() - t > 600:
                    raise SystemExit("the outbox did not drain")
                time.sleep(0.005)
        finally:
            worker.stop()
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


def run(n: int, n_studies: int, threads: int) -> dict[str, Any]:
    from workstation.reports.encapsulated_pdf import report_instance_uid

    tmp = Path(tempfile.mkdtemp(prefix="klinika-report-sync-"))
    servers: list[Any] = []
    try:
        _pg, auth, ours, peer = _central(tmp, servers)
        settings, archive, db, queue, sign = _site(tmp, ours, auth, n, n_studies)
        reports = sign(n)
        files = [archive.instance_file(report_instance_uid(r.report_id)) for r in reports]
        each = _peer_stow(peer, files, 1)
        # Again in batches of 50, after deleting them there (a repeat is cheaper).
        for study in {r.study_instance_uid for r in reports}:
            peer.session("admin").delete(
                f"{peer.http_url}/studies/{_orthanc_study(peer, study)}", timeout=60
            )
        batched = _peer_stow(peer, files, 50)
        outbox: dict[str, float] = {}
        for mode, count, is_batched in (
            ("unbatched_1_thread", 1, False), (f"unbatched_{threads}_threads", threads, False),
            ("batched_1_thread", 1, True), (f"batched_{threads}_threads", threads, True),
        ):  # fmt: skip
            if outbox:
                reports += sign(n)  # fresh reports for each run
            outbox[mode] = _drain(settings, archive, queue, auth, count, is_batched)
        registry = [
            record
            for study in {r.study_instance_uid for r in reports}
            for record in auth.request(
                "GET", f"/reports?study={study}", token=auth.token_for("operator")
            ).json()["reports"]
        ]
        archive.close()
        db.close()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if servers and isinstance(servers[-1], PostgresServer):
            shutil.rmtree(servers[-1].root, ignore_errors=True)
    result: dict[str, Any] = {
        "reports": n,
        "studies": n_studies,
        "reports_signed_all_runs": len(reports),
        "registry_revisions_all_runs": sum(len(r["revisions"]) for r in registry),
        "peer_plain_stow_one_per_request_s": round(each, 2),
        "peer_plain_stow_batches_of_50_s": round(batched, 2),
    }
    for mode, seconds in outbox.items():
        result[f"outbox_{mode}_s"] = round(seconds, 2)
        result[f"outbox_{mode}_ms_per_report"] = round(1000 * seconds / n, 1)
    for mode, seconds in outbox.items():
        result[f"ratio_{mode}_to_plain_stow_one_per_request"] = round(seconds / each, 2)
        result[f"ratio_{mode}_to_plain_stow_batched"] = round(seconds / batched, 2)
    return result


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
    ap.add_argument("--studies", type=int, default=20, help="the reports spread over these")
    ap.add_argument("--threads", type=int, default=4, help="outbox worker threads (2nd run)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = run(args.reports, max(1, args.studies), max(1, args.threads))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:>44}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
