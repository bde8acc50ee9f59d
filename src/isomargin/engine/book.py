"""Central limit order book for one instrument: integer price ticks, integer lots, price-time priority.

Matches GTC/IOC/FOK limit orders (post-only, self-trade prevention), supports cancel/amend, depth,
and an exact snapshot/restore. Pure and deterministic: no I/O, no clock, no floats, no set iteration.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterator, Mapping
from heapq import heappop, heappush

BUY = 1
SELL = -1


class TimeInForce(enum.Enum):
    GTC = "GTC"  # rest the remainder
    IOC = "IOC"  # expire the remainder
    FOK = "FOK"  # fill completely or reject, book unchanged


class SelfTradePrevention(enum.Enum):
    """What happens when a taker meets a resting order of its own account (Binance EXPIRE_* modes)."""

    NONE = "NONE"  # trade with yourself
    CANCEL_TAKER = "CANCEL_TAKER"  # stop matching, the taker remainder expires
    CANCEL_MAKER = "CANCEL_MAKER"  # remove that maker and keep matching
    CANCEL_BOTH = "CANCEL_BOTH"  # remove that maker and expire the taker


class RestingOrder:
    """A resting order as the book keeps it; `qty` is the remaining lots (0 marks a dead queue entry)."""

    __slots__ = ("account", "order_id", "price", "qty", "side")

    def __init__(self, order_id: int, account: int, side: int, price: int, qty: int) -> None:
        self.order_id = order_id
        self.account = account
        self.side = side
        self.price = price
        self.qty = qty

    def _key(self) -> tuple[int, int, int, int, int]:
        return (self.order_id, self.account, self.side, self.price, self.qty)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RestingOrder) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"RestingOrder{self._key()}"


class Fill:
    """One trade inside a match, always at the maker's price (read-only by convention: the book never changes
    a Fill it has returned)."""

    __slots__ = ("maker_account", "maker_order_id", "maker_remaining", "price", "qty", "side", "taker_account",
                 "taker_order_id")  # fmt: skip

    def __init__(
        self, maker_order_id: int, maker_account: int, taker_order_id: int, taker_account: int, side: int,
        price: int, qty: int, maker_remaining: int,
    ) -> None:  # fmt: skip
        self.maker_order_id = maker_order_id
        self.maker_account = maker_account
        self.taker_order_id = taker_order_id
        self.taker_account = taker_account
        self.side = side
        self.price = price
        self.qty = qty
        self.maker_remaining = maker_remaining  # side: the taker's

    def _key(self) -> tuple[int, ...]:
        return (self.maker_order_id, self.maker_account, self.taker_order_id, self.taker_account, self.side,
                self.price, self.qty, self.maker_remaining)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fill) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Fill{self._key()}"


class MatchResult:
    """What one submit did: its fills in order, how much filled, whether the rest rests, STP expiries, and the
    rejection (post-only that would cross, FOK that cannot fill) that left the book unchanged."""

    __slots__ = ("expired_makers", "filled", "fills", "reject", "remaining", "rested", "stp_expired_taker")

    def __init__(
        self, fills: tuple[Fill, ...], filled: int, remaining: int, rested: bool, expired_makers: tuple[int, ...],
        reject: str | None, stp_expired_taker: bool,
    ) -> None:  # fmt: skip
        self.fills = fills
        self.filled = filled
        self.remaining = remaining
        self.rested = rested
        self.expired_makers = expired_makers
        self.reject = reject
        self.stp_expired_taker = stp_expired_taker

    def _key(self) -> tuple[object, ...]:
        return (self.fills, self.filled, self.remaining, self.rested, self.expired_makers, self.reject,
                self.stp_expired_taker)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MatchResult) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"MatchResult{self._key()}"


REJECT_POST_ONLY = "post_only_would_cross"
REJECT_FOK = "fok_unfillable"

_GTC = TimeInForce.GTC
_FOK = TimeInForce.FOK
_STP_NONE = SelfTradePrevention.NONE
_CANCEL_TAKER = SelfTradePrevention.CANCEL_TAKER
_CANCEL_MAKER = SelfTradePrevention.CANCEL_MAKER
_CANCEL_BOTH = SelfTradePrevention.CANCEL_BOTH

# Garbage (dead queue entries, emptied levels) is swept once it outgrows this floor and the live book,
# which keeps cancel O(1) amortised without letting a cancel-heavy account grow memory without bound.
_SWEEP_FLOOR = 4096

_Level = deque[RestingOrder]


def _reject(qty: int, reason: str) -> MatchResult:
    return MatchResult((), 0, qty, False, (), reason, False)


def _walk(heap: list[int], levels: dict[int, _Level], limit: int | None) -> Iterator[tuple[int, _Level]]:
    """Yield (key, level) best first for keys <= limit (all if None), without popping the heap.

    Best-first search over the implicit heap tree: O(k log k) for the k levels visited.
    """
    n = len(heap)
    if not n or (limit is not None and heap[0] > limit):
        return
    frontier = [(heap[0], 0)]
    while frontier:
        key, i = heappop(frontier)
        yield key, levels[key]
        for c in (2 * i + 1, 2 * i + 2):
            if c < n and (limit is None or heap[c] <= limit):
                heappush(frontier, (heap[c], c))


class OrderBook:
    """Both sides of one instrument's book.

    Each side is a dict key -> FIFO deque of RestingOrder plus a heap of the keys; asks are keyed by
    price and bids by -price so "best" is the heap minimum on both sides. A key is in the dict iff it is
    in the heap. Cancelled orders are left in their queue with qty 0 and skipped (O(1) cancel); empty
    levels stay until they reach the top or a sweep. Neither is observable through the public API.
    """

    __slots__ = ("_ask_heap", "_asks", "_bid_heap", "_bids", "_garbage", "_orders")

    def __init__(self) -> None:
        self._bids: dict[int, _Level] = {}  # -price -> queue
        self._asks: dict[int, _Level] = {}  # price -> queue
        self._bid_heap: list[int] = []
        self._ask_heap: list[int] = []
        self._orders: dict[int, RestingOrder] = {}  # live resting orders only
        self._garbage = 0

    # ------------------------------------------------------------------ matching

    def submit(
        self,
        order_id: int,
        account: int,
        side: int,
        price: int,
        qty: int,
        tif: TimeInForce = _GTC,
        post_only: bool = False,
        stp: SelfTradePrevention = _STP_NONE,
    ) -> MatchResult:
        """Match a limit order against the book; rest the remainder if GTC.

        Market orders are IOC with `price` at the worst acceptable price. Trades print at the maker's price.
        A rejected order (post-only that would cross, FOK that cannot fill completely) changes nothing; an
        FOK counts only what it could fill under its STP mode, so one that would need a self-trade rejects.
        Post-only is checked first, so a non-crossing post-only IOC just expires and a post-only FOK rejects.
        Raises ValueError for a bad side, a non-positive price or qty, or an id that is already resting.
        """
        if side == BUY:
            opp_heap = self._ask_heap
            opp = self._asks
            limit = price
        elif side == SELL:
            opp_heap = self._bid_heap
            opp = self._bids
            limit = -price
        else:
            raise ValueError(f"side must be BUY (1) or SELL (-1), got {side!r}")
        if price <= 0 or qty <= 0:
            raise ValueError(f"price and qty must be positive, got price={price!r} qty={qty!r}")
        orders = self._orders
        if order_id in orders:
            raise ValueError(f"order id {order_id} is already resting")

        if post_only:
            best = self._best_key(opp_heap, opp)
            if best is not None and best <= limit:
                return _reject(qty, REJECT_POST_ONLY)
        if tif is _FOK and self._fillable(opp_heap, opp, limit, qty, account, stp) < qty:
            return _reject(qty, REJECT_FOK)

        fills: list[Fill] = []
        expired: list[int] = []
        remaining = qty
        taker_expired = False
        stp_on = stp is not _STP_NONE
        while remaining and opp_heap:
            key = opp_heap[0]
            if key > limit:
                break
            level = opp[key]
            while level:
                maker = level[0]
                mq = maker.qty
                if not mq:  # dead entry left by a cancel
                    level.popleft()
                    continue
                if stp_on and maker.account == account:
                    if stp is _CANCEL_TAKER:
                        taker_expired = True
                        break
                    level.popleft()
                    maker.qty = 0
                    del orders[maker.order_id]
                    expired.append(maker.order_id)
                    if stp is _CANCEL_BOTH:
                        taker_expired = True
                        break
                    continue
                if mq <= remaining:
                    level.popleft()
                    maker.qty = 0
                    del orders[maker.order_id]
                    remaining -= mq
                    fills.append(Fill(maker.order_id, maker.account, order_id, account, side, maker.price, mq, 0))
                    if not remaining:
                        break
                else:
                    mq -= remaining
                    maker.qty = mq
                    fills.append(
                        Fill(maker.order_id, maker.account, order_id, account, side, maker.price, remaining, mq)
                    )
                    remaining = 0
                    break
            if not level:
                heappop(opp_heap)
                del opp[key]
            if taker_expired:
                break

        rested = False
        if remaining and not taker_expired and tif is _GTC:
            self._rest(RestingOrder(order_id, account, side, price, remaining))
            rested = True
        return MatchResult(tuple(fills), qty - remaining, remaining, rested, tuple(expired), None, taker_expired)

    def fillable(
        self,
        side: int,
        price: int,
        qty: int,
        account: int | None = None,
        stp: SelfTradePrevention = _STP_NONE,
    ) -> int:
        """Lots (at most `qty`) an order could fill right now, honouring STP for `account`; read-only."""
        if side == BUY:
            return self._fillable(self._ask_heap, self._asks, price, qty, account, stp)
        if side == SELL:
            return self._fillable(self._bid_heap, self._bids, -price, qty, account, stp)
        raise ValueError(f"side must be BUY (1) or SELL (-1), got {side!r}")

    def _fillable(
        self,
        opp_heap: list[int],
        opp: dict[int, _Level],
        limit: int,
        qty: int,
        account: int | None,
        stp: SelfTradePrevention,
    ) -> int:
        check_self = account is not None and stp is not _STP_NONE
        filled = 0
        for _key, level in _walk(opp_heap, opp, limit):
            for maker in level:
                if not maker.qty:
                    continue
                if check_self and maker.account == account:
                    if stp is _CANCEL_MAKER:
                        continue  # would be expired, matching carries on past it
                    return filled  # the taker would expire here
                filled += maker.qty
                if filled >= qty:
                    return qty
        return filled

    # ------------------------------------------------------------------ order management

    def cancel(self, order_id: int) -> RestingOrder | None:
        """Remove a resting order; returns a copy of it as it was, or None if it is not resting."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        copy = RestingOrder(order.order_id, order.account, order.side, order.price, order.qty)
        self._remove(order)
        return copy

    def amend(
        self,
        order_id: int,
        price: int | None = None,
        qty: int | None = None,
        *,
        post_only: bool = False,
        stp: SelfTradePrevention = _STP_NONE,
    ) -> MatchResult | None:
        """Change a resting order's price and/or remaining qty; None if the id is not resting.

        A qty decrease at the same price keeps time priority. A price change or qty increase is a cancel
        plus a fresh GTC submit (same id, back of the queue) that may cross and fill; `post_only` and `stp`
        apply to that submit, and a post-only reject leaves the original order untouched.
        """
        order = self._orders.get(order_id)
        if order is None:
            return None
        new_price = order.price if price is None else price
        new_qty = order.qty if qty is None else qty
        if new_price <= 0 or new_qty <= 0:
            raise ValueError(f"price and qty must be positive, got price={new_price!r} qty={new_qty!r}")
        if new_price == order.price and new_qty <= order.qty:
            order.qty = new_qty
            return MatchResult((), 0, new_qty, True, (), None, False)
        if post_only:
            if order.side == BUY:
                best = self._best_key(self._ask_heap, self._asks)
                crosses = best is not None and best <= new_price
            else:
                best = self._best_key(self._bid_heap, self._bids)
                crosses = best is not None and best <= -new_price
            if crosses:
                return _reject(new_qty, REJECT_POST_ONLY)
        self._remove(order)
        return self.submit(order_id, order.account, order.side, new_price, new_qty, _GTC, False, stp)

    def _rest(self, order: RestingOrder) -> None:
        if order.side == BUY:
            heap = self._bid_heap
            levels = self._bids
            key = -order.price
        else:
            heap = self._ask_heap
            levels = self._asks
            key = order.price
        level = levels.get(key)
        if level is None:
            levels[key] = deque((order,))
            heappush(heap, key)
        else:
            level.append(order)
        self._orders[order.order_id] = order

    def _remove(self, order: RestingOrder) -> None:
        del self._orders[order.order_id]
        levels = self._bids if order.side == BUY else self._asks
        level = levels[-order.price if order.side == BUY else order.price]
        # Most cancels hit the newest or oldest order of a level; anything else is left as a dead entry.
        if level[-1] is order:
            level.pop()
        elif level[0] is order:
            level.popleft()
        else:
            order.qty = 0
            self._garbage += 1
        if not level:
            self._garbage += 1
        if self._garbage > _SWEEP_FLOOR and self._garbage > len(self._orders):
            self._sweep()

    def _sweep(self) -> None:
        """Drop dead queue entries and empty levels, rebuilding the heaps."""
        for heap, levels in ((self._bid_heap, self._bids), (self._ask_heap, self._asks)):
            live: dict[int, _Level] = {}
            for key in sorted(levels):
                level = deque(o for o in levels[key] if o.qty)
                if level:
                    live[key] = level
            levels.clear()
            levels.update(live)
            heap[:] = list(live)  # sorted keys already satisfy the heap property
        self._garbage = 0

    @staticmethod
    def _best_key(heap: list[int], levels: dict[int, _Level]) -> int | None:
        """Heap key of the best live level, discarding dead fronts and empty levels on the way."""
        while heap:
            key = heap[0]
            level = levels[key]
            while level and not level[0].qty:
                level.popleft()
            if level:
                return key
            heappop(heap)
            del levels[key]
        return None

    # ------------------------------------------------------------------ queries

    def get(self, order_id: int) -> RestingOrder | None:
        """A copy of a resting order, or None."""
        o = self._orders.get(order_id)
        return None if o is None else RestingOrder(o.order_id, o.account, o.side, o.price, o.qty)

    def best_bid(self) -> int | None:
        key = self._best_key(self._bid_heap, self._bids)
        return None if key is None else -key

    def best_ask(self) -> int | None:
        return self._best_key(self._ask_heap, self._asks)

    def depth(self, levels: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top `levels` aggregated (price, qty) per side: bids descending, asks ascending."""
        return self._depth(self._bid_heap, self._bids, -1, levels), self._depth(self._ask_heap, self._asks, 1, levels)

    @staticmethod
    def _depth(heap: list[int], book: dict[int, _Level], sign: int, n: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        if n <= 0:
            return out
        for key, level in _walk(heap, book, None):
            total = sum(o.qty for o in level)
            if total:
                out.append((sign * key, total))
                if len(out) == n:
                    break
        return out

    def orders_of(self, account: int) -> list[RestingOrder]:
        """Copies of an account's resting orders, by order id. O(book size): meant for rare use."""
        return [
            RestingOrder(o.order_id, o.account, o.side, o.price, o.qty)
            for oid, o in sorted(self._orders.items())
            if o.account == account
        ]

    def __len__(self) -> int:
        return len(self._orders)

    # ------------------------------------------------------------------ persistence

    def snapshot(self) -> dict[str, object]:
        """Plain JSON-able state: per side, best level first, [price, [[order_id, account, qty], ...]].

        Orders within a level are listed in time priority, so `restore` rebuilds the same queues.
        """
        return {
            "version": 1,
            "bids": self._snapshot_side(self._bids, -1),
            "asks": self._snapshot_side(self._asks, 1),
        }

    @staticmethod
    def _snapshot_side(book: dict[int, _Level], sign: int) -> list[object]:
        out: list[object] = []
        for key in sorted(book):
            queue = [[o.order_id, o.account, o.qty] for o in book[key] if o.qty]
            if queue:
                out.append([sign * key, queue])
        return out

    @classmethod
    def restore(cls, data: Mapping[str, object]) -> OrderBook:
        """Rebuild a book from `snapshot()` output; the result matches exactly like the original."""
        if data.get("version") != 1:
            raise ValueError(f"unsupported order book snapshot version {data.get('version')!r}")
        book = cls()
        for name, side in (("bids", BUY), ("asks", SELL)):
            levels = data.get(name)
            if not isinstance(levels, list):
                raise ValueError(f"snapshot field {name!r} must be a list")
            for entry in levels:
                if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
                    raise ValueError(f"malformed {name} level {entry!r}")
                price, queue = entry
                for row in queue:
                    if not (isinstance(row, list) and len(row) == 3 and all(type(v) is int for v in row)):
                        raise ValueError(f"malformed {name} order {row!r}")
                    order_id, account, qty = row
                    if type(price) is not int or price <= 0 or qty <= 0:
                        raise ValueError(f"non-positive or non-integer price/qty in {name} order {row!r}")
                    if order_id in book._orders:
                        raise ValueError(f"duplicate order id {order_id} in snapshot")
                    book._rest(RestingOrder(order_id, account, side, price, qty))
        bid = book.best_bid()
        ask = book.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            raise ValueError(f"snapshot is crossed: best bid {bid} >= best ask {ask}")
        return book
