"""Order-book throughput: a seeded random stream of crossing GTC limit orders.

Prices uniform in 1..200 ticks, sizes 1..4 lots, random side, accounts 1..1000, STP off.
Only `OrderBook.submit` is timed (full MatchResult and Fill objects); generating the stream is
timed separately and reported as "stream_seconds".
Usage: python bench/book_throughput.py [N]   (default 1,000,000); prints one JSON line.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

try:
    from isomargin.engine.book import BUY, SELL, OrderBook
except ModuleNotFoundError:  # running from a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from isomargin.engine.book import BUY, SELL, OrderBook


def make_stream(n: int, seed: int = 7) -> list[tuple[int, int, int, int]]:
    """(side, price, qty, account) tuples, identical for a given seed."""
    rng = random.Random(seed)
    return [
        (BUY if rng.random() < 0.5 else SELL, rng.randint(1, 200), rng.randint(1, 4), rng.randint(1, 1000))
        for _ in range(n)
    ]


def run(n: int) -> dict[str, object]:
    t0 = time.perf_counter()
    stream = make_stream(n)
    stream_seconds = time.perf_counter() - t0
    book = OrderBook()
    submit = book.submit
    fills = 0
    t0 = time.perf_counter()
    for oid, (side, price, qty, account) in enumerate(stream, 1):
        fills += len(submit(oid, account, side, price, qty).fills)
    seconds = time.perf_counter() - t0
    return {
        "bench": "book_throughput",
        "orders": n,
        "seconds": round(seconds, 3),
        "orders_per_s": round(n / seconds),
        "fills": fills,
        "resting": len(book),
        "stream_seconds": round(stream_seconds, 3),
    }


def main(argv: list[str]) -> None:
    n = int(float(argv[1])) if len(argv) > 1 else 1_000_000
    print(json.dumps(run(n)))


if __name__ == "__main__":
    main(sys.argv)
