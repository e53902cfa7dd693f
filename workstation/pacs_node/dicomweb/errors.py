"""Errors of the DICOMweb client; each message says what a person can do about it."""

from __future__ import annotations


class DicomWebError(Exception):
    """A DICOMweb request failed."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class ServerUnreachable(DicomWebError):
    """No answer: network down, DNS, TLS handshake, timeout.  Retrying later may help."""


class TruncatedResponse(DicomWebError):
    """The answer stopped before its end: the server died or the link broke mid-stream."""


class NotAuthorized(DicomWebError):
    """401/403: log in again, or ask for the permission."""


class ResponseTooLarge(DicomWebError):
    """A response (or one part of it) exceeded our cap; nothing of it was kept."""
