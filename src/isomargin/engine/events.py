"""Events: every change the engine makes, self-describing, with an envelope naming the command they answer.

Each event carries `env` (the command's sequence number, timestamp and the command itself: its kind, account and
client order id) and its `index` within the command's events. Fields are enums and exact values. The hot events
(order updates, trades, positions, the ledger) keep integers and an immutable `Grid` and expose exact Decimals as
properties, so building them costs no Decimal arithmetic; `to_dict` gives the JSON-ready form (decimals as
strings), `raw`/`from_raw` the journal's exact form.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any, ClassVar, NamedTuple

from isomargin.engine.codes import (
    AlertLevel,
    Code,
    LiquidationStep,
    OrderReason,
    OrderStatus,
    Posting,
    ShortfallReason,
)
from isomargin.engine.commands import (
    STP,
    Command,
    MarginMode,
    OrderSide,
    OrderType,
    PositionSide,
    TimeInForce,
    WorkingType,
)
from isomargin.engine.instruments import Grid
from isomargin.engine.ledger import PostingRow
from isomargin.engine.units import money

GridCache = Callable[[str], Grid]  # the codec's memo of grids by their spec string


class Envelope:
    """What every event of one command shares: the command's sequence number and the command itself."""

    __slots__ = ("command", "seq")

    def __init__(self, seq: int, command: Command) -> None:
        self.seq = seq
        self.command = command

    @property
    def ts(self) -> int | None:
        """The command's timestamp (None for something that is not a valid command: it was refused)."""
        value = getattr(self.command, "ts", None)
        return value if type(value) is int else None

    @property
    def kind(self) -> str:
        return type(self.command).__name__

    @property
    def account(self) -> int | None:
        value = getattr(self.command, "account", None)
        return value if type(value) is int else None

    @property
    def client_order_id(self) -> str | None:
        value = getattr(self.command, "client_order_id", None)
        return value if type(value) is str else None

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "command": self.kind, "cause_account": self.account,
                "cause_client_order_id": self.client_order_id}  # fmt: skip


def plain(value: Any) -> Any:
    """A field value as JSON-ready data: decimals as strings, enums by value (an order side by name: BUY, SELL),
    tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


class Event:
    """Base of every event: the envelope and the event's index among its command's events."""

    __slots__ = ("env", "index")
    PUBLIC: ClassVar[tuple[str, ...]] = ()  # the fields `to_dict` shows, in order

    env: Envelope
    index: int

    def public(self) -> tuple[str, ...]:
        """The fields `to_dict` shows, in order."""
        return self.PUBLIC

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": type(self).__name__, **self.env.to_dict(), "index": self.index}
        for name in self.public():
            out[name] = plain(getattr(self, name))
        return out

    def raw(self) -> dict[str, Any]:
        """Exact, JSON-ready fields for the journal (integers stay integers); the envelope is the record's."""
        return {name: plain(getattr(self, name)) for name in self.public()}

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.public())
        return f"{type(self).__name__}({body})"


