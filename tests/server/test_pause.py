"""Pausing a market is an engine command: orders are refused with Binance's −2010 while it lasts, the
pause is journaled (it survives a restart of the server), and resuming reopens the market."""

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
