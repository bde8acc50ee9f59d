"""Durable journal throughput: commands/s that are applied, journaled and synced (SQLite WAL, synchronous=FULL)
before they are acknowledged.

Two ways in. `sqlite_concurrent`: concurrent submitters through one GroupCommitter (the venue's front), either
T asyncio tasks on one loop awaiting `submit_async` (how the venue's requests submit) or C threads each keeping W
futures outstanding; client k trades on its own pair of accounts (resting limit orders, crossing ones that fill,
cancels by client order id, deposits). The committer pipelines: a group is applied while the previous one is
appended and synced; every acknowledged command is checked durable at the end. Reported with events stored (the
default: idempotent replies, `replay --verify`) and without. `batches`: one caller, `submit_batch` of the seeded
crash stream in groups of 1, 16, 256 (synchronous, as the crash child uses it); PostgreSQL (127.0.0.1:5432/test)
is measured that way if reachable.
Usage: python bench/journal_throughput.py [--seconds 3] [--clients 8] [--tasks 256] [--window 32]  (one JSON line)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

try:
    from isomargin.journal import DurableEngine
except ModuleNotFoundError:  # running from a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from isomargin.journal import DurableEngine
from isomargin.engine import (
    BUILD,
    CancelOrder,
    Command,
    CreateAccount,
    Deposit,
    Engine,
    EngineFailed,
    ListInstrument,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetMarkPrice,
)
from isomargin.engine.events import Event
from isomargin.journal import EngineHalted, GroupCommitter
from isomargin.journal.crashchild import seeded_stream

PG = os.environ.get("ISOMARGIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BATCHES = (1, 16, 256)
MAX_CLIENTS = 64
PER_CLIENT = 40_000  # commands generated per client: more than 3 s of it at the rates seen


def setup(clients: int) -> list[Command]:
    out: list[Command] = [ListInstrument("BTCUSDT", venue="binance", ts=1)]
    for a in range(1, 2 * clients + 1):
        out += [CreateAccount(a, ts=1), Deposit(a, "USDT", Decimal(10**9), ts=1)]
    return [*out, SetMarkPrice("BTCUSDT", Decimal(60000), ts=1)]


def _order(account: int, side: OrderSide, price: int, client_order_id: str, ts: int) -> PlaceOrder:
    return PlaceOrder(account, "BTCUSDT", side, OrderType.LIMIT, Decimal("0.004"), Decimal(price),
                      client_order_id=client_order_id, ts=10 + ts)  # fmt: skip


def client_stream(k: int, n: int) -> list[Command]:
    """Client k's commands on accounts 2k+1 (maker) and 2k+2 (taker): per 8, a resting bid far from the market,
    a maker ask at 60000 and the taker's bid that fills it, a cancel of an earlier far bid, a deposit, more rests."""
    maker, taker = 2 * k + 1, 2 * k + 2
    out: list[Command] = []
    i = 0
    while len(out) < n:
        i += 1
        out += [
            _order(maker, OrderSide.BUY, 50000 + i % 100, f"far{k}-{i}", i),
            _order(maker, OrderSide.SELL, 60000, f"ask{k}-{i}", i),
            _order(taker, OrderSide.BUY, 60000, f"lift{k}-{i}", i),
            CancelOrder(maker, "BTCUSDT", client_order_id=f"far{k}-{i - 1}", ts=10 + i),
            Deposit(taker, "USDT", Decimal(1), ts=10 + i),
            _order(taker, OrderSide.SELL, 70000 + i % 100, f"far-ask{k}-{i}", i),
            _order(maker, OrderSide.BUY, 50000 + i % 50, f"bid{k}-{i}", i),
            CancelOrder(taker, "BTCUSDT", client_order_id=f"far-ask{k}-{i}", ts=10 + i),
        ]
    return out[:n]


def concurrent(target: str, clients: int, window: int, seconds: float, store_events: bool) -> dict[str, Any]:
    """Submitter threads, each with `window` futures outstanding."""
    streams = [client_stream(k, PER_CLIENT) for k in range(clients)]
    done = [0] * clients
    stop = threading.Event()
    with DurableEngine.open(target, store_events=store_events) as venue:
        venue.submit_batch(setup(clients))
        committer = GroupCommitter(venue)

        def client(k: int) -> None:
            outstanding: deque[Future[list[Event]]] = deque()
            for cmd in streams[k]:
                if stop.is_set():
                    break
                outstanding.append(committer.submit(cmd))
                if len(outstanding) >= window:
                    outstanding.popleft().result()
                    done[k] += 1
            for fut in outstanding:
                fut.result()
                done[k] += 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        committer.close()
        n, groups, durable = sum(done), committer.batches, venue.durable_seq - len(setup(clients))
    assert durable == n, f"{n} acknowledged but {durable} durable"
    return {
        "submitters": f"{clients} threads x {window} outstanding", "events_stored": store_events, "commands": n,
        "durable_commands_per_s": round(n / elapsed), "groups_per_s": round(groups / elapsed, 1),
        "mean_group": round(n / groups, 1) if groups else None,
    }  # fmt: skip


