"""Durable journal throughput: commands/s through DurableEngine with group commit, per batch size.

A seeded stream (isomargin.journal.crashchild.seeded_stream: orders, cancels, mark moves, transfers on
Binance BTCUSDT) is submitted in groups of 1, 16 and 256; each group is applied, appended in one
transaction and synced once before the call returns. Reported per backend and batch size: durable
commands/s end to end, syncs/s, and the share of time spent in the journal (append + sync). SQLite is a
temporary file (WAL, synchronous=FULL); PostgreSQL is 127.0.0.1:5432/test (skipped if unreachable).
Usage: python bench/journal_throughput.py [--seconds 3]   prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

try:
    from isomargin.journal import DurableEngine
except ModuleNotFoundError:  # running from a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from isomargin.journal import DurableEngine
from isomargin.engine import Engine
from isomargin.journal.crashchild import seeded_stream
from isomargin.journal.record import Record

PG = os.environ.get("ISOMARGIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BATCHES = (1, 16, 256)
STREAM = seeded_stream(42, 60_000)


def measure(target: str, batch: int, seconds: float) -> dict[str, Any]:
    with DurableEngine.open(target) as venue:
        journal_time = 0.0
        append = venue.journal.append

        def timed(records: list[Record]) -> None:
            nonlocal journal_time
            t = time.perf_counter()
            append(records)
            journal_time += time.perf_counter() - t

        venue.journal.append = timed  # type: ignore[method-assign]
        n = syncs = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds and n + batch <= len(STREAM):
            venue.submit_batch(STREAM[n : n + batch])
            n += batch
            syncs += 1
        elapsed = time.perf_counter() - t0
    return {
        "batch": batch,
        "commands": n,
        "commands_per_s": round(n / elapsed),
        "syncs_per_s": round(syncs / elapsed, 1),
        "journal_share": round(journal_time / elapsed, 3),
        "journal_only_commands_per_s": round(n / journal_time) if journal_time else None,
    }


def engine_only(n: int = 20_000) -> int:
    engine = Engine()
    t0 = time.perf_counter()
    for cmd in STREAM[:n]:
        engine.apply(cmd)
    return round(n / (time.perf_counter() - t0))


def pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=3.0, help="time per backend and batch size")
    args = p.parse_args()
    result: dict[str, Any] = {"bench": "journal_throughput", "engine_only_commands_per_s": engine_only()}
    with tempfile.TemporaryDirectory(prefix="isomargin-bench-") as tmp:
        result["sqlite"] = [measure(str(Path(tmp) / f"b{b}.sqlite3"), b, args.seconds) for b in BATCHES]
    if pg_reachable():
        import psycopg
        from psycopg import sql

        rows = []
        for b in BATCHES:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            try:
                rows.append(measure(f"{PG}{'&' if '?' in PG else '?'}schema={schema}", b, args.seconds))
            finally:
                with psycopg.connect(PG, autocommit=True) as db:
                    db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        result["postgresql"] = rows
    else:
        result["postgresql"] = "skipped: 127.0.0.1:5432 not reachable"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
