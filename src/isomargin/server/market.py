"""The demo market's moving parts, all as engine commands: a seeded price feed with jumps per symbol (sets index
and mark; a coin-margined market follows its coin's USDT index, a spot pair the perpetual of its name), a market
maker quoting both sides around the index (and around each spot pair's mark from its wallet), and funding on a
schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from decimal import ROUND_DOWN, Decimal

from isomargin.engine import (
    CancelAllOrders,
    Command,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetLeverage,
    SetMarkPrice,
    SettleFunding,
    TimeInForce,
)
from isomargin.engine import queries as q
from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import CancelSpotOrder, PlaceSpotOrder
from isomargin.server.venue import Venue, now_ms

LEVELS = 10
SPREAD = Decimal("0.0004")  # first level at ±4 bp from the index
STEP = Decimal("0.0004")  # further levels every 4 bp (10 levels: ±40 bp of depth, so a stop fills near its trigger)
LEVEL_NOTIONAL = Decimal("40000")
SPOT_LEVELS = 5  # the maker's wallet quotes a side on each spot pair (same offsets and sizes as the first 5 levels)
INVENTORY_LIMIT = Decimal("3000000")  # notional beyond which the maker stops adding to its position
FUNDING_CAP = Decimal("0.0075")
NOISE_P = 0.5  # chance per symbol and decision that the noise traders send a market order
NOISE_USD = (500, 6000)  # its size in USD, uniform
NOISE_INVENTORY = Decimal("300000")  # notional beyond which the noise traders only trade towards flat
NOISE_SEED = 1_000_003  # offset of the noise traders' random stream from the feed's seed
INTEREST = Decimal("0.0001")


class PricePath:
    """Seeded synthetic path: small Gaussian steps, rare jumps, a weak pull back towards the start."""

    def __init__(self, start: Decimal, seed: int, vol: float = 0.0007, jump_p: float = 0.004, jump: float = 0.012):
        self.start = float(start)
        self.price = float(start)
        self.rng = random.Random(seed)
        self.vol, self.jump_p, self.jump = vol, jump_p, jump

    def step(self) -> float:
        r = self.rng.gauss(0.0, self.vol) + 0.002 * math.log(self.start / self.price)
        if self.rng.random() < self.jump_p:
            r += self.rng.choice((-1, 1)) * abs(self.rng.gauss(self.jump, self.jump / 3))
        self.price *= math.exp(r)
        return self.price


def on_tick(value: float | Decimal, tick: Decimal) -> Decimal:
    return (Decimal(str(value)) / tick).to_integral_value() * tick


class DemoMarket:
    """Runs the feed, the market maker and funding as asyncio tasks on the server's loop."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.config = venue.config
        self.symbols = [s for s, _ in self.config.listings]
        self.twins = {s: t for s in self.symbols if (t := self._twin(s)) is not None}
        self.paths = {
            s: PricePath(self._index(s) or self.config.start_prices.get(s, Decimal(100)), self.config.seed + i)
            for i, s in enumerate(self.config.symbols)
        }
        for i, s in enumerate(self.config.coinm_symbols):  # one without a USDT twin gets its own path
            if s not in self.twins:
                start = self._index(s) or self.config.start_prices.get(s, Decimal(100))
                self.paths[s] = PricePath(start, self.config.seed + len(self.config.symbols) + i)
        self.tasks: list[asyncio.Task[None]] = []
        self.noise_rng = random.Random(self.config.seed + NOISE_SEED)

    def start(self) -> None:
        interval = Decimal(str(self.config.funding_interval))
        for s in self.symbols:
            self.venue.next_funding[s] = now_ms() + int((interval if interval > 0 else Decimal(28800)) * 1000)
        if self.config.feed:
            self.tasks.append(asyncio.create_task(self._loop(self.config.feed_interval, self.feed_tick)))
            if self.config.funding_interval > 0:
                self.tasks.append(asyncio.create_task(self._loop(self.config.funding_interval, self.funding_tick)))
        if self.config.market_maker and self.venue.market_maker is not None:
            self.tasks.append(asyncio.create_task(self._loop(self.config.quote_interval, self.quote_tick, first=0)))
            if self.config.feed and self.config.noise_traders and self.venue.noise_trader is not None:
                self.tasks.append(asyncio.create_task(self._loop(self.config.noise_interval, self.noise_tick)))

    def _twin(self, symbol: str) -> str | None:
        """The linear market whose index a coin-margined one shares (BTCUSD_PERP: BTCUSDT), if it is listed."""
        inst = self.venue.read(lambda: q.instrument(self.venue.engine, symbol))
        if inst is None or not inst.inverse:
            return None
        twin = f"{inst.settle}USDT"
        return twin if twin in self.config.symbols else None

    def _index(self, symbol: str) -> Decimal | None:
        m = self.venue.read(lambda: q.market(self.venue.engine, symbol))
        return None if m is None else m["index_price"]

    def _maker_state(self, mm: int, symbol: str) -> tuple[Decimal, int, Decimal] | None:
        """(index, the maker's leverage, its signed size) on an open market with an index, else None."""
        engine = self.venue.engine
        m = q.market(engine, symbol)
        if m is None or m["index_price"] is None or m["paused"]:
            return None
        size = sum((p["size"] for p in q.positions(engine, mm) if p["symbol"] == symbol), Decimal(0))
        return m["index_price"], q.setting(engine, mm, symbol)[1], size

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    async def _loop(self, interval: float, fn: object, first: float | None = None) -> None:
        await asyncio.sleep(interval if first is None else first)
        while True:
            if self.venue.failure is not None:  # a stopped engine takes no more commands
                return
            try:
                await fn()  # type: ignore[operator]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep the demo alive; the error is visible in the log
                print(f"demo market: {type(exc).__name__}: {exc}", flush=True)
            await asyncio.sleep(interval)

    async def feed_tick(self) -> None:
        engine = self.venue.engine
        cmds: list[Command] = []
        raw: dict[str, float] = {s: path.step() for s, path in self.paths.items()}
        for s in self.symbols:
            inst = q.instrument(engine, s)
            value = raw.get(self.twins.get(s, s))
            if inst is None or value is None:
                continue
            price = on_tick(value, inst.tick)
            cmds.append(SetMarkPrice(s, price, price))
        for s, _ in self.config.spot_pairs:  # a spot pair's mark follows the perpetual of its name (BTC-USDT: BTCUSDT)
            pair = sq.spot_pair(engine, s)
            value = raw.get(s.replace("-", ""))
            if pair is None or value is None:
                continue
            price = on_tick(value, pair["tick_size"])
            cmds.append(SetMarkPrice(s, price, price))
        await self.venue.submit_many(cmds)

    async def quote_tick(self) -> None:
        venue = self.venue
        mm = venue.market_maker
        assert mm is not None
        engine = venue.engine
        cmds: list[Command] = []
        for s in self.symbols:
            inst = q.instrument(engine, s)
            state = venue.read(lambda: self._maker_state(mm, s))  # noqa: B023 (read at once, not later)
            if inst is None or state is None:
                continue
            index, leverage, size = state
            if leverage != 5:
                cmds.append(CancelAllOrders(mm, s))
                cmds.append(SetLeverage(mm, s, 5))
            inventory = size if inst.inverse else size * index  # USD either way (inverse sizes are face value)
            cmds.append(CancelAllOrders(mm, s))
            for i in range(LEVELS):
                off = SPREAD + STEP * i
                usd = LEVEL_NOTIONAL * (1 + Decimal(i) / 2)
                qty = ((usd if inst.inverse else usd / index) / inst.step).to_integral_value(ROUND_DOWN)
                qty = max(qty * inst.step, inst.step)
                bid = (index * (1 - off) / inst.tick).to_integral_value(ROUND_DOWN) * inst.tick
                ask = (index * (1 + off) / inst.tick).to_integral_value(ROUND_DOWN) * inst.tick + inst.tick
                if inventory < INVENTORY_LIMIT:
                    cmds.append(PlaceOrder(mm, s, OrderSide.BUY, OrderType.LIMIT, qty, bid, tif=TimeInForce.GTC))
                if inventory > -INVENTORY_LIMIT:
                    cmds.append(PlaceOrder(mm, s, OrderSide.SELL, OrderType.LIMIT, qty, ask, tif=TimeInForce.GTC))
        cmds += venue.read(lambda: self._spot_quotes(mm))
        await venue.submit_many(cmds)

    def _spot_quotes(self, mm: int) -> list[Command]:
        """The maker's wallet quotes on each spot pair around its mark: its previous ones cancelled, then
        SPOT_LEVELS a side at the perpetuals' offsets and sizes (read under the state lock)."""
        engine = self.venue.engine
        cmds: list[Command] = []
        for s, _ in self.config.spot_pairs:
            pair = sq.spot_pair(engine, s)
            if pair is None or not pair["mark_price"]:
                continue
            mark, tick, step = pair["mark_price"], pair["tick_size"], pair["step_size"]
            cmds += [CancelSpotOrder(mm, s, order_id=o["order_id"]) for o in sq.spot_orders(engine, mm, s, False)]
            for i in range(SPOT_LEVELS):
                off = SPREAD + STEP * i
                qty = max((LEVEL_NOTIONAL * (1 + Decimal(i) / 2) / mark / step).to_integral_value(ROUND_DOWN), 1) * step
                bid = (mark * (1 - off) / tick).to_integral_value(ROUND_DOWN) * tick
                ask = (mark * (1 + off) / tick).to_integral_value(ROUND_DOWN) * tick + tick
                cmds.append(PlaceSpotOrder(mm, s, OrderSide.BUY, OrderType.LIMIT, qty, bid))
                cmds.append(PlaceSpotOrder(mm, s, OrderSide.SELL, OrderType.LIMIT, qty, ask))
        return cmds

    async def noise_tick(self) -> None:
        """Seeded noise traders: per symbol, with chance NOISE_P, a market order of NOISE_USD; beyond
        NOISE_INVENTORY they only trade towards flat. The random draws are the same every tick whatever the state,
        so the sequence of decisions depends on the seed alone."""
        venue = self.venue
        acct = venue.noise_trader
        assert acct is not None
        engine = venue.engine
        cmds: list[Command] = []
        for s in self.symbols:
            go, buy, usd = self.noise_rng.random(), self.noise_rng.random() < 0.5, self.noise_rng.uniform(*NOISE_USD)
            inst = q.instrument(engine, s)
            state = venue.read(lambda: self._maker_state(acct, s))  # noqa: B023 (read at once, not later)
            if inst is None or state is None or go >= NOISE_P:
                continue
            index, leverage, size = state
            inventory = size if inst.inverse else size * index
            if inventory > NOISE_INVENTORY:
                buy = False
            elif inventory < -NOISE_INVENTORY:
                buy = True
            if leverage != 5:
                cmds.append(SetLeverage(acct, s, 5))
            amount = Decimal(str(round(usd)))
            qty = ((amount if inst.inverse else amount / index) / inst.step).to_integral_value(ROUND_DOWN) * inst.step
            if qty <= 0:
                continue
            side = OrderSide.BUY if buy else OrderSide.SELL
            cmds.append(PlaceOrder(acct, s, side, OrderType.MARKET, qty, None))
        if cmds:
            await venue.submit_many(cmds)

    async def funding_tick(self) -> None:
        venue = self.venue
        cmds: list[Command] = []
        for s in self.symbols:
            index = self._index(s)
            if index is None:
                continue
            bids, asks = venue.read(lambda: venue.book(s, 1))  # noqa: B023 (read at once, not later)
            premium = Decimal(0)
            if bids and asks:
                premium = ((bids[0][0] + asks[0][0]) / 2 - index) / index
            rate = max(-FUNDING_CAP, min(FUNDING_CAP, premium + INTEREST)).quantize(Decimal("1E-8"))
            venue.funding_estimate[s] = rate
            cmds.append(SettleFunding(s, rate))
            venue.next_funding[s] = now_ms() + int(self.config.funding_interval * 1000)
        await venue.submit_many(cmds)
