"""Why an HTTP exchange with the central archive failed, in words a person can act on.

requests' own text ("HTTPConnectionPool(host=..., port=...): Max retries exceeded with
url: ... (Caused by NameResolutionError(...))") is cut at 200 characters and hides the
cause.  The activity panel shows :func:`describe` instead: the name does not resolve,
nobody listens, no answer within the timeout, the connection broke off.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import requests
import urllib3.exceptions

from workstation.i18n import _
from workstation.pacs_node.dicomweb.errors import TruncatedResponse


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and the exceptions urllib3 keeps in ``reason``/``args``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        nested = [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        todo.extend(n for n in nested if isinstance(n, BaseException))


def _is(exc: BaseException, *kinds: type[BaseException]) -> bool:
    return any(isinstance(e, kinds) for e in _chain(exc))


def describe(exc: BaseException, *, host: str, timeout_s: float) -> str:
    """One short clause: why ``host`` could not be used (without the leading subject)."""
    if _is(exc, urllib3.exceptions.NameResolutionError, socket.gaierror):
        return _("the name {host} cannot be resolved (DNS)").format(host=host)
    if _is(exc, ConnectionRefusedError):
        return _("{host} refuses connections (is the server running?)").format(host=host)
    if _is(
        exc,
        ConnectionResetError,
        ConnectionAbortedError,
        BrokenPipeError,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        TruncatedResponse,
    ):
        return _("the connection to {host} broke off").format(host=host)
    # Only now: urllib3 2 derives NewConnectionError (refused, unreachable) from its
    # ConnectTimeoutError, so a refused connection is "a timeout" by type as well.
    if _is(exc, requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        return _("no answer from {host} within {seconds:g} s").format(host=host, seconds=timeout_s)
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
