"""Orders through the book: validation, margin holds, matching, fills into positions, triggers.

Money rules (see ledger.py): a resting order holds IM + open loss + a taker-fee estimate at its own price
(makers always fill there, so the hold always covers); a taker is pre-checked at its worst possible fill
price. Isolated reductions release margin pro rata and settle PnL and fee against the position's own
pool; a shortfall goes to the insurance fund, never to the owner's wallet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from isomargin.engine.book import REJECT_POST_ONLY, MatchResult, SelfTradePrevention
from isomargin.engine.book import TimeInForce as BookTIF
from isomargin.engine.commands import (
    STP,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    TimeInForce,
    WorkingType,
)
from isomargin.engine.errors import Reject
from isomargin.engine.events import Event, OrderUpdated, Trade
from isomargin.engine.fills import Fills
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import hold_key, money, wallet_key
from isomargin.engine.orders import Order
from isomargin.engine.positions import Position
from isomargin.engine.state import Account
from isomargin.engine.triggers import TriggerIndex, would_fire
from isomargin.margin import MarginError

ZERO = Decimal(0)
_STP = {
    STP.NONE: SelfTradePrevention.NONE,
    STP.EXPIRE_TAKER: SelfTradePrevention.CANCEL_TAKER,
    STP.EXPIRE_MAKER: SelfTradePrevention.CANCEL_MAKER,
    STP.EXPIRE_BOTH: SelfTradePrevention.CANCEL_BOTH,
}
_BOOK_TIF = {
    TimeInForce.GTC: BookTIF.GTC,
    TimeInForce.GTX: BookTIF.GTC,
    TimeInForce.IOC: BookTIF.IOC,
    TimeInForce.FOK: BookTIF.FOK,
}
_LIMIT_TYPES = (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
_STOP_TYPES = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT)


class Trading(Fills):
    """Order handling on top of State."""

    # ============================================================================ placement
    def place_order(self, cmd: PlaceOrder, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        inst = self.instrument(cmd.symbol)
        self._open_for_orders(inst.symbol)
        order = self._build(acct, inst, cmd)
        if order.type.conditional:
            self._park(acct, order, out)
        else:
            self._execute(acct, inst, order, out)
        self.next_order_id += 1  # only now: a rejected command must not consume an id
        self.run_triggers(inst.symbol, out)

    def _open_for_orders(self, symbol: str) -> None:
        if symbol in self.paused:
            raise Reject("market_paused", f"{symbol} is paused by the operator: no new orders or amendments")

    def _build(self, acct: Account, inst: Instrument, cmd: PlaceOrder) -> Order:
        """Validate a PlaceOrder completely (raising Reject) and return the order it describes."""
        kind = cmd.type
        if acct.hedge_mode and cmd.position_side is PositionSide.BOTH:
            raise Reject("position_side_required", "hedge mode needs position side LONG or SHORT")
        if not acct.hedge_mode and cmd.position_side is not PositionSide.BOTH:
            raise Reject("position_side_mismatch", "one-way mode takes position side BOTH")
        if acct.hedge_mode and cmd.reduce_only:
            raise Reject("reduce_only_hedge", "in hedge mode the position side says whether an order reduces")
        if cmd.close_position:
            if kind not in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
                raise Reject("bad_close_position", "close-position is for STOP_MARKET and TAKE_PROFIT_MARKET")
            if cmd.qty is not None:
                raise Reject("bad_close_position", "a close-position order takes no quantity")
            lots = 0
        else:
            if cmd.qty is None:
                raise Reject("bad_quantity", "quantity is required")
            lots = inst.to_lots(cmd.qty)
        price_ticks = None
        if kind in _LIMIT_TYPES:
            if cmd.price is None:
                raise Reject("bad_price", f"{kind.value} needs a price")
            price_ticks = inst.to_ticks(cmd.price)
        elif cmd.price is not None:
            raise Reject("bad_price", f"{kind.value} takes no price")
        if cmd.tif is TimeInForce.GTX and kind is not OrderType.LIMIT:
            raise Reject("bad_time_in_force", "post-only (GTX) is for limit orders")
        stop = None
        if kind in _STOP_TYPES:
            if cmd.stop_price is None:
                raise Reject("bad_stop_price", f"{kind.value} needs a stop price")
            inst.to_ticks(cmd.stop_price, "stop price")
            stop = cmd.stop_price
        if kind is OrderType.TRAILING_STOP_MARKET:
            rate = cmd.callback_rate
            if rate is None or not (Decimal("0.1") <= rate <= Decimal(10)):
                raise Reject("bad_callback_rate", "trailing stops need a callback rate from 0.1 to 10 (%)")
            if cmd.activation_price is not None:
                inst.to_ticks(cmd.activation_price, "activation price")
        if cmd.client_order_id is not None:
            if not (0 < len(cmd.client_order_id) <= 36):
                raise Reject("bad_client_order_id", "client order id must be 1 to 36 characters")
            if cmd.client_order_id in acct.client_ids:
                raise Reject("duplicate_client_order_id", f"client order id {cmd.client_order_id!r} is in use")
        closing = self.closing(acct, cmd.side, cmd.position_side, cmd.reduce_only or cmd.close_position)
        if not closing and not cmd.close_position:
            self._check_size(acct, inst, cmd.side, cmd.position_side, lots, price_ticks)
        # Anything that executes without a limit price (market, stop-market, take-profit-market, trailing) is
        # IOC whatever the command says: a triggered market order must never rest at its band price.
        tif = TimeInForce.IOC if kind not in _LIMIT_TYPES else cmd.tif
        return Order(
            id=self.next_order_id,
            account=acct.id,
            symbol=inst.symbol,
            side=cmd.side,
            type=kind,
            tif=tif,
            lots=lots,
            price_ticks=price_ticks,
            stop_price=stop,
            reduce_only=closing,
            close_position=cmd.close_position,
            position_side=cmd.position_side,
            client_order_id=cmd.client_order_id,
            working_type=cmd.working_type,
            stp=cmd.stp,
            created=cmd.ts,
            callback_rate=cmd.callback_rate,
            activation_price=cmd.activation_price,
        )

    def _check_size(
        self, acct: Account, inst: Instrument, side: OrderSide, pside: PositionSide, lots: int, ticks: int | None
    ) -> None:
        """Min notional and the leverage tier of the position this order can grow to."""
        price = inst.price(ticks) if ticks is not None else self.reference_price(inst.symbol)
        if price is None:
            return  # no price anywhere yet: a market order will simply find nothing to fill
        qty = inst.qty(lots)
        if qty * price < inst.spec.min_notional:
            raise Reject(
                "below_min_notional", f"order value {qty * price} is below the minimum {inst.spec.min_notional}"
            )
        pos = self.position(acct, inst.symbol, pside)
        grown = qty + (inst.qty(abs(pos.lots)) if pos is not None and pos.sign == side else ZERO)
        lev = acct.setting(inst.symbol).leverage
        try:
            inst.profile.check_order(inst.spec, grown, price, Decimal(lev))
        except MarginError as exc:  # leverage above the tier's max, or a size above the largest tier
            raise Reject(exc.code, exc.message) from None

    # ============================================================================ execution
    def _execute(self, acct: Account, inst: Instrument, order: Order, out: list[Event]) -> None:
        """Send a (possibly just triggered) order to the book; every Reject is raised before any change."""
        book = self.books[inst.symbol]
        market = order.price_ticks is None
        ticks = self._band_price(inst, order.side) if market else order.price_ticks
        if ticks is None:  # nothing to measure a market order against: it cannot fill
            self._announce(order, out, "NEW")
            self._finish(acct, order, "EXPIRED", out, reason="no_liquidity")
            return
        pos = self.position(acct, inst.symbol, order.position_side)
        if order.reduce_only:
            allowed = self._closable(acct, pos, order)
            if allowed <= 0:
                raise Reject("reduce_only_rejected", "a reduce-only order must reduce an open position")
            order.lots = order.filled_lots + min(order.remaining, allowed)
        else:
            need = self._required(acct, inst, order, ticks, pos)
            free = self.available(acct, inst.settle)
            if need > free:
                raise Reject("insufficient_margin", f"order needs {need:.8f} {inst.settle}, available {free:.8f}")
        result = book.submit(
            order.id,
            acct.id,
            int(order.side),
            ticks,
            order.remaining,
            _BOOK_TIF[order.tif],
            order.tif is TimeInForce.GTX,
            _STP[order.stp],
        )
        if result.reject is not None:
            raise Reject(
                result.reject,
                "post-only order would take liquidity"
                if result.reject.startswith("post")
                else "fill-or-kill order cannot be filled completely",
            )
        self.add_order(acct, order)
        self._announce(order, out, "NEW")  # a fired conditional order reports its working order too
        self._process(acct, inst, order, result, out)

    def _process(self, acct: Account, inst: Instrument, order: Order, result: MatchResult, out: list[Event]) -> None:
        """Apply a match: fills to both sides, STP expiries, the taker's rest or expiry, position upkeep."""
        touched = self.fill_makers(
            inst, result, order.id, order.account, order.side,
            lambda lots, ticks: self._fill(order, lots, ticks, False, out), out, taker=order,
        )  # fmt: skip
        if result.fills:
            touched[(order.account, order.position_side)] = None
        if result.rested:
            self._reserve(acct, inst, order, out)
            if result.fills:
                self._announce(order, out, "PARTIALLY_FILLED")
        else:
            status = "FILLED" if order.remaining == 0 else "EXPIRED"
            reason = "self_trade_prevented" if result.stp_expired_taker else None
            self._finish(acct, order, status, out, reason=reason, in_book=False)
        for account_id, pside in touched:
            self._upkeep(self.accounts[account_id], inst.symbol, pside, out)
        if result.rested and not order.reduce_only and not acct.hedge_mode:
            self._trim_closing(acct, inst.symbol, order.position_side, out)

    def fill_makers(
        self,
        inst: Instrument,
        result: MatchResult,
        taker_id: int,
        taker_account: int,
        taker_side: OrderSide,
        settle_taker: Callable[[int, int], tuple[Decimal, Decimal]],
        out: list[Event],
        taker: Order | None = None,
    ) -> dict[tuple[int, PositionSide], None]:
        """The maker side of a match, shared by every taker (orders, liquidations, the fund's unwinding): fill
        each maker, settle the taker through `settle_taker(lots, ticks) -> (fee, pnl)`, emit the trade, close
        or update the maker, expire STP'd makers and move the last price. Returns the makers' positions touched."""
        touched: dict[tuple[int, PositionSide], None] = {}
        for f in result.fills:
            maker = self.orders[f.maker_order_id]
            maker_fee, maker_pnl = self._fill(maker, f.qty, f.price, True, out)
            taker_fee, taker_pnl = settle_taker(f.qty, f.price)
            trade = Trade(
                self.next_trade_id, inst.symbol, inst.price(f.price), inst.qty(f.qty), taker_side.name, maker.id,
                taker_id, maker.account, taker_account, maker_fee, taker_fee, maker_pnl, taker_pnl,
            )  # fmt: skip
            out.append(trade)
            self._log_fill(trade, maker, True)
            if taker is not None:
                self._log_fill(trade, taker, False)
            self.next_trade_id += 1
            touched[(maker.account, maker.position_side)] = None
            if maker.remaining == 0:
                self._finish(self.accounts[maker.account], maker, "FILLED", out, in_book=False)
            else:
                self._announce(maker, out, "PARTIALLY_FILLED")
        for maker_id in result.expired_makers:
            maker = self.orders[maker_id]
            self._finish(self.accounts[maker.account], maker, "EXPIRED", out, reason="self_trade_prevented",
                         in_book=False)  # fmt: skip
        if result.fills:
            self.last_prices[inst.symbol] = inst.price(result.fills[-1].price)
        return touched

    def _worst_price(self, inst: Instrument, side: OrderSide, ticks: int) -> Decimal:
        """The highest price a fill can cost in margin: a buy never pays above its limit; a sell can be
        filled up to the best bid."""
        if side is OrderSide.BUY:
            return inst.price(ticks)
        bid = self.books[inst.symbol].best_bid()
        return inst.price(max(ticks, bid or 0))

    def _required(self, acct: Account, inst: Instrument, order: Order, ticks: int, pos: Position | None) -> Decimal:
        """Free balance an opening order needs before it may touch the book."""
        lev = acct.setting(inst.symbol).leverage
        worst = self._worst_price(inst, order.side, ticks)
        lots = order.remaining
        may_rest = order.tif in (TimeInForce.GTC, TimeInForce.GTX)
        opening = lots
        credit = ZERO
        if not may_rest and not acct.hedge_mode and pos is not None and pos.lots * order.side < 0:
            closing = min(lots, abs(pos.lots))
            opening = lots - closing  # a taker's reducing part runs first and needs nothing
            if pos.isolated:
                credit = self._release_credit(inst, pos, closing, inst.price(ticks))
        need = inst.qty(opening) * worst / lev + inst.qty(lots) * worst * inst.taker_fee - credit
        if may_rest:
            need += self._open_loss(inst, order.side, inst.price(ticks), lots)
        return need

    def _open_loss(self, inst: Instrument, side: OrderSide, price: Decimal, lots: int) -> Decimal:
        """Binance's open loss: a limit priced worse than mark is already losing the difference."""
        mark = self.marks.get(inst.symbol)
        if mark is None:
            return ZERO
        return max(ZERO, side * (price - mark)) * inst.qty(lots)

    def _reserve(self, acct: Account, inst: Instrument, order: Order, out: list[Event]) -> None:
        """Hold margin for a resting order's unfilled rest (nothing for reduce-only orders)."""
        if order.reduce_only:
            return
        price = inst.price(order.price_ticks or 0)
        lots = order.remaining
        lev = acct.setting(inst.symbol).leverage
        hold = money(inst.qty(lots) * price * (1 / Decimal(lev) + inst.taker_fee)) + self._open_loss(
            inst, order.side, price, lots
        )
        asset = inst.settle
        hold = min(hold, max(self.wallet(acct.id, asset), ZERO))  # pre-checked; the min only guards dust
        self.ledger.post(wallet_key(acct.id, asset), hold_key(acct.id, asset), asset, hold, "order_hold", out)
        order.hold += hold

    def _band_price(self, inst: Instrument, side: OrderSide) -> int | None:
        """A market order's worst acceptable price: `price_band` from mark (or last, or the touch)."""
        book = self.books[inst.symbol]
        ref = self.reference_price(inst.symbol)
        if ref is None:
            touch = book.best_ask() if side is OrderSide.BUY else book.best_bid()
            if touch is None:
                return None
            ref = inst.price(touch)
        if side is OrderSide.BUY:
            return int((ref * (1 + inst.price_band) / inst.tick).to_integral_value(rounding=ROUND_FLOOR))
        return max(1, int((ref * (1 - inst.price_band) / inst.tick).to_integral_value(rounding=ROUND_CEILING)))

    # ============================================================================ reduce-only upkeep
    def _closable(self, acct: Account, pos: Position | None, order: Order) -> int:
        """Lots `order` may still close: the position, less — for an order that may rest — what other resting
        orders on its side could close first (so no sequence of fills makes a reduce-only order open one)."""
        if pos is None or pos.lots * order.side >= 0:
            return 0
        room = abs(pos.lots)
        if order.tif not in (TimeInForce.GTC, TimeInForce.GTX):
            return room  # a taker runs now, before any resting order can fill
        for other in acct.orders.values():
            if other.id == order.id or other.symbol != order.symbol or other.side is not order.side:
                continue
            if other.position_side is not order.position_side or other.resting_conditional:
                continue
            room -= other.remaining
        return room

    def _trim_closing(self, acct: Account, symbol: str, pside: PositionSide, out: list[Event]) -> None:
        """Shrink or cancel resting reduce-only orders that could now close more than the position holds."""
        if not acct.reducing:
            return  # the common case: no reduce-only order anywhere on the account, nothing to trim
        pos = self.position(acct, symbol, pside)
        book = self.books[symbol]
        for side in (OrderSide.BUY, OrderSide.SELL):
            closes = pos is not None and pos.lots * side < 0
            room = abs(pos.lots) if closes and pos is not None else 0
            same_side = [
                o
                for o in acct.orders.values()
                if o.symbol == symbol and o.side is side and o.position_side is pside and not o.resting_conditional
            ]
            for o in same_side:
                if not o.reduce_only:
                    room -= o.remaining
            for o in same_side:
                if not o.reduce_only:
                    continue
                keep = max(0, min(o.remaining, room))
                room -= keep
                if keep == 0:
                    self._finish(acct, o, "CANCELED", out, reason="reduce_only_trimmed")
                elif keep < o.remaining:
                    book.amend(o.id, qty=keep)
                    o.lots = o.filled_lots + keep
                    self._announce(o, out, o.status)

    def _upkeep(self, acct: Account, symbol: str, pside: PositionSide, out: list[Event]) -> None:
        pos = self.position(acct, symbol, pside)
        if pos is None:
            return
        self.refresh(pos)
        out.append(self.position_event(pos))
        self.drop_if_flat(acct, pos)
        self._trim_closing(acct, symbol, pside, out)

    # ============================================================================ cancel / amend
    def cancel_order(self, cmd: CancelOrder, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        self.instrument(cmd.symbol)
        order = self._find(acct, cmd.symbol, cmd.order_id, cmd.client_order_id)
        self._finish(acct, order, "CANCELED", out, reason="user")

    def cancel_all(self, cmd: CancelAllOrders, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        self.instrument(cmd.symbol)
        for order in [o for o in acct.orders.values() if o.symbol == cmd.symbol]:
            self._finish(acct, order, "CANCELED", out, reason="user")

    def amend_order(self, cmd: AmendOrder, out: list[Event]) -> None:
        acct = self.account(cmd.account)
        inst = self.instrument(cmd.symbol)
        self._open_for_orders(inst.symbol)
        order = self._find(acct, cmd.symbol, cmd.order_id, cmd.client_order_id)
        if order.type is not OrderType.LIMIT:
            raise Reject("not_amendable", "only resting limit orders can be amended")
        lots = inst.to_lots(cmd.qty) if cmd.qty is not None else order.lots
        ticks = inst.to_ticks(cmd.price) if cmd.price is not None else order.price_ticks
        assert ticks is not None
        if lots <= order.filled_lots:
            raise Reject("bad_quantity", "the new quantity must exceed what is already filled")
        remaining = lots - order.filled_lots
        if order.reduce_only:
            remaining = min(
                remaining, self._closable(acct, self.position(acct, inst.symbol, order.position_side), order)
            )
            if remaining <= 0:
                raise Reject("reduce_only_rejected", "nothing left for this reduce-only order to close")
        else:
            self._check_size(acct, inst, order.side, order.position_side, remaining, ticks)
            probe = dataclasses.replace(order, lots=remaining, filled_lots=0, price_ticks=ticks)
            need = self._required(acct, inst, probe, ticks, None)
            if need > self.available(acct, inst.settle) + order.hold:
                raise Reject("insufficient_margin", "not enough available balance for the amended order")
        book = self.books[inst.symbol]
        if ticks == order.price_ticks and remaining <= order.remaining:  # keeps priority: no new match
            book.amend(order.id, qty=remaining)
            order.lots = order.filled_lots + remaining
            self._release_hold(acct, inst, order, out)
            self._reserve(acct, inst, order, out)
            self._announce(order, out, order.status)
            return
        if order.tif is TimeInForce.GTX:  # refuse before touching the hold: a rejection changes nothing
            touch = book.best_ask() if order.side is OrderSide.BUY else book.best_bid()
            if touch is not None and (touch - ticks) * order.side <= 0:
                raise Reject(REJECT_POST_ONLY, "post-only order would take liquidity")
        self._release_hold(acct, inst, order, out)
        result = book.amend(
            order.id, price=ticks, qty=remaining, post_only=order.tif is TimeInForce.GTX, stp=_STP[order.stp]
        )
        assert result is not None and result.reject is None  # post-only crossing was refused above
        order.price_ticks = ticks
        order.lots = order.filled_lots + remaining
        self._announce(order, out, order.status)
        self._process(acct, inst, order, result, out)
        self.run_triggers(inst.symbol, out)

    def _find(self, acct: Account, symbol: str, order_id: int | None, client_id: str | None) -> Order:
        if order_id is None and client_id is not None:
            order_id = acct.client_ids.get(client_id)
        order = acct.orders.get(order_id) if order_id is not None else None
        if order is None or order.symbol != symbol:
            raise Reject("unknown_order", f"no open order {order_id or client_id!r} on {symbol} for this account")
        return order

    def _release_hold(self, acct: Account, inst: Instrument, order: Order, out: list[Event]) -> None:
        if order.hold:
            asset = inst.settle
            self.ledger.post(
                hold_key(acct.id, asset), wallet_key(acct.id, asset), asset, order.hold, "hold_release", out
            )
            order.hold = ZERO

    def _finish(
        self,
        acct: Account,
        order: Order,
        status: str,
        out: list[Event],
        reason: str | None = None,
        in_book: bool = True,
    ) -> None:
        """Take an order off every index, return its hold, and report its final state."""
        inst = self.instruments[order.symbol]
        if order.resting_conditional:
            self.triggers[order.symbol].remove(order)
        elif in_book:
            self.books[order.symbol].cancel(order.id)
        self._release_hold(acct, inst, order, out)
        self.drop_order(acct, order)
        self._announce(order, out, status, reason)

    def _announce(self, order: Order, out: list[Event], status: str, reason: str | None = None) -> None:
        order.status = status
        inst = self.instruments[order.symbol]
        filled = inst.qty(order.filled_lots)
        out.append(
            OrderUpdated(
                order.id,
                order.account,
                order.symbol,
                order.client_order_id,
                order.side.name,
                order.type.value,
                status,
                inst.price(order.price_ticks) if order.price_ticks is not None else None,
                order.stop_price,
                inst.qty(order.lots),
                filled,
                order.filled_cost / filled if order.filled_lots else None,
                order.reduce_only,
                order.position_side.value,
                reason,
            )
        )

    # ============================================================================ conditional orders
    def _park(self, acct: Account, order: Order, out: list[Event]) -> None:
        """Accept a conditional order into the trigger index (no margin is held until it fires)."""
        price = self._trigger_price(order.symbol, order.working_type)
        if order.type is OrderType.TRAILING_STOP_MARKET:
            if order.activation_price is None:
                if price is None:
                    raise Reject("no_reference_price", "a trailing stop without activation price needs a price")
                order.activated, order.extreme = True, price
        elif price is not None and would_fire(order, price):
            raise Reject("would_immediately_trigger", f"stop {order.stop_price} is already reached at {price}")
        self.triggers[order.symbol].add(order)
        self.add_order(acct, order)
        self._announce(order, out, "NEW")

    def _trigger_price(self, symbol: str, working: WorkingType) -> Decimal | None:
        return self.marks.get(symbol) if working is WorkingType.MARK_PRICE else self.last_prices.get(symbol)

    def run_triggers(self, symbol: str, out: list[Event]) -> None:
        """Fire conditional orders until none fires: fills move the last price and may fire more."""
        index: TriggerIndex = self.triggers[symbol]
        if symbol in self.paused:
            return  # conditional orders wait for the market to reopen
        while len(index):
            fired: list[Order] = []
            for working in WorkingType:
                price = self._trigger_price(symbol, working)
                if price is not None:
                    fired += index.fire(working, price, self.orders)
            if not fired:
                return
            fired.sort(key=lambda o: o.id)
            for order in fired:
                self._fire(order, out)

    def _fire(self, order: Order, out: list[Event]) -> None:
        acct = self.accounts[order.account]
        inst = self.instruments[order.symbol]
        order.triggered = True
        self.drop_order(acct, order)
        self._announce(order, out, "TRIGGERED")
        try:
            if order.close_position:
                pos = self.position(acct, order.symbol, order.position_side)
                if pos is None or pos.lots * order.side >= 0:
                    raise Reject("no_position", "nothing to close when the close-position order fired")
                order.lots = abs(pos.lots)
            if not order.reduce_only:
                self._check_size(acct, inst, order.side, order.position_side, order.remaining, order.price_ticks)
            self._execute(acct, inst, order, out)
        except Reject as rej:
            self._announce(order, out, "EXPIRED", rej.code)
