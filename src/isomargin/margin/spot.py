"""Spot isolated margin: one margin account per (account, pair) holding base and quote assets against borrowed
base or quote liabilities with hourly interest. Pure Decimal functions: net assets, OKX's maintenance margin
ratio and liquidation price, Binance's margin level and the prices where it reaches a threshold, the largest
borrow a threshold allows, interest, and the position view of the seed's old/new accounting modes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Protocol

from isomargin.margin.contract import Side
from isomargin.margin.errors import MarginError
from isomargin.margin.numbers import ONE, ZERO, exact, non_negative, positive

# Interest is kept to 10⁻¹⁰ of the borrowed asset: finer than any venue displays (Binance shows 8 places), so
# rounding each hour's charge up to it costs the borrower less than 10⁻¹⁰ an hour and never under-charges.
INTEREST_QUANTUM = Decimal("1e-10")
HOURS_PER_DAY = 24
MS_PER_HOUR = 3_600_000
# Bounds of what the interest helpers accept: a century of hours; a loan older than that is a bad timestamp.
MAX_INTEREST_HOURS = 100 * 366 * HOURS_PER_DAY


class SpotAsset(StrEnum):
    """Which of the pair's two assets: the base (BTC in BTC-USDT) or the quote (USDT)."""

    BASE = "base"
    QUOTE = "quote"

    @classmethod
    def parse(cls, text: str | SpotAsset) -> SpotAsset:
        if isinstance(text, SpotAsset):
            return text
        key = text.strip().lower()
        if key in ("base", "quote"):
            return cls(key)
        raise MarginError("bad_asset", f"asset must be base or quote, got {text!r}")


class AccountingMode(StrEnum):
    """OKX's two displays of an isolated margin position (seed 003): OLD counts the margin into the position's
    assets when it is in the assets' currency; NEW shows only what was bought (or sold) with it."""

    OLD = "old"
    NEW = "new"

    @classmethod
    def parse(cls, text: str | AccountingMode) -> AccountingMode:
        if isinstance(text, AccountingMode):
            return text
        key = text.strip().lower()
        if key in ("old", "new"):
            return cls(key)
        raise MarginError("bad_mode", f"accounting mode must be old or new, got {text!r}")


class HasBorrowLevel(Protocol):
    """Anything carrying a borrow threshold (a venue's `MarginLevels`); margin/ imports nothing from venues/."""

    @property
    def borrow(self) -> Decimal: ...


@dataclass(frozen=True)
class SpotAccountState:
    """What one isolated margin account holds and owes. `*_assets` is everything held of that asset, margin
    included; `*_liability` the borrowed principal; `*_interest` the interest accrued and not yet repaid."""

    base_assets: Decimal = ZERO
    quote_assets: Decimal = ZERO
    base_liability: Decimal = ZERO
    base_interest: Decimal = ZERO
    quote_liability: Decimal = ZERO
    quote_interest: Decimal = ZERO

    def __post_init__(self) -> None:
        for f in fields(self):
            # Validated and normalised here so every function below can trust the state (no floats, no NaN).
            object.__setattr__(self, f.name, non_negative(getattr(self, f.name), f.name.replace("_", " ")))

    @property
    def base_owed(self) -> Decimal:
        """Base liability plus its interest (OKX's and Binance's formulas always use the two together)."""
        return self.base_liability + self.base_interest

    @property
    def quote_owed(self) -> Decimal:
        return self.quote_liability + self.quote_interest


def _mark(mark: object) -> Decimal:
    return positive(mark, "mark price")


# ------------------------------------------------------------------------------------------------ OKX
@exact
def net_assets(s: SpotAccountState, mark: object) -> Decimal:
    """Net assets in the quote asset: (QA − QL − QI) + (BA − BL − BI) × mark (OKX "Quick Margin Mode")."""
    m = _mark(mark)
    return (s.quote_assets - s.quote_owed) + (s.base_assets - s.base_owed) * m


