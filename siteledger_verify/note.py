"""C2SP signed notes (c2sp.org/signed-note), checkpoints (tlog-checkpoint) and cosignatures (tlog-cosignature).

Only parsing and verifying live here (and the pure formatting both sides share): the server signs with its
key in `services/transparency`, the station cosigns with its own; anyone checks with this module and a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ED25519 = 0x01  # signed-note signature type of a plain Ed25519 note signature
COSIGNATURE_V1 = 0x04  # tlog-cosignature: Ed25519 over "cosignature/v1\ntime T\n" + the checkpoint body
SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space


class NoteError(Exception):
    """A note or key that is malformed, or a signature that does not verify."""


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """SHA-256(name || "\\n" || type || public key)[:4], as both specs define it."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


@dataclass(frozen=True)
class VerifierKey:
    """`<name>+<key id, 8 hex>+<base64(type || public key)>`: what a station pins."""

    name: str
    kind: int
    public_key: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, self.public_key)

    def text(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may hold "+": only the first two separate
        if len(parts) != 3 or not valid_name(parts[0]):
            raise NoteError("verifier key must read <name>+<8 hex>+<base64> / 验证密钥格式应为 名称+8位十六进制+base64")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            claimed = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise NoteError("verifier key is not valid base64/hex / 验证密钥编码无效") from None
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("verifier key is not an Ed25519 key / 验证密钥不是 Ed25519 公钥")
        key = cls(name, raw[0], raw[1:])
        if claimed != key.id:
            raise NoteError("verifier key's id does not match its name and key / 验证密钥编号与名称、公钥不符")
        return key

    def _verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes  # for a cosignature: the 8-byte timestamp, then the 64-byte signature


@dataclass(frozen=True)
class Note:
    text: str  # the body, ending in a newline: what is signed
    signatures: tuple[Signature, ...]

    @classmethod
    def parse(cls, note: str) -> Note:
        """Split a note at its last blank line; each line after it is `— <name> <base64>`."""
        text, sep, block = note.rpartition("\n\n")
        if not sep or not block.endswith("\n"):
            raise NoteError("not a signed note: no signature block / 不是签名文本：缺少签名部分")
        signatures = []
        for line in block[:-1].split("\n"):
            if not line.startswith(SIGNATURE_PREFIX):
                raise NoteError(f"malformed signature line / 签名行格式错误: {line[:60]!r}")
            name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise NoteError("signature is not base64 / 签名不是 base64") from None
            if not valid_name(name) or len(raw) < 5:
                raise NoteError(f"malformed signature line / 签名行格式错误: {line[:60]!r}")
            signatures.append(Signature(name, raw[:4], raw[4:]))
        return cls(text + "\n", tuple(signatures))

    def format(self) -> str:
        lines = "".join(f"{SIGNATURE_PREFIX}{s.name} {base64.b64encode(s.key_id + s.signature).decode()}\n"
                        for s in self.signatures)
        return f"{self.text}\n{lines}"

    def signed_by(self, key: VerifierKey) -> bool:
        """Is there a valid signature (or cosignature) by exactly this key?"""
        for sig in self.signatures:
            if sig.name != key.name or sig.key_id != key.id:
                continue
            if key.kind == ED25519 and key._verify(self.text.encode(), sig.signature):
                return True
            if key.kind == COSIGNATURE_V1 and len(sig.signature) == 72:
                (timestamp,) = struct.unpack(">Q", sig.signature[:8])
                if key._verify(cosigned_message(self.text, timestamp), sig.signature[8:]):
                    return True
        return False

    def cosigned_at(self, key: VerifierKey) -> int | None:
        """The time of a valid cosignature by this key, if there is one."""
        for sig in self.signatures:
            if sig.name == key.name and sig.key_id == key.id and len(sig.signature) == 72:
                (timestamp,) = struct.unpack(">Q", sig.signature[:8])
                if key._verify(cosigned_message(self.text, timestamp), sig.signature[8:]):
                    return int(timestamp)
        return None


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class Checkpoint:
    """The first three lines of a tlog-checkpoint: origin, tree size, base64 root hash (extension lines kept)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        extra = "".join(f"{line}\n" for line in self.extensions)
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n{extra}"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0]:
            raise NoteError("not a checkpoint: origin, size and root hash lines expected / 不是检查点格式")
        origin, size_text, root_text, *extensions = lines[:-1]
        if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
            raise NoteError(f"checkpoint tree size is not a decimal number / 检查点树大小无效: {size_text[:30]!r}")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise NoteError("checkpoint root hash is not base64 / 检查点根哈希不是 base64") from None
        if len(root) != 32:
            raise NoteError("checkpoint root hash is not 32 bytes / 检查点根哈希长度错误")
        return cls(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(note_text: str, key: VerifierKey, cosigner: VerifierKey | None = None) -> Checkpoint:
    """Parse a signed checkpoint and insist on the log's signature (and the station's cosignature if asked)."""
    note = Note.parse(note_text)
    if not note.signed_by(key):
        raise NoteError(f"checkpoint is not signed by the pinned key {key.name} / "
                        "检查点未经指定密钥签名（伪造，或换了密钥）")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != key.name:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the key's name / 检查点来源与密钥名称不符")
    if cosigner is not None and not note.signed_by(cosigner):
        raise NoteError(f"checkpoint is not cosigned by {cosigner.name} / 检查点没有监督站的见证签名")
    return checkpoint
