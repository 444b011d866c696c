"""models.py: the tables hold whatever the API accepts (the two declare their limits apart, so
that the data layer and the API's shapes import nothing of each other)."""

from __future__ import annotations

from sqlalchemy import String

from {{ cookiecutter.package_name }} import schemas
from {{ cookiecutter.package_name }}.models import Item


def test_the_name_column_holds_the_longest_name_the_api_accepts() -> None:
    column = Item.__table__.c.name
    assert isinstance(column.type, String)
    assert column.type.length is not None
    assert column.type.length >= schemas.NAME_LENGTH
