"""ZIP archives, read as a stream of members with hard caps.

Member names are never used to build a path (members are read into memory and handed
to the archive, which names files by its own ids).  A member whose name tries to climb
out of the archive (zip slip: ``../``, an absolute path, a drive letter) is refused all
the same: such an archive was made to attack someone.  A ``DICOMDIR`` member (a zipped CD)
is skipped: the files it indexes are members too and are read directly.

Caps (``[import]`` settings): number of entries, bytes inflated in total (across nested
archives), bytes per member, inflation ratio per member (a zip bomb inflates 1000:1 and
more; real DICOM rarely passes 20:1), and nesting depth.  The caps are enforced on the
bytes actually inflated, never on the sizes the archive declares.
"""

from __future__ import annotations

import io
import logging
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import BinaryIO

from workstation.config import ImportSettings
from workstation.i18n import _
from workstation.pacs_node.archive.importing.items import (
    InputItem,
    Refusal,
    RefusedInput,
    named_dicom,
)

logger = logging.getLogger(__name__)

#: What zipfile raises for a damaged member: a bad header or CRC (BadZipFile), a
#: header offset before the start of the file (ValueError: negative seek), a corrupt
#: deflate stream (zlib.error), a truncated one (EOFError), an unknown method.
MEMBER_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError, zlib.error)

ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1024 * 1024
#: Below this many inflated bytes the ratio cap does not apply (tiny files compress well).
RATIO_FLOOR_BYTES = 1024 * 1024


def looks_like_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


def unsafe_member_name(name: str) -> bool:
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return True
    return ".." in PurePosixPath(text).parts


class InflateBudget:
    """Bytes left to inflate for one top-level archive (shared by its nested ones)."""

    def __init__(self, total: int) -> None:
        self.left = total
        self._lock = threading.Lock()

    def take(self, n: int) -> bool:
        with self._lock:
            if n > self.left:
                self.left = 0
                return False
            self.left -= n
            return True


def read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, settings: ImportSettings, budget: InflateBudget
) -> bytes:
    """Inflate one member, enforcing the per-file, ratio and total caps."""
    limit = settings.max_file_bytes
    ratio_cap = max(RATIO_FLOOR_BYTES, info.compress_size * settings.max_zip_ratio)
    out = io.BytesIO()
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            if not budget.take(len(chunk)):
                raise RefusedInput(
                    _("The ZIP inflates to more than {limit} bytes in total; refused.").format(
                        limit=settings.max_zip_total_bytes
                    )
                )
            if out.tell() + len(chunk) > limit:
                raise RefusedInput(
                    _("The member is larger than the import limit ({limit} bytes).").format(
                        limit=limit
                    )
                )
            if out.tell() + len(chunk) > ratio_cap:
                raise RefusedInput(
                    _(
                        "The member inflates more than {ratio} times its compressed size "
                        "(a zip bomb?); refused."
                    ).format(ratio=settings.max_zip_ratio)
                )
            out.write(chunk)
    return out.getvalue()


def zip_items(
    source: str | BinaryIO,
    origin: str,
    settings: ImportSettings,
    *,
    depth: int = 0,
    budget: InflateBudget | None = None,
) -> Iterator[InputItem | Refusal]:
    """The members of a ZIP as input items (nested ``.zip`` members opened in turn)."""
    budget = budget or InflateBudget(settings.max_zip_total_bytes)
    try:
        zf = zipfile.ZipFile(source)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        yield Refusal(origin, _("The ZIP archive cannot be read: {error}").format(error=exc))
        return
    if len(infos) > settings.max_zip_entries:
        yield Refusal(
            origin,
            _("The ZIP archive has {n} entries, more than the limit of {limit}; refused.").format(
                n=len(infos), limit=settings.max_zip_entries
            ),
        )
        return
    for index, info in enumerate(infos, start=1):
        where = _("{archive}: member {n}").format(archive=origin, n=index)
        if info.is_dir():
            continue
        if unsafe_member_name(info.filename):
            yield Refusal(
                where,
                _("The member's name tries to leave the archive folder (zip slip); refused."),
            )
            continue
        if info.flag_bits & 0x1:
            yield Refusal(where, _("The member is encrypted; refused."))
            continue
        if PurePosixPath(info.filename.replace("\\", "/")).name.upper() == "DICOMDIR":
            continue  # a CD's index: its files are members too, read them directly
        if info.filename.lower().endswith(".zip"):
            yield from _nested(zf, info, where, settings, depth, budget)
            continue
        yield InputItem(
            origin=where,
            size=min(info.file_size, settings.max_file_bytes),
            read=_reader(zf, info, settings, budget),
            named_dicom=named_dicom(info.filename) or "." not in PurePosixPath(info.filename).name,
        )


def _reader(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, settings: ImportSettings, budget: InflateBudget
) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return read_member(zf, info, settings, budget)
        except MEMBER_ERRORS as exc:
            raise RefusedInput(
                _("The member cannot be inflated: {error}").format(error=exc)
            ) from exc

    return read


def _nested(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    where: str,
    settings: ImportSettings,
    depth: int,
    budget: InflateBudget,
) -> Iterator[InputItem | Refusal]:
    if depth + 1 > settings.max_zip_nesting:
        yield Refusal(
            where,
            _("ZIP archives nested deeper than {limit} levels are refused.").format(
                limit=settings.max_zip_nesting
            ),
        )
        return
    try:
        data = read_member(zf, info, settings, budget)
    except RefusedInput as exc:
        yield Refusal(where, str(exc))
        return
    except MEMBER_ERRORS as exc:
        yield Refusal(where, _("The member cannot be inflated: {error}").format(error=exc))
        return
    yield from zip_items(io.BytesIO(data), where, settings, depth=depth + 1, budget=budget)
