"""Hostile input: the engine is total over every field of every command.

Each example builds an engine in a realistic state through ordinary commands (two binance markets with marks, five
accounts, resting, reduce-only, post-only and conditional orders, isolated and cross positions, one-way and hedge
mode, a spot pair with isolated margin accounts, OKX BTC-USD options with a short, a long and resting option orders)
and applies commands whose fields come from a hostile pool: NaN, sNaN, ±Infinity, −0, subnormal and huge
decimals, 40-digit and off-grid values, huge, negative and boolean ints, wrong types, look-alike enum strings, long,
control and non-ASCII strings, out-of-range timestamps. `apply` must never raise; a refusal is exactly one `Rejected`
with an explicit `Code` (never `internal_check_error`) and leaves the state hash as it was; an accepted command has
passed the debug audit. The regressions at the end each failed before the engine fix they name.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from enginekit import Venue
from hypothesis import given
from hypothesis import strategies as st

from isomargin.engine import (
    STP,
    AdjustMargin,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    Command,
    CreateAccount,
    DeliverInstrument,
    Deposit,
    Engine,
    Event,
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
    SetMarketStatus,
    SetMarkPrice,
    SetPositionMode,
    SettleFunding,
    TimeInForce,
    Withdraw,
    WorkingType,
    options_queries,
    queries,
    restore,
    snapshot,
    spot_queries,
    state_hash,
)
from isomargin.engine.accounts import MAX_ACCOUNT_ID
from isomargin.engine.catalog import EVENT_TYPES
from isomargin.engine.codes import Code
from isomargin.engine.commands import (
    AccrueInterest,
    AdjustOptionMargin,
    Borrow,
    CancelOptionOrder,
    CancelSpotOrder,
    ListOption,
    ListSpotPair,
    MarginTransfer,
    PlaceOptionOrder,
    PlaceSpotOrder,
    Repay,
    SetBorrowRate,
    SetOptionVol,
    SettleOptions,
    SideEffect,
)
from isomargin.engine.events import OrderUpdated
from isomargin.engine.instruments import Grid
from isomargin.engine.options_events import OptionOrderUpdated
from isomargin.engine.spot_events import SpotOrderUpdated
from isomargin.venues import get_profile

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
BTC, ETH = "BTCUSDT", "ETHUSDT"
DATED = "BTCUSDT_260327"
SPOT = "BTC-USDT"  # a binance spot pair with isolated margin
FAMILY, CALL, PUT = "BTC-USD", "BTC-USD-261225-100000-C", "BTC-USD-261225-90000-P"  # OKX, coin-margined
EXPIRY = 1_798_185_600_000  # 2026-12-25 08:00 UTC, the options' expiry
MAX_TS = 2**63 - 1
HOUR = 3_600_000


# ------------------------------------------------------------------------------------------------ the state
class World:
    """The realistic state every example starts from, and the ids its commands can aim at."""

    def __init__(self) -> None:
        v = self.venue = Venue(fees=True, symbols=(BTC, ETH))
        ok = v.ok
        ok(SetMarkPrice(BTC, D(60000)))
        ok(SetMarkPrice(ETH, D(3000), D("3001.5")))
        ok(FundInsurance("USDT", D(10000)))
        for acct, hedge in ((1, False), (2, False), (3, True), (4, False), (5, False)):
            ok(CreateAccount(acct, hedge_mode=hedge))
            if acct != 4:  # account 4 stays empty: no money, no orders, no positions
                ok(Deposit(acct, "USDT", D(100000)))
        ok(SetMarginMode(2, BTC, MarginMode.ISOLATED))
        ok(SetLeverage(2, BTC, 20))
        ok(SetMarginMode(3, ETH, MarginMode.ISOLATED))
        # 1 sells 0.1 BTC to 2: 1 is short (cross), 2 long (isolated, 20x).
        ok(PlaceOrder(1, BTC, SELL, OrderType.LIMIT, D("0.1"), D(60000), client_order_id="c1"))
        ok(PlaceOrder(2, BTC, BUY, OrderType.MARKET, D("0.1")))
        # 5 sells 1 ETH to 3's hedge-mode LONG leg: 5 short (cross), 3 long (isolated).
        ok(PlaceOrder(5, ETH, SELL, OrderType.LIMIT, D(1), D(3000)))
        ok(PlaceOrder(3, ETH, BUY, OrderType.LIMIT, D(1), D(3000), position_side=PositionSide.LONG,
                      client_order_id="h1"))  # fmt: skip
        # What rests: a bid, a post-only ask, a reduce-only take-profit, a close-position stop, a trailing stop,
        # a hedge-mode short entry and a stop-limit.
        long_, short = PositionSide.LONG, PositionSide.SHORT
        resting = {
            "bid": PlaceOrder(1, BTC, BUY, OrderType.LIMIT, D("0.05"), D(59000), client_order_id="bid"),
            "ask": PlaceOrder(5, BTC, SELL, OrderType.LIMIT, D("0.05"), D(61000), tif=TimeInForce.GTX,
                              client_order_id="ask"),
            "tp": PlaceOrder(2, BTC, SELL, OrderType.LIMIT, D("0.05"), D(62000), reduce_only=True,
                             client_order_id="tp"),
            "sl": PlaceOrder(2, BTC, SELL, OrderType.STOP_MARKET, None, stop_price=D(55000), close_position=True,
                             working_type=WorkingType.MARK_PRICE, client_order_id="sl"),
            "trail": PlaceOrder(3, ETH, SELL, OrderType.TRAILING_STOP_MARKET, D("0.5"), callback_rate=D(1),
                                position_side=long_, client_order_id="trail"),
            "short": PlaceOrder(3, ETH, SELL, OrderType.LIMIT, D("0.5"), D(3100), position_side=short),
            "stop": PlaceOrder(5, ETH, BUY, OrderType.STOP_LIMIT, D("0.2"), D(3200), stop_price=D(3150)),
        }  # fmt: skip
        self.orders = {name: self._place(cmd) for name, cmd in resting.items()}
        # A dated future (expiring at 1 ms: the set-up trades at ts 0, any later timestamp may deliver it; from 1
        # on it takes no orders) with a position between 1 and 5.
        v.engine.listings[("binance", DATED)] = replace(get_profile("binance").spec(BTC), symbol=DATED,
                                                         venue_symbol=DATED)  # fmt: skip
        ok(ListInstrument(DATED, venue="binance", expiry=1))
        ok(SetMarkPrice(DATED, D(60000)))
        ok(PlaceOrder(1, DATED, SELL, OrderType.LIMIT, D("0.01"), D(60000)))
        ok(PlaceOrder(5, DATED, BUY, OrderType.MARKET, D("0.01")))
        # The spot pair BTC-USDT (binance, 10x margin levels, 0.1 % fees) with a mark, wallet orders and two
        # isolated margin accounts: 1 is long-ish (10,000 USDT in, 20,000 USDT borrowed, a MARGIN_BUY bid: margin
        # level 1.5, below the transfer-out level 2), 2 is short-ish (0.5 BTC in, 0.1 BTC borrowed, an AUTO_REPAY
        # ask). 5 holds wallet BTC.
        ok(ListSpotPair(SPOT, venue="binance"))
        ok(SetMarkPrice(SPOT, D(60000)))
        ok(Deposit(5, "BTC", D(2)))
        ok(Deposit(2, "BTC", D(1)))
        ok(MarginTransfer(1, SPOT, "USDT", D(10000)))
        ok(Borrow(1, SPOT, "USDT", D(20000)))
        ok(MarginTransfer(2, SPOT, "BTC", D("0.5")))
        ok(Borrow(2, SPOT, "BTC", D("0.1")))
        spot_resting = {
            "sa": PlaceSpotOrder(5, SPOT, SELL, OrderType.LIMIT, D("0.5"), D(61000), client_order_id="sa"),
            "sb": PlaceSpotOrder(3, SPOT, BUY, OrderType.LIMIT, D("0.01"), D(58000), client_order_id="sb"),
            "mb": PlaceSpotOrder(1, SPOT, BUY, OrderType.LIMIT, D("0.1"), D(59000), isolated=True,
                                 side_effect=SideEffect.MARGIN_BUY, client_order_id="mb"),
            "ar": PlaceSpotOrder(2, SPOT, SELL, OrderType.LIMIT, D("0.3"), D(62000), isolated=True,
                                 side_effect=SideEffect.AUTO_REPAY, client_order_id="ar"),
        }  # fmt: skip
        self.spot_orders = {name: self._place_spot(cmd) for name, cmd in spot_resting.items()}
        # OKX BTC-USD options (0.01 BTC a contract, premiums in BTC): a call and a put on an index of 95,000 with
        # marks; 5 sold 3 the call (5 short with its pool, 3 long); resting: 3's bid, 5's sell to open on the put,
        # 3's reduce-only sell to close and 5's buy to close.
        for symbol in (CALL, PUT):
            ok(ListOption(symbol))
        ok(Deposit(3, "BTC", D(10)))
        ok(Deposit(5, "BTC", D(10)))
        ok(SetMarkPrice(FAMILY, D(95000)))
        ok(SetMarkPrice(CALL, D("0.03")))
        ok(SetMarkPrice(PUT, D("0.02")))
        ok(PlaceOptionOrder(5, CALL, SELL, D(100), D("0.03")))
        ok(PlaceOptionOrder(3, CALL, BUY, D(100), D("0.03")))
        option_resting = {
            "ob": PlaceOptionOrder(3, CALL, BUY, D(50), D("0.025"), client_order_id="ob"),
            "op": PlaceOptionOrder(5, PUT, SELL, D(20), D("0.025"), client_order_id="op"),
            "or": PlaceOptionOrder(3, CALL, SELL, D(30), D("0.04"), reduce_only=True, client_order_id="or"),
            "bc": PlaceOptionOrder(5, CALL, BUY, D(10), D("0.02")),
        }
        self.option_orders = {name: self._place_option(cmd) for name, cmd in option_resting.items()}

    def _place_option(self, cmd: PlaceOptionOrder) -> int:
        update = self.venue.ok(cmd)[0]
        assert isinstance(update, OptionOrderUpdated) and update.status.value == "NEW", update
        order_id: int = update.order_id
        return order_id

    def _place_spot(self, cmd: PlaceSpotOrder) -> int:
        update = self.venue.ok(cmd)[0]
        assert isinstance(update, SpotOrderUpdated) and update.status.value == "NEW", update
        order_id: int = update.order_id
        return order_id

    def _place(self, cmd: PlaceOrder) -> int:
        update = self.venue.ok(cmd)[0]  # rests (or parks) untouched: its OrderUpdated, then the hold's Posted
        assert isinstance(update, OrderUpdated) and queries.order(self.engine, update.order_id) is not None
        order_id: int = update.order_id
        return order_id

    @property
    def engine(self) -> Engine:
        return self.venue.engine


def test_world_is_what_the_strategies_aim_at() -> None:
    w = World()
    e = w.engine
    assert tuple(sorted(w.orders.values())) == ORDER_IDS
    for account, symbol, order_id, client_id in RESTING:  # what the strategies aim at is really there
        view = queries.order(e, order_id)
        assert view is not None, order_id
        assert (view["account"], view["symbol"], view["client_order_id"]) == (account, symbol, client_id)
    assert e.stats()["open_orders"] == 7 and e.stats()["positions"] == 6  # 2 of them on the dated future
    assert queries.position(e, 2, BTC)["margin_mode"] is MarginMode.ISOLATED  # type: ignore[index]
    assert queries.position(e, 1, BTC)["margin_mode"] is MarginMode.CROSS  # type: ignore[index]
    assert queries.position(e, 3, ETH, PositionSide.LONG)["margin_mode"] is MarginMode.ISOLATED  # type: ignore[index]
    assert queries.account(e, 3)["hedge_mode"] is True
    assert not queries.account(e, 4)["positions"] and queries.wallet(e, 4, "USDT") == 0
    assert tuple(sorted(w.spot_orders.values())) == tuple(row[1] for row in SPOT_RESTING)
    for account, order_id, client_id, isolated in SPOT_RESTING:
        spot = spot_queries.spot_order(e, order_id)
        assert spot is not None, order_id
        assert (spot["account"], spot["client_order_id"], spot["isolated"]) == (account, client_id, isolated)
    one, two = spot_queries.margin_account(e, 1, SPOT), spot_queries.margin_account(e, 2, SPOT)
    assert one is not None and two is not None
    # 1: 30,000 USDT of assets against 20,000 borrowed plus an hour's interest (20,000 × 0.00024 / 24 = 0.2)
    assert one["assets"]["USDT"]["borrowed"] == 20000 and one["assets"]["USDT"]["interest"] == D("0.2")
    assert one["margin_level"] == D(300000 * 10**18 // 200002).scaleb(-18)  # 30,000 / 20,000.2, 18 places down
    assert one["assets"]["USDT"]["free"] == 30000 - 5900 and one["assets"]["USDT"]["max_transferable"] == 0
    # 2: 0.6 BTC against 0.1 BTC borrowed plus 0.1 × 0.00001 interest
    assert two["assets"]["BTC"]["free"] == D("0.3") and two["assets"]["BTC"]["interest"] == D("0.000001")
    assert tuple(sorted(w.option_orders.values())) == tuple(row[2] for row in OPTION_RESTING)
    for account, symbol, order_id, client_id in OPTION_RESTING:
        [view] = [o for o in options_queries.option_orders(e, account, symbol) if o["order_id"] == order_id]
        assert view["client_order_id"] == client_id, view
    short, long_ = options_queries.option_position(e, 5, CALL), options_queries.option_position(e, 3, CALL)
    assert short is not None and long_ is not None
    assert (short["contracts"], long_["contracts"]) == (-100, 100)
    # 5's pool: IM 0.13 (max(0.1, 0.15 − 5,000/95,000) + 0.03 per BTC, 1 BTC of underlying) + the taker's 0.0003 −
    # the maker's 0.0002 fee; removable 0.1301 − 0.13
    assert short["margin"] == D("0.1301") and short["max_removable"] == D("0.0001")


# ------------------------------------------------------------------------------------------------ the contract
_grid = functools.cache(Grid.parse)


def _counts(engine: Engine) -> dict[str, Any]:
    stats = engine.stats()
    del stats["commands"], stats["rejected"]
    return stats


def check_total(engine: Engine, cmd: Command) -> list[Event]:
    """Apply `cmd` and hold the engine to its totality contract; returns the events."""
    before = state_hash(engine)
    counts = _counts(engine)
    seq = engine.seq
    events = engine.apply(cmd)  # any exception, EngineFailed above all, fails the test
    assert engine.failed is None
    assert engine.seq == seq + 1
    for i, ev in enumerate(events):
        assert ev.index == i and ev.env.seq == engine.seq and ev.env.command is cmd, ev
    rejected = [ev for ev in events if isinstance(ev, Rejected)]
    if rejected:
        assert len(events) == 1, f"a rejection must be the only event: {events}"
        rej = rejected[0]
        assert state_hash(engine) == before, f"rejected {cmd!r:.400} changed state: {rej}"
        assert _counts(engine) == counts
        assert type(rej.code) is Code, rej
        assert type(rej.message) is str and rej.message, rej
        assert rej.command == type(cmd).__name__
        assert rej.code is not Code.INTERNAL_CHECK_ERROR, f"{cmd!r:.400} tripped a check: {rej.message:.400}"
    # (accepted: apply ran the debug audit after the commit; an audit failure raises EngineFailed above)
    rows = [ev.to_dict() for ev in events]
    json.dumps(rows, allow_nan=False)  # JSON-ready, as the API brief promises
    for ev in events:  # and each event reads back from its exact raw form to the same thing
        raw = json.loads(json.dumps(ev.raw(), allow_nan=False))
        back = getattr(EVENT_TYPES[type(ev).__name__], "from_raw")(ev.env, ev.index, raw, _grid)  # noqa: B009
        assert back.to_dict() == ev.to_dict(), ev
    return events


def check_restores(engine: Engine) -> None:
    """Whatever odd values were accepted, the state snapshots and restores to the same hash."""
    listings = [(venue, spec) for (venue, _), spec in engine.listings.items()]
    assert state_hash(restore(snapshot(engine), debug=True, listings=listings)) == state_hash(engine)


# ------------------------------------------------------------------------------------------------ hostile values
class _DecimalChild(Decimal):
    pass


class _StrChild(str):
    __slots__ = ()


NASTY_DECIMALS = (
    D("NaN"), D("-NaN"), D("sNaN"), D("-sNaN"), D("NaN123"), D("Infinity"), D("-Infinity"), D("-0"), D("0"),
    D("0E-1000"), D("-0E+1000"), D("1E-400"), D("-1E-400"), D("1E-30"), D("1E-19"), D("1E-20"), D("1E-9"), D("1E-8"),
    D("1E-10"), D("1E+400"), D("-1E+400"), D("1E999999"), D("1E-999999"), D("9E+999999999"), D("1E-999999999"),
    D(10**40), D(-(10**40)), D("1" * 40), D("0." + "1" * 40), D("1." + "0" * 39 + "1"), D("0.1" + "0" * 27 + "1"),
    D("1E12"), D("-1E12"), D("1E11"), D("1E15"), D("1E16"), D("999999999999.99999999"), D("999999999999.999999999"),
    D("1000000000000.00000001"), D("0.99999999"), D("-0.99999999"), D("0.999999999"), D("1"), D("-1"), D("0.1"),
    D("10"), D("10.00000001"), D("0.09999999"), D("60000"), D("60000.05"), D("60000.01"), D("60000.000000001"),
    D("6E+4"), D("60000." + "0" * 30), D("3000.001"), D("0.0001"), D("0.0015"), D("-60000"), D("-0.001"),
    D("1.5"), D("125"), D("1000"), D("1001"), D("2") ** 64,
)  # fmt: skip
NASTY_INTS = (
    0,
    -1,
    1,
    2,
    5,
    11,
    12,
    999,
    1000,
    1001,
    2**31,
    2**62,
    2**62 + 1,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63),
    -(2**64),
    10**40,
    -(10**40),
    10**100,
    True,
    False,
)
NASTY_STRINGS = (
    "", " ", "x" * 10_000, "U" * 10_000, "١٢", "１", "１０", "٣٠٠٠", "\x00", "\n", "\t", "\x7f", "\u200b", "\ufeff",
    "BTCUSDT\x00", " BTCUSDT", "BTCUSDT ", "btcusdt", "BTC\u200bUSDT", "ＢＴＣＵＳＤＴ", "BTCUSDⓉ", "USDT\x00", "usdt",
    "Usdt", "ＵＳＤＴ", "USDTUSDTUSDTX", "ÜSDT", "é", "ß", "İ", "🚀", "\ud7ff", "NaN", "Infinity", "-0", "1E999999",
    "60000", "0.001", "LIMIT", "MARKET", "STOP", "BUY", "SELL", "BOTH", "LONG", "ISOLATED", "CROSS", "isolated", "GTC",
    "GTX", "MARK_PRICE", "NONE", "true", "false", "None", "c1", "bid", "BINANCE", " binance ", "bınance", "binance\x00",
    "a" * 36, "a" * 37,
)  # fmt: skip
WRONG_TYPES: tuple[object, ...] = (
    None, 1.5, 0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1e300, 60000.0, 1j, b"", b"1", b"BTCUSDT",
    bytearray(b"1"), [], [1], [D(1)], {}, {"a": 1}, (), (1, 2), {1}, frozenset(), range(3), Ellipsis, NotImplemented,
    _DecimalChild("1"), _DecimalChild("60000"), _StrChild("BTCUSDT"), _StrChild("USDT"), (D(1), D(2)),
)  # fmt: skip
ENUM_MEMBERS: tuple[object, ...] = (
    *OrderSide,
    *OrderType,
    *TimeInForce,
    *PositionSide,
    *MarginMode,
    *WorkingType,
    *STP,
    Code.BAD_PRICE,
)

hostile_decimals = st.one_of(
    st.sampled_from(NASTY_DECIMALS),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=12),
    st.builds(
        lambda digits, exp, neg: D((int(neg), tuple(digits), exp)),
        st.lists(st.integers(0, 9), min_size=1, max_size=45),
        st.integers(-450, 450),
        st.booleans(),
    ),
)
hostile_ints = st.one_of(st.sampled_from(NASTY_INTS), st.integers(), st.integers(-(2**70), 2**70))
hostile_strings = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=50), st.text(min_size=30, max_size=40))
hostile = st.one_of(
    hostile_decimals,
    hostile_ints,
    hostile_strings,
    st.sampled_from(WRONG_TYPES),
    st.sampled_from(ENUM_MEMBERS),
    st.floats(),
)
hostile_ts = st.one_of(
    st.sampled_from([-1, -(2**63), 2**63, 2**64, 10**40, True, False, None, 1.0, "1", D(1), D("NaN"), b"1"]),
    st.integers(max_value=-1),
    st.integers(min_value=2**63),
)


def _nudged(value: object) -> object:
    """A plausible value spoiled by one digit: one place past its last, or its sign flipped."""
    if type(value) is D and value.is_finite():
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)
        return value + D((0, (1,), exponent - 1))
    if type(value) is int:
        return -value
    return value


# ------------------------------------------------------------------------------------------------ plausible values
# Coherent commands against World (most would be accepted), so that a spoiled field is what decides the outcome.
TICK = {BTC: D("0.1"), ETH: D("0.01"), SPOT: D("0.01"), CALL: D("0.0005"), PUT: D("0.0005"), FAMILY: D(1)}
MARK = {BTC: 60000, ETH: 3000, SPOT: 60000, CALL: D("0.03"), PUT: D("0.02"), FAMILY: 95000}
MIN_LOTS = {BTC: 2, ETH: 7, SPOT: 2, CALL: 1000}  # min notional 100 and 20 USDT at the marks, in 0.001 lots
# (owner, symbol, order id, client id) of what World rests
RESTING = ((1, BTC, 5, "bid"), (5, BTC, 6, "ask"), (2, BTC, 7, "tp"), (2, BTC, 8, "sl"), (3, ETH, 9, "trail"),
           (3, ETH, 10, None), (5, ETH, 11, None))  # fmt: skip
ORDER_IDS = tuple(row[2] for row in RESTING)
CLIENT_IDS = ("c1", "h1", *(row[3] for row in RESTING if row[3]))
# (owner, order id, client id, isolated) of World's resting spot orders on SPOT
SPOT_RESTING = ((5, 14, "sa", False), (3, 15, "sb", False), (1, 16, "mb", True), (2, 17, "ar", True))
SPOT_CLIENT_IDS = tuple(row[2] for row in SPOT_RESTING)
# (owner, symbol, order id, client id) of World's resting option orders
OPTION_RESTING = ((3, CALL, 20, "ob"), (5, PUT, 21, "op"), (3, CALL, 22, "or"), (5, CALL, 23, None))
OPTION_CLIENT_IDS = tuple(row[3] for row in OPTION_RESTING if row[3])

accounts = st.sampled_from([1, 1, 2, 2, 3, 3, 5, 5, 4, 6])  # 4 is empty, 6 does not exist
# a spot pair or an option on a futures command: refused
symbols = st.sampled_from([BTC, BTC, BTC, ETH, ETH, ETH, SPOT, CALL])
flags = st.booleans()
rarely = st.sampled_from([False] * 6 + [True])
assets = st.sampled_from(["USDT"] * 5 + ["BTC"])
timestamps = st.one_of(st.integers(0, 2**41), st.sampled_from([0, MAX_TS]))
money_amounts = st.one_of(
    st.decimals(min_value=D("0.00000001"), max_value=D(10**5), places=8),
    st.sampled_from([D(10), D(1000), D(100000), D("1E11"), D("999999999999.99999999")]),
)
funding_rates = st.one_of(
    st.decimals(min_value=D("-0.01"), max_value=D("0.01"), places=8),
    st.sampled_from([D(0), D("0.99999999"), D("-0.99999999"), D("0.5")]),
)


def price_near(symbol: str, spread: float = 0.1) -> st.SearchStrategy[Decimal]:
    """On `symbol`'s tick grid within ±spread of its World mark (plus the extreme valid prices)."""
    tick = TICK[symbol]
    centre = int(MARK[symbol] / tick)
    return st.one_of(
        st.integers(int(centre * (1 - spread)), int(centre * (1 + spread))).map(lambda n: n * tick),
        st.sampled_from([tick, D("999999999999.9")]),
    )


