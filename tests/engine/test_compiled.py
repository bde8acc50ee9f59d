"""The compiled engine (mypyc, tools/build_engine.py) against the pure one, and the loader that picks between them.

- One seeded stream of mixed commands (quotes, takers of every kind, stops, take-profits, trailing stops,
  cancels, amends, marks that move and gap far enough to liquidate, funding, margin and settings changes, some
  invalid on purpose) runs in two fresh interpreters, one forced pure (ISOMARGIN_PURE=1) and one on the
  compiled build: every event's `to_dict()` and `raw()` as JSON must be byte-identical, and so must the final
  `state_hash`. Skipped only when there is no compiled build (no C compiler: `make` said so in one line).
- The loader: ISOMARGIN_PURE=1 runs the .py modules silently; no build is silent too; a build whose sources
  changed since (an edited copy of the package), whose manifest lies (a fake digest), that was built for
  another Python or that lacks files is refused with exactly one line on stderr and the engine runs pure.

Run directly (`python tests/engine/test_compiled.py run N SEED OUT`) it writes one stream's events to OUT and
prints a JSON summary; that is what the subprocesses do.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "isomargin"
MANIFEST = PACKAGE / "engine" / "_compiled" / "BUILD.json"
STATUS = ROOT / "build" / "engine-build.txt"
COMMANDS = 4000
SEED = 20240611
HOT = {f"isomargin.engine.{m}" for m in ("engine", "book", "ledger", "orders", "positions", "trading", "health")}


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_engine", ROOT / "tools" / "build_engine.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------------ the stream
def mixed_stream(n: int, seed: int) -> list[Any]:
    """Set-up plus `n` commands, a pure function of the seed (it never asks the engine anything)."""
    from isomargin.engine import (
        AdjustMargin,
        AmendOrder,
        CancelAllOrders,
        CancelOrder,
        CreateAccount,
        Deposit,
        FundInsurance,
        ListInstrument,
        MarginMode,
        OrderSide,
        OrderType,
        PlaceOrder,
        PositionSide,
        SetLeverage,
        SetMarginMode,
        SetMarkPrice,
        SetPositionMode,
        SettleFunding,
        TimeInForce,
        Withdraw,
        WorkingType,
    )

    rng = random.Random(seed)
    buy, sell = OrderSide.BUY, OrderSide.SELL
    symbols = ("BTCUSDT", "ETHUSDT")
    tick = {"BTCUSDT": Decimal("0.1"), "ETHUSDT": Decimal("0.01")}
    base = {"BTCUSDT": 600_000, "ETHUSDT": 300_000}  # ticks: 60,000.0 and 3,000.00
    unit_ticks = {"BTCUSDT": 300, "ETHUSDT": 150}  # about 0.05 % of the mark
    lot = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.02")}  # one "unit" is worth about 60 USDT
    makers, traders = (1, 2), tuple(range(3, 11))
    hedged = {5, 8}
    mark = dict(base)
    live: list[tuple[int, str, str, OrderSide]] = []  # (account, symbol, client id, side) of passive orders
    out: list[Any] = []
    clock = iter(range(1, 1 << 62))

    def ts() -> int:
        return next(clock)

    def price(symbol: str, units: int) -> Decimal:
        return max(1, mark[symbol] + units * unit_ticks[symbol]) * tick[symbol]

    def qty(symbol: str, units: int) -> Decimal:
        return units * lot[symbol]

    def pside(account: int, side: OrderSide, closing: bool = False) -> PositionSide:
        if account not in hedged:
            return PositionSide.BOTH
        return PositionSide.LONG if (side is buy) != closing else PositionSide.SHORT

    for sym in symbols:
        out.append(ListInstrument(sym, venue="binance", ts=ts()))
    out.append(FundInsurance("USDT", Decimal(3000), ts=ts()))
    for a in makers + traders:
        out.append(CreateAccount(a, hedge_mode=a in hedged, ts=ts()))
        cash = 5_000_000 if a in makers else rng.choice([2_000, 5_000, 20_000, 60_000])
        out.append(Deposit(a, "USDT", Decimal(cash), ts=ts()))
        for sym in symbols:
            if a in traders and rng.random() < 0.6:
                out.append(SetMarginMode(a, sym, MarginMode.ISOLATED, ts=ts()))
            lev = 10 if a in makers else rng.choice([5, 10, 20, 50, 75, 100])
            out.append(SetLeverage(a, sym, lev, ts=ts()))
    for sym in symbols:
        out.append(SetMarkPrice(sym, mark[sym] * tick[sym], ts=ts()))

    for i in range(n):
        r = rng.random()
        sym = rng.choice(symbols)
        side = rng.choice((buy, sell))
        trader = rng.choice(traders)
        if r < 0.22:  # a maker quotes behind the mark (sometimes post-only)
            m, cid = rng.choice(makers), f"q{i}"
            p, q = price(sym, -side * rng.randint(0, 8)), qty(sym, rng.randint(2, 30))
            tif = TimeInForce.GTX if rng.random() < 0.2 else TimeInForce.GTC
            live.append((m, sym, cid, side))
            out.append(PlaceOrder(m, sym, side, OrderType.LIMIT, q, p, tif=tif, client_order_id=cid, ts=ts()))
        elif r < 0.25:  # a maker pulls its quotes on one market
            m = rng.choice(makers)
            live = [o for o in live if o[:2] != (m, sym)]
            out.append(CancelAllOrders(m, sym, ts=ts()))
        elif r < 0.39:  # a trader takes: market, or a limit through the mark (IOC, FOK or GTC)
            q = qty(sym, rng.randint(1, 25))
            ps = pside(trader, side, closing=rng.random() < 0.25)
            if rng.random() < 0.5:
                out.append(PlaceOrder(trader, sym, side, OrderType.MARKET, q, position_side=ps, ts=ts()))
            else:
                p = price(sym, side * rng.randint(0, 4))
                tif = rng.choice([TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTC])
                out.append(PlaceOrder(trader, sym, side, OrderType.LIMIT, q, p, tif=tif, position_side=ps, ts=ts()))
        elif r < 0.43:  # reduce-only market (one-way accounts) or close-position stop
            ps = pside(trader, side, closing=True)
            if ps is PositionSide.BOTH and rng.random() < 0.6:
                q = qty(sym, rng.randint(1, 40))
                out.append(PlaceOrder(trader, sym, side, OrderType.MARKET, q, reduce_only=True, ts=ts()))
            else:
                stop = price(sym, side * rng.randint(1, 10))
                out.append(PlaceOrder(trader, sym, side, OrderType.STOP_MARKET, stop_price=stop, close_position=True,
                                      position_side=ps, ts=ts()))  # fmt: skip
        elif r < 0.51:  # conditional orders: stops, take-profits (market and limit), trailing stops
            kind = rng.choice([OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_MARKET,
                               OrderType.TAKE_PROFIT_LIMIT, OrderType.TRAILING_STOP_MARKET])  # fmt: skip
            q = qty(sym, rng.randint(1, 20))
            working = rng.choice([WorkingType.MARK_PRICE, WorkingType.CONTRACT_PRICE])
            ro = rng.random() < 0.3
            ps, cid = pside(trader, side, closing=ro), f"s{i}"
            if kind is OrderType.TRAILING_STOP_MARKET:
                rate = Decimal(rng.choice(["0.1", "0.5", "1", "2.5", "5"]))
                act = None if rng.random() < 0.5 else price(sym, rng.randint(-4, 4))
                out.append(PlaceOrder(trader, sym, side, kind, q, callback_rate=rate, activation_price=act,
                                      reduce_only=ro, position_side=ps, working_type=working, client_order_id=cid,
                                      ts=ts()))  # fmt: skip
            else:
                stop = price(sym, rng.randint(-8, 8))
                limit = price(sym, rng.randint(-8, 8)) if kind.limit_after_trigger else None
                out.append(PlaceOrder(trader, sym, side, kind, q, limit, stop_price=stop, reduce_only=ro,
                                      position_side=ps, working_type=working, client_order_id=cid,
                                      ts=ts()))  # fmt: skip
            live.append((trader, sym, cid, side))
        elif r < 0.61:  # cancel: a known client id, or an order id that may not exist
            if live and rng.random() < 0.8:
                a, s, cid, _ = live.pop(rng.randrange(len(live)))
                out.append(CancelOrder(a, s, client_order_id=cid, ts=ts()))
            else:
                a, oid = rng.choice(makers + traders), rng.randint(1, 2 * i + 10)
                out.append(CancelOrder(a, sym, order_id=oid, ts=ts()))
        elif r < 0.68 and live:  # amend a new quantity or a new price on the same side
            a, s, cid, d = live[rng.randrange(len(live))]
            if rng.random() < 0.5:
                out.append(AmendOrder(a, s, client_order_id=cid, qty=qty(s, rng.randint(1, 30)), ts=ts()))
            else:
                out.append(AmendOrder(a, s, client_order_id=cid, price=price(s, -d * rng.randint(0, 8)), ts=ts()))
        elif r < 0.84:  # the mark walks (±0.4 %), sometimes with an index price
            mark[sym] += rng.randint(-80, 80) * mark[sym] // 20_000
            index = mark[sym] * tick[sym] if rng.random() < 0.3 else None
            out.append(SetMarkPrice(sym, mark[sym] * tick[sym], index, ts=ts()))
        elif r < 0.86:  # a gap of 2..9 %, back towards the base once far from it: liquidations
            away = mark[sym] - base[sym]
            direction = side if abs(away) <= base[sym] // 8 else (-1 if away > 0 else 1)
            mark[sym] += direction * rng.randint(20, 90) * mark[sym] // 1000
            out.append(SetMarkPrice(sym, mark[sym] * tick[sym], ts=ts()))
        elif r < 0.89:
            rate = Decimal(rng.choice(["0.0001", "0.0005", "0.001", "0.003", "-0.0002", "-0.001", "-0.003"]))
            out.append(SettleFunding(sym, rate, ts=ts()))
        elif r < 0.91:
            amount = Decimal(rng.choice(["50", "200", "1000", "-50", "-300", "0"]))
            out.append(AdjustMargin(trader, sym, amount, pside(trader, side), ts=ts()))
        elif r < 0.92:
            amount = Decimal(rng.choice(["100", "2500", "0.5"]))
            kind_ = Deposit if rng.random() < 0.5 else Withdraw
            out.append(kind_(trader, "USDT", amount, ts=ts()))
        elif r < 0.93:
            out.append(SetLeverage(trader, sym, rng.choice([5, 10, 20, 50, 125, 0]), ts=ts()))
        elif r < 0.94:
            out.append(SetMarginMode(trader, sym, rng.choice([MarginMode.ISOLATED, MarginMode.CROSS]), ts=ts()))
        elif r < 0.945:
            out.append(SetPositionMode(trader, trader not in hedged, ts=ts()))  # mostly refused: positions open
        elif r < 0.95:
            out.append(FundInsurance("USDT", Decimal(rng.choice([100, 500])), ts=ts()))
        else:  # a trader's passive limit
            cid = f"p{i}"
            p, q = price(sym, -side * rng.randint(1, 10)), qty(sym, rng.randint(1, 15))
            live.append((trader, sym, cid, side))
            out.append(PlaceOrder(trader, sym, side, OrderType.LIMIT, q, p, position_side=pside(trader, side),
                                  client_order_id=cid, ts=ts()))  # fmt: skip
    return out + spot_stream(max(50, n // 10), rng) + option_stream(max(50, n // 10), rng)


def option_stream(n: int, rng: random.Random) -> list[Any]:
    """Isolated options on BTC-USD (coin-margined) for the same accounts: quotes and takers on a call and a put,
    index and mark walks and jumps (partial and full liquidations), IV marks, margin moves, then expiry."""
    from isomargin.engine.commands import (
        AdjustOptionMargin,
        CancelOptionOrder,
        Deposit,
        ListOption,
        OrderSide,
        PlaceOptionOrder,
        SetMarkPrice,
        SetOptionVol,
        SettleOptions,
    )

    expiry = 1_798_185_600_000
    syms = ("BTC-USD-261225-100000-C", "BTC-USD-261225-90000-P")
    out: list[Any] = [ListOption(s, ts=0) for s in syms]
    out += [Deposit(a, "BTC", Decimal(rng.choice([5, 20, 100])), ts=0) for a in range(1, 11)]
    index, marks = 95_000, {syms[0]: 300, syms[1]: 250}  # premiums in 10⁻⁴ BTC
    out.append(SetMarkPrice("BTC-USD", Decimal(index), ts=0))
    for s in syms:
        out.append(SetMarkPrice(s, Decimal(marks[s]) / 10_000, ts=0))
    for i in range(n):
        s = rng.choice(syms)
        a = rng.randrange(1, 11)
        r = rng.random()
        side = rng.choice((OrderSide.BUY, OrderSide.SELL))
        if r < 0.45:
            p = max(1, marks[s] + rng.randint(-10, 10))
            p = p if p <= 50 else p - p % 5  # OKX's coarser tick above 0.005
            out.append(PlaceOptionOrder(a, s, side, Decimal(rng.randint(1, 400)), Decimal(p) / 10_000,
                                        client_order_id=f"o{i}", ts=i))  # fmt: skip
        elif r < 0.55:
            out.append(CancelOptionOrder(a, s, client_order_id=f"o{rng.randrange(i + 1)}", ts=i))
        elif r < 0.75:
            index = max(20_000, index + rng.randint(-40, 40) * 100)
            out.append(SetMarkPrice("BTC-USD", Decimal(index), ts=i))
        elif r < 0.9:
            marks[s] = max(5, marks[s] + rng.choice((-1, 1)) * rng.randint(1, 120))
            out.append(SetMarkPrice(s, Decimal(marks[s]) / 10_000, ts=i))
        elif r < 0.95:
            out.append(SetOptionVol(s, Decimal(rng.choice(["0.4", "0.8", "1.5"])), ts=i))
        else:
            out.append(AdjustOptionMargin(a, s, Decimal(rng.choice(["0.05", "-0.01", "1"])), ts=i))
    out.append(SettleOptions("BTC-USD", expiry, Decimal(rng.randint(80_000, 110_000)), ts=expiry))
    return out


def spot_stream(n: int, rng: random.Random) -> list[Any]:
    """Spot and isolated spot-margin commands on BTC-USDT for the same accounts: quotes, margin buys and sells
    with side effects, transfers, borrows and repays, interest hours, mark walks and gaps (liquidations)."""
    from isomargin.engine.commands import (
        AccrueInterest,
        Borrow,
        CancelSpotOrder,
        Deposit,
        ListSpotPair,
        MarginTransfer,
        OrderSide,
        OrderType,
        PlaceSpotOrder,
        Repay,
        SetBorrowRate,
        SetMarkPrice,
        SideEffect,
        TimeInForce,
    )

    pair, hour = "BTC-USDT", 3_600_000
    out: list[Any] = [ListSpotPair(pair, venue="binance", ts=0), SetMarkPrice(pair, Decimal(60000), ts=0)]
    for m in (1, 2):
        out.append(Deposit(m, "BTC", Decimal(50), ts=0))
    mark = 60000
    for i in range(n):
        ts = (i // 10) * hour // 3 + i  # about three commands an hour of interest
        a = rng.randrange(3, 11)
        r = rng.random()
        side = rng.choice((OrderSide.BUY, OrderSide.SELL))
        if r < 0.25:
            m = rng.choice((1, 2))
            p = Decimal(mark + (-int(side)) * rng.randint(0, 40) * 10)
            out.append(PlaceSpotOrder(m, pair, side, OrderType.LIMIT, Decimal(rng.randint(1, 30)) / 1000, p,
                                      client_order_id=f"sq{i}", ts=ts))  # fmt: skip
        elif r < 0.35:
            out.append(MarginTransfer(a, pair, "USDT", Decimal(rng.choice([200, 1000, -100, -5000])), ts=ts))
        elif r < 0.45:
            asset = rng.choice(("USDT", "BTC"))
            amount = Decimal(rng.choice(["500", "3000", "0.01", "0.05"]))
            out.append(Borrow(a, pair, asset, amount, ts=ts))
        elif r < 0.62:
            effect = rng.choice(list(SideEffect))
            kind = rng.choice((OrderType.MARKET, OrderType.LIMIT))
            p = None if kind is OrderType.MARKET else Decimal(mark + int(side) * rng.randint(0, 20) * 10)
            tif = rng.choice((TimeInForce.GTC, TimeInForce.IOC)) if p is not None else TimeInForce.GTC
            out.append(PlaceSpotOrder(a, pair, side, kind, Decimal(rng.randint(1, 20)) / 1000, p, tif=tif,
                                      isolated=True, side_effect=effect, ts=ts))  # fmt: skip
        elif r < 0.7:
            out.append(Repay(a, pair, rng.choice(("USDT", "BTC")), rng.choice([None, Decimal(100)]), ts=ts))
        elif r < 0.74:
            out.append(CancelSpotOrder(rng.choice((1, 2)), pair, client_order_id=f"sq{rng.randrange(i + 1)}", ts=ts))
        elif r < 0.9:
            mark = max(1000, mark + rng.randint(-60, 60) * 10)
            out.append(SetMarkPrice(pair, Decimal(mark), ts=ts))
        elif r < 0.94:
            mark = max(1000, mark + rng.choice((-1, 1)) * rng.randint(30, 90) * mark // 1000)
            out.append(SetMarkPrice(pair, Decimal(mark), ts=ts))
        elif r < 0.97:
            out.append(AccrueInterest(ts=ts))
        else:
            out.append(SetBorrowRate(pair, rng.choice(("USDT", "BTC")), Decimal(rng.choice(["0.0002", "0.001"])),
                                     ts=ts))  # fmt: skip
    return out


def run_stream(n: int, seed: int, out: Path) -> dict[str, Any]:
    """Apply the stream on a fresh engine, one JSON line per command; returns a summary."""
    import isomargin.engine as engine_pkg
    from isomargin.engine import Engine, state_hash

    engine = Engine()
    kinds: Counter[str] = Counter()
    with out.open("w") as f:
        for cmd in mixed_stream(n, seed):
            events = engine.apply(cmd)
            kinds.update(type(e).__name__ for e in events)
            kinds.update(f"Liquidated:{getattr(e, 'step', '')}" for e in events if type(e).__name__ == "Liquidated")
            line = [[e.to_dict(), e.raw()] for e in events]
            f.write(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n")
    modules = {
        name: getattr(mod, "__file__", "") or ""
        for name, mod in sys.modules.items()
        if name.startswith("isomargin.engine.") and not name.startswith("isomargin.engine._compiled")
    }
    return {
        "build": engine_pkg.BUILD,
        "detail": engine_pkg.BUILD_DETAIL,
        "compiled": sorted(n for n, f in modules.items() if f.endswith((".so", ".pyd"))),
        "pure": sorted(n for n, f in modules.items() if f.endswith(".py")),
        "state_hash": state_hash(engine),
        "events": dict(kinds),
    }


# ------------------------------------------------------------------------------------------------- helpers
def _env(pure: bool, pythonpath: Path = ROOT / "src") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ISOMARGIN_PURE", "PYTHONPATH")}
    env["PYTHONPATH"] = str(pythonpath)
    env["PYTHONHASHSEED"] = "0"  # both interpreters alike: only the build differs
    if pure:
        env["ISOMARGIN_PURE"] = "1"
    return env


def _probe(env: dict[str, str], cwd: Path) -> tuple[dict[str, Any], str]:
    """BUILD, BUILD_DETAIL and where the engine modules came from, in a fresh interpreter; and its stderr."""
    code = (
        "import json, sys, isomargin.engine as e, isomargin.engine.engine, isomargin.engine.book\n"
        "mods = {n: m.__file__ for n, m in sys.modules.items() if n.startswith('isomargin.engine.')"
        " and not n.startswith('isomargin.engine._compiled')}\n"
        "print(json.dumps({'build': e.BUILD, 'detail': e.BUILD_DETAIL, 'files': mods}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout), run.stderr


def _copy_package(dest: Path, with_build: bool) -> Path:
    """A copy of src/isomargin under dest/src (with or without its compiled build); returns dest/src."""
    ignore = ["__pycache__", "_compiled.*"] + ([] if with_build else ["_compiled"])
    shutil.copytree(PACKAGE, dest / "src" / "isomargin", ignore=shutil.ignore_patterns(*ignore))
    return dest / "src"


def _current_build() -> str | None:
    """None when a compiled build of the sources on disk exists, else why not (the tool's own check)."""
    return _tool().current(PACKAGE)  # type: ignore[no-any-return]


def _no_build_reason() -> str:
    last = STATUS.read_text().strip() if STATUS.is_file() else "tools/build_engine.py has not run here"
    return f"no compiled engine build in src/isomargin/engine/_compiled (last build: {last})"


needs_build = pytest.mark.skipif(not MANIFEST.is_file(), reason=_no_build_reason())


# --------------------------------------------------------------------------------------------------- tests
@needs_build
def test_compiled_and_pure_engines_agree_on_a_mixed_stream(tmp_path: Path) -> None:
    assert _current_build() is None, f"the compiled build is stale ({_current_build()}): run `make engine`"
    runs = {}
    for mode in ("pure", "compiled"):
        out = tmp_path / f"{mode}.jsonl"
        cmd = [sys.executable, __file__, "run", str(COMMANDS), str(SEED), str(out)]
        runs[mode] = (out, subprocess.Popen(cmd, env=_env(mode == "pure"), cwd=tmp_path, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True))  # fmt: skip
    summary = {}
    for mode, (_, proc) in runs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{mode} run failed:\n{stderr}"
        assert stderr == "", f"{mode} run wrote to stderr:\n{stderr}"
        summary[mode] = json.loads(stdout)
    pure, compiled = summary["pure"], summary["compiled"]
    assert pure["build"] == "pure" and compiled["build"] == "compiled", (pure["detail"], compiled["detail"])
    assert pure["compiled"] == [] and len(pure["pure"]) >= 20, pure
    manifest = json.loads(MANIFEST.read_text())
    left = {f"isomargin.engine.{m}" for m in manifest["pure"]}  # tools/build_engine.py's PURE
    assert set(compiled["compiled"]) >= HOT and not left & set(compiled["compiled"]), compiled
    assert set(compiled["pure"]) <= left, compiled

    # The stream does what it is for: trades, triggers, cancels, amends, liquidations, funding, rejections.
    events = pure["events"]
    for kind, at_least in {"Trade": 500, "OrderUpdated": 2000, "Rejected": 100, "Liquidated": 10,
                           "FundingPaid": 20, "Posted": 1000, "PositionUpdated": 500, "SpotTrade": 20,
                           "Borrowed": 5, "InterestCharged": 5, "SpotOrderUpdated": 50, "OptionTrade": 20,
                           "OptionLiquidated": 2, "OptionSettled": 5}.items():  # fmt: skip
        assert events.get(kind, 0) >= at_least, f"the stream produced {events.get(kind, 0)} {kind}: {events}"

    a, b = (runs[m][0].read_bytes() for m in ("pure", "compiled"))
    if a != b:
        for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False)):
            assert x == y, f"command {n}: the builds' events differ\npure:     {x[:2000]!r}\ncompiled: {y[:2000]!r}"
        raise AssertionError(f"outputs differ in length: {len(a.splitlines())} vs {len(b.splitlines())} lines")
    assert pure["state_hash"] == compiled["state_hash"]
    assert pure["events"] == compiled["events"]


