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

ZERO = Decimal(0)
EIGHT = Decimal("1E-8")
ASSET = "USDT"
_ISOLATED = f"{BalanceKind.ISOLATED}:"  # Posted balance keys: isolated:<account>:<symbol>:<side>
_WALLET = f"{BalanceKind.WALLET}:"  # wallet:<account>:<asset>
PositionKey = tuple[str, PositionSide]


def dec(x: float) -> Decimal:
    """A float price as the shortest decimal with at most 8 places (what the engine accepts)."""
    s = f"{x:.8f}".rstrip("0").rstrip(".")
    return Decimal(s)


class Simulation:
    """An engine with markets, a liquidity provider and funded accounts, driven along bar paths."""

    def __init__(
        self,
        market: MarketConfig,
        bars: dict[str, Bars],
        funding: dict[str, FundingSeries] | None = None,
        symbols_venue: str | None = None,
    ) -> None:
        if not bars:
            raise SimError("empty_data", "no price path given")
        self.market = market
        self.bars = bars
        self.symbols = list(bars)
        n = {len(b) for b in bars.values()}
        if len(n) != 1:
            raise SimError("bad_data", "all symbols' paths must have the same number of bars")
        self.n = n.pop()
        first = next(iter(bars.values()))
        for b in bars.values():
            if not np.array_equal(b.ts, first.ts):
                raise SimError("bad_data", "all symbols' paths must share the same timestamps")
        self.funding = funding or {}
        self.engine = Engine()
        self.accounts: dict[int, Decimal] = {}  # tracked accounts -> deposited (in the account's asset)
        self.account_asset: dict[int, str] = {}  # tracked accounts -> the settle asset of their symbols
        self.holdings: dict[int, dict[PositionKey, Holding]] = {}  # tracked accounts' open positions
        self.instruments: dict[str, Instrument] = {}
        self.settle: dict[str, str] = {}  # symbol -> settle asset (USDT; the coin for an inverse contract)
        self.inverse: dict[str, bool] = {}
        self.assets: list[str] = []  # settle assets in listing order
        self.quotes: dict[str, Quotes] = {}
        self.marks: dict[str, Decimal] = {}
        self.mark_f: dict[str, float] = {}
        self.levels: dict[str, list[Decimal]] = {}
        self.levels_dirty: dict[str, bool] = {}
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
        self._setup()

    # ------------------------------------------------------------------------------------------ set-up
    def _setup(self) -> None:
        m = self.market
        for sym in self.symbols:
            events = self.engine.apply(
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
            inst = queries.instrument(self.engine, sym)
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
        for sym, b in self.bars.items():
            mb = b.mark or b
            self.set_mark(sym, dec(float(mb.open[0])), self.ts)

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

    def add_account(self, account: int, deposit: Decimal, settings: dict[str, tuple[MarginMode, int]]) -> None:
        """A trader account with `deposit` in its symbols' settle asset (USDT, or the coin of inverse contracts)
        and a (mode, leverage) per symbol. One account trades symbols of one settle asset."""
        assets = sorted({self.settle[s] for s in settings if s in self.settle}) or [ASSET]
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
    def apply(self, cmd: Command) -> list[Event]:
        events = self.engine.apply(cmd)
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

    def set_mark(self, sym: str, mark: Decimal, ts: int) -> None:
        q = self.quotes[sym]
        if q.stale(mark, self.market.requote):
            q.requote(self, mark, ts)
        self.apply(SetMarkPrice(sym, mark, ts=ts))
        self.marks[sym] = mark

    def run(
        self, on_bar: Callable[[int], None] | None = None, progress: Callable[[int], None] | None = None, start: int = 0
    ) -> None:
        """Walk every bar from `start`; `on_bar(i)` runs after bar i's close (the strategy's turn)."""
        for i in range(start, self.n):
            self.step(i)
            if on_bar is not None:
                on_bar(i)
            if progress is not None and i % 1024 == 0:
                progress(i)

    def step(self, i: int) -> None:
        self.bar = i
        for sym in self.symbols:
            self._walk(sym, i)

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
        mb = b.mark if b.mark is not None else b
        points = intrabar(float(mb.open[i]), float(mb.high[i]), float(mb.low[i]), float(mb.close[i]))
        step = b.interval_ms // 4 if i == 0 or i + 1 >= len(b) else int(b.ts[i + 1] - ts0) // 4
        prev = self.marks[sym]
        for k, p in enumerate(points):
            target = dec(p)
            if target == prev:
                continue
            ts = ts0 + k * step
            if k > 0:  # a continuous leg: stop at every level it crosses
                cur = prev
                while True:
                    lv = self._next_level(sym, cur, target)
                    if lv is None:
                        break
                    self.set_mark(sym, lv, ts)
                    cur = lv
            self.set_mark(sym, target, ts)
            prev = target

    def _next_level(self, sym: str, cur: Decimal, target: Decimal) -> Decimal | None:
        if self.levels_dirty[sym]:
            self._collect_levels(sym)
        levels = self.levels[sym]
        if not levels:
            return None
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

    def _collect_levels(self, sym: str) -> None:
        """Liquidation prices of tracked accounts' positions (isolated: the engine's cached exact price; cross:
        the account's exact cross price) and their mark-price stops still waiting to trigger."""
        eng = self.engine
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
        b = queries.balances(self.engine, account, self.asset(account))
        total: Decimal = b["wallet"] + b["held"] + b["isolated_margin"]
        for (sym, _), h in self._holdings(account).items():
            total += self.pnl(sym, h.size, h.basis)
        return total

    def pnl(self, symbol: str, size: Decimal, basis: Decimal) -> Decimal:
        """Unrealised PnL of a signed `size` with signed cost `basis` at the current mark: linear size × mark −
        basis; inverse (size = face in USD, basis = ± coin value at entry) basis − size / mark, which is
        side × face × (1/entry − 1/mark) in the coin."""
        mark = self.marks[symbol]
        if self.inverse[symbol]:
            return basis - size / mark
        return size * mark - basis

    def usd(self, symbol: str, amount: Decimal) -> Decimal:
        """An amount in `symbol`'s settle asset in USD at the current mark (the coin × mark; USDT as is)."""
        return amount * self.marks[symbol] if self.inverse[symbol] else amount

    def size(self, account: int, symbol: str, side: PositionSide = PositionSide.BOTH) -> Decimal:
        """Signed size of a tracked account's position (0 when flat), as its last PositionUpdated said."""
        h = self.holdings[account].get((symbol, side))
        return ZERO if h is None else h.size

    def _holdings(self, account: int) -> dict[PositionKey, Holding]:
        """The account's open positions with their cost basis brought up to date."""
        held = self.holdings[account]
        for (sym, side), h in held.items():
            if h.stale:
                view = queries.position(self.engine, account, sym, side)
                assert view is not None, f"account {account} has no {sym} {side} position the events announced"
                h.size, h.stale = view["size"], False
                h.basis = view["cost"] if h.size > 0 else -view["cost"]
        return held

    def insurance(self, asset: str | None = None) -> Decimal:
        """The insurance fund in `asset` (default: the first symbol's settle asset)."""
        return queries.insurance_fund(self.engine, asset or self.assets[0])

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
        for (acct, sym, side), epi in self.open_episodes.items():
            view = queries.position(self.engine, acct, sym, side)
            if view is None:
                continue
            pnl = self.pnl(sym, view["size"], view["cost"] if view["size"] > 0 else -view["cost"])
            epi.open_value = pnl + view["isolated_margin"]  # 0 for cross
            epi.realized = view["realized_pnl"]
        return [e for e in self.episodes + list(self.open_episodes.values()) if e.peak_size > 0]
