"""Rotating log in the data directory.

House rule: no patient-identifying data (names, IDs, birth dates) above DEBUG; log UIDs.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
import warnings
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s"


def setup_logging(log_dir: Path, level: str = "INFO", *, stderr_level: str = "WARNING") -> Path:
    """Log to ``log_dir/workstation.log`` (5 x 10 MB) and warnings to stderr."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "workstation.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_workstation", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = _LogFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    file_handler.setLevel(level.upper())
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    console.setLevel(stderr_level.upper())
    handlers: tuple[logging.Handler, ...] = (file_handler, console)
    for handler in handlers:
        handler._workstation = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(min(file_handler.level, console.level))
    # pynetdicom and pydicom are chatty at INFO and may echo dataset values.
    for noisy in ("pynetdicom", "pydicom"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, file_handler.level))
    # pydicom's validation warnings quote element values (a patient name can be one):
    # demote them to DEBUG, and keep their twin Python warnings off the terminal.
    pydicom_logger = logging.getLogger("pydicom")
    if not any(isinstance(f, _DemoteToDebug) for f in pydicom_logger.filters):
        pydicom_logger.addFilter(_DemoteToDebug())
    warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\.|$)")
    return path


class _LogFileHandler(logging.handlers.RotatingFileHandler):
    """The rotating log file; when it cannot be written (the data disk is full), one
    line on stderr says so, instead of a "--- Logging error ---" traceback per record.
    Records are dropped until the file can be written again."""

    _warned = False

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handleError(record)
            return
        if not self._warned:
            self._warned = True
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(
                    f"WARNING: the log file {self.baseFilename} cannot be written "
                    f"({exc.strerror or exc}); log records are dropped until it can.\n"
                )


class _DemoteToDebug(logging.Filter):
    """Rewrite WARNING records of a logger to DEBUG (they may quote DICOM values)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True
