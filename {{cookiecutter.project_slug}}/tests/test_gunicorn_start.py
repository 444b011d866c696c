"""gunicorn.conf.py's start-up under real gunicorn: the master imports the app without garbage
collection, and every worker it forks collects garbage again."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from .servers import SECRET, copy_project, free_port, serve

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

# A WSGI app that answers every path (/healthz included) with the worker's gc.isenabled().
GC_APP = """import gc


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(gc.isenabled()).encode()]
"""


def test_workers_collect_garbage(tmp_path: Path) -> None:
    copy_project(tmp_path)
    (tmp_path / "src" / "gc_app.py").write_text(GC_APP)
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "WEB_CONCURRENCY": "2"}
    args = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "gc_app:app"]
    with serve(tmp_path, args, env, free_port()) as server:
        answers = {requests.get(f"{server.url}/", timeout=5).text for _ in range(20)}
    assert answers == {"True"}
