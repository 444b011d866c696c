"""routes/__init__.py: an integer in a URL has one spelling only."""

from __future__ import annotations

from flask import Blueprint

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.routes import CanonicalInt


def test_int_in_a_url_is_ascii_without_leading_zeros() -> None:
    app = create_app({"APP_ENV": "testing"})
    assert app.url_map.converters["int"] is CanonicalInt
    bp = Blueprint("numbers", __name__)

    @bp.get("/numbers/<int:number>")
    def number(number: int) -> dict[str, int]:
        return {"number": number}

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/numbers/10").get_json() == {"number": 10}
    assert client.get("/numbers/0").get_json() == {"number": 0}
    for spelling in ("010", "00", "\u0661\u0660", "\uff11\uff10", "1e1", "+10"):
        assert client.get(f"/numbers/{spelling}").status_code == 404, spelling
