"""Conditional orders waiting for their trigger price, indexed so a price tick costs O(log n + k).

Per market and working type (mark or last price): a sorted list of orders that fire when the price rises to
their stop, one of orders that fire when it falls to it, and the trailing stops, whose trigger moves with the
price. Prices are integer price points. Fired orders come back in order-id order, so triggering is deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sortedcontainers import SortedList

from isomargin.engine.commands import OrderSide, OrderType, WorkingType
from isomargin.engine.units import Rate

if TYPE_CHECKING:
    from isomargin.engine.state import Order

_RISING = {
    (OrderSide.BUY, OrderType.STOP_MARKET),
    (OrderSide.BUY, OrderType.STOP_LIMIT),
    (OrderSide.SELL, OrderType.TAKE_PROFIT_MARKET),
    (OrderSide.SELL, OrderType.TAKE_PROFIT_LIMIT),
}


def fires_on_rise(side: OrderSide, kind: OrderType) -> bool:
    """Buy stops and sell take-profits fire when the price rises to the stop; the rest when it falls."""
    return (side, kind) in _RISING


def would_fire(side: OrderSide, kind: OrderType, stop: int, price: int) -> bool:
    return price >= stop if fires_on_rise(side, kind) else price <= stop


class TriggerIndex:
    """The waiting conditional orders of one market."""

    __slots__ = ("falling", "rising", "size", "trailing")

    def __init__(self) -> None:
        self.rising: dict[WorkingType, SortedList] = {w: SortedList() for w in WorkingType}
        self.falling: dict[WorkingType, SortedList] = {w: SortedList() for w in WorkingType}
        self.trailing: dict[WorkingType, dict[int, Order]] = {w: {} for w in WorkingType}
        self.size = 0  # orders waiting, kept so the check after every order is O(1)

    def add(self, order: Order) -> None:
        self.size += 1
        working = order.spec.working_type
        if order.type is OrderType.TRAILING_STOP_MARKET:
            self.trailing[working][order.id] = order
            return
        assert order.stop is not None
        book = self.rising if fires_on_rise(order.side, order.type) else self.falling
        book[working].add((order.stop, order.id))

    def remove(self, order: Order) -> None:
        working = order.spec.working_type
        if order.type is OrderType.TRAILING_STOP_MARKET:
            if self.trailing[working].pop(order.id, None) is not None:
                self.size -= 1
            return
        assert order.stop is not None
        book = (self.rising if fires_on_rise(order.side, order.type) else self.falling)[working]
        entry = (order.stop, order.id)
        if entry in book:
            book.remove(entry)
            self.size -= 1

    def fire(self, working: WorkingType, price: int) -> list[int]:
        """Remove and return the ids of every order whose condition holds at `price`, in id order."""
        fired: list[int] = []
        rising = self.rising[working]
        while rising and rising[0][0] <= price:
            fired.append(rising.pop(0)[1])
        falling = self.falling[working]
        while falling and falling[-1][0] >= price:
            fired.append(falling.pop()[1])
        trailing = self.trailing[working]
        for order in list(trailing.values()):
            if track_trailing(order, price):
                del trailing[order.id]
                fired.append(order.id)
        fired.sort()
        self.size -= len(fired)
        return fired

    def __len__(self) -> int:
        return self.size


def track_trailing(order: Order, price: int) -> bool:
    """Advance a trailing stop with `price` (points); True when it fires (Binance semantics, callback in %)."""
    spec = order.spec
    assert spec.callback_rate is not None
    sell = order.side is OrderSide.SELL
    if not order.activated:
        act = order.stop  # the activation price, in points, when one was given
        if act is not None and (price < act if sell else price > act):
            return False
        order.activated = True
        order.extreme = price
        return False
    extreme = order.extreme
    assert extreme is not None
    rate = Rate(spec.callback_rate)  # percent: fire at extreme × (1 ∓ rate / 100)
    if sell:
        extreme = order.extreme = max(extreme, price)
        return price * 100 * rate.den <= extreme * (100 * rate.den - rate.num)
    extreme = order.extreme = min(extreme, price)
    return price * 100 * rate.den >= extreme * (100 * rate.den + rate.num)