# ----------------------------------------------------------------------------------------------- orders
class OrderSpec:
    """The fixed part of an order, shared by the live order and every event about it (immutable)."""

    __slots__ = (
        "_raw", "account", "activation_price", "callback_rate", "client_order_id", "close_position", "created",
        "grid", "id", "position_side", "reduce_only", "side", "stop_price", "stp", "symbol", "tif", "type",
        "working_type",
    )  # fmt: skip

    def __init__(
        self,
        id: int,
        account: int,
        grid: Grid,
        side: OrderSide,
        type: OrderType,
        tif: TimeInForce,
        stop_price: Decimal | None,
        reduce_only: bool,
        close_position: bool,
        position_side: PositionSide,
        client_order_id: str | None,
        working_type: WorkingType,
        stp: STP,
        created: int,
        callback_rate: Decimal | None,
        activation_price: Decimal | None,
    ) -> None:
        self.id = id
        self.account = account
        self.grid = grid
        self.symbol = grid.symbol
        self.side = side
        self.type = type
        self.tif = tif
        self.stop_price = stop_price
        self.reduce_only = reduce_only
        self.close_position = close_position
        self.position_side = position_side
        self.client_order_id = client_order_id
        self.working_type = working_type
        self.stp = stp
        self.created = created
        self.callback_rate = callback_rate
        self.activation_price = activation_price
        self._raw: dict[str, Any] | None = None

    def raw(self) -> dict[str, Any]:
        # Every event about an order carries its spec, and the journal encodes each one: the spec is immutable,
        # so its JSON-ready form is built once (spelled out field by field: `plain` per field cost ~8 µs).
        cached = self._raw
        if cached is None:
            cached = self._raw = {
                "id": self.id, "account": self.account, "side": int(self.side), "type": self.type._value_,
                "tif": self.tif._value_, "stop_price": _text(self.stop_price), "reduce_only": self.reduce_only,
                "close_position": self.close_position, "position_side": self.position_side._value_,
                "client_order_id": self.client_order_id, "working_type": self.working_type._value_,
                "stp": self.stp._value_, "created": self.created, "callback_rate": _text(self.callback_rate),
                "activation_price": _text(self.activation_price), "grid": self.grid.spec,
            }  # fmt: skip
        return dict(cached)  # a copy: callers may add to it

    @classmethod
    def from_raw(cls, r: dict[str, Any], grid: Grid) -> OrderSpec:
        return cls(
            r["id"], r["account"], grid, OrderSide(r["side"]), OrderType(r["type"]), TimeInForce(r["tif"]),
            _dec(r["stop_price"]), r["reduce_only"], r["close_position"], PositionSide(r["position_side"]),
            r["client_order_id"], WorkingType(r["working_type"]), STP(r["stp"]), r["created"],
            _dec(r["callback_rate"]), _dec(r["activation_price"]),
        )  # fmt: skip


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class OrderUpdated(Event):
    """An order's complete state after a change (Binance ORDER_TRADE_UPDATE in spirit)."""

    __slots__ = ("_cost", "_filled", "_lots", "_ticks", "reason", "spec", "status")
    PUBLIC = (
        "order_id", "account", "symbol", "client_order_id", "side", "type", "time_in_force", "status", "price",
        "stop_price", "qty", "filled", "avg_price", "reduce_only", "close_position", "position_side",
        "working_type", "callback_rate", "activation_price", "stp", "created", "reason",
    )  # fmt: skip

    def __init__(
        self,
        env: Envelope,
        index: int,
        spec: OrderSpec,
        status: OrderStatus,
        lots: int,
        filled: int,
        cost: int,
        ticks: int | None,
        reason: OrderReason | Code | None,
    ) -> None:
        self.env = env
        self.index = index
        self.spec = spec
        self.status = status
        self.reason = reason
        self._lots = lots
        self._filled = filled
        self._cost = cost
        self._ticks = ticks

    @property
    def order_id(self) -> Any:
        return self.spec.id

    @property
    def account(self) -> Any:
        return self.spec.account

    @property
    def symbol(self) -> Any:
        return self.spec.symbol

    @property
    def client_order_id(self) -> Any:
        return self.spec.client_order_id

    @property
    def side(self) -> Any:
        return self.spec.side

    @property
    def type(self) -> Any:
        return self.spec.type

    @property
    def time_in_force(self) -> Any:
        return self.spec.tif

    @property
    def stop_price(self) -> Any:
        return self.spec.stop_price

    @property
    def reduce_only(self) -> Any:
        return self.spec.reduce_only

    @property
    def close_position(self) -> Any:
        return self.spec.close_position

    @property
    def position_side(self) -> Any:
        return self.spec.position_side

    @property
    def working_type(self) -> Any:
        return self.spec.working_type

    @property
    def callback_rate(self) -> Any:
        return self.spec.callback_rate

    @property
    def activation_price(self) -> Any:
        return self.spec.activation_price

    @property
    def stp(self) -> Any:
        return self.spec.stp

    @property
    def created(self) -> Any:
        return self.spec.created

    @property
    def price(self) -> Decimal | None:
        return None if self._ticks is None else self.spec.grid.price(self._ticks)

    @property
    def qty(self) -> Decimal:
        return self.spec.grid.qty(self._lots)

    @property
    def filled(self) -> Decimal:
        return self.spec.grid.qty(self._filled)

    @property
    def avg_price(self) -> Decimal | None:
        """Σ fill notional / filled quantity, exact to 34 digits."""
        if not self._filled:
            return None
        return self.spec.grid.average(self._cost, self._filled)

    def raw(self) -> dict[str, Any]:
        return {"spec": self.spec.raw(), "status": self.status._value_, "lots": self._lots, "filled": self._filled,
                "cost": self._cost, "ticks": self._ticks, "reason": plain(self.reason)}  # fmt: skip

    @classmethod
    def from_raw(cls, env: Envelope, index: int, r: dict[str, Any], grids: GridCache) -> OrderUpdated:
        spec = OrderSpec.from_raw(r["spec"], grids(r["spec"]["grid"]))
        reason = None if r["reason"] is None else _reason(r["reason"])
        return cls(env, index, spec, OrderStatus(r["status"]), r["lots"], r["filled"], r["cost"], r["ticks"], reason)


