"""Hypothesis properties of inverse (coin-margined) isolated positions in the engine.

- The engine's liquidation price equals the calculator's (the venue profile's `liquidation_price` on the same
  size, entry and margin), the inverse twin of the linear check in `test_engine_stateful.py`, on the Binance
  (notional tiers in the coin), OKX (contract tiers, fee in the MM rate, partial liquidation) and Bybit (MM on
  entry value) profiles.
- At that price equity equals maintenance margin (margin + face × (1/entry − 1/LP) = MM(LP)).
- Liquidating it (a mark past the price, the book anywhere from above bankruptcy to far below) never takes more
  than the pool from the owner: the wallet is untouched, in the coin; nothing is left beyond its liquidation
  price (OKX's partial liquidation may leave a healthy remainder); every asset's balances sum to zero
  (`Engine(debug=True)` audits exact per-asset conservation and the settlement identity after every command).
"""

from __future__ import annotations

from decimal import Decimal

from enginekit import D, Venue, inverse_spec
from hypothesis import given, settings
from hypothesis import strategies as st

from isomargin.engine import AdjustMargin, OrderSide, OrderType, PlaceOrder, queries
from isomargin.margin import Deduction, Side, TierBasis
from isomargin.margin.numbers import MONEY
from isomargin.venues import get_profile

SYM = "BTCUSD_PERP"
# OKX keys its tiers by contracts (and adds the taker fee to the maintenance rate, and liquidates tier ≥ 3 two
# tiers down); Binance and Bybit by notional, in the coin for an inverse contract (Bybit: on entry value).
CONTRACT_BRACKETS = (
    ("0", "500", "0.004", "125"),
    ("500", "1000", "0.005", "100"),
    ("1000", "2000", "0.01", "50"),
    ("2000", "5000", "0.025", "20"),
    ("5000", None, "0.05", "10"),
)
SPECS = {
    "binance": inverse_spec(),
    "bybit": inverse_spec(),
    "okx": inverse_spec(brackets=CONTRACT_BRACKETS, basis=TierBasis.CONTRACTS, deduction=Deduction.NONE),
}
TICK = D("0.1")


def _price(ticks: int) -> Decimal:
    return ticks * TICK


@st.composite
def positions(draw: st.DrawFn) -> dict[str, object]:
    return {
        "long": draw(st.booleans()),
        "contracts": draw(st.integers(1, 3000)),  # up to 300,000 USD face: several tiers at low prices
        "entry": draw(st.integers(50_000, 1_000_000)),  # ticks: 5,000 … 100,000 USD
        "second": draw(st.none() | st.tuples(st.integers(1, 3000), st.integers(50_000, 1_000_000))),
        "leverage": draw(st.sampled_from([1, 2, 3, 5, 10, 20, 25, 50, 75, 100, 125])),
        "extra": draw(st.sampled_from(["0", "0", "0.0001", "0.01", "0.12345678"])),
        "fees": draw(st.booleans()),
        "book": draw(st.sampled_from(["above_bankruptcy", "far", "none"])),
        "venue": draw(st.sampled_from(["binance", "binance", "okx", "bybit"])),
    }


def _open(p: dict[str, object]) -> tuple[Venue, Side] | None:
    from isomargin.engine import ListInstrument, MarginMode, SetLeverage, SetMarginMode

    venue = str(p["venue"])
    v = Venue(symbols=(), venue=venue)
    v.engine.listings[(venue, SYM)] = SPECS[venue]
    fee = {"maker_fee": D("0.0002"), "taker_fee": D("0.0005")} if p["fees"] else {"maker_fee": D(0), "taker_fee": D(0)}
    v.ok(ListInstrument(SYM, venue=venue, **fee))
    for n in (1, 2, 3):
        v.account(n, usdt="0", coins={"BTC": "10000"})
    v.ok(SetMarginMode(1, SYM, MarginMode.ISOLATED))
    for n in (2, 3):  # the counterparties at 1× (any size is allowed there)
        v.ok(SetLeverage(n, SYM, 1))
    lev = p["leverage"]
    assert isinstance(lev, int)
    events = v.engine.apply(SetLeverage(1, SYM, lev))
    if events[0].__class__.__name__ == "Rejected":
        return None
    side = OrderSide.BUY if p["long"] else OrderSide.SELL
    fills = [(p["contracts"], p["entry"])]
    if p["second"] is not None:
        fills.append(p["second"])  # type: ignore[arg-type]
    for contracts, ticks in fills:
        assert isinstance(contracts, int) and isinstance(ticks, int)
        qty, price = D(contracts * 100), _price(ticks)
        v.mark(SYM, str(price))
        v.ok(PlaceOrder(2, SYM, OrderSide(-side), OrderType.LIMIT, qty, price))
        got = v.engine.apply(PlaceOrder(1, SYM, side, OrderType.LIMIT, qty, price))
        if got[0].__class__.__name__ == "Rejected":  # past the leverage's tier cap: not this property's case
            return None
    extra = D(str(p["extra"]))
    if extra:
        v.ok(AdjustMargin(1, SYM, extra))
    return v, Side.LONG if p["long"] else Side.SHORT


