"""Double-entry ledger: every movement of money is a debit from one named balance and an equal credit
to another, so the sum over all balances is always exactly zero.

Balance names: wallet:<acct>:<asset>, isolated:<acct>:<symbol>:<side>, hold:<acct>:<asset>,
insurance:<asset>, fees:<asset>, settlement:<asset> (realised PnL and funding clear through it),
external:<asset> (the outside world: deposits come from it, withdrawals go to it).
"""

from __future__ import annotations

from collections import deque
from decimal import ROUND_DOWN, Decimal

from isomargin.engine.events import Event, Posted

ZERO = Decimal(0)
FUND_HISTORY = 10_000  # insurance fund movements kept for queries (the journal keeps every one)
QUANTUM = Decimal("1E-18")  # the finest amount a division may leave in a balance


def money(amount: Decimal) -> Decimal:
    """An amount computed by division (a pro-rata share, margin = notional / leverage), truncated to QUANTUM.

    Everything else the engine posts (price × qty, × fee or funding rate) is already short and exact. With
    every posted amount a multiple of QUANTUM, balances below 10^16 fit in MONEY's 34 digits, so every
    `post` is exact and the ledger sums to exactly zero. Callers move and remember the truncated value.
    """
    return amount.quantize(QUANTUM, rounding=ROUND_DOWN)


def wallet_key(account: int, asset: str) -> str:
    return f"wallet:{account}:{asset}"


def hold_key(account: int, asset: str) -> str:
    return f"hold:{account}:{asset}"


def isolated_key(account: int, symbol: str, side: str) -> str:
    return f"isolated:{account}:{symbol}:{side}"


def insurance_key(asset: str) -> str:
    return f"insurance:{asset}"


def fees_key(asset: str) -> str:
    return f"fees:{asset}"


def settlement_key(asset: str) -> str:
    return f"settlement:{asset}"


def external_key(asset: str) -> str:
    return f"external:{asset}"


class Ledger:
    """Named balances that change only through `post`."""

    __slots__ = ("balances", "history")

    def __init__(self) -> None:
        self.balances: dict[str, Decimal] = {}
        # Insurance fund movements, kept per fund for queries: (reason, signed amount, balance after).
        self.history: dict[str, deque[tuple[str, Decimal, Decimal]]] = {}

    def balance(self, key: str) -> Decimal:
        return self.balances.get(key, ZERO)

    def post(self, debit: str, credit: str, asset: str, amount: Decimal, reason: str, out: list[Event]) -> None:
        """Move `amount` from `debit` to `credit` (a negative amount moves it the other way)."""
        if amount == 0:
            return
        if amount < 0:
            debit, credit, amount = credit, debit, -amount
        b = self.balances
        b[debit] = b.get(debit, ZERO) - amount
        b[credit] = b.get(credit, ZERO) + amount
        out.append(Posted(debit, credit, asset, amount, reason))
        if debit.startswith("insurance:"):
            self._remember(debit, reason, -amount)
        if credit.startswith("insurance:"):
            self._remember(credit, reason, amount)

    def _remember(self, key: str, reason: str, amount: Decimal) -> None:
        log = self.history.get(key)
        if log is None:
            log = self.history[key] = deque(maxlen=FUND_HISTORY)
        log.append((reason, amount, self.balances[key]))

    def total(self) -> Decimal:
        """Always exactly zero: the ledger's own conservation check."""
        return sum(self.balances.values(), ZERO)

    def by_kind(self, kind: str, asset: str | None = None) -> Decimal:
        """Sum of every balance of one kind (e.g. all wallets), optionally for one asset."""
        total = ZERO
        for key, value in self.balances.items():
            parts = key.split(":")
            if parts[0] == kind and (asset is None or _asset_of(parts) == asset):
                total += value
        return total


def _asset_of(parts: list[str]) -> str:
    # isolated balances are named by symbol; their asset is resolved by callers that need it.
    return parts[-1] if parts[0] != "isolated" else ""
