"""The institution's signature is time-stamped (PAdES B-T): by an RFC 3161 authority over HTTP when one is
configured, by the built-in simulator otherwise (demo, tests), by nobody in production without one. At B-LT the
chain's revocation information is embedded, at B-LTA with a document time stamp over it; a revoked certificate
stops new signatures, and a signature made after the revocation fails validation."""

from __future__ import annotations

import dataclasses
import io
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from asn1crypto import tsp
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from microcredit.config import Mode, Settings
from microcredit.contracts import rendering, signing
from tests import pades

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> Path:
    return signing.init_demo_ca(tmp_path_factory.mktemp("data"), now=AT)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return rendering.html_to_pdf("<html><body><p>借款合同 / loan contract</p></body></html>")


def _stamp(data: bytes, ca: Path):
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca / signing.CA_CERT))])
    embedded = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]  # the institution's; B-LTA adds a stamp
    return validate_pdf_signature(embedded, context, ts_validation_context=context)


class _Authority(BaseHTTPRequestHandler):
    """An RFC 3161 responder over HTTP (`application/timestamp-query` in, `-reply` out), answering with the
    simulator: pyHanko reaches it exactly as it reaches a real authority."""

    stamper = None
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append(self.headers["Content-Type"])
        reply = self.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args) -> None:
        """Quiet: the standard library would print every request to stderr."""


def test_the_simulator_stamps_at_the_business_clocks_time(ca, pdf):
    files = signing.demo_files(ca.parent)
    signed = signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender", at=AT)
    status = _stamp(signed, ca)
    assert status.bottom_line
    stamp = status.timestamp_validity
    assert (stamp.intact, stamp.valid, stamp.trusted, stamp.timestamp) == (True, True, True, AT)
    assert "Time-Stamping (simulator)" in stamp.signing_cert.subject.human_friendly


def test_a_configured_authority_is_asked_over_http(ca, pdf):
    _Authority.stamper = signing.simulated_authority(ca / signing.TSA_CERT, ca / signing.TSA_KEY, at=AT)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Authority)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
        files = signing.SignerFiles(key=ca / signing.SIGNER_KEY, cert=ca / signing.SIGNER_CERT,
                                    chain=(ca / signing.CA_CERT,), timestamp_url=url, demo_ca=ca)
        signed = signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender",
                                  at=datetime(2030, 1, 1, tzinfo=UTC))  # the authority's clock counts, not ours
        stamp = _stamp(signed, ca).timestamp_validity
        assert stamp is not None
        assert stamp.valid
        assert stamp.timestamp == AT
        # pyHanko asks once more to size the signature's placeholder before it signs
        assert _Authority.requests
        assert set(_Authority.requests) == {"application/timestamp-query"}
    finally:
        server.shutdown()


def test_an_authority_that_does_not_answer_stops_the_signature(ca, pdf):
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # answers every POST with 501
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        files = signing.SignerFiles(key=ca / signing.SIGNER_KEY, cert=ca / signing.SIGNER_CERT,
                                    timestamp_url=f"http://127.0.0.1:{server.server_address[1]}/tsa",
                                    timestamp_timeout=2, level="B-T")
        with pytest.raises(signing.SigningUnavailable, match="time-stamping authority"):
            signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender", at=AT)
    finally:
        server.shutdown()


def test_a_ca_made_before_time_stamps_gets_the_simulator_under_the_same_root(tmp_path):
    folder = signing.init_demo_ca(tmp_path, now=AT)
    root = (folder / signing.CA_CERT).read_bytes()
    (folder / signing.TSA_CERT).unlink()
    (folder / signing.TSA_KEY).unlink()
    (folder / signing.CRL_FILE).unlink()
    assert signing.init_demo_ca(tmp_path, now=AT) == folder
    assert (folder / signing.CA_CERT).read_bytes() == root  # signatures made under it still verify
    assert (folder / signing.TSA_CERT).is_file()
    assert (folder / signing.TSA_KEY).stat().st_mode & 0o777 == 0o600
    assert (folder / signing.CRL_FILE).is_file()  # and its CRL


