"""The item views commit before building their answer: SQLite admits one writer from its first
write to its commit, so the next writer gets in while the response is still being built."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from flask import Flask

from .support import MERGE, create


def test_item_writes_let_the_next_writer_in_before_answering(hooked: Flask, tmp_path: Path) -> None:
    """Where a view that only flushes (the control) still holds the lock."""
    held: list[str] = []

    def probe(name: str) -> None:
        view: Callable[..., Any] = hooked.view_functions[name]

        @functools.wraps(view)
        def probed(**kwargs: Any) -> Any:
            response = view(**kwargs)
            with closing(sqlite3.connect(tmp_path / "t.db", timeout=0)) as other:
                try:
                    other.execute("BEGIN IMMEDIATE")  # take the writer lock, or fail at once
                except sqlite3.OperationalError:
                    held.append(name)
            return response

        hooked.view_functions[name] = probed

    for name in ("write", "items.create_item", "items.update_item", "items.delete_item"):
        probe(name)
    client = hooked.test_client()
    item = create(client, "widget")
    url = f"/api/items/{item['id']}"
    assert client.patch(url, json={"quantity": 3}, content_type=MERGE).status_code == 200
    assert client.delete(url).status_code == 204
    assert client.post("/t/ok").status_code == 201
    assert held == ["write"]  # the control: its flush holds the lock until commit_session
