"""Errors of the DICOM node, raised by the SCU API and converted to messages at the CLI."""

from __future__ import annotations


class DimseError(Exception):
    """Base class: a DIMSE operation could not be carried out."""


class UnknownPeerError(DimseError):
    """A peer was named that is neither in the AE table nor a HOST:PORT:AET triple."""


class AssociationFailed(DimseError):
    """The peer could not be reached, rejected the association, or aborted it."""


class ServiceRefused(DimseError):
    """The peer accepted the association but not the presentation context we need."""


class NodeCannotListen(DimseError):
    """Our node could not open its port: ``reason`` says why, ``fix`` what to do (both
    translated, for a person to read)."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason} {fix}")
        self.reason = reason
        self.fix = fix
