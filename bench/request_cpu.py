"""What one request costs inside the process: CPU, Python calls, SQL statements, trips to the thread pool.

    .venv/bin/python bench/request_cpu.py [--backend sqlite|postgresql] [--requests 100] [--rounds 11]
                                          [--calls] [--by-package] [--dump DIR]

`bench/request_path.py` measures over HTTP, with the load generator on the
same cores; this drives the ASGI application directly (no sockets, no HTTP
parsing), one request after another on uvloop, on a database filled as
request_path.py fills it, and prints for `GET /healthz`, a borrower's
`GET /api/v1/auth/me` and a loan officer's `GET /api/v1/borrowers?page_size=20`:

- CPU per request (`time.process_time`, every thread of the process), in
  `--rounds` interleaved rounds of `--requests` each: min / median / max,
  beside a bare FastAPI endpoint (async and plain `def`) in the same process;
- trips to the thread pool per request;
- with `--calls`: Python function calls and SQL statements per request,
  counted by cProfile with the thread pool replaced by direct calls (so one
  profile sees everything). Unlike CPU time, these counts do not move with
  the machine's load, so a before/after on a shared machine can rely on them;
  `--by-package` splits calls and profiled self time by package; `--dump DIR`
  writes each request's cProfile stats there (read them with `pstats`).

For a before/after, run it twice with PYTHONPATH pointing at each checkout's
src/ (at the same time, so both see the same load).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import anyio.to_thread

import request_path as rp
from microcredit.api.app import create_app, prepare_routes
from microcredit.config import Settings

TRIPS = [0]


def _count_trips() -> None:
    run_sync = anyio.to_thread.run_sync

    async def counting(*args: Any, **kwargs: Any) -> Any:
        TRIPS[0] += 1
        return await run_sync(*args, **kwargs)

    anyio.to_thread.run_sync = counting  # type: ignore[assignment]


def _inline_thread_pool() -> None:
    """Run what would go to the thread pool in place (for one profile of the whole request)."""

    async def inline(func: Any, *args: Any, **_kwargs: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]


class Driver:
    """Sends requests straight to an ASGI application."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, method: str, path: str, token: str | None = None, body: bytes | None = None,
                       query: bytes = b"") -> tuple[int, bytes]:
        headers = [(b"host", b"bench")]
        if token:
            headers.append((b"authorization", b"Bearer " + token.encode()))
        if body is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "path": path, "raw_path": path.encode(), "query_string": query, "headers": headers,
                 "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "scheme": "http", "root_path": "",
                 "app": self.app}
        sent: list[dict[str, Any]] = []
        received = False

        async def receive() -> dict[str, Any]:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": body or b"", "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _package(filename: str, function: str) -> str:
    m = (re.search(r"site-packages/([^/]+)", filename) or re.search(r"src/(microcredit/[^/]+)", filename)
         or re.search(r"python3\.\d+/([^/]+)", filename))
    return m.group(1) if m else ("built-in" if filename == "~" else filename)


