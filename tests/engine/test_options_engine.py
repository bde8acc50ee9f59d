"""Isolated options in the engine, with numbers derived by hand from OKX's rules for BTC-USD (coin-margined,
0.01 BTC per contract; a = 0.1, b = 0.15, c = 0.03; margin factor 1 up to 10,000 contracts, 1.02 to 20,000,
1.05 to 40,000; maker 0.02 %, taker 0.03 % of the underlying, capped at 7 % of the premium; liquidation fee 0.03 %):
opening, the pool holding exactly the initial margin, partial liquidation one tier down, full liquidation within
the pool, expiry settlement of in-, at- and out-of-the-money calls and puts, refusals that change nothing."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from isomargin.engine import Engine
from isomargin.engine.codes import Code
from isomargin.engine.commands import (
    AdjustOptionMargin,
    CancelOptionOrder,
    CreateAccount,
    Deposit,
    ListOption,
    OrderSide,
    PlaceOptionOrder,
    SetMarkPrice,
    SetOptionVol,
    SettleOptions,
)
from isomargin.engine.events import Event, Rejected
from isomargin.engine.options_events import OptionLiquidated, OptionMarked, OptionSettled
from isomargin.engine.snapshot import restore, snapshot, state_hash
from isomargin.margin.options import black76, short_im_per_contract
from isomargin.venues.options import option_family

D = Decimal
EXP = 1_798_185_600_000  # 2026-12-25 08:00 UTC
DAY = 86_400_000
CALL = "BTC-USD-261225-100000-C"
PUT = "BTC-USD-261225-100000-P"
BUYER, SELLER = 1, 2
BUY, SELL = OrderSide.BUY, OrderSide.SELL
Q = 10**10


def ok(e: Engine, cmd: object) -> list[Event]:
    events = e.apply(cmd)  # type: ignore[arg-type]
    assert not any(isinstance(ev, Rejected) for ev in events), events
    return events


def refused(e: Engine, cmd: object, code: Code) -> None:
    before = state_hash(e)
    [ev] = e.apply(cmd)  # type: ignore[arg-type]
    assert isinstance(ev, Rejected) and ev.code == code, ev
    assert state_hash(e) == before


def venue(*symbols: str, index: int = 95_000) -> Engine:
    e = Engine(debug=True)
    for s in symbols:
        ok(e, ListOption(s))
    for a in (BUYER, SELLER):
        ok(e, CreateAccount(a))
        ok(e, Deposit(a, "BTC", D(1000)))
    ok(e, SetMarkPrice("BTC-USD", D(index)))
    return e


def pool(e: Engine, account: int, symbol: str) -> int:
    return e.ledger.get(f"option_pool:{account}:{symbol}")


def trade(e: Engine, symbol: str, qty: int, price: str, seller: int = SELLER, buyer: int = BUYER) -> None:
    ok(e, PlaceOptionOrder(seller, symbol, SELL, D(qty), D(price)))
    ok(e, PlaceOptionOrder(buyer, symbol, BUY, D(qty), D(price)))


def test_opening_a_short_puts_exactly_its_initial_margin_in_the_pool() -> None:
    """Index 95,000, call 100,000 (OTM 5,000), mark 0.03: IM per BTC = max(0.1, 0.15 − 5,000/95,000) × 1 + 0.03
    = 0.1 + 0.03 = 0.13 BTC; 100 contracts are 1 BTC of underlying, so the pool holds 0.13 BTC. The seller's order
    held IM − premium + taker fee = 0.13 − 0.03 + 0.0003 = 0.1003; the fill brings the 0.03 premium less the maker
    fee min(0.02 % × 1, 7 % × 0.03) = 0.0002 … and the taker's 0.0003 − maker's 0.0002 = 0.0001 stays in the pool:
    0.1003 + 0.03 − 0.0002 = 0.1301. The buyer paid 0.03 + its taker fee 0.0003 = 0.0303."""
    e = venue(CALL)
    ok(e, SetMarkPrice(CALL, D("0.03")))
    trade(e, CALL, 100, "0.03")
    assert pool(e, SELLER, CALL) == int(D("0.1301") * Q)
    assert e.ledger.get(f"wallet:{BUYER}:BTC") == int(D("999.9697") * Q)
    assert e.ledger.get(f"wallet:{SELLER}:BTC") == int((D(1000) - D("0.1003")) * Q)
    # The calculator's position IMR of one contract: (0.1 + 0.03) × 0.01 = 0.0013 BTC.
    fam = option_family("okx", "BTC-USD")
    assert short_im_per_contract("C", D(95000), D(100000), D("0.03"), fam, D(100)) == D("0.0013")


def test_a_mark_from_implied_volatility_is_black76_in_coin() -> None:
    e = venue(CALL)
    [marked] = [ev for ev in ok(e, SetOptionVol(CALL, D("0.55"), ts=EXP - 30 * DAY)) if isinstance(ev, OptionMarked)]
    years = D(30) / D(365)
    usd = black76("C", D(95000), D(100000), marked.years, D("0.55"))
    assert abs(marked.years - years) < D("1e-12")
    assert marked.mark == (usd / 95000).quantize(D("1e-8"), rounding="ROUND_FLOOR")


@pytest.mark.parametrize(
    ("symbol", "price", "long_gets"),
    [
        # Coin-margined: intrinsic in USD / settlement price, per BTC of underlying; 100 contracts = 1 BTC.
        (CALL, "120000", Fraction(20000, 120000)),  # ITM call: 1/6 BTC
        (CALL, "100000", Fraction(0)),  # ATM
        (CALL, "90000", Fraction(0)),  # OTM
        (PUT, "80000", Fraction(20000, 80000)),  # ITM put: 0.25 BTC
        (PUT, "100000", Fraction(0)),
        (PUT, "110000", Fraction(0)),
    ],
)
def test_expiry_pays_intrinsic_value_shorts_to_longs(symbol: str, price: str, long_gets: Fraction) -> None:
    e = venue(symbol)
    ok(e, SetMarkPrice(symbol, D("0.02")))
    trade(e, symbol, 100, "0.02")
    wallets = {a: e.ledger.get(f"wallet:{a}:BTC") for a in (BUYER, SELLER)}
    held = pool(e, SELLER, symbol)
    events = ok(e, SettleOptions("BTC-USD", EXP, D(price), ts=EXP))
    settled = {ev.account: ev for ev in events if isinstance(ev, OptionSettled)}
    gets = math.floor(long_gets * Q)  # rounded down for the long
    pays = math.ceil(long_gets * Q)  # rounded up for the short (the quantum between goes to fees)
    assert settled[BUYER].payout * Q == gets and e.ledger.get(f"wallet:{BUYER}:BTC") - wallets[BUYER] == gets
    assert -settled[SELLER].payout * Q == pays
    # The rest of the pool comes back; a pool smaller than the payout (the ITM call: 0.1201 against 1/6 BTC) loses
    # only itself, the insurance fund pays the rest.
    assert e.ledger.get(f"wallet:{SELLER}:BTC") - wallets[SELLER] == max(held - pays, 0)
    assert symbol not in e.options.markets  # delisted
    refused(e, PlaceOptionOrder(BUYER, symbol, BUY, D(1), D("0.01")), Code.UNKNOWN_SYMBOL)


def test_partial_liquidation_steps_down_one_tier_then_stops() -> None:
    """15,000 contracts (150 BTC of underlying) sold at 0.01 — tier 2, factor 1.02. Per contract the order held
    IM − premium + taker fee = (0.1 × 1.02 + 0.01) × 0.01 − 0.0001 + min(0.03 % × 0.01, 7 % × 0.0001) = 0.001023;
    with the 1.5 BTC premium less the maker fee min(0.02 % × 150, 7 % × 1.5) = 0.03 the pool holds 16.815.
    Index 96,000, then the mark to 0.05: value 7.5, margin balance 9.315; MM = 150 × (0.03 × 1.02 + 0.05) = 12.09,
    fee min(0.03 % × 150, 7 % × 0.05 × 150) = 0.045 → ratio 0.768: liquidate. One tier down (tier 1's cap,
    10,000): 5,000 contracts bought back at 0.05 from the asks, 2.5 + taker fee 0.015 from the pool, and the
    liquidation fee min(0.03 % × 50, 7 % × 0.05 × 50) = 0.015 → pool 14.285. At 10,000 (factor 1): MM =
    100 × 0.08 = 8, fee 0.03; OKX's margin balance is margin + unrealised PnL = 14.285 + (1.0 premium of the
    10,000 left − 5 value) → ratio 10.285 / 8.03 = 1.28…: it stops there. (Before, with the 15,000: 16.815 +
    1.5 − 7.5 = 10.815 against 12.135: 0.891.)"""
    from fractions import Fraction as F

    e = venue(CALL)
    ok(e, SetMarkPrice(CALL, D("0.01")))
    ok(e, CreateAccount(3))
    ok(e, Deposit(3, "BTC", D(1000)))
    trade(e, CALL, 15_000, "0.01")
    assert pool(e, SELLER, CALL) == int(D("16.815") * Q)
    ok(e, SetMarkPrice("BTC-USD", D(96_000)))
    ok(e, PlaceOptionOrder(3, CALL, SELL, D(5_000), D("0.05")))  # the asks the buy-back takes
    wallet = e.ledger.get(f"wallet:{SELLER}:BTC")
    events = ok(e, SetMarkPrice(CALL, D("0.05")))
    steps = [ev for ev in events if isinstance(ev, OptionLiquidated) and ev.account == SELLER]
    assert [(s.step, s.qty, s.taken_over, s.fee) for s in steps] == [("partial", D(5000), D(0), D("0.015"))]
    assert e.options.markets[CALL].positions[SELLER].lots == -10_000
    assert pool(e, SELLER, CALL) == int(D("14.285") * Q)
    assert abs(F(steps[0].ratio) - (F("14.285") + 1 - 5) / F("8.03")) < F(1, 10**17)
    assert e.ledger.get(f"wallet:{SELLER}:BTC") == wallet  # the wallet is never drawn on


def test_full_liquidation_in_tier_one_stays_within_the_pool() -> None:
    e = venue(CALL)
    ok(e, SetMarkPrice(CALL, D("0.03")))
    trade(e, CALL, 100, "0.03")
    wallet = e.ledger.get(f"wallet:{SELLER}:BTC")
    ok(e, SetMarkPrice("BTC-USD", D(150_000)))
    events = ok(e, SetMarkPrice(CALL, D("0.4")))  # value 0.4 BTC against a 0.1301 pool: far past bankruptcy
    [close] = [ev for ev in events if isinstance(ev, OptionLiquidated)]
    assert close.step == "close" and close.taken_over == 100  # no asks: the fund takes the contracts over
    assert close.shortfall == D("0.4") - D("0.1301")
    assert e.ledger.get(f"wallet:{SELLER}:BTC") == wallet  # nothing taken from the wallet, nothing left to return
    assert SELLER not in e.options.markets[CALL].positions
    held = e.options.markets[CALL].held
    assert held is not None and held.lots == -100  # the fund's inventory, settled at expiry like any short


def test_adjust_margin_and_removable() -> None:
    e = venue(CALL)
    ok(e, SetMarkPrice(CALL, D("0.03")))
    trade(e, CALL, 100, "0.03")
    ok(e, AdjustOptionMargin(SELLER, CALL, D("0.5")))
    # The margin balance (pool 0.6301 + premium 0.03 − value 0.03) must keep the IM (0.13): 0.5001 may leave.
    refused(e, AdjustOptionMargin(SELLER, CALL, D("-0.50010001")), Code.ABOVE_MAX_REMOVABLE)
    ok(e, AdjustOptionMargin(SELLER, CALL, D("-0.5001")))
    refused(e, AdjustOptionMargin(BUYER, CALL, D(1)), Code.NO_POSITION)


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (ListOption("BTC-USD-261225-0-C"), Code.UNKNOWN_SYMBOL),  # strike 0
        (ListOption("BTC-USD-261225-100000-X"), Code.UNKNOWN_SYMBOL),
        (ListOption("BTC-USD-201225-100000-C", ts=EXP), Code.OPTION_EXPIRED),
        (PlaceOptionOrder(BUYER, CALL, BUY, D(1), D("0.00005")), Code.BAD_PRICE),  # off the 0.0001 tick
        (PlaceOptionOrder(BUYER, CALL, BUY, D(1), D("0.0102")), Code.BAD_PRICE),  # above 0.005 the tick is 0.0005
        (PlaceOptionOrder(BUYER, CALL, BUY, D("0.5"), D("0.01")), Code.BAD_QUANTITY),
        (PlaceOptionOrder(BUYER, CALL, BUY, D(1), D("0.01"), ts=EXP), Code.OPTION_EXPIRED),
        (PlaceOptionOrder(BUYER, CALL, SELL, D(1), D("0.01"), reduce_only=True), Code.REDUCE_ONLY_REJECTED),
        (PlaceOptionOrder(BUYER, CALL, SELL, D(10**9), D("0.01")), Code.INSUFFICIENT_MARGIN),  # more than allowed
        (CancelOptionOrder(BUYER, CALL, order_id=999), Code.UNKNOWN_ORDER),
        (SetOptionVol(CALL, D(-1)), Code.BAD_VOL),
        (SettleOptions("BTC-USD", EXP, D(100000), ts=EXP - 1), Code.BEFORE_EXPIRY),
    ],
)
def test_bad_option_commands_change_nothing(cmd: object, code: Code) -> None:
    e = venue(CALL)
    refused(e, cmd, code)


def test_snapshot_restores_options_exactly() -> None:
    e = venue(CALL, PUT)
    ok(e, SetMarkPrice(CALL, D("0.03")))
    trade(e, CALL, 100, "0.03")
    ok(e, PlaceOptionOrder(SELLER, PUT, SELL, D(50), D("0.05"), client_order_id="p1"))
    copy = restore(snapshot(e))
    assert state_hash(copy) == state_hash(e)
    for cmd in (SetMarkPrice("BTC-USD", D(150_000)), SetMarkPrice(CALL, D("0.4")),
                CancelOptionOrder(SELLER, PUT, client_order_id="p1")):  # fmt: skip
        assert [ev.to_dict() for ev in e.apply(cmd)] == [ev.to_dict() for ev in copy.apply(cmd)]
    assert state_hash(copy) == state_hash(e)


@pytest.mark.parametrize(("symbol", "price"), [(CALL, "0.03"), (PUT, "0.08")])
def test_engine_liquidates_at_the_queried_liquidation_mark(symbol: str, price: str) -> None:
    """The position view's liquidation mark (margin/options.py's closed form, from the pool and the entry) is the
    mark where the engine's ratio reaches 100 %: a price point below it nothing happens, at it the short goes."""
    from isomargin.engine.options_queries import option_position

    e = venue(symbol)
    ok(e, SetMarkPrice(symbol, D(price)))
    trade(e, symbol, 100, price)
    view = option_position(e, SELLER, symbol)
    assert view is not None
    liq = view["liquidation_mark"].quantize(D("1e-8"), rounding="ROUND_CEILING")
    safe = restore(snapshot(e))
    assert not [ev for ev in safe.apply(SetMarkPrice(symbol, liq - D("1e-8"))) if isinstance(ev, OptionLiquidated)]
    assert [ev for ev in e.apply(SetMarkPrice(symbol, liq)) if isinstance(ev, OptionLiquidated)]


def test_a_futures_market_named_like_an_option_family_carries_its_index() -> None:
    """Binance's BTCUSDT options are on the BTCUSDT index, and BTCUSDT is also the perpetual: its mark stays the
    perpetual's, its index price becomes the family's index, announced once."""
    from isomargin.engine.commands import ListInstrument
    from isomargin.engine.events import MarkPriceUpdated

    e = Engine(debug=True)
    ok(e, ListInstrument("BTCUSDT", venue="binance"))
    ok(e, ListOption("BTC-261225-100000-C", venue="binance"))
    events = ok(e, SetMarkPrice("BTCUSDT", D(95_000), D(94_990)))
    assert [(ev.symbol, ev.mark, ev.index_price) for ev in events if isinstance(ev, MarkPriceUpdated)] == [
        ("BTCUSDT", D(95_000), D(94_990))
    ]
    assert e.markets["BTCUSDT"].mark_dec == D(95_000)
    assert e.options.index["BTCUSDT"][1] == D(94_990)
