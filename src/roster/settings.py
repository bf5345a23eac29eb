"""One Settings object, loaded once from ROSTER_* variables and command-line options.
Every setting has help text; tests/cli/test_settings_documented.py checks docs/configuration.md
mentions each one."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROSTER_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./roster.db",
        description="Where people are stored: sqlite:///PATH (default ./roster.db) or "
        "postgresql://USER@HOST:PORT/DB.",
    )
    host: str = Field("127.0.0.1", description="Address `roster serve` listens on.")
    port: int = Field(8000, description="Port `roster serve` listens on.")
    workers: int = Field(
        1, description="Server processes. More than 1 needs PostgreSQL (SQLite has one writer)."
    )
    tls_cert: Path | None = Field(None, description="PEM certificate file: serve HTTPS.")
    tls_key: Path | None = Field(None, description="PEM private key file for --tls-cert.")
    tls_self_signed: bool = Field(
        False,
        description="Serve HTTPS with a self-signed certificate made in the data directory "
        "(for development and tests).",
    )
    data_dir: Path = Field(
        Path(".roster"),
        description="Folder for roster's own files: the generated secret key, self-signed "
        "certificates, demo credentials.",
    )
    secret_key: str | None = Field(
        None,
        description="Key that encrypts stored secrets (webhook secrets, suppression-list keys) "
        "and signs export download links. If unset, one is generated into DATA_DIR/secret.key "
        "(mode 0600) on first start.",
    )
    public_url: str | None = Field(
        None,
        description="Base URL roster puts in links it gives out (the region answer, export "
        "download links). "
        "Default: http(s)://HOST:PORT of the server.",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "FULL",
        description="SQLite durability: FULL (every commit reaches the disk before the call is "
        "answered) or NORMAL (faster commits; a power cut or OS crash may lose the last "
        "answered calls).",
    )
    writer_batch: int = Field(
        512, description="Most requests one write transaction groups together (group commit)."
    )
    write_timeout: float = Field(
        5.0,
        gt=0,
        description="Seconds a write call may wait for the writer before it is answered 503 "
        "with Retry-After instead (nothing of it stored).",
    )
    drain_seconds: float = Field(
        0.0,
        ge=0,
        le=300,
        description="After SIGTERM, seconds roster keeps listening and answers new write calls "
        "503 with Retry-After (and /readyz 503) before it stops taking connections, so that a "
        "load balancer sees it leave; calls it already took are finished either way.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Least severe log level written."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="Logs as one JSON object a line, or as plain text."
    )
    upkeep_interval: int = Field(
        3600,
        description="Seconds between upkeep runs (removing never-identified anonymous events "
        "older than each workspace's anonymous_retention_days).",
    )
    rate_limit: float = Field(
        0,
        ge=0,
        description="Calls per second each workspace may make through each door (Track API v1, "
        "v2, Segment, webhooks, App API, /api); beyond it a call is answered 429 with "
        "Retry-After and nothing of it stored. 0 (the default) turns rate limiting off. Each "
        "server process counts on its own.",
    )
    rate_limit_burst: int | None = Field(
        None,
        ge=1,
        description="Calls a workspace may make at once through one door before "
        "ROSTER_RATE_LIMIT applies (the token bucket's size). Default: one second's worth, "
        "ROSTER_RATE_LIMIT rounded up.",
    )
    noop_endpoint: bool = Field(
        False,
        description="Expose PUT /bench/noop/{id}: authenticates and parses like a Track call but "
        "writes nothing. `make bench` uses it to show what authentication and parsing cost.",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def tls(self) -> bool:
        return self.tls_self_signed or self.tls_cert is not None

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.tls else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"{scheme}://{host}:{self.port}"
