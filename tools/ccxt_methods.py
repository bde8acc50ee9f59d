"""Run ccxt binanceusdm's unified methods against a live venue and print a Markdown table of which work.

    python tools/ccxt_methods.py            # starts `isomargin serve --demo-account` on a free port (temp data)
    python tools/ccxt_methods.py --markdown # the table only (what docs/server.md shows)

Each method is called once with ordinary arguments on BTC/USDT:USDT from the demo account (an isolated 10x long
is opened on the way); "works" means it returned without an exception, otherwise the exception class and the
start of its message are shown.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ccxt

from isomargin.server.testing import RunningVenue, ccxt_urls

SYM = "BTC/USDT:USDT"


def calls(ex: Any, state: dict[str, Any]) -> list[tuple[str, Callable[[], Any]]]:
    since = ex.milliseconds() - 3_600_000

    def limit_order() -> Any:
        o = ex.create_order(SYM, "limit", "buy", 0.002, state["bid"] * 0.95)
        state["order"] = o["id"]
        return o

    def batch() -> Any:
        out = ex.create_orders(
            [
                {
                    "symbol": SYM,
                    "type": "limit",
                    "side": "buy",
                    "amount": 0.002,
                    "price": state["bid"] * (0.9 + i / 100),
                }
                for i in range(2)
            ]
        )
        state["batch"] = [o["id"] for o in out]
        return out

    return [
        ("fetch_time", ex.fetch_time),
        ("fetch_status", ex.fetch_status),
        ("fetch_markets", ex.fetch_markets),
        ("fetch_ticker", lambda: ex.fetch_ticker(SYM)),
        ("fetch_tickers", ex.fetch_tickers),
        ("fetch_order_book", lambda: ex.fetch_order_book(SYM)),
        ("fetch_bids_asks", ex.fetch_bids_asks),
        ("fetch_last_prices", ex.fetch_last_prices),
        ("fetch_trades", lambda: ex.fetch_trades(SYM)),
        ("fetch_ohlcv", lambda: ex.fetch_ohlcv(SYM, "1m")),
        ("fetch_mark_ohlcv", lambda: ex.fetch_mark_ohlcv(SYM, "1m")),
        ("fetch_index_ohlcv", lambda: ex.fetch_index_ohlcv(SYM, "1m")),
        ("fetch_premium_index_ohlcv", lambda: ex.fetch_premium_index_ohlcv(SYM, "1m")),
        ("fetch_mark_price", lambda: ex.fetch_mark_price(SYM)),
        ("fetch_mark_prices", ex.fetch_mark_prices),
        ("fetch_funding_rate", lambda: ex.fetch_funding_rate(SYM)),
        ("fetch_funding_rates", ex.fetch_funding_rates),
        ("fetch_funding_rate_history", lambda: ex.fetch_funding_rate_history(SYM)),
        ("fetch_funding_interval", lambda: ex.fetch_funding_interval(SYM)),
        ("fetch_open_interest", lambda: ex.fetch_open_interest(SYM)),
        ("fetch_open_interest_history", lambda: ex.fetch_open_interest_history(SYM, "5m")),
        ("fetch_long_short_ratio_history", lambda: ex.fetch_long_short_ratio_history(SYM, "5m")),
        ("fetch_leverage_tiers", lambda: ex.fetch_leverage_tiers([SYM])),
        ("fetch_market_leverage_tiers", lambda: ex.fetch_market_leverage_tiers(SYM)),
        ("fetch_trading_fee", lambda: ex.fetch_trading_fee(SYM)),
        ("set_position_mode", lambda: (ex.set_position_mode(True), ex.set_position_mode(False))),
        ("fetch_position_mode", lambda: ex.fetch_position_mode(SYM)),
        ("set_margin_mode", lambda: ex.set_margin_mode("isolated", SYM)),
        ("fetch_margin_mode", lambda: ex.fetch_margin_mode(SYM)),
        ("fetch_margin_modes", ex.fetch_margin_modes),
        ("set_leverage", lambda: ex.set_leverage(10, SYM)),
        ("fetch_leverage", lambda: ex.fetch_leverage(SYM)),
        ("fetch_leverages", ex.fetch_leverages),
        ("fetch_balance", ex.fetch_balance),
        ("create_order (limit)", limit_order),
        ("edit_order", lambda: ex.edit_order(state["order"], SYM, "limit", "buy", 0.003, state["bid"] * 0.94)),
        ("fetch_order", lambda: ex.fetch_order(state["order"], SYM)),
        ("fetch_open_orders", lambda: ex.fetch_open_orders(SYM)),
        ("cancel_order", lambda: ex.cancel_order(state["order"], SYM)),
        ("create_orders", batch),
        ("cancel_orders", lambda: ex.cancel_orders(state["batch"], SYM)),
        ("create_order (market)", lambda: ex.create_order(SYM, "market", "buy", 0.01)),
        (
            "create_order (stop-loss, algo)",
            lambda: ex.create_order(
                SYM, "market", "sell", 0.01, None, {"stopLossPrice": state["bid"] * 0.9, "reduceOnly": True}
            ),
        ),
        (
            "create_order (take-profit, algo)",
            lambda: ex.create_order(
                SYM, "market", "sell", 0.01, None, {"takeProfitPrice": state["bid"] * 1.1, "reduceOnly": True}
            ),
        ),
        (
            "create_order (trailing)",
            lambda: ex.create_order(SYM, "market", "sell", 0.01, None, {"trailingPercent": 1, "reduceOnly": True}),
        ),
        ("fetch_open_orders (with algo)", lambda: ex.fetch_open_orders(SYM, params={"trigger": True})),
        ("cancel_all_orders", lambda: ex.cancel_all_orders(SYM)),
        ("cancel_all_orders (algo)", lambda: ex.cancel_all_orders(SYM, {"trigger": True})),
        ("fetch_orders", lambda: ex.fetch_orders(SYM)),
        ("fetch_closed_orders", lambda: ex.fetch_closed_orders(SYM)),
        ("fetch_canceled_orders", lambda: ex.fetch_canceled_orders(SYM)),
        ("fetch_my_trades", lambda: ex.fetch_my_trades(SYM)),
        ("fetch_positions", lambda: ex.fetch_positions([SYM])),
        ("fetch_position", lambda: ex.fetch_position(SYM)),
        ("fetch_positions_risk", lambda: ex.fetch_positions_risk([SYM])),
        ("add_margin", lambda: ex.add_margin(SYM, 10)),
        ("reduce_margin", lambda: ex.reduce_margin(SYM, 5)),
        ("fetch_margin_adjustment_history", lambda: ex.fetch_margin_adjustment_history(SYM)),
        ("fetch_funding_history", lambda: ex.fetch_funding_history(SYM)),
        ("fetch_ledger", lambda: ex.fetch_ledger("USDT", since)),
        ("fetch_my_liquidations", lambda: ex.fetch_my_liquidations(SYM)),
        ("close_position", lambda: ex.close_position(SYM)),
    ]


def run(base: str, creds: dict[str, Any]) -> list[tuple[str, str]]:
    ex = ccxt.binanceusdm({"apiKey": creds["apiKey"], "secret": creds["secret"], "options": {"fetchCurrencies": False}})
    ex.urls["api"].update(ccxt_urls(base))
    ex.load_markets()
    for _ in range(50):  # the market maker's first quotes
        book = ex.fetch_order_book(SYM)
        if book["bids"]:
            break
        time.sleep(0.2)
    state: dict[str, Any] = {"bid": ex.fetch_order_book(SYM)["bids"][0][0]}
    out = []
    for name, fn in calls(ex, state):
        if not ex.has.get(
            name.split(" ")[0].replace("_", " ").title().replace(" ", "")[0].lower()
            + name.split(" ")[0].replace("_", " ").title().replace(" ", "")[1:],
            True,
        ):
            out.append((name, "not offered by ccxt binanceusdm"))
            continue
        try:
            fn()
            out.append((name, "works"))
        except Exception as exc:  # the table's point: which fail and how
            out.append((name, f"fails: {type(exc).__name__}: {str(exc)[:80]}"))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, RunningVenue(Path(tmp) / "data", "--demo-account") as v:
        rows = run(v.base, v.credentials())
    works = sum(1 for _, r in rows if r == "works")
    print(f"ccxt {ccxt.__version__} binanceusdm against isomargin serve: {works} of {len(rows)} calls work\n")
    print("| method | result |\n|---|---|")
    for name, result in rows:
        print(f"| `{name}` | {result.replace('|', '/')} |")
    if "--markdown" not in sys.argv:
        sys.exit(0 if works == len(rows) else 1)


if __name__ == "__main__":
    main()
