"""`isomargin backtest` and `isomargin stress`: the simulator's command line (Typer app `app`).

Bad input (files, path names, strategy specs, books) ends as one line `error: <code>: <sentence>` with
exit code 2. `--json` prints machine-readable results (byte-identical for the same inputs and seed),
`--report out.html` writes a self-contained HTML report. Run as `python -m isomargin.sim.cli`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from isomargin.cliutil import err, fail, out
from isomargin.margin import MarginError
from isomargin.sim.errors import SimError
from isomargin.sim.results import OPTIONS_OUTCOME_KEYS, OUTCOME_KEYS, SPOT_OUTCOME_KEYS

app = typer.Typer(
    help="isomargin simulator: backtests and stress tests through the engine.",
    no_args_is_help=True,
    add_completion=False,
)
T = TypeVar("T")


def guarded(fn: Callable[[], T]) -> T:
    """Like cliutil.guarded, for the simulator's own errors too."""
    try:
        return fn()
    except SimError as exc:
        fail(exc.code, exc.message)
    except MarginError as exc:
        fail(exc.code, exc.message)


def _dec(value: str | None, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        d = Decimal(value)
    except InvalidOperation:
        fail("bad_number", f"{what} must be a number, got {value!r}")
    if not d.is_finite():
        fail("bad_number", f"{what} must be finite")
    return d


def _params(items: list[str]) -> dict[str, Any]:
    outp: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            fail("bad_parameter", f"--param takes key=value, got {item!r}")
        value: Any = raw
        for conv in (int, float):
            try:
                value = conv(raw)
                break
            except ValueError:
                continue
        outp[key.strip()] = value
    return outp


def _progress(total: int, label: str, quiet: bool) -> tuple[Progress | None, Callable[[int], None] | None]:
    if quiet:
        return None, None
    prog = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = prog.add_task(label, total=total, rate="")
    unit = "paths" if label in ("monte carlo", "paths", "sweep") else "bars"

    def update(i: int) -> None:
        speed = prog.tasks[0].speed if prog.tasks else None
        prog.update(task, completed=i, rate=f"{speed:,.0f} {unit}/s" if speed else "")

    return prog, update


def _market(
    venue: str,
    maker: str | None,
    taker: str | None,
    fees: str | None,
    funding: str | None,
    insurance: str,
    spread: str,
    depth: str,
) -> tuple[Any, Any]:
    from isomargin.sim.market import MarketConfig
    from isomargin.sim.paths import load_funding

    if fees is not None:
        maker, _, taker = fees.partition(",")
        taker = taker or maker
    rate: Decimal | None = None
    series = None
    if funding is not None:
        try:
            rate = Decimal(funding)
        except InvalidOperation:
            series = guarded(lambda: load_funding(funding))
        if rate is not None and not abs(rate) < 1:
            fail("bad_funding_rate", "funding rate must be a fraction between −1 and 1")
    m = MarketConfig(
        venue=venue,
        maker_fee=_dec(maker, "maker fee"),
        taker_fee=_dec(taker, "taker fee"),
        funding_rate=rate,
        insurance=_dec(insurance, "insurance") or Decimal(0),
        spread=_dec(spread, "spread") or Decimal(0),  # 0: the ask at the mark, the bid a tick under
        depth=_dec(depth, "depth") or Decimal(0),
    )
    return m, series


def _emit(result: dict[str, Any], as_json: bool, json_out: Path | None, report: Path | None) -> None:
    from isomargin.sim.report import write_report
    from isomargin.sim.results import dumps

    text = dumps(result)
    if json_out is not None:
        json_out.write_text(text + "\n", encoding="utf-8")
    if report is not None:
        write_report(result, report)
        err.print(f"report written to {report}")
    if json_out is not None:
        err.print(f"results written to {json_out}")
    if as_json:
        print(text)


def _show(rows: list[tuple[str, Any]], title: str, cols: tuple[str, ...] = ("value",)) -> None:
    from isomargin.sim.results import js

    t = Table(title=title, show_header=len(cols) > 1)
    t.add_column("")
    for c in cols:
        t.add_column(c, justify="right")
    for k, v in rows:
        vals = v if isinstance(v, list) else [v]
        t.add_row(k, *[str(js(x)) if x is not None else "—" for x in vals])
    out.print(t)


_BT_KEYS = OUTCOME_KEYS
_PRODUCT_KEYS = {"spot-margin": SPOT_OUTCOME_KEYS, "options": (*OPTIONS_OUTCOME_KEYS, "option_liquidations_by_step")}
# Figures in the account's asset (the coin for an inverse symbol): their rows name it.
_MONEY_KEYS = frozenset(
    {
        "final_equity",
        "equity_end",
        "fees",
        "funding",
        "interest",
        "premium_collected",
        "premium_paid",
        "settlement_paid",
        "settlement_received",
        "bad_debt",
        "insurance_draws",
        "insurance_end",
        "deposit",
        "wallet",
    }
)
_USD_ROWS = ("final_equity_usd", "return_usd", "max_drawdown_usd")


def _label(key: str, asset: str) -> str:
    if key in _MONEY_KEYS:
        return f"{key} ({asset})"
    if key.endswith("_usd"):
        return f"{key[:-4]} (USD)"
    return key


def _spec(venue: str, symbol: str) -> Any:
    """The symbol's spec in the venue data (an unknown venue or symbol is a clear error)."""
    from isomargin.venues import get_profile

    return guarded(lambda: get_profile(venue).spec(symbol))


def _spot_spec(venue: str, symbol: str) -> Any:
    """A spot-margin pair's spec in the venue data (an unknown venue or pair is a clear error)."""
    from isomargin.venues.spot_margin import UnknownSpotPair, spot_pair

    try:
        return spot_pair(venue, symbol)
    except UnknownSpotPair as exc:
        fail("bad_symbol", str(exc))


def _product(product: str, venue: str, symbol: str, borrow_rate: str | None, compare: bool) -> tuple[Any, str]:
    """The symbol's spec and money asset for `--product`; a flag the product has no use for is refused."""
    from isomargin.sim.backtest import PRODUCTS

    if product not in PRODUCTS:
        fail("bad_product", f"--product must be one of {', '.join(PRODUCTS)}, got {product!r}")
    if product == "perp":
        if borrow_rate is not None:
            fail("bad_parameter", "--borrow-rate is spot margin's interest rate: use it with --product spot-margin")
        if "-" in symbol:
            fail("wrong_product", f"{symbol} is spelt as a spot pair: use --product spot-margin, or a perpetual")
        spec = _spec(venue, symbol)
        return spec, spec.settle
    if compare:
        fail("bad_parameter", "--compare-modes compares perpetual margin modes; spot margin is isolated only")
    spec = _spot_spec(venue, symbol)
    return spec, spec.quote


def _borrow_rate(market: Any, text: str | None) -> Any:
    """The market with `--borrow-rate DAILY` (a fraction per day, 0 ≤ rate < 1) as every pair asset's rate."""
    from dataclasses import replace

    rate = _dec(text, "--borrow-rate")
    if rate is None:
        return market
    if not 0 <= rate < 1:
        fail("bad_borrow_rate", f"--borrow-rate is a daily fraction between 0 and 1, got {text!r}")
    return replace(market, borrow_rate=rate)


def _balance(text: str | None, deposit: str | None, asset: str, symbol: str) -> Decimal | None:
    """`--balance AMOUNT[ ASSET]` (`1`, `1BTC`, `1 BTC`, `1:BTC`) or the older `--deposit AMOUNT`, in the
    symbol's settle asset: an asset named that is not the one the symbol settles in is refused."""
    if text is not None and deposit is not None:
        fail("bad_parameter", "give --balance or --deposit, not both")
    raw = text if text is not None else deposit
    if raw is None:
        return None
    body = raw.strip().replace(":", " ")
    i = len(body)
    while i > 0 and body[i - 1].isalpha():
        i -= 1
    amount, named = body[:i].strip(), body[i:].strip().upper()
    if named and named != asset:
        fail(
            "balance_asset_mismatch",
            f"{symbol} settles in {asset}: the starting balance must be in {asset}, got {raw!r}",
        )
    value = _dec(amount, "--balance")
    assert value is not None
    if value <= 0:
        fail("bad_deposit", f"the starting balance must be positive, got {raw!r}")
    return value


@app.command()
def backtest(
    data: Annotated[
        str | None, typer.Option("--data", help="OHLCV .csv (Binance kline or generic) or .parquet.")
    ] = None,
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            help="buy-and-hold | ma-cross | grid | spot-margin-long (spot margin) | short-strangle | covered-call "
            "(options) | module:Class | file.py:Class.",
        ),
    ] = "buy-and-hold",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Strategy parameter key=value (repeatable).")
    ] = None,
    venue: Annotated[str | None, typer.Option("--venue", help="Default: binance (options: okx).")] = None,
    symbol: Annotated[
        str,
        typer.Option("--symbol", help="A perpetual (BTCUSDT), a spot pair (BTC-USDT) or an options family (BTC-USD)."),
    ] = "BTCUSDT",
    product: Annotated[
        str,
        typer.Option(
            "--product", help="perp | spot-margin (a spot pair's isolated margin account) | options (a family's)."
        ),
    ] = "perp",
    iv: Annotated[str | None, typer.Option("--iv", help="Options: implied volatility at the money (0.6).")] = None,
    iv_skew: Annotated[str | None, typer.Option("--iv-skew", help="Options: IV change per unit ln(K/F).")] = None,
    iv_smile: Annotated[str | None, typer.Option("--iv-smile", help="Options: IV change per ln(K/F)².")] = None,
    iv_term: Annotated[
        str | None, typer.Option("--iv-term", help="Options: IV × (30 days / T)^term (shorter expiries dearer).")
    ] = None,
    leverage: Annotated[
        int, typer.Option("--leverage", help="Perp: the account's leverage; spot margin: the strategy's target.")
    ] = 10,
    margin_mode: Annotated[str, typer.Option("--margin-mode", help="isolated | cross.")] = "isolated",
    borrow_rate: Annotated[
        str | None,
        typer.Option(
            "--borrow-rate", help="Spot margin: daily interest rate of the pair's loans (default: the venue's)."
        ),
    ] = None,
    balance: Annotated[
        str | None,
        typer.Option(
            "--balance",
            help="Starting wallet in the symbol's settle asset, e.g. 10000 (USDT) or '1 BTC' for an inverse "
            "symbol (default: 10000 USDT or 1 coin).",
        ),
    ] = None,
    deposit: Annotated[str | None, typer.Option("--deposit", help="Same as --balance (amount only).")] = None,
    fees: Annotated[str | None, typer.Option("--fees", help="MAKER,TAKER rates (default: the venue's).")] = None,
    funding: Annotated[str | None, typer.Option("--funding", help="Rate per 8 h, or a funding-rate CSV.")] = None,
    mark: Annotated[str | None, typer.Option("--mark", help="Mark-price klines (same layout) to walk instead.")] = None,
    generator: Annotated[
        str | None, typer.Option("--generator", help="gbm | gbm-jumps | garch instead of --data.")
    ] = None,
    bars: Annotated[int, typer.Option("--bars", help="Bars to generate.")] = 1440,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    insurance: Annotated[str, typer.Option("--insurance", help="Insurance fund at start.")] = "1000000",
    spread: Annotated[str, typer.Option("--spread", help="Quote half-spread (fraction).")] = "0.0002",
    depth: Annotated[str, typer.Option("--depth", help="Quote notional per side.")] = "20000000",
    compare_modes: Annotated[
        bool, typer.Option("--compare-modes", help="Run isolated and cross side by side.")
    ] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write a self-contained HTML report.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json-out", help="Write results as JSON to a file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run a strategy through the engine along a price path."""
    from isomargin.sim import cli_options
    from isomargin.sim.backtest import BacktestConfig, run_backtest
    from isomargin.sim.backtest import compare_modes as compare
    from isomargin.sim.generators import generate
    from isomargin.sim.paths import load
    from isomargin.sim.strategy import load_strategy

    cli_options.refuse_iv_flags(product, (iv, iv_skew, iv_smile, iv_term))
    venue = venue or ("okx" if product == "options" else "binance")
    market, series = _market(venue, None, None, fees, funding, insurance, spread, depth)
    if product == "options":
        refused = {"--funding": funding is not None, "--borrow-rate": borrow_rate is not None,
                   "--compare-modes": compare_modes, "--margin-mode cross": margin_mode != "isolated",
                   "--mark": mark is not None}  # fmt: skip
        spec = cli_options.options_product(venue, symbol, refused)
        asset = spec.settle
    else:
        spec, asset = _product(product, venue, symbol, borrow_rate, compare_modes)
    market = _borrow_rate(market, borrow_rate)
    sym = spec.symbol
    start = _balance(balance, deposit, asset, sym)
    if data is None and generator is None:
        fail("no_data", "give --data FILE or --generator gbm|gbm-jumps|garch")
    if data is not None:
        path = guarded(lambda: load(data))
    else:
        assert generator is not None
        tick = float(spec.tick_size) if spec.tick_size > 0 else 0.01
        path = guarded(lambda: generate(generator, bars, seed=seed, tick=tick))
    if mark is not None:
        path.mark = guarded(lambda: load(mark))
        if len(path.mark) != len(path):
            fail("bad_data", "the mark-price file must have the same bars as --data")
    params = _params(param or [])

    def make() -> Any:
        return load_strategy(strategy, params)

    guarded(make)
    options = None
    if product == "options":
        from isomargin.sim.options_leg import OptionsSetup

        options = OptionsSetup(sym, venue, cli_options.iv_model(iv, iv_skew, iv_smile, iv_term))
    cfg = BacktestConfig(
        symbol=sym, leverage=leverage, margin_mode=margin_mode, deposit=start, market=market, product=product,
        options=options,
    )  # fmt: skip
    inverse = product == "perp" and spec.inverse
    keys = (*_BT_KEYS, *_USD_ROWS) if inverse else _PRODUCT_KEYS.get(product, _BT_KEYS)
    money = f"{asset}, inverse: sizes in USD face" if inverse else asset
    mode_text = {"perp": f"{margin_mode} {leverage}×", "spot-margin": f"spot margin, isolated, {leverage}× target",
                 "options": f"options, isolated, IV {options.iv.iv if options else ''}"}[product]  # fmt: skip
    if compare_modes:
        result = guarded(lambda: compare(path, make, cfg, series))
        if not as_json:
            rows = [(_label(k, asset), [result["isolated"][k], result["cross"][k]]) for k in keys]
            _show(rows, f"{strategy} on {sym} ({venue}, {money}) — isolated vs cross", ("isolated", "cross"))
    else:
        prog, cb = _progress(len(path), "backtest", quiet or as_json)
        if prog is not None:
            with prog:
                result = guarded(lambda: run_backtest(path, make(), cfg, series, cb))
        else:
            result = guarded(lambda: run_backtest(path, make(), cfg, series))
        if not as_json:
            _show(
                [(_label(k, asset), result[k]) for k in keys],
                f"{strategy} on {sym} ({venue}, {mode_text}, {money})",
            )
            if path.gaps:
                err.print(f"note: {len(path.gaps)} gap(s) in the data, first at row {path.gaps[0][0]}")
    runs = [result[m] for m in ("isolated", "cross")] if "isolated" in result else [result]
    for note in dict.fromkeys(n for r in runs for n in r.get("warnings", [])):
        err.print(f"warning: {note}")
    _emit(result, as_json, json_out, report)


def _stress_options(
    venue: str,
    gap: float,
    contracts: str,
    otm: float,
    iv: str | None,
    insurance: str,
    balance: str | None,
    taken: dict[str, Any],
    as_json: bool,
    json_out: Path | None,
) -> None:
    """`stress --product options`: flags of the perpetual book refused, the run, its table per account."""
    from isomargin.sim import cli_options

    for flag, value in taken.items():
        if value is not None:
            fail("bad_parameter", f"{flag} is for a perpetual book; --product options builds its own gap path")
    market, _ = _market(venue, None, None, None, None, insurance, "0", "0")
    model = cli_options.iv_model(iv, None, None, None)
    result = cli_options.stress_options(venue, gap, contracts, otm, 7, model, market, balance)
    if not as_json:
        rows = [(f"account {a['account']}: {a['contracts']:,} contracts", [_steps_text(a["steps"]), a["loss"],
                 a["posted"], a["cap_ok"]]) for a in result["accounts"]]  # fmt: skip
        cols = ("liquidation steps (strike, step, contracts)", "loss (BTC)", "posted (BTC)", "loss ≤ posted")
        _show(rows, f"short strangles through a {gap:+.0%} gap ({venue}, IV {model.iv})", cols)
        _show([(k, result[k]) for k in ("premium_collected", "premium_paid", "insurance_draws", "insurance_end",
                                        "option_liquidations_by_step")], "totals")  # fmt: skip
    _emit(result, as_json, json_out, None)


def _steps_text(steps: list[str]) -> str:
    """Steps such as "BTC-USD-240108-105000-C partial 5000" shown as "105000-C partial 5000 → …" (— for none)."""
    return " → ".join(s.split("-", 3)[-1] for s in steps) or "—"


def _list(value: str, conv: Callable[[str], T], what: str) -> list[T]:
    try:
        return [conv(v.strip()) for v in value.split(",") if v.strip()]
    except (ValueError, InvalidOperation):
        fail("bad_parameter", f"{what} takes comma-separated numbers, got {value!r}")


@app.command()
def stress(
    path: Annotated[str | None, typer.Option("--path", help="Library name (see --list) or an OHLCV file.")] = None,
    book: Annotated[
        Path | None, typer.Option("--book", help="CSV: account,symbol,side,leverage,margin[,mode][,deposit].")
    ] = None,
    positions: Annotated[
        str | None, typer.Option("--positions", help="[ACCT@][SYMBOL:]side:LEVx:MARGIN[:mode], comma separated.")
    ] = None,
    venue: Annotated[
        str | None, typer.Option("--venue", help="Default: the episode's (simple) or binance for files.")
    ] = None,
    symbol: Annotated[
        str | None,
        typer.Option(
            "--symbol", help="Symbol of a file path, of a one-leg library path (e.g. BTCUSD_PERP), or Monte Carlo."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    scale: Annotated[float, typer.Option("--scale", help="Multiply the episode's moves.")] = 1.0,
    mode: Annotated[str | None, typer.Option("--mode", help="Force isolated or cross for the whole book.")] = None,
    compare_modes: Annotated[bool, typer.Option("--compare-modes")] = False,
    insurance: Annotated[str, typer.Option("--insurance")] = "100000",
    fees: Annotated[str | None, typer.Option("--fees", help="MAKER,TAKER rates.")] = None,
    spread: Annotated[str, typer.Option("--spread")] = "0.0002",
    depth: Annotated[str, typer.Option("--depth")] = "20000000",
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo: number of generated paths.")] = 0,
    generator: Annotated[str, typer.Option("--generator")] = "gbm",
    horizon: Annotated[int, typer.Option("--horizon", help="Monte Carlo: bars (minutes) per path.")] = 1440,
    sigma: Annotated[float | None, typer.Option("--sigma", help="Annualised volatility.")] = None,
    leverage: Annotated[str, typer.Option("--leverage", help="Monte Carlo: leverage(s), e.g. 5,10,20.")] = "10",
    margin: Annotated[
        str | None,
        typer.Option("--margin", help="Monte Carlo: margin(s) in the settle asset (default 1000 USDT, 0.02 coin)."),
    ] = None,
    stop: Annotated[str, typer.Option("--stop", help="Monte Carlo: stop distance(s) as fractions, 0 = none.")] = "0",
    executor: Annotated[str, typer.Option("--executor", help="local | serial | dask://host:port | ray.")] = "local",
    workers: Annotated[int | None, typer.Option("--workers")] = None,
    list_paths: Annotated[bool, typer.Option("--list", help="List the stress library.")] = False,
    product: Annotated[
        str, typer.Option("--product", help="perp (a book of positions) | options (short strangles through a gap).")
    ] = "perp",
    gap: Annotated[float, typer.Option("--gap", help="Options: the index's jump, a fraction (0.3 = +30 %).")] = 0.3,
    contracts: Annotated[
        str, typer.Option("--contracts", help="Options: each account's strangle size in contracts.")
    ] = "25000,15000,5000",
    otm: Annotated[float, typer.Option("--otm", help="Options: strikes this fraction out of the money.")] = 0.1,
    iv: Annotated[str | None, typer.Option("--iv", help="Options: implied volatility (0.6).")] = None,
    balance: Annotated[str | None, typer.Option("--balance", help="Options: BTC per account (200).")] = None,
    report: Annotated[Path | None, typer.Option("--report")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    json_out: Annotated[Path | None, typer.Option("--json-out")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run a book of positions through a stress path, or Monte Carlo paths over a generator; with --product
    options, a book of short strangles through a gap."""
    from isomargin.sim import backtest as bt
    from isomargin.sim.stress import EPISODES, resolve_path

    if product not in ("perp", "options"):
        fail("bad_product", f"--product must be perp or options, got {product!r}")
    if product == "options":
        taken = {"--path": path, "--book": book, "--positions": positions, "--mode": mode, "--report": report,
                 "--paths": paths or None, "--compare-modes": compare_modes or None}  # fmt: skip
        _stress_options(venue or "okx", gap, contracts, otm, iv, insurance, balance, taken, as_json, json_out)
        return
    if iv is not None or balance is not None:
        fail("bad_parameter", "--iv and --balance belong to --product options")
    if list_paths:
        _show([(e.name, e.title) for e in EPISODES.values()], "stress library", ("episode",))
        return
    if paths > 0:
        _monte_carlo(
            paths,
            seed,
            generator,
            horizon,
            sigma,
            leverage,
            margin,
            stop,
            venue or "binance",
            (symbol or "BTCUSDT").upper(),
            executor,
            workers,
            as_json,
            json_out,
            report,
        )
        return
    if path is None:
        fail("no_path", "give --path NAME|FILE (see --list), or --paths N for Monte Carlo")
    if symbol is not None:
        symbol = _spec(venue or "binance", symbol).symbol if venue is not None else symbol.upper()
    bars_by_symbol, default_venue = guarded(lambda: resolve_path(path, symbol, seed, scale))
    market, _ = _market(venue or default_venue, None, None, fees, None, insurance, spread, depth)
    if book is not None:
        entries = guarded(lambda: bt.load_book(book, next(iter(bars_by_symbol))))
    elif positions is not None:
        entries = guarded(lambda: bt.parse_positions(positions, next(iter(bars_by_symbol))))
    else:
        fail("no_book", "give --book FILE or --positions SPEC")
    if mode is not None:
        guarded(lambda: bt.margin_mode(mode))
    if compare_modes:
        result = guarded(lambda: bt.compare_stress(bars_by_symbol, entries, market))
        if not as_json:
            asset = result["isolated"]["asset"]
            _show(
                [(_label(k, asset), [v["isolated"], v["cross"]]) for k, v in result["difference"].items()],
                f"stress {path} ({market.venue}, {asset}) — isolated vs cross",
                ("isolated", "cross"),
            )
            for m in ("isolated", "cross"):
                _positions(result[m], f"{m}: positions")
    else:
        n = len(next(iter(bars_by_symbol.values())))
        prog, cb = _progress(n, "stress", quiet or as_json)
        if prog is not None:
            with prog:
                result = guarded(lambda: bt.run_stress(bars_by_symbol, entries, market, mode, cb))
        else:
            result = guarded(lambda: bt.run_stress(bars_by_symbol, entries, market, mode))
        if not as_json:
            keys = (
                "positions_opened",
                "liquidated_positions",
                "first_liquidation_bar",
                "partial_liquidations",
                "full_liquidations",
                "adl_events",
                "bad_debt",
                "insurance_draws",
                "insurance_end",
                "isolated_cap_ok",
                "worst_loss_fraction_of_margin",
                "equity_end",
                *(("equity_end_usd",) if "equity_end_usd" in result else ()),
            )
            asset = result["asset"]
            _show([(_label(k, asset), result[k]) for k in keys], f"stress {path} ({market.venue}, {asset})")
            _positions(result, "positions")
    _emit(result, as_json, json_out, report)


