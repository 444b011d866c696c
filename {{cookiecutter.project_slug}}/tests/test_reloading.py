"""The dev server's reload machinery in-process: what the first process preloads, and how
werkzeug's lines are shown (the real server on a terminal: tests/test_main_terminal.py)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import reloading
from {{ cookiecutter.package_name }}.log import TextFormatter

from .servers import PACKAGE_DIR, copy_project

CHANGE = " * Detected change in '/src/app.py', reloading"


def shown(*messages: str) -> list[str]:
    """What a werkzeug logger with DevServerLines shows of `messages` through the formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter(colour=True))
    logger = logging.Logger("werkzeug")
    logger.addHandler(handler)
    logger.addFilter(reloading.DevServerLines())
    for message in messages:
        logger.info(message)
    return stream.getvalue().splitlines()


def test_one_reload_line_per_child_however_many_events() -> None:
    lines = shown(CHANGE, CHANGE, CHANGE.replace("app", "db"))
    assert len(lines) == 1
    assert lines[0].endswith(CHANGE)


def test_werkzeug_styles_are_dropped_not_escaped() -> None:
    (line,) = shown('127.0.0.1 - - "\x1b[33mGET /missing HTTP/1.1\x1b[0m" 404 -')
    assert line.endswith('127.0.0.1 - - "GET /missing HTTP/1.1" 404 -')
    assert "\\u001b" not in line
    assert line.count("\x1b[") == 2  # the level's colour only


def test_other_control_bytes_are_still_escaped() -> None:
    (line,) = shown("GET /a\x1b]0;title\x07 HTTP/1.1")  # not a style: a forged terminal title
    assert "\\u001b]0;title\\u0007" in line


def test_the_first_process_preloads_libraries_never_the_package() -> None:
    names = reloading.libraries(PACKAGE_DIR)
    assert {"flask", "pydantic"} <= set(names)
    assert not [name for name in names if name.split(".")[0] == PACKAGE_DIR.name]
    assert "opentelemetry" not in {name.split(".")[0] for name in names}  # imported lazily


def test_module_imports_reads_top_level_statements_only() -> None:
    source = (
        "from __future__ import annotations\nimport os.path\nfrom typing import TYPE_CHECKING\n"
        "from . import sibling\nif TYPE_CHECKING:\n    import lazy_typing\n"
        "def f():\n    import lazy_call\n"
    )
    assert reloading.module_imports(source) == {"os.path", "typing"}


@pytest.mark.server  # a fresh interpreter
def test_preloading_builds_the_libraries_deferred_models() -> None:
    code = (
        f"from {PACKAGE_DIR.name} import reloading\n"
        "from flask_openapi3.models import APISpec\n"
        "assert not APISpec.__pydantic_complete__\n"  # flask-openapi3 defers it to first use
        "reloading.preload(['flask_openapi3'])\n"
        "assert APISpec.__pydantic_complete__\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


def test_a_child_reports_the_libraries_it_imported_never_the_source() -> None:
    inherited = set(sys.modules) - {"json", "logging"}
    names = reloading.learned(inherited).decode().split("\n")
    assert {"json", "logging"} <= set(names)
    assert reloading.PACKAGE not in names  # its modules are under the source directory
    assert not [name for name in names if name.startswith(f"{reloading.PACKAGE}.")]
    assert reloading.learned(set(sys.modules)) == b""


def test_a_report_is_whole_names_within_its_limit() -> None:
    inherited = set(sys.modules) - {"json", "logging", "os"}
    whole = reloading.learned(inherited).split(b"\n")
    cut = reloading.learned(inherited, limit=len(whole[0]) + len(whole[1]) + 3)
    assert cut.split(b"\n") == whole[:2]


@pytest.mark.server  # forks, in a fresh interpreter
def test_the_next_child_inherits_what_the_last_one_imported(tmp_path: Path) -> None:
    # The real fork loop and pipe; the children, instead of serving, import a library module
    # (the first child) or find it already imported when forked (the next), then exit.
    code = (
        "import os, sys\n"
        f"from {PACKAGE_DIR.name} import reloading\n"
        "def child(tell):\n"
        f"    with open({str(tmp_path / 'children')!r}, 'a') as f: f.write('x')\n"
        "    if 'colorsys' in sys.modules: return 0\n"
        "    inherited = set(sys.modules)\n"
        "    import colorsys\n"
        "    os.write(tell, reloading.learned(inherited))\n"
        "    return reloading.RELOAD if os.path.getsize(f.name) < 3 else 1\n"
        "reloading.run_child = child\n"
        "class Loop: name = 'test'\n"
        "assert 'colorsys' not in sys.modules\n"
        "sys.exit(reloading.restart_by_fork(Loop()))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], env=env, timeout=60, check=False)
    assert (tmp_path / "children").read_text() == "xx"  # the second child was forked with it
    assert result.returncode == 0


@pytest.mark.server  # fresh interpreters
def test_a_file_saved_twice_within_a_second_runs_as_last_saved(tmp_path: Path) -> None:
    package = copy_project(tmp_path)
    probe, name = package / "stale_probe.py", package.name
    later = int(time.time()) + 100  # both saves in one second, after the .pyc is written
    probe.write_text("VALUE = 1\n")
    os.utime(probe, (later + 0.2, later + 0.2))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "src"), *sys.path])

    def value() -> str:
        code = f"from {name} import reloading\nreloading.forget_package()\n"
        code += f"from {name}.stale_probe import VALUE\nprint(VALUE)"
        argv = [sys.executable, "-c", code]
        return subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout

    assert value() == "1\n"  # and its .pyc written, naming the source's size and second
    probe.write_text("VALUE = 2\n")  # the same size
    os.utime(probe, (later + 0.7, later + 0.7))  # the same second
    assert value() == "2\n"
