"""Signed decision records: the organisation's signing key and PAdES B-B signatures (pyHanko).

The key lives in the config folder as a PKCS#12 file with owner-only permissions, protected by
a passphrase (`REVIEWER_KEY_PASSPHRASE`, or a prompt); it never enters the database. Its
certificate is recorded in the database by an audited admin event (`services.keys`), so every
workstation of a team verifies against the same certificates, and a record signed with an
earlier key keeps verifying after a new one is made.

Measured in `shared/design/signing.md`: stock pyHanko parses the RSA key twice per signature
(about 100 ms a record); the signer here keeps the parsed key and reserves the signature's
space, which skips pyHanko's sizing dry run; and it builds the signing-certificate attribute
once per key (pyHanko builds and serialises it for every signature: half of a signature's
time, measured with bench/sign_records.py). Keys made by `reviewer keys init` are ECDSA P-256.

This module loads pyHanko and cryptography: it is imported late, by the commands that sign or
verify records only.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
from dataclasses import dataclass
from typing import Any

from asn1crypto import tsp  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from reviewer.errors import InvalidInput

# pyHanko logs diff analysis and path building failures at ERROR with tracebacks; what a
# failure means is reported as a problem with the file instead.
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

RESERVED = 8192  # bytes for the signature: one self-signed or CA-issued certificate fits
VALID_YEARS = 10


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 of the certificate's DER, in lower-case hex (printed on every record)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_pem(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError as exc:
        raise InvalidInput([f"not a PEM certificate: {exc}"]) from exc


def pem_of(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def make_key(organisation: str, passphrase: bytes) -> tuple[bytes, x509.Certificate]:
    """A new ECDSA P-256 key and a self-signed certificate for the organisation (for those
    without a CA), as PKCS#12 bytes encrypted with the passphrase."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} decision records"[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
    ])  # fmt: skip
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * VALID_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .sign(key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"reviewer", key, cert, None, serialization.BestAvailableEncryption(passphrase)
    )
    return p12, cert


class _SigningCertificateOnce(CMSAttributeProvider):
    """The signing-certificate-v2 attribute (the certificate's hash and issuer), built once:
    pyHanko builds it for every signature, and serialising the freshly built value (the
    issuer's name, copied twice on the way) is half the time of a signature. Parsed back
    from its DER, the value serialises as the bytes it was read from."""

    attribute_type = "signing_certificate_v2"

    def __init__(self, cert: Any) -> None:
        self.der = as_signing_certificate_v2(cert).dump()

    async def build_attr_value(self, dry_run: bool = False) -> Any:
        return tsp.SigningCertificateV2.load(self.der)


class _PadesAttributes(SignedAttributeProviderSpec):
    """The signed attributes of a PAdES B-B signature without a timestamp: what pyHanko's
    CAdES spec gives for PAdES (signing-certificate-v2 only; content type and message digest
    are added by pyHanko), with that attribute built once."""

    def __init__(self, cert: Any) -> None:
        self.provider = _SigningCertificateOnce(cert)

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str) -> Any:
        return [self.provider]


class CachedKeySigner(signers.SimpleSigner):
    """Stock `sign_raw` parses the DER key on every call, twice a record (signing.md); the
    signing-certificate attribute is built once per key instead of once per record."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_attr_prov_spec = _PadesAttributes(self.signing_cert)

    @functools.cached_property
    def _key(self) -> Any:
        return serialization.load_der_private_key(self.signing_key.dump(), password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mech = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        h = get_pyca_cryptography_hash(digest_algorithm)
        if mech == "rsassa_pkcs1v15":
            return self._key.sign(data, PKCS1v15(), h)  # type: ignore[no-any-return]
        if mech == "ecdsa":
            return self._key.sign(data, ECDSA(h))  # type: ignore[no-any-return]
        return super().sign_raw(data, digest_algorithm)


@dataclass
class Key:
    signer: CachedKeySigner
    cert: x509.Certificate

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)


def load_key(data: bytes, passphrase: bytes, origin: str) -> Key:
    """The signer of a PKCS#12 file; a wrong passphrase or a damaged file is InvalidInput."""
    try:
        plain = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase)
        _key, cert, _more = pkcs12.load_key_and_certificates(data, passphrase)
    except (ValueError, TypeError) as exc:
        raise InvalidInput([f"{origin}: cannot open the key: wrong passphrase or not a PKCS#12 "
                            f"file ({exc})"]) from exc  # fmt: skip
    if cert is None:
        raise InvalidInput([f"{origin}: the PKCS#12 file holds no certificate"])
    signer = CachedKeySigner(plain.signing_cert, plain.signing_key, plain.cert_registry)
    return Key(signer, cert)


META = signers.PdfSignatureMetadata(
    field_name="Signature", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
    reason="Decision record of the review team",
)  # fmt: skip
INVISIBLE = fields.SigFieldSpec("Signature", on_page=0, box=None)


def sign(pdf: bytes, key: Key) -> bytes:
    """The PDF with the organisation's PAdES B-B signature, as an incremental update: the
    rendered bytes stay an exact prefix of the signed file."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = io.BytesIO()
    signers.PdfSigner(META, signer=key.signer, new_field_spec=INVISIBLE).sign_pdf(
        writer, output=out, bytes_reserved=RESERVED
    )
    return out.getvalue()


@dataclass
class SignatureCheck:
    problems: list[str]
    signer_fingerprint: str | None  # of the signing certificate, when there is one signature


def check_signature(pdf: bytes, trusted: list[x509.Certificate]) -> SignatureCheck:
    """The signature of a record: exactly one, intact, covering the whole file (nothing added
    after it, not even metadata), by one of the trusted certificates."""
    try:
        sigs = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception as exc:  # noqa: BLE001 - a damaged file raises anything
        return SignatureCheck([f"not a readable PDF ({type(exc).__name__})"], None)
    if not sigs:
        return SignatureCheck(["not signed"], None)
    if len(sigs) != 1:
        return SignatureCheck([f"{len(sigs)} signatures, a record has one"], None)
    sig = sigs[0]
    try:
        cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
        found = fingerprint(cert)
    except Exception:  # noqa: BLE001
        return SignatureCheck(["the signature holds no readable certificate"], None)
    roots = [_asn1(c) for c in trusted]
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots))
    except Exception as exc:  # noqa: BLE001 - a damaged signature raises instead of reporting
        return SignatureCheck([f"the signature is damaged ({type(exc).__name__})"], found)
    problems = []
    if not status.intact or not status.valid:
        problems.append("the signature does not match the content: the file was changed after signing")
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("something was added to the file after it was signed")
    if found not in {fingerprint(c) for c in trusted}:
        problems.append(f"signed with certificate {found[:16]}..., which is not one of the "
                        "organisation's")  # fmt: skip
    elif not status.trusted and not problems:
        problems.append("the signing certificate does not validate")
    return SignatureCheck(problems, found)


def embedded_certificate(pdf: bytes) -> x509.Certificate:
    """The signing certificate a signed PDF carries (to trust it by a fingerprint given)."""
    sig = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    return x509.load_der_x509_certificate(sig.signer_cert.dump())


def _asn1(cert: x509.Certificate) -> Any:
    """pyHanko's certificate object (asn1crypto) of a certificate."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
