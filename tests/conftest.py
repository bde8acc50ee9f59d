"""Shared test settings: Hypothesis profiles set every property test's example counts (and the stateful machines'
steps): `dev` locally, `ci` under CI (derandomized for repeatability), `deep` for `make test-deep`
(HYPOTHESIS_PROFILE=deep: ≥ 1,000 examples × 200 steps)."""

import decimal
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much]
settings.register_profile("dev", max_examples=150, stateful_step_count=50, deadline=None, suppress_health_check=_QUIET)
settings.register_profile(
    "ci", max_examples=300, stateful_step_count=80, deadline=None, derandomize=True, suppress_health_check=_QUIET
)
settings.register_profile(
    "deep", max_examples=1000, stateful_step_count=200, deadline=None, suppress_health_check=_QUIET
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _isolated_decimal_context() -> Iterator[None]:
    """ccxt's decimal_to_precision changes the process-wide decimal context; no test may see another's."""
    saved = decimal.getcontext().copy()
    yield
    decimal.setcontext(saved)
