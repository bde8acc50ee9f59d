"""`isomargin calc option`: one European option position on OKX (BTC-USD, ETH-USD, coin-margined) or Binance
(BTCUSDT, USDT-margined): premium value and fee, the seller's position and order margins by tier, margin ratio,
the mark that liquidates a short, partial-liquidation step, settlement value, Black-76 greeks from an implied
vol. Thin over `isomargin.margin.options` and `isomargin.venues.options`; bad input is one line and exit 2.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Annotated, Any

import typer
from rich.table import Table

from isomargin.calc_spot import bounded, number
from isomargin.cliutil import JsonOpt, guarded, js, out
from isomargin.margin import MarginError, Side, plain
from isomargin.margin.numbers import MONEY, ZERO
from isomargin.margin.options import (
    OptionKind,
    OrderAction,
    black76,
    greeks,
    liquidation_fee,
    liquidation_mark,
    liquidation_step,
    margin_ratio,
    premium_value,
    settlement_in_coin,
    settlement_in_quote,
    short_im_per_contract,
    short_margin_balance,
    short_mm_per_contract,
    tier_of,
    trading_fee,
)
from isomargin.venues.options import EXPIRY_HOUR_UTC, OptionFamily, option_families, option_family

MAX_PRICE = Decimal(10) ** 9  # index, forward, strike, settlement: quote per unit of the underlying
MAX_PREMIUM = Decimal(10) ** 9
MAX_CONTRACTS = Decimal(10) ** 9
MAX_VOL = Decimal(20)  # 2,000 % a year
MAX_MARGIN = Decimal(10) ** 12
DAYS_PER_YEAR = Decimal(365)
MS_PER_DAY = 86_400_000
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?", re.ASCII)
VENUES = ("okx", "binance")

VenueOpt = Annotated[str, typer.Option("--venue", help="okx or binance.")]
FamilyOpt = Annotated[str, typer.Option("--family", help="Option family: BTC-USD, ETH-USD (okx), BTCUSDT (binance).")]
KindOpt = Annotated[str, typer.Option("--kind", help="call or put.")]
StrikeOpt = Annotated[str, typer.Option("--strike", help="Strike, quote per unit of the underlying.")]
ExpiryOpt = Annotated[str, typer.Option("--expiry", help="Expiry date YYYY-MM-DD (08:00 UTC).")]
IndexOpt = Annotated[str, typer.Option("--index", help="Underlying index price.")]
ForwardOpt = Annotated[
    str | None, typer.Option("--forward", help="Same-expiry forward mark for the OTM amount (default: --index).")
]
MarkOpt = Annotated[
    str | None, typer.Option("--mark", help="Option mark, per unit of the underlying in the settle asset.")
]
IvOpt = Annotated[str | None, typer.Option("--iv", help="Implied vol (0.55 = 55 %): the mark from Black-76.")]
NowOpt = Annotated[
    str | None, typer.Option("--now", help="Valuation time, YYYY-MM-DD[THH:MM[:SS]] UTC, for --iv (default: now).")
]
ContractsOpt = Annotated[str, typer.Option("--contracts", help="Position size in contracts.")]
SideOpt = Annotated[str, typer.Option("--side", help="long (buyer) or short (seller).")]
MarginOpt = Annotated[
    str | None, typer.Option("--margin", help="Isolated margin of a short (default: its position IMR).")
]
EntryOpt = Annotated[str | None, typer.Option("--entry", help="Average entry premium (default: the mark).")]
OpenOpt = Annotated[
    str | None,
    typer.Option("--open-contracts", help="Seller's contracts incl. open sell orders, for the tier (default: size)."),
]
PriceOpt = Annotated[str | None, typer.Option("--order-price", help="Order premium (default: the mark).")]
MakerOpt = Annotated[bool, typer.Option("--maker", help="Charge the maker rate instead of the taker rate.")]
SettleOpt = Annotated[str | None, typer.Option("--settle", help="A settlement price: show the expiry payout.")]


def find_family(venue: str, family: str) -> OptionFamily:
    key = venue.strip().lower()
    if key not in VENUES:
        raise MarginError("unknown_venue", f"option venues are {', '.join(VENUES)}, got {venue!r}")
    try:
        return option_family(key, family)
    except KeyError:
        raise MarginError(
            "unknown_family", f"{key} has no option family {family!r} (known: {', '.join(option_families(key))})"
        ) from None


def expiry_of(text: str) -> datetime:
    raw = text.strip()
    try:
        if not DATE.fullmatch(raw):
            raise ValueError
        day = datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        raise MarginError("bad_expiry", f"expiry must be a date YYYY-MM-DD, got {text!r}") from None
    return day.replace(hour=EXPIRY_HOUR_UTC, tzinfo=UTC)


def instant_of(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)  # the edge: the calculator's only wall-clock read, replaced by --now in tests
    raw = text.strip()
    try:
        if not INSTANT.fullmatch(raw):
            raise ValueError
        when = datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        raise MarginError("bad_time", f"--now must be YYYY-MM-DD[THH:MM[:SS]] (UTC), got {text!r}") from None
    return when.replace(tzinfo=UTC)


def on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def option_figures(
    venue: str, family: str, kind: str, strike: str, expiry: str, index: str, forward: str | None,
    mark: str | None, iv: str | None, now: str | None, contracts: str, side: str, margin: str | None,
    entry: str | None, open_contracts: str | None, order_price: str | None, maker: bool, settle: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Everything the command prints, as exact values (the JSON output is this dict)."""
    with localcontext(MONEY):
        fam = find_family(venue, family)
        k_ = OptionKind.parse(kind)
        s = Side.parse(side)
        k = bounded(strike, "strike", MAX_PRICE)
        when = expiry_of(expiry)
        idx = bounded(index, "index", MAX_PRICE)
        fwd = idx if forward is None else bounded(forward, "forward", MAX_PRICE)
        n = bounded(contracts, "contracts", MAX_CONTRACTS)
        if not on_grid(n, fam.step_size):
            raise MarginError("off_step", f"contracts must be a multiple of {fam.family}'s step {plain(fam.step_size)}")
        if (mark is None) == (iv is None):
            raise MarginError("mark_or_iv", "give exactly one of --mark (the option's mark) and --iv (implied vol)")
        vol = t_years = None
        unit_greeks = None
        if iv is not None:
            vol = bounded(iv, "iv", MAX_VOL)
            at = instant_of(now)
            left_ms = int((when - at).total_seconds() * 1000)
            if left_ms <= 0:
                raise MarginError("expired", f"the option expires {when.isoformat()}, not after --now {at.isoformat()}")
            t_years = Decimal(left_ms) / MS_PER_DAY / DAYS_PER_YEAR
            quote_value = black76(k_, fwd, k, t_years, vol)
            # A coin-margined premium is the quote value in coin at the forward (OKX quotes BTC per BTC).
            m = quote_value / fwd if fam.coin_margined else quote_value
            unit_greeks = greeks(k_, fwd, k, t_years, vol)
        else:
            assert mark is not None
            m = number(mark, "mark")
            if not ZERO <= m <= MAX_PREMIUM:
                raise MarginError("bad_mark", f"mark must be from 0 to {plain(MAX_PREMIUM)}, got {plain(m)}")
        e = m if entry is None else number(entry, "entry")
        if not ZERO <= e <= MAX_PREMIUM:
            raise MarginError("bad_entry", f"entry must be from 0 to {plain(MAX_PREMIUM)}, got {plain(e)}")
        p = m if order_price is None else bounded(order_price, "order price", MAX_PREMIUM)
        if order_price is not None and not on_grid(p, fam.tick_for(p)):
            raise MarginError("off_tick", f"order price must be a multiple of the tick {plain(fam.tick_for(p))}")
        total = n if open_contracts is None else bounded(open_contracts, "open contracts", MAX_CONTRACTS)
        if total < n and s is Side.SHORT:
            raise MarginError("bad_open_contracts", "--open-contracts counts the position too: it must be ≥ contracts")
        fee_one = trading_fee(fam, 1, p, index=idx, maker=maker)
        result: dict[str, Any] = {
            "venue": fam.venue,
            "family": fam.family,
            "symbol": fam.symbol(int(when.timestamp()) * 1000, k, k_),
            "kind": "call" if k_ is OptionKind.CALL else "put",
            "side": s,
            "strike": k,
            "expiry": when.isoformat(),
            "index": idx,
            "forward": fwd,
            "mark": m,
            "mark_from": "black76" if iv is not None else "given",
            "iv": vol,
            "t_years": t_years,
            "contracts": n,
            "multiplier": fam.multiplier,
            "underlying_units": n * fam.multiplier,
            "settle": fam.settle,
            "premium_value": premium_value(n, m, fam.multiplier),
            "fee_rate": fam.maker_fee if maker else fam.taker_fee,
            "trading_fee": trading_fee(fam, n, p, index=idx, maker=maker),
            "order_price": p,
        }
        if s is Side.LONG:
            result.update(
                order_action=OrderAction.BUY_OPEN,
                order_margin=(p * fam.multiplier + fee_one) * n,
                initial_margin=ZERO,
                maintenance_margin=ZERO,
            )
        else:
            tier = tier_of(fam.tiers, total)
            im1 = short_im_per_contract(k_, fwd, k, m, fam, total, index=idx)
            im = im1 * n
            mm = short_mm_per_contract(k_, idx, m, fam, total) * n
            pool = im if margin is None else bounded(margin, "margin", MAX_MARGIN)
            balance = short_margin_balance(pool, e, m, fam.multiplier, n)
            fee = liquidation_fee(fam, n, m, index=idx)
            liq = liquidation_mark(k_, idx, e, pool, fam, n, total)
            tick = fam.tick_for(liq)
            step_close, full = liquidation_step(fam.tiers, total)
            floor = fam.min_order_margin * fam.multiplier * (1 if fam.coin_margined else idx)
            result.update(
                tier=tier.tier,
                margin_factor=tier.margin_factor,
                open_contracts=total,
                order_action=OrderAction.SELL_OPEN,
                order_margin=max(im1 - p * fam.multiplier + fee_one, floor) * n,
                initial_margin=im,
                maintenance_margin=mm,
                margin=pool,
                margin_balance=balance,
                liquidation_fee=fee,
                margin_ratio=margin_ratio(balance, mm, fee),
                liquidation_mark=liq,
                liquidation_mark_on_tick=(liq / tick).to_integral_value(rounding=ROUND_CEILING) * tick,
                liquidation_step_contracts=step_close,
                liquidation_step_full=full,
            )
        if unit_greeks is not None:
            units = n * fam.multiplier * (1 if s is Side.LONG else -1)
            result.update(
                delta=unit_greeks.delta,
                gamma=unit_greeks.gamma,
                vega=unit_greeks.vega,
                theta=unit_greeks.theta,
                position_delta=unit_greeks.delta * units,
            )
        if settle is not None:
            sp = bounded(settle, "settle", MAX_PRICE)
            pay = settlement_in_coin if fam.coin_margined else settlement_in_quote
            per = pay(k_, sp, k, fam.multiplier)
            result.update(settle_price=sp, settlement_per_contract=per, settlement_value=per * n)
        return result


