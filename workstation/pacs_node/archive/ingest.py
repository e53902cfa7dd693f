"""Preparing one input for the index: parse the header, write the file durably.

:class:`Preparer` does everything a store needs *before* the index transaction: read the
header (``stop_before_pixels``), validate the UIDs, build our file meta, hash, look for an
already-stored copy, check free space, and write the file (temp, fsync, rename).  It
holds no state shared with the index writer, so the importer can run preparers in
worker processes (one per core) while the archive's writer thread commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from io import BytesIO
from pathlib import Path
from typing import Any

from pydicom import dcmread
from sqlalchemy import select
from sqlalchemy.engine import Engine

from workstation.config import Settings
from workstation.i18n import _
from workstation.imaging.charset_fallback import apply_to_dataset
from workstation.pacs_node.archive import part10
from workstation.pacs_node.archive.blobstore import FilesystemBlobStore, relative_path
from workstation.pacs_node.archive.completeness import incomplete_reason
from workstation.pacs_node.archive.disk_full import disk_full_reason, free_bytes, is_disk_full
from workstation.pacs_node.archive.errors import InvalidDicomError
from workstation.pacs_node.archive.fastheader import EXPLICIT_LE, WALKED_TO, read_header
from workstation.pacs_node.archive.header import extract_header
from workstation.pacs_node.archive.header_fallback import read_header_dataset
from workstation.pacs_node.archive.indexing import Prepared
from workstation.pacs_node.archive.inflate import DEFLATED_LE, inflate_header
from workstation.pacs_node.archive.models import AttachedFile, Instance
from workstation.pacs_node.archive.quarantine import Quarantine
from workstation.pacs_node.archive.results import Received, StoreResult, StoreStatus

logger = logging.getLogger(__name__)


class Preparer:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine
        self.blobs = FilesystemBlobStore(settings.store_dir)
        self.quarantine = Quarantine(settings.quarantine_dir)
        self.conflict_policy = settings.import_.conflict_policy
        self.min_free_bytes = settings.archive.min_free_bytes
        self.max_inflated_bytes = settings.archive.max_inflated_bytes
        self.fallback_charset = settings.archive.fallback_charset
        self.quarantine_incomplete = settings.archive.incomplete_policy == "quarantine"
        # The duplicate pre-check runs once per stored instance on the receiving thread:
        # on SQLite it uses a plain read-only connection per thread (no pool round trip).
        self._sqlite_path = engine.url.database if engine.dialect.name == "sqlite" else None
        self._local = threading.local()
        #: Per-thread lookup connections, closed when their thread has ended.
        self._lookups: dict[threading.Thread, sqlite3.Connection] = {}
        self._lookups_lock = threading.Lock()

    def close(self) -> None:
        self.blobs.close()
        with self._lookups_lock:
            for conn in self._lookups.values():
                conn.close()
            self._lookups.clear()

    def prepare(
        self,
        data: bytes,
        source: str,
        calling_aet: str,
        origin: str,
        quarantine: bool | None,
        parsed: tuple[Any, str] | None = None,
        received: Received | None = None,
        wait: bool = True,
    ) -> Prepared | StoreResult:
        """Refuse the input, or write its file and describe it for the index.

        ``wait``: return once the file is durable (True), or as soon as it is written,
        with ``Prepared.durable`` completing when the helper thread has fsynced it; the
        index writer then runs the statements meanwhile and commits after it completed.
        """
        looks_dicom = received is not None or part10.has_part10_magic(data)
        # A received data set's file meta follows from its request: hash it now, on a
        # helper thread, while this one reads the header and writes the file.
        early = _early_hash(data, received) if received is not None else None
        # And when the archive does not have that instance yet, its file is written (and
        # fsynced on a helper thread) before the header is read: the fsync is the long
        # pole of a C-STORE.  A data set refused below has its file removed again.
        started = self._start_early(data, received, early[0]) if early and received else None
        try:
            if received is not None:  # a data set from the network: no file meta
                body_at, tsyntax = 0, received.transfer_syntax_uid
                ds: Any = _read_received(
                    data, received, self.max_inflated_bytes, self.fallback_charset
                )
            else:
                data, body_at = _as_part10(data)
                if parsed is not None:  # store_dataset: the dataset is already decoded
                    ds, tsyntax = parsed
                else:
                    ds, tsyntax = _read_header(
                        data, body_at, self.max_inflated_bytes, self.fallback_charset
                    )
            used = "" if isinstance(ds, dict) else apply_to_dataset(ds, self.fallback_charset)
            header = extract_header(ds, tsyntax, used)
        except InvalidDicomError as exc:
            self._discard(started)
            return self._refuse(data, str(exc), origin, quarantine, looks_dicom, received)
        except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds on bad input
            self._discard(started)
            reason = _("The DICOM header cannot be read ({error}).").format(
                error=f"{type(exc).__name__}: {exc}"[:300]
            )
            return self._refuse(data, reason, origin, quarantine, True, received)
        incomplete = incomplete_reason(data, body_at, tsyntax, ds if isinstance(ds, dict) else None)
        if incomplete:
            logger.warning("instance %s is incomplete", header.sop_instance_uid)
            if self.quarantine_incomplete:
                self._discard(started)
                refused = self._refuse(data, incomplete, origin, quarantine, True, received)
                return dataclasses.replace(refused, sop_instance_uid=header.sop_instance_uid)
            header.instance["incomplete"] = incomplete[:200]
        if received is not None:
            mismatch = _mismatch(header, received)
            if mismatch:
                self._discard(started)
                return StoreResult(
                    StoreStatus.MISMATCH, sop_instance_uid=received.sop_instance_uid,
                    reason=mismatch,
                )  # fmt: skip
        body = memoryview(data)[body_at:]
        if early is not None:  # (the request's UIDs are the header's: same meta)
            prefix, sha_future = early
        else:
            prefix = part10.build_meta(header.sop_class_uid, header.sop_instance_uid, tsyntax)
            sha_future = _HASH_POOL.submit(_sha256, prefix, body)
        written = _Written(self, header, source, calling_aet, origin, sha_future, wait)
        if started is not None:
            return written.finish(*started)
        size = len(prefix) + len(body)
        existing = self._existing(header.sop_instance_uid)
        if existing is not None:
            stored_sha, stored_syntax = existing
            sha = sha_future.result()
            if sha == stored_sha or (received is not None and stored_syntax != tsyntax):
                # (A received copy in another transfer syntax is the same instance.)
                return StoreResult(
                    StoreStatus.DUPLICATE, reason=_("Already in the archive."), **written.ids
                )
            if self.conflict_policy != "replace":
                reason = _(
                    "Another version of this instance (same SOP Instance UID, different "
                    "content) is already stored; the stored one was kept."
                )
                qpath = (
                    None
                    if quarantine is False
                    else self.quarantine.keep_bytes(prefix + bytes(body), reason, origin)
                )
                logger.warning("conflicting version of %s refused", header.sop_instance_uid)
                return StoreResult(
                    StoreStatus.CONFLICT, reason=reason, quarantine_path=qpath, **written.ids
                )
        if not self._room_for(size):
            return StoreResult(
                StoreStatus.STORAGE_FULL,
                reason=disk_full_reason(free_bytes(self.blobs.root)),
                **written.ids,
            )
        try:
            file = self.blobs.put_started([prefix, body])
        except OSError as exc:
            return _write_failed(header.sop_instance_uid, exc, written.ids, self.blobs.root)
        return written.finish(*file, known_new=existing is None)

    def _start_early(
        self, data: bytes, received: Received, prefix: bytes
    ) -> tuple[str, int, Future[None]] | None:
        """Write a received data set's file now, unless its instance is already stored."""
        if self._existing(received.sop_instance_uid) is not None:
            return None
        if not self._room_for(len(prefix) + len(data)):
            return None  # (refused after the header check, with the reason)
        try:
            return self.blobs.put_started([prefix, memoryview(data)])
        except OSError:
            return None  # (tried again after the header check, and reported)

    def _discard(self, started: tuple[str, int, Future[None]] | None) -> None:
        if started is not None:
            self.blobs.remove(started[0])

    def _room_for(self, size: int) -> bool:
        free = self.blobs.free_bytes()
        if free - size < self.min_free_bytes:
            logger.error("store is full: %d bytes free", free)
            return False
        return True

    def _refuse(
        self,
        data: bytes,
        reason: str,
        origin: str,
        quarantine: bool | None,
        looks_dicom: bool,
        received: Received | None = None,
    ) -> StoreResult:
        qpath = None
        if quarantine or (quarantine is None and looks_dicom):
            if received is not None:  # kept as a file DICOM tools can open
                data = _with_meta(data, received)
            try:
                qpath = self.quarantine.keep_bytes(data, reason, origin)
            except OSError as exc:  # (a full disk): the refusal stands, without a copy
                logger.error("a refused input could not be quarantined (%s)", exc.strerror)
        return StoreResult(
            StoreStatus.REJECTED,
            reason=reason,
            quarantine_path=qpath,
            sop_instance_uid=received.sop_instance_uid if received is not None else None,
        )

    def _existing(self, sop_uid: str) -> tuple[str, str] | None:
        """(SHA-256, transfer syntax) of the stored copy of this instance, if any."""
        if self._sqlite_path:
            row = self._lookup().execute(_EXISTING_SQL, (sop_uid,)).fetchone()
            return None if row is None else (str(row[0]), str(row[1]))
        with self.engine.connect() as conn:
            found = conn.execute(
                select(AttachedFile.sha256, AttachedFile.transfer_syntax_uid)
                .join(Instance, Instance.id == AttachedFile.instance_pk)
                .where(Instance.sop_instance_uid == sop_uid)
            ).first()
        return None if found is None else (str(found[0]), str(found[1]))

    def _lookup(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self._sqlite_path
            conn = sqlite3.connect(self._sqlite_path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._lookups_lock:
                for thread in [t for t in self._lookups if not t.is_alive()]:
                    self._lookups.pop(thread).close()
                self._lookups[threading.current_thread()] = conn
        return conn


class _Written:
    """The end of a store's preparation: its file is written (maybe still being fsynced)."""

    def __init__(
        self,
        preparer: Preparer,
        header: Any,
        source: str,
        calling_aet: str,
        origin: str,
        sha: Future[str],
        wait: bool,
    ) -> None:
        self.preparer = preparer
        self.header = header
        self.source, self.calling_aet, self.origin = source, calling_aet, origin
        self.sha = sha
        self.wait = wait
        self.ids: dict[str, Any] = {
            "sop_instance_uid": header.sop_instance_uid,
            "study_instance_uid": header.study_instance_uid,
            "series_instance_uid": header.series_instance_uid,
        }

    def finish(
        self, file_uuid: str, size: int, durable: Future[None], *, known_new: bool = True
    ) -> Prepared | StoreResult:
        sha = self.sha.result()
        if self.wait:
            try:
                durable.result()
            except OSError as exc:
                self.preparer.blobs.remove(file_uuid)
                return _write_failed(
                    self.header.sop_instance_uid, exc, self.ids, self.preparer.blobs.root
                )
        return Prepared(
            header=self.header,
            file_uuid=file_uuid,
            relative_path=relative_path(file_uuid),
            size=size,
            sha256=sha,
            source=self.source,
            calling_aet=self.calling_aet,
            conflict_policy=self.preparer.conflict_policy,
            origin=self.origin,
            known_new=known_new,
            durable=None if self.wait else durable,
        )


_EXISTING_SQL = (
    "SELECT f.sha256, f.transfer_syntax_uid FROM attached_files f JOIN instances i ON i.id = f.instance_pk "
    "WHERE i.sop_instance_uid = ?"
)


def _write_failed(
    sop_uid: str, exc: OSError, result_base: dict[str, Any], store: Path
) -> StoreResult:
    """A refusal for a file that could not be written (the caller removed what was)."""
    if is_disk_full(exc):
        free = free_bytes(store)
        logger.error("store is full writing %s: %d bytes free", sop_uid, free)
        return StoreResult(StoreStatus.STORAGE_FULL, reason=disk_full_reason(free), **result_base)
    logger.error("writing %s to the store failed: %s", sop_uid, exc)
    return StoreResult(
        StoreStatus.FAILURE,
        reason=_("The file could not be written to the archive: {error}").format(
            error=exc.strerror or exc
        ),
        **result_base,
    )


#: SHA-256 of new files is computed here, beside the header parse and the file write
#: (hashlib releases the GIL for large buffers, so this is real parallel work).
_HASH_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-hash")


def _sha256(prefix: bytes, body: memoryview) -> str:
    digest = hashlib.sha256(prefix)
    digest.update(body)
    return digest.hexdigest()


def _early_hash(data: bytes, received: Received) -> tuple[bytes, Future[str]] | None:
    """Our file meta for a received data set (from its request) and its hash, started."""
    try:
        prefix = part10.build_meta(
            received.sop_class_uid, received.sop_instance_uid, received.transfer_syntax_uid
        )
    except (UnicodeError, ValueError):
        return None  # unusable UIDs: the header check refuses it
    return prefix, _HASH_POOL.submit(_sha256, prefix, memoryview(data))


def _read_received(
    data: bytes, received: Received, max_inflated: int, fallback_charset: str = ""
) -> Any:
    """The header of a data set without file meta, read as ``received`` says it is encoded.

    ``fallback_charset``: ``archive.fallback_charset`` (see :mod:`charset_fallback`)."""
    if received.transfer_syntax_uid == DEFLATED_LE:
        return _read_deflated(
            data, 0, received.sop_class_uid, received.sop_instance_uid, max_inflated,
            fallback_charset,
        )  # fmt: skip
    fast = read_header(data, 0, received.transfer_syntax_uid, fallback_charset)
    if fast is not None:
        fast["MediaStorageSOPClassUID"] = received.sop_class_uid
        fast["MediaStorageSOPInstanceUID"] = received.sop_instance_uid
        return fast
    # Unusual (deflated, big endian, odd elements): pydicom reads it behind a file meta.
    return read_header_dataset(_with_meta(data, received))


def _read_deflated(
    data: bytes,
    body_at: int,
    sop_class: str,
    sop_uid: str,
    max_inflated: int,
    fallback_charset: str = "",
) -> Any:
    """The header of a deflated data set, inflated in bounded steps (never whole)."""
    inflated = inflate_header(memoryview(data)[body_at:], max_inflated)
    fast = read_header(inflated, 0, EXPLICIT_LE, fallback_charset)
    if fast is not None:
        fast["MediaStorageSOPClassUID"] = sop_class
        fast["MediaStorageSOPInstanceUID"] = sop_uid
        fast.pop(WALKED_TO, None)  # (an offset into the inflated bytes, not the file)
        return fast
    meta = part10.build_meta(sop_class, sop_uid, EXPLICIT_LE)
    return read_header_dataset(meta + inflated)


def _with_meta(data: bytes, received: Received) -> bytes:
    try:
        meta = part10.build_meta(
            received.sop_class_uid, received.sop_instance_uid, received.transfer_syntax_uid
        )
    except (UnicodeError, ValueError):
        return bytes(data)
    return meta + bytes(data)


def _mismatch(header: Any, received: Received) -> str:
    """Why the data set does not match its request, or an empty string."""
    if header.sop_instance_uid != received.sop_instance_uid:
        return _("SOP Instance UID differs from the request")
    if header.sop_class_uid != received.sop_class_uid:
        return _("SOP Class UID differs from the request")
    return ""


def _read_header(
    data: bytes, body_at: int, max_inflated: int, fallback_charset: str = ""
) -> tuple[Any, str]:
    """The header as the fast reader's dict, or as a pydicom Dataset when unusual."""
    meta = part10.read_meta(data)
    tsyntax = meta[1].get(0x0010, "") if meta else ""
    if tsyntax == DEFLATED_LE and meta:
        sop_class, sop_uid = meta[1].get(0x0002, ""), meta[1].get(0x0003, "")
        ds = _read_deflated(data, body_at, sop_class, sop_uid, max_inflated, fallback_charset)
        return ds, tsyntax
    if tsyntax:
        fast = read_header(data, body_at, tsyntax, fallback_charset)
        if fast is not None:
            fast["MediaStorageSOPClassUID"] = meta[1].get(0x0002, "") if meta else ""
            fast["MediaStorageSOPInstanceUID"] = meta[1].get(0x0003, "") if meta else ""
            return fast, tsyntax
    ds = read_header_dataset(data)
    return ds, str(ds.file_meta.get("TransferSyntaxUID") or "") or _infer_syntax(ds)


def _infer_syntax(ds: Any) -> str:
    """The transfer syntax a file without one in its meta was actually read with."""
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    implicit, little = ds.original_encoding
    if implicit:
        return str(ImplicitVRLittleEndian)
    return str(ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def _as_part10(data: bytes) -> tuple[bytes, int]:
    """Return (Part-10 bytes, offset of the body); convert a bare dataset when we can."""
    end = part10.meta_end(data)
    if end is not None:
        return data, end
    if not part10.starts_like_dataset(data):
        raise InvalidDicomError(_("This is not a DICOM file."))
    # A dataset without preamble and file meta (older software writes these): read it
    # whole and give it a proper file meta.
    try:
        ds = dcmread(BytesIO(data), force=True)
        if "SOPInstanceUID" not in ds or "StudyInstanceUID" not in ds:
            raise InvalidDicomError(_("This is not a DICOM file."))
        converted, _tsyntax = part10.encode_dataset(ds)
    except InvalidDicomError:
        raise
    except Exception as exc:
        raise InvalidDicomError(
            _("The file has no DICOM file header and could not be read as a dataset.")
        ) from exc
    end = part10.meta_end(converted)
    assert end is not None
    return converted, end
