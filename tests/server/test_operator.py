"""Operator-facing behaviour against a live server: pausing a market is a journaled engine command (orders
get Binance's −2010 while it lasts, and it survives a restart); the liquidation map is windowed around mark."""

from __future__ import annotations

from pathlib import Path

from isomargin.server.testing import RunningVenue, signed


def order(venue: RunningVenue, acct: dict[str, str]) -> tuple[int, object]:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "59000",
              "timeInForce": "GTC"}  # fmt: skip
    return signed(venue.base, "/fapi/v1/order", acct["apiKey"], acct["secret"], "POST", params)


def test_pause_is_journaled_and_refuses_orders(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with RunningVenue(data, "--no-feed", "--no-market-maker", "--rate-limit", "0") as venue:
        venue.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
        acct = venue.new_account()
        assert order(venue, acct)[0] == 200
        venue.admin("pause", {"symbol": "BTCUSDT", "paused": True})
        status, body = order(venue, acct)
        assert status == 400 and body["code"] == -2010  # type: ignore[index]
    with RunningVenue(data, "--no-feed", "--no-market-maker", "--rate-limit", "0") as venue:  # restart
        status, body = order(venue, acct)
        assert status == 400 and body["code"] == -2010, "the pause must come back from the journal"  # type: ignore[index]
        venue.admin("pause", {"symbol": "BTCUSDT", "paused": False})
        assert order(venue, acct)[0] == 200


def test_liquidation_map_windows_around_mark(tmp_path: Path) -> None:
    # Binance BTCUSDT, 0.01 BTC isolated longs at 60,000: at 10× LP = (60 − 600)/(0.00004 − 0.01) = 54,216.87;
    # at 2× LP = (300 − 600)/(0.00004 − 0.01) = 30,120.48. With range 0.4 the window is 36,000–84,000 in bins of
    # 4,000: the 10× long is drawn in bin 4, the 2× long is tallied below, the maker's cross short (100,000
    # wallet behind 0.02 BTC) far above.
    from decimal import Decimal

    from isomargin.server.testing import request

    with RunningVenue(tmp_path / "data", "--no-feed", "--no-market-maker", "--rate-limit", "0") as venue:
        venue.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
        maker, near, far = venue.new_account(), venue.new_account(), venue.new_account()
        for acct, lev in ((near, 10), (far, 2)):
            for path, params in (("/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}),
                                 ("/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": lev})):  # fmt: skip
                assert signed(venue.base, path, acct["apiKey"], acct["secret"], "POST", params)[0] == 200
            sell = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "quantity": "0.01", "price": "60000",
                    "timeInForce": "GTC"}  # fmt: skip
            assert signed(venue.base, "/fapi/v1/order", maker["apiKey"], maker["secret"], "POST", sell)[0] == 200
            buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
            assert signed(venue.base, "/fapi/v1/order", acct["apiKey"], acct["secret"], "POST", buy)[0] == 200
        status, body = request(f"{venue.base}/api/v1/markets/BTCUSDT/liquidation-map?bins=12&range=0.4")
        assert status == 200
        bins = body["bins"]
        assert Decimal(bins[0]["price_low"]) == 36000 and Decimal(bins[-1]["price_high"]) == 84000
        assert [b["count"] for b in bins] == [0, 0, 0, 0, 1] + [0] * 7 and Decimal(bins[4]["long"]) > 0
        assert body["outside"]["below"]["count"] == 1 and body["outside"]["above"]["count"] == 1
