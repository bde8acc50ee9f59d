"""Engine II: the liquidation pipeline end to end, with the seeds' scenarios and hand-derived figures."""

from __future__ import annotations

from enginekit import D, Trade, Venue, div, of

from isomargin.engine import (
    CreateAccount,
    Deposit,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetPositionMode,
)
from isomargin.engine.commands import FundInsurance
from isomargin.engine.events import AutoDeleveraged, Liquidated, MarginCall
from isomargin.engine.queries import insurance_fund, insurance_inventory, positions

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def limit(acct: int, side: OrderSide, qty: str, price: str, sym: str = "BTCUSDT") -> PlaceOrder:
    return PlaceOrder(acct, sym, side, OrderType.LIMIT, qty=D(qty), price=D(price))


def take(v: Venue, acct: int, side: OrderSide, qty: str, price: str, sym: str = "BTCUSDT", lp: int = 90) -> None:
    """`acct` takes `qty` at `price` against the liquidity provider `lp`."""
    if not v.has_account(lp):
        v.account(lp, "1000000000", leverage=20)
    v.ok(limit(lp, OrderSide(-side), qty, price, sym))
    v.ok(PlaceOrder(acct, sym, side, OrderType.MARKET, qty=D(qty)))


def steps(events: list, account: int) -> list[str]:  # type: ignore[type-arg]
    return [e.step for e in of(events, Liquidated) if e.account == account]


