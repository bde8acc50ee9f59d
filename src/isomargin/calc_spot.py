"""`isomargin calc spot-margin`: a spot isolated margin position opened at a price with a leverage, seen on
Binance or OKX: assets, liability and interest, margin, liquidation and margin-call prices, margin level or
ratio, what more may be borrowed. Thin over `isomargin.margin.spot` and `isomargin.venues.spot_margin`; every
bad input is one line and exit code 2 (see `isomargin.cliutil`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation, localcontext
from typing import Annotated, Any

import typer
from rich.table import Table

from isomargin.cliutil import JsonOpt, guarded, js, out
from isomargin.margin import MarginError, Side, plain
from isomargin.margin.numbers import MONEY, ZERO, D
from isomargin.margin.spot import (
    MAX_INTEREST_HOURS,
    AccountingMode,
    SpotAccountState,
    SpotAsset,
    hourly_interest,
    interest_over,
    level_price,
    max_borrowable,
    okx_liquidation_fee,
    okx_maintenance,
    position_view,
)
from isomargin.venues.spot_margin import SpotPairSpec, SpotRisk, spot_pair, spot_pairs

# What the command line accepts as a number: ASCII digits with an optional sign and decimal point, nothing
# else (Python's Decimal would also take "١٠٠", "1_000", "1e9", "Infinity"). The bounds keep every figure the
# command prints far inside 34-digit arithmetic.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
MAX_NUMBER_CHARS = 40
MAX_PRICE = Decimal(10) ** 9  # quote per base unit
MAX_QTY = Decimal(10) ** 9  # base units
MAX_DAILY_RATE = Decimal(1)  # 100 % a day
OKX_ALERT_RATIO = Decimal(3)  # OKX warns below a 300 % maintenance margin ratio (seed 003)
VENUES = ("binance", "okx")

VenueOpt = Annotated[str, typer.Option("--venue", help="binance or okx.")]
PairOpt = Annotated[str, typer.Option("--pair", help="Spot pair, base-quote with a dash (BTC-USDT).")]
SideOpt = Annotated[str, typer.Option("--side", help="long (borrow quote, buy base) or short (borrow base, sell it).")]
MarginAssetOpt = Annotated[
    str, typer.Option("--margin-asset", help="Collateral transferred in: base or quote (or the coin's name).")
]
ModeOpt = Annotated[str, typer.Option("--mode", help="OKX accounting mode: old (margin in assets) or new.")]
PriceOpt = Annotated[str, typer.Option("--price", help="Entry price (the fill; no trading fee is charged).")]
QtyOpt = Annotated[str, typer.Option("--qty", help="Position size in base units.")]
LevOpt = Annotated[str, typer.Option("--leverage", help="Leverage: margin = position value / leverage.")]
MarkOpt = Annotated[str | None, typer.Option("--mark", help="Mark price to value the account at (default: --price).")]
HoursOpt = Annotated[str, typer.Option("--hours", help="Hours of interest charged so far (whole number).")]
RateOpt = Annotated[
    str | None, typer.Option("--daily-rate", help="Daily interest rate (default: the pair's, illustrative).")
]


def number(text: str, name: str) -> Decimal:
    """A plain ASCII decimal from the command line, or a MarginError naming the option."""
    raw = text.strip()
    if len(raw) > MAX_NUMBER_CHARS or not NUMBER.fullmatch(raw):
        raise MarginError("bad_number", f"{name} must be a plain decimal number like 1234.5, got {text!r}")
    return D(raw, name)


def bounded(text: str, name: str, high: Decimal) -> Decimal:
    value = number(text, name)
    if value <= 0:
        raise MarginError("not_positive", f"{name} must be greater than zero, got {plain(value)}")
    if value > high:
        raise MarginError("too_large", f"{name} must be at most {plain(high)}, got {plain(value)}")
    return value


def whole_hours(text: str) -> int:
    raw = text.strip()
    if not re.fullmatch(r"[0-9]{1,7}", raw, re.ASCII) or int(raw) > MAX_INTEREST_HOURS:
        raise MarginError("bad_hours", f"hours must be a whole number from 0 to {MAX_INTEREST_HOURS}, got {text!r}")
    return int(raw)


def find_pair(venue: str, pair: str) -> SpotPairSpec:
    key = venue.strip().lower()
    if key not in VENUES:
        raise MarginError("unknown_venue", f"spot margin venues are {', '.join(VENUES)}, got {venue!r}")
    try:
        return spot_pair(key, pair)
    except KeyError:
        raise MarginError(
            "unknown_pair", f"{key} has no spot margin pair {pair!r} (known: {', '.join(spot_pairs(key))})"
        ) from None


def margin_asset_of(text: str, spec: SpotPairSpec) -> SpotAsset:
    key = text.strip().upper()
    if key == spec.base:
        return SpotAsset.BASE
    if key == spec.quote:
        return SpotAsset.QUOTE
    try:
        return SpotAsset.parse(text)
    except MarginError:
        raise MarginError(
            "bad_asset", f"margin asset must be base, quote, {spec.base} or {spec.quote}, got {text!r}"
        ) from None


def off_grid(value: Decimal, step: Decimal) -> bool:
    return value % step != 0


def spot_margin_figures(
    venue: str,
    pair: str,
    side: str,
    margin_asset: str,
    mode: str,
    price: str,
    qty: str,
    leverage: str,
    mark: str | None,
    hours: str,
    daily_rate: str | None,
) -> dict[str, Any]:
    """Everything the command prints, as exact values (the JSON output is this dict)."""
    with localcontext(MONEY):
        return _figures(venue, pair, side, margin_asset, mode, price, qty, leverage, mark, hours, daily_rate)


def _figures(
    venue: str,
    pair: str,
    side: str,
    margin_asset: str,
    mode: str,
    price: str,
    qty: str,
    leverage: str,
    mark: str | None,
    hours: str,
    daily_rate: str | None,
) -> dict[str, Any]:
    spec = find_pair(venue, pair)
    s = Side.parse(side)
    margin_in = margin_asset_of(margin_asset, spec)
    accounting = AccountingMode.parse(mode)
    entry = bounded(price, "price", MAX_PRICE)
    size = bounded(qty, "qty", MAX_QTY)
    lev = bounded(leverage, "leverage", Decimal(spec.max_leverage))
    if lev < 1:
        raise MarginError("bad_leverage", f"leverage must be at least 1, got {plain(lev)}")
    at = bounded(mark, "mark", MAX_PRICE) if mark is not None else entry
    n_hours = whole_hours(hours)
    if off_grid(entry, spec.tick_size):
        raise MarginError("off_tick", f"price must be a multiple of {spec.symbol}'s tick {plain(spec.tick_size)}")
    if off_grid(size, spec.step_size):
        raise MarginError("off_step", f"qty must be a multiple of {spec.symbol}'s step {plain(spec.step_size)}")
    value = size * entry
    if value < spec.min_notional:
        raise MarginError(
            "below_min_notional", f"{plain(value)} {spec.quote} is below {spec.symbol}'s {plain(spec.min_notional)}"
        )

    # The trade that opens the position (the seed's convention): the margin is the position value / leverage; a
    # long borrows the whole value in quote and buys `qty`; a short borrows `qty` and sells it.
    margin = value / lev if margin_in is SpotAsset.QUOTE else size / lev
    owed_asset, owed_in = (SpotAsset.QUOTE, spec.quote) if s is Side.LONG else (SpotAsset.BASE, spec.base)
    principal = value if s is Side.LONG else size
    rate = spec.daily_rate(owed_in) if daily_rate is None else number(daily_rate, "daily rate")
    if not ZERO <= rate <= MAX_DAILY_RATE:
        raise MarginError("bad_rate", f"daily rate must be from 0 to {plain(MAX_DAILY_RATE)}, got {plain(rate)}")
    interest = interest_over(principal, rate, n_hours)
    base_margin = margin if margin_in is SpotAsset.BASE else ZERO
    quote_margin = margin if margin_in is SpotAsset.QUOTE else ZERO
    if s is Side.LONG:
        state = SpotAccountState(
            base_assets=size + base_margin, quote_assets=quote_margin, quote_liability=value, quote_interest=interest
        )
    else:
        state = SpotAccountState(
            base_assets=base_margin, quote_assets=value + quote_margin, base_liability=size, base_interest=interest
        )
    collateral = SpotAccountState(base_assets=base_margin, quote_assets=quote_margin)
    limit = spec.borrow_limits[owed_in]

    result: dict[str, Any] = {
        "venue": spec.venue,
        "pair": spec.symbol,
        "exchange_symbol": spec.exchange_symbol,
        "side": s,
        "mode": accounting,
        "margin_asset": margin_in,
        "entry_price": entry,
        "qty": size,
        "leverage": lev,
        "mark": at,
        "hours": n_hours,
        "daily_rate": rate,
        "risk": spec.risk,
        "base_assets": state.base_assets,
        "quote_assets": state.quote_assets,
        "base_liability": state.base_liability,
        "base_interest": state.base_interest,
        "quote_liability": state.quote_liability,
        "quote_interest": state.quote_interest,
    }
    if spec.risk is SpotRisk.MAINTENANCE_RATIO:
        owed_total = principal + interest
        tier = spec.tier_for(owed_in, owed_total)
        view = position_view(
            state, at, margin_in, margin, accounting, entry_price=entry, mmr=tier.mmr, taker=spec.taker_fee,
            base=spec.base, quote=spec.quote,
        )  # fmt: skip
        k = (1 + tier.mmr) * (1 + spec.taker_fee)
        # Ratio r ⇔ assets = (1 + r·(k − 1)) × owed (net = r × (MM + fee) rearranged), a level price again.
        alert = level_price(state, 1 + OKX_ALERT_RATIO * (k - 1))
        # OKX: available to borrow = margin balance × leverage, i.e. a borrow must leave assets/owed ≥ (L + 1)/L.
        borrow_level = (tier.max_leverage + Decimal(1)) / tier.max_leverage
        result.update(
            tier=tier.tier,
            mmr=tier.mmr,
            taker_fee=spec.taker_fee,
            maintenance_margin=okx_maintenance(state, at, tier.mmr),
            liquidation_fee=okx_liquidation_fee(state, at, tier.mmr, spec.taker_fee),
            margin_call_price=alert,
            margin_call_at=OKX_ALERT_RATIO,
        )
    else:
        levels = spec.levels_for(spec.max_leverage)
        view = position_view(
            state, at, margin_in, margin, accounting, entry_price=entry, liquidation_level=levels.liquidation,
            base=spec.base, quote=spec.quote,
        )  # fmt: skip
        borrow_level = levels.borrow
        result.update(
            liquidation_level=levels.liquidation,
            margin_call_price=level_price(state, levels.margin_call),
            margin_call_at=levels.margin_call,
        )
    at_open = max_borrowable(collateral, owed_asset, entry, borrow_level, limit)
    result.update(
        asset=view.asset,
        asset_currency=view.asset_currency,
        liability=view.liability,
        interest=view.interest,
        liability_total=view.liability_total,
        liability_currency=view.liability_currency,
        margin=view.margin,
        margin_currency=view.margin_currency,
        liquidation_price=view.liquidation_price,
        margin_level=view.margin_level,
        margin_ratio=view.margin_ratio,
        pnl=view.pnl,
        pnl_currency=view.pnl_currency,
        pnl_ratio=view.pnl_ratio,
        borrow_level=borrow_level,
        borrow_limit=limit,
        max_borrowable_at_open=at_open,
        borrow_within_limit=principal <= at_open,
        max_borrowable=max_borrowable(state, owed_asset, at, borrow_level, limit),
        interest_hourly=hourly_interest(principal, rate),
        interest_over_hours=interest,
    )
    return result


# ------------------------------------------------------------------------------------------ output
def shown(value: Decimal | None, currency: str, quote: str) -> str:
    """A figure for people: 2 places in the quote currency, up to 8 in the base (trailing zeros dropped)."""
    if value is None:
        return "—"
    places = 2 if currency == quote else 8
    try:
        with localcontext(MONEY):
            q = value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # pragma: no cover - inputs are bounded far below this
        return plain(value)
    text = f"{q:,.{places}f}"
    if currency == quote:
        return text
    return text.rstrip("0").rstrip(".")  # a coin amount: 1.1 BTC, not 1.10000000


def price_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.quantize(Decimal('0.01'), context=MONEY):,}"


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.01'), context=MONEY):,} %"


def table(result: dict[str, Any]) -> Table:
    q = result["pair"].split("-")[1]
    title = (
        f"{result['venue']} {result['pair']} — isolated {result['side'].name.lower()} "
        f"{plain(result['leverage'])}×, {result['margin_asset'].value} margin ({result['margin_currency']}), "
        f"{result['mode'].value} mode"
    )
    grid = Table(title=title, show_header=False, title_justify="left")
    grid.add_column(style="bold cyan")
    grid.add_column(justify="right")
    rows = [
        ("entry / mark", f"{price_text(result['entry_price'])} / {price_text(result['mark'])}"),
        ("asset", f"{shown(result['asset'], result['asset_currency'], q)} {result['asset_currency']}"),
        ("liability", f"{shown(result['liability'], result['liability_currency'], q)} {result['liability_currency']}"),
        (
            f"interest ({result['hours']} h at {plain(result['daily_rate'] * 100)} %/day)",
            f"{shown(result['interest'], result['liability_currency'], q)} {result['liability_currency']}",
        ),
        ("margin", f"{shown(result['margin'], result['margin_currency'], q)} {result['margin_currency']}"),
        ("liquidation price", price_text(result["liquidation_price"])),
    ]
    if result["risk"] is SpotRisk.MAINTENANCE_RATIO:
        rows += [
            ("tier / MMR", f"{result['tier']} / {percent(result['mmr'])}"),
            ("maintenance margin + liquidation fee", f"{shown(result['maintenance_margin'], q, q)} + "
             f"{shown(result['liquidation_fee'], q, q)} {q}"),
            ("margin ratio (liquidation at 100 %)", percent(result["margin_ratio"])),
            ("alert price (ratio 300 %)", price_text(result["margin_call_price"])),
        ]  # fmt: skip
    else:
        rows += [
            (f"margin level (liquidation at {plain(result['liquidation_level'])})", plain_level(result)),
            (f"margin call price (level {plain(result['margin_call_at'])})", price_text(result["margin_call_price"])),
        ]
    ccy = result["liability_currency"]
    rows += [
        ("floating PnL", f"{shown(result['pnl'], result['pnl_currency'], q)} {result['pnl_currency']} "
         f"({percent(result['pnl_ratio'])})"),
        (f"max borrowable at open (level {plain_places(result['borrow_level'])})",
         f"{shown(result['max_borrowable_at_open'], ccy, q)} {ccy}"),
        ("borrow within it", "yes" if result["borrow_within_limit"] else "no: the venue would refuse it"),
        ("max borrowable now", f"{shown(result['max_borrowable'], ccy, q)} {ccy}"),
        ("interest per hour", f"{shown(result['interest_hourly'], ccy, q)} {ccy}"),
    ]  # fmt: skip
    for k, v in rows:
        grid.add_row(k, v)
    return grid


def plain_level(result: dict[str, Any]) -> str:
    level = result["margin_level"]
    return "—" if level is None else f"{level.quantize(Decimal('0.0001'), context=MONEY)}"


def plain_places(value: Decimal) -> str:
    return plain(value.quantize(Decimal("0.0001"), context=MONEY))


def calc_spot_margin(
    side: SideOpt,
    price: PriceOpt,
    qty: QtyOpt,
    leverage: LevOpt,
    venue: VenueOpt = "binance",
    pair: PairOpt = "BTC-USDT",
    margin_asset: MarginAssetOpt = "quote",
    mode: ModeOpt = "new",
    mark: MarkOpt = None,
    hours: HoursOpt = "0",
    daily_rate: RateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Spot isolated margin position (Binance margin level / OKX maintenance ratio): assets, liability, interest,
    margin, liquidation price, what more may be borrowed."""
    result = guarded(
        lambda: spot_margin_figures(
            venue, pair, side, margin_asset, mode, price, qty, leverage, mark, hours, daily_rate
        )
    )
    if as_json:
        print(json.dumps(js(result), ensure_ascii=False))
        return
    out.print(table(result))
    out.print(
        "[dim]no fee on the opening trade; interest: 1 h at the borrow, then every xx:00[/]",
        highlight=False,
    )
