"""Rebuild engine state from a journal: newest valid snapshot, then replay of the tail.

`rebuild` is what recovery and `isomargin replay` share. With `verify_events` every replayed command's
events are compared byte for byte with the events journaled when it first ran (a determinism check).
Each replayed record must become the engine's command of the same seq; the engine is read only through
`isomargin.engine.queries` and its snapshot.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext
from typing import Any

from isomargin.engine import Engine, EngineFailed, Rejected
from isomargin.engine.queries import ledger_summary
from isomargin.journal.codec import command_from_bytes, encode_events
from isomargin.journal.errors import CodecError, JournalCode, JournalError
from isomargin.journal.journal import Journal, Scan
from isomargin.journal.keys import KeyIndex


@dataclass(slots=True)
class Rebuild:
    """The rebuilt engine and how it was rebuilt."""

    engine: Engine
    scan: Scan
    last_seq: int = 0
    snapshot_seq: int | None = None
    replayed: int = 0
    rejected: int = 0
    commands: Counter[str] = field(default_factory=Counter)
    divergent: list[int] = field(default_factory=list)  # seqs whose events differ from the journaled ones
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


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
    out = Rebuild(Engine(), scan, last_seq=last)
    if scan.bad_tail:
        what = "truncated" if scan.truncated else "ignored (read-only)"
        bad = len(scan.bad_tail)
        out.notes.append(
            f"torn tail: {bad} bad record(s) from seq {scan.bad_tail[0]} {what}; last good {scan.last_seq}"
        )
    start = 0
    if use_snapshots:
        found = journal.load_snapshot(last, out.notes)
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
