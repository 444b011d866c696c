"""Whole-file variants that only leave something out: the stateless bake's factory and settings
are the default files without their database lines, so a change made to one cannot silently
miss the other."""

from __future__ import annotations

import pytest

from .helpers import TEMPLATE

PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
PACKAGE = "src/{{cookiecutter.package_name}}"
SUBSETS = [
    f"{PACKAGE}/app.py",
    f"{PACKAGE}/settings.py",
]


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    """Whether `part` is `whole` with some lines removed (order kept)."""
    remaining = iter(whole)
    return all(line in remaining for line in part)


@pytest.mark.parametrize("relative", SUBSETS)
def test_the_stateless_variant_is_the_default_less_its_database_lines(relative: str) -> None:
    default = (PROJECT / relative).read_text().splitlines()
    variant = (PROJECT / "_variants" / "database-none" / relative).read_text().splitlines()
    assert variant != default
    assert is_subsequence(variant, default), f"{relative}: the variant has lines of its own"
