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

**Time stamps (PAdES B-T).** A signature alone says when the signer's computer claimed it signed; a
time-stamp token (RFC 3161) from a time-stamping authority over the signature proves the signature
existed at that time, and lets a verifier judge the certificate at that moment rather than today.
With `MICROCREDIT_CONTRACTS__TIMESTAMP_URL` set, pyHanko asks that authority (HTTP, RFC 3161). A real
authority cannot exist here, so outside production, with none configured, `SimulatedTimestampAuthority`
issues the tokens locally under the demo CA, at the business clock's time: a stand-in, named as
such, whose tokens any RFC 3161 verifier checks like a real one's. In production without an
authority the signature is B-B (no time stamp), and docs/contracts.md says so.

A signature covers every byte of the file but its own placeholder (the /ByteRange); any change to
those bytes, or an incremental update after it, shows in every PDF reader and in `pdfsig`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from microcredit.config import Mode, Settings

DEMO_FOLDER = "contracts-ca"
CA_CERT, CA_KEY, SIGNER_CERT, SIGNER_KEY = "ca.pem", "ca-key.pem", "signer.pem", "signer-key.pem"
TSA_CERT, TSA_KEY = "tsa.pem", "tsa-key.pem"


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

    def usable(self) -> bool:
        """Whether the files named are all there."""
        if self.pkcs12 is not None:
            return self.pkcs12.is_file()
        return self.key is not None and self.cert is not None and self.key.is_file() and self.cert.is_file()


def demo_files(data_dir: Path) -> SignerFiles:
    """The demo CA's institution certificate in a data directory (made by `init_demo_ca`)."""
    folder = data_dir / DEMO_FOLDER
    return SignerFiles(key=folder / SIGNER_KEY, cert=folder / SIGNER_CERT, chain=(folder / CA_CERT,),
                       simulated_tsa=(folder / TSA_CERT, folder / TSA_KEY))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def init_demo_ca(data_dir: Path, *, now: datetime, organisation: str = "Microcredit Demo",
                 replace: bool = False) -> Path:
    """Make the demo CA and the institution's signing certificate under `data_dir` (kept if there, unless
    `replace`); the folder's path. Demo only: a real institution configures its own certificate."""
    folder = data_dir / DEMO_FOLDER
    if not replace and all((folder / f).is_file() for f in (CA_CERT, CA_KEY, SIGNER_CERT, SIGNER_KEY)):
        if not all((folder / f).is_file() for f in (TSA_CERT, TSA_KEY)):  # a CA made before time stamps
            ca_cert = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
            ca_private = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), password=None)
            assert isinstance(ca_private, rsa.RSAPrivateKey)
            _issue_tsa(folder, ca_cert, ca_private, start=ca_cert.not_valid_before_utc, organisation=organisation)
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
           usage=ExtendedKeyUsageOID.EMAIL_PROTECTION, files=(SIGNER_CERT, SIGNER_KEY))
    _issue_tsa(folder, ca, ca_key, start=start, organisation=organisation)
    return folder


def _issue_tsa(folder: Path, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, start: datetime,
               organisation: str) -> None:
    """The simulator's time-stamping certificate under the demo root (RFC 3161 §2.3: the one extended key
    usage `timeStamping`, critical)."""
    _issue(folder, ca, ca_key, start=start, common=f"{organisation} Time-Stamping (simulator)",
           organisation=organisation, usage=ExtendedKeyUsageOID.TIME_STAMPING, critical_usage=True,
           files=(TSA_CERT, TSA_KEY))


def _issue(folder: Path, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, start: datetime, common: str,
           organisation: str, usage: x509.ObjectIdentifier, files: tuple[str, str],
           critical_usage: bool = False) -> None:
    """A key and a five-year certificate under the demo root for signing (digital signature and content
    commitment) with one extended key usage, written to the folder (certificate, key mode 0600)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name(common, organisation))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=1825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=critical_usage)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    _write_private(folder / files[1], key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    (folder / files[0]).write_bytes(cert.public_bytes(pem))


class SigningUnavailable(RuntimeError):
    """No usable signing certificate is configured."""


def simulated_authority(cert: Path, key: Path, *, at: datetime) -> Any:
    """`SimulatedTimestampAuthority`: pyHanko's local RFC 3161 responder under the simulator's certificate,
    its clock fixed at `at` (the business clock's now: the demo's days are not the wall clock's)."""
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    class SimulatedTimestampAuthority(DummyTimeStamper):
        """A built-in stand-in for a time-stamping authority (demo and tests only; not a trusted time source)."""

    if not (cert.is_file() and key.is_file()):
        raise SigningUnavailable("the time-stamping simulator's certificate is missing: run "
                                 "`microcredit contracts init-demo-ca`, or configure contracts.timestamp_url")
    return SimulatedTimestampAuthority(tsa_cert=load_cert_from_pemder(str(cert)),  # type: ignore[no-untyped-call]
                                       tsa_key=load_private_key_from_pemder(str(key), passphrase=None), fixed_dt=at)


def timestamper(files: SignerFiles, *, at: datetime) -> Any:
    """Who time-stamps a signature made at `at`: the configured authority, the simulator, or None (B-B)."""
    if files.timestamp_url:
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        return RequestsHTTPTimeStamper(  # type: ignore[no-untyped-call]
            files.timestamp_url, https=files.timestamp_url.startswith("https:"), timeout=files.timestamp_timeout)
    if files.simulated_tsa is not None:
        return simulated_authority(*files.simulated_tsa, at=at)
    return None


def sign_pdf(pdf: bytes, files: SignerFiles, *, reason: str, location: str, name: str, at: datetime) -> bytes:
    """The PDF with the institution's PAdES signature added (an incremental update over the given bytes),
    time-stamped at `at` by the files' authority when they name one (B-T), else B-B."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    if not files.usable():
        raise SigningUnavailable("no signing certificate: configure one, or run `microcredit contracts init-demo-ca`")
    if files.pkcs12 is not None:
        signer = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]
            str(files.pkcs12), passphrase=files.pkcs12_password)
    else:
        assert files.key is not None
        assert files.cert is not None
        signer = signers.SimpleSigner.load(str(files.key), str(files.cert),  # type: ignore[no-untyped-call]
                                           ca_chain_files=tuple(str(p) for p in files.chain))
    if signer is None:
        raise SigningUnavailable("the signing certificate could not be loaded")
    meta = signers.PdfSignatureMetadata(field_name="InstitutionSignature", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES, reason=reason, location=location,
                                        name=name)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stamper = timestamper(files, at=at)
    try:
        out = signers.PdfSigner(meta, signer=signer, timestamper=stamper).sign_pdf(writer, in_place=False)
    except (OSError, TimestampRequestError) as exc:  # the authority did not answer, or refused
        raise SigningUnavailable(f"the time-stamping authority could not be reached: {exc}") from None
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
                                "simulated_tsa": None if c.timestamp_url or demo is None else demo.simulated_tsa}
    if c.signing_pkcs12 is not None:
        return SignerFiles(pkcs12=c.signing_pkcs12,
                           pkcs12_password=c.signing_pkcs12_password.get_secret_value().encode() or None, **stamping)
    if c.signing_key is not None and c.signing_cert is not None:
        return SignerFiles(key=c.signing_key, cert=c.signing_cert,
                           chain=tuple(Path(p.strip()) for p in c.signing_chain.split(",") if p.strip()), **stamping)
    if demo is None:
        return SignerFiles(**stamping)
    return SignerFiles(key=demo.key, cert=demo.cert, chain=demo.chain, **stamping)
