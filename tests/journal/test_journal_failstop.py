"""Fail-stop: a fault injected in the middle of one command's commit (after a real mutation) halts the venue.
The commands before it in the group are journaled and acknowledged with their events, the faulting one and the
rest are not, every later submit is refused, and reopening gives exactly the state of the journaled prefix. The
engine's seq and the journal's stay equal; a mismatch is refused the same way."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from decimal import Decimal
from typing import Any

import pytest

from isomargin.engine import (
    CreateAccount,
    Deposit,
    Engine,
    ListInstrument,
    OrderSide,
    OrderStatus,
    OrderType,
    PlaceOrder,
    SetMarkPrice,
    state_hash,
)
from isomargin.engine.events import Event, OrderUpdated, Posted, Trade
from isomargin.journal import DurableEngine, EngineHalted, GroupCommitter, JournalError, open_journal
from isomargin.journal.codec import command_bytes

SETUP = [
    ListInstrument("BTCUSDT", venue="binance", ts=1),
    CreateAccount(1, ts=2),
    Deposit(1, "USDT", Decimal(100000), ts=3),
    CreateAccount(2, ts=4),
    Deposit(2, "USDT", Decimal(100000), ts=5),
    SetMarkPrice("BTCUSDT", Decimal(60000), ts=6),
]


def limit(account: int, side: OrderSide, coid: str, ts: int) -> PlaceOrder:
    return PlaceOrder(
        account, "BTCUSDT", side, OrderType.LIMIT, Decimal("0.01"), Decimal(60000), client_order_id=coid, ts=ts
    )


def fresh_hash(cmds: list[Any]) -> str:
    engine = Engine()
    for c in cmds:
        engine.apply(c)
    return state_hash(engine)


def inject_fault(engine: Engine, component: object, method: str, at_seq: int) -> list[int]:
    """Make `component.method` raise right after its first real call made while the engine runs command
    `at_seq` (so the fault lands after a mutation); returns the seqs it was called in. Components have
    __slots__, so the instance is moved to a subclass that overrides the method (no other instance changes)."""
    cls = type(component)
    real: Callable[..., Any] = getattr(cls, method)
    calls: list[int] = []

    def faulty(self: object, *args: Any, **kwargs: Any) -> Any:
        out = real(self, *args, **kwargs)
        calls.append(engine.seq)
        if engine.seq == at_seq:
            raise RuntimeError("injected fault")
        return out

    component.__class__ = type(f"Faulty{cls.__name__}", (cls,), {"__slots__": (), method: faulty})
    return calls


def assert_refused(venue: DurableEngine) -> None:
    for attempt in (lambda: venue.submit(Deposit(1, "USDT", Decimal(1), ts=99)), venue.state_hash):
        with pytest.raises(JournalError) as exc:
            attempt()
        assert exc.value.code == "engine_failed" and "reopen the journal" in exc.value.message


def test_a_fault_mid_commit_acknowledges_exactly_the_journaled_prefix(target: str) -> None:
    batch = [
        Deposit(1, "USDT", Decimal(7), ts=10),  # seq 7
        limit(2, OrderSide.SELL, "m1", ts=11),  # seq 8: rests
        Deposit(1, "USDT", Decimal(9), ts=12),  # seq 9: the wallet is credited, then the fault
        Deposit(1, "USDT", Decimal(11), ts=13),
        limit(1, OrderSide.BUY, "t1", ts=14),
    ]
    with DurableEngine.open(target) as venue:
        venue.submit_batch(SETUP)
        calls = inject_fault(venue.engine, venue.engine.ledger, "post", at_seq=9)
        with pytest.raises(EngineHalted) as exc:
            venue.submit_batch(batch)
        halted = exc.value
        assert halted.code == "engine_failed" and halted.index == 2 and "injected fault" in halted.reason
        assert calls == [7, 8, 9]  # the order's hold posted in 8; the deposit of seq 9 really posted, then failed
        (posted,) = halted.durable[0]
        assert isinstance(posted, Posted) and posted.env.seq == 7
        assert [(t.debit, t.credit, t.amount) for t in posted.postings] == [
            ("external:USDT", "wallet:1:USDT", Decimal(7))
        ]
        rested, hold = halted.durable[1]
        assert isinstance(rested, OrderUpdated) and rested.status is OrderStatus.NEW and rested.env.seq == 8
        assert isinstance(hold, Posted) and [t.credit for t in hold.postings] == ["hold:2:USDT"]
        assert venue.seq == 8 and venue.engine.failed is not None and venue.failed is not None
        assert venue.seen("order:2:m1") and not venue.seen("order:1:t1")
        assert_refused(venue)
    with open_journal(target) as j:
        records = list(j.records())
        assert [r.seq for r in records] == list(range(1, 9))
        assert [r.payload for r in records[6:]] == [command_bytes(c) for c in batch[:2]]
    with DurableEngine.open(target) as again:
        assert again.seq == again.engine.seq == 8
        assert again.state_hash() == fresh_hash(SETUP + batch[:2]) != fresh_hash(SETUP + batch[:3])
        again.submit_batch(batch[2:])  # the same commands go through once the bug is gone
        assert again.seq == 11 and again.state_hash() == fresh_hash(SETUP + batch)


def test_a_fault_in_the_first_command_journals_nothing(sqlite_target: str) -> None:
    with DurableEngine.open(sqlite_target) as venue:
        venue.submit_batch(SETUP)
        inject_fault(venue.engine, venue.engine.ledger, "post", at_seq=7)
        with pytest.raises(EngineHalted) as exc:
            venue.submit_batch([Deposit(1, "USDT", Decimal(9), ts=12), Deposit(1, "USDT", Decimal(1), ts=13)])
        assert exc.value.durable == [] and exc.value.index == 0
        assert_refused(venue)
    with DurableEngine.open(sqlite_target) as again:
        assert again.seq == 6 and again.state_hash() == fresh_hash(SETUP)


def test_group_committer_resolves_the_journaled_and_fails_the_rest(target: str) -> None:
    """Five client threads queue into one group, in order; a fill fault hits the third (a crossing order:
    the maker's position is filled for real, then the taker's fill never happens)."""
    with DurableEngine.open(target) as venue:
        venue.submit_batch(SETUP)
        gate, parked = threading.Event(), threading.Event()

        def hold_first_group(cmds: Any, results: Any, fresh: Any) -> None:
            parked.set()
            gate.wait(10)  # the thread answering the group sits here, inside the lock, while the clients queue

        venue.on_durable = hold_first_group
        committer = GroupCommitter(venue, max_inflight=1)  # no group starts before the previous one is answered
        blocker = committer.submit(Deposit(2, "USDT", Decimal(1), ts=9))  # seq 7
        assert parked.wait(10)
        venue.on_durable = None
        group = [
            Deposit(1, "USDT", Decimal(5), ts=10),  # seq 8
            limit(2, OrderSide.SELL, "m1", ts=11),  # seq 9: rests
            limit(1, OrderSide.BUY, "t1", ts=12),  # seq 10: crosses; fault after the maker's fill
            Deposit(1, "USDT", Decimal(6), ts=13),
            SetMarkPrice("BTCUSDT", Decimal(60100), ts=14),
        ]
        calls = inject_fault(venue.engine, venue.engine.positions, "fill", at_seq=10)
        futures: list[Future[list[Event]] | None] = [None] * len(group)
        outcomes: dict[int, list[Event] | BaseException] = {}
        turns = [threading.Event() for _ in range(len(group) + 1)]
        turns[0].set()

        def client(k: int) -> None:
            turns[k].wait(10)
            fut = futures[k] = committer.submit(group[k])  # in order: client k after client k-1
            turns[k + 1].set()
            try:
                outcomes[k] = fut.result(10)
            except BaseException as exc:
                outcomes[k] = exc

        threads = [threading.Thread(target=client, args=(k,)) for k in range(len(group))]
        for t in threads:
            t.start()
        assert turns[-1].wait(10)
        gate.set()
        for t in threads:
            t.join(10)
        assert len(blocker.result(10)) == 1
        assert calls == [10]  # the maker's fill ran for real, then the fault
        assert isinstance(outcomes[0], list) and isinstance(outcomes[0][0], Posted) and outcomes[0][0].env.seq == 8
        assert isinstance(outcomes[1], list) and [type(e) for e in outcomes[1]] == [OrderUpdated, Posted]
        assert outcomes[1][0].env.seq == 9 and outcomes[1][0].status is OrderStatus.NEW  # type: ignore[attr-defined]
        for k in (2, 3, 4):
            exc = outcomes[k]
            assert isinstance(exc, EngineHalted) and exc.code == "engine_failed" and exc.index == 2
        assert committer.batches == 2 and venue.seq == 9
        with pytest.raises(JournalError) as later:
            committer.call(Deposit(1, "USDT", Decimal(1), ts=20), timeout=10)
        assert later.value.code == "engine_failed"
        committer.close()
        assert_refused(venue)
    journaled = [*SETUP, Deposit(2, "USDT", Decimal(1), ts=9), *group[:2]]
    with DurableEngine.open(target) as again:
        assert again.seq == 9 and again.state_hash() == fresh_hash(journaled)
        crossed, *_ = again.submit_batch(group[2:])  # without the fault the crossing order trades
        (trade,) = [e for e in crossed if isinstance(e, Trade)]
        assert trade.env.seq == 10 and trade.qty == Decimal("0.01") and trade.price == Decimal(60000)
        assert again.state_hash() == fresh_hash(journaled + group[2:])


def test_engine_and_journal_seqs_stay_equal(sqlite_target: str) -> None:
    from isomargin.journal.crashchild import seeded_stream

    stream = seeded_stream(21, 300)
    with DurableEngine.open(sqlite_target) as venue:
        for i in range(0, len(stream), 17):
            results = venue.submit_batch(stream[i : i + 17])
            seqs = [{e.env.seq for e in events} for events in results]
            assert all(s == {i + k + 1} for k, s in enumerate(seqs) if s), seqs  # one command, one seq
            assert venue.seq == venue.engine.seq == i + len(results)
        assert venue.seq == venue.engine.seq == 300 and venue.engine.stats()["rejected"] > 0
    with DurableEngine.open(sqlite_target) as again:
        assert again.seq == again.engine.seq == 300


def test_a_seq_mismatch_halts_before_applying(sqlite_target: str) -> None:
    """A command applied to the engine behind the journal's back: the next submit refuses, journals nothing."""
    with DurableEngine.open(sqlite_target) as venue:
        venue.submit_batch(SETUP)
        venue.engine.apply(Deposit(1, "USDT", Decimal(3), ts=7))  # not journaled: a bug in a caller
        with pytest.raises(EngineHalted) as exc:
            venue.submit(Deposit(1, "USDT", Decimal(4), ts=8))
        assert exc.value.code == "seq_mismatch" and exc.value.durable == []
        assert "engine is at seq 7 but the journal at 6" in exc.value.message
        with pytest.raises(JournalError) as later:
            venue.submit(Deposit(1, "USDT", Decimal(4), ts=9))
        assert later.value.code == "seq_mismatch"
    with DurableEngine.open(sqlite_target) as again:
        assert again.seq == 6 and again.state_hash() == fresh_hash(SETUP)
