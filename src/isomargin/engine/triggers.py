"""Conditional orders waiting for their trigger price, indexed so a price tick costs O(log n + k).

Per symbol and working type (mark or last price): one sorted list of orders that fire when the price
rises to their stop, one for orders that fire when it falls to it, and the trailing stops, whose
trigger moves with the price. Fired orders come back in order-id order, so triggering is deterministic.
"""

from __future__ import annotations

from decimal import Decimal

from sortedcontainers import SortedList

from isomargin.engine.commands import OrderSide, OrderType, WorkingType
from isomargin.engine.orders import Order

_RISING = {
    (OrderSide.BUY, OrderType.STOP_MARKET),
    (OrderSide.BUY, OrderType.STOP_LIMIT),
    (OrderSide.SELL, OrderType.TAKE_PROFIT_MARKET),
    (OrderSide.SELL, OrderType.TAKE_PROFIT_LIMIT),
}


def fires_on_rise(order: Order) -> bool:
    """Buy stops and sell take-profits fire when the price rises to the stop; the rest when it falls."""
    return (order.side, order.type) in _RISING


def would_fire(order: Order, price: Decimal) -> bool:
    assert order.stop_price is not None
    return price >= order.stop_price if fires_on_rise(order) else price <= order.stop_price


class TriggerIndex:
    """The waiting conditional orders of one symbol."""

    __slots__ = ("falling", "rising", "size", "trailing")

    def __init__(self) -> None:
        self.rising: dict[WorkingType, SortedList] = {w: SortedList() for w in WorkingType}
        self.falling: dict[WorkingType, SortedList] = {w: SortedList() for w in WorkingType}
        self.trailing: dict[WorkingType, dict[int, Order]] = {w: {} for w in WorkingType}
        self.size = 0  # orders waiting, kept so the check after every order is O(1)

    def add(self, order: Order) -> None:
        self.size += 1
        if order.type is OrderType.TRAILING_STOP_MARKET:
            self.trailing[order.working_type][order.id] = order
            return
        assert order.stop_price is not None
        book = self.rising if fires_on_rise(order) else self.falling
        book[order.working_type].add((order.stop_price, order.id))

    def remove(self, order: Order) -> None:
        if order.type is OrderType.TRAILING_STOP_MARKET:
            if self.trailing[order.working_type].pop(order.id, None) is not None:
                self.size -= 1
            return
        assert order.stop_price is not None
        book = self.rising if fires_on_rise(order) else self.falling
        entry = (order.stop_price, order.id)
        if entry in book[order.working_type]:
            book[order.working_type].remove(entry)
            self.size -= 1

    def fire(self, working: WorkingType, price: Decimal, orders: dict[int, Order]) -> list[Order]:
        """Remove and return every order whose condition holds at `price`, by order id."""
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
        return [orders[i] for i in fired]

    def __len__(self) -> int:
        return self.size


def track_trailing(order: Order, price: Decimal) -> bool:
    """Advance a trailing stop with `price`; True when it fires (Binance semantics, callback in %)."""
    assert order.callback_rate is not None
    rate = order.callback_rate / 100
    sell = order.side is OrderSide.SELL
    if not order.activated:
        act = order.activation_price
        if act is not None and (price < act if sell else price > act):
            return False
        order.activated = True
        order.extreme = price
        return False
    assert order.extreme is not None
    if sell:
        order.extreme = max(order.extreme, price)
        return price <= order.extreme * (1 - rate)
    order.extreme = min(order.extreme, price)
    return price >= order.extreme * (1 + rate)
