"""A live venue server per test module (subprocess on a free loopback port, temp data dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isomargin.server.testing import RunningVenue


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    data: Path = tmp_path_factory.mktemp("venue") / "data"
    with RunningVenue(data, "--demo-account", "--no-feed", "--no-market-maker") as v:
        yield v
