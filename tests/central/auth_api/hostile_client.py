"""What the hostile-use tests need beyond the contract client: bursts of parallel requests
that start together, raw HTTP from a chosen loopback source address (so the server sees
another client), chunked bodies, and reading the audit log since a moment."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def burst(count: int, call: Callable[[int], T]) -> list[T]:
    """Run ``call(i)`` for ``count`` threads released at the same instant."""
    gate = threading.Barrier(count)

    def run(i: int) -> T:
        gate.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@dataclass
class RawResponse:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def raw_request(
    server: Any,
    method: str,
    path: str,
    body: bytes | Iterator[bytes] | None = None,
    *,
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
    chunked: bool = False,
) -> RawResponse:
    """One request on a fresh connection from ``source`` (any 127.x address works)."""
    conn = http.client.HTTPConnection(
        server.host, server.port, timeout=60, source_address=(source, 0)
    )
    try:
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=sent, encode_chunked=chunked)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (e.g. 413) and closed: read that answer
        response = conn.getresponse()
        return RawResponse(response.status, response.read(), dict(response.getheaders()))
    finally:
        conn.close()


def events_since(central: Any, since: str, **filters: str) -> list[dict[str, Any]]:
    """Every audit event that occurred at or after ``since`` matching ``filters``."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = central.get(
            "/audit/events",
            token=central.admin_token(),
            params={"since": since, "after_seq": after, "limit": 1000, **filters},
        ).json()
        found += page["events"]
        if page["next_after_seq"] is None:
            return found
        after = page["next_after_seq"]
