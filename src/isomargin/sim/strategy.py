"""The strategy API: subclass `Strategy`, implement `on_bar(ctx)` (and optionally `on_start`/`on_end`).

`ctx` gives the bar, the close history, the account (wallet, equity, position, liquidation price) and
order methods (buy/sell/close/limit/stop_loss/take_profit/add_margin/cancel_all) that go straight into
the engine; on a spot pair `ctx.spot` (sim/spot.py) trades its isolated margin account, in an options run
`ctx.options` (sim/options_leg.py) its options. Built-ins: BuyAndHold, MACross, Grid, SpotMarginLong,
ShortStrangle, CoveredCall; `load_strategy("module:Class")` loads any other.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from isomargin.engine import (
    AdjustMargin,
    CancelAllOrders,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    WorkingType,
    queries,
)
from isomargin.engine.events import Event, Rejected
from isomargin.margin.inverse import contracts_of, face_value
from isomargin.sim.errors import SimError
from isomargin.sim.options_leg import OptionsDesk
from isomargin.sim.runner import Simulation, dec
from isomargin.sim.spot import SpotMargin

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Bar:
    index: int
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    size: Decimal  # signed
    entry: Decimal
    isolated: bool
    margin: Decimal  # isolated margin (0 for cross)
    liquidation_price: Decimal | None  # isolated: the engine's exact price; cross: None (depends on the account)
    leverage: int


class Context:
    """What a strategy sees and can do at a bar's close."""

    def __init__(self, sim: Simulation, account: int, symbol: str) -> None:
        self.sim = sim
        self.account = account
        self.symbol = symbol
        self.i = 0
        self._closes = sim.bars[symbol].close
        self.spot: SpotMargin | None = None  # a spot-margin run's isolated margin account on `symbol`
        self.options: OptionsDesk | None = None  # an options run's option orders and positions

    # -- market --------------------------------------------------------------------------------------
    @property
    def bar(self) -> Bar:
        b = self.sim.bars[self.symbol]
        i = self.i
        return Bar(
            i, int(b.ts[i]), float(b.open[i]), float(b.high[i]), float(b.low[i]), float(b.close[i]), float(b.volume[i])
        )

    @property
    def price(self) -> float:
        return float(self._closes[self.i])

    @property
    def closes(self) -> npt.NDArray[np.float64]:
        """Closes up to and including this bar (a view, no copy)."""
        return self._closes[: self.i + 1]

    def mark(self, symbol: str | None = None) -> Decimal:
        return self.sim.marks[symbol or self.symbol]

    # -- account -------------------------------------------------------------------------------------
    @property
    def asset(self) -> str:
        """What the account holds and every money figure is in: USDT, or the coin of an inverse contract."""
        return self.sim.asset(self.account)

    @property
    def inverse(self) -> bool:
        """Whether the traded symbol is coin-margined (sizes are face value in USD, money in the coin)."""
        return self.sim.inverse[self.symbol]

    @property
    def wallet(self) -> Decimal:
        return queries.wallet(self.sim.engine, self.account, self.asset)

    @property
    def available(self) -> Decimal:
        return queries.available(self.sim.engine, self.account, self.asset)

    @property
    def equity(self) -> Decimal:
        return self.sim.equity(self.account)

    @property
    def leverage(self) -> int:
        return queries.setting(self.sim.engine, self.account, self.symbol)[1]

    def position(self, symbol: str | None = None) -> PositionView | None:
        sym = symbol or self.symbol
        view = queries.position(self.sim.engine, self.account, sym)
        if view is None:
            return None
        isolated = view["margin_mode"] is MarginMode.ISOLATED
        return PositionView(
            sym,
            view["size"],
            view["entry_price"],
            isolated,
            view["isolated_margin"],
            view["liquidation_exact"] if isolated else None,
            view["leverage"],
        )

    def size(self, symbol: str | None = None) -> Decimal:
        """Signed position size (0 when flat), cheaply (kept from the engine's PositionUpdated events)."""
        return self.sim.size(self.account, symbol or self.symbol)

    @property
    def open_orders(self) -> int:
        return int(queries.account(self.sim.engine, self.account)["open_orders"])

    # -- orders --------------------------------------------------------------------------------------
    def qty_for(self, margin: Decimal | float, symbol: str | None = None) -> Decimal:
        """Size whose initial margin at the current mark is `margin` (rounded down to the step). Linear: margin
        × leverage / mark in the base asset; inverse: `margin` is in the coin and the size is face value in USD,
        margin × leverage × mark, rounded down to whole contracts."""
        sym = symbol or self.symbol
        inst = self.sim.instrument(sym)
        m = margin if isinstance(margin, Decimal) else dec(float(margin))
        lev = queries.setting(self.sim.engine, self.account, sym)[1]
        mark = self.sim.marks[sym]
        size = m * lev * mark if inst.inverse else m * lev / mark
        lots = (size / inst.step).to_integral_value(rounding=ROUND_FLOOR)
        return lots * inst.step

    def contracts(self, n: Decimal | float | int, symbol: str | None = None) -> Decimal:
        """The size of `n` whole contracts of an inverse symbol (n × contract size, face value in USD); a
        fractional count is refused (`not_whole_contracts`), never rounded."""
        sym = symbol or self.symbol
        spec = self.sim.instrument(sym).spec
        if not spec.inverse:
            raise SimError("not_inverse", f"{sym} is linear: give its size with qty (base asset), not contracts")
        count = n if isinstance(n, Decimal) else Decimal(repr(n)) if isinstance(n, float) else Decimal(n)
        return face_value(count, spec.contract_size)

    def _send(self, cmd: PlaceOrder | AdjustMargin | CancelAllOrders) -> bool:
        events: list[Event] = self.sim.apply(cmd)
        return not (events and isinstance(events[0], Rejected))

    def order(
        self,
        side: OrderSide,
        qty: Decimal | None = None,
        *,
        margin: Decimal | float | None = None,
        symbol: str | None = None,
        reduce_only: bool = False,
    ) -> bool:
        sym = symbol or self.symbol
        if qty is None:
            if margin is None:
                raise SimError("bad_order", "give qty or margin")
            qty = self.qty_for(margin, sym)
        if qty <= 0:
            return False
        return self._send(
            PlaceOrder(self.account, sym, side, OrderType.MARKET, qty=qty, reduce_only=reduce_only, ts=self.sim.ts)
        )

    def buy(
        self, qty: Decimal | None = None, *, margin: Decimal | float | None = None, symbol: str | None = None
    ) -> bool:
        return self.order(OrderSide.BUY, qty, margin=margin, symbol=symbol)

    def sell(
        self, qty: Decimal | None = None, *, margin: Decimal | float | None = None, symbol: str | None = None
    ) -> bool:
        return self.order(OrderSide.SELL, qty, margin=margin, symbol=symbol)

    def close(self, symbol: str | None = None) -> bool:
        size = self.size(symbol)
        if not size:
            return False
        side = OrderSide.SELL if size > 0 else OrderSide.BUY
        return self.order(side, abs(size), symbol=symbol, reduce_only=True)

    def limit(
        self,
        side: OrderSide,
        qty: Decimal,
        price: Decimal | float,
        symbol: str | None = None,
        reduce_only: bool = False,
    ) -> bool:
        sym = symbol or self.symbol
        p = self._tick(price, sym, side is OrderSide.BUY)
        return self._send(
            PlaceOrder(
                self.account, sym, side, OrderType.LIMIT, qty=qty, price=p, reduce_only=reduce_only, ts=self.sim.ts
            )
        )

    def stop_loss(self, price: Decimal | float, symbol: str | None = None) -> bool:
        """A close-position stop-market on the mark price (what venues call a stop-loss)."""
        return self._conditional(OrderType.STOP_MARKET, price, symbol)

    def take_profit(self, price: Decimal | float, symbol: str | None = None) -> bool:
        return self._conditional(OrderType.TAKE_PROFIT_MARKET, price, symbol)

    def _conditional(self, kind: OrderType, price: Decimal | float, symbol: str | None) -> bool:
        sym = symbol or self.symbol
        size = self.size(sym)
        if not size:
            return False
        side = OrderSide.SELL if size > 0 else OrderSide.BUY
        long_stop = (kind is OrderType.STOP_MARKET) == (size > 0)  # long stop below: round down
        p = self._tick(price, sym, not long_stop)
        return self._send(
            PlaceOrder(
                self.account,
                sym,
                side,
                kind,
                stop_price=p,
                close_position=True,
                working_type=WorkingType.MARK_PRICE,
                ts=self.sim.ts,
            )
        )

    def add_margin(self, amount: Decimal | float, symbol: str | None = None) -> bool:
        a = amount if isinstance(amount, Decimal) else dec(float(amount))
        return self._send(AdjustMargin(self.account, symbol or self.symbol, a, ts=self.sim.ts))

    def cancel_all(self, symbol: str | None = None) -> bool:
        return self._send(CancelAllOrders(self.account, symbol or self.symbol, ts=self.sim.ts))

    def _tick(self, price: Decimal | float, sym: str, down: bool) -> Decimal:
        tick = self.sim.instrument(sym).tick
        p = price if isinstance(price, Decimal) else dec(float(price))
        n = (p / tick).to_integral_value(rounding=ROUND_FLOOR if down else ROUND_CEILING)
        return max(n, Decimal(1)) * tick


