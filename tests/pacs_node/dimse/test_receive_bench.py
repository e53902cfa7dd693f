"""The receive/retrieve benchmark runs in quick mode and reports figures and ratios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pacs_node.dimse.conftest import needs

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.dcmtk, pytest.mark.slow]


def test_quick_benchmark_reports_rates_and_ratios(orthanc_loopback_shim: Path) -> None:
    needs("storescu", "storescp", "getscu")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "receive_vs_peers.py"), "--quick", "--json",
         "--streams", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["instances"] == 60 and report["instance_bytes"] > 500_000
    assert set(report["receive"]) == {"1_stream", "2_streams"}
    for row in report["receive"].values():
        for receiver in ("dcmtk_storescp", "orthanc_postgresql", "our_scp"):
            assert row[receiver] > 0
        assert row["ratio_ours_over_orthanc"] == pytest.approx(
            row["our_scp"] / row["orthanc_postgresql"], rel=0.05
        )
    retrieve = report["retrieve_from_orthanc"]
    assert set(retrieve) == {"c_move", "c_get", "wado_rs"}
    assert all(v > 0 for row in retrieve.values() for v in row.values())
