"""Coin-margined (inverse) contracts in the engine, with numbers derived by hand in the comments.

BTCUSD_PERP as isomargin models it (see `enginekit.inverse_spec`): one contract = 100 USD face, the quantity is
the face value in USD (so 1000 = 10 contracts), tick 0.1; everything money is in BTC: notional = face / price,
PnL(long) = face × (1/entry − 1/exit), margin = notional / leverage, fees = rate × notional.
Money has 10 decimals (quanta of 10⁻¹⁰ BTC).
"""

from __future__ import annotations

from decimal import Decimal

from enginekit import D, Trade, Venue, div, inverse_spec, of

from isomargin.engine import (
    AdjustMargin,
    FundInsurance,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetMarginMode,
    SettleFunding,
    queries,
    restore,
    snapshot,
    state_hash,
)
from isomargin.engine.events import BadDebt, Liquidated, PositionUpdated
from isomargin.margin import Side

SYM = "BTCUSD_PERP"
BUY, SELL = OrderSide.BUY, OrderSide.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


def venue(fees: bool = False, **kw: object) -> Venue:
    return Venue(fees=fees, symbols=("BTCUSDT",), inverse=(inverse_spec(),), **kw)  # type: ignore[arg-type]


def limit(acct: int, side: OrderSide, qty: str, price: str, **kw: object) -> PlaceOrder:
    return PlaceOrder(acct, SYM, side, LIMIT, D(qty), D(price), **kw)  # type: ignore[arg-type]


def btc(v: Venue, key: str) -> Decimal:
    return v.balance(key)


def trade(v: Venue, buyer: int, seller: int, qty: str, price: str) -> None:
    """The seller rests a limit, the buyer takes it at the same price."""
    v.ok(limit(seller, SELL, qty, price))
    events = v.ok(limit(buyer, BUY, qty, price))
    assert of(events, Trade), events