def test_who_stamps_by_settings(tmp_path):
    dev = Settings(mode=Mode.DEVELOPMENT, data_dir=tmp_path)
    assert signing.signer_files(dev).simulated_tsa == (tmp_path.resolve() / signing.DEMO_FOLDER / signing.TSA_CERT,
                                                       tmp_path.resolve() / signing.DEMO_FOLDER / signing.TSA_KEY)
    configured = Settings(mode=Mode.DEVELOPMENT, data_dir=tmp_path,
                          contracts={"timestamp_url": "https://tsa.example/rfc3161"})
    files = signing.signer_files(configured)
    assert (files.timestamp_url, files.simulated_tsa) == ("https://tsa.example/rfc3161", None)
    assert (signing.signer_files(dev).level, signing.signer_files(dev).demo_ca) == (
        "B-LTA", tmp_path.resolve() / signing.DEMO_FOLDER)
    production = Settings(mode=Mode.PRODUCTION, data_dir=tmp_path, contracts={
        "signing_key": "/k.pem", "signing_cert": "/c.pem", "level": "B-LT", "validation_roots": "/a.pem, /b.pem"})
    files = signing.signer_files(production)
    assert (files.level, files.demo_ca, files.validation_roots) == ("B-LT", None, (Path("/a.pem"), Path("/b.pem")))
    assert signing.timestamper(signing.SignerFiles(), at=AT) is None  # production, none configured: B-B


# --- Long-term validation (B-LT, B-LTA) ---------------------------------------------------------------------


@pytest.fixture
def own_ca(tmp_path) -> Path:
    """A demo CA of the test's own (revocations must not leak into the other tests)."""
    return signing.init_demo_ca(tmp_path, now=AT)


def _sign(pdf: bytes, ca: Path, level: str, at: datetime = AT) -> bytes:
    files = dataclasses.replace(signing.demo_files(ca.parent), level=level)
    return signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender", at=at)


def test_the_demo_ca_publishes_a_crl_named_in_its_certificates(own_ca):
    from cryptography import x509

    crl = x509.load_der_x509_crl((own_ca / signing.CRL_FILE).read_bytes())
    root = x509.load_pem_x509_certificate((own_ca / signing.CA_CERT).read_bytes())
    assert crl.is_signature_valid(root.public_key())  # type: ignore[arg-type]
    assert len(crl) == 0
    assert crl.last_update_utc <= AT < crl.next_update_utc  # type: ignore[operator]
    for name in (signing.SIGNER_CERT, signing.TSA_CERT):
        cert = x509.load_pem_x509_certificate((own_ca / name).read_bytes())
        [point] = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert [n.value for n in point.full_name] == [signing.DEMO_CRL_URL]
    # Read at a later business day, the simulator reissues it (next number, same entries) like a CA on schedule.
    later = AT + signing.CRL_LIFETIME * 2
    again = x509.load_der_x509_crl(signing.demo_crl(own_ca, at=later))
    assert again.last_update_utc <= later < again.next_update_utc  # type: ignore[operator]
    assert again.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_each_level_embeds_what_it_promises(ca, pdf, level):
    data = _sign(pdf, ca, level)
    signatures = PdfFileReader(io.BytesIO(data)).embedded_signatures
    crls, certs = pades.dss(data)
    # Today, with the CRL the distribution point serves today: valid and trusted at every level.
    assert pades.at(data, ca, datetime.now(UTC), [pades.fresh_crl(ca)]).bottom_line
    # With nothing from outside the file, at the signing time: only what the file embeds counts.
    alone = pades.at(data, ca, AT, [])
    if level == "B-T":
        assert (len(signatures), crls) == (1, 0)
        assert not alone.bottom_line  # no revocation information: a verifier must find it elsewhere
        return
    assert alone.bottom_line
    # The CRL of the root that issued the signer's and the TSA's certificates, and the chains, in the DSS.
    assert crls == 1
    assert certs >= 3
    if level == "B-LT":
        # in the signature's own revision: the signature still covers the whole file
        assert len(signatures) == 1
        assert _stamp(data, ca).coverage.name == "ENTIRE_FILE"
        return
    # B-LTA: a document time stamp (RFC 3161) after the DSS, covering it and the signature to the file's end.
    assert len(signatures) == 2
    document_stamp = signatures[1]
    assert document_stamp.sig_object["/SubFilter"] == "/ETSI.RFC3161"
    assert document_stamp.sig_object["/Type"] == "/DocTimeStamp"
    stamp = validate_pdf_timestamp(document_stamp, validation_context=ValidationContext(
        trust_roots=[load_cert_from_pemder(str(ca / signing.CA_CERT))]))
    assert (stamp.intact, stamp.valid, stamp.trusted, stamp.timestamp) == (True, True, True, AT)
    assert stamp.coverage.name == "ENTIRE_FILE"
    assert _stamp(data, ca).bottom_line  # the DSS update after the signature is an allowed one
    # AdES long-term validation (ETSI EN 319 102-1 §5.6.3) today: passed, the proof of existence the stamp's.
    result = pades.lta(data, ca, [pades.fresh_crl(ca)])
    assert result.ades_subindic.status.name == "PASSED", result.failure_msg
    assert result.oldest_evidence_record_timestamp == AT


