"""Typed settings, read from ``DASHBOARD_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split(value: object) -> object:
    """Comma-separated text to a list of stripped, non-empty items."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def default_static_cache() -> Path:
    """``$XDG_CACHE_HOME/dashboard/static`` (else ``~/.cache``): one per user, not per node."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dashboard" / "static"


class Settings(BaseSettings):
    """Every setting of a node; see ``.env.example`` and the README's table."""

    model_config = SettingsConfigDict(
        env_prefix="DASHBOARD_", env_file=".env", extra="ignore", frozen=False
    )

    data_dir: Path = Path("./data")
    database_url: str = ""
    redis_url: str = ""
    secret_key: SecretStr | None = None
    admin_user: str = "admin"
    admin_password: SecretStr | None = None
    ingest_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # bearer tokens that may only read, through /prometheus/api/v1 (Grafana); never ingest
    read_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)
    demo: bool = False
    # with the demo: its alert rule (on a first start) and an error spike 15 s into the live feed
    # that fires it, so a newcomer sees the toast, the sound and the alerts panel at work
    demo_alert: bool = True
    demo_backfill_step_s: int = 10
    poll_targets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    poll_interval: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8050
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch_points: int = 50_000
    max_point_age_s: int = 86_400
    max_future_skew_s: int = 300
    # OTLP resource attributes made labels besides service.name/service.instance.id (job, instance)
    otlp_promote_attributes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # the database store seals its head (recent points, a row each) into compressed chunks
    seal_interval_s: float = Field(default=60.0, gt=0)
    # days of raw points PostgreSQL keeps (each day's 5m/1h/1d buckets outlive it)
    raw_retention_days: int = Field(default=1, ge=1, le=3650)
    # the hot store's budget per web node; series read least recently leave first
    hot_memory_mb: int = Field(default=512, ge=16)
    # series a node lets exist; a batch that would create more is refused (0: no limit)
    max_series: int = Field(default=50_000, ge=0)
    # PromQL (/prometheus/api/v1): samples one query may read, and its seconds of work
    query_max_samples: int = Field(default=50_000_000, ge=1)
    query_timeout_s: float = Field(default=30.0, gt=0)
    live_window_ms: int = 50
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    access_token_minutes: int = 15
    refresh_token_hours: int = 12
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    trusted_proxies: int = 0
    ratelimit_prefix: str = "dashboard"
    login_rate_limit: str = "5 per minute"
    login_ip_rate_limit: str = "30 per minute"
    ingest_rate_limit: str = "100 per second"
    api_rate_limit: str = "1200 per minute"
    metrics_public: bool = False
    redis_prefix: str = "dashboard"
    bus_max_lag: int = 200_000
    bus_claim_idle_ms: int = 30_000
    persist_in_web: bool = True
    alert_webhook: str = ""
    webhook_allow_private: bool = False
    chromium_path: str = ""
    render_processes: int = 1
    # brotli-11 bodies of the static files, written by `dashboard build-assets`, read by every node
    static_cache: Path = Field(default_factory=default_static_cache)

    @field_validator("cors_allowed_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        """Refuse ``*``: a signed-in user's cookie must never work from any site."""
        if any(o.strip() == "*" for o in value):
            raise ValueError("'*' is not allowed; list the origins that may connect")
        return value

    @field_validator(
        "ingest_tokens",
        "read_tokens",
        "poll_targets",
        "cors_allowed_origins",
        "otlp_promote_attributes",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """Accept comma-separated text for list settings."""
        return _split(value)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dashboard.db').as_posix()}"
