"""What one committed write per request can do at all on this machine: the floor under issues 16 and 17.

    .venv/bin/python bench/write_floor.py [--seconds 8] [--connections 32] [--statements 1,8,20]
                                          [--backends postgresql,sqlite] [--modes core,orm]

Issues 16 and 17 set throughput targets for requests that write (3,000 decisions/s, 1,000
repayments/s, at concurrency 32 on this 2-core machine). Those figures are only meaningful beside
what the stack can do for *any* write that commits. This bench measures that, with no microcredit
code in the request at all: a bare FastAPI + uvicorn application (one worker, as `serve` runs
by default) whose `POST /write` opens a write transaction through an engine made by
`microcredit.db.engine.make_engine` (the same pool, SQLite pragmas and `BEGIN IMMEDIATE`),
sends K statements and commits:

- `core`: K `INSERT`s of one row each, as a SQLAlchemy Core statement compiled once (the
  cheapest way the project sends a statement);
- `orm`: K ORM objects, each added and flushed on its own (how a statement costs when it goes
  through the ORM's unit of work, as most of a decision's and a repayment's still do);
- `coalesced`: the requests hand their write to one writer thread, which takes every request
  waiting (up to 64) and writes them in one transaction: K multi-row INSERTs (one row per
  request in each) and one COMMIT — group commit, the way a write path amortises its
  statements over concurrent requests (each request still waits for its own commit).

K = 1 is the floor of a committed write; K = 8 and 20 bracket what a repayment (21-23 statements
today) and a decision (22-24) send. In the same run, the bare `GET /ping` of `bench/request_path.py`
(the reference: no database). wrk drives each at `--connections` (two threads, after a 2-second
warm-up); every answer must be 2xx and the bench counts the others.

The last line is one JSON object: per backend, mode and K the requests/s and p50/p95/p99, the
reference, and the load (`uptime`) before the run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

import request_path as rp
from microcredit.db.engine import make_engine

WRITE_APP = r"""
import queue, sys, threading, uuid
from concurrent.futures import Future
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import BigInteger, Integer, String, Text, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from microcredit.db.engine import WRITE_OPTION, make_engine

url, mode, k, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


class Base(DeclarativeBase):
    "The bench's own table, outside the project's models."


class Row(Base):
    __tablename__ = "floor_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(36))
    amount: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)


engine = make_engine(url).execution_options(**{WRITE_OPTION: True})
statement = insert(Row.__table__)
BODY = '{"status": "recorded", "amount": {"minor": 5000, "currency": "CNY"}}'
app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, str]:
    return {"status": "ok"}


pending: "queue.SimpleQueue[tuple[str, Future[None]]]" = queue.SimpleQueue()


def writer() -> None:
    # One transaction for every request waiting: K multi-row INSERTs (a row per request in each), one COMMIT.
    while True:
        batch = [pending.get()]
        while len(batch) < 64:
            try:
                batch.append(pending.get_nowait())
            except queue.Empty:
                break
        try:
            with engine.begin() as conn:
                for i in range(k):
                    conn.execute(statement, [{"key": key, "amount": i, "body": BODY} for key, _ in batch])
        except Exception as error:  # every waiter learns of it
            for _, done in batch:
                done.set_exception(error)
        else:
            for _, done in batch:
                done.set_result(None)


if mode == "coalesced":
    threading.Thread(target=writer, daemon=True).start()


@app.post("/write")
def write() -> Response:
    key = str(uuid.uuid4())
    if mode == "coalesced":
        done: Future[None] = Future()
        pending.put((key, done))
        done.result()
    elif mode == "core":
        with engine.begin() as conn:
            for i in range(k):
                conn.execute(statement, {"key": key, "amount": i, "body": BODY})
    else:
        with Session(engine) as session, session.begin():
            for i in range(k):
                session.add(Row(key=key, amount=i, body=BODY))
                session.flush()
    return Response(b'{"status":"ok"}', media_type="application/json")


uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""

# wrk: POST with an empty body, the same summary line as request_path's script.
POST_SCRIPT = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = "{}"\n'

TABLE = ("CREATE TABLE floor_rows (id {pk}, key VARCHAR(36) NOT NULL, amount BIGINT NOT NULL, "
         "body TEXT NOT NULL)")


def _database(backend: str, tmp: Path) -> tuple[str, str | None]:
    """A new empty database (request_path's) with the one table the writes go to."""
    url, name = rp._database_url(backend, tmp)
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if backend == "sqlite" else "BIGSERIAL PRIMARY KEY"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(TABLE.format(pk=pk)))
    engine.dispose()
    return url, name


def _post_load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """wrk with request_path's summary script, made to POST."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(POST_SCRIPT + rp.WRK_SCRIPT)
        script = f.name
    try:
        results = []
        for seconds in (rp.WARM_UP_SECONDS, args.seconds):
            out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{round(seconds)}s",
                                  "--latency", "-s", script, url], capture_output=True, text=True,
                                 check=True).stdout
            line = next(ln for ln in out.splitlines() if ln.startswith("BENCH "))
            results.append(json.loads(line[len("BENCH "):]))
    finally:
        os.unlink(script)
    r = results[-1]
    return {"rps": round(r["requests"] / r["seconds"]), "p50_ms": round(r["p50_ms"], 2),
            "p95_ms": round(r["p95_ms"], 2), "p99_ms": round(r["p99_ms"], 2), "errors": r["errors"],
            "non_2xx": r["non_2xx"], "requests": r["requests"]}


def bench(backend: str, mode: str, k: int, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mc-bench-floor-"))
    url, name = _database(backend, tmp)
    port = rp._free_port()
    proc = subprocess.Popen([sys.executable, "-c", WRITE_APP, url, mode, str(k), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rp._wait_up(port, "/ping", proc)
        return _post_load(f"http://127.0.0.1:{port}/write", args)
    finally:
        rp._stop(proc)
        if name:
            rp._drop(name)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--statements", default="1,8,20", help="K: statements a request, comma-separated")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--modes", default="core,orm,coalesced")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk)")
    summary: dict[str, Any] = {"load": rp._uptime(), "connections": args.connections, "seconds": args.seconds}
    print(f"load before the run: {summary['load']}")
    summary["reference"] = rp.bench_reference(args)
    print(rp._row("bare FastAPI + uvicorn GET /ping", summary["reference"]))
    for backend in args.backends.split(","):
        if backend == "postgresql" and not os.environ.get("MICROCREDIT_TEST_POSTGRES_URL"):
            print("postgresql: skipped (set MICROCREDIT_TEST_POSTGRES_URL)")
            continue
        for mode in args.modes.split(","):
            for k in (int(s) for s in args.statements.split(",")):
                r = bench(backend, mode, k, args)
                summary[f"{backend}_{mode}_{k}"] = r
                print(rp._row(f"{backend} {mode}: {k} statement{'s' if k > 1 else ''} + COMMIT", r))
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
