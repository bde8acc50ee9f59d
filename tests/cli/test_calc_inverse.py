"""`isomargin calc` on inverse (coin-margined) symbols from the venue data: sizes in whole contracts, money in the
coin, and numbers worked by hand from Binance's COIN-M liquidation-price FAQ
(https://www.binance.com/en/support/faq/ceccfcfb4e3a45e3b48b0b1bb1a8ae46, 2021-02-05): in isolated mode
(TMM = UPNL = 0) equity = maintenance margin in BTC, WB + Side·B·CM·(1/EP − 1/LP) = B·CM/LP·MMR − cum, so
LP = B·CM·(MMR + Side) / (WB + cum + Side·B·CM/EP), with the bracket that holds at the LP's notional B·CM/LP.
"""

import json
from decimal import Decimal as D

from typer.testing import CliRunner

from isomargin.cli import app
from isomargin.margin.numbers import MONEY

runner = CliRunner()
BTCUSD = ["--venue", "binancecoinm", "--symbol", "BTCUSD_PERP"]


def calc(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["calc", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def refused(*args: str) -> str:
    result = runner.invoke(app, ["calc", *args])
    assert result.exit_code == 2, result.output
    return result.output


def test_liq_10x_btcusd_perp_long_worked_by_hand() -> None:
    # B = 10 contracts, CM = 100 USD, EP = 50,000: notional 1,000/50,000 = 0.02 BTC (bracket 1: ≤ 10 BTC, 0.4 %,
    # cum 0); 10×: WB = 0.002 BTC. LP = 10·100·(0.004 + 1)/(0.002 + 0 + 10·100/50,000) = 1,004/0.022
    # = 45,636.36…; bankruptcy (WB used up): 1,000/(0.002 + 0.02) = 45,454.54…
    data = calc("liq", *BTCUSD, "--side", "long", "--entry", "50000", "--contracts", "10", "--leverage", "10")
    assert D(str(data["liquidation_exact"])) == MONEY.divide(D(1004), D("0.022"))
    assert D(str(data["bankruptcy_price"])) == MONEY.divide(D(1000), D("0.022"))
    assert (data["contracts"], data["size"], data["settle"], data["kind"]) == ("10", "1000", "BTC", "inverse")
    assert (data["notional"], data["margin"], data["tier"]) == ("0.02", "0.002", 1)
    assert data["maintenance_margin"] == "0.00008"  # 0.02 BTC × 0.4 %


def test_liq_10x_btcusd_perp_short_worked_by_hand() -> None:
    # Side −1: LP = 1,000·(0.004 − 1)/(0.002 − 0.02) = 996/0.018 = 55,333.33…
    data = calc("liq", *BTCUSD, "--side", "short", "--entry", "50000", "--contracts", "10", "--leverage", "10")
    assert D(str(data["liquidation_exact"])) == MONEY.divide(D(996), D("0.018"))


def test_liq_uses_the_bracket_at_the_liquidation_price() -> None:
    # 25,000 contracts (2,500,000 USD, 50 BTC at 50,000: bracket 4, max 20×) at 10×: WB 5 BTC. Bracket 4 would put
    # the LP at 2,500,000·1.025/55.56 = 46,121.3, where the notional is 54.2 BTC (bracket 5); bracket 5 (5 %, cum
    # 1.81): LP = 2,500,000·1.05/(5 + 1.81 + 50) = 2,625,000/56.81 = 46,206.65…, notional 54.1 BTC: it holds.
    data = calc("liq", *BTCUSD, "--side", "long", "--entry", "50000", "--contracts", "25000", "--leverage", "10")
    assert D(str(data["liquidation_exact"])) == MONEY.divide(D(2625000), D("56.81"))
    assert (data["tier"], data["maintenance_rate"]) == (5, "0.05")  # the bracket that holds at the LP
    assert (data["entry_tier"], data["entry_maintenance_rate"]) == (4, "0.025")
    assert data["maintenance_margin"] == "0.69"  # at entry: 50 × 2.5 % − 0.56


def test_notional_in_the_coin_is_the_same_position() -> None:
    # --notional 0.02 BTC at 50,000 = 1,000 USD of face = 10 contracts.
    by_coin = calc("liq", *BTCUSD, "--side", "long", "--entry", "50000", "--notional", "0.02", "--leverage", "10")
    by_contracts = calc("liq", *BTCUSD, "--side", "long", "--entry", "50000", "--contracts", "10", "--leverage", "10")
    assert by_coin == by_contracts


def test_explicit_rate_keeps_the_instrument_inverse() -> None:
    # --mmr 0.005 on BTCUSD_PERP: LP = 1,000·1.005/0.022 = 1,005/0.022.
    data = calc(
        "liq", *BTCUSD, "--mmr", "0.005", "--side", "long", "--entry", "50000", "--contracts", "10", "--leverage", "10"
    )
    assert D(str(data["liquidation_exact"])) == MONEY.divide(D(1005), D("0.022"))
    assert data["kind"] == "inverse"


def test_margin_at_a_mark_and_after_adding_coin() -> None:
    # Mark 48,000: PnL = 1,000·(1/50,000 − 1/48,000) = −1,000·2,000/(50,000·48,000) = −1/1,200 BTC;
    # MM = 1,000/48,000 × 0.4 % = 1/12,000 BTC. Adding 0.001 BTC: LP = 1,004/(0.003 + 0.02) = 1,004/0.023.
    data = calc(
        "margin", *BTCUSD, "--side", "long", "--entry", "50000", "--contracts", "10", "--leverage", "10",
        "--mark", "48000", "--add", "0.001",
    )  # fmt: skip
    assert abs(D(str(data["unrealized_pnl"])) + MONEY.divide(D(1), D(1200))) < D("1E-30")
    assert abs(D(str(data["maintenance_margin"])) - MONEY.divide(D(1), D(12000))) < D("1E-30")
    assert data["adjusted_margin"] == "0.003"
    assert D(str(data["adjusted_liquidation_price"])) == MONEY.divide(D(1004), D("0.023"))


def test_size_in_whole_contracts_from_a_coin_budget() -> None:
    # 1 BTC account, 2 % risk = 0.02 BTC margin, 10× = 0.2 BTC of notional = 0.2 × 50,000 = 10,000 USD = 100
    # contracts. Loss at the 48,000 stop: 10,000·(1/48,000 − 1/50,000) = 10,000·2,000/2.4e9 = 1/120 BTC.
    data = calc(
        "size", *BTCUSD, "--side", "long", "--entry", "50000", "--account", "1", "--risk", "2", "--leverage", "10",
        "--stop", "48000",
    )  # fmt: skip
    assert (data["contracts"], data["size"], data["margin"], data["notional"]) == ("100", "10000", "0.02", "0.2")
    assert abs(D(str(data["loss_at_stop"])) - MONEY.divide(D(1), D(120))) < D("1E-30")


def test_size_with_an_explicit_rate_still_buys_whole_contracts() -> None:
    # 0.0201 BTC × 10 at 50,000 = 10,050 USD of face: rounded down to 100 contracts (10,000 USD), margin 0.02 BTC.
    data = calc(
        "size", *BTCUSD, "--mmr", "0.005", "--side", "long", "--entry", "50000", "--account", "1.005",
        "--risk", "2", "--leverage", "10",
    )  # fmt: skip
    assert (data["contracts"], data["size"], data["margin"]) == ("100", "10000", "0.02")


def test_tiers_of_the_quarterly_with_its_expiry() -> None:
    # FAQ: a 300 BTC BTCUSD position is at 12.5 % with a maintenance amount of 11.81 BTC: MM = 37.5 − 11.81.
    data = calc("tiers", "--venue", "binancecoinm", "--symbol", "BTCUSD_200925", "--notional", "300")
    assert (data["selected_tier"], data["maintenance_margin"]) == (7, "25.69")
    assert data["expiry_ms"] == 1601020800000 and data["expiry"] == "2020-09-25T08:00:00Z"
    assert (data["kind"], data["settle"]) == ("inverse", "BTC")


def test_human_output_is_in_the_coin() -> None:
    result = runner.invoke(
        app, ["calc", "liq", *BTCUSD, "--side", "long", "--entry", "50000", "--contracts", "10", "--leverage", "10"]
    )
    assert result.exit_code == 0, result.output
    assert "isolated margin (BTC)" in result.output and "0.00200000" in result.output
    assert "10 (1,000.00)" in result.output  # contracts (face value USD)


def test_bad_inverse_sizes_are_one_line_errors() -> None:
    base = ["liq", *BTCUSD, "--side", "long", "--entry", "50000", "--leverage", "10"]
    assert "inverse_size" in refused(*base, "--qty", "1")
    assert "not_whole_contracts" in refused(*base, "--contracts", "10.5")
    assert "not_whole_contracts" in refused(*base, "--notional", "0.021")  # 1,050 USD = 10.5 contracts
    assert "bad_size" in refused(*base, "--contracts", "10", "--notional", "0.02")


def test_linear_results_are_unchanged_by_the_inverse_fields() -> None:
    data = calc("liq", "--side", "long", "--entry", "65000", "--qty", "1", "--leverage", "10")
    assert "kind" not in data and "contracts" not in data
    # --contracts on a linear symbol is contracts × contract size (Binance BTCUSDT: 1 BTC per contract).
    by_contracts = calc("liq", "--side", "long", "--entry", "65000", "--contracts", "1", "--leverage", "10")
    assert by_contracts == data
