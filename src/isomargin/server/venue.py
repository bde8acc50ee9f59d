"""The venue: one engine behind the journal (group commit), API keys, bounded histories built from the
engine's events (trades, klines, mark klines, funding, liquidations/ADL, orders), and the fan-out of
events to WebSocket subscribers. Every change is an engine command; timestamps are stamped here. State is
read only through `isomargin.engine.queries`, under the lock the committer holds while it applies a batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any, Final, cast

from isomargin.engine import (
    Code,
    Command,
    CreateAccount,
    Deposit,
    Engine,
    EngineFailed,
    Event,
    FundInsurance,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderStatus,
    Rejected,
    SetMarkPrice,
)
from isomargin.engine import queries as q
from isomargin.engine import spot_queries as sq
from isomargin.engine.commands import ListSpotPair
from isomargin.engine.events import (
    AccountCreated,
    AutoDeleveraged,
    FundingPaid,
    FundingSettled,
    InstrumentListed,
    Liquidated,
    MarginAdjusted,
    MarginCall,
    MarkPriceUpdated,
    OrderUpdated,
    PositionUpdated,
    SettingChanged,
    Trade,
)
from isomargin.journal import (
    DurableEngine,
    EngineHalted,
    GroupCommitter,
    JournalCode,
    JournalError,
    decode_command,
    decode_events,
)
from isomargin.journal.journal import Journal
from isomargin.server.config import VenueConfig
from isomargin.server.errors import ApiError, from_reject
from isomargin.server.keys import KeyStore
from isomargin.server.option_history import OptionHistory
from isomargin.server.option_history import stream_messages as option_stream
from isomargin.server.spot_history import SpotHistory, touched
from isomargin.server.spot_history import stream_messages as spot_stream
from isomargin.venues import get_profile

MINUTE = 60_000
BAR_KEEP = 2 * 24 * 60  # one-minute bars kept per symbol and price kind
STAT_STEP = 5 * 60_000  # the /futures/data sampling grid (ms)
STAT_KEEP = 30 * 24 * 12  # five-minute samples kept per symbol (30 days, as Binance)
ORDER_KEEP = 50_000
REPLAY_TAIL = 200_000  # journal records re-read at start-up to rebuild the histories
OPEN_STATUSES: Final = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.TRIGGERED})
MARGIN_MODE_NAMES: Final = {MarginMode.ISOLATED: "isolated", MarginMode.CROSS: "cross"}  # the venue's spelling
HALTING_CODES: Final = frozenset(  # the venue cannot go on after these
    {
        Code.ENGINE_FAILED.value,
        JournalCode.JOURNAL_FAILED.value,
        JournalCode.JOURNAL_FULL.value,
        JournalCode.SEQ_MISMATCH.value,
    }
)
ENVELOPE_KEYS: Final = ("seq", "ts", "command", "cause_account", "cause_client_order_id", "index")
INTERNAL_VIEW_KEYS: Final = ("lots", "liquidation_exact", "cost")  # engine units the APIs do not show
HALT: Final = "engine_failed"  # the last message a stream gets when the engine stopped
BOOK_LEVELS: Final = 200  # levels a side the depth stream tracks (deeper levels are not streamed)
COIN_PLACES: Final = Decimal("1E-8")  # coin amounts the venue seeds (insurance, demo deposits) are in satoshi


def now_ms() -> int:
    return int(time.time() * 1000)


def fmt(value: Decimal | int | None, places: int | None = None) -> str:
    """A Binance-style decimal string (plain notation, no exponent)."""
    if value is None:
        return "0"
    d = Decimal(value)
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places))
    text = format(d, "f")
    if "." in text and places is None:
        text = text.rstrip("0").rstrip(".") or "0"
    return "0" if text in ("-0", "") else text


def event_row(ev: Event) -> dict[str, Any]:
    """An event as the APIs and streams show it: its name and fields (no envelope), the venue's spellings."""
    row = ev.to_dict()
    for key in ENVELOPE_KEYS:
        row.pop(key, None)
    mode = getattr(ev, "margin_mode", None)
    if isinstance(mode, MarginMode):
        row["margin_mode"] = MARGIN_MODE_NAMES[mode]
    return row


def all_balances(engine: Engine, account: int) -> dict[str, dict[str, Decimal]]:
    """Balances per asset side by side: USDT, then each coin a listed market settles in (BTC, ETH)."""
    assets = ["USDT"]
    for s in q.symbols(engine):
        inst = q.instrument(engine, s)
        if inst is not None and inst.settle not in assets:
            assets.append(inst.settle)
    return {a: q.balances(engine, account, a) for a in assets}


def settle_of(engine: Engine, symbol: str) -> str:
    """The asset a market's margin, PnL and fees are in (USDT, or the coin of an inverse market)."""
    inst = q.instrument(engine, symbol)
    return "USDT" if inst is None else inst.settle


def position_row(view: dict[str, Any]) -> dict[str, Any]:
    """A `queries` position view as the native API and the account stream show it (margin mode in lower case)."""
    row = {k: v for k, v in view.items() if k not in INTERNAL_VIEW_KEYS}
    row["margin_mode"] = MARGIN_MODE_NAMES[view["margin_mode"]]
    return row


