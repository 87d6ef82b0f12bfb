"""Signed notes, checkpoints, cosignatures and keys against published vectors and each other's tampering."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.settings import Settings
from services.transparency.keys import SigningKey, load_or_create
from siteledger_verify.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteError,
    VerifierKey,
    open_checkpoint,
)

# golang.org/x/mod/sumdb/note's own test vectors and the c2sp.org/signed-note example: other implementations' notes
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_NOTE = (GO_TEXT + "\n"
           "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
           "RZb6KE6RyyBwJnAM=\n"
           "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n")
FOO = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = ("This is an example message.\n\n— example.com/foo "
            "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
SUMDB = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"  # base64 holding '+'


def test_published_notes_verify_with_their_keys_and_not_with_others() -> None:
    note = Note.parse(GO_NOTE)
    assert note.text == GO_TEXT and note.format() == GO_NOTE
    assert note.signed_by(VerifierKey.parse(PETER)) and note.signed_by(VerifierKey.parse(ENOCH))
    assert Note.parse(FOO_NOTE).signed_by(VerifierKey.parse(FOO))
    assert not Note.parse(FOO_NOTE).signed_by(VerifierKey.parse(PETER))
    edited = Note(GO_TEXT.replace("answer", "question"), note.signatures)
    assert not edited.signed_by(VerifierKey.parse(PETER))


def test_verifier_keys_round_trip_and_their_id_is_checked() -> None:
    assert VerifierKey.parse(SUMDB).text() == SUMDB and VerifierKey.parse(SUMDB).name == "sum.golang.org"
    with pytest.raises(NoteError, match="id does not match"):
        VerifierKey.parse(SUMDB.replace("033de0ae", "033de0af"))
    for bad in ("no-plus-signs", "a b+033de0ae+AAAA", "x+zz+AAAA"):
        with pytest.raises(NoteError):
            VerifierKey.parse(bad)


def test_our_checkpoint_is_signed_parsed_and_refused_under_another_key() -> None:
    key = SigningKey.generate("siteledger.example/上海")
    assert SigningKey.parse(key.text()) == key
    body = Checkpoint("siteledger.example/上海", 42, bytes(range(32))).body()
    note = key.sign_note(body)
    assert note.startswith("siteledger.example/上海\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n— ")
    assert open_checkpoint(note, VerifierKey.parse(key.verifier.text())).size == 42
    with pytest.raises(NoteError, match="not signed by the pinned key"):
        open_checkpoint(note, SigningKey.generate("siteledger.example/上海").verifier)
    with pytest.raises(NoteError):
        open_checkpoint(note.replace("\n42\n", "\n43\n"), key.verifier)


def test_a_cosignature_binds_the_checkpoint_and_its_time() -> None:
    log, station = SigningKey.generate("log.example"), SigningKey.generate("station.example/w", COSIGNATURE_V1)
    note = log.sign_note(Checkpoint("log.example", 7, b"\x07" * 32).body())
    cosigned, _ = station.cosign(note, timestamp=1_790_000_000)
    text = cosigned.format()
    assert Note.parse(text).cosigned_at(station.verifier) == 1_790_000_000
    assert open_checkpoint(text, log.verifier, station.verifier).size == 7
    with pytest.raises(NoteError, match="not cosigned"):
        open_checkpoint(note, log.verifier, station.verifier)
    moved = Note(cosigned.text.replace("\n7\n", "\n8\n"), cosigned.signatures)
    assert Note.parse(moved.format()).cosigned_at(station.verifier) is None


def test_production_refuses_to_start_without_a_signing_key(tmp_path: Path) -> None:
    production = {"env": "production", "event_store": "postgres", "postgres_password": "s3cret-pw",
                  "s3_endpoint": "minio:9000", "s3_secret_key": "another-s3cret"}
    with pytest.raises(ValidationError, match="SITELEDGER_TRANSPARENCY_SIGNING_KEY"):
        Settings(**production)  # type: ignore[arg-type]
    key = SigningKey.generate("siteledger.example/上海").text()
    assert Settings(**production, transparency_signing_key=key).transparency_signing_key == key  # type: ignore[arg-type]


def test_development_makes_one_key_and_keeps_it(tmp_path: Path) -> None:
    first = load_or_create(tmp_path / "k", "siteledger.example/dev")
    assert load_or_create(tmp_path / "k", "ignored") == first
    assert oct((tmp_path / "k").stat().st_mode & 0o777) == "0o600"
