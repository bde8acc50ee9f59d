"""Seed 003's isolated-margin examples reproduced by the engine itself (not the calculator): the long and short
tables in old and new accounting, the flip, OKX's worked short at mark 29,000 and its partial liquidation, plus
interest over odd hour boundaries, borrowing beyond the limit and a liquidation that leaves the wallet alone."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from isomargin.engine import Engine
from isomargin.engine.codes import Code
from isomargin.engine.commands import (
    AccrueInterest,
    Borrow,
    CreateAccount,
    Deposit,
    ListSpotPair,
    MarginTransfer,
    OrderSide,
    OrderType,
    PlaceSpotOrder,
    Repay,
    SetBorrowRate,
    SetMarkPrice,
    SideEffect,
)
from isomargin.engine.events import Event, Rejected
from isomargin.engine.spot_events import InterestCharged, SpotLiquidated
from isomargin.engine.spot_queries import margin_account, position
from isomargin.margin.spot import AccountingMode
from isomargin.venues.spot_margin import SpotTier, spot_pair

D = Decimal
PAIR = "BTC-USDT"
H = 3_600_000
USER, MAKER = 1, 2
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def ok(e: Engine, cmd: object) -> list[Event]:
    events = e.apply(cmd)  # type: ignore[arg-type]
    assert not any(isinstance(ev, Rejected) for ev in events), events
    return events


def venue(fees: bool = False, rate: Decimal = Decimal(0)) -> Engine:
    """OKX BTC-USDT (borrowing up to 10 × net assets), zero fees and interest unless asked, a maker with coins."""
    e = Engine(debug=True)
    zero = D(0)
    ok(e, ListSpotPair(PAIR, venue="okx", **({} if fees else {"maker_fee": zero, "taker_fee": zero})))
    for asset in ("BTC", "USDT"):
        ok(e, SetBorrowRate(PAIR, asset, rate))
    for a in (USER, MAKER):
        ok(e, CreateAccount(a))
    ok(e, Deposit(MAKER, "BTC", D(100)))
    ok(e, Deposit(MAKER, "USDT", D(10_000_000)))
    ok(e, SetMarkPrice(PAIR, D(100_000)))
    return e


def maker(e: Engine, side: OrderSide, qty: str, price: str) -> None:
    ok(e, PlaceSpotOrder(MAKER, PAIR, side, OrderType.LIMIT, D(qty), D(price)))


def trade(e: Engine, side: OrderSide, qty: str, price: str, effect: SideEffect = SideEffect.NO_SIDE_EFFECT) -> None:
    maker(e, OrderSide.SELL if side is BUY else BUY, qty, price)
    ok(e, PlaceSpotOrder(USER, PAIR, side, OrderType.LIMIT, D(qty), D(price), isolated=True, side_effect=effect))


def view(e: Engine, mode: AccountingMode) -> tuple[str, Decimal, str, Decimal, str, Decimal, str]:
    v = position(e, USER, PAIR, mode)
    assert v is not None
    return (v["side"], v["asset"], v["asset_currency"], v["liability"], v["liability_currency"], v["margin"],
            v["margin_currency"])  # fmt: skip


# ----------------------------------------------------------------------------------- the seed's two tables
# Long 1 BTC at 100,000 with 10x: the loan is the whole notional (100,000 USDT), the margin a tenth of it.
def test_long_with_base_margin_old_and_new() -> None:
    e = venue()
    ok(e, Deposit(USER, "BTC", D("0.1")))
    ok(e, MarginTransfer(USER, PAIR, "BTC", D("0.1")))
    ok(e, Borrow(USER, PAIR, "USDT", D(100_000)))  # 10 × the 10,000 USDT the 0.1 BTC is worth
    trade(e, BUY, "1", "100000")
    assert view(e, AccountingMode.OLD) == ("long", D("1.1"), "BTC", D(100_000), "USDT", D("0.1"), "BTC")
    assert view(e, AccountingMode.NEW) == ("long", D(1), "BTC", D(100_000), "USDT", D("0.1"), "BTC")


def test_long_with_quote_margin() -> None:
    e = venue()
    ok(e, Deposit(USER, "USDT", D(10_000)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(10_000)))
    ok(e, Borrow(USER, PAIR, "USDT", D(100_000)))
    trade(e, BUY, "1", "100000")
    for mode in AccountingMode:  # the margin is not in the asset's currency: both modes agree
        assert view(e, mode) == ("long", D(1), "BTC", D(100_000), "USDT", D(10_000), "USDT")


def test_short_with_base_margin() -> None:
    e = venue()
    ok(e, Deposit(USER, "BTC", D("0.1")))
    ok(e, MarginTransfer(USER, PAIR, "BTC", D("0.1")))
    ok(e, Borrow(USER, PAIR, "BTC", D(1)))
    trade(e, SELL, "1", "100000")
    for mode in AccountingMode:
        assert view(e, mode) == ("short", D(100_000), "USDT", D(1), "BTC", D("0.1"), "BTC")


def test_short_with_quote_margin_old_and_new() -> None:
    e = venue()
    ok(e, Deposit(USER, "USDT", D(10_000)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(10_000)))
    ok(e, Borrow(USER, PAIR, "BTC", D(1)))
    trade(e, SELL, "1", "100000")
    assert view(e, AccountingMode.OLD) == ("short", D(110_000), "USDT", D(1), "BTC", D(10_000), "USDT")
    assert view(e, AccountingMode.NEW) == ("short", D(100_000), "USDT", D(1), "BTC", D(10_000), "USDT")


def test_flip_long_into_a_short_with_12500_margin() -> None:
    """Long 1 BTC (liability 100,000 USDT, margin 10,000 USDT); sell 2 BTC at 125,000. The proceeds (250,000)
    repay the loan (AUTO_BORROW_REPAY borrows the second BTC and repays with what the sale brings); reclaiming
    what is beyond the new short's margin — 125,000 / 10 = 12,500 — leaves the short the seed describes: asset
    125,000 USDT, liability 1 BTC, margin 12,500 USDT. What went back: 10,000 + 250,000 − 100,000 − 125,000 −
    12,500 = 22,500 USDT (the old margin plus the 25,000 profit, less the new margin)."""
    e = venue()
    ok(e, Deposit(USER, "USDT", D(10_000)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(10_000)))
    ok(e, Borrow(USER, PAIR, "USDT", D(100_000)))
    trade(e, BUY, "1", "100000")
    ok(e, SetMarkPrice(PAIR, D(125_000)))
    trade(e, SELL, "2", "125000", SideEffect.AUTO_BORROW_REPAY)
    acct = margin_account(e, USER, PAIR)
    assert acct is not None
    assert acct["assets"]["USDT"]["borrowed"] == 0 and acct["assets"]["BTC"]["borrowed"] == 1
    assert acct["assets"]["USDT"]["free"] == 160_000
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(-22_500)))
    assert view(e, AccountingMode.NEW) == ("short", D(125_000), "USDT", D(1), "BTC", D(12_500), "USDT")


# -------------------------------------------------------------------------------------- OKX's worked short
def seed_tiers_engine() -> Engine:
    """The seed's OKX example has MMR 4 % at a 110.5 BTC liability and a partial liquidation of 10 BTC "to drop a
    tier level": no table OKX publishes gives that (docs/venues.md), so this pair carries a table that does —
    tier 3 (≤ 150 BTC) at 4 %, tier 1 capped at 100.5 BTC, so two tiers down is exactly 10 BTC less."""
    base = spot_pair("okx", PAIR)
    tiers = (SpotTier(1, D("100.5"), D("0.03"), 10), SpotTier(2, D(105), D("0.035"), 10),
             SpotTier(3, D(150), D("0.04"), 10), SpotTier(4, None, D("0.05"), 5))  # fmt: skip
    spec = replace(base, tiers={"BTC": tiers, "USDT": base.tiers["USDT"]}, borrow_limits={"BTC": D(1000),
                   "USDT": D(10**8)})  # fmt: skip
    e = Engine(debug=True, spot_listings=[spec])
    ok(e, ListSpotPair(PAIR, venue="okx", maker_fee=D(0), taker_fee=D("0.0001")))
    for a in (USER, MAKER):
        ok(e, CreateAccount(a))
    ok(e, Deposit(MAKER, "BTC", D(1000)))
    ok(e, Deposit(MAKER, "USDT", D(10**8)))
    return e


def open_seed_short(e: Engine) -> None:
    """Assets 3,299,800 USDT, liability 110 BTC + 0.5 BTC interest, opened at 19,500: 110 BTC sold at 19,500
    bring 2,145,000 less the 0.01 % fee (214.5), and 1,155,014.5 USDT of margin is transferred in, so the account
    holds 2,144,785.5 + 1,155,014.5 = 3,299,800. Interest: a daily rate of 0.00218181818 makes 110 BTC × r / 24 =
    0.00999999999166…, rounded up to 0.01 BTC an hour; the first hour at the borrow and 49 whole hours after it
    make 50 × 0.01 = 0.5 BTC."""
    ok(e, SetMarkPrice(PAIR, D(19_500), ts=0))
    ok(e, SetBorrowRate(PAIR, "BTC", D("0.00218181818"), ts=0))
    ok(e, Deposit(USER, "USDT", D("1155014.5")))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D("1155014.5")))
    maker(e, BUY, "110", "19500")
    ok(e, PlaceSpotOrder(USER, PAIR, SELL, OrderType.LIMIT, D(110), D(19_500), isolated=True,
                         side_effect=SideEffect.MARGIN_BUY, ts=0))  # fmt: skip
    charged = [ev for ev in ok(e, AccrueInterest(ts=49 * H)) if isinstance(ev, InterestCharged)]
    assert [(ev.hours, ev.amount) for ev in charged] == [(49, D("0.49"))]


def test_okx_worked_short_at_29000() -> None:
    """At 29,000: net = 3,299,800 − 110.5 × 29,000 = 95,300; MM = 3,204,500 × 4 % = 128,180; liquidation fee =
    3,204,500 × 1.04 × 0.01 % = 333.268 (the seed's 333.27); ratio = 95,300 / 128,513.268 = 74.16 %. The engine
    cancels nothing (no orders), then liquidates partially: tier 3 → two tiers down is tier 1's 100.5 BTC cap, so
    10 BTC (interest first: 0.5 interest + 9.5 principal) are bought back and repaid; at 100.5 BTC the ratio is
    above 100 % again and the liquidation stops."""
    from fractions import Fraction

    e = seed_tiers_engine()
    open_seed_short(e)
    acct = margin_account(e, USER, PAIR)
    assert acct is not None
    assert acct["assets"]["USDT"]["total"] == D(3_299_800)
    assert (acct["assets"]["BTC"]["borrowed"], acct["assets"]["BTC"]["interest"]) == (D(110), D("0.5"))
    maker(e, SELL, "20", "29000")  # liquidity for the buy-back
    events = ok(e, SetMarkPrice(PAIR, D(29_000), ts=49 * H))
    from isomargin.engine.spot_events import SpotMarginCall

    call = next(ev for ev in events if isinstance(ev, SpotMarginCall))
    want = Fraction(95_300) / (Fraction(128_180) + Fraction("333.268"))
    assert call.level == "liquidate" and abs(Fraction(call.ratio) - want) < Fraction(1, 10**17)
    assert round(call.ratio * 100, 2) == D("74.16")
    steps = [ev for ev in events if isinstance(ev, SpotLiquidated)]
    assert [(s.step, s.asset, s.repaid) for s in steps] == [("partial", "BTC", D(10))]
    after = margin_account(e, USER, PAIR)
    assert after is not None
    assert (after["assets"]["BTC"]["borrowed"], after["assets"]["BTC"]["interest"]) == (D("100.5"), D(0))
    assert after["margin_ratio"] > 1 and after["level"] != "liquidate"


# ---------------------------------------------------------------------------------------------- interest
def test_interest_over_odd_hour_boundaries() -> None:
    """Borrow 50,000 USDT at 10:30 at 0.024 % a day (0.001 % an hour: 0.5 USDT an hour): 0.5 at once; at 13:15
    the hours 11:00, 12:00 and 13:00 are due (1.5); a repay at 13:59 owes nothing more; at 14:00 one more hour
    (0.5); repaying everything at 14:20 pays 2.5 interest and 50,000 principal."""
    e = venue(rate=D("0.00024"))
    ok(e, Deposit(USER, "USDT", D(10_000)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(10_000)))
    ok(e, Borrow(USER, PAIR, "USDT", D(50_000), ts=10 * H + H // 2))
    acct = margin_account(e, USER, PAIR)
    assert acct is not None and acct["assets"]["USDT"]["interest"] == D("0.5")
    charged = [ev for ev in ok(e, AccrueInterest(ts=13 * H + H // 4)) if isinstance(ev, InterestCharged)]
    assert [(ev.hours, ev.amount, ev.through) for ev in charged] == [(3, D("1.5"), 13 * H)]
    assert not [ev for ev in ok(e, AccrueInterest(ts=14 * H - 1)) if isinstance(ev, InterestCharged)]
    events = ok(e, Repay(USER, PAIR, "USDT", None, ts=14 * H + H // 3))
    from isomargin.engine.spot_events import Repaid

    repaid = [ev for ev in events if isinstance(ev, Repaid)]
    assert [(r.interest, r.principal, r.owed_principal) for r in repaid] == [(D("2.5"), D(50_000), D(0))]


def test_interest_rounds_up_per_hour() -> None:
    """0.00001 USDT at 0.024 % a day: 2.4e-9 / 24 = 1e-10 an hour exactly; 0.00001 at 0.0001 % a day is
    4.1666…e-14 an hour, charged as one quantum (1e-10) — the lender's side."""
    e = venue(rate=D("0.000001"))
    ok(e, Deposit(USER, "USDT", D(1)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(1)))
    ok(e, Borrow(USER, PAIR, "USDT", D("0.00001")))
    acct = margin_account(e, USER, PAIR)
    assert acct is not None and acct["assets"]["USDT"]["interest"] == D("1E-10")


# ------------------------------------------------------------------------------------------------- limits
def test_borrow_beyond_the_maximum_is_refused_and_changes_nothing() -> None:
    from isomargin.engine.snapshot import state_hash

    e = venue()
    ok(e, Deposit(USER, "USDT", D(1_000)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(1_000)))
    before = state_hash(e)
    [rej] = e.apply(Borrow(USER, PAIR, "USDT", D("10000.0001")))  # 10 × 1,000 is the most
    assert isinstance(rej, Rejected) and rej.code == Code.ABOVE_MAX_BORROWABLE
    assert state_hash(e) == before
    ok(e, Borrow(USER, PAIR, "USDT", D(10_000)))


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (Borrow(USER, PAIR, "ETH", D(1)), Code.ASSET_NOT_IN_PAIR),
        (Borrow(USER, PAIR, "USDT", D(-1)), Code.NOT_POSITIVE),
        (Repay(USER, PAIR, "USDT", D(1)), Code.NOTHING_TO_REPAY),
        (MarginTransfer(USER, PAIR, "USDT", D(-1)), Code.INSUFFICIENT_BALANCE),
        (MarginTransfer(USER, PAIR, "USDT", D("1e999999")), Code.BAD_NUMBER),
        (MarginTransfer(USER, "BTCUSDT", "USDT", D(1)), Code.UNKNOWN_SYMBOL),
    ],
)
def test_bad_spot_margin_commands_are_refused(cmd: object, code: Code) -> None:
    from isomargin.engine.snapshot import state_hash

    e = venue()
    before = state_hash(e)
    [rej] = e.apply(cmd)  # type: ignore[arg-type]
    assert isinstance(rej, Rejected) and rej.code == code, rej
    assert state_hash(e) == before