class Strategy:
    """Base class: override `on_bar`; `on_start` runs once before the first bar's close is acted on. `product` is
    what it trades: "perp" (ctx's order methods) or "spot-margin" (`ctx.spot`)."""

    product: ClassVar[str] = "perp"

    def on_start(self, ctx: Context) -> None:
        """Called once, at the first bar's open price, before any bar is walked."""

    def on_bar(self, ctx: Context) -> None:
        """Called after each bar's close."""

    def on_end(self, ctx: Context) -> None:
        """Called after the last bar."""

    def schedule(self, ctx: Context) -> Callable[[int], int] | None:
        """When `on_bar` must run, asked once after `on_start`: None (the default) after every bar; a vectorised
        strategy returns `due(i)`, the first bar at or after i where it may act, and is then called only there
        and at bars where the engine did something (a fill, a liquidation, funding, a stop)."""
        return None


@dataclass(frozen=True)
class Signals:
    """Per-bar signals, vectorbt `from_signals` style: boolean arrays of long/short entries and exits (None: no
    such signal). On a bar with an entry and an exit of the same side, the entry wins; an exit closes only its
    side. `target()` is the wanted position per bar: 1 long, −1 short, 0 flat."""

    entries: Any
    exits: Any = None
    short_entries: Any = None
    short_exits: Any = None

    def target(self) -> npt.NDArray[np.int8]:
        n = len(self.entries)

        def last(a: Any) -> npt.NDArray[np.int64]:  # index of the latest True at or before each bar, −1 for none
            if a is None:
                return np.full(n, -1, dtype=np.int64)
            m = np.asarray(a, dtype=bool)
            if len(m) != n:
                raise SimError("bad_signals", f"signal arrays must all have {n} bars, got {len(m)}")
            idx = np.where(m, np.arange(n), -1)
            return np.maximum.accumulate(idx)

        long_in, long_out = last(self.entries), last(self.exits)
        short_in, short_out = last(self.short_entries), last(self.short_exits)
        out = np.zeros(n, dtype=np.int8)
        is_long = (long_in >= 0) & (long_in >= short_in) & (long_out < long_in)
        is_short = (short_in >= 0) & (short_in > long_in) & (short_out < short_in)
        out[is_long] = 1
        out[is_short] = -1
        return out


