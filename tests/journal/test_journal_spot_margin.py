"""Journal replay of a spot-margin run: two spot pairs (binance BTC-USDT on margin levels, okx ETH-USDT on tiers),
wallet and isolated margin accounts, transfers, borrows (a plain one and a MARGIN_BUY order's), AUTO_REPAY fills,
a rate change, hourly interest charged across odd hour boundaries, a user repay and a liquidation, journaled
through the group commit, then reopened: the same seq and state hash as a clean replay, every stored event equal
to the replay's (`verify_events`), and the state after it still trades and accrues."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from isomargin.engine import (
    CreateAccount,
    Deposit,
    Engine,
    FundInsurance,
    OrderSide,
    OrderType,
    Rejected,
    SetMarkPrice,
    spot_queries,
    state_hash,
)
from isomargin.engine.commands import (
    AccrueInterest,
    Borrow,
    ListSpotPair,
    MarginTransfer,
    PlaceSpotOrder,
    Repay,
    SetBorrowRate,
    SideEffect,
)
from isomargin.engine.spot_events import InterestCharged, Repaid, SpotLiquidated, SpotTrade
from isomargin.journal import DurableEngine, GroupCommitter, open_journal, rebuild

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
BTC, ETH = "BTC-USDT", "ETH-USDT"
HOUR = 3_600_000
T0 = 1_700_000_000_000 + 17 * 60_000 + 4_321  # 17 min 4.321 s past an hour (2023-11-14 22:17 UTC)


def limit(acct: int, symbol: str, side: OrderSide, qty: str, price: str, ts: int, isolated: bool = False,
          effect: SideEffect = SideEffect.NO_SIDE_EFFECT) -> PlaceSpotOrder:  # fmt: skip
    return PlaceSpotOrder(acct, symbol, side, OrderType.LIMIT, D(qty), D(price), isolated=isolated,
                          side_effect=effect, ts=ts)  # fmt: skip


def run_commands() -> list[object]:
    """Account 1 puts 10,000 USDT into its BTC-USDT margin account and buys 0.5 BTC at 60,000 with a MARGIN_BUY
    bid (borrowing the 20,000 USDT it lacks) from 2's wallet ask; an AUTO_REPAY sell of 0.1 BTC at 61,000 into
    3's wallet bid repays part of the loan. Hours are charged over boundaries the run crosses at odd minutes (a
    rate change in between), 1 moves 200 USDT in and repays 100 by hand, then a mark of 36,000 takes its margin level
    ((0.3995 BTC × 36,000 + 100) / 13,807.30 USDT owed ≈ 1.0489) below binance's 1.05: the liquidation sells into
    2's 35,500 bid and returns the rest to 1's wallet. On okx ETH-USDT 3 borrows 1 ETH, sells it and buys it back with
    AUTO_REPAY."""
    t = T0
    cmds: list[object] = [
        ListSpotPair(BTC, venue="binance", ts=t),
        ListSpotPair(ETH, venue="okx", ts=t + 1),
        FundInsurance("USDT", D(10_000), ts=t + 2),
        FundInsurance("BTC", D(1), ts=t + 3),
    ]
    for acct in (1, 2, 3):
        cmds += [CreateAccount(acct, ts=t + 4), Deposit(acct, "USDT", D(100_000), ts=t + 5),
                 Deposit(acct, "BTC", D(2), ts=t + 6), Deposit(acct, "ETH", D(10), ts=t + 7)]  # fmt: skip
    cmds += [
        SetMarkPrice(BTC, D(60_000), ts=t + 8),
        SetMarkPrice(ETH, D(3_000), ts=t + 9),
        MarginTransfer(1, BTC, "USDT", D(10_000), ts=t + 10),
        limit(2, BTC, SELL, "0.5", "60000", t + 11),
        limit(1, BTC, BUY, "0.5", "60000", t + 12, isolated=True, effect=SideEffect.MARGIN_BUY),  # borrows 20,000
        limit(3, BTC, BUY, "0.1", "61000", t + 13),
        limit(1, BTC, SELL, "0.1", "61000", t + 14, isolated=True, effect=SideEffect.AUTO_REPAY),
        MarginTransfer(3, ETH, "USDT", D(3_000), ts=t + 15),
        Borrow(3, ETH, "ETH", D(1), ts=t + 16),
        limit(2, ETH, BUY, "1", "3000", t + 17),
        limit(3, ETH, SELL, "1", "3000", t + 18, isolated=True),
        AccrueInterest(ts=t + 2 * HOUR + 5 * 60_000),  # two boundaries crossed since the borrows
        SetBorrowRate(BTC, "USDT", D("0.0005"), ts=t + 2 * HOUR + 50 * 60_000),  # catches up to 00:00 first
        limit(2, ETH, SELL, "1.001", "2990", t + 3 * HOUR),
        limit(3, ETH, BUY, "1.001", "2990", t + 3 * HOUR + 1, isolated=True, effect=SideEffect.AUTO_REPAY),
        AccrueInterest(ts=t + 5 * HOUR + 11 * 60_000 + 7),
        MarginTransfer(1, BTC, "USDT", D(200), ts=t + 5 * HOUR + 12 * 60_000),  # the auto-repay spent its USDT
        Repay(1, BTC, "USDT", D(100), ts=t + 5 * HOUR + 13 * 60_000),
        limit(2, BTC, BUY, "1", "35500", t + 6 * HOUR),  # the bid the liquidation meets
        SetMarkPrice(BTC, D(36_000), ts=t + 7 * HOUR + 42 * 60_000 + 1),
        SetMarkPrice(BTC, D(58_000), ts=t + 8 * HOUR),
        AccrueInterest(ts=t + 9 * HOUR + 59 * 60_000),
    ]
    return cmds


def test_a_spot_margin_run_replays_from_the_journal_to_the_same_state(tmp_path: Path) -> None:
    target = str(tmp_path / "journal.sqlite3")
    cmds = run_commands()
    clean = Engine()
    expected = [clean.apply(c) for c in cmds]  # type: ignore[arg-type]
    flat = [e for events in expected for e in events]
    assert not [e for e in flat if isinstance(e, Rejected)], "the run is all accepted"
    assert [e for e in flat if isinstance(e, SpotLiquidated) and e.account == 1], "the mark move liquidates"
    assert {e.auto for e in flat if isinstance(e, Repaid)} == {"user", "auto_repay", "liquidation"}
    assert len([e for e in flat if isinstance(e, SpotTrade)]) >= 5
    assert any(isinstance(e, InterestCharged) and e.hours >= 2 for e in flat), "hours charged at once"
    assert spot_queries.margin_account(clean, 1, BTC)["assets"]["USDT"]["borrowed"] == 0  # type: ignore[index]
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
        assert spot_queries.margin_account(again.engine, 1, BTC) == spot_queries.margin_account(clean, 1, BTC)
        assert spot_queries.margin_account(again.engine, 3, ETH) == spot_queries.margin_account(clean, 3, ETH)
        after = again.submit(MarginTransfer(1, BTC, "USDT", D(500), ts=T0 + 10 * HOUR))
        assert not [e for e in after if isinstance(e, Rejected)]  # the recovered state takes margin again
    journal = open_journal(target, read_only=True)
    try:
        checked = rebuild(journal, verify_events=True)
        assert checked.divergent == [] and checked.last_seq == len(cmds) + 1
    finally:
        journal.close()
