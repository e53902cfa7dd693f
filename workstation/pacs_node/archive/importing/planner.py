"""Turn the paths a person picked into input items (what to read) and refusals.

- a file: itself; a ``.zip`` (or any file starting with the ZIP signature): its members;
  a file named DICOMDIR: the file set of its folder;
- a folder: walked recursively without following symlinks; a folder holding a DICOMDIR
  is a file set: only the files it references are read (see :mod:`.dicomdir`), and other
  DICOMDIRs below it are file sets of their own.  When a DICOMDIR is broken or lies
  (references files that are not there), the folder is scanned instead, and a note says so.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from workstation.config import ImportSettings
from workstation.i18n import _, ngettext
from workstation.pacs_node.archive.importing import dicomdir
from workstation.pacs_node.archive.importing.items import (
    InputItem,
    Refusal,
    RefusedInput,
    named_dicom,
)
from workstation.pacs_node.archive.importing.zipsource import looks_like_zip, zip_items

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    items: list[InputItem] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _file_sets: set[str] = field(default_factory=set)

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.items)

    def add_file(self, path: Path, settings: ImportSettings) -> None:
        key = os.path.realpath(path)
        if key in self._seen:
            return
        self._seen.add(key)
        try:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                head = fh.read(4)
        except OSError as exc:
            self.refused.append(
                Refusal(str(path), _("The file cannot be read: {error}").format(error=exc.strerror))
            )
            return
        if looks_like_zip(head):
            for entry in zip_items(str(path), str(path), settings):
                if isinstance(entry, Refusal):
                    self.refused.append(entry)
                else:
                    self.items.append(entry)
            return
        self.items.append(
            InputItem(
                origin=str(path),
                size=size,
                read=_file_reader(path, settings.max_file_bytes),
                named_dicom=named_dicom(path.name),
                path=path,
            )
        )


def _file_reader(path: Path, limit: int):  # type: ignore[no-untyped-def]
    def read() -> bytes:
        with open(path, "rb", buffering=0) as fh:
            # Allocate what the file holds now (checked against the cap), never the cap
            # itself: ``read(limit + 1)`` reserves 4 GiB per reader up front, and under
            # memory pressure (a deflate bomb next door) that fails for good files too.
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise _too_large(limit)
            data = fh.read(size + 1)
            while len(data) <= size:  # (a short read: rare, but allowed)
                more = fh.read(size + 1 - len(data))
                if not more:
                    break
                data += more
        if len(data) > size:
            raise OSError(errno.EAGAIN, _("The file changed while it was read."))
        return data

    return read


def _too_large(limit: int) -> RefusedInput:
    return RefusedInput(
        _("The file is larger than the import limit ({limit} bytes).").format(limit=limit)
    )


def plan_inputs(paths: list[Path], settings: ImportSettings) -> Plan:
    plan = Plan()
    for raw in paths:
        path = Path(raw)
        if path.is_symlink() and not path.exists():
            plan.refused.append(Refusal(str(path), _("The link points nowhere."), keep=False))
        elif path.is_dir():
            _walk(path, plan, settings)
        elif path.is_file():
            if dicomdir.is_dicomdir_name(path.name):
                _file_set(path.parent, plan, settings)
            else:
                plan.add_file(path, settings)
        else:
            plan.refused.append(Refusal(str(path), _("No such file or folder."), keep=False))
    return plan


def _walk(root: Path, plan: Plan, settings: ImportSettings) -> None:
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            plan.refused.append(
                Refusal(
                    str(folder), _("The folder cannot be read: {error}").format(error=exc.strerror)
                )
            )
            continue
        if any(
            dicomdir.is_dicomdir_name(e.name) and e.is_file(follow_symlinks=False) for e in entries
        ):
            _file_set(folder, plan, settings)
            continue
        subdirs = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                plan.add_file(Path(entry.path), settings)
        stack.extend(reversed(subdirs))


def _file_set(root: Path, plan: Plan, settings: ImportSettings) -> None:
    marker = os.path.realpath(root)
    if marker in plan._file_sets:
        return
    plan._file_sets.add(marker)
    files = dicomdir.list_files(root)
    index = next(p for k, p in files.items() if len(k) == 1 and dicomdir.is_dicomdir_name(k[0]))
    try:
        result = dicomdir.read_file_set(index, files, root)
    except dicomdir.DicomdirUnreadable as exc:
        # The reason may quote DICOMDIR values (names, IDs): only at DEBUG.
        logger.warning("DICOMDIR unreadable; scanning the folder instead")
        logger.debug("DICOMDIR unreadable: %s", exc)
        plan.notes.append(
            _(
                "The DICOMDIR in {folder} cannot be read ({error}); the folder was scanned instead."
            ).format(folder=root, error=exc)
        )
        _scan_all(files, plan, settings)
        return
    for entry, reason in result.refused:
        plan.refused.append(
            Refusal(_("{dicomdir}: entry {entry}").format(dicomdir=index, entry=entry), reason)
        )
    if result.missing:
        logger.warning("DICOMDIR references %d missing files; scanning instead", result.missing)
        plan.notes.append(
            ngettext(
                "The DICOMDIR in {folder} references {n} file that is not on the media; the "
                "folder was scanned instead.",
                "The DICOMDIR in {folder} references {n} files that are not on the media; the "
                "folder was scanned instead.",
                result.missing,
            ).format(folder=root, n=result.missing)
        )
        _scan_all(files, plan, settings)
        return
    plan.notes.append(
        ngettext(
            "Read the DICOMDIR in {folder}: {n} file referenced.",
            "Read the DICOMDIR in {folder}: {n} files referenced.",
            len(result.files),
        ).format(folder=root, n=len(result.files))
    )
    for path in result.files:
        plan.add_file(path, settings)
    # Other file sets inside this one (a second DICOMDIR in a sub-folder).
    for key, path in sorted(files.items()):
        if len(key) > 1 and dicomdir.is_dicomdir_name(key[-1]):
            _file_set(path.parent, plan, settings)


def _scan_all(files: dict[tuple[str, ...], Path], plan: Plan, settings: ImportSettings) -> None:
    for key, path in sorted(files.items()):
        if dicomdir.is_dicomdir_name(key[-1]):
            continue
        plan.add_file(path, settings)
