"""Rebuild engine state from a journal: newest valid snapshot, then replay of the tail.

`rebuild` is what recovery and `isomargin replay` share. With `verify_events` every replayed command's
events are compared byte for byte with the events journaled when it first ran (a determinism check).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext
from typing import Any

from isomargin.engine import Engine, Rejected
from isomargin.journal.codec import command_from_bytes, encode_events
from isomargin.journal.errors import CodecError, JournalError
from isomargin.journal.journal import Journal, Scan


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
) -> Rebuild:
    """Scan (and, unless read-only, repair) the journal, then rebuild state up to `upto` (default: all)."""
    t0 = time.perf_counter()
    if scan is None:
        scan = journal.scan()
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
    apply = out.engine.apply
    for rec in journal.records(after=start, upto=last):
        try:
            cmd = command_from_bytes(rec.payload)
        except CodecError as exc:
            raise JournalError(exc.code, f"record {rec.seq}: {exc.message}") from None
        events = apply(cmd)
        out.commands[type(cmd).__name__] += 1
        if events and isinstance(events[0], Rejected):
            out.rejected += 1
        if verify_events and rec.events is not None and encode_events(events) != rec.events:
            out.divergent.append(rec.seq)
        out.replayed += 1
    out.seconds = time.perf_counter() - t0
    return out


def balance_report(engine: Engine) -> dict[str, Any]:
    """Ledger totals per asset and balance kind; the residual (sum of every balance) must be exactly 0.

    Sums are exact (wide precision, Inexact trapped), so a residual is the ledger's, not the report's."""
    with localcontext() as ctx:
        ctx.prec = 100_000
        ctx.traps[Inexact] = True
        return _balance_report(engine)


def _balance_report(engine: Engine) -> dict[str, Any]:
    per_asset: dict[str, dict[str, Decimal]] = {}
    for key, value in engine.ledger.balances.items():
        parts = key.split(":")
        kind = parts[0]
        if kind == "isolated":
            inst = engine.instruments.get(parts[2])
            asset = inst.settle if inst is not None else "?"
        else:
            asset = parts[-1]
        kinds = per_asset.setdefault(asset, {})
        kinds[kind] = kinds.get(kind, Decimal(0)) + value
    report: dict[str, Any] = {}
    for asset in sorted(per_asset):
        kinds = per_asset[asset]
        residual = sum(kinds.values(), Decimal(0))
        report[asset] = {**{k: kinds[k] for k in sorted(kinds)}, "residual": residual}
    return {"assets": report, "residual": sum(engine.ledger.balances.values(), Decimal(0))}
