"""Quarantine: refused files kept beside a plain-text reason, named by our own ids.

``<home>/quarantine/<YYYY-MM-DD>/<uuid>.dcm`` and ``<uuid>.txt``.  The reason file says
what was refused, why, where it came from and when; nothing from the file names it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from workstation.pacs_node.archive.blobstore import new_uuid

logger = logging.getLogger(__name__)


class Quarantine:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _slot(self) -> tuple[Path, str]:
        day = self.root / dt.date.today().isoformat()
        day.mkdir(parents=True, exist_ok=True)
        return day, new_uuid()

    def _write_reason(self, day: Path, qid: str, reason: str, origin: str) -> None:
        text = (
            f"reason: {reason}\n"
            f"origin: {origin}\n"
            f"when: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}\n"
        )
        (day / f"{qid}.txt").write_text(text, encoding="utf-8")

    def keep_bytes(self, data: bytes, reason: str, origin: str) -> Path:
        day, qid = self._slot()
        path = day / f"{qid}.dcm"
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self._write_reason(day, qid, reason, origin)
        logger.info("quarantined %s: %s", qid, reason)
        return path

    def keep_file(self, source: Path, reason: str, origin: str, *, move: bool = False) -> Path:
        day, qid = self._slot()
        path = day / f"{qid}.dcm"
        if move:
            shutil.move(str(source), path)
        else:
            shutil.copyfile(source, path)
        self._write_reason(day, qid, reason, origin)
        logger.info("quarantined %s: %s", qid, reason)
        return path
