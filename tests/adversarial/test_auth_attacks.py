"""Attacks on authentication and on other accounts, against a real server on loopback: bad, non-ASCII and
wrong-length signatures, bad API keys, timestamps and recvWindows outside the grammar or the window, parameters
sent twice or smuggled (query and body disagreeing), another account's orders by id and by client id, and N
threads racing the same client order id. Every refusal is checked to leave the engine's state hash unchanged.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import quote, urlencode

import pytest
from edge import Account, Answer, Env, Ledger, make_env

from isomargin.server.keys import sign

S = "BTCUSDT"
# A valid order far below the market (resting at 30,000 while the mark is 60,000): were an attack accepted, it
# would rest and move the state hash. 0.01 × 30,000 = 300 of notional, above the minimum of 100.
ORDER = [("symbol", S), ("side", "BUY"), ("type", "LIMIT"), ("quantity", "0.01"), ("price", "30000"),
         ("timeInForce", "GTC")]  # fmt: skip
NATIVE_ORDER = {"symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "30000"}
RACERS = 8  # threads sending the same client order id at once


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("auth"))


def now_ms() -> int:
    return int(time.time() * 1000)


def raw_http(env: Env, head: bytes, body: bytes = b"") -> Answer:
    """Send bytes as they are (http.client would refuse non-ASCII in a request line or header) and read the
    answer until the server closes."""
    length = f"Content-Length: {len(body)}\r\n".encode() if body else b""
    with socket.create_connection(("127.0.0.1", env.venue.port), timeout=30) as sock:
        sock.sendall(head + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + length + b"\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    reply = b"".join(chunks)
    top, _, payload = reply.partition(b"\r\n\r\n")
    status = int(top.split(b" ", 2)[1])
    text = payload.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Answer(status, parsed, text)


def fapi_signed(env: Env, pairs: Sequence[tuple[str, str]], *, who: Account | None = None,
                timestamp: str | None = None, extra: Sequence[tuple[str, str]] = (), signature: str | None = None,
                key: str | None = None, method: str = "POST", path: str = "v1/order") -> Answer:  # fmt: skip
    """A /fapi request signed over its query, with any part replaced: the timestamp, parameters added after
    the timestamp (recvWindow…), the signature, the key."""
    who = who or env.trader
    items = [*pairs, ("timestamp", timestamp if timestamp is not None else str(now_ms())), *extra]
    text = urlencode(items, quote_via=quote)
    sig = signature if signature is not None else sign(who.secret, text)
    return env.send(method, f"/fapi/{path}?{text}&signature={sig}", None,
                    {"X-MBX-APIKEY": key if key is not None else who.key})  # fmt: skip


def native_signed(env: Env, body: dict[str, str] | str, *, timestamp: str | None = None,
                  extra: Sequence[tuple[str, str]] = (), signature: str | None = None, key: str | None = None,
                  who: Account | None = None) -> Answer:  # fmt: skip
    """POST /api/v1/orders signed over query + body, with any part replaced (a str body is sent as it is)."""
    who = who or env.trader
    raw = body if isinstance(body, str) else json.dumps(body)
    text = urlencode([("timestamp", timestamp if timestamp is not None else str(now_ms())), *extra], quote_via=quote)
    sig = signature if signature is not None else sign(who.secret, text + raw)
    headers = {"X-MBX-APIKEY": key if key is not None else who.key, "Content-Type": "application/json"}
    return env.send("POST", f"/api/v1/orders?{text}&signature={sig}", raw.encode(), headers)


def both(ledger: Ledger, where: str, value: str, fapi_codes: Sequence[int], native_codes: Sequence[str],
         fapi: Answer, native: Answer) -> None:  # fmt: skip
    ledger.check("fapi", where, value, fapi, fapi_codes)
    ledger.check("native", where, value, native, native_codes)


# ================================================================ signatures
def test_bad_signatures(env: Env) -> None:
    ledger = Ledger(env)
    good = sign(env.trader.secret, "anything")
    other = sign(env.maker.secret, urlencode(ORDER))  # the maker's secret: a valid HMAC of another key
    for sig in ("", "0" * 64, "g" * 64, good[:63], good + "0", good * 2, other, "%C3%A9" + good[6:],
                "%20" + good, good[:32] + "%00" + good[35:], "x" * 5000):  # fmt: skip
        both(ledger, "signature", sig, [-1022, -1102], ["bad_signature", "bad_request"],
             fapi_signed(env, ORDER, signature=sig), native_signed(env, NATIVE_ORDER, signature=sig))  # fmt: skip
    ledger.finish()


def test_non_ascii_signature_bytes_are_a_401_not_a_500(env: Env) -> None:
    """The attacker's 500: `signature=é` as raw UTF-8 in a form body reached hmac.compare_digest as non-ASCII
    text. In the request line the HTTP parser itself refuses raw non-ASCII (400 before the app)."""
    ledger = Ledger(env)
    form = {"X-MBX-APIKEY": env.trader.key, "Content-Type": "application/x-www-form-urlencoded"}
    body = urlencode([*ORDER, ("timestamp", str(now_ms()))])
    for sig in ("é", "é" * 64, sign(env.trader.secret, body)[:-1] + "ſ", "\x00" * 64):
        ans = env.send("POST", "/fapi/v1/order", f"{body}&signature={sig}".encode(), form)
        ledger.check("fapi", "signature in body", sig, ans, [-1022])
    query = urlencode([*ORDER, ("timestamp", str(now_ms()))])
    head = f"POST /fapi/v1/order?{query}&signature=".encode() + "é".encode() + b" HTTP/1.1\r\nX-MBX-APIKEY: "
    ledger.check("fapi", "signature bytes in the request line", "é", raw_http(env, head + env.trader.key.encode()),
                 any_body=True)  # fmt: skip
    ts = urlencode([("timestamp", str(now_ms()))])
    head = f"POST /api/v1/orders?{ts}&signature=".encode() + "é".encode() * 32 + b" HTTP/1.1\r\nX-MBX-APIKEY: "
    head += env.trader.key.encode() + b"\r\nContent-Type: application/json"
    ledger.check("native", "signature bytes in the request line", "é" * 32,
                 raw_http(env, head, json.dumps(NATIVE_ORDER).encode()), any_body=True)  # fmt: skip
    ledger.finish()


# ================================================================ API keys
def test_bad_api_keys(env: Env) -> None:
    ledger = Ledger(env)
    key = env.trader.key
    # (a leading or trailing blank is not an attack: HTTP strips it from a header value)
    for bad in (key[:-1], key + "0", key.upper() if key.upper() != key else key.lower(), "0" * 64, "x" * 129,
                f"{key[:10]} {key[10:]}", f"{key},{key}", "null"):  # fmt: skip
        both(ledger, "X-MBX-APIKEY", bad, [-2014, -2015], ["bad_api_key", "invalid_api_key"],
             fapi_signed(env, ORDER, key=bad), native_signed(env, NATIVE_ORDER, key=bad))  # fmt: skip
    for raw_key in ("é".encode("latin-1"), "é".encode(), key.encode()[:-1] + "ı".encode(), b"\xff" * 64):
        query = urlencode([*ORDER, ("timestamp", str(now_ms()))])
        query += "&signature=" + sign(env.trader.secret, query)
        ans = raw_http(env, f"POST /fapi/v1/order?{query} HTTP/1.1\r\nX-MBX-APIKEY: ".encode() + raw_key)
        ledger.check("fapi", "X-MBX-APIKEY bytes", repr(raw_key), ans, [-2014])
    no_key = env.send("POST", "/fapi/v1/order?" + urlencode([*ORDER, ("timestamp", str(now_ms()))]))
    ledger.check("fapi", "X-MBX-APIKEY", "(none)", no_key, [-2014])
    ledger.finish()


def test_two_api_key_headers_are_refused(env: Env) -> None:
    """Two X-MBX-APIKEY headers (the trader's and the maker's): a proxy may log or limit on the other one."""
    ledger = Ledger(env)
    query = urlencode([*ORDER, ("timestamp", str(now_ms()))])
    query += "&signature=" + sign(env.trader.secret, query)
    for first, second in ((env.trader.key, env.maker.key), (env.maker.key, env.trader.key),
                          (env.trader.key, env.trader.key)):  # fmt: skip
        head = f"POST /fapi/v1/order?{query} HTTP/1.1\r\nX-MBX-APIKEY: {first}\r\nX-MBX-APIKEY: {second}"
        ledger.check("fapi", "two X-MBX-APIKEY", f"{first[:6]}…, {second[:6]}…", raw_http(env, head.encode()), [-2014])
    ledger.finish()


def test_hostile_json_bodies(env: Env) -> None:
    """JSON a parser chokes on or reads loosely: a 5,000-digit integer (past Python's int-from-text limit),
    100,000 levels of nesting, NaN and 1e999999 (floats), a lone surrogate, non-objects, stray bytes first."""
    ledger = Ledger(env)
    order = '{"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": %s}'
    for raw in (
        order % ("1" * 5000),
        order % "1e999999",
        order % "NaN",
        order % "-Infinity",
        order % '"\\ud800"',
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '"x"',
        "1e999999",
        "null",
        "[]",
        '{"symbol": "\\ud800", "side": "BUY", "type": "MARKET", "quantity": "1"}',
        "\xff\xfe{}",
    ):
        ledger.check("native", "POST orders body", raw[:40], native_signed(env, raw))
    ledger.finish()


def test_a_read_key_cannot_trade(env: Env) -> None:
    ledger = Ledger(env)
    r = env.venue.new_account("1000", permissions=("read",))
    reader = Account(r["account"], r["apiKey"], r["secret"])
    ledger.hash = env.state_hash()  # the new account is the setup, not an attack
    ledger.view = env.api_state()
    both(ledger, "permission", "read", [-2015], ["permission_denied"], fapi_signed(env, ORDER, who=reader),
         native_signed(env, NATIVE_ORDER, who=reader))  # fmt: skip
    ledger.finish()


# ================================================================ timestamps and recvWindow
def test_bad_timestamps(env: Env) -> None:
    ledger = Ledger(env)
    now = now_ms()
    grammar = ("²", "١٧" + str(now)[2:], "１" + str(now)[1:], "1" + "0" * 39, "9" * 21, "-1", "+" + str(now),
               f"{now}.0", "1.7e12", f" {now}", f"{now}\n", "NaN", "0x" + format(now, "x"),
               str(now) + "_0")  # fmt: skip
    for ts in grammar:
        both(ledger, "timestamp", ts, [-1100], ["bad_number"], fapi_signed(env, ORDER, timestamp=ts),
             native_signed(env, NATIVE_ORDER, timestamp=ts))  # fmt: skip
    both(ledger, "timestamp", "", [-1102], ["missing_timestamp"], fapi_signed(env, ORDER, timestamp=""),
         native_signed(env, NATIVE_ORDER, timestamp=""))  # fmt: skip
    # 1 s is the tolerance ahead; 5 s is the default window behind (Binance's rules)
    for ts in (str(now + 5_000), str(now + 3_600_000), "9" * 20):
        both(ledger, "timestamp", ts, [-1021], ["timestamp_ahead"], fapi_signed(env, ORDER, timestamp=ts),
             native_signed(env, NATIVE_ORDER, timestamp=ts))  # fmt: skip
    for ts in (str(now - 10_000), "0", "1"):
        both(ledger, "timestamp", ts, [-1021], ["timestamp_stale"], fapi_signed(env, ORDER, timestamp=ts),
             native_signed(env, NATIVE_ORDER, timestamp=ts))  # fmt: skip
    ts = str(now_ms() - 3_000)  # inside the default 5 s, outside a 1 s window the client asked for
    both(ledger, "timestamp", ts, [-1021], ["timestamp_stale"],
         fapi_signed(env, ORDER, timestamp=ts, extra=[("recvWindow", "1000")]),
         native_signed(env, NATIVE_ORDER, timestamp=ts, extra=[("recvWindow", "1000")]))  # fmt: skip
    ledger.finish()


def test_bad_recv_windows(env: Env) -> None:
    ledger = Ledger(env)
    for recv in ("١٠٠٠", "5e3", "5000.0", "-5000", " 5000", "1" + "0" * 39):
        both(ledger, "recvWindow", recv, [-1100], ["bad_number"], fapi_signed(env, ORDER, extra=[("recvWindow", recv)]),
             native_signed(env, NATIVE_ORDER, extra=[("recvWindow", recv)]))  # fmt: skip
    for recv in ("0", "60001", "9" * 20):  # the configured maximum is 60,000 ms
        both(ledger, "recvWindow", recv, [-1131], ["bad_recv_window"],
             fapi_signed(env, ORDER, extra=[("recvWindow", recv)]),
             native_signed(env, NATIVE_ORDER, extra=[("recvWindow", recv)]))  # fmt: skip
    ledger.finish()


def test_timestamp_from_unicode_digits_is_refused_before_anything_else(env: Env) -> None:
    """`timestamp=²` was a 500 (str.isdigit() accepts it, int() does not); now the grammar refuses it."""
    ledger = Ledger(env)
    for path in ("v2/account", "v1/openOrders"):
        ledger.check("fapi", f"GET {path} timestamp", "²",
                     fapi_signed(env, [], timestamp="²", method="GET", path=path), [-1100], "'timestamp'")  # fmt: skip
    ledger.finish()


# ================================================================ duplicated and smuggled parameters
def test_duplicated_parameters(env: Env) -> None:
    ledger = Ledger(env)
    ts = str(now_ms())
    for extra in ([("timestamp", ts)], [("quantity", "1")], [("symbol", S)], [("recvWindow", "5000")] * 2,
                  [("side", "SELL")]):  # fmt: skip
        ledger.check("fapi", "duplicate", str(extra), fapi_signed(env, ORDER, timestamp=ts, extra=extra), [-1101])
    query = urlencode([*ORDER, ("timestamp", str(now_ms()))])
    sig = sign(env.trader.secret, query)
    ans = env.send("POST", f"/fapi/v1/order?{query}&signature={sig}&signature={sig}", None,
                   {"X-MBX-APIKEY": env.trader.key})  # fmt: skip
    ledger.check("fapi", "duplicate", "signature", ans, [-1101])
    ledger.check("native", "duplicate", "timestamp",
                 native_signed(env, NATIVE_ORDER, timestamp=ts, extra=[("timestamp", ts)]),
                 ["duplicate_parameter"])  # fmt: skip
    for dup in ('"quantity": "1"', '"symbol": "ETHUSDT"', '"side": "SELL"'):
        text = json.dumps(NATIVE_ORDER)[:-1] + ", " + dup + "}"  # the same key again, later in the object
        ledger.check("native", "duplicate JSON key", dup, native_signed(env, text), ["duplicate_parameter"])
    public = env.send("GET", f"/api/v1/markets/{S}/book?limit=5&limit=1000")
    ledger.check("native", "duplicate", "limit (public)", public, ["duplicate_parameter"])
    ledger.check("fapi", "duplicate", "limit (public)", env.send("GET", f"/fapi/v1/depth?symbol={S}&limit=5&limit=10"),
                 [-1101])  # fmt: skip
    ledger.finish()


def test_smuggled_parameters_query_versus_body(env: Env) -> None:
    """A proxy that reads only the query (or only the body) must not see a different order than the venue: a
    parameter in both is refused, whichever way they disagree, and whatever the signature covers."""
    ledger = Ledger(env)
    for name, in_query, in_body in (("quantity", "0.01", "1"), ("side", "BUY", "SELL"), ("price", "30000", "70000"),
                                    ("timestamp", str(now_ms()), str(now_ms() - 4000)),
                                    ("quantity", "0.01", "0.01")):  # fmt: skip
        body_pairs = [(k, v) for k, v in ORDER if k != name] + [(name, in_body)]
        if name != "timestamp":
            body_pairs.append(("timestamp", str(now_ms())))
        query = urlencode([(name, in_query)])
        body = urlencode(body_pairs)
        sig = sign(env.trader.secret, query + body)
        ans = env.send(
            "POST",
            f"/fapi/v1/order?{query}&signature={sig}",
            body.encode(),
            {"X-MBX-APIKEY": env.trader.key, "Content-Type": "application/x-www-form-urlencoded"},
        )
        ledger.check("fapi", "query vs body", f"{name}: {in_query} / {in_body}", ans, [-1101])
    ledger.finish()


# ================================================================ another account's orders
def test_cross_account_access_is_not_found(env: Env) -> None:
    """The maker (account B) asks for and cancels the trader's (A's) resting order and stop, by id and by client
    id, on both APIs: each is "does not exist", and A's orders are untouched."""
    ledger = Ledger(env)
    b = env.maker
    rest, stop = str(env.resting_id), str(env.stop_id)
    reads = [
        ("GET", "v1/order", [("symbol", S), ("orderId", rest)]),
        ("GET", "v1/order", [("symbol", S), ("origClientOrderId", "rest-1")]),
        ("GET", "v1/openOrder", [("symbol", S), ("orderId", rest)]),
        ("GET", "v1/openOrder", [("symbol", S), ("origClientOrderId", "rest-1")]),
        ("GET", "v1/algoOrder", [("algoId", stop)]),
        ("GET", "v1/algoOrder", [("clientAlgoId", "stop-1")]),
    ]
    for method, path, pairs in reads:
        ledger.check("fapi", f"B {method} {path}", str(pairs[-1]), fapi_signed(env, pairs, who=b, method=method,
                                                                               path=path), [-2013])  # fmt: skip
    cancels = [
        ("v1/order", [("symbol", S), ("orderId", rest)]),
        ("v1/order", [("symbol", S), ("origClientOrderId", "rest-1")]),
        ("v1/algoOrder", [("algoId", stop)]),
        ("v1/algoOrder", [("clientAlgoId", "stop-1")]),
    ]
    for path, pairs in cancels:
        ledger.check("fapi", f"B DELETE {path}", str(pairs[-1]),
                     fapi_signed(env, pairs, who=b, method="DELETE", path=path), [-2011])  # fmt: skip
    for method in ("GET", "DELETE"):
        for oid in (rest, stop):
            ledger.check("native", f"B {method} orders/{{id}}", oid,
                         env.native(method, f"orders/{oid}", who=b), ["unknown_order"])  # fmt: skip
    ledger.finish()
    mine = {o["order_id"]: o["status"] for o in env.native("GET", "orders").body}
    assert mine.get(env.resting_id) == "NEW" and mine.get(env.stop_id) == "NEW", mine


