"""Durable command journal, snapshots and replay for the engine (SQLite by default, or PostgreSQL).

with DurableEngine.open("var/venue") as venue:      # <dir>/journal.sqlite3; or "postgresql://…"
    events = venue.submit(Deposit(1, "USDT", Decimal(100), ts=now))   # returned once synced
"""

from isomargin.journal.codec import (
    command_bytes,
    command_from_bytes,
    decode_command,
    decode_event,
    decode_events,
    encode_command,
    encode_events,
)
from isomargin.journal.durable import DurableEngine, GroupCommitter, derived_key
from isomargin.journal.errors import CodecError, JournalError
from isomargin.journal.journal import Journal, Scan, open_journal
from isomargin.journal.record import Record, SnapshotRow
from isomargin.journal.replay import Rebuild, balance_report, rebuild

__all__ = [
    "CodecError",
    "DurableEngine",
    "GroupCommitter",
    "Journal",
    "JournalError",
    "Rebuild",
    "Record",
    "Scan",
    "SnapshotRow",
    "balance_report",
    "command_bytes",
    "command_from_bytes",
    "decode_command",
    "decode_event",
    "decode_events",
    "derived_key",
    "encode_command",
    "encode_events",
    "open_journal",
    "rebuild",
]
