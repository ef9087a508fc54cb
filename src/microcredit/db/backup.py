"""Backup and restore of the database.

* **SQLite** — the online backup API (`sqlite3.Connection.backup`): a
  consistent copy while the service keeps running; restore copies it back
  the same way, page by page, inside the database's own locking.
* **PostgreSQL** — `pg_dump --format=custom` and `pg_restore --clean
  --if-exists --no-owner` (the server's own tools, which keep types, sequences
  and constraints exactly).
* **MySQL/MariaDB** — `mariadb-dump`/`mysqldump --single-transaction
  --routines --triggers` and the `mariadb`/`mysql` client to load it back.

A backup file starts with a small header line naming its format, so that
`restore` refuses a PostgreSQL dump offered to SQLite, say. Passwords go to the
tools through environment variables or option files, never on the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from microcredit.db.engine import normalise_url

MAGIC = b"MICROCREDIT-BACKUP v1 "


class BackupError(RuntimeError):
    """A backup or restore could not be done."""


@dataclass(frozen=True)
class BackupInfo:
    """What was written or read."""

    path: Path
    backend: str
    bytes: int


def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for pg in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            candidate = pg / name
            if candidate.exists():
                return str(candidate)
    raise BackupError(f"none of {', '.join(names)} is installed")


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return database


def _write_with_header(target: Path, backend: str, payload: Path) -> BackupInfo:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    with tmp.open("wb") as out, payload.open("rb") as src:
        out.write(MAGIC + backend.encode() + b"\n")
        shutil.copyfileobj(src, out, 1 << 20)
    tmp.replace(target)
    return BackupInfo(target, backend, target.stat().st_size)


def _read_header(source: Path) -> tuple[str, int]:
    if not source.is_file():
        raise BackupError(f"{source} does not exist or is not a file")
    with source.open("rb") as f:
        line = f.readline(200)
    if not line.startswith(MAGIC):
        raise BackupError(f"{source} is not a microcredit backup")
    return line[len(MAGIC):].strip().decode(), len(line)


def backup(url: str, target: Path) -> BackupInfo:
    """Write a backup of the database at `url` to `target`."""
    url = normalise_url(url)
    u = make_url(url)
    backend = u.get_backend_name()
    with tempfile.TemporaryDirectory() as tmp:
        payload = Path(tmp) / "payload"
        if backend == "sqlite":
            src = sqlite3.connect(_sqlite_path(url))
            dst = sqlite3.connect(payload)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        elif backend == "postgresql":
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={payload}",
                  *_pg_args(u)], _pg_env(u))
        elif backend == "mysql":
            with _my_defaults(u) as defaults:
                _run([_tool("mariadb-dump", "mysqldump"), f"--defaults-extra-file={defaults}",
                      "--single-transaction", "--routines", "--triggers", "--hex-blob",
                      f"--result-file={payload}", str(u.database)], os.environ.copy())
        else:
            raise BackupError(f"no backup method for {backend}")
        return _write_with_header(target, backend, payload)


def restore(url: str, source: Path) -> BackupInfo:
    """Replace the database at `url` with the backup in `source`."""
    url = normalise_url(url)
    u = make_url(url)
    backend = u.get_backend_name()
    stored, offset = _read_header(source)
    if stored != backend:
        raise BackupError(f"this is a {stored} backup; the target database is {backend}")
    with tempfile.TemporaryDirectory() as tmp:
        payload = Path(tmp) / "payload"
        with source.open("rb") as f, payload.open("wb") as out:
            f.seek(offset)
            shutil.copyfileobj(f, out, 1 << 20)
        if backend == "sqlite":
            src = sqlite3.connect(payload)
            dst = sqlite3.connect(_sqlite_path(url))
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        elif backend == "postgresql":
            _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", *_pg_args(u, dbflag=True), str(payload)], _pg_env(u))
        elif backend == "mysql":
            with _my_defaults(u) as defaults, payload.open("rb") as stdin:
                _run([_tool("mariadb", "mysql"), f"--defaults-extra-file={defaults}", str(u.database)],
                     os.environ.copy(), stdin=stdin)
        return BackupInfo(source, backend, source.stat().st_size)


def _pg_args(u: object, dbflag: bool = False) -> list[str]:
    args = []
    host = getattr(u, "host", None) or (getattr(u, "query", {}) or {}).get("host")
    if host:
        args.append(f"--host={host}")
    if getattr(u, "port", None):
        args.append(f"--port={u.port}")  # type: ignore[attr-defined]
    if getattr(u, "username", None):
        args.append(f"--username={u.username}")  # type: ignore[attr-defined]
    database = str(u.database)  # type: ignore[attr-defined]
    args.append(f"--dbname={database}" if dbflag else database)
    return args


def _pg_env(u: object) -> dict[str, str]:
    env = os.environ.copy()
    if getattr(u, "password", None):
        env["PGPASSWORD"] = str(u.password)  # type: ignore[attr-defined]
    return env


class _my_defaults:  # noqa: N801 - used as a context manager like a function
    """A temporary option file with the connection settings (keeps the password off argv)."""

    def __init__(self, u: object) -> None:
        self.u = u
        self.path: str | None = None

    def __enter__(self) -> str:
        u = self.u
        lines = ["[client]"]
        if getattr(u, "host", None):
            lines.append(f"host={u.host}")  # type: ignore[attr-defined]
        if getattr(u, "port", None):
            lines.append(f"port={u.port}")  # type: ignore[attr-defined]
        if getattr(u, "username", None):
            lines.append(f"user={u.username}")  # type: ignore[attr-defined]
        if getattr(u, "password", None):
            lines.append(f"password={u.password}")  # type: ignore[attr-defined]
        socket = (getattr(u, "query", {}) or {}).get("unix_socket")
        if socket:
            lines.append(f"socket={socket}")
        lines.append("default-character-set=utf8mb4")
        fd, self.path = tempfile.mkstemp(prefix="mc-my-", suffix=".cnf")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self.path:
            os.unlink(self.path)


def _run(cmd: list[str], env: dict[str, str], stdin: IO[bytes] | None = None) -> None:
    result = subprocess.run(cmd, env=env, stdin=stdin, capture_output=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {result.stderr.decode(errors='replace').strip()[:2000]}")