def qty_for(symbol: str) -> st.SearchStrategy[Decimal]:
    lots = st.one_of(st.integers(MIN_LOTS[symbol], 60 * MIN_LOTS[symbol]), st.sampled_from([1, 10**15 - 1]))
    return lots.map(lambda n: n * D("0.001"))


def marks(symbol: str) -> st.SearchStrategy[Decimal]:
    return st.one_of(
        price_near(symbol, 0.3),
        st.decimals(min_value=D("0.00000001"), max_value=D("999999999999.99999999"), places=8),
    )


def _pside(account: int, long: bool) -> PositionSide:
    if account != 3:  # one-way accounts
        return PositionSide.BOTH
    return PositionSide.LONG if long else PositionSide.SHORT


@st.composite
def place_order(draw: st.DrawFn) -> dict[str, Any]:
    account, symbol, side = draw(accounts), draw(symbols), draw(st.sampled_from(OrderSide))
    kind = draw(st.sampled_from(OrderType))
    closing = kind in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET) and draw(rarely)
    limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
    trailing = kind is OrderType.TRAILING_STOP_MARKET
    return {
        "account": account,
        "symbol": symbol,
        "side": side,
        "type": kind,
        "qty": None if closing else draw(qty_for(symbol)),
        "price": draw(price_near(symbol)) if limit else None,
        "stop_price": draw(price_near(symbol)) if kind.conditional and not trailing else None,
        "tif": draw(st.sampled_from([TimeInForce.GTC] * 3 + list(TimeInForce))),
        "reduce_only": account != 3 and draw(rarely),
        "close_position": closing,
        "position_side": _pside(account, draw(flags)),
        "client_order_id": draw(st.one_of(st.none(), st.sampled_from(CLIENT_IDS), st.text(min_size=1, max_size=36))),
        "working_type": draw(st.sampled_from(WorkingType)),
        "callback_rate": draw(st.decimals(min_value=D("0.1"), max_value=D(10), places=2)) if trailing else None,
        "activation_price": draw(st.one_of(st.none(), price_near(symbol))) if trailing else None,
        "stp": draw(st.sampled_from(STP)),
    }


