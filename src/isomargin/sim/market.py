"""Simulation set-up and the liquidity provider that gives the engine a book around the path price.

`MarketConfig` holds venue, fees, spread, depth, re-quote threshold, insurance fund and funding. The
provider re-quotes (amending its two orders, which it names by client order id) only when the mark has moved
by the threshold, when an order filled, or when the episode's book depth changes; depth 0 means no book at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Final

from isomargin.engine import AmendOrder, CancelOrder, OrderSide, OrderStatus, OrderType, PlaceOrder, Rejected

if TYPE_CHECKING:
    from isomargin.engine.events import OrderUpdated
    from isomargin.sim.runner import Simulation

LP_ACCOUNT = 999_999_999
LP_DEPOSIT = Decimal(100_000_000_000)
HOUR_MS = 3_600_000

_GONE: Final = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED})


@dataclass(frozen=True)
class MarketConfig:
    """How the simulated venue is run. Fees None: the venue profile's fees."""

    venue: str = "binance"
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    spread: Decimal = Decimal("0.0002")  # each side, as a fraction of the mark
    depth: Decimal = Decimal(20_000_000)  # quote notional per side at depth multiplier 1, in USD (inverse: face)
    requote: Decimal = Decimal("0.0005")  # move the quotes when the mark has moved this fraction
    insurance: Decimal = Decimal(1_000_000)  # USD; a coin's fund is worth as much at the first price
    funding_rate: Decimal | None = None  # constant rate per interval (None: no funding unless a series is given)
    funding_interval_ms: int = 8 * HOUR_MS
    borrow_rate: Decimal | None = None  # spot margin: daily interest rate of every pair asset (None: the venue's)
    price_band: Decimal = Decimal("0.05")
    # Walk only the bars where something can happen (False: every bar's marks go through the engine; the two
    # give identical events and outcomes, tests/sim/test_stepping.py).
    stepping: bool = True


def stale(center: Decimal | None, dirty: bool, mark: Decimal, threshold: Decimal) -> bool:
    """The provider's re-quote rule: an order of its filled or went away, or the mark moved by the threshold."""
    return dirty or center is None or abs(mark - center) > center * threshold


