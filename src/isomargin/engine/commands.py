"""Commands: everything that can change engine state, as frozen dataclasses.

Each carries what it needs, including the timestamp `ts` (ms) assigned at the edge; the engine never
reads a clock. Numbers are Decimal; the engine validates them against the instrument's tick and step. Any
field may hold any value: the engine rejects what it cannot use with a code and never raises on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum


class OrderSide(IntEnum):
    BUY = 1
    SELL = -1


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP"  # Binance's name for a stop-limit
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"

    @property
    def conditional(self) -> bool:
        return self not in (OrderType.LIMIT, OrderType.MARKET)

    @property
    def limit_after_trigger(self) -> bool:
        return self in (OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # post-only (Binance's name)


class PositionSide(StrEnum):
    BOTH = "BOTH"  # one-way mode
    LONG = "LONG"  # hedge mode legs
    SHORT = "SHORT"


class MarginMode(StrEnum):
    ISOLATED = "ISOLATED"
    CROSS = "CROSS"


class WorkingType(StrEnum):
    MARK_PRICE = "MARK_PRICE"
    CONTRACT_PRICE = "CONTRACT_PRICE"  # last trade price


class STP(StrEnum):
    NONE = "NONE"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


@dataclass(frozen=True, slots=True)
class Command:
    ts: int = field(default=0, kw_only=True)


@dataclass(frozen=True, slots=True)
class ListInstrument(Command):
    """Open a market: `venue`'s instrument `symbol` (tick, step, tiers), with optional fee overrides."""

    symbol: str
    venue: str = "binance"
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    price_band: Decimal = Decimal("0.05")  # market orders fill at most this far from mark
    expiry: int | None = None  # dated futures: delivery time (ms, 0 … 2⁶³ − 1); None lists a perpetual


@dataclass(frozen=True, slots=True)
class CreateAccount(Command):
    """Open an account; `account` None lets the engine allocate the next id (reported in AccountCreated)."""

    account: int | None = None
    hedge_mode: bool = False


@dataclass(frozen=True, slots=True)
class Deposit(Command):
    account: int
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Withdraw(Command):
    account: int
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SetPositionMode(Command):
    account: int
    hedge_mode: bool


@dataclass(frozen=True, slots=True)
class SetMarginMode(Command):
    account: int
    symbol: str
    mode: MarginMode


@dataclass(frozen=True, slots=True)
class SetLeverage(Command):
    account: int
    symbol: str
    leverage: int


@dataclass(frozen=True, slots=True)
class PlaceOrder(Command):
    account: int
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal | None = None  # None only with close_position
    price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    close_position: bool = False
    position_side: PositionSide = PositionSide.BOTH
    client_order_id: str | None = None
    working_type: WorkingType = WorkingType.CONTRACT_PRICE
    callback_rate: Decimal | None = None  # trailing stop, percent (Binance: 0.1 … 10)
    activation_price: Decimal | None = None
    stp: STP = STP.NONE


@dataclass(frozen=True, slots=True)
class CancelOrder(Command):
    account: int
    symbol: str
    order_id: int | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelAllOrders(Command):
    account: int
    symbol: str


@dataclass(frozen=True, slots=True)
class AmendOrder(Command):
    account: int
    symbol: str
    order_id: int | None = None
    client_order_id: str | None = None
    qty: Decimal | None = None  # new total quantity (Binance semantics), filled part included
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SetMarkPrice(Command):
    symbol: str
    mark: Decimal
    index: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SettleFunding(Command):
    symbol: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class AdjustMargin(Command):
    """Add (amount > 0) or remove (amount < 0) isolated margin."""

    account: int
    symbol: str
    amount: Decimal
    position_side: PositionSide = PositionSide.BOTH


@dataclass(frozen=True, slots=True)
class SetMarketStatus(Command):
    """Operator: pause (new orders refused, conditional orders held) or resume a market. Cancels, funding,
    mark prices and liquidations go on while it is paused."""

    symbol: str
    paused: bool


@dataclass(frozen=True, slots=True)
class FundInsurance(Command):
    """Operator: pay `amount` into the insurance fund (of `symbol` where funds are per symbol)."""

    asset: str
    amount: Decimal
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class DeliverInstrument(Command):
    """Operator: deliver a dated future (listed with an `expiry`, at or after it) at `price`: every open position
    settles there (realised PnL into its collateral, isolated pools back to the wallets), open orders are
    cancelled, and the market takes no new orders."""

    symbol: str
    price: Decimal


