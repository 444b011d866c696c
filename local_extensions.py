"""The answers' check, run while cookiecutter renders them (cookiecutter.json's __answers).

A failing hook script is logged by cookiecutter with its own 12-line traceback after the hook's
message; an exception raised here reaches its command line as the one line it prints. The rules
are the pre-generation hook's, which still checks every bake (a replay renders nothing here).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from cookiecutter.exceptions import FailedHookException
from cookiecutter.utils import simple_filter

HOOK = Path(__file__).resolve().parent / "hooks" / "pre_gen_project.py"


class InvalidAnswer(FailedHookException):
    """A bad answer; cookiecutter's command line prints it alone and exits 1."""


def hook() -> ModuleType:
    """hooks/pre_gen_project.py as a module (its Jinja sits inside a string)."""
    spec = importlib.util.spec_from_file_location("pre_gen_project", HOOK)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@simple_filter
def checked_answers(answers: Mapping[str, object]) -> str:
    """Raise the first bad answer's message; render as nothing when every answer is good."""
    rules = hook()
    if not all(field in answers for field in rules.CHECKS):
        return ""  # a replay asks for no answers; the hook checks the replayed ones
    errors = rules.validate(answers)
    if errors:
        raise InvalidAnswer(errors[0])
    return ""
