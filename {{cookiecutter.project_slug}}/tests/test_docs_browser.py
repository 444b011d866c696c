"""GET /docs in a real headless Chromium against gunicorn: Swagger UI renders every operation
with no console error and no Content-Security-Policy violation; a screenshot is kept."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Response, sync_playwright

from .servers import PROJECT, SECRET, Server, copy_project, free_port, serve

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Where the screenshot goes; CI uploads the folder as an artifact.
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", PROJECT / "build" / "artifacts"))
# Seen by the page before its own scripts run, so nothing is missed.
LISTEN = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));"""


def chromium() -> str:
    """A Chromium to drive; skipped without one (a failure where REQUIRE_BROWSER=1, as in CI)."""
    found = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if found is None:
        hint = "install Chromium (apt-get install chromium) or set CHROMIUM to its path"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but no browser: {hint}")
        pytest.skip(hint)
    return found


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Server]:
    """gunicorn as in production, with the docs on (API_DOCS=1)."""
    copy_project(tmp_path)
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "API_DOCS": "1"}
    with serve(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port()) as server:
        yield server


def test_swagger_ui_renders_every_operation_cleanly(live: Server) -> None:
    executable = chromium()
    errors: list[str] = []

    def failed(url: str, response: Response | None) -> None:
        if response is not None and response.status >= 400:
            errors.append(f"{response.status} {url}")

    document: dict[str, Any] = requests.get(f"{live.url}/openapi.json", timeout=10).json()
    expected = sum(len(item) for item in document["paths"].values())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.add_init_script(LISTEN)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfinished", lambda r: failed(r.url, r.response()))
        page.on("requestfailed", lambda r: errors.append(f"{r.failure} {r.url}"))
        page.goto(f"{live.url}/docs", wait_until="networkidle")
        page.wait_for_selector(".opblock", timeout=15_000)
        rendered = page.locator(".opblock").count()
        title = page.locator(".info .title").inner_text()
        violations = page.evaluate("window.__violations")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "docs.png", full_page=True)
        browser.close()
    assert rendered == expected
    assert document["info"]["title"] in title
    assert violations == []
    assert errors == []
    assert (ARTIFACTS / "docs.png").stat().st_size > 10_000
