"""Turning a finished simulation into plain, deterministic results (decimals as strings, fixed order).

`js` makes any result JSON-ready; `dumps` writes it with sorted keys so the same run gives the same
bytes; `drawdown` and `downsample` are the small numeric helpers the reports share.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from isomargin.sim.episodes import Episode, mode_name
from isomargin.sim.runner import Simulation

ZERO = Decimal(0)


def js(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if not math.isfinite(f) else float(f"{f:.10g}")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return [js(v) for v in value.tolist()]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): js(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [js(v) for v in value]
    return value


def format_decimal(d: Decimal) -> str:
    """Plain notation, no exponent, trailing zeros dropped, at most 18 places (money is exact to 10; quotients
    such as entry and liquidation prices carry more and are cut at 18)."""
    q = d.quantize(Decimal("1E-18")) if d.as_tuple().exponent < -18 else d  # type: ignore[operator]
    s = f"{q:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def dumps(result: Any) -> str:
    return json.dumps(js(result), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def drawdown(equity: npt.NDArray[np.float64]) -> tuple[float, int, int]:
    """(max drawdown as a fraction of the running peak, peak index, trough index)."""
    if len(equity) == 0:
        return 0.0, 0, 0
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (peak - equity) / peak, 0.0)
    trough = int(np.argmax(dd))
    top = int(np.argmax(equity[: trough + 1])) if trough else 0
    return float(dd[trough]), top, trough


def downsample(n: int, points: int) -> npt.NDArray[np.int64]:
    """At most `points` indices spread evenly over 0..n−1, always including the last."""
    if n <= points:
        return np.arange(n, dtype=np.int64)
    idx = np.linspace(0, n - 1, points).round().astype(np.int64)
    return np.unique(idx)


def episode_dict(e: Episode, sim: Simulation) -> dict[str, Any]:
    frac = e.loss_fraction
    return {
        "account": e.account,
        "symbol": e.symbol,
        "side": e.side,
        "mode": "?" if e.mode is None else mode_name(e.mode),
        "leverage": e.leverage,
        "opened_bar": e.opened,
        "closed_bar": e.closed,
        "entry": e.entry,
        "size": e.peak_size,
        "allocated_margin": e.allocated,
        "loss": e.loss,
        "margin_loss": e.margin_loss,
        "loss_fraction_of_margin": frac,
        "fees": e.fees,
        "funding": e.funding,
        "realized_pnl": e.realized,
        "liquidated": e.liquidated,
        "liquidation_price": e.liquidation_price,
        "liquidation_steps": e.steps,
        "bad_debt_covered": e.covered,
        "isolated_cap_ok": e.cap_ok,
        "open": e.closed is None,
        "opened_ts": int(sim.bars[e.symbol].ts[e.opened]),
        **_contracts(e, sim),
    }


def _contracts(e: Episode, sim: Simulation) -> dict[str, Any]:
    """An inverse position's peak size also in contracts (its size is face value in USD) and its money asset."""
    if not sim.inverse.get(e.symbol):
        return {}
    spec = sim.instrument(e.symbol).spec
    return {"contracts": e.peak_size / spec.contract_size, "asset": spec.settle}


def worst(episodes: list[dict[str, Any]]) -> Decimal | None:
    fr = [e["loss_fraction_of_margin"] for e in episodes if e["loss_fraction_of_margin"] is not None]
    return max(fr) if fr else None


# The outcome figures of a backtest, in the order the CLI and the HTML report show them.
OUTCOME_KEYS = (
    "final_equity",
    "return",
    "max_drawdown",
    "trades",
    "fees",
    "funding",
    "partial_liquidations",
    "full_liquidations",
    "adl_events",
    "bad_debt",
    "insurance_draws",
    "worst_loss_fraction_of_margin",
)
# A spot-margin backtest's: interest (and the hours charged) where a perpetual pays funding.
SPOT_OUTCOME_KEYS = tuple(
    k for key in OUTCOME_KEYS for k in ((key, "interest", "interest_hours") if key == "funding" else (key,))
)
# An options backtest's: premium collected and paid, settlement paid and received, where a perpetual pays funding.
OPTIONS_OUTCOME_KEYS = tuple(
    k
    for key in OUTCOME_KEYS
    for k in (
        ("premium_collected", "premium_paid", "settlement_paid", "settlement_received") if key == "funding" else (key,)
    )
)


def outcome_keys(result: dict[str, Any]) -> tuple[str, ...]:
    keys = {"spot-margin": SPOT_OUTCOME_KEYS, "options": OPTIONS_OUTCOME_KEYS}
    return keys.get(result.get("product") or "perp", OUTCOME_KEYS)
