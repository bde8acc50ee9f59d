"""Order semantics one by one through the full engine, with holds and fills checked in money."""

from __future__ import annotations

from enginekit import D, OrderUpdated, Trade, Venue, div, of

from isomargin.engine import (
    STP,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    OrderSide,
    OrderType,
    PlaceOrder,
    TimeInForce,
    WorkingType,
    state_hash,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


def limit(acct: int, side: OrderSide, qty: str, price: str, **kw: object) -> PlaceOrder:
    return PlaceOrder(acct, "BTCUSDT", side, LIMIT, qty=D(qty), price=D(price), **kw)  # type: ignore[arg-type]


def market(acct: int, side: OrderSide, qty: str, **kw: object) -> PlaceOrder:
    return PlaceOrder(acct, "BTCUSDT", side, MARKET, qty=D(qty), **kw)  # type: ignore[arg-type]


def test_resting_limit_holds_initial_margin_and_cancel_returns_it() -> None:
    v = Venue()
    v.account(1, "10000")
    v.mark("BTCUSDT", "60000")
    v.ok(limit(1, BUY, "0.1", "59000"))
    # Hold = 0.1 × 59,000 / 10 = 590 (fee-free venue; a bid below mark has no open loss).
    assert v.held(1) == 590 and v.wallet(1) == D(10000) - 590
    v.ok(CancelOrder(1, "BTCUSDT", order_id=1))
    assert v.held(1) == 0 and v.wallet(1) == 10000


def test_limit_worse_than_mark_also_holds_the_open_loss() -> None:
    v = Venue()
    v.account(1, "10000")
    v.mark("BTCUSDT", "60000")
    v.ok(limit(1, BUY, "0.1", "61000"))  # empty book: it rests
    # Binance's order cost: IM 0.1 × 61,000 / 10 = 610, plus open loss (61,000 − 60,000) × 0.1 = 100.
    assert v.held(1) == 710


def test_hold_includes_the_taker_fee_estimate_when_fees_apply() -> None:
    v = Venue(fees=True)  # Binance base fees: maker 0.02 %, taker 0.05 %
    v.account(1, "10000")
    v.mark("BTCUSDT", "60000")
    v.ok(limit(1, BUY, "0.1", "59000"))
    # 590 IM + 5,900 × 0.0005 = 2.95 fee estimate.
    assert v.held(1) == D("592.95")


def test_market_buy_into_isolated_moves_margin_and_sets_liquidation_price() -> None:
    v = Venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, SELL, "1", "60000"))
    assert v.held(2) == 6000
    events = v.ok(market(1, BUY, "1"))
    assert [(t.price, t.qty) for t in of(events, Trade)] == [(D(60000), D(1))]
    assert v.pool(1) == 6000 and v.wallet(1) == 4000  # 1 × 60,000 / 10 moved into the isolated pool
    assert v.held(2) == 0 and v.wallet(2) == 100000  # the maker's hold returns: cross positions hold no pool
    # Binance bracket 2 (60,000 notional: 0.5 %, cum 50): LP = (6,000 + 50 − 60,000)/(0.005 − 1).
    pos = v.position(1)
    assert pos["liquidation_exact"] == div(53950, "0.995")
    assert v.position(2)["lots"] == -1000


def test_fees_are_charged_at_maker_and_taker_rates() -> None:
    v = Venue(fees=True)
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, SELL, "1", "60000"))
    trade = of(v.ok(market(1, BUY, "1")), Trade)[0]
    assert (trade.maker_fee, trade.taker_fee) == (D(12), D(30))  # 60,000 × 0.02 % and × 0.05 %
    assert v.balance("fees:USDT") == 42
    assert v.wallet(1) == D(100000) - 30  # cross: no pool; only the fee leaves the wallet


def test_partial_fill_then_rest_keeps_hold_for_the_rest() -> None:
    v = Venue()
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, SELL, "0.4", "60000"))
    events = v.ok(limit(1, BUY, "1", "60000"))
    statuses = [(u.order_id, u.status) for u in of(events, OrderUpdated)]
    assert (1, "FILLED") in statuses and (2, "PARTIALLY_FILLED") in statuses
    assert v.held(1) == D("0.6") * 60000 / 10  # 3,600 for the resting 0.6


def test_ioc_remainder_expires_and_fok_all_or_nothing() -> None:
    v = Venue()
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, SELL, "0.5", "60000"))
    before = state_hash(v.engine)
    v.no(limit(1, BUY, "1", "60000", tif=TimeInForce.FOK), "fok_unfillable")
    assert state_hash(v.engine) == before  # a rejection changes nothing, not even the order id counter
    events = v.ok(limit(1, BUY, "1", "60000", tif=TimeInForce.IOC))
    final = of(events, OrderUpdated)[-1]
    assert (final.status, final.filled) == ("EXPIRED", D("0.5"))
    assert v.held(1) == 0 and v.resting() == 0


def test_post_only_that_would_cross_is_rejected() -> None:
    v = Venue()
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, SELL, "1", "60000"))
    v.no(limit(1, BUY, "1", "60000", tif=TimeInForce.GTX), "post_only_would_cross")
    v.ok(limit(1, BUY, "1", "59999.9", tif=TimeInForce.GTX))