@exact
def okx_maintenance(s: SpotAccountState, mark: object, mmr: object) -> Decimal:
    """Maintenance margin in quote: (QL + QI) × MMR + (BL + BI) × mark × MMR."""
    m, rate = _mark(mark), non_negative(mmr, "mmr")
    return s.quote_owed * rate + s.base_owed * m * rate


@exact
def okx_liquidation_fee(s: SpotAccountState, mark: object, mmr: object, taker: object) -> Decimal:
    """The fee OKX counts in the ratio's denominator: ((QL + QI) + (BL + BI) × mark) × (1 + MMR) × taker, the
    taker fee on buying back the liability with its maintenance margin on top."""
    m, rate, fee = _mark(mark), non_negative(mmr, "mmr"), non_negative(taker, "taker fee")
    return (s.quote_owed + s.base_owed * m) * (ONE + rate) * fee


@exact
def okx_margin_ratio(s: SpotAccountState, mark: object, mmr: object, taker: object) -> Decimal | None:
    """Net assets / (maintenance margin + liquidation fee); None with no liability (OKX shows none then).
    At or below 1 (100 %) OKX liquidates."""
    need = okx_maintenance(s, mark, mmr) + okx_liquidation_fee(s, mark, mmr, taker)
    if s.quote_owed == 0 and s.base_owed == 0:
        return None
    if need == 0:
        raise MarginError("zero_maintenance", "mmr and taker fee are both zero: the ratio is undefined")
    return net_assets(s, mark) / need


@exact
def okx_liquidation_price(s: SpotAccountState, mmr: object, taker: object) -> Decimal | None:
    """The mark where `okx_margin_ratio` is 1: [QLt·(1+MMR)(1+taker) − QA] / [BA − BLt·(1+MMR)(1+taker)],
    QLt = QL + QI, BLt = BL + BI. None where that has no positive solution (nothing owed, or the account
    cannot fall to the threshold at any price)."""
    k = (ONE + non_negative(mmr, "mmr")) * (ONE + non_negative(taker, "taker fee"))
    return _threshold_price(s, k)


def _threshold_price(s: SpotAccountState, k: Decimal) -> Decimal | None:
    # Both venues' tests are linear in the mark: BA·p + QA = k·(BLt·p + QLt) (OKX: ratio 1 ⇔ net = MM + fee,
    # which rearranges to assets = k × owed; Binance: level = k). Solve for p.
    if s.quote_owed == 0 and s.base_owed == 0:
        return None
    num = k * s.quote_owed - s.quote_assets
    den = s.base_assets - k * s.base_owed
    if den == 0:
        return None
    price = num / den
    return price if price > 0 else None


# -------------------------------------------------------------------------------------------- Binance
@exact
def margin_level(s: SpotAccountState, mark: object) -> Decimal | None:
    """Binance: total asset value / (liability + interest), both in quote at `mark`; None with nothing owed."""
    m = _mark(mark)
    owed = s.base_owed * m + s.quote_owed
    if owed == 0:
        return None
    return (s.base_assets * m + s.quote_assets) / owed


@exact
def level_price(s: SpotAccountState, level: object) -> Decimal | None:
    """The mark at which `margin_level` equals `level` (a long owes quote and falls to it as the price drops; a
    short owes base and falls to it as the price rises): (level·QLt − QA) / (BA − level·BLt). None where no
    positive price solves it."""
    return _threshold_price(s, positive(level, "margin level"))


def _borrow_ratio(levels: HasBorrowLevel | Decimal | int) -> tuple[Decimal, Decimal]:
    # The threshold as numerator / denominator, so a whole leverage's L / (L − 1) stays exact in max_borrowable.
    if isinstance(levels, bool):
        raise MarginError("bad_leverage", "leverage must be a whole number of at least 2")
    if isinstance(levels, int):
        if levels < 2:
            raise MarginError("bad_leverage", f"leverage must be a whole number of at least 2, got {levels}")
        return Decimal(levels), Decimal(levels - 1)
    if isinstance(levels, Decimal):
        return positive(levels, "borrow level"), ONE
    return positive(levels.borrow, "borrow level"), ONE


