"""The demo's BTC-USD option chain: expiries at 08:00 UTC from the clock, strikes around the index, listed at start-up
with the index from the BTC price and IV marks from the smile, re-marked by a feed tick, a passed expiry settled."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from isomargin.server.config import VenueConfig
from isomargin.server.option_demo import OptionDemo, expiries, smile_vol, strikes, symbol
from isomargin.server.testing import InProcessVenue, request

D = Decimal


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1000


def test_expiries_strikes_and_names() -> None:
    # 4 Dec 2026 07:59: the first 08:00 at least a day ahead is 5 Dec 08:00 (24 h + 1 min); the second 6 days on
    assert expiries(ms(2026, 12, 4, 7, 59)) == [ms(2026, 12, 5, 8), ms(2026, 12, 11, 8)]
    # 08:01: 5 Dec 08:00 is 23 h 59 min away, so 6 Dec
    assert expiries(ms(2026, 12, 4, 8, 1)) == [ms(2026, 12, 6, 8), ms(2026, 12, 12, 8)]
    assert strikes(D(61001)) == [D(58000), D(60000), D(62000), D(64000), D(66000)]  # 30.5005 steps: 31 steps
    assert strikes(D(1500)) == [D(2000), D(4000), D(6000)]  # 0.75 steps: 1 step; none at or below zero
    assert symbol(ms(2026, 12, 5, 8), D(61000), "C") == "BTC-USD-261205-61000-C"
    assert smile_vol(D(60000), D(64000)) == D("0.63")  # 0.55 + 0.04 × 2 steps


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVenue]:
    data: Path = tmp_path_factory.mktemp("optdemo") / "data"
    config = VenueConfig(data_dir=data, admin_key="k", market_maker=False, feed=False, rate_limit=0,
                         interest_schedule=False, option_chain=True)  # fmt: skip
    with InProcessVenue(config) as v:
        yield v


def test_chain_listed_and_marked(venue: InProcessVenue) -> None:
    rows = request(venue.base + "/api/v1/options?family=BTC-USD")[1]
    assert len(rows) == 2 * 5 * 2  # two expiries, five strikes, call and put
    first, second = expiries(int(datetime.now(UTC).timestamp() * 1000))
    assert sorted({r["expiry"] for r in rows}) in ([first, second], expiries(first - 86400_000))
    assert {r["strike"] for r in rows} == {"56000", "58000", "60000", "62000", "64000"}  # BTCUSDT starts at 60,000
    assert all(r["index_price"] == "60000" and r["mark_price"] is not None for r in rows)
    atm = next(r for r in rows if r["strike"] == "60000" and r["kind"] == "call")
    assert atm["iv"] == "0.55"
    wing = next(r for r in rows if r["strike"] == "64000" and r["kind"] == "put")
    assert wing["iv"] == "0.63"
    chain = request(venue.base + "/api/v1/options/chain?family=BTC-USD")[1]
    assert len(chain["expiries"]) == 2 and len(chain["expiries"][0]["strikes"]) == 5


def test_feed_tick_moves_index_and_marks(venue: InProcessVenue) -> None:
    assert venue.venue is not None
    v = venue.venue
    venue.admin("mark-price", {"symbol": "BTCUSDT", "price": "61000"})
    asyncio.run_coroutine_threadsafe(OptionDemo(v).tick(), v.loop).result(10)  # type: ignore[arg-type]
    rows = request(venue.base + "/api/v1/options?family=BTC-USD")[1]
    assert {r["index_price"] for r in rows} == {"61000"}
    call = next(r for r in rows if r["strike"] == "60000" and r["kind"] == "call")
    assert call["iv"] == "0.57"  # 1,000 from the money: half a step, 0.55 + 0.02
