"""Coin-margined (inverse) contracts: whole contracts and face value, the coin notional, maintenance margin by
tier on the coin notional, the bankruptcy price, and the harmonic average entry.

An inverse contract is worth a fixed amount of USD (its contract size: 100 USD for Binance's BTCUSD, 10 for
ETHUSD); isomargin sizes a position by its face value Q = contracts × contract size. Its value in the coin at
price P is Q/P, its PnL is side·Q·(1/entry − 1/P), and margin, fees and funding are all in the coin.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from isomargin.margin.contract import ContractKind, Side
from isomargin.margin.errors import MarginError
from isomargin.margin.liquidation import bankruptcy_price
from isomargin.margin.numbers import ZERO, exact, non_negative, positive
from isomargin.margin.tiers import TierBasis, TierTable


@exact
def face_value(contracts: object, contract_size: object) -> Decimal:
    """Face value in USD of `contracts` whole contracts of `contract_size` USD each."""
    n = positive(contracts, "contracts")
    if n != n.to_integral_value():
        raise MarginError("not_whole_contracts", f"an inverse position is a whole number of contracts, got {n}")
    return n * positive(contract_size, "contract size")


@exact
def contracts_of(face: object, contract_size: object) -> Decimal:
    """The number of contracts a face value stands for; a face value off the contract grid is refused."""
    q = positive(face, "face value")
    size = positive(contract_size, "contract size")
    n = q / size
    if n != n.to_integral_value():
        raise MarginError(
            "not_whole_contracts", f"face value {q} is not a whole number of {size}-USD contracts ({n} contracts)"
        )
    return n


@exact
def coin_notional(face: object, price: object) -> Decimal:
    """The position's value in the coin at `price`: Q / P."""
    return non_negative(face, "face value") / positive(price, "price")


@exact
def inverse_maintenance_margin(face: object, price: object, table: TierTable, fee_rate: object = ZERO) -> Decimal:
    """Maintenance margin in the coin at mark `price`: N·(rate + fee) − amount with N = Q/P, the tier chosen by the
    coin notional N (Binance COIN-M brackets, TierBasis.NOTIONAL) or by contracts (TierBasis.CONTRACTS, where the
    table's contract size is the contract's USD size). Past the last cap the last tier goes on applying."""
    q = non_negative(face, "face value")
    value = q / positive(price, "price")
    key = value if table.basis is TierBasis.NOTIONAL else q / table.contract_size
    tier = table.tier_at(key)
    return value * (tier.mmr + non_negative(fee_rate, "fee rate")) - tier.maint_amount


@exact
def inverse_bankruptcy_price(side: Side, face: object, entry: object, margin: object) -> Decimal | None:
    """Where the isolated margin (in the coin) is used up: M + side·Q·(1/E − 1/P) = 0, P = Q / (side·M + Q/E).
    None for a short whose margin covers more than its notional (it can never go bankrupt)."""
    return bankruptcy_price(side, face, entry, margin, ContractKind.INVERSE)


@exact
def inverse_pnl(side: Side, face: object, entry: object, exit_price: object) -> Decimal:
    """Realised or unrealised PnL in the coin: side·Q·(1/entry − 1/exit), Q = contracts × contract size."""
    q = non_negative(face, "face value")
    return side * q * (1 / positive(entry, "entry price") - 1 / positive(exit_price, "exit price"))


@exact
def harmonic_entry(fills: Iterable[tuple[object, object]]) -> Decimal:
    """Average entry of inverse fills (face value, price): ΣQ / Σ(Q/P), the price at which the whole position's
    coin notional equals the fills' summed coin notionals, so its PnL at any exit is the fills' summed PnL.
    Summed as exact fractions and rounded once (the harmonic mean of 40,000 and 60,000 is 48,000, not 47,999.99…)."""
    total_face = Fraction(0)
    total_coin = Fraction(0)
    for face, price in fills:
        q = Fraction(positive(face, "face value"))
        total_face += q
        total_coin += q / Fraction(positive(price, "price"))
    if total_face == 0:
        raise MarginError("no_fills", "an average entry needs at least one fill")
    return _decimal(total_face / total_coin)


def _decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal, rounded once under the MONEY context."""
    return Decimal(value.numerator) / Decimal(value.denominator)


@exact
def average_entry(kind: ContractKind, size: object, entry: object, added: object, price: object) -> Decimal:
    """Entry after adding `added` at `price` to a position of `size` at `entry` (same side): the size-weighted
    arithmetic mean for linear contracts, the face-weighted harmonic mean for inverse ones. `size` may be 0."""
    s = non_negative(size, "size")
    a = positive(added, "added size")
    p = positive(price, "price")
    if s == 0:
        return p
    e = positive(entry, "entry price")
    if kind is ContractKind.LINEAR:
        return (s * e + a * p) / (s + a)
    return harmonic_entry([(s, e), (a, p)])
