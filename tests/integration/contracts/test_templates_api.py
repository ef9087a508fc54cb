"""Contract templates over HTTP: the default in force, a draft edited and previewed, published by maker–checker
(the old one retired, never changed again), a template that does not render refused with its field. The
publication's refusals and the contracts made after it: test_template_publication.py."""

from __future__ import annotations

import pytest

from tests.factories import make_institution, make_staff
from tests.integration.helpers import assert_problem, shared_client, signed_in, snapshot

T = "/api/v1/contract-templates"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def admins(session, runtime):
    """Two administrators' headers (product.manage, contract.template.approve) in one institution."""
    inst = make_institution(session, runtime)
    both = [signed_in(session, runtime, make_staff(session, runtime, inst, roles=("administrator",),
                                                   password=None).user) for _ in range(2)]
    session.commit()
    return both


@pytest.fixture
def admin(admins):
    """The first administrator's headers (the editor)."""
    return admins[0]


def _publish(client, admins, number):
    """Publication by maker–checker: the first administrator asks, the second approves."""
    r = client.post(f"{T}/loan/versions/{number}/publication-request", headers=admins[0])
    assert r.status_code == 200, r.text
    return client.post(f"{T}/loan/versions/{number}/publication-request/approve", headers=admins[1], json={})


def test_the_default_can_be_opened_before_the_templates_were_ever_listed(client, admin):
    """A new institution's default is seeded on first use, whichever address that use is."""
    for path in ("", "/docx", "/preview", "/preview.docx"):
        opened = client.get(f"{T}/loan/versions/1{path}", headers=admin)
        assert opened.status_code == 200, (path, opened.text)
    assert client.get(f"{T}/loan/versions/1", headers=admin).json()["status"] == "published"
    assert_problem(client.get(f"{T}/loan/versions/2", headers=admin), 404)
    assert len(client.get(T, headers=admin).json()) == 1  # seeded once


def test_draft_edit_preview_publish(client, runtime, admin, admins):
    [v1] = client.get(T, headers=admin).json()
    assert (v1["code"], v1["number"], v1["status"]) == ("loan", 1, "published")

    draft = client.post(f"{T}/loan/drafts", headers=admin)
    assert draft.status_code == 201, draft.text
    assert draft.json()["number"] == 2
    assert assert_problem(client.post(f"{T}/loan/drafts", headers=admin), 409)["code"] == "template_draft_exists"

    html = draft.json()["html"].replace("第九条　争议解决", "第九条　争议解决（仲裁）")
    before = snapshot(runtime.db)
    bad = client.patch(f"{T}/loan/versions/2", headers=admin, json={"html": "{{ terms.no_such_field }}"})
    assert (assert_problem(bad, 422)["code"], bad.json()["field"]) == ("template_invalid", "html")
    assert bad.json()["placeholder"] == "terms.no_such_field"  # named from the root, for the editor to point at
    assert before.diff(snapshot(runtime.db)) == {}
    r = client.patch(f"{T}/loan/versions/2", headers=admin, json={"html": html, "note": "仲裁条款"})
    assert r.status_code == 200, r.text

    preview = client.get(f"{T}/loan/versions/2/preview", headers=admin)
    assert preview.status_code == 200
    assert preview.content.startswith(b"%PDF-")

    published = _publish(client, admins, 2).json()
    assert published["status"] == "published"
    statuses = {v["number"]: v["status"] for v in client.get(T, headers=admin).json()}
    assert statuses == {1: "retired", 2: "published"}
    # Published and retired versions never change.
    for number in (1, 2):
        refused = client.patch(f"{T}/loan/versions/{number}", headers=admin, json={"note": "改"})
        assert assert_problem(refused, 409)["code"] == "template_not_editable"
    assert "（仲裁）" in client.get(f"{T}/loan/versions/2", headers=admin).json()["html"]


def _docx(*paragraphs: str) -> bytes:
    """A Word document of `paragraphs` (python-docx; no binary fixture in the repository)."""
    import io

    from docx import Document

    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _text(data: bytes) -> str:
    import io

    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _upload(client, admin, number, data, name="template.docx"):
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return client.put(f"{T}/loan/versions/{number}/docx", headers=admin, files={"file": (name, data, mime)})


def test_the_word_template_is_downloaded_edited_and_uploaded_to_a_draft(client, runtime, admin, admins):
    assert [v["number"] for v in client.get(T, headers=admin).json()] == [1]  # the default, made on first sight
    original = client.get(f"{T}/loan/versions/1/docx", headers=admin)
    assert original.status_code == 200, original.text
    assert original.headers["content-disposition"].startswith("attachment")
    assert "{{ borrower.name }}" in _text(original.content)
    assert assert_problem(_upload(client, admin, 1, original.content), 409)["code"] == "template_not_editable"

    assert client.post(f"{T}/loan/drafts", headers=admin).status_code == 201
    before = snapshot(runtime.db)
    for bad, why in ((b"not a zip at all", "not a Word"), (_docx("{{ borrower.no_such }}"), "no_such"),
                     (_docx("{% if %}"), ""), (b"PK\x05\x06" + b"\0" * 18, "not a Word")):
        refused = _upload(client, admin, 2, bad)
        body = assert_problem(refused, 422)
        assert (body["code"], body["field"]) == ("template_invalid", "docx"), body
        assert why in body["detail"], body
        if why == "no_such":
            assert body["placeholder"] == "borrower.no_such"
    too_big = _upload(client, admin, 2, b"PK" + b"\0" * (2 * 1024 * 1024))
    assert "2 MB" in assert_problem(too_big, 422)["detail"]
    assert before.diff(snapshot(runtime.db)) == {}

    edited = _docx("借款合同（修订版）", "借款人：{{ borrower.name }}", "金额：¥{{ terms.amount }}")
    saved = _upload(client, admin, 2, edited)
    assert saved.status_code == 200, saved.text
    assert client.get(f"{T}/loan/versions/2/docx", headers=admin).content == edited
    sample = client.get(f"{T}/loan/versions/2/preview.docx", headers=admin)
    assert sample.status_code == 200
    filled = _text(sample.content)
    assert "借款人：张三" in filled
    assert "（修订版）" in filled
    # The version in force keeps its own until the draft is published.
    assert client.get(f"{T}/loan/versions/1/docx", headers=admin).content == original.content
    assert _publish(client, admins, 2).json()["status"] == "published"
