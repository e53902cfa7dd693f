"""A WADO-RS retrieve from a server that misbehaves: a part that is not DICOM is
refused with its reason and the others are kept; a stream that breaks off leaves every instance
received before the break durable and reported, and the archive consistent.

The server is a real HTTP server on 127.0.0.1 that answers with hand-made multipart
bodies (the hostile peer Orthanc will not play).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from tests.pacs_node.dimse.data import write_study
from workstation.config import Settings
from workstation.pacs_node.archive.check import check_archive
from workstation.pacs_node.dicomweb.client import DicomWebNode
from workstation.pacs_node.remote import Outcome

pytestmark = pytest.mark.network

BOUNDARY = b"klinika-test-boundary"


def _part(body: bytes) -> bytes:
    return b"--" + BOUNDARY + b"\r\nContent-Type: application/dicom\r\n\r\n" + body + b"\r\n"


class _Server:
    """Answers every GET with ``payload`` as multipart/related, then closes."""

    def __init__(self, payload: bytes) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.paths.append(self.path)
                self.send_response(200)
                self.send_header(
                    "Content-Type",
                    'multipart/related; type="application/dicom"; boundary=' + BOUNDARY.decode(),
                )
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.paths: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/dicom-web"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archive(settings: Settings) -> Iterator[Any]:
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(settings) as a:
        yield a


def _retrieve(payload: bytes, archive: Any) -> tuple[Any, list[str]]:
    server = _Server(payload)
    try:
        node = DicomWebNode(server.url, archive=archive, name="hostile", timeout_s=10)
        try:
            return node.retrieve("1.2.3.4"), server.paths
        finally:
            node.close()
    finally:
        server.close()


def test_a_part_that_is_not_dicom_is_refused_and_the_rest_kept(
    archive: Any, tmp_path: Path
) -> None:
    files = write_study(tmp_path / "s", 3)
    bodies = [f.read_bytes() for f in files]
    payload = (
        _part(bodies[0]) + _part(b"<html>502 Bad Gateway</html>" * 20) + _part(bodies[1])
        + _part(bodies[2]) + b"--" + BOUNDARY + b"--\r\n"
    )  # fmt: skip
    result, paths = _retrieve(payload, archive)
    assert paths == ["/dicom-web/studies/1.2.3.4"]
    assert [o.outcome for o in result.outcomes].count(Outcome.STORED) == 3
    failed = [o for o in result.outcomes if o.outcome is Outcome.FAILED]
    assert len(failed) == 1 and failed[0].reason
    assert not result.error
    assert archive.counts()["instances"] == 3
    for f in files:
        assert archive.get_instance(dcmread(f).SOPInstanceUID) is not None
    assert not check_archive(archive).damaged


def test_a_stream_that_breaks_off_keeps_what_arrived_before(archive: Any, tmp_path: Path) -> None:
    files = write_study(tmp_path / "s", 4)
    bodies = [f.read_bytes() for f in files]
    # Two whole parts, then the third is cut in the middle and the connection closes.
    payload = _part(bodies[0]) + _part(bodies[1]) + _part(bodies[2])[: len(bodies[2]) // 2]
    result, _paths = _retrieve(payload, archive)
    assert result.error, "a broken stream must be reported"
    stored = {o.sop_instance_uid for o in result.outcomes if o.outcome is Outcome.STORED}
    assert stored == {str(dcmread(f).SOPInstanceUID) for f in files[:2]}
    assert archive.counts()["instances"] == 2  # durable and indexed, nothing half-kept
    assert not check_archive(archive).damaged