@st.composite
def order_ref(draw: st.DrawFn, amend: bool = False) -> dict[str, Any]:
    account, symbol, order_id, client_id = draw(st.sampled_from(RESTING))
    by = draw(st.sampled_from(["id", "id", "client", "both"]))
    out: dict[str, Any] = {
        "account": account,
        "symbol": symbol,
        "order_id": None if by == "client" and client_id else order_id,
        "client_order_id": client_id if by != "id" else None,
    }
    if amend:
        out["qty"] = draw(st.one_of(st.none(), qty_for(symbol)))
        out["price"] = draw(st.one_of(st.none(), price_near(symbol)))
    return out


POSITIONS = ((2, BTC, PositionSide.BOTH), (3, ETH, PositionSide.LONG), (1, BTC, PositionSide.BOTH),
             (5, ETH, PositionSide.BOTH))  # fmt: skip


@st.composite
def adjust_margin(draw: st.DrawFn) -> dict[str, Any]:
    account, symbol, pside = draw(st.sampled_from(POSITIONS))
    amount = draw(money_amounts)
    return {"account": account, "symbol": symbol, "amount": -amount if draw(flags) else amount, "position_side": pside}


@st.composite
def set_mark(draw: st.DrawFn) -> dict[str, Any]:
    # a spot mark may liquidate World's margin accounts; the family's index and the options' marks their short
    symbol = draw(st.one_of(symbols, st.just(SPOT), st.sampled_from([FAMILY, CALL, PUT])))
    return {"symbol": symbol, "mark": draw(marks(symbol)), "index": draw(st.one_of(st.none(), marks(symbol)))}


# -- spot pairs and isolated margin: BTC-USDT is listed, ETH-USDT (binance and okx) is not yet, BTCUSDT is a perp
spot_symbols = st.sampled_from([SPOT] * 6 + ["ETH-USDT", BTC, "btc-usdt", "BTCUSDT_260327", "BTC-USDC", CALL])
spot_assets = st.sampled_from(["USDT", "USDT", "BTC", "BTC", "ETH"])  # ETH is not in the pair
spot_accounts = st.sampled_from([1, 1, 1, 2, 2, 2, 3, 5, 4, 6])  # 1 and 2 have margin accounts; 6 does not exist


def spot_qty() -> st.SearchStrategy[Decimal]:
    """BTC-USDT quantities on its 0.00001 step: about 5 to 6,000 USDT at the mark, or the extremes."""
    lots = st.one_of(st.integers(9, 10_000), st.sampled_from([1, 10**17 - 1]))
    return lots.map(lambda n: n * D("0.00001"))


@st.composite
def margin_transfer(draw: st.DrawFn) -> dict[str, Any]:
    """In from the wallet, or out (negative): beyond the free balance, or beyond what the margin level allows."""
    amount = draw(st.one_of(money_amounts, st.sampled_from([D("0.3"), D("0.30000001"), D(24100), D("24100.00000001")])))
    return {"account": draw(spot_accounts), "symbol": draw(spot_symbols), "asset": draw(spot_assets),
            "amount": -amount if draw(flags) else amount}  # fmt: skip


@st.composite
def borrow(draw: st.DrawFn) -> dict[str, Any]:
    near_max = st.sampled_from([D(50000), D("50000.00000001"), D("0.5"), D(9), D("9.00000001"), D("1E11")])
    return {"account": draw(spot_accounts), "symbol": draw(spot_symbols), "asset": draw(spot_assets),
            "amount": draw(st.one_of(money_amounts, near_max))}  # fmt: skip


@st.composite
def repay(draw: st.DrawFn) -> dict[str, Any]:
    """None repays everything; beyond the debt (principal plus interest) is refused."""
    debts = st.sampled_from([D("20000.2"), D("20000.20000001"), D("0.100001"), D("0.10000101"), D("0.000001")])
    return {"account": draw(spot_accounts), "symbol": draw(spot_symbols), "asset": draw(spot_assets),
            "amount": draw(st.one_of(st.none(), money_amounts, debts))}  # fmt: skip


daily_rates = st.one_of(
    st.decimals(min_value=D(0), max_value=D("0.1"), places=12),
    st.sampled_from([D(0), D("0.1"), D("0.1000000000001"), D("1E-12"), D("1E-13"), D("-0.0001"), D("0.00024")]),
)


@st.composite
def place_spot_order(draw: st.DrawFn) -> dict[str, Any]:
    account, isolated = draw(spot_accounts), draw(flags)
    kind = draw(st.sampled_from([OrderType.LIMIT] * 4 + [OrderType.MARKET] * 2 + list(OrderType)))
    effects = st.sampled_from([SideEffect.NO_SIDE_EFFECT, *SideEffect]) if isolated else st.just(
        SideEffect.NO_SIDE_EFFECT) if draw(st.integers(0, 7)) else st.sampled_from(SideEffect)  # fmt: skip
    return {
        "account": account,
        "symbol": draw(spot_symbols),
        "side": draw(st.sampled_from(OrderSide)),
        "type": kind,
        "qty": draw(spot_qty()),
        "price": draw(price_near(SPOT)) if kind is not OrderType.MARKET or draw(rarely) else None,
        "tif": draw(st.sampled_from([TimeInForce.GTC] * 3 + list(TimeInForce))),
        "isolated": isolated,
        "side_effect": draw(effects),
        "client_order_id": draw(st.one_of(st.none(), st.sampled_from(SPOT_CLIENT_IDS), st.text(min_size=1,
                                                                                               max_size=36))),
    }  # fmt: skip


@st.composite
def spot_order_ref(draw: st.DrawFn) -> dict[str, Any]:
    account, order_id, client_id, _ = draw(st.sampled_from(SPOT_RESTING))
    if draw(rarely):  # someone else's spot order, or a futures order's id
        order_id = draw(st.sampled_from([*ORDER_IDS, *(row[1] for row in SPOT_RESTING)]))
    by = draw(st.sampled_from(["id", "id", "client", "both"]))
    return {
        "account": account,
        "symbol": draw(spot_symbols),
        "order_id": None if by == "client" else order_id,
        "client_order_id": client_id if by != "id" else None,
    }


# -- options: OKX BTC-USD's call and put are listed (5 short the call, 3 long); strike 0, a 13th month, an unknown
# family, an unlisted strike, a perpetual, a spot pair and the family itself are not options
option_symbols = st.sampled_from([CALL] * 4 + [PUT] * 3 + [
    "BTC-USD-261225-0-C", "BTC-USD-261345-100000-C", "XRP-USD-261225-100000-C", "BTC-USD-261225-110000-C", BTC, SPOT,
    DATED, FAMILY, "btc-usd-261225-100000-c"])  # fmt: skip
option_accounts = st.sampled_from([3, 3, 3, 5, 5, 5, 1, 2, 4, 6])  # 1, 2 and 4 hold no BTC-USD options


def option_premium() -> st.SearchStrategy[Decimal]:
    """Premiums on OKX's bands: 0.0001 up to 0.005, 0.0005 above; the band edges, one off-band and the extremes."""
    return st.one_of(
        st.integers(1, 50).map(lambda n: n * D("0.0001")),
        st.integers(11, 400).map(lambda n: n * D("0.0005")),
        st.sampled_from([D("0.005"), D("0.0051"), D("0.0055"), D("0.0102"), D("0.00005"), D(1), D("999999.5")]),
    )


def option_qty() -> st.SearchStrategy[Decimal]:
    """Whole contracts: up to a few hundred, past the tiers, or near the 10^12 bound."""
    return st.one_of(st.integers(1, 500), st.sampled_from([1, 30, 31, 100, 101, 15_000, 10**9, 10**12 - 1])).map(D)


@st.composite
def place_option_order(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "account": draw(option_accounts),
        "symbol": draw(option_symbols),
        "side": draw(st.sampled_from(OrderSide)),
        "qty": draw(option_qty()),
        "price": draw(option_premium()),
        "tif": draw(st.sampled_from([TimeInForce.GTC] * 3 + list(TimeInForce))),
        "reduce_only": draw(rarely),
        "client_order_id": draw(st.one_of(st.none(), st.sampled_from(OPTION_CLIENT_IDS + SPOT_CLIENT_IDS),
                                          st.text(min_size=1, max_size=36))),
    }  # fmt: skip


@st.composite
def option_order_ref(draw: st.DrawFn) -> dict[str, Any]:
    account, symbol, order_id, client_id = draw(st.sampled_from(OPTION_RESTING))
    if draw(rarely):  # someone else's option order, or a futures or spot order's id
        others = [*ORDER_IDS, *(row[1] for row in SPOT_RESTING), *(row[2] for row in OPTION_RESTING)]
        order_id = draw(st.sampled_from(others))
    if draw(rarely):
        symbol = draw(option_symbols)
    by = draw(st.sampled_from(["id", "id", "client", "both"]))
    return {
        "account": account,
        "symbol": symbol,
        "order_id": None if by == "client" and client_id else order_id,
        "client_order_id": client_id if by != "id" else None,
    }


@st.composite
def adjust_option_margin(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly 5's short call (0.0001 removable); a long, a position that does not exist, another symbol."""
    account, symbol = draw(st.sampled_from([(5, CALL)] * 5 + [(3, CALL), (5, PUT), (1, CALL)]))
    if draw(rarely):
        symbol = draw(option_symbols)
    removable = st.sampled_from([D("0.0001"), D("0.00010001"), D("0.1"), D("0.5"), D(11)])
    amount = draw(st.one_of(money_amounts, removable))
    return {"account": account, "symbol": symbol, "amount": -amount if draw(flags) else amount}


PLAUSIBLE: dict[type[Command], st.SearchStrategy[dict[str, Any]]] = {
    ListInstrument: st.fixed_dictionaries({
        "symbol": st.sampled_from([BTC, ETH, "SOLUSDT", "solusdt", "BTC"]),
        "venue": st.sampled_from(["binance", "binance", "okx", "bybit", "hyperliquid", "dydx", "simple"]),
        "maker_fee": st.one_of(st.none(), st.decimals(min_value=D("-0.0002"), max_value=D("0.0004"), places=5)),
        "taker_fee": st.one_of(st.none(), st.decimals(min_value=D("0.0004"), max_value=D("0.001"), places=5)),
        "price_band": st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=3),
        "expiry": st.one_of(st.none(), st.integers(0, 2**63 - 1)),
    }),
    CreateAccount: st.fixed_dictionaries({
        "account": st.one_of(st.none(), st.integers(1, 12), st.just(MAX_ACCOUNT_ID)), "hedge_mode": flags,
    }),
    DeliverInstrument: st.fixed_dictionaries({
        "symbol": st.sampled_from([DATED, DATED, BTC, "SOLUSDT"]),
        "price": st.decimals(min_value=D(1), max_value=D(200000), places=1),
    }),
    Deposit: st.fixed_dictionaries({"account": accounts, "asset": assets, "amount": money_amounts}),
    Withdraw: st.fixed_dictionaries({"account": accounts, "asset": assets, "amount": money_amounts}),
    SetPositionMode: st.fixed_dictionaries({"account": st.sampled_from([4, 4, 1, 3]), "hedge_mode": flags}),
    SetMarginMode: st.fixed_dictionaries({
        "account": st.sampled_from([4, 4, 1, 2, 5]), "symbol": symbols, "mode": st.sampled_from(MarginMode),
    }),
    SetLeverage: st.fixed_dictionaries({
        "account": st.sampled_from([4, 4, 1, 2, 3, 5]), "symbol": symbols,
        "leverage": st.one_of(st.integers(1, 130), st.sampled_from([1, 125])),
    }),
    PlaceOrder: place_order(),
    CancelOrder: order_ref(),
    CancelAllOrders: st.fixed_dictionaries({"account": accounts, "symbol": symbols}),
    AmendOrder: order_ref(amend=True),
    SetMarkPrice: set_mark(),
    SettleFunding: st.fixed_dictionaries({"symbol": symbols, "rate": funding_rates}),
    AdjustMargin: adjust_margin(),
    SetMarketStatus: st.fixed_dictionaries({"symbol": symbols, "paused": flags}),
    FundInsurance: st.fixed_dictionaries({
        "asset": assets, "amount": money_amounts, "symbol": st.one_of(st.none(), symbols),
    }),
    ListSpotPair: st.fixed_dictionaries({
        "symbol": st.sampled_from(["ETH-USDT", "ETH-USDT", SPOT, "eth-usdt", "ETHUSDT", BTC, "SOL-USDT"]),
        "venue": st.sampled_from(["binance", "binance", "okx", "okx", "bybit", "BINANCE"]),
        "maker_fee": st.one_of(st.none(), st.decimals(min_value=D("-0.0001"), max_value=D("0.001"), places=5)),
        "taker_fee": st.one_of(st.none(), st.decimals(min_value=D("0.0005"), max_value=D("0.002"), places=5)),
        "price_band": st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=3),
    }),
    MarginTransfer: margin_transfer(),
    Borrow: borrow(),
    Repay: repay(),
    SetBorrowRate: st.fixed_dictionaries({"symbol": spot_symbols, "asset": spot_assets, "daily_rate": daily_rates}),
    AccrueInterest: st.fixed_dictionaries({}),  # only its ts: every loan's whole hours up to it
    PlaceSpotOrder: place_spot_order(),
    CancelSpotOrder: spot_order_ref(),
    ListOption: st.fixed_dictionaries({
        "symbol": st.sampled_from(["BTC-USD-261225-110000-C", "BTC-USD-261225-110000-C", "ETH-USD-261225-3000-P",
                                   "BTC-USD-270326-80000-P", CALL, "BTC-USD-261225-0-C", "BTC-USD-261345-100000-C",
                                   "BTC-USD-201225-100000-C", "XRP-USD-261225-1-C", "BTC-USD-261225-100000-X",
                                   "btc-usd-261225-110000-c", "BTC-261225-100000-C", BTC, SPOT, FAMILY]),
        "venue": st.sampled_from(["okx", "okx", "okx", "binance", "bybit", "OKX"]),
        "maker_fee": st.one_of(st.none(), st.decimals(min_value=D("-0.0002"), max_value=D("0.0004"), places=5)),
        "taker_fee": st.one_of(st.none(), st.decimals(min_value=D("0.0003"), max_value=D("0.001"), places=5)),
    }),
    SetOptionVol: st.fixed_dictionaries({
        "symbol": option_symbols,
        "iv": st.one_of(st.decimals(min_value=D("0.01"), max_value=D(3), places=4),
                        st.sampled_from([D(0), D("-0.5"), D("1E-8"), D(10), D(100), D("1E11")])),
    }),
    PlaceOptionOrder: place_option_order(),
    CancelOptionOrder: option_order_ref(),
    AdjustOptionMargin: adjust_option_margin(),
    SettleOptions: st.fixed_dictionaries({
        "family": st.sampled_from([FAMILY] * 4 + ["ETH-USD", "XRP-USD", BTC, CALL, "btc-usd"]),
        "expiry": st.sampled_from([EXPIRY] * 4 + [EXPIRY + 1, EXPIRY - 86_400_000, 0, 1_806_048_000_000]),
        "price": st.one_of(st.decimals(min_value=D(1), max_value=D(200000), places=1),
                           st.sampled_from([D(90000), D(100000), D("1E-8"), D("999999999999.99999999")])),
    }),
}  # fmt: skip
COMMANDS = tuple(PLAUSIBLE)


