"""The institution's signature is time-stamped (PAdES B-T): by an RFC 3161 authority over HTTP when one is
configured, by the built-in simulator otherwise (demo, tests), by nobody in production without one."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from asn1crypto import tsp
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from microcredit.config import Mode, Settings
from microcredit.contracts import rendering, signing

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> Path:
    return signing.init_demo_ca(tmp_path_factory.mktemp("data"), now=AT)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return rendering.html_to_pdf("<html><body><p>借款合同 / loan contract</p></body></html>")


def _stamp(data: bytes, ca: Path):
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca / signing.CA_CERT))])
    [embedded] = PdfFileReader(io.BytesIO(data)).embedded_signatures
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
                                    chain=(ca / signing.CA_CERT,), timestamp_url=url)
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
                                    timestamp_timeout=2)
        with pytest.raises(signing.SigningUnavailable, match="time-stamping authority"):
            signing.sign_pdf(pdf, files, reason="test", location="here", name="Lender", at=AT)
    finally:
        server.shutdown()


def test_a_ca_made_before_time_stamps_gets_the_simulator_under_the_same_root(tmp_path):
    folder = signing.init_demo_ca(tmp_path, now=AT)
    root = (folder / signing.CA_CERT).read_bytes()
    (folder / signing.TSA_CERT).unlink()
    (folder / signing.TSA_KEY).unlink()
    assert signing.init_demo_ca(tmp_path, now=AT) == folder
    assert (folder / signing.CA_CERT).read_bytes() == root  # signatures made under it still verify
    assert (folder / signing.TSA_CERT).is_file()
    assert (folder / signing.TSA_KEY).stat().st_mode & 0o777 == 0o600


def test_who_stamps_by_settings(tmp_path):
    dev = Settings(mode=Mode.DEVELOPMENT, data_dir=tmp_path)
    assert signing.signer_files(dev).simulated_tsa == (tmp_path.resolve() / signing.DEMO_FOLDER / signing.TSA_CERT,
                                                       tmp_path.resolve() / signing.DEMO_FOLDER / signing.TSA_KEY)
    configured = Settings(mode=Mode.DEVELOPMENT, data_dir=tmp_path,
                          contracts={"timestamp_url": "https://tsa.example/rfc3161"})
    files = signing.signer_files(configured)
    assert (files.timestamp_url, files.simulated_tsa) == ("https://tsa.example/rfc3161", None)
    assert signing.timestamper(signing.SignerFiles(), at=AT) is None  # production, none configured: B-B
