"""``SnapshotStore``: where the 3-D window's snapshot button sends its picture.

The app hands the MPR window an object with this method (``services.mpr_actions``'
``SnapshotTarget``: the study's archive, the audit log and who acts), so the window needs
nothing from the services layer above it.
"""

from __future__ import annotations

from typing import Any, Protocol


class SnapshotStore(Protocol):
    def store(self, rgb: Any, template: Any, description: str) -> Any:
        """Store the RGB picture as a Secondary Capture in ``template``'s study (audited
        like an export); the result names what was written.  Raises ``PermissionDenied``
        for a session that may not, ``OSError``/``ValueError`` when writing fails."""
        ...
