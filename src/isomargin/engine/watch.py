"""Price watches: things indexed by the mark price at which something must happen to them.

Per market, a `falling` list fires when the mark drops to or through a price (a long's liquidation or alert
level, the low edge of a cross account's band) and a `rising` list when it climbs to one. Prices are integer
price points. A tick that fires nothing costs one comparison per list; a tick that fires k entries O(log n + k).
Keys are unique: each key sits at one price at a time.
"""

from __future__ import annotations

from sortedcontainers import SortedList

Key = tuple[int, str, str]  # (account, position side or asset, kind)


class PriceWatch:
    """The watched prices of one market."""

    __slots__ = ("falling", "rising", "where")

    def __init__(self) -> None:
        self.falling = SortedList()  # (price, key): fires when mark <= price
        self.rising = SortedList()  # (price, key): fires when mark >= price
        self.where: dict[Key, tuple[int, bool]] = {}  # key -> (price, fires on fall)

    def set(self, key: Key, price: int | None, on_fall: bool) -> None:
        """Watch `key` at `price` (None stops watching it)."""
        old = self.where.pop(key, None)
        if old is not None:
            (self.falling if old[1] else self.rising).remove((old[0], key))
        if price is not None:
            (self.falling if on_fall else self.rising).add((price, key))
            self.where[key] = (price, on_fall)

    def drop(self, key: Key) -> None:
        old = self.where.pop(key, None)
        if old is not None:
            (self.falling if old[1] else self.rising).remove((old[0], key))

    def fire(self, mark: int) -> list[Key]:
        """Remove and return every key whose price the mark has reached: falling first (highest price first,
        the deepest underwater long), then rising (lowest first)."""
        out: list[Key] = []
        falling = self.falling
        rising = self.rising
        where = self.where
        while falling and falling[-1][0] >= mark:
            key = falling.pop()[1]
            del where[key]
            out.append(key)
        while rising and rising[0][0] <= mark:
            key = rising.pop(0)[1]
            del where[key]
            out.append(key)
        return out

    def __len__(self) -> int:
        return len(self.where)
