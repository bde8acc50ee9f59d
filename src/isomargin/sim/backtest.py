"""Backtests and stress runs: a strategy or a book of positions through the engine along a path.

`run_backtest` drives one strategy account (perpetual, spot margin, or options); `compare_modes` runs it isolated and
cross side by side; `run_stress` opens a book of positions (many accounts, leverages, sides) and walks a stress
path. All three return plain dicts (see results.py) ready for `--json` and the HTML report.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from isomargin.engine import MarginMode, OrderSide, OrderType, PlaceOrder, queries, spot_queries
from isomargin.sim.errors import SimError
from isomargin.sim.market import MarketConfig
from isomargin.sim.options_leg import OptionsDesk, OptionsSetup, options_outcome
from isomargin.sim.paths import Bars, FundingSeries
from isomargin.sim.results import downsample, drawdown, episode_dict, worst
from isomargin.sim.runner import Simulation
from isomargin.sim.spot import SpotMargin
from isomargin.sim.strategy import Context, Strategy

ZERO = Decimal(0)
TRADER = 1
CURVE_POINTS = 2000


def margin_mode(name: str) -> MarginMode:
    try:
        return MarginMode(name.strip().upper())
    except ValueError:
        raise SimError("bad_margin_mode", f"margin mode must be isolated or cross, got {name!r}") from None


@dataclass(frozen=True)
class BacktestConfig:
    symbol: str = "BTCUSDT"
    leverage: int = 10
    margin_mode: str = "isolated"
    deposit: Decimal | None = None  # in the symbol's settle asset; None: 10,000 USDT, or 1 coin for an inverse symbol
    market: MarketConfig = field(default_factory=MarketConfig)
    curve_points: int = CURVE_POINTS
    product: str = "perp"  # perp | spot-margin (symbol a spot pair, e.g. BTC-USDT; leverage the strategy's target)
    # | options (symbol an options family, e.g. BTC-USD: the path is its index)
    options: OptionsSetup | None = None  # the options run's family, IV model and quotes (None: the defaults)


PRODUCTS = ("perp", "spot-margin", "options")


def _is_spot(cfg: BacktestConfig, strategy: Strategy, funding: FundingSeries | None) -> bool:
    """Whether the run is spot margin (an options run: refused settings, then False); a product the strategy does
    not trade, or a setting it has no use for, is refused."""
    if cfg.product not in PRODUCTS:
        raise SimError("bad_product", f"product must be one of {', '.join(PRODUCTS)}, got {cfg.product!r}")
    wants = getattr(strategy, "product", "perp")
    if wants != cfg.product:
        raise SimError(
            "wrong_product",
            f"{type(strategy).__name__} trades {wants}, but the run is {cfg.product} (use --product {wants})",
        )
    if cfg.product == "perp":
        return False
    if cfg.product == "options":
        if margin_mode(cfg.margin_mode) is not MarginMode.ISOLATED:
            raise SimError("bad_margin_mode", "options are isolated only: each short has its own pool")
        if funding is not None or cfg.market.funding_rate is not None:
            raise SimError("bad_parameter", "options pay no funding")
        return False
    if margin_mode(cfg.margin_mode) is not MarginMode.ISOLATED:
        raise SimError("bad_margin_mode", "spot margin is isolated only: no cross margin account is simulated")
    if funding is not None or cfg.market.funding_rate is not None:
        raise SimError("bad_parameter", "a spot pair pays no funding: its loans pay hourly interest (--borrow-rate)")
    return True


DEFAULT_DEPOSIT = Decimal(10_000)
DEFAULT_COIN_DEPOSIT = Decimal(1)


def _summary(sim: Simulation, accounts: list[int]) -> dict[str, Any]:
    trades = [t for t in sim.trades if t["account"] in accounts]
    return {
        "trades": len(trades),
        "fees": sum((t["fee"] for t in trades), ZERO),
        "funding": sum((f["amount"] for f in sim.funding_paid if f["account"] in accounts), ZERO),
        "liquidation_steps": sum(1 for x in sim.liquidations if x["account"] in accounts),
        "partial_liquidations": sum(1 for x in sim.liquidations if x["account"] in accounts and x["step"] == "partial"),
        "full_liquidations": sum(1 for x in sim.liquidations if x["account"] in accounts and x["step"] != "partial"),
        "adl_events": len(sim.adl),
        "bad_debt": sum((b["amount"] for b in sim.bad_debt), ZERO),
        "insurance_draws": sim.insurance_draws,
        "insurance_income": sim.insurance_income,
        "insurance_end": sim.insurance(),
        "rejections": len([r for r in sim.rejections if r["account"] in accounts]),
    }


def run_backtest(
    bars: Bars | dict[str, Bars],
    strategy: Strategy,
    config: BacktestConfig | None = None,
    funding: FundingSeries | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """One strategy account through the engine along `bars` (the strategy trades `config.symbol`)."""
    cfg = config or BacktestConfig()
    paths = bars if isinstance(bars, dict) else {cfg.symbol: bars}
    if cfg.symbol not in paths:
        raise SimError("bad_symbol", f"no path for {cfg.symbol}")
    spot = _is_spot(cfg, strategy, funding)
    options = cfg.product == "options"
    if options:
        setup = cfg.options or OptionsSetup(family=cfg.symbol)
        sim = Simulation(cfg.market, {}, options=(paths[cfg.symbol], replace(setup, family=cfg.symbol)))
    elif spot:
        sim = Simulation(cfg.market, {}, spot=paths)
    else:
        sim = Simulation(cfg.market, paths, {cfg.symbol: funding} if funding is not None else None)
    mode = margin_mode(cfg.margin_mode)
    inverse = sim.inverse.get(cfg.symbol, False)
    coin = inverse or options
    deposit = cfg.deposit if cfg.deposit is not None else DEFAULT_COIN_DEPOSIT if coin else DEFAULT_DEPOSIT
    settle = sim.options.family.settle if sim.options is not None else None
    if deposit <= 0:
        asset_name = settle or sim.settle.get(cfg.symbol, "USDT")
        raise SimError("bad_deposit", f"the starting balance must be positive, got {deposit} {asset_name}")
    sim.add_account(TRADER, deposit, {} if spot or options else {s: (mode, cfg.leverage) for s in paths}, settle)
    asset = sim.asset(TRADER)
    ctx = Context(sim, TRADER, cfg.symbol)
    if spot:
        ctx.spot = _spot_account(sim, cfg)
    if options:
        ctx.options = OptionsDesk(sim, TRADER)
    deposit_usd = deposit if spot or options else sim.usd(cfg.symbol, deposit)  # at the first mark
    n = sim.n
    close = sim.bars[cfg.symbol].close
    idx = downsample(n, cfg.curve_points)
    sample = set(idx.tolist())
    ratio: list[tuple[int, float | None]] = []
    segments: list[tuple[int, tuple[float, tuple[tuple[str, float, float], ...]]]] = []
    fund_segments: list[tuple[int, float]] = []
    seen = [-1]
    strategy.on_start(ctx)
    wants = strategy.schedule(ctx)

    def due(i: int) -> int:
        assert wants is not None
        k = int(np.searchsorted(idx, i))
        return min(wants(i), int(idx[k]) if k < len(idx) else n)

    def on_bar(i: int) -> None:
        ctx.i = i
        strategy.on_bar(ctx)
        if sim.version != seen[0]:  # the engine moved: what the equity is made of may have changed
            seen[0] = sim.version
            parts = sim.equity_parts(TRADER)
            if not segments or segments[-1][1] != parts:
                segments.append((i, parts))
            f = float(sim.insurance())
            if not fund_segments or fund_segments[-1][1] != f:
                fund_segments.append((i, f))
        if i in sample:
            ratio.append((i, _margin_ratio(sim, cfg.symbol)))

    sim.run(on_bar, progress, due=None if wants is None else due)
    ctx.i = n - 1
    strategy.on_end(ctx)
    equity = sim.equity_curve(segments)
    mark_close = np.asarray((sim.bars[cfg.symbol].mark or sim.bars[cfg.symbol]).close, dtype=np.float64)
    equity_usd = equity * mark_close if inverse else equity
    fund = _steps(fund_segments, n)
    dd, peak, trough = drawdown(equity)
    episodes = [episode_dict(e, sim) for e in sim.all_episodes() if e.account == TRADER]
    b = sim.bars[cfg.symbol]
    final = sim.equity(TRADER)
    out: dict[str, Any] = {
        "kind": "backtest",
        "strategy": type(strategy).__name__,
        "symbol": cfg.symbol,
        "venue": cfg.market.venue,
        "margin_mode": mode.value.lower(),
        "leverage": cfg.leverage,
        "bars": n,
        "start_ts": int(b.ts[0]),
        "end_ts": int(b.ts[-1]),
        "asset": asset,
        "deposit": deposit,
        "final_equity": final,
        "wallet": queries.wallet(sim.engine, TRADER, asset),
        "return": float((final - deposit) / deposit),
        "max_drawdown": dd,
        "max_drawdown_bars": [peak, trough],
        **_summary(sim, [TRADER]),
        **(_spot_outcome(sim, cfg) if spot else {}),
        **(options_outcome(sim, [TRADER]) if options else {}),
        "worst_loss_fraction_of_margin": worst(episodes),
        "positions": episodes,
        "trades_list": sim.trades,
        "liquidations": sim.liquidations,
        "adl": sim.adl,
        "bad_debt_list": sim.bad_debt,
        "funding_list": sim.funding_paid,
        "margin_calls": sim.margin_calls,
        "stops": sim.stops,
        "gaps": b.gaps,
        "warnings": sim.notes,
        "curve": {
            "bar": idx,
            "ts": b.ts[idx],
            "close": close[idx],
            "low": b.low[idx],
            "high": b.high[idx],
            "equity": equity[idx],
            "insurance": fund[idx],
        },
        "margin_ratio": {"bar": [r[0] for r in ratio], "ratio": [r[1] for r in ratio]},
    }
    if inverse:  # money above is in the coin; the same in USD at the mark (the first mark for the deposit)
        final_usd = sim.usd(cfg.symbol, final)
        out["contract_size"] = sim.instrument(cfg.symbol).spec.contract_size
        out["deposit_usd"] = deposit_usd
        out["final_equity_usd"] = final_usd
        out["final_mark"] = sim.marks[cfg.symbol]
        out["return_usd"] = float((final_usd - deposit_usd) / deposit_usd)
        out["curve"]["equity_usd"] = equity_usd[idx]
        out["max_drawdown_usd"] = drawdown(equity_usd)[0]
    return out


def _steps(segments: list[tuple[int, float]], n: int) -> Any:
    """A per-bar float array from (first bar, value) steps."""
    out = np.zeros(n)
    for k, (start, value) in enumerate(segments):
        stop = segments[k + 1][0] if k + 1 < len(segments) else n
        out[start:stop] = value
    return out


def _spot_account(sim: Simulation, cfg: BacktestConfig) -> SpotMargin:
    account = SpotMargin(sim, TRADER, cfg.symbol, cfg.leverage)
    if not 1 <= cfg.leverage <= account.max_leverage:
        limit = f"leverage 1 to {account.max_leverage} on isolated margin"
        raise SimError("bad_leverage", f"{cfg.symbol} on {cfg.market.venue} takes {limit}, got {cfg.leverage}")
    return account


def _spot_outcome(sim: Simulation, cfg: BacktestConfig) -> dict[str, Any]:
    """A spot-margin run's own figures: interest paid (the first hours charged at borrowing and each hourly
    charge, and how many hours), the loans, every liquidation step, the margin account at the end, and what the
    engine refused."""
    leg = sim.spot
    assert leg is not None
    interest = [x for x in leg.interest if x["account"] == TRADER]
    return {
        "product": cfg.product,
        "interest": sum((x["amount"] for x in interest), ZERO),
        "interest_hours": sum(x["hours"] for x in interest),
        "interest_list": interest,
        "loans_list": [x for x in leg.loans if x["account"] == TRADER],
        "spot_liquidations": [x for x in leg.liquidations if x["account"] == TRADER],
        "margin_account": spot_queries.margin_account(sim.engine, TRADER, cfg.symbol),
        "rejections_list": [x for x in sim.rejections if x["account"] == TRADER],
    }


def _margin_ratio(sim: Simulation, symbol: str) -> float | None:
    """The venue's margin ratio of the trader's position (None when flat); a spot pair's margin level."""
    if sim.spot is not None and symbol in sim.spot.pairs:
        return sim.spot.margin_level(TRADER, symbol)
    if sim.options is not None:
        r = OptionsDesk(sim, TRADER).ratio()
        return None if r is None else float(r)
    view = queries.position(sim.reader(), TRADER, symbol)
    return None if view is None else float(view["margin_ratio"])


