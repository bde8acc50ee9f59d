"""Journal replay of an isolated-options run: OKX BTC-USD call and put listed, the family's index, marks set
directly and from implied vols at advancing times, opening trades (a tier-2 short among them), margin added to and
taken from a short's pool, a partial liquidation one tier down and the expiry settlement, journaled through the
group commit, then reopened: the same seq and state hash as a clean replay, every stored event equal to the
replay's (`verify_events`), and the state after it still lists and trades."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from isomargin.engine import CreateAccount, Deposit, Engine, OrderSide, Rejected, options_queries, state_hash
from isomargin.engine.commands import (
    AdjustOptionMargin,
    ListOption,
    PlaceOptionOrder,
    SetMarkPrice,
    SetOptionVol,
    SettleOptions,
)
from isomargin.engine.options_events import (
    OptionDelisted,
    OptionLiquidated,
    OptionMarked,
    OptionSettled,
    OptionTrade,
)
from isomargin.journal import DurableEngine, GroupCommitter, open_journal, rebuild

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
FAMILY = "BTC-USD"
CALL, PUT = "BTC-USD-261225-100000-C", "BTC-USD-261225-90000-P"
EXPIRY = 1_798_185_600_000  # 2026-12-25 08:00 UTC
DAY = 86_400_000
T0 = EXPIRY - 40 * DAY + 3_723_456  # some odd time of day, 40 days before the expiry


def order(acct: int, symbol: str, side: OrderSide, qty: int, price: str, ts: int) -> PlaceOptionOrder:
    return PlaceOptionOrder(acct, symbol, side, D(qty), D(price), ts=ts)


def run_commands() -> list[object]:
    """Account 2 sells 1 15,000 calls at 0.01 (tier 2, factor 1.02: its pool holds 16.815 BTC); 4 sells 1 100 puts
    at 0.005 and moves 0.5 BTC into its pool and 0.2 back out. Marks come from implied vols a day apart. With the
    index at 96,000 and 3's 5,000-contract ask at 0.05, a call mark of 0.05 takes 2's ratio to about 0.77: one
    tier down, 5,000 contracts bought back from 3's ask (2 stays short 10,000 at about 116 %). At the expiry the
    family settles at 104,000: the calls pay 4,000/104,000 BTC per BTC of underlying, the puts nothing."""
    t = T0
    cmds: list[object] = [ListOption(CALL, ts=t), ListOption(PUT, ts=t + 1)]
    for acct in (1, 2, 3, 4):
        cmds += [CreateAccount(acct, ts=t + 2), Deposit(acct, "BTC", D(1000), ts=t + 3)]
    cmds += [
        SetMarkPrice(FAMILY, D(95_000), ts=t + 4),
        SetMarkPrice(CALL, D("0.01"), ts=t + 5),
        SetOptionVol(PUT, D("0.5"), ts=t + 6),
        order(2, CALL, SELL, 15_000, "0.01", t + 7),
        order(1, CALL, BUY, 15_000, "0.01", t + 8),
        order(4, PUT, SELL, 100, "0.005", t + 9),
        order(1, PUT, BUY, 100, "0.005", t + 10),
        AdjustOptionMargin(4, PUT, D("0.5"), ts=t + 11),
        AdjustOptionMargin(4, PUT, D("-0.2"), ts=t + 12),
        SetOptionVol(PUT, D("0.55"), ts=t + DAY),
        SetMarkPrice(FAMILY, D(96_000), ts=t + DAY + 1),
        order(3, CALL, SELL, 5_000, "0.05", t + DAY + 2),  # the asks the buy-back takes
        SetMarkPrice(CALL, D("0.05"), ts=t + DAY + 3),  # 2 is partially liquidated
        SetOptionVol(PUT, D("0.6"), ts=t + 2 * DAY),
        order(1, CALL, SELL, 100, "0.06", t + 2 * DAY + 1),  # rests: settlement cancels it
        SettleOptions(FAMILY, EXPIRY, D(104_000), ts=EXPIRY),
    ]
    return cmds


def test_an_options_run_replays_from_the_journal_to_the_same_state(tmp_path: Path) -> None:
    target = str(tmp_path / "journal.sqlite3")
    cmds = run_commands()
    clean = Engine()
    expected = [clean.apply(c) for c in cmds]  # type: ignore[arg-type]
    flat = [e for events in expected for e in events]
    assert not [e for e in flat if isinstance(e, Rejected)], "the run is all accepted"
    steps = [e for e in flat if isinstance(e, OptionLiquidated)]
    assert [(e.account, e.step, e.qty) for e in steps] == [(2, "partial", D(5000))], "one tier down, then it stops"
    assert len([e for e in flat if isinstance(e, OptionTrade)]) == 3
    assert len([e for e in flat if isinstance(e, OptionMarked)]) >= 4
    settled = {(e.account, e.symbol): e.payout for e in flat if isinstance(e, OptionSettled)}
    # 1 is long 15,000 calls (150 BTC of underlying): ⌊150 × 4,000/104,000 × 10^10⌋ quanta
    assert settled[(1, CALL)] == D(150 * 4_000 * 10**10 // 104_000) / 10**10
    assert {e.symbol for e in flat if isinstance(e, OptionDelisted)} == {CALL, PUT}
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
        assert options_queries.options(again.engine) == options_queries.options(clean) == []
        assert options_queries.index_price(again.engine, FAMILY) == options_queries.index_price(clean, FAMILY)
        nxt = "BTC-USD-270326-100000-C"
        trades_on = [
            ListOption(nxt, ts=EXPIRY + 1),
            SetMarkPrice(nxt, D("0.02"), ts=EXPIRY + 2),
            order(4, nxt, SELL, 10, "0.02", EXPIRY + 3),
            order(3, nxt, BUY, 10, "0.02", EXPIRY + 4),
        ]
        for cmd in trades_on:
            after = again.submit(cmd)
            assert not [e for e in after if isinstance(e, Rejected)], after  # the recovered state trades on
    journal = open_journal(target, read_only=True)
    try:
        checked = rebuild(journal, verify_events=True)
        assert checked.divergent == [] and checked.last_seq == len(cmds) + 4
    finally:
        journal.close()
