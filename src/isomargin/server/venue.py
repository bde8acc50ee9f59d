"""The venue: one engine behind the journal (group commit), API keys, bounded histories built from the
engine's events (trades, klines, mark klines, funding, liquidations/ADL, orders), and the fan-out of
events to WebSocket subscribers. Every change is an engine command; timestamps are stamped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast

from isomargin.engine import (
    Command,
    CreateAccount,
    Deposit,
    Event,
    ListInstrument,
    PlaceOrder,
    Rejected,
    SetMarkPrice,
)
from isomargin.engine.commands import FundInsurance
from isomargin.engine.events import (
    AutoDeleveraged,
    FundingPaid,
    Liquidated,
    MarginAdjusted,
    MarginCall,
    MarkPriceUpdated,
    OrderUpdated,
    PositionUpdated,
    Trade,
)
from isomargin.engine.queries import balances, cross_liquidation_price, positions
from isomargin.journal import DurableEngine, GroupCommitter, decode_events, derived_key
from isomargin.journal.journal import Journal
from isomargin.server.config import VenueConfig
from isomargin.server.errors import ApiError, from_reject
from isomargin.server.keys import KeyStore

MINUTE = 60_000
BAR_KEEP = 2 * 24 * 60  # one-minute bars kept per symbol and price kind
ORDER_KEEP = 50_000
REPLAY_TAIL = 200_000  # journal records re-read at start-up to rebuild the histories


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


def dec(value: object, what: str) -> Decimal:
    """Parse a decimal from a request (strings or ints; floats go through their shortest repr)."""
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ApiError(400, "bad_number", f"{what} must be a decimal number, got {value!r}", -1100) from None
    if not d.is_finite():
        raise ApiError(400, "bad_number", f"{what} must be finite", -1100)
    return d


class Core(DurableEngine):
    """DurableEngine plus a state lock shared with readers and a hook run after each durable batch."""

    def __init__(self, journal: Journal, **options: Any) -> None:
        self.state_lock = threading.RLock()
        self.after: Callable[[Sequence[Command], list[list[Event]], list[bool]], None] | None = None
        super().__init__(journal, **options)

    def submit_batch(self, cmds: Sequence[Command], keys: Sequence[str | None] | None = None) -> list[list[Event]]:
        with self.state_lock:
            fresh = []
            for i, cmd in enumerate(cmds):
                key = keys[i] if keys is not None else None
                if key is None and self.dedupe_client_order_ids:
                    key = derived_key(cmd)
                fresh.append(key is None or key not in self._keys)
            results = super().submit_batch(cmds, keys)
            if self.after is not None:
                self.after(cmds, results, fresh)
            return results


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
            bar = self.bars[start] = [price, price, price, price, Decimal(0), Decimal(0), 0, Decimal(0), Decimal(0)]
            while len(self.bars) > BAR_KEEP:
                self.bars.popitem(last=False)
        bar[1] = max(bar[1], price)
        bar[2] = min(bar[2], price)
        bar[3] = price
        if qty:
            bar[4] += qty
            bar[5] += quote
            bar[6] += 1
            if buyer_taker:
                bar[7] += qty
                bar[8] += quote

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
                for i in (4, 5, 6, 7, 8):
                    cur[i] += b[i]
        rows = [[k, *v] for k, v in out.items()]
        return rows[-limit:] if start is None else rows[:limit]


class History:
    """Everything the APIs show that the engine does not keep: bounded, rebuilt from journaled events."""

    def __init__(self) -> None:
        self.trades: dict[str, deque[dict[str, Any]]] = {}
        self.bars: dict[tuple[str, str], Bars] = {}
        self.funding: dict[str, deque[dict[str, Any]]] = {}
        self.liquidations: deque[dict[str, Any]] = deque(maxlen=5000)
        self.orders: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.user_trades: dict[int, deque[dict[str, Any]]] = {}
        self.income: dict[int, deque[dict[str, Any]]] = {}
        self.alerts: dict[int, deque[dict[str, Any]]] = {}
        self.position_time: dict[tuple[int, str, str], int] = {}
        self.next_income = 1

    def bar(self, symbol: str, kind: str) -> Bars:
        b = self.bars.get((symbol, kind))
        if b is None:
            b = self.bars[(symbol, kind)] = Bars()
        return b

    def _push(self, table: dict[Any, deque[dict[str, Any]]], key: Any, row: dict[str, Any], keep: int = 1000) -> None:
        q = table.get(key)
        if q is None:
            q = table[key] = deque(maxlen=keep)
        q.append(row)

    def _income(self, account: int, kind: str, amount: Decimal, symbol: str, ts: int, info: str = "") -> None:
        if not amount:
            return
        self._push(self.income, account, {
            "symbol": symbol, "incomeType": kind, "income": amount, "asset": "USDT", "time": ts,
            "info": info, "tranId": self.next_income, "tradeId": info if kind != "FUNDING_FEE" else "",
        })  # fmt: skip
        self.next_income += 1

    def ingest(self, cmd: Command, events: Iterable[Event], ts: int) -> None:
        new_order: int | None = None
        for ev in events:
            if isinstance(ev, OrderUpdated):
                rec = self.orders.get(ev.order_id)
                if rec is None:
                    rec = {"created": ts, "tif": "GTC", "working_type": "CONTRACT_PRICE", "close_position": False,
                           "callback_rate": None, "activation_price": None, "orig_type": ev.type}  # fmt: skip
                    if new_order is None and isinstance(cmd, PlaceOrder) and ev.account == cmd.account:
                        new_order = ev.order_id
                        rec.update(tif=cmd.tif.value, working_type=cmd.working_type.value,
                                   close_position=cmd.close_position, callback_rate=cmd.callback_rate,
                                   activation_price=cmd.activation_price)  # fmt: skip
                    self.orders[ev.order_id] = rec
                    while len(self.orders) > ORDER_KEEP:
                        self.orders.popitem(last=False)
                rec.update(
                    order_id=ev.order_id, account=ev.account, symbol=ev.symbol, client_order_id=ev.client_order_id,
                    side=ev.side, type=ev.type, status=ev.status, price=ev.price, stop_price=ev.stop_price,
                    qty=ev.qty, filled=ev.filled, avg_price=ev.avg_price, reduce_only=ev.reduce_only,
                    position_side=ev.position_side, reason=ev.reason, updated=ts,
                )  # fmt: skip
                if ev.status == "TRIGGERED":
                    rec["triggered_at"] = ts
            elif isinstance(ev, Trade):
                buyer_maker = ev.taker_side == "SELL"
                self._push(self.trades, ev.symbol, {
                    "id": ev.trade_id, "price": ev.price, "qty": ev.qty, "quote": ev.price * ev.qty, "time": ts,
                    "buyer_maker": buyer_maker,
                })  # fmt: skip
                self.bar(ev.symbol, "last").add(ts, ev.price, ev.qty, not buyer_maker)
                for acct, oid, fee, pnl, maker in (
                    (ev.maker_account, ev.maker_order_id, ev.maker_fee, ev.maker_realized_pnl, True),
                    (ev.taker_account, ev.taker_order_id, ev.taker_fee, ev.taker_realized_pnl, False),
                ):
                    if acct <= 0:
                        continue
                    side = ("SELL" if ev.taker_side == "BUY" else "BUY") if maker else ev.taker_side
                    rec = self.orders.get(oid)
                    self._push(self.user_trades, acct, {
                        "id": ev.trade_id, "symbol": ev.symbol, "order_id": oid, "side": side, "price": ev.price,
                        "qty": ev.qty, "quote": ev.price * ev.qty, "fee": fee, "realized_pnl": pnl, "maker": maker,
                        "position_side": rec["position_side"] if rec else "BOTH", "time": ts,
                        "liquidation": rec is None,
                    })  # fmt: skip
                    self._income(acct, "REALIZED_PNL", pnl, ev.symbol, ts, str(ev.trade_id))
                    self._income(acct, "COMMISSION", -fee, ev.symbol, ts, str(ev.trade_id))
            elif isinstance(ev, MarkPriceUpdated):
                self.bar(ev.symbol, "mark").add(ts, ev.mark)
                self.bar(ev.symbol, "index").add(ts, ev.index)
            elif isinstance(ev, FundingPaid):
                if ev.account > 0:
                    self._income(ev.account, "FUNDING_FEE", ev.amount, ev.symbol, ts)
            elif isinstance(ev, Liquidated | AutoDeleveraged):
                row = ev.to_dict()
                row["time"] = ts
                self.liquidations.append(row)
            elif isinstance(ev, MarginCall):
                row = ev.to_dict()
                row["time"] = ts
                self._push(self.alerts, ev.account, row, 200)
            elif isinstance(ev, PositionUpdated | MarginAdjusted):
                self.position_time[(ev.account, ev.symbol, ev.position_side)] = ts
        if cmd.__class__.__name__ == "SettleFunding":
            symbol = getattr(cmd, "symbol", "")
            marks = [e for e in events if isinstance(e, FundingPaid)]
            rate = getattr(cmd, "rate", Decimal(0))
            if not any(isinstance(e, Rejected) for e in events):
                self._push(self.funding, symbol, {
                    "symbol": symbol, "rate": rate, "time": ts, "mark": marks[0].mark if marks else None,
                })  # fmt: skip


class Hub:
    """Topic fan-out to WebSocket connections (asyncio side). Slow consumers lose messages, never block."""

    def __init__(self) -> None:
        self.subscribers: dict[int, tuple[set[str], asyncio.Queue[dict[str, Any]]]] = {}
        self._next = 1

    def add(self, topics: set[str]) -> tuple[int, asyncio.Queue[dict[str, Any]]]:
        sid = self._next
        self._next += 1
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=2000)
        self.subscribers[sid] = (topics, q)
        return sid, q

    def remove(self, sid: int) -> None:
        self.subscribers.pop(sid, None)

    def publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        for topics, q in self.subscribers.values():
            for topic, msg in messages:
                if topic in topics:
                    with contextlib.suppress(asyncio.QueueFull):
                        q.put_nowait(msg)


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
        self.core = cast(Core, Core.open(config.journal_target, snapshot_every=config.snapshot_every))
        self.committer = GroupCommitter(self.core)
        self.keys = KeyStore(config.data_dir / "keys.json")
        self.meta_path = config.data_dir / "venue.json"
        self.meta: dict[str, Any] = json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}
        self.history = History()
        self.hub = Hub()
        self.listen_keys = ListenKeys()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.funding_estimate: dict[str, Decimal] = {}
        self.next_funding: dict[str, int] = {}
        self._books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        self.book_seq = 0
        self._account_lock = threading.Lock()
        self._rebuild_history()
        self.core.after = self._after

    # -- set-up ----------------------------------------------------------------------------------------
    def _rebuild_history(self) -> None:
        journal = self.core.journal
        start = max(0, self.core.seq - REPLAY_TAIL)
        from isomargin.journal.codec import decode_command

        for rec in journal.records(after=start, upto=self.core.seq):
            if rec.events is None:
                continue
            try:
                cmd = decode_command(json.loads(rec.payload))
                events = decode_events(rec.events)
            except Exception:  # a history gap is better than refusing to start
                continue
            self.history.ingest(cmd, events, rec.ts)

    def bootstrap(self) -> None:
        """List the configured markets, seed marks and the insurance fund, create the demo parts' accounts."""
        engine = self.core.engine
        fresh = not engine.instruments
        for symbol in self.config.symbols:
            if symbol not in engine.instruments:
                self.call(ListInstrument(symbol, venue=self.config.venue))
            if symbol not in engine.marks and symbol in self.config.start_prices:
                p = self.config.start_prices[symbol]
                self.call(SetMarkPrice(symbol, p, p))
        if fresh and self.config.insurance_seed > 0:
            self.call(FundInsurance("USDT", self.config.insurance_seed))
        if self.config.market_maker and "market_maker" not in self.meta:
            acct = self.create_account_sync()
            self.call(Deposit(acct, "USDT", Decimal("50000000")))
            self.meta["market_maker"] = acct
            self._save_meta()
        if self.config.demo_account:
            creds = self.config.data_dir / "demo-credentials.json"
            demo = self.meta.get("demo_account")
            key = None
            if demo is None:
                demo = self.create_account_sync()
                self.call(Deposit(demo, "USDT", self.config.demo_deposit))
                self.meta["demo_account"] = demo
                self._save_meta()
            keys = [k for k in self.keys.of_account(demo) if k.label == "demo"]
            key = keys[0] if keys else self.keys.create(demo, ("read", "trade"), "demo")
            creds.write_text(json.dumps({"apiKey": key.key, "secret": key.secret, "account": demo}))
            creds.chmod(0o600)

    def _save_meta(self) -> None:
        self.meta_path.write_text(json.dumps(self.meta))

    @property
    def market_maker(self) -> int | None:
        v = self.meta.get("market_maker")
        return int(v) if v is not None else None

    def paused(self, symbol: str) -> bool:
        """Paused markets are engine state (SetMarketStatus), so they survive restarts through the journal."""
        return symbol in self.core.engine.paused

    # -- commands --------------------------------------------------------------------------------------
    def _stamp(self, cmd: Command) -> Command:
        return dataclasses.replace(cmd, ts=now_ms())

    def call(self, cmd: Command, key: str | None = None) -> list[Event]:
        """Synchronous submit (start-up, threads); raises ApiError on rejection."""
        events = self.committer.call(self._stamp(cmd), key)
        check(events)
        return events

    async def submit(self, cmd: Command, key: str | None = None, raise_on_reject: bool = True) -> list[Event]:
        events = await self.committer.submit_async(self._stamp(cmd), key)
        if raise_on_reject:
            check(events)
        return events

    async def submit_many(self, cmds: Sequence[Command]) -> list[list[Event]]:
        """Enqueue in order (one group commit when they arrive together); rejections are returned, not raised."""
        futures = [self.committer.submit(self._stamp(c)) for c in cmds]
        return [await asyncio.wrap_future(f) for f in futures]

    def create_account_sync(self, hedge_mode: bool = False) -> int:
        with self._account_lock:
            with self.core.state_lock:
                acct = max(self.core.engine.accounts, default=0) + 1
            self.call(CreateAccount(acct, hedge_mode))
            return acct

    async def create_account(self, hedge_mode: bool = False) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.create_account_sync, hedge_mode)

    # -- reads (under the state lock) -----------------------------------------------------------------
    def read(self, fn: Callable[[], Any]) -> Any:
        with self.core.state_lock:
            return fn()

    def account_exists(self, account: int) -> bool:
        return account in self.core.engine.accounts

    def book(self, symbol: str, limit: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        engine = self.core.engine
        inst = engine.instruments[symbol]
        bids, asks = engine.books[symbol].depth(limit)
        return (
            [(inst.price(p), inst.qty(q)) for p, q in bids],
            [(inst.price(p), inst.qty(q)) for p, q in asks],
        )

    def liquidation_map(self, symbol: str, bins: int, span: Decimal = Decimal("0.5")) -> dict[str, Any]:
        """All open positions' liquidation prices as a histogram of notional over price, long and short, in a
        window of ±`span` around mark (one far-away price must not flatten the picture); what lies outside is
        tallied in `outside`."""
        engine = self.core.engine
        inst = engine.instruments[symbol]
        mark = engine.reference_price(symbol)
        points: list[tuple[Decimal, Decimal, bool]] = []
        for pos in engine.positions.get(symbol, {}).values():
            if not pos.lots:
                continue
            liq = pos.liquidation if pos.isolated else cross_liquidation_price(engine, pos)
            if liq is None or liq <= 0:
                continue
            points.append((liq, inst.qty(abs(pos.lots)) * (mark or liq), pos.lots > 0))
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

    # -- events -> histories and streams (committer thread) --------------------------------------------
    def _after(self, cmds: Sequence[Command], results: list[list[Event]], fresh: list[bool]) -> None:
        messages: list[tuple[str, dict[str, Any]]] = []
        books: set[str] = set()
        accounts: set[int] = set()
        for cmd, events, new in zip(cmds, results, fresh, strict=True):
            if not new:
                continue
            ts = cmd.ts
            self.history.ingest(cmd, events, ts)
            for ev in events:
                acct = getattr(ev, "account", None)
                if isinstance(acct, int) and acct > 0 and not isinstance(ev, Rejected):
                    accounts.add(acct)
                messages.extend(self._stream(ev, ts))
                if isinstance(ev, OrderUpdated | Trade):
                    books.add(ev.symbol)
        if not self.hub.subscribers or self.loop is None:
            return
        for symbol in sorted(books):
            delta = self._book_delta(symbol)
            if delta is not None:
                messages.append((f"book:{symbol}", delta))
        ts = now_ms()
        engine = self.core.engine
        for acct in sorted(accounts):
            if f"account:{acct}" not in self._topics():
                continue
            messages.append((f"account:{acct}", {
                "e": "ACCOUNT_UPDATE", "E": ts, "account": acct,
                "balances": jsonable(balances(engine, acct)), "positions": jsonable(positions(engine, acct)),
            }))  # fmt: skip
        if messages:
            self.loop.call_soon_threadsafe(self.hub.publish, messages)

    def _topics(self) -> set[str]:
        out: set[str] = set()
        for topics, _ in list(self.hub.subscribers.values()):
            out |= topics
        return out

    def book_snapshot(self, symbol: str) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The book now, made the baseline later deltas are computed against (under the state lock)."""
        with self.core.state_lock:
            bids, asks = self.book(symbol, 200)
            self._books[symbol] = ({p: q for p, q in bids}, {p: q for p, q in asks})
            return bids, asks

    def _book_delta(self, symbol: str) -> dict[str, Any] | None:
        bids, asks = self.book(symbol, 200)
        new = ({p: q for p, q in bids}, {p: q for p, q in asks})
        old = self._books.get(symbol, ({}, {}))
        self._books[symbol] = new
        changes: list[list[list[str]]] = []
        for o, n in zip(old, new, strict=True):
            side = [[fmt(p), fmt(q)] for p, q in n.items() if o.get(p) != q]
            side += [[fmt(p), "0"] for p in o if p not in n]
            changes.append(side)
        if not changes[0] and not changes[1]:
            return None
        first = self.book_seq + 1
        self.book_seq += 1
        return {"e": "depthUpdate", "E": now_ms(), "s": symbol, "U": first, "u": self.book_seq,
                "b": changes[0], "a": changes[1]}  # fmt: skip

    def _stream(self, ev: Event, ts: int) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        if isinstance(ev, Trade):
            out.append((f"trades:{ev.symbol}", {
                "e": "trade", "E": ts, "s": ev.symbol, "t": ev.trade_id, "p": fmt(ev.price), "q": fmt(ev.qty),
                "T": ts, "m": ev.taker_side == "SELL",
            }))  # fmt: skip
            for acct in (ev.maker_account, ev.taker_account):
                if acct > 0:
                    out.append((f"account:{acct}", {"e": "TRADE", "E": ts, **jsonable(ev.to_dict())}))
        elif isinstance(ev, MarkPriceUpdated):
            out.append((f"mark:{ev.symbol}", {
                "e": "markPriceUpdate", "E": ts, "s": ev.symbol, "p": fmt(ev.mark), "i": fmt(ev.index),
                "r": fmt(self.funding_estimate.get(ev.symbol, Decimal(0))), "T": self.next_funding.get(ev.symbol, 0),
            }))  # fmt: skip
        elif isinstance(ev, OrderUpdated):
            rec = self.history.orders.get(ev.order_id, {})
            out.append((f"account:{ev.account}", {"e": "ORDER_TRADE_UPDATE", "E": ts, "o": jsonable(rec)}))
        elif isinstance(ev, MarginCall):
            out.append((f"account:{ev.account}", {"e": "MARGIN_CALL", "E": ts, **jsonable(ev.to_dict())}))
        elif isinstance(ev, Liquidated | AutoDeleveraged):
            msg = {"e": "LIQUIDATION" if isinstance(ev, Liquidated) else "ADL", "E": ts, **jsonable(ev.to_dict())}
            out.append((f"account:{ev.account}", msg))
            out.append(("liquidations", msg))
        return out

    def close(self) -> None:
        self.committer.close()
        self.core.close()


def check(events: list[Event]) -> None:
    for ev in events:
        if isinstance(ev, Rejected):
            raise from_reject(ev.code, ev.message)


def jsonable(value: Any) -> Any:
    """Decimals as plain strings, recursively (for JSON bodies and stream messages)."""
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def data_dir(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()
