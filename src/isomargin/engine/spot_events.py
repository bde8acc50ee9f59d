"""Events of spot markets and isolated spot-margin accounts: listing, transfers, loans and interest, spot orders
and fills, margin calls and liquidations. Plain exact fields (Decimals, enums), journaled like every cold event;
money moved is also in the command's `Posted` event.
"""

from __future__ import annotations

from decimal import Decimal

from isomargin.engine.codes import AlertLevel, LiquidationStep, OrderStatus
from isomargin.engine.commands import OrderSide, OrderType, SideEffect, TimeInForce
from isomargin.engine.events import ColdEvent, Envelope, read_decimal, read_side, same

_same, _dec, _side = same, read_decimal, read_side


class SpotPairListed(ColdEvent):
    __slots__ = ("base", "maker_fee", "max_leverage", "min_notional", "price_band", "quote", "risk", "step_size",
                 "symbol", "taker_fee", "tick_size", "venue")  # fmt: skip
    FIELDS = (
        ("symbol", _same), ("venue", _same), ("base", _same), ("quote", _same), ("tick_size", _dec),
        ("step_size", _dec), ("min_notional", _dec), ("maker_fee", _dec), ("taker_fee", _dec),
        ("price_band", _dec), ("max_leverage", _same), ("risk", _same),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, symbol: str, venue: str, base: str, quote: str, tick_size: Decimal,
        step_size: Decimal, min_notional: Decimal, maker_fee: Decimal, taker_fee: Decimal, price_band: Decimal,
        max_leverage: int, risk: str,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.symbol = symbol
        self.venue = venue
        self.base = base
        self.quote = quote
        self.tick_size = tick_size
        self.step_size = step_size
        self.min_notional = min_notional
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.price_band = price_band
        self.max_leverage = max_leverage
        self.risk = risk  # "margin_level" (Binance) | "maintenance_ratio" (OKX)


class MarginTransferred(ColdEvent):
    """`amount` of `asset` moved into (> 0) or out of (< 0) the isolated margin account; `balance` is its free
    balance of the asset afterwards."""

    __slots__ = ("account", "amount", "asset", "balance", "symbol")
    FIELDS = (("account", _same), ("symbol", _same), ("asset", _same),
                                              ("amount", _dec), ("balance", _dec))  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, asset: str, amount: Decimal,
                 balance: Decimal) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.asset = asset
        self.amount = amount
        self.balance = balance


class Borrowed(ColdEvent):
    """A loan of `amount`; `interest` is the first hour's, charged at once; `principal` and `owed_interest` are
    the account's totals in the asset afterwards."""

    __slots__ = ("account", "amount", "asset", "interest", "owed_interest", "principal", "symbol")
    FIELDS = (
        ("account", _same), ("symbol", _same), ("asset", _same), ("amount", _dec), ("interest", _dec),
        ("principal", _dec), ("owed_interest", _dec),
    )  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, asset: str, amount: Decimal,
                 interest: Decimal, principal: Decimal, owed_interest: Decimal) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.asset = asset
        self.amount = amount
        self.interest = interest
        self.principal = principal
        self.owed_interest = owed_interest


class Repaid(ColdEvent):
    """`interest` then `principal` repaid (their sum is what left the account); the totals still owed after."""

    __slots__ = ("account", "asset", "auto", "interest", "owed_interest", "owed_principal", "principal", "symbol")
    FIELDS = (
        ("account", _same), ("symbol", _same), ("asset", _same), ("interest", _dec), ("principal", _dec),
        ("owed_principal", _dec), ("owed_interest", _dec), ("auto", _same),
    )  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, asset: str, interest: Decimal,
                 principal: Decimal, owed_principal: Decimal, owed_interest: Decimal, auto: str) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.asset = asset
        self.interest = interest
        self.principal = principal
        self.owed_principal = owed_principal
        self.owed_interest = owed_interest
        self.auto = auto  # "user" | "auto_repay" (an order's side effect) | "liquidation"


class InterestCharged(ColdEvent):
    """`hours` hours of interest on `principal` at `daily_rate` / 24 per hour, `amount` in all (rounded up to a
    quantum per hour); `through` is the hour boundary (ms) charged up to."""

    __slots__ = ("account", "amount", "asset", "daily_rate", "hours", "principal", "symbol", "through")
    FIELDS = (
        ("account", _same), ("symbol", _same), ("asset", _same), ("principal", _dec), ("daily_rate", _dec),
        ("hours", _same), ("amount", _dec), ("through", _same),
    )  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, asset: str, principal: Decimal,
                 daily_rate: Decimal, hours: int, amount: Decimal, through: int) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.asset = asset
        self.principal = principal
        self.daily_rate = daily_rate
        self.hours = hours
        self.amount = amount
        self.through = through


class BorrowRateSet(ColdEvent):
    __slots__ = ("asset", "daily_rate", "symbol")
    FIELDS = (("symbol", _same), ("asset", _same), ("daily_rate", _dec))

    def __init__(self, env: Envelope, index: int, symbol: str, asset: str, daily_rate: Decimal) -> None:
        self.env = env
        self.index = index
        self.symbol = symbol
        self.asset = asset
        self.daily_rate = daily_rate


