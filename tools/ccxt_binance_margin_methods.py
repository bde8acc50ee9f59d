"""Run ccxt `binance`'s spot and isolated-margin methods against a live venue and print a Markdown table of which
work (what docs/server.md shows for /api/v3 and /sapi).

    python tools/ccxt_binance_margin_methods.py   # starts `isomargin serve --demo-account` on a free port

Each method is called once with ordinary arguments on BTC/USDT from the demo account, a second account resting an
ask and a bid; "works" means it returned without an exception, otherwise the exception class and the start of its
message are shown.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ccxt

from isomargin.server.testing import RunningVenue, ccxt_urls

SYM = "BTC/USDT"
ISO = {"marginMode": "isolated"}


def client(venue: RunningVenue, creds: dict[str, Any]) -> Any:
    ex = ccxt.binance({"apiKey": creds["apiKey"], "secret": creds["secret"], "options": {"fetchCurrencies": False}})
    ex.urls["api"].update(ccxt_urls(venue.base))
    ex.load_markets()
    return ex


def calls(ex: Any, state: dict[str, Any]) -> list[tuple[str, Callable[[], Any]]]:
    def spot_limit() -> Any:
        o = ex.create_order(SYM, "limit", "buy", 0.001, 50000)
        state["spot"] = o["id"]
        return o

    def margin_limit() -> Any:
        o = ex.create_order(SYM, "limit", "buy", 0.001, 50000, ISO)
        state["margin"] = o["id"]
        return o

    return [
        ("fetch_time", ex.fetch_time),
        ("fetch_status", ex.fetch_status),
        ("fetch_markets", ex.fetch_markets),
        ("fetch_currencies", ex.fetch_currencies),
        ("fetch_ticker", lambda: ex.fetch_ticker(SYM)),
        ("fetch_tickers", lambda: ex.fetch_tickers([SYM, "ETH/USDT"])),
        ("fetch_order_book", lambda: ex.fetch_order_book(SYM)),
        ("fetch_bids_asks", lambda: ex.fetch_bids_asks([SYM])),
        ("fetch_last_prices", lambda: ex.fetch_last_prices([SYM])),
        ("fetch_trades", lambda: ex.fetch_trades(SYM)),
        ("fetch_ohlcv", lambda: ex.fetch_ohlcv(SYM, "1m")),
        ("fetch_trading_fee", lambda: ex.fetch_trading_fee(SYM)),
        ("fetch_isolated_borrow_rate", lambda: ex.fetch_isolated_borrow_rate(SYM)),
        ("fetch_isolated_borrow_rates", ex.fetch_isolated_borrow_rates),
        ("fetch_borrow_rate_history", lambda: ex.fetch_borrow_rate_history("USDT")),
        ("fetch_balance (spot)", ex.fetch_balance),
        ("create_order (spot limit)", spot_limit),
        ("create_order (spot market)", lambda: ex.create_order(SYM, "market", "buy", 0.001)),
        ("create_order (spot market, cost)", lambda: ex.create_market_buy_order_with_cost(SYM, 100)),
        ("fetch_order (spot)", lambda: ex.fetch_order(state["spot"], SYM)),
        ("fetch_open_orders (spot)", lambda: ex.fetch_open_orders(SYM)),
        ("fetch_orders (spot)", lambda: ex.fetch_orders(SYM)),
        ("fetch_closed_orders (spot)", lambda: ex.fetch_closed_orders(SYM)),
        ("fetch_my_trades (spot)", lambda: ex.fetch_my_trades(SYM)),
        ("cancel_order (spot)", lambda: ex.cancel_order(state["spot"], SYM)),
        ("cancel_all_orders (spot)", lambda: ex.cancel_all_orders(SYM)),
        ("transfer (spot → BTC/USDT)", lambda: ex.transfer("USDT", 1000, "spot", SYM)),
        ("transfer (BTC/USDT → spot)", lambda: ex.transfer("USDT", 10, SYM, "spot")),
        ("fetch_transfers (type MAIN_ISOLATED_MARGIN)",
         lambda: ex.fetch_transfers("USDT", params={"type": "MAIN_ISOLATED_MARGIN"})),
        ("borrow_isolated_margin", lambda: ex.borrow_isolated_margin(SYM, "USDT", 500)),
        ("repay_isolated_margin", lambda: ex.repay_isolated_margin(SYM, "USDT", 100)),
        ("fetch_balance (isolated)", lambda: ex.fetch_balance({"type": "margin", **ISO})),
        ("create_order (isolated limit)", margin_limit),
        ("create_order (isolated, MARGIN_BUY)",
         lambda: ex.create_order(SYM, "market", "buy", 0.02, None, {**ISO, "sideEffectType": "MARGIN_BUY"})),
        ("create_order (isolated, AUTO_REPAY)",
         lambda: ex.create_order(SYM, "market", "sell", 0.005, None, {**ISO, "sideEffectType": "AUTO_REPAY"})),
        ("fetch_order (isolated)", lambda: ex.fetch_order(state["margin"], SYM, ISO)),
        ("fetch_open_orders (isolated)", lambda: ex.fetch_open_orders(SYM, params=ISO)),
        ("fetch_orders (isolated)", lambda: ex.fetch_orders(SYM, params=ISO)),
        ("fetch_my_trades (isolated)", lambda: ex.fetch_my_trades(SYM, params=ISO)),
        ("cancel_order (isolated)", lambda: ex.cancel_order(state["margin"], SYM, ISO)),
        ("cancel_all_orders (isolated)", lambda: ex.cancel_all_orders(SYM, ISO)),
        ("fetch_borrow_interest", lambda: ex.fetch_borrow_interest("USDT", SYM)),
        ("fetch_margin_mode", lambda: ex.fetch_margin_mode(SYM)),
    ]  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, RunningVenue(Path(tmp) / "data", "--demo-account", "--no-feed",
                                                            "--no-market-maker") as venue:  # fmt: skip
        other = venue.new_account("1000000")
        venue.admin("deposit", {"account": other["account"], "asset": "BTC", "amount": "10"})
        liquidity = client(venue, other)
        liquidity.create_order(SYM, "limit", "sell", 1, 60000)
        liquidity.create_order(SYM, "limit", "buy", 1, 59990)
        ex = client(venue, venue.credentials())
        state: dict[str, Any] = {}
        rows = []
        for name, fn in calls(ex, state):
            try:
                fn()
                rows.append((name, "works"))
            except Exception as exc:  # the table shows what failed and why
                text = str(exc).replace("|", "/").replace("\n", " ")
                rows.append((name, f"{type(exc).__name__}: {text[:90]}"))
    print("| ccxt binance method | result |\n|---|---|")
    for name, result in rows:
        print(f"| `{name}` | {result} |")


if __name__ == "__main__":
    main()
