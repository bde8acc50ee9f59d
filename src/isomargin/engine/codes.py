"""Every named outcome the engine reports, as enums: rejection codes, order statuses and reasons, ledger
posting reasons, liquidation steps and alert levels.

They are StrEnums, so they compare equal to their wire strings (`Code.BAD_PRICE == "bad_price"`) and hash as
fast as str; events and adapters use the members, never bare strings.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Why a command was rejected (it changed nothing)."""

    UNKNOWN_COMMAND = "unknown_command"
    ENGINE_FAILED = "engine_failed"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_SYMBOL = "unknown_symbol"
    UNKNOWN_VENUE = "unknown_venue"
    ALREADY_LISTED = "already_listed"
    BAD_PRICE_BAND = "bad_price_band"
    BAD_FEE = "bad_fee"
    BAD_INSTRUMENT = "bad_instrument"
    BAD_EXPIRY = "bad_expiry"
    NOT_DATED = "not_dated"
    BEFORE_EXPIRY = "before_expiry"
    MARKET_DELIVERED = "market_delivered"
    MARKET_EXPIRED = "market_expired"  # a dated future at/after its expiry, before delivery: no orders
    NOT_PERPETUAL = "not_perpetual"  # funding on a dated future (venues fund perpetuals only)
    ACCOUNT_EXISTS = "account_exists"
    BAD_ACCOUNT = "bad_account"
    BAD_NUMBER = "bad_number"
    NOT_POSITIVE = "not_positive"
    BAD_ASSET = "bad_asset"
    BAD_FLAG = "bad_flag"
    BAD_ENUM = "bad_enum"
    BAD_TIMESTAMP = "bad_timestamp"
    STATUS_UNCHANGED = "status_unchanged"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    POSITION_OPEN = "position_open"
    ORDERS_OPEN = "orders_open"
    BAD_LEVERAGE = "bad_leverage"
    LEVERAGE_ABOVE_TIER_MAX = "leverage_above_tier_max"
    ABOVE_MAX_TIER = "above_max_tier"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    NO_MARK_PRICE = "no_mark_price"
    BAD_FUNDING_RATE = "bad_funding_rate"
    NO_POSITION = "no_position"
    NOT_ISOLATED = "not_isolated"
    BAD_AMOUNT = "bad_amount"
    ABOVE_MAX_REMOVABLE = "above_max_removable"
    MARKET_PAUSED = "market_paused"
    POSITION_SIDE_REQUIRED = "position_side_required"
    POSITION_SIDE_MISMATCH = "position_side_mismatch"
    REDUCE_ONLY_HEDGE = "reduce_only_hedge"
    BAD_CLOSE_POSITION = "bad_close_position"
    BAD_QUANTITY = "bad_quantity"
    BAD_PRICE = "bad_price"
    BAD_TIME_IN_FORCE = "bad_time_in_force"
    BAD_STOP_PRICE = "bad_stop_price"
    BAD_CALLBACK_RATE = "bad_callback_rate"
    BAD_CLIENT_ORDER_ID = "bad_client_order_id"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    REDUCE_ONLY_REJECTED = "reduce_only_rejected"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    FOK_UNFILLABLE = "fok_unfillable"
    NOT_AMENDABLE = "not_amendable"
    UNKNOWN_ORDER = "unknown_order"
    NO_REFERENCE_PRICE = "no_reference_price"
    WOULD_IMMEDIATELY_TRIGGER = "would_immediately_trigger"
    TOO_MANY_ORDERS = "too_many_orders"
    INTERNAL_CHECK_ERROR = "internal_check_error"
    NOT_SPOT = "not_spot"  # a spot-margin command on a perpetual's symbol, or a perp command on a spot pair
    ASSET_NOT_IN_PAIR = "asset_not_in_pair"
    ABOVE_MAX_BORROWABLE = "above_max_borrowable"
    NOTHING_TO_REPAY = "nothing_to_repay"
    REPAY_EXCEEDS_DEBT = "repay_exceeds_debt"
    TRANSFER_OUT_LIMITED = "transfer_out_limited"  # the isolated account's risk does not allow moving that out
    BAD_RATE = "bad_rate"
    NOT_OPTION = "not_option"
    OPTION_EXPIRED = "option_expired"  # at or after its expiry: no orders, only settlement
    NO_INDEX_PRICE = "no_index_price"
    BAD_VOL = "bad_vol"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    TRIGGERED = "TRIGGERED"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED})


