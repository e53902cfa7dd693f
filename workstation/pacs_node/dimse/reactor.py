"""Event-driven reactors for pynetdicom's two threads per association.

pynetdicom 3.0 runs each association as two polling loops:

- the DUL thread checks the socket with a zero-timeout ``select`` and, when nothing
  happened, sleeps 1 ms (``DULServiceProvider._run_loop_delay``);
- the association thread sleeps 1 ms, then looks for a complete DIMSE message.

On a C-STORE stream every instance therefore waits up to a millisecond for the
association thread to notice the request, up to another for the DUL thread to send the
response, and up to a third for the DUL thread to notice the next request; and an idle
association wakes both threads a thousand times a second.  With one sender this caps
what a durable SCP can answer well below what the disk allows; with several, the wake-ups
alone eat a core.

:func:`replacements` are the two loops with ones that block until something happens:

- the DUL thread waits in ``select`` on its socket *and* a wake-up socket pair, which is
  written whenever another thread queues something for it (a primitive to send, a
  transport event) or stops it; the ARTIM timer bounds the wait;
- the association thread waits on a :class:`threading.Event` that is set when a DIMSE
  message is complete, when the DUL hands it an A-RELEASE or A-ABORT, when the DUL
  thread ends and when the association is killed; the network (idle) timer bounds the
  wait.

One shortcut: a P-DATA-TF PDU arriving on an established association (state Sta6,
nothing else queued, no handler bound to the PDU, raw-data or FSM events) goes straight
to the DIMSE provider, as the state machine's DT-2 action would hand it, without building
pynetdicom's PDU objects or passing through the event queue (:func:`_receive`).  A
storage SCP gets several such PDUs per instance; every other PDU, and any P-DATA-TF that
does not parse, takes pynetdicom's own path.

Each loop otherwise does what pynetdicom's does, step for step (the bodies mirror
``DULServiceProvider.run_reactor`` and ``Association._run_reactor`` of pynetdicom 3.0;
:mod:`.pynetdicom_tuning` installs them only over the exact code they were written
against), and a bounded wait (:data:`MAX_WAIT_S`) backs up every
wake-up source we might have missed.  While it waits, the association reactor counts as
paused, so an SCU call (``send_c_store`` and the like, which pause the reactor) starts at
once instead of spinning until the next poll.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from typing import Any, cast

from pynetdicom import evt
from pynetdicom.association import Association
from pynetdicom.dul import DULServiceProvider
from pynetdicom.pdu import A_ABORT_RQ
from pynetdicom.pdu_primitives import P_DATA
from pynetdicom.timer import Timer

#: What the loops log, they log as pynetdicom's own loops did (same loggers and words).
_assoc_log = logging.getLogger("pynetdicom.association")
_dul_log = logging.getLogger("pynetdicom.dul")

#: Longest either reactor sleeps without a wake-up (a backstop, not a poll rate).
MAX_WAIT_S = 0.25


class SocketWake:
    """A wake-up signal a ``select`` can wait on together with a socket."""

    def __init__(self) -> None:
        self._recv, self._send = socket.socketpair()
        self._recv.setblocking(False)
        self._send.setblocking(False)

    def set(self) -> None:
        with contextlib.suppress(OSError):  # full (already signalled) or closed
            self._send.send(b"\0")

    def wait(self, sock: socket.socket | None, timeout: float) -> None:
        """Until ``sock`` is readable, :meth:`set` was called, or ``timeout`` passed."""
        watched = [self._recv] if sock is None else [sock, self._recv]
        try:
            ready, _, _ = select.select(watched, [], [], max(timeout, 0.0))
        except (OSError, ValueError):
            return  # the socket closed under us: the DUL notices on its next read
        if self._recv in ready:
            with contextlib.suppress(OSError):
                while self._recv.recv(4096):
                    pass

    def close(self) -> None:
        self._recv.close()
        self._send.close()


def _waking_put(q: queue.Queue[Any], wake: Callable[[], None]) -> None:
    """Make ``q.put`` call ``wake`` after each item (on this queue object only)."""
    put = q.put

    def put_and_wake(item: Any, block: bool = True, timeout: float | None = None) -> None:
        put(item, block, timeout)
        wake()

    q.put = put_and_wake  # type: ignore[method-assign]


# -- the DUL thread ----------------------------------------------------------------------
def _wake_dul(dul: DULServiceProvider) -> None:
    if threading.get_ident() != dul.ident:  # the DUL thread itself is awake already
        _wake_dul_from_anywhere(dul)


def _bounded_by(timer: Timer) -> float:
    """How long to wait at most: :data:`MAX_WAIT_S`, or less when ``timer`` runs out sooner."""
    running = timer.timeout is not None and timer._start_time is not None
    if running and timer._end_time is None:
        return min(MAX_WAIT_S, max(timer.remaining, 0.0))
    return MAX_WAIT_S


def _wake_dul_from_anywhere(dul: DULServiceProvider) -> None:
    # (No wake-up pair before the thread runs: it looks at its queues when it starts.)
    wake = getattr(dul, "_ws_wake", None)
    if wake is not None:
        wake.set()


def _dul_socket(dul: DULServiceProvider) -> socket.socket | None:
    """The connected socket to wait on, or None (not yet connected, or closed)."""
    assoc_socket = dul.socket
    if assoc_socket is None or not assoc_socket._is_connected:
        return None
    return assoc_socket.socket


def _dul_wait(dul: DULServiceProvider) -> None:
    sock = _dul_socket(dul)
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return  # decrypted bytes are buffered: select would not see them
    dul._ws_wake.wait(sock, _bounded_by(dul.artim_timer))  # type: ignore[attr-defined]


def _dul_run_reactor(self: DULServiceProvider) -> None:
    """``DULServiceProvider.run_reactor``, waiting instead of sleeping 1 ms."""
    # Made here, not with the DUL: a DUL that never runs (a refused TLS handshake, say)
    # then holds no sockets.  Whatever was queued before it existed is seen below.
    self._ws_wake = SocketWake()  # type: ignore[attr-defined]
    _waking_put(self.to_provider_queue, lambda: _wake_dul_from_anywhere(self))
    _waking_put(self.event_queue, lambda: _wake_dul(self))
    self._idle_timer.start()
    try:
        while True:
            if not self.assoc._dul_ready.is_set():
                self.assoc._dul_ready.set()
            if self._kill_thread:
                break
            # The ARTIM timer first, so its event is queued ahead of any other.
            if self.artim_timer.expired:
                self.event_queue.put("Evt18")
            try:
                # Per loop: encode and send one primitive OR receive and decode one PDU.
                if self._process_recv_primitive():
                    pass
                elif _receive(self):
                    self._idle_timer.restart()
            except Exception:  # noqa: BLE001 - as pynetdicom: any error aborts
                _dul_log.exception("Exception in DUL.run(), aborting association")
                _hard_abort(self)
                return
            try:
                event = self.event_queue.get(block=False)
            except queue.Empty:
                _dul_wait(self)
                continue
            self.state_machine.do_action(event)
    finally:
        self._ws_wake.close()  # type: ignore[attr-defined]
        assoc_wake = getattr(self.assoc, "_ws_event", None)
        if assoc_wake is not None:
            assoc_wake.set()


_P_DATA_TF = 0x04
_EVENTS_ON_EACH_PDU = (evt.EVT_DATA_RECV, evt.EVT_PDU_RECV, evt.EVT_FSM_TRANSITION)


def _receive(dul: DULServiceProvider) -> bool:
    """``DULServiceProvider._is_transport_event``, delivering P-DATA-TF directly.

    True when something was received (an event queued or a P-DATA delivered).
    """
    assoc_socket = dul.socket
    if (
        dul.state_machine.current_state != "Sta6"
        or not dul.event_queue.empty()
        or assoc_socket is None
        or not assoc_socket.ready
        or _next_pdu_type(assoc_socket.socket) != _P_DATA_TF
        or any(dul.assoc.get_handlers(event) for event in _EVENTS_ON_EACH_PDU)
    ):
        return dul._is_transport_event()
    header = assoc_socket.recv(6)
    length = struct.unpack(">L", header[2:6])[0] if len(header) == 6 else -1
    body = assoc_socket.recv(length) if length >= 0 else b""
    if len(body) != length:
        # Closed, timed out or refused by the PDU guard: as pynetdicom, Evt17.
        dul.event_queue.put("Evt17")
        return True
    items = _pdv_items(body)
    if items is None:
        dul.event_queue.put("Evt19")  # invalid PDU: the state machine aborts
        return True
    primitive = P_DATA()
    primitive.presentation_data_value_list.extend(items)  # (as P_DATA_TF.to_primitive)
    dul.assoc.dimse.receive_primitive(primitive)
    return True


def _next_pdu_type(sock: socket.socket | None) -> int | None:
    """The first byte waiting on ``sock``, left there; None on TLS or when unknown."""
    if sock is None or isinstance(sock, ssl.SSLSocket):
        return None
    try:
        first = sock.recv(1, socket.MSG_PEEK)
    except (OSError, ValueError):
        return None
    return first[0] if first else None


def _pdv_items(body: bytes | bytearray) -> list[tuple[int, bytes]] | None:
    """The (presentation context ID, control header + fragment) items of a P-DATA-TF
    body, as pynetdicom's decoder gives them; None if they do not tile the body."""
    items: list[tuple[int, bytes]] = []
    view = memoryview(body)
    offset, end = 0, len(body)
    while offset < end:
        if offset + 6 > end:
            return None
        (item_length,) = struct.unpack_from(">L", body, offset)
        if item_length < 2 or offset + 4 + item_length > end:
            return None
        items.append((body[offset + 4], bytes(view[offset + 5 : offset + 4 + item_length])))
        offset += 4 + item_length
    return items or None