@settings(deadline=None)
@given(positions())
def test_inverse_isolated_liquidation_price_equals_the_calculators(p: dict[str, object]) -> None:
    opened = _open(p)
    if opened is None:
        return
    v, side = opened
    pos = v.position(1, SYM)
    assert pos is not None
    venue = str(p["venue"])
    profile, spec = get_profile(venue), SPECS[venue]
    size, entry, margin = abs(pos["size"]), pos["entry_price"], pos["isolated_margin"]
    taker = D("0.0005") if p["fees"] else D(0)  # what the market was listed with (OKX adds it to the MM rate)
    quote = profile.liquidation_price(spec, side, size, entry, margin, taker_fee=taker)
    lp = pos["liquidation_exact"]
    assert quote.exact == lp, f"engine LP {lp} != calculator {quote.exact}"
    assert pos["bankruptcy_price"] == quote.bankruptcy
    if lp is None:
        return
    # Equity = margin + side × face × (1/entry − 1/LP) equals MM(LP), to the solver's 34 digits.
    leg = profile.leg(spec, side, size, entry, taker)
    equity = MONEY.add(margin, leg.pnl_at(lp))
    mm = leg.maintenance_at(lp)
    assert abs(MONEY.subtract(equity, mm)) <= abs(mm) * D("1E-25") + D("1E-25"), (equity, mm, lp)


@settings(deadline=None)
@given(positions())
def test_inverse_isolated_loss_is_capped_at_the_pool(p: dict[str, object]) -> None:
    opened = _open(p)
    if opened is None:
        return
    v, side = opened
    pos = v.position(1, SYM)
    assert pos is not None
    lp, bankrupt = pos["liquidation_exact"], pos["bankruptcy_price"]
    if lp is None:
        return
    wallet = v.wallet(1, "BTC")
    size = abs(pos["size"])
    long = side is Side.LONG
    # Where the book stands when the mark crosses: just beyond bankruptcy on the good side, or 30 % past it.
    close_side = OrderSide.BUY if long else OrderSide.SELL
    if p["book"] != "none" and bankrupt is not None:
        far = bankrupt * (D("0.7") if long else D("1.3"))
        level = (lp + bankrupt) / 2 if p["book"] == "above_bankruptcy" else far
        ticks = int(level / TICK)
        if 0 < ticks < 10**12:  # a short at 1× can go bankrupt only at an astronomic price: no bid there
            v.ok(PlaceOrder(3, SYM, close_side, OrderType.LIMIT, size, ticks * TICK))
    # A mark one tick past the liquidation price (long: at or below; short: at or above).
    mark = (int(lp / TICK) if long else int(lp / TICK) + 1) * TICK
    if mark <= 0 or mark >= 10**11:  # (a 1× short's liquidation price can be beyond any mark the engine takes)
        return
    v.mark(SYM, str(mark))
    left = v.position(1, SYM)
    if left is not None:  # a partial liquidation (OKX: two tiers down) may leave a healthy remainder
        assert p["venue"] == "okx", f"a mark past the liquidation price left {left} ({p})"
        new_lp = left["liquidation_exact"]
        assert new_lp is None or ((mark > new_lp) if long else (mark < new_lp)), f"left beyond liquidation: {left}"
    assert v.wallet(1, "BTC") == wallet, "the owner's wallet paid for an isolated loss"
    for asset, kinds in queries.ledger_summary(v.engine).items():
        assert sum(kinds.values()) == 0, f"{asset} does not balance"
