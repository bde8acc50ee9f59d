"""Signed order placement over loopback: orders/s and p50/p99 latency, beside the same server's bare
health route (the ratio shows what signing, validation, the engine and the journal's group commit cost).

Starts `isomargin serve` (SQLite journal in a temp dir, rate limits off, no feed or market maker), then C
client threads with keep-alive connections each send N signed POST /fapi/v1/order (resting limit orders,
alternating far bids and asks, so every order is accepted and journaled) and N GET /health.
Usage: python bench/api_orders.py [N per client, default 500] [clients, default 8] — prints one JSON line.
"""

from __future__ import annotations

import http.client
import json
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    with tempfile.TemporaryDirectory() as tmp:
        v = RunningVenue(Path(tmp) / "data", "--no-feed", "--no-market-maker", "--rate-limit", "0", "--demo-account")
        try:
            creds = v.credentials()
            v.admin("deposit", {"account": creds["account"], "amount": "100000000"})
            run(v.port, 20, 2, "order", creds)  # warm-up
            o_time, o_lat, o_err = run(v.port, n, clients, "order", creds)
            h_time, h_lat, h_err = run(v.port, n, clients, "health", creds)
        finally:
            v.stop()
    total = n * clients
    orders_per_s = total / o_time
    health_per_s = total / h_time
    print(json.dumps({
        "bench": "api_orders", "clients": clients, "orders": total, "errors": o_err + h_err,
        "orders_per_s": round(orders_per_s, 1), "order_p50_ms": round(pct(o_lat, 50), 2),
        "order_p99_ms": round(pct(o_lat, 99), 2), "health_per_s": round(health_per_s, 1),
        "health_p50_ms": round(pct(h_lat, 50), 2), "health_p99_ms": round(pct(h_lat, 99), 2),
        "orders_vs_health": round(orders_per_s / health_per_s, 3), "journal": "sqlite (synchronous=FULL, group commit)",
    }))  # fmt: skip


if __name__ == "__main__":
    main()
