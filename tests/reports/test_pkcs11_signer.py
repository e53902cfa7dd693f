"""Signing with a key that lives on a PKCS#11 token (SoftHSM2, the key made by OpenSC's
pkcs11-tool on the token, the certificate from the site CA written beside it): the
report code is the same as with the PKCS#12 file, and outside verifiers accept it."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.reports.conftest import Site, need_tool, pdfsig_text, pyhanko_validate, run
from workstation.reports.keystore import SigningHome
from workstation.reports.signing import sign_pdf
from workstation.reports.verify import SignatureState, verify_pdf

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "4711-pin"


@pytest.fixture
def token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed")
    need_tool("softhsm2-util")
    need_tool("pkcs11-tool")
    if not SOFTHSM.is_file():
        pytest.skip("softhsm2 is not installed")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    done = run(
        "softhsm2-util",
        "--init-token",
        "--free",
        "--label",
        "klinika",
        "--pin",
        PIN,
        "--so-pin",
        "so-" + PIN,
    )
    assert done.returncode == 0, done.stderr
    return SOFTHSM


def _tool(lib: Path, *args: str | Path) -> None:
    done = run("pkcs11-tool", "--module", lib, "--login", "--pin", PIN, *args)
    assert done.returncode == 0, done.stderr + done.stdout


def test_token_key_signs_a_report(signing_site: Site, token: Path, tmp_path: Path) -> None:
    from workstation.reports.pkcs11_signer import Pkcs11Signer

    _tool(token, "--keypairgen", "--key-type", "EC:prime256v1", "--label", "dora", "--id", "01")
    _tool(token, "--read-object", "--type", "pubkey", "--label", "dora", "-o", tmp_path / "pub.der")
    public = serialization.load_der_public_key((tmp_path / "pub.der").read_bytes())
    home = SigningHome(signing_site.settings.signing_dir)  # type: ignore[attr-defined]
    cert = home.ca().issue_signing_cert(public, "dora (token)", "dora")  # type: ignore[arg-type]
    (tmp_path / "cert.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    _tool(
        token,
        "--write-object",
        tmp_path / "cert.der",
        "--type",
        "cert",
        "--label",
        "dora",
        "--id",
        "01",
    )

    doctor = signing_site.reports("dora")
    draft = doctor.create(signing_site.study_uid, "mr_brain", "en", {"impression": "Normal."})
    signer = Pkcs11Signer(str(token), "klinika", PIN, "dora")
    try:
        assert signer.certificate == cert
        from cryptography import x509

        tsa = home.tsa()
        unsigned = doctor.preview(draft.report_id)
        cpu = []
        for _ in range(3):  # one open token session, several signatures
            started = time.process_time()
            signed = sign_pdf(
                unsigned,
                signer,
                home.anchor(),
                home.timestamper(),
                tsa_certs=(x509.load_der_x509_certificate(tsa.cert.dump()),),
            )
            cpu.append(time.process_time() - started)
            result = verify_pdf(signed, home.ca().cert)
            assert result.state == SignatureState.VALID and result.signer == "dora (token)"
    finally:
        signer.close()
    assert statistics.median(cpu) < 1.0, cpu
    pdf = tmp_path / "token.pdf"
    pdf.write_bytes(signed)
    ca = signing_site.ca_pem(tmp_path)
    text = pdfsig_text(pdf, ca, tmp_path)
    assert "Signature is Valid." in text and "Certificate is Trusted." in text, text
    assert pyhanko_validate(pdf, ca).returncode == 0
