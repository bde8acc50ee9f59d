"""Idempotency keys with a retention window: the keys of the last `window` commands that are also younger than
`ttl_ms` (by command timestamp). An expired key is forgotten, so a request carrying it again is a new request.

Memory is bounded by the window; recovery feeds every journaled record through `note` in seq order, so it holds
only the window too. Ages are measured against the newest command timestamp seen (timestamps may step back).
"""

from __future__ import annotations

from collections import deque
from typing import Final

KEY_WINDOW: Final = 1_000_000  # keys of the last million commands (accepted or rejected) …
KEY_TTL_MS: Final = 24 * 60 * 60 * 1000  # … that are younger than 24 hours


class KeyIndex:
    """key → seq of the record that first carried it, for the keys still inside the retention window."""

    __slots__ = ("_by_key", "_order", "seq", "ts", "ttl_ms", "window")

    def __init__(self, window: int | None = KEY_WINDOW, ttl_ms: int | None = KEY_TTL_MS) -> None:
        if window is not None and window < 1:
            raise ValueError(f"key window must be at least 1 command, got {window}")
        if ttl_ms is not None and ttl_ms < 1:
            raise ValueError(f"key ttl must be at least 1 ms, got {ttl_ms}")
        self.window, self.ttl_ms = window, ttl_ms
        self.seq = 0  # the last command noted
        self.ts = 0  # the newest command timestamp noted
        self._by_key: dict[str, tuple[int, int]] = {}  # key -> (seq, ts)
        self._order: deque[tuple[int, int, str]] = deque()  # (seq, ts, key) in seq order

    def note(self, seq: int, ts: int, key: str | None) -> None:
        """Command `seq` (timestamp `ts`) was journaled, carrying `key`; call for every command, in seq order."""
        self.seq = seq
        if ts > self.ts:
            self.ts = ts
        if key is not None:
            self._by_key[key] = (seq, ts)
            self._order.append((seq, ts, key))
        self._expire()

    def get(self, key: str, ts: int | None = None) -> int | None:
        """The seq of the live record carrying `key`, asked by a command stamped `ts` (None: now)."""
        hit = self._by_key.get(key)
        if hit is None or self._expired(hit[0], hit[1], self.ts if ts is None else max(ts, self.ts)):
            return None
        return hit[0]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __len__(self) -> int:
        """Keys held (some may have just expired by age and not yet been dropped)."""
        return len(self._by_key)

    def _expired(self, seq: int, ts: int, now: int) -> bool:
        return (self.window is not None and seq <= self.seq - self.window) or (
            self.ttl_ms is not None and ts <= now - self.ttl_ms
        )

    def _expire(self) -> None:
        order, by_key, now = self._order, self._by_key, self.ts
        while order:
            seq, ts, key = order[0]
            if not self._expired(seq, ts, now):
                return
            order.popleft()
            if by_key.get(key, (0, 0))[0] == seq:  # not re-used by a later record since
                del by_key[key]
