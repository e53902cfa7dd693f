"""Settings layering, the ``central-auth`` command, the signing key on first start, and
what must never appear: default credentials, passwords or tokens in logs."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from klinika_auth.keys import load_keyset
from klinika_auth.settings import SettingsError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CENTRAL_AUTH_"):
            monkeypatch.delenv(key)


def _cli(
    data_dir: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CENTRAL_AUTH_")}
    environ.update({"CENTRAL_AUTH_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [sys.executable, "-m", "klinika_auth", *args],
        input=stdin,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.usefixtures("clean_env")
def test_settings_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CENTRAL_AUTH_DATA_DIR", str(tmp_path / "d"))
    defaults = load_settings()
    assert defaults.effective_database_url == f"sqlite:///{tmp_path / 'd' / 'central-auth.db'}"
    assert defaults.effective_signing_key_path == tmp_path / "d" / "keys" / "signing-key.pem"
    assert (defaults.issuer, defaults.audience, defaults.access_token_seconds) == (
        "klinika-central",
        "klinika",
        300,
    )
    assert defaults.require_mfa_for_admins is False

    config = tmp_path / "central-auth.toml"
    config.write_text(
        'database_url = "postgresql+psycopg://u:p@db/klinika"\n'
        'access_token_seconds = 120\nrequire_mfa_for_admins = true\nissuer = "site-a"\n'
    )
    monkeypatch.setenv("CENTRAL_AUTH_CONFIG", str(config))
    monkeypatch.setenv("CENTRAL_AUTH_ACCESS_TOKEN_SECONDS", "90")  # env beats the file
    layered = load_settings()
    assert layered.database_url.startswith("postgresql+psycopg://")
    assert layered.access_token_seconds == 90 and layered.require_mfa_for_admins is True
    assert layered.issuer == "site-a"
    assert load_settings(access_token_seconds=60).access_token_seconds == 60  # explicit wins


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus_key = 1\n", "unknown settings bogus_key"),
        ("access_token_seconds = 'soon'\n", "access_token_seconds"),
        ("lockout_threshold = 0\n", "lockout_threshold must be a positive"),
        ("password_min_length = 6\n", "at least 8"),
        ("issuer = \n", "not valid TOML"),
    ],
)
def test_bad_settings_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(config)


def test_cli_reports_bad_settings(tmp_path: Path) -> None:
    result = _cli(tmp_path, "migrate", CENTRAL_AUTH_LOCKOUT_THRESHOLD="many")
    assert result.returncode == 6 and "lockout_threshold" in result.stderr


def test_first_start_makes_a_private_key_and_no_users(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _cli(data, "migrate").returncode == 0
    key = data / "keys" / "signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    kid = load_keyset(key, key.parent / "retired", grace_seconds=300).kid
    assert _cli(data, "migrate").returncode == 0  # a second start keeps the key
    assert load_keyset(key, key.parent / "retired", grace_seconds=300).kid == kid

    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{data / 'central-auth.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar() == 0  # no defaults
        roles = conn.execute(sa.text("SELECT name FROM roles ORDER BY name")).scalars().all()
    engine.dispose()
    assert roles == ["admin", "doctor", "operator"]
    verify = _cli(data, "verify-audit", "--json")
    assert verify.returncode == 0 and json.loads(verify.stdout)["events"] == 0


def test_create_admin_checks_the_password(tmp_path: Path) -> None:
    weak = _cli(
        tmp_path, "create-admin", "--username", "boss", "--password-stdin", stdin="admin123\n"
    )
    assert weak.returncode == 1 and "at least 12 characters" in weak.stderr
    empty = _cli(tmp_path, "create-admin", "--username", "boss", "--password-stdin", stdin="")
    assert empty.returncode == 2
    ok = _cli(
        tmp_path,
        "create-admin",
        "--username",
        "Boss",
        "--password-stdin",
        stdin="Vault-door-4471\n",
    )
    assert ok.returncode == 0 and "'boss'" in ok.stdout
    again = _cli(
        tmp_path,
        "create-admin",
        "--username",
        "boss",
        "--password-stdin",
        stdin="Vault-door-4471\n",
    )
    assert again.returncode == 1 and "already taken" in again.stderr
    doctor = _cli(
        tmp_path, "create-user", "--username", "dr-who", "--role", "doctor", "--password-stdin",
        stdin="Tardis-blue-box-63\n",
    )  # fmt: skip
    assert doctor.returncode == 0
    trail = _cli(tmp_path, "verify-audit")
    assert trail.returncode == 0 and "2 events" in trail.stdout


def test_rotate_key_keeps_old_key_published(tmp_path: Path) -> None:
    assert _cli(tmp_path, "migrate").returncode == 0
    key = tmp_path / "keys" / "signing-key.pem"
    old = load_keyset(key, key.parent / "retired", grace_seconds=300).kid
    rotated = _cli(tmp_path, "rotate-key")
    assert rotated.returncode == 0
    keys = load_keyset(key, key.parent / "retired", grace_seconds=300)
    assert keys.kid != old and set(keys.public_keys) == {old, keys.kid}
    assert {k["kid"] for k in keys.jwks()["keys"]} == {old, keys.kid}


def test_rotated_out_key_is_accepted_only_for_the_grace_period(tmp_path: Path) -> None:
    """Grace = access token lifetime + leeway: after it, a token the old key signed (even
    one claiming a far expiry) is refused and the key leaves the JWKS."""
    from klinika_auth.errors import ApiError
    from klinika_auth.tokens import TokenIssuer

    assert _cli(tmp_path, "migrate").returncode == 0
    key = tmp_path / "keys" / "signing-key.pem"
    retired = key.parent / "retired"

    def issuer(grace: float, lifetime: int = 3600) -> TokenIssuer:
        keyset = load_keyset(key, retired, grace_seconds=grace)
        return TokenIssuer(keyset, "klinika-central", "klinika", lifetime, 0)

    long_lived = issuer(0).access_token(
        username="u1", user_id=1, role="doctor", perms=[], session_id="s"
    )
    assert _cli(tmp_path, "rotate-key").returncode == 0
    grace = 5.0
    within = issuer(grace)
    (record,) = retired.glob("*.json")
    retired_at = json.loads(record.read_text())["retired_at"]
    assert time.time() < retired_at + grace - 1, "the rotation took too long to test"
    assert within.verify(long_lived)["sub"] == "u1"
    time.sleep(max(0.0, retired_at + grace + 0.2 - time.time()))
    fresh = within.access_token(username="u2", user_id=2, role="doctor", perms=[], session_id="s")
    assert within.verify(fresh)["sub"] == "u2"  # the new key is unaffected
    with pytest.raises(ApiError) as refused:
        within.verify(long_lived)
    assert refused.value.status == 401 and "unknown key" in refused.value.message
    assert [k["kid"] for k in within.keyset.jwks()["keys"]] == [within.keyset.kid]
    # The time of retirement is recorded, not inferred: a reload does not revive the key.
    reloaded = issuer(grace).keyset
    assert reloaded.retired and reloaded.public_key(next(iter(reloaded.retired))) is None


@pytest.mark.network
def test_dev_server_serves_too(tmp_path: Path) -> None:
    """``serve --dev`` (werkzeug, threaded) where gunicorn is not wanted or not available."""
    ready = tmp_path / "ready.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CENTRAL_AUTH_")}
    environ["CENTRAL_AUTH_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "klinika_auth",
            "serve",
            "--dev",
            "--port",
            "0",
            "--ready-file",
            str(ready),
        ],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        port = json.loads(ready.read_text())["port"]
        jwks = requests.get(f"http://127.0.0.1:{port}/.well-known/jwks.json", timeout=10)
        assert jwks.status_code == 200 and jwks.json()["keys"][0]["alg"] == "RS256"
        assert jwks.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.network
def test_logs_hold_no_passwords_or_tokens(auth_api) -> None:  # type: ignore[no-untyped-def]
    tokens = auth_api.login(auth_api.admin_username, auth_api.admin_password)
    auth_api.request(
        "POST", "/auth/login", json={"username": "someone", "password": "Typo-Secret-77"}
    )
    auth_api.request("GET", "/audit/events?actor=x", token=tokens["access_token"])
    auth_api.request("POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    time.sleep(0.3)  # access log lines are flushed per request
    log = auth_api.log_path.read_text()
    assert "/auth/login" in log  # the log is there and has the requests
    for secret in (
        auth_api.admin_password,
        "Typo-Secret-77",
        tokens["refresh_token"],
        tokens["access_token"][:40],
    ):
        assert secret not in log
    assert "actor=x" not in log  # no query strings in the access log
