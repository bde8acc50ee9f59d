"""Request authentication (Binance HMAC-SHA256 signing, recvWindow, permissions) and weighted rate limits
(HTTP 429 with Retry-After; 418 for clients that keep going after being told to stop).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request

from isomargin.server.errors import ApiError
from isomargin.server.keys import KeyStore, verify


@dataclass(frozen=True, slots=True)
class Principal:
    account: int
    key: str
    permissions: tuple[str, ...]


def _auth_error(status: int, code: str, message: str, binance: int, bmsg: str | None = None) -> ApiError:
    return ApiError(status, code, message, binance, bmsg)


async def request_params(request: Request) -> tuple[str, str, dict[str, str]]:
    """(raw query, raw body, merged parameters) — body parameters only for form bodies."""
    query = request.url.query
    raw = (await request.body()).decode("utf-8", "replace")
    params = dict(parse_qsl(query, keep_blank_values=True))
    ctype = request.headers.get("content-type", "")
    if raw and ("form" in ctype or not raw.lstrip().startswith(("{", "["))):
        params.update(parse_qsl(raw, keep_blank_values=True))
    return query, raw, params


async def authenticate(request: Request, keys: KeyStore, permission: str, recv_window_max: int) -> Principal:
    """Check key, timestamp/recvWindow and signature, then the key's permission; raise ApiError if any fails."""
    api_key = request.headers.get("x-mbx-apikey")
    if not api_key:
        raise _auth_error(401, "missing_api_key", "send your API key in the X-MBX-APIKEY header", -2014,
                          "API-key format invalid.")  # fmt: skip
    key = keys.get(api_key)
    if key is None:
        raise _auth_error(401, "invalid_api_key", "unknown API key", -2015,
                          "Invalid API-key, IP, or permissions for action.")  # fmt: skip
    query, raw, params = await request_params(request)
    ts_text = params.get("timestamp")
    if ts_text is None or not ts_text.isdigit():
        raise _auth_error(400, "missing_timestamp", "a signed request needs a timestamp parameter (ms)", -1102,
                          "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")  # fmt: skip
    recv_text = params.get("recvWindow", "5000")
    try:
        recv = int(recv_text)
    except ValueError:
        recv = -1
    if not (0 < recv <= recv_window_max):
        raise _auth_error(400, "bad_recv_window", f"recvWindow must be 1..{recv_window_max} ms", -1131,
                          "recvWindow must be less than 60000")  # fmt: skip
    now = int(time.time() * 1000)
    ts = int(ts_text)
    if ts > now + 1000:
        raise _auth_error(400, "timestamp_ahead", "timestamp is more than 1 s ahead of server time", -1021,
                          "Timestamp for this request was 1000ms ahead of the server's time.")  # fmt: skip
    if now - ts > recv:
        raise _auth_error(400, "timestamp_stale", "timestamp is outside the recvWindow", -1021,
                          "Timestamp for this request is outside of the recvWindow.")  # fmt: skip
    if not verify(key.secret, query, raw):
        raise _auth_error(401, "bad_signature", "signature does not match (HMAC-SHA256 of query string + body)",
                          -1022, "Signature for this request is not valid.")  # fmt: skip
    if permission not in key.permissions:
        raise _auth_error(403, "permission_denied", f"this API key lacks the '{permission}' permission", -2015,
                          "Invalid API-key, IP, or permissions for action.")  # fmt: skip
    return Principal(key.account, key.key, key.permissions)


class RateLimiter:
    """Request weight per client per minute (fixed windows, as Binance's X-MBX-USED-WEIGHT-1M)."""

    def __init__(self, limit: int, ban_after: int, ban_seconds: int) -> None:
        self.limit = limit
        self.ban_after = ban_after
        self.ban_seconds = ban_seconds
        self._lock = threading.Lock()
        self._used: dict[str, tuple[int, int, int]] = {}  # client -> (window, weight, refusals)
        self._banned: dict[str, float] = {}

    def charge(self, client: str, weight: int) -> int:
        """Add `weight`; return the weight used in this window, or raise 429/418."""
        if self.limit <= 0:
            return 0
        now = time.time()
        window = int(now // 60)
        with self._lock:
            until = self._banned.get(client)
            if until is not None:
                if now < until:
                    wait = math.ceil(until - now)
                    raise ApiError(418, "banned", f"IP banned until {int(until * 1000)} for ignoring 429s", -1003,
                                   f"Way too much request weight used; IP banned until {int(until * 1000)}.",
                                   {"Retry-After": str(wait)})  # fmt: skip
                del self._banned[client]
            w, used, refusals = self._used.get(client, (window, 0, 0))
            if w != window:
                w, used, refusals = window, 0, 0
            if used + weight > self.limit:
                refusals += 1
                self._used[client] = (w, used, refusals)
                if refusals > self.ban_after:
                    self._banned[client] = now + self.ban_seconds
                    self._used[client] = (w, used, 0)
                    raise ApiError(418, "banned", "IP banned for continuing after 429", -1003,
                                   "Way too much request weight used; IP banned.",
                                   {"Retry-After": str(self.ban_seconds)})  # fmt: skip
                wait = max(1, math.ceil((window + 1) * 60 - now))
                raise ApiError(429, "rate_limited", f"request weight above {self.limit} per minute", -1003,
                               f"Too much request weight used; current limit is {self.limit} request weight per "
                               "1 MINUTE. Please use the websocket for live updates to avoid polling the API.",
                               {"Retry-After": str(wait)})  # fmt: skip
            used += weight
            self._used[client] = (w, used, refusals)
            return used


WEIGHTS: dict[str, int] = {
    "/fapi/v1/exchangeInfo": 1,
    "/fapi/v1/depth": 5,
    "/fapi/v1/klines": 2,
    "/fapi/v1/markPriceKlines": 2,
    "/fapi/v1/ticker/24hr": 1,
    "/fapi/v1/allOrders": 5,
    "/fapi/v1/userTrades": 5,
    "/fapi/v1/income": 30,
    "/fapi/v2/account": 5,
    "/fapi/v3/account": 5,
    "/fapi/v2/positionRisk": 5,
    "/fapi/v3/positionRisk": 5,
}


def weight_of(path: str) -> int:
    return WEIGHTS.get(path, 1)