# ================================================================ racing one client order id
def race(sends: Sequence[Callable[[], Answer]]) -> list[Answer]:
    """Run every send on its own thread, released together."""
    barrier = threading.Barrier(len(sends))
    answers: list[Answer] = []
    lock = threading.Lock()

    def one(send: Callable[[], Answer]) -> None:
        barrier.wait()
        ans = send()
        with lock:
            answers.append(ans)

    threads = [threading.Thread(target=one, args=(send,)) for send in sends]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def _resting(env: Env, coid: str) -> list[dict[str, object]]:
    return [o for o in env.native("GET", "orders").body if o["client_order_id"] == coid]


@pytest.mark.parametrize("api", ["fapi", "native"])
def test_concurrent_duplicate_client_ids_rest_once(env: Env, api: str) -> None:
    """RACERS threads send the same newClientOrderId at the same moment, each with its own price: exactly one
    order rests, the others are refused as reusing the id (Binance -4015 on /fapi, 409 on the native API)."""
    coid = f"race-{api}-1"
    prices = [str(30000 + 10 * i) for i in range(RACERS)]  # distinct requests under one id
    if api == "fapi":
        sends = [lambda p=p: fapi_signed(env, [*ORDER[:4], ("price", p), ("newClientOrderId", coid)]) for p in prices]
    else:
        sends = [lambda p=p: native_signed(env, {**NATIVE_ORDER, "price": p, "client_order_id": coid}) for p in prices]
    answers = race(sends)
    statuses = sorted(a.status for a in answers)
    assert statuses == [200] + [400 if api == "fapi" else 409] * (RACERS - 1), [a.text[:120] for a in answers]
    refused = {a.body["code"] for a in answers if a.status != 200}
    assert refused == ({-4015} if api == "fapi" else {"idempotency_key_reused"}), refused
    resting = _resting(env, coid)
    assert len(resting) == 1 and resting[0]["status"] == "NEW", resting
    assert env.native("DELETE", f"orders/{resting[0]['order_id']}").status == 200  # leave the book as found


def test_concurrent_identical_retries_are_one_order(env: Env) -> None:
    """The same request under one client id, RACERS times at once (a client retrying): one order, and every
    answer is that order."""
    coid = "race-retry-1"
    answers = race([lambda: native_signed(env, {**NATIVE_ORDER, "client_order_id": coid})] * RACERS)
    assert [a.status for a in answers] == [200] * RACERS, [a.text[:120] for a in answers]
    assert len({a.body["order_id"] for a in answers}) == 1
    resting = _resting(env, coid)
    assert len(resting) == 1 and resting[0]["order_id"] == answers[0].body["order_id"], resting
    assert env.native("DELETE", f"orders/{resting[0]['order_id']}").status == 200
