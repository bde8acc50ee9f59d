"""Positions and margin through the engine: the seeds' flip, isolated add/remove, funding, modes,
reduce-only, conditional orders, hedge mode. Figures are derived by hand in the comments."""

from __future__ import annotations

from enginekit import D, FundingPaidT, OrderUpdated, Trade, Venue, div, of

from isomargin.engine import (
    AdjustMargin,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
    SettleFunding,
    TimeInForce,
    Withdraw,
    WorkingType,
)
from isomargin.engine.queries import balances, positions

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def order(acct: int, side: OrderSide, qty: str, price: str | None = None, sym: str = "BTCUSDT", **kw: object):  # type: ignore[no-untyped-def]
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return PlaceOrder(acct, sym, side, kind, qty=D(qty), price=D(price) if price else None, **kw)  # type: ignore[arg-type]


def opened(v: Venue, acct: int, side: OrderSide, qty: str, price: str, sym: str = "BTCUSDT", maker: int = 99) -> None:
    """`acct` takes `qty` at `price` from a fresh liquidity account."""
    if not v.has_account(maker):
        v.account(maker, "100000000")
    v.ok(order(maker, OrderSide(-side), qty, price, sym))
    v.ok(order(acct, side, qty, sym=sym))


def test_seeds_flip_long_one_sell_two_opens_a_short_with_new_margin() -> None:
    # Seeds (article 003): long 1 BTC at 100,000 with 10,000 margin (10×); sell 2 BTC at 125,000: the long
    # closes with +25,000, and the extra 1 BTC opens a short with 12,500 margin drawn from the account.
    v = Venue()
    v.account(1, "20000", isolated="BTCUSDT")
    v.mark("BTCUSDT", "100000")
    opened(v, 1, BUY, "1", "100000")
    assert v.pool(1) == 10000 and v.wallet(1) == 10000
    v.mark("BTCUSDT", "125000")
    v.ok(order(99, BUY, "2", "125000"))
    events = v.ok(order(1, SELL, "2"))
    assert [t.taker_realized_pnl for t in of(events, Trade)] == [D(25000)]
    pos = v.position(1)
    assert pos["lots"] == -1000 and pos["cost"] == 125000
    assert v.pool(1) == 12500
    # Wallet: 10,000 + released 10,000 + PnL 25,000 − new margin 12,500 = 32,500.
    assert v.wallet(1) == 32500


def test_add_and_remove_isolated_margin_moves_only_the_liquidation_price() -> None:
    v = Venue()
    v.account(1, "20000", isolated="BTCUSDT")
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "1", "60000")
    pos = v.position(1)
    assert pos["liquidation_exact"] == div(53950, "0.995")  # (6,000 + 50 − 60,000)/(0.005 − 1)
    v.ok(AdjustMargin(1, "BTCUSDT", D(1000)))
    pos = v.position(1)
    assert v.pool(1) == 7000 and pos["liquidation_exact"] == div(52950, "0.995")
    assert (pos["lots"], pos["cost"]) == (1000, 60000)
    # Max removable at mark 60,000: 7,000 − 6,000 (IM at mark) = 1,000.
    v.no(AdjustMargin(1, "BTCUSDT", D("-1000.1")), "above_max_removable")
    v.ok(AdjustMargin(1, "BTCUSDT", D(-1000)))
    assert v.position(1)["liquidation_exact"] == div(53950, "0.995") and v.wallet(1) == 14000
    v.no(AdjustMargin(1, "BTCUSDT", D(100000)), "insufficient_balance")
    v.no(AdjustMargin(1, "ETHUSDT", D(10)), "no_position")


def test_funding_moves_an_isolated_liquidation_price_and_not_its_neighbours() -> None:
    v = Venue()
    v.account(1, "50000", isolated="BTCUSDT")
    v.ok(SetMarginMode(1, "ETHUSDT", MarginMode.ISOLATED))
    v.mark("BTCUSDT", "60000")
    v.mark("ETHUSDT", "3000")
    opened(v, 1, BUY, "1", "60000")
    opened(v, 1, BUY, "2", "3000", sym="ETHUSDT")
    eth_before = v.position(1, "ETHUSDT")["liquidation_exact"]
    events = v.ok(SettleFunding("BTCUSDT", D("0.0001")))
    # Long 1 BTC pays 1 × 60,000 × 0.0001 = 6 out of its pool; the short (liquidity account) receives 6.
    paid = {(e.account, e.amount) for e in of(events, FundingPaidT)}
    assert paid == {(1, D(-6)), (99, D(6))}
    assert v.pool(1) == 5994
    assert v.position(1)["liquidation_exact"] == div(53956, "0.995")  # (5,994 + 50 − 60,000)/(0.005 − 1)
    assert v.position(1, "ETHUSDT")["liquidation_exact"] == eth_before
    assert v.balance("funding:USDT") == 0  # funding nets to zero between traders (it clears through funding:USDT)


