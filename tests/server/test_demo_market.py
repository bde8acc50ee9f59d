"""The demo market trades: seeded noise traders send market orders into the market maker's quotes, so trades and
klines exist without any client; the maker's ten levels a side keep a stop's fill near its trigger."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from isomargin.engine import queries as q
from isomargin.server.config import VenueConfig
from isomargin.server.market import LEVELS, NOISE_SEED, NOISE_USD
from isomargin.server.testing import InProcessVenue, request


def test_noise_traders_make_trades_and_klines(tmp_path: Path) -> None:
    config = VenueConfig(data_dir=tmp_path / "d", admin_key="k", feed_interval=0.2, quote_interval=0.3,
                         noise_interval=0.2, funding_interval=0)  # fmt: skip
    with InProcessVenue(config) as v:
        noise = v.venue.noise_trader
        assert noise is not None and noise != v.venue.market_maker
        deadline = time.time() + 20
        trades: list[dict[str, str]] = []
        while time.time() < deadline and len(trades) < 5:
            time.sleep(0.3)
            _, trades = request(f"{v.base}/fapi/v1/trades?symbol=BTCUSDT")
        assert len(trades) >= 5
        for t in trades:  # each a noise order of 500..6,000 USD (rounded down to the step)
            notional = Decimal(t["price"]) * Decimal(t["qty"])
            assert notional <= NOISE_USD[1] + 1
        _, bars = request(f"{v.base}/fapi/v1/klines?symbol=BTCUSDT&interval=1m")
        assert bars and sum(Decimal(b[5]) for b in bars) == sum(Decimal(t["qty"]) for t in trades)
        _, book = request(f"{v.base}/fapi/v1/depth?symbol=BTCUSDT")
        assert len(book["bids"]) == LEVELS and len(book["asks"]) == LEVELS
        # the whole ask side spans 40 bp at most: a stop-market buy of a level's size fills within it
        best, worst = Decimal(book["asks"][0][0]), Decimal(book["asks"][-1][0])
        assert (worst - best) / best < Decimal("0.0041")
        positions = v.venue.read(lambda: q.positions(v.venue.engine, noise))
        assert positions  # the noise traders hold what they traded


def test_noise_decisions_depend_on_the_seed_alone() -> None:
    import random

    a, b = random.Random(7 + NOISE_SEED), random.Random(7 + NOISE_SEED)
    assert [a.random() for _ in range(30)] == [b.random() for _ in range(30)]
