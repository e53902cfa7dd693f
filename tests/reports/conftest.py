"""A standalone site for report tests: a real archive with one synthetic study, local
accounts (admin, doctor, operator), the site CA, and a doctor enrolled with a key whose
passphrase sits in an in-memory keyring; helpers that run the outside verifiers."""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app.synthetic import write_study
from tests.auth.conftest import MemoryKeyring
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase
from workstation.auth.keyring_store import SecretStore
from workstation.auth.local_accounts import LocalAccounts
from workstation.auth.permissions import Role
from workstation.auth.session import Session, SessionMode
from workstation.config import ReportSettings
from workstation.pacs_node.archive.archive import Archive
from workstation.reports.store import ReportStore
from workstation.services.report_actions import ReportActions
from workstation.services.signing_actions import SigningActions

PASSWORDS = {
    "ada": "Admin pass 4 tests",
    "dora": "Doctor pass 4 tests",
    "otto": "Operator pass 4 tests",
}
ROLES = {"ada": Role.ADMIN, "dora": Role.DOCTOR, "otto": Role.OPERATOR}


def session_for(name: str) -> Session:
    return Session(
        username=name,
        user_id=name,
        role=ROLES[name],
        mode=SessionMode.STANDALONE,
        keyring_available=True,
        started_at=0,
    )


@dataclass
class Site:
    settings: object
    archive: Archive
    store: ReportStore
    audit: AuditLog
    secrets: SecretStore
    study_uid: str

    def reports(self, name: str) -> ReportActions:
        return ReportActions(
            session_for(name),
            self.store,
            self.audit,
            self.settings,  # type: ignore[arg-type]
            archive=self.archive,
            secrets=self.secrets,
        )

    def signing(self, name: str) -> SigningActions:
        return SigningActions(session_for(name), self.audit, self.settings, self.secrets)  # type: ignore[arg-type]

    def ca_pem(self, tmp: Path) -> Path:
        from workstation.reports.keystore import SigningHome

        path = tmp / "ca.pem"
        path.write_bytes(SigningHome(self.settings.signing_dir).ca().export_pem())  # type: ignore[attr-defined]
        return path


@pytest.fixture
def site(settings, tmp_path: Path) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw

    logo = tmp_path / "logo.png"
    image = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(image).ellipse((10, 10, 110, 110), fill=(0, 90, 160))
    image.save(logo)
    settings = dataclasses.replace(
        settings,
        reports=ReportSettings(
            clinic_name="Klinika Nord — Radiologie",
            clinic_address="Hauptstraße 1, 10115 Berlin · Tel. 030 1234567",
            clinic_logo=str(logo),
        ),
    )
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    accounts = LocalAccounts(db)
    for name, password in PASSWORDS.items():
        accounts.create_user(name, password, ROLES[name])
    folder = tmp_path / "study"
    uid = write_study(folder, patient_name="MUSTERMANN^ERIKA", patient_id="R-1", series=1, images=2)
    for f in sorted(folder.iterdir()):
        assert archive.store_file(f).ok
    store = ReportStore(archive.engine)
    yield Site(settings, archive, store, AuditLog(db), SecretStore(MemoryKeyring()), uid)
    archive.close()
    db.close()


@pytest.fixture
def signing_site(site: Site) -> Site:
    """The site with its CA and the doctor enrolled (passphrase in the keyring)."""
    site.signing("ada").ca_init("Klinika Test Clinic")
    site.signing("dora").enroll()
    return site


@pytest.fixture(scope="session")
def central_ca(auth_api_factory):  # type: ignore[no-untyped-def]
    """A central auth API (tests/harness) with its clinic CA made (``central-auth ca init``)."""
    server = auth_api_factory(name="report_clinic_ca", ca_key_passphrase="Report-CA-pass-4-tests")
    made = server.cli("ca", "init", "--name", "Klinika Central Test CA")
    assert made.returncode == 0, made.stderr
    return server


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/test.sh installs it)")
    return path


def run(*cmd: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kw,  # type: ignore[call-overload]
    )


def pdfsig_text(pdf: Path, ca_pem: Path, tmp: Path) -> str:
    """pdfsig's report with an NSS database that trusts the clinic CA (parse the text:
    pdfsig exits 0 even on a digest mismatch)."""
    need_tool("pdfsig")
    certutil = need_tool("certutil")
    db = tmp / "nssdb"
    if not db.exists():
        db.mkdir()
        assert run(certutil, "-N", "-d", f"sql:{db}", "--empty-password").returncode == 0
        assert (
            run(
                certutil, "-A", "-n", "clinic-ca", "-t", "CT,C,C", "-d", f"sql:{db}", "-i", ca_pem
            ).returncode
            == 0
        )
    return run("pdfsig", "-nssdir", f"sql:{db}", pdf).stdout


def pyhanko_validate(pdf: Path, ca_pem: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(shutil.which("pyhanko") or Path(__import__("sys").executable).with_name("pyhanko"))
    if not exe.exists():
        pytest.skip("the pyhanko command (pyhanko-cli) is not installed")
    return run(exe, "sign", "validate", "--trust", ca_pem, "--trust-replace", pdf)


def _no_network_prefix() -> list[str]:
    """``unshare -n`` (a network namespace with no interfaces) where this user may make
    one, so a tool run under it provably fetches nothing; else nothing."""
    exe = shutil.which("unshare")
    if exe and run(exe, "-n", "true").returncode == 0:
        return [exe, "-n"]
    return []


def adesverify_offline(pdf: Path, ca_pem: Path) -> subprocess.CompletedProcess[str]:
    """``pyhanko sign adesverify`` (pyhanko-cli) with the clinic CA as the only trust,
    without network where the system allows it: B-LT must carry all it needs."""
    exe = Path(shutil.which("pyhanko") or Path(__import__("sys").executable).with_name("pyhanko"))
    if not exe.exists():
        pytest.skip("the pyhanko command (pyhanko-cli) is not installed")
    return run(
        *_no_network_prefix(),
        exe, "sign", "adesverify", "--executive-summary", "--trust", ca_pem, "--trust-replace", pdf,
    )  # fmt: skip


@pytest.fixture(scope="session")
def central_logins(auth_api_pg):  # type: ignore[no-untyped-def]
    """Central doctor accounts (on ``auth_api_pg``, the report registry of the upstream
    tests) with the local signers' names: name -> password."""
    logins = {name: "Pw-" + secrets.token_urlsafe(18) for name in ("dora", "ada")}
    for name, password in logins.items():
        auth_api_pg.create_user(name, password, "doctor")
    return logins
