"""Server settings: where the journal lives, which markets are listed, which demo parts run, the limits.

One frozen dataclass built by the CLI (or by tests) and handed to `create_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

DEFAULT_PRICES = {
    "BTCUSDT": Decimal("60000"),
    "ETHUSDT": Decimal("3000"),
    "SOLUSDT": Decimal("150"),
    "BTCUSD_PERP": Decimal("60000"),
    "ETHUSD_PERP": Decimal("3000"),
    "BTC-USDT": Decimal("60000"),
    "ETH-USDT": Decimal("3000"),
}
# Coin-margined (inverse) markets listed beside the linear ones, from their own profile, served under /dapi.
COINM_SYMBOLS = ("BTCUSD_PERP", "ETHUSD_PERP")
# Spot pairs with isolated margin (engine spelling BASE-QUOTE) and whose spot-margin data they take; served under
# /api/v3 and /sapi as BTCUSDT, ETHUSDT. The demo feed sets their marks from the perpetual of the same name.
SPOT_PAIRS = (("BTC-USDT", "binance"), ("ETH-USDT", "binance"))
DEFAULT_COIN_DEPOSITS = {"BTC": Decimal("10"), "ETH": Decimal("200")}


@dataclass(frozen=True)
class VenueConfig:
    data_dir: Path = Path("data")
    admin_key: str | None = None
    venue: str = "binance"  # the venue profile whose instruments (tick, step, tiers, fees) are listed
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    coinm_venue: str = "binancecoinm"  # the profile of the coin-margined markets (/dapi)
    coinm_symbols: tuple[str, ...] = COINM_SYMBOLS
    spot_pairs: tuple[tuple[str, str], ...] = SPOT_PAIRS  # (pair, spot-margin venue data) listed at start-up
    coin_deposits: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_COIN_DEPOSITS))  # demo account
    start_prices: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    journal: str | None = None  # journal URL; default <data_dir>/journal.sqlite3
    demo_account: bool = False
    demo_deposit: Decimal = Decimal("100000")
    market_maker: bool = True
    feed: bool = True
    feed_interval: float = 1.0  # seconds between index/mark updates
    noise_traders: bool = True  # with the market maker and the feed: seeded market orders so trades and klines exist
    noise_interval: float = 1.0  # seconds between the noise traders' decisions
    quote_interval: float = 2.0  # seconds between market-maker re-quotes
    funding_interval: float = 60.0  # seconds between demo funding settlements (0: off); runs with the feed
    option_chain: bool = False  # list the demo's BTC-USD option chain, marks from the feed (server.option_demo)
    interest_schedule: bool = True  # AccrueInterest at every whole UTC hour (spot margin loans; server.schedule)
    seed: int = 7
    rate_limit: int = 2400  # request weight per minute per client IP (0: off)
    ban_after: int = 20  # requests refused with 429 in one window before the client gets 418
    ban_seconds: int = 120
    recv_window_max: int = 60000
    snapshot_every: int = 50_000
    insurance_seed: Decimal = Decimal("1000000")  # paid into the insurance fund when the venue is first set up

    @property
    def listings(self) -> tuple[tuple[str, str], ...]:
        """(symbol, venue profile) of every listed market: the linear ones, then the coin-margined ones."""
        return tuple((s, self.venue) for s in self.symbols) + tuple((s, self.coinm_venue) for s in self.coinm_symbols)

    @property
    def journal_target(self) -> str:
        return self.journal or str(self.data_dir)
