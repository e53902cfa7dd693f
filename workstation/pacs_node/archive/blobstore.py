"""The file store: files named by our own UUIDs, written atomically.

Layout: ``<store>/<u[0:2]>/<u[2:4]>/<u>.dcm`` where ``u`` is a random 128-bit id (hex).
No DICOM value ever becomes part of a path.  The 256 first-level folders exist from the
start; a second-level folder is made when first needed (a mkdir and an fsync of its
parent).  So that this costs once per many files rather than once per file, the store
keeps drawing ids within one randomly chosen second-level folder for
``LEAF_RUN`` files before it picks another: ids stay random in their other 112 bits,
folders still fill evenly over time.

A write is: temp file in ``<store>/.tmp/`` -> write -> rename into place -> fsync the
file, then its directory (on a helper thread, while the storing thread hashes the bytes
and prepares the index statements).  The index row is committed only after that, so an
instance is visible only when file, directory entry and row are all durable.  A
crash before the commit leaves an unindexed *orphan* file (maybe incomplete, never
visible); to find orphans without scanning the whole store, each writing process
appends every UUID to its own *pending log* (``<store>/.pending/<token>.log``, held with
an exclusive lock while the process lives) before it creates the file.  When the archive
opens, logs whose owner is gone are replayed: files whose UUID has no index row are
deleted.  ``archive check --repair`` does the same by a full scan.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import uuid as uuidlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

SUFFIX = ".dcm"
TMP_DIR = ".tmp"
PENDING_DIR = ".pending"

try:  # POSIX advisory locks tell a live writer's pending log from a dead one's
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_FADV_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", None)  # (not on Windows or macOS)

#: Windows locks a byte range; lock one far past the end so reading the log still works.
_WIN_LOCK_OFFSET = 1 << 40


def _try_lock(fh: BinaryIO) -> bool:
    """Take the log's exclusive lock without waiting; False if a live process holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            import msvcrt

            pos = fh.tell()
            fh.seek(_WIN_LOCK_OFFSET)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            fh.seek(pos)
    except OSError:
        return False
    return True


#: New files are fsynced here while the storing thread goes on (see ``put_started``).
_FSYNC_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="store-fsync")


def _fsync_file_and_dirs(fd: int, dirs: list[Path]) -> None:
    """fsync an open file (and close it), then the directories whose entries changed.

    Once the file is on disk its pages leave the page cache (see :func:`_drop_cached`).
    """
    try:
        os.fsync(fd)
        _drop_cached(fd)
    finally:
        os.close(fd)
    for directory in dirs:
        fsync_dir(directory)


def _drop_cached(fd: int) -> None:
    """Let the kernel drop a durable file's pages from the page cache.

    A receiving archive writes far more than anyone reads back soon, and every page
    cache page a new file takes is a fresh page: under a hypervisor that reclaims free
    guest memory, touching fresh pages costs a fault per page, which made writing a
    0.5 MB instance ~15x slower (1.3 ms instead of 0.08 ms here) and its fsync slower
    too.  Dropped pages go back to the free lists hot, and the next file reuses them.
    The data is durable first (this runs after fsync); a viewer reads it from disk.
    """
    if _FADV_DONTNEED is not None:
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, 0, 0, _FADV_DONTNEED)


def new_uuid() -> str:
    return uuidlib.uuid4().hex


def relative_path(file_uuid: str) -> str:
    return f"{file_uuid[0:2]}/{file_uuid[2:4]}/{file_uuid}{SUFFIX}"


def fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PendingLog:
    """This process's list of UUIDs being written (see the module docstring)."""

    ROTATE_BYTES = 1024 * 1024

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._fh: BinaryIO | None = None
        self._path: Path | None = None

    def _open(self) -> BinaryIO:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._path = self.directory / f"{os.getpid()}-{new_uuid()}.log"
        fh = open(self._path, "ab")  # noqa: SIM115 - held for the log's lifetime
        if not _try_lock(fh):
            raise OSError(f"pending log {self._path.name} is locked by another process")
        return fh

    def add(self, file_uuid: str) -> None:
        with self._lock:
            if self._fh is None:
                self._fh = self._open()
            self._fh.write(file_uuid.encode("ascii") + b"\n")
            self._fh.flush()

    def rotate(self) -> None:
        """Start a new log; call only when no write of this process is in flight."""
        with self._lock:
            if self._fh is not None and self._fh.tell() >= self.ROTATE_BYTES:
                self._close_locked(remove=True)

    def close(self) -> None:
        with self._lock:
            self._close_locked(remove=True)

    def _close_locked(self, *, remove: bool) -> None:
        if self._fh is None:
            return
        self._fh.close()
        if remove and self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()
        self._fh = None
        self._path = None


