"""JWKS caching and refresh of the plugin's key ring, against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from klinika_keys import KeyRing, keys_from_jwks


class JwksServer:
    """Serves ``self.doc`` at /jwks.json and counts the requests."""

    def __init__(self) -> None:
        self.doc: Any = {"keys": []}
        self.hits = 0
        self.fail = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                if owner.fail:
                    self.send_error(503)
                    return
                body = json.dumps(owner.doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def _jwk(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_unknown_kid_refreshes_at_most_every_min_interval(jwks: JwksServer) -> None:
    clock = Clock()
    ring = KeyRing(jwks_url=jwks.url, min_refresh_seconds=10, cache_seconds=300, clock=clock)
    jwks.doc = {"keys": [_jwk("a")]}
    assert [k.kid for k in ring.keys_for("a")] == ["a"]
    assert jwks.hits == 1
    # A rotated key appears: the first token naming it triggers one fetch...
    jwks.doc = {"keys": [_jwk("a"), _jwk("b")]}
    assert ring.keys_for("b") == []  # within the minimum interval: no fetch yet
    clock.now += 11
    assert [k.kid for k in ring.keys_for("b")] == ["b"]
    assert jwks.hits == 2
    # ...and forged kids cannot make it fetch again and again.
    for i in range(50):
        assert ring.keys_for(f"forged-{i}") == []
    assert jwks.hits == 2


def test_failed_fetch_keeps_known_keys_and_cache_expires(jwks: JwksServer) -> None:
    clock = Clock()
    ring = KeyRing(jwks_url=jwks.url, min_refresh_seconds=1, cache_seconds=60, clock=clock)
    jwks.doc = {"keys": [_jwk("a")]}
    assert ring.keys_for("a")
    jwks.fail = True
    clock.now += 61  # stale: refetch, which fails
    assert [k.kid for k in ring.keys_for("a")] == ["a"]
    assert jwks.hits == 2
    jwks.fail = False
    jwks.doc = {"keys": [_jwk("c")]}  # "a" retired by the auth API
    clock.now += 2
    assert ring.keys_for("a") == []
    assert [k.kid for k in ring.keys_for("c")] == ["c"]


def test_jwks_documents_are_filtered_and_bounded(jwks: JwksServer) -> None:
    good = _jwk("ok")
    doc = {
        "keys": [
            good,
            {**good, "kid": "enc", "use": "enc"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            "not-a-key",
        ]
    }
    assert [k.kid for k in keys_from_jwks(doc)] == ["ok"]
    with pytest.raises(ValueError):
        keys_from_jwks({"nokeys": []})
    jwks.doc = {"keys": [good], "padding": "x" * (300 * 1024)}
    ring = KeyRing(jwks_url=jwks.url)
    assert ring.keys_for("ok") == []  # oversized document refused


def test_static_keys_without_kid_match_every_token() -> None:
    from cryptography.hazmat.primitives import serialization
    from klinika_jwt import load_pem_public_key

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    anykid = load_pem_public_key(pem)
    named = load_pem_public_key(pem, kid="n")
    ring = KeyRing([anykid, named])
    assert ring.keys_for("n") == [anykid, named]
    assert ring.keys_for("x") == [anykid]
    assert ring.keys_for(None) == [anykid, named]
