"""The institution's signature on a contract: a PAdES signature (ETSI EN 319 142) made with pyHanko, time-stamped.

The certificate is the institution's: a PKCS#12 file, or a private key and certificate in PEM (with
the chain up to the root, if any), named in the settings (`MICROCREDIT_CONTRACTS__SIGNING_*`). For the
demo and the tests, `init_demo_ca` makes a small certificate authority and an institution signing
certificate under it with `cryptography`, kept in the data directory (keys mode 0600, never in git):

    <data_dir>/contracts-ca/ca.pem          the demo root (trust it in a PDF reader to see "valid")
    <data_dir>/contracts-ca/ca-key.pem
    <data_dir>/contracts-ca/signer.pem      the institution's signing certificate
    <data_dir>/contracts-ca/signer-key.pem
    <data_dir>/contracts-ca/tsa.pem         the time-stamping simulator's certificate (under the demo root)
    <data_dir>/contracts-ca/tsa-key.pem
    <data_dir>/contracts-ca/ca.crl          the demo root's certificate revocation list (DER)

**Time stamps (PAdES B-T).** A signature alone says when the signer's computer claimed it signed; a
time-stamp token (RFC 3161) from a time-stamping authority over the signature proves the signature
existed at that time, and lets a verifier judge the certificate at that moment rather than today.
With `MICROCREDIT_CONTRACTS__TIMESTAMP_URL` set, pyHanko asks that authority (HTTP, RFC 3161). A real
authority cannot exist here, so outside production, with none configured, `SimulatedTimestampAuthority`
issues the tokens locally under the demo CA, at the business clock's time: a stand-in, named as
such, whose tokens any RFC 3161 verifier checks like a real one's. In production without an
authority the signature is B-B (no time stamp), and docs/contracts.md says so.

**Long-term validation (PAdES B-LT, B-LTA).** A verifier years later must still learn that the signing and
time-stamping certificates were not revoked when used, after the CA has stopped answering for them. At
B-LT the signer checks the chain before signing (hard-fail: no revocation information, or revoked, means
no signature) and embeds what it checked against, the CRLs and OCSP answers of the signer's and the time
stamper's chains, in the document security store (DSS). At B-LTA a document time stamp over the DSS follows,
so the revocation information itself is proven to have existed then; renewing that stamp before its
certificate's end keeps the proof alive. With a real institution CA pyHanko fetches the CRLs and OCSP answers
from the URLs in the certificates. The demo CA publishes a CRL at a distribution point under `.invalid`,
which nobody can reach: the signer reads it from the CA directory instead (`demo_crl`, the simulator path,
reissued when stale like a CA publishing on schedule), and `revoke_demo_certificate` puts a certificate on it.
The demo root also answers OCSP (`demo_ocsp`, RFC 6960, served at `/api/v1/pki/ocsp` and named in the Authority
Information Access of the certificates it issues); the simulator path reads its answers as it reads the CRL.

**Archive renewal.** `renew_archive_timestamp` appends a new document time stamp over a B-LTA file with fresh
revocation information for the previous stamp's chain (pyHanko's `update_archival_timestamp_chain`), before
the previous stamp's certificate ends; the simulator reissues its own certificate when it nears its end.

A signature covers every byte of the file but its own placeholder (the /ByteRange); any change to
those bytes, or an incremental update after it, shows in every PDF reader and in `pdfsig`.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator.errors import PathBuildingError, ValidationError

from microcredit.config import Mode, Settings

DEMO_FOLDER = "contracts-ca"
CA_CERT, CA_KEY, SIGNER_CERT, SIGNER_KEY = "ca.pem", "ca-key.pem", "signer.pem", "signer-key.pem"
TSA_CERT, TSA_KEY = "tsa.pem", "tsa-key.pem"
# The demo root's delegated OCSP responder (RFC 6960 §4.2.2.2): answers are signed with this key, not the root's.
OCSP_CERT, OCSP_KEY = "ocsp.pem", "ocsp-key.pem"
# How long the responder's certificate is valid, and how much must be left before it is reissued. It carries
# id-pkix-ocsp-nocheck (a verifier does not ask about the responder itself), so it is kept short-lived, as
# RFC 6960 §4.2.2.2.1 advises.
OCSP_CERT_LIFETIME = timedelta(days=90)
RENEW_OCSP_BEFORE = timedelta(days=30)
CRL_FILE = "ca.crl"
ISSUED = "issued"  # a copy of every certificate the demo root issued, by serial number (what OCSP answers for)
OCSP_PATH = "/api/v1/pki/ocsp"
# How long an OCSP answer of the demo responder is current (its nextUpdate).
OCSP_LIFETIME = timedelta(days=1)
# Where the demo root says its CRL is published: a name under .invalid (RFC 2606), so that nothing ever tries
# to reach it; the simulator path reads the file in the CA directory instead.
DEMO_CRL_URL = "http://crl.microcredit-demo.invalid/ca.crl"
# How long a CRL of the demo root is current (its nextUpdate); the simulator reissues it when it is not.
CRL_LIFETIME = timedelta(days=7)
LEVELS = ("B-T", "B-LT", "B-LTA")
# How long the demo's signing and time-stamping certificates are valid, and how much of the simulator's must be
# left before `renew_demo_tsa` reissues it (more than the archive renewal's default window, so that a renewal
# always gets a certificate that outlasts the one it replaces).
CERT_LIFETIME = timedelta(days=1825)
RENEW_TSA_BEFORE = timedelta(days=730)


@dataclass(frozen=True)
class SignerFiles:
    """Where the institution's signing key and certificate are: PKCS#12, or key + certificate PEM (+ chain)."""

    pkcs12: Path | None = None
    pkcs12_password: bytes | None = None
    key: Path | None = None
    cert: Path | None = None
    chain: tuple[Path, ...] = ()
    # Who time-stamps the signature: an RFC 3161 authority's URL, else the simulator's certificate and key
    # (demo and tests), else nobody (B-B).
    timestamp_url: str | None = None
    timestamp_timeout: int = 10
    simulated_tsa: tuple[Path, Path] | None = None
    # The PAdES level asked for (B-T, B-LT, B-LTA; without a time stamper the signature is B-B whatever it says).
    level: str = "B-LTA"
    # The demo CA's directory: its CRL is read there (simulator path) instead of fetched by URL.
    demo_ca: Path | None = None
    # Trusted roots beyond the self-signed ones in the chain (PEM), to check certificates before embedding.
    validation_roots: tuple[Path, ...] = ()

    def usable(self) -> bool:
        """Whether the files named are all there."""
        if self.pkcs12 is not None:
            return self.pkcs12.is_file()
        return self.key is not None and self.cert is not None and self.key.is_file() and self.cert.is_file()


