"""The deployment files hang together: every file the compose file, the Dockerfile and the
systemd units name exists, and the extras they install are declared.  (No Docker engine
runs here; nginx's part is proven live in test_nginx_front.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

CENTRAL = Path(__file__).resolve().parents[3] / "central"
DEPLOY = CENTRAL / "deploy"


def test_compose_names_existing_files_and_all_services() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for service in ("postgres:", "auth:", "orthanc:", "nginx:"):
        assert f"\n  {service}" in text, service
    mounts = re.findall(r"- (\.\.?/[^:\s]+):", text)
    assert len(mounts) >= 7
    for mount in mounts:
        assert (DEPLOY / mount).exists(), mount
    assert (DEPLOY / "Dockerfile.auth").is_file()
    assert "gunicorn" not in text or "serve" in text
    assert "443:443" in text and "8000:" not in text  # only nginx is published for HTTP


def test_orthanc_entrypoint_files_exist() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for name in re.findall(r"/etc/klinika/orthanc/([\w/]+\.py)", text):
        assert (CENTRAL / "orthanc" / name).is_file(), name


def test_image_and_units_install_declared_extras() -> None:
    project = tomllib.loads((CENTRAL / "pyproject.toml").read_text())["project"]
    extras = set(project["optional-dependencies"])
    for installer in ("Dockerfile.auth", "systemd/central-auth.service"):
        for group in re.findall(r"\[([\w,]+)\]", (DEPLOY / installer).read_text()):
            if group in ("Unit", "Service", "Install"):
                continue
            assert set(group.split(",")) <= extras, (installer, group)
    assert project["scripts"]["central-auth"] == "klinika_auth.cli:main"


def test_systemd_units_run_hardened_services() -> None:
    for unit in ("central-auth.service", "orthanc-klinika.service"):
        text = (DEPLOY / "systemd" / unit).read_text()
        assert re.search(r"^ExecStart=/", text, re.M), unit
        assert re.search(r"^User=(?!root)", text, re.M), unit
        assert "NoNewPrivileges=yes" in text and "UMask=0077" in text, unit
    auth = (DEPLOY / "systemd" / "central-auth.service").read_text()
    assert "--host 127.0.0.1" in auth  # behind nginx only


def test_no_default_credentials_shipped() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for line in text.splitlines():
                if re.match(r"\s*\w*PASSWORD\s*[=:]", line):
                    value = re.split(r"[=:]", line, maxsplit=1)[1].strip()
                    assert value == "" or value.startswith("${"), (path.name, line)
