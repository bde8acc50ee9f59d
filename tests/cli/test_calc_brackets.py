"""`calc liq` names the bracket that holds at the liquidation price apart from the entry bracket, and `calc tiers
--notional` converts to contracts on venues whose tiers count contracts (OKX). Numbers derived by hand from the
tier tables in src/isomargin/venues/data (binance.json BTCUSDT, okx.json BTC-USDT-SWAP: 1 contract = 0.01 BTC)."""

import json
from decimal import Decimal as D

from typer.testing import CliRunner

from isomargin.cli import app
from isomargin.margin.numbers import MONEY

runner = CliRunner()
ENV = {"NO_COLOR": "1", "COLUMNS": "200"}
OKX = ["--venue", "okx", "--symbol", "BTC-USDT-SWAP"]


def calc(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["calc", *args, "--json"], env=ENV)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


# Binance BTCUSDT: bracket 2 is (50,000, 600,000] at 0.5 % with cum 50, bracket 3 is (600,000, 3,000,000] at
# 0.65 % with cum 950. A 10 BTC long at 65,000 is 650,000 of notional (bracket 3, max 75×); at 10× its margin is
# 65,000. Bracket 3 would put LP = (65,000 + 950 − 650,000)/(10·0.0065 − 10) = 584,050/9.935 = 58,787.1, where the
# notional is 587,871 (bracket 2, so not 3). Bracket 2: LP = (65,000 + 50 − 650,000)/(10·0.005 − 10)
# = 584,950/9.95 = 58,788.94…, notional 587,889 ≤ 600,000: it holds. MM at entry: 650,000 × 0.65 % − 950 = 3,275.
LIQ_10_BTC = ["liq", "--venue", "binance", "--symbol", "BTCUSDT", "--side", "long", "--entry", "65000"]
LIQ_10_BTC += ["--qty", "10", "--leverage", "10"]


def test_liq_json_reports_the_bracket_at_the_liquidation_price_and_the_entry_bracket() -> None:
    data = calc(*LIQ_10_BTC)
    assert D(str(data["liquidation_exact"])) == MONEY.divide(D(584950), D("9.95"))
    assert (data["tier"], data["maintenance_rate"]) == (2, "0.005")
    assert (data["entry_tier"], data["entry_maintenance_rate"]) == (3, "0.0065")
    assert data["maintenance_margin"] == "3275"


def test_liq_table_shows_both_brackets() -> None:
    result = runner.invoke(app, ["calc", *LIQ_10_BTC], env=ENV)
    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.stdout.splitlines() if "│" in line
    }
    assert rows["tier / maintenance rate at liquidation"] == "2 / 0.500 %"
    assert rows["tier / maintenance rate at entry"] == "3 / 0.650 %"
    assert rows["liquidation price"] == "58,788.94"


def test_same_bracket_at_entry_and_liquidation() -> None:
    # 1 BTC at 65,000 (bracket 2); LP = (6,500 + 50 − 65,000)/(0.005 − 1) = 58,743.7, notional 58,744: bracket 2 too.
    data = calc("liq", "--venue", "binance", "--symbol", "BTCUSDT", "--side", "long", "--entry", "65000", "--qty", "1",
                "--leverage", "10")  # fmt: skip
    assert (data["tier"], data["entry_tier"], data["maintenance_rate"], data["entry_maintenance_rate"]) == (
        2, 2, "0.005", "0.005",
    )  # fmt: skip


def test_okx_tiers_by_notional_convert_with_the_price() -> None:
    # 100,000 USDT at 50,000 is 2 BTC = 200 contracts of 0.01 BTC: tier 1 (≤ 1,000 contracts, 0.4 %, 100×);
    # MM = 100,000 × 0.4 % = 400.
    data = calc("tiers", *OKX, "--notional", "100000", "--price", "50000")
    assert (data["contracts"], data["price"], data["selected_tier"]) == ("200", "50000", 1)
    assert (data["maintenance_margin"], data["max_leverage"]) == ("400", "100")
    # 600,000 at 50,000 is 12 BTC = 1,200 contracts: tier 2 (1,000–5,000, 0.5 %, 66.66×); MM 600,000 × 0.5 % = 3,000.
    data = calc("tiers", *OKX, "--notional", "600000", "--price", "50000")
    assert (data["contracts"], data["selected_tier"], data["maintenance_margin"]) == ("1200", 2, "3000")
    assert data["max_leverage"] == "66.66"


def test_okx_tiers_by_contracts_directly() -> None:
    # 1,200 contracts: tier 2 whatever the price; with --price 50,000 the notional is 1,200 × 0.01 × 50,000 = 600,000.
    data = calc("tiers", *OKX, "--contracts", "1200", "--price", "50000")
    assert (data["selected_tier"], data["notional"], data["maintenance_margin"]) == (2, "600000", "3000")


def test_okx_tiers_by_notional_without_a_price_names_the_flag() -> None:
    result = runner.invoke(app, ["calc", "tiers", *OKX, "--notional", "100000"], env=ENV)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: missing_price: ") and "--price" in lines[0]


def test_okx_tiers_table_shows_the_conversion() -> None:
    result = runner.invoke(app, ["calc", "tiers", *OKX, "--notional", "100000", "--price", "50000"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "notional 100,000.00 at 50,000.00 = 200 contracts → tier 1, maintenance margin 400.00" in result.stdout


def test_notional_tiers_are_unchanged() -> None:
    # Binance by notional: 650,000 is bracket 3, MM 650,000 × 0.65 % − 950 = 3,275; no price needed.
    data = calc("tiers", "--venue", "binance", "--symbol", "BTCUSDT", "--notional", "650000")
    assert (data["selected_tier"], data["maintenance_margin"]) == (3, "3275")
    assert "contracts" not in data
