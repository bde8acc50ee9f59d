"""Binance's /futures/data market statistics (openInterestHist, the global and top long/short ratios, the taker
buy/sell ratio) for the linear markets, read from the five-minute samples the history keeps of each market's
open interest, mark and long/short accounts (`venue.Crowd`) and from its one-minute trade bars.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from isomargin.server.auth import Principal
from isomargin.server.errors import ApiError
from isomargin.server.fapi_base import Api, integer, symbol_of
from isomargin.server.params import echo
from isomargin.server.venue import MINUTE, Venue, fmt

PERIODS = {"5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360, "12h": 720, "1d": 1440}
RATIO_PLACES = 4  # Binance's ratios and shares have four decimals

router = APIRouter()
DATA = Api("futures", inverse=False)  # /futures/data/<name>: Binance's prefix "futures", "version" "data"
DATA.mount(router, "Binance USDⓈ-M market statistics",
           "Binance's /futures/data statistics of the linear markets; errors are Binance's {code, msg}.")  # fmt: skip


class Query:
    """The parameters every statistic takes: symbol, period, limit (1..500, 30 by default), startTime, endTime."""

    def __init__(self, venue: Venue, p: dict[str, str]) -> None:
        self.symbol = symbol_of(venue, p) or ""
        period = p.get("period") or ""
        if period not in PERIODS:
            raise ApiError(400, "bad_period", f"period must be one of {', '.join(PERIODS)}, got {echo(period)}",
                           -1130, "Data sent for parameter 'period' is not valid.")  # fmt: skip
        self.ms = PERIODS[period] * MINUTE
        self.limit = integer(p, "limit", 30, 1, 500) or 30
        self.start, self.end = integer(p, "startTime"), integer(p, "endTime")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ApiError(400, "bad_time_range", "startTime is after endTime", -1128,
                           "startTime must be less than endTime.")  # fmt: skip

    def pick(self, keys: list[int]) -> list[tuple[int, int]]:
        """(period start, the key of its last sample) for each period in the window, oldest first."""
        last: dict[int, int] = {}
        for k in keys:
            last[k - k % self.ms] = k
        rows = [(t, k) for t, k in last.items()
                if (self.start is None or t >= self.start) and (self.end is None or t <= self.end)]  # fmt: skip
        return rows[-self.limit :] if self.start is None else rows[: self.limit]


def share(part: Decimal | int, whole: Decimal | int) -> str:
    return fmt(Decimal(part) / Decimal(whole), RATIO_PLACES) if whole else fmt(0, RATIO_PLACES)


def _samples(venue: Venue, p: dict[str, str], row: Callable[[str, tuple[Any, ...]], dict[str, Any]]) -> Any:
    qp = Query(venue, p)

    def build() -> list[dict[str, Any]]:
        c = venue.history.crowds.get(qp.symbol)
        if c is None:
            return []
        return [{**row(qp.symbol, c.samples[k]), "timestamp": t} for t, k in qp.pick(list(c.samples))]

    return venue.read(build)


def _ratio(sym: str, longs: Decimal | int, shorts: Decimal | int, names: tuple[str, str, str]) -> dict[str, Any]:
    ratio = fmt(Decimal(longs) / Decimal(shorts), RATIO_PLACES) if shorts else fmt(0, RATIO_PLACES)
    whole = Decimal(longs) + Decimal(shorts)
    return {"symbol": sym, names[0]: ratio, names[1]: share(longs, whole), names[2]: share(shorts, whole)}


ACCOUNTS = ("longShortRatio", "longAccount", "shortAccount")
POSITIONS = ("longShortRatio", "longPosition", "shortPosition")


@DATA.route("GET", "data/openInterestHist")
async def open_interest_hist(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    return _samples(venue, p, lambda s, r: {"symbol": s, "sumOpenInterest": fmt(r[0]),
                                            "sumOpenInterestValue": fmt(r[0] * r[1])})  # fmt: skip


@DATA.route("GET", "data/globalLongShortAccountRatio", "data/topLongShortAccountRatio")
async def account_ratio(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Accounts net long against accounts net short (every trader counts as a top trader here)."""
    return _samples(venue, p, lambda s, r: _ratio(s, r[2], r[3], ACCOUNTS))


@DATA.route("GET", "data/topLongShortPositionRatio")
async def position_ratio(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """The traders' long size against their short size."""
    return _samples(venue, p, lambda s, r: _ratio(s, r[4], r[5], POSITIONS))


@DATA.route("GET", "data/takerlongshortRatio")
async def taker_ratio(venue: Venue, p: dict[str, str], who: Principal | None) -> Any:
    """Taker buy volume against taker sell volume per period, from the one-minute trade bars."""
    qp = Query(venue, p)

    def build() -> list[dict[str, Any]]:
        bars = venue.history.bars.get((qp.symbol, "last"))
        if bars is None:
            return []
        rows = bars.read(qp.ms, qp.start, qp.end, qp.limit)
        out = []
        for r in rows:
            buy, sell = r[8], r[5] - r[8]
            out.append({"buySellRatio": fmt(buy / sell, RATIO_PLACES) if sell else fmt(0, RATIO_PLACES),
                        "buyVol": fmt(buy), "sellVol": fmt(sell), "timestamp": r[0]})  # fmt: skip
        return out

    return venue.read(build)