def test_long_10_contracts_50000_to_40000_loses_exactly_0_005_btc() -> None:
    # 10 contracts × 100 USD = 1000 USD face. Entry value 1000/50000 = 0.02 BTC, exit value 1000/40000 = 0.025 BTC.
    # PnL(long) = 1000 × (1/50000 − 1/40000) = 0.02 − 0.025 = −0.005 BTC.
    v = venue()
    for n in (1, 2, 3):
        v.account(n, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    trade(v, 1, 2, "1000", "50000")
    p = v.position(1, SYM)
    assert p["size"] == D(1000) and p["entry_price"] == D(50000)
    assert p["notional"] == D("0.02") and p["cost"] == D("0.02")  # BTC
    v.mark(SYM, "40000")
    # Unrealised at 40,000: long −0.005, short +0.005 (short PnL = face × (1/40000 − 1/50000)).
    assert v.position(1, SYM)["unrealized_pnl"] == D("-0.005")
    assert v.position(2, SYM)["unrealized_pnl"] == D("0.005")
    v.ok(limit(3, BUY, "1000", "40000"))
    events = v.ok(limit(1, SELL, "1000", "40000"))
    [t] = of(events, Trade)
    assert t.taker_realized_pnl == D("-0.005")
    assert v.position(1, SYM) is None
    assert v.wallet(1, "BTC") == D("0.995")  # 1 − 0.005, cross, no fees
    assert queries.wallet(v.engine, 1, "USDT") == 0  # nothing in any other asset moved


def test_average_entry_is_the_harmonic_mean() -> None:
    # Buy 1000 USD at 50,000 (0.02 BTC) and 1000 at 40,000 (0.025 BTC): entry = 2000 / 0.045 = 44,444.44…,
    # not the arithmetic 45,000. Closing all at 45,000 (2000/45000 = 0.0444… BTC) then gains 0.045 − 0.0444…
    v = venue()
    for n in (1, 2):
        v.account(n, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "45000")
    trade(v, 1, 2, "1000", "50000")
    trade(v, 1, 2, "1000", "40000")
    p = v.position(1, SYM)
    assert p["cost"] == D("0.045")
    assert p["entry_price"] == div(2000, "0.045")
    # PnL at 45,000 = 0.045 − 2000/45000; 2000/45000 = 0.04444… BTC.
    # 0.045 − 0.0444… = 0.000555… = 1/1800 BTC.
    assert abs(p["unrealized_pnl"] - div(1, 1800)) < D("1E-33")  # 34 significant digits of the value


def test_isolated_long_liquidation_price_by_hand_and_the_loss_is_capped_at_the_pool() -> None:
    # Isolated 10×: IM = 0.02 / 10 = 0.002 BTC in the pool. Tier 1 (≤ 5 BTC): MMR 0.4 %, no maintenance amount.
    # Equity at P = 0.002 + 1000/50000 − 1000/P; MM = 0.004 × 1000/P. Equal where 0.022 = 1004/P:
    # LP = 1004 / 0.022 = 45,636.3636…; bankruptcy where 0.022 = 1000/P: 45,454.5454…
    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=SYM)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.account(3, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    trade(v, 1, 2, "1000", "50000")
    assert v.pool(1, SYM) == D("0.002")
    assert v.wallet(1, "BTC") == D("0.998")
    p = v.position(1, SYM)
    assert p["liquidation_exact"] == div(1004, "0.022")
    assert p["bankruptcy_price"] == div(1000, "0.022")
    v.ok(limit(3, BUY, "1000", "45500"))  # the bid the liquidation will hit
    assert not of(v.mark(SYM, "45636.4"), Liquidated)  # above 45,636.36…: alive
    events = v.mark(SYM, "45636.3")
    steps = [e.step for e in of(events, Liquidated)]
    assert "close" in steps
    assert v.position(1, SYM) is None
    # Closing 1000 USD at 45,500: value 1000/45500 = 0.021978021978… BTC, the seller books it rounded up:
    # 0.0219780220; PnL = 0.02 − 0.0219780220 = −0.0019780220; the pool keeps 0.0000219780, which the
    # liquidation fee (0.5 % of 0.022 = 0.00011, capped at what is left) takes to the fund.
    assert v.wallet(1, "BTC") == D("0.998")  # the wallet never paid: the loss is the pool, 0.002 BTC
    assert btc(v, "insurance:BTC") == D("0.0000219780")
    # The buyer (account 3) booked the lower rounding: 0.0219780219 BTC of cost for 1000 USD.
    assert v.position(3, SYM)["cost"] == D("0.0219780219")
    assert btc(v, "fees:BTC") == D("0.0000000001")  # the quantum between the two roundings


def test_short_liquidation_price_by_hand() -> None:
    # Isolated short 1000 USD at 50,000, 10×: pool 0.002. Equity = 0.002 + 1000/P − 0.02; MM = 4/P.
    # Equal where 0.018 = 996/P... rearranged: 0.002 − 0.02 + 1000/P = 4/P ⇒ 996/P = 0.018 ⇒ LP = 55,333.33…
    # Bankruptcy: 1000/P = 0.018 ⇒ 55,555.55…
    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=SYM)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    trade(v, 2, 1, "1000", "50000")
    p = v.position(1, SYM)
    assert p["liquidation_exact"] == div(996, "0.018")
    assert p["bankruptcy_price"] == div(1000, "0.018")


