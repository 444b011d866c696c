"""Refuse a render that still holds the template's placeholders (make k8s-render, k8s-deploy).

Usage: python scripts/k8s_placeholders.py build/k8s-prod.yaml. Exits 1, naming each object,
field and what to set, while an example.com/.internal host, a change-me value or the example
registry remains; prints nothing and exits 0 otherwise.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

PLACEHOLDER = re.compile(r"example\.(com|org|net|internal)\b|change-me")
# (field, where it is set), first match wins; the field is the dotted path's last key.
WHERE = (
    ("migrate-image", "images: newName/newTag in deploy/k8s/overlays/<overlay>/kustomization.yaml"),
    ("image", "images: newName/newTag in deploy/k8s/overlays/<overlay>/kustomization.yaml"),
    ("hostnames", "hostnames in deploy/k8s/components/gateway/httproute.yaml"),
    ("host", "host and tls hosts in deploy/k8s/components/ingress/ingress.yaml"),
    ("hosts", "host and tls hosts in deploy/k8s/components/ingress/ingress.yaml"),
    ("OIDC_ISSUER", "OIDC_ISSUER in deploy/k8s/components/identity/kustomization.yaml"),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "the endpoint in deploy/k8s/components/otlp/kustomization.yaml",
    ),
)


def walk(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (dotted path, string) in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def placeholders(text: str) -> list[str]:
    """One line per placeholder in a rendered multi-document YAML."""
    found = []
    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        for path, value in walk(doc):
            if not PLACEHOLDER.search(value):
                continue
            field = re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]
            where = next((hint for key, hint in WHERE if key == field), "it in deploy/k8s")
            found.append(f"{name} {path}: {value!r} is a placeholder; set {where}")
    return found


def main(argv: list[str]) -> int:
    """Check the render named on the command line."""
    found = placeholders(Path(argv[1]).read_text())
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"refusing {argv[1]}: {len(found)} placeholder(s) left", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