def test_reduce_only_is_capped_to_the_position_and_trimmed_when_it_shrinks() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "1", "60000")
    events = v.ok(order(1, SELL, "3", "61000", reduce_only=True))
    assert of(events, OrderUpdated)[0].qty == 1  # capped to the 1 BTC position
    assert v.held(1) == 0  # reduce-only orders hold nothing
    v.no(order(1, SELL, "1", "62000", reduce_only=True), "reduce_only_rejected")  # the first covers it all
    v.no(order(1, BUY, "1", "59000", reduce_only=True), "reduce_only_rejected")  # wrong side: would open
    v.ok(order(99, BUY, "0.4", "60000"))
    v.ok(order(1, SELL, "0.4"))  # a plain market sell reduces the long to 0.6
    (ro,) = v.orders(1)
    assert ro["qty"] == D("0.6")  # trimmed from 1 to 0.6


def test_position_and_margin_mode_changes_are_refused_while_open() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    v.ok(order(1, BUY, "0.1", "59000"))
    v.no(SetMarginMode(1, "BTCUSDT", MarginMode.ISOLATED), "orders_open")
    v.no(SetLeverage(1, "BTCUSDT", 5), "orders_open")
    v.no(SetPositionMode(1, True), "orders_open")
    v.ok(SetMarginMode(1, "ETHUSDT", MarginMode.ISOLATED))  # another symbol is free
    opened(v, 1, BUY, "1", "60000")
    v.no(SetMarginMode(1, "BTCUSDT", MarginMode.ISOLATED), "position_open")
    # 1.1 BTC ≈ 66,000 notional is Binance bracket 2: max 100×.
    v.ok(PlaceOrder(1, "BTCUSDT", SELL, OrderType.MARKET, qty=D("0.1"), reduce_only=True))  # still 1 BTC open
    v.ok(PlaceOrder(1, "BTCUSDT", SELL, OrderType.MARKET, qty=D("0.1"), reduce_only=True))


def test_leverage_is_checked_against_the_tier_of_the_position() -> None:
    v = Venue()
    v.account(1, "1000000")
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "1", "60000")  # 60,000 notional: Binance bracket 2 (max 100×)
    v.no(SetLeverage(1, "BTCUSDT", 125), "leverage_above_tier_max")
    v.ok(SetLeverage(1, "BTCUSDT", 100))
    v.no(SetLeverage(1, "BTCUSDT", 0), "bad_leverage")


def test_withdrawal_limited_to_available_with_cross_losses_counted() -> None:
    v = Venue()
    v.account(1, "10000")
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "1", "60000")  # cross, 10×: IM 6,000 at mark
    v.mark("BTCUSDT", "59000")
    # Available = 10,000 − IM at mark 5,900 + loss −1,000 = 3,100.
    assert balances(v.engine, 1)["available"] == 3100
    v.no(Withdraw(1, "USDT", D("3100.01")), "insufficient_balance")
    v.ok(Withdraw(1, "USDT", D(3100)))
    v.mark("BTCUSDT", "61000")  # profits do not become withdrawable: 6,900 − 6,100 = 800
    assert balances(v.engine, 1)["available"] == 800


def test_stop_market_fires_on_mark_and_would_immediately_trigger_is_refused() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "1", "60000")
    stop = PlaceOrder(
        1,
        "BTCUSDT",
        SELL,
        OrderType.STOP_MARKET,
        qty=D(1),
        stop_price=D(58000),
        reduce_only=True,
        working_type=WorkingType.MARK_PRICE,
    )
    v.no(
        PlaceOrder(
            1,
            "BTCUSDT",
            SELL,
            OrderType.STOP_MARKET,
            qty=D(1),
            stop_price=D(61000),
            reduce_only=True,
            working_type=WorkingType.MARK_PRICE,
        ),
        "would_immediately_trigger",
    )
    v.ok(stop)
    v.ok(order(99, BUY, "1", "57900"))
    assert not of(v.mark("BTCUSDT", "58000.1"), Trade)
    events = v.mark("BTCUSDT", "58000")
    # One OrderUpdated per order per command, with its state after it: fired, then filled.
    assert [u.status for u in of(events, OrderUpdated) if u.account == 1] == ["TRIGGERED", "FILLED"]
    assert v.position(1) is None


