"""Regression: a liquidation IOC filling at several prices inside its limit must not let the liquidation fee
of an early fill eat the margin that backs the lots still open (that drove the isolated pool negative and
fail-stopped the engine: `MarginError: negative margin` in `bankruptcy_price`, seeded 50x stream)."""

from __future__ import annotations

from decimal import Decimal

from enginekit import D, Trade, Venue, div, of
from hypothesis import example, given
from hypothesis import strategies as st

from isomargin.engine import EngineFailed, OrderSide, OrderType, PlaceOrder
from isomargin.engine.events import BadDebt, Liquidated
from isomargin.engine.queries import insurance_fund, insurance_inventory

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def limit(acct: int, side: OrderSide, qty: str, price: str) -> PlaceOrder:
    return PlaceOrder(acct, "BTCUSDT", side, OrderType.LIMIT, qty=D(qty), price=D(price))


def test_liquidation_fee_never_takes_the_margin_of_the_lots_still_open() -> None:
    # Binance BTCUSDT, trading fees off; liquidation fee 1.25 %, tier 1 MM 0.4 %.
    # Account 1: isolated 50x short 0.1 BTC at 60,000: notional 6,000, pool 6,000 / 50 = 120.
    #   bankruptcy BP = 60,000 + 120 / 0.1 = 61,200 (on the tick: the IOC's limit is 61,200)
    #   liquidation LP: 120 + 0.1 (60,000 − P) = 0.004 × 0.1 P  →  P = 6,120 / 0.1004 = 60,956.17…
    # Asks (account 3): 0.03 @ 61,000, 0.03 @ 61,100, 0.03 @ 61,150 — 0.09 of the 0.1, all inside the limit.
    # Mark 61,000 ≥ LP: the close buys 0.09 through the three asks; 0.01 is left for the backstop.
    # Each fill's fee is capped by what the fill beat bankruptcy by, n × (61,200 − p), so the pool always still
    # backs the open rest down to 61,200:
    #   fill 1: PnL 0.03 × −1,000 = −30 → pool 90; rest 0.07 needs 0.07 × 1,200 = 84; fee min(22.875, 6) = 6 → 84
    #   fill 2: PnL 0.03 × −1,100 = −33 → pool 51; rest 0.04 needs 48; fee min(22.9125, 3) = 3 → 48
    #   fill 3: PnL 0.03 × −1,150 = −34.5 → pool 13.5; rest 0.01 needs 12; fee min(22.93125, 1.5) = 1.5 → 12
    # The fund (empty: 0 at mark 61,000 < BP costs it nothing) takes 0.01 over at 61,200: PnL −12 → pool 0.
    # Before the fix fill 1 and 2 took their full fees (22.875, 22.9125) and fill 3 left the pool at −23.2875:
    # the takeover's refresh raised and the engine fail-stopped.
    v = Venue()
    v.account(1, "1000", isolated="BTCUSDT", leverage=50)
    v.account(2, "1000000")
    v.account(3, "1000000")
    v.mark("BTCUSDT", "60000")
    v.ok(limit(2, BUY, "0.1", "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", SELL, OrderType.MARKET, qty=D("0.1")))
    assert v.pool(1) == 120 and v.wallet(1) == 880
    assert v.position(1)["liquidation_exact"] == div(6120, "0.1004")
    for price in ("61000", "61100", "61150"):
        v.ok(limit(3, SELL, "0.03", price))
    events = v.mark("BTCUSDT", "61000")  # fail-stopped here before the fix
    assert [(t.qty, t.price) for t in of(events, Trade)] == [(D("0.03"), D(p)) for p in ("61000", "61100", "61150")]
    assert [e.step for e in of(events, Liquidated) if e.account == 1] == ["cancel_orders", "close", "takeover", "done"]
    assert not of(events, BadDebt)
    assert v.position(1) is None and v.pool(1) == 0
    assert v.wallet(1) == 880  # lost exactly its 120 of isolated margin, nothing more
    assert insurance_fund(v.engine) == D("10.5")  # 6 + 3 + 1.5 of fees; the 12 left backed the takeover
    assert insurance_inventory(v.engine, "BTCUSDT")[0] == D("-0.01")  # the fund holds the short at 61,200


@given(
    leverage=st.sampled_from([20, 50, 75, 100, 125]),
    book=st.lists(st.tuples(st.integers(2, 30), st.integers(1, 300)), min_size=1, max_size=6),
    rest=st.integers(0, 10),
    move=st.integers(1, 300),
    side=st.sampled_from([BUY, SELL]),
)
@example(leverage=50, book=[(30, 200), (30, 220), (30, 230)], rest=10, move=200, side=SELL)  # the case above
def test_high_leverage_liquidation_through_a_scattered_book_never_fail_stops(
    leverage: int, book: list[tuple[int, int]], rest: int, move: int, side: OrderSide
) -> None:
    # A high-leverage isolated position at 60,000 (trading fees on) liquidated through small orders spread from
    # the entry to well past its bankruptcy price (5 USDT steps, up to 1,500 away) that add up to all but `rest`
    # lots of it, by a mark move of up to 1,500: the engine settles it (close, takeover or ADL) without a
    # fail-stop, the owner loses at most its pool, and the debug audit (no negative pool, conservation) holds.
    v = Venue(fees=True)
    v.account(1, "1000", isolated="BTCUSDT", leverage=leverage)
    v.account(2, "1000000")
    v.account(3, "1000000")
    v.mark("BTCUSDT", "60000")
    qty = str(Decimal(sum(lots for lots, _ in book) + rest) / 1000)
    v.ok(limit(2, OrderSide(-side), qty, "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", side, OrderType.MARKET, qty=D(qty)))
    pool, wallet = v.pool(1), v.wallet(1)
    away = -side  # the liquidation trades against the position: asks above a short's entry, bids below a long's
    for lots, offset in book:
        price = Decimal(60000) + away * Decimal(offset) * 5
        v.ok(limit(3, OrderSide(-away), str(Decimal(lots) / 1000), str(price)))
    try:
        v.mark("BTCUSDT", str(Decimal(60000) + away * Decimal(move) * 5))
    except EngineFailed as exc:  # pragma: no cover - the bug this guards against
        raise AssertionError(f"fail-stop on valid input: {exc}") from exc
    assert wallet <= v.wallet(1) <= wallet + pool
