"""Shared test settings: Hypothesis profiles (CI gets more examples, derandomized for repeatability)."""

import decimal
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _isolated_decimal_context() -> Iterator[None]:
    """ccxt's decimal_to_precision changes the process-wide decimal context; no test may see another's."""
    saved = decimal.getcontext().copy()
    yield
    decimal.setcontext(saved)
