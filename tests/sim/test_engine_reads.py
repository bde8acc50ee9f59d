"""What the simulator keeps from the engine's events agrees with the engine's queries, episode by episode.

The simulator reads the engine only through events and `isomargin.engine.queries`: it values positions from
the sizes PositionUpdated reports, keeps the provider's quotes by client order id, and books each command's
ledger movements (one Posted, last) to the positions they belong to. These tests check that bookkeeping
against figures computed independently, from the queries or from each episode's own money identity.
"""

from __future__ import annotations

from decimal import Decimal as D

from isomargin.engine import MarginMode, OrderSide, OrderType, PlaceOrder, queries
from isomargin.engine.events import Trade
from isomargin.sim import BacktestConfig, MACross, MarketConfig, Simulation, gbm, make_bars, run_backtest
from isomargin.sim.market import LP_ACCOUNT

ZERO = D(0)


def _query_equity(sim: Simulation, account: int) -> D:
    """Wallet + held + isolated pools + every open position's unrealised PnL, all from the queries."""
    eng = sim.engine
    b = queries.balances(eng, account)
    pnl = sum((v["unrealized_pnl"] for v in queries.positions(eng, account)), ZERO)
    total: D = b["wallet"] + b["held"] + b["isolated_margin"] + pnl
    return total


def test_tracked_sizes_and_equity_match_the_queries_through_funding_and_liquidations() -> None:
    # Two symbols; an isolated 25x long and a cross 10x short on BTC, a cross 20x long on ETH, funding every
    # 8 h (= 480 bars), a volatile path on which both accounts are liquidated (seeds chosen for that).
    n = 1500
    btc = gbm(n, seed=4, sigma=2.5)
    e = gbm(n, seed=104, start=3_000.0, sigma=2.5, tick=0.01)
    eth = make_bars(btc.ts, e.open, e.high, e.low, e.close, e.volume)
    market = MarketConfig(venue="binance", funding_rate=D("0.0003"), insurance=D(1_000_000))
    sim = Simulation(market, {"BTCUSDT": btc, "ETHUSDT": eth})
    sim.add_account(1, D(3_000), {"BTCUSDT": (MarginMode.ISOLATED, 25)})
    sim.add_account(2, D(5_000), {"BTCUSDT": (MarginMode.CROSS, 10), "ETHUSDT": (MarginMode.CROSS, 20)})
    orders = [(1, "BTCUSDT", OrderSide.BUY, D("1.000")), (2, "BTCUSDT", OrderSide.SELL, D("0.500"))]
    orders.append((2, "ETHUSDT", OrderSide.BUY, D("10.000")))
    for acct, sym, side, qty in orders:
        events = sim.apply(PlaceOrder(acct, sym, side, OrderType.MARKET, qty=qty, ts=sim.ts))
        assert isinstance(events[0], Trade), events[0]
    checked = 0

    def on_bar(i: int) -> None:
        nonlocal checked
        if i in (60, 90):  # change open positions' size and cost basis: a partial close and an addition
            sim.apply(PlaceOrder(2, "BTCUSDT", OrderSide.BUY, OrderType.MARKET, qty=D("0.200"), ts=sim.ts))
            sim.apply(PlaceOrder(2, "ETHUSDT", OrderSide.BUY, OrderType.MARKET, qty=D("1.000"), ts=sim.ts))
        for acct in (1, 2):
            for sym in ("BTCUSDT", "ETHUSDT"):
                view = queries.position(sim.engine, acct, sym)
                assert sim.size(acct, sym) == (ZERO if view is None else view["size"])
            if i % 7 == 0:
                assert sim.equity(acct) == _query_equity(sim, acct)
                checked += 1

    sim.run(on_bar)
    assert checked > 200
    bought = [t for t in sim.trades if t["account"] == 2 and t["side"] == "BUY" and t["bar"] in (60, 90)]
    assert len({(t["bar"], t["symbol"]) for t in bought}) == 4  # the four mid-run orders traded
    assert sim.funding_paid  # funding was settled on open positions
    assert {(x["account"], x["mode"]) for x in sim.liquidations} == {(1, "isolated"), (2, "cross")}
    assert {t["side"] for t in sim.trades} == {"BUY", "SELL"}


def test_closed_episodes_account_for_every_margin_move() -> None:
    # An isolated closed episode: margin in (allocated) − margin back (pool_out) + the opening fee paid from the
    # wallet is what it cost its owner; without a liquidation that is also −realised PnL + all its fees − funding
    # received. The two sides come from different events (ledger movements vs trades, positions and funding),
    # so they agree only if every movement of a command went to the episode it belongs to.
    market = MarketConfig(funding_rate=D("0.0001"))
    for mode in ("isolated", "cross"):
        cfg = BacktestConfig(leverage=3, margin_mode=mode, market=market)
        r = run_backtest(gbm(1500, seed=11), MACross(10, 30), cfg)
        assert not r["liquidations"]
        closed = [p for p in r["positions"] if not p["open"]]
        assert len(closed) > 40 and all(p["mode"] == mode for p in r["positions"])
        for p in closed:
            assert p["loss"] == -p["realized_pnl"] + p["fees"] - p["funding"], p
            if mode == "isolated":
                assert p["allocated_margin"] > 0 and p["margin_loss"] < p["allocated_margin"]
        total = sum((p["loss"] for p in r["positions"]), ZERO)
        assert total == r["deposit"] - r["final_equity"]  # the whole account's loss, to the last quantum


def test_the_provider_names_its_quotes_by_client_order_id() -> None:
    cfg = BacktestConfig(leverage=10)
    sim_holder: list[Simulation] = []

    class Probe(MACross):
        def on_bar(self, ctx) -> None:  # type: ignore[no-untyped-def]
            if not sim_holder:
                sim_holder.append(ctx.sim)
            super().on_bar(ctx)

    run_backtest(gbm(600, seed=2), Probe(5, 15), cfg)
    sim = sim_holder[0]
    q = sim.quotes["BTCUSDT"]
    assert q.bid is not None and q.ask is not None and q.count > 2  # re-placed after fills
    live = {o["client_order_id"]: o for o in queries.open_orders(sim.engine, LP_ACCOUNT, "BTCUSDT")}
    assert set(live) == {q.bid.client_id, q.ask.client_id}  # exactly the two quotes it believes are live
    assert live[q.bid.client_id]["price"] == q.bid.price and live[q.bid.client_id]["side"] is OrderSide.BUY
    assert live[q.ask.client_id]["price"] == q.ask.price and q.ask.price > q.bid.price
    assert all(cid.startswith("lp-BTCUSDT-") for cid in live)
