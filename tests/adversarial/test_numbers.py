"""Bad numbers on every numeric field of every endpoint of both APIs, against a real server on loopback: Unicode
digits (Arabic-Indic, fullwidth, superscript, NKo…), underscores, exponents, NaN/Infinity/sNaN, 40 digits,
signs, negative zero, whitespace, empty, duplicated parameters, huge inputs. Each must be refused with the
grammar's code (/fapi -1100, native `bad_number`), name the field, answer briefly and change nothing.

The /fapi fields come from the route table (every route needs a baseline below, so a new endpoint is attacked
as soon as it exists); the native ones from the OpenAPI schema (every operation with a numeric field needs a
baseline, and the fields the schema must show are pinned, so a field cannot fall out of the attack silently).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from edge import BAD_BOOLS, BAD_DECIMALS, BAD_ENUMS, BAD_INTEGERS, Env, Ledger, make_env

from isomargin.server import fapi  # noqa: F401  (registers the /fapi routes)
from isomargin.server.app import create_app
from isomargin.server.config import VenueConfig
from isomargin.server.fapi_base import ROUTES
from isomargin.server.params import decimal_rule

DECIMAL_FIELDS = ("quantity", "price", "stopPrice", "triggerPrice", "callbackRate", "activationPrice",
                  "activatePrice", "amount")  # fmt: skip
INTEGER_FIELDS = ("limit", "orderId", "algoId", "startTime", "endTime", "leverage", "fromId")
NUMERIC_FIELDS = DECIMAL_FIELDS + INTEGER_FIELDS
OPTIONAL_ON_WRITES = {"activationPrice", "activatePrice"}  # a trailing stop without one is valid
# Writes that take no number and succeed whatever numbers ride along (unknown parameters are ignored, as on
# Binance): sending them would cancel the orders every other attack aims at.
IGNORE_NUMBERS_AND_WRITE = {("DELETE", "v1/allOpenOrders"), ("DELETE", "v1/algoOpenOrders")}
LONG = "x" * 600  # × 15 fields stays under the HTTP parser's request-line limit (16 KiB), so the app answers
S = "BTCUSDT"

# (method, path) -> baselines: valid parameters (the resting order's id is filled in as "{rest}", the resting
# stop's as "{stop}"); an attack replaces one numeric field of one baseline. Routes without numeric parameters
# have no baselines but must be listed.
FAPI_BASELINES: dict[tuple[str, str], list[dict[str, str]]] = {
    ("POST", "v1/order"): [
        {"symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000", "timeInForce": "GTC"},
        {"symbol": S, "side": "SELL", "type": "STOP_MARKET", "quantity": "0.01", "stopPrice": "50000"},
        {"symbol": S, "side": "SELL", "type": "TRAILING_STOP_MARKET", "quantity": "0.01", "callbackRate": "1",
         "activationPrice": "70000"},
        {"symbol": S, "side": "SELL", "type": "TRAILING_STOP_MARKET", "quantity": "0.01", "callbackRate": "1",
         "activatePrice": "70000"},
    ],
    ("POST", "v1/algoOrder"): [
        {"algoType": "CONDITIONAL", "symbol": S, "side": "SELL", "type": "STOP_MARKET", "quantity": "0.01",
         "triggerPrice": "50000"},
    ],
    ("GET", "v1/order"): [{"symbol": S, "orderId": "{rest}"}],
    ("DELETE", "v1/order"): [{"symbol": S, "orderId": "{rest}"}],
    ("GET", "v1/openOrder"): [{"symbol": S, "orderId": "{rest}"}],
    ("GET", "v1/algoOrder"): [{"algoId": "{stop}"}],
    ("DELETE", "v1/algoOrder"): [{"algoId": "{stop}"}],
    ("GET", "v1/allOrders"): [{"symbol": S, "limit": "10", "startTime": "0", "endTime": "9999999999999"}],
    ("GET", "v1/allAlgoOrders"): [{"symbol": S, "limit": "10"}],
    ("GET", "v1/userTrades"): [{"symbol": S, "limit": "10", "orderId": "1", "startTime": "0",
                                "endTime": "9999999999999", "fromId": "1"}],
    ("GET", "v1/income"): [{"symbol": S, "limit": "10", "startTime": "0", "endTime": "9999999999999"}],
    ("GET", "v1/forceOrders"): [{"symbol": S, "limit": "10", "startTime": "0", "endTime": "9999999999999"}],
    ("POST", "v1/leverage"): [{"symbol": S, "leverage": "10"}],
    ("POST", "v1/positionMargin"): [{"symbol": S, "amount": "10", "type": "1"}],
    ("GET", "v1/depth"): [{"symbol": S, "limit": "5"}],
    ("GET", "v1/aggTrades"): [{"symbol": S, "limit": "5", "fromId": "1", "startTime": "0",
                               "endTime": "9999999999999"}],
    ("GET", "v1/positionMargin/history"): [{"symbol": S, "limit": "5", "startTime": "0",
                                            "endTime": "9999999999999"}],
    ("PUT", "v1/order"): [{"symbol": S, "orderId": "{rest}", "side": "BUY", "quantity": "0.01", "price": "50000"}],
    ("GET", "v1/trades"): [{"symbol": S, "limit": "5"}],
    ("GET", "v1/fundingRate"): [{"symbol": S, "limit": "5", "startTime": "0", "endTime": "9999999999999"}],
    **{("GET", f"v1/{k}"): [{"symbol": S, "pair": S, "interval": "1m", "limit": "5", "startTime": "0",
                             "endTime": "9999999999999"}]
       for k in ("klines", "continuousKlines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines")},
}  # fmt: skip
# (batchOrders carry their numbers inside a JSON list: tests/adversarial/test_batch_numbers.py attacks those)
FAPI_NO_NUMBERS = {
    ("GET", p) for p in ("v1/ping", "v1/time", "v1/exchangeInfo", "v1/ticker/24hr", "v1/ticker/price",
                         "v2/ticker/price", "v1/ticker/bookTicker", "v1/premiumIndex", "v1/fundingInfo",
                         "v1/account", "v2/account", "v3/account", "v2/balance", "v3/balance", "v2/positionRisk",
                         "v3/positionRisk", "v1/leverageBracket", "v1/symbolConfig", "v1/commissionRate",
                         "v1/positionSide/dual", "v1/multiAssetsMargin", "v1/openOrders", "v1/openAlgoOrders",
                         "v1/openInterest")
} | {("POST", "v1/marginType"), ("POST", "v1/positionSide/dual"), ("POST", "v1/multiAssetsMargin"),
     ("DELETE", "v1/allOpenOrders"), ("DELETE", "v1/algoOpenOrders"), ("POST", "v1/listenKey"),
     ("PUT", "v1/listenKey"), ("DELETE", "v1/listenKey"), ("POST", "v1/batchOrders"),
     ("DELETE", "v1/batchOrders")}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("numbers"))


def fill(env: Env, params: dict[str, str]) -> dict[str, str]:
    ids = {"{rest}": str(env.resting_id), "{stop}": str(env.stop_id)}
    return {k: ids.get(v, v) for k, v in params.items()}


def test_every_fapi_route_has_a_baseline() -> None:
    missing = set(ROUTES) - set(FAPI_BASELINES) - FAPI_NO_NUMBERS
    assert not missing, f"add baselines for the new /fapi routes {sorted(missing)}"


def fapi_attacks() -> list[tuple[str, str, int, str, str]]:
    """(method, path, baseline index, field, kind) for every numeric field of every baseline."""
    out = []
    for (method, path), bases in sorted(FAPI_BASELINES.items()):
        for i, base in enumerate(bases):
            for name in base:
                if name in NUMERIC_FIELDS:
                    out.append((method, path, i, name, "decimal" if name in DECIMAL_FIELDS else "integer"))
    return out


@pytest.mark.parametrize(("method", "path", "index", "name", "kind"), fapi_attacks(),
                         ids=lambda x: str(x))  # fmt: skip
def test_fapi_numeric_field(env: Env, method: str, path: str, index: int, name: str, kind: str) -> None:
    ledger = Ledger(env)
    auth = ROUTES[(method, path)].auth
    base = fill(env, FAPI_BASELINES[(method, path)][index])
    for value in BAD_DECIMALS if kind == "decimal" else BAD_INTEGERS:
        pairs = list({**base, name: value}.items())
        ledger.check("fapi", f"{method} {path} {name}", value, env.fapi(method, path, pairs, auth), [-1100],
                     f"'{name}'")  # fmt: skip
    for value in ("", "0" if kind == "integer" else "-0"):  # empty = not sent; zero where a field must be > 0
        if value == "" and name in OPTIONAL_ON_WRITES and method != "GET":
            continue  # not sending it is a valid order, which would rest
        pairs = list({**base, name: value}.items())  # a read may take either (no filter, or from time 0)
        ledger.check("fapi", f"{method} {path} {name}", value, env.fapi(method, path, pairs, auth),
                     may_succeed=method == "GET")  # fmt: skip
    ledger.finish()


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES), ids=lambda x: str(x))
def test_fapi_every_route_with_every_numeric_field(env: Env, method: str, path: str) -> None:
    """Every route gets every numeric field, hostile, all at once: whatever it reads or ignores, no 5xx and no
    change (a route that ignores them may answer 200; only the state is checked then)."""
    auth = ROUTES[(method, path)].auth
    if path == "v1/listenKey" or (method, path) in IGNORE_NUMBERS_AND_WRITE:
        return  # listenKey answers 200 by design and changes no engine state
    for value in ("١", "1e999999", "NaN", LONG):
        ledger = Ledger(env)
        pairs = [("symbol", S), *((n, value) for n in NUMERIC_FIELDS)]
        ans = env.fapi(method, path, pairs, auth)
        if ans.status == 200 and method == "GET":
            continue
        ledger.check("fapi", f"{method} {path} *", value, ans)
        ledger.finish()


def test_fapi_form_body_is_parsed_by_the_same_grammar(env: Env) -> None:
    ledger = Ledger(env)
    for value in ("١٢", "1_000", "1e3", " 1"):
        pairs = [("symbol", S), ("side", "BUY"), ("type", "MARKET"), ("quantity", value)]
        ledger.check("fapi", "POST v1/order body quantity", value,
                     env.fapi("POST", "v1/order", pairs, "trade", in_body=True), [-1100], "'quantity'")  # fmt: skip
    ledger.finish()


def test_fapi_duplicated_parameters_are_refused(env: Env) -> None:
    ledger = Ledger(env)
    order = [("symbol", S), ("side", "BUY"), ("type", "MARKET")]
    for pairs in ([*order, ("quantity", "0.001"), ("quantity", "1")],
                  [*order, ("quantity", "1"), ("quantity", "0.001")],
                  [*order, ("quantity", "0.001"), ("side", "SELL")]):  # fmt: skip
        ledger.check("fapi", "POST v1/order duplicate", str(pairs[3:]), env.fapi("POST", "v1/order", pairs), [-1101])
    pairs = [("symbol", S), ("amount", "1"), ("type", "1"), ("amount", "1000")]
    ledger.check("fapi", "POST v1/positionMargin duplicate", "amount",
                 env.fapi("POST", "v1/positionMargin", pairs), [-1101])  # fmt: skip
    ledger.finish()


def test_the_attackers_findings(env: Env) -> None:
    """The defects as reported: quantity=١٢ placed 12 BTC, quantity=１ 1 BTC, amount=1_000 moved 1,000 USDT, on
    both APIs; a 1e999999 quantity overflowed inside the engine."""
    ledger = Ledger(env)
    market = [("symbol", S), ("side", "BUY"), ("type", "MARKET")]
    for value in ("١٢", "１", "1e999999", "1_0"):
        ledger.check("fapi", "POST v1/order quantity", value,
                     env.fapi("POST", "v1/order", [*market, ("quantity", value)]), [-1100], "'quantity'")  # fmt: skip
        body = {"symbol": S, "side": "BUY", "type": "MARKET", "quantity": value}
        ledger.check("native", "POST orders quantity", value, env.native("POST", "orders", body=body),
                     ["bad_number"], "quantity")  # fmt: skip
    margin = [("symbol", S), ("type", "1"), ("amount", "1_000")]
    ledger.check("fapi", "POST v1/positionMargin amount", "1_000", env.fapi("POST", "v1/positionMargin", margin),
                 [-1100], "'amount'")  # fmt: skip
    ledger.check("native", "POST positions/BTCUSDT/margin amount", "1_000",
                 env.native("POST", f"positions/{S}/margin", body={"amount": "1_000", "type": "add"}),
                 ["bad_number"], "amount")  # fmt: skip
    for path in ("admin/deposit", "admin/withdraw"):
        ledger.check("native", f"POST {path} amount", "1_000",
                     env.native("POST", path, body={"account": env.trader.account, "amount": "1_000"}, auth="admin"),
                     ["bad_number"], "amount")  # fmt: skip
    ledger.finish()


# ================================================================ native API, from its OpenAPI schema
# (method, path template) -> how to call it validly: path values, query, body, auth ("signed", "admin", None).
OPT = "BTC-USD-301225-100000-C"  # an option name on the grammar (listed or not: numbers are refused first)
NATIVE_BASELINES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/markets/{symbol}/book"): {"path": {"symbol": S}, "query": {"limit": "5"}},
    ("GET", "/api/v1/markets/{symbol}/trades"): {"path": {"symbol": S}, "query": {"limit": "5"}},
    ("GET", "/api/v1/markets/{symbol}/klines"): {"path": {"symbol": S}, "query": {"limit": "5"}},
    ("GET", "/api/v1/markets/{symbol}/funding-rates"): {"path": {"symbol": S}, "query": {"limit": "5"}},
    ("GET", "/api/v1/markets/{symbol}/liquidation-map"): {"path": {"symbol": S}, "query": {"bins": "10",
                                                                                           "range": "0.5"}},
    ("GET", "/api/v1/liquidations"): {"query": {"limit": "5"}},
    ("GET", "/api/v1/orders"): {"query": {"limit": "5"}, "auth": "signed"},
    ("GET", "/api/v1/orders/{order_id}"): {"path": {"order_id": "{rest}"}, "auth": "signed"},
    ("DELETE", "/api/v1/orders/{order_id}"): {"path": {"order_id": "{rest}"}, "auth": "signed"},
    ("GET", "/api/v1/fills"): {"query": {"limit": "5"}, "auth": "signed"},
    ("GET", "/api/v1/position-history"): {"query": {"limit": "5"}, "auth": "signed"},
    ("POST", "/api/v1/orders/preview"): {"auth": "signed", "body": {
        "symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000", "stop_price": "50000",
        "leverage": 10, "callback_rate": "1", "activation_price": "70000"}},
    ("PUT", "/api/v1/orders/{order_id}"): {"path": {"order_id": "{rest}"}, "auth": "signed",
                                           "body": {"quantity": "0.01", "price": "50000"}},
    ("GET", "/api/v1/income"): {"query": {"limit": "5"}, "auth": "signed"},
    ("POST", "/api/v1/orders"): {"auth": "signed", "body": {
        "symbol": S, "side": "SELL", "type": "TRAILING_STOP_MARKET", "quantity": "0.01", "callback_rate": "1",
        "activation_price": "70000", "price": "70000", "stop_price": "70000"}},
    ("POST", "/api/v1/positions/{symbol}/margin"): {"path": {"symbol": S}, "auth": "signed",
                                                    "body": {"amount": "10", "type": "add"}},
    ("POST", "/api/v1/settings/leverage"): {"auth": "signed", "body": {"symbol": S, "leverage": 10}},
    ("POST", "/api/v1/admin/accounts"): {"auth": "admin", "body": {"deposit": "10", "api_key": False}},
    ("POST", "/api/v1/admin/api-keys"): {"auth": "admin", "body": {"account": "{trader}", "permissions": ["read"]}},
    ("GET", "/api/v1/admin/api-keys"): {"auth": "admin", "query": {"account": "{trader}"}},
    ("POST", "/api/v1/admin/deposit"): {"auth": "admin", "body": {"account": "{trader}", "amount": "10"}},
    ("POST", "/api/v1/admin/withdraw"): {"auth": "admin", "body": {"account": "{trader}", "amount": "10"}},
    ("POST", "/api/v1/admin/mark-price"): {"auth": "admin", "body": {"symbol": S, "price": "60000",
                                                                     "mark": "60000", "index": "60000"}},
    ("POST", "/api/v1/admin/funding"): {"auth": "admin", "body": {"symbol": S, "rate": "0.0001"}},
    ("POST", "/api/v1/admin/insurance"): {"auth": "admin", "body": {"amount": "10"}},
    # spot and isolated spot margin (server/native_spot.py); BTC-USDT is listed at start-up
    ("GET", "/api/v1/spot/pairs/{symbol}/book"): {"path": {"symbol": "BTC-USDT"}, "query": {"limit": "5"}},
    ("POST", "/api/v1/spot/orders"): {"auth": "signed", "body": {
        "symbol": "BTC-USDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000"}},
    ("GET", "/api/v1/spot/orders"): {"query": {"limit": "5"}, "auth": "signed"},
    ("GET", "/api/v1/spot/orders/{order_id}"): {"path": {"order_id": "1"}, "auth": "signed"},
    ("DELETE", "/api/v1/spot/orders/{order_id}"): {"path": {"order_id": "1"}, "auth": "signed"},
    ("GET", "/api/v1/spot/fills"): {"query": {"limit": "5"}, "auth": "signed"},
    ("POST", "/api/v1/margin/isolated/transfer"): {"auth": "signed", "body": {
        "symbol": "BTC-USDT", "asset": "USDT", "amount": "10", "direction": "in"}},
    ("POST", "/api/v1/margin/isolated/borrow"): {"auth": "signed", "body": {
        "symbol": "BTC-USDT", "asset": "USDT", "amount": "10"}},
    ("POST", "/api/v1/margin/isolated/repay"): {"auth": "signed", "body": {
        "symbol": "BTC-USDT", "asset": "USDT", "amount": "10"}},
    **{("GET", f"/api/v1/margin/isolated/{name}"): {"query": {"limit": "5"}, "auth": "signed"}
       for name in ("interest", "loans", "transfers", "alerts")},
    ("POST", "/api/v1/admin/spot/pairs"): {"auth": "admin", "body": {"symbol": "BTC-USDT", "price": "60000"}},
    ("POST", "/api/v1/admin/spot/mark-price"): {"auth": "admin", "body": {"symbol": "BTC-USDT", "price": "60000"}},
    ("POST", "/api/v1/admin/spot/borrow-rate"): {"auth": "admin", "body": {
        "symbol": "BTC-USDT", "asset": "USDT", "daily_rate": "0.0002"}},
    ("POST", "/api/v1/admin/spot/accrue-interest"): {"auth": "admin", "body": {"ts": "1"}},
    # isolated options (server/native_options.py)
    ("GET", "/api/v1/options"): {"query": {"expiry": "1"}},
    ("GET", "/api/v1/options/{symbol}/book"): {"path": {"symbol": OPT}, "query": {"limit": "5"}},
    ("POST", "/api/v1/options/orders"): {"auth": "signed", "body": {
        "symbol": OPT, "side": "BUY", "quantity": "1", "price": "0.003"}},
    ("GET", "/api/v1/options/orders"): {"query": {"limit": "5"}, "auth": "signed"},
    ("GET", "/api/v1/options/orders/{order_id}"): {"path": {"order_id": "1"}, "auth": "signed"},
    ("DELETE", "/api/v1/options/orders/{order_id}"): {"path": {"order_id": "1"}, "auth": "signed"},
    ("POST", "/api/v1/options/margin"): {"auth": "signed", "body": {"symbol": OPT, "amount": "0.01", "type": "add"}},
    **{("GET", f"/api/v1/options/{name}"): {"query": {"limit": "5"}, "auth": "signed"}
       for name in ("fills", "settlements", "margin-moves", "alerts")},
    ("POST", "/api/v1/admin/options"): {"auth": "admin", "body": {"symbol": OPT, "mark_price": "0.03", "iv": "0.5"}},
    ("POST", "/api/v1/admin/options/index"): {"auth": "admin", "body": {"family": "BTC-USD", "price": "95000"}},
    ("POST", "/api/v1/admin/options/mark"): {"auth": "admin", "body": {"symbol": OPT, "price": "0.03"}},
    ("POST", "/api/v1/admin/options/iv"): {"auth": "admin", "body": {"symbol": OPT, "iv": "0.5"}},
    ("POST", "/api/v1/admin/options/settle"): {"auth": "admin", "body": {
        "family": "BTC-USD", "expiry": "1", "price": "95000"}},
}  # fmt: skip
# Fields the schema must show as numbers (so the walk below cannot lose them): (method, path, field).
NATIVE_PINNED = {
    ("POST", "/api/v1/orders", f) for f in ("quantity", "price", "stop_price", "callback_rate", "activation_price")
} | {("POST", "/api/v1/positions/{symbol}/margin", "amount"), ("POST", "/api/v1/admin/deposit", "amount"),
     ("POST", "/api/v1/admin/deposit", "account"), ("POST", "/api/v1/admin/withdraw", "amount"),
     ("POST", "/api/v1/admin/mark-price", "price"), ("POST", "/api/v1/admin/funding", "rate"),
     ("POST", "/api/v1/admin/insurance", "amount"), ("POST", "/api/v1/admin/accounts", "deposit"),
     ("POST", "/api/v1/settings/leverage", "leverage"), ("GET", "/api/v1/orders/{order_id}", "order_id"),
     ("DELETE", "/api/v1/orders/{order_id}", "order_id"), ("GET", "/api/v1/orders", "limit"),
     ("GET", "/api/v1/markets/{symbol}/liquidation-map", "range"),
     ("POST", "/api/v1/margin/isolated/transfer", "amount"), ("POST", "/api/v1/margin/isolated/borrow", "amount"),
     ("POST", "/api/v1/margin/isolated/repay", "amount"), ("POST", "/api/v1/spot/orders", "quantity"),
     ("POST", "/api/v1/admin/spot/borrow-rate", "daily_rate"),
     ("POST", "/api/v1/admin/spot/accrue-interest", "ts"), ("POST", "/api/v1/options/orders", "quantity"),
     ("POST", "/api/v1/options/orders", "price"), ("POST", "/api/v1/options/margin", "amount"),
     ("POST", "/api/v1/admin/options/iv", "iv"), ("POST", "/api/v1/admin/options/settle", "expiry")}  # fmt: skip
SIGNED_DECIMALS = {("POST", "/api/v1/admin/funding", "rate")}
AUTH_PARAMS = {"timestamp", "recvWindow"}  # the signing helper's (tests/adversarial/test_auth*.py own them)


def _options(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a schema allows, nested anyOf flattened (an optional grammar field is anyOf[anyOf, null])."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" not in schema:
        return [schema]
    return [o for sub in schema["anyOf"] for o in _options(sub, components)]


def _kind(schema: dict[str, Any], components: dict[str, Any]) -> str | None:
    options = _options(schema, components)
    if any(o.get("pattern", "").startswith(decimal_rule()[:3]) or o.get("pattern") == decimal_rule(True)
           for o in options):  # fmt: skip
        return "decimal"
    if any(o.get("type") == "integer" for o in options) and not any(o.get("type") == "string" for o in options):
        return "integer"
    if any(o.get("type") == "number" for o in options):
        return "decimal"  # a float parameter: refused by this suite (money and windows are decimals)
    return None


def native_fields() -> list[tuple[str, str, str, str, str]]:
    """(method, path, where: path|query|body, field, kind) for every numeric field the schema declares."""
    spec = create_app(VenueConfig(admin_key="x")).openapi()
    comps = spec["components"]["schemas"]
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                kind = _kind(p["schema"], comps)
                if kind is not None and p["name"] not in AUTH_PARAMS:
                    out.append((method.upper(), path, p["in"], p["name"], kind))
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if ref is not None:
                model = comps[ref["$ref"].rsplit("/", 1)[1]]
                for name, prop in model.get("properties", {}).items():
                    kind = _kind(prop, comps)
                    if kind is not None:
                        out.append((method.upper(), path, "body", name, kind))
    return sorted(out)


NATIVE_FIELDS = native_fields()


def test_native_schema_shows_every_numeric_field() -> None:
    found = {(m, p, f) for m, p, _, f, _ in NATIVE_FIELDS}
    assert not NATIVE_PINNED - found, f"not numbers in the OpenAPI schema: {sorted(NATIVE_PINNED - found)}"
    missing = {(m, p) for m, p, _, _, _ in NATIVE_FIELDS} - set(NATIVE_BASELINES)
    assert not missing, f"add baselines for {sorted(missing)}"


def native_call(env: Env, method: str, path: str, where: str, name: str, value: Any) -> Callable[[], Any]:
    base = NATIVE_BASELINES[(method, path)]
    ids = {"{rest}": str(env.resting_id), "{trader}": env.trader.account}
    pvals = {k: ids.get(v, v) for k, v in base.get("path", {}).items()}
    query = {k: ids.get(v, v) for k, v in base.get("query", {}).items()}
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in base.get("body", {}).items()} or None
    if where == "path":
        pvals[name] = value
    elif where == "query":
        query[name] = value
    else:
        assert body is not None
        body[name] = value
    target = path.removeprefix("/api/v1/").format(**{k: quote(str(v), safe="") for k, v in pvals.items()})
    return lambda: env.native(method, target, list(query.items()), body, base.get("auth"))


@pytest.mark.parametrize(("method", "path", "where", "name", "kind"), NATIVE_FIELDS, ids=lambda x: str(x))
def test_native_numeric_field(env: Env, method: str, path: str, where: str, name: str, kind: str) -> None:
    ledger = Ledger(env)
    signed_field = (method, path, name) in SIGNED_DECIMALS
    values: list[Any] = list(BAD_DECIMALS if kind == "decimal" else BAD_INTEGERS)
    if signed_field:
        values = [v for v in values if v not in ("-1", "-0", "-0.0")]
    if where == "body":  # JSON numbers: floats are not exact, booleans are not numbers, huge ints are bounded
        values += [0.1, 1.5, 1e300, float("nan"), True, False, 10**40, -(10**40), [1], {"v": 1}]
        if kind == "integer":
            values.append(10.0)  # an integer field takes a JSON integer or digits, not a float
    for value in values:
        if where == "path" and value in ("", " "):
            continue  # an empty path segment is another route
        ledger.check("native", f"{method} {path} {where}.{name}", str(value),
                     native_call(env, method, path, where, name, value)(), ["bad_number"], name)  # fmt: skip
    ledger.finish()


def test_valid_numbers_still_work(env: Env) -> None:
    """What clients send keeps working: plain strings, leading zeros, JSON integers on the native API, ccxt's
    "0.001"; negative zero is zero where a sign is allowed."""
    # 0.003 at 40,000 is 120 of notional: above the market's minimum of 100
    qty = [("symbol", S), ("side", "BUY"), ("type", "LIMIT"), ("price", "40000"), ("timeInForce", "GTC")]
    for value in ("0.003", "00.0030", "0.00300000000000000000"):
        ans = env.fapi("POST", "v1/order", [*qty, ("quantity", value)])
        assert ans.status == 200 and ans.body["origQty"] == "0.003", ans.body
    ans = env.native("POST", "orders", body={"symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "0.003",
                                             "price": 40000})  # fmt: skip
    assert ans.status == 200 and ans.body["price"] == "40000", ans.body
    ans = env.native("POST", "admin/deposit", body={"account": env.trader.account, "amount": 5}, auth="admin")
    assert ans.status == 200, ans.body
    ans = env.native("POST", "admin/funding", body={"symbol": S, "rate": "-0"}, auth="admin")
    assert ans.status == 200, ans.body
    assert env.fapi("GET", "v1/depth", [("symbol", S), ("limit", "0005")], None).status == 200
    assert env.fapi("DELETE", "v1/allOpenOrders", [("symbol", S)]).status == 200


# ================================================================ enums, booleans, symbols, client ids
# (method, path, baseline, field, Binance codes, optional): the baseline is valid with any right value in
# `field`; an optional field sent empty is "not sent", which would be a valid request, so "" is skipped there.
LIMIT_ORDER = {"symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "30000", "timeInForce": "GTC"}
FAPI_WORDS: list[tuple[str, str, dict[str, str], str, list[int], bool]] = [
    ("POST", "v1/order", LIMIT_ORDER, "side", [-1117, -1102], False),
    ("POST", "v1/order", LIMIT_ORDER, "type", [-1116, -1102], False),
    ("POST", "v1/order", LIMIT_ORDER, "timeInForce", [-1115], True),
    ("POST", "v1/order", LIMIT_ORDER, "positionSide", [-4060], True),
    ("POST", "v1/order", LIMIT_ORDER, "workingType", [-4031], True),
    ("POST", "v1/order", LIMIT_ORDER, "selfTradePreventionMode", [-1130], True),
    ("POST", "v1/order", LIMIT_ORDER, "newOrderRespType", [-1136], True),
    ("POST", "v1/order", LIMIT_ORDER, "priceMatch", [-1130], True),
    ("POST", "v1/order", LIMIT_ORDER, "reduceOnly", [-4062], True),
    ("POST", "v1/order", LIMIT_ORDER, "closePosition", [-1130], True),
    ("POST", "v1/order", LIMIT_ORDER, "priceProtect", [-1130], True),
    ("POST", "v1/positionMargin", {"symbol": S, "amount": "10", "type": "1"}, "positionSide", [-4060], True),
    ("POST", "v1/marginType", {"symbol": S}, "marginType", [-4044, -1102], False),
    ("POST", "v1/positionSide/dual", {}, "dualSidePosition", [-1130, -1102], False),
    ("POST", "v1/multiAssetsMargin", {}, "multiAssetsMargin", [-1130, -1102], False),
    ("POST", "v1/algoOrder", {"symbol": S, "side": "SELL", "type": "STOP_MARKET", "quantity": "0.01",
                              "triggerPrice": "50000"}, "algoType", [-1130], True),
    ("GET", "v1/income", {"symbol": S}, "incomeType", [-1130], True),
    ("GET", "v1/klines", {"symbol": S}, "interval", [-1120, -1102], False),
]  # fmt: skip
BOOL_FIELDS = {"reduceOnly", "closePosition", "priceProtect", "dualSidePosition", "multiAssetsMargin"}
BAD_SYMBOLS = ("BTCUSDT ", " BTCUSDT", "BTC USDT", "ＢＴＣＵＳＤＴ", "BTCUSDT\x00", "btcusdṫ", "BTC/USDT", "B" * 21,
               "x" * 10_000, "NOPE")  # fmt: skip
BAD_CLIENT_IDS = ("é", "a b", "a" * 37, "x" * 10_000, "id\n", "ａ", "<script>", "a;b", "a\x00", "a%b", "ü" * 36,
                  "a+b", "a=b", "🙂")  # fmt: skip


@pytest.mark.parametrize(("method", "path", "base", "name", "codes", "optional"), FAPI_WORDS,
                         ids=lambda x: str(x))  # fmt: skip
def test_fapi_bad_words(env: Env, method: str, path: str, base: dict[str, str], name: str, codes: list[int],
                        optional: bool) -> None:  # fmt: skip
    """Junk, homoglyphs that case-fold into a real value (ſell → SELL), padding, NULs, huge: refused before
    any folding, with Binance's code for the field."""
    ledger = Ledger(env)
    values = BAD_BOOLS if name in BOOL_FIELDS else BAD_ENUMS
    auth = ROUTES[(method, path)].auth
    for value in values:
        if value == "" and optional:
            continue
        pairs = list({**base, name: value}.items())
        ledger.check("fapi", f"{method} {path} {name}", value, env.fapi(method, path, pairs, auth), codes)
    ledger.finish()


