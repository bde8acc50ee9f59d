"""Engine state and the helpers every handler shares: look-ups, balances, position upkeep.

Nothing here reads a clock or does I/O. Iteration is over insertion-ordered dicts whose order is
fixed by the command stream, so the same commands always walk state in the same order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from isomargin.engine.book import OrderBook
from isomargin.engine.commands import MarginMode, OrderSide, PositionSide
from isomargin.engine.errors import Reject
from isomargin.engine.events import BadDebt, Event, PositionUpdated
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import (
    Ledger,
    insurance_key,
    isolated_key,
    wallet_key,
)
from isomargin.engine.orders import Order
from isomargin.engine.positions import Position
from isomargin.engine.triggers import TriggerIndex
from isomargin.margin import Side, make_leg, solve_liquidation_price
from isomargin.margin import bankruptcy_price as _bankruptcy

ZERO = Decimal(0)
DEFAULT_LEVERAGE = 20
HISTORY = 1000  # fills and funding payments kept per account for queries


@dataclass(slots=True)
class Setting:
    margin_mode: MarginMode = MarginMode.CROSS
    leverage: int = DEFAULT_LEVERAGE


_DEFAULT_SETTING = Setting()  # read-only: handed out by `Account.setting` for symbols never configured


@dataclass(slots=True)
class Account:
    id: int
    hedge_mode: bool = False
    settings: dict[str, Setting] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)  # open orders, by id
    client_ids: dict[str, int] = field(default_factory=dict)
    positions: dict[tuple[str, PositionSide], Position] = field(default_factory=dict)
    reducing: int = 0  # how many of `orders` are reduce-only (derived; kept by State.add_order/drop_order)

    def setting(self, symbol: str) -> Setting:
        """The symbol's settings for reading: defaults are not stored, so a read (even by a command that is
        then rejected) never changes state. Use `edit_setting` to change them."""
        s = self.settings.get(symbol)
        return _DEFAULT_SETTING if s is None else s

    def edit_setting(self, symbol: str) -> Setting:
        s = self.settings.get(symbol)
        if s is None:
            s = self.settings[symbol] = Setting()
        return s


class State:
    """All engine state. Subclasses add the command handlers."""

    def __init__(self) -> None:
        self.seq = 0
        self.instruments: dict[str, Instrument] = {}
        self.books: dict[str, OrderBook] = {}
        self.triggers: dict[str, TriggerIndex] = {}
        self.accounts: dict[int, Account] = {}
        self.ledger = Ledger()
        self.orders: dict[int, Order] = {}
        self.positions: dict[str, dict[tuple[int, PositionSide], Position]] = {}  # by symbol
        self.paused: dict[str, None] = {}  # markets taking no new orders (SetMarketStatus)
        self.marks: dict[str, Decimal] = {}
        self.index_prices: dict[str, Decimal] = {}
        self.last_prices: dict[str, Decimal] = {}
        self.insurance_per_symbol = False  # dYdX isolated markets: each symbol its own fund
        self.next_order_id = 1
        self.next_trade_id = 1
        # Bounded per-account histories for queries (the journal keeps everything).
        self.fills: dict[int, deque[dict[str, str]]] = {}
        self.funding_log: dict[int, deque[dict[str, str]]] = {}

    def remember(self, log: dict[int, deque[dict[str, str]]], account: int, entry: dict[str, str]) -> None:
        q = log.get(account)
        if q is None:
            q = log[account] = deque(maxlen=HISTORY)
        q.append(entry)

    # -- look-ups ------------------------------------------------------------------------------------
    def account(self, account_id: int) -> Account:
        acct = self.accounts.get(account_id)
        if acct is None:
            raise Reject("unknown_account", f"account {account_id} does not exist")
        return acct

    def instrument(self, symbol: str) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            raise Reject("unknown_symbol", f"no market {symbol!r} is listed")
        return inst

    def reference_price(self, symbol: str) -> Decimal | None:
        """Mark price, else last trade price: what PnL and margin are measured at."""
        return self.marks.get(symbol) or self.last_prices.get(symbol)

    def position(self, acct: Account, symbol: str, side: PositionSide) -> Position | None:
        return acct.positions.get((symbol, side))

    def open_position(self, acct: Account, symbol: str, side: PositionSide) -> Position:
        pos = acct.positions.get((symbol, side))
        if pos is None:
            setting = acct.setting(symbol)
            pos = Position(acct.id, symbol, side, setting.margin_mode is MarginMode.ISOLATED, setting.leverage)
            acct.positions[(symbol, side)] = pos
            self.positions.setdefault(symbol, {})[(acct.id, side)] = pos
        return pos

    def drop_if_flat(self, acct: Account, pos: Position) -> None:
        if pos.lots == 0:
            acct.positions.pop((pos.symbol, pos.side), None)
            self.positions.get(pos.symbol, {}).pop((acct.id, pos.side), None)

    # -- open orders ---------------------------------------------------------------------------------
    def add_order(self, acct: Account, order: Order) -> None:
        """Index an open order: by id, on its account, by client id, and in the account's reduce-only count."""
        self.orders[order.id] = order
        acct.orders[order.id] = order
        if order.client_order_id is not None:
            acct.client_ids[order.client_order_id] = order.id
        if order.reduce_only:
            acct.reducing += 1

    def drop_order(self, acct: Account, order: Order) -> None:
        """Undo `add_order` (a no-op for an order that is not open)."""
        self.orders.pop(order.id, None)
        if acct.orders.pop(order.id, None) is not None and order.reduce_only:
            acct.reducing -= 1
        if order.client_order_id is not None and acct.client_ids.get(order.client_order_id) == order.id:
            del acct.client_ids[order.client_order_id]

    # -- money ---------------------------------------------------------------------------------------
    def wallet(self, account_id: int, asset: str) -> Decimal:
        return self.ledger.balance(wallet_key(account_id, asset))

    def cross_requirements(self, acct: Account, asset: str) -> tuple[Decimal, Decimal]:
        """(initial margin at mark, unrealised PnL) summed over the account's cross positions in `asset`."""
        im = pnl = ZERO
        for pos in acct.positions.values():
            if pos.isolated or pos.lots == 0:
                continue
            inst = self.instruments[pos.symbol]
            if inst.settle != asset:
                continue
            size = inst.qty(abs(pos.lots))
            price = self.reference_price(pos.symbol) or pos.cost / size
            im += size * price / pos.leverage
            pnl += pos.sign * (size * price - pos.cost)
        return im, pnl

    def available(self, acct: Account, asset: str) -> Decimal:
        """Free to open, withdraw or move into isolated margin: wallet less cross initial margin, with cross
        unrealised losses counted and profits not (the venue-protecting reading of Binance's formula)."""
        im, pnl = self.cross_requirements(acct, asset)
        return self.wallet(acct.id, asset) - im + min(pnl, ZERO)

    def isolated_margin(self, pos: Position) -> Decimal:
        return self.ledger.balance(isolated_key(pos.account, pos.symbol, pos.side.value))

    def cover_shortfall(self, key: str, acct_id: int, symbol: str, asset: str, reason: str, out: list[Event]) -> None:
        """A balance that went below zero is topped up by the insurance fund: the owner's other money never
        pays for an isolated loss, and a wallet is never negative."""
        short = self.ledger.balance(key)
        if short < 0:
            self.ledger.post(self.fund_key(asset, symbol), key, asset, -short, "bad_debt", out)
            out.append(BadDebt(acct_id, symbol, asset, -short, reason))

    def fund_key(self, asset: str, symbol: str) -> str:
        """The insurance fund that backs `symbol`: one per settle asset, or one per symbol if so configured."""
        return f"{insurance_key(asset)}:{symbol}" if self.insurance_per_symbol and symbol else insurance_key(asset)

    # -- position upkeep -----------------------------------------------------------------------------
    def refresh(self, pos: Position) -> None:
        """Recompute the cached isolated liquidation and bankruptcy prices after any change to the position."""
        if not pos.isolated or pos.lots == 0:
            pos.liquidation = pos.bankruptcy = None
            self.watch_position(pos)
            return
        inst = self.instruments[pos.symbol]
        size = inst.qty(abs(pos.lots))
        entry = pos.cost / size
        margin = self.isolated_margin(pos)
        side = Side.LONG if pos.lots > 0 else Side.SHORT
        profile = inst.profile
        fee = inst.taker_fee if profile.fee_in_maintenance else ZERO
        leg = make_leg(side, size, entry, inst.spec.table, inst.spec.kind, profile.mm_basis, fee)
        pos.liquidation = solve_liquidation_price([leg], margin)
        pos.bankruptcy = _bankruptcy(side, size, entry, margin, inst.spec.kind)
        self.watch_position(pos)

    def watch_position(self, pos: Position) -> None:
        """Keep risk indexes exact after a position changed (the liquidation layer overrides this)."""

    def position_event(self, pos: Position) -> PositionUpdated:
        inst = self.instruments[pos.symbol]
        size = inst.qty(abs(pos.lots))
        return PositionUpdated(
            account=pos.account,
            symbol=pos.symbol,
            position_side=pos.side.value,
            size=size * pos.sign,
            entry_price=pos.cost / size if pos.lots else None,
            margin_mode="isolated" if pos.isolated else "cross",
            leverage=pos.leverage,
            isolated_margin=self.isolated_margin(pos),
            liquidation_price=pos.liquidation,
            realized_pnl=pos.realized,
        )

    # -- order side helpers --------------------------------------------------------------------------
    @staticmethod
    def closing(acct: Account, side: OrderSide, pside: PositionSide, reduce_only: bool) -> bool:
        """Does this order only reduce? Hedge mode: a sell on the long leg or a buy on the short leg."""
        if acct.hedge_mode:
            return (side is OrderSide.SELL) == (pside is PositionSide.LONG)
        return reduce_only