def _positions(result: dict[str, Any], title: str, limit: int = 12) -> None:
    """The book's positions: size, entry, liquidation price, the bar it was liquidated on, and the loss in the
    account's asset."""
    from isomargin.sim.results import js

    asset = result["asset"]
    inverse = any("equity_usd" in a for a in result["accounts"])
    several = len({p["account"] for p in result["positions"]}) > 1
    symbols = len({p["symbol"] for p in result["positions"]}) > 1
    only = "" if symbols or not result["positions"] else f"{result['positions'][0]['symbol']}, "
    t = Table(
        title=f"{title} ({only}{asset}{'; size = USD face' if inverse else ''})", box=box.SIMPLE_HEAD, pad_edge=False
    )
    cols = [
        *(["acct"] if several else []),
        *(["symbol"] if symbols else []),
        "side",
        "size",
        "entry",
        "liq price",
        "liq bar",
        f"loss {asset}",
    ]
    for c in cols:
        t.add_column(c, justify="right", no_wrap=True)
    liq_bar: dict[tuple[int, str], int] = {}
    for x in result["liquidations"]:
        liq_bar.setdefault((x["account"], x["symbol"]), x["bar"])
    for p in result["positions"][:limit]:
        lp = p["liquidation_price"]
        t.add_row(
            *([str(p["account"])] if several else []),
            *([p["symbol"]] if symbols else []),
            f"{p['side']} {p['leverage']}×",
            str(js(p["size"])),
            "—" if p["entry"] is None else f"{p['entry']:,.2f}",
            "—" if lp is None else f"{lp:,.2f}",
            str(liq_bar.get((p["account"], p["symbol"]), "—")),
            f"{p['loss']:.8f}" if inverse else f"{p['loss']:.2f}",
        )
    out.print(t)


