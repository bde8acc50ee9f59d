"""Signed order placement over loopback: orders/s and p50/p99 latency, beside the same server's bare
health route (the ratio shows what signing, validation, the engine and the journal's group commit cost).

Starts `isomargin serve` (SQLite journal in a temp dir, rate limits off, no feed or market maker), then C
client threads with keep-alive connections each send N signed POST /fapi/v1/order (resting limit orders,
alternating far bids and asks, so every order is accepted and journaled) and N GET /health, in R interleaved
rounds (the machine is noisy: order and health runs alternate, and the median round is reported); the server's
CPU time per request (from /proc) is printed beside the rates. Targets (issue 11): orders/s >= 0.5 of health/s
with the order p99 < 10 ms.
Usage: python bench/api_orders.py [N per client, default 500] [clients, default 8] [rounds, default 3]
prints one JSON line.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

try:
    import isomargin.server  # noqa: F401
except ModuleNotFoundError:  # a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from isomargin.server.keys import sign
from isomargin.server.testing import RunningVenue


def run(port: int, n: int, clients: int, job: str, creds: dict[str, str]) -> tuple[float, list[float], int]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        barrier.wait()
        for k in range(n):
            if job == "order":
                side = "BUY" if k % 2 else "SELL"
                price = "30000" if side == "BUY" else "90000"
                q = urlencode({"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": "GTC",
                               "quantity": "0.004", "price": price, "timestamp": int(time.time() * 1000)})  # fmt: skip
                body = q + "&signature=" + sign(creds["secret"], q)
                t0 = time.perf_counter()
                conn.request("POST", "/fapi/v1/order", body, {"X-MBX-APIKEY": creds["apiKey"],
                             "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
            else:
                t0 = time.perf_counter()
                conn.request("GET", "/health")
            resp = conn.getresponse()
            resp.read()
            latencies[i].append(time.perf_counter() - t0)
            if resp.status != 200:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return elapsed, [x for lat in latencies for x in lat], sum(errors)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cancel_all(port: int, creds: dict[str, str]) -> None:
    """Cancel the account's resting orders (signed DELETE /fapi/v1/allOpenOrders): an account may hold at most
    10,000 open orders, and every round adds N x C."""
    q = urlencode({"symbol": "BTCUSDT", "timestamp": int(time.time() * 1000)})
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("DELETE", f"/fapi/v1/allOpenOrders?{q}&signature={sign(creds['secret'], q)}", headers={
        "X-MBX-APIKEY": creds["apiKey"]})  # fmt: skip
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"cancelling the resting orders failed: {resp.status} {body[:200]!r}")


def one_round(v: RunningVenue, n: int, clients: int, creds: dict[str, str]) -> dict[str, float]:
    cancel_all(v.port, creds)
    out: dict[str, float] = {}
    for job in ("order", "health"):
        c0 = cpu_seconds(v.proc.pid)
        elapsed, lat, err = run(v.port, n, clients, job, creds)
        cpu = cpu_seconds(v.proc.pid) - c0
        out |= {f"{job}_per_s": round(n * clients / elapsed, 1), f"{job}_p50_ms": round(pct(lat, 50), 2),
                f"{job}_p99_ms": round(pct(lat, 99), 2), f"{job}_server_cpu_us": round(cpu / (n * clients) * 1e6),
                f"{job}_errors": err}  # fmt: skip
    out["orders_vs_health"] = round(out["order_per_s"] / out["health_per_s"], 3)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory() as tmp:
        v = RunningVenue(Path(tmp) / "data", "--no-feed", "--no-market-maker", "--rate-limit", "0", "--demo-account")
        try:
            creds = v.credentials()
            v.admin("deposit", {"account": creds["account"], "amount": "100000000"})
            run(v.port, 20, 2, "order", creds)  # warm-up
            results = [one_round(v, n, clients, creds) for _ in range(rounds)]
        finally:
            v.stop()
    median = sorted(results, key=lambda r: r["orders_vs_health"])[len(results) // 2]
    print(json.dumps({
        "bench": "api_orders", "clients": clients, "orders_per_round": n * clients, "rounds": rounds, **median,
        "ratios": [r["orders_vs_health"] for r in results],
        "errors": sum(r["order_errors"] + r["health_errors"] for r in results),
        "meets_target": median["orders_vs_health"] >= 0.5 and median["order_p99_ms"] < 10,
        "journal": "sqlite (synchronous=FULL, pipelined group commit)",
    }))  # fmt: skip


if __name__ == "__main__":
    main()
