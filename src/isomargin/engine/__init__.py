"""The deterministic state machine: commands in, events out, no wall clock and no I/O.

    engine = Engine()
    events = engine.apply(ListInstrument("BTCUSDT", venue="binance"))

Commands are in `isomargin.engine.commands`, events in `isomargin.engine.events`, outcome codes in
`isomargin.engine.codes`, read views in `isomargin.engine.queries`, snapshot/restore/hash in
`isomargin.engine.snapshot`. docs/engine.md says which component owns what.
"""

from isomargin.engine.codes import AlertLevel, Code, LiquidationStep, OrderReason, OrderStatus
from isomargin.engine.commands import (
    STP,
    AdjustMargin,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    Command,
    CreateAccount,
    Deposit,
    FundInsurance,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetMarketStatus,
    SetMarkPrice,
    SetPositionMode,
    SettleFunding,
    TimeInForce,
    Withdraw,
    WorkingType,
)
from isomargin.engine.engine import Engine
from isomargin.engine.errors import EngineFailed
from isomargin.engine.events import Event, Rejected
from isomargin.engine.snapshot import restore, snapshot, state_hash

__all__ = [
    "STP",
    "AdjustMargin",
    "AlertLevel",
    "AmendOrder",
    "CancelAllOrders",
    "CancelOrder",
    "Code",
    "Command",
    "CreateAccount",
    "Deposit",
    "Engine",
    "EngineFailed",
    "Event",
    "FundInsurance",
    "LiquidationStep",
    "ListInstrument",
    "MarginMode",
    "OrderReason",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PlaceOrder",
    "PositionSide",
    "Rejected",
    "SetLeverage",
    "SetMarginMode",
    "SetMarkPrice",
    "SetMarketStatus",
    "SetPositionMode",
    "SettleFunding",
    "TimeInForce",
    "Withdraw",
    "WorkingType",
    "restore",
    "snapshot",
    "state_hash",
]
