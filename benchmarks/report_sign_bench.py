"""Report benchmark: render + sign (PAdES B-LT) + write, against pyHanko on a bare page.

Figures (medians of N runs in one process, on this machine):

1. **Ours**: ``ReportActions.sign`` on a fresh draft in a real archive database: render
   the report (DejaVu embedded, patient block, fields, signer block), check the
   certificate against the site CA and its CRL, sign PAdES B-LT with the local RFC 3161
   timestamp and the validation data in the signed revision, store the PDF and its
   SHA-256 with the version.  Target: under 1 s.
2. **Named peer**: pyHanko alone signing a one-page reportlab PDF ("Hello") with the same
   key and timestamper, B-B and B-T, no database, no rendering: the floor our work sits on.

    .venv/bin/python benchmarks/report_sign_bench.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def _bare_pdf() -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    c = Canvas(out)
    c.drawString(100, 750, "Hello")
    c.save()
    return out.getvalue()


def _peer(signer: Any, stamper: Any, runs: int) -> dict[str, float]:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    pdf = _bare_pdf()
    out: dict[str, float] = {}
    for label, ts in (("pyhanko_bb_ms", None), ("pyhanko_bt_ms", stamper)):
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            meta = signers.PdfSignatureMetadata(
                field_name="Sig", subfilter=fields.SigSeedSubFilter.PADES
            )
            w = IncrementalPdfFileWriter(io.BytesIO(pdf))
            asyncio.run(
                signers.PdfSigner(meta, signer=signer, timestamper=ts).async_sign_pdf(
                    w, output=io.BytesIO()
                )
            )
            samples.append(time.perf_counter() - t)
        out[label] = _median_ms(samples)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WORKSTATION_HOME"] = str(Path(tmp) / "home")
        os.environ["WORKSTATION_SITE_CONFIG"] = str(ROOT / "tests" / "no-site-file.toml")
        result = _run(Path(tmp), args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")
    return 0


def _run(tmp: Path, runs: int) -> dict[str, Any]:
    from tests.app.synthetic import write_study
    from tests.reports.conftest import session_for
    from workstation.auth.audit import AuditLog
    from workstation.auth.db import AuthDatabase
    from workstation.config import ensure_home, load_settings
    from workstation.pacs_node.archive.archive import Archive
    from workstation.reports.keystore import SigningHome
    from workstation.reports.store import ReportStore
    from workstation.services.report_actions import ReportActions
    from workstation.services.signing_actions import SigningActions

    settings = load_settings()
    ensure_home(settings)
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    uid = write_study(tmp / "study", patient_name="BENCH^MARK", patient_id="B-1", images=2)
    for f in sorted((tmp / "study").iterdir()):
        archive.store_file(f)
    audit = AuditLog(db)
    SigningActions(session_for("ada"), audit, settings).ca_init("Bench Clinic")
    SigningActions(session_for("dora"), audit, settings).enroll("bench passphrase")
    actions = ReportActions(
        session_for("dora"), ReportStore(archive.engine), audit, settings, archive=archive
    )
    text = {"findings": "Lunge frei. " * 40, "impression": "Kein Befund."}
    actions.sign(actions.create(uid, "ct_chest", "de", text).report_id, "bench passphrase")  # warm
    ours = []
    for _ in range(runs):
        draft = actions.create(uid, "ct_chest", "de", text, {"nodule_size": "4.5"})
        t = time.perf_counter()
        actions.sign(draft.report_id, "bench passphrase")
        ours.append(time.perf_counter() - t)
    home = SigningHome(settings.signing_dir)
    signer = home.signer("dora", "bench passphrase").cms_signer()
    peer = _peer(signer, home.timestamper(), runs)
    archive.close()
    db.close()
    return {"runs": runs, "render_sign_write_ms": _median_ms(ours), **peer}


if __name__ == "__main__":
    sys.exit(main())