def test_a_revoked_signing_certificate(own_ca, pdf):
    from cryptography import x509

    before = _sign(pdf, own_ca, "B-LTA")  # signed at AT, while the certificate was good
    revoked_at = AT + timedelta(hours=6)
    serial = signing.revoke_demo_certificate(own_ca.parent, at=revoked_at)
    crl = x509.load_der_x509_crl((own_ca / signing.CRL_FILE).read_bytes())
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.revocation_date_utc == revoked_at
    assert signing.revoke_demo_certificate(own_ca.parent, at=revoked_at) == serial  # once only
    assert len(x509.load_der_x509_crl((own_ca / signing.CRL_FILE).read_bytes())) == 1

    # New long-term signatures are refused: the chain is checked (hard-fail) before signing.
    later = revoked_at + timedelta(hours=1)
    for level in ("B-LT", "B-LTA"):
        with pytest.raises(signing.SigningUnavailable, match="revoked"):
            _sign(pdf, own_ca, level, at=later)
    # A signature made after the revocation (B-T does not check) fails validation with today's CRL ...
    after = _sign(pdf, own_ca, "B-T", at=later)
    status = pades.at(after, own_ca, later, [pades.fresh_crl(own_ca)])
    assert not status.bottom_line
    assert status.revoked
    # ... while the contract signed before it stays valid: what long-term validation is for. Checked today, the
    # certificate is revoked; the document time stamp proves the signature existed before that.
    assert pades.at(before, own_ca, datetime.now(UTC), [pades.fresh_crl(own_ca)]).revoked
    result = pades.lta(before, own_ca, [pades.fresh_crl(own_ca)])
    assert result.ades_subindic.status.name == "PASSED", result.failure_msg


def test_tampered_b_lta_copies_fail(ca, pdf, tmp_path):
    from pyhanko.pdf_utils.generic import NameObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    data = _sign(pdf, ca, "B-LTA")
    at = data.index(b"stream") + 40
    changed = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
    assert not _stamp(changed, ca).intact
    assert pades.lta(changed, ca, [pades.fresh_crl(ca)]).ades_subindic.status.name != "PASSED"
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root[NameObject("/PageMode")] = NameObject("/UseOutlines")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    [_, document_stamp] = PdfFileReader(io.BytesIO(out.getvalue())).embedded_signatures
    stamp = validate_pdf_timestamp(document_stamp, validation_context=ValidationContext(
        trust_roots=[load_cert_from_pemder(str(ca / signing.CA_CERT))]))
    assert stamp.coverage.name != "ENTIRE_FILE"


