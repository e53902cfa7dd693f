"""The Orthanc harness starts what it promises: PostgreSQL index, loopback only, TCP_NODELAY."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.orthanc, pytest.mark.network]


def _listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of the TCP sockets ``pid`` listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] != "0A" or cols[9] not in inodes:  # 0A: LISTEN
                continue
            addr_hex, port_hex = cols[1].split(":")
            raw = bytes.fromhex(addr_hex)
            if family == socket.AF_INET:
                addr = socket.inet_ntop(family, raw[::-1])
            else:
                addr = socket.inet_ntop(
                    family, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                )
            found.add((addr, int(port_hex, 16)))
    return found


@pytest.mark.postgres
def test_central_orthanc_runs_on_postgresql_on_loopback(orthanc) -> None:  # type: ignore[no-untyped-def]
    assert orthanc.process is not None
    listening = _listening_addresses(orthanc.process.pid)
    ports = {port for _addr, port in listening}
    assert {orthanc.http_port, orthanc.dicom_port} <= ports
    assert all(addr in ("127.0.0.1", "::1") for addr, _port in listening), listening
    assert orthanc.env["TCP_NODELAY"] == "1"

    r = requests.get(f"{orthanc.http_url}/plugins", headers=orthanc.headers("admin"), timeout=10)
    assert r.status_code == 200
    assert {"dicom-web", "postgresql-index", "python"} <= set(r.json())
    system = requests.get(
        f"{orthanc.http_url}/system", headers=orthanc.headers("admin"), timeout=10
    )
    assert system.json()["DicomAet"] == orthanc.aet
    assert system.json()["DicomPort"] == orthanc.dicom_port
    assert requests.get(f"{orthanc.http_url}/system", timeout=10).status_code == 403


def test_plain_orthanc_has_no_filter_and_sqlite(orthanc_factory) -> None:  # type: ignore[no-untyped-def]
    plain = orthanc_factory(token_filter=False, index="sqlite", name="plain-selftest")
    r = requests.get(f"{plain.http_url}/plugins", timeout=10)
    assert r.status_code == 200
    assert "dicom-web" in r.json()
    assert not {"python", "postgresql-index"} & set(r.json())
    assert (plain.root / "storage" / "index").is_file()
    assert requests.get(f"{plain.dicomweb_url}/studies", timeout=10).json() == []
    plain.stop()
    assert plain.process is not None and plain.process.poll() is not None


def test_unusable_filter_configuration_denies_everything(orthanc_factory) -> None:  # type: ignore[no-untyped-def]
    broken = orthanc_factory(
        token_filter=True,
        name="broken-filter",
        extra={"KlinikaTokenFilter": {"Issuer": "klinika-central"}},  # no keys, no audience
        check_access=False,
    )
    try:
        for path in ("/system", "/studies", "/dicom-web/studies"):
            r = requests.get(broken.http_url + path, headers=broken.headers("admin"), timeout=10)
            assert r.status_code == 403, path
        assert "token filter configuration unusable" in broken.log_text()
    finally:
        broken.stop()


def _fnv1a_32(name: bytes) -> int:
    value = 2166136261
    for byte in name:
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def test_the_shim_answers_gethostid_without_a_host_name_lookup(
    orthanc_loopback_shim: Path,
) -> None:
    """DCMTK (in Orthanc) calls gethostid() for every UID; glibc's looks the host name up
    when /etc/hostid is missing, which on a machine whose name is not in /etc/hosts waited
    for DNS on every QIDO-RS answer.  In a namespace of its own, with a host name no file
    knows and no network, the preloaded gethostid() still answers from the name."""
    import os
    import shutil
    import subprocess
    import sys
    import uuid

    if os.geteuid() != 0 or shutil.which("unshare") is None or Path("/etc/hostid").exists():
        pytest.skip("needs root and unshare (new UTS and network namespaces), no /etc/hostid")
    name = f"klinika-{uuid.uuid4().hex[:12]}"
    probe = "import ctypes; print(ctypes.CDLL(None).gethostid())"
    result = subprocess.run(
        ["unshare", "--uts", "--net", "sh", "-c",
         f'hostname {name} && LD_PRELOAD="$0" "$1" -c "$2"',
         str(orthanc_loopback_shim), sys.executable, probe],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if result.returncode != 0 and "Operation not permitted" in result.stderr:
        pytest.skip(f"namespaces not allowed here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == _fnv1a_32(name.encode())
