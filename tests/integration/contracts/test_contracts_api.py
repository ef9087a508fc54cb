"""Contracts over HTTP: an approved application's contract opened, read, signed with an SMS code, signed by
the institution (PAdES B-LTA: time-stamped, the chain's revocation information embedded, a document time stamp
over it), verified by pyHanko and by poppler's `pdfsig`, tampering detected; refusals.

The automated review is a fake (origination.support.use_review): these tests are about the contract.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest
from docx import Document
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from microcredit.contracts import rendering, signing
from microcredit.contracts.models import Contract
from microcredit.notifications.models import InboxMessage, OutboxMessage
from microcredit.risk.assessment import Decision
from tests import pades
from tests.factories import last_sms_code, make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import assert_problem, audit_records, shared_client, signed_in, snapshot
from tests.integration.origination.support import PLAN, assessment, publish_product, use_review

ME = "/api/v1/me/applications"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend."""
    yield from shared_client(runtime, backend)


@pytest.fixture
def ca(runtime) -> Path:
    """The demo CA and signing certificate in the test data directory (what `microcredit demo` makes)."""
    return signing.init_demo_ca(runtime.settings.data_dir.resolve(), now=runtime.clock.now())


@pytest.fixture
def world(session, runtime, ca):
    """An institution with a product, a borrower with an approved application, and a loan officer."""
    inst = make_institution(session, runtime)
    branch = make_branch(session, runtime, inst)
    publish_product(session, runtime, inst)
    borrower = make_borrower(session, runtime, inst, branch=branch, password=None, real_name="李四")
    officer = make_staff(session, runtime, inst, roles=("loan_officer",), branch=branch, password=None)
    h = {**signed_in(session, runtime, borrower.user), "X-Device-Id": "phone-42", "User-Agent": "TestPhone/1.0"}
    ho = signed_in(session, runtime, officer.user)
    session.commit()
    return {"inst": inst, "borrower": borrower, "h": h, "ho": ho, "ca": ca}


def _approved(client, world, monkeypatch) -> dict:
    use_review(monkeypatch, assessment(Decision.APPROVE, grade="B"))
    r = client.post(ME, headers=world["h"], json=PLAN)
    assert r.status_code == 201, r.text
    r = client.post(f"{ME}/{r.json()['id']}/submit", headers=world["h"])
    assert r.json()["status"] == "approved", r.text
    return r.json()


def _validate(data: bytes, ca: Path):
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca / "ca.pem"))])
    embedded = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]  # the institution's; B-LTA adds a stamp
    return embedded, validate_pdf_signature(embedded, context, ts_validation_context=context)


