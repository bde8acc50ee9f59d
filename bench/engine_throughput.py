"""Engine throughput: whole commands through `Engine.apply`, margin checks, holds, ledger and events included.

Two seeded streams (random.Random(7)), each on a fresh engine with 1000 funded accounts:

- "mix": BTCUSDT (binance), leverage 10. About 6 % of commands trade (market orders and limits priced
  through the touch); the rest place passive GTC limits, cancel them or amend them (by client order id).
- "crossing": the classic order-book benchmark through the engine: GTC limits at 1..200 ticks above a
  500.00 base on SOLUSDT (venue "simple", tick 0.01, step 0.01, so 1..4 lots is always ≥ the 5 USDT minimum
  notional), random side, random account. bench/book_throughput.py runs the same stream on the bare book.

Commands are built before the clock starts; only the `apply` loop is timed.
Usage: python bench/engine_throughput.py [MIX_N] [CROSSING_N]   (defaults 200,000 each); prints one JSON line.
"""

from __future__ import annotations

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

from isomargin.engine import (
    AmendOrder,
    CancelOrder,
    Command,
    CreateAccount,
    Deposit,
    Engine,
    ListInstrument,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetLeverage,
    SetMarkPrice,
    TimeInForce,
)
from isomargin.engine.events import Rejected, Trade

ACCOUNTS = 1000
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def _setup(engine: Engine, symbol: str, venue: str, mark: Decimal, leverage: int | None) -> None:
    commands: list[Command] = [ListInstrument(symbol, venue=venue)]
    for a in range(1, ACCOUNTS + 1):
        commands += [CreateAccount(a), Deposit(a, "USDT", Decimal(10_000_000))]
        if leverage is not None:
            commands.append(SetLeverage(a, symbol, leverage))
    commands.append(SetMarkPrice(symbol, mark))
    for cmd in commands:
        events = engine.apply(cmd)
        if isinstance(events[0], Rejected):
            raise RuntimeError(f"set-up command rejected: {events[0]}")


def mix_stream(n: int, rng: random.Random) -> tuple[list[Command], int]:
    """(commands, how many of them are meant to trade)."""
    tick = Decimal("0.1")
    mark_ticks = 600_000  # 60,000.0
    live: list[tuple[int, str, int]] = []  # (account, client id, side) of passive orders, some long gone
    commands: list[Command] = []
    trades = 0
    for i in range(n):
        r = rng.random()
        account = rng.randint(1, ACCOUNTS)
        if r < 0.06:  # trade: a market order, or a limit through the touch
            trades += 1
            side = BUY if rng.random() < 0.5 else SELL
            qty = Decimal(rng.randint(2, 10)) / 1000
            if rng.random() < 0.5:
                commands.append(PlaceOrder(account, "BTCUSDT", side, OrderType.MARKET, qty, ts=i))
            else:
                price = (mark_ticks + side * 30) * tick
                commands.append(
                    PlaceOrder(account, "BTCUSDT", side, OrderType.LIMIT, qty, price, tif=TimeInForce.IOC, ts=i)
                )
        elif r < 0.56 or not live:  # a passive limit 1..200 ticks behind the mark
            side = BUY if rng.random() < 0.5 else SELL
            price = (mark_ticks - side * rng.randint(1, 200)) * tick
            qty = Decimal(rng.randint(2, 10)) / 1000
            cid = f"m{i}"
            live.append((account, cid, side))
            commands.append(
                PlaceOrder(account, "BTCUSDT", side, OrderType.LIMIT, qty, price, client_order_id=cid, ts=i)
            )
        else:
            j = rng.randrange(len(live))
            account, cid, side = live[j]
            if r < 0.80:  # cancel
                live[j] = live[-1]
                live.pop()
                commands.append(CancelOrder(account, "BTCUSDT", client_order_id=cid, ts=i))
            else:  # amend: a new quantity, or a new passive price on the same side
                if rng.random() < 0.5:
                    qty = Decimal(rng.randint(2, 10)) / 1000
                    commands.append(AmendOrder(account, "BTCUSDT", client_order_id=cid, qty=qty, ts=i))
                else:
                    price = (mark_ticks - side * rng.randint(1, 200)) * tick
                    commands.append(AmendOrder(account, "BTCUSDT", client_order_id=cid, price=price, ts=i))
    return commands, trades


def crossing_stream(n: int, rng: random.Random) -> list[Command]:
    tick = Decimal("0.01")
    base = 50_000  # ticks: 500.00
    return [
        PlaceOrder(
            rng.randint(1, ACCOUNTS),
            "SOLUSDT",
            BUY if rng.random() < 0.5 else SELL,
            OrderType.LIMIT,
            Decimal(rng.randint(1, 4)) / 100,
            (base + rng.randint(1, 200)) * tick,
            ts=i,
        )
        for i in range(n)
    ]


def _run(engine: Engine, commands: list[Command]) -> tuple[float, int, int, int]:
    """(seconds, fills, rejected, commands that traded)."""
    apply = engine.apply
    t0 = time.perf_counter()
    results = [apply(cmd) for cmd in commands]
    seconds = time.perf_counter() - t0
    fills = rejected = traded = 0
    for events in results:
        if isinstance(events[0], Rejected):
            rejected += 1
            continue
        n = sum(1 for e in events if isinstance(e, Trade))
        fills += n
        traded += n > 0
    return seconds, fills, rejected, traded


def run(mix_n: int, crossing_n: int) -> dict[str, object]:
    rng = random.Random(7)
    mix, _ = mix_stream(mix_n, rng)
    crossing = crossing_stream(crossing_n, rng)

    engine = Engine()
    _setup(engine, "BTCUSDT", "binance", Decimal(60_000), 10)
    mix_s, mix_fills, mix_rejected, mix_traded = _run(engine, mix)

    engine = Engine()
    _setup(engine, "SOLUSDT", "simple", Decimal("501.00"), None)
    cross_s, cross_fills, cross_rejected, _ = _run(engine, crossing)
    return {
        "bench": "engine_throughput",
        "build": _build_mode(),
        "mix_commands": mix_n,
        "mix_seconds": round(mix_s, 3),
        "mix_per_s": round(mix_n / mix_s),
        "mix_trade_fraction": round(mix_traded / mix_n, 4),
        "mix_fills": mix_fills,
        "mix_rejected": mix_rejected,
        "crossing_orders": crossing_n,
        "crossing_seconds": round(cross_s, 3),
        "crossing_per_s": round(crossing_n / cross_s),
        "fills": cross_fills,
        "crossing_rejected": cross_rejected,
        "resting": _resting(engine, "SOLUSDT"),
    }


def _resting(engine: Engine, symbol: str) -> int:
    stats = getattr(engine, "stats", None)
    if callable(stats):
        return int(stats()["resting"][symbol])
    return len(engine.books[symbol])  # pre-v2 engine (the baseline this bench is compared with)


def _build_mode() -> str:
    import isomargin.engine as pkg

    return str(getattr(pkg, "BUILD", "pure"))


def main(argv: list[str]) -> None:
    mix_n = int(float(argv[1])) if len(argv) > 1 else 200_000
    crossing_n = int(float(argv[2])) if len(argv) > 2 else mix_n
    print(json.dumps(run(mix_n, crossing_n)))


if __name__ == "__main__":
    main(sys.argv)
