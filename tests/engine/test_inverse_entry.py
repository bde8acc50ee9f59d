"""The entry price of an inverse position is exact: size / Σ (face / price), not size / the money cost.

BTCUSD_PERP as in test_inverse.py: quantity = face in USD (100 per contract), money in BTC quanta of 10⁻¹⁰. The
money cost rounds each fill to a quantum (5000 / 60000 = 0.0833333333|33… BTC), so face / cost read
60,000.000024; the position also keeps the exact coin cost as a fraction, and the entry reads from that.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from enginekit import D, Trade, Venue, inverse_spec, of

from isomargin.engine import OrderSide, OrderType, PlaceOrder, restore, snapshot, state_hash
from isomargin.engine.events import PositionUpdated
from isomargin.engine.positions import EXACT_COST_DEN_LIMIT, add_exact
from isomargin.journal.codec import decode_event, encode_event

SYM = "BTCUSD_PERP"
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def venue() -> Venue:
    v = Venue(symbols=("BTCUSDT",), inverse=(inverse_spec(),))
    for n in (1, 2, 3):
        v.account(n, usdt="0", coins={"BTC": "10"})
    v.mark(SYM, "50000")
    return v


def trade(v: Venue, buyer: int, seller: int, qty: str, price: str) -> list[object]:
    v.ok(PlaceOrder(seller, SYM, SELL, OrderType.LIMIT, D(qty), D(price)))
    events = v.ok(PlaceOrder(buyer, SYM, BUY, OrderType.LIMIT, D(qty), D(price)))
    assert of(events, Trade), events
    return events  # type: ignore[return-value]


def held(engine: Any, account: int) -> Any:
    [pos] = engine.accounts.get(account).positions.values()
    return pos


def test_one_fill_at_60000_enters_at_exactly_60000() -> None:
    # 5000 USD face at 60,000: coin value 5000/60000 = 1/12 BTC = 0.0833333333|333… The buyer books it rounded
    # down (0.0833333333), the seller up (0.0833333334); either way face / money cost ≠ 60,000
    # (5000 / 0.0833333333 = 60,000.000024), while face / (1/12) = 60,000 exactly.
    v = venue()
    events = trade(v, 1, 2, "5000", "60000")
    long, short = v.position(1, SYM), v.position(2, SYM)
    assert long["cost"] == D("0.0833333333") and short["cost"] == D("0.0833333334")
    assert long["entry_price"] == D(60000) and str(long["entry_price"]) == "60000"
    assert short["entry_price"] == D(60000)
    updates = [e for e in events if isinstance(e, PositionUpdated)]
    assert {e.account for e in updates} == {1, 2}
    assert all(e.entry_price == D(60000) for e in updates)


def test_harmonic_mean_of_40000_and_60000_is_exactly_48000() -> None:
    # 1000 USD at 40,000 (0.025 BTC) and 1000 USD at 60,000 (1/60 BTC): entry = 2000 / (1/40 + 1/60) =
    # 2000 / (5/120) = 48,000. The money cost is 0.025 + 0.0166666666 = 0.0416666666 (2000 / it = 48,000.000077).
    v = venue()
    trade(v, 1, 2, "1000", "40000")
    trade(v, 1, 2, "1000", "60000")
    p = v.position(1, SYM)
    assert p["cost"] == D("0.0416666666")
    assert p["entry_price"] == D(48000)
    # A partial close keeps the entry: selling 500 USD at 50,000 releases 1/4 of the exact cost (5/480 BTC), the
    # rest 1500 / (15/480) = 48,000.
    trade(v, 3, 1, "500", "50000")
    p = v.position(1, SYM)
    assert p["size"] == D(1500) and p["entry_price"] == D(48000)
    # The short (account 2) too: 2000 / (1/40 + 1/60) = 48,000, then bought back in part at 50,000.
    assert v.position(2, SYM)["entry_price"] == D(48000)
    trade(v, 2, 3, "700", "50000")
    assert v.position(2, SYM)["entry_price"] == D(48000)


def test_many_prices_average_to_the_exact_harmonic_mean() -> None:
    # Fills at 12 distinct prices: the entry equals Σ face / Σ (face / price), computed here with Fractions, to
    # all 34 digits it is given in (≥ 20 asked).
    v = venue()
    fills = [(str(100 * (k + 1)), f"{50000 + 137 * k}.{k % 10}") for k in range(12)]
    face = Fraction(0)
    coin = Fraction(0)
    for qty, price in fills:
        trade(v, 1, 2, qty, price)
        face += Fraction(qty)
        coin += Fraction(qty) / Fraction(price)
    exact = face / coin
    got = Fraction(v.position(1, SYM)["entry_price"])
    assert abs(got - exact) / exact < Fraction(1, 10**30)


def test_a_flip_opens_the_new_side_at_the_fill_price() -> None:
    # Long 1000 at 40,000, then sell 3000 at 60,000: 1000 closes the long, 2000 opens a short at 60,000 exactly.
    v = venue()
    trade(v, 1, 2, "1000", "40000")
    trade(v, 3, 1, "3000", "60000")
    p = v.position(1, SYM)
    assert p["size"] == D(-2000)
    assert p["entry_price"] == D(60000)


def test_snapshot_keeps_the_exact_cost_and_older_snapshots_derive_it_from_cost() -> None:
    v = venue()
    trade(v, 1, 2, "1000", "40000")
    trade(v, 1, 2, "1000", "60000")
    data = snapshot(v.engine)
    listings = [("binance", inverse_spec())]
    again = restore(data, listings=listings)
    assert state_hash(again) == state_hash(v.engine)
    pos = held(again, 1)
    # 1/40 + 1/60 thousandths of a BTC… exactly: 1000/40000 + 1000/60000 = 1/24 BTC = 10¹⁰/24 = 1,250,000,000/3 quanta.
    assert (pos.xnum, pos.xden) == (1_250_000_000, 3)
    # The exact cost is part of the hash: a different fraction with the same money cost hashes differently.
    pos.xnum += 1
    assert state_hash(again) != state_hash(v.engine)
    # An older snapshot (no "exact") restores, the money cost standing for the exact one (entry as before).
    import copy

    old = copy.deepcopy(data)
    n = 0
    for acct in old["accounts"]:
        for p in acct["positions"]:
            if p.pop("exact", None) is not None:
                n += 1
    assert n == 2
    legacy = restore(old, listings=listings)
    lp = held(legacy, 1)
    assert (lp.xnum, lp.xden) == (416666666, 1)  # 0.0416666666 BTC in quanta
    # 2000 / 0.0416666666 = 48,000.0000768000001228800…, the entry the money cost gives.
    from isomargin.engine import PositionSide, queries

    entry = queries.position(legacy, 1, SYM, PositionSide("BOTH"))["entry_price"]
    assert abs(entry - D("48000.0000768")) < D("0.0000001")


def test_position_updated_records_without_the_exact_cost_still_decode() -> None:
    v = venue()
    events = trade(v, 1, 2, "5000", "60000")
    [pu] = [e for e in events if isinstance(e, PositionUpdated) and e.account == 1]
    raw = pu.raw()
    assert "xnum" in raw and "xden" in raw
    back = decode_event(encode_event(pu), pu.env, pu.index)
    assert back.entry_price == D(60000)
    raw.pop("xnum")
    raw.pop("xden")
    old = PositionUpdated.from_raw(pu.env, pu.index, raw, lambda spec: pu.grid)
    # Derived from the money cost, as records always were: 5000 / 0.0833333333 = 60,000.00002400000009600…
    assert old.entry_price is not None and old.entry_price != D(60000)
    assert abs(old.entry_price - D("60000.000024")) < D("0.000001")


def test_the_exact_fraction_stays_bounded() -> None:
    # 1/3 + 1/7 = 10/21 reduced; a denominator past the bound is rounded down onto 1 / EXACT_COST_DEN_LIMIT.
    assert add_exact(1, 3, 1, 7) == (10, 21)
    n, d = add_exact(1, 10**39 + 1, 1, 10**39 + 3)
    assert d <= EXACT_COST_DEN_LIMIT
    exact = Fraction(1, 10**39 + 1) + Fraction(1, 10**39 + 3)
    assert 0 <= exact - Fraction(n, d) < Fraction(1, EXACT_COST_DEN_LIMIT)
