"""What a contract's files cost: the PDF rendered from the default template, and the institution's signature.

    .venv/bin/python bench/contract_pdf.py [--rounds 8]

A borrower's contract is rendered twice (when it is opened, and again with the signing record when it is
signed) and signed once (PAdES B-LTA under the demo CA, time-stamped by the built-in simulator): what the
borrower waits for on the phone, and most of what a test that opens a loan pays. The bench renders the
default template against the sample terms (`contracts.service.templates.sample_context`) and signs the
result, each `--rounds` times after a warm-up, on one core, and prints the median and the spread.

Beside our signature, in the same run, the baseline it beats: the same signature made by pyHanko's own
`SimpleSigner` and `DummyTimeStamper`, which parse their private key from DER for every signature (and
cryptography checks an RSA key as it parses it); `contracts.signing` parses each key once per process and
content. Both signatures are checked by pyHanko's validator against the demo root before they count.

The last line is one JSON object with the medians in milliseconds.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _timed(rounds: int, work: Callable[[], Any]) -> tuple[list[float], Any]:
    result = work()  # warm-up: imports, font configuration, caches
    times = []
    for _ in range(rounds):
        start = time.process_time()
        result = work()
        times.append((time.process_time() - start) * 1000)
    return times, result


def _baseline_sign(pdf: bytes, ca: Path) -> bytes:
    """The signature as pyHanko makes it with its own classes: the keys parsed at every signature."""
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_signer import (
        DSSContentSettings,
        SigDSSPlacementPreference,
        TimestampDSSContentSettings,
    )
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    from microcredit.contracts import signing

    signer = signers.SimpleSigner.load(str(ca / signing.SIGNER_KEY), str(ca / signing.SIGNER_CERT),
                                       ca_chain_files=(str(ca / signing.CA_CERT),))
    stamper = DummyTimeStamper(tsa_cert=load_cert_from_pemder(str(ca / signing.TSA_CERT)),
                               tsa_key=load_private_key_from_pemder(str(ca / signing.TSA_KEY), passphrase=None),
                               fixed_dt=AT)
    files = signing.demo_files(ca.parent)
    dss = DSSContentSettings(include_vri=False, placement=SigDSSPlacementPreference.TOGETHER_WITH_NEXT_TS,
                             next_ts_settings=TimestampDSSContentSettings(include_vri=False, update_before_ts=True))
    meta = signers.PdfSignatureMetadata(
        field_name="InstitutionSignature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason="bench", location="here", name="Lender", embed_validation_info=True, use_pades_lta=True,
        timestamp_field_name="DocumentTimeStamp", dss_settings=dss,
        validation_context=signing._validation_context(files, signer, at=AT))
    out = signers.PdfSigner(meta, signer=signer, timestamper=stamper).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), in_place=False)
    return bytes(out.getvalue())


def _valid(signed: bytes, ca: Path) -> bool:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from microcredit.contracts import signing

    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca / signing.CA_CERT))])
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    return bool(validate_pdf_signature(embedded, context, ts_validation_context=context).bottom_line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()

    from microcredit.contracts import defaults, rendering, signing
    from microcredit.contracts.service import templates

    data = Path(tempfile.mkdtemp(prefix="mc-bench-pdf-"))
    ca = signing.init_demo_ca(data, now=AT)
    files = signing.demo_files(data)
    html = rendering.render_html(defaults.DEFAULT_HTML, templates.sample_context())

    render_ms, pdf = _timed(args.rounds, lambda: rendering.html_to_pdf(html))
    ours_ms, ours = _timed(args.rounds, lambda: signing.sign_pdf(pdf, files, reason="bench", location="here",
                                                                 name="Lender", at=AT))
    base_ms, base = _timed(args.rounds, lambda: _baseline_sign(pdf, ca))
    if not (_valid(ours, ca) and _valid(base, ca)):
        sys.exit("a signature did not validate")

    def line(name: str, times: list[float]) -> str:
        return f"{name:<58} {statistics.median(times):8.1f} ms  ({min(times):.1f}-{max(times):.1f})"

    print(f"default contract, sample terms: {len(pdf):,} bytes, CPU time per operation, {args.rounds} rounds")
    print(line("render (HTML -> PDF, WeasyPrint)", render_ms))
    print(line("sign B-LTA, contracts.signing (keys parsed once)", ours_ms))
    print(line("sign B-LTA, pyHanko's SimpleSigner + DummyTimeStamper", base_ms))
    ratio = statistics.median(base_ms) / statistics.median(ours_ms)
    print(f"{'signature: ours against the baseline':<58} {ratio:8.1f} x")
    print(json.dumps({"render_ms": round(statistics.median(render_ms), 1),
                      "sign_ms": round(statistics.median(ours_ms), 1),
                      "baseline_sign_ms": round(statistics.median(base_ms), 1), "pdf_bytes": len(pdf)}))


if __name__ == "__main__":
    main()
