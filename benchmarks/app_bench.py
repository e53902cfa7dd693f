"""Desktop app benchmark: start-up to the login window, and the study browser at scale.

Figures (medians of repeated runs, in one process tree, on this machine):

1. **Start-up**: ``workstation start`` as a user runs it (CLI, settings, logging, Qt,
   login dialog) until the login window is exposed, and until the engine behind it is
   ready for input.  Named peer: a bare ``python -c "import PySide6.QtWidgets"`` that
   shows an empty QWidget.  Target: shown in under 1.5 s.
2. **Search**: a real archive index with N synthetic studies (100,000; 10,000 with
   ``--quick``); the browser's ``LocalStudyModel`` answers typical searches (first page and
   the count).  Named peer: the same first page by a raw ``sqlite3`` SELECT on the same
   file.  Target: under 50 ms.
3. **Scrolling**: a real ``QTableView`` on the model (pages fetched in the background, as
   in the app) scrolled from top to bottom; frame times (p50/p99/max) and stalls (frames
   over 50 ms).

Run under a display (``xvfb-run -a``) or it uses Qt's offscreen platform::

    .venv/bin/python benchmarks/app_bench.py [--quick] [--studies N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


# -- 1. start-up ---------------------------------------------------------------------------
def _child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["WORKSTATION_HOME"] = str(home)
    env["WORKSTATION_SITE_CONFIG"] = str(home / "no-site.toml")
    env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
    env.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return env


def startup_workstation(home: Path) -> tuple[float, float]:
    """(seconds to login window shown, seconds to ready) for ``workstation start``."""
    out = home / "startup.json"
    out.unlink(missing_ok=True)
    env = _child_env(home)
    env["WORKSTATION_BENCH_STARTUP_FILE"] = str(out)
    t0 = time.time()
    subprocess.run(
        [PYTHON, "-m", "workstation", "start"],
        env=env,
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    data = json.loads(out.read_text())
    return data["shown"] - t0, data["ready"] - t0


PEER_CODE = """
import sys, time
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
w = QWidget(); w.resize(460, 270); w.show()
while not (w.windowHandle() and w.windowHandle().isExposed()):
    app.processEvents()