def _hard_abort(dul: DULServiceProvider) -> None:
    """Bypass the state machine (its state is unknown after an error) and send A-ABORT."""
    abort_pdu = A_ABORT_RQ()
    abort_pdu.source = 0x02
    abort_pdu.reason_diagnostic = 0x00
    with contextlib.suppress(Exception):
        cast(Any, dul.socket).send(abort_pdu.encode())
    assoc = dul.assoc
    assoc.is_aborted = True
    assoc.is_established = False
    assoc._kill = True
    dul._kill_thread = True


# -- the association thread ----------------------------------------------------------------
def _assoc_wait(assoc: Association) -> None:
    timeout = _bounded_by(assoc.dul._idle_timer)
    # Waiting touches no queue: an SCU call that pauses the reactor may start now.
    assoc._is_paused = True
    assoc._ws_event.wait(timeout)  # type: ignore[attr-defined]


def _checkpoint(assoc: Association) -> None:
    """Stop here while an SCU call has the reactor paused.

    An SCU call (``send_c_echo`` and the like) clears ``_reactor_checkpoint``, waits
    until ``_is_paused`` is true, sends its request and takes the response off the DIMSE
    queue.  pynetdicom's loop leaves ``_is_paused`` true from the moment it *starts*
    waiting at the checkpoint until it has *passed* it; a call that clears the checkpoint
    in between (typically the next call, right after the previous one set it again) sees
    a paused reactor that is in fact running on, and if that thread gets the CPU only
    after the response has arrived, it takes the response ("Received unexpected C-ECHO
    service message") and the call waits for the DIMSE timeout.  So after passing, the
    reactor says it runs and only then looks at the checkpoint again: either the call
    saw it running and waits for it to pause, or the reactor sees the cleared checkpoint
    and pauses again.  (Both threads hold the GIL for each step, so their writes and
    reads are seen in one order.)
    """
    while True:
        assoc._is_paused = True
        assoc._reactor_checkpoint.wait()
        assoc._is_paused = False
        if assoc._reactor_checkpoint.is_set():
            return


