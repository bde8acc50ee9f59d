"""The engine: one deterministic state machine. `apply(command)` returns the events it caused.

A rejected command returns a single `Rejected` event and changes nothing. All arithmetic runs under
the MONEY decimal context; nothing reads a clock, and iteration follows the command stream's order.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any

from isomargin.engine.book import OrderBook
from isomargin.engine.commands import (
    AdjustMargin,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    Command,
    CreateAccount,
    Deposit,
    FundInsurance,
    ListInstrument,
    MarginMode,
    PlaceOrder,
    SetLeverage,
    SetMarginMode,
    SetMarketStatus,
    SetMarkPrice,
    SetPositionMode,
    SettleFunding,
    Withdraw,
)
from isomargin.engine.errors import Reject
from isomargin.engine.events import (
    AccountCreated,
    Event,
    FundingPaid,
    InstrumentListed,
    MarginAdjusted,
    MarketStatusChanged,
    MarkPriceUpdated,
    Rejected,
    SettingChanged,
)
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import external_key, isolated_key, settlement_key, wallet_key
from isomargin.engine.liquidation import Liquidation
from isomargin.engine.triggers import TriggerIndex
from isomargin.engine.watch import PriceWatch
from isomargin.margin import MarginError, Side, max_removable_margin
from isomargin.margin.numbers import MONEY
from isomargin.venues import get_profile

ZERO = Decimal(0)


class Engine(Liquidation):
    """Commands in, events out."""

    def __init__(self, insurance_per_symbol: bool = False) -> None:
        super().__init__()
        self.insurance_per_symbol = insurance_per_symbol

    def apply(self, cmd: Command) -> list[Event]:
        """Carry out one command; the returned events describe every change it made.

        `seq` counts accepted commands only: a rejected command changes nothing, not even the sequence."""
        out: list[Event] = []
        handler = _HANDLERS.get(type(cmd))
        with localcontext(MONEY):
            try:
                if handler is None:
                    raise Reject("unknown_command", f"{type(cmd).__name__} is not an engine command")
                handler(self, cmd, out)
                self.seq += 1
            except (Reject, MarginError) as rej:
                out = [
                    Rejected(
                        type(cmd).__name__,
                        rej.code,
                        rej.message,
                        getattr(cmd, "account", None),
                        getattr(cmd, "client_order_id", None),
                    )
                ]
        return out

    # -- venue set-up ----------------------------------------------------------------------------------
    def list_instrument(self, cmd: ListInstrument, out: list[Event]) -> None:
        profile = get_profile(cmd.venue)
        spec = profile.spec(cmd.symbol)
        if spec.symbol in self.instruments:
            raise Reject("already_listed", f"{spec.symbol} is already listed")
        band = _decimal(cmd.price_band, "price band")
        if not (ZERO < band < 1):
            raise Reject("bad_price_band", "the market-order price band must be between 0 and 1")
        maker = profile.maker_fee if cmd.maker_fee is None else _decimal(cmd.maker_fee, "maker fee")
        taker = profile.taker_fee if cmd.taker_fee is None else _decimal(cmd.taker_fee, "taker fee")
        if taker < 0 or maker > taker:
            raise Reject("bad_fee", "taker fee must be ≥ 0 and ≥ the maker fee (a maker's hold uses the taker rate)")
        inst = Instrument(spec.symbol, profile, spec, maker, taker, band)
        self.instruments[spec.symbol] = inst
        self.books[spec.symbol] = OrderBook()
        self.triggers[spec.symbol] = TriggerIndex()
        self.positions[spec.symbol] = {}
        self.watches[spec.symbol] = PriceWatch()
        out.append(
            InstrumentListed(
                spec.symbol, profile.name, spec.settle, spec.tick_size, spec.step_size, spec.min_notional, maker, taker
            )
        )

    # -- accounts and money ----------------------------------------------------------------------------
    def create_account(self, cmd: CreateAccount, out: list[Event]) -> None:
        if cmd.account in self.accounts:
            raise Reject("account_exists", f"account {cmd.account} already exists")
        if cmd.account <= 0:
            raise Reject("bad_account", "account ids are positive integers")
        from isomargin.engine.state import Account

        self.accounts[cmd.account] = Account(cmd.account, cmd.hedge_mode)
        out.append(AccountCreated(cmd.account, cmd.hedge_mode))

    def deposit(self, cmd: Deposit, out: list[Event]) -> None:
        self.account(cmd.account)
        amount = _bounded(cmd.amount, "deposit amount")
        asset = _asset(cmd.asset)
        self.ledger.post(external_key(asset), wallet_key(cmd.account, asset), asset, amount, "deposit", out)

    def set_market_status(self, cmd: SetMarketStatus, out: list[Event]) -> None:
        self.instrument(cmd.symbol)
        if (cmd.symbol in self.paused) == cmd.paused:
            raise Reject("status_unchanged", f"{cmd.symbol} is already {'paused' if cmd.paused else 'open'}")
        if cmd.paused:
            self.paused[cmd.symbol] = None
        else:
            del self.paused[cmd.symbol]
        out.append(MarketStatusChanged(cmd.symbol, cmd.paused))
        if not cmd.paused:
            self.run_triggers(cmd.symbol, out)  # stops that came due while it was paused fire now

    def fund_insurance(self, cmd: FundInsurance, out: list[Event]) -> None:
        amount = _bounded(cmd.amount, "amount")
        asset = _asset(cmd.asset)
        if cmd.symbol is not None:
            self.instrument(cmd.symbol)
        key = self.fund_key(asset, cmd.symbol or "")
        self.ledger.post(external_key(asset), key, asset, amount, "insurance_deposit", out)

    def withdraw(self, cmd: Withdraw, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        amount = _bounded(cmd.amount, "withdrawal amount")
        asset = _asset(cmd.asset)
        free = self.available(acct, asset)
        if amount > free:
            raise Reject("insufficient_balance", f"withdrawal {amount} exceeds the available {free} {asset}")
        self.ledger.post(wallet_key(cmd.account, asset), external_key(asset), asset, amount, "withdrawal", out)

    # -- settings --------------------------------------------------------------------------------------
    def set_position_mode(self, cmd: SetPositionMode, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        if acct.positions:
            raise Reject("position_open", "close every position before changing position mode")
        if acct.orders:
            raise Reject("orders_open", "cancel every open order before changing position mode")
        acct.hedge_mode = cmd.hedge_mode
        out.append(SettingChanged(acct.id, "position_mode", "hedge" if cmd.hedge_mode else "one_way"))

    def set_margin_mode(self, cmd: SetMarginMode, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        self.instrument(cmd.symbol)
        if any(sym == cmd.symbol for sym, _ in acct.positions):
            raise Reject("position_open", f"close the {cmd.symbol} position before changing margin mode")
        if any(o.symbol == cmd.symbol for o in acct.orders.values()):
            raise Reject("orders_open", f"cancel open {cmd.symbol} orders before changing margin mode")
        acct.edit_setting(cmd.symbol).margin_mode = cmd.mode
        out.append(SettingChanged(acct.id, "margin_mode", cmd.mode.value, cmd.symbol))

    def set_leverage(self, cmd: SetLeverage, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        inst = self.instrument(cmd.symbol)
        lev = cmd.leverage
        if not isinstance(lev, int) or isinstance(lev, bool) or lev < 1:
            raise Reject("bad_leverage", f"leverage must be a whole number ≥ 1, got {lev!r}")
        if any(o.symbol == cmd.symbol for o in acct.orders.values()):
            raise Reject("orders_open", f"cancel open {cmd.symbol} orders before changing leverage")
        positions = [p for (sym, _), p in acct.positions.items() if sym == cmd.symbol]
        size = sum((inst.qty(abs(p.lots)) for p in positions), ZERO)
        price = self.reference_price(cmd.symbol)
        value = size * price if price is not None else ZERO
        table = inst.spec.table
        try:
            table.check_leverage(Decimal(lev), table.size_of(size, value))
        except MarginError as exc:
            raise Reject(exc.code, exc.message) from None
        old = acct.setting(cmd.symbol).leverage
        for pos in positions:
            pos.leverage = lev
        if any(not p.isolated for p in positions) and self.available(acct, inst.settle) < 0:
            for pos in positions:
                pos.leverage = old
            raise Reject("insufficient_margin", f"leverage {lev} would need more margin than is available")
        acct.edit_setting(cmd.symbol).leverage = lev
        out.append(SettingChanged(acct.id, "leverage", str(lev), cmd.symbol))

    # -- prices and funding ----------------------------------------------------------------------------
    def set_mark_price(self, cmd: SetMarkPrice, out: list[Event]) -> None:
        self.instrument(cmd.symbol)
        mark = _bounded(cmd.mark, "mark price")
        index = _bounded(cmd.index, "index price") if cmd.index is not None else mark
        self.marks[cmd.symbol] = mark
        self.index_prices[cmd.symbol] = index
        out.append(MarkPriceUpdated(cmd.symbol, mark, index))
        self.run_triggers(cmd.symbol, out)
        self.after_mark(cmd.symbol, out)

    def settle_funding(self, cmd: SettleFunding, out: list[Event]) -> None:
        inst = self.instrument(cmd.symbol)
        rate = _bounded(cmd.rate, "funding rate", positive=False)
        if abs(rate) >= 1:
            raise Reject("bad_funding_rate", "funding rate must be a fraction between −1 and 1")
        mark = self.marks.get(cmd.symbol)
        if mark is None:
            raise Reject("no_mark_price", f"{cmd.symbol} has no mark price to settle funding at")
        asset = inst.settle
        for pos in list(self.positions[cmd.symbol].values()):
            amount = -pos.sign * inst.qty(abs(pos.lots)) * mark * rate  # longs pay a positive rate
            acct_key = (
                isolated_key(pos.account, pos.symbol, pos.side.value)
                if pos.isolated
                else wallet_key(pos.account, asset)
            )
            self.ledger.post(settlement_key(asset), acct_key, asset, amount, "funding", out)
            self.cover_shortfall(acct_key, pos.account, pos.symbol, asset, "funding_beyond_margin", out)
            pos.funding += amount
            out.append(FundingPaid(pos.account, pos.symbol, pos.side.value, rate, mark, amount))
            self.remember(self.funding_log, pos.account, {
                "ts": str(cmd.ts), "symbol": pos.symbol, "position_side": pos.side.value, "rate": str(rate),
                "mark": str(mark), "amount": str(amount),
            })  # fmt: skip
            self.refresh(pos)
            out.append(self.position_event(pos))
        held = self.insurance_positions.get(cmd.symbol)
        if held is not None and held.lots:  # the fund's taken-over inventory pays and earns funding too
            amount = -held.sign * inst.qty(abs(held.lots)) * mark * rate
            fund = self.fund_key(asset, cmd.symbol)
            self.ledger.post(settlement_key(asset), fund, asset, amount, "funding", out)
            held.funding += amount
            out.append(FundingPaid(0, cmd.symbol, held.side.value, rate, mark, amount))

    # -- isolated margin -------------------------------------------------------------------------------
    def adjust_margin(self, cmd: AdjustMargin, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        inst = self.instrument(cmd.symbol)
        amount = _bounded(cmd.amount, "amount", positive=False)
        pos = self.position(acct, cmd.symbol, cmd.position_side)
        if pos is None or pos.lots == 0:
            raise Reject("no_position", f"no {cmd.position_side.value} position on {cmd.symbol}")
        if not pos.isolated:
            raise Reject("not_isolated", "margin can only be added to or removed from an isolated position")
        if amount == 0:
            raise Reject("bad_amount", "amount must not be zero")
        asset = inst.settle
        key = isolated_key(acct.id, cmd.symbol, pos.side.value)
        if amount > 0:
            free = self.available(acct, asset)
            if amount > free:
                raise Reject("insufficient_balance", f"adding {amount} exceeds the available {free} {asset}")
        else:
            size = inst.qty(abs(pos.lots))
            mark = self.reference_price(cmd.symbol) or pos.cost / size
            side = Side.LONG if pos.lots > 0 else Side.SHORT
            room = max_removable_margin(
                side, size, pos.cost / size, self.ledger.balance(key), mark, pos.leverage, inst.spec.kind
            )
            if -amount > room:
                raise Reject("above_max_removable", f"at most {room} can be removed from this position")
        self.ledger.post(wallet_key(acct.id, asset), key, asset, amount, "margin_adjustment", out)
        self.refresh(pos)
        out.append(
            MarginAdjusted(acct.id, cmd.symbol, pos.side.value, amount, self.ledger.balance(key), pos.liquidation)
        )
        out.append(self.position_event(pos))


def _decimal(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise Reject("bad_number", f"{what} must be a finite decimal, got {value!r}")
    return value


def _positive(value: object, what: str) -> Decimal:
    d = _decimal(value, what)
    if d <= 0:
        raise Reject("not_positive", f"{what} must be greater than zero, got {d}")
    return d


MAX_PLACES = 8  # money, marks and rates carry at most 8 decimals (Binance's precision for all three)
MAX_VALUE = Decimal(10) ** 12  # far above any real balance or price, far below where 34 digits stop being exact


def _bounded(value: object, what: str, positive: bool = True) -> Decimal:
    """A decimal with at most 8 places and below 10^12: every product the engine forms from it stays exact."""
    d = _positive(value, what) if positive else _decimal(value, what)
    if abs(d) >= MAX_VALUE:
        raise Reject("bad_number", f"{what} {d} is too large")
    if d != d.quantize(Decimal(1).scaleb(-MAX_PLACES)):
        raise Reject("bad_number", f"{what} {d} has more than {MAX_PLACES} decimal places")
    return d


def _asset(asset: object) -> str:
    if not isinstance(asset, str) or not asset.isalnum() or not asset.isupper() or len(asset) > 12:
        raise Reject("bad_asset", f"asset must be an upper-case code like USDT, got {asset!r}")
    return asset


_HANDLERS: dict[type, Callable[[Engine, Any, list[Event]], None]] = {
    ListInstrument: Engine.list_instrument,
    CreateAccount: Engine.create_account,
    Deposit: Engine.deposit,
    FundInsurance: Engine.fund_insurance,
    SetMarketStatus: Engine.set_market_status,
    Withdraw: Engine.withdraw,
    SetPositionMode: Engine.set_position_mode,
    SetMarginMode: Engine.set_margin_mode,
    SetLeverage: Engine.set_leverage,
    PlaceOrder: Engine.place_order,
    CancelOrder: Engine.cancel_order,
    CancelAllOrders: Engine.cancel_all,
    AmendOrder: Engine.amend_order,
    SetMarkPrice: Engine.set_mark_price,
    SettleFunding: Engine.settle_funding,
    AdjustMargin: Engine.adjust_margin,
}
_ = MarginMode  # re-exported through commands for callers
