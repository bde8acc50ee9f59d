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
from isomargin.margin import ContractKind, Deduction, TierBasis, TierTable
from isomargin.venues import SymbolSpec

D = Decimal


def div(a: object, b: object) -> Decimal:
    """Exact-as-the-engine division (34 significant digits)."""
    from isomargin.margin.numbers import MONEY

    return MONEY.divide(D(str(a)), D(str(b)))


# A coin-margined table patterned on Binance COIN-M's BTCUSD brackets (caps in BTC of notional, face / price):
# (floor, cap, maintenance rate, max leverage); the maintenance amounts follow from the recurrence.
INVERSE_BRACKETS: tuple[tuple[str, str | None, str, str], ...] = (
    ("0", "5", "0.004", "125"),
    ("5", "10", "0.005", "100"),
    ("10", "20", "0.01", "50"),
    ("20", "50", "0.025", "20"),
    ("50", "100", "0.05", "10"),
    ("100", None, "0.1", "5"),
)


def inverse_spec(
    symbol: str = "BTCUSD_PERP", settle: str = "BTC", contract: str = "100", tick: str = "0.1",
    brackets: tuple[tuple[str, str | None, str, str], ...] = INVERSE_BRACKETS, liquidation_fee: str = "0.005",
    basis: TierBasis = TierBasis.NOTIONAL, deduction: Deduction = Deduction.CUMULATIVE,
) -> SymbolSpec:  # fmt: skip
    """An inverse perpetual as isomargin models one: size = face value in USD (contracts × contract size), so the
    step is one contract's face; notional, margin, PnL and fees in the coin (`settle`). `Deduction.NONE`: each
    tier's rate on the whole position (OKX), else Binance's cumulative maintenance amounts."""
    if deduction is Deduction.NONE:
        rows = [
            {"tier": n, "floor": lo, "cap": hi, "mmr": mmr, "max_leverage": lev}
            for n, (lo, hi, mmr, lev) in enumerate(brackets, start=1)
        ]
        table = TierTable.from_rows(rows, basis=basis, deduction=deduction, contract_size=contract)
    else:
        table = TierTable.from_rates(brackets, basis=basis, contract_size=contract)
    return SymbolSpec(
        symbol=symbol, venue_symbol=symbol, table=table, kind=ContractKind.INVERSE, settle=settle,
        contract_size=D(contract), tick_size=D(tick), step_size=D(contract), min_notional=D(0),
        liquidation_fee_rate=D(liquidation_fee),
    )  # fmt: skip


class Venue:
    """An engine plus shorthands for the scenarios below. `inverse` lists coin-margined specs (binance profile)."""

    def __init__(self, fees: bool = False, venue: str = "binance", symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"),
                 inverse: tuple[SymbolSpec, ...] = (), **engine: Any) -> None:  # fmt: skip
        listings = [(venue, spec) for spec in inverse]
        # every scenario runs the full invariant audit after each command
        self.engine = Engine(debug=True, listings=listings, **engine)
        fee: dict[str, Any] = {} if fees else {"maker_fee": D(0), "taker_fee": D(0)}
        for sym in (*symbols, *(spec.symbol for spec in inverse)):
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

    def account(self, n: int, usdt: str = "100000", isolated: str | None = None, leverage: int = 10,
                coins: dict[str, str] | None = None) -> int:  # fmt: skip
        self.ok(CreateAccount(n))
        if D(usdt):
            self.ok(Deposit(n, "USDT", D(usdt)))
        for asset, amount in (coins or {}).items():
            self.ok(Deposit(n, asset, D(amount)))
        for sym in queries.symbols(self.engine):
            self.ok(SetLeverage(n, sym, leverage))
        if isolated:
            self.ok(SetMarginMode(n, isolated, MarginMode.ISOLATED))
        return n

    def mark(self, symbol: str, price: str) -> list[Event]:
        return self.ok(SetMarkPrice(symbol, D(price)))

    def wallet(self, n: int, asset: str = "USDT") -> Decimal:
        return queries.wallet(self.engine, n, asset)

    def held(self, n: int, asset: str = "USDT") -> Decimal:
        return queries.ledger_balance(self.engine, f"hold:{n}:{asset}")

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


__all__ = [
    "INVERSE_BRACKETS",
    "D",
    "FundingPaidT",
    "OrderUpdated",
    "PositionUpdated",
    "Trade",
    "Venue",
    "div",
    "inverse_spec",
    "of",
]  # fmt: skip