def order_record(ev: OrderUpdated) -> dict[str, Any]:
    """An order's state after one event, as the order history keeps it (enums; `jsonable` spells them)."""
    return {
        "order_id": ev.order_id, "account": ev.account, "symbol": ev.symbol, "client_order_id": ev.client_order_id,
        "side": ev.side, "type": ev.type, "orig_type": ev.type, "status": ev.status, "price": ev.price,
        "stop_price": ev.stop_price, "qty": ev.qty, "filled": ev.filled, "avg_price": ev.avg_price,
        "reduce_only": ev.reduce_only, "close_position": ev.close_position, "position_side": ev.position_side,
        "tif": ev.time_in_force, "working_type": ev.working_type, "callback_rate": ev.callback_rate,
        "activation_price": ev.activation_price, "reason": ev.reason, "created": ev.created, "updated": ev.env.ts,
    }  # fmt: skip


class Core(DurableEngine):
    """DurableEngine whose batches are applied under `state_lock`, the lock every reader of engine state takes
    (the durable-batch hook is the journal's `on_durable`)."""

    def __init__(self, journal: Journal, **options: Any) -> None:
        self.state_lock = threading.RLock()
        super().__init__(journal, **options)

    after_apply: Callable[[], None] | None = None  # runs under the state lock right after each group is applied

    def submit_batch(self, cmds: Sequence[Command], keys: Sequence[str | None] | None = None) -> list[list[Event]]:
        with self.state_lock:
            try:
                return super().submit_batch(cmds, keys)
            finally:
                if self.after_apply is not None:
                    self.after_apply()

    def begin(self, cmds: Sequence[Command], keys: Sequence[str | None] | None = None) -> Any:
        with self.state_lock:
            try:
                return super().begin(cmds, keys)
            finally:
                if self.after_apply is not None:
                    self.after_apply()


class Bars:
    """One-minute OHLCV bars for one symbol and price kind; coarser intervals are aggregated on read."""

    def __init__(self) -> None:
        self.bars: OrderedDict[int, list[Any]] = OrderedDict()

    def add(self, ts: int, price: Decimal, qty: Decimal = Decimal(0), buyer_taker: bool = False) -> None:
        start = ts - ts % MINUTE
        bar = self.bars.get(start)
        quote = price * qty
        if bar is None:
            if self.bars and start < next(reversed(self.bars)):
                return  # out of order (clock step back): ignore rather than reorder
            bar = self.bars[start] = [price, price, price, price, Decimal(0), Decimal(0), 0, Decimal(0), Decimal(0),
                                      Decimal(0), Decimal(0)]  # fmt: skip
            while len(self.bars) > BAR_KEEP:
                self.bars.popitem(last=False)
        bar[1] = max(bar[1], price)
        bar[2] = min(bar[2], price)
        bar[3] = price
        if qty:
            bar[4] += qty
            bar[5] += quote
            bar[6] += 1
            coin = qty / price  # an inverse trade's value in the coin (its size is face value in USD)
            bar[9] += coin
            if buyer_taker:
                bar[7] += qty
                bar[8] += quote
                bar[10] += coin

    def read(self, interval: int, start: int | None, end: int | None, limit: int) -> list[list[Any]]:
        out: OrderedDict[int, list[Any]] = OrderedDict()
        for t, b in self.bars.items():
            if (start is not None and t < start - start % interval) or (end is not None and t > end):
                continue
            k = t - t % interval
            cur = out.get(k)
            if cur is None:
                out[k] = list(b)
            else:
                cur[1] = max(cur[1], b[1])
                cur[2] = min(cur[2], b[2])
                cur[3] = b[3]
                for i in (4, 5, 6, 7, 8, 9, 10):
                    cur[i] += b[i]
        rows = [[k, *v] for k, v in out.items()]
        return rows[-limit:] if start is None else rows[:limit]


class Crowd:
    """One symbol's open interest and who is long or short, followed from PositionUpdated and sampled per
    five minutes (the last state in each; the series /futures/data reads, rebuilt with the rest)."""

    def __init__(self) -> None:
        self.size: dict[tuple[int, str], Decimal] = {}  # (account, position side) -> signed size
        self.net: dict[int, Decimal] = {}  # trader account -> net signed size
        self.oi = Decimal(0)
        self.mark = Decimal(0)
        self.longs = self.shorts = 0  # trader accounts net long / net short
        self.long_size = self.short_size = Decimal(0)  # their net sizes, each side
        self.samples: OrderedDict[int, tuple[Decimal, Decimal, int, int, Decimal, Decimal]] = OrderedDict()

    def _count(self, net: Decimal, sign: int) -> None:
        if net > 0:
            self.longs += sign
            self.long_size += sign * net
        elif net < 0:
            self.shorts += sign
            self.short_size -= sign * net

    def position(self, account: int, side: str, size: Decimal) -> None:
        old = self.size.pop((account, side), Decimal(0))
        if size:
            self.size[(account, side)] = size
        self.oi += max(size, Decimal(0)) - max(old, Decimal(0))
        if account <= 0:  # the venue's own books (insurance, ADL) are not traders
            return
        was = self.net.pop(account, Decimal(0))
        net = was + size - old
        self._count(was, -1)
        self._count(net, 1)
        if net:
            self.net[account] = net

    def clear(self) -> None:
        self.size.clear()
        self.net.clear()
        self.oi = self.long_size = self.short_size = Decimal(0)
        self.longs = self.shorts = 0

    def sample(self, ts: int) -> None:
        start = ts - ts % STAT_STEP
        if self.samples and start < next(reversed(self.samples)):
            return  # out of order: ignore
        self.samples[start] = (self.oi, self.mark, self.longs, self.shorts, self.long_size, self.short_size)
        self.samples.move_to_end(start)
        while len(self.samples) > STAT_KEEP:
            self.samples.popitem(last=False)


