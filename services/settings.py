"""Every setting in one place: a default that serves the embedded mode, and an environment variable."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

UNSAFE_SECRETS = {"", "changeme", "change-me", "password", "postgres", "secret", "siteledger"}


class Settings(BaseSettings):
    """Read from `SITELEDGER_*` environment variables (or a `.env` file)."""

    model_config = SettingsConfigDict(env_prefix="SITELEDGER_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./data")
    event_store: Literal["sqlite", "postgres"] = "sqlite"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_db: str = "siteledger"
    postgres_user: str = "postgres"
    postgres_password: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    trusted_proxies: str = "127.0.0.1"  # whose X-Forwarded-For/-Proto uvicorn believes (comma-separated, or *)
    token_max_age_days: float = Field(default=90.0, gt=0)  # a bearer token expires this long after it is issued
    auth_failures_per_minute: int = Field(default=20, ge=1)  # per client address, then 429 with Retry-After
    session_idle_hours: float = Field(default=12.0, gt=0)  # a web session unused this long ends
    session_max_days: float = Field(default=14.0, gt=0)  # and any web session ends this long after sign-in
    password_link_hours: float = Field(default=72.0, gt=0)  # a set-password (or reset) link dies then
    invitation_days: float = Field(default=30.0, gt=0)  # a resident's QR link and short code die then
    resident_session_days: float = Field(default=365.0, gt=0)  # a phone signed in by invitation stays in this long
    cjk_font_path: Path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # every PDF we print
    # The city's certificate and key (PEM) that sign the printed records; development makes a self-signed pair
    # under <data_dir>/keys when these are unset, production answers 503 for the record PDFs instead.
    record_signing_key: Path | None = None
    record_signing_cert: Path | None = None
    node_modules_dir: Path | None = None  # npm's front-end packages; None: node_modules beside the source
    s3_endpoint: str = ""  # empty: `serve` starts an embedded SeaweedFS on 127.0.0.1:<embedded_s3_port>
    embedded_s3_port: int = Field(default=8333, ge=1, le=65535)
    s3_access_key: str = "siteledger"
    s3_secret_key: str = "siteledger-dev-secret"
    s3_bucket: str = "siteledger-photos"
    s3_secure: bool = False
    s3_region: str | None = None
    s3_connect_timeout_s: float = Field(default=2.0, gt=0)  # no retries inside a request: a client retries
    s3_read_timeout_s: float = Field(default=3.0, gt=0)
    s3_probe_interval_s: float = Field(default=2.0, gt=0)  # /readyz reports the last background probe
    photo_workers: int = Field(default=8, ge=1)  # threads of photo work's own: a hung store never takes the API's
    photo_wait_s: float = Field(default=1.0, gt=0)  # a photo request not started by then answers 503 at once
    photo_max_bytes: int = Field(default=30 * 1024 * 1024, gt=0)
    photo_max_pixels: int = Field(default=80_000_000, gt=0)
    upload_chunk_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    upload_expiry_hours: float = Field(default=24.0, gt=0)  # a resumable upload (row and pieces) is removed then
    readmodels_url: str = ""  # empty: beside the event store; a Kafka projection worker may have its own
    kafka_bootstrap: str = ""  # empty: no event bus (the embedded default)
    kafka_topic_works_items: str = "siteledger.works-items"
    kafka_topic_projects: str = "siteledger.projects"
    kafka_partitions: int = Field(default=6, ge=1)
    kafka_replication: int = Field(default=1, ge=1)
    kafka_group: str = "siteledger-projections"
    kafka_source: str = "urn:siteledger"
    kafka_loss_check_interval_s: float = Field(default=5.0, gt=0)  # the relay compares the broker's end offsets
    relay_encoder_process: bool = True  # the relay reads and encodes in a child process (its own GIL)
    projections_in_process: bool = True
    projection_interval_s: float = Field(default=0.5, gt=0)
    read_your_writes_timeout_s: float = Field(default=2.0, ge=0)
    json_body_max_bytes: int = Field(default=1024 * 1024, gt=0)  # a request body other than a photo upload
    request_body_timeout_s: float = Field(default=30.0, gt=0)  # for the body to arrive (a chunk, for uploads)
    request_head_timeout_s: float = Field(default=10.0, gt=0)  # `serve`: for a request's line and headers
    device_time_max_ahead_hours: float = Field(default=24.0, ge=0)  # how far a device clock may run ahead
    http_keep_alive_s: int = Field(default=5, ge=1)  # `serve`: an idle connection is closed after this
    http_max_concurrency: int = Field(default=1000, ge=1)  # `serve`: connections + requests at once, then 503
    late_arrival_hours: float = Field(default=12.0, gt=0)
    device_clock_ahead_minutes: float = Field(default=10.0, gt=0)  # timeline flag: device time this far past arrival
    # the city's floor under every project's acceptance rule (a project may ask more, never less): "1/2", "0.8"
    acceptance_floor_min_signed: str = "1/2"
    acceptance_floor_min_accept: str = "2/3"
    site_utc_offset_hours: float = 8.0
    # the transparency log: `siteledger keygen` prints a key; production refuses to start without one,
    # development makes one under the data directory (transparency-signing.key) and keeps it
    transparency_signing_key: str = ""  # PRIVATE+KEY+<origin>+<id>+<base64>; its name is the log's origin
    transparency_origin: str = "siteledger.example/dev"  # e.g. siteledger.example/<city>: keygen's default name
    checkpoint_interval_minutes: float = Field(default=10.0, gt=0)  # a new checkpoint this often if the tree grew

    @field_validator("acceptance_floor_min_signed", "acceptance_floor_min_accept")
    @classmethod
    def _a_share(cls, value: str) -> str:
        try:
            share = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{value!r} is not a share like 1/2 or 0.8") from None
        if not 0 < share <= 1:
            raise ValueError(f"{value!r} must be more than 0 and at most 1")
        return value.strip()

    @model_validator(mode="after")
    def _production_refuses_embedded_defaults(self) -> Settings:
        """Production runs on PostgreSQL with a real password; a `changeme` default never ships."""
        if self.env == "production":
            if self.event_store != "postgres":
                raise ValueError("SITELEDGER_ENV=production needs SITELEDGER_EVENT_STORE=postgres")
            if self.postgres_password.lower() in UNSAFE_SECRETS:
                raise ValueError("SITELEDGER_ENV=production refuses an empty or default SITELEDGER_POSTGRES_PASSWORD")
            if not self.s3_endpoint:
                raise ValueError("SITELEDGER_ENV=production needs SITELEDGER_S3_ENDPOINT (MinIO or any S3)")
            if self.s3_secret_key.lower() in UNSAFE_SECRETS | {"siteledger-dev-secret"}:
                raise ValueError("SITELEDGER_ENV=production refuses a default SITELEDGER_S3_SECRET_KEY")
            if not self.transparency_signing_key.strip():
                raise ValueError("SITELEDGER_ENV=production needs SITELEDGER_TRANSPARENCY_SIGNING_KEY "
                                 "(make one with `siteledger keygen`)")
        return self

    def event_store_env(self) -> dict[str, str]:
        """The `eventsourcing` library's own settings for the chosen store."""
        if self.event_store == "postgres":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": self.postgres_db, "POSTGRES_HOST": self.postgres_host,
                "POSTGRES_PORT": str(self.postgres_port), "POSTGRES_USER": self.postgres_user,
                "POSTGRES_PASSWORD": self.postgres_password,
                "POSTGRES_POOL_SIZE": "10", "POSTGRES_MAX_OVERFLOW": "10",
            }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "events.db"), "SQLITE_LOCK_TIMEOUT": "30"}

    def s3_address(self) -> str:
        return self.s3_endpoint or f"127.0.0.1:{self.embedded_s3_port}"

    def database_url(self) -> str:
        """Where the user directory and read models live: beside the event store unless told otherwise."""
        if self.readmodels_url:
            return self.readmodels_url
        if self.event_store == "postgres":
            return self.postgres_url()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'readmodels.db'}"

    def postgres_url(self) -> str:
        """A libpq URI with every part percent-encoded: a password with `@ / : #` must not become a host."""
        from sqlalchemy.engine import URL

        url = URL.create("postgresql", username=self.postgres_user, password=self.postgres_password or None,
                         host=self.postgres_host, port=self.postgres_port, database=self.postgres_db)
        # SQLAlchemy leaves a space as it is, which the libpq psycopg's C build bundles refuses in a URI
        return url.render_as_string(hide_password=False).replace(" ", "%20")
