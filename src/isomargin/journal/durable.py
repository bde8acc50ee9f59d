"""DurableEngine: the engine behind a journal. Nothing is acknowledged before its record is synced.

`submit_batch` assigns seqs, applies the commands, appends them (with their events) as one group with one
sync, and only then returns the events. If the append fails the in-memory state is ahead of the journal, so
the instance refuses further work; if the engine fails while committing a command (fail-stop), the commands
before it are journaled and acknowledged, it and the rest are not, and the instance refuses further work.
Reopening recovers from the journal. `GroupCommitter` is the threaded front: concurrent submitters are
batched into whatever has queued since the last sync.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, NoReturn, cast

from isomargin.engine import Code, Command, Engine, EngineFailed, Event, PlaceOrder, Rejected
from isomargin.engine.engine import MAX_TS
from isomargin.engine.events import Envelope
from isomargin.engine.snapshot import state_hash
from isomargin.journal.codec import canonical, command_from_bytes, decode_events, encode_command, encode_events
from isomargin.journal.errors import CodecError, EngineHalted, JournalCode, JournalError
from isomargin.journal.journal import Journal, open_journal
from isomargin.journal.keys import KEY_TTL_MS, KEY_WINDOW, KeyIndex
from isomargin.journal.record import KIND_COMMAND, Record
from isomargin.journal.replay import Rebuild, rebuild

DurableHook = Callable[[Sequence[Command], list[list[Event]], list[bool]], None]
EDGE_SEQ = 0  # the envelope seq of a rejection made at the journal's edge: such a command is never journaled


def derived_key(cmd: Command) -> str | None:
    """The idempotency key a command carries by itself: an order's client order id, per account."""
    if isinstance(cmd, PlaceOrder) and cmd.client_order_id is not None:
        return f"order:{cmd.account}:{cmd.client_order_id}"
    return None


def edge_rejection(cmd: Command, code: JournalCode, message: str) -> list[Event]:
    """A `Rejected` made by the journal, not the engine (an unencodable command, a re-used key): seq `EDGE_SEQ`,
    and `code` a JournalCode (the engine's Rejected is typed for its own codes; both are StrEnums)."""
    return [Rejected(Envelope(EDGE_SEQ, cmd), 0, cast(Code, code), message)]


def _record_ts(ts: Any) -> int:
    """The record's timestamp column: the command's ts, or 0 where the engine will reject it as not a timestamp
    (the payload keeps the value as given, so replay rejects it the same way)."""
    return ts if type(ts) is int and 0 <= ts <= MAX_TS else 0


def _without_ts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "ts"}