def test_an_unknown_level_and_a_chain_without_root_are_refused(ca, pdf):
    files = dataclasses.replace(signing.demo_files(ca.parent), level="B-XL")
    with pytest.raises(signing.SigningUnavailable, match="level"):
        signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender", at=AT)
    rootless = signing.SignerFiles(key=ca / signing.SIGNER_KEY, cert=ca / signing.SIGNER_CERT,
                                   simulated_tsa=(ca / signing.TSA_CERT, ca / signing.TSA_KEY))
    with pytest.raises(signing.SigningUnavailable, match="root"):
        signing.sign_pdf(pdf, rootless, reason="test", location="here", name="Lender", at=AT)


# --- Archive time-stamp renewal (the chain of document time stamps) ------------------------------------------


@pytest.mark.parametrize("ocsp", [True, False], ids=["ocsp", "crl_only"])
def test_an_archive_time_stamp_is_renewed_before_its_certificate_ends(tmp_path, pdf, ocsp):
    """A contract stamped under a TSA certificate that ends soon gets a second document time stamp under the
    authority's next certificate (the simulator reissues its own): the file keeps its bytes as a prefix, carries
    fresh revocation information, and validates as LTA with two document time stamps. With the demo CA's OCSP
    answers (fresh at the renewal) it still validates after the first stamp's certificate has ended, which the
    file as signed does not."""
    own_ca = signing.init_demo_ca(tmp_path, now=AT, ocsp_url="http://127.0.0.1:8000" + signing.OCSP_PATH if ocsp
                                  else None)
    signing.reissue_demo_tsa(own_ca, at=AT - timedelta(days=1), lifetime=timedelta(days=5))  # ends AT + 4 days
    signed = _sign(pdf, own_ca, "B-LTA")
    first = signing.archive_stamp(signed)
    assert first is not None
    assert (first.count, first.at, first.valid_until) == (1, AT, AT + timedelta(days=4) - timedelta(minutes=1))

    renewal_at = AT + timedelta(days=2)
    renewed = signing.renew_archive_timestamp(signed, signing.demo_files(own_ca.parent), at=renewal_at)
    assert renewed.startswith(signed)  # an append: the signed bytes as they were
    second = signing.archive_stamp(renewed)
    assert second is not None
    assert (second.count, second.at) == (2, renewal_at)
    assert second.valid_until > renewal_at + timedelta(days=365)  # the simulator reissued its certificate
    signatures = PdfFileReader(io.BytesIO(renewed)).embedded_signatures
    assert [s.sig_object["/Type"] for s in signatures] == ["/Sig", "/DocTimeStamp", "/DocTimeStamp"]
    # AdES LTA validation (point in time, the day after the renewal) with the DSS the renewal extended and the
    # CRL of that day: passed, the evidence record the chain of two document time stamps, the oldest the signing's.
    moment = renewal_at + timedelta(days=1)
    result = pades.lta(renewed, own_ca, [signing.demo_crl(own_ca, at=moment)], moment=moment)
    assert result.ades_subindic.status.name == "PASSED", result.failure_msg
    assert result.oldest_evidence_record_timestamp == AT
    assert pades.dss(renewed)[1] > pades.dss(signed)[1]  # the new stamp's chain joined the DSS
    if not ocsp:
        return
    # A week after the signing the first stamp's certificate has ended (AT + 4 days): the file as signed no longer
    # proves itself; the renewed one does — the second stamp proves the first and its fresh OCSP answers existed
    # while that certificate was good. (With the CRL of the signing alone, pyHanko 0.38 finds no proof of
    # existence for the older chain: docs/contracts.md.)
    for later in (AT + timedelta(days=7), AT + timedelta(days=400)):
        crls = [signing.demo_crl(own_ca, at=later)]
        assert pades.lta(signed, own_ca, crls, moment=later).ades_subindic.status.name != "PASSED"
        result = pades.lta(renewed, own_ca, crls, moment=later)
        assert result.ades_subindic.status.name == "PASSED", result.failure_msg
    status = pades.at(renewed, own_ca, datetime.now(UTC), [pades.fresh_crl(own_ca)])
    assert status.intact
    assert status.modification_level.name == "LTA_UPDATES"