@exact
def borrow_level_of(levels: HasBorrowLevel | Decimal | int) -> Decimal:
    """The margin level a borrow must leave: a venue's published threshold, or from a whole leverage L the
    ratio L / (L − 1) that Binance's initial risk ratios follow (10× 1.111, 5× 1.25, 3× 1.5)."""
    num, den = _borrow_ratio(levels)
    return num / den


@exact
def max_borrowable(
    s: SpotAccountState,
    asset: SpotAsset | str,
    mark: object,
    levels: HasBorrowLevel | Decimal | int,
    limit: object | None = None,
) -> Decimal:
    """The largest x of `asset` that can be borrowed (assets and liability both grow by x) with the margin level
    still ≥ the borrow threshold b: x ≤ (A − b·L) / (b − 1) in quote (A assets, L owed, at `mark`), divided by
    the mark for the base. Capped by `limit` (max principal per account) minus the principal already owed;
    never below zero."""
    which = SpotAsset.parse(asset)
    m = _mark(mark)
    num, den = _borrow_ratio(levels)
    if num <= den:
        raise MarginError("bad_borrow_level", f"the borrow level must exceed 1, got {num / den}")
    assets = s.base_assets * m + s.quote_assets
    owed = s.base_owed * m + s.quote_owed
    # (A − b·L) / (b − 1) with b = num/den, multiplied through by den: one division, exact for whole leverages.
    room = (assets * den - num * owed) / (num - den)
    x = room if which is SpotAsset.QUOTE else room / m
    if limit is not None:
        principal = s.base_liability if which is SpotAsset.BASE else s.quote_liability
        x = min(x, non_negative(limit, "borrow limit") - principal)
    return max(x, ZERO)


# ------------------------------------------------------------------------------------------- interest
@exact
def hourly_interest(principal: object, daily_rate: object) -> Decimal:
    """One hour's interest: principal × daily rate / 24, rounded UP to 10⁻¹⁰ (protects the venue: a rounded
    charge is never below the exact one)."""
    p, r = non_negative(principal, "principal"), non_negative(daily_rate, "daily rate")
    return (p * r / HOURS_PER_DAY).quantize(INTEREST_QUANTUM, rounding=ROUND_CEILING)


@exact
def interest_over(principal: object, daily_rate: object, hours: int) -> Decimal:
    """Simple interest over `hours` charged hours: hours × `hourly_interest` (each hour rounded on its own, as
    each is charged on its own)."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not 0 <= hours <= MAX_INTEREST_HOURS:
        raise MarginError("bad_hours", f"hours must be a whole number from 0 to {MAX_INTEREST_HOURS}, got {hours!r}")
    return hourly_interest(principal, daily_rate) * hours


def hours_charged(borrowed_at_ms: int, now_ms: int) -> int:
    """Hours of interest a loan has been charged by `now_ms` under Binance's rule: one hour at the moment of
    borrowing, then one more at every full clock hour (xx:00 UTC) after it (13:55 → 14:30 is two hours)."""
    for name, v in (("borrowed at", borrowed_at_ms), ("now", now_ms)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise MarginError("bad_time", f"{name} must be a non-negative whole number of milliseconds, got {v!r}")
    if now_ms < borrowed_at_ms:
        raise MarginError("bad_time", "now is before the borrow")
    hours = 1 + now_ms // MS_PER_HOUR - borrowed_at_ms // MS_PER_HOUR
    if hours > MAX_INTEREST_HOURS:
        raise MarginError("bad_time", f"a loan older than {MAX_INTEREST_HOURS} hours is not credible")
    return hours


# ------------------------------------------------------------------------------------------- position view
@dataclass(frozen=True)
class SpotPositionView:
    """An isolated margin account seen as one position, in OKX's terms (see `position_view`)."""

    side: Side
    mode: AccountingMode
    asset: Decimal
    asset_currency: str
    liability: Decimal  # borrowed principal
    interest: Decimal
    liability_total: Decimal
    liability_currency: str
    margin: Decimal
    margin_currency: str
    entry_price: Decimal | None
    liquidation_price: Decimal | None
    pnl: Decimal
    pnl_currency: str
    pnl_ratio: Decimal | None  # PnL / margin; None with no margin
    margin_level: Decimal | None  # Binance's definition, always shown
    margin_ratio: Decimal | None  # OKX's maintenance margin ratio, when an MMR is given