class OrderReason(StrEnum):
    """Why an order left the book (or a trigger fired into nothing), beside its status."""

    USER = "user"
    LIQUIDATION = "liquidation"
    SELF_TRADE_PREVENTED = "self_trade_prevented"
    REDUCE_ONLY_TRIMMED = "reduce_only_trimmed"
    NO_LIQUIDITY = "no_liquidity"
    NO_POSITION = "no_position"
    MARGIN_CALL = "margin_call"
    TRIGGER_REJECTED = "trigger_rejected"
    DELIVERY = "delivery"  # a dated future was delivered: its open orders are cancelled


class Posting(StrEnum):
    """Why money moved between two ledger balances."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    INSURANCE_DEPOSIT = "insurance_deposit"
    ORDER_HOLD = "order_hold"
    HOLD_RELEASE = "hold_release"
    ISOLATED_MARGIN = "isolated_margin"
    MARGIN_RELEASE = "margin_release"
    MARGIN_ADJUSTMENT = "margin_adjustment"
    REALIZED_PNL = "realized_pnl"
    TRADING_FEE = "trading_fee"
    FUNDING = "funding"
    LIQUIDATION_FEE = "liquidation_fee"
    LIQUIDATION_REMAINDER = "liquidation_remainder"
    BAD_DEBT = "bad_debt"
    DELIVERY = "delivery"  # a dated future's position settled at the delivery price (realised PnL)
    ROUNDING = "rounding"  # an inverse fill's quantum between the buyer's and the seller's rounded value
    MARGIN_TRANSFER = "margin_transfer"  # wallet ⇄ an isolated spot-margin account
    BORROW = "borrow"
    REPAY = "repay"
    INTEREST = "interest"
    SPOT_TRADE = "spot_trade"  # one side of a spot fill: base against quote
    PREMIUM = "premium"  # an option's premium, buyer to seller (or its pool)
    OPTION_SETTLEMENT = "option_settlement"  # intrinsic value at expiry, shorts to longs


class BalanceKind(StrEnum):
    """The kinds of ledger balance; a balance's key is `<kind>:<owner…>`."""

    WALLET = "wallet"
    HOLD = "hold"
    ISOLATED = "isolated"
    INSURANCE = "insurance"
    FEES = "fees"
    SETTLEMENT = "settlement"
    FUNDING = "funding"
    EXTERNAL = "external"
    MARGIN = "margin"  # an isolated spot-margin account's free balance: margin:<acct>:<pair>:<asset>
    LOCKED = "locked"  # what open spot orders lock: locked:<acct>:<pair or "spot">:<asset>
    LOAN = "loan"  # borrowed principal outstanding (≤ 0: a liability): loan:<acct>:<pair>:<asset>
    INTEREST = "interest"  # interest charged and not yet repaid (≤ 0): interest:<acct>:<pair>:<asset>
    LENDING = "lending"  # the venue as lender: interest earned, lending:<asset>
    OPTION_HOLD = "option_hold"  # what open option orders hold: option_hold:<acct>:<settle>
    OPTION_POOL = "option_pool"  # a short option position's margin and premium: option_pool:<acct>:<symbol>
    OPTION_SETTLEMENT = "option_settlement"  # expiry payouts clear through it (rounding dust to fees)


class LiquidationStep(StrEnum):
    CANCEL_ORDERS = "cancel_orders"
    HEDGE_OFFSET = "hedge_offset"
    PARTIAL = "partial"
    CLOSE = "close"
    TAKEOVER = "takeover"
    ADL = "adl"
    DONE = "done"


class AlertLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CANCEL_ORDERS = "cancel_orders"
    LIQUIDATE = "liquidate"


class ShortfallReason(StrEnum):
    """Why the insurance fund had to cover a balance that went below zero."""

    CLOSED_BEYOND_BANKRUPTCY = "closed_beyond_bankruptcy"
    LIQUIDATED_BEYOND_BANKRUPTCY = "liquidated_beyond_bankruptcy"
    CROSS_WALLET_EXHAUSTED = "cross_wallet_exhausted"
    CROSS_LIQUIDATION = "cross_liquidation"
    FEE_SHORTFALL = "fee_shortfall"
    FUNDING_BEYOND_MARGIN = "funding_beyond_margin"
