"""A seeded command stream, and the child process the crash tests kill -9 while it journals that stream.

    python -m isomargin.journal.crashchild JOURNAL --seed 7 --count 5000 [--batch 32] [--snapshot-every 500]

The child recovers from JOURNAL, carries on with the stream from the first seq not yet journaled, and
after each group is durable writes `ack <last seq>` on stdout; at the end it writes `done <hash>`. If the engine
fails on a command (fail-stop: a bug), it acknowledges the durable prefix, writes `halted <reason>` and exits 0
(every restart would stop at the same command).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import TypeVar

from isomargin.engine import (
    AdjustMargin,
    CancelAllOrders,
    CancelOrder,
    Command,
    CreateAccount,
    Deposit,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetLeverage,
    SetMarginMode,
    SetMarkPrice,
    SettleFunding,
    Withdraw,
)
from isomargin.margin.numbers import MONEY

SYMBOL = "BTCUSDT"
ACCOUNTS = (1, 2, 3, 4, 5)
ISOLATED = (1, 2)
RISKY = 6  # isolated at RISKY_LEVERAGE on a small deposit: the mark's random walk liquidates it now and then
RISKY_LEVERAGE = 20
RISKY_SHARE = 0.06  # of the stream's commands: its market orders (taking positions) and top-ups
TICK = Decimal("0.1")
STEP = Decimal("0.001")
T = TypeVar("T")


def seeded_stream(seed: int, count: int) -> list[Command]:
    """`count` commands on Binance BTCUSDT for five accounts and a risky one, identical for a given seed (ts = 10 ms
    apart): resting and crossing limit orders, market orders, cancels, marks, funding, margin moves, liquidations."""
    with localcontext(MONEY):  # identical in every process, whatever another library did to the decimal context
        return _stream(seed, count)


def _stream(seed: int, count: int) -> list[Command]:
    rng = random.Random(seed)
    out: list[Command] = []

    def add(cmd: Command) -> None:
        out.append(cmd)

    def ts() -> int:
        return 1_700_000_000_000 + 10 * len(out)

    add(ListInstrument(SYMBOL, venue="binance", ts=ts()))
    for a in ACCOUNTS:
        add(CreateAccount(a, ts=ts()))
        add(Deposit(a, "USDT", Decimal(1_000_000), ts=ts()))
        add(SetLeverage(a, SYMBOL, 10, ts=ts()))
        if a in ISOLATED:
            add(SetMarginMode(a, SYMBOL, MarginMode.ISOLATED, ts=ts()))
    add(CreateAccount(RISKY, ts=ts()))
    add(Deposit(RISKY, "USDT", Decimal(3000), ts=ts()))
    add(SetMarginMode(RISKY, SYMBOL, MarginMode.ISOLATED, ts=ts()))
    add(SetLeverage(RISKY, SYMBOL, RISKY_LEVERAGE, ts=ts()))
    mark = Decimal(60000)
    add(SetMarkPrice(SYMBOL, mark, ts=ts()))
    placed: list[tuple[int, str]] = []
    while len(out) < count:
        if rng.random() < RISKY_SHARE:
            add(_risky(rng, ts()))
            continue
        r = rng.random()
        acct = rng.choice(ACCOUNTS)
        side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        qty = STEP * rng.randint(2, 50)
        if r < 0.45:
            price = (mark * (1 + Decimal(rng.randint(-100, 100)) / 10000)).quantize(TICK)
            coid = f"s{seed}-{len(out)}"
            placed.append((acct, coid))
            add(PlaceOrder(acct, SYMBOL, side, OrderType.LIMIT, qty, price, client_order_id=coid, ts=ts()))
        elif r < 0.55:
            add(PlaceOrder(acct, SYMBOL, side, OrderType.MARKET, qty, ts=ts()))
        elif r < 0.65 and placed:
            owner, coid = rng.choice(placed)
            add(CancelOrder(owner, SYMBOL, client_order_id=coid, ts=ts()))
        elif r < 0.80:
            mark = (mark * (1 + Decimal(rng.randint(-50, 50)) / 10000)).quantize(TICK)
            add(SetMarkPrice(SYMBOL, mark, ts=ts()))
        elif r < 0.85:
            add(Deposit(acct, "USDT", Decimal(rng.randint(1, 5000)), ts=ts()))
        elif r < 0.90:
            add(Withdraw(acct, "USDT", Decimal(rng.randint(1, 5000)), ts=ts()))
        elif r < 0.95:
            amount = Decimal(rng.randint(-200, 300))
            add(AdjustMargin(rng.choice(ISOLATED), SYMBOL, amount or Decimal(1), ts=ts()))
        elif r < 0.98:
            add(SettleFunding(SYMBOL, Decimal(rng.randint(-10, 10)) / 100000, ts=ts()))
        else:
            add(CancelAllOrders(acct, SYMBOL, ts=ts()))
    return out


def _risky(rng: random.Random, ts: int) -> Command:
    """The risky account's move: mostly a market order that crosses the resting book (a fill, and a 50x
    position a later mark move can liquidate), sometimes a top-up so it trades again after a liquidation."""
    if rng.random() < 0.2:
        return Deposit(RISKY, "USDT", Decimal(1000), ts=ts)
    side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
    return PlaceOrder(RISKY, SYMBOL, side, OrderType.MARKET, STEP * rng.randint(20, 50), ts=ts)


def retry_locked(opener: Callable[[], T], seconds: float = 10.0) -> T:
    """Open, waiting while a killed writer's lock is still held (PostgreSQL frees a dead session's lock
    once the server notices the closed socket)."""
    from isomargin.journal.errors import JournalError

    deadline = time.monotonic() + seconds
    while True:
        try:
            return opener()
        except JournalError as exc:
            if exc.code != "journal_locked" or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    from isomargin.journal.durable import DurableEngine
    from isomargin.journal.errors import EngineHalted

    p = argparse.ArgumentParser(prog="crashchild")
    p.add_argument("journal")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--batch", type=int, default=32, help="largest group; each group's size is random in 1..batch")
    p.add_argument("--snapshot-every", type=int, default=0)
    args = p.parse_args(argv)
    stream = seeded_stream(args.seed, args.count)
    venue = retry_locked(lambda: DurableEngine.open(args.journal, snapshot_every=args.snapshot_every))
    rng = random.Random(args.seed * 1_000_003 + venue.seq)
    write = os.write
    write(1, f"start {venue.seq}\n".encode())
    while venue.seq < len(stream):
        start = venue.seq
        group = stream[start : start + rng.randint(1, args.batch)]
        try:
            venue.submit_batch(group)
        except EngineHalted as exc:  # an engine bug (fail-stop): the prefix before it is durable, then stop
            write(1, f"ack {start + exc.index}\nhalted {exc.reason}\n".encode())
            venue.close()
            return 0
        write(1, f"ack {venue.seq}\n".encode())  # only after submit_batch returned: the group is durable
    write(1, f"done {venue.state_hash()}\n".encode())
    venue.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
