"""Crash recovery: kill -9 a child journaling a seeded command stream ≥ 1000 times, recover after each kill.

The child (isomargin.journal.crashchild) applies the stream in random groups of 1..32 and acknowledges each
group on stdout after its sync; the parent SIGKILLs it at random moments, recovers the journal, and checks
that every acknowledged seq survived and that the recovered hash equals a clean replay of the same prefix.
The stream crosses orders (limit and market) and liquidates a 20x isolated account now and then.
Prints one JSON line: kills, lost acknowledgements (must be 0), journal_behind refusals (must be 0), hash
mismatches (must be 0), fills and liquidations in the journaled prefixes, engine fail-stops the streams met
(engine bugs: the round ends there, its durable prefix checked like any other), and recovery time (mean, and
per 100k journaled commands).
Usage: python bench/crash_recovery.py [--kills 1000] [--backend sqlite|postgresql] [--count 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

try:
    from isomargin.journal.crashloop import run_crash_trials
except ModuleNotFoundError:  # running from a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from isomargin.journal.crashloop import run_crash_trials

PG = os.environ.get("ISOMARGIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kills", type=int, default=1000)
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--count", type=int, default=5000, help="commands per stream (a round ends when one completes)")
    p.add_argument("--snapshot-every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    schemas: list[str] = []
    with tempfile.TemporaryDirectory(prefix="isomargin-crash-") as tmp:

        def fresh(round_no: int) -> str:
            if args.backend == "sqlite":
                return str(Path(tmp) / f"round{round_no}.sqlite3")
            schema = f"crash_{uuid.uuid4().hex[:12]}"
            schemas.append(schema)
            return f"{PG}{'&' if '?' in PG else '?'}schema={schema}"

        try:
            stats = run_crash_trials(
                fresh,
                kills=args.kills,
                count=args.count,
                snapshot_every=args.snapshot_every,
                seed=args.seed,
                log=(lambda s: print(s, file=sys.stderr)) if args.verbose else None,
            )
        finally:
            if schemas:
                import psycopg
                from psycopg import sql

                with psycopg.connect(PG, autocommit=True) as db:
                    for schema in schemas:
                        db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    result = {"bench": "crash_recovery", "backend": args.backend, "stream": args.count, **stats.as_dict()}
    print(json.dumps(result))
    bad = stats.lost_acks + stats.hash_mismatches + stats.record_mismatches + stats.behind_refusals
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