def test_fapi_position_margin_with_a_junk_position_side(env: Env) -> None:
    """The attacker's 500: positionMargin with positionSide=JUNK raised ValueError in PositionSide()."""
    ledger = Ledger(env)
    pairs = [("symbol", S), ("amount", "10"), ("type", "1"), ("positionSide", "JUNK")]
    ledger.check("fapi", "POST v1/positionMargin positionSide", "JUNK", env.fapi("POST", "v1/positionMargin", pairs),
                 [-4060])  # fmt: skip
    ledger.finish()


@pytest.mark.parametrize(("method", "path"), [("POST", "v1/order"), ("GET", "v1/depth"), ("POST", "v1/leverage"),
                                              ("GET", "v1/ticker/price"), ("GET", "v1/allOrders")])  # fmt: skip
def test_fapi_bad_symbols(env: Env, method: str, path: str) -> None:
    ledger = Ledger(env)
    base = {**LIMIT_ORDER, "leverage": "10", "limit": "5"}
    for value in BAD_SYMBOLS:
        pairs = list({**base, "symbol": value}.items())
        ans = env.fapi(method, path, pairs, ROUTES[(method, path)].auth)
        ledger.check("fapi", f"{method} {path} symbol", value, ans, [-1100, -1121])
    ledger.finish()