def test_every_engine_command_type_is_driven() -> None:
    import isomargin.engine.commands as commands

    engine_commands = {
        cls
        for cls in vars(commands).values()
        if isinstance(cls, type) and issubclass(cls, Command) and cls is not Command
    }
    assert set(COMMANDS) == engine_commands


SPOIL_COUNTS = st.sampled_from([0, 0, 1, 1, 1, 1, 2, 3])  # fields spoiled besides ts (all at once: a test below)


@st.composite
def hostile_command(draw: st.DrawFn, cls: type[Command]) -> Command:
    """A plausible `cls` with a few fields (sometimes none) replaced by hostile values; `ts` is spoiled on its own
    and rarely, since the engine refuses a bad timestamp before it reads anything else."""
    kwargs = draw(PLAUSIBLE[cls])
    names = [f.name for f in dataclasses.fields(cls) if f.name != "ts"]
    assert set(kwargs) == set(names), cls
    for name in draw(st.permutations(names))[: draw(SPOIL_COUNTS)]:
        kwargs[name] = draw(st.one_of(hostile, st.just(_nudged(kwargs[name]))))
    kwargs["ts"] = draw(st.one_of(hostile_ts, timestamps) if draw(st.integers(0, 11)) == 0 else timestamps)
    return cls(**kwargs)


GROUPS = {
    "money": (CreateAccount, Deposit, Withdraw, FundInsurance, AdjustMargin),
    "settings": (ListInstrument, SetPositionMode, SetMarginMode, SetLeverage, SetMarketStatus),
    "orders": (PlaceOrder, CancelOrder, CancelAllOrders, AmendOrder),
    "prices": (SetMarkPrice, SettleFunding, PlaceOrder, AmendOrder),
    "spot": (
        ListSpotPair,
        MarginTransfer,
        Borrow,
        Repay,
        SetBorrowRate,
        AccrueInterest,
        PlaceSpotOrder,
        CancelSpotOrder,
        SetMarkPrice,
        Deposit,
    ),
    "options": (
        ListOption,
        SetOptionVol,
        PlaceOptionOrder,
        CancelOptionOrder,
        AdjustOptionMargin,
        SettleOptions,
        SetMarkPrice,
        Deposit,
    ),
}


def _stream(group: tuple[type[Command], ...], max_size: int) -> st.SearchStrategy[list[Command]]:
    return st.lists(st.one_of(*(hostile_command(cls) for cls in group)), min_size=1, max_size=max_size)


# ------------------------------------------------------------------------------------------------ properties
@pytest.mark.parametrize("group", list(GROUPS), ids=list(GROUPS))
@given(data=st.data())
def test_hostile_fields_are_rejected_with_a_code_and_change_nothing(group: str, data: st.DataObject) -> None:
    """A short stream of one group's commands with hostile fields against the realistic state: each is refused
    explicitly with nothing changed, or accepted and audited."""
    engine = World().engine
    for cmd in data.draw(_stream(GROUPS[group], 6), label="commands"):
        check_total(engine, cmd)
    check_restores(engine)


@given(commands=_stream(COMMANDS, 12))
def test_hostile_streams_of_every_command_type(commands: list[Command]) -> None:
    """Every command type interleaved: extreme values that are accepted (a mark near 10^12, funding at ±0.99999999,
    a 10^11 deposit) move the state somewhere odd, and what follows must still be refused or accepted cleanly."""
    engine = World().engine
    for cmd in commands:
        check_total(engine, cmd)
    check_restores(engine)


@given(cls=st.sampled_from(COMMANDS), data=st.data())
def test_all_fields_hostile_at_once(cls: type[Command], data: st.DataObject) -> None:
    """Every field from the hostile pool at once: mostly nonsense, always refused cleanly."""
    fields = {
        f.name: data.draw(hostile_ts if f.name == "ts" else hostile, label=f.name) for f in dataclasses.fields(cls)
    }
    check_total(World().engine, cls(**fields))


# ------------------------------------------------------------------------------------------------ named examples
def _cmd(cls: type[Command], **override: Any) -> Command:
    """A valid-looking `cls` against World with `override` applied."""
    base: dict[type[Command], dict[str, Any]] = {
        ListInstrument: {"symbol": "SOLUSDT"},
        CreateAccount: {"account": 9},
        Deposit: {"account": 1, "asset": "USDT", "amount": D(10)},
        Withdraw: {"account": 1, "asset": "USDT", "amount": D(10)},
        SetPositionMode: {"account": 4, "hedge_mode": True},
        SetMarginMode: {"account": 4, "symbol": BTC, "mode": MarginMode.ISOLATED},
        SetLeverage: {"account": 4, "symbol": BTC, "leverage": 5},
        PlaceOrder: {
            "account": 1,
            "symbol": BTC,
            "side": BUY,
            "type": OrderType.LIMIT,
            "qty": D("0.01"),
            "price": D(59500),
        },
        CancelOrder: {"account": 1, "symbol": BTC, "order_id": 5},
        CancelAllOrders: {"account": 1, "symbol": BTC},
        AmendOrder: {"account": 1, "symbol": BTC, "order_id": 5, "qty": D("0.04")},
        SetMarkPrice: {"symbol": BTC, "mark": D(60100)},
        SettleFunding: {"symbol": BTC, "rate": D("0.0001")},
        AdjustMargin: {"account": 2, "symbol": BTC, "amount": D(10)},
        SetMarketStatus: {"symbol": BTC, "paused": True},
        FundInsurance: {"asset": "USDT", "amount": D(10)},
        DeliverInstrument: {"symbol": DATED, "price": D(61000), "ts": 1},  # at the dated market's expiry
        ListSpotPair: {"symbol": "ETH-USDT"},
        MarginTransfer: {"account": 1, "symbol": SPOT, "asset": "USDT", "amount": D(10)},
        Borrow: {"account": 1, "symbol": SPOT, "asset": "USDT", "amount": D(10)},
        Repay: {"account": 1, "symbol": SPOT, "asset": "USDT", "amount": D(10)},
        SetBorrowRate: {"symbol": SPOT, "asset": "USDT", "daily_rate": D("0.0003")},
        AccrueInterest: {"ts": 2 * HOUR + 1},
        PlaceSpotOrder: {"account": 1, "symbol": SPOT, "side": BUY, "type": OrderType.LIMIT, "qty": D("0.01"),
                         "price": D(59500)},
        CancelSpotOrder: {"account": 5, "symbol": SPOT, "order_id": 14},
        ListOption: {"symbol": "BTC-USD-261225-110000-C"},
        SetOptionVol: {"symbol": CALL, "iv": D("0.55")},
        PlaceOptionOrder: {"account": 3, "symbol": CALL, "side": BUY, "qty": D(10), "price": D("0.02")},
        CancelOptionOrder: {"account": 3, "symbol": CALL, "order_id": 20},
        AdjustOptionMargin: {"account": 5, "symbol": CALL, "amount": D("0.1")},
        SettleOptions: {"family": FAMILY, "expiry": EXPIRY, "price": D(100000), "ts": EXPIRY},
    }  # fmt: skip
    return cls(**{**base[cls], **override})


def test_the_named_bases_are_accepted() -> None:
    for cls in COMMANDS:
        events = check_total(World().engine, _cmd(cls))
        assert not any(isinstance(ev, Rejected) for ev in events), (cls, events)


