"""Kill -9 under load, at the server: every acknowledged order survives, nothing answered with an error appears.

Each round starts a real `isomargin serve` (SQLite journal, rate limits off) on the round's data directory, runs
client threads sending signed crossing LIMIT orders on /fapi/v1/order for two accounts (so they fill), SIGKILLs
the server at a random moment (quantities start at 0.001 BTC, below the 100 USDT minimum, so a few orders are
refused and must never appear), then checks: the journal rebuilt from its snapshot equals a full replay (state
hash, every event re-derived identically); after a restart on the same directory every acknowledged order is
there with at least the fills it was acknowledged with (a terminal status unchanged), and no client order id
that was answered with an error exists. Prints one JSON line; exit 1 if anything acknowledged was lost.
Usage: python bench/server_crash.py [--rounds 200] [--clients 4] [--rounds-per-dir 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

try:
    import isomargin.server  # noqa: F401
except ModuleNotFoundError:  # a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from isomargin.engine.snapshot import state_hash
from isomargin.journal import open_journal, rebuild
from isomargin.server.keys import sign
from isomargin.server.testing import RunningVenue, signed

SYMBOL = "BTCUSDT"
MID = 60000  # the venue's start mark for BTCUSDT; orders within a few ticks of it cross each other
SERVE_ARGS = ("--no-feed", "--no-market-maker", "--rate-limit", "0")
TERMINAL = frozenset({"FILLED", "CANCELED", "EXPIRED", "REJECTED"})


@dataclass(slots=True)
class Sent:
    """One order request and what the server said (status None: no answer before the kill)."""

    account: int  # index into the round's accounts
    client_id: str
    status: int | None = None
    body: Any = None


@dataclass(slots=True)
class CrashFigures:
    rounds: int = 0
    sent: int = 0
    acknowledged: int = 0
    acknowledged_then_lost: int = 0  # must be 0
    fills_regressed: int = 0  # acknowledged with fills the restarted server no longer shows (must be 0)
    errors: int = 0  # requests answered with an error status
    errored_present: int = 0  # an errored client id that exists after the restart (must be 0)
    unanswered: int = 0  # in flight at the kill: either outcome is allowed
    filled_orders: int = 0  # acknowledged orders with fills after the restart
    trades: int = 0  # Trade events in the journals at the end
    hash_mismatches: int = 0  # snapshot rebuild vs full replay (must be 0)
    divergent_events: int = 0  # replayed events that differ from the journaled ones (must be 0)
    restarts_refused: int = 0  # a restart that did not come up (must be 0)
    journaled: int = 0  # records in the journals at the end
    recovery_seconds: float = 0.0
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        bad = self.acknowledged_then_lost + self.fills_regressed + self.errored_present + self.hash_mismatches
        return bad + self.divergent_events + self.restarts_refused == 0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["recovery_seconds"] = round(self.recovery_seconds, 3)
        out["wall_seconds"] = round(self.wall_seconds, 2)
        out["notes"] = self.notes[:10]
        return out


def order_body(secret: str, side: str, price: int, qty: str, client_id: str) -> str:
    params = {"symbol": SYMBOL, "side": side, "type": "LIMIT", "timeInForce": "GTC", "quantity": qty,
              "price": str(price), "newClientOrderId": client_id, "timestamp": int(time.time() * 1000)}  # fmt: skip
    q = urlencode(params)
    return q + "&signature=" + sign(secret, q)


def load(port: int, creds: list[dict[str, Any]], clients: int, tag: str, seed: int) -> list[Sent]:
    """Client threads sending crossing orders until the server goes away; every request recorded."""
    sent: list[list[Sent]] = [[] for _ in range(clients)]

    def worker(i: int) -> None:
        rng = random.Random(seed * 7919 + i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        k = 0
        while True:
            acct = (i + k) % 2  # the two accounts take turns, one mostly buying, the other mostly selling
            side = ("BUY", "SELL")[acct] if rng.random() < 0.8 else ("SELL", "BUY")[acct]
            price = MID + rng.randint(-3, 3)
            qty = str(Decimal(rng.randint(1, 20)) / 1000)
            item = Sent(acct, f"{tag}t{i}n{k}")
            sent[i].append(item)
            k += 1
            body = order_body(creds[acct]["secret"], side, price, qty, item.client_id)
            try:
                conn.request("POST", "/fapi/v1/order", body, {"X-MBX-APIKEY": creds[acct]["apiKey"],
                             "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                return  # the server was killed: this request's outcome is unknown
            item.status, item.body = resp.status, json.loads(raw or b"null")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [s for per in sent for s in per]


def kill(venue: RunningVenue) -> None:
    os.kill(venue.proc.pid, signal.SIGKILL)
    venue.proc.wait()
    venue.log.close()


def check_journal(data: Path, figures: CrashFigures) -> None:
    """The journal as the killed server left it: snapshot + tail equals a full replay, events re-derived alike."""
    t0 = time.perf_counter()
    with open_journal(data, read_only=True) as j:
        quick = rebuild(j)
        figures.recovery_seconds += time.perf_counter() - t0
        full = rebuild(j, use_snapshots=False, verify_events=True)
    if state_hash(quick.engine) != state_hash(full.engine):
        figures.hash_mismatches += 1
        figures.notes.append(f"{data}: snapshot rebuild differs from the full replay")
    if full.divergent:
        figures.divergent_events += len(full.divergent)
        figures.notes.append(f"{data}: replay diverges at seq {full.divergent[0]}")
    if quick.report().lost:
        figures.notes.append(f"{data}: {quick.report().describe()}")


def check_orders(venue: RunningVenue, creds: list[dict[str, Any]], sent: list[Sent], figures: CrashFigures) -> None:
    """Ask the restarted server for every order of the round by id (acknowledged) or client id (errored)."""
    for item in sent:
        key, secret = creds[item.account]["apiKey"], creds[item.account]["secret"]
        if item.status == 200:
            figures.acknowledged += 1
            status, now = signed(venue.base, "/fapi/v1/order", key, secret,
                                 params={"symbol": SYMBOL, "orderId": item.body["orderId"]})  # fmt: skip
            if status != 200 or now.get("clientOrderId") != item.client_id:
                figures.acknowledged_then_lost += 1
                figures.notes.append(f"lost {item.client_id}: acknowledged {item.body}, now {status} {now}")
                continue
            acked, filled = Decimal(item.body["executedQty"]), Decimal(now["executedQty"])
            terminal_changed = item.body["status"] in TERMINAL and now["status"] != item.body["status"]
            if filled < acked or terminal_changed:
                figures.fills_regressed += 1
                figures.notes.append(f"{item.client_id}: acknowledged {item.body['status']} {acked}, now {now}")
            figures.filled_orders += filled > 0
        elif item.status is None:
            figures.unanswered += 1
        else:
            figures.errors += 1
            status, now = signed(venue.base, "/fapi/v1/order", key, secret,
                                 params={"symbol": SYMBOL, "origClientOrderId": item.client_id})  # fmt: skip
            if status == 200:
                figures.errored_present += 1
                figures.notes.append(f"{item.client_id} was answered {item.status} {item.body} but exists: {now}")


def start(data: Path, figures: CrashFigures) -> RunningVenue | None:
    try:
        return RunningVenue(data, *SERVE_ARGS)
    except RuntimeError as exc:
        figures.restarts_refused += 1
        log = data.parent / f"{data.name}-server.log"
        figures.notes.append(f"restart refused: {exc}: {log.read_text()[-500:] if log.exists() else ''}")
        return None


def count_trades(data: Path, figures: CrashFigures) -> None:
    with open_journal(data, read_only=True) as j:
        for rec in j.records():
            figures.journaled += 1
            if rec.events is not None:
                figures.trades += rec.events.count(b'"@type":"Trade"')


def run_rounds(
    rounds: int, clients: int = 4, rounds_per_dir: int = 20, seed: int = 1, root: Path | None = None,
    max_load_seconds: float = 1.5,
) -> CrashFigures:  # fmt: skip
    """`rounds` kill -9 rounds; a data directory serves `rounds_per_dir` of them (its journal grows meanwhile)."""
    rng = random.Random(seed)
    figures = CrashFigures()
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="isomargin-srvcrash-", dir=root) as tmp:
        dirs: list[Path] = []
        venue: RunningVenue | None = None
        creds: list[dict[str, Any]] = []
        for r in range(rounds):
            if r % rounds_per_dir == 0:
                if venue is not None:
                    venue.stop()
                dirs.append(Path(tmp) / f"dir{len(dirs)}")
                venue = start(dirs[-1], figures)
                if venue is None:
                    break
                creds = [venue.new_account("1000000000"), venue.new_account("1000000000")]
            assert venue is not None
            timer = threading.Timer(rng.uniform(0.05, max_load_seconds), lambda v=venue: kill(v))
            timer.start()
            sent = load(venue.port, creds, clients, f"r{r}", seed * 100_003 + r)
            timer.join()
            figures.rounds += 1
            figures.sent += len(sent)
            check_journal(dirs[-1], figures)
            venue = start(dirs[-1], figures)
            if venue is None:
                break
            check_orders(venue, creds, sent, figures)
        if venue is not None:
            venue.stop()
        for d in dirs:
            count_trades(d, figures)
    figures.wall_seconds = time.perf_counter() - t_start
    return figures


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--rounds-per-dir", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    figures = run_rounds(args.rounds, args.clients, args.rounds_per_dir, args.seed)
    print(json.dumps({"bench": "server_crash", "clients": args.clients, **figures.as_dict()}))
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