def _monte_carlo(
    paths: int,
    seed: int,
    generator: str,
    horizon: int,
    sigma: float | None,
    leverage: str,
    margin: str | None,
    stop: str,
    venue: str,
    symbol: str,
    executor_spec: str,
    workers: int | None,
    as_json: bool,
    json_out: Path | None,
    report: Path | None,
) -> None:
    from isomargin.sim.executors import executor
    from isomargin.sim.generators import GENERATORS
    from isomargin.sim.montecarlo import MCParams, sweep

    if generator not in GENERATORS:
        fail("unknown_generator", f"unknown generator {generator!r} (known: {', '.join(GENERATORS)})")
    if horizon < 1:
        fail("bad_parameter", "--horizon must be ≥ 1")
    spec = _spec(venue, symbol)
    symbol, asset = spec.symbol, spec.settle
    levs = _list(leverage, int, "--leverage")
    margins = _list(margin or ("0.02" if spec.inverse else "1000"), Decimal, "--margin")
    stops = _list(stop, float, "--stop")
    base = MCParams(
        generator=generator, bars=horizon, paths=paths, seed=seed, venue=venue, symbol=symbol, sigma=sigma,
        deposit=None if spec.inverse else Decimal(10_000),
    )  # fmt: skip
    ex = guarded(lambda: executor(executor_spec, workers))
    total = paths * len(levs) * len(margins) * len(stops)
    prog, cb = _progress(total, "paths", as_json)
    if prog is not None:
        with prog:
            result = guarded(lambda: sweep(base, levs, margins, stops, ex, cb))
    else:
        result = guarded(lambda: sweep(base, levs, margins, stops, ex))
    if not as_json:
        t = Table(title=f"P(liquidation within {horizon} bars) — {paths} {generator} paths, seed {seed}, {symbol}")
        for c in ("leverage", f"margin {asset}", "stop", "P(liq)", "P(stop)", "median liq bar", f"mean loss {asset}"):
            t.add_column(c, justify="right")
        for run in result["runs"]:
            p = run["params"]
            med = run["liquidation_bar"]["p50"] if run["liquidation_bar"] else None
            t.add_row(
                str(p["leverage"]),
                p["margin"],
                str(p["stop"]),
                f"{run['p_liquidation']:.1%}",
                f"{run['p_stopped']:.1%}",
                "—" if med is None else f"{med:.0f}",
                f"{run['mean_loss']:.8f}" if spec.inverse else f"{run['mean_loss']:.2f}",
            )
        out.print(t)
    _emit(result, as_json, json_out, report)


if __name__ == "__main__":
    app()
