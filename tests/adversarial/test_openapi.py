"""The OpenAPI document a running venue serves at /openapi.json: every native operation and the /fapi dispatch
list the error statuses (400, 401, 403, 404, 409, 429, 503) with their body schema — `{code: str, message}` on
/api/v1, Binance's `{code: int, msg}` on /fapi — and no 422, which the venue never answers (bad input is a 400).
Numeric fields show the input grammar's pattern. And the errors really have those shapes.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from edge import Env, make_env

ERROR_STATUSES = ("400", "401", "403", "404", "409", "429", "503")
DECIMAL_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"  # Binance's own rule for decimal parameters
METHODS = ("get", "post", "put", "delete", "patch")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory.mktemp("openapi"))


@pytest.fixture(scope="module")
def spec(env: Env) -> dict[str, Any]:
    with urllib.request.urlopen(env.base + "/openapi.json", timeout=30) as resp:
        doc: dict[str, Any] = json.loads(resp.read())
    return doc


def operations(spec: dict[str, Any], prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in spec["paths"].items() if p.startswith(prefix)
            for m, op in ops.items() if m in METHODS]  # fmt: skip


def body_schema(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    ref = response["content"]["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_native_operations_list_every_error_status_with_its_body(spec: dict[str, Any]) -> None:
    ops = operations(spec, "/api/v1/")
    assert len(ops) >= 30, len(ops)  # the native API's operations (sanity: the walk found them)
    for method, path, op in ops:
        responses = op["responses"]
        missing = [s for s in ERROR_STATUSES if s not in responses]
        assert not missing, f"{method.upper()} {path} lacks {missing}"
        assert "422" not in responses, f"{method.upper()} {path} documents a 422 the venue never sends"
        for status in ERROR_STATUSES:
            schema = body_schema(spec, responses[status])
            assert schema["required"] == ["code", "message"], (path, status, schema)
            assert schema["properties"]["code"]["type"] == "string"


def test_fapi_operations_list_every_error_status_with_binance_bodies(spec: dict[str, Any]) -> None:
    ops = operations(spec, "/fapi/")
    assert {m for m, _, _ in ops} == {"get", "post", "put", "delete"}, ops
    for method, path, op in ops:
        for status in ERROR_STATUSES:
            schema = body_schema(spec, op["responses"][status])
            assert schema["required"] == ["code", "msg"], (method, path, status, schema)
            assert schema["properties"]["code"]["type"] == "integer"
        assert "422" not in op["responses"]


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec, "/")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_money_fields_show_the_decimal_grammar(spec: dict[str, Any]) -> None:
    """A client generated from the schema learns the rule: quantity, price and amounts are strings matching
    Binance's pattern (or JSON integers), not JSON numbers."""
    schemas = spec["components"]["schemas"]

    def patterns(prop: dict[str, Any]) -> set[str]:
        if "anyOf" in prop:
            return {p for sub in prop["anyOf"] for p in patterns(sub)}
        return {prop["pattern"]} if "pattern" in prop else set()

    for model, field in (("OrderIn", "quantity"), ("OrderIn", "price"), ("OrderIn", "stop_price"),
                         ("MarginIn", "amount"), ("MoneyIn", "amount"), ("InsuranceIn", "amount")):  # fmt: skip
        assert DECIMAL_PATTERN in patterns(schemas[model]["properties"][field]), (model, field)
    assert "-?" in "".join(patterns(schemas["FundingIn"]["properties"]["rate"]))  # a funding rate is signed


def test_errors_have_the_documented_shapes(env: Env) -> None:
    """One real answer per documented status the suite can provoke without setup, on both APIs."""
    native = {
        400: env.native(
            "POST", "orders", body={"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1e3"}
        ),
        401: env.send("GET", "/api/v1/account", None, {"X-MBX-APIKEY": "0" * 64}),
        404: env.native("GET", "orders/999999"),
    }
    for status, ans in native.items():
        assert ans.status == status and set(ans.body) == {"code", "message"}, (status, ans.text)
        assert isinstance(ans.body["code"], str)
    fapi = {
        400: env.fapi(
            "POST", "v1/order", [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "1e3")]
        ),
        401: env.send("GET", "/fapi/v2/account?timestamp=1&signature=" + "0" * 64, None, {"X-MBX-APIKEY": "0" * 64}),
        404: env.send("GET", "/fapi/v1/nowhere"),
    }
    for status, ans in fapi.items():
        assert ans.status == status and set(ans.body) == {"code", "msg"}, (status, ans.text)
        assert isinstance(ans.body["code"], int) and ans.body["code"] < 0
