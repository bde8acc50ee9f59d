"""Bad numbers on every numeric field of every /dapi (Binance COIN-M) endpoint, against a real server on
loopback: Unicode digits, exponents (1e999999), NaN/Infinity, 40 digits, signs, whitespace, huge inputs are
refused with -1100 naming the field; quantities that are not whole contracts (1.5, 0.5) with -1111, zero
contracts with -4003. Every refusal is a short 4xx in Binance's {code, msg} and changes nothing.

The fields come from the /dapi route table: a new endpoint needs a baseline below (or to be listed as taking no
number), so it is attacked as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from edge import BAD_DECIMALS, BAD_INTEGERS, Env, Ledger, make_dapi_env

from isomargin.server import dapi  # noqa: F401  (registers the /dapi routes)
from isomargin.server.dapi_base import DAPI

S = "BTCUSD_PERP"
ROUTES = DAPI.routes
DECIMAL_FIELDS = ("quantity", "price", "stopPrice", "triggerPrice", "amount")
INTEGER_FIELDS = ("limit", "orderId", "algoId", "startTime", "endTime", "leverage", "fromId")
MARGIN_TYPE_ROUTES = {"v1/positionMargin", "v1/positionMargin/history"}  # `type` is a number (1 add, 2 remove)
NUMERIC_FIELDS = DECIMAL_FIELDS + INTEGER_FIELDS
T = "9999999999999"
BASELINES: dict[tuple[str, str], list[dict[str, str]]] = {
    ("POST", "v1/order"): [
        {"symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "50000", "timeInForce": "GTC"},
        {"symbol": S, "side": "SELL", "type": "STOP_MARKET", "quantity": "1", "stopPrice": "50000"},
    ],
    ("POST", "v1/algoOrder"): [{"algoType": "CONDITIONAL", "symbol": S, "side": "SELL", "type": "STOP_MARKET",
                                "quantity": "1", "triggerPrice": "50000"}],
    ("GET", "v1/algoOrder"): [{"algoId": "{stop}"}],
    ("DELETE", "v1/algoOrder"): [{"algoId": "{stop}"}],
    ("GET", "v1/allAlgoOrders"): [{"symbol": S, "limit": "10"}],
    ("GET", "v1/order"): [{"symbol": S, "orderId": "{rest}"}],
    ("DELETE", "v1/order"): [{"symbol": S, "orderId": "{rest}"}],
    ("GET", "v1/openOrder"): [{"symbol": S, "orderId": "{rest}"}],
    ("GET", "v1/allOrders"): [{"symbol": S, "limit": "10", "startTime": "0", "endTime": T, "orderId": "1"}],
    ("GET", "v1/userTrades"): [{"symbol": S, "limit": "10", "orderId": "1", "startTime": "0", "endTime": T,
                                "fromId": "1"}],
    ("GET", "v1/income"): [{"symbol": S, "limit": "10", "startTime": "0", "endTime": T}],
    ("GET", "v1/forceOrders"): [{"symbol": S, "limit": "10", "startTime": "0", "endTime": T}],
    ("POST", "v1/leverage"): [{"symbol": S, "leverage": "10"}],
    ("POST", "v1/positionMargin"): [{"symbol": S, "amount": "0.001", "type": "1"}],
    ("GET", "v1/positionMargin/history"): [{"symbol": S, "type": "1", "limit": "5", "startTime": "0", "endTime": T}],
    ("GET", "v1/depth"): [{"symbol": S, "limit": "5"}],
    ("GET", "v1/trades"): [{"symbol": S, "limit": "5"}],
    ("GET", "v1/fundingRate"): [{"symbol": S, "limit": "5", "startTime": "0", "endTime": T}],
    **{("GET", f"v1/{k}"): [{"symbol": S, "pair": S, "interval": "1m", "limit": "5", "startTime": "0", "endTime": T}]
       for k in ("klines", "continuousKlines", "markPriceKlines", "indexPriceKlines")},
}  # fmt: skip
NO_NUMBERS = {
    ("GET", p) for p in ("v1/ping", "v1/time", "v1/exchangeInfo", "v1/ticker/24hr", "v1/ticker/price",
                         "v1/ticker/bookTicker", "v1/premiumIndex", "v1/account", "v1/balance", "v1/positionRisk",
                         "v1/leverageBracket", "v2/leverageBracket", "v1/commissionRate", "v1/positionSide/dual",
                         "v1/openOrders", "v1/openAlgoOrders")
} | {("POST", "v1/marginType"), ("POST", "v1/positionSide/dual"), ("DELETE", "v1/allOpenOrders"),
     ("DELETE", "v1/algoOpenOrders"),
     ("POST", "v1/listenKey"), ("PUT", "v1/listenKey"), ("DELETE", "v1/listenKey")}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_dapi_env(tmp_path_factory.mktemp("dapi-numbers"))


def fill(env: Env, params: dict[str, str]) -> dict[str, str]:
    ids = {"{rest}": str(env.resting_id), "{stop}": str(env.stop_id)}
    return {k: ids.get(v, v) for k, v in params.items()}


def test_every_dapi_route_has_a_baseline() -> None:
    missing = set(ROUTES) - set(BASELINES) - NO_NUMBERS
    assert not missing, f"add baselines for the new /dapi routes {sorted(missing)}"


def attacks() -> list[tuple[str, str, int, str, str]]:
    out = []
    for (method, path), bases in sorted(BASELINES.items()):
        for i, base in enumerate(bases):
            for name in base:
                if name in NUMERIC_FIELDS or (name == "type" and path in MARGIN_TYPE_ROUTES):
                    out.append((method, path, i, name, "decimal" if name in DECIMAL_FIELDS else "integer"))
    return out


@pytest.mark.parametrize(("method", "path", "index", "name", "kind"), attacks(), ids=lambda x: str(x))
def test_dapi_numeric_field(env: Env, method: str, path: str, index: int, name: str, kind: str) -> None:
    ledger = Ledger(env)
    auth = ROUTES[(method, path)].auth
    base = fill(env, BASELINES[(method, path)][index])
    for value in BAD_DECIMALS if kind == "decimal" else BAD_INTEGERS:
        pairs = list({**base, name: value}.items())
        ledger.check("dapi", f"{method} {path} {name}", value, env.fapi(method, path, pairs, auth, api="dapi"),
                     [-1100], f"'{name}'")  # fmt: skip
    for value in ("", "0" if kind == "integer" else "-0"):  # empty = not sent; zero where a field must be > 0
        pairs = list({**base, name: value}.items())
        ledger.check("dapi", f"{method} {path} {name}", value, env.fapi(method, path, pairs, auth, api="dapi"),
                     may_succeed=method == "GET")  # fmt: skip
    ledger.finish()


@pytest.mark.parametrize("value", ["1.5", "0.5", "1.0000000001", "99.99", "0.00000000000000000001"])
def test_fractional_contracts_are_refused(env: Env, value: str) -> None:
    ledger = Ledger(env)
    for base in BASELINES[("POST", "v1/order")]:
        pairs = list({**base, "quantity": value}.items())
        ledger.check("dapi", "POST v1/order quantity", value, env.fapi("POST", "v1/order", pairs, api="dapi"),
                     [-1111])  # fmt: skip
    ledger.finish()


def test_zero_contracts_are_refused(env: Env) -> None:
    ledger = Ledger(env)
    for value in ("0", "0.0", "00"):
        pairs = list({**BASELINES[("POST", "v1/order")][0], "quantity": value}.items())
        ledger.check("dapi", "POST v1/order quantity", value, env.fapi("POST", "v1/order", pairs, api="dapi"),
                     [-4003])  # fmt: skip
    ledger.finish()


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES), ids=lambda x: str(x))
def test_dapi_every_route_with_every_numeric_field(env: Env, method: str, path: str) -> None:
    """Every route gets every numeric field, hostile, all at once: no 5xx and no change."""
    auth = ROUTES[(method, path)].auth
    if path == "v1/listenKey" or (method, path) in (("DELETE", "v1/allOpenOrders"), ("DELETE", "v1/algoOpenOrders")):
        return  # listenKey answers 200 by design; the cancel-alls take no number and would cancel the resting orders
    for value in ("١", "1e999999", "NaN", "1" + "0" * 40):
        ledger = Ledger(env)
        pairs = [("symbol", S), *((n, value) for n in NUMERIC_FIELDS)]
        ans = env.fapi(method, path, pairs, auth, api="dapi")
        if ans.status == 200 and method == "GET":
            continue
        ledger.check("dapi", f"{method} {path} *", value, ans)
        ledger.finish()


def test_valid_numbers_still_work(env: Env) -> None:
    for value in ("1", "1.0", "0001", "2.000"):  # whole contracts, however written
        pairs = [("symbol", S), ("side", "BUY"), ("type", "LIMIT"), ("quantity", value), ("price", "40000"),
                 ("timeInForce", "GTC")]  # fmt: skip
        ans = env.fapi("POST", "v1/order", pairs, api="dapi")
        assert ans.status == 200 and ans.body["origQty"] in ("1", "2"), ans.body
        assert env.fapi("DELETE", "v1/order", [("symbol", S), ("orderId", str(ans.body["orderId"]))],
                        api="dapi").status == 200  # fmt: skip
