"""Engine test kit: a fresh venue with BTCUSDT/ETHUSDT on Binance's tables, fee-free unless asked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isomargin.engine import (
    CreateAccount,
    Deposit,
    Engine,
    Event,
    ListInstrument,
    MarginMode,
    Rejected,
    SetLeverage,
    SetMarginMode,
    SetMarkPrice,
    queries,
)
from isomargin.engine.events import FundingPaid as FundingPaidT
from isomargin.engine.events import OrderUpdated, PositionUpdated, Trade

D = Decimal


def div(a: object, b: object) -> Decimal:
    """Exact-as-the-engine division (34 significant digits)."""
    from isomargin.margin.numbers import MONEY

    return MONEY.divide(D(str(a)), D(str(b)))


class Venue:
    """An engine plus shorthands for the scenarios below."""

    def __init__(self, fees: bool = False, venue: str = "binance", symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"),
                 **engine: Any) -> None:  # fmt: skip
        self.engine = Engine(debug=True, **engine)  # every scenario runs the full invariant audit after each command
        fee: dict[str, Any] = {} if fees else {"maker_fee": D(0), "taker_fee": D(0)}
        for sym in symbols:
            self.ok(ListInstrument(sym, venue=venue, **fee))

    def ok(self, cmd: Any) -> list[Event]:
        events = self.engine.apply(cmd)
        rejected = [e for e in events if isinstance(e, Rejected)]
        assert not rejected, rejected
        return events

    def no(self, cmd: Any, code: str) -> Rejected:
        events = self.engine.apply(cmd)
        assert len(events) == 1 and isinstance(events[0], Rejected), events
        assert events[0].code == code, events[0]
        return events[0]

    def account(self, n: int, usdt: str = "100000", isolated: str | None = None, leverage: int = 10) -> int:
        self.ok(CreateAccount(n))
        self.ok(Deposit(n, "USDT", D(usdt)))
        for sym in queries.symbols(self.engine):
            self.ok(SetLeverage(n, sym, leverage))
        if isolated:
            self.ok(SetMarginMode(n, isolated, MarginMode.ISOLATED))
        return n

    def mark(self, symbol: str, price: str) -> list[Event]:
        return self.ok(SetMarkPrice(symbol, D(price)))

    def wallet(self, n: int) -> Decimal:
        return queries.wallet(self.engine, n, "USDT")

    def held(self, n: int) -> Decimal:
        return queries.ledger_balance(self.engine, f"hold:{n}:USDT")

    def pool(self, n: int, symbol: str = "BTCUSDT", side: str = "BOTH") -> Decimal:
        return queries.ledger_balance(self.engine, f"isolated:{n}:{symbol}:{side}")

    def balance(self, key: str) -> Decimal:
        return queries.ledger_balance(self.engine, key)

    def position(self, n: int, symbol: str = "BTCUSDT", side: str = "BOTH") -> Any:
        """The position's query view (a dict with size, liquidation_exact, cost, …), or None when flat."""
        from isomargin.engine import PositionSide

        return queries.position(self.engine, n, symbol, PositionSide(side))

    def has_account(self, n: int) -> bool:
        return queries.account_exists(self.engine, n)

    def orders(self, n: int) -> list[dict[str, Any]]:
        return queries.open_orders(self.engine, n)

    def resting(self, symbol: str = "BTCUSDT") -> int:
        return self.engine.stats()["resting"][symbol]


def of(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


__all__ = ["D", "FundingPaidT", "OrderUpdated", "PositionUpdated", "Trade", "Venue", "div", "of"]
