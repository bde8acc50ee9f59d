"""Errors at the edge: one exception type rendered two ways — Binance `{"code": -NNNN, "msg": …}` under
/fapi and `{"code": "snake_case", "message": …}` under /api/v1 — their OpenAPI body models and statuses, and
the map from engine rejections.

Binance codes are chosen so that ccxt's *common* exception table (used for non-binance.com URLs) maps
them: margin shortfall → -4050/-4051 (InsufficientFunds), order rejections → -2010/-4142/-1013 with a
Binance filter message (InvalidOrder), unknown order → -2013 (OrderNotFound).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, Field


@dataclass
class ApiError(Exception):
    status: int
    code: str  # native code
    message: str
    binance: int = -1000
    binance_msg: str | None = None
    headers: dict[str, str] | None = None

    def native(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def fapi(self) -> dict[str, object]:
        return {"code": self.binance, "msg": self.binance_msg or self.message}


class NativeError(BaseModel):
    """The native API's error body."""

    code: str = Field(description="machine-readable snake_case code", examples=["bad_number"])
    message: str = Field(description="what was refused and why; quotes at most 64 chars of the input")


class BinanceError(BaseModel):
    """The /fapi error body, as Binance answers."""

    code: int = Field(description="Binance's negative error code", examples=[-1100])
    msg: str = Field(examples=["Illegal characters found in parameter 'quantity'; legal range is "
                               "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'."])  # fmt: skip


# The error statuses either API answers, for the OpenAPI schema (each route lists them with its body).
ERROR_STATUSES: Final[dict[int | str, str]] = {
    400: "bad request: a value outside the input grammar, a missing or duplicated parameter, or refused by the engine",
    401: "missing or unknown API key, bad signature, or bad operator key",
    403: "the key lacks the permission, or operator endpoints are off",
    404: "no such market, order, key or route",
    409: "conflict: the client order id is already used by one of the account's orders (native API)",
    429: "request weight above the per-minute limit (Retry-After says when to come back; 418 once banned)",
    503: "the engine or the journal failed (engine_failed, journal_full): nothing more is acknowledged",
    "4XX": "another client error: 418 once banned for continuing after 429s, 405 for a method a path lacks",
}  # (a "4XX" entry also keeps FastAPI from listing a 422 the venue never sends: bad input is a 400)


def error_responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a FastAPI router or route: every error status with `model` as its body."""
    return {status: {"model": model, "description": text} for status, text in ERROR_STATUSES.items()}


def bad_request(message: str, code: str = "bad_request", binance: int = -1102) -> ApiError:
    return ApiError(400, code, message, binance)


def not_found(message: str, code: str = "not_found", binance: int = -2013) -> ApiError:
    return ApiError(
        404 if binance != -2013 else 400, code, message, binance, "Order does not exist." if binance == -2013 else None
    )


# engine rejection code -> (HTTP status, Binance code, Binance message or None to use the engine's text)
_REJECTS: dict[str, tuple[int, int, str | None]] = {
    "insufficient_margin": (400, -4050, "Cross balance insufficient. Margin is insufficient."),
    "insufficient_balance": (400, -4050, "Cross balance insufficient."),
    "bad_quantity": (400, -1013, None),
    "bad_price": (400, -1013, None),
    "bad_stop_price": (400, -1013, None),
    "below_min_notional": (400, -2010, None),
    "reduce_only_rejected": (400, -2010, "ReduceOnly Order is rejected."),
    "would_immediately_trigger": (400, -4142, "Order would immediately trigger."),
    "unknown_order": (400, -2011, "Unknown order sent."),
    "unknown_symbol": (400, -1121, "Invalid symbol."),
    "unknown_account": (400, -2015, "Invalid API-key, IP, or permissions for action."),
    "bad_leverage": (400, -4028, None),
    "leverage_above_tier_max": (400, -4028, None),
    "position_open": (400, -4048, "Margin type cannot be changed if there exists position."),
    "orders_open": (400, -4047, "Margin type cannot be changed if there exists open orders."),
    "no_position": (400, -4054, "Cannot add position margin: position is 0."),
    "not_isolated": (400, -4049, "Add margin only support for isolated position."),
    "above_max_removable": (400, -4051, "Isolated balance insufficient."),
    "bad_amount": (400, -4055, "Amount must be positive."),
    "position_side_mismatch": (400, -4061, "Order's position side does not match user's setting."),
    "position_side_required": (400, -4061, "Order's position side does not match user's setting."),
    "reduce_only_hedge": (400, -1106, "Parameter 'reduceonly' sent when not required."),
    "bad_time_in_force": (400, -1115, "Invalid timeInForce."),
    "duplicate_client_order_id": (400, -4015, "Client order id is not valid."),
    "bad_client_order_id": (400, -4015, "Client order id is not valid."),
    "idempotency_key_reused": (400, -4015, "Client order id is not valid."),
    "post_only_rejected": (400, -2010, None),
    "not_amendable": (400, -2010, None),
    "bad_callback_rate": (400, -2010, None),
    "bad_close_position": (400, -4137, None),
    "no_reference_price": (400, -2010, None),
    "market_paused": (400, -2010, "Market is paused by the operator."),
    "fok_unfillable": (400, -2010, "Due to the order could not be filled immediately, the FOK order is rejected."),
    "too_many_orders": (400, -2010, "Reach max open order limit."),
    "above_max_tier": (400, -2010, "Exceeded the maximum allowable position at current leverage."),
    "engine_failed": (503, -1001, None),
}

_FILTER = {"bad_quantity": "LOT_SIZE", "bad_price": "PRICE_FILTER", "bad_stop_price": "PRICE_FILTER"}


def from_reject(code: str, message: str) -> ApiError:
    """An engine `Rejected` as an ApiError with the Binance code ccxt maps to the right exception."""
    status, binance, msg = _REJECTS.get(code, (400, -2010 if "order" in code else -1130, None))
    if code in _FILTER:
        msg = f"Filter failure: {_FILTER[code]} ({message})"
    elif code.startswith("post"):
        msg = "Due to the order could not be executed as maker, the Post Only order will be rejected."
    elif code == "insufficient_margin" or code == "insufficient_balance":
        msg = f"{msg} ({message})"
    return ApiError(status, code, message, binance, msg)