# ------------------------------------------------------------------------------------------ output
def amount(value: Decimal | None, places: int) -> str:
    if value is None:
        return "—"
    with localcontext(MONEY):
        text = f"{value.quantize(Decimal(1).scaleb(-places)):,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def table(r: dict[str, Any]) -> Table:
    coin = r["settle"] != "USDT"
    places = 8 if coin else 4
    ccy = r["settle"]
    title = f"{r['venue']} {r['symbol']} — {r['side'].name.lower()} {plain(r['contracts'])} × {plain(r['multiplier'])}"
    grid = Table(title=title, show_header=False, title_justify="left")
    grid.add_column(style="bold cyan")
    grid.add_column(justify="right")
    mark_note = (
        f"Black-76, iv {plain(r['iv'])}, T {amount(r['t_years'], 6)} y" if r["mark_from"] == "black76" else "given"
    )
    rows = [
        ("index / forward", f"{amount(r['index'], 2)} / {amount(r['forward'], 2)}"),
        (f"mark ({mark_note})", f"{amount(r['mark'], 8 if coin else 4)} {ccy}"),
        ("premium value", f"{amount(r['premium_value'], places)} {ccy}"),
        (f"trading fee ({plain(r['fee_rate'] * 100)} %)", f"{amount(r['trading_fee'], places)} {ccy}"),
        (f"order margin ({r['order_action'].value})", f"{amount(r['order_margin'], places)} {ccy}"),
    ]
    if r["side"] is Side.SHORT:
        im, mm = amount(r["initial_margin"], places), amount(r["maintenance_margin"], places)
        liq, liq_tick = amount(r["liquidation_mark"], 8), plain(r["liquidation_mark_on_tick"])
        step = "full" if r["liquidation_step_full"] else f"{plain(r['liquidation_step_contracts'])} contracts"
        rows += [
            ("tier / margin factor", f"{r['tier']} / {plain(r['margin_factor'])} ({plain(r['open_contracts'])} held)"),
            ("position IM / MM", f"{im} / {mm} {ccy}"),
            ("margin / balance", f"{amount(r['margin'], places)} / {amount(r['margin_balance'], places)} {ccy}"),
            ("liquidation fee", f"{amount(r['liquidation_fee'], places)} {ccy}"),
            ("margin ratio (liquidation at 100 %)", f"{amount(r['margin_ratio'] * 100, 2)} %"),
            ("liquidation mark (on the tick)", f"{liq} ({liq_tick})"),
            ("one liquidation step", step),
        ]  # fmt: skip
    if "delta" in r:
        rows += [
            ("delta / gamma (per unit)", f"{amount(r['delta'], 6)} / {amount(r['gamma'], 10)}"),
            ("vega / theta (per unit, per 1.00 vol / year)", f"{amount(r['vega'], 4)} / {amount(r['theta'], 4)}"),
            ("position delta (underlying)", amount(r["position_delta"], 6)),
        ]
    if "settlement_value" in r:
        rows.append((f"settlement at {amount(r['settle_price'], 2)}", f"{amount(r['settlement_value'], places)} {ccy}"))
    for k, v in rows:
        grid.add_row(k, v)
    return grid


def calc_option(
    kind: KindOpt,
    strike: StrikeOpt,
    expiry: ExpiryOpt,
    index: IndexOpt,
    contracts: ContractsOpt,
    side: SideOpt,
    venue: VenueOpt = "okx",
    family: FamilyOpt = "BTC-USD",
    forward: ForwardOpt = None,
    mark: MarkOpt = None,
    iv: IvOpt = None,
    now: NowOpt = None,
    margin: MarginOpt = None,
    entry: EntryOpt = None,
    open_contracts: OpenOpt = None,
    order_price: PriceOpt = None,
    maker: MakerOpt = False,
    settle: SettleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """European option position (OKX coin-margined, Binance USDT-margined): premium, fee, seller margins by tier,
    margin ratio, liquidation mark, greeks, settlement."""
    result = guarded(
        lambda: option_figures(
            venue, family, kind, strike, expiry, index, forward, mark, iv, now, contracts, side, margin, entry,
            open_contracts, order_price, maker, settle,
        )
    )  # fmt: skip
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    out.print(table(result))
