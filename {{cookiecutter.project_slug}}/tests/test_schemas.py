"""schemas.py: the name's pattern, as JSON Schema validators read it, and the service's own
check agree on every name."""

from __future__ import annotations

import re

import pytest

from {{ cookiecutter.package_name }}.schemas import NAME_PATTERN, NUL, WHITESPACE, stripped

# Python's re reads the pattern's \u escapes and character classes as ECMA-262 does.
ODD = [NUL, "\x1c", "\x85", "\u200b", "a", "é"]
NAMES = {c * n for c in [*WHITESPACE, *ODD] for n in (1, 2)} | {
    f"{a}{b}" for a in [" ", NUL, "a"] for b in [*WHITESPACE, *ODD]
}


def admitted(name: str) -> bool:
    """Whether the service takes the name."""
    try:
        stripped(name)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(NAMES), ids=ascii)
def test_the_document_and_the_service_agree(name: str) -> None:
    assert bool(re.search(NAME_PATTERN, name)) is admitted(name)


def test_a_name_is_stored_without_surrounding_space() -> None:
    assert stripped("\u3000 x y\ufeff\n") == "x y"


@pytest.mark.parametrize(("name", "rule"), [("a\x00b", "NUL"), (" \t", "blank")])
def test_a_refusal_names_the_rule_broken(name: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        stripped(name)