def test_isomargin_pure_forces_the_python_modules(tmp_path: Path) -> None:
    info, stderr = _probe(_env(pure=True), tmp_path)
    assert info["build"] == "pure" and info["detail"] == "ISOMARGIN_PURE is set"
    assert info["files"] and all(f.endswith(".py") for f in info["files"].values()), info["files"]
    assert all(str(PACKAGE / "engine") == os.path.dirname(f) for f in info["files"].values())
    assert stderr == ""


def test_no_build_runs_pure_silently(tmp_path: Path) -> None:
    src = _copy_package(tmp_path, with_build=False)
    info, stderr = _probe(_env(pure=False, pythonpath=src), tmp_path)
    assert (info["build"], info["detail"]) == ("pure", "no compiled build")
    assert all(f.startswith(str(src)) and f.endswith(".py") for f in info["files"].values())
    assert stderr == ""


@needs_build
def test_the_build_is_used_when_current_and_refused_once_a_source_changes(tmp_path: Path) -> None:
    assert _current_build() is None, f"the compiled build is stale ({_current_build()}): run `make engine`"
    src = _copy_package(tmp_path, with_build=True)
    info, stderr = _probe(_env(pure=False, pythonpath=src), tmp_path)
    assert info["build"] == "compiled" and stderr == "", (info, stderr)
    shims = src / "isomargin" / "engine" / "_compiled" / "isomargin" / "engine"
    left = {f"isomargin.engine.{m}" for m in json.loads(MANIFEST.read_text())["pure"]}
    for name, file in info["files"].items():  # the copy's own build, real files: the build is relocatable
        where = src / "isomargin" / "engine" if name in left else shims
        assert Path(file).parent == where and Path(file).is_file(), (name, file)

    with (src / "isomargin" / "engine" / "units.py").open("a") as f:
        f.write("\n# edited after the build\n")
    info, stderr = _probe(_env(pure=False, pythonpath=src), tmp_path)
    assert info["build"] == "pure" and "sources changed since the build" in info["detail"]
    assert all(f.endswith(".py") for f in info["files"].values())
    assert len(stderr.splitlines()) == 1 and "sources changed since the build" in stderr, stderr
    assert _tool().current(src / "isomargin") == "sources changed"  # the tool agrees: `make` rebuilds

    info, stderr = _probe(_env(pure=True, pythonpath=src), tmp_path)  # forcing pure skips the check: no warning
    assert info["build"] == "pure" and stderr == ""


