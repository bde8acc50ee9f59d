"""The demo's option markets: a small OKX BTC-USD chain (strikes around the index, two expiries at 08:00 UTC worked
out from the clock at start-up), its index following the demo feed's BTC price and its marks re-priced by Black-76
from a fixed volatility smile on the feed's schedule; expiries that have passed are settled at the index.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from isomargin.engine import Command, SetMarkPrice
from isomargin.engine import options_queries as oq
from isomargin.engine import queries as q
from isomargin.engine.commands import ListOption, SetOptionVol, SettleOptions
from isomargin.server.errors import ApiError
from isomargin.server.venue import Venue, now_ms

FAMILY: Final = "BTC-USD"  # OKX's coin-margined BTC options: 0.01 BTC a contract, premiums in BTC
INDEX_SOURCE: Final = "BTCUSDT"  # the demo feed's market whose mark is the chain's index
STRIKE_STEP: Final = Decimal(2000)
STRIKE_OFFSETS: Final = (-2, -1, 0, 1, 2)  # strikes: the index rounded to STRIKE_STEP, then this many steps off
EXPIRY_DAYS: Final = (1, 7)  # expiries: the first 08:00 UTC at least a day away, and the one 6 days after it
ATM_VOL: Final = Decimal("0.55")
SMILE: Final = Decimal("0.04")  # vol added per STRIKE_STEP away from the money (a symmetric smile)


def expiries(now: int) -> list[int]:
    """The chain's expiries (ms): 08:00 UTC of the first day whose 08:00 is at least 24 h after `now`, and of the
    day EXPIRY_DAYS[-1] − EXPIRY_DAYS[0] days after that."""
    t = datetime.fromtimestamp(now / 1000, UTC)
    first = t.replace(hour=8, minute=0, second=0, microsecond=0)
    while first < t + timedelta(days=EXPIRY_DAYS[0]):
        first += timedelta(days=1)
    days = [first + timedelta(days=d - EXPIRY_DAYS[0]) for d in EXPIRY_DAYS]
    return [int(d.timestamp()) * 1000 for d in days]


def strikes(index: Decimal) -> list[Decimal]:
    atm = (index / STRIKE_STEP).to_integral_value(ROUND_HALF_EVEN) * STRIKE_STEP
    return [atm + STRIKE_STEP * k for k in STRIKE_OFFSETS if atm + STRIKE_STEP * k > 0]


def symbol(expiry: int, strike: Decimal, kind: str) -> str:
    day = datetime.fromtimestamp(expiry / 1000, UTC).strftime("%y%m%d")
    return f"{FAMILY}-{day}-{format(strike.normalize(), 'f')}-{kind}"


def smile_vol(index: Decimal, strike: Decimal) -> Decimal:
    return ATM_VOL + SMILE * abs(strike - index) / STRIKE_STEP


class OptionDemo:
    """Lists the chain at start-up and keeps its index and marks moving with the feed (asyncio, server loop)."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.task: asyncio.Task[None] | None = None

    def index(self) -> Decimal | None:
        """The demo feed's BTC price now (the BTCUSDT mark), else its start price."""
        m = self.venue.read(lambda: q.market(self.venue.engine, INDEX_SOURCE))
        if m is not None and m["mark_price"] is not None:
            return Decimal(m["mark_price"])
        return self.venue.config.start_prices.get(INDEX_SOURCE)

    def list_chain(self) -> list[str]:
        """List the chain's options not listed yet, then set the index and the marks (synchronously, at start-up);
        returns every chain symbol. A refusal is logged and leaves the rest of the venue as it is."""
        index = self.index()
        if index is None:
            return []
        names = [symbol(e, k, c) for e in expiries(now_ms()) for k in strikes(index) for c in ("C", "P")]
        listed = {r["symbol"] for r in self.venue.read(lambda: oq.options(self.venue.engine, FAMILY))}
        for name in names:
            if name not in listed:
                try:
                    self.venue.call(ListOption(name, venue="okx"))
                except ApiError as exc:
                    print(f"demo options: {name} not listed: {exc.message}", flush=True)
        for cmd in self.refresh_commands(index):
            with contextlib.suppress(ApiError):  # a refusal (say, an IV too close to expiry) leaves that mark as is
                self.venue.call(cmd)
        return names

    def refresh_commands(self, index: Decimal) -> list[Command]:
        """The index, then every live chain option re-marked from the smile; a passed expiry settled at the index."""
        now = now_ms()
        cmds: list[Command] = [SetMarkPrice(FAMILY, index, index)]
        due: set[int] = set()
        for row in self.venue.read(lambda: oq.options(self.venue.engine, FAMILY)):
            if row["expiry"] <= now:
                due.add(row["expiry"])
            else:
                cmds.append(SetOptionVol(row["symbol"], smile_vol(index, row["strike"])))
        cmds.extend(SettleOptions(FAMILY, e, index) for e in sorted(due))
        return cmds

    async def tick(self) -> None:
        index = self.index()
        if index is not None:
            await self.venue.submit_many(self.refresh_commands(index))

    def start(self, interval: float) -> None:
        async def loop() -> None:
            while self.venue.failure is None:
                await asyncio.sleep(interval)
                try:
                    await self.tick()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # keep the demo alive; the error is visible in the log
                    print(f"demo options: {type(exc).__name__}: {exc}", flush=True)

        self.task = asyncio.create_task(loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
