"""The dashboard in headless Chromium (Debian's chromium + chromium-driver, via selenium): it loads, shows a
position and its liquidation price, and the add-margin button moves the liquidation price. Screenshot:
artifacts/dashboard.png.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from isomargin.server.testing import RunningVenue, signed

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which("chromedriver") is None,
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)


def test_dashboard_shows_position_and_add_margin_moves_liquidation(venue: RunningVenue) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    me = venue.new_account("50000")
    mm = venue.new_account("5000000")
    venue.admin("mark-price", {"symbol": "SOLUSDT", "price": "150"})
    ask = {"symbol": "SOLUSDT", "side": "SELL", "type": "LIMIT", "quantity": "100", "price": "150.05"}
    signed(venue.base, "/api/v1/orders", mm["apiKey"], mm["secret"], "POST", body=ask)
    signed(venue.base, "/api/v1/settings/margin-mode", me["apiKey"], me["secret"], "POST",
           body={"symbol": "SOLUSDT", "mode": "isolated"})  # fmt: skip
    signed(venue.base, "/api/v1/settings/leverage", me["apiKey"], me["secret"], "POST",
           body={"symbol": "SOLUSDT", "leverage": 10})  # fmt: skip
    status, order = signed(venue.base, "/api/v1/orders", me["apiKey"], me["secret"], "POST",
                           body={"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "20"})  # fmt: skip
    assert status == 200 and order["status"] == "FILLED"
    status, positions = signed(venue.base, "/api/v1/positions", me["apiKey"], me["secret"])
    liq = float(positions[0]["liquidation_price"])

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="im-chromium-")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1500,1000"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))
    try:
        driver.get(f"{venue.base}/dashboard#key={me['apiKey']}&secret={me['secret']}")
        wait = WebDriverWait(driver, 20)
        row = "tr.position[data-symbol=SOLUSDT]"

        def liq_shown(d: webdriver.Chrome) -> float | None:  # read atomically: the table re-renders live
            text = d.execute_script(f"const c = document.querySelector('{row} td.liq'); return c && c.textContent;")
            return float(text.replace(",", "")) if text else None

        wait.until(lambda d: liq_shown(d) is not None)
        shown = liq_shown(driver)
        assert shown == pytest.approx(liq, abs=0.01)
        assert driver.find_elements(By.CSS_SELECTOR, f"{row} button.add-margin")
        driver.execute_script(f"document.querySelector('{row} button.add-margin').click();")

        def moved(d: webdriver.Chrome) -> bool:
            now = liq_shown(d)
            return now is not None and shown is not None and now < shown - 1

        wait.until(moved)
        time.sleep(1.0)  # let the chart and the liquidation map redraw for the screenshot
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "dashboard.png"))
        assert driver.find_element(By.ID, "conn").text == "live"
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
