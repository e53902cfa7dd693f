"""Report signing in central mode, end to end against the real auth API (tests/harness):
the key is made on the workstation, the certificate comes from the central clinic CA
(``workstation signing enroll``; a two-factor account gives a fresh code on a further
stdin line), the timestamp from the central ``/tsa`` and revocation from its CRL.
Signed files pass ``report verify``, pdfsig, pyHanko and adesverify with only the
central's exported CA; after an administrator revokes the certificate, signing is
refused with the reason and the earlier report validates as revoked."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.app.synthetic import write_study
from tests.reports.conftest import adesverify_offline, pdfsig_text, pyhanko_validate
from tests.reports.workstation_cli import ws

pytestmark = pytest.mark.network
pyotp = pytest.importorskip("pyotp")
pytest.importorskip("pyhanko")

PASSPHRASE = "key passphrase 4 central tests"


@dataclass
class Workstation:
    home: Path
    study_uid: str

    def run(self, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return ws(*args, stdin=stdin, home=self.home)

    def enroll(
        self, user: str, *answers: str, as_json: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """``workstation signing enroll --user USER --password-stdin``, its stdin the
        ``answers`` a line each (password, codes, the key's passphrase, as asked)."""
        args = ["signing", "enroll", "--user", user, "--password-stdin"]
        return self.run(
            *args, *(["--json"] if as_json else []), stdin="".join(f"{a}\n" for a in answers)
        )


@pytest.fixture
def workstation(central_ca: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workstation:
    """A workstation in central mode with one synthetic study in its archive."""
    from workstation.config import ensure_home, load_settings
    from workstation.pacs_node.archive.archive import Archive

    home = tmp_path / "ws"
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text(
        f'[central]\nauth_url = "{central_ca.url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("WORKSTATION_HOME", str(home))
    settings = load_settings()
    ensure_home(settings)
    archive = Archive.open(settings)
    folder = tmp_path / "study"
    uid = write_study(folder, patient_name="IVANOVA^OLGA", patient_id="C-1", series=1, images=1)
    for f in sorted(folder.iterdir()):
        assert archive.store_file(f).ok
    archive.close()
    return Workstation(home, uid)


def _user(server: Any, role: str) -> tuple[str, str]:
    name = f"{role}-{os.urandom(4).hex()}"
    password = "Pw-" + os.urandom(12).hex()
    server.create_user(name, password, role)
    return name, password


def _new_report(ws: Workstation, name: str, password: str, text: str) -> str:
    made = ws.run(
        "report", "new", ws.study_uid, "--template", "ct_head", "--lang", "ru",
        "--text-file", _text_file(ws, text), "--user", name, "--password-stdin", "--json",
        stdin=password + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["report_id"])


def _text_file(ws: Workstation, text: str) -> Path:
    path = ws.home / "report.txt"
    path.write_text(f"## Заключение\n{text}\n", encoding="utf-8")
    return path


def test_enrol_sign_verify_revoke_refuse(
    central_ca: Any, workstation: Workstation, tmp_path: Path
) -> None:
    ws = workstation
    doctor, password = _user(central_ca, "doctor")
    enrolled = ws.enroll(doctor, password, PASSPHRASE, as_json=True)
    assert enrolled.returncode == 0, enrolled.stderr
    serial = int(json.loads(enrolled.stdout)["serial"])
    pinned = ws.home / "signing" / "central" / "ca.pem"
    assert pinned.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    # Only a certificate request left the workstation: the key is here, encrypted.
    keys = list((ws.home / "signing" / "users").glob("*.p12"))
    assert len(keys) == 1 and doctor.encode() not in keys[0].name.encode()

    report_id = _new_report(ws, doctor, password, "Очаговых изменений не выявлено; ёмкость.")
    signed = ws.run(
        "report", "sign", report_id, "--user", doctor, "--password-stdin",
        stdin=f"{password}\n{PASSPHRASE}\n",
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    pdf = tmp_path / "signed.pdf"
    assert ws.run("report", "export", report_id, "--to", pdf).returncode == 0

    verified = ws.run("report", "verify", pdf, "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)
    assert result["state"] == "valid" and result["signer"] == doctor, result
    ca_pem = tmp_path / "central-ca.pem"
    exported = central_ca.cli("ca", "export", "--out", str(ca_pem))
    assert exported.returncode == 0, exported.stderr
    assert ca_pem.read_bytes() == pinned.read_bytes()
    assert ws.run("report", "verify", pdf, "--ca", ca_pem).returncode == 0

    # Tools that are not ours, with only the exported clinic CA as trust.
    sig = pdfsig_text(pdf, ca_pem, tmp_path)
    assert "Signature is Valid." in sig and "Certificate is Trusted." in sig, sig
    checked = pyhanko_validate(pdf, ca_pem)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in checked.stdout, checked.stdout
    assert checked.stdout.rstrip().endswith("UNTOUCHED"), checked.stdout
    ades = adesverify_offline(pdf, ca_pem)
    assert ades.returncode == 0 and ades.stdout.rstrip().endswith(":VALID"), (
        ades.stdout + ades.stderr
    )

    revoked = central_ca.request(
        "POST",
        "/admin/ca/revoke",
        token=central_ca.admin_token(),
        json={"serial": format(serial, "x"), "reason": "key_compromise"},
    )
    assert revoked.status_code == 200, revoked.text

    second = _new_report(ws, doctor, password, "Контроль.")
    refused = ws.run(
        "report", "sign", second, "--user", doctor, "--password-stdin",
        stdin=f"{password}\n{PASSPHRASE}\n",
    )  # fmt: skip
    assert refused.returncode == 7, refused.stdout + refused.stderr
    assert "revoked" in refused.stderr, refused.stderr
    listed = json.loads(ws.run("report", "list", "--json").stdout)
    assert {r["report_id"]: r["status"] for r in listed} == {
        report_id: "final",
        second: "draft",
    }

    after = ws.run("report", "verify", pdf, "--json")
    assert after.returncode == 1, after.stdout
    state = json.loads(after.stdout)
    assert state["state"] == "revoked" and state["intact"] and not state["ok"], state


def _mfa_on(server: Any, name: str, password: str) -> tuple[Any, int]:
    """Turn two-factor sign-in on; the TOTP and the step its confirmation used."""
    token = server.login(name, password)["access_token"]
    setup = server.request("POST", "/auth/mfa/setup", token=token, json={"password": password})
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    step = int(time.time() // 30) - 1  # the previous step is still accepted
    confirmed = server.request(
        "POST", "/auth/mfa/confirm", token=token, json={"totp": totp.at(step * 30)}
    )
    assert confirmed.status_code == 200, confirmed.text
    return totp, step


def test_two_factor_account_gives_a_fresh_code_for_the_enrolment(
    central_ca: Any, workstation: Workstation
) -> None:
    ws = workstation
    doctor, password = _user(central_ca, "doctor")
    totp, step = _mfa_on(central_ca, doctor, password)
    sign_in = totp.at((step + 1) * 30)

    replayed = ws.enroll(doctor, password, sign_in, PASSPHRASE, sign_in)
    assert replayed.returncode == 7, replayed.stdout + replayed.stderr
    assert "code is wrong or was used already" in replayed.stderr, replayed.stderr
    assert not list((ws.home / "signing" / "users").glob("*.p12"))

    # The sign-in above spent step+1: the next two steps sign in and enrol.
    sign_in, enrol = totp.at((step + 2) * 30), totp.at((step + 3) * 30)
    if int(time.time() // 30) < step + 2:
        time.sleep((step + 2) * 30 - time.time() + 0.5)  # step+3 must be within one step
    enrolled = ws.enroll(doctor, password, sign_in, PASSPHRASE, enrol, as_json=True)
    assert enrolled.returncode == 0, enrolled.stderr
    assert len(json.loads(enrolled.stdout)["fingerprint"]) == 64
    assert len(list((ws.home / "signing" / "users").glob("*.p12"))) == 1


def test_operator_may_not_enrol_and_standalone_verbs_say_central(
    central_ca: Any, workstation: Workstation
) -> None:
    ws = workstation
    operator, password = _user(central_ca, "operator")
    refused = ws.enroll(operator, password, PASSPHRASE)
    assert refused.returncode == 7 and "not allowed" in refused.stderr, refused.stderr
    assert not (ws.home / "signing" / "central").exists()
    admin = ws.run(
        "signing", "ca-init", "--user", central_ca.admin_username, "--password-stdin",
        stdin=central_ca.admin_password + "\n",
    )  # fmt: skip
    assert admin.returncode == 6 and "central server" in admin.stderr, admin.stderr


def test_a_central_without_its_clinic_ca_says_so(
    auth_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared harness instance has no CA (no ``central-auth ca init``): enrolment
    fails with a set-up error that names the fix, and nothing is kept."""
    home = tmp_path / "ws"
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text(
        f'[central]\nauth_url = "{auth_api.url}"\n', encoding="utf-8"
    )
    ws = Workstation(home, "")
    doctor, password = _user(auth_api, "doctor")
    failed = ws.enroll(doctor, password, PASSPHRASE)
    assert failed.returncode == 6, failed.stdout + failed.stderr
    assert "central-auth ca init" in failed.stderr, failed.stderr
    assert not (home / "signing" / "users").exists()


def test_a_central_naming_another_ca_than_the_pinned_one_is_refused(
    central_ca: Any, workstation: Workstation, tmp_path: Path
) -> None:
    """The workstation trusts the clinic CA it pinned first; a central that answers with
    another CA (replaced, or not the clinic's) gets no key stored here."""
    from workstation.reports.site_ca import SiteCa

    other = SiteCa.init(tmp_path / "other-ca", "Not The Clinic CA")
    pinned = workstation.home / "signing" / "central" / "ca.pem"
    pinned.parent.mkdir(parents=True)
    pinned.write_bytes(other.export_pem())
    doctor, password = _user(central_ca, "doctor")
    refused = workstation.enroll(doctor, password, PASSPHRASE)
    assert refused.returncode == 7, refused.stdout + refused.stderr
    assert "different clinic CA" in refused.stderr, refused.stderr
    assert pinned.read_bytes() == other.export_pem()
    assert not (workstation.home / "signing" / "users").exists()
