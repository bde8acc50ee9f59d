"""Journal errors: every failure carries a short machine code (`JournalCode`) and one human sentence.

The CLI prints them as `error: <code>: <message>` with exit code 2; callers can match on `code` (a StrEnum, so
it also equals its string). `EngineHalted` is the fail-stop: the engine hit a bug while committing a command.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from isomargin.engine.events import Event


class JournalCode(StrEnum):
    """Why a journal operation failed (and the two codes a command can be rejected with at the journal's edge)."""

    BAD_JOURNAL_URL = "bad_journal_url"
    JOURNAL_MISSING = "journal_missing"
    JOURNAL_UNREADABLE = "journal_unreadable"
    NOT_A_JOURNAL = "not_a_journal"
    JOURNAL_FORMAT = "journal_format"
    JOURNAL_LOCKED = "journal_locked"
    JOURNAL_UNREACHABLE = "journal_unreachable"
    JOURNAL_UNSAFE = "journal_unsafe"
    JOURNAL_DB_ERROR = "journal_db_error"
    JOURNAL_CORRUPT = "journal_corrupt"
    JOURNAL_READ_ONLY = "journal_read_only"
    JOURNAL_FULL = "journal_full"  # the store's disk (or quota) is full: the append failed, nothing of it acknowledged
    JOURNAL_BEHIND = "journal_behind"  # the journal ends before the seq its high-water mark says was acknowledged
    JOURNAL_FAILED = "journal_failed"
    ENGINE_FAILED = "engine_failed"
    SEQ_MISMATCH = "seq_mismatch"
    REPLAY_DIVERGENCE = "replay_divergence"
    COMMITTER_CLOSED = "committer_closed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    CODEC_VERSION = "codec_version"
    CODEC_UNKNOWN_TYPE = "codec_unknown_type"
    CODEC_UNKNOWN_FIELD = "codec_unknown_field"
    CODEC_BAD_RECORD = "codec_bad_record"
    CODEC_BAD_VALUE = "codec_bad_value"
    CODEC_NOT_EXACT = "codec_not_exact"


def one_line(text: str) -> str:
    """`text` with every unprintable character escaped: a message quoting damaged bytes stays one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class JournalError(Exception):
    """A journal that cannot be opened, read, trusted or written (its message is always one printable line)."""

    def __init__(self, code: JournalCode, message: str) -> None:
        message = one_line(message)
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CodecError(JournalError):
    """A command or event that cannot be encoded or decoded exactly."""


class EngineHalted(JournalError):
    """The engine failed while committing command `index` of a batch (fail-stop). The commands before it were
    journaled, synced and are acknowledged: `durable[i]` is command i's result for i < index. Command `index` and
    everything after it were not journaled; the instance refuses further work until the journal is reopened."""

    def __init__(self, code: JournalCode, message: str, durable: list[list[Event]], reason: str) -> None:
        super().__init__(code, message)
        self.durable = durable
        self.reason = reason

    @property
    def index(self) -> int:
        """Position in the batch of the command that failed (= how many commands were acknowledged)."""
        return len(self.durable)
