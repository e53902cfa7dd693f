"""What the planner hands the pipeline: one readable input, or one refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DICOM_SUFFIXES = (".dcm", ".dic", ".dicom")


class RefusedInput(Exception):
    """Reading an input was refused (size caps, zip bomb); the message says why."""


@dataclass(frozen=True)
class InputItem:
    #: How a person recognises the input: a path, or "archive.zip: member 12".
    origin: str
    #: Expected size in bytes (for progress; the reader enforces its own caps).
    size: int
    read: Callable[[], bytes]
    #: The name says DICOM (.dcm, ...): keep it in quarantine even when unreadable.
    named_dicom: bool = False
    #: The file on disk, None for ZIP members.
    path: Path | None = None


@dataclass(frozen=True)
class Refusal:
    origin: str
    reason: str
    #: Record it in quarantine (False for a command-line path that does not exist).
    keep: bool = True


def named_dicom(name: str) -> bool:
    return name.lower().endswith(DICOM_SUFFIXES)