def demo_files(data_dir: Path) -> SignerFiles:
    """The demo CA's institution certificate in a data directory (made by `init_demo_ca`)."""
    folder = data_dir / DEMO_FOLDER
    return SignerFiles(key=folder / SIGNER_KEY, cert=folder / SIGNER_CERT, chain=(folder / CA_CERT,),
                       simulated_tsa=(folder / TSA_CERT, folder / TSA_KEY), demo_ca=folder)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


@lru_cache(maxsize=16)
def _pem_key(pem: bytes, password: bytes | None = None) -> Any:
    """A PEM private key parsed once per process and content: cryptography checks an RSA key as it loads it
    (~46 ms at 2,048 bits, a signature ~0.5 ms), and a contract's B-LTA signing read its keys seven times.
    Keyed by the file's bytes, so a key replaced on disk (a renewal, a revocation test) is read anew."""
    return serialization.load_pem_private_key(pem, password=password)


@lru_cache(maxsize=16)
def _der_key(der: bytes) -> Any:
    """A DER private key parsed once per process and content (as `_pem_key`): pyHanko parses the key of its
    signers and of the time-stamping simulator from DER for every signature it makes."""
    return serialization.load_der_private_key(der, password=None)


def init_demo_ca(data_dir: Path, *, now: datetime, organisation: str = "Microcredit Demo",
                 replace: bool = False, ocsp_url: str | None = None) -> Path:
    """Make the demo CA and the institution's signing certificate under `data_dir` (kept if there, unless
    `replace`); the folder's path. Demo only: a real institution configures its own certificate."""
    folder = data_dir / DEMO_FOLDER
    if not replace and all((folder / f).is_file() for f in (CA_CERT, CA_KEY, SIGNER_CERT, SIGNER_KEY)):
        if not all((folder / f).is_file() for f in (TSA_CERT, TSA_KEY)):  # a CA made before time stamps
            ca_cert = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
            ca_private = _pem_key((folder / CA_KEY).read_bytes())
            assert isinstance(ca_private, rsa.RSAPrivateKey)
            _issue_tsa(folder, ca_cert, ca_private, start=ca_cert.not_valid_before_utc, organisation=organisation)
        if not (folder / CRL_FILE).is_file():  # a CA made before long-term validation
            demo_crl(folder, at=now)
        return folder
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    start = now - timedelta(days=1)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name(f"{organisation} Root CA", organisation)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start)
          .not_valid_after(start + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    _write_private(folder / CA_KEY, ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (folder / CA_CERT).write_bytes(ca.public_bytes(pem))
    _issue(folder, ca, ca_key, start=start, common=f"{organisation} Contract Signing", organisation=organisation,
           usage=ExtendedKeyUsageOID.EMAIL_PROTECTION, files=(SIGNER_CERT, SIGNER_KEY), ocsp_url=ocsp_url)
    _issue_tsa(folder, ca, ca_key, start=start, organisation=organisation, ocsp_url=ocsp_url)
    _issue_responder(folder, ca, ca_key, start=start)
    _publish_crl(folder, ca, ca_key, at=now, revoked=[], number=1)
    return folder


def _issue_responder(folder: Path, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, start: datetime) -> None:
    """The delegated OCSP responder's key and certificate under the demo root: the one extended key usage
    `OCSPSigning` (critical) and `id-pkix-ocsp-nocheck`, valid `OCSP_CERT_LIFETIME` from `start`."""
    organisation = str(ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value)
    _issue(folder, ca, ca_key, start=start, common=f"{organisation} OCSP Responder", organisation=organisation,
           usage=ExtendedKeyUsageOID.OCSP_SIGNING, critical_usage=True, files=(OCSP_CERT, OCSP_KEY),
           lifetime=OCSP_CERT_LIFETIME, extensions=(x509.OCSPNoCheck(),))


def _responder(folder: Path, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, *,
               at: datetime) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The responder's certificate and key, reissued first when missing (a CA made before delegation), not yet
    valid at `at`, or with less than `RENEW_OCSP_BEFORE` left: as a CA renews its short-lived responder. Under
    an exclusive lock on the folder, so that concurrent answers never read one key with another certificate."""
    path = folder / OCSP_CERT
    with open(folder / ".ocsp.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cert = x509.load_pem_x509_certificate(path.read_bytes()) if path.is_file() else None
        if cert is None or not (folder / OCSP_KEY).is_file() or not (
                cert.not_valid_before_utc <= at and cert.not_valid_after_utc - at > RENEW_OCSP_BEFORE):
            _issue_responder(folder, ca, ca_key, start=at - timedelta(minutes=1))
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        key = _pem_key((folder / OCSP_KEY).read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey)
    return cert, key


def _issue_tsa(folder: Path, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, start: datetime,
               organisation: str, lifetime: timedelta = CERT_LIFETIME, ocsp_url: str | None = None) -> None:
    """The simulator's time-stamping certificate under the demo root (RFC 3161 §2.3: the one extended key
    usage `timeStamping`, critical)."""
    _issue(folder, ca, ca_key, start=start, common=f"{organisation} Time-Stamping (simulator)",
           organisation=organisation, usage=ExtendedKeyUsageOID.TIME_STAMPING, critical_usage=True,
           files=(TSA_CERT, TSA_KEY), lifetime=lifetime, ocsp_url=ocsp_url)


def reissue_demo_tsa(folder: Path, *, at: datetime, lifetime: timedelta = CERT_LIFETIME) -> x509.Certificate:
    """A new key and certificate for the time-stamping simulator under the same demo root, valid from `at` for
    `lifetime`, replacing the old ones (tokens made under the old certificate keep verifying: it is embedded in
    them). What a real TSA does before its certificate ends; the simulator does it when `renew_demo_tsa` finds
    less than `RENEW_TSA_BEFORE` left."""
    ca, key = _demo_root(folder)
    organisation = ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    _issue_tsa(folder, ca, key, start=at - timedelta(minutes=1), organisation=str(organisation), lifetime=lifetime,
               ocsp_url=_ocsp_url_of(folder / TSA_CERT))
    return x509.load_pem_x509_certificate((folder / TSA_CERT).read_bytes())


def renew_demo_tsa(folder: Path, *, at: datetime) -> bool:
    """Reissue the simulator's certificate when less than `RENEW_TSA_BEFORE` of it is left at `at` (or it has not
    started yet); whether it did."""
    cert = x509.load_pem_x509_certificate((folder / TSA_CERT).read_bytes())
    if cert.not_valid_before_utc <= at and cert.not_valid_after_utc - at > RENEW_TSA_BEFORE:
        return False
    reissue_demo_tsa(folder, at=at)
    return True


def _issue(folder: Path, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, start: datetime, common: str,
           organisation: str, usage: x509.ObjectIdentifier, files: tuple[str, str],
           critical_usage: bool = False, lifetime: timedelta = CERT_LIFETIME, ocsp_url: str | None = None,
           extensions: tuple[x509.ExtensionType, ...] = ()) -> None:
    """A key and a (five-year) certificate under the demo root for signing (digital signature and content
    commitment) with one extended key usage (and any `extensions`, not critical), written to the folder
    (certificate, key mode 0600)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (x509.CertificateBuilder().subject_name(_name(common, organisation))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=critical_usage)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(DEMO_CRL_URL)], relative_name=None, reasons=None,
                crl_issuer=None)]), critical=False))
    if ocsp_url:  # where the demo root's OCSP responder answers for it (RFC 5280 §4.2.2.1)
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    _write_private(folder / files[1], key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    (folder / files[0]).write_bytes(cert.public_bytes(pem))
    (folder / ISSUED).mkdir(mode=0o700, exist_ok=True)
    (folder / ISSUED / f"{cert.serial_number:x}.pem").write_bytes(cert.public_bytes(pem))


class SigningUnavailable(RuntimeError):
    """No usable signing certificate is configured."""


class _FetchingOffOnPurpose(logging.Filter):
    """pyHanko warns on every signature that embeds revocation information without fetching it. Fetching is off
    only on the simulator path, where the demo CA's CRL is handed over on purpose: the warning says nothing
    then, and `microcredit demo` would print it for every contract it signs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Validation/revocation info will be embedded, but fetching")


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_FetchingOffOnPurpose())


def _demo_root(folder: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    ca = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
    key = _pem_key((folder / CA_KEY).read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey)
    return ca, key


def _publish_crl(folder: Path, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, at: datetime,
                 revoked: list[x509.RevokedCertificate], number: int) -> x509.CertificateRevocationList:
    """Issue the demo root's CRL (current from a minute before `at` for `CRL_LIFETIME`) and write it, replacing
    the previous one in one step (readers never see half a file)."""
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
               .last_update(at - timedelta(minutes=1)).next_update(at + CRL_LIFETIME)
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    for entry in revoked:
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(ca_key, hashes.SHA256())
    part = folder / f".{CRL_FILE}.{os.getpid()}"
    part.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    os.replace(part, folder / CRL_FILE)
    return crl


def _number(crl: x509.CertificateRevocationList) -> int:
    return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)


def demo_crl(folder: Path, *, at: datetime) -> bytes:
    """The demo root's CRL (DER) current at `at`, read from the CA directory: the simulator path of what a real
    CA publishes at its distribution point. Reissued (same entries, next number) when missing or not current
    at `at`, as a CA reissues its CRL on schedule."""
    path = folder / CRL_FILE
    crl = x509.load_der_x509_crl(path.read_bytes()) if path.is_file() else None
    if crl is not None and crl.last_update_utc <= at <= (crl.next_update_utc or at):
        return crl.public_bytes(serialization.Encoding.DER)
    ca, key = _demo_root(folder)
    fresh = _publish_crl(folder, ca, key, at=at, revoked=[] if crl is None else list(crl),
                         number=1 if crl is None else _number(crl) + 1)
    return fresh.public_bytes(serialization.Encoding.DER)


def _ocsp_url_of(cert_path: Path) -> str | None:
    """The OCSP responder a certificate names (its Authority Information Access), None without one."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    return next((str(d.access_location.value) for d in access
                 if d.access_method == AuthorityInformationAccessOID.OCSP), None)


