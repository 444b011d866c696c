"""The scale rows: the item requests on a table of 10⁶ rows against the same requests on one of
10³, on each database; the tables are bulk-loaded (COPY, executemany), not made through the API."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from itsdangerous import URLSafeSerializer

from .bake import Bake
from .common import BenchError, say
from .servers import Server, request

SMALL = 1_000
SIZES = ("small", "large")
BORN = "2026-01-01 00:00:00+00:00"
# The requests, each a wrk Lua script of its own (the path, a walk over the ids, or a POST).
OPS = {
    "first_page": "GET /api/items",
    "deep_page": "GET /api/items?cursor=<id n/2>",
    "get_item": "GET /api/items/<id>",
    "post_items": "POST /api/items",
    "patch_item": "PATCH /api/items/<id>",
}
# The ids a row reads or patches walk the whole table by a prime stride, so that requests in
# flight never patch the same item (which would be a 412) and every row is visited once
# before any comes again.
WALK = """
local stride, counter = 7919, 0
function init(args)
  counter = math.random(0, rows - 1)
end
function request()
  counter = counter + 1
  local id = (counter * stride) % rows + 1
  if method == "PATCH" then
    local body = string.format('{"quantity": %d}', counter % 100 + 1)
    local headers = {["Content-Type"] = "application/merge-patch+json"}
    return wrk.format("PATCH", "/api/items/" .. id, headers, body)
  end
  return wrk.format("GET", "/api/items/" .. id)
end
"""


def key(op: str, size: str, suffix: str) -> str:
    """A scale row's key: `scale_get_item_large_pg`."""
    return f"scale_{op}_{size}{suffix}"


def server_key(size: str, suffix: str) -> str:
    """The server a size's rows share on one database (one server per table)."""
    return f"scale_{size}{suffix}"


def counts(large: int) -> dict[str, int]:
    """Rows in each table."""
    return {"small": SMALL, "large": large}


def cursor(bake: Bake, after: int) -> str:
    """The service's own cursor for the page after item `after` (routes/items.py signs it)."""
    return str(URLSafeSerializer(bake.secret, salt="items-cursor").dumps(after))


def path(bake: Bake, op: str, rows: int) -> str:
    """The URL path wrk loads (the Lua script may choose another per request)."""
    if op == "deep_page":
        return f"/api/items?cursor={cursor(bake, rows // 2)}"
    return "/api/items" if op in ("first_page", "post_items") else "/api/items/1"


def script(workdir: Path, op: str, rows: int) -> str | None:
    """The row's wrk Lua: post_item.lua for POST, a generated walk for reads and patches by id."""
    if op == "post_items":
        return "post_item.lua"
    if op not in ("get_item", "patch_item"):
        return None
    method = "PATCH" if op == "patch_item" else "GET"
    lua = workdir / "wrk" / f"walk-{op}-{rows}.lua"
    lua.parent.mkdir(parents=True, exist_ok=True)
    lua.write_text(f'rows = {rows}\nmethod = "{method}"\n' + WALK)
    return str(lua)  # absolute: write_script joins it to benchmarks/ and gets it back unchanged


def items(rows: int) -> Any:
    """The rows, as the service would have stored them."""
    return ((i, f"scale-{i}", i % 100 + 1, 1, BORN, BORN) for i in range(1, rows + 1))


def fill(url: str, rows: int) -> None:
    """Bulk-load `rows` items into the migrated, empty table at `url`, then leave the database
    as a long-running one would be (PostgreSQL: vacuumed, analysed; its id sequence after them)."""
    say(f"loading {rows:,} items into {url.rpartition('/')[2]}")
    if url.startswith("sqlite:///"):
        database = sqlite3.connect(url.removeprefix("sqlite:///"))
        with database:  # one transaction
            database.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", items(rows))
        database.close()
        return
    with psycopg.connect(url, autocommit=True) as connection:
        with connection.cursor() as copying, copying.copy("COPY items FROM STDIN") as copy:
            for row in items(rows):
                copy.write_row(row)
        connection.execute("SELECT setval(pg_get_serial_sequence('items', 'id'), %s)", (rows,))
        connection.execute("VACUUM (ANALYZE) items")


def check(row_key: str, path_: str, server: Server, rows: int) -> None:
    """Before any load: the row's request gets the answer it should."""
    op = next(op for op in OPS if row_key.startswith(f"scale_{op}_"))
    if op == "post_items":
        body = json.dumps({"name": f"check-{row_key}", "quantity": 2}).encode()
        status, answer = request(server.port, path_, "POST", body, JSON)
        ok = status == 201
    elif op == "patch_item":
        body = json.dumps({"quantity": 7}).encode()
        status, answer = request(server.port, f"/api/items/{rows}", "PATCH", body, MERGE)
        ok = status == 200 and json.loads(answer)["quantity"] == 7
    else:
        status, answer = request(server.port, path_)
        first = {"first_page": 1, "deep_page": rows // 2 + 1, "get_item": 1}[op]
        data = json.loads(answer) if status == 200 else {}
        ok = (data.get("items") or [data])[0].get("id") == first
    if not ok:
        raise BenchError(f"{row_key}: unexpected answer {status} {answer[:200]!r}")


JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
