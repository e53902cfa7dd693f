"""DICOM TLS (PS3.15 annex B): server and client SSL contexts from the node settings.

The SCP speaks TLS when ``node.tls_certificate`` and ``node.tls_private_key`` are set.
With ``node.tls_ca_certificates`` it also demands a client certificate signed by one of
those CAs.  Outgoing associations to a peer marked ``tls = true`` verify the peer
against the same CA file (or the system store) and present our certificate.
"""

from __future__ import annotations

import ssl

from workstation.config import NodeSettings


def server_context(node: NodeSettings) -> ssl.SSLContext | None:
    if not (node.tls_certificate and node.tls_private_key):
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(node.tls_certificate, node.tls_private_key)
    if node.tls_ca_certificates:
        ctx.load_verify_locations(node.tls_ca_certificates)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_context(node: NodeSettings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if node.tls_ca_certificates:
        ctx.load_verify_locations(node.tls_ca_certificates)
    if node.tls_certificate and node.tls_private_key:
        ctx.load_cert_chain(node.tls_certificate, node.tls_private_key)
    return ctx