class History:
    """Everything the APIs show that the engine does not keep: bounded, rebuilt from journaled events."""

    def __init__(self) -> None:
        self.trades: dict[str, deque[dict[str, Any]]] = {}
        self.bars: dict[tuple[str, str], Bars] = {}
        self.funding: dict[str, deque[dict[str, Any]]] = {}
        self.funding_paid: dict[int, deque[dict[str, str]]] = {}
        self.liquidations: deque[dict[str, Any]] = deque(maxlen=5000)
        self.orders: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.user_trades: dict[int, deque[dict[str, Any]]] = {}
        self.income: dict[int, deque[dict[str, Any]]] = {}
        self.alerts: dict[int, deque[dict[str, Any]]] = {}
        self.position_time: dict[tuple[int, str, str], int] = {}
        self.margin_changes: dict[int, deque[dict[str, Any]]] = {}  # add/remove isolated margin, per account
        self.settle: dict[str, str] = {}  # each market's settle asset (the asset of its income rows)
        self.crowds: dict[str, Crowd] = {}  # open interest and long/short accounts, per symbol
        self.next_income = 1

    def crowd(self, symbol: str) -> Crowd:
        c = self.crowds.get(symbol)
        if c is None:
            c = self.crowds[symbol] = Crowd()
        return c

    def bar(self, symbol: str, kind: str) -> Bars:
        b = self.bars.get((symbol, kind))
        if b is None:
            b = self.bars[(symbol, kind)] = Bars()
        return b

    def _push(self, table: dict[Any, deque[Any]], key: Any, row: dict[str, Any], keep: int = 1000) -> None:
        q = table.get(key)
        if q is None:
            q = table[key] = deque(maxlen=keep)
        q.append(row)

    def _income(self, account: int, kind: str, amount: Decimal, symbol: str, ts: int, info: str = "") -> None:
        if not amount:
            return
        self._push(self.income, account, {
            "symbol": symbol, "incomeType": kind, "income": amount, "asset": self.settle.get(symbol, "USDT"),
            "time": ts,
            "info": info, "tranId": self.next_income, "tradeId": info if kind != "FUNDING_FEE" else "",
        })  # fmt: skip
        self.next_income += 1

    def ingest(self, events: Iterable[Event]) -> set[int]:
        """Take in one command's events (timestamps from their envelope); returns the ids of orders seen for the
        first time."""
        new_orders: set[int] = set()
        ordered = list(events)
        # Order records first: a taker's one OrderUpdated may follow its trades, which look the order up.
        ordered.sort(key=lambda e: not isinstance(e, OrderUpdated))
        for ev in ordered:
            ts = ev.env.ts or 0  # (None only for a refused command with a bad timestamp)
            if isinstance(ev, OrderUpdated):
                rec = self.orders.get(ev.order_id)
                if rec is None:
                    rec = self.orders[ev.order_id] = {}
                    new_orders.add(ev.order_id)
                    while len(self.orders) > ORDER_KEEP:
                        self.orders.popitem(last=False)
                rec.update(order_record(ev))
                if ev.status is OrderStatus.TRIGGERED:
                    rec["triggered_at"] = ts
            elif isinstance(ev, Trade):
                self._trade(ev, ts)
            elif isinstance(ev, MarkPriceUpdated):
                self.bar(ev.symbol, "mark").add(ts, ev.mark)
                self.bar(ev.symbol, "index").add(ts, ev.index_price)
                c = self.crowd(ev.symbol)
                c.mark = ev.mark
                c.sample(ts)
            elif isinstance(ev, FundingSettled):
                self._push(self.funding, ev.symbol, {"symbol": ev.symbol, "rate": ev.rate, "time": ts,
                                                     "mark": ev.mark})  # fmt: skip
            elif isinstance(ev, FundingPaid):
                if ev.account > 0:
                    self._income(ev.account, "FUNDING_FEE", ev.amount, ev.symbol, ts)
                    self._push(self.funding_paid, ev.account, {
                        "ts": str(ts), "symbol": ev.symbol, "position_side": ev.position_side.value,
                        "rate": str(ev.rate), "mark": str(ev.mark), "amount": str(ev.amount),
                        "asset": self.settle.get(ev.symbol, "USDT"),
                    })  # fmt: skip
            elif isinstance(ev, Liquidated | AutoDeleveraged):
                self.liquidations.append({**event_row(ev), "time": ts})
            elif isinstance(ev, MarginCall):
                self._push(self.alerts, ev.account, {**event_row(ev), "time": ts}, 200)
            elif isinstance(ev, PositionUpdated | MarginAdjusted):
                self.position_time[(ev.account, ev.symbol, ev.position_side.value)] = ts
                if isinstance(ev, PositionUpdated):
                    c = self.crowd(ev.symbol)
                    c.position(ev.account, ev.position_side.value, ev.size)
                    c.sample(ts)
                if isinstance(ev, MarginAdjusted):
                    self._push(self.margin_changes, ev.account, {
                        "symbol": ev.symbol, "amount": ev.amount, "asset": self.settle.get(ev.symbol, "USDT"),
                        "position_side": ev.position_side.value, "time": ts,
                    }, 500)  # fmt: skip
            elif isinstance(ev, InstrumentListed):
                self.settle[ev.symbol] = ev.settle
        return new_orders

    def _trade(self, ev: Trade, ts: int) -> None:
        buyer_maker = ev.taker_side is OrderSide.SELL
        self._push(self.trades, ev.symbol, {
            "id": ev.trade_id, "price": ev.price, "qty": ev.qty, "quote": ev.price * ev.qty, "time": ts,
            "buyer_maker": buyer_maker,
        })  # fmt: skip
        self.bar(ev.symbol, "last").add(ts, ev.price, ev.qty, not buyer_maker)
        maker_side = OrderSide.BUY if buyer_maker else OrderSide.SELL
        for acct, oid, fee, pnl, maker in (
            (ev.maker_account, ev.maker_order_id, ev.maker_fee, ev.maker_realized_pnl, True),
            (ev.taker_account, ev.taker_order_id, ev.taker_fee, ev.taker_realized_pnl, False),
        ):
            if acct <= 0:
                continue
            rec = self.orders.get(oid)
            self._push(self.user_trades, acct, {
                "id": ev.trade_id, "symbol": ev.symbol, "order_id": oid, "side": maker_side if maker else ev.taker_side,
                "price": ev.price, "qty": ev.qty, "quote": ev.price * ev.qty, "fee": fee, "realized_pnl": pnl,
                "maker": maker, "position_side": rec["position_side"] if rec else "BOTH", "time": ts,
                "liquidation": rec is None, "asset": self.settle.get(ev.symbol, "USDT"),  # of the fee and the PnL
            })  # fmt: skip
            self._income(acct, "REALIZED_PNL", pnl, ev.symbol, ts, str(ev.trade_id))
            self._income(acct, "COMMISSION", -fee, ev.symbol, ts, str(ev.trade_id))