@exact
def position_view(
    s: SpotAccountState,
    mark: object,
    margin_asset: SpotAsset | str,
    margin: object,
    mode: AccountingMode | str,
    *,
    entry_price: object | None = None,
    mmr: object | None = None,
    taker: object = ZERO,
    liquidation_level: object | None = None,
    base: str = "BASE",
    quote: str = "QUOTE",
) -> SpotPositionView:
    """The account as one position. LONG when it owes quote (it bought base with it), SHORT when it owes base
    (it sold it for quote). The position's asset is what it holds of the bought currency (long: base; short:
    quote); in OLD mode that includes the margin when the margin is in that currency, in NEW mode it does not.

    PnL is in the margin's currency: equity (`net_assets`) in it minus the margin, so that with OKX's own
    margin currency (long: base; short: quote) it is OKX's published "assets − margin − (liability + interest) /
    mark" (long, base) and "assets − margin − (liability + interest) × mark" (short, quote); PnL ratio = PnL /
    margin. The liquidation price is OKX's closed form when `mmr` is given, else Binance's `level_price` at
    `liquidation_level` when that is given, else None."""
    m = _mark(mark)
    margin_in = SpotAsset.parse(margin_asset)
    accounting = AccountingMode.parse(mode)
    margin_amount = non_negative(margin, "margin")
    if s.quote_owed > 0 and s.base_owed > 0:
        raise MarginError("two_liabilities", "the account owes both assets: it is not one long or short position")
    if s.quote_owed > 0:
        side, held, held_in = Side.LONG, s.base_assets, SpotAsset.BASE
        principal, interest, owed_in = s.quote_liability, s.quote_interest, quote
    elif s.base_owed > 0:
        side, held, held_in = Side.SHORT, s.quote_assets, SpotAsset.QUOTE
        principal, interest, owed_in = s.base_liability, s.base_interest, base
    else:
        raise MarginError("no_liability", "the account owes nothing: no position is open")
    if accounting is AccountingMode.NEW and margin_in is held_in:
        held -= margin_amount
        if held < 0:
            raise MarginError("margin_above_assets", "the margin is more than the account holds of that asset")
    equity = net_assets(s, m)
    # One division for a base margin, so the figure is rounded once (equity / m − margin would round twice).
    pnl = equity - margin_amount if margin_in is SpotAsset.QUOTE else (equity - margin_amount * m) / m
    if mmr is not None:
        liq = okx_liquidation_price(s, mmr, taker)
        ratio = okx_margin_ratio(s, m, mmr, taker)
    else:
        liq = level_price(s, liquidation_level) if liquidation_level is not None else None
        ratio = None
    name = {SpotAsset.BASE: base, SpotAsset.QUOTE: quote}
    return SpotPositionView(
        side=side,
        mode=accounting,
        asset=held,
        asset_currency=name[held_in],
        liability=principal,
        interest=interest,
        liability_total=principal + interest,
        liability_currency=owed_in,
        margin=margin_amount,
        margin_currency=name[margin_in],
        entry_price=positive(entry_price, "entry price") if entry_price is not None else None,
        liquidation_price=liq,
        pnl=pnl,
        pnl_currency=name[margin_in],
        pnl_ratio=pnl / margin_amount if margin_amount > 0 else None,
        margin_level=margin_level(s, m),
        margin_ratio=ratio,
    )
