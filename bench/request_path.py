"""Signed-in requests over real HTTP: req/s and p50/p95/p99 against `microcredit serve`, beside references.

    .venv/bin/python bench/request_path.py [--seconds 8] [--connections 32] [--workers 1]
                                   [--backends sqlite,postgresql,redis] [--scaling]

For each backend -- SQLite always (a file, WAL), PostgreSQL when
`MICROCREDIT_TEST_POSTGRES_URL` names a server, and PostgreSQL with Redis (rate
limits and SMS codes in Redis) when `MICROCREDIT_TEST_REDIS_URL` names one too
(``set -a; . /tmp/mc-svc-main/env; set +a``) -- a fresh database is migrated and
filled by the real operations: the demo's institution, branches, staff and
borrowers (`microcredit.demo.seed`) plus 40 more borrowers at the loan
officer's branch, so a page of 20 is full. Then `microcredit serve` is started
as its own process (one worker by default), a borrower and a loan officer sign
in through `POST /api/v1/auth/login`, and the load generator drives, one after
the other, at `--connections`:

- `GET /healthz`;
- `GET /api/v1/auth/me` as the borrower;
- `GET /api/v1/borrowers?page_size=20` as the loan officer.

In the same run, a bare FastAPI + uvicorn endpoint (the reference: what one
worker of this stack can do at all) is measured the same way. With
`--scaling`, the SQLite signed-in read runs again under `serve --workers 2`;
with `--before SRC`, every backend is also served by the code in SRC (e.g. an
export of main's src/) on the same data, so a before/after comes from one run.

The load generator is wrk (`apt-get install wrk`; two threads, `--latency`);
without it, a Python one (keep-alive connections in threads; slower, so its
figures are a floor). Every answer must be 200: the bench counts the others
and says so. Each measurement follows a 2-second warm-up of the same request;
the server logs JSON lines (production's format) to /dev/null.  wrk counts a
request past its 2-second timeout as an error: the bench prints how many of
those were answers with a non-2xx status. The last line
is one JSON object: `healthz_rps`, `me_rps`, `me_p99_ms`, `list_rps`,
`list_p99_ms` (the first backend: SQLite), every
figure per backend, the reference, the load (`uptime`) before the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from microcredit.config import Settings
from microcredit.db.engine import make_engine
from microcredit.db.migrate import upgrade
from microcredit.demo import DEMO_PASSWORD, demo_id_number, seed
from microcredit.identity import service as identity
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.parties.models import Branch
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.runtime import build_runtime

BORROWER_PHONE = "13900001001"  # 张三, a demo borrower with a password
OFFICER_PHONE = "13900000002"  # 李强, the demo's loan officer at branch BR01
EXTRA_BORROWERS = 40
WARM_UP_SECONDS = 2  # each measurement follows an unmeasured run of this length (first-use costs)

REFERENCE_APP = """
import uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning")
"""

# wrk prints the percentiles we need (p95 is not in its --latency table) as one JSON line.
WRK_SCRIPT = """
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, '
    .. '"errors": %d, "non_2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors, summary.errors.status))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _wait_up(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer {path}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- load generators ---------------------------------------------------------------------------


def _wrk(url: str, token: str | None, seconds: float, connections: int, threads: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT)
        script = f.name
    env = {**os.environ, "BENCH_TOKEN": token or ""}
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{round(seconds)}s", "--latency",
                              "-s", script, url], capture_output=True, text=True, env=env, check=True).stdout
    finally:
        os.unlink(script)
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH "))
    r = json.loads(line[len("BENCH "):])
    return {"rps": round(r["requests"] / r["seconds"]), "p50_ms": round(r["p50_ms"], 2),
            "p95_ms": round(r["p95_ms"], 2), "p99_ms": round(r["p99_ms"], 2),
            "errors": r["errors"], "non_2xx": r["non_2xx"], "requests": r["requests"]}


