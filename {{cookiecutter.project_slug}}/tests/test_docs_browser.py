"""GET /docs in a real headless Chromium against gunicorn: Swagger UI renders every operation
with no console error and no Content-Security-Policy violation (a screenshot is kept), and a
token from the real local provider, pasted into Authorize, calls the API from the page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Response, sync_playwright

from .provider import AUDIENCE, Provider, declared_scopes, new_key, node_modules
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


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[Server, Provider, dict[str, Any]]]:
    """gunicorn as in production with the docs on and tokens checked against the provider,
    whose client may ask for every scope the document declares; and the document."""
    node_modules()
    document: dict[str, Any] = json.loads((PROJECT / "openapi.json").read_text())
    (tmp_path / "provider").mkdir()
    provider = Provider(tmp_path / "provider", [new_key()], " ".join(declared_scopes())).start()
    copy_project(tmp_path)
    database = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    if (config := PROJECT / "alembic.ini").exists():  # a service with a database: migrated
        migrate = [sys.executable, "-m", "alembic", "-c", str(config), "upgrade", "head"]
        subprocess.run(migrate, env={**os.environ, "DATABASE_URL": database}, check=True)
    env = {
        "APP_ENV": "production", "SECRET_KEY": SECRET, "API_DOCS": "1", "AUTH_DISABLED": "",
        "DATABASE_URL": database, "OIDC_ISSUER": provider.issuer, "OIDC_AUDIENCE": AUDIENCE,
    }  # fmt: skip
    try:
        with serve(
            tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port()
        ) as server:
            yield server, provider, document
    finally:
        provider.stop()


def test_a_token_pasted_into_authorize_calls_the_api(
    secured: tuple[Server, Provider, dict[str, Any]],
) -> None:
    """The page's own request carries the token: the answer is the API's, not a 401."""
    server, provider, document = secured
    executable = chromium()
    method, path, operation = next(
        (method, path, operation)
        for path, operations in sorted(document["paths"].items())
        for method, operation in sorted(operations.items())
        if operation.get("security")
    )
    block = f"#operations-{operation['tags'][0]}-{operation['operationId']}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{server.url}/docs", wait_until="networkidle")
        page.click(".auth-wrapper button.authorize")
        page.fill(".modal-ux input", provider.token())
        page.click(".modal-ux .auth-btn-wrapper button.authorize")
        page.click(".modal-ux .auth-btn-wrapper button.btn-done")
        page.click(f"{block} .opblock-summary")
        page.click(f"{block} .try-out__btn")
        with page.expect_response(lambda r: r.url.split("?")[0].endswith(path)) as answered:
            page.click(f"{block} button.execute")
        status = answered.value.status
        sent = answered.value.request.headers.get("authorization", "")
        browser.close()
    assert sent.startswith("Bearer "), (method, path)
    assert status not in (401, 403), (method, path, status)
    assert status < 500, (method, path, status)
