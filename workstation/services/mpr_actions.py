"""MPR actions as guarded, audited engine calls (for the GUI and the CLI).

:func:`export_reformat` reformats a volume, writes the derived series (see
:mod:`workstation.mpr.export`), optionally stores it into the local archive, and audits
it like an export: ``study_export`` with ``kind="mpr"``, the derived Series UID, the
file count and whether it was imported; UIDs only, no patient data. With a session the
``studies.export`` permission (and ``studies.import`` when storing) is checked first; a
refusal is audited and raised. :func:`export_snapshot` does the same for a 3-D picture
as a Secondary Capture (``kind="3d-snapshot"``); :func:`store_snapshot` is the GUI's
button: written to a temporary folder, stored into the archive, the file removed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workstation.auth.audit import AuditAction, AuditLog, Outcome
from workstation.auth.permissions import Permission
from workstation.auth.session import Session

if TYPE_CHECKING:
    from workstation.mpr.reformat import ReformatRequest
    from workstation.mpr.volume import MprVolume
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReformatResult:
    """What an MPR export wrote (and stored)."""

    series_instance_uid: str
    study_instance_uid: str
    paths: tuple[Path, ...]
    planes: int
    stored: int = 0
    rejected: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Actor:
    """Who acts: a logged-in session (GUI) or a named local user (CLI)."""

    session: Session | None = None
    name: str | None = None
    role: str | None = None

    def audit_kwargs(self) -> dict[str, Any]:
        if self.session is not None:
            return {"session": self.session}
        return {"actor": self.name or "local", "role": self.role or "local"}


def export_reformat(
    volume: MprVolume,
    template: Any,
    request: ReformatRequest,
    destination: Path,
    *,
    audit: AuditLog,
    actor: Actor,
    archive: Archive | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ReformatResult:
    """Reformat `volume`, write the derived series into `destination`, store it into
    `archive` when given; audited as ``study_export`` (kind ``mpr``)."""
    from workstation.mpr.export import derived_series, write_series
    from workstation.mpr.reformat import reformat, reformat_planes

    study_uid = str(template.get("StudyInstanceUID", "")) or None
    _guard_export(actor, audit, study_uid, storing=archive is not None)
    with _failure_audited(audit, actor, study_uid, "mpr"):
        planes = reformat_planes(volume, request)
        images = reformat(volume, planes, request.slab, progress=progress, cancel=cancel)
        series = derived_series(volume, template, planes[: len(images)], images, slab=request.slab)
        paths = write_series(series, destination)
        stored, rejected = _store(archive, paths) if archive is not None else (0, ())
    result = ReformatResult(
        series.series_instance_uid, series.study_instance_uid, tuple(paths), len(planes),
        stored, rejected,
    )  # fmt: skip
    audit.record(
        AuditAction.STUDY_EXPORT,
        outcome=Outcome.SUCCESS if not rejected else Outcome.FAILURE,
        study_uid=study_uid,
        kind="mpr",
        source_series_uid=volume.frames[0].series_instance_uid if volume.frames else "",
        derived_series_uid=series.series_instance_uid,
        files=len(paths),
        imported=archive is not None,
        stored=stored,
        slab_mode=request.slab.mode.value if request.slab else None,
        plane=request.kind.value,
        **actor.audit_kwargs(),
    )
    return result


@dataclass(frozen=True)
class SnapshotResult:
    """What a 3-D snapshot export wrote (and stored)."""

    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    path: Path
    stored: int = 0
    rejected: tuple[str, ...] = field(default_factory=tuple)


def export_snapshot(
    rgb: Any,
    template: Any,
    description: str,
    destination: Path,
    *,
    audit: AuditLog,
    actor: Actor,
    archive: Archive | None = None,
) -> SnapshotResult:
    """Write the picture `rgb` ((rows, columns, 3) uint8) as a Secondary Capture into
    `template`'s study in `destination`, store it into `archive` when given; audited
    as ``study_export`` (kind ``3d-snapshot``)."""
    from workstation.mpr.snapshot import secondary_capture, write_snapshot

    study_uid = str(template.get("StudyInstanceUID", "")) or None
    _guard_export(actor, audit, study_uid, storing=archive is not None)
    with _failure_audited(audit, actor, study_uid, "3d-snapshot"):
        ds = secondary_capture(template, rgb, description=description)
        path = write_snapshot(ds, destination)
        stored, rejected = _store(archive, [path]) if archive is not None else (0, ())
    audit.record(
        AuditAction.STUDY_EXPORT,
        outcome=Outcome.SUCCESS if not rejected else Outcome.FAILURE,
        study_uid=study_uid,
        kind="3d-snapshot",
        source_series_uid=str(template.get("SeriesInstanceUID", "")),
        derived_series_uid=str(ds.SeriesInstanceUID),
        files=1,
        imported=archive is not None,
        stored=stored,
        **actor.audit_kwargs(),
    )
    return SnapshotResult(
        str(ds.SOPInstanceUID), str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID), path,
        stored, rejected,
    )  # fmt: skip


@dataclass(frozen=True)
class SnapshotTarget:
    """Where the 3-D window's snapshot button sends a picture: the archive of the
    study, the audit log, and who acts."""

    archive: Archive
    audit: AuditLog
    actor: Actor

    def store(self, rgb: Any, template: Any, description: str) -> SnapshotResult:
        """:func:`store_snapshot` into this target (what the 3-D window calls)."""
        return store_snapshot(rgb, template, description, self)


def store_snapshot(
    rgb: Any, template: Any, description: str, target: SnapshotTarget
) -> SnapshotResult:
    """:func:`export_snapshot` into `target`'s archive through a temporary folder (the
    archive keeps its own copy); raises :class:`PermissionDenied` for a session that
    may not export or import, and ``OSError``/``ValueError`` when writing fails."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="klinika-snapshot-") as folder:
        return export_snapshot(
            rgb, template, description, Path(folder),
            audit=target.audit, actor=target.actor, archive=target.archive,
        )  # fmt: skip


def _guard_export(actor: Actor, audit: AuditLog, study_uid: str | None, *, storing: bool) -> None:
    """Check (audited) that a session may export, and import when the result is stored."""
    if actor.session is None:
        return
    audit.require(actor.session, Permission.STUDY_EXPORT, study_uid)
    if storing:
        audit.require(actor.session, Permission.STUDY_IMPORT, study_uid)


@contextmanager
def _failure_audited(
    audit: AuditLog, actor: Actor, study_uid: str | None, kind: str
) -> Iterator[None]:
    """Audit a failed export of ``kind`` (the exception's type only) and re-raise it."""
    try:
        yield
    except Exception as exc:
        audit.record(
            AuditAction.STUDY_EXPORT,
            outcome=Outcome.FAILURE,
            study_uid=study_uid,
            kind=kind,
            error=type(exc).__name__,
            **actor.audit_kwargs(),
        )
        raise


def _store(archive: Archive, paths: list[Path]) -> tuple[int, tuple[str, ...]]:
    stored, rejected = 0, []
    for path in paths:
        result = archive.store_file(path, source="mpr")
        if result.status.value in ("stored", "duplicate"):
            stored += 1
        else:
            rejected.append(result.reason or result.status.value)
    return stored, tuple(rejected)
