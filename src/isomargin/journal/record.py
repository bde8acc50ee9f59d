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
_QQ = struct.Struct(">qq").pack
_Q = struct.Struct(">Q").pack
_PRESENT, _ABSENT = b"\x01", b"\x00"
_sha256 = hashlib.sha256


def _field(h: hashlib._Hash, value: bytes | None) -> None:
    if value is None:
        h.update(b"\x00")
    else:
        h.update(b"\x01" + struct.pack(">Q", len(value)) + value)


def _record_digest(seq: int, ts: int, kind: str, key: str | None, payload: bytes, events: bytes | None) -> bytes:
    """SHA-256 of the tag, seq and ts, then kind, key, payload and events, each length-prefixed (None as one 0
    byte): the same bytes `_field` feeds a hash one by one, built as one buffer and hashed once (per command)."""
    k = kind.encode()
    parts = [_RECORD_TAG, _QQ(seq, ts), _PRESENT, _Q(len(k)), k]
    if key is None:
        parts.append(_ABSENT)
    else:
        kb = key.encode()
        parts += (_PRESENT, _Q(len(kb)), kb)
    parts += (_PRESENT, _Q(len(payload)), payload)
    if events is None:
        parts.append(_ABSENT)
    else:
        parts += (_PRESENT, _Q(len(events)), events)
    return _sha256(b"".join(parts)).digest()


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    ts: int
    kind: str
    payload: bytes
    key: str | None = None
    events: bytes | None = None
    checksum: bytes = b""

    @classmethod
    def seal(
        cls, seq: int, ts: int, kind: str, payload: bytes, key: str | None = None, events: bytes | None = None
    ) -> Record:
        """A record with its checksum, built once (`dataclasses.replace` would build it twice)."""
        return cls(seq, ts, kind, payload, key, events, _record_digest(seq, ts, kind, key, payload, events))

    def digest(self) -> bytes:
        """The checksum these fields should carry."""
        return _record_digest(self.seq, self.ts, self.kind, self.key, self.payload, self.events)

    def sealed(self) -> Record:
        return Record.seal(self.seq, self.ts, self.kind, self.payload, self.key, self.events)

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
