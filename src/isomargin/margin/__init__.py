"""Pure, exact margin mathematics: no state, no I/O, Decimal in and out.

Notional, initial and maintenance margin, tiers, liquidation and bankruptcy prices, margin ratios,
PnL, margin adjustment and position sizing. Everything the calculator and the engine compute.
"""

from isomargin.margin.adjust import MarginAdjustment, adjust_isolated_margin, max_removable_margin
from isomargin.margin.contract import (
    ContractKind,
    Side,
    break_even_price,
    initial_margin,
    notional,
    roe,
    unrealized_pnl,
)
from isomargin.margin.errors import MarginError
from isomargin.margin.inverse import (
    average_entry,
    coin_notional,
    contracts_of,
    face_value,
    harmonic_entry,
    inverse_bankruptcy_price,
    inverse_maintenance_margin,
    inverse_pnl,
)
from isomargin.margin.liquidation import (
    Leg,
    MMBasis,
    bankruptcy_price,
    equity_at,
    liquidation_price_cross,
    liquidation_price_isolated,
    maintenance_at,
    make_leg,
    solve_liquidation_price,
)
from isomargin.margin.numbers import MONEY, D, plain, round_down, round_up
from isomargin.margin.ratios import effective_leverage, maintenance_margin_ratio, margin_balance, margin_ratio
from isomargin.margin.sizing import SizingPlan, atr_stop, plan_position
from isomargin.margin.tiers import Deduction, Tier, TierBasis, TierTable, cumulative_amount

__all__ = [
    "MONEY",
    "ContractKind",
    "D",
    "Deduction",
    "Leg",
    "MMBasis",
    "MarginAdjustment",
    "MarginError",
    "Side",
    "SizingPlan",
    "Tier",
    "TierBasis",
    "TierTable",
    "adjust_isolated_margin",
    "atr_stop",
    "average_entry",
    "bankruptcy_price",
    "break_even_price",
    "coin_notional",
    "contracts_of",
    "cumulative_amount",
    "effective_leverage",
    "equity_at",
    "face_value",
    "harmonic_entry",
    "initial_margin",
    "inverse_bankruptcy_price",
    "inverse_maintenance_margin",
    "inverse_pnl",
    "liquidation_price_cross",
    "liquidation_price_isolated",
    "maintenance_at",
    "maintenance_margin_ratio",
    "make_leg",
    "margin_balance",
    "margin_ratio",
    "max_removable_margin",
    "notional",
    "plain",
    "plan_position",
    "roe",
    "round_down",
    "round_up",
    "solve_liquidation_price",
    "unrealized_pnl",
]
