"""`isomargin replay` and `isomargin journal inspect`: read a command journal (never writing to it) and
report the rebuilt state's hash, counts and balances, or the records themselves (events as the engine shows
them: `Event.to_dict()`, with their seq and index). State is read through `isomargin.engine.queries` only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from isomargin.cliutil import JsonOpt, fail, js, out
from isomargin.margin import plain

if TYPE_CHECKING:
    from isomargin.journal.record import Record

T = TypeVar("T")
journal_cli = typer.Typer(help="Look inside a command journal.", no_args_is_help=True)
JournalArg = Annotated[
    str, typer.Argument(help="Journal: a path (a directory means <dir>/journal.sqlite3) or postgresql://…")
]


def journal_guarded(fn: Callable[[], T]) -> T:
    """Run a journal operation, turning a JournalError into the one-line error and exit code 2."""
    from isomargin.journal import JournalError

    try:
        return fn()
    except JournalError as exc:
        fail(exc.code, exc.message)


def replay(
    journal: JournalArg,
    upto: Annotated[int | None, typer.Option("--upto", help="Stop after this seq.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Ignore snapshots: replay every record.")] = False,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Compare replayed events with the journaled ones.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild engine state from a journal (read-only): hash, counts and a balance report."""
    result = journal_guarded(lambda: replay_figures(journal, upto, full, verify))
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    out.print(f"journal {result['journal']}: {result['records']} good records", highlight=False)
    out.print(result["recovery_text"], highlight=False, soft_wrap=True)
    for note in result["notes"]:
        out.print(f"[yellow]note[/]: {note}", highlight=False)
    base = f"snapshot {result['snapshot_seq']} + " if result["snapshot_seq"] is not None else ""
    out.print(
        f"rebuilt to seq {result['seq']} from {base}{result['replayed']} replayed record(s) in "
        f"{result['seconds'] * 1000:.0f} ms",
        highlight=False,
    )
    out.print(f"state hash {result['hash']}", highlight=False)
    counts = ", ".join(f"{k} {v}" for k, v in result["commands"].items()) or "none"
    out.print(f"commands replayed: {counts}; rejected {result['rejected']}", highlight=False)
    st = result["state"]
    out.print(
        f"accounts {st['accounts']}, instruments {st['instruments']}, open orders {st['open_orders']}, "
        f"positions {st['positions']}",
        highlight=False,
    )
    if verify:
        bad = result["divergent"]
        out.print(
            f"events verified: {'all match' if not bad else f'{len(bad)} differ, first at seq {bad[0]}'}",
            highlight=False,
        )
    table = Table(title="balances by kind (ledger)", title_justify="left")
    table.add_column("asset")
    kinds = sorted({k for v in result["balances"]["assets"].values() for k in v if k != "residual"})
    for k in (*kinds, "residual"):
        table.add_column(k, justify="right")
    for asset, row in result["balances"]["assets"].items():
        table.add_row(asset, *(plain(row[k]) if k in row else "—" for k in (*kinds, "residual")))
    out.print(table)
    out.print(f"conservation residual (sum of every balance): {plain(result['balances']['residual'])}")


def replay_figures(target: str, upto: int | None, full: bool, verify: bool) -> dict[str, Any]:
    from isomargin.engine import state_hash
    from isomargin.engine.queries import stats
    from isomargin.journal import balance_report, open_journal, rebuild

    with open_journal(target, read_only=True) as j:
        rb = rebuild(j, upto=upto, use_snapshots=not full, verify_events=verify)
        engine = rb.engine
        counts = stats(engine)
        report = rb.report()
        return {
            "journal": j.location,
            "recovery": report.as_dict(),
            "recovery_text": report.describe(),
            "records": rb.scan.last_seq,
            "bad_tail": rb.scan.bad_tail,
            "seq": rb.last_seq,
            "snapshot_seq": rb.snapshot_seq,
            "replayed": rb.replayed,
            "seconds": round(rb.seconds, 6),
            "hash": state_hash(engine),
            "commands": dict(sorted(rb.commands.items())),
            "rejected": rb.rejected,
            "divergent": rb.divergent,
            "notes": rb.notes,
            "state": {k: counts[k] for k in ("accounts", "instruments", "open_orders", "positions")},
            "balances": balance_report(engine),
        }


