"""The stress library: historical episodes as parameterised paths, each with its source and figures.

A path is shaped by keyframes (minute, price factor) taken from published figures — not reconstructed
tick data — with small seeded noise, plus a book-depth profile and halt windows. See docs/simulator.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from isomargin.sim.errors import SimError
from isomargin.sim.paths import Bars, load, make_bars

MINUTE = 60_000
Keyframes = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Leg:
    """One symbol's path in an episode: price factors (× start) at minutes, linear in log between them."""

    symbol: str
    start: float
    keyframes: Keyframes
    tick: float = 0.1
    noise: float = 0.001  # per-minute log noise


@dataclass(frozen=True)
class Episode:
    name: str
    title: str
    when: str
    figures: str
    source: str
    start_ts: int
    minutes: int
    legs: tuple[Leg, ...]
    depth: Keyframes = ((0, 1.0),)  # book depth multiplier keyframes (step-wise from each minute)
    halts: tuple[tuple[int, int], ...] = ()  # (first minute, minutes) with no prices published
    venue: str = "simple"
    notes: str = ""
    params: dict[str, float] = field(default_factory=dict)

    def build(self, seed: int = 0, scale: float = 1.0) -> dict[str, Bars]:
        """The episode's bars per symbol; `scale` multiplies every move (0.5 = half as deep, 2 = twice)."""
        out: dict[str, Bars] = {}
        depth = _steps(self.depth, self.minutes)
        halt = np.zeros(self.minutes, dtype=np.bool_)
        for first, length in self.halts:
            halt[first : first + length] = True
        for i, leg in enumerate(self.legs):
            rng = np.random.Generator(np.random.PCG64([seed, i]))
            out[leg.symbol] = _shape(leg, self.minutes, self.start_ts, rng, scale, depth, halt, self.name)
        return out


def _steps(frames: Keyframes, minutes: int) -> np.ndarray:
    out = np.ones(minutes)
    for (m, v), nxt in zip(frames, [*frames[1:], (minutes, 0.0)], strict=True):
        out[int(m) : int(nxt[0])] = v
    return out


def _shape(
    leg: Leg,
    minutes: int,
    start_ts: int,
    rng: np.random.Generator,
    scale: float,
    depth: np.ndarray,
    halt: np.ndarray,
    name: str,
) -> Bars:
    sub = 4
    t = np.arange(minutes * sub + 1) / sub
    xs = np.array([k[0] for k in leg.keyframes], dtype=np.float64)
    ys = np.log(np.array([k[1] for k in leg.keyframes], dtype=np.float64)) * scale
    base = np.interp(t, xs, ys)
    noise = np.cumsum(rng.standard_normal(len(t)) * leg.noise / np.sqrt(sub))
    noise -= np.interp(t, xs, np.interp(xs, t, noise))  # pinned: keyframes hold exactly
    prices = leg.start * np.exp(base + noise)
    prices = np.maximum(np.round(prices / leg.tick) * leg.tick, leg.tick)
    seg = np.lib.stride_tricks.sliding_window_view(prices, sub + 1)[::sub][:minutes]
    ts = start_ts + np.arange(minutes, dtype=np.int64) * MINUTE
    return make_bars(
        ts,
        seg[:, 0],
        seg.max(axis=1),
        seg.min(axis=1),
        seg[:, -1],
        np.ones(minutes),
        depth=depth,
        halt=halt,
        name=f"{name}:{leg.symbol}",
        where=name,
    )


def _ts(iso: str) -> int:
    return int(np.datetime64(iso, "ms").astype(np.int64))