def _issued(folder: Path, serial: int) -> x509.Certificate | None:
    """A certificate the demo root issued, by serial number (the current signer and TSA certificates of a CA made
    before the `issued` copies count too)."""
    path = folder / ISSUED / f"{serial:x}.pem"
    if path.is_file():
        return x509.load_pem_x509_certificate(path.read_bytes())
    for name in (SIGNER_CERT, TSA_CERT):
        cert = x509.load_pem_x509_certificate((folder / name).read_bytes())
        if cert.serial_number == serial:
            return cert
    return None


def demo_ocsp(folder: Path, request: bytes, *, at: datetime) -> bytes:
    """The demo root's OCSP responder (RFC 6960): the DER answer to a DER request, as of `at`, signed by the root's
    delegated responder (its certificate, issued by the root for `OCSPSigning`, travels in the answer), so the
    root's key signs certificates and CRLs only. One certificate per request (the first): `good` for a
    certificate the root issued and has not revoked, `revoked` (with the time and reason) for one on its CRL —
    the revocations are read where the CRL is — and `unknown` for any other serial or issuer; a request that
    cannot be parsed gets `malformedRequest`."""
    try:
        asked = ocsp.load_der_ocsp_request(request)
    except ValueError:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
    ca, key = _demo_root(folder)
    crl = x509.load_der_x509_crl(demo_crl(folder, at=at))
    algorithm = asked.hash_algorithm
    ours = (_digest(ca.subject.public_bytes(), algorithm) == asked.issuer_name_hash
            and _digest(_key_bits(ca), algorithm) == asked.issuer_key_hash)
    cert = _issued(folder, asked.serial_number) if ours else None
    entry = crl.get_revoked_certificate_by_serial_number(asked.serial_number) if cert is not None else None
    responder, responder_key = _responder(folder, ca, key, at=at)
    builder = (ocsp.OCSPResponseBuilder().responder_id(ocsp.OCSPResponderEncoding.HASH, responder)
               .certificates([responder]))
    this_update, next_update = at - timedelta(minutes=1), at + OCSP_LIFETIME
    if cert is None:
        builder = builder.add_response_by_hash(
            issuer_name_hash=asked.issuer_name_hash, issuer_key_hash=asked.issuer_key_hash,
            serial_number=asked.serial_number, algorithm=algorithm, cert_status=ocsp.OCSPCertStatus.UNKNOWN,
            this_update=this_update, next_update=next_update, revocation_time=None, revocation_reason=None)
    else:
        reason = None
        if entry is not None:
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            except x509.ExtensionNotFound:
                reason = None
        builder = builder.add_response(
            cert=cert, issuer=ca, algorithm=algorithm,
            cert_status=ocsp.OCSPCertStatus.GOOD if entry is None else ocsp.OCSPCertStatus.REVOKED,
            this_update=this_update, next_update=next_update,
            revocation_time=None if entry is None else entry.revocation_date_utc, revocation_reason=reason)
    nonce = next((e.value for e in asked.extensions if isinstance(e.value, x509.OCSPNonce)), None)
    if nonce is not None:
        builder = builder.add_extension(nonce, critical=False)
    return builder.sign(responder_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _digest(data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def _key_bits(cert: x509.Certificate) -> bytes:
    """The subject public key's BIT STRING contents (what RFC 6960's issuerKeyHash hashes): for RSA, the DER
    of the RSAPublicKey."""
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def demo_ocsp_answers(folder: Path, *, at: datetime) -> list[bytes]:
    """The demo responder's answers, as of `at`, for each certificate of the demo root that names it (the
    simulator path of what pyHanko fetches by the URL in a certificate's Authority Information Access)."""
    seen = {}
    for path in [folder / SIGNER_CERT, folder / TSA_CERT, *sorted((folder / ISSUED).glob("*.pem"))]:
        if path.is_file() and _ocsp_url_of(path):
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            seen[cert.serial_number] = cert
    return [demo_ocsp_for(folder, cert, at=at) for cert in seen.values()]


def demo_ocsp_for(folder: Path, cert: x509.Certificate, *, at: datetime) -> bytes:
    """The demo responder's answer for one of its certificates, as of `at` (the simulator path: what pyHanko
    would fetch from the responder the certificate names)."""
    ca, _ = _demo_root(folder)
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, ca, hashes.SHA256()).build()
    return demo_ocsp(folder, request.public_bytes(serialization.Encoding.DER), at=at)


def revoke_demo_certificate(data_dir: Path, *, at: datetime, which: str = "signer") -> int:
    """Put the demo CA's signing (or time-stamping, `which="tsa"`) certificate on its CRL, revoked at `at` (key
    compromise); the certificate's serial number. Signatures checked after this find it revoked: new B-LT and
    B-LTA signatures are refused, and a signature made later than `at` fails validation."""
    folder = data_dir / DEMO_FOLDER
    cert = x509.load_pem_x509_certificate((folder / (TSA_CERT if which == "tsa" else SIGNER_CERT)).read_bytes())
    demo_crl(folder, at=at)
    crl = x509.load_der_x509_crl((folder / CRL_FILE).read_bytes())
    if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
        return cert.serial_number
    entry = (x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(at)
             .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False).build())
    ca, key = _demo_root(folder)
    _publish_crl(folder, ca, key, at=at, revoked=[*crl, entry], number=_number(crl) + 1)
    return cert.serial_number


