"""The one place that reads the environment.

Every variable carries the ``APP_`` prefix (see ``.env.example``). Tests build
``Settings(...)`` directly instead of touching the environment.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_KEY_FILE = "secret.key"
SUPPORTED_DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
DATABASE_URL_EXAMPLES = "use sqlite+aiosqlite:///./var/saleor-ops.db or postgresql+asyncpg://user:pass@host/db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/saleor-ops.db"
    public_url: str = "http://localhost:8000"
    allowed_saleor_urls: str = Field(
        default="",
        description="Comma-separated patterns ('*' wildcard) of Saleor API URLs allowed to install.",
    )
    dashboard_origins: str = Field(
        default="",
        description="Comma-separated origins of Saleor dashboards that may frame the app's pages, besides "
        "each installed store's own origin (e.g. a dashboard hosted apart from its API).",
    )
    secret_key: SecretStr | None = None
    data_dir: Path = Path("./var")
    log_level: str = "INFO"
    log_json: bool = True

    # Outbound calls to Saleor. The dispatcher makes one attempt per try and retries on its own
    # schedule (app.domain.pipeline); calls a person waits for (dashboard reads) retry here.
    saleor_timeout_seconds: float = 5.0
    saleor_max_attempts: int = 3
    saleor_backoff_seconds: float = 0.3
    # A flood of badly signed webhooks may make us fetch a store's JWKS at most
    # once per this many seconds.
    jwks_refetch_interval_seconds: float = 30.0
    # How long a web process trusts the installation it read for a store's webhooks (app.db's
    # RecentInstallations says what a stale one can and cannot do).
    installation_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # The pipeline: whether `serve` runs a worker in its own process (`--no-worker` turns it off
    # where `saleor-ops worker` processes do the work), and how many deliveries and effects a worker
    # handles at once (on SQLite, one: the database has one writer).
    worker_in_process: bool = True
    worker_concurrency: int = Field(default=8, ge=1, le=256)
    worker_poll_seconds: float = Field(default=0.05, gt=0, le=60)
    # Days a store's records are kept after Saleor says the app was deleted (APP_DELETED): a reinstall
    # within them restores everything, and `saleor-ops export-store` can still export it.
    uninstalled_grace_days: int = Field(default=30, ge=0, le=3650)
    # An effect claimed by a dispatcher that has not reported within this many seconds is sent again
    # (its process died mid-call): longer than a call to Saleor may take, so a live one is never doubled.
    worker_lease_seconds: float = Field(default=60, gt=0)

    @field_validator("database_url")
    @classmethod
    def _a_supported_database(cls, value: str) -> str:
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            driver = None
        if driver not in SUPPORTED_DATABASE_DRIVERS:
            raise ValueError(f"{value!r} is not a database URL this app can use; {DATABASE_URL_EXAMPLES}")
        return value

    @field_validator("worker_lease_seconds")
    @classmethod
    def _longer_than_a_call(cls, value: float, info: ValidationInfo) -> float:
        timeout = info.data.get("saleor_timeout_seconds")
        if timeout is not None and value <= timeout:
            raise ValueError(
                f"{value:g} s is no longer than a call to Saleor may take (APP_SALEOR_TIMEOUT_SECONDS={timeout:g}); "
                "a dispatcher still waiting for its answer would see its effect sent a second time"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                f"{value!r} is not the http(s) URL Saleor reaches the app at, e.g. https://ops.example.com"
            )
        return value.strip().rstrip("/")

    @field_validator("allowed_saleor_urls")
    @classmethod
    def _url_patterns(cls, value: str) -> str:
        for pattern in (p.strip() for p in value.split(",")):
            if pattern and not re.fullmatch(r"https?://[^/]+/.*", pattern):
                raise ValueError(
                    f"{pattern!r} is not a Saleor API URL pattern, e.g. https://*.saleor.cloud/graphql/ "
                    "(leave the variable empty to allow any store)"
                )
        return value

    @property
    def allowed_saleor_url_patterns(self) -> list[str]:
        return [p.strip() for p in self.allowed_saleor_urls.split(",") if p.strip()]

    @property
    def dashboard_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.dashboard_origins.split(",") if o.strip()]

    def resolve_secret_key(self) -> str:
        """The key that encrypts tokens at rest; generated into the data folder once."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


def describe_invalid_settings(error: ValidationError) -> str:
    """One line naming each bad variable, what it holds and what it should be."""
    problems = []
    for item in error.errors():
        variable = "APP_" + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] != "value_error":
            message = f"{message} (it is {item['input']!r})"
        problems.append(f"{variable}: {message}")
    return "; ".join(problems)


def set_for_child_processes(**settings: str) -> None:
    """Settings for the processes this one starts: uvicorn's web processes read theirs from the environment."""
    for name, value in settings.items():
        os.environ[f"APP_{name.upper()}"] = value
