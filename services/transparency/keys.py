"""Ed25519 signing keys in the signed-note text form: `PRIVATE+KEY+<name>+<key id>+<base64(type || seed)>`.

The server signs checkpoints with one (its name is the log's origin); a station cosigns with its own. The
verifier key (`<name>+<id>+<base64(type || public key)>`) is what the other side pins.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from siteledger_verify.note import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    NoteError,
    Signature,
    VerifierKey,
    cosigned_message,
    valid_name,
)

PREFIX = "PRIVATE+KEY+"


@dataclass(frozen=True)
class SigningKey:
    name: str
    kind: int  # ED25519 for a log's note signature, COSIGNATURE_V1 for a witness
    seed: bytes

    @classmethod
    def generate(cls, name: str, kind: int = ED25519) -> SigningKey:
        if not valid_name(name):
            raise ValueError(f"a key name has no spaces and no '+': {name!r}")
        return cls(name, kind, os.urandom(32))

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> VerifierKey:
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifierKey(self.name, self.kind, public)

    def text(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + self.seed).decode()
        return f"{PREFIX}{self.name}+{self.verifier.id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        parts = text.strip().removeprefix(PREFIX).split("+", 2)
        if not text.strip().startswith(PREFIX) or len(parts) != 3:
            raise NoteError("a signing key reads PRIVATE+KEY+<name>+<id>+<base64> / 签名私钥格式无效")
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError("the signing key is not base64 / 签名私钥不是 base64") from None
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("the signing key is not an Ed25519 seed / 签名私钥不是 Ed25519 种子")
        key = cls(parts[0], raw[0], raw[1:])
        if key.verifier.id.hex() != parts[1]:
            raise NoteError("the signing key's id does not match / 签名私钥编号不符")
        return key

    def sign_note(self, body: str) -> str:
        """A signed note of one signature: the log's checkpoint."""
        signature = self._private.sign(body.encode())
        return Note(body, (Signature(self.name, self.verifier.id, signature),)).format()

    def cosign(self, note_text: str, timestamp: int | None = None) -> tuple[Note, Signature]:
        """The note with a tlog-cosignature/v1 of this key added (a witness's statement about the checkpoint)."""
        note = Note.parse(note_text)
        when = int(time.time()) if timestamp is None else timestamp
        signature = self._private.sign(cosigned_message(note.text, when))
        cosignature = Signature(self.name, self.verifier.id, struct.pack(">Q", when) + signature)
        others = tuple(s for s in note.signatures if s.name != self.name)
        return Note(note.text, (*others, cosignature)), cosignature


def load_or_create(path: Path, name: str, kind: int = ED25519) -> SigningKey:
    """Development keeps one key under the data directory, made on first use (readable by its owner only)."""
    if path.exists():
        return SigningKey.parse(path.read_text())
    key = SigningKey.generate(name, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key.text() + "\n")
    return key