def simulated_authority(cert: Path, key: Path, *, at: datetime) -> Any:
    """`SimulatedTimestampAuthority`: pyHanko's local RFC 3161 responder under the simulator's certificate,
    its clock fixed at `at` (the business clock's now: the demo's days are not the wall clock's)."""
    from asn1crypto import cms, core, keys
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign import general
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class SimulatedTimestampAuthority(DummyTimeStamper):
        """A built-in stand-in for a time-stamping authority (demo and tests only; not a trusted time source).
        Its token's signature is pyHanko's `DummyTimeStamper._sign_tst_info` with the key parsed once per
        process (`_der_key`) instead of once per token (~46 ms each, three tokens a B-LTA signature)."""

        def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime
                           ) -> tuple[bytes, cms.CMSAttributes]:
            attribute: Any = general.simple_cms_attribute  # untyped
            attributes = cms.CMSAttributes([
                attribute("content_type", "tst_info"),
                attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                attribute("message_digest", _digest(tst_info_data, get_pyca_cryptography_hash(md_algorithm))),
            ])
            tsa_key = _der_key(self.tsa_key.dump())
            if not isinstance(tsa_key, rsa.RSAPrivateKey):
                raise SigningUnavailable("the time-stamping simulator's key is not RSA: "
                                         "run `microcredit contracts init-demo-ca`")
            signature = tsa_key.sign(attributes.dump(), padding.PKCS1v15(),
                                     get_pyca_cryptography_hash(md_algorithm.upper()))
            return signature, attributes

    if not (cert.is_file() and key.is_file()):
        raise SigningUnavailable("the time-stamping simulator's certificate is missing: run "
                                 "`microcredit contracts init-demo-ca`, or configure contracts.timestamp_url")
    der = _pem_key(key.read_bytes()).private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption())
    return SimulatedTimestampAuthority(tsa_cert=load_cert_from_pemder(str(cert)),  # type: ignore[no-untyped-call]
                                       tsa_key=keys.PrivateKeyInfo.load(der), fixed_dt=at)


