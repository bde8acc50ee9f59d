"""Accounts: creation (with engine-allocated ids), position mode and per-symbol settings, and each account's
wallet and hold balances in the ledger."""

from __future__ import annotations

from typing import Final

from isomargin.engine.codes import BalanceKind, Code
from isomargin.engine.errors import Reject
from isomargin.engine.ledger import Balance, Ledger
from isomargin.engine.state import Account, Purse, Setting

MAX_ACCOUNT_ID: Final = 2**62  # ids are positive and fit a signed 64-bit integer for every adapter


class Accounts:
    """Owns `Account` records and their settings; balances are opened in the shared ledger."""

    __slots__ = ("by_id", "ledger", "next_id")

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.by_id: dict[int, Account] = {}
        self.next_id = 1  # the next id `CreateAccount(account=None)` allocates

    def get(self, account_id: object) -> Account:
        acct = self.by_id.get(account_id) if type(account_id) is int else None
        if acct is None:
            raise Reject(Code.UNKNOWN_ACCOUNT, f"account {account_id!r} does not exist")
        return acct

    def check_new(self, account_id: object) -> int:
        """The id a CreateAccount would create (validated, nothing reserved)."""
        if account_id is None:
            if self.next_id > MAX_ACCOUNT_ID:
                raise Reject(Code.BAD_ACCOUNT, f"no account id is left to allocate (ids end at {MAX_ACCOUNT_ID})")
            return self.next_id
        if type(account_id) is not int or not (0 < account_id <= MAX_ACCOUNT_ID):
            raise Reject(Code.BAD_ACCOUNT, f"account ids are integers from 1 to {MAX_ACCOUNT_ID}, got {account_id!r}")
        if account_id in self.by_id:
            raise Reject(Code.ACCOUNT_EXISTS, f"account {account_id} already exists")
        return account_id

    def create(self, account_id: int, hedge_mode: bool) -> Account:
        acct = self.by_id[account_id] = Account(account_id, hedge_mode)
        self.next_id = max(self.next_id, account_id + 1)
        return acct

    # -- balances ---------------------------------------------------------------------------------------------
    def purse(self, acct: Account, asset: str) -> Purse:
        """The account's wallet and hold in `asset`, opened (at zero) the first time (commit steps only)."""
        purse = acct.purses.get(asset)
        if purse is None:
            ledger = self.ledger
            wallet = ledger.open(BalanceKind.WALLET, asset, acct.id)
            purse = acct.purses[asset] = Purse(wallet, ledger.open(BalanceKind.HOLD, asset, acct.id))
        return purse

    def wallet(self, acct: Account, asset: str) -> Balance:
        return self.purse(acct, asset).wallet

    @staticmethod
    def wallet_amount(acct: Account, asset: str) -> int:
        """Read without opening: a check must never create a balance."""
        purse = acct.purses.get(asset)
        return 0 if purse is None else purse.wallet.amount

    # -- settings -----------------------------------------------------------------------------------------------
    @staticmethod
    def edit_setting(acct: Account, symbol: str) -> Setting:
        s = acct.settings.get(symbol)
        if s is None:
            s = acct.settings[symbol] = Setting()
        return s