class SignalStrategy(Strategy):
    """A vectorised strategy: `signals(ctx)` computes, once, the wanted position per bar (a `Signals` or an array
    of 1/0/−1) from the whole path with numpy; the loop calls Python only where that changes (or while a wanted
    position is missing: rejected, stopped out, liquidated), so a quiet stretch costs no per-bar call. Entries
    use `fraction` of the wallet as margin (`sizes`: an optional per-bar fraction array), at the account's
    leverage, with an optional mark-price stop `stop` (a fraction from the entry bar's close)."""

    fraction: Decimal = Decimal("0.2")
    stop: float = 0.0
    sizes: Any = None

    def signals(self, ctx: Context) -> Signals | npt.NDArray[Any]:
        raise NotImplementedError

    def on_start(self, ctx: Context) -> None:
        sig = self.signals(ctx)
        target = sig.target() if isinstance(sig, Signals) else np.sign(np.asarray(sig)).astype(np.int8)
        n = len(ctx.sim.bars[ctx.symbol])
        if len(target) != n:
            raise SimError("bad_signals", f"signals cover {len(target)} bars but the path has {n}")
        self.target = target
        first = [0] if n and target[0] != 0 else []
        self.changes = np.concatenate((np.asarray(first, dtype=np.int64), np.flatnonzero(np.diff(target)) + 1))
        self.state = 0
        self._n = n

    def schedule(self, ctx: Context) -> Callable[[int], int] | None:
        changes, n = self.changes, self._n

        def due(i: int) -> int:
            if self.state != 0 and not ctx.size():
                return i  # a wanted position is missing: try again at this bar's close
            k = int(np.searchsorted(changes, i))
            return int(changes[k]) if k < len(changes) else n

        return due

    def on_bar(self, ctx: Context) -> None:
        want = int(self.target[ctx.i])
        if want == self.state and (self.state == 0 or ctx.size()):
            return
        if ctx.size():
            ctx.cancel_all()
            ctx.close()
        self.state = want
        if want == 0:
            return
        frac = self.fraction if self.sizes is None else dec(float(self.sizes[ctx.i]))
        margin = ctx.wallet * frac
        ok = ctx.buy(margin=margin) if want > 0 else ctx.sell(margin=margin)
        if ok and self.stop > 0:
            ctx.stop_loss(ctx.price * (1 - want * self.stop))


