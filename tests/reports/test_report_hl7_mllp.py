"""A signed report's ORU^R01 through the outbox to a RIS over MLLP.

The RIS is a real listener socket in this test: it checks the MLLP framing of every
block (0x0B ... 0x1C 0x0D), parses the message with the independent ``hl7`` package and
with hl7apy (``validate()``), and answers the ACK code the test asks for (or nothing).
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import hl7
import pytest

from tests.reports.conftest import Site
from tests.reports.outbox_site import (
    outbox_actions,
    outbox_worker,
    run_until,
    sign_new,
    with_reports,
)
from workstation.pacs_node.sync.jobs import JobState
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.reports.mllp import END, START, Ack, AckVerdict, MllpError, parse_ack, send_message


@dataclass
class Ris:
    """An MLLP listener: one message per connection, answered with ``codes`` in turn."""

    codes: list[str] = field(default_factory=lambda: ["AA"])
    received: list[str] = field(default_factory=list)
    bad_frames: list[bytes] = field(default_factory=list)
    sock: socket.socket = field(default_factory=lambda: socket.socket())

    def __post_init__(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                self._one(conn)

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        data = b""
        while not data.endswith(END):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if not (data.startswith(START) and data.endswith(END)) or data.count(START) != 1:
            self.bad_frames.append(data[:50])
            return
        text = data[1:-2].decode("utf-8")
        self.received.append(text)
        code = self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]
        if code == "silent":
            conn.recv(1)  # keep the link open without answering
            return
        control = str(hl7.parse(text).segment("MSH")[10])
        ack = f"MSH|^~\\&|RIS|HOSP|KLINIKA||20261207||ACK^R01^ACK|A{control}|P|2.5.1\rMSA|{code}|{control}|reason {code}\r"
        conn.sendall(START + ack.encode() + END)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def ris() -> Iterator[Ris]:
    peer = Ris()
    yield peer
    peer.close()


def _hl7_site(site: Site, ris: Ris, timeout: float = 5.0) -> Site:
    return with_reports(
        site, hl7_enabled=True, hl7_host="127.0.0.1", hl7_port=ris.port,
        hl7_receiving_application="RIS", hl7_timeout_seconds=timeout,
    )  # fmt: skip


def test_signed_report_reaches_the_ris_and_an_amendment_is_resent_as_c(
    signing_site: Site, ris: Ris
) -> None:
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    site = _hl7_site(signing_site, ris)
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(site, queue)
    ris.codes = ["AR", "AA"]  # first "busy": retried; then accepted
    first = sign_new(doctor, site.study_uid, "Ни одного очага.")
    (job_id,) = [j.id for j in queue.jobs() if j.kind == "report_hl7"]
    worker = outbox_worker(site, queue)
    job = run_until(worker, queue, job_id, JobState.DONE)
    assert job.attempts == 2 and len(ris.received) == 2 and not ris.bad_frames
    assert ris.received[0] == ris.received[1]  # the same message, the same MSH-10

    msg = hl7.parse(ris.received[-1])
    assert str(msg.segment("MSH")[18]) == "UNICODE UTF-8"
    assert str(msg.segment("OBR")[25]) == "F"
    assert str(msg.segment("OBR")[4][0][0]) == "18748-4"
    assert str(msg.segment("PID")[5][0][0]) == "MUSTERMANN"
    pdf = signing_site.store.pdf(first.report_id)
    ed = next(s for s in msg.segments("OBX") if str(s[2]) == "ED")
    assert base64.b64decode(str(ed[5][0][4])) == pdf
    assert any("Ни одного очага." in str(s[5]) for s in msg.segments("OBX"))
    parsed = parse_message(ris.received[-1], validation_level=VALIDATION_LEVEL.TOLERANT)
    assert parsed.validate() is True

    amendment = doctor.amend(first.report_id, "Side corrected")
    doctor.sign(amendment.report_id)
    jobs = [j.id for j in queue.jobs() if j.kind == "report_hl7" and j.state is JobState.QUEUED]
    assert len(jobs) == 1
    run_until(worker, queue, jobs[0], JobState.DONE)
    assert str(hl7.parse(ris.received[-1]).segment("OBR")[25]) == "C"


def test_ae_fails_for_good_and_silence_is_retried_after_a_restart(
    signing_site: Site, ris: Ris
) -> None:
    site = _hl7_site(signing_site, ris, timeout=1.0)
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(site, queue)
    ris.codes = ["AE"]
    sign_new(doctor, site.study_uid)
    (refused,) = [j.id for j in queue.jobs() if j.kind == "report_hl7"]
    job = run_until(outbox_worker(site, queue), queue, refused, JobState.FAILED)
    assert "AE" in job.last_error and "reason AE" in job.last_error

    ris.codes = ["silent"]
    sign_new(doctor, site.study_uid)
    waiting = max(j.id for j in queue.jobs() if j.kind == "report_hl7")
    worker = outbox_worker(site, queue)
    worker.run_once()
    job = queue.job(waiting)  # type: ignore[assignment]
    assert job is not None and job.state is JobState.QUEUED
    assert "no complete answer in time" in job.last_error

    # A restart: a new queue and worker on the same database finish the job.
    ris.codes = ["AA"]
    again = SyncQueue(site.archive.engine)
    job = run_until(outbox_worker(site, again), again, waiting, JobState.DONE)
    assert job.attempts >= 2


def test_mllp_client_against_nobody_and_ack_parsing() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MllpError):
        send_message("127.0.0.1", port, b"MSH|^~\\&|X\r", timeout_s=2)
    ack = parse_ack(b"MSH|^~\\&|RIS||||||ACK|1|P|2.5.1\rMSA|AR|abc|busy\r")
    assert ack == Ack("AR", "abc", "busy") and ack.verdict is AckVerdict.RETRY
    assert parse_ack(b"MSH|^~\\&|R\rMSA|CA|x\r").verdict is AckVerdict.ACCEPTED
    with pytest.raises(MllpError):
        parse_ack(b"not hl7")