def compare_modes(
    bars: Bars | dict[str, Bars],
    make: Callable[[], Strategy],
    config: BacktestConfig | None = None,
    funding: FundingSeries | None = None,
) -> dict[str, Any]:
    """The same strategy and path run isolated and cross; the difference is the cascade."""
    cfg = config or BacktestConfig()
    if cfg.product != "perp":
        raise SimError(
            "bad_parameter", "isolated vs cross compares perpetual margin modes; spot margin and options are isolated"
        )
    runs = {m: run_backtest(bars, make(), replace(cfg, margin_mode=m), funding) for m in ("isolated", "cross")}
    return {
        "kind": "compare",
        "isolated": runs["isolated"],
        "cross": runs["cross"],
        "difference": _difference(runs["isolated"], runs["cross"]),
    }


def _difference(iso: dict[str, Any], cross: dict[str, Any]) -> dict[str, Any]:
    keys: tuple[str, ...] = (
        "final_equity",
        "full_liquidations",
        "partial_liquidations",
        "max_drawdown",
        "insurance_draws",
    )
    if "final_equity_usd" in iso:
        keys = ("final_equity", "final_equity_usd", *keys[1:])
    return {k: {"isolated": iso[k], "cross": cross[k]} for k in keys}


# ============================================================================================ stress books
@dataclass(frozen=True)
class BookEntry:
    account: int
    symbol: str
    side: str  # long | short
    leverage: int
    margin: Decimal
    mode: str = "isolated"
    deposit: Decimal | None = None


