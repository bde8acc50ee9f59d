"""The native options API against a live in-process venue: operator listing, index, mark and IV; the chain; the
book; a short and a long through orders; positions with margin, ratio, liquidation mark and greeks; margin moves;
cancels; fills; the account stream; expiry settlement; and hostile input refused with nothing changed.

Every figure is worked by hand from OKX's BTC-USD option rules (multiplier 0.01 BTC, a 0.1, b 0.15, c 0.03, tier-1
factor 1, maker 0.02 % / taker 0.03 % of the underlying capped at 7 % of the premium), not read from the engine.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from isomargin.engine import OrderSide
from isomargin.engine.commands import Command, ListOption, PlaceOptionOrder
from isomargin.server.config import VenueConfig
from isomargin.server.testing import InProcessVenue, request, signed

D = Decimal
YEAR = datetime.now(UTC).year + 1
EXP = f"{YEAR % 100:02d}1225"  # 25 Dec next year, 08:00 UTC
CALL = f"BTC-USD-{EXP}-100000-C"
PUT = f"BTC-USD-{EXP}-90000-P"
EXPIRY_MS = int(datetime(YEAR, 12, 25, 8, tzinfo=UTC).timestamp()) * 1000


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVenue]:
    data: Path = tmp_path_factory.mktemp("options") / "data"
    config = VenueConfig(data_dir=data, admin_key="opt-admin", market_maker=False, feed=False, rate_limit=0,
                         interest_schedule=False)  # fmt: skip
    with InProcessVenue(config) as v:
        yield v


def admin(v: InProcessVenue, path: str, body: Any) -> tuple[int, Any]:
    return request(v.base + "/api/v1/admin/" + path, "POST", body, {"X-Admin-Key": v.admin_key})


def call(v: InProcessVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None,
         params: dict[str, Any] | None = None) -> tuple[int, Any]:  # fmt: skip
    return signed(v.base, "/api/v1" + path, who["apiKey"], who["secret"], method, params=params, body=body)


def ok(v: InProcessVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None,
       params: dict[str, Any] | None = None) -> Any:  # fmt: skip
    status, data = call(v, who, path, method, body, params)
    assert status == 200, (path, data)
    return data


def trader(v: InProcessVenue, btc: str = "10") -> dict[str, Any]:
    who = v.new_account("1")
    assert v.admin("deposit", {"account": who["account"], "amount": btc, "asset": "BTC"}) is not None
    return who


def btc(v: InProcessVenue, who: dict[str, Any]) -> Decimal:
    return D(ok(v, who, "/balances")["BTC"]["wallet"])


def direct(v: InProcessVenue, cmd: Command, ts: int) -> Any:
    """Submit a command stamped at `ts` (the past), as the journal would have taken it then."""
    assert v.venue is not None
    return v.venue.committer.call(dataclasses.replace(cmd, ts=ts))


def test_list_chain_index_mark_iv(venue: InProcessVenue) -> None:
    status, listed = admin(venue, "options", {"symbol": CALL, "mark_price": "0.03"})
    assert status == 200, listed
    assert (listed["family"], listed["settle"], listed["multiplier"], listed["kind"], listed["strike"]) == (
        "BTC-USD", "BTC", "0.01", "call", "100000")  # fmt: skip
    assert listed["expiry"] == EXPIRY_MS and listed["mark_price"] == "0.03"
    assert admin(venue, "options", {"symbol": PUT})[0] == 200
    status, body = admin(venue, "options", {"symbol": CALL})
    assert status == 400 and body["code"] == "already_listed"
    assert admin(venue, "options/index", {"family": "BTC-USD", "price": "95000"})[1]["index_price"] == "95000"
    # the put from an IV: Black-76 on the index, divided by it (coin-margined), rounded down to 1e-8
    status, marked = admin(venue, "options/iv", {"symbol": PUT, "iv": "0.6"})
    assert status == 200 and marked["iv"] == "0.6"
    years = (EXPIRY_MS - time.time() * 1000) / (365 * 86400_000)
    f, k, s = 95000.0, 90000.0, 0.6 * math.sqrt(years)
    d1 = (math.log(f / k) + s * s / 2) / s
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    put = (k * phi(-(d1 - s)) - f * phi(-d1)) / f
    assert abs(float(marked["mark_price"]) - put) < 1e-6
    rows = request(venue.base + "/api/v1/options?family=BTC-USD")[1]
    assert [r["symbol"] for r in rows] == [PUT, CALL]  # by strike
    assert rows[0]["iv"] == "0.6" and rows[1]["iv"] is None
    chain = request(venue.base + "/api/v1/options/chain?family=BTC-USD")[1]
    assert chain["index_price"] == "95000" and [e["expiry"] for e in chain["expiries"]] == [EXPIRY_MS]
    strikes = chain["expiries"][0]["strikes"]
    assert [(s["strike"], s["call"] and s["call"]["symbol"], s["put"] and s["put"]["symbol"]) for s in strikes] == [
        ("90000", None, PUT), ("100000", CALL, None)]  # fmt: skip
    assert request(venue.base + f"/api/v1/options/{CALL}")[1]["tick_size"] == "0.0001"
    assert request(venue.base + "/api/v1/options/index/BTC-USD")[1]["index_price"] == "95000"
    assert admin(venue, "options/mark", {"symbol": CALL, "price": "0.03"})[1]["mark_price"] == "0.03"


def test_short_and_long_positions_margin_and_stream(venue: InProcessVenue) -> None:
    seller, buyer = trader(venue), trader(venue)
    order = {"symbol": CALL, "side": "SELL", "quantity": "100", "price": "0.03", "client_order_id": "w-1"}
    sell = ok(venue, seller, "/options/orders", "POST", order)
    assert (sell["status"], sell["open"], sell["client_order_id"]) == ("NEW", True, "w-1")
    # sell to open 100 contracts (1 BTC of underlying) at 0.03: OTM 5000/95000 = 0.0526, so max(0.1, 0.15 − 0.0526)
    # = 0.1 and IM = 0.1 + 0.03 = 0.13; the hold is IM − premium + taker fee min(0.0003 × 0.01, 7 % × 0.03 × 0.01)
    # × 100 = 0.0003: 0.1003 BTC
    open_orders = ok(venue, seller, "/options/orders")
    assert [(o["order_id"], o["margin"]) for o in open_orders] == [(sell["order_id"], "0.1003")]
    assert btc(venue, seller) == D("9.8997")
    book = request(venue.base + f"/api/v1/options/{CALL}/book")[1]
    assert book["asks"] == [["0.03", "100"]] and book["bids"] == []
    lk = ok(venue, seller, "/listen-key", "POST")["listenKey"]
    with connect(venue.base.replace("http", "ws") + f"/ws?listenKey={lk}") as ws:
        buy = ok(venue, buyer, "/options/orders", "POST",
                 {"symbol": CALL, "side": "BUY", "quantity": "100", "price": "0.03"})  # fmt: skip
        assert (buy["status"], buy["filled"]) == ("FILLED", "100")
        seen: list[dict[str, Any]] = []
        wanted = {"OPTION_ORDER_UPDATE", "OPTION_TRADE", "OPTION_POSITION_UPDATE", "OPTION_MARGIN_CALL"}
        while not wanted <= {m.get("e") for m in seen}:
            seen.append(json.loads(ws.recv(timeout=10)))
    trade = next(m for m in seen if m["e"] == "OPTION_TRADE")
    # maker (seller) fee 0.0002 × 0.01 × 100 = 0.0002; taker (buyer) 0.0003
    assert (trade["qty"], trade["premium"], trade["seller_fee"], trade["buyer_fee"]) == ("100", "0.03", "0.0002",
                                                                                        "0.0003")  # fmt: skip
    pos_msg = next(m for m in seen if m["e"] == "OPTION_POSITION_UPDATE" and m["account"] == seller["account"])
    assert (pos_msg["qty"], pos_msg["margin"]) == ("-100", "0.1301")
    call_msg = next(m for m in seen if m["e"] == "OPTION_MARGIN_CALL")
    assert call_msg["level"] == "warning"  # 216 % < 300 %
    assert btc(venue, buyer) == D("10") - D("0.03") - D("0.0003")

    short = ok(venue, seller, f"/options/positions/{CALL}")
    # pool = hold 0.1003 + premium 0.03 − maker fee 0.0002 = 0.1301; OKX's margin balance = margin + unrealised PnL
    # = 0.1301 + (premium 0.03 − value 0.03) = 0.1301; MM = c + mark = 0.03 + 0.03 = 0.06, liquidation fee 0.0003:
    # ratio 0.1301 / 0.0603
    got = (short["side"], short["contracts"], short["margin"], short["margin_balance"])
    assert got == ("short", "-100", "0.1301", "0.1301")
    assert (short["maintenance_margin"], short["liquidation_fee"], short["initial_margin"]) == ("0.06", "0.0003",
                                                                                                "0.13")  # fmt: skip
    assert D(short["margin_ratio"]).quantize(D("1E-12")) == (D("0.1301") / D("0.0603")).quantize(D("1E-12"))
    # liquidation: 0.1301 + (0.03 − m) = 0.03 + m + 0.0003, so m = 0.0649
    assert short["liquidation_mark"] == "0.0649" and short["pnl"] == "0" and "greeks" not in short
    long = ok(venue, buyer, "/options/positions")
    assert [(p["symbol"], p["side"], p["contracts"], p["premium"], p["pnl"]) for p in long] == [
        (CALL, "long", "100", "0.03", "0")]  # fmt: skip

    # the mark moves to 0.04 by the operator: the long gains (0.04 − 0.03) × 1 BTC, the short loses as much
    assert admin(venue, "options/mark", {"symbol": CALL, "price": "0.04"})[0] == 200
    assert ok(venue, buyer, f"/options/positions/{CALL}")["pnl"] == "0.01"
    short = ok(venue, seller, f"/options/positions/{CALL}")
    assert short["pnl"] == "-0.01" and short["margin_balance"] == "0.1201"

    # greeks once the call is marked from an IV: a short's delta is −N(d1) per unit of underlying (1 BTC here); at
    # 10 % vol the call is worth about 1,900 USD, 0.02 BTC, below the 0.0499 that would liquidate
    assert admin(venue, "options/iv", {"symbol": CALL, "iv": "0.1"})[0] == 200
    short = ok(venue, seller, f"/options/positions/{CALL}")
    years = (EXPIRY_MS - time.time() * 1000) / (365 * 86400_000)
    s = 0.1 * math.sqrt(years)
    d1 = (math.log(95000 / 100000) + s * s / 2) / s
    assert short["iv"] == "0.1"
    assert abs(float(short["greeks"]["delta"]) + 0.5 * (1 + math.erf(d1 / math.sqrt(2)))) < 1e-5
    assert float(short["greeks"]["vega"]) < 0 < float(short["greeks"]["theta"])

    # margin moves: add 0.05, then remove 0.01 (the pool keeps its initial margin)
    added = ok(venue, seller, "/options/margin", "POST", {"symbol": CALL, "amount": "0.05", "type": "add"})
    assert added["margin"] == "0.1801"
    assert ok(venue, seller, "/options/margin", "POST", {"symbol": CALL, "amount": "0.01", "type": "remove"})[
        "margin"] == "0.1701"  # fmt: skip
    moves = ok(venue, seller, "/options/margin-moves")
    assert [(m["amount"], m["margin"]) for m in moves] == [("0.05", "0.1801"), ("-0.01", "0.1701")]
    fills = ok(venue, seller, "/options/fills")
    assert [(f["side"], f["qty"], f["fee"], f["maker"]) for f in fills] == [("SELL", "100", "0.0002", True)]
    alerts = ok(venue, seller, "/options/alerts")
    assert alerts["margin_calls"] and alerts["liquidations"] == []

    # a resting order and its cancel give the hold back
    before = btc(venue, buyer)
    bid = ok(venue, buyer, "/options/orders", "POST", {"symbol": PUT, "side": "BUY", "quantity": "10", "price": "0.01"})
    # buy 10 contracts at 0.01: premium 0.001 BTC plus the fee cap 7 % of it, 0.00007
    assert btc(venue, buyer) == before - D("0.00107")
    gone = ok(venue, buyer, f"/options/orders/{bid['order_id']}", "DELETE")
    assert (gone["status"], gone["open"]) == ("CANCELED", False)
    assert btc(venue, buyer) == before
    assert ok(venue, buyer, f"/options/orders/{bid['order_id']}")["status"] == "CANCELED"
    status, body = call(venue, buyer, f"/options/orders/{bid['order_id']}", "DELETE")
    assert status == 400 and body["code"] == "unknown_order"
    assert [o["order_id"] for o in ok(venue, buyer, "/options/orders", params={"status": "all"})][-1] == bid["order_id"]

    # at 50 % vol the call is worth about 0.17 BTC, past the short's pool: it is liquidated (tier 1: in full)
    assert admin(venue, "options/iv", {"symbol": CALL, "iv": "0.5"})[0] == 200
    assert call(venue, seller, f"/options/positions/{CALL}")[0] == 404
    steps = ok(venue, seller, "/options/alerts")["liquidations"]
    # no bid in the book, so the fund takes the 100 contracts over at the mark; the pool (0.1701 after the margin
    # moves) is short of their value by mark − 0.1701, which the fund covers; nothing returns to the wallet
    last = steps[-1]
    assert (last["step"], last["qty"], last["taken_over"], last["returned"]) == ("close", "0", "100", "0")
    assert D(last["shortfall"]) == D(last["mark"]) - D("0.1701")
    assert ok(venue, buyer, f"/options/positions/{CALL}")["contracts"] == "100"  # a long is never liquidated


def test_hostile_input_changes_nothing(venue: InProcessVenue) -> None:
    who = trader(venue, "0.05")
    for body, code in (
        ({"symbol": "BTC-USD-301225-0-C"}, "bad_strike"),  # strike 0
        ({"symbol": "BTC-USD-301225--5-C"}, "bad_option"),  # a negative strike is no option name
        ({"symbol": "BTC-USD-200101-100000-C"}, "option_expired"),
        ({"symbol": "BTC-USD-301232-100000-C"}, "bad_option"),  # no such day
        ({"symbol": "DOGE-USD-301225-1-C"}, "bad_option"),  # no such family
        ({"symbol": "BTC-USD-301225-100000-C", "mark_price": "-1"}, "bad_number"),
        ({"symbol": "BTC-USD-301225-100000-Ｃ"}, "bad_symbol"),
        ({"symbol": "ETH-USD-301225-3000-C", "iv": "0.5"}, "no_index_price"),  # no ETH-USD index for Black-76
    ):
        status, got = admin(venue, "options", body)
        assert (status, got["code"]) == (400, code), (body, got)
    assert len(request(venue.base + "/api/v1/options")[1]) == 2  # nothing listed
    status, got = request(venue.base + "/api/v1/admin/options", "POST", {"symbol": CALL}, {"X-Admin-Key": "wrong"})
    assert status == 401
    wallet = btc(venue, who)
    for body, code in (
        ({"price": "0.03001"}, "bad_price"),  # off the 0.0001 tick
        ({"quantity": "１０"}, "bad_number"),  # full-width digits
        ({"price": "٠.٠٣"}, "bad_number"),  # Arabic-Indic digits
        ({"price": "3e-2"}, "bad_number"),
        ({"quantity": "0"}, "bad_amount"),
        ({"quantity": "100"}, "insufficient_margin"),  # the sell-to-open hold 0.1003 is more than the 0.05 held
        ({"symbol": "BTC-USD-301225-120000-C"}, "unknown_option"),
    ):
        order = {"symbol": CALL, "side": "SELL", "quantity": "1", "price": "0.03", **body}
        status, got = call(venue, who, "/options/orders", "POST", order)
        assert (status, got["code"]) == (404 if code == "unknown_option" else 400, code), (body, got)
    assert btc(venue, who) == wallet and ok(venue, who, "/options/orders", params={"status": "all"}) == []
    status, got = call(venue, who, "/options/margin", "POST", {"symbol": CALL, "amount": "0.01", "type": "add"})
    assert (status, got["code"]) == (400, "no_position")
    status, got = call(venue, who, "/options/margin", "POST", {"symbol": CALL, "amount": "0.01", "type": "grow"})
    assert status == 400
    assert call(venue, who, f"/options/positions/{CALL}")[0] == 404
    assert request(venue.base + "/api/v1/options/BTC-USD-301225-1-C/book")[0] == 404
    assert request(venue.base + "/api/v1/options/chain?family=ETH-USD")[0] == 404
    assert request(venue.base + "/api/v1/options/" + "A" * 49)[0] == 400
    status, got = admin(venue, "options/iv", {"symbol": CALL, "iv": "NaN"})
    assert (status, got["code"]) == (400, "bad_number")
    status, got = admin(venue, "options/index", {"family": "ETH-USD", "price": "3000"})
    assert (status, got["code"]) == (404, "unknown_family")
    assert btc(venue, who) == wallet


def test_expired_option_refuses_orders_then_settles(venue: InProcessVenue) -> None:
    """An option whose expiry passed yesterday: listed and traded two days ago (commands stamped then), refused
    new orders now, then settled by the operator at 104,000."""
    today = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    expiry = today - timedelta(days=1) if datetime.now(UTC) >= today else today - timedelta(days=2)
    exp_ms = int(expiry.timestamp()) * 1000
    name = f"BTC-USD-{expiry:%y%m%d}-100000-C"
    then = exp_ms - 2 * 86400_000
    long, short = trader(venue), trader(venue)
    direct(venue, ListOption(name), then)
    assert admin(venue, "options/index", {"family": "BTC-USD", "price": "95000"})[0] == 200
    events = direct(venue, PlaceOptionOrder(short["account"], name, OrderSide.SELL, D(10), D("0.01")), then)
    assert not any(type(e).__name__ == "Rejected" for e in events), [e.to_dict() for e in events]
    direct(venue, PlaceOptionOrder(long["account"], name, OrderSide.BUY, D(10), D("0.01")), then)
    status, got = call(venue, long, "/options/orders", "POST", {"symbol": name, "side": "BUY", "quantity": "1",
                                                                "price": "0.01"})  # fmt: skip
    assert (status, got["code"]) == (400, "option_expired")
    before = btc(venue, long)
    status, done = admin(venue, "options/settle", {"family": "BTC-USD", "expiry": exp_ms, "price": "104000"})
    assert status == 200 and done["delisted"] == [name]
    # 10 contracts × 0.01 BTC × (104000 − 100000) / 104000 = 0.00384615384…, the long's rounded down to 1e-8
    rows = ok(venue, long, "/options/settlements")
    assert [(r["symbol"], r["qty"]) for r in rows] == [(name, "10")]
    payout = D(rows[0]["payout"])
    exact = D(10) * D("0.01") * D(4000) / D(104000)
    assert D(0) <= exact - payout < D("1E-8")
    assert btc(venue, long) == before + payout
    assert D(ok(venue, short, "/options/settlements")[0]["payout"]) <= -exact
    status, got = request(venue.base + f"/api/v1/options/{name}")
    assert status == 404 and "settled at 104000" in got["message"]
