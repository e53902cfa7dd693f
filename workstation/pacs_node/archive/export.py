"""``archive export``: a study out to a folder or a ZIP, optionally with a DICOMDIR and
de-identified.

Output files are named by our own scheme, never from DICOM values:
``ST000001/SE000001/IM000001.dcm`` (one ``ST`` folder per exported study, numbered from
what is already in the destination).  With ``dicomdir=True`` the export is a PS3.10 file
set written by pydicom's ``FileSet`` (``PT000000/ST000000/SE000000/IM000000`` and a
``DICOMDIR`` at the top); such a destination folder must be new or empty.  A DICOMDIR
record needs Patient ID, Study Date/Time/ID, Modality, Series and Instance Number: an
instance that has them empty gets placeholders in its exported copy (e.g. Study ID "1",
Study Date 19000101) - the stored original is unchanged.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread

from workstation.i18n import _
from workstation.pacs_node.archive.anonymize import Anonymizer
from workstation.pacs_node.archive.archive import Archive
from workstation.pacs_node.archive.errors import ArchiveError, NotFoundError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    destination: Path
    files: int
    bytes: int
    #: New Study Instance UID when anonymized.
    study_instance_uid: str


def export_study(
    archive: Archive,
    study_uid: str,
    destination: Path,
    *,
    dicomdir: bool = False,
    anonymize: bool = False,
    anonymizer: Anonymizer | None = None,
) -> ExportResult:
    archive.get_study(study_uid)  # NotFoundError with a readable message
    instances = archive.study_instances(study_uid)
    if not instances:
        raise NotFoundError(_("Study {uid} has no instances.").format(uid=study_uid))
    anon = anonymizer or (Anonymizer() if anonymize else None)
    if destination.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="ws-export-") as tmp:
            staged = Path(tmp) / "export"
            result = _export_dir(instances, staged, dicomdir, anon, study_uid)
            _zip_folder(staged, destination)
            return ExportResult(
                destination, result.files, destination.stat().st_size, result.study_instance_uid
            )
    return _export_dir(instances, destination, dicomdir, anon, study_uid)


def _export_dir(instances, destination: Path, dicomdir: bool, anon, study_uid: str):  # type: ignore[no-untyped-def]
    if dicomdir:
        return _export_fileset(instances, destination, anon, study_uid)
    destination.mkdir(parents=True, exist_ok=True)
    study_dir = _next_free(destination, "ST")
    series_dirs: dict[str, Path] = {}
    counters: dict[str, int] = {}
    total = 0
    new_study_uid = study_uid
    for inst in instances:
        sdir = series_dirs.get(inst.series_instance_uid)
        if sdir is None:
            sdir = study_dir / f"SE{len(series_dirs) + 1:06d}"
            sdir.mkdir(parents=True)
            series_dirs[inst.series_instance_uid] = sdir
        counters[inst.series_instance_uid] = counters.get(inst.series_instance_uid, 0) + 1
        out = sdir / f"IM{counters[inst.series_instance_uid]:06d}.dcm"
        if anon is None:
            shutil.copyfile(inst.path, out)
        else:
            ds = anon(dcmread(inst.path))
            new_study_uid = str(ds.StudyInstanceUID)
            ds.save_as(out, enforce_file_format=True)
        total += out.stat().st_size
    logger.info("exported study %s: %d files", study_uid, len(instances))
    return ExportResult(destination, len(instances), total, new_study_uid)


def _export_fileset(instances, destination: Path, anon, study_uid: str):  # type: ignore[no-untyped-def]
    from pydicom.fileset import FileSet

    if destination.exists() and any(destination.iterdir()):
        raise ArchiveError(
            _(
                "The destination folder {path} is not empty; a DICOMDIR export needs an empty "
                "folder."
            ).format(path=destination)
        )
    destination.mkdir(parents=True, exist_ok=True)
    fs = FileSet()
    new_study_uid = study_uid
    for n, inst in enumerate(instances, start=1):
        ds = dcmread(inst.path)
        if anon is not None:
            ds = anon(ds)
            new_study_uid = str(ds.StudyInstanceUID)
        _fill_record_keys(ds, n)
        fs.add(ds)
    fs.write(destination)
    total = sum(p.stat().st_size for p in destination.rglob("*") if p.is_file())
    logger.info("exported study %s as a file set: %d files", study_uid, len(instances))
    return ExportResult(destination, len(instances), total, new_study_uid)


#: Attributes a DICOMDIR record must have (PS3.3 F.5, Type 1) and what an export writes
#: into its copy when the stored instance has them empty.
_RECORD_DEFAULTS = {
    "PatientID": "UNKNOWN",
    "StudyDate": "19000101",
    "StudyTime": "000000",
    "StudyID": "1",
    "Modality": "OT",
    "SeriesNumber": "1",
}


def _fill_record_keys(ds, n: int) -> None:  # type: ignore[no-untyped-def]
    for keyword, default in _RECORD_DEFAULTS.items():
        if not str(ds.get(keyword, "") or "").strip():
            setattr(ds, keyword, default)
    if not str(ds.get("InstanceNumber", "") or "").strip():
        ds.InstanceNumber = n


def _next_free(folder: Path, prefix: str) -> Path:
    n = 1
    while (folder / f"{prefix}{n:06d}").exists():
        n += 1
    return folder / f"{prefix}{n:06d}"


def _zip_folder(folder: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    os.replace(tmp, destination)
