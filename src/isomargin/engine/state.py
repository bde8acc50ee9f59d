"""The engine's state records: accounts, open orders, positions and markets, plain slotted objects.

Each record is owned by one component, which alone changes it (see docs/engine.md, "who owns what"): accounts
and settings by `Accounts`, orders by `Orders` and `Trading`, positions by `Positions`, money only through the
`Ledger`. Amounts are integers (money quanta, lots, ticks, price points); iteration follows insertion order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from isomargin.engine.book import OrderBook
from isomargin.engine.codes import AlertLevel, OrderStatus
from isomargin.engine.commands import MarginMode, OrderSide, OrderType, PositionSide, TimeInForce
from isomargin.engine.events import OrderSpec
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import Balance
from isomargin.engine.triggers import TriggerIndex
from isomargin.engine.watch import PriceWatch

DEFAULT_LEVERAGE: Final = 20
INSURANCE: Final = 0  # the insurance fund's account id in events and on the positions it takes over


class Setting:
    """An account's margin mode and leverage on one symbol."""

    __slots__ = ("leverage", "margin_mode")

    def __init__(self, margin_mode: MarginMode = MarginMode.CROSS, leverage: int = DEFAULT_LEVERAGE) -> None:
        self.margin_mode = margin_mode
        self.leverage = leverage


DEFAULT_SETTING: Final = Setting()  # read-only: handed out for symbols never configured


class Purse:
    """An account's two balances in one asset: the wallet, and the margin its resting orders hold."""

    __slots__ = ("hold", "wallet")

    def __init__(self, wallet: Balance, hold: Balance) -> None:
        self.wallet = wallet
        self.hold = hold


class Account:
    """One trading account: mode, per-symbol settings, its balances, open orders and positions."""

    __slots__ = ("client_ids", "hedge_mode", "id", "orders", "positions", "purses", "reducing", "settings")

    def __init__(self, account_id: int, hedge_mode: bool = False) -> None:
        self.id = account_id
        self.hedge_mode = hedge_mode
        self.settings: dict[str, Setting] = {}
        self.purses: dict[str, Purse] = {}  # wallet and hold balances, by asset (opened by `Accounts.purse`)
        self.orders: dict[int, Order] = {}  # open orders (resting and conditional), by id
        self.client_ids: dict[str, int] = {}
        self.positions: dict[tuple[str, PositionSide], Position] = {}
        self.reducing = 0  # how many of `orders` are reduce-only (kept by `Orders`)

    def setting(self, symbol: str) -> Setting:
        """Settings for reading: defaults are not stored, so a read never changes state."""
        s = self.settings.get(symbol)
        return DEFAULT_SETTING if s is None else s


class Order:
    """A live order: the immutable spec plus what changes (size after trims, fills, hold, trigger state)."""

    __slots__ = (
        "account",
        "activated",
        "cost",
        "extreme",
        "filled",
        "hold",
        "id",
        "leverage",
        "lots",
        "owner",
        "position_side",
        "reduce_only",
        "side",
        "spec",
        "status",
        "stop",
        "symbol",
        "ticks",
        "tif",
        "triggered",
        "type",
    )  # fmt: skip

    def __init__(
        self, spec: OrderSpec, owner: Account, leverage: int, lots: int, ticks: int | None, stop: int | None
    ) -> None:
        self.spec = spec
        self.owner = owner
        # The account's leverage on the symbol when the order was placed: it cannot change while the order is open.
        self.leverage = leverage
        self.id = spec.id
        self.account = spec.account
        self.symbol = spec.symbol
        self.side = spec.side
        self.type = spec.type
        self.tif = spec.tif
        self.reduce_only = spec.reduce_only
        self.position_side = spec.position_side
        self.lots = lots  # total quantity (0 for a close-position order that has not fired)
        self.ticks = ticks  # limit price; None for market orders
        self.stop = stop  # trigger price in price points (conditional orders)
        self.filled = 0
        self.cost = 0  # Σ fill notional (quanta), for the average price
        self.hold = 0  # margin reserved for the unfilled rest (quanta)
        self.status = OrderStatus.NEW
        self.triggered = False
        self.extreme: int | None = None  # trailing stop: best price (points) seen since activation
        self.activated = False

    @property
    def remaining(self) -> int:
        return self.lots - self.filled

    @property
    def waiting(self) -> bool:
        """A conditional order still in the trigger index (not in the book, holding nothing)."""
        return self.type is not OrderType.LIMIT and self.type is not OrderType.MARKET and not self.triggered

    @property
    def may_rest(self) -> bool:
        return self.tif is TimeInForce.GTC or self.tif is TimeInForce.GTX


