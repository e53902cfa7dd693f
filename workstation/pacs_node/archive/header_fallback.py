"""pydicom's reader for the headers the fast reader declines, inside the archive's contract.

:mod:`~workstation.pacs_node.archive.fastheader` hands unusual data sets (big endian,
deflated once inflated, sequences nested more than 32 deep, odd elements) to pydicom.
pydicom reads nested sequences recursively: a few kilobytes of nested undefined-length
items make it raise ``RecursionError``, and a value cut short inside them
``struct.error`` (both found by tests/fuzz).  Each becomes an :class:`InvalidDicomError`
with a reason a person can act on.
"""

from __future__ import annotations

import struct
from io import BytesIO

from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation.i18n import _
from workstation.pacs_node.archive.errors import InvalidDicomError


def read_header_dataset(data: bytes) -> Dataset:
    """The data set in ``data`` (Part 10) up to its pixel data, read by pydicom."""
    try:
        return dcmread(BytesIO(data), stop_before_pixels=True)
    except RecursionError as exc:
        raise InvalidDicomError(
            _("The data set nests sequences too deeply to be read; it was not stored.")
        ) from exc
    except struct.error as exc:  # a value cut short inside a nested item
        raise InvalidDicomError(
            _("The DICOM header cannot be read ({error}).").format(error=f"struct.error: {exc}")
        ) from exc