def _reason(value: str) -> OrderReason | Code:
    """An order's reason: one of OrderReason, or the rejection code that expired a fired conditional order."""
    return OrderReason(value) if value in OrderReason._value2member_map_ else Code(value)


class Trade(Event):
    """One fill between a resting maker and a taker, with both sides' fee and realised PnL."""

    __slots__ = (
        "_lots",
        "_maker_fee",
        "_maker_pnl",
        "_taker_fee",
        "_taker_pnl",
        "_ticks",
        "grid",
        "maker_account",
        "maker_order_id",
        "taker_account",
        "taker_order_id",
        "taker_side",
        "trade_id",
    )  # fmt: skip
    PUBLIC = (
        "trade_id", "symbol", "price", "qty", "taker_side", "maker_order_id", "taker_order_id", "maker_account",
        "taker_account", "maker_fee", "taker_fee", "maker_realized_pnl", "taker_realized_pnl", "settle",
    )  # fmt: skip

    def __init__(
        self,
        env: Envelope,
        index: int,
        trade_id: int,
        grid: Grid,
        ticks: int,
        lots: int,
        taker_side: OrderSide,
        maker_order_id: int,
        taker_order_id: int,
        maker_account: int,
        taker_account: int,
        maker_fee: int,
        taker_fee: int,
        maker_pnl: int,
        taker_pnl: int,
    ) -> None:
        self.env = env
        self.index = index
        self.trade_id = trade_id
        self.grid = grid
        self._ticks = ticks
        self._lots = lots
        self.taker_side = taker_side
        self.maker_order_id = maker_order_id
        self.taker_order_id = taker_order_id
        self.maker_account = maker_account
        self.taker_account = taker_account
        self._maker_fee = maker_fee
        self._taker_fee = taker_fee
        self._maker_pnl = maker_pnl
        self._taker_pnl = taker_pnl

    @property
    def symbol(self) -> Any:
        return self.grid.symbol

    @property
    def settle(self) -> Any:
        """The asset every money amount here is in (the coin for an inverse contract)."""
        return self.grid.settle

    @property
    def price(self) -> Any:
        return self.grid.price(self._ticks)

    @property
    def qty(self) -> Any:
        return self.grid.qty(self._lots)

    @property
    def maker_fee(self) -> Any:
        return money(self._maker_fee)

    @property
    def taker_fee(self) -> Any:
        return money(self._taker_fee)

    @property
    def maker_realized_pnl(self) -> Any:
        return money(self._maker_pnl)

    @property
    def taker_realized_pnl(self) -> Any:
        return money(self._taker_pnl)

    def raw(self) -> dict[str, Any]:
        return {"trade_id": self.trade_id, "grid": self.grid.spec, "ticks": self._ticks, "lots": self._lots,
                "taker_side": int(self.taker_side), "maker_order_id": self.maker_order_id,
                "taker_order_id": self.taker_order_id, "maker_account": self.maker_account,
                "taker_account": self.taker_account, "maker_fee": self._maker_fee, "taker_fee": self._taker_fee,
                "maker_pnl": self._maker_pnl, "taker_pnl": self._taker_pnl}  # fmt: skip

    @classmethod
    def from_raw(cls, env: Envelope, index: int, r: dict[str, Any], grids: GridCache) -> Trade:
        return cls(
            env, index, r["trade_id"], grids(r["grid"]), r["ticks"], r["lots"], OrderSide(r["taker_side"]),
            r["maker_order_id"], r["taker_order_id"], r["maker_account"], r["taker_account"], r["maker_fee"],
            r["taker_fee"], r["maker_pnl"], r["taker_pnl"],
        )  # fmt: skip