def parse_positions(spec: str, default_symbol: str = "BTCUSDT") -> list[BookEntry]:
    """`[ACCOUNT@][SYMBOL:]side:LEVx:MARGIN[:mode]`, comma separated; accounts default to 1, 2, 3, …

    e.g. "long:10x:1000,short:5x:500" or "1@BTCUSDT:long:10x:1000,1@ETHUSDT:long:10x:900"."""
    out = []
    for n, raw in enumerate(p.strip() for p in spec.split(",") if p.strip()):
        acct_s, _, rest = raw.rpartition("@")
        parts = rest.split(":")
        if parts and parts[0].lower() not in ("long", "short"):
            symbol, parts = parts[0].upper(), parts[1:]
        else:
            symbol = default_symbol
        if len(parts) not in (3, 4):
            raise SimError("bad_positions", f"{raw!r}: expected [ACCOUNT@][SYMBOL:]side:LEVx:MARGIN[:mode]")
        side, lev, margin = parts[0].lower(), parts[1].lower().rstrip("x"), parts[2]
        mode = parts[3].lower() if len(parts) == 4 else "isolated"
        try:
            account = int(acct_s) if acct_s else n + 1
            out.append(BookEntry(account, symbol, side, int(lev), Decimal(margin), mode))
        except (ValueError, InvalidOperation):
            raise SimError("bad_positions", f"{raw!r}: account, leverage and margin must be numbers") from None
        _check_entry(out[-1], raw)
    return out


