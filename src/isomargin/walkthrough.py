"""`isomargin calc examples`: the seeds' worked examples, computed by the calculators.

Each step prints the inputs, the figure, and where the figure comes from, so a reader can check it.
"""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from isomargin.margin import (
    Side,
    atr_stop,
    bankruptcy_price,
    maintenance_margin_ratio,
    plain,
    plan_position,
)
from isomargin.margin.errors import MarginError
from isomargin.venues import get_profile


def _two(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.quantize(Decimal('0.01')):,}"


def run(console: Console) -> None:
    console.print(
        Panel.fit("[bold]isomargin[/] — the seeds' isolated-margin examples, computed exactly", border_style="cyan")
    )

    # 1. The seeds' formula and the Binance convention for the same position.
    simple, binance = get_profile("simple"), get_profile("binance")
    table = Table(title="1. 10× long 1 BTC at 65,000 with 6,500 isolated margin", title_justify="left")
    for col in ("venue", "maintenance", "liquidation price", "bankruptcy"):
        table.add_column(col, justify="right")
    q = simple.liquidation_price(simple.spec("BTCUSDT"), Side.LONG, "1", "65000", "6500")
    table.add_row("simple (seeds: 65,000 × 0.905)", "0.5 % of entry value", _two(q.price), _two(q.bankruptcy))
    b_spec = binance.spec("BTCUSDT")
    qb = binance.liquidation_price(b_spec, Side.LONG, "1", "65000", "6500")
    table.add_row(
        "binance (MM on mark, its bracket)", f"{plain(qb.rate * 100)} % − cum", _two(qb.price), _two(qb.bankruptcy)
    )
    console.print(table)

    # 2. Isolated loss cap: 500 USDT at 10× on BTC.
    spec = simple.spec("BTCUSDT")
    plan = plan_position(
        Side.LONG, "10000", "0.05", "10", "65000", spec.table, step=spec.step_size, mm_basis=simple.mm_basis
    )
    console.print(
        f"2. 500 USDT isolated at 10× on BTC at 65,000 buys {plain(plan.size)} BTC "
        f"({_two(plan.notional)} notional). It is liquidated at {_two(plan.liquidation_price)}; "
        f"the most it can lose is its margin, {_two(plan.margin)} — the other 9,500 USDT never pay for it."
    )

    # 3. The seeds' sizing framework: 2 % of 10,000 and a stop inside the liquidation price.
    plan = plan_position(
        Side.LONG,
        "10000",
        "0.02",
        "5",
        "65000",
        spec.table,
        step=spec.step_size,
        stop="62000",
        mm_basis=simple.mm_basis,
    )
    console.print(
        f"3. Risk 2 % of 10,000 → {_two(plan.margin)} margin; at 5× that is {plain(plan.size)} BTC. "
        f"Liquidation {_two(plan.liquidation_price)}, stop 62,000 sits between it and entry; "
        f"loss at the stop {_two(plan.loss_at_stop)}, worst case {_two(plan.margin)}."
    )

    # 4. ATR: the same 2×ATR stop fits BTC (1.5 % ATR) at 20× but not SOL (4 % ATR).
    for name, entry, atr in (("BTC", "65000", "0.015"), ("SOL", "150", "0.04")):
        stop = atr_stop(Side.LONG, entry, atr, 2)
        try:
            plan_position(Side.LONG, "10000", "0.02", "20", entry, spec.table, stop=stop, mm_basis=simple.mm_basis)
            verdict = "fits inside the liquidation price"
        except MarginError as exc:
            verdict = f"refused — {exc.message}"
        console.print(f"4. {name}: ATR {plain(Decimal(atr) * 100)} %, 2×ATR stop {_two(stop)} at 20×: {verdict}")

    # 5. Adding margin moves the liquidation price away; nothing else changes.
    before = simple.liquidation_price(spec, Side.LONG, "1", "65000", "6500").price
    after = simple.liquidation_price(spec, Side.LONG, "1", "65000", "8000").price
    console.print(f"5. Add 1,500 USDT to that 10× long: liquidation {_two(before)} → {_two(after)}.")

    # 6. OKX maintenance margin ratio, the seeds' short BTC example at mark 29,000.
    ratio = maintenance_margin_ratio("95300", "128180", "333.27")
    console.print(
        f"6. OKX short example: margin balance 95,300 / (MM 128,180 + liquidation fee 333.27) = "
        f"{_two(ratio * 100)} % → at or below 100 %: orders cancelled, then (partial) liquidation."
    )
    bust = bankruptcy_price(Side.LONG, "1", "65000", "6500")
    console.print(f"   (for scale: the 10× long of step 1 is bankrupt at {_two(bust)}, where its margin is gone.)")
    console.print(
        "\nTry: [bold]isomargin calc liq --venue binance --symbol BTCUSDT --side long --entry 65000 "
        "--qty 1 --leverage 10[/]"
    )
