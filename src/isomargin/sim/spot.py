"""The spot-margin leg of a simulation: spot pairs listed in its engine, the provider's spot quotes around the path,
each pair's mark walked from it (stopping at the accounts' liquidation prices) and `AccrueInterest` at every whole
UTC hour the bars reach. `SpotLeg` is owned by a `Simulation` (composed, not a subclass); `SpotMargin` is what a
strategy's `ctx.spot` gives: transfers, loans, repayments and orders with side effects on an isolated account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from isomargin.engine import (
    Deposit,
    LiquidationStep,
    OrderSide,
    OrderStatus,
    OrderType,
    Rejected,
    SetMarkPrice,
    queries,
    spot_queries,
)
from isomargin.engine.commands import (
    AccrueInterest,
    Borrow,
    CancelSpotOrder,
    Command,
    FundInsurance,
    ListSpotPair,
    MarginTransfer,
    PlaceSpotOrder,
    Repay,
    SetBorrowRate,
    SideEffect,
)
from isomargin.engine.spot_events import (
    Borrowed,
    InterestCharged,
    MarginTransferred,
    Repaid,
    SpotLiquidated,
    SpotMarginCall,
    SpotOrderUpdated,
    SpotTrade,
)
from isomargin.sim.errors import SimError
from isomargin.sim.market import HOUR_MS, LP_ACCOUNT, LP_DEPOSIT, quote_levels, stale
from isomargin.sim.runner import dec, nearest_level, walk_bar

if TYPE_CHECKING:
    from isomargin.sim.runner import Simulation

ZERO = Decimal(0)
_GONE = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED})
_QUIET_STEPS = frozenset({LiquidationStep.CANCEL_ORDERS, LiquidationStep.DONE})


class SpotQuotes:
    """The provider's bid and ask on one spot pair, from its wallet. Spot orders have no amendment: a re-quote
    cancels both and places both afresh (cancelling first, so the new pair never meets the old)."""

    __slots__ = ("center", "count", "dirty", "live", "step", "symbol", "tick")

    def __init__(self, symbol: str, tick: Decimal, step: Decimal) -> None:
        self.symbol = symbol
        self.tick = tick
        self.step = step
        self.center: Decimal | None = None
        self.dirty = True
        self.count = 0
        self.live: dict[str, OrderSide] = {}  # client order id → side, live orders only

    def stale(self, mark: Decimal, threshold: Decimal) -> bool:
        return stale(self.center, self.dirty, mark, threshold)

    def requote(self, sim: Simulation, mark: Decimal, ts: int) -> None:
        for cid in list(self.live):
            sim.apply(CancelSpotOrder(LP_ACCOUNT, self.symbol, client_order_id=cid, ts=ts))
        self.live.clear()
        self.dirty = False
        self.center = mark
        levels = quote_levels(sim.market, mark, self.tick, self.step)
        if levels is None:
            return
        bid, ask, lots = levels
        for side, price in ((OrderSide.BUY, bid), (OrderSide.SELL, ask)):
            self.count += 1
            cid = f"lp-{self.symbol}-{self.count}"
            self.live[cid] = side
            cmd = PlaceSpotOrder(
                LP_ACCOUNT, self.symbol, side, OrderType.LIMIT, lots, price, client_order_id=cid, ts=ts
            )
            events = sim.apply(cmd)
            if events and isinstance(events[0], Rejected):
                self.live.pop(cid, None)

    def on_order(self, ev: SpotOrderUpdated) -> None:
        """A fill or a removal of the provider's order calls for a re-quote; a final state drops it."""
        if ev.status is OrderStatus.NEW:
            return
        self.dirty = True
        if ev.status in _GONE and ev.client_order_id is not None:
            self.live.pop(ev.client_order_id, None)


@dataclass(frozen=True, slots=True)
class Holdings:
    """One account's isolated margin account on a pair (what it holds and owes, interest included) and the base
    in its wallet, as the engine's queries last said."""

    base_held: Decimal = ZERO
    base_owed: Decimal = ZERO
    quote_held: Decimal = ZERO
    quote_owed: Decimal = ZERO
    wallet_base: Decimal = ZERO

    @property
    def net_base(self) -> Decimal:
        return self.base_held + self.wallet_base - self.base_owed

    @property
    def net_quote(self) -> Decimal:
        return self.quote_held - self.quote_owed


