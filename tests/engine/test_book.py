"""Order book: priority, time-in-force, post-only, STP, cancel/amend, depth, snapshot, and a model check."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import isomargin.engine.book as book_module
from isomargin.engine.book import (
    BUY,
    SELL,
    Fill,
    MatchResult,
    OrderBook,
    RestingOrder,
    SelfTradePrevention,
    TimeInForce,
)

GTC, IOC, FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
STP = SelfTradePrevention


def makers(result: MatchResult) -> list[int]:
    return [f.maker_order_id for f in result.fills]


def book_with(*orders: tuple[int, int, int, int, int]) -> OrderBook:
    """Book holding non-crossing resting orders given as (id, account, side, price, qty)."""
    book = OrderBook()
    for oid, acct, side, price, qty in orders:
        r = book.submit(oid, acct, side, price, qty)
        assert r.rested and not r.fills
    return book


# ---------------------------------------------------------------------- priority and execution


def test_same_price_fills_in_arrival_order() -> None:
    book = book_with((1, 10, SELL, 100, 1), (2, 11, SELL, 100, 1), (3, 12, SELL, 100, 1))
    r = book.submit(4, 20, BUY, 100, 2)
    assert makers(r) == [1, 2]
    assert book.get(3) == RestingOrder(3, 12, SELL, 100, 1)


def test_better_price_first_and_trades_at_maker_price() -> None:
    book = book_with((1, 10, SELL, 102, 1), (2, 11, SELL, 101, 1), (3, 12, BUY, 90, 1), (4, 13, BUY, 95, 1))
    r = book.submit(5, 20, BUY, 105, 2)
    assert r.fills == (
        Fill(2, 11, 5, 20, BUY, 101, 1, 0),
        Fill(1, 10, 5, 20, BUY, 102, 1, 0),
    )
    r = book.submit(6, 21, SELL, 1, 2)
    assert [(f.maker_order_id, f.price, f.side) for f in r.fills] == [(4, 95, SELL), (3, 90, SELL)]
    assert len(book) == 0


def test_partial_fills_and_gtc_remainder_rests() -> None:
    book = book_with((1, 10, SELL, 100, 5))
    r = book.submit(2, 20, BUY, 100, 3)
    assert r.fills == (Fill(1, 10, 2, 20, BUY, 100, 3, 2),)
    assert (r.filled, r.remaining, r.rested) == (3, 0, False)
    assert book.get(1) == RestingOrder(1, 10, SELL, 100, 2)

    r = book.submit(3, 21, BUY, 101, 6)
    assert [(f.qty, f.maker_remaining) for f in r.fills] == [(2, 0)]
    assert (r.filled, r.remaining, r.rested) == (2, 4, True)
    assert book.best_bid() == 101 and book.best_ask() is None
    assert book.get(3) == RestingOrder(3, 21, BUY, 101, 4)


def test_ioc_remainder_expires() -> None:
    book = book_with((1, 10, SELL, 100, 2), (2, 10, SELL, 110, 2))
    r = book.submit(3, 20, BUY, 105, 5, IOC)  # a market order: IOC with a band limit of 105
    assert makers(r) == [1]
    assert (r.filled, r.remaining, r.rested, r.reject) == (2, 3, False, None)
    assert book.get(3) is None and book.best_bid() is None and book.best_ask() == 110


def test_fok_all_or_nothing() -> None:
    book = book_with((1, 10, SELL, 100, 2), (2, 11, SELL, 101, 2), (3, 12, BUY, 90, 1))
    before = book.snapshot()
    r = book.submit(4, 20, BUY, 101, 5, FOK)
    assert r == MatchResult((), 0, 5, False, (), "fok_unfillable", False)
    assert book.snapshot() == before
    assert book.submit(5, 20, BUY, 100, 3, FOK).reject == "fok_unfillable"  # price limit counts
    assert book.snapshot() == before

    r = book.submit(6, 20, BUY, 101, 4, FOK)
    assert makers(r) == [1, 2] and (r.filled, r.remaining, r.reject) == (4, 0, None)
    assert book.best_ask() is None


def test_post_only() -> None:
    book = book_with((1, 10, SELL, 100, 2), (2, 11, BUY, 98, 2))
    before = book.snapshot()
    r = book.submit(3, 20, BUY, 100, 1, post_only=True)
    assert r == MatchResult((), 0, 1, False, (), "post_only_would_cross", False)
    assert book.submit(4, 20, SELL, 98, 1, post_only=True).reject == "post_only_would_cross"
    assert book.snapshot() == before

    r = book.submit(5, 20, BUY, 99, 1, post_only=True)
    assert r.rested and r.reject is None and book.best_bid() == 99


def test_invalid_input_and_duplicate_id() -> None:
    book = book_with((1, 10, SELL, 100, 2))
    with pytest.raises(ValueError):
        book.submit(1, 11, BUY, 90, 1)
    for side, price, qty in ((0, 100, 1), (BUY, 0, 1), (BUY, 100, 0), (SELL, -5, 1)):
        with pytest.raises(ValueError):
            book.submit(9, 11, side, price, qty)
    assert book.snapshot() == book_with((1, 10, SELL, 100, 2)).snapshot()
    # an id is reusable once its order is no longer resting
    book.submit(2, 11, BUY, 100, 2)
    assert book.submit(1, 11, BUY, 90, 1).rested


# ---------------------------------------------------------------------- self-trade prevention


def stp_book() -> OrderBook:
    # account 7 owns order 2, sandwiched between two orders of other accounts
    return book_with((1, 8, SELL, 100, 1), (2, 7, SELL, 100, 1), (3, 9, SELL, 101, 1))


def test_stp_none_trades_with_self() -> None:
    book = stp_book()
    r = book.submit(4, 7, BUY, 101, 3, stp=STP.NONE)
    assert makers(r) == [1, 2, 3] and r.fills[1].maker_account == r.fills[1].taker_account == 7


def test_stp_cancel_taker() -> None:
    book = stp_book()
    r = book.submit(4, 7, BUY, 101, 3, stp=STP.CANCEL_TAKER)
    assert makers(r) == [1]
    assert (r.filled, r.remaining, r.rested, r.stp_expired_taker, r.expired_makers) == (1, 2, False, True, ())
    assert book.get(2) is not None and book.get(3) is not None and book.get(4) is None


def test_stp_cancel_maker() -> None:
    book = stp_book()
    r = book.submit(4, 7, BUY, 101, 3, stp=STP.CANCEL_MAKER)
    assert makers(r) == [1, 3] and r.expired_makers == (2,)
    assert (r.filled, r.remaining, r.rested, r.stp_expired_taker) == (2, 1, True, False)
    assert book.get(2) is None and book.best_bid() == 101


def test_stp_cancel_both() -> None:
    book = stp_book()
    r = book.submit(4, 7, BUY, 101, 3, stp=STP.CANCEL_BOTH)
    assert makers(r) == [1] and r.expired_makers == (2,)
    assert (r.filled, r.remaining, r.rested, r.stp_expired_taker) == (1, 2, False, True)
    assert book.get(2) is None and book.get(3) is not None and book.best_bid() is None


def test_stp_only_for_same_account_and_fok_interaction() -> None:
    book = stp_book()
    before = book.snapshot()
    # a self-trade would be needed to fill completely: rejected, nothing expired
    for mode in (STP.CANCEL_TAKER, STP.CANCEL_BOTH):
        assert book.submit(4, 7, BUY, 101, 2, FOK, stp=mode).reject == "fok_unfillable"
    assert book.submit(4, 7, BUY, 101, 3, FOK, stp=STP.CANCEL_MAKER).reject == "fok_unfillable"
    assert book.snapshot() == before
    assert book.fillable(BUY, 101, 3, account=7, stp=STP.CANCEL_TAKER) == 1
    assert book.fillable(BUY, 101, 3, account=7, stp=STP.CANCEL_MAKER) == 2
    assert book.fillable(BUY, 101, 3, account=8, stp=STP.CANCEL_TAKER) == 0  # its own order is first
    assert book.fillable(BUY, 101, 3, account=99, stp=STP.CANCEL_TAKER) == 3
    assert book.fillable(BUY, 100, 9) == 2 and book.fillable(SELL, 100, 9) == 0
    assert book.snapshot() == before

    r = book.submit(4, 7, BUY, 101, 2, FOK, stp=STP.CANCEL_MAKER)
    assert makers(r) == [1, 3] and r.expired_makers == (2,) and len(book) == 0


# ---------------------------------------------------------------------- cancel and amend


def test_cancel() -> None:
    book = book_with((1, 10, SELL, 100, 1), (2, 11, SELL, 100, 2), (3, 12, SELL, 100, 3), (4, 13, SELL, 101, 4))
    assert book.cancel(2) == RestingOrder(2, 11, SELL, 100, 2)
    assert book.cancel(2) is None and book.cancel(99) is None
    assert len(book) == 3 and book.depth(5) == ([], [(100, 4), (101, 4)])
    r = book.submit(5, 20, BUY, 101, 5)
    assert makers(r) == [1, 3, 4]
    book.cancel(4)
    assert book.best_ask() is None and book.depth(5) == ([], []) and len(book) == 0


def test_amend_qty_decrease_keeps_priority() -> None:
    book = book_with((1, 10, SELL, 100, 5), (2, 11, SELL, 100, 5))
    r = book.amend(1, qty=3)
    assert r is not None and r.rested and not r.fills and r.remaining == 3
    assert makers(book.submit(3, 20, BUY, 100, 4)) == [1, 2]


def test_amend_qty_increase_loses_priority() -> None:
    book = book_with((1, 10, SELL, 100, 5), (2, 11, SELL, 100, 5))
    book.amend(1, qty=6)
    assert book.get(1) == RestingOrder(1, 10, SELL, 100, 6)
    assert makers(book.submit(3, 20, BUY, 100, 6)) == [2, 1]


def test_amend_price_change_loses_priority() -> None:
    book = book_with((1, 10, SELL, 100, 1), (2, 11, SELL, 100, 1))
    book.amend(1, price=101)
    book.amend(1, price=100)
    assert makers(book.submit(3, 20, BUY, 100, 2)) == [2, 1]


def test_amend_that_crosses_fills() -> None:
    book = book_with((1, 10, SELL, 100, 2), (2, 11, BUY, 95, 3))
    r = book.amend(2, price=100)
    assert r is not None and r.fills == (Fill(1, 10, 2, 11, BUY, 100, 2, 0),)
    assert r.rested and book.get(2) == RestingOrder(2, 11, BUY, 100, 1)


def test_amend_post_only_and_stp() -> None:
    book = book_with((1, 10, SELL, 100, 2), (2, 10, BUY, 95, 3), (3, 11, BUY, 95, 1))
    before = book.snapshot()
    r = book.amend(2, price=100, post_only=True)
    assert r is not None and r.reject == "post_only_would_cross" and book.snapshot() == before
    r = book.amend(2, price=100, stp=STP.CANCEL_TAKER)
    assert r is not None and r.stp_expired_taker and not r.rested
    assert book.get(2) is None and book.get(1) is not None


def test_amend_unknown_and_invalid() -> None:
    book = book_with((1, 10, SELL, 100, 2))
    assert book.amend(9, qty=1) is None
    with pytest.raises(ValueError):
        book.amend(1, qty=0)
    with pytest.raises(ValueError):
        book.amend(1, price=0, qty=1)
    assert book.get(1) == RestingOrder(1, 10, SELL, 100, 2)


def test_returned_orders_are_copies() -> None:
    book = book_with((1, 10, SELL, 100, 2))
    got = book.get(1)
    assert got is not None
    got.qty = 99
    assert book.get(1) == RestingOrder(1, 10, SELL, 100, 2)


# ---------------------------------------------------------------------- queries


def test_depth_aggregates_levels() -> None:
    book = book_with(
        (1, 1, BUY, 98, 1),
        (2, 2, BUY, 99, 2),
        (3, 3, BUY, 98, 3),
        (4, 4, BUY, 97, 4),
        (5, 5, SELL, 101, 5),
        (6, 6, SELL, 103, 1),
        (7, 7, SELL, 101, 1),
    )
    assert book.depth(10) == ([(99, 2), (98, 4), (97, 4)], [(101, 6), (103, 1)])
    assert book.depth(2) == ([(99, 2), (98, 4)], [(101, 6), (103, 1)])
    assert book.depth(0) == ([], [])
    assert book.best_bid() == 99 and book.best_ask() == 101


def test_orders_of_in_id_order() -> None:
    book = book_with((5, 1, SELL, 101, 1), (2, 1, BUY, 90, 1), (3, 2, BUY, 91, 1), (4, 1, SELL, 100, 1))
    assert [o.order_id for o in book.orders_of(1)] == [2, 4, 5]
    assert book.orders_of(3) == []


def test_many_mid_queue_cancels_are_swept() -> None:
    book = OrderBook()
    n = 12_000
    for oid in range(n):
        book.submit(oid, oid % 50, SELL, 100 + oid % 3, 1)
    for oid in range(3, n - 3):
        if oid % 4:
            book.cancel(oid)  # mostly mid-queue, leaving dead entries behind
    survivors = [0, 1, 2] + [o for o in range(3, n - 3) if not o % 4] + [n - 3, n - 2, n - 1]
    expect = sorted(survivors, key=lambda o: (o % 3, o))
    assert len(book) == len(survivors)
    r = book.submit(n, 999, BUY, 102, len(survivors))
    assert makers(r) == expect and len(book) == 0


# ---------------------------------------------------------------------- snapshot and restore


def test_snapshot_round_trip_and_identical_behaviour() -> None:
    book = book_with(
        (1, 1, SELL, 100, 2), (2, 2, SELL, 100, 3), (3, 3, SELL, 102, 1), (4, 1, BUY, 97, 5), (5, 2, BUY, 98, 1)
    )
    book.cancel(2)
    book.amend(1, qty=1)
    data = book.snapshot()
    restored = OrderBook.restore(json.loads(json.dumps(data)))
    assert restored.snapshot() == data
    assert data["asks"] == [[100, [[1, 1, 1]]], [102, [[3, 3, 1]]]]
    assert data["bids"] == [[98, [[5, 2, 1]]], [97, [[4, 1, 5]]]]

    ops = [
        (10, 4, SELL, 98, 2, GTC, STP.NONE),
        (11, 1, BUY, 102, 5, IOC, STP.CANCEL_MAKER),
        (12, 9, SELL, 90, 10, GTC, STP.NONE),
    ]
    for op in ops:
        assert book.submit(*op[:6], stp=op[6]) == restored.submit(*op[:6], stp=op[6])
    assert book.snapshot() == restored.snapshot()


def test_restore_rejects_bad_snapshots() -> None:
    bad: list[dict[str, object]] = [
        {"version": 2, "bids": [], "asks": []},
        {"version": 1, "bids": [[100, [[1, 1, 1]]]], "asks": [[100, [[2, 1, 1]]]]},  # crossed
        {"version": 1, "bids": [[100, [[1, 1, 1]]]], "asks": [[101, [[1, 1, 1]]]]},  # duplicate id
        {"version": 1, "bids": [[100, [[1, 1, 0]]]], "asks": []},
        {"version": 1, "bids": [[100, [[1, 1, 1.5]]]], "asks": []},
        {"version": 1, "bids": "x", "asks": []},
    ]
    for data in bad:
        with pytest.raises(ValueError):
            OrderBook.restore(data)


# ---------------------------------------------------------------------- model-based check


@dataclass
class RefOrder:
    oid: int
    account: int
    side: int
    price: int
    qty: int
    seq: int


class RefBook:
    """Brute force: a flat list of orders, re-sorted for every match."""

    def __init__(self) -> None:
        self.orders: list[RefOrder] = []
        self.seq = 0

    def find(self, oid: int) -> RefOrder | None:
        return next((o for o in self.orders if o.oid == oid), None)

    def crosses(self, side: int, price: int) -> bool:
        return any(o.side == -side and (o.price - price) * side <= 0 for o in self.orders)

    def submit(
        self, oid: int, account: int, side: int, price: int, qty: int, tif: TimeInForce, post_only: bool, stp: STP
    ) -> MatchResult:
        if post_only and self.crosses(side, price):
            return MatchResult((), 0, qty, False, (), "post_only_would_cross", False)
        opp = sorted(
            (o for o in self.orders if o.side == -side and (o.price - price) * side <= 0),
            key=lambda o: (o.price * side, o.seq),
        )
        rem, trades, expired, taker_expired = qty, [], [], False
        for o in opp:
            if not rem:
                break
            if stp is not STP.NONE and o.account == account:
                if stp is not STP.CANCEL_TAKER:
                    expired.append(o)
                taker_expired = stp is not STP.CANCEL_MAKER
                if taker_expired:
                    break
                continue
            q = min(rem, o.qty)
            trades.append((o, q))
            rem -= q
        if tif is FOK and rem:
            return MatchResult((), 0, qty, False, (), "fok_unfillable", False)
        fills = []
        for o, q in trades:
            o.qty -= q
            fills.append(Fill(o.oid, o.account, oid, account, side, o.price, q, o.qty))
        gone = {id(o) for o in expired}
        self.orders = [o for o in self.orders if o.qty and id(o) not in gone]
        rested = bool(rem) and not taker_expired and tif is GTC
        if rested:
            self.seq += 1
            self.orders.append(RefOrder(oid, account, side, price, rem, self.seq))
        return MatchResult(tuple(fills), qty - rem, rem, rested, tuple(o.oid for o in expired), None, taker_expired)

    def depth(self, side: int) -> list[tuple[int, int]]:
        totals: dict[int, int] = {}
        for o in self.orders:
            if o.side == side:
                totals[o.price] = totals.get(o.price, 0) + o.qty
        return sorted(totals.items(), key=lambda pq: -pq[0] * side)

    def snapshot(self) -> dict[str, object]:
        def side(s: int) -> list[object]:
            prices = sorted({o.price for o in self.orders if o.side == s}, key=lambda p: -p * s)
            return [
                [
                    p,
                    [
                        [o.oid, o.account, o.qty]
                        for o in sorted(self.orders, key=lambda o: o.seq)
                        if o.side == s and o.price == p
                    ],
                ]
                for p in prices
            ]

        return {"version": 1, "bids": side(BUY), "asks": side(SELL)}


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook()
        self.ref = RefBook()
        self.next_id = 1
        self.lots_in = 0  # submitted lots plus amend increases
        self.lots_out = 0  # 2 x traded lots (taker and maker side) plus expired, rejected, cancelled, amended away

    def account(self, r: MatchResult, expired_qty: int) -> None:
        self.lots_out += 2 * r.filled + (0 if r.rested else r.remaining) + expired_qty

    def pick_id(self, data: st.DataObject) -> int:
        """Mostly a live order (so cancels and amends hit queues), sometimes any id ever used."""
        live = [o.oid for o in self.ref.orders]
        if live and data.draw(st.integers(0, 4)) != 0:
            return data.draw(st.sampled_from(live))
        return data.draw(st.integers(1, self.next_id - 1))

    @rule(
        side=st.sampled_from([BUY, SELL]),
        price=st.integers(1, 6),
        qty=st.integers(1, 5),
        account=st.integers(1, 3),
        tif=st.sampled_from(list(TimeInForce)),
        post_only=st.booleans(),
        stp=st.sampled_from(list(STP)),
    )
    def submit(
        self, side: int, price: int, qty: int, account: int, tif: TimeInForce, post_only: bool, stp: STP
    ) -> None:
        oid = self.next_id
        self.next_id += 1
        before = {o.oid: o.qty for o in self.ref.orders}
        got = self.book.submit(oid, account, side, price, qty, tif, post_only, stp)
        want = self.ref.submit(oid, account, side, price, qty, tif, post_only, stp)
        assert got == want
        self.lots_in += qty
        self.account(got, sum(before[m] for m in got.expired_makers))

    @rule(
        side=st.sampled_from([BUY, SELL]),
        offset=st.integers(0, 2),
        qty=st.integers(1, 5),
        account=st.integers(1, 3),
    )
    def submit_passive(self, side: int, offset: int, qty: int, account: int) -> None:
        """A GTC order on its own side of the price range (3 for bids, 4 for asks), to build deep queues."""
        self.submit(side, 3 - offset if side == BUY else 4 + offset, qty, account, GTC, False, STP.NONE)

    @precondition(lambda self: self.next_id > 1)
    @rule(data=st.data())
    def duplicate_id_rejected(self, data: st.DataObject) -> None:
        live = [o.oid for o in self.ref.orders]
        if live:
            oid = data.draw(st.sampled_from(live))
            with pytest.raises(ValueError):
                self.book.submit(oid, 1, BUY, 1, 1)

    @precondition(lambda self: self.next_id > 1)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        oid = self.pick_id(data)
        got = self.book.cancel(oid)
        ref = self.ref.find(oid)
        if ref is None:
            assert got is None
        else:
            assert got == RestingOrder(ref.oid, ref.account, ref.side, ref.price, ref.qty)
            self.ref.orders.remove(ref)
            self.lots_out += ref.qty

    @precondition(lambda self: self.next_id > 1)
    @rule(
        data=st.data(),
        price=st.none() | st.integers(1, 6),
        qty=st.none() | st.integers(1, 5),
        post_only=st.booleans(),
        stp=st.sampled_from(list(STP)),
    )
    def amend(self, data: st.DataObject, price: int | None, qty: int | None, post_only: bool, stp: STP) -> None:
        oid = self.pick_id(data)
        got = self.book.amend(oid, price, qty, post_only=post_only, stp=stp)
        ref = self.ref.find(oid)
        if ref is None:
            assert got is None
            return
        assert got is not None
        new_price = ref.price if price is None else price
        new_qty = ref.qty if qty is None else qty
        if new_price == ref.price and new_qty <= ref.qty:
            self.lots_out += ref.qty - new_qty
            ref.qty = new_qty
            assert got == MatchResult((), 0, new_qty, True, (), None, False)
            return
        if post_only and self.ref.crosses(ref.side, new_price):
            assert got == MatchResult((), 0, new_qty, False, (), "post_only_would_cross", False)
            return
        self.lots_in += new_qty - ref.qty
        self.ref.orders.remove(ref)
        before = {o.oid: o.qty for o in self.ref.orders}
        want = self.ref.submit(oid, ref.account, ref.side, new_price, new_qty, GTC, False, stp)
        assert got == want
        self.account(got, sum(before[m] for m in got.expired_makers))

    @rule()
    def snapshot_round_trip(self) -> None:
        data = self.book.snapshot()
        self.book = OrderBook.restore(json.loads(json.dumps(data)))
        assert self.book.snapshot() == data

    @rule(side=st.sampled_from([BUY, SELL]), price=st.integers(1, 6), qty=st.integers(1, 12))
    def fillable_matches_fok(self, side: int, price: int, qty: int) -> None:
        n = self.book.fillable(side, price, qty)
        probe = RefBook()
        probe.orders = [RefOrder(o.oid, o.account, o.side, o.price, o.qty, o.seq) for o in self.ref.orders]
        want = probe.submit(-1, -1, side, price, qty, IOC, False, STP.NONE).filled
        assert n == want

    @invariant()
    def same_state(self) -> None:
        snap = self.book.snapshot()
        assert snap == self.ref.snapshot()
        assert len(self.book) == len(self.ref.orders)
        bid, ask = self.book.best_bid(), self.book.best_ask()
        assert bid is None or ask is None or bid < ask
        assert self.book.depth(100) == (self.ref.depth(BUY), self.ref.depth(SELL))
        assert self.book.depth(1) == (self.ref.depth(BUY)[:1], self.ref.depth(SELL)[:1])

    @invariant()
    def quantity_is_conserved(self) -> None:
        resting = sum(o.qty for o in self.ref.orders)
        assert self.lots_in == self.lots_out + resting


class SweepingBookMachine(BookMachine):
    """The same check with dead entries swept on almost every cancel, to exercise the sweep."""

    def __init__(self) -> None:
        super().__init__()
        self.saved_floor = book_module._SWEEP_FLOOR
        book_module._SWEEP_FLOOR = 0

    def teardown(self) -> None:
        book_module._SWEEP_FLOOR = self.saved_floor


_settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
BookMachine.TestCase.settings = _settings
SweepingBookMachine.TestCase.settings = settings(_settings, max_examples=60)
test_book_matches_reference_model = BookMachine.TestCase
test_book_with_eager_sweeps_matches_reference_model = SweepingBookMachine.TestCase
