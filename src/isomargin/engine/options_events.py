"""Events of isolated options: listing, marks from volatility, orders and fills, position changes, margin moves,
margin calls, liquidation steps and expiry settlement. Plain exact fields, journaled like every cold event.
"""

from __future__ import annotations

from decimal import Decimal

from isomargin.engine.codes import AlertLevel, LiquidationStep, OrderStatus
from isomargin.engine.commands import OrderSide, TimeInForce
from isomargin.engine.events import ColdEvent, Envelope, read_decimal, read_side, same

_same, _dec, _side = same, read_decimal, read_side


class OptionListed(ColdEvent):
    __slots__ = ("expiry", "family", "kind", "maker_fee", "multiplier", "settle", "step_size", "strike", "symbol",
                 "taker_fee", "tick_size", "venue")  # fmt: skip
    FIELDS = (
        ("symbol", _same), ("venue", _same), ("family", _same), ("kind", _same), ("strike", _dec), ("expiry", _same),
        ("settle", _same), ("multiplier", _dec), ("tick_size", _dec), ("step_size", _dec), ("maker_fee", _dec),
        ("taker_fee", _dec),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, symbol: str, venue: str, family: str, kind: str, strike: Decimal,
        expiry: int, settle: str, multiplier: Decimal, tick_size: Decimal, step_size: Decimal, maker_fee: Decimal,
        taker_fee: Decimal,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.symbol = symbol
        self.venue = venue
        self.family = family
        self.kind = kind  # "C" | "P"
        self.strike = strike
        self.expiry = expiry
        self.settle = settle
        self.multiplier = multiplier
        self.tick_size = tick_size
        self.step_size = step_size
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee


class OptionMarked(ColdEvent):
    """An option's mark premium, from an operator price or from `iv` (then also the index and years it used)."""

    __slots__ = ("iv", "mark", "symbol", "underlying_price", "years")
    OPTIONAL = frozenset({"iv", "underlying_price", "years"})
    FIELDS = (("symbol", _same), ("mark", _dec), ("iv", _dec), ("underlying_price", _dec), ("years", _dec))

    def __init__(self, env: Envelope, index: int, symbol: str, mark: Decimal, iv: Decimal | None = None,
                 underlying_price: Decimal | None = None, years: Decimal | None = None) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.symbol = symbol
        self.mark = mark
        self.iv = iv
        self.underlying_price = underlying_price
        self.years = years


class OptionOrderUpdated(ColdEvent):
    __slots__ = ("account", "client_order_id", "filled", "order_id", "price", "qty", "reason", "reduce_only", "side",
                 "status", "symbol", "tif")  # fmt: skip
    OPTIONAL = frozenset({"client_order_id", "reason"})
    FIELDS = (
        ("order_id", _same), ("account", _same), ("symbol", _same), ("side", _side), ("price", _dec), ("qty", _dec),
        ("filled", _dec), ("tif", TimeInForce), ("reduce_only", _same), ("status", OrderStatus),
        ("client_order_id", _same), ("reason", _same),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, order_id: int, account: int, symbol: str, side: OrderSide, price: Decimal,
        qty: Decimal, filled: Decimal, tif: TimeInForce, reduce_only: bool, status: OrderStatus,
        client_order_id: str | None = None, reason: str | None = None,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.order_id = order_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.price = price
        self.qty = qty
        self.filled = filled
        self.tif = tif
        self.reduce_only = reduce_only
        self.status = status
        self.client_order_id = client_order_id
        self.reason = reason


class OptionTrade(ColdEvent):
    """One fill at the maker's price: `premium` (settle asset) paid by the buyer; fees in the settle asset."""

    __slots__ = ("buyer_account", "buyer_fee", "buyer_order_id", "premium", "price", "qty", "seller_account",
                 "seller_fee", "seller_order_id", "symbol", "taker_side", "trade_id")  # fmt: skip
    FIELDS = (
        ("trade_id", _same), ("symbol", _same), ("price", _dec), ("qty", _dec), ("premium", _dec),
        ("taker_side", _side), ("buyer_account", _same), ("buyer_order_id", _same), ("buyer_fee", _dec),
        ("seller_account", _same), ("seller_order_id", _same), ("seller_fee", _dec),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, trade_id: int, symbol: str, price: Decimal, qty: Decimal, premium: Decimal,
        taker_side: OrderSide, buyer_account: int, buyer_order_id: int, buyer_fee: Decimal, seller_account: int,
        seller_order_id: int, seller_fee: Decimal,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.trade_id = trade_id
        self.symbol = symbol
        self.price = price
        self.qty = qty
        self.premium = premium
        self.taker_side = taker_side
        self.buyer_account = buyer_account
        self.buyer_order_id = buyer_order_id
        self.buyer_fee = buyer_fee
        self.seller_account = seller_account
        self.seller_order_id = seller_order_id
        self.seller_fee = seller_fee


class OptionPositionUpdated(ColdEvent):
    """A position after a change: signed contracts, the premium of the open exposure and a short's pool (account 0
    is the insurance fund's inventory)."""

    __slots__ = ("account", "cost", "margin", "qty", "symbol")
    FIELDS = (("account", _same), ("symbol", _same), ("qty", _dec), ("cost", _dec), ("margin", _dec))

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, qty: Decimal, cost: Decimal,
                 margin: Decimal) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.qty = qty
        self.cost = cost
        self.margin = margin


class OptionMarginCall(ColdEvent):
    __slots__ = ("account", "level", "ratio", "symbol")
    FIELDS = (("account", _same), ("symbol", _same), ("level", AlertLevel), ("ratio", _dec))

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, level: AlertLevel,
                 ratio: Decimal) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.level = level
        self.ratio = ratio


class OptionLiquidated(ColdEvent):
    """One liquidation step of a short: orders cancelled, a partial (one tier down) or the full close; `qty`
    contracts bought back (through the book or taken over by the fund), `fee` to the fund, `shortfall` the fund
    covered, `returned` what went back to the wallet when the position closed."""

    __slots__ = ("account", "fee", "mark", "qty", "ratio", "returned", "shortfall", "step", "symbol", "taken_over")
    OPTIONAL = frozenset({"ratio"})
    FIELDS = (
        ("account", _same), ("symbol", _same), ("step", LiquidationStep), ("mark", _dec), ("ratio", _dec),
        ("qty", _dec), ("taken_over", _dec), ("fee", _dec), ("shortfall", _dec), ("returned", _dec),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, account: int, symbol: str, step: LiquidationStep, mark: Decimal,
        ratio: Decimal | None, qty: Decimal, taken_over: Decimal, fee: Decimal, shortfall: Decimal, returned: Decimal,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.step = step
        self.mark = mark
        self.ratio = ratio
        self.qty = qty
        self.taken_over = taken_over
        self.fee = fee
        self.shortfall = shortfall
        self.returned = returned


class OptionSettled(ColdEvent):
    """One position settled at expiry: `payout` received (> 0, a long) or paid (< 0, a short) in `settle` at
    `price` (the settlement index); `returned` what its pool gave back to the wallet."""

    __slots__ = ("account", "payout", "price", "qty", "returned", "settle", "symbol")
    FIELDS = (("account", _same), ("symbol", _same), ("qty", _dec), ("price", _dec), ("payout", _dec),
              ("settle", _same), ("returned", _dec))  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, qty: Decimal, price: Decimal,
                 payout: Decimal, settle: str, returned: Decimal) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.qty = qty
        self.price = price
        self.payout = payout
        self.settle = settle
        self.returned = returned


class OptionDelisted(ColdEvent):
    __slots__ = ("price", "symbol")
    FIELDS = (("symbol", _same), ("price", _dec))

    def __init__(self, env: Envelope, index: int, symbol: str, price: Decimal) -> None:
        self.env = env
        self.index = index
        self.symbol = symbol
        self.price = price


OPTION_EVENTS: tuple[type[ColdEvent], ...] = (
    OptionListed, OptionMarked, OptionOrderUpdated, OptionTrade, OptionPositionUpdated, OptionMarginCall,
    OptionLiquidated, OptionSettled, OptionDelisted,
)  # fmt: skip
