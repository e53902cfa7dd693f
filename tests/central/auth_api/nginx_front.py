"""Run the shipped nginx configuration (central/deploy/nginx) with Debian's nginx on
loopback, as any user: the config files are copied into a temp prefix, the site file's
listen ports, certificate paths and upstream addresses are rewritten to the temp ones, and
pid, logs and temp paths live in the prefix."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.harness.ports import free_port, port_open, wait_until

DEPLOY = Path(__file__).resolve().parents[3] / "central" / "deploy" / "nginx"


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_path, 0o600)
    return cert_path, key_path


MAIN_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include conf.d/*.conf;
}}
"""


@dataclass
class NginxFront:
    prefix: Path
    https_port: int
    http_port: int
    cert: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)


def render_site(text: str, https_port: int, http_port: int, cert: Path, key: Path) -> str:
    text = re.sub(r"^\s*listen \[::\].*\n", "", text, flags=re.M)
    text = text.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("/etc/klinika/tls/fullchain.pem", str(cert))
    return text.replace("/etc/klinika/tls/privkey.pem", str(key))


def start_front(auth_port: int, orthanc_port: int) -> NginxFront:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = Path(tempfile.mkdtemp(prefix="klinika-nginx-"))
    os.chmod(prefix, 0o755)  # workers (nobody, when started as root) use tmp/ below
    (prefix / "tmp").mkdir()
    conf = prefix / "conf"
    shutil.copytree(DEPLOY, conf)
    cert, key = self_signed_cert(prefix)
    https_port, http_port = free_port(), free_port()
    site = conf / "conf.d" / "klinika-site.conf"
    site.write_text(render_site(site.read_text(), https_port, http_port, cert, key))
    upstreams = conf / "conf.d" / "klinika-upstreams.conf"
    upstreams.write_text(
        upstreams.read_text()
        .replace("127.0.0.1:8000", f"127.0.0.1:{auth_port}")
        .replace("127.0.0.1:8042", f"127.0.0.1:{orthanc_port}")
    )
    (conf / "nginx.conf").write_text(MAIN_CONF.format(prefix=prefix))
    args = [
        nginx,
        "-p",
        str(prefix),
        "-c",
        str(conf / "nginx.conf"),
        "-e",
        str(prefix / "error.log"),
    ]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the config:\n{checked.stderr}")
    front = NginxFront(prefix=prefix, https_port=https_port, http_port=http_port, cert=cert)
    front.proc = subprocess.Popen(
        [*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_until(lambda: port_open(https_port) and port_open(http_port), 20, "nginx")
    return front
