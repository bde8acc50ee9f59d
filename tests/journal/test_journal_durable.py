"""DurableEngine: acknowledgement after the sync, snapshot + tail = full replay, the same hash on SQLite and
PostgreSQL, idempotent retries across restarts (within the key window), group commit from many threads, and
fail-stop: an engine fault mid-group acknowledges exactly the journaled prefix."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isomargin.engine import (
    CreateAccount,
    Deposit,
    Engine,
    ListInstrument,
    OrderSide,
    OrderType,
    PlaceOrder,
    Rejected,
    SetMarkPrice,
    state_hash,
)
from isomargin.engine.events import Event
from isomargin.journal import (
    DurableEngine,
    GroupCommitter,
    JournalCode,
    JournalError,
    Record,
    codec,
    open_journal,
    rebuild,
)
from isomargin.journal.crashchild import seeded_stream

STREAM = seeded_stream(11, 1200)


def dicts(events: list[Event]) -> list[dict[str, object]]:
    """Events as the engine shows them (events compare by what they say, not by identity)."""
    return [e.to_dict() for e in events]


def clean_hash(n: int) -> str:
    engine = Engine()
    for cmd in STREAM[:n]:
        engine.apply(cmd)
    return state_hash(engine)


def run(target: str, cmds: list, batch: int = 16, **options: object) -> str:  # type: ignore[type-arg]
    with DurableEngine.open(target, **options) as venue:
        for i in range(0, len(cmds), batch):
            venue.submit_batch(cmds[i : i + batch])
        return venue.state_hash()


def test_snapshot_plus_tail_equals_full_replay(target: str) -> None:
    h = run(target, STREAM, snapshot_every=250)
    assert h == clean_hash(len(STREAM))
    with open_journal(target) as j:
        assert j.backend.snapshot_seqs()[0] >= 1000
        with_snap = rebuild(j)
        full = rebuild(j, use_snapshots=False, verify_events=True)
        assert with_snap.snapshot_seq is not None and with_snap.replayed < len(STREAM) - 900
        assert full.snapshot_seq is None and full.replayed == len(STREAM) and full.divergent == []
        assert state_hash(with_snap.engine) == state_hash(full.engine) == h
        for upto in (1, 300, 777):
            assert state_hash(rebuild(j, upto=upto).engine) == clean_hash(upto)


def test_sqlite_and_postgresql_give_the_same_hash(sqlite_target: str, pg_url: str) -> None:
    a = run(sqlite_target, STREAM, snapshot_every=400)
    b = run(pg_url, STREAM, batch=7, snapshot_every=300)
    assert a == b == clean_hash(len(STREAM))
    with open_journal(sqlite_target) as x, open_journal(pg_url) as y:
        assert [r.checksum for r in x.records()] == [r.checksum for r in y.records()]


def test_recovery_continues_where_it_stopped(target: str) -> None:
    run(target, STREAM[:500], batch=100, snapshot_every=200)
    with DurableEngine.open(target, snapshot_every=200) as venue:
        assert venue.seq == 500 and venue.recovery.snapshot_seq == 400 and venue.recovery.replayed == 100
        for i in range(500, len(STREAM), 50):
            venue.submit_batch(STREAM[i : i + 50])
        assert venue.state_hash() == clean_hash(len(STREAM))


def test_a_bad_snapshot_is_skipped(sqlite_target: str) -> None:
    import sqlite3

    run(sqlite_target, STREAM[:600], batch=100, snapshot_every=200)
    db = sqlite3.connect(sqlite_target)
    db.execute("UPDATE snapshots SET data = substr(data, 1, 100) WHERE seq = 600")
    db.execute("UPDATE snapshots SET hash = 'x' || substr(hash, 2) WHERE seq = 400")
    db.commit()
    db.close()
    with DurableEngine.open(sqlite_target) as venue:
        assert venue.recovery.snapshot_seq == 200
        assert any("snapshot 600 fails its checksum" in n for n in venue.recovery.notes)
        assert any("snapshot 400 fails its checksum" in n for n in venue.recovery.notes)
        assert venue.state_hash() == clean_hash(600)


def order(coid: str | None, qty: str = "0.01", ts: int = 0) -> PlaceOrder:
    return PlaceOrder(
        1, "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, Decimal(qty), Decimal("59000"), client_order_id=coid, ts=ts
    )


SETUP = [
    ListInstrument("BTCUSDT", venue="binance", ts=1),
    CreateAccount(1, ts=2),
    Deposit(1, "USDT", Decimal(100000), ts=3),
    SetMarkPrice("BTCUSDT", Decimal(60000), ts=4),
]


def test_idempotent_retries_across_restarts(target: str) -> None:
    with DurableEngine.open(target) as venue:
        venue.submit_batch(SETUP)
        first = venue.submit(order("c1", ts=10))
        t1 = venue.submit(Deposit(1, "USDT", Decimal(5), ts=11), key="transfer-1")
        assert dicts(venue.submit(order("c1", ts=12))) == dicts(first)  # same request again: same answer, nothing done
        assert [e.env.seq for e in first] == [5] * len(first) and venue.seq == 6
        h = venue.state_hash()
    with DurableEngine.open(target) as venue:
        assert dicts(venue.submit(order("c1", ts=20))) == dicts(first)
        assert dicts(venue.submit(Deposit(1, "USDT", Decimal(5), ts=21), key="transfer-1")) == dicts(t1)
        assert venue.seq == 6 and venue.state_hash() == h
        clash = venue.submit(order("c1", qty="0.02", ts=22))
        assert isinstance(clash[0], Rejected) and clash[0].code == "idempotency_key_reused"
        assert venue.seq == 6 and venue.state_hash() == h
        # a key repeated inside one group: the second gets the first's result
        a, b = venue.submit_batch([order("c2", ts=30), order("c2", ts=31)])
        assert dicts(a) == dicts(b) and venue.seq == 7


def test_unencodable_command_is_rejected_at_the_edge(sqlite_target: str) -> None:
    with DurableEngine.open(sqlite_target) as venue:
        venue.submit_batch(SETUP)
        (events,) = venue.submit_batch([Deposit(1, "USDT", 1.5, ts=5)])  # type: ignore[arg-type]
        assert isinstance(events[0], Rejected) and events[0].code == "codec_not_exact"
        assert venue.seq == 4


def test_rejected_commands_are_journaled_too(sqlite_target: str) -> None:
    with DurableEngine.open(sqlite_target) as venue:
        events = venue.submit(Deposit(9, "USDT", Decimal(1), ts=1))
        assert isinstance(events[0], Rejected) and venue.seq == 1
    with open_journal(sqlite_target) as j:
        assert rebuild(j).rejected == 1


def test_clock_stamps_commands_at_the_edge(sqlite_target: str) -> None:
    ticks = iter(range(1000, 2000))
    with DurableEngine.open(sqlite_target, clock=lambda: next(ticks)) as venue:
        venue.submit_batch(SETUP)
    with open_journal(sqlite_target) as j:
        assert [r.ts for r in j.records()] == [1000, 1001, 1002, 1003]


def test_a_failed_append_acknowledges_nothing_and_stops(sqlite_target: str) -> None:
    venue = DurableEngine.open(sqlite_target)
    venue.submit_batch(SETUP)

    def broken(records: list[Record]) -> None:
        raise OSError("disk full")

    venue.journal.append = broken  # type: ignore[method-assign]
    with pytest.raises(JournalError) as exc:
        venue.submit(Deposit(1, "USDT", Decimal(1), ts=5))
    assert exc.value.code == "journal_failed" and "disk full" in exc.value.message
    with pytest.raises(JournalError):
        venue.submit(Deposit(1, "USDT", Decimal(1), ts=6))
    venue.close()
    with DurableEngine.open(sqlite_target) as again:
        assert again.seq == 4 and again.state_hash() == state_hash(_engine(SETUP))


def _engine(cmds: list) -> Engine:  # type: ignore[type-arg]
    e = Engine()
    for c in cmds:
        e.apply(c)
    return e


def test_group_commit_from_many_threads(target: str) -> None:
    with DurableEngine.open(target) as venue:
        venue.submit_batch(SETUP)
        committer = GroupCommitter(venue)
        results: dict[int, list[Event]] = {}

        def client(k: int) -> None:
            for j in range(25):
                n = k * 100 + j
                results[n] = committer.call(Deposit(1, "USDT", Decimal(n + 1), ts=n), key=f"dep-{n}")

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        committer.close()
        assert len(results) == 200 and venue.seq == 204
        assert committer.batches < 200  # concurrent submitters shared syncs
        h = venue.state_hash()
    with DurableEngine.open(target) as venue:
        assert venue.state_hash() == h
        assert dicts(venue.submit(Deposit(1, "USDT", Decimal(101), ts=0), key="dep-100")) == dicts(results[100])


def test_async_front(sqlite_target: str) -> None:
    import asyncio

    with DurableEngine.open(sqlite_target) as venue:
        committer = GroupCommitter(venue)

        async def main() -> list[list[Event]]:
            return list(await asyncio.gather(*(committer.submit_async(c) for c in SETUP)))

        out = asyncio.run(main())
        committer.close()
        assert [type(e[0]).__name__ for e in out] == [
            "InstrumentListed",
            "AccountCreated",
            "Posted",
            "MarkPriceUpdated",
        ]


def test_read_only_journal_cannot_drive_an_engine(tmp_path: Path) -> None:
    run(str(tmp_path), SETUP)
    with open_journal(tmp_path, read_only=True) as j, pytest.raises(JournalError) as exc:
        DurableEngine(j)
    assert exc.value.code == "journal_read_only"


def test_a_failed_periodic_snapshot_does_not_fail_the_durable_group(sqlite_target: str) -> None:
    with DurableEngine.open(sqlite_target, snapshot_every=2) as venue:

        def broken(seq: int, engine: Engine) -> None:
            raise JournalError(JournalCode.JOURNAL_DB_ERROR, "disk full")

        real = venue.journal.write_snapshot
        venue.journal.write_snapshot = broken  # type: ignore[assignment]
        results = venue.submit_batch(SETUP)  # durable: its results are returned even though the snapshot failed
        assert len(results) == 4 and venue.seq == 4
        assert venue.snapshot_error is not None and "disk full" in venue.snapshot_error
        venue.journal.write_snapshot = real  # type: ignore[method-assign]
        venue.submit(Deposit(1, "USDT", Decimal(1), ts=5))  # retried after the next group
        assert venue.snapshot_error is None and venue.journal.backend.snapshot_seqs() == [5]


def test_keys_must_match_the_commands(sqlite_target: str) -> None:
    with DurableEngine.open(sqlite_target) as venue:
        with pytest.raises(ValueError, match="4 commands but 1 keys"):
            venue.submit_batch(SETUP, ["k"])
        assert venue.seq == 0 and venue.failed is None
        venue.submit_batch(SETUP)
        assert venue.seq == 4


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70) | st.text(st.characters(codec=None)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(st.characters(codec=None)), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400)
@given(JSON)
def test_canonical_bytes_are_the_stdlib_definition(data: object) -> None:
    """`canonical` takes orjson's bytes only where they are the stdlib encoder's (sorted keys, fixed separators,
    ASCII with \\uXXXX escapes): control characters, DEL, non-ASCII, lone surrogates and integers past 64 bits
    included."""
    assert codec.canonical(data) == codec.canonical_stdlib(data)


def test_the_fast_path_is_taken_for_journal_data() -> None:
    assert codec._fast is not None  # orjson is a dependency
    data = codec.encode_command(STREAM[0])
    assert codec._fast(data) == codec.canonical_stdlib(data) == codec.canonical(data)