NAN, SNAN, INF = D("NaN"), D("sNaN"), D("Infinity")
NAMED: list[tuple[type[Command], dict[str, Any], Code]] = [
    # numbers: NaN, sNaN, infinities, subnormal, huge, 40 digits, off-grid, non-Decimals
    (Deposit, {"amount": NAN}, Code.BAD_NUMBER),
    (Deposit, {"amount": SNAN}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("-sNaN")}, Code.BAD_NUMBER),
    (Deposit, {"amount": INF}, Code.BAD_NUMBER),
    (Deposit, {"amount": -INF}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("-0")}, Code.NOT_POSITIVE),
    (Deposit, {"amount": D("1E-400")}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("1E+400")}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("1E999999")}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("9E+999999999")}, Code.BAD_NUMBER),
    (Deposit, {"amount": D(10**40)}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("0." + "1" * 40)}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("1.000000001")}, Code.BAD_NUMBER),
    (Deposit, {"amount": 10}, Code.BAD_NUMBER),
    (Deposit, {"amount": 10.0}, Code.BAD_NUMBER),
    (Deposit, {"amount": "10"}, Code.BAD_NUMBER),
    (Deposit, {"amount": _DecimalChild("10")}, Code.BAD_NUMBER),
    (Deposit, {"amount": None}, Code.BAD_NUMBER),
    (Withdraw, {"amount": SNAN}, Code.BAD_NUMBER),
    (FundInsurance, {"amount": D("1E-30")}, Code.BAD_NUMBER),
    (AdjustMargin, {"amount": SNAN}, Code.BAD_NUMBER),
    (AdjustMargin, {"amount": D("-0")}, Code.BAD_AMOUNT),
    (SetMarkPrice, {"mark": SNAN}, Code.BAD_NUMBER),
    (SetMarkPrice, {"mark": D("60000.000000001")}, Code.BAD_NUMBER),
    (SetMarkPrice, {"index": SNAN}, Code.BAD_NUMBER),
    (SetMarkPrice, {"index": D(-1)}, Code.NOT_POSITIVE),
    (SetMarkPrice, {"mark": 60000.0}, Code.BAD_NUMBER),
    (SettleFunding, {"rate": SNAN}, Code.BAD_NUMBER),
    (SettleFunding, {"rate": D("1E-400")}, Code.BAD_NUMBER),
    (SettleFunding, {"rate": D(1)}, Code.BAD_FUNDING_RATE),
    (ListInstrument, {"maker_fee": SNAN}, Code.BAD_FEE),
    (ListInstrument, {"taker_fee": D("1E999999")}, Code.BAD_FEE),
    (ListInstrument, {"price_band": SNAN}, Code.BAD_PRICE_BAND),
    (DeliverInstrument, {"symbol": BTC}, Code.NOT_DATED),
    (DeliverInstrument, {"price": SNAN}, Code.BAD_NUMBER),
    (DeliverInstrument, {"price": D(0)}, Code.NOT_POSITIVE),
    (DeliverInstrument, {"price": D("60000.000000001")}, Code.BAD_NUMBER),
    (DeliverInstrument, {"symbol": None}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"expiry": -1}, Code.BAD_EXPIRY),
    (ListInstrument, {"expiry": 2**63}, Code.BAD_EXPIRY),
    (ListInstrument, {"expiry": True}, Code.BAD_EXPIRY),
    (ListInstrument, {"expiry": D(5)}, Code.BAD_EXPIRY),
    (ListInstrument, {"expiry": "2027-03-26"}, Code.BAD_EXPIRY),
    (ListInstrument, {"price_band": D("0.05000000000000000000000000000000000001")}, Code.BAD_PRICE_BAND),
    (PlaceOrder, {"qty": SNAN}, Code.BAD_QUANTITY),
    (PlaceOrder, {"qty": D("1E-400")}, Code.BAD_QUANTITY),
    (PlaceOrder, {"qty": D("1" * 40)}, Code.BAD_QUANTITY),
    (PlaceOrder, {"qty": D("0.0101")}, Code.BAD_QUANTITY),
    (PlaceOrder, {"qty": D("-0.01")}, Code.BAD_QUANTITY),
    (PlaceOrder, {"price": SNAN}, Code.BAD_PRICE),
    (PlaceOrder, {"price": INF}, Code.BAD_PRICE),
    (PlaceOrder, {"price": D("59500.01")}, Code.BAD_PRICE),
    (PlaceOrder, {"price": D("1E+400")}, Code.BAD_PRICE),
    (PlaceOrder, {"type": OrderType.STOP_MARKET, "price": None, "stop_price": SNAN}, Code.BAD_PRICE),
    (
        PlaceOrder,
        {"type": OrderType.TRAILING_STOP_MARKET, "price": None, "callback_rate": SNAN},
        Code.BAD_CALLBACK_RATE,
    ),
    (
        PlaceOrder,
        {"type": OrderType.TRAILING_STOP_MARKET, "price": None, "callback_rate": D("10.00000001")},
        Code.BAD_CALLBACK_RATE,
    ),
    (
        PlaceOrder,
        {"type": OrderType.TRAILING_STOP_MARKET, "price": None, "callback_rate": D(1), "activation_price": SNAN},
        Code.BAD_PRICE,
    ),
    (AmendOrder, {"qty": SNAN}, Code.BAD_QUANTITY),
    (AmendOrder, {"price": D("1E999999")}, Code.BAD_PRICE),
    # ints: huge, negative, zero, booleans, look-alikes
    (CreateAccount, {"account": 0}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": -1}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": True}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": MAX_ACCOUNT_ID + 1}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": 10**40}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": 9.0}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": "9"}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": D(9)}, Code.BAD_ACCOUNT),
    (CreateAccount, {"hedge_mode": 1}, Code.BAD_FLAG),
    (Deposit, {"account": True}, Code.UNKNOWN_ACCOUNT),
    (Deposit, {"account": OrderSide.BUY}, Code.UNKNOWN_ACCOUNT),
    (Deposit, {"account": 1.0}, Code.UNKNOWN_ACCOUNT),
    (Deposit, {"account": [1]}, Code.UNKNOWN_ACCOUNT),
    (Deposit, {"account": {}}, Code.UNKNOWN_ACCOUNT),
    (Deposit, {"account": 2**64}, Code.UNKNOWN_ACCOUNT),
    (SetLeverage, {"leverage": True}, Code.BAD_LEVERAGE),
    (SetLeverage, {"leverage": 0}, Code.BAD_LEVERAGE),
    (SetLeverage, {"leverage": -5}, Code.BAD_LEVERAGE),
    (SetLeverage, {"leverage": 10**40}, Code.BAD_LEVERAGE),
    (SetLeverage, {"leverage": 5.0}, Code.BAD_LEVERAGE),
    (SetLeverage, {"leverage": D(5)}, Code.BAD_LEVERAGE),
    (SetLeverage, {"leverage": "5"}, Code.BAD_LEVERAGE),
    (CancelOrder, {"order_id": True}, Code.UNKNOWN_ORDER),
    (CancelOrder, {"order_id": 5.0}, Code.UNKNOWN_ORDER),
    (CancelOrder, {"order_id": -5}, Code.UNKNOWN_ORDER),
    (CancelOrder, {"order_id": 2**64}, Code.UNKNOWN_ORDER),
    (CancelOrder, {"order_id": [5]}, Code.UNKNOWN_ORDER),
    (CancelOrder, {"order_id": 6}, Code.UNKNOWN_ORDER),  # someone else's order
    (CancelOrder, {"order_id": None, "client_order_id": ["bid"]}, Code.UNKNOWN_ORDER),
    (CancelOrder, {"order_id": None, "client_order_id": {"bid": 1}}, Code.UNKNOWN_ORDER),
    (CancelOrder, {"order_id": None, "client_order_id": "ask"}, Code.UNKNOWN_ORDER),
    (AmendOrder, {"order_id": 8, "account": 2}, Code.NOT_AMENDABLE),  # a stop
    # enums: strings equal to a value, members of the wrong enum, Decimals, ints
    (PlaceOrder, {"type": "LIMIT"}, Code.BAD_ENUM),
    (PlaceOrder, {"type": TimeInForce.GTC}, Code.BAD_ENUM),
    (PlaceOrder, {"side": 1}, Code.BAD_ENUM),
    (PlaceOrder, {"side": "BUY"}, Code.BAD_ENUM),
    (PlaceOrder, {"side": D(1)}, Code.BAD_ENUM),
    (PlaceOrder, {"side": True}, Code.BAD_ENUM),
    (PlaceOrder, {"tif": "GTC"}, Code.BAD_ENUM),
    (PlaceOrder, {"position_side": "BOTH"}, Code.BAD_ENUM),
    (PlaceOrder, {"position_side": MarginMode.CROSS}, Code.BAD_ENUM),
    (PlaceOrder, {"stp": "NONE"}, Code.BAD_ENUM),
    (PlaceOrder, {"working_type": "CONTRACT_PRICE"}, Code.BAD_ENUM),
    (PlaceOrder, {"reduce_only": 0}, Code.BAD_FLAG),
    (PlaceOrder, {"close_position": "false"}, Code.BAD_FLAG),
    (SetMarginMode, {"mode": "ISOLATED"}, Code.BAD_ENUM),
    (SetMarginMode, {"mode": PositionSide.LONG}, Code.BAD_ENUM),
    (SetMarginMode, {"mode": D(1)}, Code.BAD_ENUM),
    (AdjustMargin, {"position_side": "BOTH"}, Code.BAD_ENUM),
    (AdjustMargin, {"position_side": None}, Code.BAD_ENUM),
    (SetPositionMode, {"hedge_mode": "true"}, Code.BAD_FLAG),
    (SetMarketStatus, {"paused": 1}, Code.BAD_FLAG),
    (SetMarketStatus, {"paused": None}, Code.BAD_FLAG),
    # strings: empty, 10,000 characters, Unicode digits, control characters, non-ASCII, look-alikes
    (Deposit, {"asset": ""}, Code.BAD_ASSET),
    (Deposit, {"asset": "U" * 10_000}, Code.BAD_ASSET),
    (Deposit, {"asset": "USDTUSDTUSDTX"}, Code.BAD_ASSET),
    (Deposit, {"asset": "usdt"}, Code.BAD_ASSET),
    (Deposit, {"asset": "ＵＳＤＴ"}, Code.BAD_ASSET),
    (Deposit, {"asset": "١٢"}, Code.BAD_ASSET),
    (Deposit, {"asset": "USDT\x00"}, Code.BAD_ASSET),
    (Deposit, {"asset": "ÜSDT"}, Code.BAD_ASSET),
    (Deposit, {"asset": _StrChild("USDT")}, Code.BAD_ASSET),
    (Deposit, {"asset": b"USDT"}, Code.BAD_ASSET),
    (FundInsurance, {"symbol": ETH, "asset": "BTC"}, Code.BAD_ASSET),
    (FundInsurance, {"symbol": ""}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": ""}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": "x" * 10_000}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": "btcusdt"}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": "BTCUSDT\x00"}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": "ＢＴＣＵＳＤＴ"}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": _StrChild(BTC)}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": None}, Code.UNKNOWN_SYMBOL),
    (SetMarkPrice, {"symbol": [BTC]}, Code.UNKNOWN_SYMBOL),
    (CancelAllOrders, {"symbol": b"BTCUSDT"}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"symbol": ""}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"symbol": "x" * 10_000}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"symbol": "١٢"}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"symbol": None}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"symbol": "btcusdt"}, Code.ALREADY_LISTED),
    (ListInstrument, {"venue": ""}, Code.UNKNOWN_VENUE),
    (ListInstrument, {"venue": "x" * 10_000}, Code.UNKNOWN_VENUE),
    (ListInstrument, {"venue": "bınance"}, Code.UNKNOWN_VENUE),
    (ListInstrument, {"venue": None}, Code.UNKNOWN_VENUE),
    (PlaceOrder, {"client_order_id": ""}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceOrder, {"client_order_id": "x" * 10_000}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceOrder, {"client_order_id": "a" * 37}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceOrder, {"client_order_id": 7}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceOrder, {"client_order_id": b"c9"}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceOrder, {"client_order_id": "bid"}, Code.DUPLICATE_CLIENT_ORDER_ID),
    # timestamps
    (Deposit, {"ts": -1}, Code.BAD_TIMESTAMP),
    (Deposit, {"ts": 2**63}, Code.BAD_TIMESTAMP),
    (Deposit, {"ts": 10**40}, Code.BAD_TIMESTAMP),
    (Deposit, {"ts": True}, Code.BAD_TIMESTAMP),
    (Deposit, {"ts": None}, Code.BAD_TIMESTAMP),
    (Deposit, {"ts": "1"}, Code.BAD_TIMESTAMP),
    (PlaceOrder, {"ts": -(2**63)}, Code.BAD_TIMESTAMP),
    (ListInstrument, {"ts": 2**64}, Code.BAD_TIMESTAMP),
    (AccrueInterest, {"ts": -1}, Code.BAD_TIMESTAMP),
    (AccrueInterest, {"ts": None}, Code.BAD_TIMESTAMP),
    # spot pairs and isolated margin: which pair, which asset
    (ListSpotPair, {"symbol": SPOT}, Code.ALREADY_LISTED),
    (ListSpotPair, {"symbol": "ETHUSDT"}, Code.UNKNOWN_SYMBOL),
    (ListSpotPair, {"symbol": BTC}, Code.UNKNOWN_SYMBOL),
    (ListSpotPair, {"symbol": None}, Code.UNKNOWN_SYMBOL),
    (ListSpotPair, {"symbol": "ETH-USDT\x00"}, Code.UNKNOWN_SYMBOL),
    (ListSpotPair, {"venue": "bybit"}, Code.UNKNOWN_SYMBOL),
    (ListSpotPair, {"venue": b"binance"}, Code.UNKNOWN_SYMBOL),
    (ListSpotPair, {"maker_fee": D("0.002")}, Code.BAD_FEE),  # above the taker fee
    (ListSpotPair, {"taker_fee": D("-0.0001"), "maker_fee": D("-0.0001")}, Code.BAD_FEE),
    (ListSpotPair, {"taker_fee": SNAN}, Code.BAD_FEE),
    (ListSpotPair, {"price_band": D(1)}, Code.BAD_PRICE_BAND),
    (ListSpotPair, {"price_band": D(0)}, Code.BAD_PRICE_BAND),
    (ListSpotPair, {"price_band": NAN}, Code.BAD_PRICE_BAND),
    (MarginTransfer, {"symbol": BTC}, Code.NOT_SPOT),  # a perpetual's symbol on a spot command
    (MarginTransfer, {"symbol": DATED}, Code.NOT_SPOT),
    (MarginTransfer, {"symbol": "ETH-USDT"}, Code.UNKNOWN_SYMBOL),  # in the venue data, not listed
    (MarginTransfer, {"symbol": "btc-usdt"}, Code.UNKNOWN_SYMBOL),
    (MarginTransfer, {"symbol": None}, Code.UNKNOWN_SYMBOL),
    (MarginTransfer, {"asset": "ETH"}, Code.ASSET_NOT_IN_PAIR),
    (MarginTransfer, {"asset": "usdt"}, Code.BAD_ASSET),
    (MarginTransfer, {"account": 6}, Code.UNKNOWN_ACCOUNT),
    (Borrow, {"asset": "ETH"}, Code.ASSET_NOT_IN_PAIR),
    (Borrow, {"symbol": ETH}, Code.NOT_SPOT),
    (Repay, {"asset": "ETH"}, Code.ASSET_NOT_IN_PAIR),
    (SetBorrowRate, {"asset": "ETH"}, Code.ASSET_NOT_IN_PAIR),
    (SetBorrowRate, {"symbol": BTC}, Code.NOT_SPOT),
    (PlaceSpotOrder, {"symbol": BTC}, Code.NOT_SPOT),
    (CancelSpotOrder, {"symbol": BTC}, Code.NOT_SPOT),
    # … and a spot pair on a futures command: no such market
    (PlaceOrder, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    (SetLeverage, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    (SettleFunding, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    (AdjustMargin, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    (CancelAllOrders, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    # spot amounts
    (MarginTransfer, {"amount": D(0)}, Code.NOT_POSITIVE),
    (MarginTransfer, {"amount": D("-0")}, Code.NOT_POSITIVE),
    (MarginTransfer, {"amount": SNAN}, Code.BAD_NUMBER),
    (MarginTransfer, {"amount": -INF}, Code.BAD_NUMBER),
    (MarginTransfer, {"amount": D("1.000000001")}, Code.BAD_NUMBER),
    (MarginTransfer, {"amount": 10}, Code.BAD_NUMBER),
    (MarginTransfer, {"amount": D("1E12")}, Code.BAD_NUMBER),
    (MarginTransfer, {"amount": D(10**6)}, Code.INSUFFICIENT_BALANCE),  # more than the wallet has
    (MarginTransfer, {"amount": D(-24101)}, Code.INSUFFICIENT_BALANCE),  # more than is free in the account
    (MarginTransfer, {"amount": D(-1)}, Code.TRANSFER_OUT_LIMITED),  # margin level 1.5, below 2 after
    (MarginTransfer, {"account": 4, "amount": D(-1)}, Code.INSUFFICIENT_BALANCE),  # no margin account
    (MarginTransfer, {"account": 2, "asset": "BTC", "amount": D("-0.30000001")}, Code.INSUFFICIENT_BALANCE),
    (Borrow, {"amount": D(0)}, Code.NOT_POSITIVE),
    (Borrow, {"amount": D(-10)}, Code.NOT_POSITIVE),
    (Borrow, {"amount": NAN}, Code.BAD_NUMBER),
    (Borrow, {"amount": D("0.000000001")}, Code.BAD_NUMBER),
    (Borrow, {"amount": D("50000.00000001")}, Code.ABOVE_MAX_BORROWABLE),  # the 70,000 USDT limit less 20,000
    (Borrow, {"amount": D("1E11")}, Code.ABOVE_MAX_BORROWABLE),
    (Borrow, {"account": 4}, Code.ABOVE_MAX_BORROWABLE),  # nothing transferred in
    (Borrow, {"account": 2, "asset": "BTC", "amount": D("9.00000001")}, Code.ABOVE_MAX_BORROWABLE),
    (Repay, {"amount": D("20000.20000001")}, Code.REPAY_EXCEEDS_DEBT),  # principal plus the first hour's interest
    (Repay, {"amount": D(0)}, Code.NOT_POSITIVE),
    (Repay, {"amount": SNAN}, Code.BAD_NUMBER),
    (Repay, {"asset": "BTC"}, Code.NOTHING_TO_REPAY),
    (Repay, {"account": 3}, Code.NOTHING_TO_REPAY),
    (Repay, {"account": 2, "asset": "BTC", "amount": D("0.10000101")}, Code.REPAY_EXCEEDS_DEBT),
    (SetBorrowRate, {"daily_rate": D("0.1000000000001")}, Code.BAD_RATE),
    (SetBorrowRate, {"daily_rate": D("-0.0001")}, Code.BAD_RATE),
    (SetBorrowRate, {"daily_rate": D("1E-13")}, Code.BAD_RATE),
    (SetBorrowRate, {"daily_rate": SNAN}, Code.BAD_RATE),
    (SetBorrowRate, {"daily_rate": INF}, Code.BAD_RATE),
    (SetBorrowRate, {"daily_rate": 0.0003}, Code.BAD_RATE),
    (SetBorrowRate, {"daily_rate": None}, Code.BAD_RATE),
    (SetMarkPrice, {"symbol": SPOT, "mark": SNAN}, Code.BAD_NUMBER),
    (SetMarkPrice, {"symbol": SPOT, "mark": D(0)}, Code.NOT_POSITIVE),
    (SetMarkPrice, {"symbol": SPOT, "mark": D("60000.000000001")}, Code.BAD_NUMBER),
    (SetMarkPrice, {"symbol": SPOT, "index": D(-1)}, Code.NOT_POSITIVE),
    (SetMarkPrice, {"symbol": "ETH-USDT"}, Code.UNKNOWN_SYMBOL),
    # spot orders
    (PlaceSpotOrder, {"type": OrderType.STOP_MARKET}, Code.BAD_ENUM),
    (PlaceSpotOrder, {"type": "LIMIT"}, Code.BAD_ENUM),
    (PlaceSpotOrder, {"side": "BUY"}, Code.BAD_ENUM),
    (PlaceSpotOrder, {"tif": "GTC"}, Code.BAD_ENUM),
    (PlaceSpotOrder, {"side_effect": "MARGIN_BUY", "isolated": True}, Code.BAD_ENUM),
    (PlaceSpotOrder, {"side_effect": SideEffect.MARGIN_BUY}, Code.BAD_ENUM),  # a wallet order cannot borrow
    (PlaceSpotOrder, {"isolated": 1}, Code.BAD_FLAG),
    (PlaceSpotOrder, {"qty": D("0.000001")}, Code.BAD_QUANTITY),  # off the 0.00001 step
    (PlaceSpotOrder, {"qty": D(0)}, Code.BAD_QUANTITY),
    (PlaceSpotOrder, {"qty": D("-0.01")}, Code.BAD_QUANTITY),
    (PlaceSpotOrder, {"qty": SNAN}, Code.BAD_QUANTITY),
    (PlaceSpotOrder, {"qty": D("1E12")}, Code.BAD_QUANTITY),
    (PlaceSpotOrder, {"price": D("59500.001")}, Code.BAD_PRICE),
    (PlaceSpotOrder, {"price": NAN}, Code.BAD_PRICE),
    (PlaceSpotOrder, {"price": None}, Code.BAD_PRICE),
    (PlaceSpotOrder, {"type": OrderType.MARKET}, Code.BAD_PRICE),  # a market order takes no price
    (PlaceSpotOrder, {"type": OrderType.MARKET, "price": None, "tif": TimeInForce.GTX}, Code.BAD_TIME_IN_FORCE),
    (PlaceSpotOrder, {"qty": D("0.00008")}, Code.BELOW_MIN_NOTIONAL),  # 4.76 USDT < 5
    (PlaceSpotOrder, {"client_order_id": "mb"}, Code.DUPLICATE_CLIENT_ORDER_ID),  # 1's isolated bid has it
    (PlaceSpotOrder, {"client_order_id": "a" * 37}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceSpotOrder, {"client_order_id": "١٢"}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceSpotOrder, {"tif": TimeInForce.GTX, "price": D(61000)}, Code.POST_ONLY_WOULD_CROSS),
    (PlaceSpotOrder, {"tif": TimeInForce.FOK, "qty": D("0.50001"), "price": D(61000)}, Code.FOK_UNFILLABLE),
    (PlaceSpotOrder, {"qty": D(10)}, Code.INSUFFICIENT_BALANCE),  # 595,000 USDT from the wallet
    (PlaceSpotOrder, {"side": SELL, "price": D(70000)}, Code.INSUFFICIENT_BALANCE),  # 1's wallet has no BTC
    (PlaceSpotOrder, {"isolated": True, "qty": D(1)}, Code.INSUFFICIENT_BALANCE),  # 24,100 free; no MARGIN_BUY
    (
        PlaceSpotOrder,
        {"isolated": True, "side_effect": SideEffect.MARGIN_BUY, "qty": D(2)},
        Code.ABOVE_MAX_BORROWABLE,
    ),
    (CancelSpotOrder, {"order_id": 15}, Code.UNKNOWN_ORDER),  # 3's
    (CancelSpotOrder, {"order_id": 6}, Code.UNKNOWN_ORDER),  # 5's futures ask
    (CancelSpotOrder, {"order_id": True}, Code.UNKNOWN_ORDER),
    (CancelSpotOrder, {"order_id": None, "client_order_id": "sb"}, Code.UNKNOWN_ORDER),
    (CancelSpotOrder, {"order_id": None, "client_order_id": ["sa"]}, Code.UNKNOWN_ORDER),
    (CancelSpotOrder, {"order_id": None}, Code.UNKNOWN_ORDER),
    (CancelSpotOrder, {"account": 6}, Code.UNKNOWN_ACCOUNT),
    # options: which symbol (strike 0, a 13th month, an unknown family, not an option), which venue, when
    (ListOption, {"symbol": "BTC-USD-261225-0-C"}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"symbol": "BTC-USD-261345-100000-C"}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"symbol": "BTC-USD-261225-100000-X"}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"symbol": "XRP-USD-261225-1-C"}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"symbol": CALL}, Code.ALREADY_LISTED),
    (ListOption, {"symbol": BTC}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"symbol": FAMILY}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"symbol": None}, Code.UNKNOWN_SYMBOL),
    (ListOption, {"venue": "bybit"}, Code.UNKNOWN_SYMBOL),  # no option families
    (ListOption, {"ts": EXPIRY}, Code.OPTION_EXPIRED),
    (ListOption, {"maker_fee": SNAN}, Code.BAD_FEE),
    # option orders: OKX's bands (0.0001 up to 0.005, then 0.0005), whole contracts, the expiry, enums, ids
    (PlaceOptionOrder, {"price": D("0.0102")}, Code.BAD_PRICE),
    (PlaceOptionOrder, {"price": D("0.0051")}, Code.BAD_PRICE),
    (PlaceOptionOrder, {"price": D("0.00005")}, Code.BAD_PRICE),
    (PlaceOptionOrder, {"price": NAN}, Code.BAD_PRICE),
    (PlaceOptionOrder, {"price": D(0)}, Code.BAD_PRICE),
    (PlaceOptionOrder, {"price": D("-0.02")}, Code.BAD_PRICE),
    (PlaceOptionOrder, {"price": D("1E12")}, Code.BAD_PRICE),
    (PlaceOptionOrder, {"qty": D("0.5")}, Code.BAD_QUANTITY),
    (PlaceOptionOrder, {"qty": D(0)}, Code.BAD_QUANTITY),
    (PlaceOptionOrder, {"qty": D(-1)}, Code.BAD_QUANTITY),
    (PlaceOptionOrder, {"qty": SNAN}, Code.BAD_QUANTITY),
    (PlaceOptionOrder, {"qty": D("1E12")}, Code.BAD_QUANTITY),
    (PlaceOptionOrder, {"ts": EXPIRY}, Code.OPTION_EXPIRED),
    (PlaceOptionOrder, {"symbol": BTC}, Code.UNKNOWN_SYMBOL),  # a perpetual on an option command
    (PlaceOptionOrder, {"symbol": SPOT}, Code.UNKNOWN_SYMBOL),
    (PlaceOptionOrder, {"symbol": FAMILY}, Code.UNKNOWN_SYMBOL),
    (PlaceOptionOrder, {"symbol": "BTC-USD-261225-110000-C"}, Code.UNKNOWN_SYMBOL),  # not listed
    (PlaceOptionOrder, {"side": "BUY"}, Code.BAD_ENUM),
    (PlaceOptionOrder, {"tif": "GTC"}, Code.BAD_ENUM),
    (PlaceOptionOrder, {"reduce_only": 1}, Code.BAD_FLAG),
    (PlaceOptionOrder, {"client_order_id": "ob"}, Code.DUPLICATE_CLIENT_ORDER_ID),  # 3's resting bid
    (PlaceOptionOrder, {"client_order_id": "a" * 37}, Code.BAD_CLIENT_ORDER_ID),
    (PlaceOptionOrder, {"account": 6}, Code.UNKNOWN_ACCOUNT),
    (PlaceOptionOrder, {"account": 4}, Code.INSUFFICIENT_MARGIN),  # no BTC
    (PlaceOptionOrder, {"qty": D(10**6)}, Code.INSUFFICIENT_MARGIN),
    (
        PlaceOptionOrder,
        {"side": SELL, "qty": D(101), "price": D("0.04"), "reduce_only": True},
        Code.REDUCE_ONLY_REJECTED,
    ),  # 3 is long 100
    (PlaceOptionOrder, {"account": 5, "qty": D(101), "reduce_only": True}, Code.REDUCE_ONLY_REJECTED),  # short 100
    (PlaceOptionOrder, {"account": 1, "side": SELL, "reduce_only": True}, Code.REDUCE_ONLY_REJECTED),  # no position
    (PlaceOptionOrder, {"tif": TimeInForce.FOK}, Code.FOK_UNFILLABLE),
    (PlaceOptionOrder, {"tif": TimeInForce.GTX, "price": D("0.04")}, Code.POST_ONLY_WOULD_CROSS),
    (CancelOptionOrder, {"order_id": 21}, Code.UNKNOWN_ORDER),  # 5's
    (CancelOptionOrder, {"order_id": 5}, Code.UNKNOWN_ORDER),  # 1's futures bid
    (CancelOptionOrder, {"order_id": 15}, Code.UNKNOWN_ORDER),  # 3's spot bid
    (CancelOptionOrder, {"order_id": None, "client_order_id": "op"}, Code.UNKNOWN_ORDER),  # 5's client id
    (CancelOptionOrder, {"order_id": None}, Code.UNKNOWN_ORDER),
    (CancelOptionOrder, {"order_id": True}, Code.UNKNOWN_ORDER),
    (CancelOptionOrder, {"symbol": PUT}, Code.UNKNOWN_ORDER),  # the order is on the call
    (CancelOptionOrder, {"symbol": BTC}, Code.UNKNOWN_SYMBOL),
    (CancelOptionOrder, {"account": 6}, Code.UNKNOWN_ACCOUNT),
    # option margin: 5's pool holds 0.1301 against an IM of 0.13
    (AdjustOptionMargin, {"amount": D("-0.00010001")}, Code.ABOVE_MAX_REMOVABLE),
    (AdjustOptionMargin, {"amount": D(0)}, Code.BAD_AMOUNT),
    (AdjustOptionMargin, {"amount": D("-0")}, Code.BAD_AMOUNT),
    (AdjustOptionMargin, {"amount": SNAN}, Code.BAD_NUMBER),
    (AdjustOptionMargin, {"amount": D("1E12")}, Code.BAD_NUMBER),
    (AdjustOptionMargin, {"amount": D("0.000000001")}, Code.BAD_NUMBER),
    (AdjustOptionMargin, {"amount": D("1E11")}, Code.INSUFFICIENT_BALANCE),
    (AdjustOptionMargin, {"account": 3}, Code.NO_POSITION),  # a long has no pool
    (AdjustOptionMargin, {"symbol": PUT}, Code.NO_POSITION),
    (AdjustOptionMargin, {"symbol": BTC}, Code.UNKNOWN_SYMBOL),
    # marks: implied vols above 0 and at most 20, on listed options before their expiry; the family's index
    (SetOptionVol, {"iv": D(-1)}, Code.BAD_VOL),
    (SetOptionVol, {"iv": D(0)}, Code.BAD_VOL),
    (SetOptionVol, {"iv": NAN}, Code.BAD_VOL),
    (SetOptionVol, {"iv": D("20.00000001")}, Code.BAD_VOL),
    (SetOptionVol, {"iv": 0.5}, Code.BAD_VOL),
    (SetOptionVol, {"symbol": FAMILY}, Code.UNKNOWN_SYMBOL),
    (SetOptionVol, {"symbol": BTC}, Code.UNKNOWN_SYMBOL),
    (SetOptionVol, {"ts": EXPIRY}, Code.OPTION_EXPIRED),
    (SetMarkPrice, {"symbol": CALL, "mark": D(-1)}, Code.NOT_POSITIVE),
    (SetMarkPrice, {"symbol": CALL, "mark": D("1E-9")}, Code.BAD_NUMBER),
    (SetMarkPrice, {"symbol": FAMILY, "mark": D(0)}, Code.NOT_POSITIVE),
    (SetMarkPrice, {"symbol": "ETH-USD"}, Code.UNKNOWN_SYMBOL),  # a family with no option listed
    # settlement: at or after a listed expiry of a known family, at a positive price
    (SettleOptions, {"ts": EXPIRY - 1}, Code.BEFORE_EXPIRY),
    (SettleOptions, {"expiry": EXPIRY + 1, "ts": EXPIRY + 1}, Code.UNKNOWN_SYMBOL),
    (SettleOptions, {"expiry": -1}, Code.UNKNOWN_SYMBOL),
    (SettleOptions, {"expiry": True}, Code.UNKNOWN_SYMBOL),
    (SettleOptions, {"family": "ETH-USD"}, Code.UNKNOWN_SYMBOL),
    (SettleOptions, {"family": "XRP-USD"}, Code.UNKNOWN_SYMBOL),
    (SettleOptions, {"family": BTC}, Code.UNKNOWN_SYMBOL),
    (SettleOptions, {"family": None}, Code.UNKNOWN_SYMBOL),
    (SettleOptions, {"price": D(0)}, Code.NOT_POSITIVE),
    (SettleOptions, {"price": SNAN}, Code.BAD_NUMBER),
    (SettleOptions, {"price": D("1E12")}, Code.BAD_NUMBER),
    # … and an option on a futures or spot command: no such market
    (PlaceOrder, {"symbol": CALL}, Code.UNKNOWN_SYMBOL),
    (AdjustMargin, {"symbol": CALL}, Code.UNKNOWN_SYMBOL),
    (DeliverInstrument, {"symbol": CALL}, Code.UNKNOWN_SYMBOL),
    (ListInstrument, {"symbol": CALL}, Code.UNKNOWN_SYMBOL),
    (ListSpotPair, {"symbol": CALL}, Code.UNKNOWN_SYMBOL),
    (PlaceSpotOrder, {"symbol": CALL}, Code.UNKNOWN_SYMBOL),
    (MarginTransfer, {"symbol": CALL}, Code.UNKNOWN_SYMBOL),
    (CancelOrder, {"order_id": 20}, Code.UNKNOWN_ORDER),  # 3's option bid on a futures cancel
    (CancelSpotOrder, {"order_id": 21}, Code.UNKNOWN_ORDER),
]