class SpotOrderUpdated(ColdEvent):
    """A spot order's state: accepted (NEW), filled in part or whole, cancelled or expired; `filled` base and
    `quote_filled` quote so far (the average is their ratio); `reason` why it ended, if it did."""

    __slots__ = ("account", "client_order_id", "filled", "isolated", "order_id", "price", "qty", "quote_filled",
                 "reason", "side", "side_effect", "status", "symbol", "tif", "type")  # fmt: skip
    OPTIONAL = frozenset({"client_order_id", "price", "reason"})
    FIELDS = (
        ("order_id", _same), ("account", _same), ("symbol", _same), ("side", _side), ("type", OrderType),
        ("tif", TimeInForce), ("price", _dec), ("qty", _dec), ("filled", _dec), ("quote_filled", _dec),
        ("status", OrderStatus), ("isolated", _same), ("side_effect", SideEffect), ("client_order_id", _same),
        ("reason", _same),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, order_id: int, account: int, symbol: str, side: OrderSide,
        type: OrderType, tif: TimeInForce, price: Decimal | None, qty: Decimal, filled: Decimal,
        quote_filled: Decimal, status: OrderStatus, isolated: bool, side_effect: SideEffect,
        client_order_id: str | None = None, reason: str | None = None,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.order_id = order_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.type = type
        self.tif = tif
        self.price = price
        self.qty = qty
        self.filled = filled
        self.quote_filled = quote_filled
        self.status = status
        self.isolated = isolated
        self.side_effect = side_effect
        self.client_order_id = client_order_id
        self.reason = reason


class SpotTrade(ColdEvent):
    """One spot fill at the maker's price: the buyer received `qty` base less `buyer_fee` (in base), the seller
    `quote_qty` quote less `seller_fee` (in quote); `taker_side` is the aggressor's side."""

    __slots__ = ("buyer_account", "buyer_fee", "buyer_order_id", "price", "qty", "quote_qty", "seller_account",
                 "seller_fee", "seller_order_id", "symbol", "taker_side", "trade_id")  # fmt: skip
    FIELDS = (
        ("trade_id", _same), ("symbol", _same), ("price", _dec), ("qty", _dec), ("quote_qty", _dec),
        ("taker_side", _side), ("buyer_account", _same), ("buyer_order_id", _same), ("buyer_fee", _dec),
        ("seller_account", _same), ("seller_order_id", _same), ("seller_fee", _dec),
    )  # fmt: skip

    def __init__(
        self, env: Envelope, index: int, trade_id: int, symbol: str, price: Decimal, qty: Decimal,
        quote_qty: Decimal, taker_side: OrderSide, buyer_account: int, buyer_order_id: int, buyer_fee: Decimal,
        seller_account: int, seller_order_id: int, seller_fee: Decimal,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.trade_id = trade_id
        self.symbol = symbol
        self.price = price
        self.qty = qty
        self.quote_qty = quote_qty
        self.taker_side = taker_side
        self.buyer_account = buyer_account
        self.buyer_order_id = buyer_order_id
        self.buyer_fee = buyer_fee
        self.seller_account = seller_account
        self.seller_order_id = seller_order_id
        self.seller_fee = seller_fee


class SpotMarginCall(ColdEvent):
    """An isolated spot-margin account crossed an alert level (or went back to ok); `ratio` is its margin level
    (Binance) or maintenance margin ratio (OKX) at the mark."""

    __slots__ = ("account", "level", "ratio", "symbol")
    FIELDS = (("account", _same), ("symbol", _same), ("level", AlertLevel),
                                              ("ratio", _dec))  # fmt: skip

    def __init__(self, env: Envelope, index: int, account: int, symbol: str, level: AlertLevel,
                 ratio: Decimal) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.level = level
        self.ratio = ratio


class SpotLiquidated(ColdEvent):
    """One step of an isolated spot-margin liquidation: orders cancelled, a partial (OKX: liability reduced to a
    lower tier's cap) or the full close. `repaid` is liability repaid in `asset`; `fee` the liquidation fee (in
    the pair's quote) paid to the insurance fund; `shortfall` what the fund covered (in `asset`); `returned` the
    quote value that went back to the wallet when the account closed."""

    __slots__ = ("account", "asset", "fee", "mark", "ratio", "repaid", "returned", "shortfall", "step", "symbol")
    FIELDS = (
        ("account", _same), ("symbol", _same), ("step", LiquidationStep), ("mark", _dec), ("ratio", _dec),
        ("asset", _same), ("repaid", _dec), ("fee", _dec), ("shortfall", _dec), ("returned", _dec),
    )  # fmt: skip
    OPTIONAL = frozenset({"ratio", "asset"})

    def __init__(
        self, env: Envelope, index: int, account: int, symbol: str, step: LiquidationStep, mark: Decimal,
        ratio: Decimal | None, asset: str | None, repaid: Decimal, fee: Decimal, shortfall: Decimal,
        returned: Decimal,
    ) -> None:  # fmt: skip
        self.env = env
        self.index = index
        self.account = account
        self.symbol = symbol
        self.step = step
        self.mark = mark
        self.ratio = ratio
        self.asset = asset
        self.repaid = repaid
        self.fee = fee
        self.shortfall = shortfall
        self.returned = returned


SPOT_EVENTS: tuple[type[ColdEvent], ...] = (
    SpotPairListed, MarginTransferred, Borrowed, Repaid, InterestCharged, BorrowRateSet, SpotOrderUpdated,
    SpotTrade, SpotMarginCall, SpotLiquidated,
)  # fmt: skip
