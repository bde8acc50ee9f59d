"""Regressions for engine bugs the spot-margin state machine found (each failed before its fix): the hours due are
charged before a liquidation repays; OKX's max borrowable uses the tier the loan lands in; interest caught up by a
rate change is measured."""

from __future__ import annotations

from decimal import Decimal

from isomargin.engine import CreateAccount, Deposit, Engine, Rejected, SetMarkPrice, queries, spot_queries
from isomargin.engine.codes import Code
from isomargin.engine.commands import Borrow, ListSpotPair, MarginTransfer, SetBorrowRate
from isomargin.engine.spot_events import SpotLiquidated

D = Decimal
H = 3_600_000


def _engine(pair: str, venue: str, usdt: int, *cmds: object) -> Engine:
    e = Engine(debug=True)
    mark = D(60000) if pair == "BTC-USDT" else D(3000)
    for c in (ListSpotPair(pair, venue=venue, maker_fee=D(0), taker_fee=D(0)) if venue == "binance" else
              ListSpotPair(pair, venue=venue), CreateAccount(1), Deposit(1, "USDT", D(usdt)),
              SetMarkPrice(pair, mark), MarginTransfer(1, pair, "USDT", D(usdt)), *cmds):  # fmt: skip
        ev = e.apply(c)  # type: ignore[arg-type]
        assert not (ev and isinstance(ev[0], Rejected)), (c, ev)
    return e


def test_a_liquidation_charges_the_hours_due_before_it_repays() -> None:
    """Borrow 8 BTC at 10:30 (first hour 8 × 0.00024 / 24 = 0.00008 BTC charged at once); at 13:30 the loan has
    been outstanding at 11:00, 12:00 and 13:00: AccrueInterest or a Repay then charges 3 × 0.00008 more. A
    liquidation at 13:30 repays and closes the loan without charging them (spot_liquidation settles the debt
    without Spot.catch_up), so the lender never gets those hours."""
    e = _engine("BTC-USDT", "binance", 1000, SetMarkPrice("BTC-USDT", D(100), ts=10 * H),
                Borrow(1, "BTC-USDT", "BTC", D(8), ts=10 * H + 1_800_000))  # fmt: skip
    events = e.apply(SetMarkPrice("BTC-USDT", D(2600), ts=13 * H + 1_800_000))  # level ≈ 1.048 < 1.05
    assert any(isinstance(ev, SpotLiquidated) for ev in events)
    assert queries.ledger_balance(e, "lending:BTC") == 4 * D("0.00008")


def test_okx_max_borrowable_respects_the_tier_the_loan_lands_in() -> None:
    """2,000,000 USDT in an okx ETH-USDT margin account at 3,000: max_borrowable says 5,000 ETH (tier 1's 10x on
    the net assets, capped by the borrow limit), and Borrow accepts 4,500 ETH (13.5 M USDT) — a liability in
    ETH tier 9 (max leverage 3, mmr 16 %): maintenance ratio 2 M / (13.5 M × (0.16 + 1.16 × 0.001)) ≈ 0.865,
    liquidatable at once (the next mark at the same price liquidates part of it). With each tier's leverage the
    most is about 2,666.67 ETH (tier 6: L ≤ 4 × 2 M)."""
    e = _engine("ETH-USDT", "okx", 2_000_000)
    view = spot_queries.margin_account(e, 1, "ETH-USDT")
    assert view is not None
    assert view["assets"]["ETH"]["max_borrowable"] < D("2667")
    events = e.apply(Borrow(1, "ETH-USDT", "ETH", D(4500)))
    assert isinstance(events[0], Rejected) and events[0].code is Code.ABOVE_MAX_BORROWABLE


def test_interest_caught_up_by_a_rate_change_is_measured() -> None:
    """SetBorrowRate charges every loan's hours due at the old rate first (Spot.commit_rate → catch_up) but does
    not measure the accounts afterwards: 30 hours at 0.1 / day take this account from margin level 1.16 to
    1.033, below binance's 1.05, and it is neither liquidated nor told (alert stays ok) until a later mark.
    AccrueInterest would have liquidated it (the same holds for the catch-up in Borrow and Repay)."""
    e = _engine("BTC-USDT", "binance", 1000, SetBorrowRate("BTC-USDT", "BTC", D("0.1")),
                Borrow(1, "BTC-USDT", "BTC", D("0.1"), ts=1))  # fmt: skip
    e.apply(SetBorrowRate("BTC-USDT", "BTC", D("0.1"), ts=30 * H))
    view = spot_queries.margin_account(e, 1, "BTC-USDT")
    assert view is not None
    assert view["level"] != "liquidate" or view["assets"]["BTC"]["borrowed"] == 0, view
