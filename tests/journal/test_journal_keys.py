"""Idempotency keys are kept for a retention window: the last `key_window` commands, younger than `key_ttl_ms` by
command ts. Inside it a retry gets the stored answer; past either bound the key is new again. Recovery rebuilds
only the window. `seen` and the `on_durable` hook (with `fresh`) are what the server builds on."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from isomargin.engine import Command, CreateAccount, Deposit, ListInstrument, SetMarkPrice
from isomargin.engine.events import Event, Rejected
from isomargin.engine.queries import wallet
from isomargin.journal import KEY_TTL_MS, KEY_WINDOW, DurableEngine, KeyIndex

SETUP = [
    ListInstrument("BTCUSDT", venue="binance", ts=1),
    CreateAccount(1, ts=2),
    Deposit(1, "USDT", Decimal(1000), ts=3),
    SetMarkPrice("BTCUSDT", Decimal(60000), ts=4),
]


def mark(ts: int) -> SetMarkPrice:
    return SetMarkPrice("BTCUSDT", Decimal(60000 + ts), ts=ts)


def test_the_defaults() -> None:
    assert KEY_WINDOW == 1_000_000 and KEY_TTL_MS == 24 * 60 * 60 * 1000
    index = KeyIndex()
    assert index.window == KEY_WINDOW and index.ttl_ms == KEY_TTL_MS


def test_key_window_by_commands(target: str) -> None:
    with DurableEngine.open(target, key_window=5, key_ttl_ms=None) as venue:
        venue.submit_batch(SETUP)
        venue.submit(Deposit(1, "USDT", Decimal(10), ts=5), key="dep")  # seq 5
        venue.submit_batch([mark(6), mark(7), mark(8), mark(9)])  # seqs 6..9: the last 5 commands are 5..9
        assert venue.seen("dep")
        again = venue.submit(Deposit(1, "USDT", Decimal(10), ts=10), key="dep")
        assert [e.env.seq for e in again] == [5] and venue.seq == 9  # the stored answer; nothing applied
        venue.submit(mark(11))  # seq 10: seq 5 leaves the window
        assert not venue.seen("dep")
        anew = venue.submit(Deposit(1, "USDT", Decimal(10), ts=12), key="dep")
        assert [e.env.seq for e in anew] == [11] and wallet(venue.engine, 1) == Decimal(1020)
        assert venue.seen("dep")
    with DurableEngine.open(target, key_window=5, key_ttl_ms=None) as venue:
        assert venue.seen("dep")  # seq 11 is inside the window of seqs 7..11
        venue.submit_batch([mark(13), mark(14), mark(15), mark(16)])  # seqs 12..15
        assert venue.seen("dep")
        venue.submit(mark(17))  # seq 16
        assert not venue.seen("dep")
    with DurableEngine.open(target, key_window=5, key_ttl_ms=None) as venue:
        assert not venue.seen("dep")  # recovery rebuilt only the window (seqs 12..16)
        assert len(venue.recovery.scan.keys or ()) == 0
    with DurableEngine.open(target, key_window=None, key_ttl_ms=None) as venue:
        assert venue.seen("dep")  # with no bound at all, every key is kept
        assert [e.env.seq for e in venue.submit(Deposit(1, "USDT", Decimal(10), ts=18), key="dep")] == [11]


def test_key_ttl_by_command_ts(target: str) -> None:
    with DurableEngine.open(target, key_window=None, key_ttl_ms=1000) as venue:
        venue.submit_batch(SETUP)
        venue.submit(Deposit(1, "USDT", Decimal(10), ts=1000), key="dep")  # seq 5
        replay = venue.submit(Deposit(1, "USDT", Decimal(10), ts=1999), key="dep")  # 999 ms old: kept
        assert [e.env.seq for e in replay] == [5] and venue.seq == 5
        assert venue.seen("dep")
        anew = venue.submit(Deposit(1, "USDT", Decimal(10), ts=2000), key="dep")  # 1000 ms old: expired
        assert [e.env.seq for e in anew] == [6] and wallet(venue.engine, 1) == Decimal(1020)
        venue.submit(mark(5000))  # seq 7: now = 5000 ms
        stale = venue.submit(Deposit(1, "USDT", Decimal(10), ts=2500), key="dep")  # a ts stepping back counts
        assert [e.env.seq for e in stale] == [8]  # from the newest command ts, 5000: the key of seq 6 expired
    with DurableEngine.open(target, key_window=None, key_ttl_ms=1000) as venue:
        assert not venue.seen("dep")  # seq 8 (ts 2500) is older than 1000 ms at ts 5000
        venue.submit(Deposit(1, "USDT", Decimal(1), ts=5100), key="late")
    with DurableEngine.open(target, key_window=None, key_ttl_ms=1000) as venue:
        assert venue.seen("late") and not venue.seen("dep")
        assert len(venue.recovery.scan.keys or ()) == 1  # only the window's keys were rebuilt


def test_key_index_is_bounded_by_the_window() -> None:
    index = KeyIndex(window=3, ttl_ms=None)
    for seq in range(1, 101):
        index.note(seq, seq, f"k{seq}")
    assert len(index) == 3 and index.get("k100") == 100 and index.get("k98") == 98 and index.get("k97") is None
    index.note(101, 101, "k99")  # a key used again: the new record answers for it
    assert index.get("k99") == 101 and index.get("k98") is None and len(index) == 2  # k99 (now 101), k100


def test_on_durable_reports_fresh_commands(sqlite_target: str) -> None:
    seen: list[tuple[list[Command], list[list[Event]], list[bool]]] = []

    def hook(cmds: Sequence[Command], results: list[list[Event]], fresh: list[bool]) -> None:
        seen.append((list(cmds), results, fresh))
        assert venue.seen("dep")  # called inside the lock, after the sync: the key is durable and visible

    ticks = iter(range(100, 200))
    with DurableEngine.open(sqlite_target, clock=lambda: next(ticks), on_durable=hook) as venue:
        venue.submit_batch(SETUP, ["dep", None, None, None])
        results = venue.submit_batch(
            [
                Deposit(1, "USDT", Decimal(5), ts=0),
                Deposit(1, "USDT", Decimal(5), ts=0),  # "dep" again, on another request
                Deposit(1, "USDT", 1.5, ts=0),  # type: ignore[arg-type]  # not exact: rejected at the edge
                ListInstrument("BTCUSDT", venue="binance", ts=0),  # the same request as "dep": replayed
            ],
            [None, "dep", None, "dep"],
        )
    assert len(seen) == 2 and seen[0][2] == [True, True, True, True]
    cmds, hooked, fresh = seen[1]
    assert hooked is results and fresh == [True, False, False, False]
    assert [c.ts for c in cmds] == [104, 105, 106, 107]  # as applied: stamped by the clock
    assert isinstance(results[1][0], Rejected) and results[1][0].code == "idempotency_key_reused"
    assert isinstance(results[2][0], Rejected) and results[2][0].code == "codec_not_exact"
    assert results[1][0].env.seq == results[2][0].env.seq == 0  # edge rejections are never journaled
    assert results[3][0].env.seq == 1 and results[3][0].env.ts == 100  # the stored answer, with its envelope
