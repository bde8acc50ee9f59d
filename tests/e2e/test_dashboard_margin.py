"""The dashboard's isolated spot-margin panel in headless Chromium against a real server on loopback: transfer in,
borrow, repay part, repay all and transfer out from the page (each through its confirmation step), a cancelled
confirmation and hostile amounts that send nothing. Every figure is checked through the API against numbers
worked by hand below (Binance BTC-USDT: daily rate 0.00024, so 200 USDT cost 200 × 0.00024 / 24 = 0.002 USDT an
hour, the first hour charged at once), not against what the page computed.
"""

from __future__ import annotations

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
CARD = '.im-card[data-pair="BTC-USDT"]'

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
                f"--user-data-dir={profile}", "--window-size=1600,1800"):  # fmt: skip
        opts.add_argument(arg)
    d = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """What a person does on the dashboard's margin panel, through the DOM (clicks and typing) only."""

    def __init__(self, driver: Any, base: str, acct: dict[str, Any]) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.d = driver
        self.wait = WebDriverWait(driver, 30)  # generous: other suites may load the machine
        driver.get(f"{base}/dashboard#key={acct['apiKey']}&secret={acct['secret']}")
        self.wait.until(lambda d: d.execute_script("return window.dashboardReady === true && "
                                                   "window.marginPanelLoaded === true"))  # fmt: skip

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
        """Find and click in one step: the cards re-render on every refresh, so a found element can go stale."""
        js = ("const e = document.querySelector(arguments[0]);"
              "if (!e || e.disabled || e.offsetParent === null) return false; e.click(); return true;")  # fmt: skip
        self.until(lambda: self.d.execute_script(js, css), f"click {css}")

    def until(self, fn: Callable[[], Any], what: str = "") -> Any:
        return self.wait.until(lambda d: fn(), message=what)

    def select(self, css: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.el(css)).select_by_value(value)

    def is_open(self) -> bool:
        return "open" in (self.el("#confirm").get_attribute("class") or "")

    def confirm(self, ok: bool = True) -> str:
        self.until(self.is_open, "confirmation shown")
        body = self.text("#confirm-body")
        self.click("#confirm-ok" if ok else "#confirm-cancel")
        self.until(lambda: not self.is_open(), "confirmation closed")
        return body

    def act(self, button: str, asset: str, amount: str | None) -> None:
        self.select(f"{CARD} .im-asset", asset)
        if amount is not None:
            self.type(f"{CARD} .im-amount", amount)
        self.click(f"{CARD} .{button}")


def api(venue: RunningVenue, who: dict[str, Any], path: str, params: dict[str, Any] | None = None) -> Any:
    status, data = signed(venue.base, path, who["apiKey"], who["secret"], params=params)
    assert status == 200, data
    return data


def usdt(venue: RunningVenue, who: dict[str, Any]) -> dict[str, Decimal]:
    """The engine's USDT figures of the BTC-USDT margin account, and the USDT wallet."""
    m = api(venue, who, "/api/v1/margin/isolated/accounts/BTC-USDT")["assets"]["USDT"]
    out = {k: Decimal(m[k]) for k in ("free", "borrowed", "interest")}
    out["wallet"] = Decimal(api(venue, who, "/api/v1/balances")["USDT"]["wallet"])
    return out


