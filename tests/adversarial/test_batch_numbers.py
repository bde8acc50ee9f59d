"""Hostile numbers inside /fapi batch orders (POST and DELETE v1/batchOrders): each bad order of a batch is
refused on its own with the grammar's code (-1100, naming the field) while the batch answers 200 with one row per
order; a batch over Binance's limit (5 orders, 10 ids) or not a JSON list is refused whole (400). Nothing changes:
the engine's state hash stays put."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from edge import BAD_DECIMALS, BAD_INTEGERS, Env, Ledger, make_env

S = "BTCUSDT"
ORDER = {"symbol": S, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "50000", "timeInForce": "GTC"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("batch"))


@pytest.mark.parametrize("name", ["quantity", "price"])
def test_bad_number_in_a_batch_order(env: Env, name: str) -> None:
    before = env.state_hash()
    for value in BAD_DECIMALS:
        batch = json.dumps([{**ORDER, name: value}])
        ans = env.fapi("POST", "v1/batchOrders", [("batchOrders", batch)], in_body=True)
        if ans.status == 200:
            assert isinstance(ans.body, list) and len(ans.body) == 1, (value, ans.text[:200])
            row = ans.body[0]
            assert set(row) == {"code", "msg"} and row["code"] in (-1100, -1102, -1013, -4003, -2010), (value, row)
        else:  # the batch parameter itself refused (e.g. a value the form grammar or the HTTP parser refuses)
            assert 400 <= ans.status < 500, (value, ans.status, ans.text[:200])
        assert env.state_hash() == before, f"state changed by {name}={value!r}"


def test_json_numbers_and_limits(env: Env) -> None:
    ledger = Ledger(env)
    for value in (1.5, 1e400, -0.0, float("nan")):  # JSON fractions are not exact decimals: refused per order
        text = json.dumps([{**ORDER, "quantity": value}])
        ans = env.fapi("POST", "v1/batchOrders", [("batchOrders", text)], in_body=True)
        assert ans.status == 200 and ans.body[0]["code"] == -1100, (value, ans.text[:200])
    six = json.dumps([ORDER] * 6)
    ledger.check("fapi", "POST v1/batchOrders six", "6", env.fapi("POST", "v1/batchOrders", [("batchOrders", six)],
                                                                  in_body=True), [-4079])  # fmt: skip
    for bad in ("{}", "[]", "[1", "x" * 9000, '[{"symbol": "BTCUSDT", "symbol": "ETHUSDT"}]'):
        ledger.check("fapi", "POST v1/batchOrders", bad, env.fapi("POST", "v1/batchOrders", [("batchOrders", bad)],
                                                                  in_body=True), [-1130, -1101])  # fmt: skip
    for value in BAD_INTEGERS:
        ids = json.dumps([value])
        ans = env.fapi("DELETE", "v1/batchOrders", [("symbol", S), ("orderIdList", ids)])
        if ans.status == 200:
            assert ans.body[0]["code"] in (-1100, -2011), (value, ans.body)
        else:
            assert 400 <= ans.status < 500, (value, ans.text[:200])
    eleven = json.dumps([env.resting_id] * 11)
    ledger.check("fapi", "DELETE v1/batchOrders eleven", "11",
                 env.fapi("DELETE", "v1/batchOrders", [("symbol", S), ("orderIdList", eleven)]), [-4079])  # fmt: skip
    ledger.finish()
