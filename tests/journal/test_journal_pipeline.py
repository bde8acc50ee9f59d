"""The pipelined group commit under faults: while one group is appended and synced the next is applied, yet
nothing is acknowledged before its own record is synced, acknowledgements come in seq order, a failed append
fails that group and every later one (and stops the instance), an engine fault acknowledges exactly the prefix
before it, and reopening gives exactly the acknowledged commands with the state a clean replay gives."""

from __future__ import annotations

import functools
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isomargin.engine import (
    Command,
    CreateAccount,
    Deposit,
    Engine,
    ListInstrument,
    OrderSide,
    OrderType,
    PlaceOrder,
    SetMarkPrice,
    state_hash,
)
from isomargin.engine.events import Event
from isomargin.journal import DurableEngine, EngineHalted, GroupCommitter, JournalError, open_journal
from isomargin.journal.backend import Backend
from isomargin.journal.codec import command_bytes
from isomargin.journal.record import Record

ACCOUNTS = 6
SETUP: list[Command] = [
    ListInstrument("BTCUSDT", venue="binance", ts=1),
    *(CreateAccount(a, ts=1 + a) for a in range(1, ACCOUNTS + 1)),
    *(Deposit(a, "USDT", Decimal(1_000_000), ts=10 + a) for a in range(1, ACCOUNTS + 1)),
    SetMarkPrice("BTCUSDT", Decimal(60000), ts=20),
]
POISON = Decimal("0.0777")  # a deposit of exactly this amount faults after the wallet was really credited


class FaultyAppend(Backend):
    """Mixed in front of the journal's real backend class (the instance's class is swapped, nothing else changes):
    append call number `fail_at` and every later one raise before anything is written; call `gate_at` first
    waits for `gate` (so the test can apply more groups while that append is 'syncing'). `synced` is the last
    seq the real backend durably appended, read by the acknowledgement checks."""

    fail_at: int | None
    gate_at: int | None
    gate: threading.Event
    parked: threading.Event
    calls: int
    synced: int
    appended: list[list[int]]
    real_append: Callable[[Sequence[Record]], None]  # the real class's append, bound to this instance

    def append(self, records: Sequence[Record]) -> None:
        self.calls += 1
        if self.calls == self.gate_at:
            self.parked.set()
            assert self.gate.wait(20)
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise OSError(f"injected: append {self.calls} failed")
        self.real_append(records)
        self.appended.append([r.seq for r in records])
        self.synced = records[-1].seq


def faulty_backend(venue: DurableEngine, fail_at: int | None = None, gate_at: int | None = None) -> FaultyAppend:
    backend = venue.journal.backend
    cls = type(backend)
    backend.__class__ = type(f"Faulty{cls.__name__}", (FaultyAppend, cls), {})
    assert isinstance(backend, FaultyAppend)
    backend.real_append = functools.partial(cls.append, backend)
    backend.fail_at, backend.gate_at, backend.calls, backend.appended = fail_at, gate_at, 0, []
    backend.gate, backend.parked, backend.synced = threading.Event(), threading.Event(), venue.seq
    return backend


def poison_deposits(engine: Engine) -> None:
    """Deposits of `POISON` fault inside their commit, after the real commit changed the wallet: the engine's
    own fail-stop catches it (marks itself failed, raises EngineFailed)."""
    check, commit = engine._handlers[Deposit]

    def faulty_commit(plan: Any) -> None:
        commit(plan)
        cmd = engine.ctx.env.command
        if isinstance(cmd, Deposit) and cmd.amount == POISON:
            raise RuntimeError("injected fault after the deposit was credited")

    engine._handlers[Deposit] = (check, faulty_commit)


def replay_hash(cmds: Sequence[Command]) -> str:
    engine = Engine()
    for c in cmds:
        engine.apply(c)
    return state_hash(engine)