class Hub:
    """Topic fan-out to WebSocket connections (asyncio side). Slow consumers lose messages, never block."""

    def __init__(self) -> None:
        self.subscribers: dict[int, tuple[set[str], asyncio.Queue[tuple[str, dict[str, Any]]]]] = {}
        self._next = 1

    def add(self, topics: set[str]) -> tuple[int, asyncio.Queue[tuple[str, dict[str, Any]]]]:
        """A subscriber reading `topics` (the set is live: the caller may change it); its queue gets
        (topic, message) pairs."""
        sid = self._next
        self._next += 1
        q: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(maxsize=2000)
        self.subscribers[sid] = (topics, q)
        return sid, q

    def remove(self, sid: int) -> None:
        self.subscribers.pop(sid, None)

    def publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        for topics, queue in self.subscribers.values():
            for topic, msg in messages:
                if topic in topics:
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait((topic, msg))

    def halt(self, reason: str) -> None:
        """Tell every connection the engine failed; their writers send `HALT` and close the socket."""
        for _, queue in self.subscribers.values():
            while True:  # make room: the halt notice must not be the message a full queue drops
                try:
                    queue.put_nowait(("", {"e": HALT, "E": now_ms(), "message": reason}))
                    break
                except asyncio.QueueFull:
                    queue.get_nowait()


class ListenKeys:
    """Short-lived tokens naming an account for the WebSocket account stream (Binance's listenKey)."""

    ttl_ms = 60 * MINUTE

    def __init__(self) -> None:
        self._keys: dict[str, tuple[int, int]] = {}

    def issue(self, account: int) -> str:
        for k, (acct, _) in self._keys.items():
            if acct == account:
                self._keys[k] = (account, now_ms() + self.ttl_ms)
                return k
        key = secrets.token_urlsafe(32)
        self._keys[key] = (account, now_ms() + self.ttl_ms)
        return key

    def revoke(self, account: int) -> None:
        """Close the account's listen key (Binance's DELETE listenKey); its streams get `listenKeyExpired`."""
        for k in [k for k, (acct, _) in self._keys.items() if acct == account]:
            del self._keys[k]

    def account(self, key: str) -> int | None:
        v = self._keys.get(key)
        if v is None or v[1] < now_ms():
            return None
        return v[0]