def _fake_build(src: Path, **changes: Any) -> None:
    """A manifest for the copy's own sources (correct digest) without any compiled files, then `changes`."""
    tool = _tool()
    package = src / "isomargin"
    files = tool.hashed_sources(package)
    info = {"format": tool.FORMAT, "digest": tool.digest(package, files), "sources": files,
            "modules": tool.engine_modules(package), "compiled": tool.compiled_modules(package),
            "pure": sorted(tool.PURE), "ext_suffix": tool.ext_suffix()}  # fmt: skip
    info.update(changes)
    out = package / "engine" / "_compiled"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    (out / "BUILD.json").write_text(json.dumps(info))


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"digest": "0" * 64}, "sources changed since the build"),
        ({"ext_suffix": ".cpython-399-x86_64-linux-gnu.so"}, "it was built for .cpython-399"),
        ({"modules": ["engine"]}, "engine modules added or removed since the build"),
        ({"format": 99}, "unknown manifest format"),
        ({}, "incomplete build"),
    ],
)
def test_an_unusable_build_is_refused_with_one_line(tmp_path: Path, changes: dict[str, Any], why: str) -> None:
    src = _copy_package(tmp_path, with_build=False)
    _fake_build(src, **changes)
    info, stderr = _probe(_env(pure=False, pythonpath=src), tmp_path)
    assert info["build"] == "pure" and why in info["detail"], info
    assert all(f.endswith(".py") for f in info["files"].values())
    assert len(stderr.splitlines()) == 1 and why in stderr and "pure-Python engine" in stderr, stderr


def test_the_tool_and_the_loader_hash_alike() -> None:
    import isomargin.engine as engine_pkg

    tool = _tool()
    files = tool.hashed_sources(PACKAGE)
    assert "engine/engine.py" in files and "engine/__init__.py" not in files and "margin/tiers.py" in files
    assert tool.digest(PACKAGE, files) == engine_pkg._digest(str(PACKAGE), files)
    assert engine_pkg.BUILD in ("compiled", "pure")


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        print(json.dumps(run_stream(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))))
    else:
        sys.exit("usage: python tests/engine/test_compiled.py run N SEED OUT")
