"""European cash-settled options, pure and exact: Black-76 prices and greeks from Decimal's correctly rounded
exp/ln/sqrt and an erf series to 60 digits; premium value, intrinsic and settlement value (coin- or
quote-settled); and OKX's isolated seller margins (position IMR/MMR by tier, the four order margins, trading and
liquidation fees, maintenance margin ratio, the mark at which a short reaches 100 %, partial liquidation by tier).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    getcontext,
    localcontext,
)
from enum import StrEnum
from typing import Protocol

from isomargin.margin.errors import MarginError
from isomargin.margin.numbers import MONEY, ONE, ZERO, D, exact

# Working precision of the transcendental parts (Black-76, the normal CDF): 60 digits, so that a result rounded
# to MONEY's 34 keeps at least 28 correct ones after the subtraction in C = F·N(d1) − K·N(d2).
WORK = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
# π to 64 digits, checked against (and, past 64 digits, replaced by) Machin's formula in `pi()`.
PI = Decimal("3.141592653589793238462643383279502884197169399375105820974944592")
_pi_cache: dict[int, Decimal] = {}
# erfc(40) < 10⁻⁶⁹⁰: below every price any venue quotes, so |z| ≥ 40 is treated as erf(z) = ±1 exactly.
ERF_SATURATES_AT = Decimal(40)
MAX_ERF_TERMS = 20_000  # the series needs about 2z² + 150 terms; this bound is never reached for |z| < 40
# Input bounds: they keep every intermediate far inside the contexts and say what a caller may ask for.
MAX_PRICE = Decimal(10) ** 12
MAX_YEARS = Decimal(100)
MAX_VOL = Decimal(100)  # 10,000 % a year
MAX_RATE = Decimal(1)
MAX_CONTRACTS = Decimal(10) ** 12
MAX_NUMBER_CHARS = 60


class OptionKind(StrEnum):
    """A call or a put; the value is the letter of the venues' symbols."""

    CALL = "C"
    PUT = "P"

    @classmethod
    def parse(cls, text: str | OptionKind) -> OptionKind:
        if isinstance(text, OptionKind):
            return text
        if isinstance(text, str):
            key = text.strip().lower()
            if key in ("c", "call"):
                return cls.CALL
            if key in ("p", "put"):
                return cls.PUT
        raise MarginError("bad_kind", f"option kind must be call or put, got {text!r}")


class OrderAction(StrEnum):
    """The four option orders OKX margins differently."""

    BUY_OPEN = "buy_open"
    SELL_OPEN = "sell_open"
    SELL_CLOSE = "sell_close"
    BUY_CLOSE = "buy_close"

    @classmethod
    def parse(cls, text: str | OrderAction) -> OrderAction:
        if isinstance(text, OrderAction):
            return text
        key = text.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(text, str) else ""
        try:
            return cls(key)
        except ValueError:
            raise MarginError(
                "bad_action", f"order action must be one of {', '.join(a.value for a in cls)}, got {text!r}"
            ) from None


class TierRow(Protocol):
    """One seller tier (a venue's `OptionTier`); margin/ imports nothing from venues/."""

    @property
    def tier(self) -> int: ...
    @property
    def max_contracts(self) -> Decimal | None: ...
    @property
    def margin_factor(self) -> Decimal: ...


class OptionParams(Protocol):
    """What the margin formulas read from a family (a venue's `OptionFamily`)."""

    @property
    def multiplier(self) -> Decimal: ...
    @property
    def a(self) -> Decimal: ...
    @property
    def b(self) -> Decimal: ...
    @property
    def c(self) -> Decimal: ...
    @property
    def min_order_margin(self) -> Decimal: ...
    @property
    def maker_fee(self) -> Decimal: ...
    @property
    def taker_fee(self) -> Decimal: ...
    @property
    def fee_cap(self) -> Decimal: ...
    @property
    def liquidation_fee(self) -> Decimal: ...
    @property
    def tiers(self) -> Sequence[TierRow]: ...
    @property
    def coin_margined(self) -> bool: ...