def quote_levels(
    cfg: MarketConfig, mark: Decimal, tick: Decimal, step: Decimal, depth: float = 1.0, inverse: bool = False
) -> tuple[Decimal, Decimal, Decimal] | None:
    """(bid, ask, size per side) around `mark`: the half-spread rounded outwards to the tick, `cfg.depth` × the
    depth multiplier in USD (inverse: that face, whole contracts) rounded down to the step; None for no size."""
    usd = cfg.depth * Decimal(repr(depth))
    face = usd if inverse else usd / mark
    qty = (face / step).to_integral_value(rounding=ROUND_FLOOR)
    if qty <= 0:
        return None
    bid = (mark * (1 - cfg.spread) / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
    ask = (mark * (1 + cfg.spread) / tick).to_integral_value(rounding=ROUND_CEILING) * tick
    if ask <= bid:  # zero spread: the ask at the mark, the bid one tick under
        bid = ask - tick
    if bid <= 0:
        bid = tick
    return bid, ask, qty * step


class Quote:
    """One of the provider's live orders: its client order id, its price, and whether its OrderUpdated events
    reported a partial fill."""

    __slots__ = ("client_id", "filled", "price")

    def __init__(self, client_id: str, price: Decimal) -> None:
        self.client_id = client_id
        self.price = price
        self.filled = False  # partly filled: it is cancelled and placed afresh, not amended


class Quotes:
    """The provider's bid and ask on one symbol, known by the client order ids it gave them."""

    __slots__ = ("ask", "bid", "center", "count", "depth", "dirty", "inverse", "step", "symbol", "tick")

    def __init__(self, symbol: str, tick: Decimal, step: Decimal, inverse: bool = False) -> None:
        self.symbol = symbol
        self.tick = tick
        self.step = step
        self.inverse = inverse  # coin-margined: sizes are face value in USD, so the depth needs no price
        self.bid: Quote | None = None  # live orders only: None once filled, cancelled or expired
        self.ask: Quote | None = None
        self.count = 0  # client order ids placed so far (each one is used once)
        self.center: Decimal | None = None
        self.depth = 1.0
        self.dirty = True

    def stale(self, mark: Decimal, threshold: Decimal) -> bool:
        return stale(self.center, self.dirty, mark, threshold)

    def requote(self, sim: Simulation, mark: Decimal, ts: int) -> None:
        """Move (or place, or withdraw) the two quotes around `mark`."""
        self.dirty = False
        self.center = mark
        levels = quote_levels(sim.market, mark, self.tick, self.step, self.depth, self.inverse)
        if levels is None:
            self.withdraw(sim, ts)
            return
        bid, ask, lots = levels
        # Move the side that goes away from the other first, so the two never cross each other: up when the bid
        # rises, or when the new bid would reach the ask still resting (a side filled away and placed afresh).
        up = (self.bid is not None and bid > self.bid.price) or (self.ask is not None and bid >= self.ask.price)
        order = ((OrderSide.SELL, ask), (OrderSide.BUY, bid)) if up else ((OrderSide.BUY, bid), (OrderSide.SELL, ask))
        for side, price in order:
            self._place(sim, side, price, lots, ts)

    def _live(self, side: OrderSide) -> Quote | None:
        return self.bid if side is OrderSide.BUY else self.ask

    def _set(self, side: OrderSide, quote: Quote | None) -> None:
        if side is OrderSide.BUY:
            self.bid = quote
        else:
            self.ask = quote

    def _place(self, sim: Simulation, side: OrderSide, price: Decimal, lots: Decimal, ts: int) -> None:
        cur = self._live(side)
        if cur is not None and not cur.filled:
            events = sim.apply(
                AmendOrder(LP_ACCOUNT, self.symbol, client_order_id=cur.client_id, qty=lots, price=price, ts=ts)
            )
            if self._live(side) is cur:  # still resting (the amendment did not fill it away)
                if not (events and isinstance(events[0], Rejected)):
                    cur.price = price
                return
        elif cur is not None:
            sim.apply(CancelOrder(LP_ACCOUNT, self.symbol, client_order_id=cur.client_id, ts=ts))
        self.count += 1
        quote = Quote(f"lp-{self.symbol}-{self.count}", price)
        self._set(side, quote)  # its own events (a fill on placement) update or drop it
        events = sim.apply(
            PlaceOrder(
                LP_ACCOUNT, self.symbol, side, OrderType.LIMIT, qty=lots, price=price, client_order_id=quote.client_id,
                ts=ts,
            )
        )  # fmt: skip
        if events and isinstance(events[0], Rejected):
            self._set(side, None)

    def on_order(self, ev: OrderUpdated) -> None:
        """The provider's order changed: a fill or a removal calls for a re-quote; a final state drops it."""
        status = ev.status
        if status is OrderStatus.NEW:
            return  # placed or amended: `_place` knows its price
        gone = status in _GONE
        if gone or status is OrderStatus.PARTIALLY_FILLED:
            self.dirty = True
            cid = ev.client_order_id
            bid, ask = self.bid, self.ask
            quote = bid if bid is not None and bid.client_id == cid else ask
            if quote is None or quote.client_id != cid:
                return
            if not gone:
                quote.filled = True
            elif quote is bid:
                self.bid = None
            else:
                self.ask = None

    def withdraw(self, sim: Simulation, ts: int) -> None:
        for quote in (self.bid, self.ask):
            if quote is not None:
                sim.apply(CancelOrder(LP_ACCOUNT, self.symbol, client_order_id=quote.client_id, ts=ts))
        self.bid = self.ask = None
