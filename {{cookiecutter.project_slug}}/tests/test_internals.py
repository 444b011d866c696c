"""Library internals the service relies on, one test per assumption: a failure names the library,
the internal and what to revisit. pyproject.toml bounds each such library below its next major
and Dependabot bumps each one in a pull request of its own, where these tests run. gunicorn's
are in test_internals_gunicorn.py."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from flask_openapi3 import OpenAPI
from prometheus_client import CollectorRegistry
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import BaseModel, Field
from werkzeug import _reloader

from {{ cookiecutter.package_name }}.shapes import Parameters


def test_prometheus_files_round_trip_through_mmap_dict(tmp_path: Path) -> None:
    key, path = mmap_key("c", "c_total", ["route"], ["/x"], "help"), tmp_path / "counter_archive.db"
    archive = MmapedDict(str(path))
    archive.write_value(key, 3.0, 0.0)
    archive.close()
    rows = [row[:3] for row in MmapedDict.read_all_values_from_file(str(path))]
    assert rows == [(key, 3.0, 0.0)], (
        "prometheus_client's mmap_dict.MmapedDict changed its file format or API: "
        "promfiles.archive can no longer fold a reaped worker's files"
    )
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(tmp_path))
    assert registry.get_sample_value("c_total", {"route": "/x"}) == 3.0, (
        "prometheus_client's MultiProcessCollector no longer reads <type>_archive.db files: "
        "the counts promfiles.archive folded would vanish from /metrics"
    )


class Probe(Parameters):
    n: int = 1
    tag: str | None = Field(None, alias="If-Match")


def probe_app() -> OpenAPI:
    app = OpenAPI(__name__)

    @app.get("/probe")
    def probe(query: Probe) -> dict[str, int]:
        return {"n": query.n}

    return app


def test_flask_openapi3_asks_for_the_parameters_schema_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, calls, original = probe_app().test_client(), [], Probe.model_json_schema

    def counted(cls: type[Probe], *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(Probe, "model_json_schema", classmethod(counted))
    for n in range(3):
        assert client.get(f"/probe?n={n}").json == {"n": n}
    assert calls == [((), {})] * 3, (
        "flask-openapi3 no longer calls model_json_schema() once, without arguments, per "
        f"validated request ({calls}): shapes.Parameters' cached override must be revisited"
    )


def test_flask_openapi3_honours_the_cached_parameters_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, built, pydantic_schema = probe_app().test_client(), [], BaseModel.model_json_schema
    client.get("/probe")  # the first request may build it

    def counted(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(cls)
        return pydantic_schema.__func__(cls, *args, **kwargs)  # type: ignore[attr-defined,no-any-return]

    monkeypatch.setattr(BaseModel, "model_json_schema", classmethod(counted))
    assert client.get("/probe?n=7").json == {"n": 7}
    assert Probe not in built, (
        "flask-openapi3 no longer goes through shapes.Parameters.model_json_schema: pydantic "
        "builds the parameters' schema again on every validated request"
    )


def test_werkzeug_starts_each_reloaded_child_through_restart_with_reloader() -> None:
    source = inspect.getsource(_reloader.run_with_reloader)
    assert "reloader.restart_with_reloader()" in source, (
        "werkzeug's run_with_reloader no longer starts its child through the reloader loop's "
        "restart_with_reloader: reloading.fork_on_reload's override is never called"
    )
    for loop in _reloader.reloader_loops.values():
        assert "restart_with_reloader" not in vars(loop), (
            f"{loop.__name__} overrides restart_with_reloader: patch it there too"
        )
    assert "restart_with_reloader" in vars(_reloader.ReloaderLoop)
