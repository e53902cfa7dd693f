"""Writing a DICOM file strictly: pydicom's writing validation raised to RAISE for the
write, so a value that cannot be written as it is (e.g. a name its character set
cannot hold) fails here instead of landing in a file with replacement characters."""

from __future__ import annotations

from pathlib import Path

from pydicom import config
from pydicom.dataset import Dataset


def save_strictly(ds: Dataset, path: Path) -> None:
    """Save ``ds`` as a Part-10 file at ``path``; invalid values raise ``ValueError``."""
    previous = config.settings.writing_validation_mode
    config.settings.writing_validation_mode = config.RAISE
    try:
        ds.save_as(path, enforce_file_format=True)
    finally:
        config.settings.writing_validation_mode = previous