class BuyAndHold(Strategy):
    """Go long (or short) once with `fraction` of the wallet as margin at the account's leverage, or with a fixed
    size: `qty` (the symbol's quantity: base asset, or face value in USD for an inverse contract) or `contracts`
    (inverse only); optional stop `stop` as a fraction below (above for a short) the entry. An inverse size that
    is not a whole number of contracts is refused (`not_whole_contracts`)."""

    def __init__(
        self,
        fraction: float = 0.5,
        stop: float = 0.0,
        side: str = "long",
        qty: float | str | None = None,
        contracts: float | str | None = None,
    ) -> None:
        if side not in ("long", "short"):
            raise SimError("bad_parameter", f"side must be long or short, got {side!r}")
        if qty is not None and contracts is not None:
            raise SimError("bad_parameter", "give qty or contracts, not both")
        self.fraction = fraction
        self.stop = stop
        self.side = side
        self.qty = None if qty is None else _param_decimal(qty, "qty")
        self.n_contracts = None if contracts is None else _param_decimal(contracts, "contracts")

    def _size(self, ctx: Context) -> Decimal | None:
        if self.n_contracts is not None:
            return ctx.contracts(self.n_contracts)
        if self.qty is not None and ctx.inverse:
            spec = ctx.sim.instrument(ctx.symbol).spec
            contracts_of(self.qty, spec.contract_size)  # whole contracts or a clear error
        return self.qty

    def on_start(self, ctx: Context) -> None:
        size = self._size(ctx)
        margin = None if size is not None else ctx.wallet * Decimal(repr(self.fraction))
        if self.side == "short":
            ctx.sell(size, margin=margin)
        else:
            ctx.buy(size, margin=margin)
        pos = ctx.position()
        if pos is not None and self.stop > 0:
            sign = 1 if pos.size > 0 else -1
            ctx.stop_loss(float(pos.entry) * (1 - sign * self.stop))


class MACross(SignalStrategy):
    """Long when the fast moving average of closes is above the slow one, short when not (close, then open);
    each entry uses `fraction` of the wallet as margin. Vectorised: the averages are computed once with numpy
    and Python runs only at crosses (`MACrossBars` is the same rule as a per-bar callback)."""

    def __init__(self, fast: int = 20, slow: int = 50, fraction: float = 0.2, stop: float = 0.0) -> None:
        if not 0 < fast < slow:
            raise SimError("bad_parameter", "MACross needs 0 < fast < slow")
        self.fast, self.slow, self.fraction, self.stop = fast, slow, Decimal(repr(fraction)), stop
        self.state = 0

    def signals(self, ctx: Context) -> npt.NDArray[Any]:
        c = np.asarray(ctx.sim.bars[ctx.symbol].close, dtype=np.float64)
        out = np.zeros(len(c), dtype=np.int8)
        if len(c) < self.slow:
            return out
        win = np.lib.stride_tricks.sliding_window_view
        fast = win(c, self.fast).mean(axis=-1)[self.slow - self.fast :]
        slow = win(c, self.slow).mean(axis=-1)
        out[self.slow - 1 :] = np.where(fast > slow, 1, -1)
        return out


class MACrossBars(Strategy):
    """MACross as a per-bar callback (the stateful API): the same rule, averages recomputed at every bar."""

    def __init__(self, fast: int = 20, slow: int = 50, fraction: float = 0.2, stop: float = 0.0) -> None:
        if not 0 < fast < slow:
            raise SimError("bad_parameter", "MACross needs 0 < fast < slow")
        self.fast, self.slow, self.fraction, self.stop = fast, slow, Decimal(repr(fraction)), stop
        self.state = 0

    def on_bar(self, ctx: Context) -> None:
        i = ctx.i
        if i + 1 < self.slow:
            return
        c = ctx.closes
        fast = c[i + 1 - self.fast : i + 1].mean()
        slow = c[i + 1 - self.slow : i + 1].mean()
        want = 1 if fast > slow else -1
        if want == self.state and (self.state == 0 or ctx.size()):
            return
        if ctx.size():
            ctx.cancel_all()
            ctx.close()
        margin = ctx.wallet * self.fraction
        ok = ctx.buy(margin=margin) if want > 0 else ctx.sell(margin=margin)
        self.state = want
        if ok and self.stop > 0:
            ctx.stop_loss(ctx.price * (1 - want * self.stop))


