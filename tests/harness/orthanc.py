"""A real Orthanc 1.10 for tests and benchmarks: own config, free loopback ports.

Fixtures (session-scoped):

- ``orthanc``: the central archive as deployed - Klinika token filter on, PostgreSQL
  index on the ``postgres`` fixture's server, DICOMweb. Trusts the harness token
  issuer's key and, when the ``auth_api`` fixture exists, the auth API's JWKS.
- ``orthanc_factory(token_filter=..., index=...)``: more Orthancs, e.g. a plain one
  (no filter, SQLite index) as a peer or benchmark reference.
- ``orthanc_tokens``: the harness token issuer (RS256, PyJWT) - ``token(role)``.

Each Orthanc is a plain ``/usr/sbin/Orthanc CONFIG.json`` process with its config,
storage and index in a temp dir, ``TCP_NODELAY=1`` in its environment, and an
``LD_PRELOAD`` shim (compiled once per session) that binds its sockets to 127.0.0.1
(loopback_bind.c: Orthanc 1.10 has no listen-address option) and answers gethostid()
without a DNS lookup (local_hostid.c: DCMTK asks for every UID it makes, and where the
host name is not in /etc/hosts each call waited seconds for DNS, so that concurrent
QIDO-RS stalled on fresh machines). Logs are copied to
``artifacts/orthanc/`` when a test that used Orthanc failed.

``start_orthanc()`` and ``TokenIssuer`` work without pytest (benchmarks use them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.harness.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ORTHANC_BIN = Path("/usr/sbin/Orthanc")
#: Preloaded into every test Orthanc: loopback-only sockets, and a gethostid() that does
#: not look up the host name (see each file).
SHIM_SOURCES = (
    Path(__file__).with_name("loopback_bind.c"),
    Path(__file__).with_name("local_hostid.c"),
)
CONFIG_RENDERER = ROOT / "central" / "orthanc" / "orthanc_config.py"
ROLES = ("admin", "doctor", "operator")


def orthanc_config_module() -> ModuleType:
    """central/orthanc/orthanc_config.py (a stand-alone script, not an installed package)."""
    name = "klinika_orthanc_config"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, CONFIG_RENDERER)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def missing_orthanc_parts() -> list[str]:
    """Debian pieces a test Orthanc needs that this machine lacks."""
    cfg = orthanc_config_module()
    wanted = [ORTHANC_BIN] + [
        cfg.PLUGIN_DIR / n
        for n in ("libOrthancDicomWeb.so", "libOrthancPostgreSQLIndex.so", "libOrthancPython.so")
    ]
    missing = [str(p) for p in wanted if not p.exists()]
    if shutil.which("gcc") is None:
        missing.append("gcc")
    return missing


def build_loopback_shim(dest_dir: Path) -> Path:
    """Compile the shim (:data:`SHIM_SOURCES`) into ``dest_dir``; return the shared object."""
    out = dest_dir / "loopback_bind.so"
    subprocess.run(
        [
            "gcc",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-shared",
            "-fPIC",
            "-o",
            str(out),
            *map(str, SHIM_SOURCES),
            "-ldl",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


class TokenIssuer:
    """Mints RS256 access tokens shaped like the central auth API's (the JWT contract)."""

    def __init__(self, issuer: str = "klinika-central", audience: str = "klinika") -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.issuer, self.audience = issuer, audience
        self.kid = "harness-" + uuid.uuid4().hex[:8]
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def claims(self, role: str, lifetime_s: int = 600, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": f"harness-{role}",
            "uid": 0,
            "role": role,
            "perms": [],
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, role: str = "admin", **overrides: Any) -> str:
        """A valid token for ``role``; ``overrides`` replace claims (``None`` drops one)."""
        import jwt

        return jwt.encode(
            self.claims(role, **overrides),
            self.private_key,
            algorithm="RS256",
            headers={"kid": self.kid},
        )

    def public_key_entry(self) -> dict[str, str]:
        return {"kid": self.kid, "pem": self.public_pem}


