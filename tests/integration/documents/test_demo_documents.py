"""The demo's first borrower has an ID-card photo, an income proof and a land contract, stored through the
documents service."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from microcredit import demo
from microcredit.documents import service as documents
from microcredit.parties.models import Borrower
from microcredit.platform.storage import LocalStorage


def test_the_first_demo_borrower_has_their_documents_once(session, runtime, tmp_path):
    storage = LocalStorage(tmp_path / "files")
    demo.seed(session=session, kit=runtime.identity, storage=storage, document_policy=runtime.settings.documents)
    demo.seed(session=session, kit=runtime.identity, storage=storage, document_policy=runtime.settings.documents)
    first = session.scalars(select(Borrower).where(Borrower.phone_masked == "139****1001")).one()
    docs = documents.list_for_borrower(session=session, borrower_id=first.id, include_inactive=True)
    assert sorted((d.type, d.content_type) for d in docs) == [("id_card", "image/jpeg"),
                                                              ("income_proof", "application/pdf"),
                                                              ("land_contract", "image/jpeg")]
    photo = next(d for d in docs if d.type == "id_card")
    with Image.open(io.BytesIO(storage.get(photo.storage_key))) as stored:
        assert dict(stored.getexif()) == {}  # the sample's camera EXIF went with the re-encoding
    pdf = next(d for d in docs if d.type == "income_proof")
    assert storage.get(pdf.storage_key).startswith(b"%PDF-")