def concurrent_async(target: str, clients: int, tasks: int, seconds: float, store_events: bool) -> dict[str, Any]:
    """`tasks` coroutines on one event loop, each awaiting its command's acknowledgement before the next (the
    venue's requests: `submit_async`); task j plays client j % clients's stream from offset j // clients."""
    streams = [client_stream(k, PER_CLIENT) for k in range(clients)]
    done = 0
    with DurableEngine.open(target, store_events=store_events) as venue:
        venue.submit_batch(setup(clients))
        committer = GroupCommitter(venue)

        async def submitter(j: int, until: float) -> None:
            nonlocal done
            stream, stride = streams[j % clients], tasks // clients
            for i in range(j // clients, len(stream), stride):
                if time.perf_counter() >= until:
                    return
                await committer.submit_async(stream[i])
                done += 1

        async def run() -> float:
            t0 = time.perf_counter()
            await asyncio.gather(*(submitter(j, t0 + seconds) for j in range(tasks)))
            return time.perf_counter() - t0

        elapsed = asyncio.run(run())
        committer.close()
        groups, durable = committer.batches, venue.durable_seq - len(setup(clients))
    assert durable == done, f"{done} acknowledged but {durable} durable"
    return {
        "submitters": f"{tasks} asyncio tasks", "events_stored": store_events, "commands": done,
        "durable_commands_per_s": round(done / elapsed), "groups_per_s": round(groups / elapsed, 1),
        "mean_group": round(done / groups, 1) if groups else None,
    }  # fmt: skip


def batches(target: str, batch: int, seconds: float, stream: list[Command]) -> dict[str, Any]:
    with DurableEngine.open(target) as venue:
        n = syncs = 0
        stopped = None
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds and n + batch <= len(stream):
            try:
                venue.submit_batch(stream[n : n + batch])
            except EngineHalted as exc:  # the engine's own fail-stop on this stream: report, do not hide it
                n += exc.index
                stopped = exc.reason
                break
            n += batch
            syncs += 1
        elapsed = time.perf_counter() - t0
    row: dict[str, Any] = {"batch": batch, "commands": n, "durable_commands_per_s": round(n / elapsed),
                           "syncs_per_s": round(syncs / elapsed, 1)}  # fmt: skip
    if stopped is not None:
        row["stopped"] = f"engine_failed: {stopped}"
    return row


def engine_only(stream: list[Command]) -> int:
    engine = Engine()
    t0 = time.perf_counter()
    n = 0
    for cmd in stream:
        try:
            engine.apply(cmd)
        except EngineFailed:
            break
        n += 1
    return round(n / (time.perf_counter() - t0))


def pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    p.add_argument("--clients", type=int, default=8, help=f"submitter threads (at most {MAX_CLIENTS})")
    p.add_argument("--window", type=int, default=32, help="commands each submitter thread keeps outstanding")
    p.add_argument("--tasks", type=int, default=256, help="asyncio submitters (a multiple of --clients)")
    args = p.parse_args()
    clients = min(args.clients, MAX_CLIENTS)
    interleaved = [c for cmds in zip(*(client_stream(k, 5000) for k in range(clients)), strict=True) for c in cmds]
    stream = seeded_stream(42, 60_000)
    result: dict[str, Any] = {
        "bench": "journal_throughput", "engine": BUILD, "journal": "sqlite WAL synchronous=FULL",
        "engine_only_commands_per_s": {"concurrent_workload": engine_only(setup(clients) + interleaved),
                                       "seeded_stream": engine_only(stream)},
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="isomargin-bench-") as tmp:
        result["sqlite_concurrent"] = [
            *(concurrent_async(str(Path(tmp) / f"a{int(ev)}.sqlite3"), clients, args.tasks, args.seconds, ev)
              for ev in (True, False)),
            *(concurrent(str(Path(tmp) / f"t{int(ev)}.sqlite3"), clients, args.window, args.seconds, ev)
              for ev in (True, False)),
        ]  # fmt: skip
        result["sqlite_batches"] = [batches(str(Path(tmp) / f"b{b}.sqlite3"), b, args.seconds, stream) for b in BATCHES]
    if pg_reachable():
        import psycopg
        from psycopg import sql

        rows = []
        for b in BATCHES:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            try:
                rows.append(batches(f"{PG}{'&' if '?' in PG else '?'}schema={schema}", b, args.seconds, stream))
            finally:
                with psycopg.connect(PG, autocommit=True) as db:
                    db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        result["postgresql_batches"] = rows
    else:
        result["postgresql_batches"] = "skipped: 127.0.0.1:5432 not reachable"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
