"""``archive check``: index vs store vs hashes, and ``--repair``.

Damage found:

- *missing*: an index row whose file is gone; *corrupt*: a file whose size or SHA-256
  differs from its row.  Repair removes those rows (the file goes to quarantine when
  present): the instances are lost here and must be imported again.
- *orphans*: files in the store with no index row (a write interrupted before commit).
  Files listed in the pending log of a live writer are in flight, not orphans.  Repair
  deletes orphans and stale temp files.
- *counters*: per-study and per-series counts and modalities that disagree with the
  rows.  Repair recomputes them.
- *database*: SQLite ``integrity_check`` / ``foreign_key_check`` findings (not repairable
  here; restore from a backup).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Connection

from workstation.pacs_node.archive.archive import Archive
from workstation.pacs_node.archive.blobstore import PENDING_DIR
from workstation.pacs_node.archive.models import AttachedFile, Instance, Series, Study

logger = logging.getLogger(__name__)


@dataclass
class CheckReport:
    files_checked: int = 0
    bytes_checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    stale_temp: int = 0
    counters_wrong: int = 0
    database_errors: list[str] = field(default_factory=list)
    in_flight: int = 0
    repaired: bool = False

    @property
    def damaged(self) -> bool:
        return bool(
            self.missing
            or self.corrupt
            or self.orphans
            or self.stale_temp
            or self.counters_wrong
            or self.database_errors
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": not self.damaged or (self.repaired and not self.database_errors),
            "damaged": self.damaged,
            "repaired": self.repaired,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "missing_files": self.missing,
            "corrupt_files": self.corrupt,
            "orphan_files": self.orphans,
            "stale_temp_files": self.stale_temp,
            "counters_wrong": self.counters_wrong,
            "database_errors": self.database_errors,
            "in_flight": self.in_flight,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _live_pending(archive: Archive) -> set[str]:
    """UUIDs listed in pending logs (ours and other live processes')."""
    out: set[str] = set()
    for log in (archive.store_root / PENDING_DIR).glob("*.log"):
        try:
            out.update(log.read_text("ascii", "replace").split())
        except OSError:
            continue
    return out


def check_archive(
    archive: Archive,
    *,
    repair: bool = False,
    verify_hashes: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    report = CheckReport()
    archive.recover_abandoned_writes()
    report.database_errors = _database_errors(archive)
    rows = _file_rows(archive)
    bad_rows: list[tuple[int, str, str]] = []  # (instance pk, uuid, kind)
    for n, row in enumerate(rows, start=1):
        path = archive.store_root / row.relative_path
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            report.missing.append(row.sop_instance_uid)
            bad_rows.append((row.instance_pk, row.uuid, "missing"))
            continue
        report.files_checked += 1
        report.bytes_checked += size
        if size != row.size or (verify_hashes and _sha256(path) != row.sha256):
            report.corrupt.append(row.sop_instance_uid)
            bad_rows.append((row.instance_pk, row.uuid, "corrupt"))
        if progress is not None:
            progress(n, len(rows))
    known = {r.uuid for r in rows}
    in_flight = _live_pending(archive)
    for file_uuid, path in archive.blobs.iter_uuids():
        if file_uuid in known:
            continue
        if file_uuid in in_flight:
            report.in_flight += 1
            continue
        report.orphans.append(str(path.relative_to(archive.store_root)))
    temp = [p for p in archive.blobs.tmp_dir.glob("*.part") if p.stem not in in_flight]
    report.stale_temp = len(temp)
    report.counters_wrong = archive._read(lambda c: _counter_fixes(c, apply=False))
    if repair and report.damaged:
        _repair(archive, report, bad_rows, temp)
        report.repaired = True
    logger.info(
        "archive check: %d files, %d missing, %d corrupt, %d orphans, %d stale temp, "
        "%d wrong counters, %d database errors, repaired %s",
        report.files_checked,
        len(report.missing),
        len(report.corrupt),
        len(report.orphans),
        report.stale_temp,
        report.counters_wrong,
        len(report.database_errors),
        report.repaired,
    )
    return report


def _file_rows(archive: Archive) -> list[Any]:
    stmt = select(
        AttachedFile.instance_pk,
        AttachedFile.uuid,
        AttachedFile.relative_path,
        AttachedFile.size,
        AttachedFile.sha256,
        Instance.sop_instance_uid,
    ).join(Instance, Instance.id == AttachedFile.instance_pk)
    return archive._read(lambda c: list(c.execute(stmt)))


def _database_errors(archive: Archive) -> list[str]:
    if archive.engine.dialect.name != "sqlite":
        return []

    def run(conn: Connection) -> list[str]:
        errors = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
        errors = [e for e in errors if e != "ok"]
        fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        errors += [f"foreign key: table {r[0]} row {r[1]} -> {r[2]}" for r in fk]
        return errors

    return archive._read(run)


def _repair(
    archive: Archive, report: CheckReport, bad_rows: list[tuple[int, str, str]], temp: list[Path]
) -> None:
    for _pk, file_uuid, kind in bad_rows:
        if kind == "corrupt":
            try:
                archive.quarantine.keep_file(
                    archive.blobs.path(file_uuid),
                    "The stored file no longer matches its checksum (damaged on disk).",
                    "archive check --repair",
                    move=True,
                )
            except OSError:
                logger.exception("damaged file %s could not be quarantined", file_uuid)
    pks = [pk for pk, _u, _k in bad_rows]

    def fix(conn: Connection) -> int:
        for i in range(0, len(pks), 500):
            conn.execute(delete(Instance).where(Instance.id.in_(pks[i : i + 500])))
        return _counter_fixes(conn, apply=True)

    archive.write_call(fix)
    for rel in report.orphans:
        (archive.store_root / rel).unlink(missing_ok=True)
    for tmp in temp:
        tmp.unlink(missing_ok=True)
    logger.warning(
        "archive repaired: %d rows removed, %d orphan files and %d temp files deleted",
        len(pks),
        len(report.orphans),
        len(temp),
    )


def _counter_fixes(conn: Connection, *, apply: bool) -> int:
    """Count (and optionally fix) studies/series whose cached counters are wrong."""
    wrong = 0
    series_counts = dict(
        conn.execute(select(Instance.series_pk, func.count()).group_by(Instance.series_pk)).all()
    )
    for pk, cached in conn.execute(select(Series.id, Series.num_instances)).all():
        actual = series_counts.get(pk, 0)
        if actual != cached:
            wrong += 1
            if apply:
                conn.execute(update(Series).where(Series.id == pk).values(num_instances=actual))
    if apply:
        # Empty series and studies (all their instances were lost) go.
        conn.execute(delete(Series).where(~Series.id.in_(select(Instance.series_pk))))
    study_stats = {
        r.study_pk: r
        for r in conn.execute(
            select(
                Series.study_pk,
                func.count(func.distinct(Series.id)).label("n_series"),
                func.count(Instance.id).label("n_inst"),
                func.coalesce(func.sum(AttachedFile.size), 0).label("size"),
            )
            .join(Instance, Instance.series_pk == Series.id)
            .join(AttachedFile, AttachedFile.instance_pk == Instance.id)
            .group_by(Series.study_pk)
        ).all()
    }
    for st in conn.execute(
        select(Study.id, Study.num_series, Study.num_instances, Study.size_bytes)
    ).all():
        s = study_stats.get(st.id)
        counts: tuple[int, int, int] = (s.n_series, s.n_inst, int(s.size)) if s else (0, 0, 0)
        if counts != (st.num_series, st.num_instances, st.size_bytes):
            wrong += 1
            if apply:
                mods = conn.execute(
                    select(Series.modality).where(Series.study_pk == st.id).distinct()
                ).scalars()
                conn.execute(
                    update(Study)
                    .where(Study.id == st.id)
                    .values(
                        num_series=counts[0],
                        num_instances=counts[1],
                        size_bytes=counts[2],
                        modalities_in_study="\\".join(sorted(m for m in mods if m)),
                    )
                )
    if apply:
        conn.execute(delete(Study).where(Study.num_instances == 0))
        conn.execute(text("DELETE FROM patients WHERE id NOT IN (SELECT patient_pk FROM studies)"))
    return wrong
