"""Kill -9 under load at the server (bench/server_crash.py's rounds, a few of them): a real `isomargin serve`,
four clients sending signed crossing orders for two accounts, SIGKILL at a random moment, restart on the same
data directory; every acknowledged order is there with its fills, no refused order exists, and the journal
rebuilt from its snapshot equals a full replay whose events match the journaled ones."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "server_crash.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("server_crash", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["server_crash"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_kill_9_under_load_loses_no_acknowledged_order(tmp_path: Path) -> None:
    figures = bench().run_rounds(6, clients=4, rounds_per_dir=3, seed=11, root=tmp_path, max_load_seconds=1.0)
    assert figures.rounds == 6 and figures.restarts_refused == 0, figures.notes
    assert figures.acknowledged_then_lost == 0 and figures.fills_regressed == 0, figures.notes
    assert figures.errored_present == 0 and figures.hash_mismatches == 0 and figures.divergent_events == 0
    # the load was real: orders acknowledged, filled against each other, and some refused
    assert figures.acknowledged > 100 and figures.trades > 50 and figures.filled_orders > 50
    assert figures.errors > 0