def client_commands(client: int, n: int, poison_at: int | None) -> list[Command]:
    """Client `client` trades between two accounts (crossing limit orders: fills) and deposits; every command is
    unique (ts and client order id), so a journaled payload names exactly one submitted command."""
    out: list[Command] = []
    buyer, seller = 1 + client % ACCOUNTS, 1 + (client + 1) % ACCOUNTS
    for j in range(n):
        ts = 1000 + client * 1000 + j
        if j == poison_at:
            out.append(Deposit(buyer, "USDT", POISON, ts=ts))
        elif j % 3 == 2:
            out.append(Deposit(buyer, "USDT", Decimal(j + 1), ts=ts))
        else:
            account, side = (buyer, OrderSide.BUY) if j % 3 == 0 else (seller, OrderSide.SELL)
            out.append(PlaceOrder(account, "BTCUSDT", side, OrderType.LIMIT, Decimal("0.001"), Decimal(60000),
                                  client_order_id=f"c{client}-{j}", ts=ts))  # fmt: skip
    return out


class Run:
    """Concurrent clients through a GroupCommitter, each with up to `window` futures outstanding; every answer is
    recorded in the order it was given, with a check that it came only after its record was synced."""

    def __init__(self, venue: DurableEngine, backend: FaultyAppend, max_batch: int) -> None:
        self.venue, self.backend = venue, backend
        self.committer = GroupCommitter(venue, max_batch=max_batch)
        self.acked: dict[Command, list[Event]] = {}
        self.failed: dict[Command, BaseException] = {}
        self.order: list[int] = []  # seqs of the acknowledgements, in the order they were given
        self.early: list[str] = []  # acknowledgements given before their record was synced
        self._lock = threading.Lock()

    def _answered(self, cmd: Command, fut: Future[list[Event]]) -> None:
        exc = fut.exception()
        with self._lock:
            if exc is not None:
                self.failed[cmd] = exc
                return
            events = fut.result()
            seq = events[0].env.seq
            if seq > self.backend.synced:
                self.early.append(f"seq {seq} answered, synced only to {self.backend.synced}")
            self.acked[cmd] = events
            self.order.append(seq)

    def client(self, cmds: list[Command], window: int) -> None:
        outstanding: deque[Future[list[Event]]] = deque()
        for cmd in cmds:
            try:
                fut = self.committer.submit(cmd)
            except JournalError as exc:  # (not expected: the committer stays open)
                self.failed[cmd] = exc
                continue
            fut.add_done_callback(lambda f, c=cmd: self._answered(c, f))  # type: ignore[misc]
            outstanding.append(fut)
            if len(outstanding) >= window:
                outstanding.popleft().exception(30)
        for fut in outstanding:
            fut.exception(30)

    def go(self, per_client: list[list[Command]], window: int) -> None:
        threads = [threading.Thread(target=self.client, args=(cmds, window)) for cmds in per_client]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.committer.close()


