"""Simulation set-up and the liquidity provider that gives the engine a book around the path price.

`MarketConfig` holds venue, fees, spread, depth, re-quote threshold, insurance fund and funding. The
provider re-quotes (amending its two orders) only when the mark has moved by the threshold, when an order
filled, or when the episode's book depth changes; depth 0 means no book at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from isomargin.engine import AmendOrder, CancelOrder, OrderSide, OrderType, PlaceOrder

if TYPE_CHECKING:
    from isomargin.sim.runner import Simulation

LP_ACCOUNT = 999_999_999
LP_DEPOSIT = Decimal(100_000_000_000)
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class MarketConfig:
    """How the simulated venue is run. Fees None: the venue profile's fees."""

    venue: str = "binance"
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    spread: Decimal = Decimal("0.0002")  # each side, as a fraction of the mark
    depth: Decimal = Decimal(20_000_000)  # quote notional per side at depth multiplier 1
    requote: Decimal = Decimal("0.0005")  # move the quotes when the mark has moved this fraction
    insurance: Decimal = Decimal(1_000_000)
    funding_rate: Decimal | None = None  # constant rate per interval (None: no funding unless a series is given)
    funding_interval_ms: int = 8 * HOUR_MS
    price_band: Decimal = Decimal("0.05")


class Quotes:
    """The provider's bid and ask on one symbol."""

    __slots__ = ("ask", "bid", "center", "depth", "dirty", "step", "symbol", "tick")

    def __init__(self, symbol: str, tick: Decimal, step: Decimal) -> None:
        self.symbol = symbol
        self.tick = tick
        self.step = step
        self.bid: int | None = None  # order ids
        self.ask: int | None = None
        self.center: Decimal | None = None
        self.depth = 1.0
        self.dirty = True

    def stale(self, mark: Decimal, threshold: Decimal) -> bool:
        c = self.center
        return self.dirty or c is None or abs(mark - c) > c * threshold

    def requote(self, sim: Simulation, mark: Decimal, ts: int) -> None:
        """Move (or place, or withdraw) the two quotes around `mark`."""
        cfg = sim.market
        self.dirty = False
        self.center = mark
        qty = (cfg.depth * Decimal(repr(self.depth)) / mark / self.step).to_integral_value(rounding=ROUND_FLOOR)
        if qty <= 0:
            self.withdraw(sim, ts)
            return
        lots = qty * self.step
        bid = (mark * (1 - cfg.spread) / self.tick).to_integral_value(rounding=ROUND_FLOOR) * self.tick
        ask = (mark * (1 + cfg.spread) / self.tick).to_integral_value(rounding=ROUND_CEILING) * self.tick
        if ask <= bid:  # zero spread: the ask at the mark, the bid one tick under
            bid = ask - self.tick
        if bid <= 0:
            bid = self.tick
        # Move the side that goes away from the other first, so the two never cross each other.
        up = self._side_price(sim, self.bid) is not None and bid > (self._side_price(sim, self.bid) or bid)
        order = ((OrderSide.SELL, ask), (OrderSide.BUY, bid)) if up else ((OrderSide.BUY, bid), (OrderSide.SELL, ask))
        for side, price in order:
            self._place(sim, side, price, lots, ts)

    @staticmethod
    def _side_price(sim: Simulation, oid: int | None) -> Decimal | None:
        if oid is None:
            return None
        o = sim.engine.orders.get(oid)
        if o is None or o.price_ticks is None:
            return None
        return sim.engine.instruments[o.symbol].price(o.price_ticks)

    def _place(self, sim: Simulation, side: OrderSide, price: Decimal, lots: Decimal, ts: int) -> None:
        oid = self.bid if side is OrderSide.BUY else self.ask
        order = sim.engine.orders.get(oid) if oid is not None else None
        if order is not None and order.filled_lots == 0:
            sim.apply(AmendOrder(LP_ACCOUNT, self.symbol, order_id=oid, qty=lots, price=price, ts=ts))
            if oid in sim.engine.orders:
                return
        elif order is not None:
            sim.apply(CancelOrder(LP_ACCOUNT, self.symbol, order_id=oid, ts=ts))
        new_id = sim.engine.next_order_id
        sim.apply(PlaceOrder(LP_ACCOUNT, self.symbol, side, OrderType.LIMIT, qty=lots, price=price, ts=ts))
        live = new_id if new_id in sim.engine.orders else None
        if side is OrderSide.BUY:
            self.bid = live
        else:
            self.ask = live

    def withdraw(self, sim: Simulation, ts: int) -> None:
        for oid in (self.bid, self.ask):
            if oid is not None and oid in sim.engine.orders:
                sim.apply(CancelOrder(LP_ACCOUNT, self.symbol, order_id=oid, ts=ts))
        self.bid = self.ask = None
