"""A real PostgreSQL for the session: initdb + pg_ctl in a temp dir, 127.0.0.1, free port.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user, which
owns the data, socket and log paths (their parents are traversable).  ``fsync=off``: test
data need not survive a power cut.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.harness.ports import free_port, port_open, wait_until


def _pg_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    user: str = "klinika"
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    host: str = "127.0.0.1"
    _run_as: list[str] = field(default_factory=list)
    _dbs: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def _cmd(self, *args: str) -> list[str]:
        return [*self._run_as, *args]

    def start(self) -> None:
        self.socket_dir.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            self._run_as = ["runuser", "-u", "postgres", "--"]
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
            for p in (self.socket_dir, pwfile):
                shutil.chown(p, "postgres", "postgres")
        subprocess.run(
            self._cmd(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                f"--pwfile={pwfile}",
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )
        pwfile.unlink()
        opts = (
            f"-c listen_addresses={self.host} -p {self.port} -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        subprocess.run(
            self._cmd(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ),
            check=True,
            capture_output=True,
        )
        wait_until(lambda: port_open(self.port), 30, "PostgreSQL")

    def stop(self) -> None:
        subprocess.run(
            self._cmd(
                str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
            ),
            check=False,
            capture_output=True,
        )

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def new_database(self, prefix: str = "test") -> str:
        """Create a fresh empty database; return its SQLAlchemy URL."""
        import psycopg

        self._dbs += 1
        name = f"{prefix}_{os.getpid()}_{self._dbs}_{secrets.token_hex(3)}"
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql)")
    root = Path(tempfile.mkdtemp(prefix="klinika-pg-"))
    server = PostgresServer(bindir=bindir, root=root, port=free_port())
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        log = server.log_file.read_text() if server.log_file.exists() else ""
        raise RuntimeError(f"PostgreSQL failed to start: {exc.stderr!r}\n{log}") from exc
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