def test_fapi_bad_client_ids(env: Env) -> None:
    """Binance's ^[.A-Z:/a-z0-9_-]{1,36}$ for newClientOrderId (placing) and origClientOrderId (finding)."""
    ledger = Ledger(env)
    for value in BAD_CLIENT_IDS:
        pairs = list({**LIMIT_ORDER, "newClientOrderId": value}.items())
        ledger.check("fapi", "POST v1/order newClientOrderId", value, env.fapi("POST", "v1/order", pairs),
                     [-1100, -4015])  # fmt: skip
        for method in ("GET", "DELETE"):
            pairs = [("symbol", S), ("origClientOrderId", value)]
            ledger.check("fapi", f"{method} v1/order origClientOrderId", value, env.fapi(method, "v1/order", pairs),
                         [-1100, -4015])  # fmt: skip
    ledger.finish()


# (path, body baseline, field, native codes): Literal enums are pydantic's `bad_request`; the grammar's
# booleans are `bad_parameter`.
NATIVE_ORDER = {"symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "30000"}
NATIVE_WORDS: list[tuple[str, dict[str, Any], str, list[str]]] = [
    ("orders", NATIVE_ORDER, "side", ["bad_request"]),
    ("orders", NATIVE_ORDER, "type", ["bad_request"]),
    ("orders", NATIVE_ORDER, "time_in_force", ["bad_request"]),
    ("orders", NATIVE_ORDER, "position_side", ["bad_request"]),
    ("orders", NATIVE_ORDER, "working_type", ["bad_request"]),
    ("orders", NATIVE_ORDER, "reduce_only", ["bad_parameter"]),
    ("orders", NATIVE_ORDER, "close_position", ["bad_parameter"]),
    ("orders", NATIVE_ORDER, "symbol", ["bad_symbol"]),
    ("orders", NATIVE_ORDER, "client_order_id", ["bad_client_order_id"]),
    (f"positions/{S}/margin", {"amount": "10"}, "type", ["bad_request"]),
    (f"positions/{S}/margin", {"amount": "10"}, "position_side", ["bad_request"]),
    ("settings/margin-mode", {"symbol": S}, "mode", ["bad_request"]),
    ("settings/position-mode", {}, "hedge_mode", ["bad_parameter", "bad_request"]),
    ("settings/leverage", {"leverage": 10}, "symbol", ["bad_symbol", "bad_request"]),
]


@pytest.mark.parametrize(("path", "base", "name", "codes"), NATIVE_WORDS, ids=lambda x: str(x))
def test_native_bad_words(env: Env, path: str, base: dict[str, Any], name: str, codes: list[str]) -> None:
    ledger = Ledger(env)
    if name == "client_order_id":
        values: list[Any] = list(BAD_CLIENT_IDS)
    elif name == "symbol":
        values = [v for v in BAD_SYMBOLS if v != "NOPE"]  # well-formed but unlisted: a 404
    else:
        values = list(BAD_BOOLS if name in ("reduce_only", "close_position", "hedge_mode") else BAD_ENUMS)
    values += [1, 0, [], {"a": 1}, 1.5] + ([] if name == "client_order_id" else [None])  # null: no id, one is made
    for value in values:
        ans = env.native("POST", path, body={**base, name: value})
        ledger.check("native", f"POST {path} {name}", str(value), ans, codes)
    ledger.finish()


def test_unknown_paths_get_short_answers(env: Env) -> None:
    """The path is the client's text too: a 5,000-char unknown /fapi path is quoted short in the 404."""
    ledger = Ledger(env)
    for path in ("v1/" + "x" * 5000, "v1/ｏｒｄｅｒ", "v9/order", "v1/order/../account"):
        ledger.check("fapi", "path", path, env.send("GET", "/fapi/" + quote(path)), [-5000])
    ledger.finish()


@pytest.mark.parametrize(("path", "name", "signed"), [(f"markets/{S}/klines", "interval", False),
                                                      (f"markets/{S}/klines", "price", False),
                                                      ("orders", "status", True), ("orders", "symbol", True),
                                                      (f"positions/{S}/margin", "position_side", True),
                                                      ("liquidations", "symbol", False),
                                                      ("insurance-fund", "asset", False)])  # fmt: skip
def test_native_bad_query_words(env: Env, path: str, name: str, signed: bool) -> None:
    ledger = Ledger(env)
    values = [v for v in (*BAD_ENUMS, *BAD_SYMBOLS) if v not in ("", "NOPE", "JUNK", "0", "-1", "null")]
    for value in values:  # (an empty value is "not sent"; NOPE, JUNK, 0, -1, null are well-formed symbols)
        ans = env.native("GET", path, [(name, value)], auth="signed" if signed else None)
        ledger.check("native", f"GET {path} {name}", value, ans, ["bad_request", "bad_symbol"])
    ledger.finish()
