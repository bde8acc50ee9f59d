"""The signed-request checks on /dapi (Binance COIN-M), against a real server on loopback: the same scheme as
/fapi (one dispatch, one verifier), so the same refusals with Binance's codes — no key -2014, unknown or
read-only key -2015, bad signature -1022, stale or future timestamp -1021, Unicode timestamp -1100, duplicated
parameter -1101 — and another account's order is "does not exist" (-2013; cancel -2011). Nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from urllib.parse import quote, urlencode

import pytest
from edge import Account, Answer, Env, Ledger, make_dapi_env

from isomargin.server.keys import sign

S = "BTCUSD_PERP"
ORDER = [("symbol", S), ("side", "BUY"), ("type", "LIMIT"), ("quantity", "1"), ("price", "40000"),
         ("timeInForce", "GTC")]  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_dapi_env(tmp_path_factory.mktemp("dapi-auth"))


def now_ms() -> int:
    return int(time.time() * 1000)


def dapi_signed(env: Env, pairs: Sequence[tuple[str, str]], *, who: Account | None = None,
                timestamp: str | None = None, extra: Sequence[tuple[str, str]] = (), signature: str | None = None,
                key: str | None = None, method: str = "POST", path: str = "v1/order") -> Answer:  # fmt: skip
    who = who or env.trader
    items = [*pairs, ("timestamp", timestamp if timestamp is not None else str(now_ms())), *extra]
    text = urlencode(items, quote_via=quote)
    sig = signature if signature is not None else sign(who.secret, text)
    return env.send(method, f"/dapi/{path}?{text}&signature={sig}", None,
                    {"X-MBX-APIKEY": key if key is not None else who.key})  # fmt: skip


def test_keys_and_signatures(env: Env) -> None:
    ledger = Ledger(env)
    query = urlencode([*ORDER, ("timestamp", str(now_ms()))])
    ledger.check("dapi", "X-MBX-APIKEY", "(none)", env.send("POST", f"/dapi/v1/order?{query}"), [-2014])
    for bad in ("0" * 64, "nokey", "k" * 129, "a-b"):
        ledger.check("dapi", "key", bad, dapi_signed(env, ORDER, key=bad), [-2014, -2015])
    for sig in ("0" * 64, "zz", "", "%C3%A9" * 64, "A" * 65):
        ledger.check("dapi", "signature", sig, dapi_signed(env, ORDER, signature=sig), [-1022])
    for path in ("v1/account", "v1/positionRisk", "v1/balance", "v2/leverageBracket"):
        ledger.check("dapi", f"GET {path} signature", "0" * 64,
                     dapi_signed(env, [], signature="0" * 64, method="GET", path=path), [-1022])  # fmt: skip
    ledger.finish()


def test_timestamps(env: Env) -> None:
    ledger = Ledger(env)
    for ts in ("²", "１", "1e12", "NaN", "1" + "0" * 40):
        ledger.check("dapi", "timestamp", ts, dapi_signed(env, ORDER, timestamp=ts), [-1100], "'timestamp'")
    for ts in (str(now_ms() + 60_000), str(now_ms() - 120_000), "0"):
        ledger.check("dapi", "timestamp", ts, dapi_signed(env, ORDER, timestamp=ts), [-1021])
    for recv in ("0", "60001"):
        ledger.check("dapi", "recvWindow", recv, dapi_signed(env, ORDER, extra=[("recvWindow", recv)]), [-1131])
    ledger.finish()


def test_a_read_key_cannot_trade(env: Env) -> None:
    made = env.venue.admin("api-keys", {"account": env.trader.account, "permissions": ["read"]})
    reader = Account(env.trader.account, made["apiKey"], made["secret"])
    ledger = Ledger(env)
    writes = (("POST", "v1/order", ORDER), ("POST", "v1/leverage", [("symbol", S), ("leverage", "5")]),
              ("POST", "v1/positionMargin", [("symbol", S), ("amount", "0.01"), ("type", "1")]),
              ("DELETE", "v1/allOpenOrders", [("symbol", S)]))  # fmt: skip
    for method, path, pairs in writes:
        ledger.check("dapi", f"read key {method} {path}", "read",
                     dapi_signed(env, pairs, who=reader, method=method, path=path), [-2015])  # fmt: skip
    assert dapi_signed(env, [], who=reader, method="GET", path="v1/account").status == 200
    ledger.finish()


def test_duplicated_parameters(env: Env) -> None:
    ledger = Ledger(env)
    for extra in ([("quantity", "2")], [("timestamp", str(now_ms()))], [("symbol", "ETHUSD_PERP")]):
        ledger.check("dapi", "duplicate", str(extra), dapi_signed(env, ORDER, extra=extra), [-1101])
    ledger.finish()


def test_cross_account_access_is_not_found(env: Env) -> None:
    ledger = Ledger(env)
    rest = str(env.resting_id)
    for method, path, pairs in (("GET", "v1/order", [("symbol", S), ("orderId", rest)]),
                                ("GET", "v1/order", [("symbol", S), ("origClientOrderId", "rest-1")]),
                                ("GET", "v1/openOrder", [("symbol", S), ("orderId", rest)])):  # fmt: skip
        ledger.check("dapi", f"B {method} {path}", str(pairs[-1]),
                     dapi_signed(env, pairs, who=env.maker, method=method, path=path), [-2013])  # fmt: skip
    for pairs in ([("symbol", S), ("orderId", rest)], [("symbol", S), ("orderId", str(env.stop_id))]):
        ledger.check("dapi", "B DELETE v1/order", str(pairs[-1]),
                     dapi_signed(env, pairs, who=env.maker, method="DELETE", path="v1/order"), [-2011])  # fmt: skip
    ledger.finish()


def test_a_linear_order_id_is_not_a_coinm_order(env: Env) -> None:
    """/dapi shows only coin-margined orders: a /fapi symbol is -1121, the /fapi API does not see /dapi orders."""
    ledger = Ledger(env)
    pairs = [("symbol", "BTCUSDT"), *ORDER[1:]]
    ledger.check("dapi", "symbol", "BTCUSDT", dapi_signed(env, pairs), [-1121])
    ledger.check("fapi", "symbol", S, env.fapi("POST", "v1/order", ORDER), [-1121])
    ledger.check("fapi", "orderId", str(env.resting_id),
                 env.fapi("GET", "v1/order", [("symbol", "BTCUSDT"), ("orderId", str(env.resting_id))], "read"),
                 [-2013])  # fmt: skip
    ledger.finish()
