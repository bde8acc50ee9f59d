"""Schemathesis against the native OpenAPI schema of a live server: no request may produce a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from isomargin.server.testing import RunningVenue


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    data: Path = tmp_path_factory.mktemp("schema") / "data"
    with RunningVenue(data, "--no-feed", "--no-market-maker", "--rate-limit", "0", "--demo-account") as v:
        yield v


def test_no_server_errors(live: RunningVenue) -> None:
    schema = schemathesis.openapi.from_url(live.base + "/openapi.json")
    creds = live.credentials()
    failures: list[str] = []
    count = 0
    for op_result in schema.get_all_operations():
        op = op_result.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given_case(op)
        def run(case: schemathesis.Case) -> None:
            nonlocal count
            headers = {"X-Admin-Key": live.admin_key} if "/admin/" in case.path else {"X-MBX-APIKEY": creds["apiKey"]}
            response = case.call(base_url=live.base, headers=headers)
            count += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} {response.text[:200]}")

        run()
    assert count > 200
    assert not failures, "\n".join(failures[:10])


def given_case(op: schemathesis.APIOperation) -> object:
    from hypothesis import given

    return given(case=op.as_strategy())
