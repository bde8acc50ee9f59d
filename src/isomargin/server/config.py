"""Server settings: where the journal lives, which markets are listed, which demo parts run, the limits.

One frozen dataclass built by the CLI (or by tests) and handed to `create_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

DEFAULT_PRICES = {"BTCUSDT": Decimal("60000"), "ETHUSDT": Decimal("3000"), "SOLUSDT": Decimal("150")}


@dataclass(frozen=True)
class VenueConfig:
    data_dir: Path = Path("data")
    admin_key: str | None = None
    venue: str = "binance"  # the venue profile whose instruments (tick, step, tiers, fees) are listed
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    start_prices: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    journal: str | None = None  # journal URL; default <data_dir>/journal.sqlite3
    demo_account: bool = False
    demo_deposit: Decimal = Decimal("100000")
    market_maker: bool = True
    feed: bool = True
    feed_interval: float = 1.0  # seconds between index/mark updates
    quote_interval: float = 2.0  # seconds between market-maker re-quotes
    funding_interval: float = 60.0  # seconds between demo funding settlements (0: off); runs with the feed
    seed: int = 7
    rate_limit: int = 2400  # request weight per minute per client IP (0: off)
    ban_after: int = 20  # requests refused with 429 in one window before the client gets 418
    ban_seconds: int = 120
    recv_window_max: int = 60000
    snapshot_every: int = 5000
    insurance_seed: Decimal = Decimal("1000000")  # paid into the insurance fund when the venue is first set up

    @property
    def journal_target(self) -> str:
        return self.journal or str(self.data_dir)
