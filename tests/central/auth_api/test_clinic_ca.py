"""The clinic CA and timestamp authority of the central service, against a real server:
``central-auth ca init|export``, enrolment with a CSR made by ``cryptography``, the chain
checked by ``openssl verify -crl_check``, revocation listed in the published CRL, and an
RFC 3161 reply checked by ``openssl ts -verify``."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.central.auth_api.contract import ContractClient

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


def _csr(name: str, key: Any = None) -> tuple[Any, str]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def _crl_pem(client: ContractClient, path: Path) -> x509.CertificateRevocationList:
    response = client.get("/ca/crl")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return crl


def _events(client: ContractClient, action: str) -> list[dict[str, Any]]:
    response = client.get(f"/audit/events?action={action}", token=client.admin_token())
    assert response.status_code == 200
    return response.json()["events"]


def test_ca_init_refuses_a_second_ca_and_keeps_keys_encrypted(ca_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    again = ca_server.cli("ca", "init")
    assert again.returncode == 1 and "exists already" in again.stderr
    folder = ca_server.data_dir / "ca"
    for name in ("ca.key.pem", "tsa.key.pem"):
        text = (folder / name).read_text()
        assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), name
        assert (folder / name).stat().st_mode & 0o077 == 0, name
        with pytest.raises((TypeError, ValueError)):
            serialization.load_pem_private_key(text.encode(), None)
    out = tmp_path / "ca.pem"
    exported = ca_server.cli("ca", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    ca = x509.load_pem_x509_certificate(out.read_bytes())
    assert ca.subject.rfc4514_string() == "O=Klinika Test Clinic CA,CN=Klinika Test Clinic CA"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_enrol_verify_revoke_and_crl(ca_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doctor, password = ca_server.new_user("doctor")
    token = ca_server.login_ok(doctor["username"], password)["access_token"]
    _key, csr = _csr(doctor["username"])
    issued = ca_server.post("/ca/enroll", token=token, json={"csr": csr})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    cert = x509.load_pem_x509_certificate(body["certificate"].encode())
    ca = x509.load_pem_x509_certificate(body["ca_certificate"].encode())
    assert cert.issuer == ca.subject
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == doctor["username"]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign and not ku.value.key_encipherment
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=700) < life <= dt.timedelta(days=730)
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == "http://central.test/ca/crl"
    assert body["serial"] == format(cert.serial_number, "x")
    assert body["fingerprint_sha256"] == cert.fingerprint(hashes.SHA256()).hex()

    (tmp_path / "ca.pem").write_text(body["ca_certificate"])
    (tmp_path / "doctor.pem").write_text(body["certificate"])
    crl = _crl_pem(ca_server, tmp_path / "crl.pem")
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is None
    verify = ("verify", "-crl_check", "-CAfile", tmp_path / "ca.pem")
    good = _openssl(*verify, "-CRLfile", tmp_path / "crl.pem", tmp_path / "doctor.pem")
    assert good.returncode == 0 and ": OK" in good.stdout, good.stdout + good.stderr

    doctor_revoke = ca_server.post("/admin/ca/revoke", token=token, json={"serial": body["serial"]})
    assert doctor_revoke.status_code == 403
    revoked = ca_server.post(
        "/admin/ca/revoke",
        token=ca_server.admin_token(),
        json={"serial": body["serial"].upper(), "reason": "key_compromise"},
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] and revoked.json()["revocation_reason"] == "key_compromise"
    twice = ca_server.post(
        "/admin/ca/revoke", token=ca_server.admin_token(), json={"serial": body["serial"]}
    )
    assert twice.status_code == 409 and twice.json()["error"] == "already_revoked"
    unknown = ca_server.post(
        "/admin/ca/revoke", token=ca_server.admin_token(), json={"serial": "abc123"}
    )
    assert unknown.status_code == 404

    crl = _crl_pem(ca_server, tmp_path / "crl.pem")
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    bad = _openssl(*verify, "-CRLfile", tmp_path / "crl.pem", tmp_path / "doctor.pem")
    assert bad.returncode != 0 and "revoked" in (bad.stdout + bad.stderr)

    issued_events = [
        e for e in _events(ca_server, "ca.certificate_issued") if e["actor"] == doctor["username"]
    ]
    assert [e["details"]["serial"] for e in issued_events] == [body["serial"]]
    revoked_events = [
        e for e in _events(ca_server, "ca.certificate_revoked")
        if e["details"]["serial"] == body["serial"]
    ]  # fmt: skip
    assert len(revoked_events) == 1 and revoked_events[0]["actor"] == ca_server.admin_username

    delete = ca_server.delete(f"/admin/users/{doctor['id']}", token=ca_server.admin_token())
    assert delete.status_code == 409 and delete.json()["error"] == "user_has_certificates"


def test_enrolment_refusals(ca_server) -> None:  # type: ignore[no-untyped-def]
    doctor, password = ca_server.new_user("doctor")
    token = ca_server.login_ok(doctor["username"], password)["access_token"]
    other = ca_server.post("/ca/enroll", token=token, json={"csr": _csr("someone-else")[1]})
    assert other.status_code == 400 and other.json()["error"] == "invalid_csr"
    refused = [e for e in _events(ca_server, "ca.enroll") if e["actor"] == doctor["username"]]
    assert len(refused) == 1 and refused[0]["outcome"] == "failure"
    assert "user name" in refused[0]["details"]["reason"]
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    short = ca_server.post(
        "/ca/enroll", token=token, json={"csr": _csr(doctor["username"], weak)[1]}
    )
    assert short.status_code == 400 and short.json()["error"] == "invalid_csr"
    garbage = ca_server.post("/ca/enroll", token=token, json={"csr": "not a CSR"})
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_csr"
    extra = ca_server.post(
        "/ca/enroll", token=token, json={"csr": _csr(doctor["username"])[1], "days": 9999}
    )
    assert extra.status_code == 400 and extra.json()["error"] == "invalid_body"
    operator = ca_server.post(
        "/ca/enroll",
        token=ca_server.token_for("operator"),
        json={"csr": _csr(ca_server.user_for("operator")[0])[1]},
    )
    assert operator.status_code == 403 and operator.json()["permission"] == "reports.sign"
    anonymous = ca_server.post("/ca/enroll", json={"csr": _csr(doctor["username"])[1]})
    assert anonymous.status_code == 401


def test_enrolment_needs_a_fresh_totp_code_when_mfa_is_on(ca_server) -> None:  # type: ignore[no-untyped-def]
    doctor, password = ca_server.new_user("doctor")
    token = ca_server.login_ok(doctor["username"], password)["access_token"]
    setup = ca_server.post("/auth/mfa/setup", token=token, json={"password": password})
    totp = pyotp.TOTP(setup.json()["secret"])
    used = totp.now()
    assert ca_server.post("/auth/mfa/confirm", token=token, json={"totp": used}).status_code == 200
    csr = _csr(doctor["username"])[1]
    without = ca_server.post("/ca/enroll", token=token, json={"csr": csr})
    assert without.status_code == 403 and without.json()["error"] == "mfa_required"
    replay = ca_server.post("/ca/enroll", token=token, json={"csr": csr, "totp": used})
    assert replay.status_code == 403 and replay.json()["error"] == "invalid_totp"
    wrong = "000000" if totp.at(time.time() + 30) != "000000" else "111111"
    guess = ca_server.post("/ca/enroll", token=token, json={"csr": csr, "totp": wrong})
    assert guess.status_code == 403 and guess.json()["error"] == "invalid_totp"
    failures = [
        e for e in _events(ca_server, "ca.enroll") if e["actor"] == doctor["username"]
    ]  # fmt: skip
    # the replayed and the wrong code both count toward the lockout of this name
    assert [(e["details"]["reason"], e["details"]["failures"]) for e in failures] == [
        ("bad_totp", 1),
        ("bad_totp", 2),
    ]
    fresh = totp.at(time.time() + 30)
    ok = ca_server.post("/ca/enroll", token=token, json={"csr": csr, "totp": fresh})
    assert ok.status_code == 201, ok.text
    again = ca_server.post("/ca/enroll", token=token, json={"csr": csr, "totp": fresh})
    assert again.status_code == 403 and again.json()["error"] == "invalid_totp"
    events = _events(ca_server, "ca.certificate_issued")
    assert any(e["actor"] == doctor["username"] and e["details"]["mfa"] for e in events)


def test_timestamp_verified_by_openssl(ca_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "report.pdf"
    data.write_bytes(b"%PDF-1.7\nnot really a report\n%%EOF\n")
    query = tmp_path / "q.tsq"
    made = _openssl("ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
    assert made.returncode == 0, made.stderr
    token = ca_server.token_for("doctor")
    headers = {"Content-Type": "application/timestamp-query"}
    reply = ca_server.post("/tsa", token=token, data=query.read_bytes(), headers=headers)
    assert (
        reply.status_code == 200 and reply.headers["Content-Type"] == "application/timestamp-reply"
    )
    (tmp_path / "r.tsr").write_bytes(reply.content)
    ca_pem = tmp_path / "ca.pem"
    assert ca_server.cli("ca", "export", "--out", str(ca_pem)).returncode == 0
    checked = _openssl("ts", "-verify", "-data", data, "-in", tmp_path / "r.tsr", "-CAfile", ca_pem)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, (
        checked.stdout + checked.stderr
    )
    text = _openssl("ts", "-reply", "-in", tmp_path / "r.tsr", "-text").stdout
    assert "Status: Granted." in text and "Nonce: 0x" in text

    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.7\nsomething else\n%%EOF\n")
    wrong = _openssl("ts", "-verify", "-data", other, "-in", tmp_path / "r.tsr", "-CAfile", ca_pem)
    assert wrong.returncode != 0

    anonymous = ca_server.post("/tsa", data=query.read_bytes(), headers=headers)
    assert anonymous.status_code == 401
    as_json = ca_server.post("/tsa", token=token, json={"query": "x"})
    assert as_json.status_code == 400
    junk = ca_server.post("/tsa", token=token, data=b"\x30\x03junk", headers=headers)
    assert junk.status_code == 200
    (tmp_path / "junk.tsr").write_bytes(junk.content)
    rejected = _openssl("ts", "-reply", "-in", tmp_path / "junk.tsr", "-text").stdout
    assert "Status: Rejected" in rejected
    huge = ca_server.post("/tsa", token=token, data=b"0" * 20000, headers=headers)
    assert huge.status_code == 413


def test_without_a_ca_the_endpoints_say_so(central_sqlite) -> None:  # type: ignore[no-untyped-def]
    crl = central_sqlite.get("/ca/crl")
    assert crl.status_code == 503 and crl.json()["error"] == "ca_not_configured"
    doctor = central_sqlite.token_for("doctor")
    csr = _csr(central_sqlite.user_for("doctor")[0])[1]
    enrol = central_sqlite.post("/ca/enroll", token=doctor, json={"csr": csr})
    assert enrol.status_code == 503


def test_ca_cli_refusals(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import sys

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CENTRAL_AUTH_")}
        return subprocess.run(
            [sys.executable, "-m", "klinika_auth", *args],
            env={**clean, "CENTRAL_AUTH_DATA_DIR": str(tmp_path), **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    no_pass = run("ca", "init")
    assert no_pass.returncode == 1 and "ca_key_passphrase" in no_pass.stderr
    short = run("ca", "init", CENTRAL_AUTH_CA_KEY_PASSPHRASE="short")
    assert short.returncode == 6 and "12 characters" in short.stderr
    too_long = run("ca", "init", CENTRAL_AUTH_CA_CERT_DAYS="731")
    assert too_long.returncode == 6 and "ca_cert_days" in too_long.stderr
    nothing = run("ca", "export", "--out", str(tmp_path / "ca.pem"))
    assert nothing.returncode == 1 and not (tmp_path / "ca.pem").exists()
    assert not (tmp_path / "ca").exists()
