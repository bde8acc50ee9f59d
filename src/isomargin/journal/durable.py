"""DurableEngine: the engine behind a journal. Nothing is acknowledged before its record is synced.

`submit_batch` assigns seqs, applies the commands, appends them (with their events) as one group with one
sync, and only then returns the events. If the append fails the in-memory state is ahead of the journal,
so the instance refuses further work; reopening recovers from the journal. `GroupCommitter` is the
threaded front: concurrent submitters are batched into whatever has queued since the last sync.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from isomargin.engine import Command, Engine, Event, PlaceOrder, Rejected
from isomargin.engine.snapshot import state_hash
from isomargin.journal.codec import canonical, decode_events, encode_command, encode_events
from isomargin.journal.errors import CodecError, JournalError
from isomargin.journal.journal import Journal, open_journal
from isomargin.journal.record import KIND_COMMAND, Record
from isomargin.journal.replay import Rebuild, rebuild


def derived_key(cmd: Command) -> str | None:
    """The idempotency key a command carries by itself: an order's client order id, per account."""
    if isinstance(cmd, PlaceOrder) and cmd.client_order_id is not None:
        return f"order:{cmd.account}:{cmd.client_order_id}"
    return None


def _rejected(cmd: Command, code: str, message: str) -> list[Event]:
    return [
        Rejected(
            type(cmd).__name__, code, message, getattr(cmd, "account", None), getattr(cmd, "client_order_id", None)
        )
    ]


def _without_ts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "ts"}


class DurableEngine:
    """An `Engine` whose every command is journaled and synced before its result is returned."""

    def __init__(
        self,
        journal: Journal,
        *,
        snapshot_every: int = 0,
        store_events: bool = True,
        verify_events: bool = False,
        clock: Callable[[], int] | None = None,
        dedupe_client_order_ids: bool = True,
    ) -> None:
        if journal.read_only:
            raise JournalError("journal_read_only", f"{journal.location} was opened read-only")
        self.journal = journal
        self.snapshot_every = snapshot_every
        self.store_events = store_events
        self.clock = clock
        self.dedupe_client_order_ids = dedupe_client_order_ids
        self.recovery: Rebuild = rebuild(journal, verify_events=verify_events)
        if self.recovery.divergent:
            raise JournalError(
                "replay_divergence",
                f"{journal.location}: replaying record {self.recovery.divergent[0]} produced different events than "
                "were journaled (engine changed?); refusing to start",
            )
        self.engine: Engine = self.recovery.engine
        self.seq = self.recovery.last_seq
        self._keys = dict(self.recovery.scan.keys)
        self._pending: dict[int, Record] = {}  # keyed records of the batch being built, not yet durable
        self._last_snapshot = self.recovery.snapshot_seq or 0
        self._broken: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, target: str | Path, **options: Any) -> DurableEngine:
        journal = open_journal(target)
        try:
            return cls(journal, **options)
        except BaseException:
            journal.close()
            raise

    # -- submitting ------------------------------------------------------------------------------------
    def submit(self, cmd: Command, key: str | None = None) -> list[Event]:
        return self.submit_batch([cmd], [key])[0]

    def submit_batch(self, cmds: Sequence[Command], keys: Sequence[str | None] | None = None) -> list[list[Event]]:
        """Apply and journal a group of commands with one sync; returns each command's events once durable.

        A command whose key (explicit, or its client order id) was journaled before gets the stored events
        of the first one and is not applied again; the same key on a different request is rejected."""
        with self._lock:
            if self._broken is not None:
                raise JournalError("journal_failed", f"{self._broken}; reopen the journal to recover")
            results: list[list[Event]] = []
            records: list[Record] = []
            for i, cmd in enumerate(cmds):
                if self.clock is not None:
                    cmd = dataclasses.replace(cmd, ts=self.clock())
                key = keys[i] if keys is not None else None
                if key is None and self.dedupe_client_order_ids:
                    key = derived_key(cmd)
                try:
                    data = encode_command(cmd)
                except CodecError as exc:
                    results.append(_rejected(cmd, exc.code, exc.message))
                    continue
                if key is not None and key in self._keys:
                    results.append(self._replayed(cmd, key, data))
                    continue
                seq = self.seq + 1
                events = self.engine.apply(cmd)
                stored = encode_events(events) if self.store_events or key is not None else None
                rec = Record(seq, cmd.ts, KIND_COMMAND, canonical(data), key, stored).sealed()
                records.append(rec)
                self.seq = seq
                if key is not None:
                    self._keys[key] = seq
                    self._pending[seq] = rec
                results.append(events)
            try:
                if records:
                    self.journal.append(records)
            except BaseException as exc:
                self._broken = f"journal append of seqs {records[0].seq}..{records[-1].seq} failed ({exc})"
                raise JournalError(
                    "journal_failed", f"{self._broken}; nothing in this group was acknowledged"
                ) from None
            finally:
                self._pending.clear()
            if self.snapshot_every and self.seq - self._last_snapshot >= self.snapshot_every:
                self._snapshot()
            return results

    def _replayed(self, cmd: Command, key: str, data: dict[str, Any]) -> list[Event]:
        seq = self._keys[key]
        rec = self._pending.get(seq) or self.journal.get(seq)
        if rec is None or not rec.valid or rec.events is None:
            raise JournalError("journal_corrupt", f"record {seq} for idempotency key {key!r} is missing or damaged")
        if _without_ts(json.loads(rec.payload)) != _without_ts(data):
            return _rejected(cmd, "idempotency_key_reused", f"key {key!r} was used by record {seq} for another request")
        return decode_events(rec.events)

    # -- snapshots and state ---------------------------------------------------------------------------
    def _snapshot(self) -> None:
        self.journal.write_snapshot(self.seq, self.engine)
        self._last_snapshot = self.seq

    def snapshot_now(self) -> None:
        with self._lock:
            self._snapshot()

    def state_hash(self) -> str:
        with self._lock:
            return state_hash(self.engine)

    def close(self) -> None:
        self.journal.close()

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclasses.dataclass(slots=True)
class _Item:
    cmd: Command
    key: str | None
    future: Future[list[Event]]


class GroupCommitter:
    """A thread that batches concurrent submissions: each sync covers everything queued while the previous
    one ran (up to `max_batch`). `submit` returns a Future resolved only after the group is durable."""

    def __init__(self, durable: DurableEngine, max_batch: int = 1024) -> None:
        self.durable = durable
        self.max_batch = max_batch
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="isomargin-group-commit", daemon=True)
        self._thread.start()

    def submit(self, cmd: Command, key: str | None = None) -> Future[list[Event]]:
        fut: Future[list[Event]] = Future()
        with self._cond:
            if self._closed:
                raise JournalError("committer_closed", "the group committer is closed")
            self._queue.append(_Item(cmd, key, fut))
            self._cond.notify()
        return fut

    def call(self, cmd: Command, key: str | None = None, timeout: float | None = None) -> list[Event]:
        return self.submit(cmd, key).result(timeout)

    async def submit_async(self, cmd: Command, key: str | None = None) -> list[Event]:
        return await asyncio.wrap_future(self.submit(cmd, key))

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                n = min(len(self._queue), self.max_batch)
                batch = [self._queue.popleft() for _ in range(n)]
            try:
                results = self.durable.submit_batch([b.cmd for b in batch], [b.key for b in batch])
            except BaseException as exc:
                for b in batch:
                    b.future.set_exception(exc)
                continue
            self.batches += 1
            for b, events in zip(batch, results, strict=True):
                b.future.set_result(events)

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
