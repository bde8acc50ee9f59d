"""Journal replay of a coin-margined trading run: BTC- and USDT-settled markets side by side, isolated and cross,
fills, funding, margin moves, a liquidation and a dated future's delivery, journaled through the group commit,
then reopened: the same seq and state hash as a clean replay, every stored event equal to the replay's
(`verify_events`), and the state after it still trades."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from isomargin.engine import (
    AdjustMargin,
    CreateAccount,
    DeliverInstrument,
    Deposit,
    Engine,
    FundInsurance,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    Rejected,
    SetLeverage,
    SetMarginMode,
    SetMarkPrice,
    SettleFunding,
    queries,
    state_hash,
)
from isomargin.engine.events import Liquidated, Trade
from isomargin.journal import DurableEngine, GroupCommitter, open_journal, rebuild

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
PERP, QUARTER = "BTCUSD_PERP", "BTCUSD_200925"
EXPIRY = 1_601_020_800_000  # the quarterly's delivery time in the venue data (2020-09-25 08:00 UTC)


def limit(acct: int, symbol: str, side: OrderSide, qty: str, price: str, ts: int) -> PlaceOrder:
    return PlaceOrder(acct, symbol, side, OrderType.LIMIT, D(qty), D(price), ts=ts)


def run_commands() -> list[object]:
    """Account 1 goes long 10 contracts (1,000 USD face) of BTCUSD_PERP isolated at 10x from account 2 at 50,000;
    isolated margin = 1,000 / 50,000 / 10 = 0.002 BTC, liquidation near 1,004 / 0.022 ≈ 45,636 (Binance COIN-M
    tier 1, 0.4 %), so a mark of 45,000 liquidates it into account 3's resting bid. Accounts 2 and 3 also trade the
    quarterly, delivered at 40,000 after its expiry; BTCUSDT trades beside it in USDT."""
    ts = iter(range(1, 10_000))
    cmds: list[object] = [
        ListInstrument(PERP, venue="binancecoinm", ts=next(ts)),
        ListInstrument(QUARTER, venue="binancecoinm", expiry=EXPIRY, ts=next(ts)),
        ListInstrument("BTCUSDT", venue="binance", ts=next(ts)),
        FundInsurance("BTC", D(1), ts=next(ts)),
    ]
    for acct in (1, 2, 3):
        cmds += [CreateAccount(acct, ts=next(ts)), Deposit(acct, "BTC", D(1), ts=next(ts)),
                 Deposit(acct, "USDT", D(100_000), ts=next(ts))]  # fmt: skip
    cmds += [
        SetMarkPrice(PERP, D(50_000), ts=next(ts)),
        SetMarkPrice(QUARTER, D(50_000), ts=next(ts)),
        SetMarkPrice("BTCUSDT", D(50_000), ts=next(ts)),
        SetMarginMode(1, PERP, MarginMode.ISOLATED, ts=next(ts)),
        SetLeverage(1, PERP, 10, ts=next(ts)),
        limit(2, PERP, SELL, "1000", "50000", next(ts)),
        limit(1, PERP, BUY, "1000", "50000", next(ts)),
        AdjustMargin(1, PERP, D("0.0005"), ts=next(ts)),
        AdjustMargin(1, PERP, D("-0.0004"), ts=next(ts)),
        SettleFunding(PERP, D("0.0001"), ts=next(ts)),
        limit(2, QUARTER, BUY, "500", "50000", next(ts)),
        limit(3, QUARTER, SELL, "500", "50000", next(ts)),
        limit(2, "BTCUSDT", SELL, "0.1", "50000", next(ts)),
        limit(3, "BTCUSDT", BUY, "0.1", "50000", next(ts)),
        limit(3, PERP, BUY, "1000", "45000", next(ts)),  # the bid the liquidation meets
        SetMarkPrice(PERP, D(45_000), ts=next(ts)),
        SetMarkPrice("BTCUSDT", D(52_000), ts=next(ts)),
        DeliverInstrument(QUARTER, D(40_000), ts=EXPIRY + 1),
    ]
    return cmds


def test_an_inverse_run_replays_from_the_journal_to_the_same_state(tmp_path: Path) -> None:
    target = str(tmp_path / "journal.sqlite3")
    cmds = run_commands()
    clean = Engine()
    expected = [clean.apply(c) for c in cmds]  # type: ignore[arg-type]
    assert not [e for events in expected for e in events if isinstance(e, Rejected)], "the run is all accepted"
    assert [e for events in expected for e in events if isinstance(e, Liquidated)], "the mark move liquidates"
    assert len([e for events in expected for e in events if isinstance(e, Trade)]) >= 3
    with DurableEngine.open(target) as venue:
        committer = GroupCommitter(venue, pipeline_from=1)  # overlapping groups, as under load
        futures = [committer.submit(c) for c in cmds]  # type: ignore[arg-type]
        answers = [f.result(30) for f in futures]
        committer.close()
        assert [[e.to_dict() for e in a] for a in answers] == [[e.to_dict() for e in x] for x in expected]
        live_hash = venue.state_hash()
    assert live_hash == state_hash(clean)
    with DurableEngine.open(target) as again:
        assert again.seq == len(cmds) and again.state_hash() == live_hash
        pool = queries.position(again.engine, 1, PERP)
        assert pool is None  # liquidated: nothing of account 1's long is left after replay either
        after = again.submit(limit(2, PERP, SELL, "100", "46000", EXPIRY + 2))
        assert not [e for e in after if isinstance(e, Rejected)]  # the recovered state trades on
    journal = open_journal(target, read_only=True)
    try:
        checked = rebuild(journal, verify_events=True)
        assert checked.divergent == [] and checked.last_seq == len(cmds) + 1
    finally:
        journal.close()