def _check_entry(e: BookEntry, where: str) -> None:
    if e.side not in ("long", "short"):
        raise SimError("bad_positions", f"{where}: side must be long or short")
    if e.leverage < 1 or e.margin <= 0 or e.account < 1:
        raise SimError("bad_positions", f"{where}: leverage ≥ 1, margin > 0 and account ≥ 1 required")
    margin_mode(e.mode)


def load_book(path: str | Path, default_symbol: str = "BTCUSDT") -> list[BookEntry]:
    """A CSV book: account,symbol,side,leverage,margin[,mode][,deposit] (margin and deposit in the symbol's settle
    asset: the coin for an inverse contract); an empty symbol is `default_symbol`."""
    p = Path(path)
    if not p.exists():
        raise SimError("no_such_file", f"{p} does not exist")
    out = []
    with p.open(newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh)):
            r = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            try:
                entry = BookEntry(
                    int(r.get("account") or n + 1),
                    (r.get("symbol") or default_symbol).upper(),
                    r["side"].lower(),
                    int(r["leverage"].rstrip("xX")),
                    Decimal(r["margin"]),
                    r.get("mode") or "isolated",
                    Decimal(r["deposit"]) if r.get("deposit") else None,
                )
            except (KeyError, ValueError, InvalidOperation, AttributeError):
                raise SimError("bad_book", f"{p}: row {n + 2}: needs side, leverage and margin as numbers") from None
            _check_entry(entry, f"{p}: row {n + 2}")
            out.append(entry)
    if not out:
        raise SimError("bad_book", f"{p}: no positions")
    return out


