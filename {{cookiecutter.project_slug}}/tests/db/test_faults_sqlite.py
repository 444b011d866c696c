"""A SQLite database locked by another writer: a write waits up to DATABASE_TIMEOUT (SQLite's busy
timeout) for the lock, and gets it if it is freed meanwhile, else is a 503 with Retry-After."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.app import create_app

from .support import migrate, probe_tables

TIMEOUT = 1  # DATABASE_TIMEOUT: seconds


@pytest.fixture
def writer(tmp_path: Path) -> Flask:
    """An app whose POST /w writes at once (no read first: SQLite's busy handler applies)."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    migrate(url)
    app = create_app({"APP_ENV": "development", "DATABASE_URL": url, "DATABASE_TIMEOUT": TIMEOUT})
    probe_tables(app)

    @app.route("/w", methods=["POST"])
    def write() -> tuple[str, int]:
        db.session().execute(text("INSERT INTO test_probe (name) VALUES (:n)"), {"n": time.time()})
        return "", 201

    return app


def locked(app: Flask, release_after: float) -> tuple[int, float, str]:
    """POST /w while another connection holds the write lock for `release_after` seconds, or
    until the answer if that comes first (the answer cannot have waited for a later release)."""
    path = app.extensions["db"].kw["bind"].url.database
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    release = threading.Lock()

    def rollback() -> None:
        with release:
            if locker.in_transaction:
                locker.execute("ROLLBACK")

    timer = threading.Timer(release_after, rollback)
    started = time.monotonic()  # before the timer's clock, so a wait is never under-counted
    timer.start()
    response = app.test_client().post("/w")
    waited = time.monotonic() - started
    timer.cancel()
    timer.join()
    rollback()
    locker.close()
    return response.status_code, waited, response.headers.get("Retry-After", "")


def test_a_write_waits_for_a_lock_freed_within_the_timeout(writer: Flask) -> None:
    status, waited, _ = locked(writer, release_after=TIMEOUT / 4)
    assert status == 201
    assert waited >= TIMEOUT / 4


def test_a_lock_held_past_the_timeout_is_a_503(writer: Flask) -> None:
    status, waited, retry_after = locked(writer, release_after=TIMEOUT * 3)
    assert status == 503
    assert retry_after
    assert TIMEOUT <= waited < TIMEOUT * 3  # SQLite's busy timeout, not the lock's length
