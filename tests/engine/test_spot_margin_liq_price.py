"""The closed-form liquidation price of an isolated spot-margin account (margin/spot.py: Binance's level price,
OKX's estimated liquidation price) is exactly where the engine liquidates: one price point on the safe side it
does not, at the price (rounded to the mark's 10⁻⁸ grid towards liquidation) it does — longs and shorts, both
venues, with fees and interest in the balances."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from isomargin.engine import Engine
from isomargin.engine.commands import (
    Borrow,
    CreateAccount,
    Deposit,
    ListSpotPair,
    MarginTransfer,
    OrderSide,
    OrderType,
    PlaceSpotOrder,
    SetMarkPrice,
)
from isomargin.engine.events import Rejected
from isomargin.engine.snapshot import restore, snapshot
from isomargin.engine.spot_events import SpotMarginCall
from isomargin.engine.spot_queries import state_of
from isomargin.engine.spot_risk import max_borrowable, price_of
from isomargin.margin.spot import level_price, okx_liquidation_price

D = Decimal
PAIR = "BTC-USDT"
PP = Decimal("1e-8")


def build(venue: str, long: bool, margin: int, lev_pct: int, price: int) -> Engine | None:
    """Account 1 puts `margin` USDT in, borrows `lev_pct` % of what it may, and trades it at `price` against a
    maker; None if the draw makes no position (too small to trade)."""
    e = Engine()
    for cmd in (ListSpotPair(PAIR, venue=venue), CreateAccount(1), CreateAccount(2), Deposit(2, "BTC", D(1000)),
                Deposit(2, "USDT", D(10**9)), Deposit(1, "USDT", D(margin)), SetMarkPrice(PAIR, D(price)),
                MarginTransfer(1, PAIR, "USDT", D(margin))):  # fmt: skip
        assert not isinstance(e.apply(cmd)[0], Rejected)
    sa = e.spot.pairs[PAIR].accounts[1]

    asset = "USDT" if long else "BTC"
    most = max_borrowable(sa, price_of(price * 10**8), asset)
    step = 10**5  # borrow on a 10⁻⁵ grid (the pair's BTC step) so the whole loan can trade
    amount = most * lev_pct // 100 // step * step
    if amount <= 0:
        return None
    if isinstance(e.apply(Borrow(1, PAIR, asset, D(amount).scaleb(-10)))[0], Rejected):
        return None
    qty = D(amount // price // step * step).scaleb(-10) if long else D(amount).scaleb(-10)
    if qty <= 0 or qty * price < 10:
        return None
    side, other = (OrderSide.BUY, OrderSide.SELL) if long else (OrderSide.SELL, OrderSide.BUY)
    e.apply(PlaceSpotOrder(2, PAIR, other, OrderType.LIMIT, qty, D(price)))
    events = e.apply(PlaceSpotOrder(1, PAIR, side, OrderType.LIMIT, qty, D(price), isolated=True))
    assert not isinstance(events[0], Rejected), events
    return e


def closed_form(e: Engine) -> Decimal | None:
    p = e.spot.pairs[PAIR]
    sa = p.accounts[1]
    state = state_of(sa)
    if p.risk.value == "margin_level":
        return level_price(state, Decimal(p.liq_level.numerator) / p.liq_level.denominator)
    owed = "BTC" if sa.owes("BTC") > 0 else "USDT"
    found = p.tier(owed, sa.owes(owed))
    assert found is not None
    mmr = Decimal(found[1].mmr.numerator) / found[1].mmr.denominator
    return okx_liquidation_price(state, mmr, p.taker.decimal)


def liquidates(e: Engine, mark: Decimal) -> bool:
    copy = restore(snapshot(e))
    events = copy.apply(SetMarkPrice(PAIR, mark))
    return any(isinstance(ev, SpotMarginCall) and ev.level == "liquidate" for ev in events)


@settings(max_examples=40, deadline=None)
@given(
    venue=st.sampled_from(["binance", "okx"]),
    long=st.booleans(),
    margin=st.integers(200, 200_000),
    lev_pct=st.integers(30, 100),
    price=st.integers(20_000, 150_000),
)
def test_engine_liquidates_exactly_at_the_closed_form_price(venue: str, long: bool, margin: int, lev_pct: int,
                                                            price: int) -> None:  # fmt: skip
    e = build(venue, long, margin, lev_pct, price)
    if e is None:
        return
    liq = closed_form(e)
    if liq is None or liq <= PP:
        return
    # A long is liquidated at or below the price, a short at or above it.
    at = liq.quantize(PP, rounding=ROUND_FLOOR if long else ROUND_CEILING)
    safe = liq.quantize(PP, rounding=ROUND_CEILING if long else ROUND_FLOOR) + (PP if long else -PP)
    if at <= 0 or safe <= 0 or at >= D(10**12):
        return
    assert liquidates(e, at), (venue, long, liq, at)
    assert not liquidates(e, safe), (venue, long, liq, safe)
    assert Fraction(at) != 0
