"""components/pooler: the web pods reach PostgreSQL through PgBouncer, the migration Job goes
to the database itself, and make k8s-check counts the poolers' connections, not the pods'."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from .chain import Serves, render, semantic_problems
from .objects import Object, find, selects
from .platform import admits

pytestmark = pytest.mark.server  # kubectl renders the overlays

STORED = "postgresql://app:p%40ss@db.internal:5432/app?sslmode=require"


@pytest.fixture(scope="module")
def everything(staged: Path) -> list[Object]:
    """prod with every optional component, the pooler among them."""
    return render(staged, "everything")


def named(objects: list[Object], kind: str, suffix: str) -> Object:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)]
    return found


def pooler(objects: list[Object]) -> Object:
    return named(objects, "Deployment", "-pooler")


def templates(objects: list[Object]) -> dict[str, Object]:
    """Pod templates by component: web, migrate, pooler."""
    found = {}
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            template = obj["spec"]["template"]
            found[template["metadata"]["labels"]["app.kubernetes.io/component"]] = template
    return found


def test_only_the_pooler_and_the_migration_reach_the_database(everything: list[Object]) -> None:
    database = named(everything, "NetworkPolicy", "-database")
    pods = templates(everything)
    assert selects(database["spec"]["podSelector"], pods["migrate"])
    assert selects(database["spec"]["podSelector"], pods["pooler"])
    assert not selects(database["spec"]["podSelector"], pods["web"])
    out = [
        p
        for p in find(everything, "NetworkPolicy")
        if selects(p["spec"]["podSelector"], pods["web"])
    ]
    assert any(admits(policy, 6432, "egress") for policy in out)
    inward = named(everything, "NetworkPolicy", "-pooler")
    (rule,) = inward["spec"]["ingress"]
    assert selects(rule["from"][0]["podSelector"], pods["web"])
    assert not selects(rule["from"][0]["podSelector"], pods["migrate"])


def test_the_web_pods_url_is_the_stored_one_at_the_poolers_address(
    everything: list[Object],
) -> None:
    """The ExternalSecret's template keeps the user, password and database, and drops the
    query: TLS is the pooler's, towards PostgreSQL. Its Sprig pipeline, evaluated here (Go's
    RE2 and Python's re agree on these patterns): replace what regexFind finds, then cut."""
    secret = named(everything, "ExternalSecret", "-pooler-secret")
    template = secret["spec"]["target"]["template"]["data"]["POOLED_DATABASE_URL"]
    call = re.fullmatch(
        r'\{\{ \.url \| replace \(\.url \| regexFind "(.+)"\) "(.+)" \| regexFind "(.+)" \}\}',
        template,
    )
    assert call is not None, template
    host, pooler_address, kept = call.groups()
    found = re.search(host, STORED)
    assert found is not None
    replaced = STORED.replace(found.group(), pooler_address)
    cut = re.search(kept, replaced)
    assert cut is not None
    pooled = cut.group()
    service = named(everything, "Service", "-pooler")["metadata"]["name"]
    assert pooled == f"postgresql://app:p%40ss@{service}:6432/app"
    (web,) = [d for d in find(everything, "Deployment") if d is not pooler(everything)]
    (env,) = web["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env["valueFrom"]["secretKeyRef"]["name"] == secret["spec"]["target"]["name"]


def test_scaling_past_the_direct_budget_passes_through_the_pooler(
    everything: list[Object], serves: Serves
) -> None:
    (hpa,) = find(everything, "HorizontalPodAutoscaler")
    assert hpa["spec"]["maxReplicas"] == 10  # the direct budget allows 6
    assert semantic_problems(everything, serves) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"POOLER_POOL_SIZE": "40"}, "the poolers open up to 121 connections > "),
        ({"POOLER_MAX_CLIENTS": "50"}, "web connections > the poolers' 100 max clients"),
    ],
)
def test_the_budget_check_counts_the_poolers(
    everything: list[Object], serves: Serves, change: dict[str, str], message: str
) -> None:
    objects = copy.deepcopy(everything)
    for item in pooler(objects)["spec"]["template"]["spec"]["containers"][0]["env"]:
        item["value"] = change.get(item["name"], item.get("value"))
    problems = semantic_problems(objects, serves)
    assert any(message in problem for problem in problems), problems


def test_a_pooled_url_without_a_pooler_is_caught(everything: list[Object], serves: Serves) -> None:
    objects = [obj for obj in everything if obj is not pooler(everything)]
    assert any("there is none" in problem for problem in semantic_problems(objects, serves))
