"""The shipped nginx front (central/deploy/nginx), run by Debian's nginx on loopback in front
of a real auth API: TLS 1.2 and 1.3 only (1.0 and 1.1 refused, proven against a client that
can speak them), HSTS and security headers on every answer, HTTP redirected to HTTPS, the
login rate limit (429 with JSON), and the client address passed on without spoofing."""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.central.auth_api.nginx_front import NginxFront, start_front
from tests.harness.ports import free_port

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                       reason="nginx not installed (Debian package nginx)"),
]  # fmt: skip

HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@pytest.fixture(scope="module")
def api_behind_proxy(auth_api_factory):  # type: ignore[no-untyped-def]
    return auth_api_factory(name="behind_nginx", proxy_count=1)


@pytest.fixture(scope="module")
def front(api_behind_proxy) -> Iterator[NginxFront]:  # type: ignore[no-untyped-def]
    server = start_front(api_behind_proxy.port, free_port())  # no Orthanc: 502 there
    yield server
    server.stop()
    shutil.rmtree(server.prefix, ignore_errors=True)


def _client_context(version: ssl.TLSVersion, cafile: Path | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE if cafile is None else ssl.CERT_REQUIRED
    if cafile is not None:
        ctx.load_verify_locations(cafile)
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer the old protocols
    return ctx


def _handshake(port: int, ctx: ssl.SSLContext) -> str:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return str(tls.version())


def _old_protocol_server(
    version: ssl.TLSVersion, cert: Path, key: Path
) -> tuple[int, threading.Thread]:
    """A one-shot TLS server that accepts ``version``: proves the client can speak it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            listener.settimeout(10)
            try:
                conn, _ = listener.accept()
                with ctx.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return port, thread


def test_modern_tls_is_served(front: NginxFront) -> None:
    assert (
        _handshake(front.https_port, _client_context(ssl.TLSVersion.TLSv1_2, front.cert))
        == "TLSv1.2"
    )
    assert (
        _handshake(front.https_port, _client_context(ssl.TLSVersion.TLSv1_3, front.cert))
        == "TLSv1.3"
    )


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_tls_is_refused(front: NginxFront, version: ssl.TLSVersion) -> None:
    ctx = _client_context(version, None)
    control_port, thread = _old_protocol_server(version, front.cert, front.prefix / "key.pem")
    try:
        spoken = _handshake(control_port, ctx)
    except ssl.SSLError as exc:
        pytest.skip(f"this OpenSSL cannot speak {version.name} even to a willing server: {exc}")
    finally:
        thread.join(10)
    assert spoken == {"TLSv1": "TLSv1", "TLSv1_1": "TLSv1.1"}[version.name]
    with pytest.raises(ssl.SSLError):
        _handshake(front.https_port, ctx)


def test_security_headers_on_every_answer(front: NginxFront) -> None:
    with requests.Session() as http:
        http.trust_env = False  # REQUESTS_CA_BUNDLE would override the session's CA
        http.verify = str(front.cert)
        answers = [
            http.get(front.url + "/health"),
            http.get(front.url + "/.well-known/jwks.json"),
            http.get(front.url + "/auth/me"),  # 401 from the API
            http.get(front.url + "/no/such/page"),  # 404 from nginx
            http.get(front.url + "/dicom-web/studies"),  # 502: no Orthanc in this test
        ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404, 502]
    assert answers[1].json()["keys"][0]["alg"] == "RS256"
    for answer in answers:
        for name, value in HEADERS.items():
            assert answer.headers.get(name) == value, (answer.url, name)
        assert "nginx/" not in answer.headers.get("Server", "")  # no version
    assert answers[3].json()["error"] == "not_found"
    # The API's own copies are replaced, not doubled.
    assert answers[0].headers["X-Frame-Options"] == "DENY"


def test_http_redirects_to_https(front: NginxFront) -> None:
    answer = requests.get(
        f"http://127.0.0.1:{front.http_port}/auth/me", allow_redirects=False, timeout=10
    )
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://127.0.0.1/auth/me"


def test_login_is_rate_limited(front: NginxFront) -> None:
    """10 a minute with a burst of 5: of 14 attempts at once, about 6 reach the API."""

    def attempt(_i: int) -> requests.Response:
        body = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "Wrong-password-1"}
        return requests.post(
            front.url + "/auth/login", json=body, verify=str(front.cert), timeout=60
        )

    with ThreadPoolExecutor(14) as pool:
        answers = list(pool.map(attempt, range(14)))
    codes = sorted(a.status_code for a in answers)
    assert 6 <= codes.count(401) <= 7, codes
    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) == 14 - codes.count(401)
    assert limited[0].json()["error"] == "rate_limited"
    assert limited[0].headers["Strict-Transport-Security"].startswith("max-age=")
    # Other API paths are not limited.
    for _ in range(3):
        assert (
            requests.get(front.url + "/health", verify=str(front.cert), timeout=10).status_code
            == 200
        )


def test_api_sees_the_client_not_a_spoofed_header(front: NginxFront, api_behind_proxy) -> None:  # type: ignore[no-untyped-def]
    admin = api_behind_proxy.login(api_behind_proxy.admin_username, api_behind_proxy.admin_password)
    answer = requests.get(
        front.url + "/auth/me",
        headers={"Authorization": f"Bearer {admin['access_token']}", "X-Forwarded-For": "6.6.6.6"},
        verify=str(front.cert),
        timeout=10,
    )
    assert answer.status_code == 200
    logins = requests.get(
        front.url + "/audit/events",
        params={"action": "auth.login", "outcome": "failure"},
        headers={"Authorization": f"Bearer {admin['access_token']}", "X-Forwarded-For": "6.6.6.6"},
        verify=str(front.cert),
        timeout=10,
    ).json()["events"]
    assert logins, "the rate-limit test's failed logins went through nginx"
    assert {e["source_ip"] for e in logins} == {"127.0.0.1"}
