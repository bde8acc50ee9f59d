"""The dashboard's options panel in headless Chromium against a real server on loopback: a short call and a long put
placed through the API appear as rows whose premium PnL, margin, ratio gauge and liquidation mark match the API and
the figures worked by hand below (OKX BTC-USD: 0.01 BTC a contract, a 0.1, c 0.03, maker 0.02 %, taker 0.03 % of
the underlying), and a mark move reaches the page.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from isomargin.server.testing import RunningVenue, request, signed

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
EXP = f"{(datetime.now(UTC).year + 1) % 100:02d}1225"
CALL = f"BTC-USD-{EXP}-100000-C"
PUT = f"BTC-USD-{EXP}-90000-P"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromedriver") is None,
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    data = tmp_path_factory.mktemp("dash-options") / "data"
    with RunningVenue(data, "--no-feed", "--no-market-maker", "--no-option-chain", "--rate-limit", "0") as v:
        yield v


@pytest.fixture()
def driver() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="im-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1600,2200"):  # fmt: skip
        opts.add_argument(arg)
    d = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


def admin(v: RunningVenue, path: str, body: dict[str, Any]) -> Any:
    status, data = request(v.base + "/api/v1/admin/" + path, "POST", body, {"X-Admin-Key": v.admin_key})
    assert status == 200, data
    return data


def api(v: RunningVenue, who: dict[str, Any], path: str, method: str = "GET", body: Any = None) -> Any:
    status, data = signed(v.base, path, who["apiKey"], who["secret"], method, body=body)
    assert status == 200, data
    return data


def funded(v: RunningVenue) -> dict[str, Any]:
    who = v.new_account("1")
    admin(v, "deposit", {"account": who["account"], "amount": "10", "asset": "BTC"})
    return who


def test_options_panel_shows_short_and_long(live: RunningVenue, driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    admin(live, "options", {"symbol": CALL, "mark_price": "0.03"})
    admin(live, "options", {"symbol": PUT, "mark_price": "0.01"})
    admin(live, "options/index", {"family": "BTC-USD", "price": "95000"})
    me, other = funded(live), funded(live)
    order = "/api/v1/options/orders"
    api(live, me, order, "POST", {"symbol": CALL, "side": "SELL", "quantity": "100", "price": "0.03"})
    api(live, other, order, "POST", {"symbol": CALL, "side": "BUY", "quantity": "100", "price": "0.03"})
    api(live, other, order, "POST", {"symbol": PUT, "side": "SELL", "quantity": "10", "price": "0.01"})
    api(live, me, order, "POST", {"symbol": PUT, "side": "BUY", "quantity": "10", "price": "0.01"})

    driver.get(f"{live.base}/dashboard#key={me['apiKey']}&secret={me['secret']}")
    wait = WebDriverWait(driver, 30)
    ready = "return window.dashboardReady === true && window.optionsPanelLoaded === true"
    wait.until(lambda d: d.execute_script(ready))

    def cell(symbol: str, field: str) -> str:
        js = "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';"
        return str(driver.execute_script(js, f'#op-positions tr[data-symbol="{symbol}"] [data-field="{field}"]'))

    wait.until(lambda d: cell(CALL, "side") != "" and cell(PUT, "side") != "")
    short = api(live, me, f"/api/v1/options/positions/{CALL}")
    long = api(live, me, f"/api/v1/options/positions/{PUT}")
    # the short: pool = sell-to-open hold (0.13 IM − 0.03 premium + 0.0003 taker fee) + 0.03 − 0.0002 maker fee
    assert short["margin"] == "0.1301" and cell(CALL, "margin") == "0.1301 BTC"
    assert cell(CALL, "side") == "short 100" and cell(CALL, "entry") == "0.03 BTC"
    # OKX's balance 0.1301 + (0.03 − m) meets MM + fee 0.03 + m + 0.0003 at m = 0.0649: that mark liquidates it
    assert short["liquidation_mark"] == "0.0649" and cell(CALL, "liq") == "0.0649 BTC"
    assert cell(CALL, "mm") == "0.06 BTC" and cell(CALL, "pnl").startswith("0 BTC")
    # the gauge: (MM + fee) ÷ balance = 0.0603 / 0.1301; its label the ratio 216 %
    risk = driver.execute_script(f"return document.querySelector('#op-positions tr[data-symbol=\"{CALL}\"] "
                                 ".op-gauge').dataset.risk")  # fmt: skip
    assert Decimal(risk) == (Decimal("0.0603") / Decimal("0.1301")).quantize(Decimal("0.0001"))
    assert cell(CALL, "ratio") == "216 %"
    assert Decimal(short["margin_ratio"]).quantize(Decimal("0.01")) == Decimal("2.16")
    # the long: 10 contracts = 0.1 BTC of underlying at 0.01: premium 0.001 BTC; no margin, no liquidation
    assert long["premium"] == "0.001" and cell(PUT, "side") == "long 10"
    assert cell(PUT, "margin") == "premium paid" and cell(PUT, "liq") == "—" and cell(PUT, "ratio") == "—"

    # the put's mark doubles: the long's premium PnL is (0.02 − 0.01) × 0.1 = 0.001 BTC, +100 %
    admin(live, "options/mark", {"symbol": PUT, "price": "0.02"})
    wait.until(lambda d: cell(PUT, "pnl").startswith("0.001 BTC"))
    assert api(live, me, f"/api/v1/options/positions/{PUT}")["pnl"] == "0.001"
    assert "(100.00 %)" in cell(PUT, "pnl") and cell(PUT, "mark") == "0.02 BTC"
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("document.getElementById('op-panel').scrollIntoView()")
    driver.save_screenshot(str(ARTIFACTS / "dashboard-options.png"))
