"""Request authentication (Binance HMAC-SHA256 signing; ASCII keys and hex signatures; timestamp and recvWindow
through the integer grammar; permissions), request parameters with duplicates refused, and weighted rate limits
(HTTP 429 with Retry-After; 418 for clients that keep going after being told to stop).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import Request

from isomargin.server.errors import ApiError
from isomargin.server.keys import ApiKey, KeyStore, strip_signature, verify
from isomargin.server.params import form_pairs, parse_int, reject_duplicates


@dataclass(frozen=True, slots=True)
class Principal:
    account: int
    key: str
    permissions: tuple[str, ...]


API_KEY_MAX_CHARS: Final = 128  # issued keys are 64 hex chars; anything much longer is not a key
SIGNATURE_CHARS: Final = 64  # hex of an HMAC-SHA256
DEFAULT_RECV_WINDOW_MS: Final = 5000
MAX_AHEAD_MS: Final = 1000  # Binance refuses a timestamp more than 1 s ahead of its clock
_API_KEY = re.compile(f"[A-Za-z0-9]{{1,{API_KEY_MAX_CHARS}}}")
_SIGNATURE = re.compile(f"[0-9a-fA-F]{{{SIGNATURE_CHARS}}}")


def _auth_error(status: int, code: str, message: str, binance: int, bmsg: str | None = None) -> ApiError:
    return ApiError(status, code, message, binance, bmsg)


def _is_form(raw: str, content_type: str) -> bool:
    """Whether a body carries parameters: a form, or any body that is not JSON (Binance clients send forms)."""
    return bool(raw) and ("form" in content_type or not raw.lstrip().startswith(("{", "[")))


_PARAMS_KEY: Final = "isomargin.params"  # where a request's parsed parameters are kept (its ASGI scope)


def raw_query(request: Request) -> str:
    """The raw query string, as `request.url.query` gives it (the same decoding and `urlsplit` rules), without
    building the whole URL: the path and host around it cannot contain a '?' or a '#' there."""
    raw: bytes = request.scope.get("query_string", b"")
    return urlsplit("?" + raw.decode()).query


async def request_params(request: Request) -> tuple[str, str, dict[str, str]]:
    """(raw query, raw body, merged parameters) — body parameters only for form bodies. A parameter sent twice
    (in the query, in the body, or once in each) is refused: taking the first or the last would let a proxy and
    the venue read different requests from the same bytes. Parsed once per request (authentication and the
    handler ask for the same thing); the answer is kept in the request's scope."""
    scope = request.scope
    cached: tuple[str, str, dict[str, str]] | None = scope.get(_PARAMS_KEY)
    if cached is not None:
        return cached
    query = raw_query(request)
    raw = (await request.body()).decode("utf-8", "replace")
    pairs = form_pairs(query)
    if _is_form(raw, request.headers.get("content-type", "")):
        pairs += form_pairs(raw)
    reject_duplicates(pairs)
    scope[_PARAMS_KEY] = out = (query, raw, dict(pairs))
    return out


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    reject_duplicates(pairs)
    return dict(pairs)


async def no_duplicates(request: Request) -> None:
    """A dependency of the native API: no query parameter twice, and no JSON object with a key twice (json.loads
    keeps the last, other parsers the first)."""
    await request_params(request)
    raw = await request.body()
    if raw.lstrip().startswith(b"{"):
        with contextlib.suppress(ValueError, RecursionError):  # malformed JSON is the body validator's to report
            json.loads(raw, object_pairs_hook=_no_duplicate_keys)


def api_key_of(request: Request, keys: KeyStore) -> ApiKey:
    """The request's key: ASCII letters and digits only (a header is Latin-1 text, and no key is anything else),
    then known."""
    sent = request.headers.getlist("x-mbx-apikey")
    if len(sent) > 1:  # which one would a proxy log or rate-limit on? Refused, like a duplicated parameter
        raise _auth_error(401, "bad_api_key", "send one X-MBX-APIKEY header", -2014, "API-key format invalid.")
    api_key = sent[0] if sent else None
    if not api_key:
        raise _auth_error(401, "missing_api_key", "send your API key in the X-MBX-APIKEY header", -2014,
                          "API-key format invalid.")  # fmt: skip
    if not _API_KEY.fullmatch(api_key):
        raise _auth_error(401, "bad_api_key", f"an API key is 1..{API_KEY_MAX_CHARS} ASCII letters and digits",
                          -2014, "API-key format invalid.")  # fmt: skip
    key = keys.get(api_key)
    if key is None:
        raise _auth_error(401, "invalid_api_key", "unknown API key", -2015,
                          "Invalid API-key, IP, or permissions for action.")  # fmt: skip
    return key


def _check_time(params: dict[str, str], recv_window_max: int) -> None:
    """timestamp and recvWindow through the integer grammar, then the window: at most 1 s ahead, at most
    recvWindow behind."""
    ts_text = params.get("timestamp")
    if not ts_text:
        raise _auth_error(400, "missing_timestamp", "a signed request needs a timestamp parameter (ms)", -1102,
                          "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")  # fmt: skip
    ts = parse_int(ts_text, "timestamp")
    recv_text = params.get("recvWindow") or str(DEFAULT_RECV_WINDOW_MS)
    try:
        recv = parse_int(recv_text, "recvWindow", lo=1, hi=recv_window_max)
    except ApiError as exc:
        if exc.code != "bad_parameter":
            raise
        raise _auth_error(400, "bad_recv_window", f"recvWindow must be 1..{recv_window_max} ms", -1131,
                          "recvWindow must be less than 60000") from None  # fmt: skip
    now = int(time.time() * 1000)
    if ts > now + MAX_AHEAD_MS:
        raise _auth_error(400, "timestamp_ahead", "timestamp is more than 1 s ahead of server time", -1021,
                          "Timestamp for this request was 1000ms ahead of the server's time.")  # fmt: skip
    if now - ts > recv:
        raise _auth_error(400, "timestamp_stale", "timestamp is outside the recvWindow", -1021,
                          "Timestamp for this request is outside of the recvWindow.")  # fmt: skip


def _check_signature(secret: str, query: str, raw: str) -> None:
    """The signature is 64 hex digits (checked before comparing: compare_digest takes ASCII only) over the query
    string followed by the body."""
    sig = strip_signature(query)[1] or strip_signature(raw)[1]
    if sig is None or not _SIGNATURE.fullmatch(sig) or not verify(secret, query, raw):
        raise _auth_error(401, "bad_signature", "signature does not match (HMAC-SHA256 of query string + body)",
                          -1022, "Signature for this request is not valid.")  # fmt: skip


async def authenticate(request: Request, keys: KeyStore, permission: str, recv_window_max: int) -> Principal:
    """Check key, timestamp/recvWindow and signature, then the key's permission; raise ApiError if any fails."""
    key = api_key_of(request, keys)
    query, raw, params = await request_params(request)
    _check_time(params, recv_window_max)
    _check_signature(key.secret, query, raw)
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
    "/api/v3/exchangeInfo": 20,  # Binance spot's weights for the heavier reads
    "/api/v3/depth": 5,
    "/api/v3/klines": 2,
    "/api/v3/ticker/24hr": 2,
    "/api/v3/account": 20,
    "/api/v3/allOrders": 20,
    "/api/v3/myTrades": 20,
    "/sapi/v1/margin/isolated/account": 10,
    "/sapi/v1/margin/allOrders": 200,
    "/sapi/v1/margin/myTrades": 10,
}


def weight_of(path: str) -> int:
    return WEIGHTS.get(path, 1)
