"""The Dask executor on a real `dask.distributed` LocalCluster (its own scheduler and worker processes on
loopback): a leverage × stop sweep gives exactly the local executor's results."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from isomargin.sim import MCParams, dumps, run_monte_carlo
from isomargin.sim.executors import DaskExecutor, SerialExecutor

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster_sweep_matches_the_local_executor() -> None:
    grid = [
        MCParams(paths=4, bars=240, leverage=lev, stop=stop, sigma=1.5, seed=3, margin=D(1000))
        for lev in (10, 50)
        for stop in (0.0, 0.01)
    ]
    local = run_monte_carlo(grid, SerialExecutor(), chunk=2)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_cluster = run_monte_carlo(grid, DaskExecutor(client), chunk=2)
    assert dumps(on_cluster) == dumps(local)
    assert [r["paths"] for r in on_cluster["runs"]] == [4, 4, 4, 4]