def _named_id(case: tuple[type[Command], dict[str, Any], Code]) -> str:
    cls, override, _ = case
    return f"{cls.__name__}-" + "-".join(f"{k}={v!r:.24}" for k, v in override.items())


@pytest.mark.parametrize("case", NAMED, ids=[_named_id(c) for c in NAMED])
def test_named_hostile_value_is_rejected_with_its_code(case: tuple[type[Command], dict[str, Any], Code]) -> None:
    cls, override, code = case
    events = check_total(World().engine, _cmd(cls, **override))
    assert len(events) == 1 and isinstance(events[0], Rejected), events
    assert events[0].code is code, events[0]


# ------------------------------------------------------------------------------------------------ extreme but valid
LIMITS: list[tuple[type[Command], dict[str, Any], Code | None]] = [
    # money: at most 8 decimals, |amount| < 10^12
    (Deposit, {"amount": D("1E11")}, None),
    (Deposit, {"amount": D("999999999999.99999999")}, None),
    (Deposit, {"amount": D("1E12")}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("1E-8")}, None),
    (Deposit, {"amount": D("1E-9")}, Code.BAD_NUMBER),
    (Deposit, {"amount": D("100.000000000000000000000")}, None),  # trailing zeros are not decimals
    (Deposit, {"account": 4, "asset": "ABCDEFGHIJKL"}, None),  # 12 characters
    (Deposit, {"account": 4, "asset": "ABCDEFGHIJKLM"}, Code.BAD_ASSET),
    (FundInsurance, {"amount": D("1E11")}, None),
    (FundInsurance, {"amount": D("1E12")}, Code.BAD_NUMBER),
    (Withdraw, {"amount": D("1E11")}, Code.INSUFFICIENT_BALANCE),
    (Withdraw, {"amount": D("1E12")}, Code.BAD_NUMBER),
    (AdjustMargin, {"amount": D("-1E11")}, Code.ABOVE_MAX_REMOVABLE),
    (AdjustMargin, {"amount": D("-1E12")}, Code.BAD_NUMBER),
    # marks: same bounds; a mark far away liquidates, which the audit follows through
    (SetMarkPrice, {"mark": D("999999999999.99999999")}, None),
    (SetMarkPrice, {"mark": D("1E12")}, Code.BAD_NUMBER),
    (SetMarkPrice, {"mark": D("1E-8")}, None),
    (SetMarkPrice, {"mark": D("1E-9")}, Code.BAD_NUMBER),
    (SetMarkPrice, {"mark": D(60000), "index": D("999999999999.99999999")}, None),
    (SetMarkPrice, {"mark": D(60000), "index": D("1E12")}, Code.BAD_NUMBER),
    # funding: |rate| < 1, 8 decimals
    (SettleFunding, {"rate": D("0.99999999")}, None),
    (SettleFunding, {"rate": D("-0.99999999")}, None),
    (SettleFunding, {"rate": D("-0")}, None),
    (SettleFunding, {"rate": D(-1)}, Code.BAD_FUNDING_RATE),
    (SettleFunding, {"rate": D("0.999999999")}, Code.BAD_NUMBER),
    (SettleFunding, {"symbol": ETH, "rate": D("0.99999999")}, None),
    # fees |rate| < 1 and bands 0 < band < 1, each an exact ratio with at most 19 leading zeros
    (ListInstrument, {"maker_fee": D(0), "taker_fee": D("1E-19")}, None),
    (ListInstrument, {"maker_fee": D(0), "taker_fee": D("1E-20")}, Code.BAD_FEE),
    (ListInstrument, {"taker_fee": D("0.99999999")}, None),
    (ListInstrument, {"taker_fee": D(1)}, Code.BAD_FEE),
    (ListInstrument, {"maker_fee": D("-0.99999999")}, None),
    (ListInstrument, {"maker_fee": D("0.0005"), "taker_fee": D("0.0004")}, Code.BAD_FEE),  # maker above taker
    (ListInstrument, {"price_band": D("1E-19")}, None),
    (ListInstrument, {"price_band": D("1E-20")}, Code.BAD_PRICE_BAND),
    (ListInstrument, {"price_band": D(1)}, Code.BAD_PRICE_BAND),
    # leverage: whole numbers 1..1000, then the tier table
    (SetLeverage, {"leverage": 1}, None),
    (SetLeverage, {"leverage": 125}, None),
    (SetLeverage, {"leverage": 126}, Code.LEVERAGE_ABOVE_TIER_MAX),
    (SetLeverage, {"leverage": 1000}, Code.LEVERAGE_ABOVE_TIER_MAX),
    (SetLeverage, {"leverage": 1001}, Code.BAD_LEVERAGE),
    # accounts and timestamps
    (CreateAccount, {"account": MAX_ACCOUNT_ID}, None),
    (CreateAccount, {"account": MAX_ACCOUNT_ID + 1}, Code.BAD_ACCOUNT),
    (CreateAccount, {"account": 1}, Code.ACCOUNT_EXISTS),
    (Deposit, {"ts": 0}, None),
    (Deposit, {"ts": MAX_TS}, None),
    (Deposit, {"ts": MAX_TS + 1}, Code.BAD_TIMESTAMP),
    # orders: grid, bounds below 10^12, callback rates 0.1..10, client ids up to 36 characters
    (PlaceOrder, {"price": D("59500.0000000000000000000000")}, None),
    (PlaceOrder, {"price": D("5.95E+4")}, None),
    (
        PlaceOrder,
        {"account": 2, "side": SELL, "qty": D("0.01"), "price": D("999999999999.9"), "reduce_only": True},
        None,
    ),
    (
        PlaceOrder,
        {"account": 2, "side": SELL, "qty": D("0.01"), "price": D("1000000000000.1"), "reduce_only": True},
        Code.BAD_PRICE,
    ),
    (
        PlaceOrder,
        {"account": 2, "side": SELL, "qty": D("999999999999.999"), "price": D(63000), "reduce_only": True},
        None,
    ),
    (
        PlaceOrder,
        {"account": 2, "side": SELL, "qty": D("1000000000000.001"), "price": D(63000), "reduce_only": True},
        Code.BAD_QUANTITY,
    ),
    (
        PlaceOrder,
        {
            "account": 2,
            "side": SELL,
            "type": OrderType.MARKET,
            "qty": D("999999999999.999"),
            "price": None,
            "reduce_only": True,
        },
        None,
    ),
    (PlaceOrder, {"qty": D("999999999999.999")}, Code.ABOVE_MAX_TIER),
    (PlaceOrder, {"qty": D("0.001")}, Code.BELOW_MIN_NOTIONAL),
    (PlaceOrder, {"type": OrderType.TRAILING_STOP_MARKET, "price": None, "callback_rate": D("0.1")}, None),
    (PlaceOrder, {"type": OrderType.TRAILING_STOP_MARKET, "price": None, "callback_rate": D(10)}, None),
    (
        PlaceOrder,
        {"type": OrderType.TRAILING_STOP_MARKET, "price": None, "callback_rate": D("0.09999999")},
        Code.BAD_CALLBACK_RATE,
    ),
    (PlaceOrder, {"type": OrderType.TRAILING_STOP_MARKET, "price": None, "callback_rate": D("0.1000")}, None),
    (PlaceOrder, {"client_order_id": "a" * 36}, None),
    (PlaceOrder, {"client_order_id": "١٢\u200b🚀"}, None),  # any 1..36 characters
    (AmendOrder, {"qty": D("0.05")}, None),
    (AmendOrder, {"qty": D("999999999999.999")}, Code.ABOVE_MAX_TIER),
    # spot and isolated margin at their bounds (World: 1 holds 30,000 USDT against 20,000.2 owed, 24,100 free;
    # 2 holds 0.6 BTC against 0.100001 owed, 0.3 free)
    (ListSpotPair, {"symbol": "eth-usdt"}, None),  # spelt loosely, listed as ETH-USDT
    (ListSpotPair, {"symbol": "ETH-USDT", "venue": " OKX "}, None),
    (ListSpotPair, {"maker_fee": D(0), "taker_fee": D(0)}, None),
    (ListSpotPair, {"maker_fee": D("0.001"), "taker_fee": D("0.001")}, None),
    (ListSpotPair, {"price_band": D("0.99999999")}, None),
    (MarginTransfer, {"amount": D("1E-8")}, None),
    (MarginTransfer, {"account": 2, "asset": "BTC", "amount": D("-0.3")}, None),  # 0.3 BTC left ≥ 2 × 0.100001
    (MarginTransfer, {"account": 3, "amount": D("1E11")}, Code.INSUFFICIENT_BALANCE),
    (Borrow, {"amount": D(50000)}, None),  # exactly the limit left
    (Borrow, {"amount": D("1E-8")}, None),
    (Repay, {"amount": D("20000.2")}, None),  # all of it, interest first
    (Repay, {"amount": None}, None),
    (Repay, {"account": 2, "asset": "BTC", "amount": None}, None),
    (Repay, {"amount": D("1E-8")}, None),
    (SetBorrowRate, {"daily_rate": D("0.1")}, None),
    (SetBorrowRate, {"daily_rate": D("1E-12")}, None),
    (SetBorrowRate, {"daily_rate": D(0)}, None),
    (SetBorrowRate, {"daily_rate": D("0.100000000000")}, None),
    (AccrueInterest, {"ts": 0}, None),
    (AccrueInterest, {"ts": MAX_TS}, None),  # 2.5 × 10^12 hours: the loans are liquidated
    (SetMarkPrice, {"symbol": SPOT, "mark": D("1E-8")}, None),
    (SetMarkPrice, {"symbol": SPOT, "mark": D("999999999999.99999999")}, None),
    (SetMarkPrice, {"symbol": SPOT, "mark": D(60000), "index": D("999999999999.99999999")}, None),
    (SetMarkPrice, {"symbol": SPOT, "mark": D("1E12")}, Code.BAD_NUMBER),
    (PlaceSpotOrder, {"qty": D("0.00009")}, None),  # 5.355 USDT
    (PlaceSpotOrder, {"tif": TimeInForce.FOK, "qty": D("0.5"), "price": D(61000)}, None),  # 5's whole ask
    (PlaceSpotOrder, {"type": OrderType.MARKET, "price": None, "qty": D("0.5")}, None),
    (PlaceSpotOrder, {"type": OrderType.MARKET, "price": None, "qty": D("999999999999.99999")}, None),
    (PlaceSpotOrder, {"price": D("999999999999.99")}, Code.INSUFFICIENT_BALANCE),
    (PlaceSpotOrder, {"price": D("0.01"), "qty": D(500)}, None),
    (PlaceSpotOrder, {"isolated": True, "side_effect": SideEffect.MARGIN_BUY, "qty": D(1)}, None),  # borrows 35,400
    (PlaceSpotOrder, {"isolated": True, "side_effect": SideEffect.AUTO_BORROW_REPAY, "qty": D("0.4")}, None),
    (PlaceSpotOrder, {"client_order_id": "a" * 36}, None),
    (PlaceSpotOrder, {"client_order_id": "sa"}, None),  # 5's, not 1's
    (CancelSpotOrder, {"order_id": None, "client_order_id": "sa"}, None),
    (CancelSpotOrder, {"account": 1, "order_id": 16}, None),
    # options at their bounds: the tick bands' edges, the whole removable margin, the vol's range, the expiry
    (ListOption, {"symbol": "btc-usd-261225-110000-c", "venue": "OKX"}, None),  # spelt loosely
    (ListOption, {"symbol": "BTC-261225-100000-C", "venue": "binance"}, None),  # next to the BTCUSDT perpetual
    (ListOption, {"ts": EXPIRY - 1}, None),
    (PlaceOptionOrder, {"price": D("0.005")}, None),  # the last 0.0001 step
    (PlaceOptionOrder, {"price": D("0.0055")}, None),  # the first 0.0005 step
    (PlaceOptionOrder, {"price": D("0.0001")}, None),
    (PlaceOptionOrder, {"ts": EXPIRY - 1}, None),
    (PlaceOptionOrder, {"side": SELL, "qty": D(70), "price": D("0.04"), "reduce_only": True}, None),
    (PlaceOptionOrder, {"side": SELL, "qty": D(100), "price": D("0.04"), "reduce_only": True}, None),
    (PlaceOptionOrder, {"account": 5, "qty": D(100), "reduce_only": True}, None),
    (PlaceOptionOrder, {"client_order_id": "op"}, None),  # 5's, not 3's
    (PlaceOptionOrder, {"client_order_id": "a" * 36}, None),
    (PlaceOptionOrder, {"tif": TimeInForce.IOC}, None),  # nothing to meet: cancelled, the hold released
    (PlaceOptionOrder, {"side": SELL, "qty": D(50), "price": D("0.025"), "tif": TimeInForce.FOK}, None),  # 3's bid
    (CancelOptionOrder, {"order_id": None, "client_order_id": "ob"}, None),
    (CancelOptionOrder, {"account": 5, "symbol": PUT, "order_id": 21}, None),
    (AdjustOptionMargin, {"amount": D("-0.0001")}, None),  # all that is removable
    (AdjustOptionMargin, {"amount": D("1E-8")}, None),
    (SetOptionVol, {"iv": D(20)}, None),
    (SetOptionVol, {"iv": D("1E-8")}, None),
    (SetOptionVol, {"ts": EXPIRY - 1}, None),
    (SetMarkPrice, {"symbol": CALL, "mark": D("1E-8")}, None),
    (SetMarkPrice, {"symbol": CALL, "mark": D("0.4")}, None),  # far past 5's bankruptcy: liquidated in full
    (SetMarkPrice, {"symbol": FAMILY, "mark": D("999999999999.99999999")}, None),
    (SettleOptions, {"ts": MAX_TS}, None),
    (SettleOptions, {"price": D("1E-8")}, None),
    (SettleOptions, {"price": D("999999999999.99999999")}, None),
]


