"""Dated (quarterly) futures: listing with an expiry and delivery at a settlement price, linear and inverse.

`ListInstrument(..., expiry=ms)` lists a dated future; `DeliverInstrument(symbol, price)` (at or after the expiry)
settles every open position at `price`, returns isolated pools to the wallets, cancels open orders and closes the
market to new orders. Numbers are derived by hand in the comments; fees are zero.
"""

from __future__ import annotations

from dataclasses import replace

from enginekit import D, Venue, inverse_spec, of

from isomargin.engine import (
    DeliverInstrument,
    FundInsurance,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetMarginMode,
    restore,
    snapshot,
    state_hash,
)
from isomargin.engine.events import BadDebt, Delivered, OrderUpdated, PositionUpdated
from isomargin.venues import get_profile

EXPIRY = 1_774_598_400_000  # 2026-03-27 08:00 UTC, in ms
LINEAR = replace(get_profile("binance").spec("BTCUSDT"), symbol="BTCUSDT_260327", venue_symbol="BTCUSDT_260327")
INVERSE = inverse_spec(symbol="BTCUSD_260327")
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def dated() -> Venue:
    v = Venue(symbols=("BTCUSDT",))
    for spec in (LINEAR, INVERSE):
        v.engine.listings[("binance", spec.symbol)] = spec
        v.ok(ListInstrument(spec.symbol, venue="binance", maker_fee=D(0), taker_fee=D(0), expiry=EXPIRY))
    return v


def limit(acct: int, symbol: str, side: OrderSide, qty: str, price: str) -> PlaceOrder:
    return PlaceOrder(acct, symbol, side, OrderType.LIMIT, D(qty), D(price))


def test_linear_delivery_settles_at_the_price_and_closes_the_market() -> None:
    # Isolated long 0.1 BTC at 60,000, 10×: pool 6000 × 0.1 = 600 USDT... (0.1 × 60,000 = 6000 notional, IM 600).
    # Delivered at 63,000: PnL = 0.1 × 3000 = +300, so 600 + 300 = 900 comes back to the wallet:
    # 100,000 − 600 + 900 = 100,300. The cross short pays 300: 99,700. A resting bid is cancelled.
    v = dated()
    sym = LINEAR.symbol
    v.account(1, isolated=sym)
    v.account(2)
    v.mark(sym, "60000")
    v.ok(limit(2, sym, SELL, "0.1", "60000"))
    v.ok(limit(1, sym, BUY, "0.1", "60000"))
    assert v.pool(1, sym) == D(600)
    v.ok(limit(2, sym, BUY, "0.05", "59000"))  # rests; holds margin
    assert v.held(2) > 0
    v.no(DeliverInstrument(sym, D(63000), ts=EXPIRY - 1), "before_expiry")
    events = v.ok(DeliverInstrument(sym, D(63000), ts=EXPIRY))
    [d] = of(events, Delivered)
    assert (d.symbol, d.settle, d.price, d.positions) == (sym, "USDT", D(63000), 2)
    assert [e.reason for e in of(events, OrderUpdated)] == ["delivery"]
    assert {e.account for e in of(events, PositionUpdated) if e.size == 0} == {1, 2}
    assert v.position(1, sym) is None and v.position(2, sym) is None
    assert v.wallet(1) == D(100300) and v.wallet(2) == D(99700)
    assert v.held(2) == 0 and v.pool(1, sym) == 0
    v.no(limit(1, sym, BUY, "0.1", "60000"), "market_delivered")
    v.no(DeliverInstrument(sym, D(63000), ts=EXPIRY), "market_delivered")
    v.no(DeliverInstrument("BTCUSDT", D(63000), ts=EXPIRY), "not_dated")


def test_inverse_delivery_in_the_coin_with_the_loss_capped_at_the_pool() -> None:
    # Isolated long 1000 USD (10 contracts) at 50,000, 10×: value 0.02 BTC, pool 0.002. Delivered at 40,000:
    # PnL = 1000 × (1/50000 − 1/40000) = −0.005, beyond the pool by 0.003, which the BTC fund (0.01) covers:
    # fund 0.007, the owner's wallet stays at 1 − 0.002 = 0.998. The cross short gains 0.005: 1.005 BTC.
    v = dated()
    sym = INVERSE.symbol
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=sym)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.ok(FundInsurance("BTC", D("0.01")))
    v.mark(sym, "50000")
    v.ok(limit(2, sym, SELL, "1000", "50000"))
    v.ok(limit(1, sym, BUY, "1000", "50000"))
    assert v.pool(1, sym) == D("0.002")
    events = v.ok(DeliverInstrument(sym, D(40000), ts=EXPIRY + 5))
    [bad] = of(events, BadDebt)
    assert (bad.account, bad.asset, bad.amount) == (1, "BTC", D("0.003"))
    assert v.wallet(1, "BTC") == D("0.998")
    assert v.wallet(2, "BTC") == D("1.005")
    assert v.balance("insurance:BTC") == D("0.007")
    assert v.position(1, sym) is None and v.position(2, sym) is None


def test_inverse_delivery_rounds_against_each_holder() -> None:
    # Long and short 100 USD at 30,000.1 (buyer cost 0.0033333222, seller 0.0033333223; 1 quantum to fees).
    # Delivered at 29,999.9: value 100 / 29999.9 = 0.0033333444444814… BTC. The long (an inverse long gains as
    # the value falls) closes at the higher amount 0.0033333445: PnL 0.0033333222 − 0.0033333445 = −0.0000000223.
    # The short closes at the lower 0.0033333444: PnL 0.0033333444 − 0.0033333223 = +0.0000000221.
    # Together they were paid 0.0033333445 − 0.0033333444 = 1 quantum less than the position values net out to:
    # it goes to fees, 2 quanta in all with the fill's.
    v = dated()
    sym = INVERSE.symbol
    v.account(1, usdt="0", coins={"BTC": "1"})
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.mark(sym, "30000")
    v.ok(limit(2, sym, SELL, "100", "30000.1"))
    v.ok(limit(1, sym, BUY, "100", "30000.1"))
    v.ok(DeliverInstrument(sym, D("29999.9"), ts=EXPIRY))
    assert v.wallet(1, "BTC") == D(1) - D("0.0000000223")
    assert v.wallet(2, "BTC") == D(1) + D("0.0000000221")
    assert v.balance("fees:BTC") == D("0.0000000002")
    assert v.balance("settlement:BTC") == 0


def test_delivered_state_survives_snapshot_and_replay() -> None:
    v = dated()
    sym = INVERSE.symbol
    v.account(1, usdt="0", coins={"BTC": "1"})
    v.ok(SetMarginMode(1, LINEAR.symbol, MarginMode.ISOLATED))
    v.ok(DeliverInstrument(sym, D(50000), ts=EXPIRY))
    again = restore(snapshot(v.engine), listings=[("binance", LINEAR), ("binance", INVERSE)])
    assert state_hash(again) == state_hash(v.engine)
    [rej] = again.apply(limit(1, sym, BUY, "100", "50000"))
    assert rej.code == "market_delivered"
    # Perpetual snapshots do not change shape: no expiry or delivered key on BTCUSDT's market.
    [perp] = [m for m in snapshot(v.engine)["markets"] if m["symbol"] == "BTCUSDT"]
    assert "expiry" not in perp and "delivered" not in perp