def test_fees_and_funding_are_in_the_coin() -> None:
    # Taker fee 0.05 %, maker 0.02 % on 1000 USD at 50,000 = 0.02 BTC: taker pays 0.00001, maker 0.000004 BTC.
    # Funding at mark 50,000, rate 0.01 %: 0.02 × 0.0001 = 0.000002 BTC from the long to the short.
    v = Venue(symbols=())
    spec = inverse_spec()
    v.engine.listings[("binance", spec.symbol)] = spec
    v.ok(ListInstrument(SYM, venue="binance", maker_fee=D("0.0002"), taker_fee=D("0.0005")))
    for n in (1, 2):
        v.account(n, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    v.ok(limit(2, SELL, "1000", "50000"))
    [t] = of(v.ok(limit(1, BUY, "1000", "50000")), Trade)
    assert t.taker_fee == D("0.00001") and t.maker_fee == D("0.000004")
    assert v.wallet(1, "BTC") == D("0.99999") and v.wallet(2, "BTC") == D("0.999996")
    assert btc(v, "fees:BTC") == D("0.000014")
    v.ok(SettleFunding(SYM, D("0.0001")))
    assert v.wallet(1, "BTC") == D("0.999988") and v.wallet(2, "BTC") == D("0.999998")


def test_inexact_value_rounds_against_each_side_and_the_venue_keeps_the_quantum() -> None:
    # 1 contract (100 USD) at 30,000.1: 100 / 30000.1 = 0.00333332222225925… BTC. The buyer books
    # 0.0033333222 (down), the seller 0.0033333223 (up); 1 quantum goes from settlement to fees:BTC.
    v = venue()
    for n in (1, 2):
        v.account(n, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "30000")
    trade(v, 1, 2, "100", "30000.1")
    assert v.position(1, SYM)["cost"] == D("0.0033333222")
    assert v.position(2, SYM)["cost"] == D("0.0033333223")
    assert btc(v, "fees:BTC") == D("0.0000000001")
    assert btc(v, "settlement:BTC") == D("-0.0000000001")


def test_a_single_open_and_close_realises_the_exact_pnl_to_the_quantum() -> None:
    # Long 300 USD at 30,000.1, closed at 29,000.3. Exact PnL = 300/30000.1 − 300/29000.3
    #   = 0.0099999666667777… − 0.0103447205718561… = −0.0003447539050783…
    # Rounded down (never the user's way): −0.0003447540. The long's cost was booked down (0.0099999666) and its
    # exit value up (0.0103447206), so the engine's PnL is that floor or, when both roundings bite, one quantum
    # below it; here 0.0099999666 − 0.0103447206 = −0.0003447540 exactly the floor.
    v = venue()
    for n in (1, 2, 3):
        v.account(n, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "30000")
    trade(v, 1, 2, "300", "30000.1")
    v.mark(SYM, "29000")
    v.ok(limit(3, BUY, "300", "29000.3"))
    [t] = of(v.ok(limit(1, SELL, "300", "29000.3")), Trade)
    exact = div(300, "30000.1") - div(300, "29000.3")
    floor = exact.quantize(D("1E-10"), rounding="ROUND_FLOOR")
    assert floor == D("-0.0003447540")
    assert t.taker_realized_pnl == floor


def test_resting_order_holds_in_the_coin() -> None:
    # Buy 1000 at 49,000 (below mark 50,000), 10×, no fee: 1000/49000 = 0.020408163265… → up 0.0204081633,
    # / 10 rounded down = 0.0020408163. A buy at 51,000 (above mark, empty book) also holds its open loss:
    # value(mark) − value(51000) = 0.02 − 0.0196078431 = 0.0003921569 (up), plus 0.0196078432 / 10 = 0.0019607843.
    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    v.ok(limit(1, BUY, "1000", "49000"))
    assert v.held(1, "BTC") == D("0.0020408163")
    v.ok(limit(1, BUY, "1000", "51000"))
    assert v.held(1, "BTC") == D("0.0020408163") + D("0.0023529412")


def test_max_removable_margin_in_the_coin() -> None:
    # Isolated long 1000 at 50,000, 10×: pool 0.002, then +0.001 → 0.003. At mark 52,000: value
    # 1000/52000 = 0.019230769230…, PnL = +0.000769… (profit does not count), IM at mark = 0.0019230769230…;
    # removable = 0.003 − 0.0019230769230… = 0.0010769230769… → 0.0010769230 (down).
    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=SYM)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    trade(v, 1, 2, "1000", "50000")
    v.ok(AdjustMargin(1, SYM, D("0.001")))
    assert v.pool(1, SYM) == D("0.003")
    v.mark(SYM, "52000")
    v.no(AdjustMargin(1, SYM, D("-0.00107693")), "above_max_removable")
    v.ok(AdjustMargin(1, SYM, D("-0.00107692")))
    assert v.pool(1, SYM) == D("0.00192308")


