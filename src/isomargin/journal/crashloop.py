"""Kill -9 harness: run `crashchild` against a journal, SIGKILL it at random moments, recover, check.

After every kill the parent recovers the journal itself and checks that every acknowledged seq is there
(the SQLite high-water mark would refuse the open if not: counted as lost), that every journaled record is the
stream's command, and that the recovered state hash equals a clean in-memory replay of the same prefix; the
replay counts the fills and liquidations the journaled prefix holds. Shared by tests/journal and
bench/crash_recovery.py.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from isomargin.engine import Engine
from isomargin.engine.events import AutoDeleveraged, Liquidated, Trade
from isomargin.engine.snapshot import state_hash
from isomargin.journal.codec import command_bytes
from isomargin.journal.crashchild import retry_locked, seeded_stream
from isomargin.journal.errors import JournalCode, JournalError
from isomargin.journal.journal import open_journal
from isomargin.journal.replay import rebuild


@dataclass(slots=True)
class CrashStats:
    kills: int = 0
    rounds: int = 0
    acked: int = 0  # highest acknowledged seq, summed over rounds
    lost_acks: int = 0  # acknowledged seqs missing after recovery (must be 0)
    hash_mismatches: int = 0  # recoveries whose hash differs from a clean replay (must be 0)
    record_mismatches: int = 0  # journaled records that are not the stream's command (must be 0)
    behind_refusals: int = 0  # recoveries refused with journal_behind (acknowledged records lost; must be 0)
    fills: int = 0  # Trade events in the journaled prefixes (each counted once)
    liquidations: int = 0  # Liquidated and AutoDeleveraged events likewise
    engine_halts: list[str] = field(default_factory=list)  # fail-stops the streams met (engine bugs, not losses)
    recoveries: int = 0
    recovery_seconds: float = 0.0
    journaled_at_recovery: int = 0  # sum over recoveries of the journal length recovered
    replayed: int = 0  # sum over recoveries of records replayed after the snapshot
    wall_seconds: float = 0.0
    engine_changed: bool = False  # the engine's source changed during the run: mismatches are not the journal's

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        n = max(self.recoveries, 1)
        out["recovery_ms_mean"] = round(1000 * self.recovery_seconds / n, 2)
        out["recovery_s_per_100k_journaled"] = round(
            1e5 * self.recovery_seconds / max(self.journaled_at_recovery, 1), 3
        )
        out["recovery_seconds"] = round(self.recovery_seconds, 3)
        out["wall_seconds"] = round(self.wall_seconds, 2)
        return out


def _child(target: str, seed: int, count: int, batch: int, snapshot_every: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "isomargin.journal.crashchild", target, "--seed", str(seed), "--count", str(count)]
    args += ["--batch", str(batch), "--snapshot-every", str(snapshot_every)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_crash_trials(
    new_target: Callable[[int], str],
    *,
    kills: int,
    count: int = 3000,
    batch: int = 32,
    snapshot_every: int = 500,
    seed: int = 1,
    max_acks_before_kill: int = 60,
    log: Callable[[str], None] | None = None,
) -> CrashStats:
    """Kill `kills` children; `new_target(round)` gives a fresh, empty journal for each round (a round ends
    when a child gets through the whole stream of `count` commands)."""
    rng = random.Random(seed)
    stats = CrashStats()
    source = engine_fingerprint()
    t_start = time.perf_counter()
    while stats.kills < kills:
        round_no = stats.rounds
        stats.rounds += 1
        target = new_target(round_no)
        stream_seed = seed * 1000 + round_no
        stream = seeded_stream(stream_seed, count)
        ref, ref_seq, checked, acked = Engine(), 0, 0, 0
        done = False
        while not done and stats.kills < kills:
            proc = _child(target, stream_seed, count, batch, snapshot_every)
            assert proc.stdout is not None
            want = rng.randint(0, max_acks_before_kill)
            seen = 0
            lines: list[bytes] = []
            if want == 0:
                time.sleep(rng.uniform(0.0, 0.4))  # may land in start-up, recovery or a snapshot
            else:
                while seen < want:
                    line = proc.stdout.readline()
                    if not line:
                        break
                    lines.append(line)
                    if line.startswith(b"ack "):
                        seen += 1
                    elif line.startswith((b"done ", b"halted ")):
                        done = True
                        break
                time.sleep(rng.uniform(0.0, 0.005))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                stats.kills += 1
            rest, errors = proc.communicate()
            lines.extend(rest.splitlines(keepends=True))
            for line in lines:
                if not line.endswith(b"\n"):
                    continue  # a line cut by the kill was never a complete acknowledgement
                if line.startswith(b"ack "):
                    acked = max(acked, int(line.split()[1]))
                elif line.startswith(b"done "):
                    done = True
                elif line.startswith(b"halted "):  # the stream meets an engine bug here: the round ends with it
                    done = True
                    stats.engine_halts.append(line[7:].decode(errors="replace").strip()[:200])
            if proc.returncode not in (0, -signal.SIGKILL):
                raise RuntimeError(f"crash child failed ({proc.returncode}): {errors.decode(errors='replace')[-2000:]}")
            # -- recover and check ----------------------------------------------------------------------
            t0 = time.perf_counter()
            with retry_locked(functools.partial(open_journal, target)) as journal:
                try:
                    rebuilt = rebuild(journal)
                except JournalError as exc:
                    if exc.code != JournalCode.JOURNAL_BEHIND:
                        raise
                    # acknowledged records are gone and this journal refuses to go on: count them, next round
                    stats.behind_refusals += 1
                    stats.lost_acks += max(acked - checked, 1)
                    done = True
                    continue
                stats.recovery_seconds += time.perf_counter() - t0
                stats.recoveries += 1
                stats.journaled_at_recovery += rebuilt.last_seq
                stats.replayed += rebuilt.replayed
                last = rebuilt.last_seq
                if acked > last:
                    stats.lost_acks += acked - last
                for rec in journal.records(after=checked, upto=last):
                    if rec.payload != command_bytes(stream[rec.seq - 1]):
                        stats.record_mismatches += 1
                checked = max(checked, last)
                for cmd in stream[ref_seq:last]:
                    _count(stats, ref.apply(cmd))
                ref_seq = max(ref_seq, last)
                if state_hash(rebuilt.engine) != state_hash(ref):
                    stats.hash_mismatches += 1
            if log is not None:
                ms = rebuilt.seconds * 1000
                log(f"round {round_no} kill {stats.kills}: acked {acked}, journaled {last}, recovered in {ms:.0f} ms")
        stats.acked += acked
    stats.wall_seconds = time.perf_counter() - t_start
    stats.engine_changed = engine_fingerprint() != source
    return stats


def _count(stats: CrashStats, events: Sequence[object]) -> None:
    for ev in events:
        if isinstance(ev, Trade):
            stats.fills += 1
        elif isinstance(ev, Liquidated | AutoDeleveraged):
            stats.liquidations += 1


def engine_fingerprint() -> str:
    """SHA-256 of the engine's source: children import it afresh, so an edit mid-run would change the stream's
    outcome under the parent's reference replay."""
    import isomargin.engine

    root = Path(isomargin.engine.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
