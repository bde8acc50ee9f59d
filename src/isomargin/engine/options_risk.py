"""Margins and risk of short option positions, read-only and exact (Fractions of settle quanta): the initial and
maintenance requirement of the family's rule at the index and mark, the tier (by the seller's contracts) that sets
the margin factor, the maintenance margin ratio = margin balance / (MM + liquidation fee) and its alert level.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

from isomargin.engine.codes import AlertLevel
from isomargin.engine.options_state import OptionInstrument, OptionPosition
from isomargin.engine.units import PRICE_POINTS, QUANTA
from isomargin.venues.options import OptionKind

ALERT: Final = Fraction(3)  # a liquidation alert below 300 %, as for every isolated product (seed 003)
ONE: Final = Fraction(1)


def tier_index(inst: OptionInstrument, contracts: Fraction) -> int:
    """The tier holding `contracts` (positions and open orders together): its margin factor applies."""
    tiers = inst.family.tiers
    for i, t in enumerate(tiers):
        if t.max_contracts is None or contracts <= Fraction(t.max_contracts):
            return i
    return len(tiers) - 1


def otm(inst: OptionInstrument, index: Fraction) -> Fraction:
    """How far out of the money, in quote per unit: a call above the index, a put below it."""
    k = inst.strike_f
    gap = k - index if inst.kind is OptionKind.CALL else index - k
    return gap if gap > 0 else Fraction(0)


def per_unit(inst: OptionInstrument, index: Fraction, mark: Fraction, contracts: Fraction) -> tuple[Fraction, Fraction]:
    """(initial, maintenance) requirement of a short per unit of the underlying, in settle units, by OKX's rules
    (margin/options.py has the same in Decimal, with sources): IM = max(a, b − OTM / index) × factor (× index
    when settled in the quote) + mark; MM = c × factor (× index) + mark for a call, max(c (× index), c × mark) ×
    factor + mark for a put; the factor is the tier's at the seller's contracts."""
    fam = inst.family
    factor = Fraction(fam.tiers[tier_index(inst, contracts)].margin_factor)
    base = max(Fraction(fam.a), Fraction(fam.b) - otm(inst, index) / index)
    scale = ONE if inst.coin_margined else index
    c = Fraction(fam.c)
    floor = c * scale if inst.kind is OptionKind.CALL else max(c * scale, c * mark)
    return base * factor * scale + mark, floor * factor + mark


def contracts(inst: OptionInstrument, lots: int) -> Fraction:
    return abs(lots) * Fraction(inst.step)


def units(inst: OptionInstrument, lots: int) -> Fraction:
    return abs(lots) * inst.lot_units


def quanta(x: Fraction) -> Fraction:
    return x * QUANTA


def price_of(pp: int) -> Fraction:
    return Fraction(pp, PRICE_POINTS)


def measure(pos: OptionPosition, index: Fraction, mark: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """(margin balance, maintenance margin, liquidation fee) of a short, in settle quanta. OKX's margin balance is
    the position's margin plus its unrealised PnL: the pool (its initial margin, premium included) plus the
    premium received less the contracts' value at the mark — OKX's MM counts the mark itself, so the buy-back
    cost is in the requirement, not taken off the balance twice. The fee is OKX's min(liquidation rate × the
    underlying's value, fee cap × the premium value)."""
    inst = pos.market.inst
    n = units(inst, pos.lots)
    assert pos.pool is not None
    balance = pos.pool.amount + pos.cost - quanta(n * mark)
    _, mm = per_unit(inst, index, mark, contracts(inst, pos.lots))
    return balance, quanta(n * mm), quanta(liquidation_fee(inst, n, index, mark))


def liquidation_fee(inst: OptionInstrument, n: Fraction, index: Fraction, mark: Fraction) -> Fraction:
    """In settle units, for `n` units of the underlying."""
    notional = n if inst.coin_margined else n * index
    return min(notional * inst.liq_fee, inst.fee_cap * mark * n)


def ratio(pos: OptionPosition, index: Fraction, mark: Fraction) -> Fraction | None:
    if pos.lots >= 0 or pos.pool is None:
        return None
    balance, mm, fee = measure(pos, index, mark)
    need = mm + fee
    return None if need <= 0 else balance / need


def alert(pos: OptionPosition, index: Fraction, mark: Fraction) -> tuple[AlertLevel, Fraction | None]:
    r = ratio(pos, index, mark)
    if r is None:
        return AlertLevel.OK, None
    if r <= ONE:
        return AlertLevel.LIQUIDATE, r
    return (AlertLevel.WARNING if r < ALERT else AlertLevel.OK), r


def removable(pos: OptionPosition, index: Fraction, mark: Fraction) -> int:
    """The most margin (quanta) that may leave the pool: what keeps the margin balance at the initial requirement
    and the ratio above 100 %."""
    if pos.pool is None or pos.lots >= 0:
        return 0
    inst = pos.market.inst
    n = units(inst, pos.lots)
    im, _ = per_unit(inst, index, mark, contracts(inst, pos.lots))
    balance, mm, fee = measure(pos, index, mark)
    spare = min(balance - quanta(n * im), balance - mm - fee - 1, Fraction(pos.pool.amount))
    return max(0, int(spare))
