"""The storage interface behaves the same on local disk and on a real S3-compatible server (moto_server)."""

from __future__ import annotations

import stat

import pytest

from microcredit.platform.storage import LocalStorage, ObjectMissing, Storage, check_key


def test_put_get_exists_delete(file_storage: Storage) -> None:
    key = "documents/1/2/abc.jpg"
    assert not file_storage.exists(key)
    file_storage.put(key, b"\xff\xd8first", "image/jpeg")
    assert file_storage.exists(key)
    assert file_storage.get(key) == b"\xff\xd8first"
    file_storage.put(key, b"\xff\xd8second", "image/jpeg")  # a put replaces
    assert file_storage.get(key) == b"\xff\xd8second"
    file_storage.delete(key)
    assert not file_storage.exists(key)
    file_storage.delete(key)  # deleting what is gone is no error


def test_a_missing_object_is_object_missing(file_storage: Storage) -> None:
    with pytest.raises(ObjectMissing):
        file_storage.get("documents/none/here.pdf")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/../../b", ".hidden", "a//b", "a b", "",
                                 "a/./b", "ü.jpg"])
def test_unsafe_keys_are_refused_before_any_io(file_storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        file_storage.put(key, b"x", "application/pdf")
    with pytest.raises(ValueError, match="not a storage key"):
        check_key(key)


def test_local_files_are_private_and_leave_no_temporaries(tmp_path) -> None:
    storage = LocalStorage(tmp_path / "store")
    storage.put("documents/7/x.pdf", b"%PDF-1.4 ...", "application/pdf")
    path = tmp_path / "store" / "documents" / "7" / "x.pdf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["x.pdf"]
