"""Study search over 100,000 studies: the archive index vs a naive in-memory scan.

Fills a fresh archive index (SQLite, the default) with N synthetic studies (Latin and
Cyrillic names, dates over 10 years, 1-3 series of mixed modalities) by bulk insert,
then times ``Archive.find_studies`` for typical study-browser searches (first page of
100, median of 7 runs) against the same search done by a plain Python scan over the
same rows held in memory (fnmatch on folded names, sort, slice): what a workstation
without an index would do.  Target: every search under 50 ms.  ``--quick`` uses 20,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SURNAMES = [
    "IVANOV",
    "PETROV",
    "SIDOROV",
    "SMIRNOV",
    "KUZNETSOV",
    "MÜLLER",
    "SCHMIDT",
    "GARCIA",
    "MARTIN",
    "BERNARD",
    "ROSSI",
    "NOVAK",
    "Иванов",
    "Петров",
    "Сидоров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
]
GIVEN = ["IVAN", "ANNA", "OLGA", "JÜRGEN", "MARIA", "PIERRE", "Иван", "Анна", "Ольга", "Пётр"]
MODALITIES = ["CT", "MR", "CR", "US", "DX", "MG", "PT", "NM", "SR"]
DESCRIPTIONS = ["CHEST", "HEAD", "ABDOMEN", "KNEE", "SPINE", "Грудная клетка", "Голова"]


def populate(archive: Any, n: int, seed: int = 1) -> list[dict[str, Any]]:
    from sqlalchemy import insert

    from workstation.pacs_node.archive.models import Patient, Series, Study, utcnow
    from workstation.pacs_node.archive.normalize import fold

    rng = random.Random(seed)
    now = utcnow()
    patients, studies, series, rows = [], [], [], []
    n_patients = max(1, n // 2)
    for p in range(1, n_patients + 1):
        name = f"{rng.choice(SURNAMES)}{rng.randint(1, 999)}^{rng.choice(GIVEN)}"
        patients.append(
            {
                "id": p,
                "patient_id": f"P{p:07d}",
                "patient_name": name,
                "patient_name_key": fold(name),
                "birth_date": f"19{rng.randint(30, 99)}0101",
                "sex": rng.choice("MF"),
                "issuer_of_patient_id": "",
                "created_at": now,
            }
        )
    start = dt.date(2015, 1, 1)
    series_id = 0
    for s in range(1, n + 1):
        pat = patients[rng.randrange(n_patients)]
        date = (start + dt.timedelta(days=rng.randrange(3650))).strftime("%Y%m%d")
        desc = rng.choice(DESCRIPTIONS)
        mods = sorted(set(rng.sample(MODALITIES, rng.randint(1, 3))))
        studies.append(
            {
                "id": s,
                "patient_pk": pat["id"],
                "study_instance_uid": f"2.25.{s}",
                "patient_id": pat["patient_id"],
                "patient_name_key": pat["patient_name_key"],
                "study_date": date,
                "study_time": "120000",
                "accession_number": f"ACC{s:08d}",
                "study_id": "1",
                "study_description": desc,
                "study_description_key": fold(desc),
                "referring_physician": "",
                "referring_physician_key": "",
                "institution_name": "",
                "modalities_in_study": "\\".join(mods),
                "character_set": "ISO_IR 192",
                "num_series": len(mods),
                "num_instances": 10 * len(mods),
                "size_bytes": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        for m in mods:
            series_id += 1
            series.append(
                {
                    "id": series_id,
                    "study_pk": s,
                    "series_instance_uid": f"2.25.{s}.{series_id}",
                    "modality": m,
                    "num_instances": 10,
                    "created_at": now,
                }
            )
        rows.append({**studies[-1], "patient_name": pat["patient_name"], "modalities": mods})

    def load(conn: Any) -> None:
        for table, data in ((Patient, patients), (Study, studies), (Series, series)):
            for i in range(0, len(data), 5000):
                conn.execute(insert(table.__table__), data[i : i + 5000])

    archive.write_call(load)
    with archive.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return rows


def naive_search(rows: list[dict[str, Any]], q: Any) -> list[dict[str, Any]]:
    """The same search with no index: scan, filter, sort, slice."""
    from workstation.pacs_node.archive.normalize import contains_pattern, fold

    name = contains_pattern(fold(q.patient_name)) if q.patient_name else ""
    desc = contains_pattern(fold(q.description)) if q.description else ""
    mods = {m for m in q.modality.split(",") if m}
    out = []
    for r in rows:
        if name and not fnmatch.fnmatchcase(r["patient_name_key"], name):
            continue
        if desc and not fnmatch.fnmatchcase(r["study_description_key"], desc):
            continue
        if q.patient_id and r["patient_id"] != q.patient_id:
            continue
        if q.accession_number and r["accession_number"] != q.accession_number:
            continue
        if q.date_from and r["study_date"] < q.date_from:
            continue
        if q.date_to and r["study_date"] > q.date_to:
            continue
        if mods and not mods & set(r["modalities"]):
            continue
        out.append(r)
    out.sort(key=lambda r: (r["study_date"], r["study_time"], r["id"]), reverse=True)
    return out[q.offset : q.offset + q.limit]


def timed(fn: Any, repeats: int = 7) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="studies (default 100000)")
    ap.add_argument("--quick", action="store_true", help="20,000 studies")
    ap.add_argument("--database-url", default="", help="index URL (default: SQLite in a temp dir)")
    args = ap.parse_args(argv)
    n = 20_000 if args.quick else args.n

    from workstation.config import ensure_home, load_settings
    from workstation.pacs_node.archive import Archive, StudyQuery

    home = Path(tempfile.mkdtemp(prefix="bench-query-"))
    overrides = {"archive": {"database_url": args.database_url}} if args.database_url else {}
    settings = load_settings(overrides, home=home, environ={})
    ensure_home(settings)
    archive = Archive.open(settings)
    try:
        t0 = time.perf_counter()
        rows = populate(archive, n)
        print(
            f"indexed {n} synthetic studies in {time.perf_counter() - t0:.1f} s "
            f"({archive.engine.dialect.name})"
        )
        sample = rows[n // 3]
        queries = {
            "no filter, newest first": StudyQuery(limit=100),
            "name prefix (Cyrillic) ИВАНОВ*": StudyQuery(patient_name="ИВАНОВ*", limit=100),
            "name contains 'ivan'": StudyQuery(patient_name="ivan", limit=100),
            "name contains 'müller' (accents)": StudyQuery(patient_name="muller", limit=100),
            "exact patient ID": StudyQuery(patient_id=sample["patient_id"], limit=100),
            "accession number": StudyQuery(accession_number=sample["accession_number"], limit=100),
            "modality MR, one month": StudyQuery(
                modality="MR", date_from="20200101", date_to="20200131", limit=100
            ),
            "date range, one year": StudyQuery(date_from="20220101", date_to="20221231", limit=100),
            "description contains 'голова'": StudyQuery(description="голова", limit=100),
            "rare name, nothing found": StudyQuery(patient_name="zzzz", limit=100),
        }
        worst = 0.0
        print(f"{'search':36s} {'index ms':>9s} {'naive ms':>9s} {'ratio':>7s} {'hits':>5s}")
        for label, q in queries.items():
            ms, found = timed(lambda q=q: archive.find_studies(q))
            base_ms, expected = timed(lambda q=q: naive_search(rows, q), repeats=3)
            assert [s.study_instance_uid for s in found] == [
                r["study_instance_uid"] for r in expected
            ], label
            worst = max(worst, ms)
            print(f"{label:36s} {ms:9.2f} {base_ms:9.2f} {base_ms / ms:6.1f}x {len(found):5d}")
        verdict = "met" if worst < 50 else "NOT met"
        print(f"slowest search {worst:.1f} ms over {n} studies: target < 50 ms {verdict}")
        return 0
    finally:
        archive.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
