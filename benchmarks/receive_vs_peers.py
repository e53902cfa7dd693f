"""Receive and retrieve speed of the DICOM node vs dcmtk and Orthanc, in one run.

The same N synthetic CT instances (512x512 int16, ~0.5 MB, made by
``benchmarks/import_vs_orthanc.generate``) are sent by dcmtk ``storescu`` to

1. dcmtk ``storescp`` writing files (``TCP_NODELAY=1``: the floor);
2. Orthanc 1.10 with its PostgreSQL index (a PostgreSQL of its own, *durable*: fsync and
   synchronous commit on, as deployed);
3. our SCP, ``workstation node serve`` (indexed and durable: file fsynced, index
   committed with SQLite synchronous=FULL before each C-STORE response);

once with one ``storescu`` and once with ``--streams`` of them in parallel (N/streams
files each); with ``--rounds R`` the three receivers take turns R times and the medians
are reported (the machine these run on is shared and noisy).  Then the instances are retrieved from Orthanc by C-MOVE (into our SCP; peer:
C-MOVE into storescp), by C-GET (our SCU into a fresh archive; peer: dcmtk ``getscu``
writing files) and by WADO-RS (our client into a fresh archive; peer: plain
dicomweb-client reading the study).  Prints instances/s and the ratios.

Targets: our SCP >= 150 instances/s and >= 3x Orthanc+PostgreSQL.

    .venv/bin/python benchmarks/receive_vs_peers.py [--quick] [-n N] [--streams K]
        [--rounds R] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.orthanc import build_loopback_shim, start_orthanc  # noqa: E402
from tests.harness.ports import free_port, port_open, wait_until  # noqa: E402
from tests.harness.postgres import PostgresServer, _pg_bin  # noqa: E402

OUR_AET, SENDER_AET, STORESCP_AET, GETSCU_AET = "BENCHWS", "STORESCU", "BENCHSCP", "GETSCU"


def _generate(folder: Path, n: int) -> list[Path]:
    spec = importlib.util.spec_from_file_location(
        "import_bench", ROOT / "benchmarks" / "import_vs_orthanc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.generate(folder, n))


# -- receivers ---------------------------------------------------------------------------
class Process:
    """A receiver process on 127.0.0.1:port."""

    def __init__(
        self, args: list[str], port: int, env: dict[str, str] | None = None, log: Path | None = None
    ) -> None:
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT
        )
        self.port = port
        wait_until(lambda: port_open(port) or self.proc.poll() is not None, 60, args[0])
        if self.proc.poll() is not None:
            raise RuntimeError(f"{args[0]} exited early (see {log})")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_storescp(folder: Path) -> Process:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    return Process(
        ["storescp", "-aet", STORESCP_AET, "-od", str(folder), str(port)], port,
        env={"TCP_NODELAY": "1"},
    )  # fmt: skip


def start_our_node(home: Path, peers: list[dict[str, Any]]) -> Process:
    port = free_port()
    cfg = home / "config" / "workstation.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    lines = ["[node]", f'ae_title = "{OUR_AET}"', f"port = {port}", 'bind_address = "127.0.0.1"']
    for peer in peers:
        lines.append("[[node.peers]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in peer.items()]
    cfg.write_text("\n".join(lines) + "\n")
    return Process(
        [sys.executable, "-m", "workstation", "node", "serve", "--no-sync"], port,
        env={"WORKSTATION_HOME": str(home)}, log=home / "serve.log",
    )  # fmt: skip


def durable_postgres(root: Path) -> PostgresServer:
    """A PostgreSQL with fsync and synchronous commit on (the test harness turns them off)."""
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not installed")
    pg = PostgresServer(bindir=bindir, root=root, port=free_port())
    pg.start()
    pg.stop()
    opts = f"-c listen_addresses={pg.host} -p {pg.port} -k {pg.socket_dir} -c max_connections=200"
    subprocess.run(
        pg._cmd(str(bindir / "pg_ctl"), "-D", str(pg.data_dir), "-l", str(pg.log_file), "-o", opts, "-w", "start"),
        check=True, capture_output=True,
    )  # fmt: skip
    wait_until(lambda: port_open(pg.port), 30, "PostgreSQL")
    return pg


# -- senders -------------------------------------------------------------------------------
def storescu(files: list[Path], port: int, aet: str, streams: int) -> float:
    """Seconds for ``streams`` parallel storescu processes to send ``files`` to ``port``.

    The disk is synced first, so that no receiver's fsyncs wait for the writeback of
    what the one before it wrote (storescp and Orthanc leave ~0.3 GB of dirty pages).
    """
    chunks = [files[i::streams] for i in range(streams)]
    if hasattr(os, "sync"):
        os.sync()
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            ["storescu", "-aet", SENDER_AET, "-aec", aet, "127.0.0.1", str(port), *map(str, chunk)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for chunk in chunks
    ]
    for p in procs:
        _out, err = p.communicate(timeout=3600)
        if p.returncode != 0:
            raise RuntimeError(f"storescu failed: {err.decode(errors='replace')[-500:]}")
    return time.perf_counter() - t0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


# -- the run -------------------------------------------------------------------------------
@contextlib.contextmanager
def orthanc_with_pg(work: Path) -> Iterator[Any]:
    pg_root = Path(tempfile.mkdtemp(prefix="klinika-bench-pg-"))  # postgres must traverse it
    pg = durable_postgres(pg_root)
    shim = build_loopback_shim(work)
    server = start_orthanc(
        work / "orthanc",
        shim=shim,
        token_filter=False,
        index="postgresql",
        postgres=pg,
        aet="ORTHANC",
    )
    try:
        yield server
    finally:
        server.stop()
        pg.stop()
        shutil.rmtree(pg_root, ignore_errors=True)


def _settings(home: Path, orthanc: Any) -> Any:
    import dataclasses

    from workstation.config import PeerNode, ensure_home, load_settings

    s = load_settings(home=home)
    peer = PeerNode(
        name="orthanc", ae_title=orthanc.aet, host="127.0.0.1", port=orthanc.dicom_port,
        may_query=True, may_retrieve=True,
    )  # fmt: skip
    s = dataclasses.replace(s, node=dataclasses.replace(s.node, ae_title=OUR_AET, peers=(peer,)))
    ensure_home(s)
    return s


def receive(
    files: list[Path], work: Path, orthanc: Any, streams_list: list[int], rounds: int = 1
) -> dict[str, Any]:
    """Rates per receiver; with ``rounds`` > 1 the receivers take turns round after round
    and each figure is the median of its rounds (the single runs are kept in "runs")."""
    n = len(files)
    out: dict[str, Any] = {}
    names = ("dcmtk_storescp", "orthanc_postgresql", "our_scp")
    for streams in streams_list:
        runs: dict[str, list[float]] = {name: [] for name in names}
        for r in range(rounds):
            tag = f"{streams}-{r}"
            scp = start_storescp(work / f"storescp-{tag}")
            try:
                runs["dcmtk_storescp"].append(
                    rate(n, storescu(files, scp.port, STORESCP_AET, streams))
                )
            finally:
                scp.stop()
                shutil.rmtree(work / f"storescp-{tag}", ignore_errors=True)
            web = orthanc.session(None)
            for oid in web.get(f"{orthanc.http_url}/studies", timeout=60).json():
                web.delete(f"{orthanc.http_url}/studies/{oid}", timeout=300)  # start empty
            runs["orthanc_postgresql"].append(
                rate(n, storescu(files, orthanc.dicom_port, orthanc.aet, streams))
            )
            node = start_our_node(work / f"ws-{tag}", [])
            try:
                runs["our_scp"].append(rate(n, storescu(files, node.port, OUR_AET, streams)))
            finally:
                node.stop()
                shutil.rmtree(work / f"ws-{tag}", ignore_errors=True)
        row: dict[str, Any] = {name: statistics.median(runs[name]) for name in names}
        row["ratio_ours_over_orthanc"] = round(row["our_scp"] / row["orthanc_postgresql"], 2)
        row["ratio_ours_over_storescp"] = round(row["our_scp"] / row["dcmtk_storescp"], 2)
        if rounds > 1:
            row["runs"] = runs
        out[f"{streams}_stream" + ("s" if streams > 1 else "")] = row
    return out


def retrieve(files: list[Path], work: Path, orthanc: Any) -> dict[str, Any]:
    from pydicom import dcmread

    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dicomweb.client import DicomWebNode
    from workstation.pacs_node.dimse.scu import DimseNode

    n = len(files)
    study = str(dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    out: dict[str, Any] = {}
    # C-MOVE: into our SCP vs into storescp.
    scp = start_storescp(work / "move-storescp")
    orthanc.add_modality("storescp", STORESCP_AET, scp.port)
    home = work / "ws-move"
    node = start_our_node(home, [])
    orthanc.add_modality(
        "client", OUR_AET, node.port, AllowFind=True, AllowMove=True, AllowGet=True
    )
    settings = _settings(work / "ws-client", orthanc)
    client = DimseNode(settings, settings.peer("orthanc"))  # type: ignore[arg-type]
    try:
        t_peer, r_peer = timed(lambda: client.move(STORESCP_AET, study))
        t_ours, r_ours = timed(lambda: client.move(OUR_AET, study))
    finally:
        scp.stop()
        node.stop()
    assert r_peer.completed == n and r_ours.completed == n, (r_peer.as_dict(), r_ours.as_dict())
    out["c_move"] = {"into_storescp": rate(n, t_peer), "into_our_scp": rate(n, t_ours),
                     "ratio": round(t_peer / t_ours, 2)}  # fmt: skip
    # C-GET: dcmtk getscu writing files vs our SCU storing into a fresh archive.
    got = work / "getscu"
    got.mkdir()
    t_peer, _ = timed(lambda: subprocess.run(
        ["getscu", "-aet", GETSCU_AET, "-aec", orthanc.aet, "-S", "-k", "QueryRetrieveLevel=STUDY",
         "-k", f"StudyInstanceUID={study}", "-od", str(got), "127.0.0.1", str(orthanc.dicom_port)],
        check=True, capture_output=True, env={**os.environ, "TCP_NODELAY": "1"},
    ))  # fmt: skip
    with Archive.open(settings) as archive:
        getter = DimseNode(settings, settings.peer("orthanc"), archive=archive)  # type: ignore[arg-type]
        t_ours, r = timed(lambda: getter.get(study))
    assert r.completed == n, r.as_dict()
    out["c_get"] = {"dcmtk_getscu": rate(n, t_peer), "ours_into_archive": rate(n, t_ours),
                    "ratio": round(t_peer / t_ours, 2)}  # fmt: skip
    # WADO-RS: plain dicomweb-client (decode only) vs ours into a fresh archive.
    from dicomweb_client.api import DICOMwebClient

    plain = DICOMwebClient(orthanc.dicomweb_url)
    t_peer, peer_n = timed(
        lambda: sum(1 for _ in plain.iter_study(study, media_types=(("application/dicom", "*"),)))
    )
    assert peer_n == n
    wado_settings = _settings(work / "ws-wado", orthanc)
    with Archive.open(wado_settings) as archive:
        web = DicomWebNode(orthanc.dicomweb_url, archive=archive)
        t_ours, r = timed(lambda: web.retrieve(study))
    assert r.completed == n, r.as_dict()
    out["wado_rs"] = {"dicomweb_client_read_only": rate(n, t_peer), "ours_into_archive": rate(n, t_ours),
                      "ratio": round(t_peer / t_ours, 2)}  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="instances (default 1000)")
    ap.add_argument("--streams", type=int, default=4, help="parallel storescu in round 2")
    ap.add_argument("--quick", action="store_true", help="60 instances (a test runs this)")
    ap.add_argument(
        "--rounds", type=int, default=1,
        help="receive rounds, receivers taking turns; medians reported (for a noisy machine)",
    )  # fmt: skip
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    n = 60 if args.quick else args.n
    if shutil.which("storescu") is None:
        print("dcmtk is not installed", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="klinika-receive-bench-"))
    try:
        files = _generate(work / "files", n)
        with orthanc_with_pg(work) as orthanc:
            orthanc.add_modality("sender", SENDER_AET, 1)
            orthanc.add_modality("getscu", GETSCU_AET, 1, AllowGet=True)
            orthanc.add_modality(
                "client", OUR_AET, 1, AllowFind=True, AllowMove=True, AllowGet=True
            )
            report = {
                "instances": n,
                "instance_bytes": files[0].stat().st_size,
                "receive": receive(
                    files, work, orthanc, [1, max(1, args.streams)], max(1, args.rounds)
                ),
            }
            report["retrieve_from_orthanc"] = retrieve(files, work, orthanc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        _print(report)
    return 0


def _print(report: dict[str, Any]) -> None:
    print(f"{report['instances']} CT instances of {report['instance_bytes'] / 1e6:.2f} MB")
    for streams, row in report["receive"].items():
        rounds = len(row["runs"]["our_scp"]) if "runs" in row else 1
        median = f" (median of {rounds} rounds)" if rounds > 1 else ""
        print(f"receive by storescu, {streams.replace('_', ' ')}{median}:")
        print(f"  dcmtk storescp           {row['dcmtk_storescp']:8.1f} instances/s")
        print(f"  Orthanc + PostgreSQL     {row['orthanc_postgresql']:8.1f} instances/s")
        print(f"  our SCP (durable, index) {row['our_scp']:8.1f} instances/s")
        print(
            f"  ours / Orthanc = {row['ratio_ours_over_orthanc']:.2f}   ours / storescp = {row['ratio_ours_over_storescp']:.2f}"
        )
    print("retrieve from Orthanc (instances/s; ratio = ours vs the named peer):")
    for kind, row in report["retrieve_from_orthanc"].items():
        cells = "   ".join(f"{k} {v}" for k, v in row.items())
        print(f"  {kind:8s} {cells}")


if __name__ == "__main__":
    sys.exit(main())