class PositionUpdated(Event):
    """A position's state after a change (size signed: long > 0, short < 0; zero when it closed)."""

    __slots__ = (
        "_cost",
        "_lots",
        "_margin",
        "_realized",
        "_xden",
        "_xnum",
        "account",
        "grid",
        "leverage",
        "liquidation_price",
        "margin_mode",
        "position_side",
    )  # fmt: skip
    PUBLIC = (
        "account", "symbol", "position_side", "size", "entry_price", "margin_mode", "leverage", "isolated_margin",
        "liquidation_price", "realized_pnl", "settle",
    )  # fmt: skip

    def __init__(
        self,
        env: Envelope,
        index: int,
        account: int,
        grid: Grid,
        position_side: PositionSide,
        lots: int,
        cost: int,
        margin_mode: MarginMode,
        leverage: int,
        margin: int,
        liquidation_price: Decimal | None,
        realized: int,
        xnum: int = 0,
        xden: int = 1,
    ) -> None:
        self.env = env
        self.index = index
        self.account = account
        self.grid = grid
        self._xnum = xnum  # an inverse position's exact coin cost xnum / xden quanta (0 / 1: none, use cost)
        self._xden = xden
        self.position_side = position_side
        self._lots = lots
        self._cost = cost
        self.margin_mode = margin_mode
        self.leverage = leverage
        self._margin = margin
        self.liquidation_price = liquidation_price
        self._realized = realized

    @property
    def symbol(self) -> Any:
        return self.grid.symbol

    @property
    def settle(self) -> Any:
        """The asset every money amount here is in (the coin for an inverse contract)."""
        return self.grid.settle

    @property
    def size(self) -> Any:
        return self.grid.qty(self._lots)

    @property
    def isolated_margin(self) -> Any:
        return money(self._margin)

    @property
    def realized_pnl(self) -> Any:
        return money(self._realized)

    @property
    def entry_price(self) -> Decimal | None:
        if not self._lots:
            return None
        return self.grid.exact_average(self._cost, abs(self._lots), self._xnum, self._xden)

    def raw(self) -> dict[str, Any]:
        r = {"account": self.account, "grid": self.grid.spec, "position_side": self.position_side.value,
             "lots": self._lots, "cost": self._cost, "margin_mode": self.margin_mode.value,
             "leverage": self.leverage, "margin": self._margin, "liquidation_price": plain(self.liquidation_price),
             "realized": self._realized}  # fmt: skip
        if self._xnum:  # inverse only, so linear records are spelled as before
            r["xnum"] = self._xnum
            r["xden"] = self._xden
        return r

    @classmethod
    def from_raw(cls, env: Envelope, index: int, r: dict[str, Any], grids: GridCache) -> PositionUpdated:
        # xnum / xden are absent from linear records and from inverse ones written before they were added (the
        # entry then derives from the cost, as it did).
        return cls(
            env, index, r["account"], grids(r["grid"]), PositionSide(r["position_side"]), r["lots"], r["cost"],
            MarginMode(r["margin_mode"]), r["leverage"], r["margin"], _dec(r["liquidation_price"]), r["realized"],
            r.get("xnum", 0), r.get("xden", 1),
        )  # fmt: skip


class Transfer:
    """One ledger movement as adapters read it: `amount` left `debit` and arrived at `credit`."""

    __slots__ = ("amount", "asset", "credit", "debit", "reason")

    def __init__(self, row: PostingRow) -> None:
        self.debit, self.credit, self.asset, quanta, self.reason = row
        self.amount = money(quanta)

    def __repr__(self) -> str:
        return f"Transfer({self.debit} -> {self.credit} {self.amount} {self.asset} {self.reason})"