class Venue:
    """The running venue: engine + journal + keys + histories + streams."""

    def __init__(self, config: VenueConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.history = History()
        self.spot_history = SpotHistory()  # spot orders, fills, loans, interest (rebuilt with `history`)
        self.option_history = OptionHistory()  # option orders, fills, settlements, last IVs (likewise)
        self.hub = Hub()
        self.listen_keys = ListenKeys()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.funding_estimate: dict[str, Decimal] = {}
        self.next_funding: dict[str, int] = {}
        self._books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        self.book_ids: dict[str, int] = {}  # each book's last update id (the seq after which it last changed)
        self._depth_pending: deque[tuple[int, str, dict[str, Any]]] = deque()  # depthUpdates not yet durable
        self._failure: str | None = None
        self._failure_code: str = HALT
        self.core = cast(Core, Core.open(config.journal_target, snapshot_every=config.snapshot_every,
                                         on_durable=self._after))  # fmt: skip
        self.committer = GroupCommitter(self.core)
        self.keys = KeyStore(config.data_dir / "keys.json")
        self.meta_path = config.data_dir / "venue.json"
        self.meta: dict[str, Any] = json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}
        for symbol in q.symbols(self.engine):  # listings older than the replayed tail
            inst = q.instrument(self.engine, symbol)
            if inst is not None:
                self.history.settle[symbol] = inst.settle
        self._rebuild_history()
        with self.core.state_lock:
            self._track_books()
            self._depth_pending.clear()
        self.core.after_apply = self._track_books

    @property
    def engine(self) -> Engine:
        """The engine, for `isomargin.engine.queries` (read it under `read`)."""
        return self.core.engine

    # -- set-up ----------------------------------------------------------------------------------------
    def _rebuild_history(self) -> None:
        journal = self.core.journal
        start = max(0, self.core.seq - REPLAY_TAIL)
        for rec in journal.records(after=start, upto=self.core.seq):
            if rec.events is None:
                continue
            try:
                cmd = decode_command(json.loads(rec.payload))
                events = decode_events(rec.events, rec.seq, cmd)
            except Exception:  # a history gap is better than refusing to start
                continue
            self.history.ingest(events)
            self.spot_history.ingest(events)
            self.option_history.ingest(events)
        # The replayed tail may start after positions opened: the crowds follow on from the engine's own.
        e = self.core.engine
        for c in self.history.crowds.values():
            c.clear()
        for acct in q.accounts(e):
            for pos in q.positions(e, acct):
                self.history.crowd(pos["symbol"]).position(acct, pos["position_side"].value, pos["size"])

    def bootstrap(self) -> None:
        """List the configured markets (linear and coin-margined) and spot pairs, seed marks and each settle asset's
        insurance fund, create the demo parts' accounts (funded in USDT and in each coin)."""
        engine = self.engine
        fresh = not q.symbols(engine)
        for symbol, profile in self.config.listings:
            if q.instrument(engine, symbol) is None:  # a dated future is listed with its expiry from the venue data
                spec = get_profile(profile).symbols.get(symbol)
                self.call(ListInstrument(symbol, venue=profile, expiry=None if spec is None else spec.expiry_ms))
            m = q.market(engine, symbol)
            if m is not None and m["mark_price"] is None and symbol in self.config.start_prices:
                p = self.config.start_prices[symbol]
                self.call(SetMarkPrice(symbol, p, p))
        for symbol, profile in self.config.spot_pairs:  # spot pairs with isolated margin (/api/v3, /sapi)
            if sq.spot_pair(engine, symbol) is None:
                self.call(ListSpotPair(symbol, venue=profile))
            pair = sq.spot_pair(engine, symbol)
            if pair is not None and pair["mark_price"] is None and symbol in self.config.start_prices:
                p = self.config.start_prices[symbol]
                self.call(SetMarkPrice(symbol, p, p))
        insured = set(self.meta.get("insured", ["USDT"] if not fresh else []))
        for asset, price in self.settle_assets().items():
            if asset not in insured and self.config.insurance_seed > 0:  # the seed's USD worth, in the coin
                seed = self.config.insurance_seed
                self.call(FundInsurance(asset, seed if price == 1 else (seed / price).quantize(COIN_PLACES)))
            insured.add(asset)
        self.meta["insured"] = sorted(insured)
        self._save_meta()
        if self.config.market_maker and "market_maker" not in self.meta:
            acct = self.create_account_sync()
            self.call(Deposit(acct, "USDT", Decimal("50000000")))
            self.meta["market_maker"] = acct
            self._save_meta()
        if self.config.market_maker:
            self._fund_coins(self.meta["market_maker"], {a: 50_000_000 / p for a, p in self.settle_assets().items()})
        if self.config.demo_account:
            creds = self.config.data_dir / "demo-credentials.json"
            demo = self.meta.get("demo_account")
            if demo is None:
                demo = self.create_account_sync()
                self.call(Deposit(demo, "USDT", self.config.demo_deposit))
                self.meta["demo_account"] = demo
                self._save_meta()
            self._fund_coins(demo, self.config.coin_deposits)
            keys = [k for k in self.keys.of_account(demo) if k.label == "demo"]
            key = keys[0] if keys else self.keys.create(demo, ("read", "trade"), "demo")
            creds.write_text(json.dumps({"apiKey": key.key, "secret": key.secret, "account": demo}))
            creds.chmod(0o600)
        if self.config.market_maker and self.config.noise_traders:  # after the demo account: its id stays put
            if "noise_trader" not in self.meta:
                acct = self.create_account_sync()
                self.call(Deposit(acct, "USDT", Decimal("5000000")))
                self.meta["noise_trader"] = acct
                self._save_meta()
            self._fund_coins(self.meta["noise_trader"], {a: 5_000_000 / p for a, p in self.settle_assets().items()})

    def settle_assets(self) -> dict[str, Decimal]:
        """Every listed market's settle asset with a USD price for it (1 for USDT; a coin: its market's start
        price), in listing order."""
        out: dict[str, Decimal] = {}
        for symbol, _ in self.config.listings:
            inst = q.instrument(self.engine, symbol)
            if inst is not None and inst.settle not in out:
                out[inst.settle] = Decimal(1) if not inst.inverse else self.config.start_prices.get(symbol, Decimal(1))
        return out

    def _fund_coins(self, account: int, amounts: dict[str, Decimal]) -> None:
        """Deposit each coin of `amounts` that a listed market settles in, once per account (kept in meta)."""
        done = self.meta.setdefault("coin_funded", {}).setdefault(str(account), [])
        for asset, amount in amounts.items():
            if asset in done or asset == "USDT" or asset not in self.settle_assets():
                continue
            self.call(Deposit(account, asset, Decimal(amount).quantize(COIN_PLACES)))
            done.append(asset)
        self._save_meta()

    def _save_meta(self) -> None:
        self.meta_path.write_text(json.dumps(self.meta))

    @property
    def noise_trader(self) -> int | None:
        v = self.meta.get("noise_trader")
        return int(v) if v is not None else None

    @property
    def market_maker(self) -> int | None:
        v = self.meta.get("market_maker")
        return int(v) if v is not None else None

    def paused(self, symbol: str) -> bool:
        """Paused markets are engine state (SetMarketStatus), so they survive restarts through the journal."""
        m = self.read(lambda: q.market(self.engine, symbol))
        return bool(m is not None and m["paused"])

    # -- failure ---------------------------------------------------------------------------------------
    @property
    def failure(self) -> str | None:
        """Why the venue stopped (engine fault or journal failure), or None while it runs."""
        if self._failure is None and (self.engine.failed is not None or self.core.failed is not None):
            journal_code = (self.core.failed_code or JournalCode.JOURNAL_FAILED).value
            self._halt(HALT if self.engine.failed is not None else journal_code,
                       f"the venue stopped: {self.core.failed or self.engine.failed}")  # fmt: skip
        return self._failure

    def _halt(self, code: str, reason: str) -> None:
        if self._failure is not None:
            return
        self._failure, self._failure_code = reason, code
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.hub.halt, reason)

    def halted_error(self) -> ApiError:
        """503 for every request once the venue stopped (engine_failed, or journal_failed)."""
        return ApiError(503, self._failure_code, f"{self._failure}; the venue refuses every request until it is "
                        "restarted (it recovers from the journal)", -1001)  # fmt: skip

    def _failed(self, exc: JournalError | EngineFailed) -> ApiError:
        """The ApiError for an exception from the committer; an engine or journal failure halts the venue."""
        if isinstance(exc, EngineHalted | EngineFailed) or exc.code in HALTING_CODES:
            self._halt(getattr(exc, "code", HALT), str(exc))
            return self.halted_error()
        return ApiError(503, exc.code, exc.message, -1001)

    def check(self, events: list[Event]) -> None:
        """Raise the ApiError of a rejection (a rejection for a failed engine halts the venue)."""
        for ev in events:
            if isinstance(ev, Rejected):
                if ev.code.value in HALTING_CODES:
                    self._halt(ev.code.value, ev.message)
                    raise self.halted_error()
                raise from_reject(ev.code.value, ev.message)

    # -- commands --------------------------------------------------------------------------------------
    def _stamp(self, cmd: Command, ts: int | None = None) -> Command:
        if self.failure is not None:
            raise self.halted_error()
        return dataclasses.replace(cmd, ts=now_ms() if ts is None else ts)

    def call(self, cmd: Command, key: str | None = None) -> list[Event]:
        """Synchronous submit (start-up, threads); raises ApiError on rejection."""
        try:
            events = self.committer.call(self._stamp(cmd), key)
        except (JournalError, EngineFailed) as exc:
            raise self._failed(exc) from None
        self.check(events)
        return events

    async def submit(self, cmd: Command, key: str | None = None, raise_on_reject: bool = True,
                     ts: int | None = None) -> list[Event]:  # fmt: skip
        """Journal and apply `cmd` stamped now (or at `ts`: an operator's interest charged ahead, a scheduler's
        hour boundary); raises the ApiError of a rejection unless told not to."""
        try:
            events = await self.committer.submit_async(self._stamp(cmd, ts), key)
        except (JournalError, EngineFailed) as exc:
            raise self._failed(exc) from None
        if raise_on_reject:
            self.check(events)
        return events

    async def submit_many(self, cmds: Sequence[Command]) -> list[list[Event]]:
        """Enqueue in order (one group commit when they arrive together); rejections are returned, not raised."""
        futures = [self.committer.submit(self._stamp(c)) for c in cmds]
        try:
            return [await asyncio.wrap_future(f) for f in futures]
        except (JournalError, EngineFailed) as exc:
            raise self._failed(exc) from None

    def create_account_sync(self, hedge_mode: bool = False) -> int:
        """A new account; the engine allocates its id (reported in its AccountCreated event)."""
        for ev in self.call(CreateAccount(None, hedge_mode)):
            if isinstance(ev, AccountCreated):
                return int(ev.account)
        raise ApiError(500, "account_lost", "account created but no AccountCreated event", -1000)

    async def create_account(self, hedge_mode: bool = False) -> int:
        for ev in await self.submit(CreateAccount(None, hedge_mode)):
            if isinstance(ev, AccountCreated):
                return int(ev.account)
        raise ApiError(500, "account_lost", "account created but no AccountCreated event", -1000)

    # -- reads (under the state lock) -----------------------------------------------------------------
    def read(self, fn: Callable[[], Any]) -> Any:
        with self.core.state_lock:
            return fn()

    def account_exists(self, account: int) -> bool:
        return bool(self.read(lambda: q.account_exists(self.engine, account)))

    def listed(self, symbol: str) -> bool:
        return symbol in self.read(lambda: q.symbols(self.engine))

    def book(self, symbol: str, limit: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        return q.depth(self.engine, symbol, limit)

    def liquidation_map(self, symbol: str, bins: int, span: Decimal = Decimal("0.5")) -> dict[str, Any]:
        """All open positions' liquidation prices as a histogram of notional over price, long and short, in a
        window of ±`span` around mark (one far-away price must not flatten the picture); what lies outside is
        tallied in `outside`."""
        engine = self.engine
        mark = q.reference_price(engine, symbol)
        inst = q.instrument(engine, symbol)
        usd = inst is not None and inst.inverse  # an inverse size is its face value in USD already
        points = [(liq, size if usd else size * (mark or liq), long)
                  for liq, size, long in q.liquidation_prices(engine, symbol)]  # fmt: skip
        outside: dict[str, dict[str, Any]] = {
            s: {"long": Decimal(0), "short": Decimal(0), "count": 0} for s in ("below", "above")
        }
        out: dict[str, Any] = {"symbol": symbol, "mark_price": mark, "positions": len(points), "bins": [],
                               "outside": outside}  # fmt: skip
        if not points:
            return out
        if mark is not None:
            lo, hi = mark * (1 - span), mark * (1 + span)
        else:
            lo, hi = min(p for p, _, _ in points), max(p for p, _, _ in points)
        width = (hi - lo) / bins if hi > lo else Decimal(1)
        rows: list[dict[str, Any]] = [
            {"price_low": lo + width * i, "price_high": lo + width * (i + 1), "long": Decimal(0), "short": Decimal(0),
             "count": 0}
            for i in range(bins)
        ]  # fmt: skip
        for price, notional, long in points:
            if price < lo or price > hi:
                tally = outside["below" if price < lo else "above"]
                tally["long" if long else "short"] += notional
                tally["count"] += 1
                continue
            i = min(int((price - lo) / width), bins - 1)
            rows[i]["long" if long else "short"] += notional
            rows[i]["count"] += 1
        out["bins"] = rows
        return out

    # -- events -> histories and streams (committer thread, inside the journal's lock) -----------------
    def _after(self, cmds: Sequence[Command], results: Sequence[Sequence[Event]], fresh: Sequence[bool]) -> None:
        try:
            self._publish(cmds, results, fresh)
        except Exception:  # a history or stream gap is better than failing a durable batch
            logging.getLogger(__name__).exception("venue: building histories and streams failed")

    def _publish(self, cmds: Sequence[Command], results: Sequence[Sequence[Event]], fresh: Sequence[bool]) -> None:
        messages: list[tuple[str, dict[str, Any]]] = []
        accounts: set[int] = set()
        margin_accounts: set[tuple[int, str]] = set()  # isolated spot-margin accounts whose view is re-sent
        topics = self._topics() if self.loop is not None else set()  # messages only for what someone reads
        for events, new in zip(results, fresh, strict=True):
            if not new:
                continue
            new_orders = self.history.ingest(events)
            self.spot_history.ingest(events)
            self.option_history.ingest(events)
            if not topics:
                continue
            for ev in events:
                if isinstance(ev, Rejected):
                    continue
                acct = getattr(ev, "account", None)
                if isinstance(acct, int) and acct > 0:
                    accounts.add(acct)
                for pair in touched(ev):
                    accounts.add(pair[0])
                    margin_accounts.add(pair)
                messages.extend(self._stream(ev, new_orders, topics))
                messages.extend(spot_stream(ev, topics))
                messages.extend(option_stream(ev, topics))
        durable = self.core.durable_seq
        while self._depth_pending and self._depth_pending[0][0] <= durable:
            _, symbol, delta = self._depth_pending.popleft()
            if f"book:{symbol}" in topics:
                messages.append((f"book:{symbol}", delta))
        if not topics or self.loop is None:
            return
        ts = now_ms()
        engine = self.engine
        for acct in sorted(accounts):
            if f"account:{acct}" not in topics:
                continue
            messages.append((f"account:{acct}", {
                "e": "ACCOUNT_UPDATE", "E": ts, "account": acct, "balances": jsonable(q.balances(engine, acct)),
                "assets": jsonable(all_balances(engine, acct)),  # every settle asset; "balances" is USDT's
                "positions": jsonable([{**position_row(v), "margin_asset": settle_of(engine, v["symbol"])}
                                       for v in q.positions(engine, acct)]),
            }))  # fmt: skip
        for acct, symbol in sorted(margin_accounts):
            if f"account:{acct}" in topics:
                view = sq.margin_account(engine, acct, symbol)
                if view is not None:
                    messages.append(
                        (
                            f"account:{acct}",
                            {
                                "e": "MARGIN_ACCOUNT_UPDATE",
                                "E": ts,
                                "account": acct,
                                "symbol": symbol,
                                "margin_account": jsonable(view),
                            },
                        )
                    )
        if messages:
            self.loop.call_soon_threadsafe(self.hub.publish, messages)

    def _topics(self) -> set[str]:
        out: set[str] = set()
        for topics, _ in list(self.hub.subscribers.values()):
            out |= topics
        return out

    def book_snapshot(self, symbol: str) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]], int]:
        """The book now (top 200 levels a side) and its update id, read together under the state lock."""
        with self.core.state_lock:
            bids, asks = self.book(symbol, BOOK_LEVELS)
            return bids, asks, self.book_ids.get(symbol, self.core.seq)

    def _track_books(self) -> None:
        """After each applied group (state lock held): every listed book's change since the last one becomes a
        `depthUpdate` with Binance's ids — `u` the seq the group ended at, `U` = the book's previous `u` + 1, `pu`
        its previous `u`; REST depth's `lastUpdateId` is the book's last `u`, read with it, so a local book syncs.
        Kept until its group is durable; published by `_publish`."""
        engine = self.engine
        seq = self.core.seq
        for symbol in q.symbols(engine):
            bids, asks = self.book(symbol, BOOK_LEVELS)
            new = ({p: x for p, x in bids}, {p: x for p, x in asks})
            old = self._books.get(symbol)
            self._books[symbol] = new
            if old is None:
                self.book_ids[symbol] = seq
                continue
            changes: list[list[list[str]]] = []
            for o, n in zip(old, new, strict=True):
                side = [[fmt(p), fmt(x)] for p, x in n.items() if o.get(p) != x]
                side += [[fmt(p), "0"] for p in o if p not in n]
                changes.append(side)
            if not changes[0] and not changes[1]:
                continue
            prev = self.book_ids.get(symbol, 0)
            self.book_ids[symbol] = seq
            ts = now_ms()
            self._depth_pending.append((seq, symbol, {
                "e": "depthUpdate", "E": ts, "T": ts, "s": symbol, "U": prev + 1, "u": seq, "pu": prev,
                "b": changes[0], "a": changes[1],
            }))  # fmt: skip

    def _stream(self, ev: Event, new_orders: set[int], topics: set[str]) -> list[tuple[str, dict[str, Any]]]:
        """The stream messages one event makes, for the topics someone subscribes to."""
        out: list[tuple[str, dict[str, Any]]] = []
        ts = ev.env.ts
        if isinstance(ev, Trade):
            if f"trades:{ev.symbol}" in topics:
                out.append((f"trades:{ev.symbol}", {
                    "e": "trade", "E": ts, "s": ev.symbol, "t": ev.trade_id, "p": fmt(ev.price), "q": fmt(ev.qty),
                    "T": ts, "m": ev.taker_side is OrderSide.SELL,
                }))  # fmt: skip
            for acct in (ev.maker_account, ev.taker_account):
                if acct > 0 and f"account:{acct}" in topics:
                    out.append(
                        (
                            f"account:{acct}",
                            {
                                "e": "TRADE",
                                "E": ts,
                                **event_row(ev),
                                "asset": self.history.settle.get(ev.symbol, "USDT"),
                            },
                        )
                    )
        elif isinstance(ev, MarkPriceUpdated):
            if f"mark:{ev.symbol}" not in topics:
                return out
            out.append((f"mark:{ev.symbol}", {
                "e": "markPriceUpdate", "E": ts, "s": ev.symbol, "p": fmt(ev.mark), "i": fmt(ev.index_price),
                "r": fmt(self.funding_estimate.get(ev.symbol, Decimal(0))), "T": self.next_funding.get(ev.symbol, 0),
            }))  # fmt: skip
        elif isinstance(ev, OrderUpdated):
            if f"account:{ev.account}" not in topics:
                return out
            rec = order_record(ev)
            triggered = self.history.orders.get(ev.order_id, {}).get("triggered_at")
            if triggered is not None:
                rec["triggered_at"] = triggered
            topic = f"account:{ev.account}"
            if ev.order_id in new_orders and ev.status is not OrderStatus.NEW:
                # the engine reports an order that filled (or expired) at once by its final state only; streams
                # show it accepted first, as Binance does
                new_orders.discard(ev.order_id)
                accepted = {**rec, "status": OrderStatus.NEW, "filled": Decimal(0), "avg_price": None, "reason": None}
                out.append((topic, {"e": "ORDER_TRADE_UPDATE", "E": ts, "o": jsonable(accepted)}))
            out.append((topic, {"e": "ORDER_TRADE_UPDATE", "E": ts, "o": jsonable(rec)}))
        elif isinstance(ev, SettingChanged):
            if f"account:{ev.account}" in topics:
                out.append((f"account:{ev.account}", {"e": "ACCOUNT_CONFIG", "E": ts, **event_row(ev)}))
        elif isinstance(ev, MarginCall):
            if f"account:{ev.account}" in topics:
                out.append((f"account:{ev.account}", {"e": "MARGIN_CALL", "E": ts, **event_row(ev)}))
        elif isinstance(ev, Liquidated | AutoDeleveraged):
            msg = {"e": "LIQUIDATION" if isinstance(ev, Liquidated) else "ADL", "E": ts, **event_row(ev)}
            out.append((f"account:{ev.account}", msg))
            out.append(("liquidations", msg))
        return out

    def close(self) -> None:
        self.committer.close()
        self.core.close()


def jsonable(value: Any) -> Any:
    """Decimals as plain strings and enums as their wire names, recursively (for JSON bodies and streams)."""
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, IntEnum):  # an order side: BUY / SELL
        return value.name
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def data_dir(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()
