"""Backtests and stress runs on a coin-margined (inverse) contract, with the numbers worked out by hand.

Binance COIN-M BTCUSD_PERP (venues/data/binancecoinm.json): one contract = 100 USD of face value, sizes are face
value in USD (10 contracts = 1000), tick 0.1; margin, PnL and fees are in BTC: coin notional = face / price,
PnL(long) = face × (1/entry − 1/exit), fee = rate × coin notional (taker 0.04 %, maker 0.015 %); the first
bracket (coin notional ≤ 10 BTC) has a maintenance rate of 0.4 % and no maintenance amount; no liquidation fee.
With spread 0 the provider's ask is the mark (on the tick) and its bid one tick under it.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal as D
from fractions import Fraction

import numpy as np
from typer.testing import CliRunner

from isomargin.engine import MarginMode, OrderSide, OrderType, PlaceOrder, queries
from isomargin.engine.events import Trade
from isomargin.margin import Side
from isomargin.margin.inverse import inverse_bankruptcy_price, inverse_maintenance_margin, inverse_pnl
from isomargin.sim import (
    BacktestConfig,
    BuyAndHold,
    Context,
    MACross,
    MarketConfig,
    Simulation,
    Strategy,
    compare_modes,
    dumps,
    gbm,
    make_bars,
    parse_positions,
    run_backtest,
    run_stress,
)
from isomargin.sim.cli import app
from isomargin.sim.market import LP_ACCOUNT, LP_DEPOSIT
from isomargin.sim.stress import EPISODES
from isomargin.venues import get_profile

SYM = "BTCUSD_PERP"
ZERO = D(0)
T0 = 1_700_000_000_000
runner = CliRunner()


def bars(rows: list[tuple[float, float, float, float]]):  # type: ignore[no-untyped-def]
    a = np.array(rows, dtype=float)
    return make_bars(T0 + np.arange(len(a)) * 60_000, a[:, 0], a[:, 1], a[:, 2], a[:, 3])


def coinm(**kw: object) -> MarketConfig:
    return MarketConfig(venue="binancecoinm", spread=D(0), **kw)  # type: ignore[arg-type]


class OpenThenClose(Strategy):
    """Buy `face` USD of face value at bar 0's close, sell it all at bar 1's close."""

    def __init__(self, face: int = 1000) -> None:
        self.face = D(face)

    def on_bar(self, ctx: Context) -> None:
        if ctx.i == 0:
            assert ctx.buy(self.face)
        elif ctx.i == 1:
            assert ctx.close()


def test_one_long_opened_and_closed_ends_at_the_hand_derived_coin_equity() -> None:
    # 1 BTC wallet, 10 contracts (1000 USD face), 2× isolated (liquidation at 50,000 × 2 × 1.004 / 3 ≈ 33,467,
    # below the path). Bar 0 closes at 50,000: the buy takes the ask at
    # the mark, 50,000 (coin notional 1000/50,000 = 0.02 BTC, taker fee 0.0004 × 0.02 = 0.000008 BTC). Bar 1 closes
    # at 40,000.1: the sell takes the bid one tick under, 40,000 (0.025 BTC, fee 0.0004 × 0.025 = 0.00001 BTC).
    # PnL = 1000 × (1/50,000 − 1/40,000) = 0.02 − 0.025 = −0.005 BTC.
    # Final equity = 1 − 0.005 − 0.000008 − 0.00001 = 0.994982 BTC; in USD at the last mark: × 40,000.1.
    path = bars([(50_000, 50_000, 50_000, 50_000), (50_000, 50_000, 40_000.1, 40_000.1), (40_000.1,) * 4])
    r = run_backtest(path, OpenThenClose(), BacktestConfig(symbol=SYM, leverage=2, deposit=D(1), market=coinm()))
    assert r["liquidations"] == []
    assert r["asset"] == "BTC" and r["deposit"] == D(1)
    assert [(t["side"], t["price"], t["qty"], t["fee"]) for t in r["trades_list"]] == [
        ("BUY", D(50_000), D(1000), D("0.000008")),
        ("SELL", D(40_000), D(1000), D("0.00001")),
    ]
    assert r["trades_list"][1]["realized_pnl"] == D("-0.005")
    assert r["final_equity"] == D("0.994982") == r["wallet"]
    assert r["final_equity_usd"] == D("0.994982") * D("40000.1")
    assert r["deposit_usd"] == D(50_000)  # 1 BTC at the first mark
    assert r["curve"]["equity"][-1] == 0.994982
    assert r["fees"] == D("0.000018")


def test_size_from_margin_is_face_value_in_whole_contracts() -> None:
    # BuyAndHold(fraction=0.5): margin 0.5 BTC × 10 × 50,000 = 250,000 USD face = 2,500 contracts.
    path = bars([(50_000,) * 4, (50_000,) * 4])
    r = run_backtest(path, BuyAndHold(fraction=0.5), BacktestConfig(symbol=SYM, leverage=10, market=coinm()))
    assert r["deposit"] == D(1)  # the default balance of an inverse backtest: 1 coin
    (pos,) = r["positions"]
    assert pos["size"] == D(250_000) and pos["entry"] == D(50_000)
    assert pos["contracts"] == 2500 and pos["asset"] == "BTC"
    assert pos["allocated_margin"] == D("0.5")  # 250,000 / 50,000 / 10 BTC
    r2 = run_backtest(path, BuyAndHold(contracts=7), BacktestConfig(symbol=SYM, leverage=10, market=coinm()))
    assert r2["positions"][0]["size"] == D(700)


def near(got: D, want: Fraction) -> bool:
    """Equal to the 30th significant digit (the engine divides in a 34-digit context)."""
    return abs(Fraction(got) - want) < want * Fraction(1, 10**30)


def liq_price_5x_long(entry: int) -> Fraction:
    # Isolated long, face Q, entry E, leverage L, margin M = Q/(E·L), maintenance rate m on the coin notional at
    # the mark (Binance COIN-M): M + Q(1/E − 1/P) = m·Q/P ⇔ Q/E · (1/L + 1) = (1 + m)·Q/P ⇔ P = E·L(1 + m)/(L + 1).
    return Fraction(entry) * 5 * (1 + Fraction(4, 1000)) / 6


def test_liquidation_on_the_bar_that_crosses_the_hand_derived_price_and_loss_capped_at_the_margin() -> None:
    # 50 contracts (5000 USD face) at 50,000, 5× isolated: margin 0.1 / 5 = 0.02 BTC, taker fee 0.0004 × 0.1 BTC.
    # P_liq = 50,000 × 5 × 1.004 / 6 = 41,833.33…; bankruptcy Q / (M + Q/E) = 5000 / 0.12 = 41,666.66…
    lp = liq_price_5x_long(50_000)
    assert float(lp) == 41_833.333333333336
    # The same figure from margin/inverse.py: at P_liq the pool's equity equals the maintenance margin.
    table = get_profile("binancecoinm").spec(SYM).table
    p = D(lp.numerator) / D(lp.denominator)
    equity = D("0.02") + inverse_pnl(Side.LONG, 5000, 50_000, p)
    assert abs(equity - inverse_maintenance_margin(5000, p, table)) < D("1E-20")
    assert near(inverse_bankruptcy_price(Side.LONG, 5000, 50_000, D("0.02")), Fraction(5000 * 100, 12))
    path = bars(
        [
            (50_000, 50_000, 50_000, 50_000),
            (50_000, 50_000, 45_000, 45_000),
            (45_000, 45_000, 41_833.4, 42_000),  # 0.07 above P_liq: nothing
            (42_000, 42_000, 41_800, 41_900),  # through P_liq: liquidated on this bar
            (41_900, 41_900, 40_000, 40_000),
        ]
    )
    cfg = BacktestConfig(symbol=SYM, leverage=5, deposit=D(1), market=coinm())
    r = run_backtest(path, BuyAndHold(contracts=50), cfg)
    (pos,) = r["positions"]
    assert pos["entry"] == D(50_000) and pos["size"] == D(5000)
    assert near(pos["liquidation_price"], lp)
    assert [x["bar"] for x in r["liquidations"]] == [3]
    assert r["liquidations"][0]["mark"] == D("41833.33333333")  # the walk stops at it (8 places, rounded down)
    # Loss capped at the isolated margin (in BTC): the whole 0.02 (no remainder kept on Binance) plus the
    # opening fee charged to the wallet, never more.
    assert pos["allocated_margin"] == D("0.02") and pos["margin_loss"] == D("0.02") and pos["isolated_cap_ok"]
    assert r["final_equity"] == D(1) - D("0.02") - D("0.00004") == r["wallet"]
    assert r["final_equity_usd"] == r["final_equity"] * D(40_000)


def test_compare_modes_on_inverse_and_its_isolated_leg_is_the_plain_run() -> None:
    path = bars([(50_000,) * 4, (50_000, 50_000, 45_000, 45_000), (45_000, 45_000, 41_000, 41_000), (41_000,) * 4])
    cfg = BacktestConfig(symbol=SYM, leverage=5, deposit=D(1), market=coinm())
    both = compare_modes(path, lambda: BuyAndHold(contracts=50), cfg)
    plain = run_backtest(path, BuyAndHold(contracts=50), cfg)
    assert dumps(both["isolated"]) == dumps(plain)
    iso, cross = both["isolated"], both["cross"]
    assert iso["full_liquidations"] == 1 and cross["full_liquidations"] == 0
    # Cross: the whole 1 BTC wallet backs the position, which just loses 5000 × (1/50,000 − 1/41,000) BTC.
    loss = D(5000) / D(41_000) - D("0.1")
    assert cross["final_equity"] == D(1) - D("0.00004") - loss
    assert both["difference"]["final_equity_usd"] == {
        "isolated": iso["final_equity"] * D(41_000),
        "cross": cross["final_equity"] * D(41_000),
    }


def test_provider_quotes_the_inverse_book_in_the_coin() -> None:
    # depth 1,000,000 USD per side = 10,000 contracts = face 1,000,000; the provider's wallet is BTC only.
    sim = Simulation(coinm(depth=D(1_000_000), insurance=D(50_000)), {SYM: bars([(50_000,) * 4, (50_000,) * 4])})
    orders = sorted((o["side"].name, o["price"], o["qty"]) for o in queries.open_orders(sim.engine, LP_ACCOUNT, SYM))
    assert orders == [("BUY", D("49999.9"), D(1_000_000)), ("SELL", D(50_000), D(1_000_000))]
    assert queries.wallet(sim.engine, LP_ACCOUNT, "USDT") == 0
    b = queries.balances(sim.engine, LP_ACCOUNT, "BTC")
    assert b["wallet"] + b["held"] == LP_DEPOSIT
    assert sim.insurance() == D(1)  # 50,000 USD at the first price, in BTC
    sim.add_account(1, D(1), {SYM: (MarginMode.ISOLATED, 10)})
    assert sim.asset(1) == "BTC"


def test_stress_drop_30_liquidates_the_inverse_long_before_the_linear_one() -> None:
    # drop-30: 50,000 × 0.7^(t/1440) at minute t, no noise; the bar that crosses P is ⌊1440·ln(P/50,000)/ln 0.7⌋.
    # Inverse 5× long: P = 41,833.33 (above); linear Binance BTCUSDT 5× long (0.4 % below 50 k notional):
    # M + Q(P − E) = m·Q·P with M = Q·E/5 ⇔ P = E(1 − 1/5)/(1 − m) = 50,000 × 0.8 / 0.996 = 40,160.64.
    ep = EPISODES["drop-30"]

    def crossing(price: float) -> int:
        return math.floor(1440 * math.log(price / 50_000) / math.log(0.7))

    inv = run_stress({SYM: ep.build()[ep.legs[0].symbol]}, parse_positions("long:5x:0.02", SYM), coinm(insurance=D(0)))
    lin = run_stress(
        ep.build(), parse_positions("long:5x:1000"), MarketConfig(venue="binance", spread=D(0), insurance=D(0))
    )
    (pi,), (pl,) = inv["positions"], lin["positions"]
    assert near(pi["liquidation_price"], liq_price_5x_long(50_000))
    assert near(pl["liquidation_price"], Fraction(50_000) * Fraction(8, 10) / Fraction(996, 1000))
    assert inv["first_liquidation_bar"] == crossing(41_833.33) == 719
    assert lin["first_liquidation_bar"] == crossing(40_160.64) == 884
    assert inv["asset"] == "BTC" and lin["asset"] == "USDT"
    assert pi["margin_loss"] == D("0.02") and pi["loss"] == D("0.02004")  # + taker fee 0.0004 × 0.1 BTC
    (acct,) = inv["accounts"]
    assert acct["deposit"] == D("0.022") and acct["equity"] == D("0.00196") and acct["cap_ok"]
    assert acct["equity_usd"] == D("0.00196") * D(35_000)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_cli_backtest_and_stress_on_inverse(tmp_path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "r.html"
    res = invoke(
        "backtest", "--generator", "gbm", "--bars", "200", "--venue", "binancecoinm", "--symbol", SYM,
        "--report", str(html), "-q",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    page = html.read_text(encoding="utf-8")
    assert "equity (USD)" in page and "equity (BTC)" in page
    res = invoke(
        "backtest", "--generator", "gbm", "--bars", "300", "--venue", "binancecoinm", "--symbol", "btcusd_perp",
        "--balance", "2 BTC", "--strategy", "buy-and-hold", "--param", "contracts=20", "--leverage", "5",
        "--compare-modes",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "BTC, inverse: sizes in USD face" in res.output
    assert "final_equity (BTC)" in res.output and "final_equity (USD)" in res.output
    res = invoke(
        "stress", "--path", "drop-30", "--venue", "binancecoinm", "--symbol", SYM, "--positions", "long:5x:0.02",
        "--spread", "0", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert '"asset":"BTC"' in res.stdout and '"first_liquidation_bar":719' in res.stdout


def one_error(res, code: str) -> None:  # type: ignore[no-untyped-def]
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {code}: "), res.output
    assert "Traceback" not in res.output


def test_cli_bad_inverse_inputs_are_one_clear_error_line() -> None:
    base = ("backtest", "--generator", "gbm", "--bars", "50", "--venue", "binancecoinm")
    one_error(invoke(*base, "--symbol", SYM, "--param", "contracts=1.5"), "not_whole_contracts")
    one_error(invoke(*base, "--symbol", SYM, "--param", "qty=150"), "not_whole_contracts")
    one_error(invoke(*base, "--symbol", "BTCUSD_XYZ"), "unknown_symbol")
    one_error(invoke(*base, "--symbol", SYM, "--balance", "1000 USDT"), "balance_asset_mismatch")
    one_error(invoke(*base, "--symbol", SYM, "--balance", "-1"), "bad_deposit")
    one_error(invoke(*base, "--symbol", SYM, "--balance", "1", "--deposit", "1"), "bad_parameter")
    one_error(invoke("backtest", "--generator", "gbm", "--bars", "50", "--balance", "1 BTC"), "balance_asset_mismatch")
    one_error(
        invoke(
            "stress", "--path", "drop-30", "--venue", "binancecoinm", "--symbol", "NOPE", "--positions", "long:5x:1"
        ),
        "unknown_symbol",
    )
    one_error(
        invoke("stress", "--path", "cascade", "--venue", "binancecoinm", "--symbol", SYM, "--positions", "long:5x:1"),
        "bad_symbol",
    )


def test_stress_compare_modes_book_csv_and_monte_carlo_on_inverse(tmp_path) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "book.csv"
    book.write_text("account,symbol,side,leverage,margin\n1,,long,5,0.02\n2,,short,5,0.02\n", encoding="utf-8")
    res = invoke(
        "stress", "--path", "drop-30", "--venue", "binancecoinm", "--symbol", SYM, "--book", str(book),
        "--compare-modes", "--spread", "0", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    iso, cross = r["isolated"], r["cross"]
    assert iso["asset"] == cross["asset"] == "BTC"
    assert [p["size"] for p in iso["positions"]] == ["5000", "5000"]  # 0.02 × 5 × 50,000 USD face
    # Isolated: the long is liquidated on bar 719 (as above) and loses its 0.02 BTC pool; cross: the long's
    # account has only its own 0.022 BTC wallet, so it is liquidated later but loses more than 0.02.
    assert iso["first_liquidation_bar"] == 719 and iso["isolated_cap_ok"]
    long_iso, long_cross = iso["positions"][0], cross["positions"][0]
    assert D(long_iso["margin_loss"]) == D("0.02") and D(long_cross["loss"]) > D("0.02004")
    assert r["difference"]["equity_end_usd"]["isolated"] == iso["equity_end_usd"]
    res = invoke(
        "stress", "--paths", "2", "--horizon", "120", "--venue", "binancecoinm", "--symbol", SYM, "--leverage", "50",
        "--executor", "serial", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    (run,) = json.loads(res.stdout)["runs"]
    assert run["params"]["margin"] == "0.02" and run["params"]["symbol"] == SYM and run["paths"] == 2


def test_inverse_sizes_and_equity_match_the_queries_through_funding_and_liquidations() -> None:
    # An isolated 25× long (1 BTC wallet) and a cross 10× short (2 BTC) on BTCUSD_PERP, funding every 8 h, a
    # volatile path. The simulator values a position as basis − size / mark from PositionUpdated sizes and one
    # cost read per change; the engine's own unrealised PnL is rounded to the money quantum (10⁻¹⁰ BTC).
    btc = gbm(1500, seed=4, sigma=2.5)
    market = MarketConfig(venue="binancecoinm", funding_rate=D("0.0003"))
    sim = Simulation(market, {SYM: btc})
    sim.add_account(1, D(1), {SYM: (MarginMode.ISOLATED, 25)})
    sim.add_account(2, D(2), {SYM: (MarginMode.CROSS, 10)})
    for acct, side, qty in ((1, OrderSide.BUY, D(500_000)), (2, OrderSide.SELL, D(300_000))):
        events = sim.apply(PlaceOrder(acct, SYM, side, OrderType.MARKET, qty=qty, ts=sim.ts))
        assert isinstance(events[0], Trade), events[0]
    checked = 0

    def on_bar(i: int) -> None:
        nonlocal checked
        if i in (60, 90):  # a partial close and an addition change the cost basis
            sim.apply(PlaceOrder(2, SYM, OrderSide.BUY, OrderType.MARKET, qty=D(100_000), ts=sim.ts))
            sim.apply(PlaceOrder(2, SYM, OrderSide.SELL, OrderType.MARKET, qty=D(50_000), ts=sim.ts))
        for acct in (1, 2):
            view = queries.position(sim.engine, acct, SYM)
            assert sim.size(acct, SYM) == (ZERO if view is None else view["size"])
            if i % 7 == 0:
                b = queries.balances(sim.engine, acct, "BTC")
                pnl = ZERO if view is None else view["unrealized_pnl"]
                assert abs(sim.equity(acct) - (b["wallet"] + b["held"] + b["isolated_margin"] + pnl)) <= D("1E-10")
                checked += 1

    sim.run(on_bar)
    assert checked > 200
    assert sim.funding_paid and all(f["symbol"] == SYM for f in sim.funding_paid)
    assert {(x["account"], x["mode"]) for x in sim.liquidations} >= {(1, "isolated")}
    assert queries.wallet(sim.engine, 1, "USDT") == 0 and queries.wallet(sim.engine, LP_ACCOUNT, "USDT") == 0


def test_inverse_closed_episodes_account_for_every_margin_move() -> None:
    # As for linear (test_engine_reads): each closed episode's loss from the ledger movements equals −realised PnL
    # + fees − funding from the trades and funding events, in BTC; the episodes add up to the account's loss.
    for mode in ("isolated", "cross"):
        cfg = BacktestConfig(symbol=SYM, leverage=3, margin_mode=mode, market=coinm(funding_rate=D("0.0001")))
        r = run_backtest(gbm(1500, seed=11), MACross(10, 30), cfg)
        assert not r["liquidations"] and r["asset"] == "BTC"
        closed = [p for p in r["positions"] if not p["open"]]
        assert len(closed) > 40
        for p in closed:
            assert p["loss"] == -p["realized_pnl"] + p["fees"] - p["funding"], p
        total = sum((p["loss"] for p in r["positions"]), ZERO)
        assert total == r["deposit"] - r["final_equity"]
