"""Double-entry ledger in integer quanta (10⁻¹⁰): every movement of money is a debit from one balance and an
equal credit to another, so the balances of each asset always sum to exactly zero.

Balances are objects owned by what they belong to (an account's wallet and hold, a position's isolated pool, a
fund), named `wallet:<acct>:<asset>`, `hold:<acct>:<asset>`, `isolated:<acct>:<symbol>:<side>`,
`insurance:<asset>[:<symbol>]`, `fees:<asset>`, `settlement:<asset>` (realised PnL clears through it),
`funding:<asset>` (funding clears through it) and `external:<asset>` (the outside world). A command's
postings are collected and reported as one event.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from isomargin.engine.codes import BalanceKind, Posting

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_INSURANCE: Final = BalanceKind.INSURANCE

FUND_HISTORY: Final = 10_000  # insurance fund movements kept per fund for queries (the journal keeps every one)

PostingRow = tuple[str, str, str, int, Posting]  # (debit key, credit key, asset, quanta, reason)


class Balance:
    """One named balance. Only `Ledger.post` changes `amount`."""

    __slots__ = ("amount", "asset", "key", "kind", "owner")

    def __init__(self, key: str, kind: BalanceKind, asset: str, owner: int) -> None:
        self.key = key
        self.kind = kind
        self.asset = asset
        self.owner = owner
        self.amount = 0

    def __repr__(self) -> str:
        return f"Balance({self.key}={self.amount})"


class Ledger:
    """All balances, the current command's postings, and the insurance funds' recent history."""

    __slots__ = ("balances", "history", "postings")

    def __init__(self) -> None:
        self.balances: dict[str, Balance] = {}
        self.postings: list[PostingRow] = []
        self.history: dict[str, deque[tuple[Posting, int, int]]] = {}  # fund key -> (reason, signed, after)

    # -- balances -----------------------------------------------------------------------------------------
    def open(self, kind: BalanceKind, asset: str, owner: int = 0, name: str = "") -> Balance:
        """The balance `<kind>:<name or owner:asset>`, created at zero the first time it is named."""
        key = f"{kind}:{name}" if name else (f"{kind}:{owner}:{asset}" if owner else f"{kind}:{asset}")
        bal = self.balances.get(key)
        if bal is None:
            bal = self.balances[key] = Balance(key, kind, asset, owner)
        return bal

    def close(self, bal: Balance) -> None:
        """Forget an empty balance whose owner is gone (a flat position's pool), so memory stays bounded."""
        if bal.amount == 0:
            self.balances.pop(bal.key, None)

    def get(self, key: str) -> int:
        bal = self.balances.get(key)
        return 0 if bal is None else bal.amount

    # -- movements ------------------------------------------------------------------------------------------
    def post(self, debit: Balance, credit: Balance, amount: int, reason: Posting) -> None:
        """Move `amount` from `debit` to `credit` (a negative amount moves it the other way)."""
        if amount <= 0:
            if amount == 0:
                return
            debit, credit, amount = credit, debit, -amount
        debit.amount -= amount
        credit.amount += amount
        self.postings.append((debit.key, credit.key, debit.asset, amount, reason))
        if debit.kind is _INSURANCE:
            self._remember(debit, reason, -amount)
        if credit.kind is _INSURANCE:
            self._remember(credit, reason, amount)

    def take(self) -> list[PostingRow]:
        """The postings since the last call (one command's), handing the list over and starting a new one."""
        rows = self.postings
        self.postings = []
        return rows

    def _remember(self, fund: Balance, reason: Posting, amount: int) -> None:
        log = self.history.get(fund.key)
        if log is None:
            log = self.history[fund.key] = deque(maxlen=FUND_HISTORY)
        log.append((reason, amount, fund.amount))

    # -- checks ---------------------------------------------------------------------------------------------
    def totals(self) -> dict[str, int]:
        """Sum of all balances per asset: exactly zero for every asset, always."""
        out: dict[str, int] = {}
        for bal in self.balances.values():
            out[bal.asset] = out.get(bal.asset, 0) + bal.amount
        return out

    def by_kind(self, kind: BalanceKind, asset: str | None = None) -> int:
        return sum(b.amount for b in self.balances.values() if b.kind is kind and (asset is None or b.asset == asset))