def check_reopened(target: str, run: Run) -> None:
    """Every acknowledged command is journaled at the seq it was answered with; nothing answered with an error
    is; the reopened state is a clean replay of the journal and of the acknowledged commands in seq order."""
    with open_journal(target) as j:
        records = list(j.records())
    by_seq = {r.seq: r.payload for r in records}
    acked_in_seq_order = sorted(run.acked, key=lambda c: run.acked[c][0].env.seq)
    for cmd in acked_in_seq_order:
        assert by_seq[run.acked[cmd][0].env.seq] == command_bytes(cmd)
    journaled = [r.payload for r in records[len(SETUP) :]]
    assert sorted(journaled) == sorted(command_bytes(c) for c in run.acked)
    assert not {command_bytes(c) for c in run.failed} & set(journaled)
    with DurableEngine.open(target) as again:
        assert again.seq == len(records) == len(SETUP) + len(run.acked)
        assert again.state_hash() == replay_hash([*SETUP, *acked_in_seq_order])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["engine", "append", "none"]),
    clients=st.integers(2, 8),
    per_client=st.integers(3, 25),
    window=st.integers(1, 4),
    max_batch=st.sampled_from([1, 3, 64]),
    where=st.floats(0, 1),
)
def test_concurrent_clients_with_a_fault_then_reopen(
    kind: str, clients: int, per_client: int, window: int, max_batch: int, where: float
) -> None:
    """`where` places the fault: the poisoned deposit's client and index, or which append call fails."""
    with tempfile.TemporaryDirectory(prefix="isomargin-pipeline-") as tmp:
        target = str(Path(tmp) / "journal.sqlite3")
        poison_client, poison_at = int(where * (clients - 1)), int(where * (per_client - 1))
        per = [
            client_commands(c, per_client, poison_at if kind == "engine" and c == poison_client else None)
            for c in range(clients)
        ]
        with DurableEngine.open(target) as venue:
            venue.submit_batch(SETUP)
            poison_deposits(venue.engine)
            total = clients * per_client
            backend = faulty_backend(venue, fail_at=2 + int(where * total / 4) if kind == "append" else None)
            run = Run(venue, backend, max_batch)
            run.go(per, window)
            assert len(run.acked) + len(run.failed) == total  # every submitter got an answer
            assert not run.early
            assert run.order == sorted(run.order)
            assert all(isinstance(e, JournalError) for e in run.failed.values())
            if kind == "engine":
                poisoned = per[poison_client][poison_at]
                assert isinstance(run.failed[poisoned], EngineHalted)
            if run.failed:
                assert venue.failed is not None
                with pytest.raises(JournalError):
                    venue.submit(Deposit(1, "USDT", Decimal(1), ts=99))
            else:
                assert kind != "engine" and venue.failed is None
        check_reopened(target, run)


# -- the pipeline, step by step -------------------------------------------------------------------------------
@pytest.fixture
def venue(sqlite_target: str) -> Iterator[DurableEngine]:
    with DurableEngine.open(sqlite_target) as v:
        v.submit_batch(SETUP)
        yield v


def deposits(first_ts: int, n: int, account: int = 1) -> list[Command]:
    return [Deposit(account, "USDT", Decimal(first_ts + k), ts=first_ts + k) for k in range(n)]


def wait_all(*futures: Future[Any]) -> None:
    for f in futures:
        f.exception(20)


def test_the_next_group_is_applied_while_the_previous_one_syncs(venue: DurableEngine, sqlite_target: str) -> None:
    n = len(SETUP)
    backend = faulty_backend(venue, gate_at=1)
    g1 = venue.begin(deposits(100, 3))
    assert backend.parked.wait(10)  # the writer is inside group 1's append
    g2 = venue.begin(deposits(200, 2))  # applied meanwhile
    assert venue.seq == n + 5 and venue.durable_seq == n and venue.in_flight == 2
    venue.settle()
    assert not g1.done() and not g2.done()  # nothing answered before its sync
    backend.gate.set()
    wait_all(venue._inflight[-1].synced)
    venue.settle()
    assert [len(x) for x in g1.result(5)] == [1, 1, 1] and [e[0].env.seq for e in g2.result(5)] == [n + 4, n + 5]
    assert backend.appended == [[n + 1, n + 2, n + 3], [n + 4, n + 5]] and venue.durable_seq == n + 5


