"""What the Klinika token filter costs Orthanc on QIDO-RS, measured against plain Orthanc.

Three Orthancs run side by side from the same configuration renderer, all on a SQLite
index with the same synthetic studies: ``plain``, the peer without the Python plugin;
``noop``, a Python filter that allows everything (what calling into Python costs by
itself); ``filter``, ours (bearer token, RS256 in pure Python or the remembered
verdict, the rule table). Concurrent clients send the same QIDO-RS requests with the
same bearer header to all, in alternating rounds so machine noise hits all alike.
Printed: requests/s, p50 and p95 latency per server and the ratios to plain. A second
section times one token verification in-process, stdlib (the plugin) vs PyJWT.

    .venv/bin/python benchmarks/orthanc_token_filter.py [--quick] [--json]

Clients run on the same machine as Orthanc (2 cores here): absolute figures are a
floor; the ratio is the point.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "central" / "orthanc" / "plugin"))

import requests  # noqa: E402

from tests.central.orthanc.samples import ct_image  # noqa: E402
from tests.harness.orthanc import (  # noqa: E402
    OrthancServer,
    TokenIssuer,
    build_loopback_shim,
    start_orthanc,
)


@dataclass
class Workload:
    studies: int
    rounds: int
    requests_per_round: int
    clients: int


#: A QIDO-RS answer here takes milliseconds; this long means the server stopped answering.
REQUEST_TIMEOUT_S = 20

QUICK = Workload(studies=10, rounds=2, requests_per_round=60, clients=4)
FULL = Workload(studies=200, rounds=5, requests_per_round=1000, clients=8)


def populate(server: OrthancServer, uploads: list[bytes]) -> None:
    with requests.Session() as s:
        s.headers.update(server.headers("admin"))
        for data in uploads:
            s.post(f"{server.http_url}/instances", data=data, timeout=30).raise_for_status()


def run_round(
    server: OrthancServer, paths: list[str], header: dict[str, str], clients: int
) -> tuple[float, list[float]]:
    """(wall seconds, per-request latencies) of ``paths`` spread over ``clients`` threads.

    A request that fails or gets no answer within :data:`REQUEST_TIMEOUT_S` ends the
    round at once with an error naming the server (the requests still queued are
    cancelled, not each left to time out).
    """
    local = threading.local()

    def one(path: str) -> float:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(header)
        t0 = time.perf_counter()
        try:
            r = local.session.get(server.http_url + path, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            raise RuntimeError(f"{server.name}: {path}: {exc}") from exc
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"{server.name}: {path} -> {r.status_code} {r.text[:200]}")
        return elapsed

    pool = ThreadPoolExecutor(clients)
    try:
        list(pool.map(one, paths[: clients * 2]))  # warm the keep-alive connections
        t0 = time.perf_counter()
        latencies = list(pool.map(one, paths))
        wall = time.perf_counter() - t0
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return wall, latencies


def summarize(wall: float, latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "req_per_s": len(ordered) / wall,
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
    }


NOOP_FILTER = """import orthanc
orthanc.RegisterIncomingHttpRequestFilter(lambda uri, **request: True)
"""


def start_servers(tmp: Path, issuer: TokenIssuer) -> dict[str, OrthancServer]:
    """plain (no Python plugin), noop (a Python filter that allows all), filter (ours)."""
    shim = build_loopback_shim(tmp)
    noop_script = tmp / "noop_filter.py"
    noop_script.write_text(NOOP_FILTER)
    servers: dict[str, OrthancServer] = {}
    try:
        servers["plain"] = start_orthanc(tmp / "plain", shim=shim, token_filter=False, name="plain")
        servers["noop"] = start_orthanc(
            tmp / "noop", shim=shim, issuer=issuer, name="noop", filter_script=noop_script
        )
        servers["filter"] = start_orthanc(tmp / "filter", shim=shim, issuer=issuer, name="filter")
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


def bench_qido(work: Workload, tmp: Path) -> dict[str, Any]:
    issuer = TokenIssuer()
    servers = start_servers(tmp, issuer)
    try:
        samples = [ct_image() for _ in range(work.studies)]
        for server in servers.values():
            populate(server, [s.data for s in samples])
        # The same bearer header to all, so all parse the same request bytes.
        header = {"Authorization": f"Bearer {issuer.token('doctor', lifetime_s=3600)}"}
        queries = {
            "all studies (limit 50)": ["/dicom-web/studies?limit=50"],
            "one study by UID": [
                f"/dicom-web/studies?StudyInstanceUID={s.study_uid}" for s in samples
            ],
        }
        results: dict[str, Any] = {}
        for label, pool in queries.items():
            paths = [pool[i % len(pool)] for i in range(work.requests_per_round)]
            per_server: dict[str, tuple[float, list[float]]] = {n: (0.0, []) for n in servers}
            for _ in range(work.rounds):
                for name, server in servers.items():
                    wall, lat = run_round(server, paths, header, work.clients)
                    total, acc = per_server[name]
                    per_server[name] = (total + wall, acc + lat)
            stats: dict[str, Any] = {name: summarize(*v) for name, v in per_server.items()}
            for name in ("filter", "noop"):
                stats[f"ratio_throughput_{name}_over_plain"] = (
                    stats[name]["req_per_s"] / stats["plain"]["req_per_s"]
                )
                stats[f"ratio_p95_{name}_over_plain"] = (
                    stats[name]["p95_ms"] / stats["plain"]["p95_ms"]
                )
            results[label] = stats
        return results
    finally:
        for server in servers.values():
            server.stop()


def bench_verify(iterations: int) -> dict[str, float]:
    """Microseconds per token verification: the plugin's stdlib code vs PyJWT."""
    import jwt
    from klinika_filter import TokenFilter
    from klinika_jwt import Expectations, load_pem_public_key, verify_token

    issuer = TokenIssuer()
    token = issuer.token("doctor", lifetime_s=3600)
    key = load_pem_public_key(issuer.public_pem, issuer.kid)
    expect = Expectations(issuer.issuer, issuer.audience)
    public = issuer.private_key.public_key()

    def ours() -> None:
        verify_token(token, lambda _kid: [key], expect)

    section = {
        "Issuer": issuer.issuer,
        "Audience": issuer.audience,
        "PublicKeys": [issuer.public_key_entry()],
    }
    token_filter = TokenFilter.from_config({"KlinikaTokenFilter": section})
    headers = {"authorization": f"Bearer {token}"}

    def filter_cached() -> None:
        assert token_filter.check(1, "/dicom-web/studies", headers).allowed

    def pyjwt() -> None:
        jwt.decode(
            token, public, algorithms=["RS256"], audience=issuer.audience, issuer=issuer.issuer
        )

    timings = {}
    cases = (("stdlib_plugin_us", ours), ("pyjwt_us", pyjwt), ("filter_cached_us", filter_cached))
    for name, fn in cases:
        fn()
        t0 = time.perf_counter()
        for _ in range(iterations):
            fn()
        timings[name] = 1e6 * (time.perf_counter() - t0) / iterations
    timings["ratio_stdlib_over_pyjwt"] = timings["stdlib_plugin_us"] / timings["pyjwt_us"]
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (seconds), for CI")
    parser.add_argument("--clients", type=int, help="concurrent client threads")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    work = QUICK if args.quick else FULL
    if args.clients:
        work.clients = args.clients
    with tempfile.TemporaryDirectory(prefix="klinika-bench-orthanc-") as tmp:
        qido = bench_qido(work, Path(tmp))
    verify = bench_verify(200 if args.quick else 2000)
    report = {"workload": work.__dict__, "qido": qido, "verify": verify}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"Orthanc QIDO-RS, {work.studies} studies, {work.clients} clients, "
        f"{work.rounds} x {work.requests_per_round} requests per server (SQLite index on all)"
    )
    for label, stats in qido.items():
        print(f"  {label}:")
        for name in ("plain", "noop", "filter"):
            s = stats[name]
            print(
                f"    {name:6s} {s['req_per_s']:8.1f} req/s  p50 {s['p50_ms']:6.2f} ms"
                f"  p95 {s['p95_ms']:6.2f} ms"
            )
        for name in ("filter", "noop"):
            print(
                f"    ratio {name}/plain: throughput "
                f"{stats[f'ratio_throughput_{name}_over_plain']:.2f}"
                f", p95 {stats[f'ratio_p95_{name}_over_plain']:.2f}"
            )
    print(
        f"Token verification in-process: stdlib plugin {verify['stdlib_plugin_us']:.0f} us, "
        f"PyJWT {verify['pyjwt_us']:.0f} us, ratio {verify['ratio_stdlib_over_pyjwt']:.2f}; "
        f"whole filter check with the token remembered {verify['filter_cached_us']:.1f} us"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