class DurableEngine:
    """An `Engine` whose every command is journaled and synced before its result is returned.

    Idempotency keys (explicit, or `derived_key`) are remembered for the last `key_window` commands that are
    younger than `key_ttl_ms` (by command ts); None switches a bound off. `on_durable(cmds, results, fresh)` runs
    inside the lock after each durable group (also the durable prefix of a halted one): `cmds` as applied (with
    the clock's ts), `fresh[i]` True iff command i was applied by the engine now (False for an idempotent replay
    or an edge rejection). An exception from it propagates to the submitters (the group is durable already)."""

    def __init__(
        self,
        journal: Journal,
        *,
        snapshot_every: int = 0,
        store_events: bool = True,
        verify_events: bool = False,
        clock: Callable[[], int] | None = None,
        dedupe_client_order_ids: bool = True,
        key_window: int | None = KEY_WINDOW,
        key_ttl_ms: int | None = KEY_TTL_MS,
        on_durable: DurableHook | None = None,
    ) -> None:
        if journal.read_only:
            raise JournalError(JournalCode.JOURNAL_READ_ONLY, f"{journal.location} was opened read-only")
        self.journal = journal
        self.snapshot_every = snapshot_every
        self.store_events = store_events
        self.clock = clock
        self.dedupe_client_order_ids = dedupe_client_order_ids
        self.on_durable = on_durable
        self._keys = KeyIndex(key_window, key_ttl_ms)
        self.recovery: Rebuild = rebuild(journal, verify_events=verify_events, keys=self._keys)
        if self.recovery.divergent:
            raise JournalError(
                JournalCode.REPLAY_DIVERGENCE,
                f"{journal.location}: replaying record {self.recovery.divergent[0]} produced different events than "
                "were journaled (engine changed?); refusing to start",
            )
        self.engine: Engine = self.recovery.engine
        self.seq = self.recovery.last_seq
        self._pending: dict[int, Record] = {}  # keyed records of the batch being built, not yet durable
        self._last_snapshot = self.recovery.snapshot_seq or 0
        self._broken: tuple[JournalCode, str] | None = None
        self.snapshot_error: str | None = None  # the last failed snapshot (retried at the next interval)
        self._lock = threading.RLock()  # re-entrant: `on_durable` may call back (seen, state_hash)

    @classmethod
    def open(cls, target: str | Path, **options: Any) -> DurableEngine:
        journal = open_journal(target)
        try:
            return cls(journal, **options)
        except BaseException:
            journal.close()
            raise

    @property
    def failed(self) -> str | None:
        """Why this instance refuses work (a failed append or a failed engine), or None."""
        return None if self._broken is None else self._broken[1]

    def seen(self, key: str) -> bool:
        """Whether `key` is inside the retention window: a command carrying it now gets the stored result."""
        with self._lock:
            return self._keys.get(key) is not None

    # -- submitting ------------------------------------------------------------------------------------
    def submit(self, cmd: Command, key: str | None = None) -> list[Event]:
        return self.submit_batch([cmd], [key])[0]

    def submit_batch(self, cmds: Sequence[Command], keys: Sequence[str | None] | None = None) -> list[list[Event]]:
        """Apply and journal a group of commands with one sync; returns each command's events once durable.

        A command whose key (explicit, or its client order id) is within the retention window gets the stored
        events of the first one and is not applied again; the same key on a different request is rejected.
        If the engine fails on command i, commands 0..i-1 are journaled and `EngineHalted` (with their results
        in `.durable`) is raised; nothing from i on is journaled, and every later call is refused."""
        if keys is not None and len(keys) != len(cmds):
            raise ValueError(f"{len(cmds)} commands but {len(keys)} keys")
        with self._lock:
            self._refuse_if_broken()
            results: list[list[Event]] = []
            fresh: list[bool] = []
            applied: list[Command] = []
            records: list[Record] = []
            halt: tuple[JournalCode, str] | None = None
            try:
                for i, cmd in enumerate(cmds):
                    if self.clock is not None and isinstance(cmd, Command):  # (anything else is refused below)
                        cmd = dataclasses.replace(cmd, ts=self.clock())
                    applied.append(cmd)
                    halt = self._one(cmd, keys[i] if keys is not None else None, results, fresh, records)
                    if halt is not None:
                        break
            except BaseException as exc:  # not a command's fault (an interrupt, a bug here): memory may be ahead
                self._broken = (JournalCode.JOURNAL_FAILED, f"interrupted while applying a group ({exc!r})")
                self._pending.clear()
                raise
            self._append(records)
            if halt is not None:  # refuse from now on, even if the hook below raises
                self._broken = (
                    halt[0],
                    f"stopped at command {len(results)} of a group, after seq {self.seq}: {halt[1]}",
                )
            if self.on_durable is not None and results:
                self.on_durable(applied[: len(results)], results, fresh)
            if halt is not None:
                self._halt(halt, results, len(cmds))
            if self.snapshot_every and self.seq - self._last_snapshot >= self.snapshot_every:
                self._snapshot_quietly()
            return results

    def _one(
        self,
        cmd: Command,
        key: str | None,
        results: list[list[Event]],
        fresh: list[bool],
        records: list[Record],
    ) -> tuple[JournalCode, str] | None:
        """Answer one command of a group (appending to results/fresh/records); a reason to halt, or None."""
        if key is None and self.dedupe_client_order_ids:
            key = derived_key(cmd)
        try:
            data = encode_command(cmd)
        except CodecError as exc:
            results.append(edge_rejection(cmd, exc.code, exc.message))
            fresh.append(False)
            return None
        ts = _record_ts(cmd.ts)
        if key is not None:
            hit = self._keys.get(key, ts)
            if hit is not None:
                try:
                    results.append(self._replayed(cmd, key, hit, data))
                except JournalError as exc:
                    return exc.code, exc.message
                fresh.append(False)
                return None
        engine, seq = self.engine, self.seq + 1
        if engine.seq != self.seq:
            return JournalCode.SEQ_MISMATCH, f"the engine is at seq {engine.seq} but the journal at {self.seq}"
        try:
            events = engine.apply(cmd)
        except EngineFailed as exc:
            return JournalCode.ENGINE_FAILED, str(exc)
        if engine.seq != seq:
            return JournalCode.SEQ_MISMATCH, f"command {seq} became engine command {engine.seq}"
        try:
            stored = encode_events(events) if self.store_events or key is not None else None
        except CodecError as exc:
            return exc.code, f"the events of command {seq} cannot be journaled ({exc.message})"
        rec = Record(seq, ts, KIND_COMMAND, canonical(data), key, stored).sealed()
        records.append(rec)
        self.seq = seq
        self._keys.note(seq, ts, key)
        if key is not None:
            self._pending[seq] = rec
        results.append(events)
        fresh.append(True)
        return None

    def _append(self, records: list[Record]) -> None:
        try:
            if records:
                self.journal.append(records)
        except BaseException as exc:
            self._broken = (
                JournalCode.JOURNAL_FAILED,
                f"journal append of seqs {records[0].seq}..{records[-1].seq} failed ({exc})",
            )
            raise JournalError(
                JournalCode.JOURNAL_FAILED, f"{self._broken[1]}; nothing in this group was acknowledged"
            ) from None
        finally:
            self._pending.clear()

    def _halt(self, halt: tuple[JournalCode, str], durable: list[list[Event]], size: int) -> NoReturn:
        code, reason = halt
        n = len(durable)
        assert self._broken is not None
        raise EngineHalted(
            code,
            f"{self._broken[1]}; the {n} command(s) before it are durable, it and the {size - n - 1} after it were "
            "not journaled; reopen the journal to recover",
            durable,
            reason,
        )

    def _refuse_if_broken(self) -> None:
        if self._broken is not None:
            code, reason = self._broken
            raise JournalError(code, f"{reason}; reopen the journal to recover")

    def _replayed(self, cmd: Command, key: str, seq: int, data: dict[str, Any]) -> list[Event]:
        rec = self._pending.get(seq) or self.journal.get(seq)
        if rec is None or not rec.valid or rec.events is None:
            raise JournalError(
                JournalCode.JOURNAL_CORRUPT, f"record {seq} for idempotency key {key!r} is missing or damaged"
            )
        try:
            original = command_from_bytes(rec.payload)
            if _without_ts(encode_command(original)) != _without_ts(data):
                return edge_rejection(
                    cmd, JournalCode.IDEMPOTENCY_KEY_REUSED, f"key {key!r} was used by record {seq} for another request"
                )
            return decode_events(rec.events, rec.seq, original)
        except CodecError as exc:
            raise JournalError(exc.code, f"record {seq} for idempotency key {key!r}: {exc.message}") from None

    # -- snapshots and state ---------------------------------------------------------------------------
    def _snapshot(self) -> None:
        self.journal.write_snapshot(self.seq, self.engine)
        self._last_snapshot = self.seq

    def _snapshot_quietly(self) -> None:
        """A periodic snapshot: the group is durable and acknowledged already, so a failure here is recorded in
        `snapshot_error` (and retried after the next group) rather than raised."""
        try:
            self._snapshot()
            self.snapshot_error = None
        except Exception as exc:
            self.snapshot_error = f"snapshot at seq {self.seq} failed: {exc}"

    def snapshot_now(self) -> None:
        with self._lock:
            self._refuse_if_broken()
            self._snapshot()

    def state_hash(self) -> str:
        """The hash of the journaled state (refused once the instance is broken: memory may not be it)."""
        with self._lock:
            self._refuse_if_broken()
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
    one ran (up to `max_batch`). `submit` returns a Future resolved only after the group is durable; when the
    engine halts mid-group, the journaled commands' futures get their events and the others the `EngineHalted`.
    A future cancelled before its group starts is not submitted."""

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
                raise JournalError(JournalCode.COMMITTER_CLOSED, "the group committer is closed")
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
                taken = [self._queue.popleft() for _ in range(n)]
            batch = [b for b in taken if b.future.set_running_or_notify_cancel()]
            if not batch:
                continue
            try:
                results = self.durable.submit_batch([b.cmd for b in batch], [b.key for b in batch])
            except EngineHalted as exc:
                self.batches += 1
                for b, events in zip(batch, exc.durable, strict=False):
                    b.future.set_result(events)
                for b in batch[len(exc.durable) :]:
                    b.future.set_exception(exc)
                continue
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
