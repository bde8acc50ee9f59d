"""The venue's hourly interest: an `AccrueInterest` stamped at each whole UTC hour while `serve` runs (and one at
start-up, which charges the hours missed while the venue was down), so every outstanding spot-margin loan is charged
one hour at each boundary, as Binance does. Runs whether or not the demo feed does; skipped while no loan is
outstanding. The clock and the sleep are injectable, so tests step through hours without waiting for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from isomargin.engine import queries as q
from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import AccrueInterest

if TYPE_CHECKING:
    from isomargin.server.venue import Venue

HOUR_MS: Final = 3_600_000
LATE_MS: Final = 50  # wake this long after a boundary (a sleep that ends a little early must not miss the hour)


def next_hour(ts: int) -> int:
    """The first whole UTC hour strictly after `ts` (ms)."""
    return (ts // HOUR_MS + 1) * HOUR_MS


class InterestSchedule:
    """Submits `AccrueInterest` through the venue (journaled like any command) at start and at every hour."""

    def __init__(self, venue: Venue, now: Callable[[], int] | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:  # fmt: skip
        from isomargin.server.venue import now_ms

        self.venue = venue
        self.now = now or now_ms
        self.sleep = sleep
        self.task: asyncio.Task[None] | None = None
        self.charged_at: list[int] = []  # the timestamps it submitted (for tests and the log)

    def start(self) -> None:
        self.task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    def owed(self) -> bool:
        """Whether any isolated margin account owes anything (call under the venue's read lock)."""
        e = self.venue.engine
        return any(sq.side_of(e, a, s) is not None for a in q.accounts(e) for s in sq.margin_accounts(e, a))

    async def accrue(self, ts: int) -> None:
        """One charge at `ts`, unless the venue stopped or no loan is outstanding (then there is nothing to charge,
        and nothing is journaled)."""
        venue = self.venue
        if venue.failure is not None or not venue.read(self.owed):
            return
        await venue.submit(AccrueInterest(), ts=ts)
        self.charged_at.append(ts)

    async def run(self, hours: int | None = None) -> None:
        """Charge now, then at each hour boundary (`hours` of them, or until cancelled or the venue fails)."""
        await self._safely(self.now())
        done = 0
        while (hours is None or done < hours) and self.venue.failure is None:
            boundary = next_hour(self.now())
            while self.now() < boundary:
                await self.sleep((boundary - self.now() + LATE_MS) / 1000)
            await self._safely(boundary)
            done += 1

    async def _safely(self, ts: int) -> None:
        try:
            await self.accrue(ts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep the schedule alive; the next hour charges what this one missed
            logging.getLogger(__name__).warning("interest schedule: %s: %s", type(exc).__name__, exc)
