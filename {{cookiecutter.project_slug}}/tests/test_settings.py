"""Settings: defaults, validation failures naming the variable, production's demands, and the
README's configuration table, which must list every setting with its default and meaning."""

from __future__ import annotations

import re

import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import ConfigError, Settings

from .servers import PROJECT

SECRET = "x" * 40


def test_defaults_outside_production() -> None:
    settings = Settings.from_env({"APP_ENV": "development"})
    assert settings.LOG_LEVEL == "INFO"
    assert settings.MAX_CONTENT_LENGTH == 1024 * 1024
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert len(settings.SECRET_KEY) == 64  # a random one is made outside production


@pytest.mark.parametrize("secret", ["", "change-me", "secret", "short", " " * 48, "x" * 31])
def test_production_refuses_placeholder_secrets(secret: str) -> None:
    settings = Settings.from_env({"SECRET_KEY": secret, "DATABASE_URL": "sqlite://"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        settings.require_secret_key()


def test_production_accepts_a_real_secret() -> None:
    settings = Settings.from_env({"SECRET_KEY": SECRET, "DATABASE_URL": "sqlite://"})
    settings.require_secret_key()
    assert settings.SECRET_KEY == SECRET


def test_the_app_refuses_debug_in_production() -> None:
    config = {"APP_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": "sqlite://"}
    with pytest.raises(ConfigError, match="DEBUG"):
        create_app({**config, "DEBUG": True})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"APP_ENV": "staging"}, "APP_ENV: Input should be 'production', "),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: "),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: "),
        ({"MAX_CONTENT_LENGTH": "1MB"}, "MAX_CONTENT_LENGTH: Input should be a valid integer"),
        ({"MAX_CONTENT_LENGTH": "0"}, "MAX_CONTENT_LENGTH: Input should be greater than or"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT: "),
        ({"PORT": "70000"}, "PORT: Input should be less than or equal to 65535, got '70000'"),
        ({"API_DOCS": "maybe"}, "API_DOCS: "),
        ({"PORT": "9464"}, "METRICS_PORT must differ from PORT"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"APP_ENV": "development", **environ})
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_blank_means_unset_and_words_are_read_in_any_case() -> None:
    settings = Settings.from_env({"APP_ENV": " Development ", "LOG_LEVEL": "debug", "PORT": ""})
    assert (settings.APP_ENV, settings.LOG_LEVEL) == ("development", "DEBUG")
    assert Settings.model_fields["PORT"].default == settings.PORT


def test_given_values_win_over_the_environment() -> None:
    assert Settings.from_env({"APP_ENV": "production"}, APP_ENV="testing").APP_ENV == "testing"


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
    assert expected == Settings.from_env(environ).LOG_FORMAT


# | `NAME` | default | meaning |
ROW = re.compile(r"^\| `(?P<name>[A-Z_]+)` \| (?P<default>.*?) \| (?P<meaning>.*) \|$", re.M)


def test_the_readme_table_lists_every_setting_with_its_default_and_meaning() -> None:
    section = (PROJECT / "README.md").read_text().split("## Configuration", 1)[1]
    table = {m["name"]: m for m in ROW.finditer(section.split("\n## ", 1)[0])}
    for name, field in Settings.model_fields.items():
        assert name in table, f"README's configuration table has no row for {name}"
        default = "unset" if field.default in (None, "") else f"`{field.default}`"
        default = default.replace("`True`", "`1`").replace("`False`", "`0`")
        assert table[name]["default"] == default, name
        assert table[name]["meaning"] == field.description, name
