"""The ``workstation signing`` and ``workstation report`` verbs, run as a user would run
them (a real process, no OS keyring: the key's passphrase is stdin's second line)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from tests.reports.conftest import PASSWORDS, Site
from tests.reports.workstation_cli import ws

PASSPHRASE = "key passphrase for dora"


def test_enrol_write_sign_export_verify(site: Site, tmp_path: Path) -> None:
    ada, dora = PASSWORDS["ada"] + "\n", PASSWORDS["dora"] + "\n"
    assert ws("signing", "ca-export", "--out", tmp_path / "none.pem").returncode == 4
    done = ws(
        "signing",
        "ca-init",
        "--name",
        "Klinika Test",
        "--user",
        "ada",
        "--password-stdin",
        stdin=ada,
    )
    assert done.returncode == 0, done.stderr
    again = ws("signing", "ca-init", "--user", "ada", "--password-stdin", stdin=ada)
    assert again.returncode == 6 and "exists already" in again.stderr
    ca = tmp_path / "ca.pem"
    assert ws("signing", "ca-export", "--out", ca).returncode == 0
    assert ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    no_pass = ws("signing", "enroll", "--user", "dora", "--password-stdin", stdin=dora)
    assert no_pass.returncode == 6 and "passphrase" in no_pass.stderr
    enrolled = ws(
        "signing",
        "enroll",
        "--user",
        "dora",
        "--password-stdin",
        "--json",
        stdin=dora + PASSPHRASE + "\n",
    )
    assert enrolled.returncode == 0, enrolled.stderr
    assert len(json.loads(enrolled.stdout)["fingerprint"]) == 64

    listed = json.loads(ws("report", "templates", "--json").stdout)
    assert {t["id"] for t in listed} >= {"ct_chest", "free_text"}

    text = tmp_path / "report.txt"
    text.write_text(
        "## Клинические данные\nКашель.\n## Заключение\nОчаг 6 мм, ёмкость.\n", encoding="utf-8"
    )
    new = ws(
        "report", "new", site.study_uid, "--template", "ct_chest", "--lang", "ru",
        "--text-file", text, "--user", "dora", "--password-stdin", "--json", stdin=dora,
    )  # fmt: skip
    assert new.returncode == 0, new.stderr
    report_id = json.loads(new.stdout)["report_id"]
    denied = ws(
        "report",
        "new",
        site.study_uid,
        "--user",
        "otto",
        "--password-stdin",
        stdin=PASSWORDS["otto"] + "\n",
    )
    assert denied.returncode == 7
    dora_signs = functools.partial(
        ws, "report", "sign", report_id, "--user", "dora", "--password-stdin"
    )
    wrong = dora_signs(stdin=dora + "wrong passphrase\n")
    assert wrong.returncode == 7 and "passphrase" in wrong.stderr
    signed = dora_signs(stdin=dora + PASSPHRASE + "\n")
    assert signed.returncode == 0, signed.stderr

    out = tmp_path / "out.pdf"
    assert ws("report", "export", report_id, "--to", out).returncode == 0
    rows = json.loads(ws("report", "list", "--study", site.study_uid, "--json").stdout)
    assert [(r["report_id"], r["status"]) for r in rows] == [(report_id, "final")]
    verified = ws("report", "verify", out, "--ca", ca, "--json")
    assert verified.returncode == 0, verified.stdout
    result = json.loads(verified.stdout)
    assert result["state"] == "valid" and result["signer"] == "dora" and result["intact"]
    assert ws("report", "verify", out).returncode == 0  # the site CA by default

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(out.read_bytes()[:-3000])
    failed = ws("report", "verify", broken, "--ca", ca)
    assert failed.returncode == 1 and "NOT SIGNED" in failed.stdout

    revoked = ws("signing", "revoke", "dora", "--user", "ada", "--password-stdin", stdin=ada)
    assert revoked.returncode == 0, revoked.stderr
    after = ws("report", "verify", out, "--json")
    assert after.returncode == 1 and json.loads(after.stdout)["state"] == "revoked"