def test_cross_health_is_per_settle_asset() -> None:
    # Account 1 holds 100,000 USDT and 0.003 BTC and opens a cross long of 1000 USD at 50,000 (value 0.02 BTC,
    # IM 0.002 at 10×). Its BTC equity at P: 0.003 + 0.02 − 1000/P; MM 4/P. Liquidated where 0.023 = 1004/P,
    # P = 43,652.17…: a mark of 43,000 liquidates it though the USDT wallet could cover the loss many times.
    v = venue()
    v.account(1, usdt="100000", coins={"BTC": "0.003"})
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.account(3, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    trade(v, 1, 2, "1000", "50000")
    v.ok(limit(3, BUY, "1000", "43000"))
    v.mark(SYM, "43700")
    assert v.position(1, SYM) is not None  # above 43,652.17: alive
    events = v.mark(SYM, "43000")
    assert of(events, Liquidated)
    assert v.position(1, SYM) is None
    assert v.wallet(1, "USDT") == D(100000)  # the USDT wallet never backs a BTC-settled position
    assert v.wallet(1, "BTC") >= 0


def test_gap_through_bankruptcy_draws_on_the_btc_fund_never_the_owner() -> None:
    # Isolated long at 50,000, bankruptcy 45,454.54…; the only bid is at 40,000. The close (IOC at the
    # bankruptcy price, never worse) finds nothing; the BTC fund (0.01) takes the position over at bankruptcy.
    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=SYM)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.account(3, usdt="0", coins={"BTC": "1"})
    v.ok(FundInsurance("BTC", D("0.01")))
    v.mark(SYM, "50000")
    trade(v, 1, 2, "1000", "50000")
    v.ok(limit(3, BUY, "1000", "40000"))
    events = v.mark(SYM, "42000")
    assert "takeover" in [e.step for e in of(events, Liquidated)]
    assert v.position(1, SYM) is None
    assert v.wallet(1, "BTC") == D("0.998")  # lost exactly the pool
    assert not [e for e in events if isinstance(e, BadDebt) and e.asset != "BTC"]


def test_snapshot_restore_round_trip_with_inverse_state() -> None:
    v = venue()
    for n in (1, 2):
        v.account(n, usdt="0", coins={"BTC": "1"})
    v.ok(SetMarginMode(2, SYM, MarginMode.ISOLATED))
    v.mark(SYM, "50000")
    trade(v, 1, 2, "300", "30000.1")
    v.ok(limit(1, BUY, "500", "49000"))
    data = snapshot(v.engine)
    again = restore(data, listings=[("binance", inverse_spec())])
    assert state_hash(again) == state_hash(v.engine)
    ev1 = v.engine.apply(limit(2, SELL, "500", "49000"))
    ev2 = again.apply(limit(2, SELL, "500", "49000"))
    assert [e.to_dict() for e in ev1] == [e.to_dict() for e in ev2]
    assert state_hash(again) == state_hash(v.engine)
    [pu] = [e for e in ev1 if isinstance(e, PositionUpdated) and e.account == 1]
    assert pu.grid.inverse and pu.entry_price == v.position(1, SYM)["entry_price"]


def test_a_quantity_that_is_not_whole_contracts_is_refused() -> None:
    # 150 USD is one and a half 100 USD contracts: not on the step grid.
    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    v.no(limit(1, BUY, "150", "50000"), "bad_quantity")
    v.no(limit(1, BUY, "0.5", "50000"), "bad_quantity")