def test_a_renewal_that_gains_nothing_is_refused(own_ca, pdf):
    """Renewing under the same certificate would not push the archive's end: refused, the authority must renew
    its certificate first; a file without a document time stamp has nothing to renew."""
    signed = _sign(pdf, own_ca, "B-LTA")
    files = dataclasses.replace(signing.demo_files(own_ca.parent))
    with pytest.raises(signing.RenewalRefused, match="no later"):
        # the simulator keeps a certificate with more than RENEW_TSA_BEFORE left, so the stamp ends as the old one
        signing.renew_archive_timestamp(signed, files, at=AT + timedelta(days=1))
    with pytest.raises(signing.RenewalRefused, match="no document time stamp"):
        signing.renew_archive_timestamp(_sign(pdf, own_ca, "B-LT"), files, at=AT)


# --- The demo CA's OCSP responder ---------------------------------------------------------------------------


def _ocsp(ca: Path, cert, at: datetime):
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import ExtendedKeyUsageOID

    answer = ocsp.load_der_ocsp_response(signing.demo_ocsp_for(ca, cert, at=at))
    root = x509.load_pem_x509_certificate((ca / signing.CA_CERT).read_bytes())
    # Signed by the root's delegated responder, whose certificate travels in the answer: issued by the root for
    # OCSP signing only, with ocsp-nocheck, valid at `at`; the root's own key did not sign the answer.
    [responder] = answer.certificates
    responder.verify_directly_issued_by(root)
    assert list(responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.OCSP_SIGNING]
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert responder.not_valid_before_utc <= at < responder.not_valid_after_utc
    assert answer.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(responder.public_key()).digest
    responder.public_key().verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        root.public_key().verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256())
    return answer


