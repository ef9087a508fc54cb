"""The institution's signature on a contract: a PAdES signature (ETSI EN 319 142, B-B level) made with pyHanko.

The certificate is the institution's: a PKCS#12 file, or a private key and certificate in PEM (with
the chain up to the root, if any), named in the settings (`MICROCREDIT_CONTRACTS__SIGNING_*`). For the
demo and the tests, `init_demo_ca` makes a small certificate authority and an institution signing
certificate under it with `cryptography`, kept in the data directory (keys mode 0600, never in git):

    <data_dir>/contracts-ca/ca.pem          the demo root (trust it in a PDF reader to see "valid")
    <data_dir>/contracts-ca/ca-key.pem
    <data_dir>/contracts-ca/signer.pem      the institution's signing certificate
    <data_dir>/contracts-ca/signer-key.pem

A signature covers every byte of the file but its own placeholder (the /ByteRange); any change to
those bytes, or an incremental update after it, shows in every PDF reader and in `pdfsig`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from microcredit.config import Mode, Settings

DEMO_FOLDER = "contracts-ca"
CA_CERT, CA_KEY, SIGNER_CERT, SIGNER_KEY = "ca.pem", "ca-key.pem", "signer.pem", "signer-key.pem"


@dataclass(frozen=True)
class SignerFiles:
    """Where the institution's signing key and certificate are: PKCS#12, or key + certificate PEM (+ chain)."""

    pkcs12: Path | None = None
    pkcs12_password: bytes | None = None
    key: Path | None = None
    cert: Path | None = None
    chain: tuple[Path, ...] = ()

    def usable(self) -> bool:
        """Whether the files named are all there."""
        if self.pkcs12 is not None:
            return self.pkcs12.is_file()
        return self.key is not None and self.cert is not None and self.key.is_file() and self.cert.is_file()


def demo_files(data_dir: Path) -> SignerFiles:
    """The demo CA's institution certificate in a data directory (made by `init_demo_ca`)."""
    folder = data_dir / DEMO_FOLDER
    return SignerFiles(key=folder / SIGNER_KEY, cert=folder / SIGNER_CERT, chain=(folder / CA_CERT,))


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
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name(f"{organisation} Contract Signing", organisation))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=1825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    plain = serialization.NoEncryption()
    pkcs8 = serialization.PrivateFormat.PKCS8
    _write_private(folder / CA_KEY, ca_key.private_bytes(pem, pkcs8, plain))
    _write_private(folder / SIGNER_KEY, key.private_bytes(pem, pkcs8, plain))
    (folder / CA_CERT).write_bytes(ca.public_bytes(pem))
    (folder / SIGNER_CERT).write_bytes(cert.public_bytes(pem))
    return folder


class SigningUnavailable(RuntimeError):
    """No usable signing certificate is configured."""


def sign_pdf(pdf: bytes, files: SignerFiles, *, reason: str, location: str, name: str) -> bytes:
    """The PDF with the institution's PAdES signature added (an incremental update over the given bytes)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

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
    out = signers.PdfSigner(meta, signer=signer).sign_pdf(writer, in_place=False)
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
    if c.signing_pkcs12 is not None:
        return SignerFiles(pkcs12=c.signing_pkcs12,
                           pkcs12_password=c.signing_pkcs12_password.get_secret_value().encode() or None)
    if c.signing_key is not None and c.signing_cert is not None:
        return SignerFiles(key=c.signing_key, cert=c.signing_cert,
                           chain=tuple(Path(p.strip()) for p in c.signing_chain.split(",") if p.strip()))
    if settings.mode is Mode.PRODUCTION:
        return SignerFiles()
    return demo_files(settings.data_dir.resolve())
