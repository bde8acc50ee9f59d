"""Proxy headers against a real `isomargin serve`: X-Forwarded-For is believed only from a --trusted-proxy, so
a client on loopback cannot step out of its rate-limit ban by naming another address (issue 11: uvicorn
trusted proxy headers from 127.0.0.1 by default, and the ban was bypassed with any X-Forwarded-For).
"""

from __future__ import annotations

import http.client
from pathlib import Path

from isomargin.server.testing import RunningVenue

LIMIT = 30  # request weight per minute; /fapi/v1/time weighs 1
BAN_AFTER = 20  # refusals in one window before 418 (the server's default, docs/server.md)
PATH = "/fapi/v1/time"


def get(port: int, forwarded: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", PATH, headers={"X-Forwarded-For": forwarded} if forwarded else {})
        return conn.getresponse().status
    finally:
        conn.close()


def ban(port: int, forwarded: str | None = None) -> list[int]:
    """Spend the window and keep going until the server bans: LIMIT answers, then 429s, then 418."""
    seen = [get(port, forwarded) for _ in range(LIMIT + BAN_AFTER + 2)]
    assert seen[:LIMIT] == [200] * LIMIT and seen[-1] == 418, seen
    return seen


def test_forwarded_for_is_ignored_without_a_trusted_proxy(tmp_path: Path) -> None:
    with RunningVenue(tmp_path / "data", "--no-feed", "--no-market-maker", "--rate-limit", str(LIMIT)) as v:
        ban(v.port)
        for spoof in ("203.0.113.9", "198.51.100.7, 203.0.113.9", "::1", "unknown"):
            assert get(v.port, spoof) == 418, spoof  # still the loopback peer, still banned


def test_a_trusted_proxy_keys_limits_on_the_forwarded_client(tmp_path: Path) -> None:
    extra = ("--no-feed", "--no-market-maker", "--rate-limit", str(LIMIT), "--trusted-proxy", "127.0.0.1/32")
    with RunningVenue(tmp_path / "data", *extra) as v:
        ban(v.port, "203.0.113.9")
        assert get(v.port, "203.0.113.9") == 418
        assert get(v.port, "198.51.100.7") == 200  # another client behind the same proxy is its own budget
        # Prepending an address does not help: the client is the rightmost address the proxy did not add.
        assert get(v.port, "198.51.100.7, 203.0.113.9") == 418
