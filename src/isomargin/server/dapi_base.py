"""Plumbing of the Binance COIN-M compatible API under /dapi/v1 and /dapi/v2: the route table (the same
dispatch, auth and parameter grammar as /fapi, over coin-margined markets only), whole-contract quantities
(the engine sizes an inverse position by face value = contracts × contract size) and COIN-M order views.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from isomargin.engine import queries as q
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import Api, b_algo, b_order, decimal, need
from isomargin.server.venue import Venue, fmt

router = APIRouter()
DAPI = Api("dapi", inverse=True)
route = DAPI.route
ZERO = Decimal(0)
PERPETUAL_DELIVERY: Final = 4133404800000  # Binance's deliveryDate of a perpetual (2100-12-25)
DAPI_DOC = ("Binance COIN-M compatible endpoints (coin-margined contracts: quantities in whole contracts, margin, "
            "PnL and fees in the coin; e.g. v1/order, v1/positionRisk, v2/leverageBracket); errors are Binance's "
            "{code, msg}.")  # fmt: skip
DAPI.mount(router, "Binance COIN-M compatible", DAPI_DOC)


async def dispatch(request: Request, version: str, path: str) -> Response:
    return await DAPI.serve(request, version, path)


def inst_of(venue: Venue, symbol: str) -> Any:
    inst = venue.read(lambda: q.instrument(venue.engine, symbol))
    assert inst is not None
    return inst


def size_of(venue: Venue, symbol: str) -> Decimal:
    """USD per contract (100 for BTCUSD, 10 for the others on Binance)."""
    size: Decimal = inst_of(venue, symbol).spec.contract_size
    return size


def pair_of(symbol: str) -> str:
    """BTCUSD_PERP, BTCUSD_200925 -> BTCUSD."""
    return symbol.partition("_")[0]


def contracts(p: dict[str, str], name: str) -> int | None:
    """A quantity in whole contracts: the decimal grammar first (-1100), then whole (-1111) and at least one
    contract (-4003); absent or empty gives None."""
    value = decimal(p, name)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise ApiError(400, "not_whole_contracts", f"{name} must be a whole number of contracts, got {fmt(value)}",
                       -1111, "Precision is over the maximum defined for this asset.")  # fmt: skip
    if value < 1:
        raise ApiError(400, "bad_quantity", f"{name} must be at least one contract", -4003,
                       "Quantity less than or equal to zero.")  # fmt: skip
    return int(value)


def face_params(venue: Venue, p: dict[str, str], symbol: str) -> dict[str, str]:
    """The order parameters with `quantity` in contracts turned into the engine's face value (USD)."""
    out = dict(p)
    n = contracts(p, "quantity")
    if n is not None:
        out["quantity"] = fmt(n * size_of(venue, symbol))
    return out


def in_contracts(face: Decimal, size: Decimal) -> str:
    return fmt(face / size)


def d_order(venue: Venue, rec: dict[str, Any]) -> dict[str, Any]:
    """An order record as COIN-M shows it: origQty / executedQty / cumQty in contracts, cumBase the filled
    value in the coin (face / average price)."""
    view = b_order(rec)
    size = size_of(venue, rec["symbol"])
    avg = rec.get("avg_price") or ZERO
    filled = rec["filled"] or ZERO
    view.pop("cumQuote", None)  # a closePosition order has no quantity of its own: 0, as b_order shows it
    view.update(pair=pair_of(rec["symbol"]), origQty=in_contracts(rec["qty"] or ZERO, size),
                executedQty=in_contracts(filled, size), cumQty=in_contracts(filled, size),
                cumBase=fmt(filled / avg) if avg else "0")  # fmt: skip
    return view


def d_algo(venue: Venue, rec: dict[str, Any]) -> dict[str, Any]:
    """A conditional order as COIN-M's algo endpoints show it: quantity and executedQty in contracts."""
    view = b_algo(rec)
    size = size_of(venue, rec["symbol"])
    view.update(pair=pair_of(rec["symbol"]), quantity=in_contracts(rec["qty"] or ZERO, size),
                executedQty=in_contracts(rec["filled"] or ZERO, size))  # fmt: skip
    return view


def amount(p: dict[str, str], name: str) -> Decimal:
    """A required positive decimal amount (coin) through the grammar."""
    need(p, name)
    value = decimal(p, name)
    assert value is not None
    if value <= 0:
        raise ApiError(400, "bad_amount", f"{name} must be positive", -4055, "Amount must be positive.")
    return value