def test_a_failed_sync_fails_its_group_and_every_later_one(venue: DurableEngine, sqlite_target: str) -> None:
    n = len(SETUP)
    backend = faulty_backend(venue, fail_at=2, gate_at=2)
    g1 = venue.begin(deposits(100, 2))
    g2 = venue.begin(deposits(200, 2))
    assert backend.parked.wait(10)  # group 2's append is under way (and will fail)
    g3 = venue.begin(deposits(300, 2))  # in flight behind it
    backend.gate.set()
    venue.close()  # waits for the writer, answers what is in flight
    assert len(g1.result(5)) == 2
    for g in (g2, g3):
        exc = g.exception(5)
        assert isinstance(exc, JournalError) and exc.code == "journal_failed"
        assert "nothing in this group was acknowledged" in exc.message
    assert "injected: append 2 failed" in str(g2.exception()) and "an earlier" in str(g3.exception())
    assert backend.appended == [[n + 1, n + 2]]  # group 3 never reached the store: it would follow a gap
    assert venue.failed is not None
    with DurableEngine.open(sqlite_target) as again:
        assert again.seq == n + 2 and again.state_hash() == replay_hash([*SETUP, *deposits(100, 2)])


def test_an_engine_fault_behind_a_syncing_group(venue: DurableEngine, sqlite_target: str) -> None:
    n = len(SETUP)
    backend = faulty_backend(venue, gate_at=1)
    poison_deposits(venue.engine)
    g1 = venue.begin(deposits(100, 2))
    assert backend.parked.wait(10)
    bad = [*deposits(200, 2), Deposit(1, "USDT", POISON, ts=300), *deposits(400, 2)]
    g2 = venue.begin(bad)
    with pytest.raises(JournalError) as refused:  # the engine failed: nothing more is applied
        venue.begin(deposits(500, 1))
    assert refused.value.code == "engine_failed"
    assert not g1.done() and not g2.done()  # neither group is answered before group 1 is synced
    backend.gate.set()
    venue.close()
    assert len(g1.result(5)) == 2
    halted = g2.exception(5)
    assert isinstance(halted, EngineHalted) and halted.index == 2 and "injected fault" in halted.reason
    assert [e[0].env.seq for e in halted.durable] == [n + 3, n + 4]
    assert backend.appended == [[n + 1, n + 2], [n + 3, n + 4]]
    with DurableEngine.open(sqlite_target) as again:
        assert again.seq == n + 4
        assert again.state_hash() == replay_hash([*SETUP, *deposits(100, 2), *bad[:2]])


def test_a_replay_of_a_record_still_syncing_waits_for_it_and_fails_with_it(venue: DurableEngine) -> None:
    """The retry's answer is read from memory (the record is not in the store yet) and is answered only after
    the original's group; when that group's sync fails, so does the retry."""
    backend = faulty_backend(venue, fail_at=1, gate_at=1)
    order = PlaceOrder(1, "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, Decimal("0.001"), Decimal(50000),
                       client_order_id="once", ts=100)  # fmt: skip
    g1 = venue.begin([order])
    assert backend.parked.wait(10)
    g2 = venue.begin([order])  # same client order id: an idempotent replay, from memory
    assert venue.seq == len(SETUP) + 1  # the retry was not applied again
    backend.gate.set()
    venue.close()
    assert isinstance(g1.exception(5), JournalError) and isinstance(g2.exception(5), JournalError)


def test_a_replay_of_a_record_still_syncing_gets_the_original_events(venue: DurableEngine) -> None:
    backend = faulty_backend(venue, gate_at=1)
    order = PlaceOrder(1, "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, Decimal("0.001"), Decimal(50000),
                       client_order_id="once", ts=100)  # fmt: skip
    g1 = venue.begin([order])
    assert backend.parked.wait(10)
    g2 = venue.begin([order])
    backend.gate.set()
    wait_all(venue._inflight[-1].synced)
    venue.settle()
    (original,), (replayed,) = g1.result(5), g2.result(5)
    assert [e.to_dict() for e in replayed] == [e.to_dict() for e in original]
    assert original[0].env.seq == len(SETUP) + 1 and backend.appended == [[len(SETUP) + 1]]


