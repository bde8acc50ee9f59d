"""The hourly interest schedule with an injected clock and sleep (no real waiting): one charge at start-up, then
one `AccrueInterest` stamped exactly at each whole UTC hour, journaled through the venue; nothing is submitted
while no loan is outstanding. Interest figures are worked by hand: 500 USDT at 0.00024 a day is
500 × 0.00024 / 24 = 0.005 USDT an hour.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from isomargin.engine import Deposit, SetMarkPrice
from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import Borrow, ListSpotPair, MarginTransfer
from isomargin.server.config import VenueConfig
from isomargin.server.schedule import HOUR_MS, InterestSchedule, next_hour
from isomargin.server.venue import Venue, now_ms


class FakeClock:
    """Milliseconds that move only when the schedule sleeps."""

    def __init__(self, start: int) -> None:
        self.t = start
        self.slept: list[float] = []

    def now(self) -> int:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += int(seconds * 1000)
        await asyncio.sleep(0)


def open_venue(tmp_path: Path) -> Venue:
    config = VenueConfig(data_dir=tmp_path / "data", admin_key="k", market_maker=False, feed=False,
                         interest_schedule=False, insurance_seed=Decimal(0), spot_pairs=())  # fmt: skip
    v = Venue(config)
    v.bootstrap()
    return v


def test_next_hour() -> None:
    assert next_hour(0) == HOUR_MS and next_hour(HOUR_MS - 1) == HOUR_MS and next_hour(HOUR_MS) == 2 * HOUR_MS


def test_charges_at_start_and_at_each_hour_boundary(tmp_path: Path) -> None:
    v = open_venue(tmp_path)
    try:
        v.call(ListSpotPair("BTC-USDT", venue="binance"))
        v.call(SetMarkPrice("BTC-USDT", Decimal(60000), Decimal(60000)))
        acct = v.create_account_sync()
        v.call(Deposit(acct, "USDT", Decimal(1000)))
        v.call(MarginTransfer(acct, "BTC-USDT", "USDT", Decimal(1000)))
        v.call(Borrow(acct, "BTC-USDT", "USDT", Decimal(500)))  # the first hour, 0.005, at once
        start = now_ms()
        clock = FakeClock(start)
        schedule = InterestSchedule(v, now=clock.now, sleep=clock.sleep)
        asyncio.run(schedule.run(hours=3))
        first = next_hour(start)
        assert schedule.charged_at == [start, first, first + HOUR_MS, first + 2 * HOUR_MS]
        assert clock.t >= first + 2 * HOUR_MS and sum(clock.slept) < 3 * 3600 + 1  # slept to the boundaries only
        hourly = [r for r in v.spot_history.interest[acct] if r["kind"] == "hourly"]
        # the start-up charge finds no whole hour since the borrow (unless the test ran across one)
        assert [r["through"] for r in hourly][-3:] == [first, first + HOUR_MS, first + 2 * HOUR_MS]
        assert all((r["hours"], r["amount"]) == (1, "0.005") for r in hourly[-3:])
        owed = v.read(lambda: sq.margin_account(v.engine, acct, "BTC-USDT"))["assets"]["USDT"]["interest"]
        assert owed == Decimal("0.005") * (1 + len(hourly))
    finally:
        v.close()


def test_nothing_is_journaled_without_a_loan(tmp_path: Path) -> None:
    v = open_venue(tmp_path)
    try:
        v.call(ListSpotPair("BTC-USDT", venue="binance"))
        v.call(SetMarkPrice("BTC-USDT", Decimal(60000), Decimal(60000)))
        acct = v.create_account_sync()
        v.call(Deposit(acct, "USDT", Decimal(1000)))
        v.call(MarginTransfer(acct, "BTC-USDT", "USDT", Decimal(1000)))  # a margin account, but no debt
        seq = v.core.seq
        clock = FakeClock(now_ms())
        schedule = InterestSchedule(v, now=clock.now, sleep=clock.sleep)
        asyncio.run(schedule.run(hours=2))
        assert schedule.charged_at == [] and v.core.seq == seq
    finally:
        v.close()
