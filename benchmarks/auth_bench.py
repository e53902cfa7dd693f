"""Central auth API: logins per second and latency with 20 concurrent clients.

Starts ``central-auth serve`` (gunicorn, as deployed: one worker per core, 4 threads each)
on loopback with its own database (SQLite by default, ``--postgres`` for a temp
PostgreSQL 15), makes a few users, then for a fixed time 20 client threads each sign in
over and over (``POST /auth/login``: argon2id verify, session + refresh token rows, an
audit event, an RS256 signature).  Printed: logins/s, p50/p95/p99 latency.

Named peers, measured in the same run:

- **argon2**: raw ``argon2-cffi`` verifications per second with the server's parameters
  from as many threads as cores (the floor the password hash sets; a login can't beat it);
- **health**: ``GET /health`` (one ``SELECT 1``) through the same server and clients:
  what HTTP, Flask and the database cost without the hash;
- **refresh**: ``POST /auth/refresh`` with rotation (no hash, but writes and a signature).

Clients run on the same machine as the server (2 cores here), so absolute figures are a
floor; the ratios are the point.

    .venv/bin/python benchmarks/auth_bench.py [--quick] [--seconds S] [--clients N]
        [--postgres] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.harness.auth_api import AuthApiServer  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    return {
        "name": name,
        "count": len(latencies),
        "errors": errors,
        "per_second": len(latencies) / seconds,
        "p50_ms": 1000 * percentile(latencies, 50) if latencies else None,
        "p95_ms": 1000 * percentile(latencies, 95) if latencies else None,
        "p99_ms": 1000 * percentile(latencies, 99) if latencies else None,
    }


def hammer(
    name: str,
    clients: int,
    seconds: float,
    make_call: Callable[[requests.Session, int], Callable[[], bool]],
) -> dict[str, Any]:
    """``clients`` threads, each with its own HTTP session, calling until time is up."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)
    go = threading.Event()
    stop_at = [0.0]

    def client(i: int) -> None:
        nonlocal errors
        with requests.Session() as http:
            call = make_call(http, i)
            start_line.wait()
            go.wait()
            mine, bad = [], 0
            while time.perf_counter() < stop_at[0]:
                t0 = time.perf_counter()
                if call():
                    mine.append(time.perf_counter() - t0)
                else:
                    bad += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        start_line.wait()  # every client is set up (refresh: signed in once)
        t0 = time.perf_counter()
        stop_at[0] = t0 + seconds
        go.set()
        for f in futures:
            f.result()
        elapsed = time.perf_counter() - t0
    return summary(name, latencies, errors, elapsed)


def argon2_peer(seconds: float, threads: int) -> dict[str, Any]:
    """Raw argon2id verifications/s with the service's default parameters."""
    from argon2 import PasswordHasher
    from klinika_auth.settings import Settings

    s = Settings()
    ph = PasswordHasher(
        time_cost=s.argon2_time_cost,
        memory_cost=s.argon2_memory_kib,
        parallelism=s.argon2_parallelism,
    )
    stored = ph.hash("Bench-password-123")
    counts = [0] * threads
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def work(i: int) -> None:
        mine = []
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            ph.verify(stored, "Bench-password-123")
            mine.append(time.perf_counter() - t0)
            counts[i] += 1
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    return summary(f"argon2 verify ({threads} threads)", latencies, 0, time.perf_counter() - t0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="klinika-auth-bench-"))
    pg = None
    url = None
    if args.postgres:
        from tests.harness.ports import free_port
        from tests.harness.postgres import PostgresServer, _pg_bin

        bindir = _pg_bin()
        if bindir is None:
            raise SystemExit("PostgreSQL binaries not found (Debian package postgresql)")
        pg = PostgresServer(
            bindir=bindir, root=Path(tempfile.mkdtemp(prefix="klinika-pg-")), port=free_port()
        )
        pg.start()
        url = pg.new_database("authbench")
    workers = os.cpu_count() or 2
    server = AuthApiServer(root=root, database_url=url, workers=workers, name="auth_bench")
    try:
        server.start()
        users = []
        for i in range(args.users):
            name, password = f"bench-{i}", f"Bench-pass-{i}-Zq8"
            server.create_user(name, password, "doctor")
            users.append((name, password))

        def login_call(http: requests.Session, i: int) -> Callable[[], bool]:
            name, password = users[i % len(users)]
            body = {"username": name, "password": password}
            return lambda: (
                http.post(server.url + "/auth/login", json=body, timeout=120).status_code == 200
            )

        def health_call(http: requests.Session, _i: int) -> Callable[[], bool]:
            return lambda: http.get(server.url + "/health", timeout=60).status_code == 200

        def refresh_call(http: requests.Session, i: int) -> Callable[[], bool]:
            name, password = users[i % len(users)]
            token = [server.login(name, password)["refresh_token"]]

            def call() -> bool:
                r = http.post(
                    server.url + "/auth/refresh", json={"refresh_token": token[0]}, timeout=60
                )
                if r.status_code == 200:
                    token[0] = r.json()["refresh_token"]
                return r.status_code == 200

            return call

        results = {
            "argon2": argon2_peer(args.seconds, workers),
            "health": hammer("GET /health", args.clients, args.seconds, health_call),
            "refresh": hammer("POST /auth/refresh", args.clients, args.seconds, refresh_call),
            "login": hammer("POST /auth/login", args.clients, args.seconds, login_call),
        }
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        if pg is not None:
            pg.stop()
            shutil.rmtree(pg.root, ignore_errors=True)
    login = results["login"]["per_second"]
    results["ratios"] = {
        "login_vs_argon2": login / results["argon2"]["per_second"],
        "login_vs_health": login / results["health"]["per_second"],
        "login_vs_refresh": login / results["refresh"]["per_second"],
    }
    results["setup"] = {
        "database": "postgresql" if args.postgres else "sqlite",
        "clients": args.clients,
        "seconds": args.seconds,
        "server_workers": workers,
        "cores": os.cpu_count(),
    }
    return results


def report(results: dict[str, Any]) -> None:
    setup = results["setup"]
    print(
        f"central auth API, {setup['database']}, {setup['server_workers']} gunicorn workers x 4 "
        f"threads, {setup['clients']} clients, {setup['seconds']:.0f} s each, {setup['cores']} cores"
    )
    print(f"{'what':32} {'per s':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7}")
    for key in ("login", "refresh", "health", "argon2"):
        r = results[key]

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}"

        print(
            f"{r['name']:32} {r['per_second']:9.1f} {ms(r['p50_ms']):>9} {ms(r['p95_ms']):>9} "
            f"{ms(r['p99_ms']):>9} {r['errors']:7d}"
        )
    ratios = results["ratios"]
    print(f"logins/s vs raw argon2 verifies/s: {ratios['login_vs_argon2']:.2f}")
    print(f"logins/s vs GET /health/s:         {ratios['login_vs_health']:.3f}")
    print(f"logins/s vs refreshes/s:           {ratios['login_vs_refresh']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per phase, 3 users")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each phase")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--users", type=int, default=5, help="distinct user accounts")
    parser.add_argument("--postgres", action="store_true", help="temp PostgreSQL, not SQLite")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.users = min(args.seconds, 2.0), min(args.users, 3)
    results = run(args)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results)
    return 0 if results["login"]["count"] and not results["login"]["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
