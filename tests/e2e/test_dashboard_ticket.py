"""The dashboard's order ticket in headless Chromium against a real server on loopback: open, amend, partially
close (market) and close (limit) a position from the page, attach TP/SL, and refuse hostile input in the page and
in the API; a coin-margined (inverse) position in contracts and BTC. Every figure is checked through the API
against numbers derived by hand below, not against what the page computed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from isomargin.server.testing import RunningVenue, signed

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromedriver") is None,
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)


@pytest.fixture()
def driver() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="im-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1600,1400"):  # fmt: skip
        opts.add_argument(arg)
    d = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """What a person does on the dashboard, through the DOM (clicks and typing) only."""

    def __init__(self, driver: Any, base: str, acct: dict[str, Any]) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.d = driver
        self.wait = WebDriverWait(driver, 30)  # generous: other suites may load the machine
        driver.get(f"{base}/dashboard#key={acct['apiKey']}&secret={acct['secret']}")
        self.wait.until(lambda d: d.execute_script("return window.dashboardReady === true"))

    def el(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.d.find_element(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        js = "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;"
        t = self.d.execute_script(js, css)
        return str(t) if t is not None else ""

    def type(self, css: str, value: str) -> None:
        e = self.el(css)
        e.clear()
        e.send_keys(value)

    def click(self, css: str) -> None:
        """Find and click in one step: the tables re-render on every refresh, so a found row can go stale."""
        js = ("const e = document.querySelector(arguments[0]);"
              "if (!e || e.disabled || e.offsetParent === null) return false; e.click(); return true;")  # fmt: skip
        self.until(lambda: self.d.execute_script(js, css), f"click {css}")

    def until(self, fn: Callable[[], Any], what: str = "") -> Any:
        return self.wait.until(lambda d: fn(), message=what)

    def symbol(self, s: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.el("#symbol")).select_by_value(s)
        self.until(lambda: self.text("#t-symbol") == s, f"ticket on {s}")

    def select(self, css: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.el(css)).select_by_value(value)

    def confirm(self) -> str:
        self.until(lambda: "open" in (self.el("#confirm").get_attribute("class") or ""), "confirmation shown")
        body = self.text("#confirm-body")
        self.click("#confirm-ok")
        self.until(lambda: "open" not in (self.el("#confirm").get_attribute("class") or ""), "confirmation closed")
        return body


def api(venue: RunningVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None) -> Any:
    status, data = signed(venue.base, path, who["apiKey"], who["secret"], method, body=body)
    assert status == 200, data
    return data


def position(venue: RunningVenue, who: dict[str, Any], symbol: str) -> dict[str, Any] | None:
    return next((p for p in api(venue, who, "/api/v1/positions") if p["symbol"] == symbol), None)


def test_ticket_open_amend_partial_and_limit_close_tpsl(venue: RunningVenue, driver: Any) -> None:
    me = venue.new_account("50000")
    mm = venue.new_account("5000000")
    venue.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
    for side, px in (("SELL", "60000"), ("BUY", "59900")):  # the book the page trades against
        api(venue, mm, "/api/v1/orders", "POST",
            {"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "quantity": "1", "price": px})  # fmt: skip
    page = Page(driver, venue.base, me)
    page.symbol("BTCUSDT")

    # --- what the page shows around the ticket: the vendored chart library drew candles with a time axis, the
    # liquidation map is this symbol's, the header counts down to the next funding and shows its rate
    assert page.d.execute_script("return typeof LightweightCharts === 'object'")
    page.until(lambda: page.d.execute_script("return document.querySelectorAll('#candles canvas').length") >= 2)
    assert "BTCUSDT" in page.text("#liq-symbol") and "liquidated if the price falls" in page.text("#liq-legend")
    page.until(lambda: re.fullmatch(r"funding in (\d+:)?\d\d:\d\d", page.text("#countdown")), "funding countdown")
    assert re.fullmatch(r"next rate -?\d\.\d{4} %", page.text("#funding"))

    # --- hostile leverage and prices are refused in the page too
    page.type("#t-qty", "0.01")
    for bad in ("abc", "0", "-5", "100000"):
        page.type("#t-lev", bad)
        page.until(lambda: "leverage" in page.text("#t-error") and not page.el("#t-submit").is_enabled(), bad)
    page.type("#t-lev", "10")
    page.select("#t-type", "LIMIT")
    for bad in ("x", "-60000", "1e5", "60000.05"):
        page.type("#t-price", bad)
        page.until(lambda: "price" in page.text("#t-error") and not page.el("#t-submit").is_enabled(), bad)
    page.select("#t-type", "MARKET")

    # --- the slider: 50 % of available 50,000 USDT at 10× and the mark 60,000 → 50,000 × 0.5 × 10 / 60,000
    # = 4.1666… BTC, down to the 0.001 step: 4.166.
    page.type("#t-lev", "10")
    page.d.execute_script("const r = document.getElementById('t-pct'); r.value = '50';"
                          "r.dispatchEvent(new Event('input'));")  # fmt: skip
    page.until(lambda: page.el("#t-qty").get_attribute("value") == "4.166", "slider sized the order")

    # --- hostile sizes: refused in the page (no request is sent, the button is disabled) ...
    for bad in ("abc", "-1", "1e3", "99999999999999999999", "0.0001", "0"):
        page.type("#t-qty", bad)
        page.until(lambda: "size" in page.text("#t-error") and not page.el("#t-submit").is_enabled(), bad)
    # ... and by the API, with nothing changed
    before = (api(venue, me, "/api/v1/orders"), api(venue, me, "/api/v1/positions"), api(venue, me, "/api/v1/balances"))
    for bad in ("abc", "-1", "1e3", "99999999999999999999999", "١٢"):
        status, err = signed(venue.base, "/api/v1/orders", me["apiKey"], me["secret"], "POST",
                             body={"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": bad})  # fmt: skip
        assert status == 400 and err["code"] == "bad_number", (bad, err)
        status, err = signed(venue.base, "/api/v1/orders/preview", me["apiKey"], me["secret"], "POST",
                             body={"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": bad})  # fmt: skip
        assert status == 400 and err["code"] == "bad_number", (bad, err)
    status, err = signed(venue.base, "/api/v1/orders", me["apiKey"], me["secret"], "POST",
                         body={"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "100000"})  # fmt: skip
    assert status == 400  # the engine refuses a size beyond every tier
    after = (api(venue, me, "/api/v1/orders"), api(venue, me, "/api/v1/positions"), api(venue, me, "/api/v1/balances"))
    assert after == before

    # --- a 10× isolated long of 0.01 BTC at market: it takes the 60,000 ask.
    # margin = 0.01 × 60,000 / 10 = 60 USDT and nothing else; fee = 0.01 × 60,000 × 0.0005 (taker) = 0.30 USDT,
    # paid from the wallet; the preview shows both before sending.
    page.type("#t-qty", "0.01")
    page.select("#t-mode", "isolated")
    page.until(lambda: page.text("#t-pv-margin").startswith("60.00 USDT"), "preview margin")
    assert page.text("#t-pv-fee") == "0.30 USDT"
    preview_liq = page.text("#t-pv-liq")
    page.click("#t-submit")
    body = page.confirm()
    assert "margin 60.00 USDT" in body and "fee 0.30 USDT" in body and "10× isolated" in body
    p = page.until(lambda: position(venue, me, "BTCUSDT"), "position opened")
    assert Decimal(p["size"]) == Decimal("0.01") and p["margin_mode"] == "isolated" and p["leverage"] == 10
    assert Decimal(p["isolated_margin"]) == Decimal("60")
    assert Decimal(p["entry_price"]) == Decimal("60000")
    bal = api(venue, me, "/api/v1/balances")["USDT"]
    assert Decimal(bal["wallet"]) == Decimal("50000") - 60 - Decimal("0.3")  # the margin moved to its own pool
    assert Decimal(bal["isolated_margin"]) == 60
    # the preview's liquidation price is the engine's, on the 0.1 tick rounded up for a long
    liq = Decimal(p["liquidation_price"])
    shown = Decimal(preview_liq.replace(",", ""))
    assert liq <= shown < liq + Decimal("0.1")
    row = "tr.position[data-symbol=BTCUSDT]"
    page.until(lambda: page.text(f"{row} td.margin") == "60.00 USDT", "row margin")
    assert page.text(f"{row} td.size") == "0.010"
    assert page.until(lambda: page.text(f"{row} .adl-rank"), "ADL rank shown") in {"1", "2", "3", "4", "5"}

    # --- a resting limit buy 0.01 at 59,000 (below the 59,900 bid: it rests), then amended to 59,500
    page.select("#t-type", "LIMIT")
    page.type("#t-price", "59000")
    page.type("#t-qty", "0.01")
    # a resting limit previews as filled at its price as maker: fee = 0.01 × 59,000 × 0.0002 = 0.118 → 0.12
    page.until(lambda: page.text("#t-pv-fee") == "0.12 USDT", "limit preview fee")
    page.click("#t-submit")
    page.confirm()
    order = page.until(lambda: next((o for o in api(venue, me, "/api/v1/orders") if o["type"] == "LIMIT"), None))
    assert Decimal(order["price"]) == 59000 and order["status"] == "NEW"
    page.click(f"tr.order[data-id='{order['order_id']}'] button.amend")
    page.type("#amend-price", "59500")
    page.click("#amend-send")
    assert "59,000.0 → 59,500.0" in page.confirm()
    page.until(lambda: Decimal(api(venue, me, f"/api/v1/orders/{order['order_id']}")["price"]) == 59500, "amended")
    assert Decimal(position(venue, me, "BTCUSDT")["size"]) == Decimal("0.01")  # type: ignore[index]
    api(venue, me, f"/api/v1/orders/{order['order_id']}", "DELETE")

    # --- TP/SL attached: two close-position orders triggered by the mark
    page.until(lambda: not page.d.find_elements("css selector", "tr.order"), "order list refreshed")
    page.click(f"{row} button.tpsl")
    page.type("#tpsl-tp", "66000")
    page.type("#tpsl-sl", "57000")
    page.click("#tpsl-send")
    page.confirm()

    def stops() -> list[dict[str, Any]] | None:
        found = [o for o in api(venue, me, "/api/v1/orders") if o["close_position"]]
        return found if len(found) == 2 else None

    orders = page.until(stops, "TP and SL placed")
    assert sorted((o["type"], Decimal(o["stop_price"])) for o in orders) == [
        ("STOP_MARKET", Decimal("57000")), ("TAKE_PROFIT_MARKET", Decimal("66000"))]  # fmt: skip
    page.until(lambda: page.text("tr.order td.qty") == "whole position", "a close-position stop is not qty 0")
    signed(venue.base, "/api/v1/orders", me["apiKey"], me["secret"], "DELETE", params={"symbol": "BTCUSDT"})

    # --- partial close: 50 % at market = 0.005 BTC into the 59,900 bid.
    # realised PnL = 0.005 × (59,900 − 60,000) = −0.50 USDT; margin left = 60 × 0.5 = 30 USDT.
    page.click(f"{row} button.close")
    page.click("#close-dlg button[data-pct='50']")
    assert "0.005" in page.text("#close-summary")
    page.click("#close-send")
    page.confirm()
    page.until(lambda: Decimal(position(venue, me, "BTCUSDT")["size"]) == Decimal("0.005"), "half closed")  # type: ignore[index]
    assert Decimal(position(venue, me, "BTCUSDT")["isolated_margin"]) == Decimal("30")  # type: ignore[index]

    # --- limit close of the rest at 59,900 (the bid: fills at once): another −0.50 USDT
    page.until(lambda: page.text(f"{row} td.size") == "0.005", "row shows half")
    page.click(f"{row} button.close")
    page.select("#close-type", "LIMIT")
    page.type("#close-price", "59900")
    page.click("#close-send")
    assert "at 59,900.0 (limit)" in page.confirm()
    page.until(lambda: position(venue, me, "BTCUSDT") is None, "closed")
    fills = api(venue, me, "/api/v1/fills")
    assert sum(Decimal(f["realized_pnl"]) for f in fills) == Decimal("-1")
    # the position history shows the round trip with its realised PnL, formatted to 2 places
    page.until(lambda: page.text("tr.hist-pos td.rpnl") == "-1.00 USDT", "position history")
    ARTIFACTS.mkdir(exist_ok=True)
    page.d.save_screenshot(str(ARTIFACTS / "dashboard-ticket.png"))


def test_ticket_inverse_contracts_and_close_all(venue: RunningVenue, driver: Any) -> None:
    me = venue.new_account("1")
    venue.admin("deposit", {"account": me["account"], "asset": "BTC", "amount": "1"})
    mm = venue.new_account("1")
    venue.admin("deposit", {"account": mm["account"], "asset": "BTC", "amount": "100"})
    venue.admin("mark-price", {"symbol": "BTCUSD_PERP", "price": "60000"})
    # 10 contracts of 100 USD offered at 60,000 (native quantities are face value in USD)
    api(venue, mm, "/api/v1/orders", "POST",
        {"symbol": "BTCUSD_PERP", "side": "SELL", "type": "LIMIT", "quantity": "1000", "price": "60000"})  # fmt: skip
    api(venue, mm, "/api/v1/orders", "POST",
        {"symbol": "BTCUSD_PERP", "side": "BUY", "type": "LIMIT", "quantity": "1000", "price": "59000"})  # fmt: skip
    page = Page(driver, venue.base, me)
    page.symbol("BTCUSD_PERP")
    assert "contracts of 100 USD" in page.text("#t-unit")
    page.type("#t-qty", "2.5")
    page.until(lambda: "whole contracts" in page.text("#t-error"), "fractional contracts refused")
    # 2 contracts = 200 USD face at 60,000, 10× isolated: margin = 200 / 60,000 / 10 = 0.000333333… BTC,
    # shown to the coin's 8 places; fee = 200 / 60,000 × 0.0004 = 0.00000133 BTC.
    page.type("#t-lev", "10")
    page.select("#t-mode", "isolated")
    page.type("#t-qty", "2")
    page.until(lambda: page.text("#t-pv-margin").startswith("0.00033333 BTC"), "inverse preview margin")
    assert page.text("#t-pv-fee") == "0.00000133 BTC"
    page.click("#t-submit")
    assert "face value 200 USD" in page.confirm()
    p = page.until(lambda: position(venue, me, "BTCUSD_PERP"), "inverse position")
    assert Decimal(p["size"]) == 200 and Decimal(p["contracts"]) == 2 and p["margin_asset"] == "BTC"
    assert abs(Decimal(p["isolated_margin"]) - Decimal(200) / 60000 / 10) < Decimal("1e-8")
    row = "tr.position[data-symbol=BTCUSD_PERP]"
    page.until(lambda: page.text(f"{row} td.size") == "2 cont", "size in contracts")
    assert page.text(f"{row} td.margin").endswith(" BTC") and "0.00033333" in page.text(f"{row} td.margin")

    # close-all with its confirmation: one market order per position, reduce-only
    page.click("#close-all")
    assert "BTCUSD_PERP long 2 cont" in page.confirm()
    page.until(lambda: not api(venue, me, "/api/v1/positions"), "all closed")
