"""`isomargin calc`: venue-exact calculators (liquidation price, margins and ratios, sizing, tier tables)
and the seeds' worked examples. Thin over `isomargin.margin` and `isomargin.venues`; every bad input is one
line and exit code 2 (see `isomargin.cliutil`).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from isomargin.calc_option import calc_option
from isomargin.calc_spot import calc_spot_margin
from isomargin.cliutil import FastCommand, FastGroup, JsonOpt, fmt, guarded, js, out, pct
from isomargin.margin import (
    ContractKind,
    MarginError,
    Side,
    TierTable,
    adjust_isolated_margin,
    break_even_price,
    contracts_of,
    face_value,
    maintenance_margin_ratio,
    margin_balance,
    margin_ratio,
    max_removable_margin,
    notional,
    plain,
    plan_position,
    roe,
    unrealized_pnl,
)
from isomargin.margin.numbers import D, positive
from isomargin.venues import VENUES, SymbolSpec, VenueProfile, get_profile

calc = typer.Typer(cls=FastGroup, help="Venue-exact margin calculators.", no_args_is_help=True)

VenueOpt = Annotated[str, typer.Option("--venue", help=f"Venue profile: {', '.join(VENUES)}.")]
SymbolOpt = Annotated[str | None, typer.Option("--symbol", help="Use the venue's instrument and tier table.")]
MmrOpt = Annotated[str | None, typer.Option("--mmr", help="Explicit maintenance rate instead of a tier table.")]
CumOpt = Annotated[str, typer.Option("--cum", help="Maintenance amount with --mmr (Binance 'cum').")]
SideOpt = Annotated[str, typer.Option("--side", help="long or short.")]
EntryOpt = Annotated[str, typer.Option("--entry", help="Entry price.")]
QtyOpt = Annotated[str | None, typer.Option("--qty", help="Position size in base units (linear contracts).")]
NotionalOpt = Annotated[
    str | None, typer.Option("--notional", help="Position value at entry in the settle asset (instead of --qty).")
]
ContractsOpt = Annotated[
    str | None,
    typer.Option("--contracts", help="Position size in whole contracts (inverse: 1 BTCUSD contract = 100 USD)."),
]
LevOpt = Annotated[str | None, typer.Option("--leverage", help="Leverage; margin = notional / leverage.")]
MarginOpt = Annotated[str | None, typer.Option("--margin", help="Isolated margin allocated to the position.")]
FeeOpt = Annotated[str | None, typer.Option("--taker-fee", help="Taker fee rate where the venue's formula uses it.")]


def resolve(venue: str, symbol: str | None, mmr: str | None, cum: str) -> tuple[VenueProfile, SymbolSpec]:
    """The venue profile and the instrument: the venue's own, or an ad-hoc one from --mmr/--cum."""
    profile = get_profile(venue)
    if mmr is not None:
        table = TierTable.flat(positive(mmr, "mmr"), max_leverage=_max_lev_for(mmr), maint_amount=cum)
        base = profile.spec(symbol) if symbol else None
        if base is None:
            return profile, SymbolSpec(
                symbol="CUSTOM", venue_symbol="CUSTOM", table=table, source="--mmr/--cum given on the command line"
            )
        # The instrument stays the venue's (kind, settle asset, contract and step size); only its rate is replaced.
        return profile, dataclasses.replace(base, table=table, source="--mmr/--cum given on the command line")
    if symbol is None:
        if profile.name == "simple":
            return profile, profile.spec("BTCUSDT")
        raise MarginError("missing_symbol", f"give --symbol (one of {', '.join(profile.symbols)}) or --mmr")
    return profile, profile.spec(symbol)


def _max_lev_for(mmr: str) -> Decimal:
    # With an explicit rate the only leverage bound is that MM stays below IM.
    return (1 / D(mmr, "mmr")).to_integral_value(rounding="ROUND_FLOOR")


