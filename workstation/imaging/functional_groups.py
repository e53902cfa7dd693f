"""Per-frame and shared functional groups of enhanced multi-frame images (PS3.3 C.7.6.16).

A per-frame item wins over the shared one; classic images have neither, and callers
fall back to the top-level attributes.
"""

from __future__ import annotations

from typing import Any


def group_item(ds: Any, frame: int, sequence: str) -> Any | None:
    """The first item of `sequence` for `frame` (per-frame first, then shared), or None."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame and 0 <= frame < len(per_frame):
        item = _first(per_frame[frame].get(sequence))
        if item is not None:
            return item
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        return _first(shared[0].get(sequence))
    return None


def is_enhanced(ds: Any) -> bool:
    return "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds


def _first(seq: Any) -> Any | None:
    if not seq:
        return None
    try:
        return seq[0]
    except (IndexError, TypeError):
        return None
