"""The deterministic state machine: commands in, events out, no wall clock and no I/O.

    engine = Engine()
    events = engine.apply(ListInstrument("BTCUSDT", venue="binance"))

Commands are in `isomargin.engine.commands`, events in `isomargin.engine.events`, read views in
`isomargin.engine.queries`, snapshot/restore/hash in `isomargin.engine.snapshot`.
"""

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
from isomargin.engine.events import Event, Rejected
from isomargin.engine.snapshot import restore, snapshot, state_hash

__all__ = [
    "STP",
    "AdjustMargin",
    "AmendOrder",
    "CancelAllOrders",
    "CancelOrder",
    "Command",
    "CreateAccount",
    "Deposit",
    "Engine",
    "Event",
    "FundInsurance",
    "ListInstrument",
    "MarginMode",
    "OrderSide",
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
