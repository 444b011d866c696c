"""The authenticated item row: the bake's own test provider (its tests/provider.py, panva's
oidc-provider on Node.js) issues a real token, and wrk sends it on every request."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .bake import Bake
from .common import BenchError, say

ROW, OPEN_ROW = "service_get_item_auth", "service_get_item"


@dataclass(frozen=True)
class Auth:
    """What the authenticated row's server and its load need."""

    env: dict[str, str]  # the server's: token checks on, against the provider
    headers: dict[str, str]  # the answer check's
    script: str  # wrk Lua that sends the token (absolute: write_script keeps it)


def problem() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "needs Node.js and npm for the local OpenID provider (apt-get install nodejs npm)"
    return None


def bake_provider(bake: Bake) -> ModuleType:
    """The bake's tests/provider.py, imported as `bake_tests.provider` (the template's own
    tests package is `tests` too), its package importable from the bake's src."""
    if "bake_tests" not in sys.modules:
        sys.path.insert(0, str(bake.src))
        tests = bake.path / "tests"
        spec = importlib.util.spec_from_file_location(
            "bake_tests", tests / "__init__.py", submodule_search_locations=[str(tests)]
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bake_tests"] = module
        spec.loader.exec_module(module)
    return importlib.import_module("bake_tests.provider")


@contextmanager
def provider(bake: Bake, workdir: Path, lifetime: int) -> Iterator[Auth]:
    """A running provider and one token living `lifetime` seconds (the whole load: the bench
    must not measure refusals of an expired token)."""
    module = bake_provider(bake)
    say("starting the OpenID provider (npm ci on first use)")
    try:
        module.node_modules()
    except subprocess.CalledProcessError as exc:
        raise BenchError(f"npm ci for the provider failed: {exc.stderr!r:.300}") from None
    (workdir / "provider").mkdir(parents=True, exist_ok=True)
    running = module.Provider(workdir / "provider", [module.new_key()], token_ttl=lifetime)
    running.start()
    try:
        header = {"Authorization": f"Bearer {running.token()}"}
        lua = workdir / "wrk" / "bearer.lua"
        lua.parent.mkdir(parents=True, exist_ok=True)
        lua.write_text(f'wrk.headers["Authorization"] = "{header["Authorization"]}"\n')
        env = {"AUTH_DISABLED": "0", "OIDC_ISSUER": running.issuer}
        yield Auth(env | {"OIDC_AUDIENCE": module.AUDIENCE}, header, str(lua))
    finally:
        running.stop()
