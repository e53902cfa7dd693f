"""The central auth API as a real HTTP server for tests (pytest plugin).

Fixtures:

- ``auth_api`` (session): ``central-auth serve`` (gunicorn, 2 workers) on a free loopback
  port with its own SQLite database and signing key in a temp dir, and an admin user.
- ``auth_api_pg`` (session): the same on a fresh database of the ``postgres`` fixture.
- ``auth_api_factory`` (session): ``auth_api_factory(name=..., database_url=None, workers=1,
  **settings)`` starts another instance with settings overridden (e.g.
  ``lockout_base_seconds=1``), stopped at session end.

An ``AuthApiServer`` exposes ``url``, ``jwks_url``, ``public_key_pem``, ``issuer``,
``audience``, ``admin_username``/``admin_password`` and helpers ``request``, ``login``,
``create_user``, ``admin_token`` and ``token_for(role)``.  Server logs are copied to
``artifacts/auth_api/`` when a test of the session failed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.harness.ports import wait_until

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "klinika-central"
AUDIENCE = "klinika"


class AuthApiError(RuntimeError):
    def __init__(self, response: requests.Response) -> None:
        super().__init__(
            f"{response.request.method} {response.url} -> {response.status_code}: {response.text[:500]}"
        )
        self.response = response


@dataclass
class AuthApiServer:
    root: Path
    database_url: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    name: str = "auth_api"
    workers: int = 2
    admin_username: str = "harness-admin"
    admin_password: str = field(default_factory=lambda: "Adm1n-" + secrets.token_urlsafe(18))
    host: str = "127.0.0.1"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    _http: requests.Session = field(default_factory=requests.Session)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _users: dict[str, tuple[str, str]] = field(default_factory=dict)

    # -- process --------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRAL_AUTH_")}
        env["CENTRAL_AUTH_DATA_DIR"] = str(self.data_dir)
        if self.database_url:
            env["CENTRAL_AUTH_DATABASE_URL"] = self.database_url
        for key, value in self.settings.items():
            env[f"CENTRAL_AUTH_{key.upper()}"] = str(value)
        return env

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``central-auth ARGS`` against this instance's database and key."""
        return subprocess.run(
            [sys.executable, "-m", "klinika_auth", *args],
            input=stdin,
            env=self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> AuthApiServer:
        made = self.cli(
            "create-admin", "--username", self.admin_username, "--password-stdin",
            stdin=self.admin_password + "\n",
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(f"central-auth create-admin failed: {made.stderr[-3000:]}")
        return self._serve(port=0)

    def restart(self) -> AuthApiServer:
        """Serve again after a stop or a kill -9: same data, key and port."""
        return self._serve(port=self.port)

    def _serve(self, port: int) -> AuthApiServer:
        ready = self.root / "ready.json"
        ready.unlink(missing_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "klinika_auth", "serve", "--host", self.host, "--port",
                str(port), "--workers", str(self.workers), "--ready-file", str(ready),
            ],
            env=self.env(), cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"central-auth serve exited: {self.log_path.read_text()[-3000:]}"
                )
            return ready.exists()

        wait_until(up, 60, "central-auth serve")
        self.port = int(json.loads(ready.read_text())["port"])
        wait_until(self._healthy, 30, "central-auth /health")
        return self

    def _healthy(self) -> bool:
        try:
            return self._http.get(self.url + "/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def signal_stop(self) -> None:
        """Ask the server to shut down (gunicorn: graceful, workers finish their requests)."""
        self._http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        self.signal_stop()
        self.wait_stopped()

    # -- what clients need ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def jwks_url(self) -> str:
        return self.url + "/.well-known/jwks.json"

    @property
    def issuer(self) -> str:
        return str(self.settings.get("issuer", ISSUER))

    @property
    def audience(self) -> str:
        return str(self.settings.get("audience", AUDIENCE))

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "keys" / "signing-key.pem"

    @property
    def public_key_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(self.signing_key_path.read_bytes(), None)
        return (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    # -- helpers --------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 30)
        return self._http.request(method, self.url + path, headers=headers, **kwargs)

    def login(self, username: str, password: str, totp: str | None = None) -> dict[str, Any]:
        """Tokens of a successful login (``AuthApiError`` otherwise)."""
        body = {"username": username, "password": password}
        if totp is not None:
            body["totp"] = totp
        response = self.request("POST", "/auth/login", json=body)
        if response.status_code != 200:
            raise AuthApiError(response)
        return response.json()

    def admin_token(self) -> str:
        return self._cached_token(self.admin_username, self.admin_password)

    def _cached_token(self, username: str, password: str) -> str:
        token, expires = self._tokens.get(username, ("", 0.0))
        if time.monotonic() > expires - 30:
            tokens = self.login(username, password)
            token, expires = tokens["access_token"], time.monotonic() + tokens["expires_in"]
            self._tokens[username] = (token, expires)
        return token

    def create_user(self, username: str, password: str, role: str) -> dict[str, Any]:
        response = self.request(
            "POST",
            "/admin/users",
            token=self.admin_token(),
            json={"username": username, "password": password, "role": role},
        )
        if response.status_code != 201:
            raise AuthApiError(response)
        return response.json()

    def user_for(self, role: str) -> tuple[str, str]:
        """(name, password) of a harness user with ``role``, created on first use."""
        if role not in self._users:
            name, password = f"harness-{role}", f"{role.title()}-" + secrets.token_urlsafe(18)
            self.create_user(name, password, role)
            self._users[role] = (name, password)
        return self._users[role]

    def token_for(self, role: str) -> str:
        """A fresh-enough access token of the harness user with ``role``."""
        if role == "admin":
            return self.admin_token()
        return self._cached_token(*self.user_for(role))


def _keep_logs(request: pytest.FixtureRequest, server: AuthApiServer) -> None:
    if request.session.testsfailed and server.log_path.exists():
        dest = ROOT / "artifacts" / "auth_api"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(server.log_path, dest / f"{server.name}-{server.port}.log")


@pytest.fixture(scope="session")
def auth_api_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., AuthApiServer]]:
    servers: list[AuthApiServer] = []

    def start(
        *,
        name: str = "auth_api",
        database_url: str | None = None,
        workers: int = 1,
        **settings: Any,
    ) -> AuthApiServer:
        root = Path(tempfile.mkdtemp(prefix=f"klinika-{name}-"))
        server = AuthApiServer(
            root=root, database_url=database_url, settings=settings, name=name, workers=workers
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:  # all at once: a graceful gunicorn stop takes a few seconds
        server.signal_stop()
    for server in servers:
        server.wait_stopped()
        _keep_logs(request, server)
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def auth_api(auth_api_factory: Callable[..., AuthApiServer]) -> AuthApiServer:
    """The central auth API on SQLite, with an admin (``.admin_username``/``.admin_password``)."""
    return auth_api_factory(name="auth_api", workers=2)


@pytest.fixture(scope="session")
def auth_api_pg(auth_api_factory: Callable[..., AuthApiServer], postgres: Any) -> AuthApiServer:
    """The central auth API on a fresh PostgreSQL database."""
    return auth_api_factory(
        name="auth_api_pg", database_url=postgres.new_database("auth"), workers=2
    )
