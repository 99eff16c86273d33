"""The one place that reads the environment.

Every variable carries the ``APP_`` prefix (see ``.env.example``). Tests build
``Settings(...)`` directly instead of touching the environment.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret.key"


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

    # Outbound calls to Saleor: a webhook handled inline must answer well within
    # Saleor's 18 s read timeout, so the whole retry budget stays a few seconds.
    saleor_timeout_seconds: float = 5.0
    saleor_max_attempts: int = 3
    saleor_backoff_seconds: float = 0.3
    # A flood of badly signed webhooks may make us fetch a store's JWKS at most
    # once per this many seconds.
    jwks_refetch_interval_seconds: float = 30.0

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

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