def timestamper(files: SignerFiles, *, at: datetime) -> Any:
    """Who time-stamps a signature made at `at`: the configured authority, the simulator, or None (B-B)."""
    if files.timestamp_url:
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        return RequestsHTTPTimeStamper(  # type: ignore[no-untyped-call]
            files.timestamp_url, https=files.timestamp_url.startswith("https:"), timeout=files.timestamp_timeout)
    if files.simulated_tsa is not None:
        return simulated_authority(*files.simulated_tsa, at=at)
    return None


def _validation_context(files: SignerFiles, signer: Any, *, at: datetime) -> Any:
    """What the signer checks its chain and the time stamper's against before signing, and whose revocation
    information it embeds: hard-fail (no revocation information is a refusal). The demo CA's CRL comes from its
    directory at the business clock's `at`; any other chain's CRLs and OCSP answers are fetched by the URLs in
    its certificates, now."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko_certvalidator import ValidationContext

    if files.demo_ca is not None:
        try:
            root, crl = load_cert_from_pemder(str(files.demo_ca / CA_CERT)), demo_crl(files.demo_ca, at=at)  # type: ignore[no-untyped-call]
            answers = demo_ocsp_answers(files.demo_ca, at=at)
        except (OSError, ValueError) as exc:
            raise SigningUnavailable(f"the demo CA's revocation list could not be read: {exc}") from None
        return ValidationContext(trust_roots=[root], crls=[crl], ocsps=answers, allow_fetching=False,
                                 revocation_mode="hard-fail", moment=at)
    known = list(signer.cert_registry)
    roots = [c for c in known if c.self_signed] + [load_cert_from_pemder(str(p))  # type: ignore[no-untyped-call]
                                                  for p in files.validation_roots]
    if not roots:
        raise SigningUnavailable("long-term validation needs the chain up to the root: configure "
                                 "contracts.signing_chain or contracts.validation_roots, or contracts.level=B-T")
    return ValidationContext(trust_roots=roots, other_certs=known, allow_fetching=True, revocation_mode="hard-fail")


def _signer(files: SignerFiles) -> Any:
    """The institution's key and certificate (with its chain) as pyHanko's signer, read once per process for the
    files' contents (`_loaded_signer`)."""
    if not files.usable():
        raise SigningUnavailable("no signing certificate: configure one, or run `microcredit contracts init-demo-ca`")
    paths = (files.pkcs12,) if files.pkcs12 is not None else (files.key, files.cert, *files.chain)
    try:
        contents = tuple(path.read_bytes() for path in paths if path is not None)
    except OSError:
        raise SigningUnavailable("the signing certificate could not be read") from None
    return _loaded_signer(files, contents)