class Grid(Strategy):
    """A long grid: one step of size `step` (a fraction of the start price) down buys a unit, one step up
    sells it; at most `levels` units; each unit's margin is `fraction` of the start wallet / levels."""

    def __init__(self, levels: int = 10, step: float = 0.005, fraction: float = 0.5) -> None:
        self.levels, self.step, self.fraction = levels, step, fraction
        self.center = 0.0
        self.unit = ZERO
        self.held = 0

    def on_start(self, ctx: Context) -> None:
        self.center = float(ctx.mark())
        self.unit = ctx.qty_for(ctx.wallet * Decimal(repr(self.fraction)) / self.levels)

    def on_bar(self, ctx: Context) -> None:
        if self.unit <= 0:
            return
        k = int((self.center - ctx.price) / (self.center * self.step))
        want = max(0, min(self.levels, k))
        held = int(ctx.size() / self.unit) if ctx.size() > 0 else 0
        if held != self.held:
            self.held = held  # liquidated or partially closed under us
        if (want > self.held and ctx.buy(self.unit * (want - self.held))) or (
            want < self.held and ctx.order(OrderSide.SELL, self.unit * (self.held - want), reduce_only=True)
        ):
            self.held = want


class SpotMarginLong(Strategy):
    """A leveraged long on a spot pair's isolated margin: at the start `fraction` of the wallet moves into the pair's
    margin account as collateral and a MARGIN_BUY market order buys `leverage` × that in base at the ask, borrowing
    the rest of the quote (interest: the first hour at once, then every whole UTC hour); held to the end, then sold
    with AUTO_REPAY and anything still owed repaid. `leverage` None: the run's `--leverage`."""

    product: ClassVar[str] = "spot-margin"

    def __init__(self, leverage: float | None = None, fraction: float = 1.0) -> None:
        self.leverage = None if leverage is None else _param_decimal(leverage, "leverage")
        if self.leverage is not None and self.leverage < 1:
            raise SimError("bad_parameter", f"leverage must be at least 1, got {leverage!r}")
        self.fraction = _param_decimal(fraction, "fraction")
        if self.fraction > 1:
            raise SimError("bad_parameter", f"fraction must be at most 1 (of the wallet), got {fraction!r}")

    def on_start(self, ctx: Context) -> None:
        spot = _spot(ctx)
        leverage = self.leverage or spot.leverage
        if leverage > spot.max_leverage:
            raise SimError("bad_leverage", f"{ctx.symbol} allows at most {spot.max_leverage}× on isolated margin")
        collateral = (ctx.wallet * self.fraction).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
        if not (spot.transfer(collateral) and spot.buy(quote=collateral * leverage)):
            why = ctx.sim.rejections[-1] if ctx.sim.rejections else {"code": "?", "message": "nothing bought"}
            ctx.sim.notes.append(f"spot-margin-long did not open: {why['code']}: {why['message']}")

    def on_end(self, ctx: Context) -> None:
        _spot(ctx).close()


def _spot(ctx: Context) -> SpotMargin:
    if ctx.spot is None:
        raise SimError("wrong_product", "a spot-margin strategy needs a spot-margin run (--product spot-margin)")
    return ctx.spot


