"""Liquidations inside one mark tick, with N open isolated positions set up through ordinary commands.

Set-up (timed, `setup_s`): one cross liquidity account; N traders, each CreateAccount (id allocated by the engine),
Deposit (exactly the initial margin), SetMarginMode ISOLATED, SetLeverage 10 and an IOC buy of 0.001 BTC at the
liquidity account's ask,
which is moved every `GROUP` traders so entries — and so liquidation prices — spread over 44,200–64,090 on the
`simple` venue (LP = 0.905 × entry). Then a deep bid just under the market takes the liquidation IOCs.
Ticks, each through `Engine.apply(SetMarkPrice)`: quiet ticks that liquidate nothing; a tick at a price that
liquidates exactly 1 position, and one that liquidates exactly 100 (medians of five); and one cascade tick that
liquidates `--cascade` positions at once, reported as liquidations per second inside that tick. Prints one JSON line.
`--restore` also times restoring the whole state from its snapshot (what a venue does at restart).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

try:
    import isomargin.engine  # noqa: F401
except ModuleNotFoundError:  # running from a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from isomargin.engine import (
    CreateAccount,
    Deposit,
    Engine,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    Rejected,
    SetLeverage,
    SetMarginMode,
    SetMarkPrice,
    TimeInForce,
    queries,
    restore,
    snapshot,
)
from isomargin.engine.events import AccountCreated, Event, Liquidated

SYMBOL = "BTCUSDT"
LEVERAGE = 10
GROUP = 25  # traders per entry price
QTY = Decimal("0.001")
LOW, HIGH = 4_420_000, 6_409_000  # entry range in cents: 44,200.00 .. 64,090.00


def must(engine: Engine, cmd: object) -> list[Event]:
    events = engine.apply(cmd)  # type: ignore[arg-type]
    if events and isinstance(events[0], Rejected):
        raise RuntimeError(f"{type(cmd).__name__} rejected: {events[0].code} {events[0].message}")
    return events


SINGLES = 5  # the highest entries hold one position each, for the ticks that must liquidate exactly one


def entries(n: int) -> list[tuple[Decimal, int]]:
    """(entry price, traders at it): SINGLES alone at the top of the range, the rest GROUP to a price, spread
    evenly over the range (a tick is 0.1)."""
    sizes = [1] * SINGLES + [GROUP] * ((n - SINGLES) // GROUP)
    if sum(sizes) < n:
        sizes.append(n - sum(sizes))
    span = (HIGH - LOW) // 10  # in 0.1 ticks
    k = len(sizes)
    return [(Decimal(HIGH // 10 - span * g // k) / 10, size) for g, size in enumerate(sizes)]


def build(n: int) -> tuple[Engine, list[tuple[Decimal, int]]]:
    e = Engine()
    must(e, ListInstrument(SYMBOL, venue="simple", maker_fee=Decimal(0), taker_fee=Decimal(0)))
    lp = next(ev.account for ev in must(e, CreateAccount()) if isinstance(ev, AccountCreated))
    must(e, Deposit(lp, "USDT", Decimal(10) ** 11))
    must(e, SetLeverage(lp, SYMBOL, 100))
    groups = entries(n)
    for price, count in reversed(groups):  # lowest first: raising the mark never liquidates what is open
        must(e, SetMarkPrice(SYMBOL, price))  # market buys fill within the band around mark
        must(e, PlaceOrder(lp, SYMBOL, OrderSide.SELL, OrderType.LIMIT, QTY * count, price))
        for _ in range(count):
            acct = next(ev.account for ev in must(e, CreateAccount()) if isinstance(ev, AccountCreated))
            must(e, Deposit(acct, "USDT", price * QTY / LEVERAGE))
            must(e, SetMarginMode(acct, SYMBOL, MarginMode.ISOLATED))
            must(e, SetLeverage(acct, SYMBOL, LEVERAGE))
            must(e, PlaceOrder(acct, SYMBOL, OrderSide.BUY, OrderType.LIMIT, QTY, price, tif=TimeInForce.IOC))
    must(e, SetMarkPrice(SYMBOL, Decimal(64_100)))
    # A bid deep enough for every liquidation IOC and above every bankruptcy price (so each one fills there, the
    # remainder going to the fund): the book absorbs the cascade, as a liquid venue's would.
    must(e, PlaceOrder(lp, SYMBOL, OrderSide.BUY, OrderType.LIMIT, QTY * n, Decimal(64_000)))
    return e, [(price * Decimal("0.905"), count) for price, count in groups]  # simple venue: LP = 0.905 × entry


def tick(e: Engine, mark: Decimal) -> tuple[float, int]:
    cmd = SetMarkPrice(SYMBOL, mark)
    t0 = time.perf_counter()
    events = e.apply(cmd)
    seconds = time.perf_counter() - t0
    return seconds, sum(1 for ev in events if isinstance(ev, Liquidated) and ev.step == "done")


def measure(n: int, cascade: int, with_restore: bool) -> dict[str, object]:
    t0 = time.perf_counter()
    e, lps = build(n)
    setup = time.perf_counter() - t0
    gc.collect()
    gc.freeze()  # what a long-running venue does after loading state: keep the cyclic GC off the old heap
    result: dict[str, object] = {"positions": n, "setup_s": round(setup, 1)}
    if with_restore:
        data = snapshot(e)
        t0 = time.perf_counter()
        restored = restore(data)
        result["restore_s"] = round(time.perf_counter() - t0, 1)
        assert queries.stats(restored)["positions"] == queries.stats(e)["positions"]
        del restored, data
    quiet = [tick(e, Decimal("64100.1") if i % 2 else Decimal(64_100))[0] for i in range(1000)]
    result["quiet_tick_us"] = round(statistics.median(quiet) * 1e6, 1)
    levels = iter(lps)  # highest first: a mark at a level liquidates that level's positions and none below
    for label, want in (("1", 1), ("100", 100)):
        times, counts = [], []
        for _ in range(5):
            got_positions, mark = 0, None
            while got_positions < want:
                mark, count = next(levels)
                got_positions += count
            assert mark is not None
            seconds, got = tick(e, mark)
            times.append(seconds)
            counts.append(got)
            tick(e, Decimal(64_100))
        result[f"tick_liquidating_{label}_us"] = round(statistics.median(times) * 1e6, 1)
        result[f"liquidated_per_tick_{label}"] = counts
    got_positions, mark = 0, None
    while got_positions < cascade:
        mark, count = next(levels)
        got_positions += count
    assert mark is not None
    seconds, got = tick(e, mark)
    result["cascade_liquidations"] = got
    result["cascade_tick_s"] = round(seconds, 3)
    result["cascade_liquidations_per_s"] = round(got / seconds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--cascade", type=int, default=10_000, help="positions the cascade tick liquidates")
    parser.add_argument("--restore", action="store_true", help="also time restoring the state from a snapshot")
    args = parser.parse_args()
    from isomargin import engine as pkg

    runs = []
    for size in args.sizes.split(","):
        n = int(float(size))
        runs.append(measure(n, min(args.cascade, n // 2), args.restore))
        gc.unfreeze()
    print(json.dumps({"bench": "liquidation_scan", "build": getattr(pkg, "BUILD", "pure"), "runs": runs}))


if __name__ == "__main__":
    main()
