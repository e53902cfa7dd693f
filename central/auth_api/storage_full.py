"""A full disk under the database is HTTP 507 Insufficient Storage, not a 500.

SQLite says ``SQLITE_FULL`` ("database or disk is full") when a write or its journal
meets ENOSPC; PostgreSQL says SQLSTATE 53100 (``disk_full``); file writes (CA, keys) raise
``OSError(ENOSPC)``.  Nothing of the request is kept (its transaction is rolled back), the
server stays up and answers again once space is freed; reads go on meanwhile.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator

from klinika_auth.errors import ApiError

#: How long a client should wait before sending the same request again.
RETRY_AFTER_SECONDS = 60
_PG_DISK_FULL = "53100"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError keeps the driver's
        current = (
            orig if isinstance(orig, BaseException) else current.__cause__ or current.__context__
        )


def is_storage_full(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the disk is full."""
    for e in _chain(exc):
        if isinstance(e, sqlite3.Error) and getattr(e, "sqlite_errorname", "") == "SQLITE_FULL":
            return True
        if getattr(e, "sqlstate", None) == _PG_DISK_FULL:  # psycopg 3
            return True
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
    return False


def storage_full() -> ApiError:
    err = ApiError(
        507,
        "storage_full",
        "The server's disk is full: nothing of this request was saved. Send it again later; "
        "the administrator must free space.",
        retry_after=RETRY_AFTER_SECONDS,
    )
    err.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return err
