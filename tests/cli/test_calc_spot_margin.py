"""`isomargin calc spot-margin` in-process (Typer's runner): the seed's two position tables (003: long and short
1 BTC at 100,000 with 10×, base or quote margin, old and new mode) as exact JSON numbers on both venues, the
liquidation and margin-call prices worked out by hand, interest, borrow limits, and hostile input refused with
one line and exit code 2."""

import json
import subprocess
import sys
from decimal import Decimal as D
from typing import Any

import pytest
from typer.testing import CliRunner

from isomargin.cli import app
from isomargin.margin.numbers import MONEY

runner = CliRunner()
BTC_1_AT_100K_10X = ["--pair", "BTC-USDT", "--price", "100000", "--qty", "1", "--leverage", "10"]


def spot(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["calc", "spot-margin", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# The seed's tables (asset, liability, margin); the position is the same on both venues, only the risk differs.
SEED_ROWS = [
    ("long", "base", "old", "1.1", "BTC", "100000", "USDT", "0.1", "BTC"),
    ("long", "base", "new", "1", "BTC", "100000", "USDT", "0.1", "BTC"),
    ("long", "quote", "old", "1", "BTC", "100000", "USDT", "10000", "USDT"),
    ("long", "quote", "new", "1", "BTC", "100000", "USDT", "10000", "USDT"),
    ("short", "base", "old", "100000", "USDT", "1", "BTC", "0.1", "BTC"),
    ("short", "base", "new", "100000", "USDT", "1", "BTC", "0.1", "BTC"),
    ("short", "quote", "old", "110000", "USDT", "1", "BTC", "10000", "USDT"),
    ("short", "quote", "new", "100000", "USDT", "1", "BTC", "10000", "USDT"),
]


@pytest.mark.parametrize("venue", ["okx", "binance"])
@pytest.mark.parametrize(("side", "margin", "mode", "asset", "a_ccy", "owed", "o_ccy", "m", "m_ccy"), SEED_ROWS)
def test_seed_tables_as_json(
    venue: str, side: str, margin: str, mode: str, asset: str, a_ccy: str, owed: str, o_ccy: str, m: str, m_ccy: str
) -> None:
    data = spot("--venue", venue, "--side", side, "--margin-asset", margin, "--mode", mode, *BTC_1_AT_100K_10X)
    assert (data["asset"], data["asset_currency"]) == (asset, a_ccy)
    assert (data["liability"], data["interest"], data["liability_currency"]) == (owed, "0", o_ccy)
    assert (data["margin"], data["margin_currency"]) == (m, m_ccy)
    assert (data["pnl"], data["side"], data["mode"], data["hours"]) == ("0", side, mode, 0)


def test_okx_long_base_margin() -> None:
    # Owes 100,000 USDT: tier 1 (≤ 1,000,000 USDT), MMR 3 %; taker 0.1 %. Liquidation 100,000 × 1.03 × 1.001 / 1.1
    # = 93,730. Ratio at 100,000: net 10,000 / (MM 3,000 + fee 100,000 × 1.03 × 0.1 % = 103) = 322.27 %.
    # Alert (ratio 300 %): assets = (1 + 3 × 0.03103) × owed → p = 1.09309 × 100,000 / 1.1 = 99,371.81…
    # OKX lends margin × leverage: 0.1 BTC × 10 = 1 BTC's worth, 100,000 USDT, exactly what the trade borrows.
    data = spot("--venue", "okx", "--side", "long", "--margin-asset", "base", "--mode", "old", *BTC_1_AT_100K_10X)
    assert (data["tier"], data["mmr"], data["taker_fee"]) == (1, "0.03", "0.001")
    assert data["liquidation_price"] == "93730"
    assert (data["maintenance_margin"], data["liquidation_fee"]) == ("3000", "103")
    assert D(data["margin_ratio"]) == MONEY.divide(10000, 3103)
    assert D(data["margin_call_price"]) == MONEY.divide(D(109309), D("1.1"))
    assert (data["max_borrowable_at_open"], data["borrow_within_limit"], data["max_borrowable"]) == (
        "100000",
        True,
        "0",
    )


def test_okx_short_quote_margin() -> None:
    # Holds 110,000 USDT, owes 1 BTC (tier 1 of BTC, ≤ 35 BTC, 3 %): liquidation 110,000 / (1 × 1.03103).
    data = spot("--venue", "okx", "--side", "short", "--margin-asset", "quote", "--mode", "new", *BTC_1_AT_100K_10X)
    assert D(data["liquidation_price"]) == MONEY.divide(110000, D("1.03103"))
    assert (data["quote_assets"], data["base_liability"], data["tier"]) == ("110000", "1", 1)


def test_binance_levels_and_the_refused_borrow() -> None:
    # Long, quote margin: level = (p + 10,000) / 100,000 → liquidation (1.05) at 95,000, margin call (1.1) at
    # 100,000: at 10× (10 borrowed per 1 own) the account opens at the margin call level. Binance lends up to
    # level 1.111: 10,000 / 0.111 = 90,090.09… USDT, capped by the 70,000 USDT borrow limit, so the 100,000 this
    # trade borrows would be refused.
    data = spot("--venue", "binance", "--side", "long", "--margin-asset", "quote", "--mode", "new", *BTC_1_AT_100K_10X)
    assert (data["liquidation_price"], data["margin_call_price"], data["margin_level"]) == ("95000", "100000", "1.1")
    assert (data["max_borrowable_at_open"], data["borrow_limit"]) == ("70000", "70000")
    assert data["borrow_within_limit"] is False and data["max_borrowable"] == "0"
    # Half the size, under the limit: margin 5,000 USDT lends 5,000 / 0.111 = 45,045.04… < the 50,000 needed.
    half = ["--price", "100000", "--qty", "0.5", "--leverage", "10"]
    data = spot("--venue", "binance", "--side", "long", "--margin-asset", "quote", *half)
    assert D(data["max_borrowable_at_open"]) == MONEY.divide(5000, D("0.111"))
    assert data["borrow_within_limit"] is False
    # Short, base margin: level = 0.1 + 100,000 / p → liquidation at 100,000 / 0.95.
    data = spot("--venue", "binance", "--side", "short", "--margin-asset", "base", "--mode", "old", *BTC_1_AT_100K_10X)
    assert D(data["liquidation_price"]) == MONEY.divide(100000, D("0.95"))


def test_binance_5x_borrow_within_the_limit() -> None:
    # 0.2 BTC of 5× on a 10× pair: margin 4,000 USDT, borrowed 20,000; at open the level 1.111 allows
    # 4,000 / 0.111 = 36,036.03… ≥ 20,000. After it: assets 24,000 vs owed 20,000 → (24,000 − 1.111 × 20,000) /
    # 0.111 = 1,780 / 0.111 = 16,036.03… more.
    data = spot("--venue", "binance", "--side", "long", "--margin-asset", "quote", "--price", "100000",
                "--qty", "0.2", "--leverage", "5")  # fmt: skip
    assert data["borrow_within_limit"] is True
    assert D(data["max_borrowable"]) == MONEY.divide(1780, D("0.111"))


def test_interest_over_hours() -> None:
    # 100,000 USDT at the illustrative 0.024 % a day: 100,000 × 0.00024 / 24 = 1 USDT an hour; 24 h = 24 USDT,
    # owed 100,024 → the long base-margin liquidation price (level 1.05) moves to 1.05 × 100,024 / 1.1.
    data = spot("--venue", "binance", "--side", "long", "--margin-asset", "base", "--mode", "old", "--hours", "24",
                *BTC_1_AT_100K_10X)  # fmt: skip
    assert (data["interest_hourly"], data["interest"], data["quote_interest"]) == ("1", "24", "24")
    assert D(data["liquidation_price"]) == MONEY.divide(D("105025.2"), D("1.1"))
    # An explicit rate: 1 BTC short at 0.1 % a day for 10 h = 1 × 0.001 / 24 × 10 = 0.0004166666670 (each hour
    # rounded up to 1e-10: 0.0000416667 × 10).
    data = spot("--venue", "okx", "--side", "short", "--hours", "10", "--daily-rate", "0.001", *BTC_1_AT_100K_10X)
    assert (data["interest_hourly"], data["interest"]) == ("0.0000416667", "0.000416667")


def test_mark_moves_pnl() -> None:
    # Short with quote margin at mark 90,000: 110,000 − 10,000 − 90,000 = +10,000 USDT, 100 % of the margin.
    data = spot("--venue", "okx", "--side", "short", "--margin-asset", "USDT", "--mark", "90000", *BTC_1_AT_100K_10X)
    assert (data["pnl"], data["pnl_currency"], data["pnl_ratio"], data["margin_asset"]) == (
        "10000",
        "USDT",
        "1",
        "quote",
    )


def test_table_output_for_people() -> None:
    result = runner.invoke(
        app,
        ["calc", "spot-margin", "--venue", "okx", "--side", "long", "--margin-asset", "base", "--mode", "old",
         *BTC_1_AT_100K_10X],
        env={"NO_COLOR": "1", "COLUMNS": "120"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for shown in ("1.1 BTC", "100,000.00 USDT", "0.1 BTC", "93,730.00", "322.27 %", "1 / 3.00 %"):
        assert shown in result.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--qty", "-1"], "not_positive"),
        (["--qty", "0"], "not_positive"),
        (["--qty", "١"], "bad_number"),  # Arabic-Indic digit: Decimal would take it
        (["--price", "１００٠٠٠"], "bad_number"),  # full-width digits
        (["--qty", "1e3"], "bad_number"),
        (["--qty", "NaN"], "bad_number"),
        (["--price", "Infinity"], "bad_number"),
        (["--qty", "1_0"], "bad_number"),
        (["--qty", "9" * 41], "bad_number"),
        (["--qty", ""], "bad_number"),
        (["--qty", "1\x00"], "bad_number"),
        (["--price", "1" + "0" * 12], "too_large"),
        (["--qty", "0.000001"], "off_step"),  # Binance BTCUSDT step 0.00001
        (["--price", "100000.001"], "off_tick"),
        (["--price", "100", "--qty", "0.00001"], "below_min_notional"),  # 0.001 USDT < 5
        (["--leverage", "11"], "too_large"),
        (["--leverage", "0.5"], "bad_leverage"),
        (["--leverage", "0"], "not_positive"),
        (["--hours", "-1"], "bad_hours"),
        (["--hours", "1.5"], "bad_hours"),
        (["--hours", "99999999"], "bad_hours"),
        (["--daily-rate", "-0.001"], "bad_rate"),
        (["--daily-rate", "2"], "bad_rate"),
        (["--mark", "0"], "not_positive"),
        (["--pair", "DOGE-EUR"], "unknown_pair"),
        (["--pair", "BTCUSDT"], "unknown_pair"),
        (["--venue", "kraken"], "unknown_venue"),
        (["--side", "up"], "bad_side"),
        (["--mode", "newest"], "bad_mode"),
        (["--margin-asset", "ETH"], "bad_asset"),
    ],
)
def test_hostile_input_is_one_line_and_exit_2(args: list[str], code: str) -> None:
    base = {"--venue": "binance", "--side": "long", "--price": "100000", "--qty": "1", "--leverage": "10"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for k, v in {**base, **given}.items() for x in (k, v)]
    result = runner.invoke(app, ["calc", "spot-margin", *argv], env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {code}: "), result.stderr
    assert isinstance(result.exception, SystemExit)  # an exit, not a crash


def test_okx_liability_above_the_tier_table_is_refused() -> None:
    # 400 BTC short on OKX owes more than tier 10's 350 BTC: no tier holds it.
    result = runner.invoke(
        app,
        ["calc", "spot-margin", "--venue", "okx", "--side", "short", "--price", "100000", "--qty", "400",
         "--leverage", "2"],
        env={"NO_COLOR": "1", "COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 2 and result.stderr.startswith("error: above_tiers: ")


def test_spot_margin_starts_without_the_heavy_modules() -> None:
    # A fresh interpreter: `calc spot-margin` may import only margin/venues/rich/typer (as `calc liq` does).
    probe = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "import isomargin.cli\n"
        "args = ['calc', 'spot-margin', '--venue', 'okx', '--side', 'short', '--price', '100000', '--qty', '1',\n"
        "        '--leverage', '10', '--json']\n"
        "r = CliRunner().invoke(isomargin.cli.app, args)\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ('pandas', 'numpy', 'fastapi', 'uvicorn', 'isomargin.server', 'isomargin.sim', 'isomargin.journal',\n"
        "         'isomargin.engine')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