@dataclass(frozen=True)
class Greeks:
    """Black-76 sensitivities of one unit of the underlying, in the quote currency: delta and gamma with respect
    to the forward, vega per 1.00 of volatility (divide by 100 for one vol point), theta per year of calendar
    time passing (divide by 365 for a day)."""

    delta: Decimal
    gamma: Decimal
    vega: Decimal
    theta: Decimal


# ----------------------------------------------------------------------------------------- input checks
def num(value: object, name: str) -> Decimal:
    """A finite Decimal from a Decimal, int or ASCII string; floats, NaN, infinities and non-ASCII digits (which
    Python's Decimal would read: "١٠٠") are refused with a MarginError."""
    if isinstance(value, str) and (not value.isascii() or len(value) > MAX_NUMBER_CHARS):
        raise MarginError("bad_number", f"{name} must be a plain ASCII decimal, got {value[:MAX_NUMBER_CHARS]!r}")
    return D(value, name)


def _within(value: object, name: str, high: Decimal, *, zero_ok: bool = False) -> Decimal:
    d = num(value, name)
    if d < 0 or (d == 0 and not zero_ok):
        code = "negative" if d < 0 else "not_positive"
        raise MarginError(code, f"{name} must be {'≥' if zero_ok else '>'} 0, got {d}")
    if d > high:
        raise MarginError("too_large", f"{name} must be at most {high}, got {d}")
    return d


def _price(value: object, name: str) -> Decimal:
    return _within(value, name, MAX_PRICE)


def _premium(value: object, name: str) -> Decimal:
    return _within(value, name, MAX_PRICE, zero_ok=True)


def _contracts(value: object, name: str = "contracts") -> Decimal:
    return _within(value, name, MAX_CONTRACTS, zero_ok=True)


# ------------------------------------------------------------------------------------- normal distribution
def _atan_inverse(n: int) -> Decimal:
    """atan(1/n) by its alternating series Σ (−1)^k / ((2k+1)·n^(2k+1)), under the current context."""
    eps = Decimal(10) ** -(getcontext().prec + 5)
    power = Decimal(1) / n
    n2 = n * n
    total = power
    k = 0
    while power > eps:
        k += 1
        power /= n2
        term = power / (2 * k + 1)
        total += -term if k % 2 else term
    return total


def pi() -> Decimal:
    """π to the current precision: Machin's 16·atan(1/5) − 4·atan(1/239) past the 64 digits of PI (the erf
    series near |z| = 40 runs at 760 digits and its 2/√π factor must be as exact as the rest)."""
    prec = getcontext().prec
    if prec <= 60:
        return +PI
    if prec not in _pi_cache:
        with localcontext() as ctx:
            ctx.prec = prec + 10
            value = 16 * _atan_inverse(5) - 4 * _atan_inverse(239)
        _pi_cache[prec] = value
    return +_pi_cache[prec]


def _erf(z: Decimal) -> Decimal:
    """erf(z) under the current context by the everywhere-convergent series
    erf(z) = 2/√π · e^(−z²) · Σ 2ⁿ z^(2n+1) / (1·3·…·(2n+1)), whose terms are all of z's sign (no cancellation
    inside the sum)."""
    if z == 0:
        return ZERO
    if abs(z) >= ERF_SATURATES_AT:
        return ONE if z > 0 else -ONE
    z2 = z * z
    term = z
    total = z
    eps = Decimal(10) ** -(getcontext().prec + 5)
    n = 0
    while abs(term) > eps * abs(total):
        n += 1
        if n > MAX_ERF_TERMS:  # pragma: no cover - unreachable for |z| < 40
            raise MarginError("no_convergence", f"erf series did not converge at {z}")
        term = term * 2 * z2 / (2 * n + 1)
        total += term
    return 2 / pi().sqrt() * (-z2).exp() * total


def norm_cdf(x: object) -> Decimal:
    """Φ(x), the standard normal CDF, to 34 significant digits (MONEY) from a 60-digit computation. Below the
    median it is erfc(|x|/√2)/2, computed with as many extra digits as 1 − erf loses there, so small tail values
    keep their relative precision."""
    v = num(x, "x")
    with localcontext(WORK):
        result = _cdf(v)
    return MONEY.plus(result)


