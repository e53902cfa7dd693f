"""Import from files, folders, DICOMDIR file sets, ZIP archives and removable media.

``Importer(archive).run(paths, progress=..., cancel=...) -> ImportSummary``.
"""

from __future__ import annotations

from workstation.pacs_node.archive.importing.media import MediaVolume, removable_media
from workstation.pacs_node.archive.importing.pipeline import (
    Importer,
    ImportProgress,
    ImportSummary,
    RejectedInput,
)

__all__ = [
    "ImportProgress",
    "ImportSummary",
    "Importer",
    "MediaVolume",
    "RejectedInput",
    "removable_media",
]