@lru_cache(maxsize=4)
def _loaded_signer(files: SignerFiles, contents: tuple[bytes, ...]) -> Any:
    """`_signer` for files whose bytes are `contents` (the cache's key: a certificate replaced on disk is read
    anew). The signer parses its key once (`_der_key`), not on every signature as pyHanko's `SimpleSigner` does."""
    from pyhanko.sign import signers
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class KeptKeySigner(signers.SimpleSigner):
        """pyHanko's `SimpleSigner`, its RSA PKCS #1 v1.5 and ECDSA signatures made with the key parsed once."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            try:
                mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            except ValueError:
                mechanism = None
            key = _der_key(self.signing_key.dump())
            digest = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), digest)
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(digest))
            return bytes(super().sign_raw(data, digest_algorithm))

    del contents  # only the cache's key
    if files.pkcs12 is not None:
        loaded = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]
            str(files.pkcs12), passphrase=files.pkcs12_password)
    else:
        assert files.key is not None
        assert files.cert is not None
        loaded = signers.SimpleSigner.load(str(files.key), str(files.cert),  # type: ignore[no-untyped-call]
                                           ca_chain_files=tuple(str(p) for p in files.chain))
    if loaded is None:
        raise SigningUnavailable("the signing certificate could not be loaded")
    return KeptKeySigner(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                         cert_registry=loaded.cert_registry, signature_mechanism=loaded.signature_mechanism,
                         prefer_pss=loaded.prefer_pss, embed_roots=loaded.embed_roots)


def sign_pdf(pdf: bytes, files: SignerFiles, *, reason: str, location: str, name: str, at: datetime) -> bytes:
    """The PDF with the institution's PAdES signature added (an incremental update over the given bytes),
    time-stamped at `at` by the files' authority when they name one (B-T), else B-B; at `files.level` B-LT the
    revocation information of the signer's and the time stamper's chains goes into the DSS in the same
    revision, at B-LTA into a second revision with a document time stamp covering it (the last bytes of the
    file). A chain that cannot be checked, or a revoked certificate, stops the signature at B-LT and B-LTA."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_signer import (
        DSSContentSettings,
        SigDSSPlacementPreference,
        TimestampDSSContentSettings,
    )
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    signer = _signer(files)
    if files.level not in LEVELS:
        raise SigningUnavailable(f"unknown PAdES level {files.level!r}: one of {', '.join(LEVELS)}")
    stamper = timestamper(files, at=at)
    long_term = stamper is not None and files.level != "B-T"
    lta = long_term and files.level == "B-LTA"
    # No VRI (deprecated in PAdES): B-LT's DSS can then sit in the signature's own revision, and B-LTA's DSS
    # (with the document time stamper's revocation information) before the document time stamp that covers it.
    dss = DSSContentSettings(
        include_vri=False,
        placement=(SigDSSPlacementPreference.TOGETHER_WITH_NEXT_TS if lta
                   else SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE),
        next_ts_settings=TimestampDSSContentSettings(include_vri=False, update_before_ts=True))
    meta = signers.PdfSignatureMetadata(
        field_name="InstitutionSignature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location, name=name, embed_validation_info=long_term, use_pades_lta=lta,
        timestamp_field_name="DocumentTimeStamp" if lta else None,
        validation_context=_validation_context(files, signer, at=at) if long_term else None, dss_settings=dss)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    try:
        out = signers.PdfSigner(meta, signer=signer, timestamper=stamper).sign_pdf(writer, in_place=False)
    except (OSError, TimestampRequestError) as exc:  # the authority did not answer, or refused
        raise SigningUnavailable(f"the time-stamping authority could not be reached: {exc}") from None
    except (SigningError, ValidationError, PathBuildingError) as exc:  # revoked, or no revocation information
        why = f"{exc} ({exc.__cause__})" if exc.__cause__ is not None else str(exc)
        raise SigningUnavailable(f"the certificates could not be checked for long-term validation: {why}") from None
    assert isinstance(out, io.BytesIO)
    return out.getvalue()