def test_repay_more_than_owed_and_transfer_out_below_the_threshold() -> None:
    e = venue()
    ok(e, Deposit(USER, "USDT", D(1_000)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(1_000)))
    ok(e, Borrow(USER, PAIR, "USDT", D(5_000)))
    [rej] = e.apply(Repay(USER, PAIR, "USDT", D("5000.01")))
    assert isinstance(rej, Rejected) and rej.code == Code.REPAY_EXCEEDS_DEBT
    # 6,000 held against 5,000 owed: net 1,000 supports at most 10,000 of loans, so 500 may leave (net 500 ×
    # 10 = 5,000) but 500.01 may not.
    [rej] = e.apply(MarginTransfer(USER, PAIR, "USDT", D("-500.01")))
    assert isinstance(rej, Rejected) and rej.code == Code.TRANSFER_OUT_LIMITED
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(-500)))


# ------------------------------------------------------------------------------------------- liquidation
@pytest.mark.parametrize(
    ("mark", "returned", "shortfall"),
    [
        # At 93,000 (level 0.08991 × 93,000 / 8,000.08 = 1.045 ≤ 1.05): 0.08991 BTC sold at 93,000 = 8,361.63 less
        # the 0.1 % fee = 8,353.26837; the loan (8,000 + 0.08 first-hour interest) is repaid, 2 % of it (160.0016)
        # is the liquidation fee, and 8,353.26837 − 8,000.08 − 160.0016 = 193.18677 goes back to the wallet.
        ("93000", "193.18677", "0"),
        # A crash to 80,000: the sale brings 7,192.8 − 7.1928 = 7,185.6072 against 8,000.08 owed; the insurance fund
        # pays the 814.4728 short and the wallet gets nothing back — the loss stops at the account's collateral.
        ("80000", "0", "814.4728"),
    ],
)
def test_liquidation_never_touches_the_wallet_or_another_pair(mark: str, returned: str, shortfall: str) -> None:
    """Binance BTC-USDT at 10x: 1,000 USDT in, 8,000 borrowed, 0.09 BTC bought at 100,000 (that spends both; fee
    0.1 % in BTC leaves 0.08991). The mark falls; the account is sold out through the book; the wallet (5,000
    USDT left outside) and the account's ETH-USDT margin account only ever get back what is left."""
    e = Engine(debug=True)
    ok(e, ListSpotPair(PAIR, venue="binance"))
    ok(e, ListSpotPair("ETH-USDT", venue="binance"))
    for a in (USER, MAKER):
        ok(e, CreateAccount(a))
    ok(e, Deposit(MAKER, "BTC", D(10)))
    ok(e, Deposit(MAKER, "USDT", D(10**6)))
    ok(e, Deposit(USER, "USDT", D(6_500)))
    ok(e, SetMarkPrice(PAIR, D(100_000)))
    ok(e, SetMarkPrice("ETH-USDT", D(4_000)))
    ok(e, MarginTransfer(USER, PAIR, "USDT", D(1_000)))
    ok(e, MarginTransfer(USER, "ETH-USDT", "USDT", D(500)))
    ok(e, Borrow(USER, PAIR, "USDT", D(8_000)))
    ok(e, PlaceSpotOrder(MAKER, PAIR, SELL, OrderType.LIMIT, D("0.09"), D(100_000)))
    ok(e, PlaceSpotOrder(USER, PAIR, BUY, OrderType.LIMIT, D("0.09"), D(100_000), isolated=True))
    eth_before = margin_account(e, USER, "ETH-USDT")
    wallet_before = e.ledger.get(f"wallet:{USER}:USDT")
    assert wallet_before == 5_000 * 10**10
    ok(e, PlaceSpotOrder(MAKER, PAIR, BUY, OrderType.LIMIT, D(1), D(mark)))  # the bid the liquidation sells to
    events = ok(e, SetMarkPrice(PAIR, D(mark)))
    steps = [ev for ev in events if isinstance(ev, SpotLiquidated)]
    assert [s.step for s in steps] == ["close", "done"]
    assert steps[0].shortfall == D(shortfall)
    acct = margin_account(e, USER, PAIR)
    assert acct is not None and acct["assets"]["USDT"]["borrowed"] == 0 and acct["assets"]["BTC"]["total"] == 0
    assert e.ledger.get(f"wallet:{USER}:USDT") - wallet_before == int(D(returned) * 10**10)
    assert margin_account(e, USER, "ETH-USDT") == eth_before
