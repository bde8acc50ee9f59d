"""`isomargin calc option` in-process (Typer's runner): OKX's published sell-to-open and fee examples as exact JSON
numbers, a Black-76 mark from --iv at a fixed --now, a USDT-margined put with its settlement, the liquidation mark,
and hostile input refused with one line and exit code 2."""

import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, localcontext
from decimal import Decimal as D
from typing import Any

import pytest
from typer.testing import CliRunner

from isomargin.cli import app
from isomargin.margin.numbers import MONEY
from isomargin.margin.options import black76, greeks, liquidation_mark
from isomargin.venues.options import option_family

runner = CliRunner()
OKX_CALL = ["--venue", "okx", "--family", "BTC-USD", "--kind", "call", "--strike", "100000", "--expiry", "2026-12-25",
            "--index", "95000"]  # fmt: skip


def option(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["calc", "option", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_okx_published_sell_to_open() -> None:
    # https://www.okx.com/help-center/360053909092: sell 100 calls of 0.1 BTC (here 1,000 of today's 0.01 BTC, the
    # same 10 BTC) at 0.06, mark 0.0575, strike 6,000 against the 5,900 forward, tier 2 (factor 1.02), LV1 maker
    # fee 0.02 %: position margin 0.01932 BTC per 0.1-BTC contract, order margin 1.334 BTC.
    data = option("--kind", "call", "--strike", "6000", "--expiry", "2026-12-25", "--index", "6000", "--forward",
                  "5900", "--mark", "0.0575", "--order-price", "0.06", "--contracts", "1000", "--open-contracts",
                  "15000", "--maker", "--side", "short")  # fmt: skip
    assert (data["symbol"], data["tier"], data["margin_factor"]) == ("BTC-USD-261225-6000-C", 2, "1.02")
    with localcontext(MONEY):
        im_per_old_contract = D(data["initial_margin"]) / 100
        assert im_per_old_contract.quantize(D("0.00001"), rounding=ROUND_HALF_UP) == D("0.01932")
        assert D(data["order_margin"]).quantize(D("0.001"), rounding=ROUND_HALF_UP) == D("1.334")
        # Fee per contract 0.02 % × 0.01 = 0.000002 (OKX: 0.00002 per 0.1-BTC contract), ×1000.
        assert D(data["trading_fee"]) == D("0.002")
        # MM (0.03 × 1.02 + 0.0575) × 0.01 × 1000 = 0.881 BTC (hand: 0.0306 + 0.0575 = 0.0881 per BTC).
        assert D(data["maintenance_margin"]) == D("0.881")


def test_okx_published_fee_long() -> None:
    # OKX Trading Fee Rules FAQ: 100 calls at 0.05 BTC, taker min(0.03 % × 0.01 × 100, 7 % × 0.05 × 0.01 × 100)
    # = 0.0003 BTC. Buy-to-open holds premium + fee: 100 × 0.05 × 0.01 + 0.0003 = 0.0503 BTC.
    data = option(*OKX_CALL, "--mark", "0.05", "--contracts", "100", "--side", "long")
    assert (data["trading_fee"], data["premium_value"], data["order_margin"]) == ("0.0003", "0.05", "0.0503")
    assert (data["initial_margin"], data["maintenance_margin"], data["order_action"]) == ("0", "0", "buy_open")
    assert "margin_ratio" not in data


def test_short_call_with_a_mark() -> None:
    # 10 contracts, mark 0.012, tier 1: IM (0.1 + 0.012) × 0.01 × 10 = 0.0112; MM (0.03 + 0.012) × 0.1 = 0.0042;
    # liquidation fee min(0.03 % × 0.1, 7 % × 0.012 × 0.1) = min(0.00003, 0.000084) = 0.00003; margin = IM, so the
    # ratio is 0.0112 / 0.00423.
    data = option(*OKX_CALL, "--mark", "0.012", "--contracts", "10", "--side", "short")
    assert (data["initial_margin"], data["maintenance_margin"], data["liquidation_fee"]) == (
        "0.0112",
        "0.0042",
        "0.00003",
    )
    assert D(data["margin_ratio"]) == MONEY.divide(D("0.0112"), D("0.00423"))
    # Liquidation: 0.0112/0.1 + 0.012 − x = 0.03 + x + 0.0003 → x = (0.124 − 0.0303)/2 = 0.04685, on the 0.0005 tick
    # 0.047.
    assert (data["liquidation_mark"], data["liquidation_mark_on_tick"]) == ("0.04685", "0.047")
    assert D(data["liquidation_mark"]) == liquidation_mark(
        "C", 95000, D("0.012"), D("0.0112"), option_family("okx", "BTC-USD"), 10
    )
    assert data["liquidation_step_full"] is True and data["underlying_units"] == "0.1"


def test_mark_from_implied_vol() -> None:
    # --now 2026-12-04T00:00 → 21 days 8 hours to the 08:00 expiry: T = 21⅓ / 365 years; mark = Black-76 / forward.
    data = option(*OKX_CALL, "--iv", "0.55", "--now", "2026-12-04", "--contracts", "10", "--side", "short")
    with localcontext(MONEY):
        t = D(21 * 24 + 8) / 24 / 365
        assert D(data["t_years"]) == t
        usd = black76("C", 95000, 100000, t, D("0.55"))
        assert D(data["mark"]) == usd / 95000
        g = greeks("C", 95000, 100000, t, D("0.55"))
        assert D(data["delta"]) == g.delta and D(data["position_delta"]) == -g.delta * D("0.1")
    assert data["mark_from"] == "black76" and 0 < D(data["delta"]) < 1


def test_usdt_margined_put_and_settlement() -> None:
    # binance BTCUSDT put 90,000, index 95,000, mark 1,200, 2 contracts of 1 BTC: IM (0.1 × 95000 + 1200) × 2 =
    # 21,400; MM (0.03 × 95000 + 1200) × 2 = 8,100; fee min(0.03 % × 95000, 7 % × 1200) × 2 = 57; settled at 85,000
    # it pays (90000 − 85000) × 2 = 10,000 USDT.
    data = option("--venue", "binance", "--family", "btcusdt", "--kind", "put", "--strike", "90000", "--expiry",
                  "2026-12-25", "--index", "95000", "--mark", "1200", "--contracts", "2", "--side", "short",
                  "--settle", "85000")  # fmt: skip
    assert data["symbol"] == "BTC-261225-90000-P" and data["settle"] == "USDT"
    assert (data["initial_margin"], data["maintenance_margin"], data["liquidation_fee"]) == ("21400", "8100", "57")
    assert (data["settlement_per_contract"], data["settlement_value"]) == ("5000", "10000")


def test_table_output() -> None:
    result = runner.invoke(app, ["calc", "option", *OKX_CALL, "--mark", "0.012", "--contracts", "10", "--side",
                                 "short"], env={"NO_COLOR": "1", "COLUMNS": "100"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "BTC-USD-261225-100000-C" in result.stdout and "264.78 %" in result.stdout


HOSTILE = [
    (["--mark", "0.01", "--iv", "0.5"], "mark_or_iv"),
    ([], "mark_or_iv"),
    (["--mark", "NaN"], "bad_number"),
    (["--mark", "١٠٠"], "bad_number"),
    (["--mark", "1e5"], "bad_number"),
    (["--mark", "-0.01"], "bad_mark"),
    (["--mark", "9" * 41], "bad_number"),
    (["--iv", "0"], "not_positive"),
    (["--iv", "0.5", "--now", "2027-01-01"], "expired"),
    (["--iv", "0.5", "--now", "yesterday"], "bad_time"),
    (["--mark", "0.01", "--order-price", "0.00015"], "off_tick"),
    (["--mark", "0.01", "--order-price", "0"], "not_positive"),
    (["--mark", "0.01", "--margin", "-1"], "not_positive"),
    (["--mark", "0.01", "--open-contracts", "5"], "bad_open_contracts"),
    (["--mark", "0.01", "--entry", "Infinity"], "bad_number"),
]


@pytest.mark.parametrize(("extra", "code"), HOSTILE, ids=[c for _, c in HOSTILE])
def test_hostile_input_is_one_line(extra: list[str], code: str) -> None:
    result = runner.invoke(app, ["calc", "option", *OKX_CALL, "--contracts", "10", "--side", "short", *extra],
                           env={"NO_COLOR": "1", "COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {code}: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--venue", "deribit"], "unknown_venue"),
        (["--family", "DOGE-USD"], "unknown_family"),
        (["--kind", "straddle"], "bad_kind"),
        (["--side", "sideways"], "bad_side"),
        (["--strike", "0"], "not_positive"),
        (["--strike", "1" + "0" * 12], "too_large"),
        (["--expiry", "2026-13-01"], "bad_expiry"),
        (["--expiry", "25/12/2026"], "bad_expiry"),
        (["--index", "-1"], "not_positive"),
        (["--contracts", "0.5"], "off_step"),
        (["--contracts", "0"], "not_positive"),
    ],
)
def test_hostile_options(args: list[str], code: str) -> None:
    base = {"--venue": "okx", "--family": "BTC-USD", "--kind": "call", "--strike": "100000", "--expiry": "2026-12-25",
            "--index": "95000", "--contracts": "10", "--side": "short", "--mark": "0.01"}  # fmt: skip
    base[args[0]] = args[1]
    flat = [x for kv in base.items() for x in kv]
    result = runner.invoke(app, ["calc", "option", *flat], env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {code}: "), result.stderr
    assert "Traceback" not in result.output


def test_option_starts_without_the_heavy_modules() -> None:
    # A fresh interpreter: `calc option` may import only margin/venues/rich/typer (as `calc liq` does).
    probe = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "import isomargin.cli\n"
        "args = ['calc', 'option', '--kind', 'put', '--strike', '90000', '--expiry', '2026-12-25', '--index',\n"
        "        '95000', '--iv', '0.6', '--now', '2026-12-01', '--contracts', '3', '--side', 'short', '--json']\n"
        "r = CliRunner().invoke(isomargin.cli.app, args)\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ('pandas', 'numpy', 'fastapi', 'uvicorn', 'isomargin.server', 'isomargin.sim', 'isomargin.journal',\n"
        "         'isomargin.engine')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