def subject_of(files: SignerFiles) -> str | None:
    """The signing certificate's subject (RFC 4514), for the record; None if it cannot be read."""
    try:
        if files.pkcs12 is not None:
            from cryptography.hazmat.primitives.serialization import pkcs12

            bundle = pkcs12.load_pkcs12(files.pkcs12.read_bytes(), files.pkcs12_password)
            cert = bundle.cert.certificate if bundle.cert is not None else None
        else:
            assert files.cert is not None
            cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    except (OSError, ValueError):
        return None
    return None if cert is None else cert.subject.rfc4514_string()[:255]


def signer_files(settings: Settings) -> SignerFiles:
    """The certificate files the settings name; outside production, the demo CA's when none are named."""
    c = settings.contracts
    demo = None if settings.mode is Mode.PRODUCTION else demo_files(settings.data_dir.resolve())
    stamping: dict[str, Any] = {"timestamp_url": c.timestamp_url or None, "timestamp_timeout": c.timestamp_timeout,
                                "simulated_tsa": None if c.timestamp_url or demo is None else demo.simulated_tsa,
                                "level": c.level,
                                "validation_roots": tuple(Path(p.strip()) for p in c.validation_roots.split(",")
                                                          if p.strip())}
    if c.signing_pkcs12 is not None:
        return SignerFiles(pkcs12=c.signing_pkcs12,
                           pkcs12_password=c.signing_pkcs12_password.get_secret_value().encode() or None, **stamping)
    if c.signing_key is not None and c.signing_cert is not None:
        return SignerFiles(key=c.signing_key, cert=c.signing_cert,
                           chain=tuple(Path(p.strip()) for p in c.signing_chain.split(",") if p.strip()), **stamping)
    if demo is None:
        return SignerFiles(**stamping)
    return SignerFiles(key=demo.key, cert=demo.cert, chain=demo.chain, demo_ca=demo.demo_ca, **stamping)


