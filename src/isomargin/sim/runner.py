"""The simulation loop: a real `Engine`, a liquidity provider, and price paths walked bar by bar.

Each bar is walked open → nearer extreme → farther extreme → close as mark prices; inside a leg the walk
also stops at every liquidation price and stop price it crosses, so they trigger at their own price,
while a jump between bars (a gap) goes straight to the open. Funding settles per interval. Everything the
engine does is read back from its events and `isomargin.engine.queries` (never its internals); timestamps
come from the data, never the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from isomargin.engine import (
    CreateAccount,
    Deposit,
    Engine,
    Event,
    LiquidationStep,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderStatus,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetMarkPrice,
    SettleFunding,
    queries,
)
from isomargin.engine.codes import BalanceKind, Posting
from isomargin.engine.commands import Command, FundInsurance
from isomargin.engine.events import (
    AutoDeleveraged,
    BadDebt,
    FundingPaid,
    Liquidated,
    MarginCall,
    OrderUpdated,
    PositionUpdated,
    Posted,
    Rejected,
    Trade,
)
from isomargin.sim.episodes import Episode, Holding, mode_name
from isomargin.sim.errors import SimError
from isomargin.sim.market import LP_ACCOUNT, LP_DEPOSIT, MarketConfig, Quotes
from isomargin.sim.paths import Bars, FundingSeries, intrabar

if TYPE_CHECKING:
    from isomargin.engine.instruments import Instrument  # what queries.instrument returns
    from isomargin.sim.options_leg import OptionsLeg, OptionsSetup
    from isomargin.sim.spot import SpotLeg

ZERO = Decimal(0)
_BLOCK = 256  # bars per block of precomputed extremes the next-event search skips over
_GONE = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED})
EIGHT = Decimal("1E-8")
ASSET = "USDT"
_ISOLATED = f"{BalanceKind.ISOLATED}:"  # Posted balance keys: isolated:<account>:<symbol>:<side>
_WALLET = f"{BalanceKind.WALLET}:"  # wallet:<account>:<asset>
PositionKey = tuple[str, PositionSide]
TICK_WARN = 0.001  # warn when the instrument's tick exceeds this fraction of the data's price


def dec(x: float) -> Decimal:
    """A float price as the shortest decimal with at most 8 places (what the engine accepts)."""
    s = f"{x:.8f}".rstrip("0").rstrip(".")
    return Decimal(s)


def _spot_leg(sim: Simulation, symbols: list[str]) -> SpotLeg:
    from isomargin.sim.spot import SpotLeg  # imports this module's walk

    return SpotLeg(sim, symbols)


def _options_leg(sim: Simulation, bars: Bars, setup: OptionsSetup) -> OptionsLeg:
    from isomargin.sim.options_leg import OptionsLeg  # imports this module's walk

    return OptionsLeg(sim, bars, setup)


def nearest_level(levels: list[Decimal], cur: Decimal, target: Decimal) -> Decimal | None:
    """The first of `levels` (at the engine's 10⁻⁸ price grid, rounded towards `cur`) strictly between the marks
    `cur` and `target`, in the direction of the move; None if none is."""
    best: Decimal | None = None
    if target < cur:
        for lv in levels:
            q = lv.quantize(EIGHT, rounding=ROUND_FLOOR)
            if target < q < cur and (best is None or q > best):
                best = q
    else:
        for lv in levels:
            q = lv.quantize(EIGHT, rounding=ROUND_CEILING)
            if cur < q < target and (best is None or q < best):
                best = q
    return best


def walk_bar(
    b: Bars,
    i: int,
    prev: Decimal,
    set_mark: Callable[[Decimal, int], None],
    next_level: Callable[[Decimal, Decimal], Decimal | None],
) -> None:
    """Bar i's marks open → nearer extreme → farther extreme → close through `set_mark(mark, ts)` (a quarter of
    the bar apart), from the mark `prev`; inside a leg also at every level `next_level(cur, target)` gives."""
    ts0 = int(b.ts[i])
    mb = b.mark if b.mark is not None else b
    points = intrabar(float(mb.open[i]), float(mb.high[i]), float(mb.low[i]), float(mb.close[i]))
    step = b.interval_ms // 4 if i == 0 or i + 1 >= len(b) else int(b.ts[i + 1] - ts0) // 4
    for k, p in enumerate(points):
        target = dec(p)
        if target == prev:
            continue
        ts = ts0 + k * step
        if k > 0:  # a continuous leg: stop at every level it crosses
            cur = prev
            while True:
                lv = next_level(cur, target)
                if lv is None:
                    break
                set_mark(lv, ts)
                cur = lv
        set_mark(target, ts)
        prev = target


class Simulation:
    """An engine with markets, a liquidity provider and funded accounts, driven along bar paths."""

    def __init__(
        self,
        market: MarketConfig,
        bars: dict[str, Bars],
        funding: dict[str, FundingSeries] | None = None,
        symbols_venue: str | None = None,
        spot: dict[str, Bars] | None = None,
        options: tuple[Bars, OptionsSetup] | None = None,
    ) -> None:
        if not bars and not spot and options is None:
            raise SimError("empty_data", "no price path given")
        self.market = market
        # perpetuals' paths, then spot pairs' (engine symbols BASE-QUOTE), then an options family's index (BTC-USD)
        self.bars = {**bars, **(spot or {}), **({options[1].family: options[0]} if options else {})}
        self.symbols = list(bars)  # the perpetuals
        n = {len(b) for b in self.bars.values()}
        if len(n) != 1:
            raise SimError("bad_data", "all symbols' paths must have the same number of bars")
        self.n = n.pop()
        first = next(iter(self.bars.values()))
        for b in self.bars.values():
            if not np.array_equal(b.ts, first.ts):
                raise SimError("bad_data", "all symbols' paths must share the same timestamps")
        self.funding = funding or {}
        self._engine = Engine()
        self.accounts: dict[int, Decimal] = {}  # tracked accounts -> deposited (in the account's asset)
        self.account_asset: dict[int, str] = {}  # tracked accounts -> the settle asset of their symbols
        self.holdings: dict[int, dict[PositionKey, Holding]] = {}  # tracked accounts' open positions
        self.instruments: dict[str, Instrument] = {}
        self.settle: dict[str, str] = {}  # symbol -> settle asset (USDT; the coin for an inverse contract)
        self.inverse: dict[str, bool] = {}
        self.assets: list[str] = []  # settle assets in listing order
        self.quotes: dict[str, Quotes] = {}
        self._marks: dict[str, Decimal] = {}
        self.mark_f: dict[str, float] = {}
        self.levels: dict[str, list[Decimal]] = {}
        self.levels_dirty: dict[str, bool] = {}
        # The spot-margin leg (None without spot pairs) walks every bar: stepping knows only the perpetuals' watches.
        self.spot: SpotLeg | None = None if not spot else _spot_leg(self, list(spot))
        # The options leg (None without options) marks every bar too: time decay moves the marks on a flat path.
        self.options: OptionsLeg | None = None if options is None else _options_leg(self, *options)
        self.stepping = market.stepping and self.spot is None and self.options is None
        self.version = 0  # commands applied so far: a reader re-reads the engine only when it moved
        self._lag = -1  # the first bar whose marks the engine has not seen yet (-1: none)
        self._lag_end = -1
        # symbol -> the quote rule followed along caught-up marks and not acted on yet:
        # (stale, center, center as float, last re-quote (mark before, mark, ts) or None, ts of the last mark)
        self._lp: dict[str, tuple[bool, Decimal | None, float, tuple[Decimal, Decimal, int] | None, int]] = {}
        self._resting_ids: dict[str, set[int]] = {}
        self._synced = -1
        self.walked = 0  # bars whose marks went through the engine
        self._band_version = -1  # the command count the cached next active bar was found at
        self._band_from = 0
        self._band_next = -1
        self.ts = int(first.ts[0])
        self.bar = 0
        # records
        self.trades: list[dict[str, Any]] = []
        self.liquidations: list[dict[str, Any]] = []
        self.adl: list[dict[str, Any]] = []
        self.bad_debt: list[dict[str, Any]] = []
        self.funding_paid: list[dict[str, Any]] = []
        self.margin_calls: list[dict[str, Any]] = []
        self.rejections: list[dict[str, Any]] = []
        self.stops: list[dict[str, Any]] = []
        self.episodes: list[Episode] = []
        self.open_episodes: dict[tuple[int, str, PositionSide], Episode] = {}
        self.insurance_draws = ZERO
        self.insurance_income = ZERO
        self.funding_bucket: dict[str, int] = {}
        self.notes: list[str] = []  # warnings about the inputs, reported with the results
        self._handlers: dict[type, Callable[[Any], None]] = {
            Trade: self._on_trade,
            Liquidated: self._on_liquidated,
            AutoDeleveraged: self._on_adl,
            BadDebt: self._on_bad_debt,
            FundingPaid: self._on_funding,
            MarginCall: self._on_margin_call,
            OrderUpdated: self._on_order,
            PositionUpdated: self._on_position,
            Rejected: self._on_rejected,
        }
        if self.spot is not None:
            self._handlers.update(self.spot.handlers())
        if self.options is not None:
            self._handlers.update(self.options.handlers())
        self._setup()

    # ------------------------------------------------------------------------------------------ set-up
    def _setup(self) -> None:
        m = self.market
        for sym in self.symbols:
            events = self._engine.apply(
                ListInstrument(
                    sym,
                    venue=m.venue,
                    maker_fee=m.maker_fee,
                    taker_fee=m.taker_fee,
                    price_band=m.price_band,
                    ts=self.ts,
                )
            )
            if isinstance(events[0], Rejected):
                raise SimError(events[0].code, events[0].message)
            inst = queries.instrument(self._engine, sym)
            if self.assets and inst is not None and inst.settle not in self.assets:
                raise SimError(
                    "mixed_settle_assets",
                    f"{sym} settles in {inst.settle} but {self.symbols[0]} in {self.assets[0]}: one simulation "
                    "values its accounts in one asset; run each settle asset on its own",
                )
            assert inst is not None  # just listed
            self.instruments[sym] = inst
            self.settle[sym] = inst.settle
            self.inverse[sym] = inst.inverse
            if inst.settle not in self.assets:
                self.assets.append(inst.settle)
            self.quotes[sym] = Quotes(sym, inst.tick, inst.step, inst.inverse)
            self.levels[sym] = []
            self.levels_dirty[sym] = True
        self.must(CreateAccount(LP_ACCOUNT, ts=self.ts))
        # The provider's wallet is in every settle asset listed (an inverse book's inventory and margin are the coin).
        for asset in self.assets:
            self.must(Deposit(LP_ACCOUNT, asset, LP_DEPOSIT, ts=self.ts))
        for sym in self.symbols:
            self.must(SetLeverage(LP_ACCOUNT, sym, 1, ts=self.ts))
        for asset in self.assets:
            fund = self.insurance_start(asset)
            if fund > 0:
                self.must(FundInsurance(asset, fund, ts=self.ts))
        for sym in self.symbols:
            b = self.bars[sym]
            mb = b.mark or b
            self.set_mark(sym, dec(float(mb.open[0])), self.ts)
            self.notes.extend(b.notes)
            tick = self.instruments[sym].tick
            price = float(np.median(np.asarray(b.close, dtype=np.float64)))
            if price > 0 and float(tick) > TICK_WARN * price:
                self.notes.append(
                    f"{sym}'s tick {tick} is {float(tick) / price:.1%} of the data's median price {price:.6g}: "
                    "quotes and fills round to it (a market order can fill far from the price, a leveraged position "
                    "liquidate at once); use a symbol whose tick fits the data"
                )
        if self.spot is not None:
            self.spot.setup()
        if self.options is not None:
            self.options.setup()

    def insurance_start(self, asset: str) -> Decimal:
        """The fund at the start in `asset`: `MarketConfig.insurance` is in USD; a coin's fund is worth as much at
        the first price of the first symbol settled in it (rounded down to 10⁻⁸ of the coin)."""
        m = self.market
        sym = next(s for s in self.symbols if self.settle[s] == asset)
        if not self.inverse[sym] or m.insurance <= 0:
            return m.insurance
        b = self.bars[sym].mark or self.bars[sym]
        return (m.insurance / dec(float(b.open[0]))).quantize(EIGHT, rounding=ROUND_FLOOR)

    def must(self, cmd: Command) -> list[Event]:
        events = self.apply(cmd)
        if events and isinstance(events[0], Rejected):
            raise SimError(events[0].code, f"{type(cmd).__name__}: {events[0].message}")
        return events

    def add_account(
        self, account: int, deposit: Decimal, settings: dict[str, tuple[MarginMode, int]], asset: str | None = None
    ) -> None:
        """A trader account with `deposit` in its symbols' settle asset (USDT, or the coin of inverse contracts;
        `asset` when it trades no perpetual, e.g. BTC for options) and a (mode, leverage) per symbol. One account
        trades symbols of one settle asset."""
        assets = sorted({self.settle[s] for s in settings if s in self.settle}) or [asset or ASSET]
        if len(assets) > 1:
            raise SimError(
                "mixed_settle_assets",
                f"account {account} trades symbols settled in {' and '.join(assets)}: give each asset its own account",
            )
        asset = assets[0]
        self.must(CreateAccount(account, ts=self.ts))
        self.must(Deposit(account, asset, deposit, ts=self.ts))
        for sym, (mode, lev) in settings.items():
            self.must(SetMarginMode(account, sym, mode, ts=self.ts))
            self.must(SetLeverage(account, sym, lev, ts=self.ts))
        self.accounts[account] = deposit
        self.account_asset[account] = asset
        self.holdings[account] = {}

    def instrument(self, symbol: str) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            raise SimError("bad_symbol", f"{symbol} is not listed in this simulation")
        return inst

    # ------------------------------------------------------------------------------------------ driving
    @property
    def engine(self) -> Engine:
        """The engine, brought up to the current bar first (a stepped run leaves quiet bars' marks unwalked)."""
        self.sync()
        return self._engine

    @property
    def marks(self) -> dict[str, Decimal]:
        """Each symbol's mark at the current bar (brought up to date first)."""
        self.sync(quotes=False)
        return self._marks

    def reader(self) -> Engine:
        """The engine for a read no order meets (positions, balances): marks brought up to date, quotes not."""
        self.sync(quotes=False)
        return self._engine

    def apply(self, cmd: Command) -> list[Event]:
        """Apply a command at the current bar (the engine is brought up to it first) and read its events."""
        self.sync()
        return self._apply(cmd)

    def _apply(self, cmd: Command) -> list[Event]:
        events = self._engine.apply(cmd)
        self.version += 1
        handlers = self._handlers
        # The command's ledger movements come last, in one Posted; they happened before the position updates
        # that report them (margin released by a close belongs to the episode that close ends), so read them first.
        rest = events
        if events and type(events[-1]) is Posted:
            self._on_posted(events[-1])
            rest = events[:-1]
        for ev in rest:
            h = handlers.get(type(ev))
            if h is not None:
                h(ev)
        return events

    def record_mark(self, sym: str, mark: Decimal) -> None:
        """A mark a leg set in the engine (a spot pair's), for `marks` and the valuations."""
        self._marks[sym] = mark

    def set_mark(self, sym: str, mark: Decimal, ts: int) -> None:
        q = self.quotes[sym]
        if q.stale(mark, self.market.requote):
            q.requote(self, mark, ts)
        self._apply(SetMarkPrice(sym, mark, ts=ts))
        self._marks[sym] = mark

    def run(
        self,
        on_bar: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
        start: int = 0,
        due: Callable[[int], int] | None = None,
    ) -> None:
        """Walk every bar from `start`; `on_bar(i)` runs after bar i's close (the strategy's turn).

        With `due` (the first bar at or after i where the caller needs `on_bar`, `n` for none), `on_bar` runs only
        there and at every bar the engine had to walk; without it, after every bar. A stepped run (the default,
        `MarketConfig.stepping`) walks through the engine only the bars where something can happen (see
        `_next_active`) and leaves the others' marks to `sync`, which any read or command calls first."""
        n = self.n
        if not self.stepping:
            for i in range(start, n):
                self.step(i)
                if on_bar is not None:
                    on_bar(i)
                if progress is not None and i % 1024 == 0:
                    progress(i)
            return
        self._prepare()
        i = start
        reported = start - 1024
        while i < n:
            j = self._next_active(i)
            call = i if on_bar is not None and due is None else n if due is None else max(i, due(i))
            k = min(j, call)
            if k >= n:
                if i < n:
                    self._skip(i, n - 1)
                break
            if k > i:
                self._skip(i, k - 1)
            if k == j:
                self.step(k)
            else:
                self._skip(k, k)
            if on_bar is not None:
                on_bar(k)
            if progress is not None and k - reported >= 1024:
                progress(k)
                reported = k
            i = k + 1
        if progress is not None:
            progress(n - 1)

    def step(self, i: int) -> None:
        self.sync()
        self.bar = i
        self.ts = int(next(iter(self.bars.values())).ts[i])
        for sym in self.symbols:
            self._walk(sym, i)
        if self.spot is not None:
            self.spot.walk(i)
        if self.options is not None:
            self.options.walk(i)
        self._synced = i
        self.walked += 1

    # ------------------------------------------------------------------------------------------ stepping
    def _prepare(self) -> None:
        """Per-run arrays: each symbol's mark range per bar (gap from the previous close included) as lists and
        arrays, and the bars that are always walked (first, last, funding boundaries, depth changes, halts and the
        bar after, moves too large for the provider's quotes to follow within the price band)."""
        n = self.n
        always = np.zeros(n, dtype=bool)
        always[0] = always[-1] = True
        self._lo: dict[str, Any] = {}
        self._hi: dict[str, Any] = {}
        self._pts: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {}
        self._block_lo: dict[str, Any] = {}
        self._block_hi: dict[str, Any] = {}
        m = self.market
        room = float(m.price_band - m.spread) / 2
        for sym, b in self.bars.items():
            mb = b.mark if b.mark is not None else b
            o, h, lo_, c = (np.asarray(a, dtype=np.float64) for a in (mb.open, mb.high, mb.low, mb.close))
            prev = np.concatenate(([o[0]], c[:-1]))
            lo = np.minimum(np.minimum(lo_, o), np.minimum(c, prev))
            hi = np.maximum(np.maximum(h, o), np.maximum(c, prev))
            self._lo[sym], self._hi[sym] = lo, hi
            self._pts[sym] = (o.tolist(), h.tolist(), lo_.tolist(), c.tolist())
            always |= (hi - lo) >= room * lo
            if b.depth is not None:
                d = np.asarray(b.depth, dtype=np.float64)
                always[1:] |= d[1:] != d[:-1]
            if b.halt is not None:
                halt = np.asarray(b.halt, dtype=bool)
                always |= halt
                always[1:] |= halt[:-1]
            if sym in self.funding or m.funding_rate is not None:
                bucket = np.asarray(b.ts, dtype=np.int64) // m.funding_interval_ms
                always[1:] |= bucket[1:] != bucket[:-1]
        self._always_at = np.flatnonzero(always)
        for sym in self.bars:
            lo, hi = self._lo[sym], self._hi[sym]
            pad = (-n) % _BLOCK
            self._block_lo[sym] = np.concatenate((lo, np.full(pad, np.inf))).reshape(-1, _BLOCK).min(axis=1)
            self._block_hi[sym] = np.concatenate((hi, np.full(pad, -np.inf))).reshape(-1, _BLOCK).max(axis=1)
        self._ts_list = np.asarray(next(iter(self.bars.values())).ts, dtype=np.int64).tolist()
        self._band_version = -1
        self._band_next = -1

    def _next_active(self, i: int) -> int:
        """The first bar at or after `i` whose marks can set something off: a mark reaching a price the engine
        watches (liquidation, alert, cross band, stop), or an always-walked bar. Between two such bars nothing in
        the engine changes but the marks, which `sync` catches up."""
        if self._band_version == self.version and self._band_from <= i <= self._band_next:
            return self._band_next
        bands = self._bands()
        self._band_version = self.version
        self._band_from = i
        if bands is None:
            self._band_next = i
            return i
        always = self._always_at
        k = int(np.searchsorted(always, i))
        nxt = int(always[k]) if k < len(always) else self.n
        for sym, (lo, hi) in bands.items():
            if lo is not None or hi is not None:
                nxt = self._first_outside(sym, i, nxt, lo, hi)
        self._band_next = nxt
        return nxt

    def _first_outside(self, sym: str, i: int, stop: int, lo: float | None, hi: float | None) -> int:
        """The first bar in [i, stop) whose mark range reaches `lo` or `hi` (stop if none): the rest of i's block,
        then the first block whose extremes do, then within it."""
        size = _BLOCK
        bl, bh = self._lo[sym], self._hi[sym]
        lo_ = -np.inf if lo is None else lo
        hi_ = np.inf if hi is None else hi
        end = min(stop, (i // size + 1) * size)
        if i < end:
            hit = (bl[i:end] <= lo_) | (bh[i:end] >= hi_)
            k = int(np.argmax(hit))
            if hit[k]:
                return i + k
        if end >= stop:
            return stop
        b0, b1 = end // size, (stop + size - 1) // size  # end is a block boundary here
        blocks = (self._block_lo[sym][b0:b1] <= lo_) | (self._block_hi[sym][b0:b1] >= hi_)
        k = int(np.argmax(blocks))
        if not blocks[k]:
            return stop
        start = (b0 + k) * size
        e = min(stop, start + size)
        hit = (bl[start:e] <= lo_) | (bh[start:e] >= hi_)
        j = int(np.argmax(hit))
        return start + j if hit[j] else stop

    def _bands(self) -> dict[str, tuple[float | None, float | None]] | None:
        """Per symbol, the marks (lo, hi) at or beyond which something can fire (with a margin for the float
        comparison); None when every bar must be walked (an account waiting to be re-measured, the fund holding
        inventory, trailing stops, a tracked resting order the provider's moving quotes could meet). The
        simulator's own levels (liquidation prices, stops) are the engine's watches' prices, so these cover them."""
        eng = self._engine
        if eng.health.dirty:
            return None
        out: dict[str, tuple[float | None, float | None]] = {}
        for sym in self.symbols:
            mk = eng.markets[sym]
            if mk.held is not None or mk.paused or any(mk.triggers.trailing.values()):
                return None
            if self._resting_ids.get(sym):
                return None
            fall: list[int] = []
            rise: list[int] = []
            for w in (mk.watch, mk.cross):
                if w.falling:
                    fall.append(w.falling[-1][0])
                if w.rising:
                    rise.append(w.rising[0][0])
            for book in mk.triggers.falling.values():
                if book:
                    fall.append(book[-1][0])
            for book in mk.triggers.rising.values():
                if book:
                    rise.append(book[0][0])
            lo = max(fall) / 1e8 if fall else None
            hi = min(rise) / 1e8 if rise else None
            out[sym] = (
                None if lo is None else lo + 1e-8 + abs(lo) * 1e-12,
                None if hi is None else hi - 1e-8 - abs(hi) * 1e-12,
            )
        return out

    def _skip(self, a: int, b: int) -> None:
        """Bars a..b are quiet: the engine does not see their marks until `sync`."""
        if self._lag < 0:
            self._lag = a
        self._lag_end = b
        self.bar = b
        self.ts = self._ts_list[b]

    def sync(self, quotes: bool = True) -> None:
        """Bring the engine up to the last bar skipped: each symbol's last mark, and (unless `quotes` is False: a
        read that no order can meet) the provider's quotes as the walk would have left them — its last re-quote
        along the skipped marks, made at the mark the engine had when the walk made it."""
        a = self._lag
        if a >= 0:
            self._lag = -1
            b = self._lag_end
            for sym in self.symbols:
                self._catch_marks(sym, a, b)
            self._synced = b
        if quotes and self._lp:
            pending, self._lp = self._lp, {}
            for sym, (_, _, _, req, ts) in pending.items():
                if req is not None:
                    self._requote_at(sym, req, ts)

    def _catch_marks(self, sym: str, a: int, b: int) -> None:
        """Set the engine's mark to bar b's last point and follow, without acting on it, what the provider's quote
        rule (`Quotes.stale`) does along bars a..b: where it last re-quotes, and at which mark."""
        q = self.quotes[sym]
        o, h, lo, c = self._pts[sym]
        thr = self.market.requote
        thr_f = float(thr)
        state = self._lp.get(sym)
        if state is None:
            stale, center, req, ts = q.dirty or q.center is None, q.center, None, 0
            cf = 0.0 if center is None else float(center)
        else:
            stale, center, cf, req, ts = state
        at: tuple[float, float, int, int] | None = None
        prev = float(self._marks[sym])
        prev_d: Decimal | None = self._marks[sym]
        last: tuple[float, int, int] | None = None
        for j in range(a, b + 1):
            for k, p in enumerate(intrabar(o[j], h[j], lo[j], c[j])):
                if p == prev or (abs(p - prev) < 1e-7 and dec(p) == (prev_d if prev_d is not None else dec(prev))):
                    continue  # the walk skips a point equal to the mark
                if not stale:
                    d = abs(p - cf)
                    t = cf * thr_f
                    tol = 2e-8 + cf * 1e-12
                    if d > t + tol:
                        stale = True
                    elif d >= t - tol:  # too close to call in floats: the walk's own Decimal test
                        if center is None:
                            center = dec(cf)
                        stale = abs(dec(p) - center) > center * thr
                if stale:
                    at = (prev, p, j, k)
                    center = None  # dec(p), made only if a close call needs it
                    cf = p
                    stale = False
                prev, prev_d = p, None
                last = (p, j, k)
        if at is not None:
            req = (dec(at[0]), dec(at[1]), self._point_ts(sym, at[2], at[3]))
            center = req[1]
        if last is not None:
            p, j, k = last
            mark = dec(p)
            ts = self._point_ts(sym, j, k)
            if mark != self._marks[sym]:
                self._apply(SetMarkPrice(sym, mark, ts=ts))
                self._marks[sym] = mark
        if req is not None or state is not None:
            self._lp[sym] = (stale, center, cf, req, ts)

    def _requote_at(self, sym: str, req: tuple[Decimal, Decimal, int], ts: int) -> None:
        """The walk's last re-quote, made while the engine's mark was the point before it; then the mark is back."""
        before, at, when = req
        now = self._marks[sym]
        if before != now:
            self._apply(SetMarkPrice(sym, before, ts=when))
        self.quotes[sym].requote(self, at, when)
        if before != now:
            self._apply(SetMarkPrice(sym, now, ts=ts))

    def _point_ts(self, sym: str, i: int, k: int) -> int:
        b = self.bars[sym]
        ts0 = int(b.ts[i])
        step = b.interval_ms // 4 if i == 0 or i + 1 >= len(b) else int(b.ts[i + 1] - ts0) // 4
        return ts0 + k * step

    def _walk(self, sym: str, i: int) -> None:
        b = self.bars[sym]
        ts0 = int(b.ts[i])
        self.ts = ts0
        if b.depth is not None:
            d = float(b.depth[i])
            q = self.quotes[sym]
            if d != q.depth:
                q.depth = d
                q.dirty = True
        if b.halt is not None and b.halt[i]:
            return
        self._funding(sym, ts0)
        walk_bar(
            b, i, self._marks[sym], lambda m, ts: self.set_mark(sym, m, ts), lambda c, t: self._next_level(sym, c, t)
        )

    def _next_level(self, sym: str, cur: Decimal, target: Decimal) -> Decimal | None:
        if self.levels_dirty[sym]:
            self._collect_levels(sym)
        return nearest_level(self.levels[sym], cur, target)

    def _collect_levels(self, sym: str) -> None:
        """Liquidation prices of tracked accounts' positions (isolated: the engine's cached exact price; cross:
        the account's exact cross price) and their mark-price stops still waiting to trigger."""
        eng = self._engine
        out: list[Decimal] = []
        cross = False
        for acct, held in self.holdings.items():
            for (s, side), h in held.items():
                if s != sym:
                    continue
                if h.mode is MarginMode.ISOLATED:
                    view = queries.position(eng, acct, sym, side)
                    lp = None if view is None else view["liquidation_exact"]
                else:
                    cross = True
                    lp = queries.cross_liquidation_price(eng, acct, sym, side)
                if lp is not None and lp > 0:
                    out.append(lp)
            for o in queries.open_orders(eng, acct, sym):
                if o["stop_price"] is not None and not o["triggered"]:
                    out.append(o["stop_price"])
        self.levels[sym] = out
        # Cross prices move with the other symbols' marks; isolated ones and stops only with events.
        self.levels_dirty[sym] = cross and len(self.symbols) > 1

    def _funding(self, sym: str, ts: int) -> None:
        series = self.funding.get(sym)
        if series is None and self.market.funding_rate is None:
            return
        bucket = ts // self.market.funding_interval_ms
        last = self.funding_bucket.get(sym)
        self.funding_bucket[sym] = bucket
        if last is None or bucket == last:
            return
        if series is not None:
            r = series.rate_at(ts)
            if r is None:
                return
            rate = Decimal(f"{r:.8f}")
        else:
            assert self.market.funding_rate is not None
            rate = self.market.funding_rate
        if rate:
            self.apply(SettleFunding(sym, rate, ts=ts))

    def dirty(self, sym: str) -> None:
        self.levels_dirty[sym] = True

    # ------------------------------------------------------------------------------------------ reading
    def asset(self, account: int) -> str:
        """The asset a tracked account holds and is valued in (USDT, or the coin of its inverse contracts)."""
        return self.account_asset.get(account, ASSET)

    def equity(self, account: int) -> Decimal:
        """Wallet + holds + isolated pools + unrealised PnL at the current marks, in the account's asset."""
        self.sync(quotes=False)
        b = queries.balances(self._engine, account, self.asset(account))
        total: Decimal = b["wallet"] + b["held"] + b["isolated_margin"]
        for (sym, _), h in self._holdings(account).items():
            total += self.pnl(sym, h.size, h.basis)
        if self.spot is not None:
            total += self.spot.value(account)
        if self.options is not None:
            total += self.options.value(account)
        return total

    def equity_parts(self, account: int) -> tuple[float, tuple[tuple[str, float, float], ...]]:
        """What the account's equity is made of, none of it moving with the marks: wallet + holds + isolated pools,
        and per open position (symbol, signed size, signed basis), as floats for `equity_curve`."""
        b = queries.balances(self._engine, account, self.asset(account))
        const = float(b["wallet"] + b["held"] + b["isolated_margin"])
        if self.options is not None:  # marked at every bar's close, so its value is that bar's (a new part each bar)
            const += float(self.options.value(account))
        held = self._holdings(account)
        parts = [(sym, float(h.size), float(h.basis)) for (sym, _), h in held.items()]
        if self.spot is not None:
            parts.extend(self.spot.parts(account))
        return const, tuple(sorted(parts))

    def equity_curve(self, segments: list[tuple[int, tuple[float, tuple[tuple[str, float, float], ...]]]]) -> Any:
        """Equity per bar (float) from `(first bar, equity_parts)` segments, valued at each bar's closing mark:
        the same numbers whichever bars the run walked."""
        out = np.empty(self.n)
        for k, (start, (const, parts)) in enumerate(segments):
            stop = segments[k + 1][0] if k + 1 < len(segments) else self.n
            seg = np.full(stop - start, const)
            for sym, size, basis in parts:
                b = self.bars[sym]
                close = np.asarray((b.mark if b.mark is not None else b).close[start:stop], dtype=np.float64)
                seg += (basis - size / close) if self.inverse.get(sym) else (size * close - basis)
            out[start:stop] = seg
        return out

    def pnl(self, symbol: str, size: Decimal, basis: Decimal) -> Decimal:
        """Unrealised PnL of a signed `size` with signed cost `basis` at the current mark: linear size × mark −
        basis; inverse (size = face in USD, basis = ± coin value at entry) basis − size / mark, which is
        side × face × (1/entry − 1/mark) in the coin."""
        self.sync(quotes=False)
        mark = self._marks[symbol]
        if self.inverse[symbol]:
            return basis - size / mark
        return size * mark - basis

    def usd(self, symbol: str, amount: Decimal) -> Decimal:
        """An amount in `symbol`'s settle asset in USD at the current mark (the coin × mark; USDT as is)."""
        self.sync(quotes=False)
        return amount * self._marks[symbol] if self.inverse[symbol] else amount

    def size(self, account: int, symbol: str, side: PositionSide = PositionSide.BOTH) -> Decimal:
        """Signed size of a tracked account's position (0 when flat), as its last PositionUpdated said."""
        h = self.holdings[account].get((symbol, side))
        return ZERO if h is None else h.size

    def _holdings(self, account: int) -> dict[PositionKey, Holding]:
        """The account's open positions with their cost basis brought up to date."""
        held = self.holdings[account]
        for (sym, side), h in held.items():
            if h.stale:
                view = queries.position(self._engine, account, sym, side)
                assert view is not None, f"account {account} has no {sym} {side} position the events announced"
                h.size, h.stale = view["size"], False
                h.basis = view["cost"] if h.size > 0 else -view["cost"]
        return held

    def insurance(self, asset: str | None = None) -> Decimal:
        """The insurance fund in `asset` (default: the first symbol's settle asset)."""
        default = self.assets[0] if self.assets else self.options.family.settle if self.options else ASSET
        return queries.insurance_fund(self._engine, asset or default)

    # ------------------------------------------------------------------------------------------ events
    def _tracked(self, account: int) -> bool:
        return account in self.accounts

    def _on_trade(self, ev: Trade) -> None:
        taker_side: OrderSide = ev.taker_side
        for acct, fee, pnl, side in (
            (ev.taker_account, ev.taker_fee, ev.taker_realized_pnl, taker_side),
            (ev.maker_account, ev.maker_fee, ev.maker_realized_pnl, OrderSide(-taker_side)),
        ):
            if acct in self.accounts:
                self.trades.append(
                    {
                        "bar": self.bar,
                        "ts": self.ts,
                        "account": acct,
                        "symbol": ev.symbol,
                        "side": side.name,
                        "price": ev.price,
                        "qty": ev.qty,
                        "fee": fee,
                        "realized_pnl": pnl,
                        "maker": acct == ev.maker_account,
                    }
                )
                self._epi(acct, ev.symbol).fees += fee
                self.levels_dirty[ev.symbol] = True
        if ev.taker_account == 0:  # the insurance fund unwinding what it took over: its gain or loss
            if ev.taker_realized_pnl < 0:
                self.insurance_draws -= ev.taker_realized_pnl
            else:
                self.insurance_income += ev.taker_realized_pnl
        q = self.quotes.get(ev.symbol)
        if q is not None and LP_ACCOUNT in (ev.maker_account, ev.taker_account):
            q.dirty = True

    def _on_liquidated(self, ev: Liquidated) -> None:
        self.levels_dirty[ev.symbol] = True
        if ev.fund_change is not None:
            if ev.fund_change < 0:
                self.insurance_draws -= ev.fund_change
            else:
                self.insurance_income += ev.fund_change
        if ev.step is LiquidationStep.CANCEL_ORDERS:
            return
        epi = self.open_episodes.get((ev.account, ev.symbol, ev.position_side))
        if epi is not None:
            epi.liquidated = True
            epi.steps.append(ev.step)
            if epi.liquidation_price is None and ev.liquidation_price is not None:
                epi.liquidation_price = ev.liquidation_price
        if ev.step is LiquidationStep.DONE:
            return
        self.liquidations.append(
            {
                "bar": self.bar,
                "ts": self.ts,
                "account": ev.account,
                "symbol": ev.symbol,
                "mode": mode_name(ev.margin_mode),
                "step": ev.step,
                "mark": ev.mark,
                "liquidation_price": ev.liquidation_price,
                "bankruptcy_price": ev.bankruptcy_price,
                "qty": ev.qty,
                "price": ev.price,
                "fund_change": ev.fund_change,
            }
        )

    def _on_adl(self, ev: AutoDeleveraged) -> None:
        self.levels_dirty[ev.symbol] = True
        self.adl.append(
            {
                "bar": self.bar,
                "ts": self.ts,
                "account": ev.account,
                "symbol": ev.symbol,
                "qty": ev.qty,
                "price": ev.price,
                "realized_pnl": ev.realized_pnl,
                "liquidated_account": ev.liquidated_account,
                "side": ev.side,
            }
        )

    def _on_bad_debt(self, ev: BadDebt) -> None:
        self.insurance_draws += ev.amount
        self.bad_debt.append(
            {
                "bar": self.bar,
                "ts": self.ts,
                "account": ev.account,
                "symbol": ev.symbol,
                "amount": ev.amount,
                "reason": ev.reason,
            }
        )
        for key, epi in self.open_episodes.items():
            if key[0] == ev.account and (key[1] == ev.symbol or not ev.symbol):
                epi.covered += ev.amount
                break

    def _on_funding(self, ev: FundingPaid) -> None:
        if ev.account not in self.accounts:
            return
        self.levels_dirty[ev.symbol] = True
        self.funding_paid.append(
            {
                "bar": self.bar,
                "ts": self.ts,
                "account": ev.account,
                "symbol": ev.symbol,
                "rate": ev.rate,
                "amount": ev.amount,
            }
        )
        epi = self.open_episodes.get((ev.account, ev.symbol, ev.position_side))
        if epi is not None:
            epi.funding += ev.amount

    def _on_margin_call(self, ev: MarginCall) -> None:
        if ev.account in self.accounts:
            self.margin_calls.append(
                {
                    "bar": self.bar,
                    "ts": self.ts,
                    "account": ev.account,
                    "symbol": ev.symbol,
                    "level": ev.level,
                    "ratio": ev.ratio,
                }
            )

    def _on_order(self, ev: OrderUpdated) -> None:
        if ev.account == LP_ACCOUNT:
            self.quotes[ev.symbol].on_order(ev)
        elif ev.account in self.accounts:
            self.levels_dirty[ev.symbol] = True
            if ev.stop_price is None:  # a plain order: resting ones can meet the provider's moving quotes
                ids = self._resting_ids.setdefault(ev.symbol, set())
                if ev.status in _GONE:
                    ids.discard(ev.order_id)
                else:
                    ids.add(ev.order_id)
            if ev.stop_price is not None and ev.status is OrderStatus.NEW:
                self.stops.append(
                    {
                        "bar": self.bar,
                        "ts": self.ts,
                        "account": ev.account,
                        "symbol": ev.symbol,
                        "type": ev.type,
                        "stop_price": ev.stop_price,
                    }
                )

    def _on_posted(self, ev: Posted) -> None:
        """Margin moved between a tracked wallet and its isolated pools, and fees charged to a tracked wallet."""
        symbol: str | None = None
        for t in ev.postings:
            d, c = t.debit, t.credit
            into = c.startswith(_ISOLATED)
            if into or d.startswith(_ISOLATED):
                key, other = (c, d) if into else (d, c)
                _, acct, sym, side = key.split(":")
                if int(acct) not in self.accounts or not other.startswith(_WALLET):
                    continue
                epi = self._epi(int(acct), sym, PositionSide(side))
                if into:
                    epi.allocated += t.amount
                else:
                    epi.pool_out += t.amount
            elif t.reason is Posting.TRADING_FEE and d.startswith(_WALLET):
                owner = int(d.split(":")[1])
                if symbol is None:
                    symbol = getattr(ev.env.command, "symbol", "") or ""
                if owner in self.accounts and symbol:
                    self._epi(owner, symbol).wallet_fees += t.amount

    def _on_position(self, ev: PositionUpdated) -> None:
        if ev.account not in self.accounts:
            return
        self.levels_dirty[ev.symbol] = True
        key = (ev.account, ev.symbol, ev.position_side)
        held = self.holdings[ev.account]
        if ev.size == 0:
            held.pop((ev.symbol, ev.position_side), None)
        else:
            h = held.get((ev.symbol, ev.position_side))
            if h is None:
                held[(ev.symbol, ev.position_side)] = Holding(ev.size, ev.margin_mode)
            else:
                h.size, h.mode, h.stale = ev.size, ev.margin_mode, True
        epi = self.open_episodes.get(key)
        if ev.size == 0:
            if epi is not None:
                epi.realized = ev.realized_pnl
                epi.closed = self.bar
                self.episodes.append(epi)
                del self.open_episodes[key]
            return
        if epi is None:
            epi = self._epi(ev.account, ev.symbol, ev.position_side)
        if epi.side == "?":
            epi.side, epi.mode, epi.leverage = ("long" if ev.size > 0 else "short"), ev.margin_mode, ev.leverage
        epi.entry = ev.entry_price
        epi.realized = ev.realized_pnl
        size = abs(ev.size)
        if size > epi.peak_size:
            epi.peak_size = size
            if ev.margin_mode is MarginMode.CROSS and ev.entry_price is not None:
                value = size / ev.entry_price if self.inverse[ev.symbol] else size * ev.entry_price
                epi.allocated = max(epi.allocated, value / ev.leverage)
        if ev.margin_mode is MarginMode.ISOLATED:
            epi.liquidation_price = ev.liquidation_price

    def _epi(self, account: int, symbol: str, pside: PositionSide = PositionSide.BOTH) -> Episode:
        key = (account, symbol, pside)
        epi = self.open_episodes.get(key)
        if epi is None:
            epi = self.open_episodes[key] = Episode(account, symbol, "?", None, 0, self.bar)
        return epi

    def _on_rejected(self, ev: Rejected) -> None:
        if ev.account in self.accounts:
            self.rejections.append(
                {
                    "bar": self.bar,
                    "ts": self.ts,
                    "account": ev.account,
                    "command": ev.command,
                    "code": ev.code,
                    "message": ev.message,
                }
            )

    def all_episodes(self) -> list[Episode]:
        """Closed episodes, then those still open (valued at the current marks), never-opened ones left out."""
        self.sync(quotes=False)
        for (acct, sym, side), epi in self.open_episodes.items():
            view = queries.position(self._engine, acct, sym, side)
            if view is None:
                continue
            pnl = self.pnl(sym, view["size"], view["cost"] if view["size"] > 0 else -view["cost"])
            epi.open_value = pnl + view["isolated_margin"]  # 0 for cross
            epi.realized = view["realized_pnl"]
        return [e for e in self.episodes + list(self.open_episodes.values()) if e.peak_size > 0]
