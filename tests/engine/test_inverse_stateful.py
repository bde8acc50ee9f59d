"""Stateful Hypothesis test: inverse and linear markets side by side, three settle assets (BTC, ETH, USDT).

(With a dated inverse future, BTCUSD_260327, beside the perpetuals, delivered at random by the `deliver` rule.)

A smaller twin of `test_engine_stateful.py` for coin-margined contracts: BTCUSD_PERP (100 USD contracts, settles
in BTC), ETHUSD_PERP (10 USD contracts, settles in ETH) and BTCUSDT (linear, USDT) on the binance profile, a few
accounts funded in every asset, and random orders, trades, stops, mark moves and gaps (±20 %), funding, margin
adjustments and settings. The engine runs with `debug=True`, so after every command its audit checks exact
per-asset conservation (each asset's balances sum to zero), the settlement identity (inverse costs counted with
the opposite sign), holds, books and the cached liquidation prices. The machine adds, per asset: a flat account
never pays on a mark or funding; an isolated-only account's wallets never pay on a mark; after a mark no
isolated position is left beyond its liquidation price, every cached liquidation price equals the calculator's,
and every cross account is healthy in each settle asset; a rejection changes nothing; ADL only hits the other
side. At the end the command list replays to identical events and hash, and a snapshot restores to the same hash.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from enginekit import inverse_spec
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from isomargin.engine import (
    AdjustMargin,
    CancelAllOrders,
    Command,
    CreateAccount,
    DeliverInstrument,
    Deposit,
    Engine,
    FundInsurance,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    Rejected,
    SetLeverage,
    SetMarginMode,
    SetMarkPrice,
    SetPositionMode,
    SettleFunding,
    TimeInForce,
    Withdraw,
    WorkingType,
    queries,
    restore,
    snapshot,
    state_hash,
)
from isomargin.engine.events import AutoDeleveraged, Event
from isomargin.margin import Side
from isomargin.venues import get_profile

SPECS = (
    inverse_spec(),
    inverse_spec(symbol="ETHUSD_PERP", settle="ETH", contract="10", tick="0.01"),
    inverse_spec(symbol="BTCUSD_260327"),  # a dated future: trades until EXPIRY, which the `deliver` rule jumps to
)
DATED = "BTCUSD_260327"
EXPIRY = 10**12  # ms, far beyond the commands' counted timestamps: the market trades until `deliver` runs
LISTINGS = [("binance", s) for s in SPECS]
SYMBOLS = ("BTCUSD_PERP", "ETHUSD_PERP", "BTCUSDT", DATED)
ASSETS = ("BTC", "ETH", "USDT")
TICK = {"BTCUSD_PERP": Decimal("0.1"), "ETHUSD_PERP": Decimal("0.01"), "BTCUSDT": Decimal("0.1"), DATED: Decimal("0.1")}
STEP = {"BTCUSD_PERP": Decimal(100), "ETHUSD_PERP": Decimal(10), "BTCUSDT": Decimal("0.001"), DATED: Decimal(100)}
UNIT = {"BTCUSD_PERP": 1, "ETHUSD_PERP": 3, "BTCUSDT": 2, DATED: 1}  # lots per size unit
BASE = {"BTCUSD_PERP": Decimal(60000), "ETHUSD_PERP": Decimal(3000), "BTCUSDT": Decimal(60000), DATED: Decimal(60300)}
PRICE_UNIT_TICKS = {"BTCUSD_PERP": 300, "ETHUSD_PERP": 150, "BTCUSDT": 300, DATED: 300}
FUNDS = {"BTC": ["0.01", "0.1", "2"], "ETH": ["0.2", "2", "40"], "USDT": ["2000", "20000", "100000"]}
ACCOUNTS = (1, 2, 3, 4)

accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from([OrderSide.BUY, OrderSide.SELL])
sizes = st.integers(1, 40)


class InverseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(debug=True, listings=LISTINGS)
        self.commands: list[Command] = []
        self.events: list[list[dict[str, object]]] = []
        self.ts = 0

    def wallets(self) -> dict[tuple[int, str], Decimal]:
        e = self.engine
        return {(a, asset): queries.wallet(e, a, asset) for a in queries.accounts(e) for asset in ASSETS}

    def do(self, make: Callable[[int], Command]) -> list[Event]:
        self.ts += 1
        cmd = make(self.ts)
        e = self.engine
        before = state_hash(e)
        wallets = self.wallets()
        info = {a: queries.account(e, a) for a in queries.accounts(e)}
        flat = {a for a, i in info.items() if not i["positions"] and not i["open_orders"]}
        isolated_only = {
            a for a, i in info.items()
            if i["positions"] and not i["open_orders"]
            and all(p["margin_mode"] is MarginMode.ISOLATED for p in queries.positions(e, a))
        }  # fmt: skip
        events = e.apply(cmd)
        self.commands.append(cmd)
        self.events.append([ev.to_dict() for ev in events])
        after = self.wallets()
        if isinstance(cmd, SetMarkPrice | SettleFunding | DeliverInstrument):
            for (a, asset), amount in wallets.items():
                if a in flat:
                    assert after[(a, asset)] >= amount, f"flat account {a} lost {asset} on {cmd}"
        if isinstance(cmd, SetMarkPrice | DeliverInstrument):
            for (a, asset), amount in wallets.items():
                if a in isolated_only:
                    assert after[(a, asset)] >= amount, f"isolated-only account {a}'s {asset} wallet paid on {cmd}"
        if any(isinstance(ev, Rejected) for ev in events):
            assert len(events) == 1 and state_hash(e) == before, f"rejected {cmd} changed state: {events}"
            assert events[0].code != "internal_check_error", events[0]
        elif isinstance(cmd, SetMarkPrice):
            self.after_mark(cmd.symbol)
        for ev in events:
            if isinstance(ev, AutoDeleveraged):
                assert {ev.side, ev.liquidated_side} == {"long", "short"} and ev.account != ev.liquidated_account
        return events

    def after_mark(self, symbol: str) -> None:
        e = self.engine
        mark = queries.market(e, symbol)["mark_price"]  # type: ignore[index]
        profile = get_profile("binance")
        specs = {s.symbol: s for s in SPECS}
        for a in queries.accounts(e):
            for p in queries.positions(e, a):
                if p["margin_mode"] is not MarginMode.ISOLATED:
                    continue
                lp = p["liquidation_exact"]
                long = p["lots"] > 0  # type: ignore[operator]
                if p["symbol"] == symbol and lp is not None:
                    assert (mark > lp) if long else (mark < lp), f"{a} left beyond liquidation: {p}"
                spec = specs.get(str(p["symbol"])) or profile.spec(str(p["symbol"]))
                quote = profile.liquidation_price(
                    spec, Side.LONG if long else Side.SHORT, abs(p["size"]), p["entry_price"], p["isolated_margin"]
                )  # type: ignore[arg-type]
                assert quote.exact == lp, f"engine LP {lp} != calculator {quote.exact} for {p}"
            for asset in ASSETS:
                health = queries.cross_health(e, a, asset)
                if health is None:
                    continue
                assert health["equity"] > health["maintenance_margin"], f"cross {a} {asset} left unhealthy: {health}"
                assert health["reported"] is health["level"], f"cross {a} {asset} alert is stale: {health}"

    def mark_of(self, symbol: str) -> Decimal:
        m = queries.market(self.engine, symbol)
        mark = None if m is None else m["mark_price"]
        return BASE[symbol] if mark is None else mark

    def price(self, symbol: str, offset: int) -> Decimal:
        tick = TICK[symbol]
        p = (self.mark_of(symbol) / tick).to_integral_value() * tick + offset * PRICE_UNIT_TICKS[symbol] * tick
        return p if p > 0 else tick

    def qty(self, symbol: str, n: int) -> Decimal:
        return n * UNIT[symbol] * STEP[symbol]

    def pside(self, account: int, want_long: bool) -> PositionSide:
        if not queries.account(self.engine, account)["hedge_mode"]:
            return PositionSide.BOTH
        return PositionSide.LONG if want_long else PositionSide.SHORT

    # ------------------------------------------------------------------ set-up
    @initialize(
        funds=st.lists(st.integers(0, 2), min_size=4, max_size=4),
        hedge=st.lists(st.sampled_from([False, False, True]), min_size=4, max_size=4),
        isolated=st.lists(st.booleans(), min_size=16, max_size=16),
        leverage=st.lists(st.sampled_from([None, 5, 20, 50, 100, 125]), min_size=16, max_size=16),
    )
    def setup(self, funds: list[int], hedge: list[bool], isolated: list[bool], leverage: list[int | None]) -> None:
        for sym in SYMBOLS:
            expiry = EXPIRY if sym == DATED else None
            self.do(lambda ts, sym=sym, x=expiry: ListInstrument(sym, venue="binance", expiry=x, ts=ts))
        for i, acct in enumerate(ACCOUNTS):
            self.do(lambda ts, acct=acct, h=hedge[i]: CreateAccount(acct, hedge_mode=h, ts=ts))
            for asset in ASSETS:
                amount = Decimal(FUNDS[asset][funds[i]])
                self.do(lambda ts, a=acct, s=asset, m=amount: Deposit(a, s, m, ts=ts))
            for j, sym in enumerate(SYMBOLS):
                if isolated[4 * i + j]:
                    self.do(lambda ts, a=acct, s=sym: SetMarginMode(a, s, MarginMode.ISOLATED, ts=ts))
                lev = leverage[4 * i + j]
                if lev is not None:
                    self.do(lambda ts, a=acct, s=sym, lev=lev: SetLeverage(a, s, lev, ts=ts))
        for sym in SYMBOLS:
            self.do(lambda ts, sym=sym: SetMarkPrice(sym, BASE[sym], ts=ts))

    # ------------------------------------------------------------------ orders
    @rule(
        account=accounts, symbol=symbols, side=sides, offset=st.integers(-8, 8), n=sizes,
        tif=st.sampled_from([TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.GTX]),
        reduce_only=st.sampled_from([False] * 4 + [True]), want_long=st.booleans(),
    )  # fmt: skip
    def place_limit(
        self, account: int, symbol: str, side: OrderSide, offset: int, n: int, tif: TimeInForce, reduce_only: bool,
        want_long: bool,
    ) -> None:  # fmt: skip
        price, qty, ps = self.price(symbol, offset), self.qty(symbol, n), self.pside(account, want_long)
        ro = reduce_only and ps is PositionSide.BOTH
        self.do(lambda ts: PlaceOrder(account, symbol, side, OrderType.LIMIT, qty, price, tif=tif, reduce_only=ro,
                                      position_side=ps, ts=ts))  # fmt: skip

    @rule(maker=accounts, taker=accounts, symbol=symbols, side=sides, offset=st.integers(-2, 2), n=sizes,
          m=st.integers(1, 60), maker_long=st.booleans(), taker_long=st.booleans())  # fmt: skip
    def trade(
        self, maker: int, taker: int, symbol: str, side: OrderSide, offset: int, n: int, m: int, maker_long: bool,
        taker_long: bool,
    ) -> None:  # fmt: skip
        price = self.price(symbol, offset)
        mp, tp = self.pside(maker, maker_long), self.pside(taker, taker_long)
        self.do(lambda ts: PlaceOrder(maker, symbol, OrderSide(-side), OrderType.LIMIT, self.qty(symbol, n), price,
                                      position_side=mp, ts=ts))  # fmt: skip
        self.do(lambda ts: PlaceOrder(taker, symbol, side, OrderType.MARKET, self.qty(symbol, m), position_side=tp,
                                      ts=ts))  # fmt: skip

    @rule(account=accounts, symbol=symbols, side=sides, offset=st.integers(1, 10), n=sizes,
          kind=st.sampled_from([OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET]),
          want_long=st.booleans())  # fmt: skip
    def place_stop(
        self, account: int, symbol: str, side: OrderSide, offset: int, n: int, kind: OrderType, want_long: bool
    ) -> None:
        # A buy stop above the mark, a sell stop below it (take-profits the other way round).
        direction = side if kind is OrderType.STOP_MARKET else -side
        stop = self.price(symbol, direction * offset)
        ps = self.pside(account, want_long)
        self.do(lambda ts: PlaceOrder(account, symbol, side, kind, self.qty(symbol, n), stop_price=stop,
                                      position_side=ps, working_type=WorkingType.MARK_PRICE, ts=ts))  # fmt: skip

    @rule(account=accounts, symbol=symbols)
    def cancel_all(self, account: int, symbol: str) -> None:
        self.do(lambda ts: CancelAllOrders(account, symbol, ts=ts))

    # ------------------------------------------------------------------ prices, funding, money
    @rule(symbol=symbols, bp=st.integers(-80, 80))
    def mark_small(self, symbol: str, bp: int) -> None:
        mark = self.price(symbol, 0) * (10000 + bp) / 10000
        self.do(lambda ts: SetMarkPrice(symbol, mark.quantize(Decimal("0.01")), ts=ts))

    @rule(symbol=symbols, move=st.sampled_from(["-0.20", "-0.08", "0.08", "0.20"]))
    def mark_gap(self, symbol: str, move: str) -> None:
        mark = (self.mark_of(symbol) * (1 + Decimal(move))).quantize(Decimal("0.01"))
        self.do(lambda ts: SetMarkPrice(symbol, mark, ts=ts))

    @rule(symbol=symbols, rate=st.sampled_from(["0.0001", "-0.0001", "0.003", "-0.0075"]))
    def funding(self, symbol: str, rate: str) -> None:
        self.do(lambda ts: SettleFunding(symbol, Decimal(rate), ts=ts))

    @rule(account=accounts, symbol=symbols, amount=st.sampled_from(["0.001", "-0.001", "0.00001", "-0.00001", "5"]),
          want_long=st.booleans())  # fmt: skip
    def adjust_margin(self, account: int, symbol: str, amount: str, want_long: bool) -> None:
        ps = self.pside(account, want_long)
        self.do(lambda ts: AdjustMargin(account, symbol, Decimal(amount), position_side=ps, ts=ts))

    @rule(account=accounts, asset=st.sampled_from(ASSETS), amount=st.sampled_from(["0.001", "0.5", "1000"]),
          out=st.booleans())  # fmt: skip
    def money(self, account: int, asset: str, amount: str, out: bool) -> None:
        cls = Withdraw if out else Deposit
        self.do(lambda ts: cls(account, asset, Decimal(amount), ts=ts))

    @rule(asset=st.sampled_from(ASSETS), amount=st.sampled_from(["0.0001", "0.01"]))
    def fund(self, asset: str, amount: str) -> None:
        self.do(lambda ts: FundInsurance(asset, Decimal(amount), ts=ts))

    @rule(account=accounts, symbol=symbols, mode=st.sampled_from([MarginMode.ISOLATED, MarginMode.CROSS]),
          lev=st.sampled_from([None, 1, 10, 50, 125]), hedge=st.sampled_from([None, True, False]))  # fmt: skip
    def settings(self, account: int, symbol: str, mode: MarginMode, lev: int | None, hedge: bool | None) -> None:
        self.do(lambda ts: SetMarginMode(account, symbol, mode, ts=ts))
        if lev is not None:
            self.do(lambda ts: SetLeverage(account, symbol, lev, ts=ts))
        if hedge is not None:
            self.do(lambda ts: SetPositionMode(account, hedge, ts=ts))

    @rule(offset=st.integers(-10, 10))
    def deliver(self, offset: int) -> None:
        """Deliver the dated future near its mark: every position there settles, its orders go, it closes."""
        price = self.price(DATED, offset)
        self.ts = max(self.ts, EXPIRY - 1)  # time reaches the expiry (from then on the market takes no orders)
        self.do(lambda ts: DeliverInstrument(DATED, price, ts=ts))

    @rule()
    def snapshot_round_trip(self) -> None:
        restored = restore(snapshot(self.engine), listings=LISTINGS)
        assert state_hash(restored) == state_hash(self.engine)

    def teardown(self) -> None:
        replayed = Engine(listings=LISTINGS)
        events = [[ev.to_dict() for ev in replayed.apply(c)] for c in self.commands]
        assert events == self.events, "replaying the commands gave different events"
        assert state_hash(replayed) == state_hash(self.engine)


TestInverseMachine = InverseMachine.TestCase
