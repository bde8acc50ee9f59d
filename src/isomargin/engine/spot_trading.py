"""Spot orders on the shared book code: placement (what the order locks, the borrow a MARGIN_BUY makes), matching,
fills that exchange base against quote in the ledger with fees in the asset received, auto-repay, and cancels.
Orders trade from the wallet or from the account's isolated margin account on the pair.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from isomargin.engine.book import Fill, SelfTradePrevention
from isomargin.engine.book import TimeInForce as BookTIF
from isomargin.engine.codes import BalanceKind, Code, OrderStatus, Posting
from isomargin.engine.commands import CancelSpotOrder, OrderSide, OrderType, PlaceSpotOrder, SideEffect, TimeInForce
from isomargin.engine.errors import Reject
from isomargin.engine.ledger import Balance
from isomargin.engine.order_checks import check_book, check_client_id
from isomargin.engine.spot_events import SpotOrderUpdated, SpotTrade
from isomargin.engine.spot_state import SpotAccount, SpotOrder, SpotPair
from isomargin.engine.state import Account
from isomargin.engine.units import money

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine, Handler

_BORROWS: Final = (SideEffect.MARGIN_BUY, SideEffect.AUTO_BORROW_REPAY)
_REPAYS: Final = (SideEffect.AUTO_REPAY, SideEffect.AUTO_BORROW_REPAY)
_BOOK_TIF: Final = {TimeInForce.GTC: BookTIF.GTC, TimeInForce.GTX: BookTIF.GTC, TimeInForce.IOC: BookTIF.IOC,
                    TimeInForce.FOK: BookTIF.FOK}  # fmt: skip


def handlers(engine: Engine) -> dict[type, Handler]:
    t = engine.spot_trading
    return {PlaceSpotOrder: (t.check_place, t.commit_place), CancelSpotOrder: (t.check_cancel, t.commit_cancel)}


class Placement:
    """A checked spot order: everything its commit needs."""

    __slots__ = ("acct", "borrow", "cmd", "lock", "lock_ticks", "lots", "pair", "pay", "ticks")

    def __init__(self, cmd: PlaceSpotOrder, acct: Account, pair: SpotPair, lots: int, ticks: int | None,
                 lock_ticks: int, pay: str, lock: int, borrow: int) -> None:  # fmt: skip
        self.cmd = cmd
        self.acct = acct
        self.pair = pair
        self.lots = lots
        self.ticks = ticks
        self.lock_ticks = lock_ticks
        self.pay = pay
        self.lock = lock
        self.borrow = borrow


class SpotTrading:
    """Owns the open spot orders (by id and by client id) and the spot trade-id counter."""

    __slots__ = ("client_ids", "e", "next_trade_id", "orders")

    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.orders: dict[int, SpotOrder] = {}
        self.client_ids: dict[tuple[int, str], int] = {}
        self.next_trade_id = 1

    # -- placement -------------------------------------------------------------------------------------------------
    def check_place(self, cmd: PlaceSpotOrder) -> Placement:
        e = self.e
        acct = e.accounts.get(cmd.account)
        pair = e.spot.pair(cmd.symbol)
        side, kind, tif = cmd.side, cmd.type, cmd.tif
        if type(side) is not OrderSide or type(tif) is not TimeInForce or type(cmd.side_effect) is not SideEffect:
            raise Reject(Code.BAD_ENUM, "side, time in force and side effect must be their enums")
        if kind is not OrderType.LIMIT and kind is not OrderType.MARKET:
            raise Reject(Code.BAD_ENUM, f"spot orders are LIMIT or MARKET, got {kind!r}")
        if type(cmd.isolated) is not bool:
            raise Reject(Code.BAD_FLAG, f"isolated must be true or false, got {cmd.isolated!r}")
        if not cmd.isolated and cmd.side_effect is not SideEffect.NO_SIDE_EFFECT:
            raise Reject(Code.BAD_ENUM, "side effects (borrow, repay) apply to isolated margin orders only")
        lots = pair.to_lots(cmd.qty)
        if lots is None:
            raise Reject(Code.BAD_QUANTITY, f"quantity must be a positive multiple of {pair.step}, got {cmd.qty!r}")
        ticks = self._price(pair, cmd)
        lock_ticks = ticks if ticks is not None else self._band_edge(pair, side)
        if lots * lock_ticks * pair.tick_k < pair.min_notional and ticks is not None:
            raise Reject(Code.BELOW_MIN_NOTIONAL, f"notional below the minimum {money(pair.min_notional)} "
                         f"{pair.quote}")  # fmt: skip
        check_client_id(self.client_ids, acct.id, cmd.client_order_id, "spot")
        check_book(pair.book, side, tif, lots, lock_ticks)
        pay = pair.quote if side is OrderSide.BUY else pair.base
        if side is OrderSide.SELL:
            lock = lots * pair.lot_k
        elif ticks is None:  # a market buy fills now against this very book: lock exactly what it will pay
            lock = self._market_cost(pair, lots, lock_ticks)
        else:
            lock = lots * lock_ticks * pair.tick_k
        have = self._free(acct, pair, cmd.isolated, pay)
        borrow = 0
        if lock > have:
            if cmd.side_effect not in _BORROWS:
                raise Reject(Code.INSUFFICIENT_BALANCE, f"the order needs {money(lock)} {pay}; "
                             f"{money(max(have, 0))} is free" + (" (MARGIN_BUY borrows the rest)"
                                                                 if cmd.isolated else ""))  # fmt: skip
            borrow = lock - max(have, 0)
            e.spot.check_borrowable(acct, pair, pay, borrow)
        return Placement(cmd, acct, pair, lots, ticks, lock_ticks, pay, lock, borrow)

    @staticmethod
    def _price(pair: SpotPair, cmd: PlaceSpotOrder) -> int | None:
        if cmd.type is OrderType.MARKET:
            if cmd.price is not None:
                raise Reject(Code.BAD_PRICE, "a market order takes no price")
            if cmd.tif is TimeInForce.GTX:
                raise Reject(Code.BAD_TIME_IN_FORCE, "a market order cannot be post-only")
            return None
        ticks = pair.to_ticks(cmd.price)
        if ticks is None:
            raise Reject(Code.BAD_PRICE, f"price must be a positive multiple of {pair.tick}, got {cmd.price!r}")
        return ticks

    def _band_edge(self, pair: SpotPair, side: OrderSide) -> int:
        """The worst price a market order may fill at: the reference (mark, last, else the best opposite quote)
        moved by the price band, on the tick grid, towards the order's side."""
        ref: Fraction | None = None
        pp = pair.reference()
        if pp is not None:
            ref = Fraction(pp, pair.tick_pp)
        else:
            best = pair.book.best_ask() if side is OrderSide.BUY else pair.book.best_bid()
            ref = None if best is None else Fraction(best)
        if ref is None:
            raise Reject(Code.NO_REFERENCE_PRICE, f"{pair.symbol} has no price and an empty book: nothing to fill "
                         "a market order against")  # fmt: skip
        if side is OrderSide.BUY:
            edge = ref * (1 + pair.band)
            return -(-edge.numerator // edge.denominator)
        edge = ref * (1 - pair.band)
        return max(1, edge.numerator // edge.denominator)

    @staticmethod
    def _market_cost(pair: SpotPair, lots: int, edge: int) -> int:
        """Quote quanta a market buy of `lots` pays against the asks up to `edge` (what it cannot fill expires)."""
        cost = 0
        _, asks = pair.book.depth(len(pair.book))
        for ticks, qty in asks:
            if ticks > edge or lots <= 0:
                break
            take = qty if qty < lots else lots
            cost += take * ticks * pair.tick_k
            lots -= take
        return cost

    def _free(self, acct: Account, pair: SpotPair, isolated: bool, asset: str) -> int:
        if isolated:
            sa = pair.accounts.get(acct.id)
            return 0 if sa is None else sa.free[asset].amount
        return self.e.risk.available(acct, asset)

    def commit_place(self, plan: Placement) -> None:
        e = self.e
        cmd, pair, acct = plan.cmd, plan.pair, plan.acct
        sa = e.spot.margin_account(acct, pair) if cmd.isolated else None
        if plan.borrow:
            assert sa is not None
            e.spot.lend(sa, plan.pay, plan.borrow)
        get = pair.base if cmd.side is OrderSide.BUY else pair.quote
        pay_free, pay_lock, get_free = self.homes(acct, pair, sa, plan.pay, get)
        order = SpotOrder(
            e.orders.allocate(), acct.id, pair.symbol, cmd.side, cmd.type, cmd.tif, plan.ticks, plan.lock_ticks,
            plan.lots, cmd.isolated, cmd.side_effect, cmd.client_order_id, pay_free, pay_lock, get_free, sa,
        )  # fmt: skip
        e.ledger.post(pay_free, pay_lock, plan.lock, Posting.ORDER_HOLD)
        order.locked = plan.lock
        self._emit_order(order)
        self.execute(order, pair)

    def homes(self, acct: Account, pair: SpotPair, sa: SpotAccount | None, pay: str,
               get: str) -> tuple[Balance, Balance, Balance]:  # fmt: skip
        """(pay from, lock in, receive into): the isolated account's balances, or the wallet's."""
        if sa is not None:
            return sa.free[pay], sa.locked[pay], sa.free[get]
        ledger = self.e.ledger
        locked = ledger.open(BalanceKind.LOCKED, pay, acct.id, name=f"{acct.id}:spot:{pay}")
        return self.e.accounts.wallet(acct, pay), locked, self.e.accounts.wallet(acct, get)

    def execute(self, order: SpotOrder, pair: SpotPair) -> None:
        """Commit step: match a locked order against the book, settle its fills, rest or expire the rest."""
        book_tif = BookTIF.IOC if order.type is OrderType.MARKET else _BOOK_TIF[order.tif]
        res = pair.book.submit(order.id, order.account, int(order.side), order.lock_ticks, order.remaining,
                               book_tif, False, SelfTradePrevention.NONE)  # fmt: skip
        touched: dict[int, SpotAccount] = {}
        for fill in res.fills:
            self._settle(pair, order, fill, touched)
        if res.rested:
            self.index(order)
            if res.fills:
                self._emit_order(order)
        else:
            self._finish(order, OrderStatus.FILLED if order.remaining == 0 else OrderStatus.EXPIRED,
                         None if order.remaining == 0 else "no_liquidity")  # fmt: skip
        for sa in touched.values():
            self.e.spot_liquidation.measure(sa)

    def index(self, order: SpotOrder) -> None:
        """Commit step: an order now resting, in every index (by id, client id, its margin account)."""
        self.orders[order.id] = order
        if order.client_order_id is not None:
            self.client_ids[(order.account, order.client_order_id)] = order.id
        if order.margin is not None:
            order.margin.orders[order.id] = order

    def _settle(self, pair: SpotPair, taker: SpotOrder, fill: Fill, touched: dict[int, SpotAccount]) -> None:
        maker = self.orders[fill.maker_order_id]
        buyer, seller = (taker, maker) if taker.side is OrderSide.BUY else (maker, taker)
        lots, ticks = fill.qty, fill.price
        quote = lots * ticks * pair.tick_k
        base = lots * pair.lot_k
        ledger = self.e.ledger
        # A resting buy locked its limit price per lot and gets the difference back at a better fill; a market
        # buy locked exactly what it pays.
        buy_lock = quote if buyer.type is OrderType.MARKET else lots * buyer.lock_ticks * pair.tick_k
        ledger.post(buyer.pay_lock, seller.get_free, quote, Posting.SPOT_TRADE)
        ledger.post(buyer.pay_lock, buyer.pay_free, buy_lock - quote, Posting.HOLD_RELEASE)
        buyer.locked -= buy_lock
        ledger.post(seller.pay_lock, buyer.get_free, base, Posting.SPOT_TRADE)
        seller.locked -= base
        fees_b = ledger.open(BalanceKind.FEES, pair.base)
        fees_q = ledger.open(BalanceKind.FEES, pair.quote)
        buy_fee = (pair.taker if buyer is taker else pair.maker).up(base)
        sell_fee = (pair.taker if seller is taker else pair.maker).up(quote)
        ledger.post(buyer.get_free, fees_b, buy_fee, Posting.TRADING_FEE)
        ledger.post(seller.get_free, fees_q, sell_fee, Posting.TRADING_FEE)
        for o in (buyer, seller):
            o.filled += lots
            o.quote_filled += quote
            if o.margin is not None:
                tally = o.margin.fills[o.side]
                tally[0] += base
                tally[1] += quote
        pair.last = ticks
        tid = self.next_trade_id
        self.next_trade_id = tid + 1
        self._emit(SpotTrade(
            self.e.ctx.env, 0, tid, pair.symbol, pair.grid.price(ticks), pair.grid.qty(lots), money(quote),
            taker.side, buyer.account, buyer.id, money(buy_fee), seller.account, seller.id, money(sell_fee),
        ))  # fmt: skip
        for o, got, fee in ((buyer, base, buy_fee), (seller, quote, sell_fee)):
            if o.margin is not None:
                touched[o.account] = o.margin
                if o.side_effect in _REPAYS:
                    self._auto_repay(o, got - fee)
        if maker.remaining == 0:
            self._finish(maker, OrderStatus.FILLED, None)
        else:
            maker.status = OrderStatus.PARTIALLY_FILLED
            self._emit_order(maker)
        taker.status = OrderStatus.PARTIALLY_FILLED

    def _auto_repay(self, order: SpotOrder, received: int) -> None:
        sa = order.margin
        assert sa is not None
        asset = sa.pair.base if order.side is OrderSide.BUY else sa.pair.quote
        spot = self.e.spot
        spot.catch_up(sa, asset, self.e.ctx.env.command.ts)
        spot.settle_debt(sa, asset, received, "auto_repay")

    def _finish(self, order: SpotOrder, status: OrderStatus, reason: str | None) -> None:
        """Commit step: end an order: release what it still locks, drop it from every index, report it."""
        if order.locked:
            self.e.ledger.post(order.pay_lock, order.pay_free, order.locked, Posting.HOLD_RELEASE)
            order.locked = 0
        order.status = status
        self.orders.pop(order.id, None)
        if (
            order.client_order_id is not None
            and self.client_ids.get((order.account, order.client_order_id)) == order.id
        ):
            del self.client_ids[(order.account, order.client_order_id)]
        if order.margin is not None:
            order.margin.orders.pop(order.id, None)
        self._emit_order(order, reason)

    # -- cancels -------------------------------------------------------------------------------------------------------
    def check_cancel(self, cmd: CancelSpotOrder) -> tuple[SpotPair, SpotOrder]:
        acct = self.e.accounts.get(cmd.account)
        pair = self.e.spot.pair(cmd.symbol)
        oid = cmd.order_id
        if oid is None and cmd.client_order_id is not None:
            oid = self.client_ids.get((acct.id, cmd.client_order_id)) if type(cmd.client_order_id) is str else None
        order = self.orders.get(oid) if type(oid) is int else None
        if order is None or order.account != acct.id or order.symbol != pair.symbol:
            raise Reject(Code.UNKNOWN_ORDER, f"no open {pair.symbol} spot order {cmd.order_id or cmd.client_order_id!r}"
                         f" of account {acct.id}")  # fmt: skip
        return pair, order

    def commit_cancel(self, plan: tuple[SpotPair, SpotOrder]) -> None:
        pair, order = plan
        self.cancel(pair, order, "user")

    def cancel(self, pair: SpotPair, order: SpotOrder, reason: str) -> None:
        pair.book.cancel(order.id)
        self._finish(order, OrderStatus.CANCELED, reason)

    # -- events --------------------------------------------------------------------------------------------------------
    def _emit_order(self, o: SpotOrder, reason: str | None = None) -> None:
        pair = self.e.spot.pairs[o.symbol]
        g = pair.grid
        self._emit(SpotOrderUpdated(
            self.e.ctx.env, 0, o.id, o.account, o.symbol, o.side, o.type, o.tif,
            None if o.ticks is None else g.price(o.ticks), g.qty(o.lots), g.qty(o.filled), money(o.quote_filled),
            o.status, o.isolated, o.side_effect, o.client_order_id, reason,
        ))  # fmt: skip

    def _emit(self, event: Any) -> None:
        out = self.e.ctx.out
        event.index = len(out)
        out.append(event)