def sizing(
    entry: str, qty: str | None, notional_: str | None, contracts: str | None = None, spec: SymbolSpec | None = None
) -> tuple[Decimal, Decimal]:
    """Entry and size from --qty, --notional or --contracts. Linear: size in base units (contracts × contract size).
    Inverse: size is the face value in USD (contracts × contract size); --notional is the value in the coin at entry
    (face = notional × entry); a size off the whole-contract grid is refused."""
    e = positive(entry, "entry price")
    if sum(x is not None for x in (qty, notional_, contracts)) != 1:
        raise MarginError("bad_size", "give exactly one of --qty, --notional or --contracts")
    contract_size = spec.contract_size if spec is not None else Decimal(1)
    if spec is not None and spec.inverse:
        if qty is not None:
            raise MarginError(
                "inverse_size",
                f"{spec.symbol} is inverse (coin-margined): give its size with --contracts "
                f"(1 contract = {plain(contract_size)} USD) or --notional in {spec.settle}, not --qty",
            )
        face = face_value(contracts, contract_size) if contracts is not None else positive(notional_, "notional") * e
        contracts_of(face, contract_size)  # whole contracts only
        return e, face
    if contracts is not None:
        return e, positive(contracts, "contracts") * contract_size
    size = positive(qty, "qty") if qty is not None else positive(notional_, "notional") / e
    return e, size


def margin_and_leverage(value: Decimal, leverage: str | None, margin: str | None) -> tuple[Decimal, Decimal]:
    if leverage is None and margin is None:
        raise MarginError("bad_margin", "give --leverage, --margin, or both")
    lev = positive(leverage, "leverage") if leverage is not None else None
    m = positive(margin, "margin") if margin is not None else value / lev  # type: ignore[operator]
    return m, lev if lev is not None else value / m


def position_inputs(
    side: str,
    entry: str,
    venue: str,
    symbol: str | None,
    mmr: str | None,
    cum: str,
    qty: str | None,
    notional_: str | None,
    leverage: str | None,
    margin: str | None,
    contracts: str | None = None,
) -> tuple[Side, VenueProfile, SymbolSpec, Decimal, Decimal, Decimal, Decimal, Decimal]:
    """Parse and check what `calc liq` and `calc margin` share: side, venue and instrument, entry and size,
    notional, margin and leverage (within the tier's maximum)."""
    s = Side.parse(side)
    profile, spec = resolve(venue, symbol, mmr, cum)
    e, size = sizing(entry, qty, notional_, contracts, spec)
    value = notional(size, e, spec.kind)
    m, lev = margin_and_leverage(value, leverage, margin)
    profile.check_order(spec, size, e, lev)
    return s, profile, spec, e, size, value, m, lev


def instrument_fields(spec: SymbolSpec, size: Decimal) -> dict[str, Any]:
    """What an inverse result adds about the instrument: its kind and settle coin (every money figure is in it), the
    contract size and the size in contracts (`size` is then the face value in USD). Linear results are unchanged."""
    if not spec.inverse:
        return {}
    return {
        "kind": spec.kind,
        "settle": spec.settle,
        "contract_size": spec.contract_size,
        "contracts": size / spec.contract_size,
    }


def money(result: dict[str, Any], key: str) -> str:
    """A money figure of `result` for the table: 2 places in a quote currency, 8 in a coin (inverse contracts)."""
    value = result[key]
    if result.get("kind") is not ContractKind.INVERSE or value is None or value.is_infinite():
        return fmt(value)
    return format(value, ",.8f")  # satoshi places; never "0E-8"


def unit(result: dict[str, Any]) -> str:
    return f" ({result['settle']})" if result.get("kind") is ContractKind.INVERSE else ""


def size_row(result: dict[str, Any]) -> tuple[str, str]:
    if result.get("kind") is ContractKind.INVERSE:
        return "contracts (face value USD)", f"{plain(result['contracts'])} ({fmt(result['size'])})"
    return "size", plain(result["size"])