def test_hedge_mode_legs_in_the_coin() -> None:
    # Hedge mode: a LONG leg of 1000 USD and a SHORT leg of 500 USD at 50,000 (values 0.02 and 0.01 BTC). A
    # sell of 1000 on the long leg at 55,000 closes it (in hedge mode the leg says it reduces):
    # PnL = 1000 × (1/50000 − 1/55000) = 0.02 − 0.0181818181818… = 0.0018181818181…; the seller books the
    # exit value up (0.0181818182), so the credit is 0.02 − 0.0181818182 = 0.0018181818 (against the trader).
    from isomargin.engine import PositionSide, SetPositionMode

    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"})
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.account(3, usdt="0", coins={"BTC": "1"})
    v.ok(SetPositionMode(1, True))
    v.mark(SYM, "50000")
    v.ok(limit(2, SELL, "1000", "50000"))
    v.ok(limit(1, BUY, "1000", "50000", position_side=PositionSide.LONG))
    v.ok(limit(2, BUY, "500", "50000"))
    v.ok(limit(1, SELL, "500", "50000", position_side=PositionSide.SHORT))
    assert v.position(1, SYM, "LONG")["cost"] == D("0.02")
    assert v.position(1, SYM, "SHORT")["cost"] == D("0.01")
    v.mark(SYM, "55000")
    v.ok(limit(3, BUY, "1000", "55000"))
    [t] = of(v.ok(limit(1, SELL, "1000", "55000", position_side=PositionSide.LONG)), Trade)  # the leg says it closes
    assert t.taker_realized_pnl == D("0.0018181818")
    assert v.position(1, SYM, "LONG") is None
    assert v.position(1, SYM, "SHORT")["cost"] == D("0.01")


def test_stop_market_on_mark_closes_an_inverse_long() -> None:
    # Long 1000 USD at 50,000; a reduce-only stop-market sell at 48,000 (mark) fires into a bid at 48,000:
    # PnL = 0.02 − 1000/48000 = 0.02 − 0.0208333333333… → exit value up 0.0208333334: −0.0008333334.
    from isomargin.engine import WorkingType

    v = venue()
    for n in (1, 2, 3):
        v.account(n, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    trade(v, 1, 2, "1000", "50000")
    v.ok(PlaceOrder(1, SYM, SELL, OrderType.STOP_MARKET, D(1000), stop_price=D(48000), reduce_only=True,
                    working_type=WorkingType.MARK_PRICE))  # fmt: skip
    v.ok(limit(3, BUY, "1000", "48000"))
    events = v.mark(SYM, "48000")
    [t] = of(events, Trade)
    assert t.taker_realized_pnl == D("-0.0008333334")
    assert v.position(1, SYM) is None


def test_every_money_event_names_its_asset() -> None:
    # Funding, margin adjustments, liquidation steps, ADL and margin calls say which settle asset their amounts are
    # in; trades and position updates carry it from their grid (`settle`).
    from isomargin.engine.commands import Deposit
    from isomargin.engine.events import Envelope, FundingPaid, MarginAdjusted

    v = venue()
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=SYM)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    v.ok(limit(2, SELL, "1000", "50000"))
    events = v.ok(limit(1, BUY, "1000", "50000"))
    [t] = of(events, Trade)
    assert t.to_dict()["settle"] == "BTC"
    assert {e.to_dict()["settle"] for e in of(events, PositionUpdated)} == {"BTC"}
    [adj] = of(v.ok(AdjustMargin(1, SYM, D("0.001"))), MarginAdjusted)
    assert adj.asset == "BTC" and adj.to_dict()["asset"] == "BTC"
    paid = of(v.ok(SettleFunding(SYM, D("0.0001"))), FundingPaid)
    assert {p.asset for p in paid} == {"BTC"}
    assert {e.asset for e in of(v.mark(SYM, "40000"), Liquidated)} == {"BTC"}
    # A record journaled before `asset` existed still reads (asset None); any other missing field does not.
    env = Envelope(1, Deposit(1, "USDT", D(1)))
    old = {k: v for k, v in paid[0].raw().items() if k != "asset"}
    assert FundingPaid.from_raw(env, 0, old, lambda s: None).asset is None  # type: ignore[arg-type, return-value]