def _assoc_run_reactor(self: Association) -> None:
    """``Association._run_reactor``, waiting for work instead of sleeping 1 ms."""
    # What arrived before the wake-up existed is in the queues; the loop looks first.
    wake = self._ws_event = threading.Event()  # type: ignore[attr-defined]
    _waking_put(self.dul.to_user_queue, wake.set)
    _waking_put(self.dimse.msg_queue, wake.set)
    self._is_paused = False
    while not self._kill:
        _checkpoint(self)
        wake.clear()  # before looking: a wake-up from now on is not lost

        context_id, msg = self.dimse.get_msg(block=False)
        if msg:
            self._serve_request(msg, cast(int, context_id))

        if self.is_established and self.acse.is_release_requested():
            self.acse.send_release(is_response=True)
            _assoc_log.info("Association Released")
            self.is_released = True
            self.is_established = False
            evt.trigger(self, evt.EVT_RELEASED, {})
            self.kill()
            return

        if self.acse.is_aborted():
            peer_abort = " (A-P-ABORT)" if self.acse.is_aborted("a-p-abort") else ""
            _assoc_log.info("Association Aborted%s", peer_abort)
            self.dul.receive_pdu(wait=False)  # so EVT_ACSE_RECV fires for subscribers
            self.is_aborted = True
            self.is_established = False
            evt.trigger(self, evt.EVT_ABORTED, {})
            self.kill()
            return

        if not self.dul.is_alive():
            self.kill()
            return

        if self.dul.idle_timer_expired():
            _assoc_log.error("Network timeout reached")
            if self.network_timeout_response == "A-RELEASE":
                self._is_paused = True
                self._reactor_checkpoint.wait()
                self.release()
                self._is_paused = False
            else:
                self.abort()
            self.kill()
            return

        if not msg:
            _assoc_wait(self)


