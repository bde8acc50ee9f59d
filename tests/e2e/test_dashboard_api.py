"""The native endpoints the dashboard added, against a real server: a preview changes nothing and matches what the
order then does; amend refuses bad numbers with no change; the ADL queue ranks by PnL % × effective leverage;
position history closes a round trip with its realised PnL. Numbers derived by hand in the comments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isomargin.server.testing import RunningVenue, signed


def call(venue: RunningVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None) -> Any:
    status, data = signed(venue.base, path, who["apiKey"], who["secret"], method, body=body)
    assert status == 200, data
    return data


def test_preview_changes_nothing_and_matches_the_fill(venue: RunningVenue) -> None:
    me, mm = venue.new_account("10000"), venue.new_account("5000000")
    venue.admin("mark-price", {"symbol": "ETHUSDT", "price": "3000"})
    call(venue, mm, "/api/v1/orders", "POST",
         {"symbol": "ETHUSDT", "side": "SELL", "type": "LIMIT", "quantity": "10", "price": "3000"})  # fmt: skip
    state = (call(venue, me, "/api/v1/account"), call(venue, me, "/api/v1/orders"))
    order = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}
    pv = call(venue, me, "/api/v1/orders/preview", "POST", {**order, "leverage": 5, "margin_mode": "isolated"})
    # 1 ETH at 3,000, 5× isolated: margin 3,000 / 5 = 600; taker fee 3,000 × 0.0005 = 1.5
    assert pv["ok"] and Decimal(pv["margin_change"]) == 600 and Decimal(pv["fee"]) == Decimal("1.5")
    assert Decimal(pv["average_price"]) == 3000 and pv["margin_mode"] == "isolated" and pv["leverage"] == 5
    assert (call(venue, me, "/api/v1/account"), call(venue, me, "/api/v1/orders")) == state  # settings untouched
    assert call(venue, mm, "/api/v1/orders")[0]["filled"] == "0"  # nobody's book changed
    call(venue, me, "/api/v1/settings/margin-mode", "POST", {"symbol": "ETHUSDT", "mode": "isolated"})
    call(venue, me, "/api/v1/settings/leverage", "POST", {"symbol": "ETHUSDT", "leverage": 5})
    call(venue, me, "/api/v1/orders", "POST", order)
    pos = next(p for p in call(venue, me, "/api/v1/positions") if p["symbol"] == "ETHUSDT")
    assert Decimal(pos["isolated_margin"]) == 600
    assert Decimal(pos["liquidation_price"]) <= Decimal(pv["liquidation_price_after"])
    assert Decimal(pv["liquidation_price_after"]) - Decimal(pos["liquidation_price"]) < Decimal("0.01")
    # the engine's refusal comes back as ok false, not an error
    huge = call(venue, me, "/api/v1/orders/preview", "POST", {**order, "quantity": "1000000"})
    assert huge["ok"] is False and huge["code"]


def test_amend_refuses_bad_numbers_and_moves_the_price(venue: RunningVenue) -> None:
    me = venue.new_account("10000")
    rest = call(venue, me, "/api/v1/orders", "POST",
                {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "2000"})  # fmt: skip
    path = f"/api/v1/orders/{rest['order_id']}"
    for bad in ("abc", "-1", "1e3", "1" * 25, "١٢"):
        status, err = signed(venue.base, path, me["apiKey"], me["secret"], "PUT", body={"price": bad})
        assert status == 400 and err["code"] == "bad_number", (bad, err)
    status, _ = signed(venue.base, path, me["apiKey"], me["secret"], "PUT", body={})
    assert status == 400
    assert call(venue, me, path)["price"] == "2000"
    assert call(venue, me, path, "PUT", {"price": "2100"})["price"] == "2100"
    other = venue.new_account("10")
    status, _ = signed(venue.base, path, other["apiKey"], other["secret"], "PUT", body={"price": "2200"})
    assert status == 404  # another account's order is not found
    call(venue, me, path, "DELETE")


def test_adl_rank_and_position_history(venue: RunningVenue) -> None:
    a, b, mm = venue.new_account("100000"), venue.new_account("100000"), venue.new_account("5000000")
    venue.admin("mark-price", {"symbol": "SOLUSDT", "price": "100"})
    call(venue, mm, "/api/v1/orders", "POST",
         {"symbol": "SOLUSDT", "side": "SELL", "type": "LIMIT", "quantity": "100", "price": "100"})  # fmt: skip
    for who, lev in ((a, 10), (b, 2)):
        call(venue, who, "/api/v1/settings/margin-mode", "POST", {"symbol": "SOLUSDT", "mode": "isolated"})
        call(venue, who, "/api/v1/settings/leverage", "POST", {"symbol": "SOLUSDT", "leverage": lev})
        call(
            venue,
            who,
            "/api/v1/orders",
            "POST",
            {"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "10"},
        )
    venue.admin("mark-price", {"symbol": "SOLUSDT", "price": "110"})
    # both longs gained 10 × 10 = 100: PnL % = 100 / 100 (10×: margin 100) = 1 vs 100 / 500 (2×) = 0.2, and the 10×
    # has more effective leverage too, so it is first in the longs' ADL queue.
    ra = call(venue, a, "/api/v1/adl-rank")[0]
    rb = call(venue, b, "/api/v1/adl-rank")[0]
    assert (ra["queue_position"], rb["queue_position"]) == (1, 2) and ra["queue_size"] == rb["queue_size"] == 2
    assert ra["adl_quantile"] == 5 and rb["adl_quantile"] < 5
    # a closes at 105 into a bid (the maker's ask withdrawn first): realised 10 × (105 − 100) = 50
    status, _ = signed(venue.base, "/api/v1/orders", mm["apiKey"], mm["secret"], "DELETE", params={"symbol": "SOLUSDT"})
    assert status == 200
    call(venue, mm, "/api/v1/orders", "POST",
         {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "quantity": "10", "price": "105"})  # fmt: skip
    call(venue, a, "/api/v1/orders", "POST",
         {"symbol": "SOLUSDT", "side": "SELL", "type": "MARKET", "quantity": "10", "reduce_only": True})  # fmt: skip
    trip = call(venue, a, "/api/v1/position-history")[0]
    assert trip["symbol"] == "SOLUSDT" and trip["side"] == "long" and trip["closed_time"] is not None
    assert Decimal(trip["realized_pnl"]) == 50 and Decimal(trip["entry_price"]) == 100
    assert Decimal(trip["close_price"]) == 105 and Decimal(trip["max_size"]) == 10
    # fees: 10 × 100 × 0.0005 + 10 × 105 × 0.0005 = 0.5 + 0.525
    assert Decimal(trip["fees"]) == Decimal("1.025")
