"""Configuration: defaults, validation failures naming the variable, production's demands."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.config import (
    ConfigError,
    env_choice,
    env_int,
    load_settings,
)

SECRET = "x" * 40


def test_defaults_outside_production() -> None:
    settings = load_settings({"APP_ENV": "development"})
    assert settings["APP_ENV"] == "development"
    assert settings["LOG_LEVEL"] == "INFO"
    assert settings["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert settings["TRUSTED_PROXY_COUNT"] == 0
    assert settings["DEBUG"] is False
    assert len(settings["SECRET_KEY"]) == 64  # a random one is made for development


def test_production_is_the_default_and_needs_a_secret() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({})


@pytest.mark.parametrize("secret", ["", "change-me", "secret", "short"])
def test_production_refuses_placeholder_secrets(secret: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"APP_ENV": "production", "SECRET_KEY": secret})


def test_production_accepts_a_real_secret() -> None:
    settings = load_settings({"SECRET_KEY": SECRET})
    assert settings["SECRET_KEY"] == SECRET
    assert settings["TESTING"] is False


def test_production_refuses_debug() -> None:
    with pytest.raises(ConfigError, match="DEBUG"):
        load_settings({"SECRET_KEY": SECRET}, {"DEBUG": True})


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"APP_ENV": "development", "LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"APP_ENV": "development", "LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"APP_ENV": "development", "MAX_CONTENT_LENGTH": "1MB"}, "MAX_CONTENT_LENGTH"),
        ({"APP_ENV": "development", "MAX_CONTENT_LENGTH": "0"}, "MAX_CONTENT_LENGTH"),
        ({"APP_ENV": "development", "TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ)


def test_overrides_win_over_the_environment() -> None:
    settings = load_settings({"APP_ENV": "production"}, {"APP_ENV": "testing"})
    assert settings["TESTING"] is True


def test_env_helpers() -> None:
    assert env_int({"N": " 7 "}, "N", 1) == 7
    assert env_int({"N": ""}, "N", 1) == 1
    assert env_choice({"L": "debug"}, "L", "INFO", ("DEBUG", "INFO")) == "DEBUG"
    with pytest.raises(ConfigError, match="N must be between 1 and 5, got 9"):
        env_int({"N": "9"}, "N", 1, minimum=1, maximum=5)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"APP_ENV": "development"}, "text"),
        ({"APP_ENV": "testing"}, "json"),
        ({"APP_ENV": "development", "LOG_FORMAT": "JSON"}, "json"),
        ({"APP_ENV": "testing", "LOG_FORMAT": "text"}, "text"),
    ],
)
def test_log_format_is_text_in_development_and_json_elsewhere(
    environ: dict[str, str], expected: str
) -> None:
    assert load_settings(environ)["LOG_FORMAT"] == expected


def test_an_app_env_override_picks_its_log_format() -> None:
    assert load_settings({}, {"APP_ENV": "development"})["LOG_FORMAT"] == "text"