async def run(args: argparse.Namespace, app: Any) -> None:
    call = Driver(app)
    tokens = {}
    for who, phone, kind in (("borrower", rp.BORROWER_PHONE, "borrower"), ("officer", rp.OFFICER_PHONE, "staff")):
        status, body = await call("POST", "/api/v1/auth/login", body=json.dumps(
            {"phone": phone, "password": rp.DEMO_PASSWORD, "kind": kind}).encode())
        assert status == 200, body
        tokens[who] = json.loads(body)["token"]
    requests = {"GET /healthz": ("/healthz", None, b""),
                "GET /api/v1/auth/me (borrower)": ("/api/v1/auth/me", tokens["borrower"], b""),
                "GET /api/v1/borrowers (officer, 20)": ("/api/v1/borrowers", tokens["officer"], b"page_size=20")}
    for path, token, query in requests.values():
        for _ in range(100):  # warm-up: first-use costs
            status, body = await call("GET", path, token, query=query)
            assert status == 200, body
    n = args.requests
    if args.calls:
        for name, (path, token, query) in requests.items():
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(n):
                await call("GET", path, token, query=query)
            profile.disable()
            stats = pstats.Stats(profile)
            raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
            sql = sum(v[1] for k, v in raw.items() if k[2] == "do_execute")
            if args.dump:
                stats.dump_stats(str(Path(args.dump) / (re.sub(r"[^a-z]+", "_", name.lower()).strip("_") + ".prof")))
            print(f"  {name:<40} {stats.total_calls / n:>8,.0f} Python calls   {sql / n:4.1f} SQL statements")
            if args.by_package:
                calls: collections.Counter[str] = collections.Counter()
                own: collections.Counter[str] = collections.Counter()
                for (filename, _line, function), v in raw.items():
                    key = _package(filename, function)
                    calls[key] += v[0]
                    own[key] += v[2]
                total = sum(own.values()) or 1
                for key, c in calls.most_common(12):
                    share = 100 * own[key] / total
                    print(f"      {key:<34} {c / n:>7,.0f} calls   {share:5.1f} % of profiled self time")
        return
    # The reference: a bare FastAPI endpoint in the same process, async and plain `def`.
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/async")
    async def bare_async() -> dict[str, str]:
        return {"status": "ok"}

    @bare.get("/def")
    def bare_def() -> dict[str, str]:
        return {"status": "ok"}

    bare_call = Driver(bare)
    for path in ("/async", "/def"):
        for _ in range(200):
            await bare_call("GET", path)
        began = time.process_time()
        for _ in range(20 * n):
            await bare_call("GET", path)
        print(f"  bare FastAPI GET {path:<23} {1000 * (time.process_time() - began) / (20 * n):8.3f} ms CPU")
    cpu: dict[str, list[float]] = {name: [] for name in requests}
    trips: dict[str, int] = dict.fromkeys(requests, 0)
    for _ in range(args.rounds):
        for name, (path, token, query) in requests.items():
            before = TRIPS[0]
            began = time.process_time()
            for _ in range(n):
                await call("GET", path, token, query=query)
            cpu[name].append(1000 * (time.process_time() - began) / n)
            trips[name] += TRIPS[0] - before
    for name, values in cpu.items():
        values.sort()
        print(f"  {name:<40} CPU ms/request min {values[0]:6.2f}  median {statistics.median(values):6.2f}  "
              f"max {values[-1]:6.2f}   {trips[name] / (n * args.rounds):4.2f} trips to the thread pool")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--calls", action="store_true", help="count Python calls and SQL statements instead")
    parser.add_argument("--by-package", action="store_true", help="with --calls: split them by package")
    parser.add_argument("--dump", metavar="DIR", help="with --calls: write each request's cProfile stats to DIR")
    args = parser.parse_args()
    if args.dump:
        Path(args.dump).mkdir(parents=True, exist_ok=True)  # its failure later would be silent (stderr goes to nowhere)
    if args.calls:
        _inline_thread_pool()
    else:
        _count_trips()
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-cpu-"))
    url, pg_name = rp._database_url(args.backend, tmp)
    env = {"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(tmp)}
    try:
        rp._fill(env)
        settings = Settings(database_url=url, data_dir=tmp, outbox_poll_seconds=0, log_json=True)
        app = create_app(settings)
        prepare_routes(app)
        # As `microcredit serve` does: the start-up heap frozen out of the full collections (a checkout
        # from before api.app.settle_heap runs without it, as it was served then).
        settle_heap = getattr(sys.modules["microcredit.api.app"], "settle_heap", None)
        if settle_heap is not None:
            settle_heap()
        sys.stderr.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # the JSON access log, as in production, to nowhere
        print(f"load before the run: {rp._uptime()}")
        print(f"{args.backend}, code from {Path(sys.modules['microcredit'].__file__ or '').parent}")
        import uvloop

        uvloop.run(run(args, app))
    finally:
        if pg_name:
            rp._drop(pg_name)


if __name__ == "__main__":
    main()