EPISODES: dict[str, Episode] = {
    "covid-2020": Episode(
        name="covid-2020",
        title="Black Thursday: BTC 12–13 March 2020",
        when="2020-03-12 00:00 UTC → 2020-03-13 06:00 UTC",
        figures="BTC ≈ 7,950 → ≈ 3,800 (≈ −50 % within a day) in two legs; a ~25-minute outage of the largest "
        "venue near the low; rebound to ≈ 5,000 within hours; books thin through the fall",
        source="widely reported daily figures (e.g. CoinDesk/The Block coverage of 12–13 March 2020; BitMEX's "
        "13 March 2020 incident note on its ~25-minute outage)",
        start_ts=_ts("2020-03-12T00:00"),
        minutes=30 * 60,
        legs=(
            Leg(
                "BTCUSDT",
                7950.0,
                (
                    (0, 1.0),
                    (600, 0.93),
                    (900, 0.72),
                    (1200, 0.70),
                    (1500, 0.60),
                    (1580, 0.48),
                    (1610, 0.50),
                    (1800, 0.63),
                ),
                0.1,
                0.0015,
            ),
        ),
        depth=((0, 1.0), (840, 0.3), (1000, 0.6), (1440, 0.1), (1640, 0.5)),
        halts=((1580, 25),),
    ),
    "oct-2025": Episode(
        name="oct-2025",
        title="10–11 October 2025: tariff-news crash",
        when="2025-10-10 20:00 UTC → 2025-10-11 02:00 UTC",
        figures="BTC ≈ −14 % top to low; many altcoins −70 % and worse within about an hour before recovering "
        "much of it; order-book depth vanished during the fall; record liquidations (≈ 19 bn USD reported)",
        source="widely reported figures (CoinGlass liquidation totals; exchange and press coverage of 10–11 "
        "October 2025)",
        start_ts=_ts("2025-10-10T20:00"),
        minutes=6 * 60,
        legs=(
            Leg(
                "BTCUSDT",
                121_500.0,
                ((0, 1.0), (60, 0.985), (100, 0.92), (140, 0.86), (150, 0.875), (240, 0.91), (360, 0.925)),
                0.1,
                0.0008,
            ),
            Leg(
                "SOLUSDT",
                220.0,
                ((0, 1.0), (60, 0.98), (110, 0.75), (140, 0.30), (145, 0.45), (200, 0.78), (360, 0.82)),
                0.01,
                0.002,
            ),
        ),
        depth=((0, 1.0), (90, 0.2), (120, 0.0), (150, 0.05), (200, 0.5), (260, 1.0)),
        notes="SOLUSDT stands in for 'an altcoin' with the −70 % figure; it is not SOL's own recorded move.",
    ),
    "mango": Episode(
        name="mango",
        title="Mango-style oracle spike: +2,300 % and back",
        when="shape of 11 October 2022 (Mango Markets, MNGO)",
        figures="oracle price ≈ ×24 (+2,300 %) in ≈ 20 minutes on thin spot markets, held briefly, then back "
        "to the start within hours",
        source="Mango Markets incident reports and press coverage, 11–12 October 2022 (MNGO ≈ 0.038 → ≈ 0.91)",
        start_ts=_ts("2022-10-11T22:00"),
        minutes=4 * 60,
        legs=(
            Leg("SOLUSDT", 20.0, ((0, 1.0), (20, 1.0), (40, 24.0), (60, 22.0), (120, 3.0), (240, 1.0)), 0.01, 0.004),
        ),
        depth=((0, 1.0), (20, 0.1), (120, 0.5)),
        notes="Played on SOLUSDT as a stand-in market with a start price of 20; only the shape is historical.",
    ),
    "jelly": Episode(
        name="jelly",
        title="JELLY-style squeeze: +500 % in an hour",
        when="shape of 26 March 2025 (JELLY on Hyperliquid)",
        figures="≈ +500 % in about an hour against a large short whose position the venue's vault took over; "
        "the market was then delisted and settled near the pre-squeeze price",
        source="Hyperliquid announcements and press coverage, 26 March 2025",
        start_ts=_ts("2025-03-26T14:00"),
        minutes=3 * 60,
        legs=(Leg("SOLUSDT", 10.0, ((0, 1.0), (10, 1.0), (70, 6.0), (90, 5.5), (100, 1.0), (180, 1.0)), 0.01, 0.003),),
        depth=((0, 1.0), (30, 0.2), (95, 1.0)),
        notes="Played on SOLUSDT as a stand-in; the settlement back to the start is modelled as a fast fall.",
    ),
    "cascade": Episode(
        name="cascade",
        title="The seeds' cascade: BTC, ETH, SOL; one crash",
        when="illustrative (shared/seeds: 'trader has 3 positions in cross margin, one goes bad')",
        figures="BTC −30 % over an hour while ETH and SOL drift ±1 %",
        source="shared/seeds (isolated vs cross margin articles); tests/engine/test_liquidation.py",
        start_ts=_ts("2024-01-01T00:00"),
        minutes=120,
        legs=(
            Leg("BTCUSDT", 50_000.0, ((0, 1.0), (10, 1.0), (70, 0.70), (120, 0.72)), 0.1, 0.0005),
            Leg("ETHUSDT", 3_000.0, ((0, 1.0), (70, 0.99), (120, 1.0)), 0.01, 0.0005),
            Leg("SOLUSDT", 100.0, ((0, 1.0), (70, 0.99), (120, 1.0)), 0.01, 0.0005),
        ),
    ),
    "drop-30": Episode(
        name="drop-30",
        title="A −30 % day: BTC 50,000 → 35,000 in 24 hours, steadily, no noise",
        when="illustrative (one day of one-minute bars from 2024-01-01 00:00 UTC)",
        figures="50,000 at minute 0 → 35,000 at minute 1,440, linear in log price (−0.0248 % a minute), no noise: "
        "the bar that crosses a price P is ⌊1440 × ln(P / 50,000) / ln 0.7⌋, whole book throughout",
        source="none: a made-up path to compare liquidation prices (README: inverse vs linear 5× long)",
        start_ts=_ts("2024-01-01T00:00"),
        minutes=1440,
        legs=(Leg("BTCUSDT", 50_000.0, ((0, 1.0), (1440, 0.70)), 0.1, 0.0),),
        notes="One leg: `--symbol` puts it on any market (BTCUSD_PERP on binancecoinm for the inverse contract).",
    ),
}


def get_episode(name: str) -> Episode:
    ep = EPISODES.get(name)
    if ep is None:
        raise SimError("unknown_path", f"no stress path {name!r} (known: {', '.join(EPISODES)}; or give a file)")
    return ep


def resolve_path(
    spec: str, symbol: str | None = "BTCUSDT", seed: int = 0, scale: float = 1.0
) -> tuple[dict[str, Bars], str]:
    """A library name or a data file (for `symbol`); returns (bars by symbol, venue suggested). A one-leg
    episode plays on `symbol` when one is given (e.g. BTCUSD_PERP for an inverse contract); a several-leg
    episode keeps its symbols, and a `symbol` that is not one of them is refused."""
    if spec in EPISODES:
        ep = EPISODES[spec]
        built = ep.build(seed=seed, scale=scale)
        if symbol is not None and symbol not in built:
            if len(built) != 1:
                raise SimError(
                    "bad_symbol",
                    f"stress path {spec!r} plays on {', '.join(built)}; only a one-leg path can be moved to {symbol}",
                )
            built = {symbol: next(iter(built.values()))}
        return built, ep.venue
    if Path(spec).suffix or Path(spec).exists():
        return {symbol or "BTCUSDT": load(spec)}, "binance"
    raise SimError("unknown_path", f"no stress path {spec!r} (known: {', '.join(EPISODES)}; or give a file)")


Builder = Callable[[int], dict[str, Bars]]
