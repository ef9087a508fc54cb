"""Contract templates over HTTP: the default in force, a draft edited and previewed, published (the old one
retired, never changed again), a template that does not render refused with its field."""

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
def admin(session, runtime):
    """An administrator's headers (product.manage)."""
    inst = make_institution(session, runtime)
    h = signed_in(session, runtime, make_staff(session, runtime, inst, roles=("administrator",), password=None).user)
    session.commit()
    return h


def test_draft_edit_preview_publish(client, runtime, admin):
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
    assert before.diff(snapshot(runtime.db)) == {}
    r = client.patch(f"{T}/loan/versions/2", headers=admin, json={"html": html, "note": "仲裁条款"})
    assert r.status_code == 200, r.text

    preview = client.get(f"{T}/loan/versions/2/preview", headers=admin)
    assert preview.status_code == 200
    assert preview.content.startswith(b"%PDF-")

    published = client.post(f"{T}/loan/versions/2/publish", headers=admin).json()
    assert published["status"] == "published"
    statuses = {v["number"]: v["status"] for v in client.get(T, headers=admin).json()}
    assert statuses == {1: "retired", 2: "published"}
    # Published and retired versions never change.
    for number in (1, 2):
        refused = client.patch(f"{T}/loan/versions/{number}", headers=admin, json={"note": "改"})
        assert assert_problem(refused, 409)["code"] == "template_not_editable"
    assert "（仲裁）" in client.get(f"{T}/loan/versions/2", headers=admin).json()["html"]