def _coinm_symbols() -> list[str]:
    from isomargin.venues import VENUES, get_profile

    if "binancecoinm" not in VENUES:  # pragma: no cover - the venue data ships separately
        return []
    return [s.symbol for s in get_profile("binancecoinm").symbols.values() if s.kind.value == "inverse"]


def test_the_binance_coinm_venue_data_lists_and_trades() -> None:
    # Every inverse symbol of the venue data lists straight from it (no extra listings); a 10× isolated long of
    # 10 contracts at 40,000 (BTC) / 2,000 (ETH) has the calculator's liquidation price and, marked past it,
    # costs its owner exactly the pool.
    from isomargin.venues import get_profile

    symbols = _coinm_symbols()
    if not symbols:
        return
    profile = get_profile("binancecoinm")
    v = Venue(symbols=(), venue="binancecoinm", fees=True)
    for sym in symbols:
        v.ok(ListInstrument(sym, venue="binancecoinm"))  # the fees of the profile
    for sym in symbols:
        spec = profile.spec(sym)
        coin = spec.settle
        v2 = Venue(symbols=(), venue="binancecoinm")
        v2.ok(ListInstrument(sym, venue="binancecoinm", maker_fee=D(0), taker_fee=D(0)))
        for n in (1, 2, 3):
            v2.account(n, usdt="0", coins={coin: "100"})
        v2.ok(SetMarginMode(1, sym, MarginMode.ISOLATED))
        price = "40000" if coin == "BTC" else "2000"
        qty = str(10 * spec.contract_size)
        v2.mark(sym, price)
        v2.ok(PlaceOrder(2, sym, SELL, LIMIT, D(qty), D(price)))
        v2.ok(PlaceOrder(1, sym, BUY, LIMIT, D(qty), D(price)))
        p = v2.position(1, sym)
        # Pool = face / price / 10: BTC 1000 / 40000 / 10 = 0.0025; ETH 100 / 2000 / 10 = 0.005.
        assert p["isolated_margin"] == D(qty) / D(price) / 10
        quote = profile.liquidation_price(spec, Side.LONG, p["size"], p["entry_price"], p["isolated_margin"])
        assert p["liquidation_exact"] == quote.exact
        wallet = v2.wallet(1, coin)
        v2.mark(sym, str((quote.exact * D("0.9")).quantize(D("0.01"))))
        assert v2.position(1, sym) is None and v2.wallet(1, coin) == wallet


def test_okx_margin_call_at_300_percent_in_the_coin() -> None:
    # OKX (balance / MM ratio, warning below 300 %), contract tiers without deduction, no fee: tier 1 rate 0.4 %.
    # Isolated long 1000 USD at 50,000, 10×: pool 0.002. Ratio = (0.002 + 0.02 − 1000/P) / (4/P); it is 3 where
    # 0.022 = 1012/P, P = 46,000 exactly: 46,000 is still 300 % (no call), 45,999.9 is below (warning).
    from isomargin.engine.events import MarginCall
    from isomargin.margin import Deduction, TierBasis

    brackets = (("0", "500", "0.004", "125"), ("500", None, "0.005", "100"))
    spec = inverse_spec(brackets=brackets, basis=TierBasis.CONTRACTS, deduction=Deduction.NONE)
    v = Venue(symbols=(), venue="okx", inverse=(spec,))
    v.account(1, usdt="0", coins={"BTC": "1"}, isolated=SYM)
    v.account(2, usdt="0", coins={"BTC": "1"})
    v.mark(SYM, "50000")
    trade(v, 1, 2, "1000", "50000")
    assert not of(v.mark(SYM, "46000"), MarginCall)
    [call] = of(v.mark(SYM, "45999.9"), MarginCall)
    assert (call.account, call.level, call.asset) == (1, "warning", "BTC")
    assert call.ratio < 3
