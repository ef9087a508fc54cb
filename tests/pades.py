"""Checking PAdES signatures the way a verifier years later would, with pyHanko: revocation information
required for every certificate of the chains, and nothing fetched (the demo CA's distribution point is under
.invalid): only what the file embeds and the CRLs a test hands over count."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import crl
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import AdESLTAValidationResult, ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer

from microcredit.contracts import signing


def fresh_crl(ca: Path) -> bytes:
    """The demo root's CRL as its distribution point would serve it today (the wall clock's)."""
    return signing.demo_crl(ca, at=datetime.now(UTC))


def dss(data: bytes) -> tuple[int, int]:
    """How many CRLs and certificates the document security store holds (0, 0 without one)."""
    root = PdfFileReader(io.BytesIO(data)).root
    if "/DSS" not in root:
        return 0, 0
    store = root["/DSS"]
    return len(store.get("/CRLs", [])), len(store.get("/Certs", []))


def at(data: bytes, ca: Path, moment: datetime, crls: list[bytes]) -> PdfSignatureStatus:
    """The institution's signature (the file's first) checked as of `moment`, hard-fail, with the CRLs of the
    file's DSS and those given only; a CRL issued after `moment` counts (it says when a certificate was
    revoked)."""
    reader = PdfFileReader(io.BytesIO(data))
    embedded = [ref.get_object().data for ref in reader.root["/DSS"].get("/CRLs", [])] \
        if "/DSS" in reader.root else []
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(ca / signing.CA_CERT))],
                                crls=[*embedded, *crls], revocation_mode="hard-fail", moment=moment,
                                retroactive_revinfo=True)
    return validate_pdf_signature(reader.embedded_signatures[0], context, ts_validation_context=context)


def lta(data: bytes, ca: Path, crls: list[bytes], moment: datetime | None = None) -> AdESLTAValidationResult:
    """AdES validation of a signature with long-term availability and integrity of validation material (ETSI
    EN 319 102-1 §5.6.3; pyHanko's `ades_lta_validation`) today: the document time stamps are the evidence
    record, the DSS and the CRLs given the revocation information. `moment`: validate as of then instead of
    today (a point-in-time validation)."""
    required = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[load_cert_from_pemder(str(ca / signing.CA_CERT))]),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=required,
                                                                   intermediate_ca_cert_rule=required)))
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
        local_knowledge=LocalKnowledge(known_crls=[CRLContainer(crl.CertificateList.load(c)) for c in crls])))
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    timing = None if moment is None else ValidationTimingInfo(validation_time=moment, best_signature_time=moment,
                                                               point_in_time_validation=True)
    return asyncio.run(ades_lta_validation(signature, spec, timing_info=timing))