def run_stress(
    bars: dict[str, Bars],
    book: list[BookEntry],
    market: MarketConfig,
    mode: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Open every book position at the path's first price, walk the path, report what happened."""
    for e in book:
        if e.symbol not in bars:
            raise SimError("bad_book", f"the book trades {e.symbol} but the path has only {', '.join(bars)}")
    sim = Simulation(market, bars)
    by_account: dict[int, list[BookEntry]] = {}
    for e in book:
        by_account.setdefault(e.account, []).append(e if mode is None else replace(e, mode=mode))
    for acct, entries in sorted(by_account.items()):
        deposit = max((e.deposit for e in entries if e.deposit is not None), default=None)
        if deposit is None:
            deposit = sum((e.margin for e in entries), ZERO) * Decimal("1.1")
        settings = {e.symbol: (margin_mode(e.mode), e.leverage) for e in entries}
        sim.add_account(acct, deposit, settings)
    for acct, entries in sorted(by_account.items()):
        for e in entries:
            inst = sim.instrument(e.symbol)
            mark = sim.marks[e.symbol]
            # Linear: margin × leverage / mark in the base asset; inverse: the margin is in the coin and the size
            # is face value in USD, margin × leverage × mark, in whole contracts.
            size = e.margin * e.leverage * mark if inst.inverse else e.margin * e.leverage / mark
            lots = (size / inst.step).to_integral_value(rounding=ROUND_FLOOR)
            side = OrderSide.BUY if e.side == "long" else OrderSide.SELL
            if lots > 0:
                sim.apply(PlaceOrder(acct, e.symbol, side, OrderType.MARKET, qty=lots * inst.step, ts=sim.ts))
    opened = {a: sim.equity(a) for a in by_account}
    n = sim.n
    tracked = set(by_account)
    first_sym = next(iter(bars))
    fund_segments: list[tuple[int, float]] = []
    open_segments: list[tuple[int, float]] = []
    seen = [-1]

    def on_bar(i: int) -> None:
        if sim.version == seen[0]:
            return
        seen[0] = sim.version
        f = float(sim.insurance())
        if not fund_segments or fund_segments[-1][1] != f:
            fund_segments.append((i, f))
        count = float(sum(1 for k in sim.open_episodes if k[0] in tracked))
        if not open_segments or open_segments[-1][1] != count:
            open_segments.append((i, count))

    sim.run(on_bar, progress, due=lambda i: n)
    fund = _steps(fund_segments, n)
    first_b = bars[first_sym]
    fund_usd = fund * np.asarray((first_b.mark or first_b).close, dtype=np.float64) if sim.inverse[first_sym] else fund
    open_count = _steps(open_segments, n).astype(np.int64)
    episodes = [episode_dict(e, sim) for e in sim.all_episodes()]
    accounts: list[dict[str, Any]] = []
    sym0 = next(iter(bars))
    inverse = sim.inverse[sym0]
    for acct, entries in sorted(by_account.items()):
        equity = sim.equity(acct)
        mine = [e for e in sim.all_episodes() if e.account == acct]
        isolated_only = all(margin_mode(e.mode) is MarginMode.ISOLATED for e in entries)
        bound = sum((e.allocated + e.wallet_fees for e in mine), ZERO)
        lost = sim.accounts[acct] - equity
        accounts.append(
            {
                "account": acct,
                "deposit": sim.accounts[acct],
                "equity_after_open": opened[acct],
                "equity": equity,
                "loss": lost,
                "isolated_only": isolated_only,
                "loss_bound": bound if isolated_only else None,
                "cap_ok": (lost <= bound) if isolated_only else None,
                "asset": sim.asset(acct),
                **({"equity_usd": sim.usd(sym0, equity)} if inverse else {}),
            }
        )
    first = next(iter(bars.values()))
    idx = downsample(n, CURVE_POINTS)
    liq_bars = sorted({x["bar"] for x in sim.liquidations if x["account"] in tracked})
    return {
        "kind": "stress",
        "venue": market.venue,
        "asset": sim.settle[sym0],
        "mode": mode or "book",
        "symbols": list(bars),
        "bars": n,
        "start_ts": int(first.ts[0]),
        "warnings": sim.notes,
        "positions_opened": len(episodes),
        "liquidated_positions": sum(1 for e in episodes if e["liquidated"]),
        "first_liquidation_bar": liq_bars[0] if liq_bars else None,
        **_summary(sim, list(tracked)),
        "isolated_cap_ok": all(e["isolated_cap_ok"] for e in episodes)
        and all(a["cap_ok"] is not False for a in accounts),
        "worst_loss_fraction_of_margin": worst(episodes),
        "equity_end": sum((a["equity"] for a in accounts), ZERO),
        **({"equity_end_usd": sum((a["equity_usd"] for a in accounts), ZERO)} if inverse else {}),
        "positions": episodes,
        "accounts": accounts,
        "liquidations": sim.liquidations,
        "adl": sim.adl,
        "bad_debt_list": sim.bad_debt,
        "curve": {
            "bar": idx,
            "ts": first.ts[idx],
            "open_positions": open_count[idx],
            "insurance": fund[idx],
            **({"insurance_usd": fund_usd[idx]} if inverse else {}),
            **{f"close:{s}": b.close[idx] for s, b in bars.items()},
            **{f"low:{s}": b.low[idx] for s, b in bars.items()},
            **{f"high:{s}": b.high[idx] for s, b in bars.items()},
        },
    }


def compare_stress(bars: dict[str, Bars], book: list[BookEntry], market: MarketConfig) -> dict[str, Any]:
    runs = {m: run_stress(bars, book, market, mode=m) for m in ("isolated", "cross")}
    keys: tuple[str, ...] = ("liquidated_positions", "full_liquidations", "insurance_draws", "bad_debt", "adl_events")
    keys = (*keys, "equity_end", *(("equity_end_usd",) if "equity_end_usd" in runs["isolated"] else ()))
    return {
        "kind": "compare_stress",
        "isolated": runs["isolated"],
        "cross": runs["cross"],
        "difference": {k: {m: runs[m][k] for m in runs} for k in keys},
    }
