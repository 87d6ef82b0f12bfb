"""The printed record signed as a PDF (PAdES baseline, pyHanko), so any PDF reader shows whether it was altered.

The signature is an incremental update: the rendered record's bytes stay, unchanged, as the file's first
revision, and the signature covers them. The city's certificate and key come from settings; in development,
when none is set, a self-signed one is made once under the data directory (`siteledger keygen` makes one on
purpose). A production server without one answers 503 `record_signing_not_configured` for the PDF routes
rather than handing out an unsigned record.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

FIELD = "SiteLedger"
T = TypeVar("T")


@dataclass(frozen=True)
class SigningIdentity:
    key_path: Path
    cert_path: Path


def make_self_signed(directory: Path, common_name: str = "SiteLedger 开发环境（自签名）") -> SigningIdentity:
    """A P-256 key and a ten-year self-signed certificate for signing records, written with the key private."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SiteLedger")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    identity = SigningIdentity(directory / "record-signing.key.pem", directory / "record-signing.cert.pem")
    identity.key_path.touch(mode=0o600)
    identity.key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    identity.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return identity


def development_identity(data_dir: Path) -> SigningIdentity:
    directory = data_dir / "keys"
    identity = SigningIdentity(directory / "record-signing.key.pem", directory / "record-signing.cert.pem")
    if identity.key_path.exists() and identity.cert_path.exists():
        return identity
    return make_self_signed(directory)


def sign(pdf: bytes, identity: SigningIdentity, reason: str = "工程事项记录存档") -> bytes:
    signer = signers.SimpleSigner.load(str(identity.key_path), str(identity.cert_path))
    if signer is None:
        raise ValueError(f"cannot load the record-signing key or certificate from {identity.key_path.parent}")
    meta = signers.PdfSignatureMetadata(field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason, location="SiteLedger")
    return in_own_loop(lambda: signers.async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta,
                                                      signer=signer)).getvalue()


def in_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """pyHanko's work is async; its sync wrappers call `asyncio.run`, which fails on a thread whose loop is running
    (an async route, a test under Playwright's sync API). Run it on this thread if it has no loop, else on another."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
