"""Where files live: a small storage interface, local disk by default, S3-compatible object storage by configuration.

Documents now, contracts and vouchers later, keep their bytes here under a
key the caller generates (never a user's filename); the database keeps only
the key and the digest. Two implementations:

* `LocalStorage` — a directory outside the web root (`MICROCREDIT_STORAGE_DIR`,
  default `<data_dir>/storage`). Files are written to a temporary file in the
  same directory, flushed and renamed into place (atomic: a reader sees the
  whole file or none), mode 0600; directories 0700.
* `S3Storage` — any S3-compatible server through boto3 (endpoint URL, bucket,
  region, keys, path-style addressing for MinIO-like servers). The bucket must
  exist; only tests create one (`create_bucket`).

Keys are relative paths of safe characters (`[A-Za-z0-9._-]` segments joined
by `/`); anything else is refused before it reaches the disk or the network.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}){0,7}$")


class StorageError(RuntimeError):
    """The storage could not do what was asked (not a missing object: that is `ObjectMissing`)."""


class ObjectMissing(StorageError, KeyError):
    """No object under this key."""


def check_key(key: str) -> str:
    """The key if it is a safe relative path (no `..`, no leading dot or slash); ValueError otherwise."""
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    """Put, get, delete and test objects by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` (replacing any object there)."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`; ObjectMissing if none."""

    def delete(self, key: str) -> None:
        """Remove the object under `key` (nothing if there is none)."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""


@dataclass(frozen=True)
class LocalStorage:
    """Files in a directory on local disk, written atomically with mode 0600."""

    root: Path

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write to a temporary file beside the target, fsync, rename into place."""
        path = self._path(key)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = self.root
        for part in key.split("/")[:-1]:  # each level private (mkdir's `parents` would use the umask)
            folder = folder / part
            folder.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        """The file's bytes."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    def delete(self, key: str) -> None:
        """Unlink the file if it is there."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return self._path(key).is_file()


class S3Storage:
    """Objects in one bucket of an S3-compatible server."""

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 path_style: bool = True, prefix: str = "") -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=Config(s3={"addressing_style": "path" if path_style else "virtual"},
                          retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30))

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def create_bucket(self) -> None:
        """Create the bucket (tests and first set-up of a private server only)."""
        from botocore.exceptions import ClientError

        try:
            self.client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """PUT the object (S3 writes are atomic: readers see the old or the new object whole)."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        """GET the object's bytes."""
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ObjectMissing(key) from exc
            raise
        body: bytes = answer["Body"].read()
        return body

    def delete(self, key: str) -> None:
        """DELETE the object (S3 answers the same whether it was there or not)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        """HEAD the object."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True
