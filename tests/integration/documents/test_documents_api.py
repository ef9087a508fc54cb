"""Documents through the API, on every database and on both storages (local disk, S3 on moto_server).

A borrower uploads and reads their own files; staff whose scope covers the
borrower's branch list, upload and read them; everyone else gets 404. Every
read of a file's bytes leaves an audit record, and auditors list those views.
"""

from __future__ import annotations

import io
import stat
from typing import Any

import pytest
from PIL import Image

from microcredit.documents import service as documents
from microcredit.platform.storage import LocalStorage, Storage
from microcredit.runtime import Runtime, build_runtime
from tests.factories import make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot

API = "/api/v1"
GPS_IFD = 0x8825


@pytest.fixture
def runtime(settings, database, clock, file_storage: Storage) -> Runtime:
    """The test's runtime, its files in the storage under test."""
    return build_runtime(settings, database=database, clock=clock, storage=file_storage)


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


def photo(colour: tuple[int, int, int] = (180, 40, 40), *, gps: bool = True) -> bytes:
    """A phone photo of an ID card: JPEG with EXIF (and a GPS position)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 40), colour).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 90, 0)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(session, runtime) -> dict[str, Any]:
    """An institution with branches A and B, a borrower in each, and staff of several roles."""
    inst = make_institution(session, runtime)
    a, b = make_branch(session, runtime, inst), make_branch(session, runtime, inst)
    me = make_borrower(session, runtime, inst, branch=a, password=None)
    other = make_borrower(session, runtime, inst, branch=b, password=None)
    officer_a = make_staff(session, runtime, inst, roles=("loan_officer",), branch=a, password=None)
    officer_b = make_staff(session, runtime, inst, roles=("loan_officer",), branch=b, password=None)
    manager = make_staff(session, runtime, inst, roles=("branch_manager",), branch=a, password=None)
    w = {"inst": inst, "me": me, "other": other,
         "h_me": signed_in(session, runtime, me.user), "h_other": signed_in(session, runtime, other.user),
         "h_officer_a": signed_in(session, runtime, officer_a.user),
         "h_officer_b": signed_in(session, runtime, officer_b.user),
         "h_manager": signed_in(session, runtime, manager.user)}
    session.commit()
    return w


def upload(client, headers, data: bytes, *, type_: str = "id_card", name: str = "身份证.jpg",
           mime: str = "image/jpeg", url: str = f"{API}/me/documents") -> Any:
    return client.post(url, headers=headers, data={"type": type_}, files={"file": (name, data, mime)})


def test_a_borrower_uploads_a_photo_and_reads_it_back_without_its_metadata(client, session, runtime, world):
    r = upload(client, world["h_me"], photo())
    assert r.status_code == 201, r.text
    doc = r.json()
    assert (doc["type"], doc["status"], doc["channel"], doc["content_type"]) == \
        ("id_card", "active", "online", "image/jpeg")
    assert doc["original_filename"] == "身份证.jpg"
    assert doc["borrower_id"] == world["me"].borrower.id

    listed = client.get(f"{API}/me/documents", headers=world["h_me"])
    assert [d["id"] for d in listed.json()] == [doc["id"]]

    content = client.get(f"{API}/me/documents/{doc['id']}/content", headers=world["h_me"])
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/jpeg"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in content.headers["cache-control"]
    assert content.headers["content-disposition"].startswith("inline;")
    with Image.open(io.BytesIO(content.content)) as stored:
        assert dict(stored.getexif()) == {}
    assert b"PhoneMaker" not in content.content
    import hashlib

    assert hashlib.sha256(content.content).hexdigest() == doc["sha256"]
    assert len(content.content) == doc["size"]

    row = documents.get(session=session, document_id=doc["id"])
    assert runtime.files.exists(row.storage_key)
    assert "身份证" not in row.storage_key
    if isinstance(runtime.files, LocalStorage):
        path = runtime.files.root / row.storage_key
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert documents.types_for_party(session, party_id=world["me"].borrower.id) == frozenset({"id_card"})
    assert len(audit_records(session, "document.viewed", doc["id"])) == 1
    assert len(audit_records(session, "document.uploaded", doc["id"])) == 1


def test_a_new_document_of_a_type_replaces_the_active_one(client, session, world):
    first = upload(client, world["h_me"], photo((10, 10, 200))).json()
    second = upload(client, world["h_me"], photo((10, 200, 10))).json()
    income = upload(client, world["h_me"], png(), type_="income_proof", name="payslip.png", mime="image/png").json()
    assert income["content_type"] == "image/png"
    active = client.get(f"{API}/me/documents", headers=world["h_me"]).json()
    assert {d["id"] for d in active} == {second["id"], income["id"]}
    every = {d["id"]: d for d in client.get(f"{API}/me/documents", headers=world["h_me"],
                                            params={"include_inactive": True}).json()}
    assert every[first["id"]]["status"] == "replaced"
    assert every[first["id"]]["replaced_by_id"] == second["id"]
    # The replaced file is kept and still readable.
    assert client.get(f"{API}/me/documents/{first['id']}/content", headers=world["h_me"]).status_code == 200
    assert documents.types_for_party(session, party_id=world["me"].borrower.id) == {"id_card", "income_proof"}
    assert documents.types_for_party(session, party_id=world["other"].borrower.id) == frozenset()


def test_the_same_file_twice_is_a_duplicate_naming_the_first(client, runtime, world):
    data = photo()
    first = upload(client, world["h_me"], data).json()
    before = snapshot(runtime.db)
    again = upload(client, world["h_me"], data, type_="asset_proof", name="other-name.jpg")
    body = assert_problem(again, 409)
    assert (body["code"], body["field"]) == ("duplicate_document", "file")
    assert body["conflict_with"] == {"entity_type": "document", "id": first["id"], "name": "id_card"}
    assert before.diff(snapshot(runtime.db)) == {}
    # Another borrower may hold the same file (the check is per borrower).
    assert upload(client, world["h_other"], data).status_code == 201


def test_a_fake_extension_is_refused_and_nothing_is_kept(client, runtime, world):
    before = snapshot(runtime.db)
    r = upload(client, world["h_me"], png(), type_="income_proof", name="payslip.pdf", mime="application/pdf")
    body = assert_problem(r, 422)
    assert (body["code"], body["field"]) == ("document_type_mismatch", "file")
    text = upload(client, world["h_me"], b"just some text, not a photo\n" * 10, name="id.jpg")
    assert assert_problem(text, 422)["code"] == "document_type_mismatch"
    unknown = upload(client, world["h_me"], photo(), type_="selfie")
    assert assert_problem(unknown, 422)["field"] == "type"
    assert before.diff(snapshot(runtime.db)) == {}


def test_only_the_owner_and_staff_of_the_branch_see_a_document(client, session, world):
    doc = upload(client, world["h_me"], photo()).json()
    mine, borrower_id = doc["id"], world["me"].borrower.id
    # Another borrower: not found, as if it did not exist.
    assert_problem(client.get(f"{API}/me/documents/{mine}/content", headers=world["h_other"]), 404)
    assert client.get(f"{API}/me/documents", headers=world["h_other"]).json() == []
    # Staff of another branch: not found either.
    assert_problem(client.get(f"{API}/documents/{mine}/content", headers=world["h_officer_b"]), 404)
    assert_problem(client.get(f"{API}/borrowers/{borrower_id}/documents", headers=world["h_officer_b"]), 404)
    assert_problem(upload(client, world["h_officer_b"], photo((1, 2, 3)),
                          url=f"{API}/borrowers/{borrower_id}/documents"), 404)
    assert audit_records(session, "document.viewed", mine) == []
    # Staff of the borrower's branch, and institution-wide roles, see it; each view is audited.
    listed = client.get(f"{API}/borrowers/{borrower_id}/documents", headers=world["h_officer_a"]).json()
    assert [d["id"] for d in listed] == [mine]
    for h in (world["h_officer_a"], world["h_officer_a"], world["h_manager"]):
        assert client.get(f"{API}/documents/{mine}/content", headers=h).status_code == 200
    views = audit_records(session, "document.viewed", mine)
    assert len(views) == 3
    # Auditors (audit.read: the branch manager) list the views, newest first; a loan officer may not.
    history = client.get(f"{API}/documents/{mine}/views", headers=world["h_manager"])
    assert history.status_code == 200, history.text
    assert [v["seq"] for v in history.json()] == [v.seq for v in reversed(views)]
    assert history.json()[-1]["actor_name"]
    assert_problem(client.get(f"{API}/documents/{mine}/views", headers=world["h_officer_a"]), 403)


def test_a_loan_officer_uploads_for_a_walk_in_borrower(client, session, world):
    borrower_id = world["me"].borrower.id
    r = upload(client, world["h_officer_a"], photo(), type_="business_licence", name="营业执照.jpg",
               url=f"{API}/borrowers/{borrower_id}/documents")
    assert r.status_code == 201, r.text
    assert (r.json()["channel"], r.json()["borrower_id"]) == ("branch", borrower_id)
    mine = client.get(f"{API}/me/documents", headers=world["h_me"]).json()
    assert [d["type"] for d in mine] == ["business_licence"]
