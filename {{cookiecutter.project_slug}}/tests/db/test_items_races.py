"""Unconditional writes racing on one item, against real gunicorn (2 workers x 4 threads): they
take turns, and none is answered 412, which RFC 9110 keeps for a precondition the client sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from ..servers import Server
from ..together import at_once
from .support import MERGE
from .test_items_concurrency import gunicorn

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

WRITERS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Server]:
    """One gunicorn for the module's tests on each database: each asserts on its own items."""
    with gunicorn(tmp_path_factory.mktemp("gunicorn"), module_database_url) as server:
        yield server


def create(server: Server, name: str) -> str:
    """A new item's URL."""
    created = requests.post(f"{server.url}/api/items", json={"name": name}, timeout=10)
    assert created.status_code == 201, created.text
    return f"{server.url}{created.headers['Location']}"


def send(call: tuple[str, str, dict[str, int] | None]) -> requests.Response:
    """One (method, url, body) on a connection of its own."""
    method, url, body = call
    headers = {"Content-Type": MERGE} if body is not None else {}
    with requests.Session() as http:
        return http.request(method, url, json=body, headers=headers, timeout=30)


def test_unconditional_patches_take_turns(server: Server) -> None:
    for round_ in range(3):
        url = create(server, f"raced-{round_}")
        answers = at_once(send, [("PATCH", url, {"quantity": n}) for n in range(WRITERS)])
        assert Counter(a.status_code for a in answers) == {200: WRITERS}, [
            a.text for a in answers if a.status_code != 200
        ]
        final = requests.get(url, timeout=10)
        # Each writer saw its own write land: the last one's quantity is what is stored.
        assert final.json()["quantity"] in range(WRITERS)
        assert final.headers["ETag"] == f'"{WRITERS + 1}"'  # every write incremented it


def test_a_delete_racing_patches_is_never_412(server: Server) -> None:
    for round_ in range(3):
        url = create(server, f"deleted-{round_}")
        calls = [("PATCH", url, {"quantity": n}) for n in range(WRITERS - 1)]
        answers = at_once(send, [*calls[:10], ("DELETE", url, None), *calls[10:]])
        statuses = Counter(a.status_code for a in answers)
        assert statuses[204] == 1, statuses
        assert set(statuses) <= {200, 204, 404}, statuses  # a PATCH after the DELETE: 404
        assert requests.get(url, timeout=10).status_code == 404


def test_a_stale_if_match_is_still_412(server: Server) -> None:
    url = create(server, "conditional")
    etag = requests.get(url, timeout=10).headers["ETag"]
    requests.patch(url, json={"quantity": 2}, headers={"Content-Type": MERGE}, timeout=10)
    stale = requests.patch(
        url, json={"quantity": 3}, headers={"Content-Type": MERGE, "If-Match": etag}, timeout=10
    )
    assert stale.status_code == 412
    assert requests.delete(url, headers={"If-Match": etag}, timeout=10).status_code == 412
