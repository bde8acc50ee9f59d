"""Read views shared by the native and Binance APIs: positions with the extra figures venues show (built from
`isomargin.engine.queries` views) and the order-parameter parser both APIs use.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any, Final, TypeVar

from isomargin.engine import (
    STP,
    Engine,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    TimeInForce,
    WorkingType,
)
from isomargin.engine import queries as q
from isomargin.margin import Side, max_removable_margin
from isomargin.server.errors import ApiError
from isomargin.server.params import (
    enum_choices,
    parse_bool,
    parse_client_id,
    parse_decimal,
    parse_enum,
    parse_symbol,
)
from isomargin.server.venue import position_row

ZERO = Decimal(0)
T = TypeVar("T")
CLIENT_ID_BITS: Final = 96  # a generated client order id: "im-" and 24 hex digits
# The generator of those ids: seeded from the OS once, then drawn from without a system call (uuid4 reads
# os.urandom per id, which releases the GIL on the event loop and waits to get it back from the journal's
# threads). They need to be unique per account, not unpredictable: another account cannot reach an order by it.
_IDS: Final = random.Random()


def generated_client_id() -> str:
    return f"im-{_IDS.getrandbits(CLIENT_ID_BITS):024x}"


def removable(engine: Engine, view: dict[str, Any]) -> Decimal:
    """What may leave an isolated position's margin now (zero for cross or flat positions)."""
    if view["margin_mode"] is not MarginMode.ISOLATED or not view["size"]:
        return ZERO
    inst = q.instrument(engine, view["symbol"])
    assert inst is not None
    side = Side.LONG if view["size"] > 0 else Side.SHORT
    return max(max_removable_margin(side, abs(view["size"]), view["entry_price"], view["isolated_margin"],
                                    view["mark_price"], view["leverage"], inst.kind), ZERO)  # fmt: skip


def max_removable(engine: Engine, account: int, symbol: str, pside: str) -> Decimal:
    if not q.account_exists(engine, account):
        return ZERO
    view = q.position(engine, account, symbol, PositionSide(pside))
    return ZERO if view is None else removable(engine, view)


def position_views(engine: Engine, account: int) -> list[dict[str, Any]]:
    """Engine position figures plus max removable margin, distance to liquidation and the asset pair."""
    hedge = q.account(engine, account)["hedge_mode"]
    out = []
    for view in q.positions(engine, account):
        inst = q.instrument(engine, view["symbol"])
        assert inst is not None
        p = position_row(view)
        liq = p["liquidation_price"]
        mark = p["mark_price"]
        if inst.inverse:  # coin-margined: size is face value in USD; margin, PnL and notional in the coin
            p["base_asset"], p["quote_asset"] = inst.settle, "USD"
            p["contracts"] = abs(p["size"]) / inst.spec.contract_size
            p["contract_size"] = inst.spec.contract_size
        else:
            p["base_asset"] = p["symbol"][: -len(inst.settle)] if p["symbol"].endswith(inst.settle) else p["symbol"]
            p["quote_asset"] = inst.settle
        p["margin_asset"] = inst.settle
        p["kind"] = "inverse" if inst.inverse else "linear"
        p["side"] = "long" if p["size"] > 0 else "short"
        p["liquidation_distance"] = abs(mark - liq) / mark if liq is not None and mark else None
        p["max_removable_margin"] = removable(engine, view)
        p["position_mode"] = "hedge" if hedge else "one_way"
        out.append(p)
    return out


# Wire tables of the order parameters (Binance's names; matched in any ASCII case) and the codes Binance uses
# when they hold anything else.
ORDER_SIDES: Final = {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}
ORDER_TYPES: Final = enum_choices(OrderType, {"STOP_LIMIT": OrderType.STOP_LIMIT,
                                              "TAKE_PROFIT_LIMIT": OrderType.TAKE_PROFIT_LIMIT})  # fmt: skip
TIMES_IN_FORCE: Final = enum_choices(TimeInForce)
POSITION_SIDES: Final = enum_choices(PositionSide)
WORKING_TYPES: Final = enum_choices(WorkingType)
STP_MODES: Final = enum_choices(STP)
RESPONSE_TYPES: Final = {"ACK": "ACK", "RESULT": "RESULT"}  # both answered with the full order (RESULT)
PRICE_MATCH: Final = {"NONE": "NONE"}  # priceMatch (OPPONENT, QUEUE…) is not supported: refused, not ignored
_MARKET_TYPES: Final = frozenset({OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET,
                                  OrderType.TRAILING_STOP_MARKET})  # fmt: skip