def _cdf(x: Decimal) -> Decimal:
    """Φ under the current (WORK) precision, without re-rounding to MONEY."""
    with localcontext() as ctx:
        z = abs(x) / Decimal(2).sqrt()
        extra = int(z * z * Decimal("0.4343")) + 10 if z < ERF_SATURATES_AT else 0
        base = ctx.prec
        ctx.prec = base + extra
        tail = (ONE - _erf(z)) / 2
        result = tail if x < 0 else ONE - tail
        ctx.prec = base
        return +result


def norm_pdf(x: object) -> Decimal:
    """φ(x) = e^(−x²/2)/√(2π), to 34 digits."""
    v = num(x, "x")
    with localcontext(WORK):
        result = (-(v * v) / 2).exp() / (2 * PI).sqrt()
    return MONEY.plus(result)


# ------------------------------------------------------------------------------------------------ Black-76
def _inputs(
    forward: object, strike: object, t_years: object, vol: object, rate: object
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    f = _price(forward, "forward")
    k = _price(strike, "strike")
    t = _within(t_years, "t_years", MAX_YEARS)
    s = _within(vol, "vol", MAX_VOL)
    r = num(rate, "rate")
    if abs(r) > MAX_RATE:
        raise MarginError("too_large", f"rate must be within ±{MAX_RATE}, got {r}")
    return f, k, t, s, r


def _d1_d2(f: Decimal, k: Decimal, t: Decimal, s: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    root = s * t.sqrt()
    d1 = ((f / k).ln() + s * s * t / 2) / root
    return d1, d1 - root, root


def black76(
    kind: OptionKind | str, forward: object, strike: object, t_years: object, vol: object, rate: object = 0
) -> Decimal:
    """Black-76 price of one unit of the underlying in the quote currency:
    call e^(−rT)·(F·Φ(d1) − K·Φ(d2)), put e^(−rT)·(K·Φ(−d2) − F·Φ(−d1)), d1 = (ln(F/K) + σ²T/2)/(σ√T),
    d2 = d1 − σ√T; undiscounted when rate = 0 (the venues' marks)."""
    k_ = OptionKind.parse(kind)
    f, k, t, s, r = _inputs(forward, strike, t_years, vol, rate)
    with localcontext(WORK):
        d1, d2, _ = _d1_d2(f, k, t, s)
        disc = (-r * t).exp()
        if k_ is OptionKind.CALL:
            value = disc * (f * _cdf(d1) - k * _cdf(d2))
        else:
            value = disc * (k * _cdf(-d2) - f * _cdf(-d1))
        value = max(value, ZERO)  # never below zero from the last digit of a difference
    return MONEY.plus(value)


def greeks(
    kind: OptionKind | str, forward: object, strike: object, t_years: object, vol: object, rate: object = 0
) -> Greeks:
    """Black-76 delta (∂V/∂F), gamma (∂²V/∂F²), vega (∂V/∂σ) and theta (−∂V/∂T, per year) of one unit."""
    k_ = OptionKind.parse(kind)
    f, k, t, s, r = _inputs(forward, strike, t_years, vol, rate)
    with localcontext(WORK):
        d1, d2, root = _d1_d2(f, k, t, s)
        disc = (-r * t).exp()
        pdf = (-(d1 * d1) / 2).exp() / (2 * PI).sqrt()
        if k_ is OptionKind.CALL:
            delta = disc * _cdf(d1)
            value = disc * (f * _cdf(d1) - k * _cdf(d2))
        else:
            delta = -disc * _cdf(-d1)
            value = disc * (k * _cdf(-d2) - f * _cdf(-d1))
        gamma = disc * pdf / (f * root)
        vega = disc * f * pdf * t.sqrt()
        theta = -disc * f * pdf * s / (2 * t.sqrt()) + r * value
    return Greeks(*(MONEY.plus(g) for g in (delta, gamma, vega, theta)))


# ----------------------------------------------------------------------------------------- value, payoff
@exact
def premium_value(contracts: object, mark: object, multiplier: object) -> Decimal:
    """Options value = size × mark × multiplier (seed 003), in the premium's currency."""
    return _contracts(contracts) * _premium(mark, "mark") * _price(multiplier, "multiplier")


@exact
def intrinsic(kind: OptionKind | str, settle_price: object, strike: object) -> Decimal:
    """Intrinsic value of one unit in the quote: max(0, S − K) for a call, max(0, K − S) for a put."""
    k_ = OptionKind.parse(kind)
    s = _price(settle_price, "settle price")
    k = _price(strike, "strike")
    return max(ZERO, s - k) if k_ is OptionKind.CALL else max(ZERO, k - s)


@exact
def settlement_in_coin(kind: OptionKind | str, settle_price: object, strike: object, multiplier: object) -> Decimal:
    """What one coin-margined contract pays at expiry, in the coin: intrinsic / S × multiplier (the quote value
    converted at the settlement price)."""
    s = _price(settle_price, "settle price")
    return intrinsic(kind, s, strike) / s * _price(multiplier, "multiplier")


@exact
def settlement_in_quote(kind: OptionKind | str, settle_price: object, strike: object, multiplier: object) -> Decimal:
    """What one quote-settled (USDT-margined) contract pays at expiry, in the quote: intrinsic × multiplier."""
    return intrinsic(kind, settle_price, strike) * _price(multiplier, "multiplier")


@exact
def otm_amount(kind: OptionKind | str, index: object, strike: object) -> Decimal:
    """How far out of the money, in the quote: a call max(0, K − F), a put max(0, F − K) (F: OKX uses the
    same-expiry forward's mark, 0 when in the money)."""
    k_ = OptionKind.parse(kind)
    f = _price(index, "index")
    k = _price(strike, "strike")
    return max(ZERO, k - f) if k_ is OptionKind.CALL else max(ZERO, f - k)


# ---------------------------------------------------------------------------------------- seller margins
def tier_of(tiers: Sequence[TierRow], contracts_total: object) -> TierRow:
    """The tier of a seller with `contracts_total` contracts (positions and open sell orders; bounds inclusive)."""
    n = _contracts(contracts_total, "contracts_total")
    if not tiers:
        raise MarginError("no_tiers", "the family has no tiers")
    for row in tiers:
        if row.max_contracts is None or n <= row.max_contracts:
            return row
    return tiers[-1]


def _index_or(forward: Decimal, index: object | None) -> Decimal:
    return forward if index is None else _price(index, "index")


@exact
def short_im_per_contract(
    kind: OptionKind | str,
    forward: object,
    strike: object,
    mark: object,
    family: OptionParams,
    contracts_total: object,
    *,
    index: object | None = None,
) -> Decimal:
    """OKX's position IMR of one short contract in the settle asset:
    coin-margined (max(a, b − OTM/F) × factor + mark) × multiplier; USDT-margined
    (max(a, b − OTM/F) × factor × index + mark) × multiplier."""
    f = _price(forward, "forward")
    otm = otm_amount(kind, f, strike)
    m = _premium(mark, "mark")
    factor = tier_of(family.tiers, contracts_total).margin_factor
    base = max(family.a, family.b - otm / f) * factor
    scale = ONE if family.coin_margined else _index_or(f, index)
    return (base * scale + m) * family.multiplier


@exact
def short_initial_margin(
    kind: OptionKind | str,
    index_or_forward: object,
    strike: object,
    mark: object,
    family: OptionParams,
    contracts_total: object,
    *,
    contracts: object | None = None,
    index: object | None = None,
) -> Decimal:
    """Position IMR of `contracts` short contracts (default: `contracts_total`, which sets the tier)."""
    n = _contracts(contracts_total if contracts is None else contracts)
    return n * short_im_per_contract(kind, index_or_forward, strike, mark, family, contracts_total, index=index)


@exact
def short_mm_per_contract(
    kind: OptionKind | str, index: object, mark: object, family: OptionParams, contracts_total: object
) -> Decimal:
    """OKX's MMR of one short contract in the settle asset. Coin-margined: call (c × factor + mark) × multiplier,
    put (max(c, c × mark) × factor + mark) × multiplier; USDT-margined: c × index in place of c, and
    max(c × index, c × mark) for a put."""
    k_ = OptionKind.parse(kind)
    i = _price(index, "index")
    m = _premium(mark, "mark")
    factor = tier_of(family.tiers, contracts_total).margin_factor
    c = family.c if family.coin_margined else family.c * i
    floor = c if k_ is OptionKind.CALL else max(c, family.c * m)
    return (floor * factor + m) * family.multiplier


@exact
def short_maintenance_margin(
    kind: OptionKind | str,
    index: object,
    mark: object,
    family: OptionParams,
    contracts_total: object,
    *,
    contracts: object | None = None,
) -> Decimal:
    """MMR of `contracts` short contracts (default: `contracts_total`, which sets the tier)."""
    n = _contracts(contracts_total if contracts is None else contracts)
    return n * short_mm_per_contract(kind, index, mark, family, contracts_total)


@exact
def trading_fee(
    family: OptionParams, contracts: object, price: object, *, index: object | None = None, maker: bool = False
) -> Decimal:
    """OKX's option trading fee: min(rate × multiplier × contracts, fee_cap × price × multiplier × contracts),
    the first term × index when the family is settled in the quote (a rate on the underlying's value)."""
    n = _contracts(contracts)
    p = _premium(price, "price")
    rate = family.maker_fee if maker else family.taker_fee
    notional = family.multiplier * n * (ONE if family.coin_margined else _price(index, "index"))
    return max(ZERO, min(rate * notional, family.fee_cap * p * family.multiplier * n))


@exact
def liquidation_fee(family: OptionParams, contracts: object, mark: object, *, index: object | None = None) -> Decimal:
    """OKX's option liquidation fee: min(liquidation rate × multiplier × contracts, fee_cap × mark × multiplier
    × contracts), the first term × index when settled in the quote."""
    n = _contracts(contracts)
    m = _premium(mark, "mark")
    notional = family.multiplier * n * (ONE if family.coin_margined else _price(index, "index"))
    return min(family.liquidation_fee * notional, family.fee_cap * m * family.multiplier * n)


@exact
def order_margin(
    action: OrderAction | str,
    kind: OptionKind | str,
    forward: object,
    strike: object,
    order_price: object,
    mark: object,
    family: OptionParams,
    contracts: object,
    contracts_total: object | None = None,
    *,
    index: object | None = None,
    fee_per_contract: object | None = None,
) -> Decimal:
    """What an order holds (OKX's four cases), with P the order price, M the multiplier, fee the trading fee of
    one contract at P (taker unless given) and IMR the position IMR of one short contract:
    buy to open (P·M + fee)·n; sell to open max(IMR − P·M + fee, min open-order margin·M (× index in the
    quote))·n; sell to close max(fee − P·M, 0)·n; buy to close max(P·M − IMR + fee, 0)·n."""
    act = OrderAction.parse(action)
    n = _contracts(contracts)
    p = _premium(order_price, "order price")
    f = _price(forward, "forward")
    idx = _index_or(f, index)
    fee = trading_fee(family, 1, p, index=idx) if fee_per_contract is None else _premium(fee_per_contract, "fee")
    premium = p * family.multiplier
    if act is OrderAction.BUY_OPEN:
        return (premium + fee) * n
    if act is OrderAction.SELL_CLOSE:
        return max(fee - premium, ZERO) * n
    total = n if contracts_total is None else contracts_total
    im = short_im_per_contract(kind, f, strike, mark, family, total, index=idx)
    if act is OrderAction.SELL_OPEN:
        floor = family.min_order_margin * family.multiplier * (ONE if family.coin_margined else idx)
        return max(im - premium + fee, floor) * n
    return max(premium - im + fee, ZERO) * n


@exact
def margin_ratio(margin_balance: object, mm: object, fee: object) -> Decimal:
    """Maintenance margin ratio = margin balance / (maintenance margin + liquidation fee); ≤ 1 liquidates."""
    b = num(margin_balance, "margin balance")
    need = _premium(mm, "maintenance margin") + _premium(fee, "liquidation fee")
    if need == 0:
        raise MarginError("no_requirement", "maintenance margin + liquidation fee is zero: the ratio is undefined")
    return b / need


@exact
def short_margin_balance(
    margin: object, entry_price: object, mark: object, multiplier: object, contracts: object
) -> Decimal:
    """An isolated short's margin balance: its margin plus the unrealised PnL (entry − mark) × multiplier × n."""
    return num(margin, "margin") + (_premium(entry_price, "entry price") - _premium(mark, "mark")) * _price(
        multiplier, "multiplier"
    ) * _contracts(contracts)


@exact
def liquidation_mark(
    kind: OptionKind | str,
    index: object,
    entry_price: object,
    margin: object,
    family: OptionParams,
    contracts: object,
    contracts_total: object | None = None,
) -> Decimal:
    """The option mark x at which a short's ratio reaches 100 % with the index held fixed: the root of
    margin + (entry − x)·M·n = MM(x) + fee(x). Closed form: per unit the right side is piecewise affine in x
    (fee min(rate, cap·x), the put's max(c, c·x)), the left side falls one for one, so on each piece
    x = (B − α)/(1 + β) with B = margin/(M·n) + entry; the one piece whose root lies in it answers. Zero when the
    ratio is already ≤ 100 % at a zero mark. Exact (34 digits), not rounded to the tick: a caller rounds down to
    the tick for the first tradeable mark that liquidates."""
    k_ = OptionKind.parse(kind)
    i = _price(index, "index")
    e = _premium(entry_price, "entry price")
    g = num(margin, "margin")
    n = _contracts(contracts)
    if n == 0:
        raise MarginError("no_position", "a position of zero contracts has no liquidation mark")
    total = n if contracts_total is None else _contracts(contracts_total, "contracts_total")
    factor = tier_of(family.tiers, total).margin_factor
    scale = ONE if family.coin_margined else i
    b0 = g / (family.multiplier * n) + e  # left side per unit at x = 0
    fee_kink = family.liquidation_fee * scale / family.fee_cap  # below it the fee is cap·x
    put_kink = scale  # max(c·scale, c·x) switches at x = scale
    kinks = sorted({fee_kink, put_kink} if k_ is OptionKind.PUT else {fee_kink})
    bounds = [ZERO, *kinks]
    for j, lo in enumerate(bounds):
        hi = bounds[j + 1] if j + 1 < len(bounds) else None
        probe = lo if hi is None else (lo + hi) / 2  # which branch each max/min takes on this piece
        alpha = ZERO
        beta = ONE  # the mark itself in MM
        if k_ is OptionKind.CALL or probe < put_kink:
            alpha += family.c * scale * factor
        else:
            beta += family.c * factor
        if probe < fee_kink:
            beta += family.fee_cap
        else:
            alpha += family.liquidation_fee * scale
        x = (b0 - alpha) / (1 + beta)
        if x < lo:
            if j == 0:
                return ZERO  # already at or below 100 % with a worthless option
            continue
        if hi is None or x <= hi:
            return x
    raise AssertionError("unreachable: the last piece is unbounded")  # pragma: no cover


def liquidation_step(tiers: Sequence[TierRow], contracts_total: object) -> tuple[Decimal, bool]:
    """(contracts to close, full?) of one liquidation step: OKX steps a short down ONE tier (to the bound of the
    tier below); a seller in tier 1 is closed in full."""
    n = _contracts(contracts_total, "contracts_total")
    row = tier_of(tiers, n)
    idx = next(j for j, t in enumerate(tiers) if t is row)
    if idx == 0:
        return n, True
    below = tiers[idx - 1].max_contracts
    assert below is not None  # every tier under the last is bounded
    return n - below, False
