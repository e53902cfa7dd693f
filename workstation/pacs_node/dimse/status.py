"""DIMSE status codes we answer with (PS3.4 annexes B and C, PS3.7 annex C)."""

from __future__ import annotations

from pydicom.dataset import Dataset

SUCCESS = 0x0000
PENDING = 0xFF00
PENDING_WARNING = 0xFF01
CANCEL = 0xFE00
WARNING_SUBOPS_FAILED = 0xB000
#: Storage: coercion of data elements / elements discarded.
WARNING_COERCED = 0xB000
NOT_AUTHORIZED = 0x0124
OUT_OF_RESOURCES = 0xA700
#: C-MOVE: out of resources, unable to calculate number of matches.
OUT_OF_RESOURCES_MATCHES = 0xA701
#: C-MOVE: out of resources, unable to perform sub-operations.
OUT_OF_RESOURCES_SUBOPS = 0xA702
UNKNOWN_MOVE_DESTINATION = 0xA801
IDENTIFIER_MISMATCH = 0xA900
DATASET_MISMATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000
#: Storage: the data set could not be parsed.
CANNOT_PARSE = 0xC210
UNABLE_TO_PROCESS = 0xC001

#: Error Comment is LO: at most 64 characters.
_MAX_COMMENT = 64


def status(code: int, comment: str = "") -> Dataset:
    """A status data set with an Error Comment (truncated to the 64 characters LO holds)."""
    ds = Dataset()
    ds.Status = code
    if comment:
        ds.ErrorComment = comment[:_MAX_COMMENT]
    return ds


def is_success(code: int) -> bool:
    return code == SUCCESS


def is_warning(code: int) -> bool:
    return code in (0x0001, 0x0107, 0x0116) or (code & 0xF000) == 0xB000


def is_pending(code: int) -> bool:
    return code in (PENDING, PENDING_WARNING)


def is_failure(code: int) -> bool:
    return not (is_success(code) or is_warning(code) or is_pending(code) or code == CANCEL)
