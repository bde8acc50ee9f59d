"""Journal records and snapshot rows, each sealed with a SHA-256 checksum over every stored field.

A record is one command as journaled: its sequence number and edge timestamp, the canonical command
bytes, an optional idempotency key and the canonical bytes of the events it produced. The checksum tags name
the journal format (2), so a record of another format never verifies as one of this format.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, replace

KIND_COMMAND = "command"
_RECORD_TAG = b"isomargin.record.v2"
_SNAPSHOT_TAG = b"isomargin.snapshot.v2"


def _field(h: hashlib._Hash, value: bytes | None) -> None:
    if value is None:
        h.update(b"\x00")
    else:
        h.update(b"\x01" + struct.pack(">Q", len(value)) + value)


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    ts: int
    kind: str
    payload: bytes
    key: str | None = None
    events: bytes | None = None
    checksum: bytes = b""

    def digest(self) -> bytes:
        """The checksum these fields should carry."""
        h = hashlib.sha256(_RECORD_TAG)
        h.update(struct.pack(">qq", self.seq, self.ts))
        _field(h, self.kind.encode())
        _field(h, None if self.key is None else self.key.encode())
        _field(h, self.payload)
        _field(h, self.events)
        return h.digest()

    def sealed(self) -> Record:
        return replace(self, checksum=self.digest())

    @property
    def valid(self) -> bool:
        return self.checksum == self.digest()


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """Engine state after applying every record up to and including `seq` (zlib-compressed canonical JSON)."""

    seq: int
    hash: str
    data: bytes
    checksum: bytes = b""

    def digest(self) -> bytes:
        h = hashlib.sha256(_SNAPSHOT_TAG)
        h.update(struct.pack(">q", self.seq))
        _field(h, self.hash.encode())
        _field(h, self.data)
        return h.digest()

    def sealed(self) -> SnapshotRow:
        return replace(self, checksum=self.digest())

    @property
    def valid(self) -> bool:
        return self.checksum == self.digest()
