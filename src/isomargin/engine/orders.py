"""Open orders: the one index of live orders by id, per account, by client id, with reduce-only counts, and the
order id counter (ids are consumed only by accepted orders and by the liquidation and fund orders)."""

from __future__ import annotations

from isomargin.engine.state import Account, Order


class Orders:
    """Owns the open-order indexes; `Trading` owns what an order's fields become."""

    __slots__ = ("by_id", "next_id")

    def __init__(self) -> None:
        self.by_id: dict[int, Order] = {}
        self.next_id = 1

    def allocate(self) -> int:
        oid = self.next_id
        self.next_id = oid + 1
        return oid

    def add(self, acct: Account, order: Order) -> None:
        """Index an open order: by id, on its account, by client id, and in the reduce-only count."""
        self.by_id[order.id] = order
        acct.orders[order.id] = order
        cid = order.spec.client_order_id
        if cid is not None:
            acct.client_ids[cid] = order.id
        if order.reduce_only:
            acct.reducing += 1

    def drop(self, acct: Account, order: Order) -> None:
        """Undo `add` (a no-op for an order that is not open)."""
        self.by_id.pop(order.id, None)
        if acct.orders.pop(order.id, None) is not None and order.reduce_only:
            acct.reducing -= 1
        cid = order.spec.client_order_id
        if cid is not None and acct.client_ids.get(cid) == order.id:
            del acct.client_ids[cid]

    def __len__(self) -> int:
        return len(self.by_id)
