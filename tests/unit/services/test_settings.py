"""Settings: embedded defaults for development, refusals in production."""

import pytest
from pydantic import ValidationError

from services.settings import Settings


def test_the_embedded_default_is_sqlite_under_data() -> None:
    settings = Settings(_env_file=None)
    assert settings.event_store == "sqlite" and str(settings.data_dir) == "data"


@pytest.mark.parametrize("password", ["", "changeme", "postgres"])
def test_production_refuses_default_secrets(password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITELEDGER_ENV", "production")
    monkeypatch.setenv("SITELEDGER_EVENT_STORE", "postgres")
    monkeypatch.setenv("SITELEDGER_POSTGRES_PASSWORD", password)
    with pytest.raises(ValidationError, match="refuses"):
        Settings(_env_file=None)


def test_production_refuses_the_embedded_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITELEDGER_ENV", "production")
    with pytest.raises(ValidationError, match="postgres"):
        Settings(_env_file=None)
    monkeypatch.setenv("SITELEDGER_EVENT_STORE", "postgres")
    monkeypatch.setenv("SITELEDGER_POSTGRES_PASSWORD", "k3-7Qz!long")
    with pytest.raises(ValidationError, match="S3_ENDPOINT"):
        Settings(_env_file=None)
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", "minio.internal:9000")
    with pytest.raises(ValidationError, match="S3_SECRET_KEY"):
        Settings(_env_file=None)
    monkeypatch.setenv("SITELEDGER_S3_SECRET_KEY", "a-long-random-secret")
    with pytest.raises(ValidationError, match="TRANSPARENCY_SIGNING_KEY"):
        Settings(_env_file=None)
    from services.transparency.keys import SigningKey
    monkeypatch.setenv("SITELEDGER_TRANSPARENCY_SIGNING_KEY", SigningKey.generate("siteledger.example/test").text())
    assert Settings(_env_file=None).env == "production"
