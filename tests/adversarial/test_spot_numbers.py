"""Bad numbers on every numeric field of every Binance spot (/api/v3) and isolated-margin (/sapi/v1) endpoint,
against a real server on loopback: Unicode digits, exponents, NaN/Infinity, 40 digits, signs, whitespace and huge
inputs are refused with -1100 naming the field. Every refusal is a short 4xx in Binance's {code, msg} and changes
nothing (the engine's state hash and the accounts' API view stay put).

The fields come from the two route tables: a new endpoint needs a baseline below (or to be listed as taking no
number), so it is attacked as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from edge import ADMIN, BAD_DECIMALS, BAD_INTEGERS, Account, Env, Ledger

from isomargin.server import sapi  # noqa: F401  (registers the /api/v3 and /sapi routes)
from isomargin.server.config import VenueConfig
from isomargin.server.spot_base import SAPI, SPOT
from isomargin.server.testing import InProcessVenue

S = "BTCUSDT"
T = "9999999999999"
ROUTES = {**{("api", m, p): r for (m, p), r in SPOT.routes.items()},
          **{("sapi", m, p): r for (m, p), r in SAPI.routes.items()}}  # fmt: skip
DECIMAL_FIELDS = ("quantity", "price", "quoteOrderQty", "amount")
INTEGER_FIELDS = ("limit", "orderId", "startTime", "endTime", "fromId", "current", "size")
NUMERIC_FIELDS = DECIMAL_FIELDS + INTEGER_FIELDS
LIMIT = {"symbol": S, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001", "price": "50000"}
LOAN = {"asset": "USDT", "isIsolated": "TRUE", "symbol": S, "amount": "1"}
PAGE = {"startTime": "0", "endTime": T, "current": "1", "size": "10"}
WINDOW = {"symbol": S, "orderId": "1", "startTime": "0", "endTime": T, "limit": "10"}
BASELINES: dict[tuple[str, str, str], list[dict[str, str]]] = {
    ("api", "POST", "v3/order"): [LIMIT, {"symbol": S, "side": "BUY", "type": "MARKET", "quoteOrderQty": "10"}],
    ("api", "POST", "v3/order/test"): [LIMIT],
    ("api", "GET", "v3/order"): [{"symbol": S, "orderId": "{spot}"}],
    ("api", "DELETE", "v3/order"): [{"symbol": S, "orderId": "{spot}"}],
    ("api", "GET", "v3/allOrders"): [WINDOW],
    ("api", "GET", "v3/myTrades"): [{**WINDOW, "fromId": "1"}],
    ("api", "GET", "v3/depth"): [{"symbol": S, "limit": "5"}],
    ("api", "GET", "v3/trades"): [{"symbol": S, "limit": "5", "fromId": "1"}],
    ("api", "GET", "v3/historicalTrades"): [{"symbol": S, "limit": "5", "fromId": "1"}],
    ("api", "GET", "v3/aggTrades"): [{"symbol": S, "fromId": "1", "startTime": "0", "endTime": T, "limit": "5"}],
    **{("api", "GET", k): [{"symbol": S, "interval": "1m", "startTime": "0", "endTime": T, "limit": "5"}]
       for k in ("v3/klines", "v3/uiKlines")},
    ("sapi", "POST", "v1/margin/borrow-repay"): [{**LOAN, "type": "BORROW"}, {**LOAN, "type": "REPAY"}],
    ("sapi", "GET", "v1/margin/borrow-repay"): [{"type": "BORROW", **PAGE}],
    ("sapi", "POST", "v1/margin/loan"): [LOAN],
    ("sapi", "POST", "v1/margin/repay"): [LOAN],
    ("sapi", "POST", "v1/asset/transfer"): [{"type": "MAIN_ISOLATED_MARGIN", "asset": "USDT", "amount": "1",
                                             "toSymbol": S}],
    ("sapi", "GET", "v1/asset/transfer"): [{"type": "MAIN_ISOLATED_MARGIN", **PAGE}],
    ("sapi", "POST", "v1/margin/isolated/transfer"): [{"asset": "USDT", "symbol": S, "transFrom": "SPOT",
                                                       "transTo": "ISOLATED_MARGIN", "amount": "1"}],
    ("sapi", "GET", "v1/margin/isolated/transfer"): [{"symbol": S, **PAGE}],
    ("sapi", "POST", "v1/margin/order"): [{**LIMIT, "isIsolated": "TRUE"}],
    ("sapi", "GET", "v1/margin/order"): [{"symbol": S, "orderId": "{margin}", "isIsolated": "TRUE"}],
    ("sapi", "DELETE", "v1/margin/order"): [{"symbol": S, "orderId": "{margin}", "isIsolated": "TRUE"}],
    ("sapi", "GET", "v1/margin/allOrders"): [{**WINDOW, "isIsolated": "TRUE"}],
    ("sapi", "GET", "v1/margin/myTrades"): [{**WINDOW, "isIsolated": "TRUE", "fromId": "1"}],
    ("sapi", "GET", "v1/margin/interestHistory"): [PAGE],
    ("sapi", "GET", "v1/margin/forceLiquidationRec"): [PAGE],
}  # fmt: skip
NO_NUMBERS = {
    ("api", "GET", p) for p in ("v3/ping", "v3/time", "v3/exchangeInfo", "v3/ticker/24hr", "v3/ticker/price",
                                "v3/ticker/bookTicker", "v3/avgPrice", "v3/account", "v3/openOrders")
} | {
    ("sapi", "GET", p) for p in ("v1/system/status", "v1/margin/isolated/account", "v1/margin/isolated/pair",
                                 "v1/margin/isolated/allPairs", "v1/margin/allPairs", "v1/margin/isolated/accountLimit",
                                 "v1/margin/isolatedMarginData", "v1/margin/maxBorrowable", "v1/margin/maxTransferable",
                                 "v1/margin/openOrders", "v1/asset/tradeFee")
} | {("api", "DELETE", "v3/openOrders"), ("sapi", "DELETE", "v1/margin/openOrders")}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """A trader with 1,000 USDT in its BTCUSDT isolated account and 100 borrowed, a resting wallet buy and a resting
    margin buy; a maker with a resting ask."""
    tmp: Path = tmp_path_factory.mktemp("spot-numbers")
    config = VenueConfig(data_dir=tmp / "data", admin_key=ADMIN, market_maker=False, feed=False, rate_limit=0,
                         interest_schedule=False)  # fmt: skip
    with InProcessVenue(config) as v:
        t, m = v.new_account("100000"), v.new_account("1000")
        v.admin("deposit", {"account": m["account"], "asset": "BTC", "amount": "1"})
        env = Env(v, Account(t["account"], t["apiKey"], t["secret"]), Account(m["account"], m["apiKey"], m["secret"]))
        ask = [("symbol", S), ("side", "SELL"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "0.01"),
               ("price", "70000")]  # fmt: skip
        assert env.fapi("POST", "v3/order", ask, who=env.maker, api="api").status == 200
        move = [("asset", "USDT"), ("symbol", S), ("transFrom", "SPOT"), ("transTo", "ISOLATED_MARGIN"),
                ("amount", "1000")]  # fmt: skip
        assert env.fapi("POST", "v1/margin/isolated/transfer", move, api="sapi").status == 200
        borrow = [*LOAN.items(), ("type", "BORROW")]
        assert env.fapi("POST", "v1/margin/borrow-repay", [(k, "100" if k == "amount" else x) for k, x in borrow],
                        api="sapi").status == 200  # fmt: skip
        ans = env.fapi("POST", "v3/order", list(LIMIT.items()), api="api")
        assert ans.status == 200 and ans.body["status"] == "NEW", ans.body
        env.resting_id = ans.body["orderId"]
        ans = env.fapi("POST", "v1/margin/order", [*LIMIT.items(), ("isIsolated", "TRUE")], api="sapi")
        assert ans.status == 200 and ans.body["status"] == "NEW", ans.body
        env.stop_id = ans.body["orderId"]  # (the margin order; Env names its second id for stops)
        yield env


def fill(env: Env, params: dict[str, str]) -> dict[str, str]:
    ids = {"{spot}": str(env.resting_id), "{margin}": str(env.stop_id)}
    return {k: ids.get(v, v) for k, v in params.items()}


def test_every_route_has_a_baseline() -> None:
    missing = set(ROUTES) - set(BASELINES) - NO_NUMBERS
    assert not missing, f"add baselines for the new /api/v3 or /sapi routes {sorted(missing)}"


def attacks() -> list[tuple[str, str, str, int, str, str]]:
    out = []
    for (api, method, path), bases in sorted(BASELINES.items()):
        for i, base in enumerate(bases):
            for name in base:
                if name in NUMERIC_FIELDS:
                    out.append((api, method, path, i, name, "decimal" if name in DECIMAL_FIELDS else "integer"))
    return out


@pytest.mark.parametrize(("api", "method", "path", "index", "name", "kind"), attacks(), ids=lambda x: str(x))
def test_spot_numeric_field(env: Env, api: str, method: str, path: str, index: int, name: str, kind: str) -> None:
    ledger = Ledger(env)
    auth = ROUTES[(api, method, path)].auth
    base = fill(env, BASELINES[(api, method, path)][index])
    for value in BAD_DECIMALS if kind == "decimal" else BAD_INTEGERS:
        pairs = list({**base, name: value}.items())
        ledger.check("fapi", f"{api} {method} {path} {name}", value, env.fapi(method, path, pairs, auth, api=api),
                     [-1100], f"'{name}'")  # fmt: skip
    for value in ("", "0" if kind == "integer" else "-0"):  # empty = not sent; zero where a field must be > 0
        pairs = list({**base, name: value}.items())
        ledger.check("fapi", f"{api} {method} {path} {name}", value, env.fapi(method, path, pairs, auth, api=api),
                     may_succeed=method == "GET")  # fmt: skip
    ledger.finish()


@pytest.mark.parametrize(("api", "method", "path"), sorted(ROUTES), ids=lambda x: str(x))
def test_every_route_with_every_numeric_field(env: Env, api: str, method: str, path: str) -> None:
    """Every route gets every numeric field, hostile, all at once: no 5xx and no change."""
    if method == "DELETE" and path.endswith("openOrders"):
        return  # the cancel-alls take no number and would cancel the resting orders
    auth = ROUTES[(api, method, path)].auth
    for value in ("١", "1e999999", "NaN", "1" + "0" * 40):
        ledger = Ledger(env)
        pairs = [("symbol", S), *((n, value) for n in NUMERIC_FIELDS)]
        ans = env.fapi(method, path, pairs, auth, api=api)
        if ans.status == 200 and method == "GET":
            continue
        ledger.check("fapi", f"{api} {method} {path} *", value, ans)
        ledger.finish()
