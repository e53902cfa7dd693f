"""The waiting reactors (workstation.pacs_node.dimse.reactor) on real loopback
associations: they do what pynetdicom's polling loops did, without the polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification

from tests.harness.ports import free_port, wait_until
from workstation.pacs_node.dimse import reactor
from workstation.pacs_node.dimse.pynetdicom_tuning import install_tuning

IDLE_S = 1.0


@pytest.fixture
def server() -> Iterator[tuple[AE, int, list[str]]]:
    """A pynetdicom echo SCP (with the reactors installed); the events it saw."""
    assert install_tuning()
    seen: list[str] = []
    ae = AE(ae_title="REACTOR")
    ae.add_supported_context(Verification)
    ae.network_timeout = 30
    port = free_port()
    handlers = [
        (evt.EVT_RELEASED, lambda e: seen.append("released")),
        (evt.EVT_ABORTED, lambda e: seen.append("aborted")),
    ]
    ae.start_server(("127.0.0.1", port), block=False, evt_handlers=handlers)
    yield ae, port, seen
    ae.shutdown()


def _client(port: int, network_timeout: float | None = 30, dimse_timeout: float = 30) -> Any:
    ae = AE(ae_title="CLIENT")
    ae.add_requested_context(Verification)
    ae.network_timeout = network_timeout
    ae.dimse_timeout = dimse_timeout
    assoc = ae.associate("127.0.0.1", port, ae_title="REACTOR")
    assert assoc.is_established
    return assoc


def test_an_idle_association_waits_instead_of_polling(
    server: tuple[AE, int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    dul_waits, assoc_waits = [0], [0]
    dul_wait, assoc_wait = reactor.SocketWake.wait, reactor._assoc_wait

    def count_dul(self: reactor.SocketWake, *args: Any) -> None:
        dul_waits[0] += 1
        dul_wait(self, *args)

    def count_assoc(assoc: Any) -> None:
        assoc_waits[0] += 1
        assoc_wait(assoc)

    monkeypatch.setattr(reactor.SocketWake, "wait", count_dul)
    monkeypatch.setattr(reactor, "_assoc_wait", count_assoc)
    assoc = _client(server[1])
    try:
        assert assoc.send_c_echo().Status == 0
        before = dul_waits[0], assoc_waits[0]
        time.sleep(IDLE_S)
        idle = dul_waits[0] - before[0], assoc_waits[0] - before[1]
    finally:
        assoc.release()
    # Two associations (ours and the server's), two threads each.  A 1 ms poll would
    # loop ~1,000 times per thread in that second; the backstop wait allows ~4.
    bound = 2 * (IDLE_S / reactor.MAX_WAIT_S + 2)
    assert idle[0] > 0 and idle[1] > 0, "the waiting reactors are not the ones running"
    assert idle[0] <= bound, f"DUL threads woke {idle[0]} times while idle"
    assert idle[1] <= bound, f"association threads woke {idle[1]} times while idle"


def test_requests_on_one_association_are_all_answered_and_release_ends_both_sides(
    server: tuple[AE, int, list[str]],
) -> None:
    assoc = _client(server[1])
    statuses = [assoc.send_c_echo().Status for _ in range(200)]
    assoc.release()
    assert statuses == [0] * 200
    assert assoc.is_released
    wait_until(lambda: "released" in server[2], 10, "the server's release")
    wait_until(lambda: not server[0].active_associations, 10, "the server's threads to end")


class _CheckpointPassedLate(threading.Event):
    """A reactor checkpoint whose waiter runs on only ``delay_s`` after passing it: the
    association thread descheduled between the checkpoint and its next step, as on a
    busy machine.  The SCU thread meanwhile starts its next call."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.passes = 0

    def wait(self, timeout: float | None = None) -> bool:
        passed = super().wait(timeout)
        if passed:
            self.passes += 1
            time.sleep(self.delay_s)
        return passed