# --- Archive time-stamp renewal (the chain of document time stamps of PAdES B-LTA) -----------------------------


@dataclass(frozen=True)
class ArchiveStamp:
    """The latest document time stamp of a signed PDF: its time and its certificate's end and subject."""

    at: datetime
    valid_until: datetime
    tsa_subject: str
    count: int  # how many document time stamps the file has


def archive_stamp(pdf: bytes) -> ArchiveStamp | None:
    """The file's latest document time stamp (B-LTA), None when it has none (B-B, B-T, B-LT: nothing to renew)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    stamps = PdfFileReader(io.BytesIO(pdf)).embedded_timestamp_signatures
    if not stamps:
        return None
    last = stamps[-1]
    info = last.signed_data["encap_content_info"]["content"].parsed
    cert = last.signer_cert
    return ArchiveStamp(at=info["gen_time"].native, valid_until=cert.not_valid_after,
                        tsa_subject=cert.subject.human_friendly[:255], count=len(stamps))


class RenewalRefused(SigningUnavailable):
    """The renewed file would not be what it must be (the signature not intact, or nothing gained)."""


def renew_archive_timestamp(pdf: bytes, files: SignerFiles, *, at: datetime) -> bytes:
    """The signed PDF with its archive time-stamp chain extended (pyHanko's `update_archival_timestamp_chain`): the
    latest document time stamp is validated at `at`, its chain's revocation information (fresh: the CRLs and OCSP
    answers of `at`) goes into the DSS, and a new document time stamp from the files' authority covers the whole
    file — an incremental update, so the original bytes stay as they were, a prefix of the result. Checked before
    it is returned: the original bytes unchanged, the institution's signature intact with only LTA updates after
    it, and the new stamp's certificate outlasting the old one's (else `RenewalRefused`: renewing with the same
    certificate gains nothing; the authority must renew its certificate first)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    before = archive_stamp(pdf)
    if before is None:
        raise RenewalRefused("the file has no document time stamp (not PAdES B-LTA): nothing to renew")
    if files.simulated_tsa is not None and not files.timestamp_url:  # the simulator renews its certificate on time
        renew_demo_tsa(files.simulated_tsa[0].parent, at=at)
    stamper = timestamper(files, at=at)
    if stamper is None:
        raise SigningUnavailable("no time-stamping authority: configure contracts.timestamp_url")
    context = _validation_context(files, _signer(files), at=at)
    try:
        stamping = PdfTimeStamper(stamper, field_name=f"DocumentTimeStamp{before.count + 1}")
        out = stamping.update_archival_timestamp_chain(PdfFileReader(io.BytesIO(pdf)), context, in_place=False)
    except (OSError, TimestampRequestError) as exc:
        raise SigningUnavailable(f"the time-stamping authority could not be reached: {exc}") from None
    except (SigningError, ValidationError, PathBuildingError, ValueError) as exc:
        why = f"{exc} ({exc.__cause__})" if exc.__cause__ is not None else str(exc)
        raise SigningUnavailable(f"the latest document time stamp could not be validated: {why}") from None
    renewed = bytes(out.getvalue())
    _check_renewal(pdf, renewed, before)
    return renewed


def _check_renewal(pdf: bytes, renewed: bytes, before: ArchiveStamp) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    if not renewed.startswith(pdf):
        raise RenewalRefused("the renewed file does not keep the signed bytes as they were")
    after = archive_stamp(renewed)
    if after is None or after.count != before.count + 1:
        raise RenewalRefused("the renewed file does not carry one more document time stamp")
    if after.valid_until <= before.valid_until:
        raise RenewalRefused(f"the time-stamping authority's certificate ends {after.valid_until:%Y-%m-%d}, no later "
                             f"than the one it would replace: it must renew its certificate first")
    signature = PdfFileReader(io.BytesIO(renewed)).embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(allow_fetching=False))
    allowed = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
    if not (status.intact and status.valid and status.modification_level in allowed):
        raise RenewalRefused("the institution's signature does not validate in the renewed file")
