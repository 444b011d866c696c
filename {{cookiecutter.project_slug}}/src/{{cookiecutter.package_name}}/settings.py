"""Every environment variable the service reads, declared once with its type, default, bounds
and meaning (the README's table), and read once per process: a bad value stops it in one line."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.functional_validators import BeforeValidator

from .fields import KEY, Lower, Upper, one_line, setting, weak

DEFAULT_PORT = {{ cookiecutter.http_port }}


class ConfigError(ValueError):
    """A variable is malformed or missing; the message starts with its name."""


def _database_url(value: object) -> object:
    """postgres URLs mean psycopg 3 (not SQLAlchemy's psycopg2 default); others are refused."""
    if not isinstance(value, str) or not value:
        return value
    scheme, _, rest = value.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme not in ("postgresql+psycopg", "sqlite"):
        raise ValueError(f"must start with postgresql:// or sqlite://, got {scheme!r}")
    return value


DatabaseURL = Annotated[str, BeforeValidator(_database_url)]


class Settings(BaseModel):
    """The settings; each description is the README's "meaning"."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    APP_ENV: Annotated[Literal["production", "development", "testing"], Lower] = setting(
        "production", "`production`, `development` or `testing`"
    )
    SECRET_KEY: str = setting("", "required in production: 32+ random characters")
    LOG_LEVEL: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], Upper] = setting(
        "INFO", "the root logger's level"
    )
    LOG_FORMAT: Annotated[Literal["json", "text"] | None, Lower] = setting(
        None, "`json` lines or readable `text`; unset: `text` in development"
    )
    NO_COLOR: str = setting("", "set to anything: text logs are never coloured")
    LOG_PROBES: bool | None = setting(None, "`1`: log health probes that pass (probe.py, kubelet)")
    MAX_CONTENT_LENGTH: int = setting(1024 * 1024, "largest request body in bytes", ge=1)
    TRUSTED_PROXY_COUNT: int = setting(0, "proxies whose X-Forwarded-* are believed", le=10)
    API_DOCS: bool | None = setting(None, "serve /openapi.json and /docs; unset: not in production")
    HOST: str | None = setting(None, "bind address; unset: 0.0.0.0 (dev server: 127.0.0.1)")
    PORT: int = setting(DEFAULT_PORT, "the API's port", ge=1, le=65535)
    METRICS_PORT: int = setting(9464, "gunicorn's /metrics port; 0: no metrics", le=65535)
    PROMETHEUS_MULTIPROC_DIR: str | None = setting(None, "unset: /dev/shm/metrics-<PORT>")
    OTEL_TRACES_EXPORTER: Annotated[Literal["otlp", "console", "none"] | None, Lower] = setting(
        None, "`otlp` or `console` turns tracing on, `none` keeps it off"
    )
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = setting(None, "an OTLP/HTTP collector: tracing on")
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: str | None = setting(None, "the same, for traces only")
    OTEL_SERVICE_NAME: str | None = setting(None, "the traces' service name")
    OIDC_ISSUER: str = setting("", "the access tokens' issuer (OpenID discovery); unset: no API")
    OIDC_AUDIENCE: str = setting("", "the `aud` a token must carry; required with OIDC_ISSUER")
    OIDC_LEEWAY: int = setting(30, "seconds of clock skew allowed on exp, nbf and iat", le=300)
    OIDC_KEYS_REFRESH: int = setting(60, "least seconds between fetches of the key set", ge=1)
    AUTH_DISABLED: bool = setting(False, "1: no token checks (tests; a gateway checks them)")
    WEB_CONCURRENCY: int | None = setting(None, "gunicorn workers; unset: 2 x usable CPUs", ge=1)
    GUNICORN_THREADS: int = setting(4, "threads per worker", ge=1, le=64)
    GUNICORN_TIMEOUT: int = setting(30, "seconds before a silent worker restarts", ge=1)
    GUNICORN_GRACEFUL_TIMEOUT: int = setting(20, "seconds in-flight requests get to end", ge=1)
    GUNICORN_KEEPALIVE: int = setting(5, "seconds an idle connection is kept")
    GUNICORN_QUEUE_TIMEOUT_MS: int = setting(500, "ms a request may wait for a thread, then 503")
    GUNICORN_MAX_REQUESTS: int = setting(10_000, "recycle a worker after this many requests")
    GUNICORN_MAX_REQUESTS_JITTER: int = setting(1_000, "random extra, so workers recycle apart")
    FORWARDED_ALLOW_IPS: str = setting("127.0.0.1,::1", "whom gunicorn trusts for the scheme")
    RELOADER: Literal["watchdog", "stat"] | None = setting(None, "unset: watchdog if installed")
    DEV_URL: str | None = setting(None, "the dev server's address as printed (compose's)")
    DATABASE_URL: DatabaseURL = setting("", "postgresql:// or sqlite:///; unset: instance/")
    TEST_DATABASE_URL: DatabaseURL = setting("", "the tests' database; unset: SQLite in memory")
    DATABASE_POOL_SIZE: int = setting(0, "connections per worker; 0: GUNICORN_THREADS")
    DATABASE_TIMEOUT: int = setting(5, "seconds a request waits on the database: then 503", ge=1)
    DATABASE_CONNECT_TIMEOUT: int = setting(3, "seconds to connect or to get a connection", ge=2)
    DATABASE_STATEMENT_TIMEOUT_MS: int = setting(5000, "PostgreSQL's statement_timeout", ge=1)
    IDEMPOTENCY_KEY_TTL: int = setting(86_400, "seconds a POST's Idempotency-Key is kept", ge=1)

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        """Defaults that depend on other settings, and the rules that span several."""
        production = self.APP_ENV == "production"
        self.LOG_FORMAT = self.LOG_FORMAT or ("text" if self.APP_ENV == "development" else "json")
        self.API_DOCS = not production if self.API_DOCS is None else self.API_DOCS
        if self.METRICS_PORT == self.PORT:
            raise ValueError(f"METRICS_PORT must differ from PORT ({self.PORT}): it is private")
        if weak(self.SECRET_KEY) and not production:
            self.SECRET_KEY = secrets.token_hex(32)  # sessions and cursors last one process
        if self.APP_ENV == "testing":  # tests never touch the database the shell points at
            self.DATABASE_URL = self.DATABASE_URL or self.TEST_DATABASE_URL or "sqlite://"
        elif not self.DATABASE_URL:
            if production:
                raise ValueError("DATABASE_URL must be set in production")
            self.DATABASE_URL = "sqlite:///instance/app.sqlite3"
        self.DATABASE_POOL_SIZE = self.DATABASE_POOL_SIZE or self.GUNICORN_THREADS
        return self

    def require_secret_key(self) -> None:
        """The web app signs with SECRET_KEY; migrations and probes need none."""
        if self.APP_ENV == "production" and weak(self.SECRET_KEY):
            raise ConfigError(f"SECRET_KEY must be 32+ random characters in production: {KEY}")

    @property
    def tracing(self) -> bool:
        """Whether OTEL_* asks for traces (the SDK reads its other variables itself)."""
        if self.OTEL_TRACES_EXPORTER:
            return self.OTEL_TRACES_EXPORTER != "none"
        return bool(self.OTEL_EXPORTER_OTLP_ENDPOINT or self.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Settings:
        """Read the environment (blank means unset); `given` values win (tests, the dev server)."""
        env = os.environ if environ is None else environ
        raw = {name: value for name in cls.model_fields if (value := env.get(name, "").strip())}
        if str(given.get("APP_ENV", raw.get("APP_ENV", ""))).lower() == "testing":
            raw.pop("DATABASE_URL", None)  # TEST_DATABASE_URL stands in for the shell's
        try:
            return cls.model_validate({**raw, **given})
        except ValidationError as error:
            raise ConfigError(one_line(error)) from None


@cache
def current() -> Settings:
    """This process's settings, read from the environment on first use."""
    return Settings.from_env()