def _limit_id(case: tuple[type[Command], dict[str, Any], Code | None]) -> str:
    cls, override, code = case
    return f"{cls.__name__}-" + "-".join(f"{k}={v!r:.30}" for k, v in override.items()) + f"->{code or 'ok'}"


@pytest.mark.parametrize("case", LIMITS, ids=[_limit_id(c) for c in LIMITS])
def test_extreme_values_are_accepted_or_refused_at_the_stated_bounds(
    case: tuple[type[Command], dict[str, Any], Code | None],
) -> None:
    cls, override, code = case
    events = check_total(World().engine, _cmd(cls, **override))
    rejected = [ev for ev in events if isinstance(ev, Rejected)]
    if code is None:
        assert not rejected, rejected
    else:
        assert rejected and rejected[0].code is code, events


def test_every_venue_lists_its_symbols_or_refuses_them_cleanly() -> None:
    from isomargin.venues import VENUES, get_profile

    for venue in VENUES:
        for symbol in get_profile(venue).symbols:
            check_total(World().engine, ListInstrument(symbol, venue=venue))


class _SubclassedDeposit(Deposit):
    pass


@pytest.mark.parametrize(
    "thing", [Command(), _SubclassedDeposit(1, "USDT", D(1)), None, {}, 5, "Deposit", Deposit], ids=repr
)
def test_what_is_not_an_engine_command_is_refused_as_unknown_command(thing: object) -> None:
    engine = World().engine
    before = state_hash(engine)
    events = engine.apply(thing)  # type: ignore[arg-type]
    assert len(events) == 1 and isinstance(events[0], Rejected) and events[0].code is Code.UNKNOWN_COMMAND
    assert state_hash(engine) == before and engine.failed is None
    if isinstance(thing, Command):
        check_total(engine, thing)


