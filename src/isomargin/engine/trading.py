"""Orders through the book: placement and its checks, matching, fills into positions, reduce-only upkeep.

Every handler is split in two: `check_*` decides, without changing anything, whether the command is acceptable
and returns what the commit needs (or raises `Reject`); `commit_*` carries it out through steps that cannot
refuse. The book is asked the post-only and fill-or-kill questions before it is touched, so a submit after a
passing check never rejects. Isolated reductions release margin pro rata and settle PnL and fee against the
position's own pool (see `positions`); a shortfall goes to the insurance fund, never to the owner's wallet.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Final

from isomargin.engine.accounts import Accounts
from isomargin.engine.book import MatchResult, SelfTradePrevention
from isomargin.engine.book import TimeInForce as BookTIF
from isomargin.engine.codes import Code, OrderReason, OrderStatus
from isomargin.engine.commands import (
    STP,
    CancelAllOrders,
    CancelOrder,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    TimeInForce,
    WorkingType,
)
from isomargin.engine.context import Context
from isomargin.engine.errors import Reject
from isomargin.engine.events import OrderSpec, OrderUpdated, PositionUpdated, Trade
from isomargin.engine.health import Health
from isomargin.engine.ledger import Ledger
from isomargin.engine.orders import Orders
from isomargin.engine.positions import Positions
from isomargin.engine.risk import Risk
from isomargin.engine.state import Account, Market, Order, Position
from isomargin.engine.triggers import would_fire
from isomargin.engine.units import PRICE_POINTS, div_up, money, ratio_of

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_CONTRACT_PRICE: Final = WorkingType.CONTRACT_PRICE
_NO_LIQUIDITY: Final = OrderReason.NO_LIQUIDITY
_REDUCE_ONLY_TRIMMED: Final = OrderReason.REDUCE_ONLY_TRIMMED
_SELF_TRADE_PREVENTED: Final = OrderReason.SELF_TRADE_PREVENTED
_STOP_MARKET: Final = OrderType.STOP_MARKET
_TAKE_PROFIT_MARKET: Final = OrderType.TAKE_PROFIT_MARKET
_TRIGGERED: Final = OrderStatus.TRIGGERED
_USER: Final = OrderReason.USER

MAX_CLIENT_ID: Final = 36  # characters (Binance's limit)
MAX_OPEN_ORDERS: Final = 10_000  # per account: bounds every per-account loop over orders
STP_MODES: Final = {
    STP.NONE: SelfTradePrevention.NONE,
    STP.EXPIRE_TAKER: SelfTradePrevention.CANCEL_TAKER,
    STP.EXPIRE_MAKER: SelfTradePrevention.CANCEL_MAKER,
    STP.EXPIRE_BOTH: SelfTradePrevention.CANCEL_BOTH,
}
BOOK_TIF: Final = {
    TimeInForce.GTC: BookTIF.GTC,
    TimeInForce.GTX: BookTIF.GTC,
    TimeInForce.IOC: BookTIF.IOC,
    TimeInForce.FOK: BookTIF.FOK,
}
LIMIT_TYPES: Final = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
STOP_TYPES: Final = frozenset(
    {OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT}
)
CALLBACK_MIN: Final = Decimal("0.1")
CALLBACK_MAX: Final = Decimal(10)
# Final aliases: compiled code reads these as constants instead of looking the enum members up by name.
_BUY: Final = OrderSide.BUY
_SELL: Final = OrderSide.SELL
_LIMIT: Final = OrderType.LIMIT
_MARKET: Final = OrderType.MARKET
_TRAILING: Final = OrderType.TRAILING_STOP_MARKET
_GTC: Final = TimeInForce.GTC
_IOC: Final = TimeInForce.IOC
_GTX: Final = TimeInForce.GTX
_FOK: Final = TimeInForce.FOK
_BOTH: Final = PositionSide.BOTH
_LONG: Final = PositionSide.LONG
_NEW: Final = OrderStatus.NEW
_PARTIAL: Final = OrderStatus.PARTIALLY_FILLED
_FILLED: Final = OrderStatus.FILLED
_EXPIRED: Final = OrderStatus.EXPIRED
_CANCELED: Final = OrderStatus.CANCELED
_STP_NONE: Final = STP.NONE
_MARK_PRICE: Final = WorkingType.MARK_PRICE

Settle = Callable[[int, int], tuple[int, int]]  # (lots, ticks) -> (fee, pnl) for a taker that is not an order


class Execution:
    """What a passing check hands the commit of an order (for a conditional order: `park`)."""

    __slots__ = ("acct", "allowed", "market", "order", "park", "ticks")

    def __init__(self, acct: Account, market: Market, order: Order, ticks: int | None, allowed: int) -> None:
        self.acct = acct
        self.market = market
        self.order = order
        self.ticks = ticks  # the limit, or a market order's band price; None: nothing to measure against
        self.allowed = allowed  # reduce-only: lots it may close (0 for opening orders)
        self.park = False  # a conditional order: into the trigger index, not the book


class Trading:
    """Order placement, matching, cancels and amends; owns order fields and the trade id counter."""

    __slots__ = ("accounts", "ctx", "health", "ledger", "markets", "next_trade_id", "orders", "positions", "risk")

    def __init__(
        self,
        ledger: Ledger,
        accounts: Accounts,
        orders: Orders,
        positions: Positions,
        risk: Risk,
        health: Health,
        markets: dict[str, Market],
        ctx: Context,
    ) -> None:
        self.ledger = ledger
        self.accounts = accounts
        self.orders = orders
        self.positions = positions
        self.risk = risk
        self.health = health
        self.markets = markets
        self.ctx = ctx
        self.next_trade_id = 1

    # ================================================================================ look-ups
    def market(self, symbol: object) -> Market:
        market = self.markets.get(symbol) if type(symbol) is str else None
        if market is None:
            raise Reject(Code.UNKNOWN_SYMBOL, f"no market {symbol!r} is listed")
        return market

    def open_market(self, symbol: object) -> Market:
        market = self.market(symbol)
        if market.delivered:
            raise Reject(Code.MARKET_DELIVERED, f"{symbol} was delivered: it takes no new orders or amendments")
        if market.paused:
            raise Reject(Code.MARKET_PAUSED, f"{symbol} is paused by the operator: no new orders or amendments")
        if self.expired(market):
            # Reduce-only and close-position orders too: from the expiry only delivery settles the positions.
            raise Reject(Code.MARKET_EXPIRED, f"{symbol} expired at {market.inst.expiry}: it awaits delivery")
        return market

    def expired(self, market: Market) -> bool:
        """A dated future the current command's time has reached the expiry of (ts ≥ expiry)."""
        expiry = market.inst.expiry
        if expiry is None:
            return False
        ts = self.ctx.env.ts
        return ts is not None and ts >= expiry

    # ================================================================================ placement
    def check_place(self, cmd: PlaceOrder) -> Execution:
        acct = self.accounts.get(cmd.account)
        market = self.open_market(cmd.symbol)
        order = self._build(acct, market, cmd)
        if len(acct.orders) >= MAX_OPEN_ORDERS:
            raise Reject(Code.TOO_MANY_ORDERS, f"an account may have at most {MAX_OPEN_ORDERS} open orders")
        if order.waiting:
            self._check_park(market, order)
            plan = Execution(acct, market, order, None, 0)
            plan.park = True
            return plan
        return self.check_execute(acct, market, order)

    def commit_place(self, plan: Execution) -> None:
        market = plan.market
        order = plan.order
        self.orders.allocate()  # the id `_build` read: consumed only now that the order is accepted
        if plan.park:
            market.triggers.add(order)
            self.orders.add(plan.acct, order)
            self.announce(order, _NEW)
        else:
            self.execute(plan)
        if market.triggers.size:
            self.run_triggers(market)

    def _build(self, acct: Account, market: Market, cmd: PlaceOrder) -> Order:
        """Validate a PlaceOrder completely (raising Reject) and return the order it describes."""
        kind = cmd.type
        side = cmd.side
        tif = cmd.tif
        pside = cmd.position_side
        if type(side) is not OrderSide or type(kind) is not OrderType or type(tif) is not TimeInForce:
            raise Reject(Code.BAD_ENUM, "side, type and time in force must be OrderSide, OrderType and TimeInForce")
        if type(pside) is not PositionSide or type(cmd.stp) is not STP or type(cmd.working_type) is not WorkingType:
            raise Reject(Code.BAD_ENUM, "position side, STP mode and working type must be their enums")
        if type(cmd.reduce_only) is not bool or type(cmd.close_position) is not bool:
            raise Reject(Code.BAD_FLAG, "reduce_only and close_position must be booleans")
        inst = market.inst
        hedge = acct.hedge_mode
        if hedge:
            if pside is _BOTH:
                raise Reject(Code.POSITION_SIDE_REQUIRED, "hedge mode needs position side LONG or SHORT")
            if cmd.reduce_only:
                raise Reject(Code.REDUCE_ONLY_HEDGE, "in hedge mode the position side says whether an order reduces")
        elif pside is not _BOTH:
            raise Reject(Code.POSITION_SIDE_MISMATCH, "one-way mode takes position side BOTH")
        if cmd.close_position:
            if kind is not _STOP_MARKET and kind is not _TAKE_PROFIT_MARKET:
                raise Reject(Code.BAD_CLOSE_POSITION, "close-position is for STOP_MARKET and TAKE_PROFIT_MARKET")
            if cmd.qty is not None:
                raise Reject(Code.BAD_CLOSE_POSITION, "a close-position order takes no quantity")
            lots = 0
        else:
            if cmd.qty is None:
                raise Reject(Code.BAD_QUANTITY, "quantity is required")
            got = inst.to_lots(cmd.qty)
            if got is None:
                raise Reject(Code.BAD_QUANTITY, f"quantity must be a positive multiple of the step size {inst.step} "
                             f"below 10^12, got {cmd.qty!r}")  # fmt: skip
            lots = got
        ticks = None
        if kind in LIMIT_TYPES:
            if cmd.price is None:
                raise Reject(Code.BAD_PRICE, f"{kind.value} needs a price")
            ticks = inst.to_ticks(cmd.price)
            if ticks is None:
                raise Reject(Code.BAD_PRICE, f"price must be a positive multiple of the tick size {inst.tick} "
                             f"below 10^12, got {cmd.price!r}")  # fmt: skip
        elif cmd.price is not None:
            raise Reject(Code.BAD_PRICE, f"{kind.value} takes no price")
        if tif is _GTX and kind is not _LIMIT:
            raise Reject(Code.BAD_TIME_IN_FORCE, "post-only (GTX) is for limit orders")
        stop = self._stop(inst.to_ticks, inst.tick_pp, kind, cmd)
        cid = cmd.client_order_id
        if cid is not None:
            if type(cid) is not str or not (0 < len(cid) <= MAX_CLIENT_ID):
                raise Reject(Code.BAD_CLIENT_ORDER_ID, f"client order id must be 1 to {MAX_CLIENT_ID} characters")
            if cid in acct.client_ids:
                raise Reject(Code.DUPLICATE_CLIENT_ORDER_ID, f"client order id {cid!r} is in use")
        if type(cmd.ts) is not int:
            raise Reject(Code.BAD_TIMESTAMP, "ts must be an integer")
        closing = (side is _SELL) == (pside is _LONG) if hedge else cmd.reduce_only or cmd.close_position
        leverage = acct.setting(inst.symbol).leverage
        if not closing and not cmd.close_position:
            self.risk.check_size(acct, market, side, pside, lots, ticks, leverage)
        # Anything that executes without a limit price (market, stop-market, take-profit-market, trailing) is IOC
        # whatever the command says: a triggered market order must never rest at its band price.
        if kind not in LIMIT_TYPES:
            tif = _IOC
        spec = OrderSpec(
            self.orders.next_id, acct.id, inst.grid, side, kind, tif, cmd.stop_price if kind in STOP_TYPES else None,
            closing, cmd.close_position, pside, cid, cmd.working_type, cmd.stp, cmd.ts,
            cmd.callback_rate if kind is _TRAILING else None,
            cmd.activation_price if kind is _TRAILING else None,
        )  # fmt: skip
        return Order(spec, acct, leverage, lots, ticks, stop)

    @staticmethod
    def _stop(to_ticks: Callable[[object], int | None], tick_pp: int, kind: OrderType, cmd: PlaceOrder) -> int | None:
        """The trigger price in points: a stop's stop price, or a trailing stop's activation price (if any)."""
        if kind in STOP_TYPES:
            if cmd.stop_price is None:
                raise Reject(Code.BAD_STOP_PRICE, f"{kind.value} needs a stop price")
            ticks = to_ticks(cmd.stop_price)
            if ticks is None:
                raise Reject(Code.BAD_PRICE, f"stop price {cmd.stop_price!r} is not a positive multiple of the tick")
            return ticks * tick_pp
        if kind is _TRAILING:
            rate = cmd.callback_rate
            if ratio_of(rate) is None or not (CALLBACK_MIN <= rate <= CALLBACK_MAX):  # type: ignore[operator]
                raise Reject(Code.BAD_CALLBACK_RATE, "trailing stops need a callback rate from 0.1 to 10 (%)")
            if cmd.activation_price is None:
                return None
            ticks = to_ticks(cmd.activation_price)
            if ticks is None:
                raise Reject(Code.BAD_PRICE, f"activation price {cmd.activation_price!r} is not on the tick grid")
            return ticks * tick_pp
        return None

    def _check_park(self, market: Market, order: Order) -> None:
        """A conditional order is accepted into the trigger index unless it would fire at once."""
        price = self.trigger_price(market, order.spec.working_type is _MARK_PRICE)
        if order.type is _TRAILING:
            if order.stop is None and price is None:
                raise Reject(Code.NO_REFERENCE_PRICE, "a trailing stop without activation price needs a price")
            return
        assert order.stop is not None
        if price is not None and would_fire(order.side, order.type, order.stop, price):
            raise Reject(
                Code.WOULD_IMMEDIATELY_TRIGGER,
                f"stop {order.spec.stop_price} is already reached at {price / PRICE_POINTS}",
            )

    def check_execute(self, acct: Account, market: Market, order: Order) -> Execution:
        """Everything that could refuse an order on its way to the book, decided before the book is touched."""
        ticks = self.band_ticks(market, order.side) if order.ticks is None else order.ticks
        if ticks is None:
            return Execution(acct, market, order, None, 0)  # nothing to trade against: it expires (not a rejection)
        book = market.book
        pos = acct.positions.get(market.keys[order.position_side])
        allowed = 0
        lots = order.lots - order.filled
        if order.reduce_only:
            allowed = self.closable(acct, pos, order)
            if allowed <= 0:
                raise Reject(Code.REDUCE_ONLY_REJECTED, "a reduce-only order must reduce an open position")
            lots = min(lots, allowed)
        else:
            need = self.risk.required(acct, market, order.side, lots, ticks, order.may_rest, pos, order.leverage)
            free = self.risk.available(acct, market.inst.settle)
            if need > free:
                raise Reject(Code.INSUFFICIENT_MARGIN, f"order needs {_amount(need)} {market.inst.settle}, "
                             f"available {_amount(free)}")  # fmt: skip
        if order.tif is _GTX:
            touch = book.best_ask() if order.side is _BUY else book.best_bid()
            if touch is not None and (touch - ticks) * order.side <= 0:
                raise Reject(Code.POST_ONLY_WOULD_CROSS, "post-only order would take liquidity")
        elif order.tif is _FOK:
            stp = STP_MODES[order.spec.stp]
            if book.fillable(int(order.side), ticks, lots, acct.id, stp) < lots:
                raise Reject(Code.FOK_UNFILLABLE, "fill-or-kill order cannot be filled completely")
        return Execution(acct, market, order, ticks, allowed)

    # ================================================================================ execution
    def execute(self, plan: Execution) -> None:
        """Send a checked order (new, or a conditional one just fired) to the book."""
        acct = plan.acct
        market = plan.market
        order = plan.order
        ticks = plan.ticks
        if ticks is None:
            self.announce(order, _EXPIRED, _NO_LIQUIDITY)
            return
        if order.reduce_only:
            order.lots = order.filled + min(order.lots - order.filled, plan.allowed)
        result = market.book.submit(
            order.id, acct.id, order.side, ticks, order.lots - order.filled, BOOK_TIF[order.tif], order.tif is _GTX,
            STP_MODES[order.spec.stp],
        )  # fmt: skip
        assert result.reject is None, result.reject  # the check asked the book the same question
        self.orders.add(acct, order)
        self.process(acct, market, order, result)

    def process(self, acct: Account, market: Market, order: Order, result: MatchResult) -> None:
        """Apply a match: fills to both sides, STP expiries, the taker's rest or expiry, position upkeep."""
        touched = self.fill_makers(market, result, order, None) if result.fills or result.expired_makers else None
        if result.rested:
            self.risk.reserve(acct, market, order)
            self.announce(order, _PARTIAL if order.filled else _NEW)
        else:
            status = _FILLED if order.lots == order.filled else _EXPIRED
            reason = _SELF_TRADE_PREVENTED if result.stp_expired_taker else None
            self.finish(acct, market, order, status, reason, in_book=False)
        if touched:
            self.upkeep_all(touched)
        if result.rested and acct.reducing and not order.reduce_only and not acct.hedge_mode:
            self.trim_closing(acct, market, order.position_side)

    def fill_makers(
        self, market: Market, result: MatchResult, taker: Order | None, settle: Settle | None,
        taker_id: int = 0, taker_account: int = 0, taker_side: OrderSide = _BUY,
    ) -> list[Position]:  # fmt: skip
        """The maker side of a match, shared by every taker (orders, liquidations, the fund's unwinding): fill
        each maker and the taker (an order's position, or `settle(lots, ticks) -> (fee, pnl)`), emit the trade,
        close or update the maker, expire STP'd makers and move the last price. Returns the positions touched
        (each once, in the order first touched)."""
        ctx = self.ctx
        out = ctx.out
        env = ctx.env
        inst = market.inst
        grid = inst.grid
        tick_k = inst.tick_k
        maker_rate = inst.maker_fee
        taker_rate = inst.taker_fee
        by_id = self.orders.by_id
        accounts = self.accounts.by_id
        fill = self.positions.fill
        risk = self.risk
        keys = market.keys
        touched: list[Position] = []
        if taker is not None and result.fills:  # (STP expiries alone open no position)
            taker_id = taker.id
            taker_account = taker.account
            taker_side = taker.side
            tacct = taker.owner
            tpos = tacct.positions.get(keys[taker.position_side]) or self.positions.open(
                tacct, market, taker.position_side
            )
            touched.append(tpos)
        inverse = inst.inverse  # read once: the linear loop below is the one it always was
        for f in result.fills:
            maker = by_id[f.maker_order_id]
            macct = maker.owner
            lots = f.qty
            ticks = f.price
            if maker.hold:
                risk.release_share(macct, market, maker, lots)
            mpos = macct.positions.get(keys[maker.position_side]) or self.positions.open(
                macct, market, maker.position_side
            )
            if inverse:
                maker_fee, maker_pnl, taker_fee, taker_pnl = self._inverse_fill(
                    market, maker, mpos, taker, tpos if taker is not None else None, settle, lots, ticks
                )
            else:
                notional = lots * ticks * tick_k
                maker_fee, maker_pnl = fill(macct, mpos, maker.side, lots, notional, maker_rate)
                maker.filled += lots
                maker.cost += notional
                if taker is not None:
                    taker_fee, taker_pnl = fill(tacct, tpos, taker_side, lots, notional, taker_rate)
                    taker.filled += lots
                    taker.cost += notional
                else:
                    assert settle is not None
                    taker_fee, taker_pnl = settle(lots, ticks)
            trade_id = self.next_trade_id
            self.next_trade_id = trade_id + 1
            out.append(Trade(env, len(out), trade_id, grid, ticks, lots, taker_side, maker.id, taker_id, maker.account,
                             taker_account, maker_fee, taker_fee, maker_pnl, taker_pnl))  # fmt: skip
            if mpos not in touched:
                touched.append(mpos)
            if maker.lots == maker.filled:
                self.finish(macct, market, maker, _FILLED, None, in_book=False)
            else:
                self.announce(maker, _PARTIAL)
        for maker_id in result.expired_makers:
            maker = by_id[maker_id]
            self.finish(accounts[maker.account], market, maker, _EXPIRED, _SELF_TRADE_PREVENTED, False)
        if result.fills:
            market.last = result.fills[-1].price
        return touched

    def _inverse_fill(
        self, market: Market, maker: Order, mpos: Position, taker: Order | None, tpos: Position | None,
        settle: Settle | None, lots: int, ticks: int,
    ) -> tuple[int, int, int, int]:  # fmt: skip
        """Both sides of one inverse fill: (maker fee, maker PnL, taker fee, taker PnL). The coin value lots ×
        step / price rounds against each party (`Instrument.at_ticks`: the buyer books the lower amount, the
        seller the higher); the quantum between them is the venue's, posted from settlement to the fee balance so
        the settlement identity stays exact. Fees are charged on the value rounded up."""
        inst = market.inst
        base = inst.fee_base(lots, ticks)
        down = inst.at_ticks(lots, ticks, 1)
        mnotional = down if maker.side > 0 else base
        xn = lots * inst.tv_num  # the exact coin value xn / xd quanta, for the positions' entry prices
        xd = ticks * inst.tv_den
        maker_fee, maker_pnl = self.positions.fill(
            maker.owner, mpos, maker.side, lots, mnotional, inst.maker_fee, base, xn, xd
        )
        maker.filled += lots
        maker.cost += mnotional
        if taker is not None:
            assert tpos is not None
            tnotional = down if taker.side > 0 else base
            taker_fee, taker_pnl = self.positions.fill(
                taker.owner, tpos, taker.side, lots, tnotional, inst.taker_fee, base, xn, xd
            )
            taker.filled += lots
            taker.cost += tnotional
        else:
            assert settle is not None
            taker_fee, taker_pnl = settle(lots, ticks)  # the callback books its own side's rounding
        if base != down:
            self.positions.rounding(inst.settle, base - down)
        return maker_fee, maker_pnl, taker_fee, taker_pnl

    def band_ticks(self, market: Market, side: OrderSide) -> int | None:
        """A market order's worst acceptable price: `price_band` from mark (or last, or the touch)."""
        inst = market.inst
        ref = market.reference()
        if ref is None:
            touch = market.book.best_ask() if side is _BUY else market.book.best_bid()
            if touch is None:
                return None
            ref = touch * inst.tick_pp
        band = inst.band
        if side is _BUY:
            return ref * (band.den + band.num) // (band.den * inst.tick_pp)
        return max(1, div_up(ref * (band.den - band.num), band.den * inst.tick_pp))

    # ================================================================================ order bookkeeping
    def announce(self, order: Order, status: OrderStatus, reason: OrderReason | Code | None = None) -> None:
        order.status = status
        out = self.ctx.out
        out.append(OrderUpdated(self.ctx.env, len(out), order.spec, status, order.lots, order.filled, order.cost,
                                order.ticks, reason))  # fmt: skip

    def finish(
        self, acct: Account, market: Market, order: Order, status: OrderStatus, reason: OrderReason | Code | None,
        in_book: bool = True,
    ) -> None:  # fmt: skip
        """Take an order off every index, return its hold, and report its final state."""
        if order.waiting:
            market.triggers.remove(order)
        elif in_book:
            market.book.cancel(order.id)
        if order.hold:
            self.risk.release(acct, market, order)
        self.orders.drop(acct, order)
        self.announce(order, status, reason)

    def upkeep(self, acct: Account, market: Market, pside: PositionSide) -> None:
        """After a position changed: re-index it, report it, drop it if flat, trim reduce-only orders."""
        pos = acct.positions.get(market.keys[pside])
        if pos is not None:
            self.upkeep_position(acct, pos)

    def upkeep_all(self, positions: list[Position]) -> None:
        for pos in positions:
            owner = pos.owner
            if owner is not None:
                self.upkeep_position(owner, pos)

    def upkeep_position(self, acct: Account, pos: Position) -> None:
        if acct.positions.get(pos.market.keys[pos.side]) is not pos:
            return  # already dropped (a flat position reported once)
        self.health.track(pos)
        self.position_event(pos)
        self.positions.drop_if_flat(acct, pos)
        if acct.reducing:
            self.trim_closing(acct, pos.market, pos.side)

    def position_event(self, pos: Position) -> None:
        out = self.ctx.out
        out.append(PositionUpdated(self.ctx.env, len(out), pos.account, pos.inst.grid, pos.side, pos.lots, pos.cost,
                                   pos.mode, pos.leverage, pos.margin, pos.liquidation, pos.realized,
                                   pos.xnum, pos.xden))  # fmt: skip

    # ================================================================================ reduce-only upkeep
    @staticmethod
    def closable(acct: Account, pos: Position | None, order: Order) -> int:
        """Lots `order` may still close: the position, less — for an order that may rest — what other resting
        orders on its side could close first (so no sequence of fills makes a reduce-only order open one)."""
        if pos is None or pos.lots * order.side >= 0:
            return 0
        room = abs(pos.lots)
        if not order.may_rest:
            return room  # a taker runs now, before any resting order can fill
        for other in acct.orders.values():
            if other.id == order.id or other.symbol != order.symbol or other.side is not order.side:
                continue
            if other.position_side is not order.position_side or other.waiting:
                continue
            room -= other.lots - other.filled
        return room

    def trim_closing(self, acct: Account, market: Market, pside: PositionSide) -> None:
        """Shrink or cancel resting reduce-only orders that could now close more than the position holds."""
        symbol = market.inst.symbol
        pos = acct.positions.get(market.keys[pside])
        for side in (_BUY, _SELL):
            closes = pos is not None and pos.lots * side < 0
            room = abs(pos.lots) if closes and pos is not None else 0
            same_side = [
                o for o in acct.orders.values()
                if o.symbol == symbol and o.side is side and o.position_side is pside and not o.waiting
            ]  # fmt: skip
            for o in same_side:
                if not o.reduce_only:
                    room -= o.lots - o.filled
            for o in same_side:
                if not o.reduce_only:
                    continue
                rest = o.lots - o.filled
                keep = max(0, min(rest, room))
                room -= keep
                if keep == 0:
                    self.finish(acct, market, o, _CANCELED, _REDUCE_ONLY_TRIMMED)
                elif keep < rest:
                    market.book.amend(o.id, qty=keep)
                    o.lots = o.filled + keep
                    self.announce(o, o.status)

    # ================================================================================ cancel
    def check_cancel(self, cmd: CancelOrder) -> tuple[Account, Market, Order]:
        acct = self.accounts.get(cmd.account)
        market = self.market(cmd.symbol)
        return acct, market, self.find(acct, market, cmd.order_id, cmd.client_order_id)

    def commit_cancel(self, plan: tuple[Account, Market, Order]) -> None:
        acct, market, order = plan
        self.finish(acct, market, order, _CANCELED, _USER)

    def check_cancel_all(self, cmd: CancelAllOrders) -> tuple[Account, Market]:
        return self.accounts.get(cmd.account), self.market(cmd.symbol)

    def commit_cancel_all(self, plan: tuple[Account, Market]) -> None:
        acct, market = plan
        self.cancel_orders(acct, market, _USER)

    def cancel_orders(
        self, acct: Account, market: Market | None, reason: OrderReason, side: PositionSide | None = None
    ) -> None:
        """Cancel the account's open orders (on one market, and one position side, if given)."""
        for order in [o for o in acct.orders.values() if market is None or o.symbol == market.inst.symbol]:
            if side is None or order.position_side is side:
                self.finish(acct, self.markets[order.symbol], order, _CANCELED, reason)

    @staticmethod
    def find(acct: Account, market: Market, order_id: object, client_id: object) -> Order:
        if order_id is None and type(client_id) is str:
            order_id = acct.client_ids.get(client_id)
        order = acct.orders.get(order_id) if type(order_id) is int else None
        if order is None or order.symbol != market.inst.symbol:
            shown = order_id if order_id is not None else client_id
            raise Reject(Code.UNKNOWN_ORDER, f"no open order {shown!r} on {market.inst.symbol} for this account")
        return order

    # ================================================================================ conditional orders
    def trigger_price(self, market: Market, mark: bool) -> int | None:
        if mark:
            return market.mark
        last = market.last
        return None if last is None else last * market.inst.tick_pp

    def run_triggers(self, market: Market) -> None:
        """Fire conditional orders until none fires: fills move the last price and may fire more."""
        triggers = market.triggers
        if market.paused or self.expired(market):
            return  # conditional orders wait for the market to reopen (an expired one's, for delivery to cancel)
        rounds = 0
        while triggers.size:
            fired: list[int] = []
            for working in (_MARK_PRICE, _CONTRACT_PRICE):
                price = self.trigger_price(market, working is _MARK_PRICE)
                if price is not None:
                    fired += triggers.fire(working, price)
            if not fired:
                return
            rounds += 1
            assert rounds <= MAX_TRIGGER_ROUNDS, "trigger cascade did not settle"
            fired.sort()
            for order_id in fired:
                self.fire(self.orders.by_id[order_id], market)

    def fire(self, order: Order, market: Market) -> None:
        acct = self.accounts.by_id[order.account]
        order.triggered = True
        self.orders.drop(acct, order)
        self.announce(order, _TRIGGERED)
        try:
            if order.spec.close_position:
                pos = acct.positions.get(market.keys[order.position_side])
                if pos is None or pos.lots * order.side >= 0:
                    raise Reject(Code.NO_POSITION, "nothing to close when the close-position order fired")
                order.lots = abs(pos.lots)
            if not order.reduce_only:
                self.risk.check_size(acct, market, order.side, order.position_side, order.lots - order.filled,
                                     order.ticks)  # fmt: skip
            plan = self.check_execute(acct, market, order)
        except Reject as rej:
            self.announce(order, _EXPIRED, rej.code)
            return
        self.execute(plan)


MAX_TRIGGER_ROUNDS: Final = 10_000  # fills can fire more stops; each round fires at least one of a finite set


def _amount(quanta: int) -> str:
    return f"{money(quanta):.8f}"