def _pdfsig(data: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


def _text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout \
        .decode()


def test_open_read_sign_and_verify(client, session, runtime, world, monkeypatch, tmp_path):
    app = _approved(client, world, monkeypatch)
    base = f"{ME}/{app['id']}/contract"
    assert_problem(client.get(base, headers=world["h"]), 404)  # not made inside the submission

    r = client.post(base, headers=world["h"])
    assert r.status_code == 200, r.text
    contract = r.json()
    terms = contract["terms"]
    assert (contract["status"], terms["amount"], terms["annual_rate_percent"]) == ("ready", "8000.00", "7")
    assert len(terms["installments"]) == 6
    assert contract["template_code"] == "loan"
    assert client.post(base, headers=world["h"]).json()["id"] == contract["id"]  # opened again: the same one

    # The PDF: its digest is the one stated; the APR, every schedule row and the parties are in its text.
    pdf = client.get(f"{base}/file", headers=world["h"], params={"kind": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == contract["pdf_sha256"]
    text = _text(pdf.content)
    assert f"{terms['apr_percent']}%" in text
    assert text.index(terms["apr_percent"]) < text.index(terms["monthly_rate_percent"])  # the APR comes first
    for row in terms["installments"]:
        assert row["due_date"] in text
        assert row["total"] in text
    assert "李四" in text
    assert world["borrower"].borrower.id_number_masked in text
    # The editable copy opens and states the amount.
    docx = client.get(f"{base}/file", headers=world["h"], params={"kind": "docx"})
    paragraphs = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "8000.00" in paragraphs
    assert terms["apr_percent"] in paragraphs
    # The HTML view shows the same contract and the digest to sign.
    view = client.get(f"{base}/html", headers=world["h"]).json()
    assert view["pdf_sha256"] == contract["pdf_sha256"]
    assert terms["apr_percent"] in view["html"]

    # Staff see it waiting for the signature.
    todos = {t["code"]: t["count"] for t in client.get("/api/v1/me/todos", headers=world["ho"]).json()["items"]}
    assert todos["contracts_waiting_signature"] == 1

    assert client.post(f"{base}/signing-code", headers=world["h"]).status_code == 200
    code = last_sms_code(client, world["borrower"].phone)
    # A digest other than the stored PDF's is refused, and the code is not used up by it.
    before = snapshot(runtime.db)
    refused = client.post(f"{base}/sign", headers=world["h"], json={"sms_code": code, "document_sha256": "0" * 64})
    assert assert_problem(refused, 409)["field"] == "document_sha256"
    assert before.diff(snapshot(runtime.db)) == {}

    r = client.post(f"{base}/sign", headers=world["h"],
                    json={"sms_code": code, "document_sha256": contract["pdf_sha256"]})
    assert r.status_code == 200, r.text
    signed = r.json()
    record = signed["signature"]
    assert signed["status"] == "signed"
    assert (record["device_id"], record["user_agent"], record["document_sha256"]) == (
        "phone-42", "TestPhone/1.0", contract["pdf_sha256"])
    assert record["ip"]
    assert "Contract Signing" in record["certificate_subject"]

    data = client.get(f"{base}/file", headers=world["h"], params={"kind": "signed"}).content
    assert hashlib.sha256(data).hexdigest() == signed["signed_pdf_sha256"]
    # pyHanko: intact, valid, trusted (the demo CA), PAdES, covering its revision; what follows it is the
    # long-term validation material and a document time stamp over the whole file.
    embedded, status = _validate(data, world["ca"])
    assert (status.intact, status.valid, status.trusted, status.bottom_line) == (True, True, True, True)
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert status.coverage.name == "ENTIRE_REVISION"
    assert status.modification_level.name == "LTA_UPDATES"
    # PAdES B-T: a time-stamp token over the signature, from the simulated authority (under the demo CA),
    # at the business clock's time of signing; the token's own signature checks out.
    stamp = status.timestamp_validity
    assert stamp is not None
    assert (stamp.intact, stamp.valid, stamp.trusted) == (True, True, True)
    signed_at = session.scalars(select(Contract.signed_at).where(Contract.application_id == app["id"])).one()
    assert stamp.timestamp == (signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC))
    assert "Time-Stamping (simulator)" in stamp.signing_cert.subject.human_friendly
    # PAdES B-LTA: the demo root's CRL (read from the CA directory: the simulator path) in the DSS, a document
    # time stamp at the same moment covering the whole file, and AdES long-term validation passes.
    assert pades.dss(data)[0] == 1
    [_, document_stamp] = PdfFileReader(io.BytesIO(data)).embedded_signatures
    document = validate_pdf_timestamp(document_stamp, validation_context=ValidationContext(
        trust_roots=[load_cert_from_pemder(str(world["ca"] / "ca.pem"))]))
    assert (document.valid, document.trusted, document.coverage.name) == (True, True, "ENTIRE_FILE")
    assert document.timestamp == stamp.timestamp
    assert pades.at(data, world["ca"], stamp.timestamp, []).bottom_line  # the file alone suffices then
    lta = pades.lta(data, world["ca"], [pades.fresh_crl(world["ca"])])
    assert lta.ades_subindic.status.name == "PASSED", lta.failure_msg
    # poppler's pdfsig, an independent implementation, agrees the signature is valid; the document time stamp
    # (which it lists but cannot check: "Unimplemented") covers everything.
    out = _pdfsig(data, tmp_path, "signed.pdf")
    first, second = out.split("Signature #2:")
    assert "Signature Validation: Signature is Valid." in first, out
    assert "Total document signed" in second, out
    # The record page: who, from which device, the digest of the document signed.
    signed_text = _text(data)
    assert contract["pdf_sha256"] in signed_text
    assert "phone-42" in signed_text

    # Signing twice is refused; the SMS went out; staff read the same record; downloads are audited.
    again = client.post(f"{base}/sign", headers=world["h"], json={"sms_code": code,
                                                                  "document_sha256": contract["pdf_sha256"]})
    assert assert_problem(again, 409)["code"] == "contract_already_signed"
    session.expire_all()
    templates = [m.template for m in session.scalars(select(OutboxMessage).where(
        OutboxMessage.institution_id == world["inst"].id))]
    assert "contract_signed" in templates
    inbox = [(m.template, m.params, m.subject_id) for m in session.scalars(select(InboxMessage).where(
        InboxMessage.user_id == world["borrower"].user.id, InboxMessage.template.like("contract%")))]
    assert inbox == [("contract_signed", {"number": contract["number"]}, app["id"])]
    staff = client.get(f"/api/v1/applications/{app['id']}/contract", headers=world["ho"]).json()
    assert staff["signature"]["document_sha256"] == contract["pdf_sha256"]
    assert client.get(f"/api/v1/applications/{app['id']}/contract/file", headers=world["ho"],
                      params={"kind": "signed"}).content == data
    row = session.scalars(select(Contract).where(Contract.application_id == app["id"])).one()
    downloads = audit_records(session, "contract.downloaded", row.id)
    assert [d.after["file"] for d in downloads] == ["pdf", "docx", "signed", "signed"]


def test_tampered_copies_fail(client, world, monkeypatch, tmp_path):
    app = _approved(client, world, monkeypatch)
    base = f"{ME}/{app['id']}/contract"
    contract = client.post(base, headers=world["h"]).json()
    client.post(f"{base}/signing-code", headers=world["h"])
    client.post(f"{base}/sign", headers=world["h"], json={"sms_code": last_sms_code(client, world["borrower"].phone),
                                                          "document_sha256": contract["pdf_sha256"]})
    data = client.get(f"{base}/file", headers=world["h"], params={"kind": "signed"}).content

    # One byte changed inside the signed range (in the first page's content, before the signature).
    at = data.index(b"stream") + 40
    changed = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
    _, status = _validate(changed, world["ca"])
    assert not status.intact
    assert not status.bottom_line
    assert pades.lta(changed, world["ca"], [pades.fresh_crl(world["ca"])]).ades_subindic.status.name != "PASSED"
    out = _pdfsig(changed, tmp_path, "changed.pdf")
    assert "Digest Mismatch" in out, out
    assert "Signature is Valid" not in out

    # An incremental update appended after the signature: the signature no longer covers the whole file.
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root["/Lang"] = TextStringObject("en")
    writer.update_root()
    writer.root[NameObject("/PageMode")] = NameObject("/UseNone")
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    _, status = _validate(updated, world["ca"])
    assert status.modification_level.name != "LTA_UPDATES"  # more than validation material was added
    [_, document_stamp] = PdfFileReader(io.BytesIO(updated)).embedded_signatures
    assert validate_pdf_timestamp(document_stamp, validation_context=ValidationContext(
        trust_roots=[load_cert_from_pemder(str(world["ca"] / "ca.pem"))])).coverage.name != "ENTIRE_FILE"
    assert "Total document signed" not in _pdfsig(updated, tmp_path, "updated.pdf")


def test_staff_open_it_and_the_borrower_is_told(client, session, world, monkeypatch):
    app = _approved(client, world, monkeypatch)
    r = client.post(f"/api/v1/applications/{app['id']}/contract", headers=world["ho"])
    assert r.status_code == 200, r.text
    assert client.get(f"{ME}/{app['id']}/contract", headers=world["h"]).json()["id"] == r.json()["id"]
    session.expire_all()
    [notice] = session.scalars(select(InboxMessage).where(InboxMessage.user_id == world["borrower"].user.id,
                                                          InboxMessage.template == "contract_ready"))
    assert (notice.params, notice.subject_kind, notice.subject_id) == ({"number": r.json()["number"]},
                                                                      "application", app["id"])


def test_refusals(client, session, runtime, world, monkeypatch):
    use_review(monkeypatch, assessment(Decision.REFER))
    r = client.post(ME, headers=world["h"], json=PLAN)
    app_id = r.json()["id"]
    client.post(f"{ME}/{app_id}/submit", headers=world["h"])
    before = snapshot(runtime.db)
    assert assert_problem(client.post(f"{ME}/{app_id}/contract", headers=world["h"]), 409)["code"] == \
        "application_not_approved"
    assert before.diff(snapshot(runtime.db)) == {}
    # Another borrower's application is not found.
    inst = world["inst"]
    other = make_borrower(session, runtime, inst, password=None)
    ho = signed_in(session, runtime, other.user)
    session.commit()
    assert_problem(client.post(f"{ME}/{app_id}/contract", headers=ho), 404)
    assert_problem(client.get(f"{ME}/{app_id}/contract/html", headers=ho), 404)


@pytest.mark.parametrize("runner", ["command", "close_of_business"])
def test_archive_time_stamps_are_renewed_before_the_tsa_certificate_ends(client, session, runtime, world,
                                                                           monkeypatch, runner):
    """A contract signed while the time-stamping certificate has a month left is due: the run (the command's, a
    unit of work per contract, or the close of business's step, a savepoint per contract) appends a new document
    time stamp (a new file, the signed one kept), records and audits it, and the borrower's download serves the
    renewed file, valid as LTA with two document time stamps; a second run does nothing."""
    from datetime import timedelta

    from microcredit.cob.service import steps
    from microcredit.contracts.models import ArchiveRenewal
    from microcredit.contracts.service import Files, archive

    def run() -> tuple[int, int, int]:
        if runner == "close_of_business":
            counts = runtime.db.run(lambda s: steps.archive(s, runtime.cob, world["inst"].id, now.date()))
            return counts["contracts_checked"], counts["contracts_renewed"], counts["contracts_failed"]
        files = Files(storage=runtime.files, signer=signing.signer_files(runtime.settings))
        report = archive.renew_timestamps(db=runtime.db, clock=runtime.clock, files=files,
                                          institution_id=world["inst"].id)
        assert not report.failures
        return report.checked, report.renewed, report.failed

    ca, now = world["ca"], runtime.clock.now()
    signing.reissue_demo_tsa(ca, at=now, lifetime=timedelta(days=30))
    try:
        app = _approved(client, world, monkeypatch)
        base = f"{ME}/{app['id']}/contract"
        contract = client.post(base, headers=world["h"]).json()
        client.post(f"{base}/signing-code", headers=world["h"])
        signed = client.post(f"{base}/sign", headers=world["h"], json={
            "sms_code": last_sms_code(client, world["borrower"].phone),
            "document_sha256": contract["pdf_sha256"]}).json()
        original = client.get(f"{base}/file", headers=world["h"], params={"kind": "signed"}).content
        assert run() == (1, 1, 0)
    finally:
        signing.renew_demo_tsa(ca, at=now)  # the shared demo CA gets a full-length certificate back

    read = client.get(base, headers=world["h"]).json()
    assert read["signed_pdf_sha256"] == signed["signed_pdf_sha256"]  # the signed file's digest, as it was
    renewed = client.get(f"{base}/file", headers=world["h"], params={"kind": "signed"}).content
    assert hashlib.sha256(renewed).hexdigest() == read["archive_pdf_sha256"] != signed["signed_pdf_sha256"]
    assert renewed.startswith(original)
    row = session.scalars(select(Contract).where(Contract.id == contract["id"])).one()
    assert runtime.files.get(row.signed_pdf_key) == original  # kept under its key
    [renewal] = session.scalars(select(ArchiveRenewal).where(ArchiveRenewal.contract_id == row.id)).all()
    assert (renewal.previous_sha256, renewal.pdf_sha256) == (signed["signed_pdf_sha256"], read["archive_pdf_sha256"])
    assert renewal.timestamp_at == renewal.renewed_at
    assert renewal.previous_valid_until < now + timedelta(days=31) < renewal.valid_until == row.archive_valid_until
    [record] = audit_records(session, "contract.archive_renewed", row.id)
    assert record.after["sha256"] == read["archive_pdf_sha256"]
    assert record.after["document_time_stamps"] == 2

    # pyHanko: the institution's signature intact with only LTA updates after it; AdES LTA validation passes with
    # the chain of two document time stamps (as of the day after, with that day's CRL).
    _, status = _validate(renewed, ca)
    assert status.intact
    assert status.modification_level.name == "LTA_UPDATES"
    stamps = PdfFileReader(io.BytesIO(renewed)).embedded_timestamp_signatures
    assert len(stamps) == 2
    moment = now + timedelta(days=1)
    result = pades.lta(renewed, ca, [signing.demo_crl(ca, at=moment)], moment=moment)
    assert result.ades_subindic.status.name == "PASSED", result.failure_msg

    assert run() == (0, 0, 0)
    assert len(audit_records(session, "contract.archive_renewed", row.id)) == 1


class _Responder(BaseHTTPRequestHandler):
    """The demo responder (`signing.demo_ocsp`, what `/api/v1/pki/ocsp` answers with) over plain HTTP at the wall
    clock's time: pyHanko checks a configured chain as of now, while the test app's clock is the business one."""

    ca: Path
    paths: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        from datetime import datetime

        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.paths.append(self.path)
        answer = signing.demo_ocsp(self.ca, body, at=datetime.now(UTC))
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        """Quiet."""


def test_the_ocsp_responder_over_http(client, runtime, world):
    """`/api/v1/pki/ocsp` answers RFC 6960 requests (POST and GET) about the demo root's certificates, signed by the
    root; a certificate naming the responder in its Authority Information Access gets its answer fetched by pyHanko
    over HTTP when a configured (not simulated) chain is signed at B-LTA, and the answers land in the DSS."""
    import base64
    import dataclasses
    import threading
    from datetime import datetime
    from http.server import ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca = world["ca"]
    root = x509.load_pem_x509_certificate((ca / signing.CA_CERT).read_bytes())
    signer = x509.load_pem_x509_certificate((ca / signing.SIGNER_CERT).read_bytes())
    der = ocsp.OCSPRequestBuilder().add_certificate(signer, root, hashes.SHA256()).build().public_bytes(
        serialization.Encoding.DER)
    posted = client.post("/api/v1/pki/ocsp", content=der, headers={"Content-Type": "application/ocsp-request"})
    assert posted.status_code == 200
    assert posted.headers["content-type"] == "application/ocsp-response"
    answer = ocsp.load_der_ocsp_response(posted.content)
    assert (answer.response_status, answer.certificate_status) == (ocsp.OCSPResponseStatus.SUCCESSFUL,
                                                                   ocsp.OCSPCertStatus.GOOD)
    got = client.get(f"/api/v1/pki/ocsp/{base64.urlsafe_b64encode(der).decode()}")
    assert ocsp.load_der_ocsp_response(got.content).certificate_status == ocsp.OCSPCertStatus.GOOD
    junk = client.post("/api/v1/pki/ocsp", content=b"\x30\x00", headers={"Content-Type": "application/ocsp-request"})
    assert ocsp.load_der_ocsp_response(junk.content).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST

    _Responder.ca = ca
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Responder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}{signing.OCSP_PATH}"
        now = datetime.now(UTC)
        _, key = signing._demo_root(ca)
        for common, usage, names, critical in (
                ("OCSP Test Signing", ExtendedKeyUsageOID.EMAIL_PROTECTION, ("t-signer.pem", "t-signer-key.pem"),
                 False),
                ("OCSP Test Time-Stamping", ExtendedKeyUsageOID.TIME_STAMPING, ("t-tsa.pem", "t-tsa-key.pem"), True)):
            signing._issue(ca, root, key, start=now - timedelta(minutes=1), common=common, organisation="Test",
                           usage=usage, files=names, critical_usage=critical, ocsp_url=url)
        files = signing.SignerFiles(key=ca / "t-signer-key.pem", cert=ca / "t-signer.pem", chain=(ca / "ca.pem",),
                                    simulated_tsa=(ca / "t-tsa.pem", ca / "t-tsa-key.pem"), level="B-LTA")
        signed = signing.sign_pdf(rendering.html_to_pdf("<html><body><p>x</p></body></html>"),
                                  dataclasses.replace(files, demo_ca=None), reason="t", location="l", name="n",
                                  at=now)
    finally:
        server.shutdown()
    assert _Responder.paths.count(signing.OCSP_PATH) >= 2  # the signer's and the TSA's certificates
    store = PdfFileReader(io.BytesIO(signed)).root["/DSS"]
    answers = [ocsp.load_der_ocsp_response(ref.get_object().data) for ref in store["/OCSPs"]]
    assert len(answers) >= 2
    assert {a.certificate_status for a in answers} == {ocsp.OCSPCertStatus.GOOD}
