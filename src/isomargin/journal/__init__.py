"""Durable command journal, snapshots and replay for the engine (SQLite by default, or PostgreSQL).

with DurableEngine.open("var/venue") as venue:      # <dir>/journal.sqlite3; or "postgresql://…"
    events = venue.submit(Deposit(1, "USDT", Decimal(100), ts=now))   # returned once synced
"""

from isomargin.journal.codec import (
    canonical,
    command_bytes,
    command_from_bytes,
    decode_command,
    decode_event,
    decode_events,
    encode_command,
    encode_event,
    encode_events,
)
from isomargin.journal.durable import DurableEngine, DurableHook, GroupCommitter, derived_key, edge_rejection
from isomargin.journal.errors import CodecError, EngineHalted, JournalCode, JournalError
from isomargin.journal.journal import Journal, Scan, open_journal
from isomargin.journal.keys import KEY_TTL_MS, KEY_WINDOW, KeyIndex
from isomargin.journal.record import Record, SnapshotRow
from isomargin.journal.replay import Rebuild, balance_report, rebuild

__all__ = [
    "KEY_TTL_MS",
    "KEY_WINDOW",
    "CodecError",
    "DurableEngine",
    "DurableHook",
    "EngineHalted",
    "GroupCommitter",
    "Journal",
    "JournalCode",
    "JournalError",
    "KeyIndex",
    "Rebuild",
    "Record",
    "Scan",
    "SnapshotRow",
    "balance_report",
    "canonical",
    "command_bytes",
    "command_from_bytes",
    "decode_command",
    "decode_event",
    "decode_events",
    "derived_key",
    "edge_rejection",
    "encode_command",
    "encode_event",
    "encode_events",
    "open_journal",
    "rebuild",
]
