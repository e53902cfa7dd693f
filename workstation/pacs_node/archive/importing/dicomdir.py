"""DICOMDIR file sets: import only the files the DICOMDIR references.

An entry's Referenced File ID is never turned into a path.  The media's real files are
listed by walking the folder (names from the file system), and each entry is looked up
in that list by its components, compared case-insensitively (ISO 9660 names are upper
case, some mounts show them lower case).  An entry with ``..``, an absolute part or a
separator inside a component cannot match anything on the media and is refused as
"pointing outside the media"; a symlink on the media is not followed.

When the DICOMDIR cannot be read, or references files that are missing, the caller falls
back to scanning the folder and says so.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from workstation.i18n import _

logger = logging.getLogger(__name__)

MAX_DICOMDIR_BYTES = 256 * 1024 * 1024
MAX_RECORDS = 2_000_000


def is_dicomdir_name(name: str) -> bool:
    return name.upper() == "DICOMDIR"


def list_files(root: Path) -> dict[tuple[str, ...], Path]:
    """Every regular file under ``root`` (no symlinks), keyed by upper-cased parts."""
    found: dict[tuple[str, ...], Path] = {}
    stack: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
    while stack:
        folder, parts = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            logger.warning("a folder on the media cannot be listed")
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            key = (*parts, entry.name.upper())
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), key))
            elif entry.is_file(follow_symlinks=False):
                found[key] = Path(entry.path)
    return found


@dataclass
class FileSetResult:
    #: Files the DICOMDIR references and that exist on the media.
    files: list[Path] = field(default_factory=list)
    #: Entries refused (pointing outside the media): (entry text, reason).
    refused: list[tuple[str, str]] = field(default_factory=list)
    #: References to files that are not there.
    missing: int = 0


class DicomdirUnreadable(Exception):
    pass


def _components(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)  # type: ignore[attr-defined]


def _reference(record: object) -> tuple[str, ...]:
    """The components of a record's Referenced File ID (none when it has none)."""
    value = record.get("ReferencedFileID")  # type: ignore[attr-defined]
    if value is None or value == "":
        return ()
    return _components(value)


def _unsafe(parts: tuple[str, ...]) -> bool:
    return any(
        not p or p in (".", "..") or "/" in p or "\\" in p or ":" in p or p.startswith("~")
        for p in parts
    )


def read_file_set(dicomdir: Path, files: dict[tuple[str, ...], Path], root: Path) -> FileSetResult:
    """Resolve a DICOMDIR's references against ``files`` (from :func:`list_files`)."""
    from pydicom import dcmread

    try:
        with dicomdir.open("rb") as fh:
            # (read(n) on a file allocates n bytes first: ask for what the file holds)
            size = min(os.fstat(fh.fileno()).st_size, MAX_DICOMDIR_BYTES)
            data = fh.read(size + 1)
        if len(data) > MAX_DICOMDIR_BYTES:
            raise DicomdirUnreadable(_("the DICOMDIR is implausibly large"))
        # From memory, not from the file: pydicom reads a value with ``read(length)``,
        # and a file object allocates the whole declared length first (a damaged
        # length of 0xFFFFFFxx meant gigabytes); a BytesIO returns what is there.
        ds = dcmread(io.BytesIO(data), force=True)
        records = ds.DirectoryRecordSequence
        if len(records) > MAX_RECORDS:
            raise DicomdirUnreadable(_("the DICOMDIR has too many records"))
        # pydicom decodes each value when it is first read: a damaged one (an unknown
        # VR, a bad length) raises here, not in dcmread.
        references = [_reference(record) for record in records]
    except DicomdirUnreadable:
        raise
    except Exception as exc:
        raise DicomdirUnreadable(f"{type(exc).__name__}: {exc}"[:200]) from exc
    result = FileSetResult()
    seen: set[Path] = set()
    root_real = os.path.realpath(root)
    for parts in references:
        if not parts:
            continue
        entry_text = "\\".join(parts)[:200]
        if _unsafe(parts):
            result.refused.append(
                (entry_text, _("The DICOMDIR entry points outside the media; refused."))
            )
            continue
        path = files.get(tuple(p.upper() for p in parts))
        if path is None:
            result.missing += 1
            continue
        # Belt and braces: the file found by the walk must lie inside the media.
        if os.path.commonpath([root_real, os.path.realpath(path)]) != root_real:
            result.refused.append(
                (entry_text, _("The DICOMDIR entry points outside the media; refused."))
            )
            continue
        if path not in seen:
            seen.add(path)
            result.files.append(path)
    return result