def test_margin_panel_transfer_borrow_repay(venue: RunningVenue, driver: Any) -> None:
    me = venue.new_account("10000")
    page = Page(driver, venue.base, me)
    page.until(lambda: "no margin account yet" in page.text(CARD), "empty card")
    assert page.text('.im-card[data-pair="ETH-USDT"] h3').startswith("ETH-USDT")

    # hostile amounts: refused in the page, no confirmation, nothing sent
    for bad in ("-5", "abc", "１０", "1e3", "0"):
        page.act("im-in", "USDT", bad)
        page.until(lambda: "positive number" in page.text(f"{CARD} .im-error"), bad)
        assert not page.is_open()
    status, body = signed(venue.base, "/api/v1/margin/isolated/accounts/BTC-USDT", me["apiKey"], me["secret"])
    assert status == 404 and body["code"] == "no_margin_account"

    # transfer in 1,000 USDT
    page.act("im-in", "USDT", "1000")
    assert "1,000.00 USDT" in page.confirm()
    page.until(lambda: page.text(f"{CARD} [data-field=free-USDT]") == "1,000.00 USDT", "held shown")
    assert usdt(venue, me) == {"free": 1000, "borrowed": 0, "interest": 0, "wallet": 9000}
    # no debt: the most it may borrow is 1000 / (1.111 − 1) = 9,009.009009009…, shown to 8 places
    assert page.text(f"{CARD} [data-field=max-borrow-USDT]") == "9,009.00900901 USDT"

    # borrow 200: the confirmation states the hourly cost, 0.002 USDT
    page.act("im-borrow", "USDT", "200")
    body_text = page.confirm()
    assert "borrow 200.00 USDT" in body_text and "about 0.002 USDT an hour" in body_text
    page.until(lambda: page.text(f"{CARD} [data-field=borrowed-USDT]") == "200.00 USDT", "borrowed shown")
    assert page.text(f"{CARD} [data-field=interest-USDT]") == "0.002 USDT"
    assert usdt(venue, me) == {"free": 1200, "borrowed": 200, "interest": Decimal("0.002"), "wallet": 9000}
    # the gauge: liabilities ÷ assets = 200.002 / 1200 = 0.16667; its label the margin level 1200 / 200.002 = 6.00
    risk = page.d.execute_script(f"return document.querySelector('{CARD} .im-gauge').dataset.risk")
    assert Decimal(risk) == Decimal("0.1667")
    assert page.text(f"{CARD} .im-gauge text") == "6.00"

    # a cancelled confirmation changes nothing
    page.act("im-repay", "USDT", "50")
    page.confirm(ok=False)
    assert usdt(venue, me)["borrowed"] == 200

    # repay 100: the 0.002 interest first, then 99.998 of principal
    page.act("im-repay", "USDT", "100")
    page.confirm()
    page.until(lambda: page.text(f"{CARD} [data-field=borrowed-USDT]") == "100.002 USDT", "partly repaid")
    assert usdt(venue, me) == {"free": 1100, "borrowed": Decimal("100.002"), "interest": 0, "wallet": 9000}

    # repaying more than owed is the engine's refusal, shown on the card; nothing changes
    page.act("im-repay", "USDT", "5000")
    page.confirm()
    page.until(lambda: "repay_exceeds_debt" in page.text(f"{CARD} .im-error"), "refusal shown")
    assert usdt(venue, me)["borrowed"] == Decimal("100.002")

    # repay all: 100.002 more
    page.act("im-repay-all", "USDT", None)
    assert "100.002 USDT" in page.confirm()
    page.until(lambda: page.text(f"{CARD} [data-field=borrowed-USDT]") == "0.00 USDT", "repaid")
    assert usdt(venue, me) == {"free": Decimal("999.998"), "borrowed": 0, "interest": 0, "wallet": 9000}

    # transfer everything out: 1,200 − 200.004 = 999.998 back to the wallet, 9,999.998 in all
    page.act("im-out", "USDT", "999.998")
    page.confirm()
    page.until(lambda: page.text(f"{CARD} [data-field=free-USDT]") == "0.00 USDT", "moved out")
    assert usdt(venue, me) == {"free": 0, "borrowed": 0, "interest": 0, "wallet": Decimal("9999.998")}
    rows = api(venue, me, "/api/v1/margin/isolated/interest")
    assert [(r["kind"], r["amount"]) for r in rows] == [("borrow", "0.002")]
    ARTIFACTS.mkdir(exist_ok=True)
    page.d.execute_script("document.getElementById('im-panel').scrollIntoView()")
    page.d.save_screenshot(str(ARTIFACTS / "dashboard-margin.png"))
