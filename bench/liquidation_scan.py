"""Cost of a mark tick with N open isolated positions: the price-watch index against a naive full scan.

Positions are injected straight into engine state (money posted through the ledger as deposits and margin)
so a million can be set up without running a million orders through the matcher; the ticks themselves go
through `Engine.apply(SetMarkPrice)`, liquidations included. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from decimal import Decimal

from isomargin.engine import (
    CreateAccount,
    Deposit,
    Engine,
    ListInstrument,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    SetLeverage,
    SetMarkPrice,
)
from isomargin.engine.commands import MarginMode
from isomargin.engine.events import Event, Liquidated
from isomargin.engine.ledger import external_key, isolated_key, money, wallet_key
from isomargin.engine.state import Account, Setting

SYMBOL = "BTCUSDT"
LEVERAGE = 10
LP = 1  # the liquidity account: bids for liquidation orders, and the other side of every injected long


def build(n: int, seed: int) -> tuple[Engine, list[Decimal]]:
    """An engine with `n` isolated 0.001 BTC longs whose liquidation prices spread over 40,000–58,000
    (n up to about two million: entries are distinct cents in 44,200–64,090)."""
    e = Engine()
    e.apply(ListInstrument(SYMBOL, venue="simple", maker_fee=Decimal(0), taker_fee=Decimal(0)))
    e.apply(CreateAccount(LP))
    e.apply(Deposit(LP, "USDT", Decimal(10) ** 11))
    e.apply(SetLeverage(LP, SYMBOL, 100))
    e.apply(SetMarkPrice(SYMBOL, Decimal(60000)))
    rng = random.Random(seed)
    inst = e.instruments[SYMBOL]
    sink: list[Event] = []
    lots = 1  # 0.001 BTC
    qty = inst.qty(lots)
    lp_acct = e.accounts[LP]
    hedge = e.open_position(lp_acct, SYMBOL, PositionSide.BOTH)
    entries = rng.sample(range(4420000, 6409000), n)  # distinct entries: no two liquidation prices tie
    for i in range(n):
        account = 1000 + i
        acct = Account(account)
        acct.settings[SYMBOL] = Setting(MarginMode.ISOLATED, LEVERAGE)
        e.accounts[account] = acct
        # simple venue: LP = 0.905 × entry at 10×; entries 44,200–64,090 put LPs in 40,000–58,000.
        entry = Decimal(entries[i]) / 100
        notional = qty * entry
        margin = money(notional / LEVERAGE)
        e.ledger.post(external_key("USDT"), wallet_key(account, "USDT"), "USDT", margin, "deposit", sink)
        e.ledger.post(wallet_key(account, "USDT"), isolated_key(account, SYMBOL, "BOTH"), "USDT", margin, "im", sink)
        pos = e.open_position(acct, SYMBOL, PositionSide.BOTH)
        pos.isolated, pos.leverage, pos.lots, pos.cost = True, LEVERAGE, lots, notional
        hedge.lots -= lots
        hedge.cost += notional
        e.refresh(pos)
        sink.clear()
    e.refresh(hedge)
    lps = sorted((p.liquidation for p in e.positions[SYMBOL].values() if p.isolated and p.liquidation), reverse=True)
    return e, lps


def tick_us(e: Engine, marks: list[Decimal]) -> tuple[float, int]:
    liquidated = 0
    t0 = time.perf_counter()
    for m in marks:
        events = e.apply(SetMarkPrice(SYMBOL, m))
        liquidated += sum(1 for ev in events if isinstance(ev, Liquidated) and ev.step == "done")
    return (time.perf_counter() - t0) / len(marks) * 1e6, liquidated


def naive_us(e: Engine, marks: list[Decimal]) -> float:
    """What a scan of every position per tick costs (comparison only, no liquidation work)."""
    positions = list(e.positions[SYMBOL].values())
    t0 = time.perf_counter()
    for m in marks:
        _ = [p for p in positions if p.liquidation is not None and p.liquidation >= m]
    return (time.perf_counter() - t0) / len(marks) * 1e6


def measure(n: int, seed: int, freeze: bool) -> dict[str, object]:
    t0 = time.perf_counter()
    e, lps = build(n, seed)
    setup = time.perf_counter() - t0
    if freeze:  # what a long-running venue does after loading state: keep the cyclic GC off the old heap
        gc.collect()
        gc.freeze()
    quiet = [Decimal("60000.1") if i % 2 else Decimal(60000) for i in range(2000)]
    quiet_us, none = tick_us(e, quiet)
    scan_us = naive_us(e, quiet[:20])
    result: dict[str, object] = {
        "positions": n,
        "setup_s": round(setup, 1),
        "quiet_tick_us": round(quiet_us, 2),
        "naive_scan_us": round(scan_us, 1),
        "quiet_liquidations": none,
    }
    # A bid deep enough for every liquidation IOC (at or above each bankruptcy price).
    e.apply(PlaceOrder(LP, SYMBOL, OrderSide.BUY, OrderType.LIMIT, qty=Decimal(1000), price=Decimal(59000)))
    done = 0
    for k in (1, 100):  # five ticks each, median: one tick is too easily disturbed
        times, counts = [], []
        for _ in range(5):
            us, got = tick_us(e, [lps[done + k - 1]])  # a mark at the k-th highest remaining LP fires exactly k
            times.append(us)
            counts.append(got)
            done += k
            e.apply(SetMarkPrice(SYMBOL, Decimal(60000)))
        result[f"tick_liquidating_{k}_us"] = round(statistics.median(times), 1)
        result[f"liquidated_per_tick_{k}"] = counts
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-gc-freeze", action="store_true", help="leave the loaded state in the cyclic GC")
    args = parser.parse_args()
    runs = []
    for n in args.sizes.split(","):
        runs.append(measure(int(n), args.seed, not args.no_gc_freeze))
        gc.unfreeze()
    print(json.dumps({"bench": "liquidation_scan", "runs": runs}))


if __name__ == "__main__":
    main()