def test_close_position_take_profit_and_stop_limit() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "0.7", "60000")
    v.ok(
        PlaceOrder(
            1,
            "BTCUSDT",
            SELL,
            OrderType.TAKE_PROFIT_MARKET,
            stop_price=D(63000),
            close_position=True,
            working_type=WorkingType.MARK_PRICE,
        )
    )
    v.ok(order(99, BUY, "5", "63000"))
    events = v.mark("BTCUSDT", "63000")
    fills = [t for t in of(events, Trade) if t.taker_account == 1]
    assert sum(t.qty for t in fills) == D("0.7") and v.position(1) is None
    # A buy stop-limit (stop 63,100, limit 63,050) fires on a last-price trade at 63,100 and then rests as a
    # limit below the remaining asks, holding 0.1 × 63,050 / 10 = 630.5 plus open loss against the 63,000
    # mark, (63,050 − 63,000) × 0.1 = 5.
    v.ok(PlaceOrder(1, "BTCUSDT", BUY, OrderType.STOP_LIMIT, qty=D("0.1"), price=D(63050), stop_price=D(63100)))
    v.account(98)
    v.ok(order(99, SELL, "0.01", "63100"))
    events = v.ok(order(98, BUY, "0.01"))
    statuses = [u.status for u in of(events, OrderUpdated) if u.account == 1]
    assert statuses == ["TRIGGERED", "NEW"]
    assert v.held(1) == D("635.5")


def test_trailing_stop_follows_the_high_and_fires_on_the_callback() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "1", "60000")
    v.ok(
        PlaceOrder(
            1,
            "BTCUSDT",
            SELL,
            OrderType.TRAILING_STOP_MARKET,
            qty=D(1),
            callback_rate=D(1),
            reduce_only=True,
            working_type=WorkingType.MARK_PRICE,
        )
    )
    v.ok(order(99, BUY, "1", "61000"))
    v.mark("BTCUSDT", "62000")  # new high; fires at 62,000 × 0.99 = 61,380
    assert not of(v.mark("BTCUSDT", "61380.1"), Trade)
    trades = of(v.mark("BTCUSDT", "61380"), Trade)
    assert [(t.taker_account, t.price) for t in trades] == [(1, D(61000))]


def test_hedge_mode_legs_side_by_side() -> None:
    v = Venue()
    v.account(1)
    v.ok(SetPositionMode(1, True))
    v.mark("BTCUSDT", "60000")
    v.account(99, "100000000")
    v.ok(order(99, SELL, "1", "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", BUY, OrderType.MARKET, qty=D(1), position_side=PositionSide.LONG))
    v.ok(order(99, BUY, "0.5", "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", SELL, OrderType.MARKET, qty=D("0.5"), position_side=PositionSide.SHORT))
    assert v.position(1, side="LONG")["lots"] == 1000 and v.position(1, side="SHORT")["lots"] == -500
    v.no(PlaceOrder(1, "BTCUSDT", BUY, OrderType.MARKET, qty=D(1)), "position_side_required")
    # A buy on the short leg closes it: capped to the 0.5 held (it finds no ask, so it expires unfilled).
    closing = of(
        v.ok(PlaceOrder(1, "BTCUSDT", BUY, OrderType.MARKET, qty=D(1), position_side=PositionSide.SHORT)), OrderUpdated
    )
    assert closing[0].qty == D("0.5") and closing[0].reduce_only and closing[-1].status == "EXPIRED"
    views = {p["position_side"]: p for p in positions(v.engine, 1)}
    assert views["LONG"]["size"] == 1 and views["SHORT"]["size"] == D("-0.5")


def test_get_positions_view_for_an_isolated_long() -> None:
    v = Venue()
    v.account(1, "20000", isolated="BTCUSDT")
    v.mark("BTCUSDT", "60000")
    opened(v, 1, BUY, "1", "60000")
    v.mark("BTCUSDT", "57000")
    (p,) = positions(v.engine, 1)
    assert p["unrealized_pnl"] == -3000 and p["isolated_margin"] == 6000
    assert p["pnl_ratio"] == D("-0.5")  # −3,000 / 6,000 initial margin
    assert p["maintenance_margin"] == 235  # 57,000 × 0.5 % − 50
    assert p["margin_ratio"] == div(235, 3000)  # Binance: MM / (6,000 − 3,000)
    assert p["liquidation_price"] == div(53950, "0.995") and p["bankruptcy_price"] == 54000
    assert p["tier"] == 2 and p["margin_mode"] is MarginMode.ISOLATED


def test_timeinforce_on_market_is_ioc() -> None:
    v = Venue()
    v.account(1)
    v.mark("BTCUSDT", "60000")
    events = v.ok(order(1, BUY, "1", tif=TimeInForce.GTC))
    assert of(events, OrderUpdated)[-1].status == "EXPIRED"  # nothing to fill; never rests
