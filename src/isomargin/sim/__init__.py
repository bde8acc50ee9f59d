"""The simulator: price paths (files, generators, stress library), strategies, backtests, stress runs,
Monte Carlo and sweeps — all through the same `Engine` the venue runs — and HTML/JSON reports.

    from isomargin.sim import load, run_backtest, BacktestConfig, MACross
    result = run_backtest(load("klines.csv"), MACross(20, 50), BacktestConfig(leverage=10))
"""

from isomargin.sim.backtest import (
    BacktestConfig,
    BookEntry,
    compare_modes,
    compare_stress,
    load_book,
    parse_positions,
    run_backtest,
    run_stress,
)
from isomargin.sim.errors import SimError
from isomargin.sim.executors import DaskExecutor, Executor, ProcessExecutor, RayExecutor, SerialExecutor
from isomargin.sim.generators import garch, gbm, gbm_jumps, generate
from isomargin.sim.market import MarketConfig
from isomargin.sim.montecarlo import MCParams, run_monte_carlo, sweep
from isomargin.sim.options_leg import IVModel, OptionsDesk, OptionsSetup
from isomargin.sim.paths import Bars, FundingSeries, from_dataframe, intrabar, load, load_funding, make_bars
from isomargin.sim.results import dumps
from isomargin.sim.runner import Simulation
from isomargin.sim.spot import SpotMargin
from isomargin.sim.strategy import (
    BuyAndHold,
    Context,
    CoveredCall,
    Grid,
    MACross,
    MACrossBars,
    ShortStrangle,
    Signals,
    SignalStrategy,
    SpotMarginLong,
    Strategy,
    load_strategy,
)
from isomargin.sim.stress import EPISODES, get_episode

__all__ = [
    "EPISODES",
    "BacktestConfig",
    "Bars",
    "BookEntry",
    "BuyAndHold",
    "Context",
    "CoveredCall",
    "DaskExecutor",
    "Executor",
    "FundingSeries",
    "Grid",
    "IVModel",
    "MACross",
    "MACrossBars",
    "MCParams",
    "MarketConfig",
    "OptionsDesk",
    "OptionsSetup",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "ShortStrangle",
    "SignalStrategy",
    "Signals",
    "SimError",
    "Simulation",
    "SpotMargin",
    "SpotMarginLong",
    "Strategy",
    "compare_modes",
    "compare_stress",
    "dumps",
    "from_dataframe",
    "garch",
    "gbm",
    "gbm_jumps",
    "generate",
    "get_episode",
    "intrabar",
    "load",
    "load_book",
    "load_funding",
    "load_strategy",
    "make_bars",
    "parse_positions",
    "run_backtest",
    "run_monte_carlo",
    "run_stress",
    "sweep",
]