print(time.time())
"""


def startup_peer(home: Path) -> float:
    t0 = time.time()
    done = subprocess.run(
        [PYTHON, "-c", PEER_CODE],
        env=_child_env(home),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return float(done.stdout.strip().splitlines()[-1]) - t0


def bench_startup(runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="app-bench-start-") as tmp:
        home = Path(tmp)
        startup_workstation(home)  # first start creates the data directory: not counted
        shown, ready, peer = [], [], []
        for _ in range(runs):
            s, r = startup_workstation(home)
            shown.append(s)
            ready.append(r)
            peer.append(startup_peer(home))
    return {
        "shown_s": statistics.median(shown),
        "ready_s": statistics.median(ready),
        "peer_s": statistics.median(peer),
    }


# -- 2. a big archive index ----------------------------------------------------------------
SURNAMES = [
    "Ivanov",
    "Petrova",
    "Smith",
    "Garcia",
    "Müller",
    "Dubois",
    "Kowalski",
    "Rossi",
    "Nguyen",
    "Haddad",
    "Sokolov",
    "Johnson",
    "Fischer",
    "Moreau",
    "Novak",
    "Silva",
]
GIVEN = ["Anna", "Ivan", "John", "Maria", "Pierre", "Olga", "Jan", "Lucia", "Ahmed", "Mei"]
MODALITIES = ["CT", "MR", "CR", "DX", "US", "MG", "NM", "PT", "XA"]


def build_index(settings: Any, n: int, seed: int = 7) -> None:
    """Insert ``n`` synthetic studies (1-2 series each) straight into the index tables."""
    from sqlalchemy import insert

    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.models import Patient, Series, Study
    from workstation.pacs_node.archive.normalize import fold

    rng = random.Random(seed)
    archive = Archive.open(settings)
    patients, studies, series = [], [], []
    n_patients = max(1, n * 2 // 5)
    for p in range(1, n_patients + 1):
        name = f"{rng.choice(SURNAMES)}^{rng.choice(GIVEN)}^{p}"
        patients.append(
            {
                "id": p,
                "patient_id": f"P{p:07d}",
                "patient_name": name,
                "patient_name_key": fold(name),
                "birth_date": "19700101",
                "sex": "O",
            }
        )
    for s in range(1, n + 1):
        p = patients[rng.randrange(n_patients)]
        mods = rng.sample(MODALITIES, rng.choice((1, 1, 1, 2)))
        date = f"{rng.randint(2005, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        studies.append(
            {
                "id": s,
                "patient_pk": p["id"],
                "study_instance_uid": f"1.2.826.0.1.3680043.99.{s}",
                "patient_id": p["patient_id"],
                "patient_name_key": p["patient_name_key"],
                "study_date": date,
                "study_time": "101500",
                "accession_number": f"A{s:08d}",
                "study_id": str(s % 1000),
                "study_description": f"{mods[0]} study {s % 97}",
                "study_description_key": fold(f"{mods[0]} study {s % 97}"),
                "modalities_in_study": "\\\\".join(mods),
                "num_series": len(mods),
                "num_instances": 10 * len(mods),
                "size_bytes": 5_000_000,
            }
        )
        for m in mods:
            series.append(
                {
                    "study_pk": s,
                    "series_instance_uid": f"1.2.826.0.1.3680043.98.{s}.{m}",
                    "modality": m,
                    "series_number": 1,
                    "num_instances": 10,
                }
            )
    with archive.engine.begin() as conn:
        for table, rows in ((Patient, patients), (Study, studies), (Series, series)):
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table.__table__), rows[i : i + 5000])
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    archive.close()


# -- 3. the model: search and scroll -------------------------------------------------------
def _inline(fn: Any, ok: Any, fail: Any) -> None:
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - reported by the model
        fail(exc)
        return
    ok(result)


QUERIES = {
    "all, newest first": {},
    "name contains 'ivan'": {"patient_name": "ivan"},
    "patient ID exact": {"patient_id": "P0000042"},
    "CT in 2019": {"modality": "CT", "date_from": "20190101", "date_to": "20191231"},
    "accession exact": {"accession_number": "A00004242"},
    "sorted by name": {"sort": "patient_name", "descending": False},
}


def bench_search(settings: Any, reps: int) -> dict[str, Any]:
    """Time to the first page (what the user waits for) and, separately, the count the
    model asks for in the background; both run inline here so nothing else interferes."""
    from workstation.app.study_model import LocalStudyModel
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.queries import StudyQuery

    archive = Archive.open(settings)
    actions = _unguarded_actions(archive)
    model = LocalStudyModel(actions.search, actions.count, runner=_inline)
    loaded: list[float] = []
    model.sig_loaded.connect(lambda: loaded.append(time.perf_counter()))
    out: dict[str, Any] = {}
    for label, fields in QUERIES.items():
        q = StudyQuery(**fields)
        page, whole = [], []
        for _ in range(reps):
            t = time.perf_counter()
            model.set_query(q)  # the first page (sig_loaded), then the count
            page.append(loaded[-1] - t)
            whole.append(time.perf_counter() - t)
        out[label] = {
            "ms": statistics.median(page) * 1e3,
            "count_ms": (statistics.median(whole) - statistics.median(page)) * 1e3,
            "rows": model.rowCount(),
            "total": model.total,
        }
    out["_peer_ms"] = _raw_sqlite_page(settings, reps)
    archive.close()
    return out


def _unguarded_actions(archive: Any) -> Any:
    """StudyActions with an admin session (the guard is part of what we measure)."""
    from workstation.auth.audit import AuditLog
    from workstation.auth.db import AuthDatabase
    from workstation.auth.permissions import Role
    from workstation.auth.session import Session, SessionMode
    from workstation.services.jobs import JobRegistry
    from workstation.services.study_actions import StudyActions

    session = Session(
        username="bench",
        user_id="0",
        role=Role.ADMIN,
        mode=SessionMode.STANDALONE,
        keyring_available=False,
        started_at=0.0,
    )
    audit = AuditLog(AuthDatabase.from_settings(archive.settings))
    return StudyActions(session, archive, audit, JobRegistry(max_workers=1))


def _raw_sqlite_page(settings: Any, reps: int) -> float:
    from workstation.app.study_model import PAGE_SIZE

    path = settings.database_url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    sql = (
        "SELECT s.*, p.patient_name FROM studies s JOIN patients p ON p.id = s.patient_pk "
        f"ORDER BY s.study_date DESC, s.study_time DESC, s.id DESC LIMIT {PAGE_SIZE}"
    )
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    con.close()
    assert len(rows) == PAGE_SIZE
    return statistics.median(times) * 1e3


def bench_scroll(settings: Any, steps: int) -> dict[str, float]:
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication, QTableView

    from workstation.app.study_model import LocalStudyModel
    from workstation.app.thumbnails import ThumbnailCache
    from workstation.app.workers import wait_for_background
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.queries import StudyQuery

    app = QApplication.instance()
    archive = Archive.open(settings)
    actions = _unguarded_actions(archive)
    thumbs = ThumbnailCache(lambda _key: None)
    model = LocalStudyModel(actions.search, actions.count, thumbs)
    view = QTableView()
    view.setModel(model)
    view.setIconSize(QSize(56, 56))
    view.verticalHeader().setDefaultSectionSize(62)
    view.resize(1100, 700)
    view.show()
    model.set_query(StudyQuery())
    deadline = time.monotonic() + 30
    while model.rowCount() == 0 and time.monotonic() < deadline:
        app.processEvents()
    bar = view.verticalScrollBar()
    frames = []
    for _ in range(steps):
        t = time.perf_counter()
        bar.setValue(bar.value() + max(1, bar.pageStep() // 2))
        view.viewport().repaint()
        app.processEvents()
        frames.append(time.perf_counter() - t)
    rows = model.rowCount()
    view.close()
    wait_for_background(10_000)
    archive.close()
    frames.sort()
    return {
        "frames": len(frames),
        "p50_ms": frames[len(frames) // 2] * 1e3,
        "p99_ms": frames[int(len(frames) * 0.99) - 1] * 1e3,
        "max_ms": frames[-1] * 1e3,
        "stalls_over_50ms": sum(f > 0.05 for f in frames),
        "rows_loaded": rows,
    }


# -- main ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small and fast (for tests)")
    parser.add_argument("--studies", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    n = args.studies or (10_000 if args.quick else 100_000)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    results: dict[str, Any] = {"studies": n}
    results["startup"] = bench_startup(runs=2 if args.quick else 5)
    with tempfile.TemporaryDirectory(prefix="app-bench-index-") as tmp:
        os.environ["WORKSTATION_HOME"] = tmp
        os.environ["WORKSTATION_SITE_CONFIG"] = str(Path(tmp) / "no-site.toml")
        from workstation.config import ensure_home, load_settings

        settings = load_settings(home=Path(tmp))
        ensure_home(settings)
        t = time.perf_counter()
        build_index(settings, n)
        results["index_build_s"] = time.perf_counter() - t
        results["search"] = bench_search(settings, reps=3 if args.quick else 9)
        results["scroll"] = bench_scroll(settings, steps=150 if args.quick else 800)
    del app
    report(results)
    if args.json:
        print(json.dumps(results, indent=2, default=float))
    return 0


def report(r: dict[str, Any]) -> None:
    s = r["startup"]
    print(
        f"start-up: login window shown {s['shown_s'] * 1e3:.0f} ms "
        f"(ready for input {s['ready_s'] * 1e3:.0f} ms); peer bare PySide6 window "
        f"{s['peer_s'] * 1e3:.0f} ms; ratio {s['shown_s'] / s['peer_s']:.2f}x "
        f"[target < 1500 ms: {'met' if s['shown_s'] < 1.5 else 'MISSED'}]"
    )
    print(f"index: {r['studies']:,} synthetic studies built in {r['index_build_s']:.1f} s")
    peer = r["search"]["_peer_ms"]
    for label, v in r["search"].items():
        if label.startswith("_"):
            continue
        print(
            f"search {label:<22} {v['ms']:7.1f} ms to the first page ({v['rows']} rows); "
            f"ratio to raw sqlite3 page {v['ms'] / peer:.1f}x "
            f"[target < 50 ms: {'met' if v['ms'] < 50 else 'MISSED'}]; "
            f"count of {v['total']:,} in the background {v['count_ms']:.0f} ms"
        )
    print(f"peer: raw sqlite3 first page (same page size, newest first) {peer:.1f} ms")
    sc = r["scroll"]
    print(
        f"scroll: {sc['frames']} steps, frame p50 {sc['p50_ms']:.1f} ms, p99 "
        f"{sc['p99_ms']:.1f} ms, max {sc['max_ms']:.1f} ms, {sc['stalls_over_50ms']} "
        f"stalls > 50 ms, {sc['rows_loaded']:,} rows paged in"
    )


if __name__ == "__main__":
    sys.exit(main())