class SpotLeg:
    """Spot pairs in a simulation's engine, their provider quotes and marks, hourly interest, and what the tracked
    accounts' margin accounts did (trades, loans, interest, margin calls, liquidations), read from the events."""

    def __init__(self, sim: Simulation, symbols: list[str]) -> None:
        self.sim = sim
        self.symbols = symbols
        self.quotes: dict[str, SpotQuotes] = {}
        self.pairs: dict[str, dict[str, Any]] = {}
        self.interest: list[dict[str, Any]] = []  # first hours charged at borrowing, then each hourly charge
        self.loans: list[dict[str, Any]] = []  # borrows and repayments
        self.liquidations: list[dict[str, Any]] = []  # every SpotLiquidated step of a tracked account
        self._hour = 0  # the last whole UTC hour interest was accrued through
        self._held: dict[tuple[int, str], Holdings] = {}  # cache, dropped by the account's events
        self._levels: dict[str, list[Decimal]] = {}  # cache of the tracked accounts' liquidation prices

    # ------------------------------------------------------------------------------------------ set-up
    def setup(self) -> None:
        """List the pairs, fund the provider's wallet in their assets (and the fund in a new quote asset), set the
        borrow rate if the market gives one, and the first marks (with the first quotes)."""
        sim, m = self.sim, self.sim.market
        funded = set(sim.assets)
        for sym in self.symbols:
            cmd = ListSpotPair(
                sym, venue=m.venue, maker_fee=m.maker_fee, taker_fee=m.taker_fee, price_band=m.price_band, ts=sim.ts
            )
            sim.must(cmd)
            pair = spot_queries.spot_pair(sim.engine, sym)
            assert pair is not None  # just listed
            self.pairs[sym] = pair
            self.quotes[sym] = SpotQuotes(sym, pair["tick_size"], pair["step_size"])
            for asset in (pair["base"], pair["quote"]):
                if asset not in funded:
                    funded.add(asset)
                    sim.must(Deposit(LP_ACCOUNT, asset, LP_DEPOSIT, ts=sim.ts))
                if m.borrow_rate is not None:
                    sim.must(SetBorrowRate(sym, asset, m.borrow_rate, ts=sim.ts))
            quote = pair["quote"]
            if quote not in sim.assets and m.insurance > 0 and queries.insurance_fund(sim.engine, quote) == 0:
                sim.must(FundInsurance(quote, m.insurance, ts=sim.ts))
            b = sim.bars[sym]
            sim.notes.extend(b.notes)
            self._set_mark(sym, dec(float((b.mark or b).open[0])), sim.ts)
        self._hour = sim.ts // HOUR_MS

    # ------------------------------------------------------------------------------------------ walking
    def walk(self, i: int) -> None:
        """Bar i: interest for every whole hour reached since the last charge, then each pair's marks."""
        sim = self.sim
        ts0 = int(sim.bars[self.symbols[0]].ts[i])
        if ts0 // HOUR_MS > self._hour:
            self._hour = ts0 // HOUR_MS
            sim.apply(AccrueInterest(ts=ts0))
        for sym in self.symbols:
            walk_bar(sim.bars[sym], i, sim.marks[sym], self._marker(sym), self._leveller(sym))

    def _marker(self, sym: str) -> Callable[[Decimal, int], None]:
        return lambda mark, ts: self._set_mark(sym, mark, ts)

    def _leveller(self, sym: str) -> Callable[[Decimal, Decimal], Decimal | None]:
        return lambda cur, target: nearest_level(self._liquidation_prices(sym), cur, target)

    def _set_mark(self, sym: str, mark: Decimal, ts: int) -> None:
        q = self.quotes[sym]
        if q.stale(mark, self.sim.market.requote):
            q.requote(self.sim, mark, ts)
        self.sim.apply(SetMarkPrice(sym, mark, ts=ts))
        self.sim.record_mark(sym, mark)

    def _liquidation_prices(self, sym: str) -> list[Decimal]:
        """The tracked accounts' liquidation prices on `sym` (the engine's closed form: where it liquidates)."""
        levels = self._levels.get(sym)
        if levels is None:
            levels = []
            for acct in self.sim.accounts:
                view = spot_queries.position(self.sim.reader(), acct, sym)
                lp = None if view is None else view["liquidation_price"]
                if lp is not None and lp > 0:
                    levels.append(lp)
            self._levels[sym] = levels
        return levels

    # ------------------------------------------------------------------------------------------ reading
    def holdings(self, account: int, sym: str) -> Holdings:
        key = (account, sym)
        h = self._held.get(key)
        if h is None:
            eng = self.sim.reader()
            view = spot_queries.margin_account(eng, account, sym)
            base, quote = self.pairs[sym]["base"], self.pairs[sym]["quote"]
            wallet = queries.wallet(eng, account, base)
            if view is None:
                h = Holdings(wallet_base=wallet)
            else:
                a = view["assets"]
                h = Holdings(
                    a[base]["total"],
                    a[base]["borrowed"] + a[base]["interest"],
                    a[quote]["total"],
                    a[quote]["borrowed"] + a[quote]["interest"],
                    wallet,
                )
            self._held[key] = h
        return h

    def value(self, account: int) -> Decimal:
        """The account's margin accounts (and wallet base) at the current marks, in the pairs' quote asset."""
        total = ZERO
        for sym in self.symbols:
            h = self.holdings(account, sym)
            total += h.net_base * self.sim.marks[sym] + h.net_quote
        return total

    def parts(self, account: int) -> list[tuple[str, float, float]]:
        """`equity_parts` entries: per pair (symbol, net base, −net quote), valued as size × close − basis."""
        out = []
        for sym in self.symbols:
            h = self.holdings(account, sym)
            if h.net_base or h.net_quote:
                out.append((sym, float(h.net_base), float(-h.net_quote)))
        return out

    def margin_level(self, account: int, sym: str) -> float | None:
        """Assets / liabilities at the mark (Binance's margin level; None while nothing is owed), for the curve."""
        h = self.holdings(account, sym)
        mark = self.sim.marks[sym]
        owed = h.base_owed * mark + h.quote_owed
        return None if owed <= 0 else float((h.base_held * mark + h.quote_held) / owed)

    # ------------------------------------------------------------------------------------------ events
    def handlers(self) -> dict[type, Callable[[Any], None]]:
        return {
            SpotOrderUpdated: self._on_order,
            SpotTrade: self._on_trade,
            Borrowed: self._on_borrowed,
            Repaid: self._on_repaid,
            InterestCharged: self._on_interest,
            MarginTransferred: self._on_transfer,
            SpotLiquidated: self._on_liquidated,
            SpotMarginCall: self._on_margin_call,
        }

    def _touch(self, account: int, sym: str) -> bool:
        """Forget what the account's events changed; True if it is tracked."""
        if account not in self.sim.accounts:
            return False
        self._held.pop((account, sym), None)
        self._levels.pop(sym, None)
        return True

    def _on_transfer(self, ev: MarginTransferred) -> None:
        self._touch(ev.account, ev.symbol)

    def _at(self) -> dict[str, Any]:
        return {"bar": self.sim.bar, "ts": self.sim.ts}

    def _on_order(self, ev: SpotOrderUpdated) -> None:
        if ev.account == LP_ACCOUNT:
            self.quotes[ev.symbol].on_order(ev)

    def _on_trade(self, ev: SpotTrade) -> None:
        maker_buys = ev.taker_side is OrderSide.SELL
        for acct, side, fee, fee_asset, value, maker in (
            (ev.buyer_account, OrderSide.BUY, ev.buyer_fee, "base", ev.buyer_fee * ev.price, maker_buys),
            (ev.seller_account, OrderSide.SELL, ev.seller_fee, "quote", ev.seller_fee, not maker_buys),
        ):
            if self._touch(acct, ev.symbol):
                asset = self.pairs[ev.symbol][fee_asset]
                self.sim.trades.append(
                    {
                        **self._at(), "account": acct, "symbol": ev.symbol, "side": side.name, "price": ev.price,
                        "qty": ev.qty, "fee": value, "fee_paid": fee, "fee_asset": asset, "realized_pnl": None,
                        "maker": maker,
                    }
                )  # fmt: skip

    def _on_borrowed(self, ev: Borrowed) -> None:
        if self._touch(ev.account, ev.symbol):
            at = {**self._at(), "account": ev.account, "symbol": ev.symbol, "asset": ev.asset}
            self.loans.append({**at, "kind": "borrow", "amount": ev.amount, "auto": None})
            self.interest.append({**at, "kind": "borrow", "principal": ev.amount, "hours": 1, "amount": ev.interest})

    def _on_repaid(self, ev: Repaid) -> None:
        if self._touch(ev.account, ev.symbol):
            self.loans.append(
                {
                    **self._at(), "account": ev.account, "symbol": ev.symbol, "asset": ev.asset, "kind": "repay",
                    "amount": ev.interest + ev.principal, "auto": ev.auto,
                }
            )  # fmt: skip

    def _on_interest(self, ev: InterestCharged) -> None:
        if self._touch(ev.account, ev.symbol):
            self.interest.append(
                {
                    **self._at(), "account": ev.account, "symbol": ev.symbol, "asset": ev.asset, "kind": "hourly",
                    "principal": ev.principal, "hours": ev.hours, "amount": ev.amount,
                }
            )  # fmt: skip

    def _on_liquidated(self, ev: SpotLiquidated) -> None:
        sim = self.sim
        sim.insurance_income += ev.fee
        sim.insurance_draws += ev.shortfall
        if not self._touch(ev.account, ev.symbol):
            return
        rec = {
            **self._at(), "account": ev.account, "symbol": ev.symbol, "mode": "isolated", "step": ev.step,
            "mark": ev.mark, "asset": ev.asset, "repaid": ev.repaid, "fee": ev.fee, "shortfall": ev.shortfall,
            "returned": ev.returned,
        }  # fmt: skip
        self.liquidations.append(rec)
        if ev.step not in _QUIET_STEPS:  # in the run's liquidation list too, shaped as the perpetuals' entries
            perp_shape = {"liquidation_price": None, "bankruptcy_price": None, "qty": None, "price": None}
            sim.liquidations.append({**rec, **perp_shape, "fund_change": ev.fee - ev.shortfall})

    def _on_margin_call(self, ev: SpotMarginCall) -> None:
        if ev.account in self.sim.accounts:
            self.sim.margin_calls.append(
                {**self._at(), "account": ev.account, "symbol": ev.symbol, "level": ev.level, "ratio": ev.ratio}
            )