class Posted(Event):
    """Every ledger movement one command made, in order (one event per command, not one per movement)."""

    __slots__ = ("rows",)
    PUBLIC = ("postings",)

    def __init__(self, env: Envelope, index: int, rows: list[PostingRow]) -> None:
        self.env = env
        self.index = index
        self.rows = rows  # the ledger hands its list over; never changed after

    @property
    def postings(self) -> tuple[Transfer, ...]:
        return tuple(Transfer(row) for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        out = {"event": "Posted", **self.env.to_dict(), "index": self.index}
        out["postings"] = [[d, c, a, str(money(n)), r.value] for d, c, a, n, r in self.rows]
        return out

    def raw(self) -> dict[str, Any]:
        return {"rows": [[d, c, a, n, r.value] for d, c, a, n, r in self.rows]}

    @classmethod
    def from_raw(cls, env: Envelope, index: int, r: dict[str, Any], grids: GridCache) -> Posted:
        return cls(env, index, [(d, c, a, n, Posting(p)) for d, c, a, n, p in r["rows"]])


# ------------------------------------------------------------------------------------- the colder events
def _same(value: Any) -> Any:
    return value


# Readers of raw (journal) fields for the cold events defined in other modules (spot, options).
same = _same


def read_decimal(value: Any) -> Decimal:
    return Decimal(value)


def read_side(value: Any) -> OrderSide:
    """An order side from its name (BUY, SELL), as `plain` writes it."""
    return OrderSide[value]


class ColdEvent(Event):
    """Events off the order hot path: plain exact fields (Decimals, enums). `FIELDS` names each field with the
    function that reads it back from its raw (JSON) form."""

    __slots__ = ()
    FIELDS: ClassVar[tuple[tuple[str, Callable[[Any], Any]], ...]] = ()
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def public(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.FIELDS)

    @classmethod
    def from_raw(cls, env: Envelope, index: int, r: dict[str, Any], grids: GridCache) -> ColdEvent:
        # Only a field named in OPTIONAL may be absent (one an older record lacks: the settle `asset` of money
        # events came later) and reads as None; any other missing field is a damaged record (KeyError).
        optional = cls.OPTIONAL
        values = []
        for name, read in cls.FIELDS:
            raw = r.get(name) if name in optional else r[name]
            values.append(None if raw is None else read(raw))
        make: Callable[..., ColdEvent] = cls
        return make(env, index, *values)


class Rejected(ColdEvent):
    """The command changed nothing: why, in a code and a sentence."""

    __slots__ = ("code", "message")
    FIELDS = (("code", Code), ("message", _same))

    def __init__(self, env: Envelope, index: int, code: Code, message: str) -> None:
        self.env = env
        self.index = index
        self.code = code
        self.message = message

    @property
    def command(self) -> str:
        return self.env.kind

    @property
    def account(self) -> int | None:
        return self.env.account

    @property
    def client_order_id(self) -> str | None:
        return self.env.client_order_id


class InstrumentListed(ColdEvent):
    __slots__ = ("maker_fee", "min_notional", "price_band", "settle", "step_size", "symbol", "taker_fee",
                 "tick_size", "venue")  # fmt: skip
    FIELDS = (
        ("symbol", _same), ("venue", _same), ("settle", _same), ("tick_size", Decimal), ("step_size", Decimal),
        ("min_notional", Decimal), ("maker_fee", Decimal), ("taker_fee", Decimal), ("price_band", Decimal),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, symbol: str, venue: str, settle: str, tick_size: Decimal, step_size: Decimal,
        min_notional: Decimal, maker_fee: Decimal, taker_fee: Decimal, price_band: Decimal,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.symbol = symbol
        self.venue = venue
        self.settle = settle
        self.tick_size = tick_size
        self.step_size = step_size
        self.min_notional = min_notional
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.price_band = price_band


class DeliverySettlement(NamedTuple):
    """How one position settled at a delivery, everything an income row needs: `size` signed (long > 0) before
    it closed, at `price`; `realized_pnl` into its collateral, in `asset`; `returned` what went back from its
    isolated pool to the wallet (margin + PnL, 0 for a cross position, the fund's inventory, or a pool the price
    took past bankruptcy). The fund's inventory reads as account 0, side BOTH."""

    account: int
    symbol: str
    position_side: PositionSide
    size: Decimal
    price: Decimal
    realized_pnl: Decimal
    asset: str
    returned: Decimal


def _settlements(raw: list[list[Any]]) -> tuple[DeliverySettlement, ...]:
    return tuple(
        DeliverySettlement(a, sym, PositionSide(ps), Decimal(q), Decimal(p), Decimal(pnl), asset, Decimal(back))
        for a, sym, ps, q, p, pnl, asset, back in raw
    )


class Delivered(ColdEvent):
    """A dated future was delivered at `price`: `positions` positions (the fund's inventory included) settled
    there in `settle`, one `DeliverySettlement` each in `settlements` (in settlement order; None in records
    journaled before it was added); the market is closed to new orders from now on."""

    __slots__ = ("positions", "price", "settle", "settlements", "symbol")
    OPTIONAL = frozenset({"settlements"})  # absent from records written before it was added
    FIELDS = (("symbol", _same), ("settle", _same), ("price", Decimal), ("positions", _same),
              ("settlements", _settlements))  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, symbol: str, settle: str, price: Decimal, positions: int,
        settlements: tuple[DeliverySettlement, ...] | None = (),
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.symbol = symbol
        self.settle = settle
        self.price = price
        self.positions = positions
        self.settlements = settlements

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.settlements is not None:  # each row by name (plain() spells a tuple as a list)
            out["settlements"] = [{k: plain(v) for k, v in row._asdict().items()} for row in self.settlements]
        return out


class MarketStatusChanged(ColdEvent):
    __slots__ = ("paused", "symbol")
    FIELDS = (("symbol", _same), ("paused", _same))

    def __init__(self, env: Envelope, index: int, symbol: str, paused: bool) -> None:
        self.env = env
        self.index = index
        self.symbol = symbol
        self.paused = paused


class AccountCreated(ColdEvent):
    __slots__ = ("account", "hedge_mode")
    FIELDS = (("account", _same), ("hedge_mode", _same))

    def __init__(self, env: Envelope, index: int, account: int, hedge_mode: bool) -> None:
        self.env = env
        self.index = index
        self.account = account
        self.hedge_mode = hedge_mode


class SettingChanged(ColdEvent):
    """An account setting: position_mode (one_way | hedge), margin_mode (per symbol) or leverage (per symbol)."""

    __slots__ = ("account", "setting", "symbol", "value")
    FIELDS = (("account", _same), ("setting", _same), ("value", _same), ("symbol", _same))

    def __init__(self, env: Envelope, index: int, account: int, setting: str, value: str,
                 symbol: str | None = None) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.setting = setting
        self.value = value
        self.symbol = symbol


class MarkPriceUpdated(ColdEvent):
    __slots__ = ("index_price", "mark", "symbol")
    FIELDS = (("symbol", _same), ("mark", Decimal), ("index_price", Decimal))

    def __init__(self, env: Envelope, index: int, symbol: str, mark: Decimal, index_price: Decimal) -> None:
        self.env = env
        self.index = index
        self.symbol = symbol
        self.mark = mark
        self.index_price = index_price


class FundingSettled(ColdEvent):
    """A funding settlement on one market, emitted first, whether or not any position pays (then FundingPaid)."""

    __slots__ = ("mark", "rate", "symbol")
    FIELDS = (("symbol", _same), ("rate", Decimal), ("mark", Decimal))

    def __init__(self, env: Envelope, index: int, symbol: str, rate: Decimal, mark: Decimal) -> None:
        self.env = env
        self.index = index
        self.symbol = symbol
        self.rate = rate
        self.mark = mark


class FundingPaid(ColdEvent):
    """Funding one position paid (amount < 0) or received; account 0 is the insurance fund's inventory."""

    __slots__ = ("account", "amount", "asset", "mark", "position_side", "rate", "symbol")
    OPTIONAL = frozenset({"asset"})  # absent from records written before it was added
    FIELDS = (("account", _same), ("symbol", _same), ("position_side", PositionSide), ("rate", Decimal),
              ("mark", Decimal), ("amount", Decimal), ("asset", _same))  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, position_side: PositionSide,
                 rate: Decimal, mark: Decimal, amount: Decimal, asset: str | None = None) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.position_side = position_side
        self.rate = rate
        self.mark = mark
        self.amount = amount
        self.asset = asset  # the settle asset `amount` is in


class MarginAdjusted(ColdEvent):
    __slots__ = ("account", "amount", "asset", "isolated_margin", "liquidation_price", "position_side", "symbol")
    OPTIONAL = frozenset({"asset"})  # absent from records written before it was added
    FIELDS = (("account", _same), ("symbol", _same), ("position_side", PositionSide), ("amount", Decimal),
              ("isolated_margin", Decimal), ("liquidation_price", Decimal), ("asset", _same))  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, position_side: PositionSide,
                 amount: Decimal, isolated_margin: Decimal, liquidation_price: Decimal | None,
                 asset: str | None = None) -> None:  # fmt: skip
        self.asset = asset  # the settle asset of `amount` and `isolated_margin`
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.position_side = position_side
        self.amount = amount
        self.isolated_margin = isolated_margin
        self.liquidation_price = liquidation_price


