"""A mark exactly at an isolated position's alert price, where the level does not change (OKX warns *below* 300 %).

The alert watch fires at equality; the level measured there was unchanged, and the entry was re-armed at the same
price, so it fired again at once, forever: the tick hit its round bound and the engine failed (fail-stop). Found
with an inverse position whose 300 % price is a round number; the linear case below has one too.
"""

from __future__ import annotations

from enginekit import D, Venue, of

from isomargin.engine import AdjustMargin, OrderSide, OrderType, PlaceOrder
from isomargin.engine.events import MarginCall


def test_linear_okx_mark_exactly_at_the_300_percent_price() -> None:
    # OKX BTCUSDT, no fee: tier 1 (≤ 1000 contracts = 10 BTC) rate 0.4 %. Isolated long 1 BTC at 60,000, 10×:
    # pool 6000, plus 4600 = 10,600. Ratio = (10600 + P − 60000) / (0.004 P) = 3 where P − 49400 = 0.012 P:
    # P = 49400 / 0.988 = 50,000 exactly. At 50,000 the ratio is 300 %: no call (and no endless loop); at
    # 49,999.9 it is below: warning.
    v = Venue(venue="okx", symbols=("BTCUSDT",))
    v.account(1, isolated="BTCUSDT")
    v.account(2)
    v.mark("BTCUSDT", "60000")
    v.ok(PlaceOrder(2, "BTCUSDT", OrderSide.SELL, OrderType.LIMIT, D(1), D(60000)))
    v.ok(PlaceOrder(1, "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D(1), D(60000)))
    v.ok(AdjustMargin(1, "BTCUSDT", D(4600)))
    assert v.pool(1) == D(10600)
    assert not of(v.mark("BTCUSDT", "50000"), MarginCall)
    [call] = of(v.mark("BTCUSDT", "49999.9"), MarginCall)
    assert call.level == "warning" and call.asset == "USDT"
    # Back up through the price: recovery is reported once, at a ratio of at least 300 %.
    [back] = of(v.mark("BTCUSDT", "50000"), MarginCall)
    assert back.level == "ok" and back.ratio >= 3
    assert not of(v.mark("BTCUSDT", "50000"), MarginCall)
