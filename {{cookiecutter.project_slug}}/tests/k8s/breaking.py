"""Breaking a copy of the render one field at a time, for the negative tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .chain import K8S
from .objects import Object, find

DROP = object()  # as a value: delete the key
POD = "spec template spec "
WEB = POD + "containers web "
# The file each optional kind comes from; a bake without it (the database choice) skips its rows.
SOURCES = {
    "HorizontalPodAutoscaler": "hpa",
    "PodDisruptionBudget": "pdb",
    "Job": "migrate-job",
    "PersistentVolumeClaim": "pvc",
}
PRESENT = {path.stem for path in (K8S / "base").glob("*.yaml")}
# id: (kind of the object to break, {path: new value}, what the check must say[, kind the case
# needs]). A path is keys separated by spaces; in a list, a word picks the item of that name.
Row = tuple[Any, ...]


def cases(table: dict[str, Row]) -> list[Any]:
    """The rows whose objects this bake renders, as pytest params with readable ids."""
    params = []
    for name, (kind, changes, message, *needs) in table.items():
        if all(SOURCES.get(need, "") in PRESENT for need in [kind, *needs] if need in SOURCES):
            params.append(pytest.param(kind, changes, message, id=name))
    return params


def change(obj: Object, path: str, value: Any) -> None:
    """Set (or with DROP, delete) the value at a space-separated path."""
    *parents, last = path.split()
    node: Any = obj
    for key in parents:
        if isinstance(node, list):
            node = node[int(key)] if key.isdigit() else next(i for i in node if i["name"] == key)
        else:
            node = node.setdefault(key, {})
    if value is DROP:
        node.pop(last)
    else:
        node[last] = value


def broken(prod: list[Object], kind: str, changes: dict[str, Any]) -> list[Object]:
    """A copy of the render with the changes made to the first object of a kind."""
    objects = copy.deepcopy(prod)
    for path, value in changes.items():
        change(find(objects, kind)[0], path, value)
    return objects