class SpotMargin:
    """A strategy's hands on one account's isolated margin account on `symbol` (`ctx.spot`): move collateral in
    and out, borrow and repay, buy and sell from it with Binance's side effects. Amounts are exact Decimals (a
    float is taken as its shortest decimal); each method returns False when the engine refused the command (the
    rejection is in the results)."""

    def __init__(self, sim: Simulation, account: int, symbol: str, leverage: Decimal | int = 1) -> None:
        if sim.spot is None or symbol not in sim.spot.pairs:
            raise SimError("bad_symbol", f"{symbol} is not a spot pair of this simulation")
        self.sim = sim
        self.leg = sim.spot
        self.account = account
        self.symbol = symbol
        self.leverage = Decimal(leverage)  # the run's target (--leverage); a strategy may use its own
        pair = self.leg.pairs[symbol]
        self.base: str = pair["base"]
        self.quote: str = pair["quote"]
        self.step: Decimal = pair["step_size"]
        self.taker_fee: Decimal = pair["taker_fee"]
        self.max_leverage: int = pair["max_leverage"]

    # -- reads ---------------------------------------------------------------------------------------
    def view(self) -> dict[str, Any] | None:
        """The engine's full margin-account view (`spot_queries.margin_account`), None before the first transfer."""
        return spot_queries.margin_account(self.sim.engine, self.account, self.symbol)

    @property
    def holdings(self) -> Holdings:
        return self.leg.holdings(self.account, self.symbol)

    def free(self, asset: str | None = None) -> Decimal:
        view = self.view()
        return ZERO if view is None else Decimal(view["assets"][asset or self.quote]["free"])

    @property
    def liquidation_price(self) -> Decimal | None:
        view = spot_queries.position(self.sim.engine, self.account, self.symbol)
        return None if view is None else view["liquidation_price"]

    @property
    def margin_level(self) -> float | None:
        return self.leg.margin_level(self.account, self.symbol)

    def best(self, side: OrderSide) -> Decimal | None:
        """The best price a market order on `side` would meet (the ask for a buy), None on an empty side."""
        depth = spot_queries.spot_depth(self.sim.engine, self.symbol, 1)
        book = None if depth is None else depth["asks" if side is OrderSide.BUY else "bids"]
        return book[0][0] if book else None

    def qty_for(self, quote: Decimal | float) -> Decimal:
        """The base a market buy for `quote` gets at the best ask, rounded down to the pair's step."""
        ask = self.best(OrderSide.BUY)
        return ZERO if ask is None else self._lots(_amount(quote) / ask, ROUND_FLOOR)

    # -- commands ------------------------------------------------------------------------------------
    def _send(self, cmd: Command) -> bool:
        events = self.sim.apply(cmd)
        return not (events and isinstance(events[0], Rejected))

    def _lots(self, qty: Decimal, rounding: str) -> Decimal:
        return (qty / self.step).to_integral_value(rounding=rounding) * self.step

    def transfer(self, amount: Decimal | float, asset: str | None = None) -> bool:
        """Move `amount` from the wallet into the margin account (negative: back out)."""
        a = asset or self.quote
        return self._send(MarginTransfer(self.account, self.symbol, a, _amount(amount), ts=self.sim.ts))

    def borrow(self, amount: Decimal | float, asset: str | None = None) -> bool:
        a = asset or self.quote
        return self._send(Borrow(self.account, self.symbol, a, _amount(amount), ts=self.sim.ts))

    def repay(self, amount: Decimal | float | None = None, asset: str | None = None) -> bool:
        """Repay `amount` (None: all owed) of `asset`, interest first, from the account's free balance."""
        a = asset or self.quote
        value = None if amount is None else _amount(amount)
        return self._send(Repay(self.account, self.symbol, a, value, ts=self.sim.ts))

    def order(
        self,
        side: OrderSide,
        qty: Decimal,
        price: Decimal | float | None = None,
        side_effect: SideEffect = SideEffect.NO_SIDE_EFFECT,
    ) -> bool:
        """A market order (a limit order with `price`) from the margin account."""
        if qty <= 0:
            return False
        kind = OrderType.MARKET if price is None else OrderType.LIMIT
        p = None if price is None else _amount(price)
        cmd = PlaceSpotOrder(
            self.account, self.symbol, side, kind, qty, p, isolated=True, side_effect=side_effect, ts=self.sim.ts
        )
        return self._send(cmd)

    def buy(
        self,
        qty: Decimal | None = None,
        *,
        quote: Decimal | float | None = None,
        side_effect: SideEffect = SideEffect.MARGIN_BUY,
    ) -> bool:
        """Buy `qty` base, or for `quote` at the best ask; by default borrowing what the free quote lacks."""
        return self.order(OrderSide.BUY, self._qty(qty, quote), side_effect=side_effect)

    def sell(
        self,
        qty: Decimal | None = None,
        *,
        quote: Decimal | float | None = None,
        side_effect: SideEffect = SideEffect.AUTO_REPAY,
    ) -> bool:
        """Sell `qty` base (or base worth `quote` at the best bid); by default what it brings repays the quote."""
        return self.order(OrderSide.SELL, self._qty(qty, quote, OrderSide.SELL), side_effect=side_effect)

    def _qty(self, qty: Decimal | None, quote: Decimal | float | None, side: OrderSide = OrderSide.BUY) -> Decimal:
        if qty is not None:
            return qty
        if quote is None:
            raise SimError("bad_order", "give qty or quote")
        price = self.best(side)
        return ZERO if price is None else self._lots(_amount(quote) / price, ROUND_FLOOR)

    def close(self) -> bool:
        """Unwind: a long sells all its free base with AUTO_REPAY, a short buys back its base debt (grossed up for
        the fee taken in base) with AUTO_REPAY; then whatever is still owed is repaid from the free balances."""
        h = self.holdings
        ok = True
        if h.base_owed > 0:
            ok = self.buy(
                self._lots(h.base_owed / (1 - self.taker_fee), ROUND_CEILING), side_effect=SideEffect.AUTO_REPAY
            )
        elif h.base_held > 0:
            ok = self.sell(self._lots(self.free(self.base), ROUND_FLOOR))
        for asset in (self.quote, self.base):
            owed = self.holdings.quote_owed if asset == self.quote else self.holdings.base_owed
            if owed > 0 and self.free(asset) > 0:
                ok = self.repay(None, asset) and ok
        return ok


def _amount(x: Decimal | float) -> Decimal:
    return x if isinstance(x, Decimal) else dec(float(x))