def abandoned_logs(directory: Path) -> Iterator[tuple[Path, list[str]]]:
    """Pending logs whose writer is gone, with the UUIDs they list."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.log")):
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except OSError:
            continue
        with fh:
            if not _try_lock(fh):
                continue  # a live process holds it
            lines = fh.read().decode("ascii", "replace").split()
        yield path, [u for u in lines if len(u) == 32 and all(c in "0123456789abcdef" for c in u)]


class FilesystemBlobStore:
    """Atomic, sharded, UUID-named files under ``root``."""

    #: Files drawn into one second-level folder before another is picked at random.
    LEAF_RUN = 1000

    def __init__(self, root: Path) -> None:
        self.root = root
        self._leaf_lock = threading.Lock()
        self._leaf = ""
        self._leaf_left = 0
        self.tmp_dir = root / TMP_DIR
        self.pending = PendingLog(root / PENDING_DIR)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._make_first_level()

    def _make_first_level(self) -> None:
        """Create the 256 ``aa`` folders once, so a new shard costs one parent fsync."""
        if (self.root / "ff").is_dir():
            return
        for i in range(256):
            (self.root / f"{i:02x}").mkdir(exist_ok=True)
        fsync_dir(self.root)

    def path(self, file_uuid: str) -> Path:
        return self.root / relative_path(file_uuid)

    def new_uuid(self) -> str:
        """A new random id whose first 4 hex digits (its folder) change every LEAF_RUN."""
        with self._leaf_lock:
            if self._leaf_left <= 0:
                self._leaf, self._leaf_left = new_uuid()[:4], self.LEAF_RUN
            self._leaf_left -= 1
            leaf = self._leaf
        return leaf + new_uuid()[4:]

    def tmp_path(self, file_uuid: str) -> Path:
        return self.tmp_dir / f"{file_uuid}.part"

    def put(self, chunks: list[bytes | memoryview]) -> tuple[str, int]:
        """Write ``chunks`` as one new durable file; return (uuid, size).  Durable on return."""
        file_uuid, size, durable = self.put_started(chunks)
        try:
            durable.result()
        except OSError:
            self.remove(file_uuid)
            raise
        return file_uuid, size

    def put_started(self, chunks: list[bytes | memoryview]) -> tuple[str, int, Future[None]]:
        """Write ``chunks`` as one new file; return (uuid, size, durable).

        Temp file, write, rename into its shard; then a helper thread fsyncs the file and
        its directory (and, for a new shard, the parent).  ``durable`` completes when all
        of that is on disk, or raises the OSError that prevented it (the caller then
        removes the file).  The caller may do other work meanwhile - hash the bytes, run
        the index statements - as long as nothing makes the file visible (commits its
        index row) before ``durable`` completed.  Until its index row is committed a file
        is invisible (an orphan after a crash, removed through the pending log), so the
        rename may come before the fsync without a half-written file ever being indexed.
        """
        file_uuid = self.new_uuid()
        self.pending.add(file_uuid)
        tmp = self.tmp_path(file_uuid)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        size = 0
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                    size += n
            final = self.path(file_uuid)
            new_dirs = self._ensure_shard(final.parent)
            os.replace(tmp, final)
            durable = _FSYNC_POOL.submit(_fsync_file_and_dirs, fd, [final.parent, *new_dirs])
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return file_uuid, size, durable

    def _ensure_shard(self, shard: Path) -> list[Path]:
        """Create ``aa/bb`` if needed; return the directories whose entries changed."""
        if os.path.isdir(shard):
            return []
        shard.mkdir(parents=True, exist_ok=True)
        return [shard.parent]

    def remove(self, file_uuid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(file_uuid).unlink()
        with contextlib.suppress(FileNotFoundError):
            self.tmp_path(file_uuid).unlink()

    def move_out(self, file_uuid: str, destination: Path) -> None:
        """Move a stored file elsewhere (to quarantine), durably enough."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(self.path(file_uuid)), destination)

    def iter_uuids(self) -> Iterator[tuple[str, Path]]:
        """Every stored file (uuid, path), from a directory walk (for the checker)."""
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for path in second.iterdir():
                    if path.suffix == SUFFIX and len(path.stem) == 32:
                        yield path.stem, path

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free

    def close(self) -> None:
        self.pending.close()
