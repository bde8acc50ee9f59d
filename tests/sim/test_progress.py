"""Progress on long runs: Monte Carlo reports paths done in batches and gets the same results as without."""

from __future__ import annotations

from isomargin.sim import MCParams, dumps, run_monte_carlo
from isomargin.sim.executors import ProcessExecutor


def test_monte_carlo_progress_counts_every_path_and_changes_nothing() -> None:
    grid = [MCParams(paths=6, bars=120, leverage=lev, sigma=1.0, seed=2) for lev in (10, 50)]
    seen: list[int] = []
    with_progress = run_monte_carlo(grid, ProcessExecutor(2), chunk=1, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 12 and len(seen) > 1  # batches of 4 × 2 workers' chunks
    assert dumps(with_progress) == dumps(run_monte_carlo(grid, ProcessExecutor(2), chunk=1))