# -- what the tuning replaces ----------------------------------------------------------------
def _kill(original: Callable[[Association], None]) -> Callable[[Association], None]:
    def kill(self: Association) -> None:
        wake = getattr(self, "_ws_event", None)
        if wake is not None:
            wake.set()
        original(self)

    return kill


def _kill_dul(
    original: Callable[[DULServiceProvider], None],
) -> Callable[[DULServiceProvider], None]:
    def kill_dul(self: DULServiceProvider) -> None:
        original(self)
        _wake_dul_from_anywhere(self)

    return kill_dul


def _stop_dul(self: DULServiceProvider) -> bool:
    """As pynetdicom's, but wakes the reactor and joins it instead of polling."""
    if self.state_machine.current_state != "Sta1":
        return False
    self._kill_thread = True
    _wake_dul_from_anywhere(self)
    while self.is_alive():
        self.join(MAX_WAIT_S)
    return True


def replacements() -> list[tuple[type, str, Any]]:
    """(class, attribute, new value) for :mod:`.pynetdicom_tuning` to install: the two
    reactors, and the kill/stop calls that must wake them."""
    return [
        (Association, "_run_reactor", _assoc_run_reactor),
        (Association, "kill", _kill(Association.kill)),
        (DULServiceProvider, "run_reactor", _dul_run_reactor),
        (DULServiceProvider, "kill_dul", _kill_dul(DULServiceProvider.kill_dul)),
        (DULServiceProvider, "stop_dul", _stop_dul),
    ]


#: The pynetdicom code the functions above replace or mirror step for step.
MIRRORED = (
    Association._run_reactor,
    Association.kill,
    DULServiceProvider.run_reactor,
    DULServiceProvider.kill_dul,
    DULServiceProvider.stop_dul,
    DULServiceProvider._is_transport_event,
    DULServiceProvider.__init__,  # the queues we wake on
)
