"""Rebuild engine state from a journal: newest valid snapshot, then replay of the tail.

`rebuild` is what recovery and `isomargin replay` share. With `verify_events` every replayed command's
events are compared byte for byte with the events journaled when it first ran (a determinism check).
Each replayed record must become the engine's command of the same seq; the engine is read only through
`isomargin.engine.queries` and its snapshot. `Rebuild.report()` is the recovery told in full (records read,
snapshot used, torn tail dropped, high-water mark, time), which `serve` and `replay` print.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum
from typing import Any

from isomargin.engine import Engine, EngineFailed, Rejected
from isomargin.engine.queries import ledger_summary
from isomargin.journal.codec import command_from_bytes, encode_events
from isomargin.journal.errors import CodecError, JournalCode, JournalError
from isomargin.journal.journal import Journal, Scan
from isomargin.journal.keys import KeyIndex


class TailAction(StrEnum):
    """What recovery did with bad records past the last good one."""

    NONE = "none"  # there were none
    TRUNCATED = "truncated"  # deleted from the journal
    IGNORED = "ignored"  # left in place: the journal was opened read-only


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """What opening a journal found and did, for an operator to read at start-up (`describe`) or a tool
    (`as_dict`). `lost` is the acknowledged seqs the journal lacks by its high-water mark: a writable open refuses
    when it is not 0 (journal_behind), so only a read-only report shows a positive one."""

    location: str
    records_read: int  # good and bad
    last_seq: int  # the good prefix is 1..last_seq
    rebuilt_to: int  # the seq the engine was rebuilt to (last_seq unless a read-only replay stopped earlier)
    snapshot_seq: int | None
    replayed: int
    torn_from: int | None  # the first bad seq of a torn tail
    torn_records: int
    torn_bytes: int
    tail: TailAction
    high_water: int | None  # None: the backend keeps no mark (PostgreSQL) or none was written yet
    high_water_kept: bool  # whether the backend keeps one
    lost: int
    notes: tuple[str, ...]  # skipped snapshots, an unreadable mark
    seconds: float

    def describe(self) -> str:
        """One paragraph: every fact of the recovery, plainly."""
        base = f"from snapshot {self.snapshot_seq} + " if self.snapshot_seq is not None else "from empty + "
        prefix = f"good prefix 1..{self.last_seq}" if self.last_seq else "no good record"
        parts = [
            f"journal {self.location}: read {self.records_read} record(s) in {self.seconds * 1000:.0f} ms; "
            f"{prefix}; rebuilt to seq {self.rebuilt_to} {base}{self.replayed} replayed."
        ]
        if self.torn_from is not None:
            done = "truncated" if self.tail is TailAction.TRUNCATED else "left in place (read-only)"
            parts.append(
                f"Torn tail: {self.torn_records} bad record(s) from seq {self.torn_from} ({self.torn_bytes} bytes) "
                f"{done}, none of them acknowledged."
                if not self.lost
                else f"Torn tail: {self.torn_records} bad record(s) from seq {self.torn_from} ({self.torn_bytes} "
                f"bytes) {done}."
            )
        else:
            parts.append("No torn tail.")
        parts.append(self._high_water_sentence())
        parts += [f"Note: {n}." for n in self.notes]
        return " ".join(parts)

    def _high_water_sentence(self) -> str:
        if not self.high_water_kept:
            return "No high-water mark (this store keeps none), so lost acknowledged records cannot be told."
        if self.high_water is None:
            return "No high-water mark yet (a new journal, or one written without it); one is kept from now on."
        if self.lost:
            return (
                f"LOST: the high-water mark says seq {self.high_water} was acknowledged but the journal ends at "
                f"{self.last_seq} ({self.lost} acknowledged record(s) missing)."
            )
        return f"High-water mark {self.high_water} ≤ {self.last_seq}: nothing acknowledged is missing."

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tail"] = self.tail.value
        out["notes"] = list(self.notes)
        out["seconds"] = round(self.seconds, 6)
        return out


@dataclass(slots=True)
class Rebuild:
    """The rebuilt engine and how it was rebuilt."""

    engine: Engine
    scan: Scan
    location: str = ""
    last_seq: int = 0
    snapshot_seq: int | None = None
    replayed: int = 0
    rejected: int = 0
    commands: Counter[str] = field(default_factory=Counter)
    divergent: list[int] = field(default_factory=list)  # seqs whose events differ from the journaled ones
    notes: list[str] = field(default_factory=list)  # torn tail, journal behind, then `snapshot_notes`
    snapshot_notes: list[str] = field(default_factory=list)  # snapshots skipped, and why
    seconds: float = 0.0

    def report(self) -> RecoveryReport:
        sc = self.scan
        tail = TailAction.TRUNCATED if sc.truncated else TailAction.IGNORED if sc.bad_tail else TailAction.NONE
        notes = list(self.snapshot_notes)
        if sc.high_water_note:
            notes.append(f"high-water mark ignored: {sc.high_water_note}")
        return RecoveryReport(
            location=self.location, records_read=sc.read, last_seq=sc.last_seq, rebuilt_to=self.last_seq,
            snapshot_seq=self.snapshot_seq, replayed=self.replayed, torn_from=sc.bad_tail[0] if sc.bad_tail else None,
            torn_records=len(sc.bad_tail), torn_bytes=sc.bad_tail_bytes, tail=tail, high_water=sc.high_water,
            high_water_kept=sc.high_water_kept, lost=sc.behind, notes=tuple(notes), seconds=self.seconds,
        )  # fmt: skip


def rebuild(
    journal: Journal,
    *,
    upto: int | None = None,
    use_snapshots: bool = True,
    verify_events: bool = False,
    scan: Scan | None = None,
    keys: KeyIndex | None = None,
) -> Rebuild:
    """Scan (and, unless read-only, repair) the journal, then rebuild state up to `upto` (default: all).
    `keys`, if given, is filled with the idempotency keys of the retention window while scanning."""
    t0 = time.perf_counter()
    if scan is None:
        scan = journal.scan(keys)
        journal.repair(scan)
    last = scan.last_seq if upto is None else min(upto, scan.last_seq)
    out = Rebuild(Engine(), scan, location=journal.location, last_seq=last)
    if scan.bad_tail:
        what = "truncated" if scan.truncated else "ignored (read-only)"
        bad = len(scan.bad_tail)
        out.notes.append(
            f"torn tail: {bad} bad record(s) from seq {scan.bad_tail[0]} {what}; last good {scan.last_seq}"
        )
    if scan.behind:  # only a read-only open gets here: a writable one refused with journal_behind
        out.notes.append(
            f"journal behind: it ends at seq {scan.last_seq} but its high-water mark says {scan.high_water} was "
            "acknowledged"
        )
    start = 0
    if use_snapshots:
        found = journal.load_snapshot(last, out.snapshot_notes)
        out.notes += out.snapshot_notes
        if found is not None:
            start, out.engine = found
            out.snapshot_seq = start
    engine = out.engine
    apply = engine.apply
    for rec in journal.records(after=start, upto=last):
        try:
            cmd = command_from_bytes(rec.payload)
        except CodecError as exc:
            raise JournalError(exc.code, f"record {rec.seq}: {exc.message}") from None
        try:
            events = apply(cmd)
        except EngineFailed as exc:
            raise JournalError(
                JournalCode.ENGINE_FAILED,
                f"{journal.location}: the engine failed replaying record {rec.seq} ({exc}); this build cannot "
                "rebuild the journal past it",
            ) from None
        if engine.seq != rec.seq:
            raise JournalError(
                JournalCode.SEQ_MISMATCH,
                f"{journal.location}: record {rec.seq} became engine command {engine.seq}; refusing to go on",
            )
        out.commands[type(cmd).__name__] += 1
        if events and isinstance(events[0], Rejected):
            out.rejected += 1
        if verify_events and rec.events is not None and encode_events(events) != rec.events:
            out.divergent.append(rec.seq)
        out.replayed += 1
    out.seconds = time.perf_counter() - t0
    return out


def balance_report(engine: Engine) -> dict[str, Any]:
    """Ledger totals per asset and balance kind (`queries.ledger_summary`); the residual (sum of every balance)
    must be exactly 0. Sums are exact (wide precision, Inexact trapped), so a residual is the ledger's."""
    with localcontext() as ctx:
        ctx.prec = 100_000
        ctx.traps[Inexact] = True
        summary = ledger_summary(engine)
        report: dict[str, Any] = {}
        total = Decimal(0)
        for asset in sorted(summary):
            kinds = summary[asset]
            residual = sum(kinds.values(), Decimal(0))
            total += residual
            report[asset] = {**{k: kinds[k] for k in sorted(kinds)}, "residual": residual}
        return {"assets": report, "residual": total}
