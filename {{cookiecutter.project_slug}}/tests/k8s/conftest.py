"""Fixtures: the manifests staged once per module, each overlay rendered, the app's routes."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.exceptions import HTTPException

from {{ cookiecutter.package_name }}.app import create_app

from .chain import OVERLAYS, Serves, render, stage
from .objects import Object


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of deploy/k8s with dev's secret.env and the `everything` overlay."""
    return stage(tmp_path_factory.mktemp("k8s"))


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    """Each overlay's name."""
    return str(request.param)


@pytest.fixture(scope="module")
def objects(staged: Path, overlay: str) -> list[Object]:
    """An overlay's rendered objects."""
    return render(staged, overlay)


@pytest.fixture(scope="module")
def prod(staged: Path) -> list[Object]:
    """The production overlay's objects, for the negative tests to break copies of."""
    return render(staged, "prod")


@pytest.fixture(scope="module")
def serves() -> Serves:
    """Whether the app answers GET on a path (probes must aim at real routes)."""
    urls = create_app({"APP_ENV": "testing"}).url_map.bind("localhost")

    def serves(path: str) -> bool:
        try:
            urls.match(path, "GET")
        except HTTPException:
            return False
        return True

    return serves