def _python_load(url: str, token: str | None, seconds: float, connections: int) -> dict[str, Any]:
    """A fallback load generator: keep-alive connections, one thread each (slower than wrk)."""
    m = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert m is not None
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while time.perf_counter() < stop:
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
            mine.append(time.perf_counter() - began)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    began = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)

    return {"rps": round(len(latencies) / elapsed), "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "errors": errors, "requests": len(latencies)}


def load(url: str, token: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """Drive GET `url` for `args.seconds` at `args.connections` (wrk, or the Python fallback), after a warm-up."""
    if shutil.which("wrk"):
        _wrk(url, token, WARM_UP_SECONDS, args.connections, args.threads)
        return _wrk(url, token, args.seconds, args.connections, args.threads)
    _python_load(url, token, WARM_UP_SECONDS, args.connections)
    return _python_load(url, token, args.seconds, args.connections)


# -- the data and the server -------------------------------------------------------------------


def _database_url(backend: str, tmp: Path) -> tuple[str, str | None]:
    """A new empty database; returns its URL and the PostgreSQL database name to drop (or None)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}", None
    admin_url = os.environ["MICROCREDIT_TEST_POSTGRES_URL"]
    name = f"mc_bench_http_{uuid.uuid4().hex[:8]}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def _drop(name: str) -> None:
    admin = make_engine(os.environ["MICROCREDIT_TEST_POSTGRES_URL"])
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fill(env: dict[str, str]) -> None:
    """The demo's data, by the real operations, plus borrowers enough for a full page at the officer's branch."""
    settings = Settings(**{k[len("MICROCREDIT_"):].lower(): v for k, v in env.items()
                           if k in ("MICROCREDIT_DATABASE_URL", "MICROCREDIT_DATA_DIR", "MICROCREDIT_REDIS_URL")})
    runtime = build_runtime(settings)
    assert runtime.db.engine is not None
    upgrade(runtime.db.engine)
    with runtime.db.unit_of_work() as session:
        seed(session=session, kit=runtime.identity)
        inst = parties.organisation.institution_by_code(session=session, code="DEMO")
        branch_id = session.scalar(select(Branch.id).where(Branch.institution_id == inst.id, Branch.code == "BR01"))
        for n in range(EXTRA_BORROWERS):
            phone = f"1390000{2000 + n:04d}"
            data = NewBorrower(real_name=f"借款人{n:02d}", id_number=demo_id_number("360102", date(1980, 1, 1 + n % 28),
                                                                                     100 + n),
                               phone=phone, customer_type="consumer", occupation="职员",
                               monthly_income=Money.parse("6000.00", "CNY"))
            user = identity.accounts.create_user(session=session, kit=runtime.identity, institution_id=inst.id,
                                                 kind="borrower", phone=phone, display_name=data.real_name,
                                                 password=None, role_codes=("borrower",))
            parties.borrowers.create_profile(
                session, runtime.identity, institution_id=inst.id, data=data, user=user, channel="branch",
                branch_id=branch_id, registered_by=None,
                resident=parties.borrowers.parse_id_number(data.id_number, on=inst.business_date))
    runtime.close()


def _login(port: int, phone: str, kind: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/v1/auth/login", body=json.dumps({"phone": phone, "password": DEMO_PASSWORD,
                                                                 "kind": kind}),
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    if response.status != 200 or body.get("status") != "authenticated":
        raise RuntimeError(f"sign-in of {phone} failed: {response.status} {body}")
    return str(body["token"])


def _serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "microcredit"), "serve", "--port", str(port),
                             "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_up(port, "/healthz", proc)
    return proc, port


def bench_backend(backend: str, args: argparse.Namespace, workers: tuple[int, ...]) -> dict[str, Any]:
    """Fill a fresh database for `backend`, serve it and drive the three requests (per worker count)."""
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-http-"))
    url, pg_name = _database_url("sqlite" if backend == "sqlite" else "postgresql", tmp)
    # As in production: JSON log lines (one per API request, as always), to a file nobody reads.
    env = {**os.environ, "MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp),
           "MICROCREDIT_OUTBOX_POLL_SECONDS": "0", "MICROCREDIT_LOG_JSON": "true"}
    env.pop("MICROCREDIT_REDIS_URL", None)
    if backend == "redis":
        env["MICROCREDIT_REDIS_URL"] = os.environ["MICROCREDIT_TEST_REDIS_URL"]
    results: dict[str, Any] = {}
    # (key suffix, worker count, PYTHONPATH): this code, then -- with --before -- another checkout's.
    runs = [("" if n == 1 else f"_workers{n}", n, None) for n in workers]
    if args.before:
        runs.append(("_before", 1, args.before))
    try:
        _fill(env)
        for suffix, n, pythonpath in runs:
            proc, port = _serve({**env, "PYTHONPATH": pythonpath} if pythonpath else env, n)
            try:
                borrower = _login(port, BORROWER_PHONE, "borrower")
                officer = _login(port, OFFICER_PHONE, "staff")
                base = f"http://127.0.0.1:{port}"
                if n == 1:
                    results["healthz" + suffix] = load(f"{base}/healthz", None, args)
                results["me" + suffix] = load(f"{base}/api/v1/auth/me", borrower, args)
                results["list" + suffix] = load(f"{base}/api/v1/borrowers?page_size=20", officer, args)
            finally:
                _stop(proc)
    finally:
        if pg_name:
            _drop(pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def bench_reference(args: argparse.Namespace) -> dict[str, Any]:
    """The bare FastAPI + uvicorn endpoint, measured the same way."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", REFERENCE_APP, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_up(port, "/ping", proc)
        return load(f"http://127.0.0.1:{port}/ping", None, args)
    finally:
        _stop(proc)


def _row(name: str, r: dict[str, Any]) -> str:
    # wrk counts a request that took over its 2 s timeout as an error too: the answers that were
    # not 2xx are told apart (the Python generator counts every failure as not 200).
    errors = f"  NOT 200: {r['errors']} (non-2xx status: {r.get('non_2xx', r['errors'])})" if r["errors"] else ""
    return (f"  {name:<40}{r['rps']:>9,} req/s   p50 {r['p50_ms']:>7.2f}   p95 {r['p95_ms']:>7.2f}   "
            f"p99 {r['p99_ms']:>7.2f} ms{errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--backends", default="sqlite,postgresql,redis")
    parser.add_argument("--scaling", action="store_true", help="also serve SQLite with --workers 2")
    parser.add_argument("--before", metavar="SRC", help="also serve the code in SRC (a checkout's src/, put on "
                        "PYTHONPATH) on the same data, for a before/after in one run")
    args = parser.parse_args()
    summary: dict[str, Any] = {"load": _uptime(), "connections": args.connections, "seconds": args.seconds,
                               "generator": "wrk" if shutil.which("wrk") else "python"}
    print(f"load before the run: {summary['load']}")
    print(f"generator: {summary['generator']}, {args.connections} connections, {args.seconds:g} s per request")
    summary["reference"] = bench_reference(args)
    print("reference")
    print(_row("bare FastAPI + uvicorn GET /ping", summary["reference"]))
    for backend in args.backends.split(","):
        if backend in ("postgresql", "redis") and not os.environ.get("MICROCREDIT_TEST_POSTGRES_URL"):
            print(f"{backend}: skipped (set MICROCREDIT_TEST_POSTGRES_URL)")
            continue
        if backend == "redis" and not os.environ.get("MICROCREDIT_TEST_REDIS_URL"):
            print("redis: skipped (set MICROCREDIT_TEST_REDIS_URL)")
            continue
        workers = (1, 2) if args.scaling and backend == "sqlite" else (1,)
        results = bench_backend(backend, args, workers)
        summary[backend] = results
        label = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "redis": "PostgreSQL + Redis"}[backend]
        print(f"{label}, microcredit serve --workers 1")
        print(_row("GET /healthz", results["healthz"]))
        print(_row("GET /api/v1/auth/me (borrower)", results["me"]))
        print(_row("GET /api/v1/borrowers (officer, 20)", results["list"]))
        if "me_before" in results:
            print(f"{label}, the code in {args.before} (before), --workers 1")
            for name, key in (("GET /healthz", "healthz"), ("GET /api/v1/auth/me (borrower)", "me"),
                              ("GET /api/v1/borrowers (officer, 20)", "list")):
                print(_row(name, results[f"{key}_before"]))
        if "me_workers2" in results:
            print(f"{label}, microcredit serve --workers 2")
            for name, key in (("GET /api/v1/auth/me (borrower)", "me"), ("GET /api/v1/borrowers (officer, 20)",
                                                                         "list")):
                r2 = results[f"{key}_workers2"]
                ratio = r2["rps"] / max(1, results[key]["rps"])
                summary[f"{key}_scaling"] = round(ratio, 2)
                print(_row(name, r2) + f"   {ratio:.2f}x one worker")
    first = next((summary[b] for b in ("sqlite", "postgresql", "redis") if b in summary), None)
    if first is not None:
        summary.update(healthz_rps=first["healthz"]["rps"], healthz_p99_ms=first["healthz"]["p99_ms"],
                       me_rps=first["me"]["rps"], me_p99_ms=first["me"]["p99_ms"],
                       list_rps=first["list"]["rps"], list_p99_ms=first["list"]["p99_ms"],
                       reference_rps=summary["reference"]["rps"])
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
