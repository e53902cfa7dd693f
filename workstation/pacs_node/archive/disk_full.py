"""Telling a full disk from other write errors, and saying so in words a person can use.

A full store disk shows up as ``OSError(ENOSPC)`` (or ``EDQUOT``) from a file write or
fsync, as SQLite's "database or disk is full" from the index commit, or as PostgreSQL's
SQLSTATE 53100.  Whichever it is, the instance in hand is refused with
:attr:`~workstation.pacs_node.archive.results.StoreStatus.STORAGE_FULL` (a C-STORE
answers A700) and :func:`disk_full_reason`, never with the raw database error.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from workstation.i18n import _

_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"


def is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it, or the DB-API error it wraps) means a full disk."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.Error) and (
            getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL
            or "database or disk is full" in str(exc)
        ):
            return True
        if getattr(exc, "sqlstate", None) == _PG_DISK_FULL or getattr(exc, "pgcode", None) == (
            _PG_DISK_FULL
        ):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False


def free_bytes(path: Path) -> int:
    """Free bytes on the disk holding ``path`` (-1 when it cannot be asked)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return -1


def disk_full_reason(free: int) -> str:
    """The refusal of one instance because the archive disk is full, with its free space."""
    if free < 0:
        return _("The archive disk is full; free some space and try again.")
    return _("The archive disk is full ({free} MB free); free some space and try again.").format(
        free=f"{free / 1e6:.1f}"
    )
