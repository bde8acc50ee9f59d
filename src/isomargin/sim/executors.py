"""Where sweeps and Monte Carlo paths run: a tiny `map(fn, items)` interface with local implementations.

`ProcessExecutor` (concurrent.futures, the default) and `SerialExecutor` ship here; `DaskExecutor` and
`RayExecutor` wrap a dask.distributed Client or an initialised ray runtime when one is installed (they are
not dependencies). Results always come back in the order of `items`, so output is deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


class SerialExecutor:
    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(x) for x in items]


class ProcessExecutor:
    """Local processes; `fn` and the items must be picklable (module-level functions, dataclasses)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self.workers <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        with ProcessPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            return list(pool.map(fn, items))


class DaskExecutor:
    """`DaskExecutor(dask.distributed.Client("tcp://scheduler:8786"))`: the same sweep on a Dask cluster.
    Workers need `isomargin` installed (the same version)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        futures = self.client.map(fn, list(items), pure=False)
        return list(self.client.gather(futures))


class RayExecutor:
    """`ray.init(address="auto")` first; then `RayExecutor()` runs each item as a ray task."""

    def __init__(self, ray_module: Any = None) -> None:
        if ray_module is None:
            import importlib

            ray_module = importlib.import_module("ray")
        self.ray = ray_module

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        remote = self.ray.remote(fn)
        return list(self.ray.get([remote.remote(x) for x in items]))


def executor(spec: str = "local", workers: int | None = None) -> Executor:
    """`local` (processes), `serial`, `dask://host:port` or `ray` / `ray://host:port`."""
    if spec in ("local", "process", "processes"):
        return ProcessExecutor(workers)
    if spec == "serial":
        return SerialExecutor()
    import importlib

    from isomargin.sim.errors import SimError

    if spec.startswith("dask"):
        try:
            distributed = importlib.import_module("dask.distributed")
        except ImportError:
            raise SimError("no_dask", "install dask[distributed] to use a Dask cluster") from None
        address = spec.partition("://")[2] or None
        return DaskExecutor(distributed.Client(address))
    if spec.startswith("ray"):
        try:
            ray = importlib.import_module("ray")
        except ImportError:
            raise SimError("no_ray", "install ray to use a Ray cluster") from None
        ray.init(address=spec if "://" in spec else "auto")
        return RayExecutor(ray)
    raise SimError("bad_executor", f"executor must be local, serial, dask://host:port or ray, got {spec!r}")