def test_the_ocsp_responder_answers_good_revoked_and_unknown(tmp_path, pdf):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    ca = signing.init_demo_ca(tmp_path, now=AT, ocsp_url="http://127.0.0.1:8000" + signing.OCSP_PATH)
    signer = x509.load_pem_x509_certificate((ca / signing.SIGNER_CERT).read_bytes())
    access = signer.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [str(d.access_location.value) for d in access] == ["http://127.0.0.1:8000/api/v1/pki/ocsp"]
    good = _ocsp(ca, signer, AT)
    assert (good.response_status, good.certificate_status, good.serial_number) == (
        ocsp.OCSPResponseStatus.SUCCESSFUL, ocsp.OCSPCertStatus.GOOD, signer.serial_number)
    assert good.this_update_utc <= AT < good.next_update_utc  # type: ignore[operator]

    # Signed at B-LTA, the signer's and the TSA's answers go into the DSS beside the CRL (pyHanko takes them as
    # it would fetch them by the certificates' responder URL): both `good`.
    signed = _sign(pdf, ca, "B-LTA")
    store = PdfFileReader(io.BytesIO(signed)).root["/DSS"]
    answers = [ocsp.load_der_ocsp_response(ref.get_object().data) for ref in store["/OCSPs"]]
    assert len(answers) == 2
    assert {a.certificate_status for a in answers} == {ocsp.OCSPCertStatus.GOOD}
    assert pades.at(signed, ca, AT, []).bottom_line

    # Revoked (read where the CRL reads it): `revoked`, with the time and the reason.
    revoked_at = AT + timedelta(hours=3)
    signing.revoke_demo_certificate(tmp_path, at=revoked_at)
    revoked = _ocsp(ca, signer, revoked_at + timedelta(hours=1))
    assert (revoked.certificate_status, revoked.revocation_time_utc, revoked.revocation_reason) == (
        ocsp.OCSPCertStatus.REVOKED, revoked_at, x509.ReasonFlags.key_compromise)
    # A certificate the demo root did not issue (another CA's): `unknown`; junk: `malformedRequest`.
    other = signing.init_demo_ca(tmp_path / "other", now=AT)
    stranger = x509.load_pem_x509_certificate((other / signing.SIGNER_CERT).read_bytes())
    root_other = x509.load_pem_x509_certificate((other / signing.CA_CERT).read_bytes())
    request = ocsp.OCSPRequestBuilder().add_certificate(stranger, root_other, hashes.SHA256()).build()
    unknown = ocsp.load_der_ocsp_response(signing.demo_ocsp(ca, request.public_bytes(serialization.Encoding.DER),
                                                            at=AT))
    assert unknown.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    malformed = ocsp.load_der_ocsp_response(signing.demo_ocsp(ca, b"not a request", at=AT))
    assert malformed.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_the_ocsp_responder_certificate_is_renewed_before_it_ends_and_made_for_an_older_ca(tmp_path):
    from cryptography import x509

    ca = signing.init_demo_ca(tmp_path, now=AT, ocsp_url="http://127.0.0.1:8000" + signing.OCSP_PATH)
    signer = x509.load_pem_x509_certificate((ca / signing.SIGNER_CERT).read_bytes())
    first = _ocsp(ca, signer, AT).certificates[0]
    # Within its life and with more than RENEW_OCSP_BEFORE left: the same certificate answers.
    assert _ocsp(ca, signer, AT + timedelta(days=50)).certificates[0] == first
    # Less than RENEW_OCSP_BEFORE left: a new one, valid from about then.
    later = AT + signing.OCSP_CERT_LIFETIME - signing.RENEW_OCSP_BEFORE + timedelta(days=1)
    second = _ocsp(ca, signer, later).certificates[0]
    assert second.serial_number != first.serial_number
    assert second.not_valid_before_utc <= later < second.not_valid_after_utc
    # A CA made before the responder was delegated (no responder files): one is made at the first answer.
    (ca / signing.OCSP_CERT).unlink()
    (ca / signing.OCSP_KEY).unlink()
    assert _ocsp(ca, signer, later).certificates[0].serial_number not in (first.serial_number, second.serial_number)


def test_a_key_replaced_on_disk_signs_the_next_signature(tmp_path, pdf):
    """The parsed keys are kept per process by the files' bytes: a CA made again in the same folder (new root,
    signer and time-stamping keys) signs with its new keys at once, and the old root no longer vouches."""
    old = signing.init_demo_ca(tmp_path, now=AT)
    old_root = tmp_path / "old-root.pem"
    old_root.write_bytes((old / signing.CA_CERT).read_bytes())
    files = signing.demo_files(tmp_path)
    first = signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender", at=AT)
    assert _stamp(first, old).bottom_line

    new = signing.init_demo_ca(tmp_path, now=AT, replace=True)
    assert (new / signing.CA_CERT).read_bytes() != old_root.read_bytes()
    second = signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender", at=AT)
    status = _stamp(second, new)
    assert status.bottom_line
    assert status.timestamp_validity.trusted  # the token too, by the new simulator's key
    signer_key = PdfFileReader(io.BytesIO(second)).embedded_signatures[0].signer_cert.public_key
    assert signer_key.dump() == load_cert_from_pemder(str(new / signing.SIGNER_CERT)).public_key.dump()
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(old_root))])
    embedded = PdfFileReader(io.BytesIO(second)).embedded_signatures[0]
    assert not validate_pdf_signature(embedded, context, ts_validation_context=context).trusted