@pytest.mark.parametrize(
    ("venue", "maker", "taker", "band"),
    [
        ("binance", D("-0.99999999"), D("0.99999999"), D("0.99999999")),
        ("binance", D("0." + "9" * 24), D("0." + "9" * 24), D("1E-19")),
        ("okx", D("-1E-19"), D("1E-19"), D("0." + "9" * 24)),
        ("hyperliquid", D(0), D(0), D("0.0000001")),
        ("dydx", D("-0.5"), D("0.1" + "0" * 22 + "1"), D("0.05")),
        ("simple", D("1E-19"), D("0.0004"), D("0.99999999")),
    ],
)
def test_extreme_accepted_fees_and_bands_trade_cleanly(
    venue: str, maker: Decimal, taker: Decimal, band: Decimal
) -> None:
    """Fee rates just inside ±1 (rebates included) with up to 24 decimals and price bands from 10^-19 to almost 1 are
    accepted; trading, funding and far marks on such a market stay within the contract and the audit."""
    engine = World().engine
    listed = check_total(
        engine, ListInstrument("SOLUSDT", venue=venue, maker_fee=maker, taker_fee=taker, price_band=band)
    )
    assert not isinstance(listed[0], Rejected), listed
    inst = queries.instrument(engine, "SOLUSDT")
    assert inst is not None
    step = inst.spec.step_size
    lot = max(step, (D(50) / D(150) / step).to_integral_value() * step)  # about 50 USDT
    sol = "SOLUSDT"
    for cmd in [
        SetMarkPrice(sol, D(150)),
        PlaceOrder(1, sol, SELL, OrderType.LIMIT, lot * 3, D(150)),
        PlaceOrder(2, sol, BUY, OrderType.MARKET, lot),
        PlaceOrder(5, sol, BUY, OrderType.LIMIT, lot, D(150)),
        SetMarkPrice(sol, D(100)),
        SettleFunding(sol, D("0.5")),
        PlaceOrder(2, sol, SELL, OrderType.MARKET, lot, reduce_only=True),
        SetMarkPrice(sol, D(1000)),
        SetMarkPrice(sol, D("0.0001")),
        CancelAllOrders(1, sol),
    ]:
        check_total(engine, cmd)
    check_restores(engine)


# ------------------------------------------------------------------------------------------------ regressions
# Each of these failed before its engine fix (found by the property tests above).
@pytest.mark.parametrize(
    "rate", [D("0.1000000000000000000000000001"), D("1.0000000000000000000000001"), D("0." + "1" * 40)]
)
def test_callback_rate_with_many_decimals_is_refused_as_bad_callback_rate(rate: Decimal) -> None:
    cmd = _cmd(PlaceOrder, type=OrderType.TRAILING_STOP_MARKET, price=None, callback_rate=rate)
    engine = World().engine
    before = state_hash(engine)
    events = engine.apply(cmd)
    assert state_hash(engine) == before
    assert isinstance(events[0], Rejected) and events[0].code is Code.BAD_CALLBACK_RATE, events


def test_allocated_account_ids_stay_within_the_explicit_bound() -> None:
    engine = World().engine
    check_total(engine, CreateAccount(MAX_ACCOUNT_ID))
    events = check_total(engine, CreateAccount(None))
    created = [ev.account for ev in events if not isinstance(ev, Rejected)]  # type: ignore[attr-defined]
    assert all(0 < acct <= MAX_ACCOUNT_ID for acct in created), created


@pytest.mark.parametrize(
    "override",
    [
        {"account": 2, "side": SELL, "qty": D("0.01"), "price": D("1E12"), "reduce_only": True},
        {"account": 2, "side": SELL, "qty": D("1E12"), "price": D(63000), "reduce_only": True},
        {
            "account": 2,
            "side": SELL,
            "type": OrderType.TAKE_PROFIT_MARKET,
            "qty": None,
            "price": None,
            "stop_price": D("1E12"),
            "close_position": True,
        },
    ],
    ids=["price", "qty", "stop_price"],
)
def test_order_numbers_of_exactly_10_to_the_12_are_refused_like_money(override: dict[str, Any]) -> None:
    events = check_total(World().engine, _cmd(PlaceOrder, **override))
    assert isinstance(events[0], Rejected), events


@pytest.mark.parametrize("ts", [b"1", D("NaN"), D(5), float("nan"), {1, 2}], ids=repr)
def test_rejected_bad_timestamp_event_is_json_ready(ts: object) -> None:
    events = World().engine.apply(_cmd(Deposit, ts=ts))
    assert isinstance(events[0], Rejected) and events[0].code is Code.BAD_TIMESTAMP
    json.dumps(events[0].to_dict(), allow_nan=False)


@pytest.mark.parametrize("thing", [None, {}, 5, "Deposit"], ids=repr)
def test_rejected_non_command_event_is_json_ready(thing: object) -> None:
    events = World().engine.apply(thing)  # type: ignore[arg-type]
    json.dumps(events[0].to_dict(), allow_nan=False)
