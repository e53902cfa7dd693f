"""The standalone site's timestamp authority refuses what it cannot stamp with a proper
RFC 3161 rejection (openssl reads it), and a refused timestamp stops the signature with
a clear reason before any file is written."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from asn1crypto import tsp
from pyhanko.sign.timestamps import TimestampRequestError

from tests.reports.conftest import Site, run
from workstation.reports.errors import SigningRefused
from workstation.reports.keystore import SigningHome
from workstation.reports.model import ReportStatus
from workstation.reports.tsa import LocalTimeStamper, read_reply


def _request(algorithm: str, digest: bytes) -> bytes:
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": algorithm},
                "hashed_message": digest,
            },
            "cert_req": True,
        }
    ).dump()


def _refusal(reply: bytes) -> str:
    with pytest.raises(TimestampRequestError) as refused:
        read_reply(reply)
    return str(refused.value)


def test_rejections_are_well_formed_and_openssl_reads_them(
    signing_site: Site, tmp_path: Path
) -> None:
    tsa = SigningHome(signing_site.settings.signing_dir).tsa()  # type: ignore[attr-defined]
    good = tsa.respond(_request("sha256", hashlib.sha256(b"report").digest()))
    assert read_reply(good)["status"]["status"].native == "granted"

    short = tsa.respond(_request("sha256", b"\x00" * 20))  # a digest of the wrong size
    assert _refusal(short) == "the timestamp authority refused the request (bad_alg)"
    unknown = tsa.respond(_request("md5", hashlib.md5(b"report").digest()))
    assert _refusal(unknown) == "the timestamp authority refused the request (bad_alg)"
    garbage = tsa.respond(b"\x30\x03\x02\x01")
    assert _refusal(garbage).endswith("(bad_data_format)")
    assert "malformed" in _refusal(b"\x30\x02\x05\x00")

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    reply = tmp_path / "rejected.tsr"
    reply.write_bytes(short)
    text = run(openssl, "ts", "-reply", "-in", reply, "-text").stdout
    assert "Status: Rejected" in text and "unrecognized or unsupported algorithm" in text, text


class _BrokenClient(LocalTimeStamper):
    """A time-stamp client that sends a truncated message imprint (a hostile or broken
    peer): the real local authority answers it."""

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        bad = _request("sha256", req["message_imprint"]["hashed_message"].native[:16])
        return read_reply(self.tsa.respond(bad))


def test_a_refused_timestamp_stops_the_signature_with_its_reason(
    signing_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("workstation.reports.tsa.LocalTimeStamper", _BrokenClient)
    doctor = signing_site.reports("dora")
    report = doctor.create(signing_site.study_uid, "ct_head", "en", {"impression": "Normal."})
    with pytest.raises(SigningRefused, match=r"no timestamp.*refused the request \(bad_alg\)"):
        doctor.sign(report.report_id)
    after = signing_site.store.get(report.report_id)
    assert after.status == ReportStatus.DRAFT and signing_site.store.pdf(report.report_id) is None
    failed = signing_site.audit.events(action="report_sign")[-1]
    assert failed.outcome == "failure" and "bad_alg" in failed.detail["reason"]
