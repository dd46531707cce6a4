"""One Settings object, read from the environment and an optional `.env` file.

Development mode works with no configuration at all: the data directory defaults to `./data`, the
database to a SQLite file inside it, and a secret key is generated once and stored there. Production
mode (`CHATAPP_ENV=production`) refuses to start without a strong, explicit secret.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatapp.core.secret_strength import MAKE_ONE, weakness

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "please-change-me", "dev", "test"}
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to fix."""


class Settings(BaseSettings):
    """Every setting of the product. `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    chatapp_env: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    db_pool_size: int = Field(default=10, ge=1)
    qdrant_url: str = ""
    qdrant_api_key: str = ""
    qdrant_path: Path | None = None
    redis_url: str = ""
    secret_key: str = ""
    public_url: str = "http://localhost:3000"
    # Strict-Transport-Security max-age, sent only when PUBLIC_URL is https:// (0: never).
    hsts_seconds: int = Field(default=31_536_000, ge=0)
    # Logs: "text" or "json" (one object per line); empty: json in production, text otherwise.
    log_format: Literal["", "text", "json"] = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>` when set; without a token it
    # is refused (403) unless METRICS_PUBLIC=true (something else keeps it private).
    metrics_token: str = ""
    metrics_public: bool = False

    openai_base_url: str = ""
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"
    # Model for workspaces on the paid plan (empty: OPENAI_MODEL for every plan).
    openai_model_paid: str = ""
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    llm_attempts: int = Field(default=3, ge=1, le=10)  # tries before the first token
    llm_retry_base_seconds: float = Field(default=0.5, ge=0)  # backoff: base, 2x base, ...
    llm_max_tokens: int = Field(default=600, ge=16)
    # The model's context window in tokens: the prompt (passages, history) and max_tokens are
    # fitted into it. Per model or provider: a JSON object of model name or base URL -> tokens.
    llm_context_tokens: int = Field(default=8192, ge=512)
    llm_context_tokens_by_model: dict[str, int] = Field(default_factory=dict)
    # The follow-up rewrite (one extra LLM call before retrieval) gives up after this long.
    llm_rewrite_timeout_seconds: float = Field(default=3.0, gt=0)
    # Actions: tool calls the model may make per visitor message (0: actions are not offered).
    action_max_tool_calls: int = Field(default=3, ge=0, le=10)

    # Chat: message size, visitor limits (0 = no limit), context kept and passages retrieved.
    max_message_chars: int = Field(default=2000, ge=1)
    chat_session_per_minute: int = Field(default=10, ge=0)
    chat_ip_per_minute: int = Field(default=60, ge=0)
    chat_history_messages: int = Field(default=10, ge=0)
    chat_passages: int = Field(default=4, ge=1, le=20)
    # Reverse proxies in front of the app that append X-Forwarded-For (0: use the peer address).
    trusted_proxy_hops: int = Field(default=0, ge=0, le=5)
    # Live event streams (handoff): a comment this often keeps proxies from closing them, and
    # the stream re-reads its events then (so a lost notification delays, never loses, one).
    live_keepalive_seconds: float = Field(default=15.0, gt=0)

    default_message_limit: int = Field(default=1000, ge=0)
    max_upload_mb: float = Field(default=20.0, gt=0)
    bot_storage_limit_mb: float = Field(default=50.0, gt=0)
    # A bot file (export/import: settings, sources with their files, actions) is refused above this.
    bot_transfer_max_mb: float = Field(default=100.0, gt=0)
    max_text_chars: int = Field(default=50_000, ge=1)
    max_url_words: int = Field(default=10_000, ge=1)
    fetch_timeout_seconds: float = Field(default=10.0, gt=0)
    fetch_max_mb: float = Field(default=5.0, gt=0)
    crawl_max_pages: int = Field(default=50, ge=1)
    crawl_max_depth: int = Field(default=2, ge=0)
    # Lets URL sources reach loopback/private addresses: for tests and local development only.
    allow_private_urls: bool = False
    # Private networks (CIDR, comma-separated) that URL sources, actions and LLM providers may
    # reach although ALLOW_PRIVATE_URLS is off: e.g. "10.20.0.0/16" for an intranet wiki.
    private_url_networks: str = ""
    # Run the background ingest worker inside the web process (tests drive it synchronously).
    ingest_worker: bool = True
    # A source "processing" without a heartbeat for this long is re-queued (its worker died).
    ingest_stale_seconds: float = Field(default=120.0, gt=0)

    # Embeddings: "local" (MiniLM shipped in a package, offline) or "openai" (any compatible API).
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str = "text-embedding-3-small"
    embedding_dimensions: int | None = Field(default=None, ge=1)
    embedding_timeout_seconds: float | None = Field(default=None, gt=0)
    session_hours: int = Field(default=12, ge=1)
    remember_me_days: int = Field(default=7, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # argon2id cost: the defaults are passlib's (64 MiB, 3 passes); lower only for tests.
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_rounds: int = Field(default=3, ge=1)
    # Team invitations: how long a link works. With SMTP_HOST set, a link made for an email is
    # also sent there (STARTTLS unless SMTP_STARTTLS=false; login when SMTP_USER is set).
    invite_ttl_hours: int = Field(default=168, ge=1, le=24 * 90)
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("private_url_networks")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"PRIVATE_URL_NETWORKS: {item!r} is not a network") from exc
        return value

    @property
    def private_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """PRIVATE_URL_NETWORKS parsed (checked when the settings load)."""
        parts = (part.strip() for part in self.private_url_networks.split(","))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'chatapp.db').as_posix()}"
        if self.qdrant_path is None:
            self.qdrant_path = self.data_dir / "qdrant"
        return self

    @property
    def is_production(self) -> bool:
        return self.chatapp_env == "production"

    @property
    def log_format_used(self) -> str:
        return self.log_format or ("json" if self.is_production else "text")

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def hsts_max_age(self) -> int:
        return self.hsts_seconds if self.cookie_secure else 0

    def validate_secrets(self) -> None:
        """Refuse weak or placeholder secrets in production (SECRET_KEY, and METRICS_TOKEN when
        set): too short, or too little randomness (`secret_strength`); explain how to make one."""
        if not self.is_production:
            return
        key = self.secret_key.strip()
        if key.lower() in PLACEHOLDER_SECRETS:
            raise ConfigError(
                "SECRET_KEY is missing or a placeholder: set it to at least "
                f"{MIN_SECRET_LENGTH} random characters, e.g. the output of {MAKE_ONE}."
            )
        for name, value in (("SECRET_KEY", key), ("METRICS_TOKEN", self.metrics_token.strip())):
            if name == "SECRET_KEY" or value:
                problem = weakness(name, value, min_length=MIN_SECRET_LENGTH)
                if problem:
                    raise ConfigError(problem)


def _ensure_dev_secret(settings: Settings) -> None:
    """Development mode: generate a secret once and keep it in the data directory."""
    if settings.secret_key or settings.is_production:
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = settings.data_dir / "secret_key"
    if not key_file.exists():
        # Several workers may start at once: each writes a whole candidate, and the first hard
        # link wins (a link never overwrites), so nobody reads a half-written or second key.
        candidate = settings.data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(candidate, key_file)
        except FileExistsError:
            pass  # another worker's key is the one
        finally:
            candidate.unlink()
    settings.secret_key = key_file.read_text().strip()


def read_settings(**overrides) -> Settings:
    """Checked settings that write nothing: no development secret is made in DATA_DIR (a
    restore must find the folder as the operator left it, e.g. removed)."""
    settings = Settings(**overrides)
    settings.validate_secrets()
    return settings


def load_settings(**overrides) -> Settings:
    """Build and check settings (overrides are for tests and the CLI)."""
    settings = read_settings(**overrides)
    _ensure_dev_secret(settings)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; `reset_settings()` drops the cache (tests)."""
    return load_settings()


def reset_settings() -> None:
    get_settings.cache_clear()