def test_self_trade_prevention_expire_maker() -> None:
    v = Venue()
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(1, SELL, "1", "60000"))
    v.ok(limit(2, SELL, "1", "60000.1"))
    events = v.ok(limit(1, BUY, "1", "60000.1", stp=STP.EXPIRE_MAKER))
    expired = [u for u in of(events, OrderUpdated) if u.status == "EXPIRED"]
    assert [(u.order_id, u.reason) for u in expired] == [(1, "self_trade_prevented")]
    assert [t.maker_account for t in of(events, Trade)] == [2]
    assert v.held(1) == 0  # the expired maker's hold came back; the taker fully filled


def test_market_order_respects_the_price_band() -> None:
    v = Venue()
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, SELL, "1", "64000"))  # 6.7 % above mark: outside the 5 % band
    events = v.ok(market(1, BUY, "1"))
    assert not of(events, Trade) and of(events, OrderUpdated)[-1].status == "EXPIRED"


def test_client_order_id_unique_among_open_orders() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(1, BUY, "0.1", "59000", client_order_id="abc"))
    v.no(limit(1, BUY, "0.1", "58000", client_order_id="abc"), "duplicate_client_order_id")
    v.ok(CancelOrder(1, "BTCUSDT", client_order_id="abc"))
    v.ok(limit(1, BUY, "0.1", "58000", client_order_id="abc"))  # free again once the first is gone


def test_amend_qty_down_keeps_priority_price_change_loses_it() -> None:
    v = Venue()
    for n in (1, 2, 3):
        v.account(n)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(1, SELL, "1", "60000"))  # id 1, first in queue
    v.ok(limit(2, SELL, "1", "60000"))  # id 2
    v.ok(AmendOrder(1, "BTCUSDT", order_id=1, qty=D("0.5")))
    assert v.held(1) == 3000  # hold follows the smaller order
    makers = [t.maker_order_id for t in of(v.ok(market(3, BUY, "0.5")), Trade)]
    assert makers == [1]  # still first
    v.ok(limit(1, SELL, "1", "60000"))  # id 4, behind order 2
    v.ok(AmendOrder(1, "BTCUSDT", order_id=4, price=D("60000")))  # no-op price: priority kept
    v.ok(AmendOrder(2, "BTCUSDT", order_id=2, price=D("60000.1")))  # moves away
    v.ok(AmendOrder(2, "BTCUSDT", order_id=2, price=D("60000")))  # comes back last
    makers = [t.maker_order_id for t in of(v.ok(market(3, BUY, "2")), Trade)]
    assert makers == [4, 2]


def test_amend_to_a_crossing_price_trades() -> None:
    v = Venue()
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, SELL, "1", "60000"))
    v.ok(limit(1, BUY, "1", "59000"))
    events = v.ok(AmendOrder(1, "BTCUSDT", order_id=2, price=D("60000")))
    assert [t.taker_order_id for t in of(events, Trade)] == [2]
    assert v.held(1) == 0 and v.position(1)["lots"] == 1000


def test_cancel_all_and_unknown_order() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    for p in ("59000", "58000", "57000"):
        v.ok(limit(1, BUY, "0.1", p))
    v.ok(CancelAllOrders(1, "BTCUSDT"))
    assert v.held(1) == 0 and not v.orders(1)
    v.no(CancelOrder(1, "BTCUSDT", order_id=1), "unknown_order")


def test_orders_are_rejected_with_codes_and_change_nothing() -> None:
    v = Venue()
    v.account(1, "1000")
    v.account(2)
    v.mark("BTCUSDT", "60000")
    before = state_hash(v.engine)
    v.no(limit(1, BUY, "0.1", "60000.05"), "bad_price")  # off the 0.10 tick
    v.no(limit(1, BUY, "0.0001", "60000"), "bad_quantity")  # off the 0.001 step
    v.no(limit(1, BUY, "0.001", "60000"), "below_min_notional")  # 60 < 100
    v.no(limit(1, BUY, "1", "60000"), "insufficient_margin")  # needs 6,000, has 1,000
    v.no(limit(9, BUY, "1", "60000"), "unknown_account")
    v.no(PlaceOrder(1, "XRPUSDT", BUY, LIMIT, qty=D(1), price=D(1)), "unknown_symbol")
    v.no(PlaceOrder(1, "BTCUSDT", BUY, MARKET, qty=D(1), price=D(1)), "bad_price")
    v.no(limit(1, SELL, "0.01", "60000", reduce_only=True), "reduce_only_rejected")
    assert state_hash(v.engine) == before


def test_paused_market_refuses_new_orders_but_cancels_and_liquidations_go_on() -> None:
    from isomargin.engine import SetMarketStatus

    v = Venue()
    v.account(1)
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(1, BUY, "0.1", "59000"))
    v.ok(PlaceOrder(2, "BTCUSDT", SELL, OrderType.STOP_MARKET, qty=D("0.1"), stop_price=D(59500),
                    working_type=WorkingType.MARK_PRICE))  # fmt: skip
    v.ok(SetMarketStatus("BTCUSDT", True))
    before = state_hash(v.engine)
    v.no(limit(1, BUY, "0.1", "58000"), "market_paused")
    v.no(AmendOrder(1, "BTCUSDT", order_id=1, price=D(58500)), "market_paused")
    assert state_hash(v.engine) == before
    assert not of(v.mark("BTCUSDT", "59400"), OrderUpdated)  # the stop is due but waits while paused
    v.ok(CancelOrder(1, "BTCUSDT", order_id=1))  # cancels still work
    v.no(SetMarketStatus("BTCUSDT", True), "status_unchanged")
    events = v.ok(SetMarketStatus("BTCUSDT", False))
    assert next(u.status for u in of(events, OrderUpdated)) == "TRIGGERED"  # fires on reopening
