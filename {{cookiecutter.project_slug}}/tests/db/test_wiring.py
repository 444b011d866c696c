"""The database belongs to the app, not to the example resource: with routes/items.py deleted
and another blueprint using db.session(), real gunicorn still serves it and /readyz still
checks the database (the first edit every user makes once broke both)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from ..servers import SECRET, copy_project, free_port, serve
from .support import migrate

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

ORDERS = """
from flask import Blueprint
from sqlalchemy import text

from .. import db

bp = Blueprint("orders", __name__)


@bp.get("/orders/ping")
def ping() -> dict[str, int]:
    return {"one": db.session().scalar(text("SELECT 1"))}
"""


def test_a_new_blueprint_gets_the_database_without_the_example(tmp_path: Path) -> None:
    package = copy_project(tmp_path)
    (package / "routes" / "items.py").unlink(missing_ok=True)  # an owner may have removed it
    (package / "routes" / "orders.py").write_text(ORDERS)
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    migrate(url)
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": url}
    with serve(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port()) as server:
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok"}
        assert requests.get(f"{server.url}/api/items", timeout=10).status_code == 404
        response = requests.get(f"{server.url}/orders/ping", timeout=10)
        assert response.status_code == 200, server.logs()
        assert response.json() == {"one": 1}
