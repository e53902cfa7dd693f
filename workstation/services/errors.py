"""Refusals of the services layer that are not about permissions."""

from __future__ import annotations

from pathlib import Path

from workstation.i18n import _


class DestinationMissing(Exception):
    """An export's destination lies in a folder that does not exist; nothing is created."""

    def __init__(self, destination: Path, missing: Path) -> None:
        self.destination = destination
        self.missing = missing
        super().__init__(
            _(
                "Cannot export to {dest}: the folder {missing} does not exist. Create it "
                "first or choose another place."
            ).format(dest=destination, missing=missing)
        )


def check_export_destination(destination: Path) -> None:
    """Raise :class:`DestinationMissing` unless the folder that will hold ``destination``
    exists (a ZIP's folder, or a target folder's parent: the target itself may be new)."""
    parent = destination.absolute().parent
    if not parent.is_dir():
        missing = parent
        while not missing.parent.is_dir() and missing.parent != missing:
            missing = missing.parent
        raise DestinationMissing(destination, missing)
