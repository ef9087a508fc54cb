"""The demo's approved applications have contracts: one signed by the borrower and the institution (a valid
PAdES signature under the demo CA), one waiting for the borrower's signature."""

from __future__ import annotations

import io

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from microcredit import demo
from microcredit.contracts import signing
from microcredit.contracts.models import Contract, ContractTemplate
from microcredit.platform.storage import LocalStorage


def test_demo_contracts_signed_and_waiting(session, runtime, tmp_path):
    ca = signing.init_demo_ca(tmp_path, now=runtime.clock.now())
    storage = LocalStorage(tmp_path / "files")
    demo.seed(session=session, kit=runtime.identity, storage=storage, document_policy=runtime.settings.documents,
              signer=signing.demo_files(tmp_path))
    rows = list(session.scalars(select(Contract).order_by(Contract.id)))
    assert [r.status for r in rows] == ["signed", "ready"]
    signed = rows[0]
    assert signed.signed_document_sha256 == signed.pdf_sha256
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca / "ca.pem"))])
    assert signed.signed_pdf_key is not None
    [embedded, document_stamp] = PdfFileReader(io.BytesIO(storage.get(signed.signed_pdf_key))).embedded_signatures
    assert validate_pdf_signature(embedded, context).bottom_line
    assert document_stamp.sig_object["/Type"] == "/DocTimeStamp"  # B-LTA, the default


def test_demo_template_published_by_two_administrators(session, runtime, tmp_path):
    """The demo's template version 2: requested by one administrator, approved by the other; contracts use it."""
    signing.init_demo_ca(tmp_path, now=runtime.clock.now())
    demo.seed(session=session, kit=runtime.identity, storage=LocalStorage(tmp_path / "files"),
              document_policy=runtime.settings.documents, signer=signing.demo_files(tmp_path))
    v1, v2 = session.scalars(select(ContractTemplate).order_by(ContractTemplate.number)).all()
    assert (v1.status, v2.status, v2.review_status, v2.note) == ("retired", "published", "approved",
                                                                 demo.TEMPLATE_V2_NOTE)
    assert None not in (v2.requested_by_user_id, v2.reviewed_by_user_id)
    assert v2.requested_by_user_id != v2.reviewed_by_user_id
    assert demo.TEMPLATE_V2_CLAUSE[1] in v2.html
    assert {c.template_number for c in session.scalars(select(Contract))} == {2}
