"""Journal fixtures: a fresh SQLite journal path, a PostgreSQL URL with its own schema, or either (`target`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from journalkit import drop_schema, new_pg_url, pg_reachable


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not pg_reachable():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    url, schema = new_pg_url()
    yield url
    drop_schema(schema)


@pytest.fixture
def sqlite_target(tmp_path: Path) -> str:
    return str(tmp_path / "journal.sqlite3")


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "journal.sqlite3")
        return
    if not pg_reachable():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    url, schema = new_pg_url()
    yield url
    drop_schema(schema)
