"""`isomargin calc` starts without the server, the simulator or the journal (issue 17): those commands are
built from their modules only when asked for, with the same names, flags and help."""

import json
import subprocess
import sys
from decimal import Decimal as D

from typer.testing import CliRunner

from isomargin import cliutil
from isomargin.cli import ORDER, app
from isomargin.margin.numbers import MONEY

runner = CliRunner()
HEAVY = ("pandas", "numpy", "fastapi", "starlette", "uvicorn", "isomargin.server", "isomargin.sim", "isomargin.journal")
PROBE = f"""
import json, sys
from typer.testing import CliRunner
import isomargin.cli
args = ["calc", "liq", "--venue", "binance", "--symbol", "BTCUSDT", "--side", "long", "--entry", "65000",
        "--qty", "1", "--leverage", "10", "--json"]
result = CliRunner().invoke(isomargin.cli.app, args)
assert result.exit_code == 0, result.output
heavy = sorted(m for m in sys.modules if m in {HEAVY!r} or m.startswith(tuple(h + "." for h in {HEAVY!r})))
print(json.dumps({{"heavy": heavy, "pydantic": "pydantic" in sys.modules,
                  "liq": json.loads(result.stdout)["liquidation_price"]}}))
"""


def test_calc_imports_none_of_the_server_simulator_or_journal() -> None:
    # A fresh interpreter: this test process may already hold those modules from other tests.
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["heavy"] == []
    # Typer >= 0.2x would import pydantic to coerce the options; the calculators' str/bool options skip it.
    assert got["pydantic"] is (cliutil._PassThrough is None)
    # The README's BTCUSDT 1 BTC 10x long (tier 2: 0.5 %, cum 50): (6,500 + 50 − 65,000)/(0.005 − 1) = 58,450/0.995.
    assert D(got["liq"]) == MONEY.divide(D(58450), D("0.995"))


def test_every_command_is_listed_in_the_eager_order() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    listed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ") and "  " in line[2:]]
    assert [n for n in listed if n in ORDER] == list(ORDER)


def test_lazy_commands_keep_their_flags_and_help() -> None:
    serve = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert serve.exit_code == 0 and "--admin-key" in serve.stdout and "ISOMARGIN_ADMIN_KEY" in serve.stdout
    stress = runner.invoke(app, ["stress", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert stress.exit_code == 0 and "--report" in stress.stdout
    inspect = runner.invoke(app, ["journal", "inspect", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert inspect.exit_code == 0 and "--limit" in inspect.stdout


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    result = runner.invoke(app, ["serv"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2 and "serve" in result.output


def test_fast_options_still_refuse_what_typer_refuses() -> None:
    missing = runner.invoke(app, ["calc", "liq", "--side", "long"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert missing.exit_code == 2 and "Missing option '--entry'" in missing.output
    unknown = runner.invoke(app, ["calc", "tiers", "--bogus"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert unknown.exit_code == 2 and "No such option: --bogus" in unknown.output
