"""Settings read from the environment and validated once at start-up, so a bad value fails fast."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

DEFAULT_PORT = {{ cookiecutter.http_port }}
DEFAULT_METRICS_PORT = 9464  # the port OpenTelemetry's Prometheus exporter uses
ENVIRONMENTS = ("production", "development", "testing")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")
MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "dev", "development", "test"}
)


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names the variable."""


def env_str(environ: Mapping[str, str], name: str, default: str) -> str:
    """A string variable; unset or blank means the default."""
    value = environ.get(name, "").strip()
    return value or default


def env_int(
    environ: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int = 2**31
) -> int:
    """An integer variable within [minimum, maximum]."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_choice(
    environ: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]
) -> str:
    """A variable that must be one of a few words (case-insensitive)."""
    value = env_str(environ, name, default)
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def env_flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """A yes/no variable: 1 or 0 (true/false, yes/no, on/off also read)."""
    value = env_str(environ, name, "1" if default else "0").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {value!r}")


def metrics_port(environ: Mapping[str, str]) -> int:
    """METRICS_PORT: where gunicorn serves /metrics (0: no metrics); never the API's PORT."""
    port = env_int(environ, "METRICS_PORT", DEFAULT_METRICS_PORT, maximum=65535)
    if port and port == env_int(environ, "PORT", DEFAULT_PORT, minimum=1, maximum=65535):
        raise ConfigError(f"METRICS_PORT must differ from PORT ({port}): /metrics is not public")
    return port


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """Whether the OTEL_* variables the OpenTelemetry SDK reads ask for traces (tracing.py)."""
    exporters = ("otlp", "console", "none")
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter and exporter not in exporters:
        raise ConfigError(f"OTEL_TRACES_EXPORTER must be one of {', '.join(exporters)}")
    if exporter:
        return exporter != "none"
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return any(environ.get(name, "").strip() for name in endpoints)


def log_format(environ: Mapping[str, str]) -> str:
    """LOG_FORMAT: readable text by default in development, JSON lines everywhere else."""
    development = env_choice(environ, "APP_ENV", "production", ENVIRONMENTS) == "development"
    return env_choice(environ, "LOG_FORMAT", "text" if development else "json", LOG_FORMATS)


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the Flask config from the environment plus explicit overrides, then validate it."""
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {
        "APP_ENV": env_choice(env, "APP_ENV", "production", ENVIRONMENTS),
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "LOG_LEVEL": env_choice(env, "LOG_LEVEL", "INFO", LOG_LEVELS),
        "MAX_CONTENT_LENGTH": env_int(env, "MAX_CONTENT_LENGTH", 1024 * 1024, minimum=1),
        "TRUSTED_PROXY_COUNT": env_int(env, "TRUSTED_PROXY_COUNT", 0, maximum=10),
        "METRICS_PORT": metrics_port(env),
        "TRACING": tracing_requested(env),
        "DEBUG": False,
    }
    settings.update(overrides or {})
    settings.setdefault("LOG_FORMAT", log_format({**env, "APP_ENV": settings["APP_ENV"]}))
    settings["TESTING"] = settings["APP_ENV"] == "testing"
    production = settings["APP_ENV"] == "production"
    # The contract and its docs describe the whole surface: published in production by choice.
    settings.setdefault("API_DOCS", env_flag(env, "API_DOCS", default=not production))
    secret = settings["SECRET_KEY"].strip()
    if secret in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        if production:
            raise ConfigError(
                f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters "
                "in production "
                '(python -c "import secrets; print(secrets.token_hex(32))")'
            )
        settings["SECRET_KEY"] = secrets.token_hex(32)
    if production and settings["DEBUG"]:
        raise ConfigError("DEBUG cannot be enabled when APP_ENV is production")
    return settings
