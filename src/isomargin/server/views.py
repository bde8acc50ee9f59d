"""Read views shared by the native and Binance APIs: positions with the extra figures venues show (built from
`isomargin.engine.queries` views) and the order-parameter parser both APIs use.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from isomargin.engine import (
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
from isomargin.server.venue import dec, position_row

ZERO = Decimal(0)


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
        p["base_asset"] = p["symbol"][: -len(inst.settle)] if p["symbol"].endswith(inst.settle) else p["symbol"]
        p["quote_asset"] = inst.settle
        p["side"] = "long" if p["size"] > 0 else "short"
        p["liquidation_distance"] = abs(mark - liq) / mark if liq is not None and mark else None
        p["max_removable_margin"] = removable(engine, view)
        p["position_mode"] = "hedge" if hedge else "one_way"
        out.append(p)
    return out


_TYPES = {t.value: t for t in OrderType}
_TYPES["STOP_LIMIT"] = OrderType.STOP_LIMIT
_TYPES["TAKE_PROFIT_LIMIT"] = OrderType.TAKE_PROFIT_LIMIT


def _enum(value: str | None, table: dict[str, Any], what: str, code: int) -> Any:
    if value is None:
        return None
    v = table.get(value.upper())
    if v is None:
        raise ApiError(400, f"bad_{what}", f"invalid {what} {value!r}; one of {', '.join(table)}", code,
                       f"Invalid {what}.")  # fmt: skip
    return v


def _bool(value: str | bool | None, what: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    v = str(value).lower()
    if v not in ("true", "false"):
        raise ApiError(400, "bad_parameter", f"{what} must be true or false", -1130, f"Invalid {what}.")
    return v == "true"


def order_command(account: int, p: dict[str, Any]) -> PlaceOrder:
    """A PlaceOrder from Binance-named parameters (symbol, side, type, quantity, price, stopPrice, …)."""
    for name in ("symbol", "side", "type"):
        if not p.get(name):
            raise ApiError(400, "missing_parameter", f"parameter '{name}' is required", -1102,
                           f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")  # fmt: skip
    side = _enum(p["side"], {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}, "side", -1117)
    kind = _enum(p["type"], _TYPES, "orderType", -1116)
    qty = dec(p["quantity"], "quantity") if p.get("quantity") not in (None, "") else None
    price = dec(p["price"], "price") if p.get("price") not in (None, "") else None
    stop = p.get("stopPrice") or p.get("triggerPrice")
    stop_price = dec(stop, "stopPrice") if stop not in (None, "") else None
    if kind in (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET, OrderType.TRAILING_STOP_MARKET):
        price = None if price == 0 else price
    tif = _enum(p.get("timeInForce"), {t.value: t for t in TimeInForce}, "timeInForce", -1115) or TimeInForce.GTC
    pside = _enum(p.get("positionSide"), {s.value: s for s in PositionSide}, "positionSide", -4061)
    working = _enum(p.get("workingType"), {w.value: w for w in WorkingType}, "workingType", -4031)
    close = _bool(p.get("closePosition"), "closePosition")
    coid = p.get("newClientOrderId") or p.get("clientAlgoId") or p.get("client_order_id")
    if coid is None:
        coid = "im-" + uuid.uuid4().hex[:24]
    cb = p.get("callbackRate")
    act = p.get("activationPrice") or p.get("activatePrice")
    return PlaceOrder(
        account=account,
        symbol=str(p["symbol"]).upper(),
        side=side,
        type=kind,
        qty=None if close and not qty else qty,
        price=price,
        stop_price=stop_price,
        tif=tif,
        reduce_only=_bool(p.get("reduceOnly"), "reduceOnly"),
        close_position=close,
        position_side=pside or PositionSide.BOTH,
        client_order_id=str(coid),
        working_type=working or WorkingType.CONTRACT_PRICE,
        callback_rate=dec(cb, "callbackRate") if cb not in (None, "") else None,
        activation_price=dec(act, "activationPrice") if act not in (None, "") else None,
    )
