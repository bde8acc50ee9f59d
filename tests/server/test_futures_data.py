"""/futures/data statistics against a live server: two accounts open opposite positions, the open interest,
long/short ratios and taker volumes read back exactly (and through unmodified ccxt binanceusdm); hostile
parameters are answered with Binance's errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import ccxt
import pytest

from isomargin.server.testing import RunningVenue, ccxt_urls, request

SYM = "BTC/USDT:USDT"


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    data: Path = tmp_path_factory.mktemp("venue") / "data"
    with RunningVenue(data, "--no-feed", "--no-market-maker") as v:
        v.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
        short, long_ = (client(v, v.new_account("1000000")) for _ in range(2))
        short.create_order(SYM, "limit", "sell", 0.5, 60000)
        long_.create_order(SYM, "market", "buy", 0.5)
        yield v


def client(venue: RunningVenue, creds: dict[str, Any]) -> Any:
    ex = ccxt.binanceusdm({"apiKey": creds["apiKey"], "secret": creds["secret"], "options": {"fetchCurrencies": False}})
    ex.urls["api"].update(ccxt_urls(venue.base))
    ex.load_markets()
    return ex


def get(venue: RunningVenue, name: str, **params: Any) -> tuple[int, Any]:
    return request(f"{venue.base}/futures/data/{name}?{urlencode({'symbol': 'BTCUSDT', 'period': '5m', **params})}")


def test_open_interest(venue: RunningVenue) -> None:
    status, rows = get(venue, "openInterestHist")
    assert status == 200
    last = rows[-1]
    assert set(last) == {"symbol", "sumOpenInterest", "sumOpenInterestValue", "timestamp"}
    assert last["symbol"] == "BTCUSDT" and last["sumOpenInterest"] == "0.5"
    assert last["sumOpenInterestValue"] == "30000"  # 0.5 × mark 60000
    assert last["timestamp"] % 300_000 == 0
    _, hourly = get(venue, "openInterestHist", period="1h")
    assert hourly[-1]["sumOpenInterest"] == "0.5" and hourly[-1]["timestamp"] % 3_600_000 == 0


def test_long_short_ratios(venue: RunningVenue) -> None:
    for name in ("globalLongShortAccountRatio", "topLongShortAccountRatio"):
        _, rows = get(venue, name)
        assert rows[-1] | {"timestamp": 0} == {"symbol": "BTCUSDT", "longShortRatio": "1.0000", "longAccount": "0.5000",
                                               "shortAccount": "0.5000", "timestamp": 0}  # fmt: skip
    _, rows = get(venue, "topLongShortPositionRatio")
    assert rows[-1]["longPosition"] == "0.5000" and rows[-1]["longShortRatio"] == "1.0000"
    _, rows = get(venue, "takerlongshortRatio", period="1d")  # (a day: the one trade's bar, whatever the minute)
    assert rows[-1]["buyVol"] == "0.5" and rows[-1]["sellVol"] == "0" and rows[-1]["buySellRatio"] == "0.0000"


def test_ccxt(venue: RunningVenue) -> None:
    ex = ccxt.binanceusdm({"options": {"fetchCurrencies": False}})  # public endpoints: no key
    ex.urls["api"].update(ccxt_urls(venue.base))
    ex.load_markets()
    oi = ex.fetch_open_interest_history(SYM, "5m")
    assert oi[-1]["openInterestAmount"] == 0.5 and oi[-1]["openInterestValue"] == 30000
    ratios = ex.fetch_long_short_ratio_history(SYM, "5m")
    assert ratios[-1]["longShortRatio"] == 1.0 and ratios[-1]["symbol"] == SYM


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"period": "1m"}, -1130), ({"period": "5M"}, -1130), ({"period": ""}, -1130), ({"limit": "0"}, -1130),
        ({"limit": "501"}, -1130), ({"limit": "1e2"}, -1100), ({"limit": "-1"}, -1100),
        ({"startTime": "x"}, -1100), ({"endTime": "1.5"}, -1100), ({"startTime": "10", "endTime": "5"}, -1128),
        ({"symbol": "NOPE"}, -1121), ({"symbol": ""}, -1102),
    ],
)  # fmt: skip
def test_hostile_params(venue: RunningVenue, params: dict[str, str], code: int) -> None:
    for name in ("openInterestHist", "globalLongShortAccountRatio", "takerlongshortRatio"):
        status, body = get(venue, name, **params)
        assert status == 400 and set(body) == {"code", "msg"}, (name, params, body)
        assert body["code"] == code, (name, params, body)


def test_window_and_unknown_path(venue: RunningVenue) -> None:
    _, rows = get(venue, "openInterestHist", startTime="0", endTime="1")
    assert rows == []
    _, rows = get(venue, "openInterestHist", limit="1")
    assert len(rows) == 1
    status, body = request(f"{venue.base}/futures/data/nope")
    assert status == 404 and body["code"] == -5000


def test_restart_keeps_the_series(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with RunningVenue(data, "--no-feed", "--no-market-maker") as v:
        v.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
        short, long_ = (client(v, v.new_account("1000000")) for _ in range(2))
        short.create_order(SYM, "limit", "sell", 0.25, 60000)
        long_.create_order(SYM, "market", "buy", 0.25)
        short.create_order(SYM, "limit", "sell", 0.05, 60000)  # a third account buys it: two long, one short
        client(v, v.new_account("1000000")).create_order(SYM, "market", "buy", 0.05)
        _, before = get(v, "openInterestHist")
        _, ratio = get(v, "globalLongShortAccountRatio", period="1d")
        assert (ratio[-1]["longShortRatio"], ratio[-1]["longAccount"], ratio[-1]["shortAccount"]) == (
            "2.0000", "0.6667", "0.3333")  # fmt: skip
    with RunningVenue(data, "--no-feed", "--no-market-maker") as v:
        _, after = get(v, "openInterestHist")
        assert after == before and after[-1]["sumOpenInterest"] == "0.3"
        assert get(v, "globalLongShortAccountRatio", period="1d")[1] == ratio


def test_a_third_account(venue: RunningVenue) -> None:
    """A third account buys 0.1 from the short one (after the module's other tests): two long, one short."""
    maker, taker = (client(venue, venue.new_account("1000000")) for _ in range(2))
    maker.create_order(SYM, "limit", "buy", 0.1, 60000)  # the maker's bid, then the taker sells into it ...
    taker.create_order(SYM, "market", "sell", 0.1)
    _, oi = get(venue, "openInterestHist")
    assert oi[-1]["sumOpenInterest"] == "0.6" and oi[-1]["sumOpenInterestValue"] == "36000"
    _, rows = get(venue, "globalLongShortAccountRatio")  # longs 0.5 and 0.1, shorts 0.5 and 0.1
    assert (rows[-1]["longShortRatio"], rows[-1]["longAccount"], rows[-1]["shortAccount"]) == (
        "1.0000", "0.5000", "0.5000")  # fmt: skip
    _, taker_rows = get(venue, "takerlongshortRatio", period="1d")
    assert taker_rows[-1]["buyVol"] == "0.5" and taker_rows[-1]["sellVol"] == "0.1"
    assert taker_rows[-1]["buySellRatio"] == "5.0000"