def test_an_scu_call_gets_its_response_when_the_reactor_resumes_late(
    server: tuple[AE, int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SCU call after the one that released the reactor must not mistake the
    released (but not yet running) reactor for a paused one: else the reactor takes
    that call's response off the queue ("Received unexpected C-ECHO service message")
    and the call waits for the DIMSE timeout.

    Made deterministic with delays: the reactor loops every 2 ms and dawdles 10 ms
    after each pass of its checkpoint, so nearly every call starts while it is in that
    window; and the SCU thread dawdles 20 ms before it takes its response, so the
    reactor, if it runs on, finds the response first.
    """
    monkeypatch.setattr(reactor, "MAX_WAIT_S", 0.002)
    assoc = _client(server[1], dimse_timeout=3)
    checkpoint = _CheckpointPassedLate(delay_s=0.01)
    checkpoint.set()
    assoc._reactor_checkpoint = checkpoint
    responses = assoc.dimse.msg_queue
    take = responses.get

    def take_late(block: bool = True, timeout: float | None = None) -> Any:
        if block:  # the SCU call (the reactor never blocks on this queue)
            time.sleep(0.02)
        return take(block, timeout)

    responses.get = take_late
    try:
        started = time.monotonic()
        statuses = []
        while len(statuses) < 50 and assoc.is_established:
            statuses.append(getattr(assoc.send_c_echo(), "Status", None))
        elapsed = time.monotonic() - started
    finally:
        assoc.release()
    assert checkpoint.passes >= 1, "the delay was not injected where it matters"
    assert statuses == [0] * 50
    assert elapsed < 10, f"50 echoes took {elapsed:.1f} s: some waited for a timeout"


def test_a_peer_abort_ends_the_servers_association(server: tuple[AE, int, list[str]]) -> None:
    assoc = _client(server[1])
    assoc.abort()
    assert assoc.is_aborted
    wait_until(lambda: "aborted" in server[2], 10, "the server to see the abort")
    wait_until(lambda: not server[0].active_associations, 10, "the server's threads to end")


def test_the_network_timeout_still_ends_a_silent_association() -> None:
    assert install_tuning()
    ae = AE(ae_title="REACTOR")
    ae.add_supported_context(Verification)
    ae.network_timeout = 0.5  # the server gives up on a silent peer after 0.5 s
    port = free_port()
    ae.start_server(("127.0.0.1", port), block=False)
    try:
        assoc = _client(port)
        wait_until(lambda: not assoc.is_established, 10, "the server to drop the idle peer")
        assert assoc.is_aborted or assoc.is_released
    finally:
        ae.shutdown()


def test_shutdown_stops_a_server_with_an_open_association(
    server: tuple[AE, int, list[str]],
) -> None:
    assoc = _client(server[1])
    done = threading.Event()

    def shut() -> None:
        server[0].shutdown()
        done.set()

    threading.Thread(target=shut, daemon=True).start()
    assert done.wait(10), "shutdown hung with an association open"
    wait_until(lambda: not assoc.is_established, 10, "the client to see the end")


def test_p_data_items_are_read_as_pynetdicom_reads_them() -> None:
    from pynetdicom.pdu import P_DATA_TF
    from pynetdicom.pdu_primitives import P_DATA

    primitive = P_DATA()
    primitive.presentation_data_value_list = [
        [1, b"\x01" + b"c" * 99],
        [3, b"\x00" + bytes(range(256)) * 40],
        [255, b"\x02"],
    ]
    pdu = P_DATA_TF()
    pdu.from_primitive(primitive)
    encoded = pdu.encode()
    reference = P_DATA_TF()
    reference.decode(encoded)
    body = encoded[6:]
    assert reactor._pdv_items(body) == reference.to_primitive().presentation_data_value_list
    for broken in (body[:-1], body + b"\x00", b"", b"\x00\x00\x00\x01\x01"):
        assert reactor._pdv_items(broken) is None