class BadDebt(ColdEvent):
    """A loss the position's own collateral could not cover, taken by the insurance fund."""

    __slots__ = ("account", "amount", "asset", "reason", "symbol")
    FIELDS = (("account", _same), ("symbol", _same), ("asset", _same), ("amount", Decimal),
              ("reason", ShortfallReason))  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, asset: str, amount: Decimal,
                 reason: ShortfallReason) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.asset = asset
        self.amount = amount
        self.reason = reason


class Liquidated(ColdEvent):
    """One step of a liquidation: `qty`/`price` are what the step closed and at what (average) price;
    `fund_change` what the insurance fund gained (−: paid)."""

    __slots__ = ("account", "asset", "bankruptcy_price", "fund_change", "liquidation_price", "margin_mode", "mark",
                 "position_side", "price", "qty", "step", "symbol")  # fmt: skip
    OPTIONAL = frozenset({"asset"})  # absent from records written before it was added
    FIELDS = (
        ("account", _same), ("symbol", _same), ("position_side", PositionSide), ("margin_mode", MarginMode),
        ("step", LiquidationStep), ("mark", Decimal), ("liquidation_price", Decimal), ("bankruptcy_price", Decimal),
        ("qty", Decimal), ("price", Decimal), ("fund_change", Decimal), ("asset", _same),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, account: int, symbol: str, position_side: PositionSide,
        margin_mode: MarginMode, step: LiquidationStep, mark: Decimal, liquidation_price: Decimal | None,
        bankruptcy_price: Decimal | None, qty: Decimal | None = None, price: Decimal | None = None,
        fund_change: Decimal | None = None, asset: str | None = None,
    ) -> None:  # fmt: skip
        self.asset = asset  # the settle asset of `fund_change`
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.position_side = position_side
        self.margin_mode = margin_mode
        self.step = step
        self.mark = mark
        self.liquidation_price = liquidation_price
        self.bankruptcy_price = bankruptcy_price
        self.qty = qty
        self.price = price
        self.fund_change = fund_change