@dataclass
class OrthancServer:
    root: Path
    http_port: int
    dicom_port: int
    aet: str
    token_filter: bool
    index: str
    issuer: TokenIssuer | None = None
    name: str = "orthanc"
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.http_url}/dicom-web"

    @property
    def wado_url(self) -> str:
        return f"{self.http_url}/wado"

    @property
    def reports_url(self) -> str:
        """STOW-RS URL prefix for doctors' reports (``{reports_url}/studies``)."""
        return f"{self.http_url}/klinika/reports"

    @property
    def config_path(self) -> Path:
        return self.root / "orthanc.json"

    @property
    def log_path(self) -> Path:
        return self.root / "orthanc.log"

    def token(self, role: str = "admin", **overrides: Any) -> str:
        if self.issuer is None:
            raise RuntimeError("this Orthanc has no token issuer")
        return self.issuer.token(role, **overrides)

    def admin_token(self) -> str:
        return self.token("admin")

    def headers(self, role: str | None = "admin") -> dict[str, str]:
        """Authorization headers for ``role`` (none for a plain Orthanc or ``role=None``)."""
        if not self.token_filter or role is None:
            return {}
        return {"Authorization": f"Bearer {self.token(role)}"}

    def session(self, role: str | None = "admin") -> requests.Session:
        s = requests.Session()
        s.headers.update(self.headers(role))
        return s

    def dicomweb(self, role: str | None = "admin") -> Any:
        """A dicomweb-client ``DICOMwebClient`` for ``role``."""
        from dicomweb_client.api import DICOMwebClient

        return DICOMwebClient(url=self.dicomweb_url, headers=self.headers(role))

    def add_modality(
        self, name: str, aet: str, port: int, host: str = "127.0.0.1", **permissions: bool
    ) -> None:
        """Declare a DIMSE peer at run time (``PUT /modalities/{name}``)."""
        entry = orthanc_config_module().modality_entry(aet, host, port, **permissions)
        r = requests.put(
            f"{self.http_url}/modalities/{name}",
            json=entry,
            headers=self.headers("admin"),
            timeout=10,
        )
        r.raise_for_status()

    def remove_modality(self, name: str) -> None:
        r = requests.delete(
            f"{self.http_url}/modalities/{name}", headers=self.headers("admin"), timeout=10
        )
        r.raise_for_status()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _ready(self) -> bool:
        """Orthanc answers HTTP (any status: with a broken filter config it denies all)."""
        try:
            requests.get(f"{self.http_url}/system", headers=self.headers("admin"), timeout=2)
        except requests.RequestException:
            return False
        return True

    def check_admin_access(self) -> None:
        r = requests.get(f"{self.http_url}/system", headers=self.headers("admin"), timeout=10)
        if r.status_code != 200:
            raise RuntimeError(
                f"admin refused by Orthanc ({r.status_code}):\n{self.log_text()[-4000:]}"
            )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Orthanc exited with {self.process.returncode}:\n{self.log_text()[-4000:]}"
                )
            if self._ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"Orthanc not ready in {timeout:.0f} s:\n{self.log_text()[-4000:]}")

    def restart(self) -> None:
        """Start a stopped (or killed) server again: same config, ports, storage, index."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(ORTHANC_BIN), str(self.config_path)], cwd=self.root, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self.wait_ready()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _postgres_index(postgres: Any) -> Any:
    from sqlalchemy.engine import make_url

    url = make_url(postgres.new_database(prefix="orthanc"))
    cfg = orthanc_config_module()
    return cfg.PostgresIndex(
        host=postgres.host,
        port=int(postgres.port),
        database=str(url.database),
        username=postgres.user,
        password=postgres.password,
    )


def start_orthanc(
    root: Path,
    *,
    shim: Path,
    token_filter: bool = True,
    index: str = "sqlite",
    postgres: Any = None,
    issuer: TokenIssuer | None = None,
    jwks_url: str | None = None,
    aet: str = "KLINIKA",
    name: str = "orthanc",
    verbose: bool = False,
    check_access: bool = True,
    **settings: Any,
) -> OrthancServer:
    """Start one Orthanc in ``root`` and wait until it answers; retry on a port clash.

    ``settings`` go to ``OrthancSettings`` (e.g. ``modalities=...``, ``extra=...``).
    With ``check_access`` the harness admin token must open ``/system``.
    """
    if index not in ("sqlite", "postgresql"):
        raise ValueError(f"index must be 'sqlite' or 'postgresql', not {index!r}")
    if index == "postgresql" and postgres is None:
        raise ValueError("a PostgreSQL index needs the postgres server")
    if token_filter and issuer is None:
        issuer = TokenIssuer()
    cfg = orthanc_config_module()
    root.mkdir(parents=True, exist_ok=True)
    pg = _postgres_index(postgres) if index == "postgresql" else None
    last_error: Exception | None = None
    for _attempt in range(3):
        server = OrthancServer(
            root=root,
            http_port=free_port(),
            dicom_port=free_port(),
            aet=aet,
            token_filter=token_filter,
            index=index,
            issuer=issuer,
            name=name,
        )
        tf = None
        if token_filter:
            assert issuer is not None
            tf = cfg.TokenFilterSettings(
                issuer=issuer.issuer,
                audience=issuer.audience,
                jwks_url=jwks_url,
                public_keys=[issuer.public_key_entry()],
            )
        (root / "storage").mkdir(exist_ok=True)
        cfg.write(
            cfg.OrthancSettings(
                storage_dir=root / "storage",
                http_port=server.http_port,
                dicom_port=server.dicom_port,
                aet=aet,
                name=name,
                postgres=pg,
                token_filter=tf,
                describe_errors=True,
                save_jobs=False,
                **settings,
            ),
            server.config_path,
        )
        server.env = {**os.environ, **cfg.ORTHANC_ENVIRONMENT, "LD_PRELOAD": str(shim)}
        args = [str(ORTHANC_BIN), *(["--verbose"] if verbose else []), str(server.config_path)]
        with server.log_path.open("ab") as log:
            server.process = subprocess.Popen(
                args,
                cwd=root,
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            server.wait_ready()
            if check_access:
                server.check_admin_access()
            return server
        except (RuntimeError, TimeoutError) as exc:
            server.stop()
            last_error = exc
            if "Address already in use" not in server.log_text():
                break
    raise RuntimeError(f"Orthanc did not start: {last_error}")


# --- pytest plugin ------------------------------------------------------------------

_FAILED = {"orthanc_test_failed": False}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and any(n.startswith("orthanc") for n in getattr(item, "fixturenames", ())):
        _FAILED["orthanc_test_failed"] = True


def _keep_logs(servers: list[OrthancServer]) -> None:
    dest = ROOT / "artifacts" / "orthanc"
    dest.mkdir(parents=True, exist_ok=True)
    for s in servers:
        if s.log_path.exists():
            shutil.copy2(s.log_path, dest / f"{s.name}-{s.http_port}.log")
            shutil.copy2(s.config_path, dest / f"{s.name}-{s.http_port}.json")


@pytest.fixture(scope="session")
def orthanc_loopback_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = missing_orthanc_parts()
    if missing:
        pytest.skip(f"Orthanc harness needs {', '.join(missing)} (see scripts/test.sh)")
    return build_loopback_shim(tmp_path_factory.mktemp("orthanc-shim"))


@pytest.fixture(scope="session")
def orthanc_tokens() -> TokenIssuer:
    """The harness token issuer every filtered test Orthanc trusts."""
    return TokenIssuer()


@pytest.fixture(scope="session")
def orthanc_factory(
    request: pytest.FixtureRequest, orthanc_loopback_shim: Path, orthanc_tokens: TokenIssuer
) -> Iterator[Callable[..., OrthancServer]]:
    """``factory(token_filter=True, index="sqlite", **settings) -> OrthancServer``.

    ``index="postgresql"`` uses a fresh database on the ``postgres`` fixture's server.
    Every server is stopped at the end of the session.
    """
    started: list[OrthancServer] = []
    base = Path(tempfile.mkdtemp(prefix="klinika-orthanc-"))
    # Request PostgreSQL now, not on first use: a session fixture set up earlier is torn
    # down later, so the Orthancs stop before their index server does.
    try:
        postgres_server = request.getfixturevalue("postgres")
    except pytest.skip.Exception:
        postgres_server = None

    def factory(token_filter: bool = True, index: str = "sqlite", **kwargs: Any) -> OrthancServer:
        postgres = postgres_server if index == "postgresql" else None
        if index == "postgresql" and postgres is None:
            pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql)")
        kwargs.setdefault("issuer", orthanc_tokens if token_filter else None)
        kwargs.setdefault("name", f"orthanc{len(started) + 1}")
        server = start_orthanc(
            base / kwargs["name"],
            shim=orthanc_loopback_shim,
            token_filter=token_filter,
            index=index,
            postgres=postgres,
            **kwargs,
        )
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
    if _FAILED["orthanc_test_failed"] or request.session.testsfailed:
        _keep_logs(started)
    shutil.rmtree(base, ignore_errors=True)


def _auth_api_jwks_url(request: pytest.FixtureRequest) -> str | None:
    """The JWKS URL of the ``auth_api`` fixture, when that fixture exists."""
    try:
        auth_api = request.getfixturevalue("auth_api")
    except pytest.FixtureLookupError:
        return None
    url = getattr(auth_api, "jwks_url", None)
    if url:
        return str(url)
    base = getattr(auth_api, "url", None) or getattr(auth_api, "base_url", None)
    return f"{str(base).rstrip('/')}/.well-known/jwks.json" if base else None


@pytest.fixture(scope="session")
def orthanc(
    request: pytest.FixtureRequest, orthanc_factory: Callable[..., OrthancServer]
) -> OrthancServer:
    """The central archive: token filter on, PostgreSQL index, DICOMweb, loopback only."""
    return orthanc_factory(
        token_filter=True,
        index="postgresql",
        name="central",
        jwks_url=_auth_api_jwks_url(request),
    )
