"""`Delivered` names how each position settled (account, symbol, side, signed size, price, realised PnL, asset,
what came back from an isolated pool), so an adapter builds delivery income rows from the event alone.

Scenarios and numbers as in test_delivery.py (fees 0), derived by hand in the comments.
"""

from __future__ import annotations

from enginekit import D, of
from test_delivery import EXPIRY, INVERSE, LINEAR, dated, limit

from isomargin.engine import DeliverInstrument, FundInsurance, OrderSide, PositionSide
from isomargin.engine.events import Delivered, DeliverySettlement
from isomargin.journal.codec import decode_event, encode_event

BUY, SELL = OrderSide.BUY, OrderSide.SELL
BOTH = PositionSide.BOTH


def test_linear_delivery_lists_each_position_with_pnl_and_the_pool_returned() -> None:
    # Isolated long 0.1 at 60,000, 10×: pool 600. Delivered at 63,000: PnL +0.1 × 3000 = +300; the pool's
    # 600 + 300 = 900 goes back to the wallet. The cross short: PnL −300, nothing returned (no pool).
    v = dated()
    sym = LINEAR.symbol
    v.account(1, isolated=sym)
    v.account(2)
    v.mark(sym, "60000")
    v.ok(limit(2, sym, SELL, "0.1", "60000"))
    v.ok(limit(1, sym, BUY, "0.1", "60000"))
    [d] = of(v.ok(DeliverInstrument(sym, D(63000), ts=EXPIRY)), Delivered)
    assert d.settlements is not None
    rows = {s.account: s for s in d.settlements}
    assert rows[1] == DeliverySettlement(1, sym, BOTH, D("0.1"), D(63000), D(300), "USDT", D(900))
    assert rows[2] == DeliverySettlement(2, sym, BOTH, D("-0.1"), D(63000), D(-300), "USDT", D(0))
    assert d.positions == len(d.settlements) == 2
    # The journal round trip keeps them; to_dict names each row's fields (size on the 0.001 step grid).
    back = decode_event(encode_event(d), d.env, d.index)
    assert isinstance(back, Delivered) and back.settlements == d.settlements
    row = next(r for r in d.to_dict()["settlements"] if r["account"] == 1)
    assert row == {"account": 1, "symbol": sym, "position_side": "BOTH", "size": "0.100", "price": "63000",
                   "realized_pnl": "300", "asset": "USDT", "returned": "900"}  # fmt: skip


def test_inverse_delivery_past_bankruptcy_returns_nothing_from_the_pool() -> None:
    # Isolated long 1000 USD at 50,000, 10×: value 0.02 BTC, pool 0.002. Delivered at 40,000: PnL = 1000 ×
    # (1/50000 − 1/40000) = −0.005 BTC into the pool (the fund covers the 0.003 beyond it): 0 comes back.
    # The cross short gains +0.005.
    v = dated()
    sym = INVERSE.symbol
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=sym)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.ok(FundInsurance("BTC", D("0.01")))
    v.mark(sym, "50000")
    v.ok(limit(2, sym, SELL, "1000", "50000"))
    v.ok(limit(1, sym, BUY, "1000", "50000"))
    [d] = of(v.ok(DeliverInstrument(sym, D(40000), ts=EXPIRY + 5)), Delivered)
    assert d.settlements is not None
    rows = {s.account: s for s in d.settlements}
    assert rows[1] == DeliverySettlement(1, sym, BOTH, D(1000), D(40000), D("-0.005"), "BTC", D(0))
    assert rows[2] == DeliverySettlement(2, sym, BOTH, D(-1000), D(40000), D("0.005"), "BTC", D(0))


def test_records_journaled_before_the_settlements_still_decode() -> None:
    v = dated()
    [d] = of(v.ok(DeliverInstrument(INVERSE.symbol, D(50000), ts=EXPIRY)), Delivered)
    assert d.settlements == ()  # no positions
    raw = encode_event(d)
    raw.pop("settlements")
    old = decode_event(raw, d.env, d.index)
    assert isinstance(old, Delivered) and old.settlements is None
    assert (old.symbol, old.settle, old.price, old.positions) == (INVERSE.symbol, "BTC", D(50000), 0)
    assert "settlements" not in old.to_dict() or old.to_dict()["settlements"] is None
