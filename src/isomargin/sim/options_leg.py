"""The options leg of a simulation: an OKX-style coin-margined family (BTC-USD) whose index follows the path, each
listed option marked by Black-76 from an IV model (`SetOptionVol`) at every walked mark, the provider's quotes
around those marks, and `SettleOptions` at the first mark at or after an expiry. `OptionsLeg` is owned by a
`Simulation` (composed); `OptionsDesk` is a strategy's `ctx.options`: chain, sell/buy to open and close, positions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from isomargin.engine import Deposit, LiquidationStep, OrderSide, OrderStatus, Rejected, SetMarkPrice
from isomargin.engine import options_queries as oq
from isomargin.engine.commands import (
    AdjustOptionMargin,
    CancelOptionOrder,
    Command,
    FundInsurance,
    ListOption,
    PlaceOptionOrder,
    SetOptionVol,
    SettleOptions,
    TimeInForce,
)
from isomargin.engine.options_events import (
    OptionLiquidated,
    OptionMarginCall,
    OptionMarked,
    OptionOrderUpdated,
    OptionPositionUpdated,
    OptionSettled,
    OptionTrade,
)
from isomargin.margin.options import OptionKind
from isomargin.sim.errors import SimError
from isomargin.sim.market import LP_ACCOUNT, LP_DEPOSIT, stale
from isomargin.sim.paths import Bars
from isomargin.sim.runner import dec, walk_bar
from isomargin.venues.options import OptionFamily, option_family

if TYPE_CHECKING:
    from isomargin.sim.runner import Simulation

ZERO = Decimal(0)
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS  # ACT/365, as the engine's SetOptionVol
EXPIRY_HOUR_MS = 8 * 3_600_000  # OKX options expire at 08:00 UTC
MIN_IV, MAX_IV = 0.01, 5.0
PROVIDER_COVER = Decimal(2)  # the provider's short pools, in the settle asset per unit of underlying
_GONE = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED})


@dataclass(frozen=True)
class IVModel:
    """The implied volatility of an option: `iv` at the money, plus `skew`·x + `smile`·x² in the log-moneyness
    x = ln(K/F), times (T₀/T)^`term` (T₀ 30 days: shorter expiries dearer with term > 0); kept in [0.01, 5]."""

    iv: float = 0.6
    skew: float = 0.0
    smile: float = 0.0
    term: float = 0.0

    def __post_init__(self) -> None:
        for name in ("iv", "skew", "smile", "term"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise SimError("bad_iv", f"the IV model's {name} must be a finite number, got {v!r}")
        if not MIN_IV <= self.iv <= MAX_IV:
            raise SimError("bad_iv", f"--iv is an annualised volatility between {MIN_IV} and {MAX_IV}, got {self.iv}")

    def vol(self, strike: Decimal, index: Decimal, years: float) -> Decimal:
        x = math.log(float(strike) / float(index))
        v = (self.iv + self.skew * x + self.smile * x * x) * (30 / 365 / max(years, 1e-9)) ** self.term
        return Decimal(f"{min(MAX_IV, max(MIN_IV, v)):.6f}")


@dataclass(frozen=True)
class OptionsSetup:
    """What an options run lists and how it is quoted: the family, the IV model, the provider's spread (each side,
    a fraction of the mark), its re-quote threshold and its depth in contracts per side."""

    family: str = "BTC-USD"
    venue: str = "okx"
    iv: IVModel = IVModel()
    spread: Decimal = Decimal("0.02")
    requote: Decimal = Decimal("0.01")
    depth: Decimal = Decimal(100_000)


def years_left(expiry: int, ts: int) -> Decimal:
    """The engine's time to expiry: ACT/365 to 10⁻¹² of a year, rounded down."""
    return Decimal((expiry - ts) * 10**12 // YEAR_MS).scaleb(-12)


def expiry_after(ts: int, days: int) -> int:
    """The first 08:00 UTC at least `days` days after `ts`."""
    target = ts + days * DAY_MS
    day = (target - EXPIRY_HOUR_MS + DAY_MS - 1) // DAY_MS
    return day * DAY_MS + EXPIRY_HOUR_MS


class OptionQuotes:
    """The provider's bid and ask on one option, re-placed (cancel both, then place both) when stale."""

    __slots__ = ("center", "count", "dirty", "family", "live", "placed", "symbol")

    def __init__(self, symbol: str, family: OptionFamily) -> None:
        self.symbol = symbol
        self.family = family
        self.center: Decimal | None = None
        self.dirty = True
        self.count = 0
        self.live: set[str] = set()
        self.placed: tuple[Decimal | None, Decimal] | None = None  # the (bid, ask) last placed

    def stale(self, mark: Decimal, setup: OptionsSetup) -> bool:
        """An order filled or went away, or the mark moved by the threshold and with it the quotes' ticks."""
        moved = stale(self.center, False, mark, setup.requote)
        return self.dirty or (moved and self.levels(mark, setup.spread) != self.placed)

    def levels(self, mark: Decimal, spread: Decimal) -> tuple[Decimal | None, Decimal]:
        """(bid or None, ask): the spread rounded outwards onto the premium's tick band, the ask at least a tick."""
        lo, hi = mark * (1 - spread), mark * (1 + spread)
        tick = self.family.tick_for(lo)
        bid: Decimal | None = (lo / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
        tick = self.family.tick_for(hi)
        ask = max(tick, (hi / tick).to_integral_value(rounding=ROUND_CEILING) * tick)
        if bid is not None and (bid <= 0 or bid >= ask):
            bid = None
        return bid, ask

    def requote(self, sim: Simulation, setup: OptionsSetup, mark: Decimal, ts: int) -> None:
        for cid in sorted(self.live):
            sim.apply(CancelOptionOrder(LP_ACCOUNT, self.symbol, client_order_id=cid, ts=ts))
        self.live.clear()
        self.dirty, self.center = False, mark
        bid, ask = self.placed = self.levels(mark, setup.spread)
        for side, price in ((OrderSide.BUY, bid), (OrderSide.SELL, ask)):
            if price is None:
                continue
            self.count += 1
            cid = f"lp-{self.symbol}-{self.count}"
            self.live.add(cid)
            events = sim.apply(PlaceOptionOrder(LP_ACCOUNT, self.symbol, side, setup.depth, price,
                                                client_order_id=cid, ts=ts))  # fmt: skip
            if events and isinstance(events[0], Rejected):
                self.live.discard(cid)

    def on_order(self, ev: OptionOrderUpdated) -> None:
        if ev.status is OrderStatus.NEW:
            return
        self.dirty = True
        if ev.status in _GONE and ev.client_order_id is not None:
            self.live.discard(ev.client_order_id)


class OptionsLeg:
    """Options in a simulation's engine: the family's index walked along the path, the listed options' Black-76
    marks and quotes, expiry settlement, and what the tracked accounts' options did, read from the events."""

    def __init__(self, sim: Simulation, bars: Bars, setup: OptionsSetup) -> None:
        self.sim = sim
        self.path = bars
        self.config = setup
        self.family = option_family(setup.venue, setup.family)
        self.symbol = setup.family  # the path's key in `sim.bars` and the index's symbol
        self.quotes: dict[str, OptionQuotes] = {}  # the live (listed, not yet settled) options
        self.expiry: dict[str, int] = {}
        self.strike: dict[str, Decimal] = {}
        self.kinds: dict[str, str] = {}  # "C" | "P"
        self.index = ZERO
        self.ts = 0  # the time of the last index mark
        self.liquidations: list[dict[str, Any]] = []
        self.settlements: list[dict[str, Any]] = []
        self.marks: dict[str, Decimal] = {}  # the quotes' marks (float Black-76)
        self.engine_marks: dict[str, Decimal] = {}  # the engine's, from OptionMarked
        self.held: dict[tuple[int, str], tuple[Decimal, Decimal]] = {}  # tracked (account, option) → (qty, pool)
        self._provider: dict[str, tuple[Decimal, Decimal]] = {}  # the provider's (qty, pool) per option
        self._uncovered: set[str] = set()  # options the provider is short on with less than its cover

    # ------------------------------------------------------------------------------------------ set-up
    def setup(self) -> None:
        """Fund the provider and the insurance fund in the settle asset, and set the first index."""
        sim, f = self.sim, self.family
        sim.must(Deposit(LP_ACCOUNT, f.settle, LP_DEPOSIT, ts=sim.ts))
        first = dec(float((self.path.mark or self.path).open[0]))
        if sim.market.insurance > 0:
            fund = (sim.market.insurance / first).quantize(Decimal("1E-8"), rounding=ROUND_FLOOR)
            sim.must(FundInsurance(f.settle, fund, ts=sim.ts))
        sim.notes.extend(self.path.notes)
        self._point(first, sim.ts)

    # ------------------------------------------------------------------------------------------ walking
    def walk(self, i: int) -> None:
        """Bar i: expiries reached by its open time settle at its open, then its index marks (open → extremes →
        close); a bar whose price did not move re-marks the options at its close, so time decay is never
        skipped."""
        b = self.path
        ts0 = int(b.ts[i])
        self.ts = max(self.ts, ts0)
        self.settle_due(dec(float((b.mark or b).open[i])), ts0)  # an expiry reached settles at the bar's open
        moved = [False]

        def point(mark: Decimal, ts: int) -> None:
            moved[0] = True
            self._point(mark, ts)

        walk_bar(b, i, self.index, point, lambda cur, target: None)
        if not moved[0]:
            step = b.interval_ms // 4 if i + 1 >= len(b) else int(b.ts[i + 1] - b.ts[i]) // 4
            self._point(self.index, ts0 + 3 * step)

    def _point(self, index: Decimal, ts: int) -> None:
        """One mark of the path: expiries due settle at it, then the quotes move to the new marks (before the
        engine sees them, so a liquidation buys back at fresh prices), then the index and every option's IV."""
        self.ts = ts
        self.settle_due(index, ts)
        self.index = index
        marks = {s: self.mark_of(s, index, ts) for s in self.quotes}
        for sym, q in self.quotes.items():
            if q.stale(marks[sym], self.config):
                q.requote(self.sim, self.config, marks[sym], ts)
        self._cover_provider(ts)
        if self.quotes:  # the engine knows a family's index only while one of its options is listed
            self.sim.must(SetMarkPrice(self.symbol, index, ts=ts))
        self.sim.record_mark(self.symbol, index)
        for sym in self.quotes:
            self.sim.apply(SetOptionVol(sym, self.iv_of(sym, index, ts), ts=ts))
            self.marks[sym] = marks[sym]

    def _cover_provider(self, ts: int) -> None:
        """The provider's shorts (it sold what a strategy bought) get pools of `PROVIDER_COVER` BTC per BTC of
        underlying before the marks move, so the market maker itself is never liquidated."""
        mult = self.family.multiplier
        for sym in sorted(self._uncovered):
            qty, margin = self._provider.get(sym, (ZERO, ZERO))
            need = -qty * mult * PROVIDER_COVER - margin
            if qty < 0 and need > 0 and sym in self.quotes:
                self.sim.must(AdjustOptionMargin(LP_ACCOUNT, sym, need, ts=ts))
        self._uncovered.clear()

    def iv_of(self, sym: str, index: Decimal, ts: int) -> Decimal:
        return self.config.iv.vol(self.strike[sym], index, float(years_left(self.expiry[sym], ts)))

    def mark_of(self, sym: str, index: Decimal, ts: int) -> Decimal:
        """About the premium `SetOptionVol` will set (float Black-76 over the index), for the provider's quotes: they
        move before the engine's mark so that a liquidation it sets off buys back at fresh prices."""
        f, k = float(index), float(self.strike[sym])
        t = max(1e-12, (self.expiry[sym] - ts) / YEAR_MS)
        sd = float(self.iv_of(sym, index, ts)) * math.sqrt(t)
        d1 = (math.log(f / k) + sd * sd / 2) / sd
        n = NormalDist().cdf
        usd = f * n(d1) - k * n(d1 - sd) if self.kinds[sym] == "C" else k * n(sd - d1) - f * n(-d1)
        return max(Decimal("1E-8"), dec(max(0.0, usd) / f))

    def settle_due(self, price: Decimal, ts: int) -> None:
        """Every expiry at or before `ts` settles at `price`, the first mark of the path at or after it."""
        for expiry in sorted({e for s, e in self.expiry.items() if e <= ts and s in self.quotes}):
            self.sim.must(SettleOptions(self.family.family, expiry, price, ts=ts))
            for sym in [s for s, e in self.expiry.items() if e == expiry]:
                self.quotes.pop(sym, None)
                self.marks.pop(sym, None)

    # ------------------------------------------------------------------------------------------ chain
    def ensure(self, expiry: int, strike: Decimal, kind: str) -> str:
        """The option's symbol, listed (and marked and quoted) first if it is not yet."""
        sym = self.family.symbol(expiry, strike, OptionKind(kind))
        if sym in self.quotes:
            return sym
        if expiry <= self.ts:
            raise SimError("option_expired", f"{sym} expires at or before the current bar")
        self.sim.must(ListOption(sym, venue=self.family.venue, ts=self.ts))
        self.sim.must(SetMarkPrice(self.symbol, self.index, ts=self.ts))
        self.expiry[sym], self.strike[sym], self.kinds[sym] = expiry, strike, kind
        self.quotes[sym] = OptionQuotes(sym, self.family)
        mark = self.mark_of(sym, self.index, self.ts)
        self.quotes[sym].requote(self.sim, self.config, mark, self.ts)
        self.sim.apply(SetOptionVol(sym, self.iv_of(sym, self.index, self.ts), ts=self.ts))
        self.marks[sym] = mark
        return sym

    # ------------------------------------------------------------------------------------------ reading
    def value(self, account: int) -> Decimal:
        """The account's options in the settle asset at the engine's marks: order holds + short pools + longs'
        value − shorts' value (positions as their last OptionPositionUpdated said)."""
        total = sum((o["margin"] for o in oq.option_orders(self.sim.reader(), account)), ZERO)
        mult = self.family.multiplier
        for (acct, sym), (qty, margin) in self.held.items():
            if acct == account:
                total += margin + qty * self.engine_marks.get(sym, ZERO) * mult
        return total

    def positions(self, account: int) -> list[dict[str, Any]]:
        return oq.option_positions(self.sim.reader(), account)

    # ------------------------------------------------------------------------------------------ events
    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {
            OptionOrderUpdated: self._on_order,
            OptionTrade: self._on_trade,
            OptionLiquidated: self._on_liquidated,
            OptionSettled: self._on_settled,
            OptionMarginCall: self._on_margin_call,
            OptionMarked: self._on_marked,
            OptionPositionUpdated: self._on_position,
        }

    def _on_marked(self, ev: OptionMarked) -> None:
        self.engine_marks[ev.symbol] = ev.mark

    def _on_position(self, ev: OptionPositionUpdated) -> None:
        if ev.account == LP_ACCOUNT:
            self._provider[ev.symbol] = (ev.qty, ev.margin)
            if ev.qty < 0 and ev.margin < -ev.qty * self.family.multiplier * PROVIDER_COVER:
                self._uncovered.add(ev.symbol)
        if ev.account not in self.sim.accounts:
            return
        if ev.qty == 0:
            self.held.pop((ev.account, ev.symbol), None)
        else:
            self.held[(ev.account, ev.symbol)] = (ev.qty, ev.margin)

    def _at(self) -> dict[str, Any]:
        return {"bar": self.sim.bar, "ts": self.ts}

    def _on_order(self, ev: OptionOrderUpdated) -> None:
        q = self.quotes.get(ev.symbol)
        if ev.account == LP_ACCOUNT and q is not None:
            q.on_order(ev)

    def _on_trade(self, ev: OptionTrade) -> None:
        for acct, side, fee in ((ev.buyer_account, OrderSide.BUY, ev.buyer_fee),
                                (ev.seller_account, OrderSide.SELL, ev.seller_fee)):  # fmt: skip
            if acct in self.sim.accounts:
                self.sim.trades.append(
                    {
                        **self._at(), "account": acct, "symbol": ev.symbol, "side": side.name, "price": ev.price,
                        "qty": ev.qty, "premium": ev.premium, "fee": fee, "realized_pnl": None,
                        "maker": (side is OrderSide.BUY) is (ev.taker_side is OrderSide.SELL),
                    }
                )  # fmt: skip

    def _on_liquidated(self, ev: OptionLiquidated) -> None:
        sim = self.sim
        sim.insurance_income += ev.fee
        sim.insurance_draws += ev.shortfall
        if ev.account not in sim.accounts:
            return
        rec = {
            **self._at(), "account": ev.account, "symbol": ev.symbol, "mode": "isolated", "step": ev.step,
            "mark": ev.mark, "index": self.index, "ratio": ev.ratio, "qty": ev.qty, "taken_over": ev.taken_over,
            "fee": ev.fee, "shortfall": ev.shortfall, "returned": ev.returned,
        }  # fmt: skip
        self.liquidations.append(rec)
        if ev.step not in (LiquidationStep.CANCEL_ORDERS, LiquidationStep.DONE):
            shape = {"liquidation_price": None, "bankruptcy_price": None, "price": None}
            sim.liquidations.append({**rec, **shape, "fund_change": ev.fee - ev.shortfall})

    def _on_settled(self, ev: OptionSettled) -> None:
        self.held.pop((ev.account, ev.symbol), None)
        if ev.account in self.sim.accounts:
            self.settlements.append(
                {
                    **self._at(), "account": ev.account, "symbol": ev.symbol, "qty": ev.qty, "price": ev.price,
                    "payout": ev.payout, "asset": ev.settle, "returned": ev.returned,
                }
            )  # fmt: skip

    def _on_margin_call(self, ev: OptionMarginCall) -> None:
        if ev.account in self.sim.accounts:
            self.sim.margin_calls.append(
                {**self._at(), "account": ev.account, "symbol": ev.symbol, "level": ev.level, "ratio": ev.ratio}
            )


class OptionsDesk:
    """A strategy's hands on one account's options (`ctx.options`): the chain (expiries, strikes by % OTM or by
    delta), sell/buy to open and close at the provider's best price (IOC), positions, margin and ratio. Each order
    method returns False when the engine refused it or nothing filled (the rejection is in the results)."""

    def __init__(self, sim: Simulation, account: int) -> None:
        if sim.options is None:
            raise SimError("wrong_product", "ctx.options needs an options run (--product options)")
        self.sim = sim
        self.leg = sim.options
        self.account = account
        self.family = self.leg.family

    # -- chain ---------------------------------------------------------------------------------------
    @property
    def index(self) -> Decimal:
        return self.leg.index

    def expiry(self, days: int) -> int:
        """The first 08:00 UTC expiry at least `days` days from now."""
        return expiry_after(self.leg.ts, days)

    def strike(self, kind: str, otm: float | None = None, delta: float | None = None, expiry: int = 0,
               step: int = 1000) -> Decimal:  # fmt: skip
        """A strike `otm` (a fraction) out of the money, or at |delta| (Black-76 on the IV model, float), on a
        `step` grid, rounded away from the money."""
        f = float(self.index)
        if delta is not None:
            years = max(1e-9, (expiry - self.leg.ts) / YEAR_MS)
            vol = float(self.leg.config.iv.vol(Decimal(f), Decimal(f), years))
            d1 = NormalDist().inv_cdf(delta if kind == "C" else 1 - delta)
            k = f * math.exp(-d1 * vol * math.sqrt(years) + vol * vol * years / 2)
        else:
            k = f * (1 + (otm or 0.0)) if kind == "C" else f * (1 - (otm or 0.0))
        units = math.ceil(k / step) if kind == "C" else math.floor(k / step)
        return Decimal(max(1, units) * step)

    # -- reads ---------------------------------------------------------------------------------------
    def positions(self) -> list[dict[str, Any]]:
        return self.leg.positions(self.account)

    def position(self, symbol: str) -> dict[str, Any] | None:
        return oq.option_position(self.sim.reader(), self.account, symbol)

    def margin(self) -> Decimal:
        """The account's short pools together."""
        return sum((p.get("margin", ZERO) for p in self.positions()), ZERO)

    def ratio(self) -> Decimal | None:
        """The lowest maintenance margin ratio of its shorts (None without shorts)."""
        got = [p["margin_ratio"] for p in self.positions() if p.get("margin_ratio") is not None]
        return min(got) if got else None

    def best(self, symbol: str, side: OrderSide) -> Decimal | None:
        depth = oq.option_depth(self.sim.engine, symbol, 1)
        book = None if depth is None else depth["asks" if side is OrderSide.BUY else "bids"]
        return book[0][0] if book else None

    # -- orders --------------------------------------------------------------------------------------
    def option(self, expiry: int, strike: Decimal, kind: str) -> str:
        return self.leg.ensure(expiry, strike, kind)

    def _send(self, cmd: Command) -> bool:
        events = self.sim.apply(cmd)
        return not (events and isinstance(events[0], Rejected)) and any(isinstance(e, OptionTrade) for e in events)

    def order(self, symbol: str, side: OrderSide, contracts: Decimal | int, reduce_only: bool = False) -> bool:
        price = self.best(symbol, side)
        if price is None or Decimal(contracts) <= 0:
            return False
        cmd = PlaceOptionOrder(self.account, symbol, side, Decimal(contracts), price, TimeInForce.IOC, reduce_only,
                               ts=self.leg.ts)  # fmt: skip
        return self._send(cmd)

    def sell_to_open(self, symbol: str, contracts: Decimal | int) -> bool:
        return self.order(symbol, OrderSide.SELL, contracts)

    def buy_to_open(self, symbol: str, contracts: Decimal | int) -> bool:
        return self.order(symbol, OrderSide.BUY, contracts)

    def close(self, symbol: str) -> bool:
        """Buy back a short / sell a long, reduce-only, at the best price."""
        p = self.position(symbol)
        if p is None:
            return True
        side = OrderSide.BUY if p["side"] == "short" else OrderSide.SELL
        return self.order(symbol, side, abs(p["contracts"]), reduce_only=True)


def options_outcome(sim: Simulation, accounts: list[int]) -> dict[str, Any]:
    """An options run's own figures for `accounts`: premium collected (sells) and paid (buys, a liquidation's
    buy-backs included), settlement paid (shorts) and received (longs), liquidation steps by kind, and the lists."""
    leg = sim.options
    assert leg is not None
    trades = [t for t in sim.trades if t["account"] in accounts and "premium" in t]
    settled = [x for x in leg.settlements if x["account"] in accounts]
    liqs = [x for x in leg.liquidations if x["account"] in accounts]
    steps: dict[str, int] = {}
    for x in liqs:
        steps[x["step"].value] = steps.get(x["step"].value, 0) + 1
    return {
        "product": "options",
        "family": leg.family.family,
        "premium_collected": sum((t["premium"] for t in trades if t["side"] == "SELL"), ZERO),
        "premium_paid": sum((t["premium"] for t in trades if t["side"] == "BUY"), ZERO),
        "settlement_paid": sum((-x["payout"] for x in settled if x["payout"] < 0), ZERO),
        "settlement_received": sum((x["payout"] for x in settled if x["payout"] > 0), ZERO),
        "option_liquidations_by_step": dict(sorted(steps.items())),
        "option_liquidations": liqs,
        "settlements": settled,
        "option_positions": [p for a in accounts for p in leg.positions(a)],
        "rejections_list": [x for x in sim.rejections if x["account"] in accounts],
        "index_end": leg.index,
    }