class AutoDeleveraged(ColdEvent):
    """A profitable opposite position closed at the bankrupt position's price because the fund could not."""

    __slots__ = ("account", "asset", "liquidated_account", "liquidated_side", "position_side", "price", "qty",
                 "realized_pnl", "side", "symbol")  # fmt: skip
    OPTIONAL = frozenset({"asset"})  # absent from records written before it was added
    FIELDS = (
        ("account", _same), ("symbol", _same), ("position_side", PositionSide), ("qty", Decimal), ("price", Decimal),
        ("realized_pnl", Decimal), ("liquidated_account", _same), ("side", _same), ("liquidated_side", _same),
        ("asset", _same),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, account: int, symbol: str, position_side: PositionSide, qty: Decimal,
        price: Decimal, realized_pnl: Decimal, liquidated_account: int, side: str, liquidated_side: str,
        asset: str | None = None,
    ) -> None:  # fmt: skip
        self.asset = asset  # the settle asset of `realized_pnl`
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.position_side = position_side
        self.qty = qty
        self.price = price
        self.realized_pnl = realized_pnl
        self.liquidated_account = liquidated_account
        self.side = side
        self.liquidated_side = liquidated_side  # long | short: the deleveraged and the bankrupt side


class MarginCall(ColdEvent):
    """An alert level crossed or left (ok); `symbol` None for a cross account's account-level alert."""

    __slots__ = ("account", "asset", "level", "position_side", "ratio", "symbol")
    OPTIONAL = frozenset({"asset"})  # absent from records written before it was added
    FIELDS = (("account", _same), ("symbol", _same), ("position_side", PositionSide), ("level", AlertLevel),
              ("ratio", Decimal), ("asset", _same))  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str | None,
                 position_side: PositionSide | None, level: AlertLevel, ratio: Decimal,
                 asset: str | None = None) -> None:  # fmt: skip
        self.asset = asset  # the settle asset measured (a cross account is measured per asset)
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.position_side = position_side
        self.level = level
        self.ratio = ratio


HOT_EVENTS: tuple[type[Event], ...] = (OrderUpdated, Trade, PositionUpdated, Posted)
COLD_EVENTS: tuple[type[ColdEvent], ...] = (
    Rejected, InstrumentListed, MarketStatusChanged, AccountCreated, SettingChanged, MarkPriceUpdated, FundingSettled,
    FundingPaid, MarginAdjusted, BadDebt, Liquidated, AutoDeleveraged, MarginCall, Delivered,
)  # fmt: skip
# Every event class by name (spot events included) is `isomargin.engine.catalog.EVENT_TYPES`.
