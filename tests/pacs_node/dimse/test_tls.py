"""DICOM TLS with client certificates: our SCU and SCP, certificates made by a test CA."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness.ports import free_port, port_open, wait_until
from workstation.config import PeerNode, Settings

pytestmark = pytest.mark.network


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    subject: str, key: Any, issuer: x509.Certificate | None, issuer_key: Any, *, ca: bool = False
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder: Path, name: str, cert: x509.Certificate, key: Any = None) -> tuple[str, str]:
    crt = folder / f"{name}.crt"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is None:
        return str(crt), ""
    pem = folder / f"{name}.key"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(crt), str(pem)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, tuple[str, str]]:
    ca_key = _key()
    ca = _cert("Klinika test CA", ca_key, None, ca_key, ca=True)
    out = {"ca": _write(tmp_path, "ca", ca)}
    for name in ("server", "client"):
        key = _key()
        out[name] = _write(tmp_path, name, _cert(name, key, ca, ca_key), key)
    stranger_key = _key()
    out["stranger"] = _write(
        tmp_path, "stranger", _cert("x", stranger_key, None, stranger_key), stranger_key
    )
    return out


def test_tls_with_client_certificates(settings: Settings, pki: dict[str, tuple[str, str]]) -> None:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.errors import AssociationFailed
    from workstation.pacs_node.dimse.scu import DimseNode
    from workstation.pacs_node.dimse.service import start_node_service

    port = free_port()
    server = dataclasses.replace(
        settings,
        node=dataclasses.replace(
            settings.node, ae_title="TLSNODE", port=port, bind_address="127.0.0.1",
            tls_certificate=pki["server"][0], tls_private_key=pki["server"][1],
            tls_ca_certificates=pki["ca"][0], network_timeout=5.0, acse_timeout=5.0,
        ),
    )  # fmt: skip
    peer = PeerNode(name="tls", ae_title="TLSNODE", host="127.0.0.1", port=port, tls=True)

    def client(cert: tuple[str, str]) -> DimseNode:
        cfg = dataclasses.replace(
            settings,
            node=dataclasses.replace(
                settings.node, ae_title="TLSCLIENT", tls_certificate=cert[0],
                tls_private_key=cert[1], tls_ca_certificates=pki["ca"][0],
                acse_timeout=5.0, network_timeout=5.0,
            ),
        )  # fmt: skip
        return DimseNode(cfg, peer)

    with Archive.open(server) as archive, start_node_service(server, archive) as svc:
        wait_until(lambda: port_open(svc.port), 10, "TLS node")
        assert client(pki["client"]).echo() == 0
        with pytest.raises(AssociationFailed):
            client(pki["stranger"]).echo()  # a certificate the node's CA did not sign
        plain = DimseNode(settings, dataclasses.replace(peer, tls=False))
        with pytest.raises(AssociationFailed):
            plain.echo()  # no TLS at all
        assert client(pki["client"]).echo() == 0  # and it still serves
