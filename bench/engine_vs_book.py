"""The full engine against its own bare book on one seeded stream of crossing GTC limit orders.

Stream (random.Random(seed)): N limit orders, random side, price 1..200 ticks above a 500.00 base, 1..4 lots,
random account out of 1,000 funded ones; SOLUSDT on the `simple` venue (tick 0.01, step 0.01, so every order
is at least the 5 USDT minimum notional). (a) `OrderBook.submit` alone; (b) `Engine.apply(PlaceOrder)` with
everything a venue does per order: validation, leverage tier and margin checks, holds, ledger, positions,
fills, events. Both run in lockstep chunks (book chunk, then the same chunk through the engine) so drift on
a noisy machine hits both alike; commands and book tuples are built before the clock starts. Neither loop
keeps its results (the book's MatchResult and the engine's events are dropped as a venue drops them after
publishing). `mode` says whether the book and engine modules are compiled (mypyc) or pure Python.

Usage: python bench/engine_vs_book.py [N] [--seed S] [--chunk C]; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

try:
    import isomargin.engine  # noqa: F401
except ModuleNotFoundError:  # running from a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from isomargin.engine import CreateAccount, Deposit, Engine, ListInstrument, OrderSide, OrderType, PlaceOrder
from isomargin.engine import book as book_module
from isomargin.engine import engine as engine_module
from isomargin.engine.book import OrderBook
from isomargin.engine.events import Rejected

ACCOUNTS = 1000
SYMBOL = "SOLUSDT"
BASE_TICKS = 50_000  # 500.00 at tick 0.01


def make_stream(n: int, seed: int) -> list[tuple[int, int, int, int]]:
    """(side, ticks above base, lots, account), identical for a given seed."""
    rng = random.Random(seed)
    return [
        (1 if rng.random() < 0.5 else -1, rng.randint(1, 200), rng.randint(1, 4), rng.randint(1, ACCOUNTS))
        for _ in range(n)
    ]


def engine_setup() -> Engine:
    engine = Engine()
    for cmd in (ListInstrument(SYMBOL, venue="simple"),):
        _must(engine, cmd)
    for a in range(1, ACCOUNTS + 1):
        _must(engine, CreateAccount(a))
        _must(engine, Deposit(a, "USDT", Decimal(10_000_000)))
    return engine


def _must(engine: Engine, cmd: object) -> None:
    events = engine.apply(cmd)  # type: ignore[arg-type]
    if events and isinstance(events[0], Rejected):
        raise RuntimeError(f"set-up command rejected: {events[0]}")


def compiled(module: object) -> bool:
    return str(getattr(module, "__file__", "")).endswith((".so", ".pyd"))


def run(n: int, seed: int, chunk: int) -> dict[str, object]:
    stream = make_stream(n, seed)
    tick, step = Decimal("0.01"), Decimal("0.01")
    commands = [
        PlaceOrder(a, SYMBOL, OrderSide(s), OrderType.LIMIT, lots * step, (BASE_TICKS + p) * tick, ts=i)
        for i, (s, p, lots, a) in enumerate(stream)
    ]
    book = OrderBook()
    submit = book.submit
    engine = engine_setup()
    apply = engine.apply
    book_s = engine_s = 0.0
    book_fills = 0
    clock = time.perf_counter
    for start in range(0, n, chunk):
        rows = stream[start : start + chunk]
        t0 = clock()
        for oid, (side, price, qty, account) in enumerate(rows, start + 1):
            book_fills += len(submit(oid, account, side, BASE_TICKS + price, qty).fills)
        t1 = clock()
        for cmd in commands[start : start + chunk]:
            apply(cmd)
        t2 = clock()
        book_s += t1 - t0
        engine_s += t2 - t1
    stats = _engine_stats(engine)
    book_rate, engine_rate = n / book_s, n / engine_s
    mode = "compiled" if compiled(book_module) and compiled(engine_module) else "pure"
    if compiled(book_module) != compiled(engine_module):
        mode = "mixed"
    return {
        "bench": "engine_vs_book",
        "orders": n,
        "mode": mode,
        "book_orders_per_s": round(book_rate),
        "engine_orders_per_s": round(engine_rate),
        "ratio": round(engine_rate / book_rate, 3),
        "book_seconds": round(book_s, 3),
        "engine_seconds": round(engine_s, 3),
        "book_fills": book_fills,
        "book_resting": len(book),
        **stats,
    }


def _engine_stats(engine: Engine) -> dict[str, object]:
    """Fills and resting orders on the engine side (the two sides must agree: same stream, same matching)."""
    stats = getattr(engine, "stats", None)
    if callable(stats):
        s = stats()
        return {"engine_fills": s["trades"], "engine_resting": s["resting"][SYMBOL], "engine_rejected": s["rejected"]}
    return {"engine_fills": engine.next_trade_id - 1, "engine_resting": len(engine.books[SYMBOL])}  # pre-v2 engine


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=lambda s: int(float(s)), default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk", type=int, default=50_000)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.n, args.seed, args.chunk)))


if __name__ == "__main__":
    main(sys.argv[1:])
