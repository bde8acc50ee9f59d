"""Amending a resting limit order: a smaller size at the same price keeps time priority; a new price or a larger
size re-enters the book (and may trade), with the hold re-reserved for what rests. Checked completely first:
a refused amendment, post-only crossing included, leaves the order, its hold and the book as they were.
"""

from __future__ import annotations

from typing import Final

from isomargin.engine.codes import Code
from isomargin.engine.commands import AmendOrder, OrderSide, OrderType, TimeInForce
from isomargin.engine.errors import Reject
from isomargin.engine.state import Account, Market, Order
from isomargin.engine.trading import STP_MODES, Trading

# Enum members the hot path reads, as constants (compiled code would look each one up by name).
_BUY: Final = OrderSide.BUY
_GTX: Final = TimeInForce.GTX
_LIMIT: Final = OrderType.LIMIT


class AmendPlan:
    __slots__ = ("acct", "keeps_priority", "lots", "market", "order", "ticks")

    def __init__(self, acct: Account, market: Market, order: Order, lots: int, ticks: int, keeps: bool) -> None:
        self.acct = acct
        self.market = market
        self.order = order
        self.lots = lots
        self.ticks = ticks
        self.keeps_priority = keeps


class Amendments:
    """AmendOrder's check and commit, on top of `Trading`'s book and order bookkeeping."""

    __slots__ = ("trading",)

    def __init__(self, trading: Trading) -> None:
        self.trading = trading

    def check(self, cmd: AmendOrder) -> AmendPlan:
        t = self.trading
        acct = t.accounts.get(cmd.account)
        market = t.open_market(cmd.symbol)
        order = t.find(acct, market, cmd.order_id, cmd.client_order_id)
        if order.type is not _LIMIT:
            raise Reject(Code.NOT_AMENDABLE, "only resting limit orders can be amended")
        inst = market.inst
        lots = order.lots
        if cmd.qty is not None:
            got = inst.to_lots(cmd.qty)
            if got is None:
                raise Reject(Code.BAD_QUANTITY, f"quantity must be a positive multiple of {inst.step}, got {cmd.qty!r}")
            lots = got
        ticks = order.ticks
        if cmd.price is not None:
            ticks = inst.to_ticks(cmd.price)
            if ticks is None:
                raise Reject(Code.BAD_PRICE, f"price must be a positive multiple of {inst.tick}, got {cmd.price!r}")
        assert ticks is not None  # a resting limit always has its price
        if lots <= order.filled:
            raise Reject(Code.BAD_QUANTITY, "the new quantity must exceed what is already filled")
        remaining = lots - order.filled
        if order.reduce_only:
            pos = acct.positions.get((inst.symbol, order.position_side))
            remaining = min(remaining, t.closable(acct, pos, order))
            if remaining <= 0:
                raise Reject(Code.REDUCE_ONLY_REJECTED, "nothing left for this reduce-only order to close")
        else:
            t.risk.check_size(acct, market, order.side, order.position_side, remaining, ticks)
            need = t.risk.required(acct, market, order.side, remaining, ticks, True, None)
            if need > t.risk.available(acct, inst.settle) + order.hold:
                raise Reject(Code.INSUFFICIENT_MARGIN, "not enough available balance for the amended order")
        keeps = ticks == order.ticks and remaining <= order.lots - order.filled
        if not keeps and order.tif is _GTX:
            book = market.book
            touch = book.best_ask() if order.side is _BUY else book.best_bid()
            if touch is not None and (touch - ticks) * order.side <= 0:
                raise Reject(Code.POST_ONLY_WOULD_CROSS, "post-only order would take liquidity")
        return AmendPlan(acct, market, order, remaining, ticks, keeps)

    def commit(self, plan: AmendPlan) -> None:
        t = self.trading
        acct = plan.acct
        market = plan.market
        order = plan.order
        remaining = plan.lots
        book = market.book
        risk = t.risk
        if plan.keeps_priority:  # no new match: shrink in place
            book.amend(order.id, qty=remaining)
            order.lots = order.filled + remaining
            risk.release(acct, market, order)
            risk.reserve(acct, market, order)
            t.announce(order, order.status)
            return
        risk.release(acct, market, order)
        result = book.amend(order.id, price=plan.ticks, qty=remaining, post_only=order.tif is _GTX,
                            stp=STP_MODES[order.spec.stp])  # fmt: skip
        assert result is not None and result.reject is None  # post-only crossing was refused by the check
        order.ticks = plan.ticks
        order.lots = order.filled + remaining
        t.process(acct, market, order, result)
        if market.triggers.size:
            t.run_triggers(market)