def table_of(rows: list[tuple[str, str]], title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold cyan")
    table.add_column(justify="right")
    for k, v in rows:
        table.add_row(k, v)
    return table


# --------------------------------------------------------------------------------------------- calc liq
@calc.command("liq", cls=FastCommand)
def calc_liq(
    side: SideOpt,
    entry: EntryOpt,
    venue: VenueOpt = "simple",
    symbol: SymbolOpt = None,
    mmr: MmrOpt = None,
    cum: CumOpt = "0",
    qty: QtyOpt = None,
    notional_: NotionalOpt = None,
    contracts: ContractsOpt = None,
    leverage: LevOpt = None,
    margin: MarginOpt = None,
    taker_fee: FeeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Liquidation and bankruptcy price of an isolated position (linear or inverse)."""
    result = guarded(
        lambda: liq_figures(
            side, entry, venue, symbol, mmr, cum, qty, notional_, leverage, margin, taker_fee, contracts
        )
    )
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    title = (
        f"{result['venue']} {result['symbol']} — isolated {result['side'].name.lower()} {plain(result['leverage'])}×"
    )
    out.print(
        table_of(
            [
                ("entry", fmt(result["entry"])),
                size_row(result),
                ("notional" + unit(result), money(result, "notional")),
                ("isolated margin" + unit(result), money(result, "margin")),
                ("tier / maintenance rate at liquidation", tier_text(result["tier"], result["maintenance_rate"])),
                ("tier / maintenance rate at entry", tier_text(result["entry_tier"], result["entry_maintenance_rate"])),
                ("maintenance margin at entry" + unit(result), money(result, "maintenance_margin")),
                ("liquidation price", fmt(result["liquidation_price"])),
                ("distance to liquidation", pct(result["liquidation_distance"])),
                ("bankruptcy price", fmt(result["bankruptcy_price"])),
                ("break-even (taker both ways)", fmt(result["break_even"])),
            ],
            title,
        )
    )
    out.print(
        f"[dim]exact liquidation price {plain(result['liquidation_exact']) if result['liquidation_exact'] else '—'}"
        f"; formula: {result['formula']}[/]",
        highlight=False,
    )


def tier_text(tier: int | None, rate: Decimal | None) -> str:
    return "—" if tier is None else f"{tier} / {pct(rate, 3)}"


def liq_figures(
    side: str,
    entry: str,
    venue: str,
    symbol: str | None,
    mmr: str | None,
    cum: str,
    qty: str | None,
    notional_: str | None,
    leverage: str | None,
    margin: str | None,
    taker_fee: str | None,
    contracts: str | None = None,
) -> dict[str, Any]:
    s, profile, spec, e, size, value, m, lev = position_inputs(
        side, entry, venue, symbol, mmr, cum, qty, notional_, leverage, margin, contracts
    )
    quote = profile.liquidation_price(spec, s, size, e, m, taker_fee=taker_fee)
    fee_rate = profile.taker_fee if taker_fee is None else D(taker_fee, "taker fee")
    distance = abs(e - quote.price) / e if quote.price is not None else None
    # The quote's tier is the entry's (no mark given); the solver used the bracket that holds at the LP itself.
    leg = profile.leg(spec, s, size, e, taker_fee)
    at_liq = leg.tier_at(quote.exact) if quote.exact is not None and quote.exact > 0 else None
    return {
        "venue": profile.name,
        "symbol": spec.symbol,
        "side": s,
        "entry": e,
        "size": size,
        **instrument_fields(spec, size),
        "notional": value,
        "leverage": lev,
        "margin": m,
        "tier": at_liq.tier if at_liq is not None else None,
        "maintenance_rate": at_liq.mmr + leg.fee_rate if at_liq is not None else None,
        "entry_tier": quote.tier,
        "entry_maintenance_rate": quote.rate,
        "maintenance_margin": quote.maintenance_margin,
        "liquidation_price": quote.price,
        "liquidation_exact": quote.exact,
        "liquidation_distance": distance,
        "bankruptcy_price": quote.bankruptcy,
        "break_even": break_even_price(s, e, fee_rate, fee_rate, spec.kind),
        "formula": profile.formula,
    }


# ------------------------------------------------------------------------------------------ calc margin
@calc.command("margin", cls=FastCommand)
def calc_margin(
    side: SideOpt,
    entry: EntryOpt,
    venue: VenueOpt = "simple",
    symbol: SymbolOpt = None,
    mmr: MmrOpt = None,
    cum: CumOpt = "0",
    qty: QtyOpt = None,
    notional_: NotionalOpt = None,
    contracts: ContractsOpt = None,
    leverage: LevOpt = None,
    margin: MarginOpt = None,
    mark: Annotated[str | None, typer.Option("--mark", help="Mark price (default: entry).")] = None,
    add: Annotated[str | None, typer.Option("--add", help="Margin to add to the position.")] = None,
    remove: Annotated[str | None, typer.Option("--remove", help="Margin to remove from the position.")] = None,
    taker_fee: FeeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Margins, ratios and PnL at a mark price; the effect of adding or removing isolated margin."""
    result = guarded(
        lambda: margin_figures(
            side,
            entry,
            venue,
            symbol,
            mmr,
            cum,
            qty,
            notional_,
            leverage,
            margin,
            mark,
            add,
            remove,
            taker_fee,
            contracts,
        )
    )
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    u = unit(result)
    rows = [
        ("mark", fmt(result["mark"])),
        ("initial margin (notional / leverage)" + u, money(result, "initial_margin")),
        ("isolated margin" + u, money(result, "margin")),
        ("unrealised PnL / ROE" + u, f"{money(result, 'unrealized_pnl')} / {pct(result['roe'])}"),
        ("margin balance" + u, money(result, "margin_balance")),
        ("maintenance margin" + u, money(result, "maintenance_margin")),
        ("liquidation fee at mark" + u, money(result, "liquidation_fee")),
        ("margin ratio (MM / balance)", pct(result["margin_ratio"])),
        ("maintenance margin ratio (balance / (MM + fee))", pct(result["maintenance_margin_ratio"])),
        ("alert", result["alert"]),
        ("max removable margin" + u, money(result, "max_removable")),
        ("liquidation price", fmt(result["liquidation_price"])),
    ]
    if result["adjusted_margin"] is not None:
        rows += [
            ("margin after adjustment" + u, money(result, "adjusted_margin")),
            ("liquidation price after", fmt(result["adjusted_liquidation_price"])),
        ]
    out.print(table_of(rows, f"{result['venue']} {result['symbol']} — {result['side'].name.lower()} margin"))


def margin_figures(
    side: str,
    entry: str,
    venue: str,
    symbol: str | None,
    mmr: str | None,
    cum: str,
    qty: str | None,
    notional_: str | None,
    leverage: str | None,
    margin: str | None,
    mark: str | None,
    add: str | None,
    remove: str | None,
    taker_fee: str | None,
    contracts: str | None = None,
) -> dict[str, Any]:
    s, profile, spec, e, size, value, m, lev = position_inputs(
        side, entry, venue, symbol, mmr, cum, qty, notional_, leverage, margin, contracts
    )
    px = positive(mark, "mark") if mark is not None else e
    pnl = unrealized_pnl(s, size, e, px, spec.kind)
    mm = profile.maintenance_margin(spec, s, size, e, px, taker_fee)
    balance = margin_balance(m, pnl)
    liq_fee = profile.liquidation_fee(spec, notional(size, px, spec.kind))
    quote = profile.liquidation_price(spec, s, size, e, m, mark=px, taker_fee=taker_fee)
    adjusted = adjusted_liq = None
    if add is not None and remove is not None:
        raise MarginError("bad_adjustment", "give --add or --remove, not both")
    if add is not None or remove is not None:
        delta = positive(add, "add") if add is not None else -positive(remove, "remove")
        leg = profile.leg(spec, s, size, e, taker_fee)
        adj = adjust_isolated_margin(s, size, e, m, delta, px, lev, spec.table, spec.kind, leg.mm_basis, leg.fee_rate)
        adjusted = adj.margin_after
        adjusted_liq = profile.display_price(spec, s, adj.liquidation_after)
    initial = value / lev
    return {
        "venue": profile.name,
        "symbol": spec.symbol,
        "side": s,
        "entry": e,
        "size": size,
        **instrument_fields(spec, size),
        "mark": px,
        "leverage": lev,
        "margin": m,
        "initial_margin": initial,
        "unrealized_pnl": pnl,
        "roe": roe(pnl, initial),
        "margin_balance": balance,
        "maintenance_margin": mm,
        "liquidation_fee": liq_fee,
        "margin_ratio": margin_ratio(mm, balance),
        "maintenance_margin_ratio": maintenance_margin_ratio(balance, mm, liq_fee),
        "alert": profile.alert_level(profile.health(balance, mm, liq_fee)),
        "max_removable": max_removable_margin(s, size, e, m, px, lev, spec.kind),
        "liquidation_price": quote.price,
        "adjusted_margin": adjusted,
        "adjusted_liquidation_price": adjusted_liq,
    }


# -------------------------------------------------------------------------------------------- calc size
@calc.command("size", cls=FastCommand)
def calc_size(
    side: SideOpt,
    entry: EntryOpt,
    account: Annotated[str, typer.Option("--account", help="Account balance.")],
    risk: Annotated[str, typer.Option("--risk", help="Percent of the account to put at risk (= isolated margin).")],
    leverage: Annotated[str, typer.Option("--leverage", help="Leverage.")],
    venue: VenueOpt = "simple",
    symbol: SymbolOpt = None,
    mmr: MmrOpt = None,
    cum: CumOpt = "0",
    stop: Annotated[str | None, typer.Option("--stop", help="Stop-loss price.")] = None,
    atr: Annotated[
        str | None, typer.Option("--atr", help="ATR in percent of price; sets the stop if no --stop.")
    ] = None,
    atr_mult: Annotated[str, typer.Option("--atr-mult", help="Stop distance in ATRs.")] = "1",
    taker_fee: FeeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Size an isolated position from a risk budget; check the stop sits between entry and liquidation.
    Inverse symbols: the account, budget, margin and loss are in the coin, the size in whole contracts."""
    result = guarded(
        lambda: size_figures(
            side, entry, account, risk, leverage, venue, symbol, mmr, cum, stop, atr, atr_mult, taker_fee
        )
    )
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    out.print(
        table_of(
            [
                (
                    "risk budget = isolated margin" + unit(result),
                    f"{money(result, 'risk_budget')} ({plain(result['risk_fraction'] * 100)} %)",
                ),
                ("margin allocated" + unit(result), money(result, "margin")),
                ("notional" + unit(result), money(result, "notional")),
                size_row(result),
                ("liquidation price", fmt(result["liquidation_price"])),
                ("distance to liquidation", pct(result["liquidation_distance"])),
                ("stop", fmt(result["stop"])),
                ("distance to stop", pct(result["stop_distance"])),
                ("loss at stop" + unit(result), money(result, "loss_at_stop")),
                ("worst case (liquidation)" + unit(result), money(result, "margin")),
            ],
            f"{result['venue']} {result['symbol']} — size a {result['side'].name.lower()}"
            f" at {plain(result['leverage'])}×",
        )
    )


def size_figures(
    side: str,
    entry: str,
    account: str,
    risk: str,
    leverage: str,
    venue: str,
    symbol: str | None,
    mmr: str | None,
    cum: str,
    stop: str | None,
    atr: str | None,
    atr_mult: str,
    taker_fee: str | None,
) -> dict[str, Any]:
    s = Side.parse(side)
    profile, spec = resolve(venue, symbol, mmr, cum)
    leg_fee = profile.leg(spec, s, "1", entry, taker_fee).fee_rate
    plan = plan_position(
        s,
        account,
        positive(risk, "risk") / 100,
        leverage,
        entry,
        spec.table,
        step=spec.step_size if mmr is None or spec.inverse else None,  # inverse: whole contracts always
        stop=stop,
        atr_fraction=positive(atr, "atr") / 100 if atr is not None else None,
        atr_multiple=atr_mult,
        kind=spec.kind,
        mm_basis=profile.mm_basis,
        fee_rate=leg_fee,
    )
    result = {k: getattr(plan, k) for k in plan.__slots__}
    result["liquidation_price"] = profile.display_price(spec, s, plan.liquidation_price)
    return {"venue": profile.name, "symbol": spec.symbol, **result, **instrument_fields(spec, plan.size)}


# ------------------------------------------------------------------------------------------- calc tiers
@calc.command("tiers", cls=FastCommand)
def calc_tiers(
    venue: VenueOpt = "binance",
    symbol: SymbolOpt = "BTCUSDT",
    notional_: NotionalOpt = None,
    contracts: Annotated[
        str | None, typer.Option("--contracts", help="Position size in contracts (instead of --notional).")
    ] = None,
    price: Annotated[
        str | None,
        typer.Option("--price", help="Price converting notional and contracts where tiers count contracts (OKX)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A venue's tier table for a symbol; with --notional (or --contracts), the tier that holds it and its MM."""
    result = guarded(lambda: tier_figures(venue, symbol or "BTCUSDT", notional_, contracts, price))
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    by = "contracts" if result["basis"] == "contracts" else "notional"
    if result["kind"] is ContractKind.INVERSE and by == "notional":
        by = f"notional in {result['settle']}"
    table = Table(
        title=f"{result['venue']} {result['symbol']} tiers (by {by}; deduction {result['deduction']})",
        title_justify="left",
    )
    for col in ("tier", "floor", "cap", "rate", "max lev", "maint. amount"):
        table.add_column(col, justify="right")
    for row in result["tiers"]:
        mark = "bold yellow" if row["tier"] == result.get("selected_tier") else None
        cap = "∞" if row["cap"] is None else f"{row['cap']:,}"
        table.add_row(
            str(row["tier"]),
            f"{row['floor']:,}",
            cap,
            pct(row["mmr"], 3),
            plain(row["max_leverage"]),
            f"{row['maint_amount']:,}",
            style=mark,
        )
    out.print(table)
    if result["expiry_ms"] is not None:
        out.print(f"expiry {result['expiry']} ({result['expiry_ms']} ms): {result['delivery']}", highlight=False)
    out.print(f"[dim]source: {result['source']}[/]", highlight=False)
    if "selected_tier" in result:
        inverse = result["kind"] is ContractKind.INVERSE
        coin = f" {result['settle']}" if inverse else ""
        show = plain if inverse else fmt  # a coin amount keeps its digits; a quote amount shows cents
        held = f"notional {show(result['notional'])}{coin}" if result["notional"] is not None else ""
        if "contracts" in result:
            n = result["contracts"]
            exact_n = n == n.quantize(Decimal("0.01"))
            shown = plain(n) if exact_n else f"{n:,.2f}"
            at = f" at {fmt(result['price'])} {'=' if exact_n else '≈'} " if result["price"] is not None else ""
            held = f"{held}{at}{shown} contracts"
        mm = result["maintenance_margin"]
        out.print(
            f"{held} → tier {result['selected_tier']}, "
            + (f"maintenance margin {show(mm)}{coin}, " if mm is not None else "")
            + f"max leverage {plain(result['max_leverage'])}",
            highlight=False,
        )


def tier_figures(
    venue: str, symbol: str, notional_: str | None, contracts: str | None = None, price: str | None = None
) -> dict[str, Any]:
    profile = get_profile(venue)
    spec = profile.spec(symbol)
    t = spec.table
    result: dict[str, Any] = {
        "venue": profile.name,
        "symbol": spec.symbol,
        "venue_symbol": spec.venue_symbol,
        "basis": t.basis.value,
        "deduction": t.deduction.value,
        "contract_size": spec.contract_size,
        "kind": spec.kind,
        "settle": spec.settle,
        "expiry_ms": spec.expiry_ms,
        "expiry": expiry_iso(spec.expiry_ms),
        "delivery": spec.delivery or None,
        "source": spec.source,
        "tiers": [
            {
                "tier": x.tier,
                "floor": x.floor,
                "cap": x.cap,
                "mmr": x.mmr,
                "max_leverage": x.max_leverage,
                "maint_amount": x.maint_amount,
            }
            for x in t.tiers
        ],
    }
    if notional_ is not None and contracts is not None:
        raise MarginError("bad_size", "give --notional or --contracts, not both")
    if notional_ is not None or contracts is not None:
        result.update(selected_size(profile, spec, notional_, contracts, price))
    return result


def selected_size(
    profile: VenueProfile, spec: SymbolSpec, notional_: str | None, contracts: str | None, price: str | None
) -> dict[str, Any]:
    """The tier holding a size given as notional or contracts. Where the table counts contracts (OKX) a notional
    converts with a price: linear contracts = notional / (price × contract size); inverse (face value in USD)
    contracts = notional in the coin × price / contract size. A conversion without --price is refused, naming it."""
    t = spec.table
    px = positive(price, "price") if price is not None else None
    by_contracts = t.basis.value == "contracts"
    unit = "USD" if spec.inverse else spec.symbol.removesuffix(spec.settle)
    if contracts is not None:
        given = positive(contracts, "contracts")
        value = notional(given * spec.contract_size, px, spec.kind) if px is not None else None
        if value is None and not by_contracts:
            raise MarginError(
                "missing_price",
                f"{profile.name} {spec.symbol} tiers are by notional: give --price to convert --contracts "
                f"{plain(given)}, or give --notional",
            )
        n: Decimal | None = given
    else:
        value = positive(notional_, "notional")
        n = None
        if by_contracts:
            if px is None:
                raise MarginError(
                    "missing_price",
                    f"{profile.name} {spec.symbol} tiers count contracts (1 contract = {plain(spec.contract_size)} "
                    f"{unit}): give --price to convert --notional {plain(value)}, or give --contracts",
                )
            base = value * px if spec.inverse else value / px  # face value in USD, or base units
            n = t.size_of(base, value)
    tier = t.tier_for(n if by_contracts else value)
    figures: dict[str, Any] = {
        "notional": value,
        "selected_tier": tier.tier,
        "maintenance_margin": t.maintenance_margin(value, n if by_contracts else None) if value is not None else None,
        "max_leverage": tier.max_leverage,
    }
    if by_contracts:
        figures.update(contracts=n, price=px)
    return figures


def expiry_iso(ms: int | None) -> str | None:
    """A dated future's expiry in ISO 8601 UTC (from the venue's milliseconds)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms // 1000, tz=UTC).isoformat().replace("+00:00", "Z")


@calc.command("examples", cls=FastCommand)
def calc_examples() -> None:
    """A walkthrough of the seeds' isolated-margin examples through the calculators."""
    from isomargin.walkthrough import run

    guarded(lambda: run(out))


calc.command("spot-margin", cls=FastCommand)(calc_spot_margin)  # defined in isomargin.calc_spot
calc.command("option", cls=FastCommand)(calc_option)  # defined in isomargin.calc_option
