"""Auth and isolation against a live server: tampered signatures, stale and future timestamps, missing
permissions, another account's order id, rate limits (429 then 418), and no secret ever returned twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from isomargin.server.keys import sign
from isomargin.server.testing import RunningVenue, request, signed


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    data: Path = tmp_path_factory.mktemp("auth") / "data"
    with RunningVenue(data, "--no-feed", "--no-market-maker", "--rate-limit", "0") as v:
        yield v


def raw(venue: RunningVenue, path: str, key: str, query: str, method: str = "GET") -> tuple[int, object]:
    import urllib.request

    req = urllib.request.Request(f"{venue.base}{path}?{query}", method=method, headers={"X-MBX-APIKEY": key})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        import json

        return e.code, json.loads(e.read())


def test_signature_and_timestamps(venue: RunningVenue) -> None:
    a = venue.new_account()
    q = urlencode({"timestamp": int(time.time() * 1000)})
    ok_sig = sign(a["secret"], q)
    assert raw(venue, "/fapi/v2/account", a["apiKey"], f"{q}&signature={ok_sig}")[0] == 200
    tampered = ("0" if ok_sig[0] != "0" else "1") + ok_sig[1:]
    assert raw(venue, "/fapi/v2/account", a["apiKey"], f"{q}&signature={tampered}") == (
        401, {"code": -1022, "msg": "Signature for this request is not valid."})  # fmt: skip
    q2 = q + "&symbol=BTCUSDT"  # parameters changed after signing
    assert raw(venue, "/fapi/v2/positionRisk", a["apiKey"], f"{q2}&signature={ok_sig}")[1]["code"] == -1022  # type: ignore[index]
    stale = int(time.time() * 1000) - 10_000
    status, body = signed(venue.base, "/fapi/v2/account", a["apiKey"], a["secret"], timestamp=stale)
    assert (status, body["code"]) == (400, -1021)
    future = int(time.time() * 1000) + 5_000
    status, body = signed(venue.base, "/fapi/v2/account", a["apiKey"], a["secret"], timestamp=future)
    assert (status, body["code"]) == (400, -1021) and "ahead" in body["msg"]
    status, body = signed(venue.base, "/api/v1/account", a["apiKey"], a["secret"], timestamp=stale)
    assert status == 400 and body["code"] == "timestamp_stale"
    status, body = signed(venue.base, "/fapi/v2/account", "nope", a["secret"])
    assert (status, body["code"]) == (401, -2015)
    status, body = signed(venue.base, "/api/v1/positions", "nope", a["secret"])
    assert (status, body["code"]) == (401, "invalid_api_key")


def test_permissions_and_isolation(venue: RunningVenue) -> None:
    a = venue.new_account()
    reader = venue.new_account(permissions=("read",))
    venue.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
    status, order = signed(venue.base, "/api/v1/orders", a["apiKey"], a["secret"], "POST",
                           body={"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01",
                                 "price": "50000"})  # fmt: skip
    assert status == 200
    status, body = signed(venue.base, "/api/v1/orders", reader["apiKey"], reader["secret"], "POST",
                          body={"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01",
                                "price": "50000"})  # fmt: skip
    assert (status, body["code"]) == (403, "permission_denied")
    status, body = signed(
        venue.base,
        "/fapi/v1/order",
        reader["apiKey"],
        reader["secret"],
        "POST",
        params={"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"},
    )
    assert (status, body["code"]) == (403, -2015)
    oid = order["order_id"]
    b = reader
    assert signed(venue.base, f"/api/v1/orders/{oid}", b["apiKey"], b["secret"])[1]["code"] == "unknown_order"
    status, body = signed(venue.base, "/fapi/v1/order", b["apiKey"], b["secret"],
                          params={"symbol": "BTCUSDT", "orderId": oid})  # fmt: skip
    assert (status, body) == (400, {"code": -2013, "msg": "Order does not exist."})
    other = venue.new_account()
    status, body = signed(venue.base, "/fapi/v1/order", other["apiKey"], other["secret"], "DELETE",
                          params={"symbol": "BTCUSDT", "orderId": oid})  # fmt: skip
    assert (status, body["code"]) == (400, -2011)
    status, body = signed(venue.base, f"/api/v1/orders/{oid}", other["apiKey"], other["secret"], "DELETE")
    assert status == 404
    assert signed(venue.base, f"/api/v1/orders/{oid}", a["apiKey"], a["secret"])[1]["status"] == "NEW"


def test_operator_key_and_secrets(venue: RunningVenue) -> None:
    status, body = request(venue.base + "/api/v1/admin/accounts", "POST", {}, {"X-Admin-Key": "wrong"})
    assert (status, body["code"]) == (401, "bad_admin_key")
    status, body = request(venue.base + "/api/v1/admin/mark-price", "POST", {"symbol": "BTCUSDT", "price": "1"})
    assert status == 401
    a = venue.new_account()
    listed = venue.admin("api-keys", method="GET")
    assert listed and all("secret" not in k for k in listed)
    assert a["secret"] not in (venue.data.parent / f"{venue.data.name}-server.log").read_text()
    op = venue.admin("api-keys", {"account": a["account"], "permissions": ["operator"]})
    status, body = signed(venue.base, "/api/v1/admin/mark-price", op["apiKey"], op["secret"], "POST",
                          body={"symbol": "ETHUSDT", "price": "3100"})  # fmt: skip
    assert status == 200 and body["mark_price"] == "3100"


def test_rate_limit_then_ban(tmp_path: Path) -> None:
    with RunningVenue(tmp_path / "rl", "--no-feed", "--no-market-maker", "--rate-limit", "20") as v:
        codes = []
        retry = []
        for _ in range(60):
            import urllib.request

            try:
                with urllib.request.urlopen(v.base + "/fapi/v1/depth?symbol=BTCUSDT") as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as e:
                codes.append(e.code)
                retry.append(e.headers.get("Retry-After"))
        assert codes[:4] == [200] * 4 and 429 in codes and codes[-1] == 418
        assert all(r is not None and int(r) > 0 for r in retry)