# ------------------------------------------------------------------------------------- spot and spot margin
class SideEffect(StrEnum):
    """What an isolated-margin spot order does around its fills (Binance's `sideEffectType`)."""

    NO_SIDE_EFFECT = "NO_SIDE_EFFECT"
    MARGIN_BUY = "MARGIN_BUY"  # borrow what the order needs beyond the free balance, when it is placed
    AUTO_REPAY = "AUTO_REPAY"  # what each fill brings in repays that asset's liability (interest first)
    AUTO_BORROW_REPAY = "AUTO_BORROW_REPAY"  # both


@dataclass(frozen=True, slots=True)
class ListSpotPair(Command):
    """Open a spot market (e.g. "BTC-USDT": base BTC, quote USDT) with isolated margin, from `venue`'s spot-margin
    data: tick, step, minimum notional, fees, leverage, risk rules and default interest rates."""

    symbol: str
    venue: str = "binance"
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    price_band: Decimal = Decimal("0.05")  # market and liquidation orders fill at most this far from mark


@dataclass(frozen=True, slots=True)
class MarginTransfer(Command):
    """Move `amount` of `asset` (the pair's base or quote) from the wallet into the account's isolated margin
    account on `symbol` (amount > 0) or back out (amount < 0, only while its risk allows it)."""

    account: int
    symbol: str
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Borrow(Command):
    """Borrow `amount` of `asset` into the isolated margin account on `symbol`; the first hour's interest is
    charged at once, then one hour at every whole hour (UTC) after."""

    account: int
    symbol: str
    asset: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Repay(Command):
    """Repay `amount` of `asset` (interest first, then principal) from the isolated margin account's free balance;
    `amount` None repays everything owed in it."""

    account: int
    symbol: str
    asset: str
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SetBorrowRate(Command):
    """Operator: the daily interest rate of borrowing `asset` on `symbol`'s isolated margin accounts (applies from
    the next hour charged on)."""

    symbol: str
    asset: str
    daily_rate: Decimal


@dataclass(frozen=True, slots=True)
class AccrueInterest(Command):
    """Charge every outstanding loan one hour's interest for each whole hour (UTC) it has been outstanding up to
    this command's `ts` and not yet charged for; then measure the accounts' risk at the new liabilities."""


@dataclass(frozen=True, slots=True)
class PlaceSpotOrder(Command):
    """A spot order on a spot pair: from the wallet (`isolated` False) or the account's isolated margin account on
    the pair (`isolated` True, where `side_effect` may borrow and repay). LIMIT or MARKET; GTX is post-only."""

    account: int
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    isolated: bool = False
    side_effect: SideEffect = SideEffect.NO_SIDE_EFFECT
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelSpotOrder(Command):
    account: int
    symbol: str
    order_id: int | None = None
    client_order_id: str | None = None


# ------------------------------------------------------------------------------------------ isolated options
@dataclass(frozen=True, slots=True)
class ListOption(Command):
    """Open a European, cash-settled option market named the venue's way (OKX: "BTC-USD-261225-100000-C":
    family, expiry day (08:00 UTC), strike, C or P); multiplier, ticks, fees and margin rules from the family's
    data. The family's index is set with `SetMarkPrice(<family>, index)`, the option's mark (its premium) with
    `SetMarkPrice(<option>, premium)` or `SetOptionVol`."""

    symbol: str
    venue: str = "okx"
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SetOptionVol(Command):
    """The option's mark from an implied volatility: Black-76 on the family's index as the forward (no rate), with
    the time to expiry from this command's `ts`, rounded to the price-point grid."""

    symbol: str
    iv: Decimal


@dataclass(frozen=True, slots=True)
class PlaceOptionOrder(Command):
    """A limit order for option contracts: a buy opens a long (premium + fee paid, nothing more at risk) or buys
    back a short; a sell closes a long or opens a short, which posts its initial margin into its isolated pool."""

    account: int
    symbol: str
    side: OrderSide
    qty: Decimal
    price: Decimal
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelOptionOrder(Command):
    account: int
    symbol: str
    order_id: int | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class AdjustOptionMargin(Command):
    """Add (amount > 0) or remove (< 0, at most the removable margin) margin of a short option position's pool."""

    account: int
    symbol: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SettleOptions(Command):
    """Operator: settle every option of `family` expiring at `expiry` (ms) at the settlement index `price`, at or
    after the expiry: orders cancelled, each position paid its intrinsic value (shorts pay longs), pools returned,
    the markets delisted."""

    family: str
    expiry: int
    price: Decimal
