"""Quarantine: refused files kept beside a plain-text reason, named by our own ids.

``<home>/quarantine/<id>.dcm`` and ``<id>.txt``, where ``id`` is the first 32 hex digits
of the file's SHA-256: refusing the same bytes again (importing the same bad CD twice)
does not pile up copies.  The reason file says what was refused, why, where it came from
and when; nothing from the input names the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)


class Quarantine:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _write(self, qid: str, reason: str, origin: str, copy: str = "") -> Path:
        text = (
            f"reason: {reason}\n"
            f"origin: {origin}\n"
            f"when: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}\n"
        )
        if copy:
            text += f"copy: {copy}\n"
        (self.root / f"{qid}.txt").write_text(text, encoding="utf-8")
        logger.info("quarantined %s", qid)
        return self.root / f"{qid}.dcm"

    def keep_bytes(self, data: bytes, reason: str, origin: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        qid = hashlib.sha256(data).hexdigest()[:32]
        path = self.root / f"{qid}.dcm"
        if not path.exists():
            tmp = self.root / f".{qid}.part"
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:  # (a full disk): leave no half-written copy behind
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
        return self._write(qid, reason, origin)

    def keep_file(self, source: Path, reason: str, origin: str, *, move: bool = False) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(source, "rb") as fh:
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                digest.update(chunk)
        qid = digest.hexdigest()[:32]
        path = self.root / f"{qid}.dcm"
        if path.exists():
            if move:
                source.unlink()
        elif move:
            shutil.move(str(source), path)
        else:
            shutil.copyfile(source, path)
        return self._write(qid, reason, origin)

    def keep_reason(self, reason: str, origin: str, why_no_copy: str) -> Path:
        """Record a refusal whose bytes are not kept (too large, or never read); the
        reason file (returned) says why there is no copy."""
        self.root.mkdir(parents=True, exist_ok=True)
        qid = hashlib.sha256(f"{origin}\n{reason}".encode()).hexdigest()[:32]
        self._write(qid, reason, origin, copy=f"none ({why_no_copy})")
        return self.root / f"{qid}.txt"

    def entries(self) -> list[Path]:
        """Quarantined files, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob("*.dcm"), key=lambda p: p.stat().st_mtime)