def test_submit_batch_from_threads_beside_a_committer(venue: DurableEngine, sqlite_target: str) -> None:
    """The synchronous contract holds while a committer thread pipelines other groups into the same journal."""
    committer = GroupCommitter(venue, max_batch=4)
    futures = [committer.submit(c) for c in deposits(1000, 40)]
    direct: list[list[list[Event]]] = []

    def sync_client(k: int) -> None:
        direct.append(venue.submit_batch(deposits(2000 + 100 * k, 5, account=2)))

    threads = [threading.Thread(target=sync_client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wait_all(*futures)
    committer.close()
    seqs = sorted(e[0].env.seq for f in futures for e in [f.result()]) + sorted(
        g[0].env.seq for batch in direct for g in batch
    )
    assert sorted(seqs) == list(range(len(SETUP) + 1, len(SETUP) + 61))
    h = venue.state_hash()
    venue.close()
    with DurableEngine.open(sqlite_target) as again:
        assert again.seq == len(SETUP) + 60 and again.state_hash() == h


def test_a_hook_may_read_the_state_from_the_writer_thread(venue: DurableEngine) -> None:
    """`on_durable` runs on whichever thread answers the group, the writer's included; calling back into the
    journal from there (`state_hash` waits for the writer) must not wait for itself."""
    hashes: list[tuple[str, str]] = []
    venue.on_durable = lambda cmds, results, fresh: hashes.append((threading.current_thread().name, venue.state_hash()))
    committer = GroupCommitter(venue)
    for c in deposits(100, 20):
        committer.call(c, timeout=20)
    committer.close()
    assert len(hashes) == committer.batches and hashes[-1][1] == venue.state_hash()
    assert "isomargin-journal-writer" in {name for name, _ in hashes}  # (the committer finds the lock free)


def test_a_hook_may_not_submit(venue: DurableEngine, sqlite_target: str) -> None:
    """A hook runs while groups are answered, possibly between two commands of the group being applied: a group
    it submitted would take seqs inside that one. It is refused; the group the hook ran for is durable."""

    def submitting_hook(cmds: Any, results: Any, fresh: Any) -> None:
        venue.submit(Deposit(2, "USDT", Decimal(1), ts=50))

    venue.on_durable = submitting_hook
    with pytest.raises(RuntimeError, match="must not submit"):
        venue.submit_batch(deposits(100, 2))
    venue.on_durable = None
    assert venue.failed is None and venue.seq == venue.durable_seq == len(SETUP) + 2
    venue.close()
    with DurableEngine.open(sqlite_target) as again:
        assert again.state_hash() == replay_hash([*SETUP, *deposits(100, 2)])


def test_a_group_starts_beside_one_in_flight_only_once_pipeline_from_wait(tmp_path: Path) -> None:
    """With a group in flight, a few waiting submissions wait for it (one bigger group later, one sync fewer);
    `pipeline_from` of them start the next group at once."""
    with DurableEngine.open(tmp_path / "j.sqlite3") as venue:
        venue.submit_batch([CreateAccount(1, ts=1)])
        gate = threading.Event()
        blocker = venue._writer.run(lambda: gate.wait(10))  # the writer is busy: no append finishes meanwhile
        committer = GroupCommitter(venue, pipeline_from=3)
        deposit = functools.partial(Deposit, 1, "USDT")
        first = committer.submit(deposit(Decimal(1), ts=2))
        until(lambda: venue.in_flight == 1)
        waiting = [committer.submit(deposit(Decimal(2 + k), ts=3 + k)) for k in range(2)]
        assert not until(lambda: venue.in_flight == 2, seconds=0.3)  # two waiting: below pipeline_from
        waiting.append(committer.submit(deposit(Decimal(4), ts=5)))
        assert until(lambda: venue.in_flight == 2)  # the third starts the second group beside the first
        gate.set()
        assert blocker.result(10) is True
        assert [len(f.result(10)) for f in [first, *waiting]] == [1, 1, 1, 1]
        committer.close()
        assert committer.batches == 2 and venue.seq == 5


def until(cond: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll `cond` until it holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.005)
    return cond()
