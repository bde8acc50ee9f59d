"""Seeded synthetic price paths: GBM, GBM with jumps (Merton) and GARCH(1,1)-like volatility clustering.

Each returns `Bars` built from a fine log-price walk (`substeps` per bar) so highs and lows are real
extremes of the path; the same seed always gives the same bars (numpy PCG64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from isomargin.sim.errors import SimError
from isomargin.sim.paths import Bars, FloatArray, make_bars

MINUTE = 60_000
YEAR_MINUTES = 365 * 24 * 60
START_TS = 1_704_067_200_000  # 2024-01-01T00:00:00Z, a fixed origin for synthetic data


def _bars_from_logs(
    logs: FloatArray, n: int, substeps: int, start: float, interval_ms: int, tick: float, name: str
) -> Bars:
    prices = start * np.exp(logs)
    prices = np.maximum(np.round(prices / tick) * tick, tick)
    opens = prices[0 : n * substeps : substeps]
    closes = prices[substeps : n * substeps + 1 : substeps]
    seg = np.lib.stride_tricks.sliding_window_view(prices, substeps + 1)[::substeps][:n]
    highs = seg.max(axis=1)
    lows = seg.min(axis=1)
    ts = START_TS + np.arange(n, dtype=np.int64) * interval_ms
    return make_bars(ts, opens, highs, lows, closes, np.ones(n), name=name, where=name)


def _check(n: int, start: float) -> None:
    if n < 1:
        raise SimError("bad_bars", "a path needs at least one bar")
    if not start > 0:
        raise SimError("bad_price", "the start price must be positive")


def _diffusion(rng: np.random.Generator, count: int, mu: float, sigma: float, dt: float) -> Any:
    """GBM log-return steps of length `dt` (years): the drift-corrected Brownian part GBM and jumps share."""
    return (mu - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * rng.standard_normal(count)


def gbm(
    n: int,
    *,
    seed: int = 0,
    start: float = 60_000.0,
    mu: float = 0.0,
    sigma: float = 0.6,
    interval_ms: int = MINUTE,
    substeps: int = 4,
    tick: float = 0.1,
) -> Bars:
    """Geometric Brownian motion; `mu` and `sigma` are annualised (sigma 0.6 ≈ BTC's long-run volatility)."""
    _check(n, start)
    rng = np.random.Generator(np.random.PCG64(seed))
    dt = interval_ms / MINUTE / YEAR_MINUTES / substeps
    steps = _diffusion(rng, n * substeps, mu, sigma, dt)
    logs = np.concatenate([[0.0], np.cumsum(steps)])
    return _bars_from_logs(logs, n, substeps, start, interval_ms, tick, f"gbm(seed={seed})")


def gbm_jumps(
    n: int,
    *,
    seed: int = 0,
    start: float = 60_000.0,
    mu: float = 0.0,
    sigma: float = 0.6,
    jumps_per_year: float = 50.0,
    jump_mean: float = -0.02,
    jump_sd: float = 0.04,
    interval_ms: int = MINUTE,
    substeps: int = 4,
    tick: float = 0.1,
) -> Bars:
    """Merton jump diffusion: GBM plus Poisson jumps with normal log sizes (negative mean: crash-prone)."""
    _check(n, start)
    rng = np.random.Generator(np.random.PCG64(seed))
    dt = interval_ms / MINUTE / YEAR_MINUTES / substeps
    steps = _diffusion(rng, n * substeps, mu, sigma, dt)
    count = rng.poisson(jumps_per_year * dt, n * substeps)
    steps += count * jump_mean + np.sqrt(count) * jump_sd * rng.standard_normal(n * substeps)
    logs = np.concatenate([[0.0], np.cumsum(steps)])
    return _bars_from_logs(logs, n, substeps, start, interval_ms, tick, f"gbm_jumps(seed={seed})")


def garch(
    n: int,
    *,
    seed: int = 0,
    start: float = 60_000.0,
    sigma: float = 0.6,
    alpha: float = 0.08,
    beta: float = 0.9,
    interval_ms: int = MINUTE,
    substeps: int = 4,
    tick: float = 0.1,
) -> Bars:
    """GARCH(1,1) variance on each step (`alpha` shock weight, `beta` persistence), long-run variance set by
    the annualised `sigma`: calm stretches and volatile clusters with Student-t(4) shocks."""
    _check(n, start)
    if alpha < 0 or beta < 0 or alpha + beta >= 1:
        raise SimError("bad_parameter", "GARCH needs alpha, beta ≥ 0 and alpha + beta < 1")
    rng = np.random.Generator(np.random.PCG64(seed))
    dt = interval_ms / MINUTE / YEAR_MINUTES / substeps
    long_var = sigma**2 * dt
    omega = long_var * (1 - alpha - beta)
    z = rng.standard_t(4, n * substeps) / np.sqrt(2.0)  # unit variance
    steps = np.empty(n * substeps)
    var = long_var
    for i in range(n * substeps):
        eps = np.sqrt(var) * z[i]
        steps[i] = eps - 0.5 * var
        var = omega + alpha * eps * eps + beta * var
    logs = np.concatenate([[0.0], np.cumsum(steps)])
    return _bars_from_logs(logs, n, substeps, start, interval_ms, tick, f"garch(seed={seed})")


GENERATORS = {"gbm": gbm, "gbm-jumps": gbm_jumps, "garch": garch}


def generate(
    kind: str, n: int, *, seed: int = 0, start: float = 60_000.0, sigma: float | None = None, tick: float = 0.1
) -> Bars:
    fn = GENERATORS.get(kind)
    if fn is None:
        raise SimError("unknown_generator", f"unknown generator {kind!r} (known: {', '.join(GENERATORS)})")
    extra = {} if sigma is None else {"sigma": sigma}
    return fn(n, seed=seed, start=start, tick=tick, **extra)  # type: ignore[operator,no-any-return]