def _given(p: dict[str, Any], *names: str) -> tuple[str, Any] | None:
    """(name, value) of the first of `names` sent non-empty; an empty form value counts as not sent (Binance:
    "was not sent, was empty/null")."""
    for name in names:
        v = p.get(name)
        if v is not None and v != "":
            return name, v
    return None


def _decimal(p: dict[str, Any], *names: str) -> Decimal | None:
    """A decimal parameter through the grammar. A Decimal is one the native API's model already parsed with it."""
    hit = _given(p, *names)
    if hit is None:
        return None
    name, v = hit
    return v if isinstance(v, Decimal) else parse_decimal(v, name)


def _choice(p: dict[str, Any], name: str, table: dict[str, T], code: str, binance: int, msg: str) -> T | None:
    hit = _given(p, name)
    return None if hit is None else parse_enum(hit[1], table, name, code=code, binance=binance, binance_msg=msg)


def _flag(p: dict[str, Any], name: str, binance: int = -1130, msg: str | None = None) -> bool:
    hit = _given(p, name)
    return False if hit is None else parse_bool(hit[1], name, binance=binance, binance_msg=msg)


def order_command(account: int, p: dict[str, Any]) -> PlaceOrder:
    """A PlaceOrder from Binance-named parameters (symbol, side, type, quantity, price, stopPrice, …), every
    value through the edge grammar (`isomargin.server.params`)."""
    for name in ("symbol", "side", "type"):
        if _given(p, name) is None:
            raise ApiError(400, "missing_parameter", f"parameter '{name}' is required", -1102,
                           f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")  # fmt: skip
    symbol = parse_symbol(p["symbol"])
    side = parse_enum(p["side"], ORDER_SIDES, "side", code="bad_side", binance=-1117, binance_msg="Invalid side.")
    kind = parse_enum(p["type"], ORDER_TYPES, "type", code="bad_order_type", binance=-1116,
                      binance_msg="Invalid orderType.")  # fmt: skip
    qty = _decimal(p, "quantity")
    price = _decimal(p, "price")
    stop_price = _decimal(p, "stopPrice", "triggerPrice")
    if kind in _MARKET_TYPES:
        price = None if price == 0 else price
    tif = _choice(p, "timeInForce", TIMES_IN_FORCE, "bad_time_in_force", -1115, "Invalid timeInForce.")
    pside = _choice(p, "positionSide", POSITION_SIDES, "bad_position_side", -4060, "Invalid position side.")
    working = _choice(p, "workingType", WORKING_TYPES, "bad_working_type", -4031, "Invalid parameter working type")
    stp = _choice(p, "selfTradePreventionMode", STP_MODES, "bad_stp_mode", -1130,
                  "Data sent for parameter 'selfTradePreventionMode' is not valid.")  # fmt: skip
    _choice(p, "newOrderRespType", RESPONSE_TYPES, "bad_response_type", -1136, "Invalid newOrderRespType.")
    _choice(p, "priceMatch", PRICE_MATCH, "not_supported", -1130, "Data sent for parameter 'priceMatch' is not valid.")
    _flag(p, "priceProtect")  # validated; price protection is not modelled
    close = _flag(p, "closePosition")
    reduce_only = _flag(p, "reduceOnly", -4062, "Invalid or improper reduceOnly value.")
    coid_hit = _given(p, "newClientOrderId", "clientAlgoId", "client_order_id")
    coid = parse_client_id(coid_hit[1], coid_hit[0]) if coid_hit else generated_client_id()
    return PlaceOrder(
        account=account,
        symbol=symbol,
        side=side,
        type=kind,
        qty=None if close and not qty else qty,
        price=price,
        stop_price=stop_price,
        tif=tif or TimeInForce.GTC,
        reduce_only=reduce_only,
        close_position=close,
        position_side=pside or PositionSide.BOTH,
        client_order_id=coid,
        working_type=working or WorkingType.CONTRACT_PRICE,
        callback_rate=_decimal(p, "callbackRate"),
        activation_price=_decimal(p, "activationPrice", "activatePrice"),
        stp=stp or STP.NONE,
    )