class Position:
    """Signed size in lots, exact cost basis (quanta), mode, leverage and running totals; the isolated pool is
    its own ledger balance. The entry price (cost / size) is only ever derived."""

    __slots__ = (
        "account", "alert", "bankruptcy", "cost", "funding", "inst", "isolated", "leverage", "liquidation", "lots",
        "market", "owner", "pool", "purse", "realized", "side", "symbol", "trigger", "xden", "xnum",
    )  # fmt: skip

    def __init__(
        self, account: int, market: Market, side: PositionSide, isolated: bool, leverage: int,
        owner: Account | None = None, purse: Purse | None = None,
    ) -> None:  # fmt: skip
        self.account = account
        self.market = market
        self.inst = market.inst
        self.side = side
        self.owner = owner
        self.purse = purse  # None for the insurance fund's inventory
        self.symbol = market.inst.symbol
        self.isolated = isolated
        self.leverage = leverage
        self.lots = 0  # long > 0, short < 0
        self.cost = 0  # notional of the open exposure at entry (quanta), ≥ 0
        # Inverse only: the exact coin cost Σ face / price of the open exposure, xnum / xden quanta (a reduced
        # fraction, denominator bounded by EXACT_COST_DEN_LIMIT), for the displayed entry price (size / it): the
        # money `cost` rounds each fill to a quantum, so face / cost is off the fill price (60,000.000024 for one
        # 5,000 USD fill at 60,000). The ledger and every margin figure use `cost`; linear keeps 0 / 1.
        self.xnum = 0
        self.xden = 1
        self.realized = 0
        self.funding = 0
        self.liquidation: Decimal | None = None  # cached isolated liquidation price (exact)
        self.trigger: int | None = None  # the same as a watch price in points (mark ≤ it for a long, ≥ for a short)
        self.bankruptcy: Decimal | None = None
        self.pool: Balance | None = None  # isolated margin, while the position is isolated
        self.alert = AlertLevel.OK  # the isolated margin-call level last reported

    @property
    def sign(self) -> int:
        return (self.lots > 0) - (self.lots < 0)

    @property
    def margin(self) -> int:
        pool = self.pool
        return 0 if pool is None else pool.amount

    @property
    def mode(self) -> MarginMode:
        return MarginMode.ISOLATED if self.isolated else MarginMode.CROSS


class Market:
    """One listed symbol's live market state: book, conditional orders, marks, risk watches, positions."""

    __slots__ = (
        "book", "cross", "delivered", "fund", "held", "index", "index_dec", "inst", "keys", "last", "mark", "mark_dec",
        "paused", "positions", "triggers", "watch",
    )  # fmt: skip

    def __init__(self, inst: Instrument, fund: Balance) -> None:
        self.inst = inst
        self.book = OrderBook()
        self.triggers = TriggerIndex()
        self.watch = PriceWatch()  # isolated liquidation and alert prices
        self.cross = PriceWatch()  # cross accounts' health bands on this symbol
        self.positions: dict[tuple[int, PositionSide], Position] = {}  # in opening order
        self.mark: int | None = None  # price points
        self.mark_dec: Decimal | None = None
        self.index: int | None = None
        self.index_dec: Decimal | None = None
        self.last: int | None = None  # last trade price, ticks
        self.paused = False
        self.delivered = False  # a dated future after its delivery: closed to new orders for good
        self.fund = fund  # the insurance fund that backs this market
        self.held: Position | None = None  # what the fund took over and has not unwound yet
        # Each account's positions are keyed (symbol, side); built once here so a look-up allocates nothing.
        self.keys: dict[PositionSide, tuple[str, PositionSide]] = {s: (inst.symbol, s) for s in PositionSide}

    def reference(self) -> int | None:
        """Mark price, else last trade price, in price points: what PnL and margin are measured at."""
        if self.mark is not None:
            return self.mark
        last = self.last
        return None if last is None else last * self.inst.tick_pp


OPPOSITE: Final = {OrderSide.BUY: OrderSide.SELL, OrderSide.SELL: OrderSide.BUY}