class ShortStrangle(Strategy):
    """Sell `contracts` of an OTM call and an OTM put expiring `days` days out (the first 08:00 UTC after), the
    strikes `otm` (a fraction) away from the index or, with `delta`, at that |delta| (Black-76 on the run's IV),
    on a `step` grid; at each expiry (settled by the run at the path's price) sell the next pair. A liquidated
    leg is not re-sold before the expiry."""

    product: ClassVar[str] = "options"
    kinds: ClassVar[tuple[str, ...]] = ("C", "P")

    def __init__(self, contracts: int = 100, otm: float = 0.1, delta: float | None = None, days: int = 7,
                 step: int = 1000) -> None:  # fmt: skip
        self.contracts = _param_decimal(contracts, "contracts")
        if self.contracts != self.contracts.to_integral_value() or self.contracts < 1:
            raise SimError("bad_parameter", f"contracts must be a whole number of at least 1, got {contracts!r}")
        if delta is not None and not 0 < float(delta) < 0.5:
            raise SimError("bad_parameter", f"delta must be between 0 and 0.5 (an OTM option), got {delta!r}")
        if not 0 <= float(otm) < 1:
            raise SimError("bad_parameter", f"otm must be a fraction between 0 and 1, got {otm!r}")
        if int(days) < 1 or int(step) < 1:
            raise SimError("bad_parameter", "days and step must be at least 1")
        self.otm, self.delta, self.days, self.step = float(otm), delta, int(days), int(step)
        self.expiry: int | None = None
        self.sold: list[str] = []

    def on_start(self, ctx: Context) -> None:
        self._open(_options(ctx))

    def on_bar(self, ctx: Context) -> None:
        desk = _options(ctx)
        if self.expiry is not None and desk.leg.ts >= self.expiry:
            self._open(desk)

    def _open(self, desk: OptionsDesk) -> None:
        expiry = desk.expiry(self.days)
        self.expiry = expiry
        for kind in self.kinds:
            d = None if self.delta is None else float(self.delta)
            strike = desk.strike(kind, otm=self.otm, delta=d, expiry=expiry, step=self.step)
            sym = desk.option(expiry, strike, kind)
            if desk.sell_to_open(sym, self.contracts):
                self.sold.append(sym)


class CoveredCall(ShortStrangle):
    """The call leg of `ShortStrangle` alone: on a coin-margined family the BTC wallet is the cover (the engine still
    holds the short's isolated margin), sold `otm` out (or at `delta`) each expiry, `contracts` at a time."""

    kinds: ClassVar[tuple[str, ...]] = ("C",)


def _options(ctx: Context) -> OptionsDesk:
    if ctx.options is None:
        raise SimError("wrong_product", "an options strategy needs an options run (--product options)")
    return ctx.options


def _param_decimal(value: object, what: str) -> Decimal:
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except ArithmeticError:
        raise SimError("bad_parameter", f"{what} must be a number, got {value!r}") from None
    if not d.is_finite() or d <= 0:
        raise SimError("bad_parameter", f"{what} must be a positive number, got {value!r}")
    return d


BUILTINS: dict[str, type[Strategy]] = {
    "buy-and-hold": BuyAndHold, "ma-cross": MACross, "ma-cross-bars": MACrossBars, "grid": Grid,
    "spot-margin-long": SpotMarginLong, "short-strangle": ShortStrangle,
    "covered-call": CoveredCall,
}  # fmt: skip


def load_strategy(spec: str, params: dict[str, Any] | None = None) -> Strategy:
    """`buy-and-hold`, `ma-cross`, `grid`, `package.module:Class` or `path/to/file.py:Class`."""
    params = params or {}
    cls: Any
    if spec in BUILTINS:
        cls = BUILTINS[spec]
    else:
        if ":" not in spec:
            raise SimError("bad_strategy", f"strategy {spec!r}: use module:Class or one of {', '.join(BUILTINS)}")
        mod_name, _, cls_name = spec.rpartition(":")
        try:
            if mod_name.endswith(".py"):
                path = Path(mod_name)
                if not path.exists():
                    raise SimError("bad_strategy", f"strategy file {mod_name} does not exist")
                loader = importlib.util.spec_from_file_location(path.stem, path)
                if loader is None or loader.loader is None:
                    raise SimError("bad_strategy", f"cannot load {mod_name}")
                module = importlib.util.module_from_spec(loader)
                sys.modules[path.stem] = module
                loader.loader.exec_module(module)
            else:
                module = importlib.import_module(mod_name)
        except SimError:
            raise
        except Exception as exc:
            raise SimError("bad_strategy", f"cannot import {mod_name!r}: {exc}") from None
        cls = getattr(module, cls_name, None)
        if cls is None or not inspect.isclass(cls):
            raise SimError("bad_strategy", f"{mod_name!r} has no class {cls_name!r}")
    if not (hasattr(cls, "on_bar") or hasattr(cls, "on_start")):
        raise SimError("bad_strategy", f"{spec!r} is not a strategy (no on_bar/on_start)")
    try:
        obj = cls(**params)
    except TypeError as exc:
        raise SimError("bad_strategy", f"{spec!r}: bad parameters: {exc}") from None
    return obj  # type: ignore[no-any-return]