def simple_venue() -> Venue:
    """The seeds' textbook venue: flat 0.5 % on entry value, fee-free, liquidation fee 0.5 %."""
    return Venue(venue="simple", symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"))


def test_liquidated_exactly_at_the_profiles_price_and_not_one_tick_before() -> None:
    # Seeds: 10× long at 65,000 with 0.5 % maintenance → 65,000 × (1 − 0.1 + 0.005) = 58,825 (simple venue).
    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.mark("BTCUSDT", "65000")
    take(v, 1, BUY, "1", "65000")
    assert v.position(1)["liquidation_exact"] == 58825
    v.ok(limit(90, BUY, "1", "58500"))  # a bid at the bankruptcy price for the liquidation to hit
    assert not of(v.mark("BTCUSDT", "58825.1"), Liquidated)  # one tick (0.1) above: nothing
    events = v.mark("BTCUSDT", "58825")
    assert steps(events, 1) == ["cancel_orders", "close", "done"]
    assert v.position(1) is None


def test_isolated_500_usdt_loses_at_most_its_margin_on_a_crash() -> None:
    # Seeds: 500 USDT isolated at 10× on BTC; the account holds 10,000. A crash liquidates the position; the
    # most it loses is the 500 (no fees on this venue), the other 9,500 are untouched.
    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.mark("BTCUSDT", "50000")
    take(v, 1, BUY, "0.1", "50000")  # 5,000 notional at 10× = 500 margin
    assert v.pool(1) == 500 and v.wallet(1) == 9500
    v.ok(limit(90, BUY, "1", "30000"))  # the only bid, far below: the crash has no book to sell into
    v.mark("BTCUSDT", "30000")
    assert v.position(1) is None
    assert v.wallet(1) == 9500 and v.pool(1) == 0  # the loss stopped at the allocated margin


def test_three_positions_one_crash_isolated_vs_cross() -> None:
    # Seeds: positions on BTC, ETH and SOL; BTC crashes 30 %. Isolated: only BTC dies. Cross: the BTC loss
    # eats the shared wallet and all three are liquidated together (the cascade the seeds warn about).
    outcomes = {}
    for mode in (MarginMode.ISOLATED, MarginMode.CROSS):
        v = simple_venue()
        v.ok(CreateAccount(1))
        v.ok(Deposit(1, "USDT", D(3000)))
        for sym in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
            v.ok(SetLeverage(1, sym, 10))
            v.ok(SetMarginMode(1, sym, mode))
        for sym, price, qty in (("BTCUSDT", "50000", "0.2"), ("ETHUSDT", "3000", "3"), ("SOLUSDT", "100", "90")):
            v.mark(sym, price)
            take(v, 1, BUY, qty, price, sym)  # 10,000 / 9,000 / 9,000 notional
        for sym, price in (("BTCUSDT", "30000"), ("ETHUSDT", "2900"), ("SOLUSDT", "95")):
            v.ok(limit(90, BUY, "100", price, sym))  # bids to liquidate into
        v.mark("BTCUSDT", "35000")
        outcomes[mode] = sorted(p["symbol"] for p in positions(v.engine, 1))
    assert outcomes[MarginMode.ISOLATED] == ["ETHUSDT", "SOLUSDT"]
    assert outcomes[MarginMode.CROSS] == []


def test_fill_better_than_bankruptcy_pays_fee_and_remainder_to_the_fund() -> None:
    # simple: 10× long 1 BTC at 60,000, margin 6,000; LP = 60,000 − 6,000 + 300 = 54,300; BP = 54,000.
    # Bid at 54,100: the IOC at 54,000 fills there: PnL −5,900 leaves 100 in the pool; the 0.5 % liquidation
    # fee (270.5) is capped at those 100, so the fund gains exactly 100 and the owner's wallet nothing back.
    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.mark("BTCUSDT", "60000")
    take(v, 1, BUY, "1", "60000")
    v.ok(limit(90, BUY, "1", "54100"))
    before = insurance_fund(v.engine)
    events = v.mark("BTCUSDT", "54300")
    assert [t.price for t in of(events, Trade) if t.taker_account == 1] == [D(54100)]
    assert insurance_fund(v.engine) - before == 100
    assert v.wallet(1) == 4000


def test_gap_through_bankruptcy_is_taken_over_by_the_fund() -> None:
    # Same position (BP 54,000). The book's best bid is 50,000: the IOC at 54,000 cannot fill; the fund
    # (seeded with 10,000) can carry the loss at mark (1 × (54,000 − 50,000) = 4,000), so it takes the long
    # over at 54,000, then sells it into the book at 50,000: the fund pays the 4,000 gap.
    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.ok(FundInsurance("USDT", D(10000)))
    v.mark("BTCUSDT", "60000")
    take(v, 1, BUY, "1", "60000")
    v.ok(limit(90, BUY, "1", "50000"))
    events = v.mark("BTCUSDT", "50000")
    assert steps(events, 1) == ["cancel_orders", "takeover", "done"]
    assert insurance_fund(v.engine) == 6000
    assert v.wallet(1) == 4000  # the owner lost exactly the 6,000 margin
    assert insurance_inventory(v.engine, "BTCUSDT")[0] == 0  # unwound into the 50,000 bid


def test_empty_book_means_takeover_even_with_nothing_to_unwind_into() -> None:
    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.ok(FundInsurance("USDT", D(10000)))
    v.mark("BTCUSDT", "60000")
    take(v, 1, BUY, "1", "60000")
    events = v.mark("BTCUSDT", "54000")
    assert "takeover" in steps(events, 1)
    size, cost = insurance_inventory(v.engine, "BTCUSDT")
    assert size == 1 and cost == 54000  # the fund now holds 1 BTC long at the bankruptcy price


def test_empty_fund_deleverages_profitable_opposite_positions_first() -> None:
    # Fund 0, gap: the long (BP 54,000) is closed against shorts at 54,000. Short A: entry 60,000 at 20×
    # (PnL +10,000 at mark 50,000 on 3,000 margin: 333 % × effective leverage 50,000/13,000 ≈ 12.8) ranks
    # before short B: entry 60,000 at 2× (33 % × 50,000/40,000 ≈ 0.42). A alone covers the 1 BTC.
    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.account(2, "100000", isolated="BTCUSDT", leverage=20)
    v.account(3, "100000", isolated="BTCUSDT", leverage=2)
    v.mark("BTCUSDT", "60000")
    v.ok(limit(3, SELL, "1", "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", BUY, OrderType.MARKET, qty=D(1)))  # 1 long; 3 short 1 at 2× (margin 30,000)
    v.ok(limit(2, SELL, "1", "60000"))
    v.account(4, "100000")
    v.ok(PlaceOrder(4, "BTCUSDT", BUY, OrderType.MARKET, qty=D(1)))  # 2 short 1 at 20× (margin 3,000)
    v.account(90, "1000000000")
    v.ok(limit(90, BUY, "1", "40000"))  # the only bid: far below the long's bankruptcy price
    events = v.mark("BTCUSDT", "50000")
    adl = of(events, AutoDeleveraged)
    assert [(e.account, e.qty, e.price, e.liquidated_account) for e in adl] == [(2, D(1), D(54000), 1)]
    assert v.position(2) is None and v.position(3)["lots"] == -1000  # B untouched
    assert insurance_fund(v.engine) == 0


def test_okx_partial_liquidation_steps_two_tiers_down() -> None:
    # OKX BTC-USDT-SWAP tiers by contracts (ctVal 0.01): tier 1 ≤ 1,000, tier 2 ≤ 5,000, tier 3 ≤ 20,000.
    # A 100 BTC long (10,000 contracts, tier 3) at 10× is first reduced to tier 1 (keep 1,000 contracts =
    # 10 BTC, close 90 BTC), then re-checked: the remaining 10 BTC at tier-1 rate is safe at the same mark.
    v = Venue(venue="okx", symbols=("BTCUSDT",))
    v.ok(CreateAccount(1))
    v.ok(Deposit(1, "USDT", D(1000000)))
    v.ok(SetLeverage(1, "BTCUSDT", 10))
    v.ok(SetMarginMode(1, "BTCUSDT", MarginMode.ISOLATED))
    v.mark("BTCUSDT", "60000")
    v.ok(CreateAccount(90))
    v.ok(Deposit(90, "USDT", D(1000000000)))
    v.ok(SetLeverage(90, "BTCUSDT", 10))
    v.ok(limit(90, SELL, "100", "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", BUY, OrderType.MARKET, qty=D(100)))
    lp = v.position(1)["liquidation_exact"]
    v.ok(limit(90, BUY, "200", str(int(lp) - 200)))
    events = v.mark("BTCUSDT", str(int(lp) - 1))
    partial = [e for e in of(events, Liquidated) if e.step == "partial"]
    assert [e.qty for e in partial] == [D(90)]
    assert v.position(1)["size"] == 10  # 10 BTC left, back in tier 1
    assert "close" not in steps(events, 1)


def test_okx_warning_below_300_percent_is_sent_once_per_crossing() -> None:
    v = Venue(venue="okx", symbols=("BTCUSDT",))
    v.account(1, "100000", isolated="BTCUSDT")
    v.mark("BTCUSDT", "60000")
    take(v, 1, BUY, "1", "60000")  # 10×: margin 6,000; tier 1 rate 0.4 % + 0 fee
    # Warning where 6,000 + (P − 60,000) = 3 × 0.004 × P → P = 54,000/0.988 = 54,655.87…
    warn = div(54000, "0.988")
    assert not of(v.mark("BTCUSDT", "54700"), MarginCall)
    calls = of(v.mark("BTCUSDT", "54600"), MarginCall)
    assert [(c.account, c.level) for c in calls] == [(1, "warning")]
    assert not of(v.mark("BTCUSDT", "54500"), MarginCall)  # still below: no repeat
    assert [c.level for c in of(v.mark("BTCUSDT", "55000"), MarginCall)] == ["ok"]  # recovered
    assert [c.level for c in of(v.mark("BTCUSDT", "54600"), MarginCall)] == ["warning"]  # crosses again
    assert warn > D("54600")


def test_hedge_mode_legs_offset_first() -> None:
    v = simple_venue()
    v.account(1, "20000", isolated="BTCUSDT")
    v.ok(SetPositionMode(1, True))
    v.account(90, "1000000000")
    v.mark("BTCUSDT", "60000")
    v.ok(limit(90, SELL, "1", "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", BUY, OrderType.MARKET, qty=D(1), position_side=PositionSide.LONG))
    v.ok(limit(90, BUY, "0.5", "60000"))
    v.ok(PlaceOrder(1, "BTCUSDT", SELL, OrderType.MARKET, qty=D("0.5"), position_side=PositionSide.SHORT))
    v.ok(limit(90, BUY, "1", "54000"))
    events = v.mark("BTCUSDT", "54300")
    assert steps(events, 1)[:2] == ["cancel_orders", "hedge_offset"]
    assert v.position(1, side="SHORT") is None  # the short leg closed against the long at mark


def test_liquidation_never_takes_from_a_flat_account() -> None:
    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.account(5, "777")  # flat bystander
    v.mark("BTCUSDT", "60000")
    take(v, 1, BUY, "1", "60000")
    v.mark("BTCUSDT", "40000")
    assert v.wallet(5) == 777


def test_insurance_fund_history_explains_its_balance() -> None:
    # The gap scenario above: +10,000 deposit, the taken-over long sold at 50,000 (−4,000 against its 54,000
    # cost): every movement is listed with the balance after it.
    from isomargin.engine.queries import insurance_history

    v = simple_venue()
    v.account(1, "10000", isolated="BTCUSDT")
    v.ok(FundInsurance("USDT", D(10000)))
    v.mark("BTCUSDT", "60000")
    take(v, 1, BUY, "1", "60000")
    v.ok(limit(90, BUY, "1", "50000"))
    v.mark("BTCUSDT", "50000")
    rows = [(r["reason"], r["amount"], r["balance"]) for r in insurance_history(v.engine)]
    assert rows[0] == ("insurance_deposit", D(10000), D(10000))
    assert rows[-1][0] == "realized_pnl" and rows[-1][1] == -4000 and rows[-1][2] == 6000
    assert sum(r[1] for r in rows) == insurance_fund(v.engine)
