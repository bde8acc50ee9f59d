"""The `isomargin` command line: one Typer app wiring the calculators, the journal tools, the venue and the
simulator. Every bad input ends as one line `error: <code>: <sentence>` on stderr with exit code 2, never a
traceback; `--json` prints machine output with decimals as strings.
"""

from __future__ import annotations

import typer

from isomargin.calculators import calc
from isomargin.journal.cli import journal_cli, replay
from isomargin.server.cli import demo as _server_demo
from isomargin.server.cli import serve as _server_serve
from isomargin.sim.cli import backtest as _sim_backtest
from isomargin.sim.cli import stress as _sim_stress

app = typer.Typer(
    help="isomargin: exchange-grade isolated-margin engine and venue-exact calculators.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(calc, name="calc")
app.add_typer(journal_cli, name="journal")
app.command()(replay)
app.command(name="serve")(_server_serve)
app.command(name="demo")(_server_demo)
app.command(name="backtest")(_sim_backtest)
app.command(name="stress")(_sim_stress)

if __name__ == "__main__":  # pragma: no cover
    app(prog_name="isomargin")