@journal_cli.command("inspect")
def journal_inspect(
    journal: JournalArg,
    start: Annotated[int, typer.Option("--from", help="First seq to show.")] = 1,
    limit: Annotated[int, typer.Option("--limit", help="How many records to show.")] = 20,
    events: Annotated[bool, typer.Option("--events", help="Show each record's events too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show a journal's records (seq, timestamp, command, key, checksum) and snapshots, read-only."""
    result = journal_guarded(lambda: inspect_figures(journal, start, limit, events))
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    hwm = result["high_water"]
    out.print(
        f"journal {result['journal']}: {result['count']} records, last seq {result['last_seq']}, "
        f"snapshots at {result['snapshots'] or 'none'}, high-water mark {'none' if hwm is None else hwm}",
        highlight=False,
    )
    if hwm is not None and hwm > result["last_seq"]:
        out.print(f"[bold red]journal behind[/]: seqs {result['last_seq'] + 1}..{hwm} were acknowledged and are gone",
                  highlight=False)  # fmt: skip
    if result["bad"]:
        out.print(f"[bold red]bad records[/]: {result['bad'][:20]}", highlight=False)
    table = Table(title_justify="left")
    for col in ("seq", "ts", "command", "key", "events", "checksum"):
        table.add_column(col, justify="right" if col in ("seq", "ts", "events") else "left")
    for r in result["records"]:
        table.add_row(
            str(r["seq"]), str(r["ts"]), r["summary"], r["key"] or "", str(r["events"]), "ok" if r["ok"] else "BAD"
        )
    out.print(table)
    if events:
        for r in result["records"]:
            for e in r.get("event_list", []):
                out.print(f"{r['seq']}: {json.dumps(e, ensure_ascii=False)}", highlight=False, soft_wrap=True)


def inspect_figures(target: str, start: int, limit: int, with_events: bool) -> dict[str, Any]:
    from isomargin.journal import open_journal

    with open_journal(target, read_only=True) as j:
        count, last = 0, 0
        bad: list[int] = []
        shown: list[dict[str, Any]] = []
        for rec in j.backend.records():
            count += 1
            last = rec.seq
            ok = rec.valid
            if not ok:
                bad.append(rec.seq)
            if rec.seq >= start and len(shown) < limit:
                shown.append(_record_view(rec, ok, with_events))
        return {
            "journal": j.location,
            "high_water": j.backend.high_water(),
            "count": count,
            "last_seq": last,
            "bad": bad,
            "snapshots": sorted(j.backend.snapshot_seqs()),
            "records": shown,
        }


def _record_view(rec: Record, ok: bool, with_events: bool) -> dict[str, Any]:
    try:
        data = json.loads(rec.payload)
        fields_ = {k: v for k, v in data.items() if not k.startswith("@") and k != "ts" and v not in (None, False)}
        summary = f"{data.get('@type', '?')} " + " ".join(f"{k}={v}" for k, v in fields_.items())
    except (ValueError, AttributeError):
        data, summary = None, "(unreadable payload)"
    evs = _events_view(rec) if rec.events is not None else None
    view: dict[str, Any] = {
        "seq": rec.seq,
        "ts": rec.ts,
        "kind": rec.kind,
        "summary": summary[:90],
        "key": rec.key,
        "events": "—" if evs is None else len(evs),
        "ok": ok,
        "command": data,
    }
    if with_events and evs is not None:
        view["event_list"] = evs
    return view


def _events_view(rec: Record) -> list[Any] | None:
    """The record's events as `Event.to_dict()` (seq, index, fields as the engine shows them); if they do not
    decode, as stored (with a note first); None if not even JSON."""
    from isomargin.journal.codec import command_from_bytes, decode_events
    from isomargin.journal.errors import CodecError

    assert rec.events is not None
    try:
        return [e.to_dict() for e in decode_events(rec.events, rec.seq, command_from_bytes(rec.payload))]
    except CodecError as exc:
        try:
            stored = json.loads(rec.events)
        except ValueError:
            return None
        return [{"undecodable": exc.message}, *stored] if isinstance(stored, list) else None
