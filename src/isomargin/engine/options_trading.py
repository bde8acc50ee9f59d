"""Option orders on the shared book code: what an order holds (a buy: premium and fee at its limit; a sell that
may open a short: the initial margin of every contract), matching, and fills that move the premium from buyer to
seller, open and close positions (a short's margin and premium into its isolated pool), and cancels.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from isomargin.engine.book import Fill, SelfTradePrevention
from isomargin.engine.book import TimeInForce as BookTIF
from isomargin.engine.codes import BalanceKind, Code, OrderStatus, Posting
from isomargin.engine.commands import CancelOptionOrder, OrderSide, PlaceOptionOrder, TimeInForce
from isomargin.engine.errors import Reject
from isomargin.engine.ledger import Balance
from isomargin.engine.options_events import OptionOrderUpdated, OptionTrade
from isomargin.engine.options_risk import per_unit, price_of
from isomargin.engine.options_state import OptionInstrument, OptionMarket, OptionOrder, OptionPosition
from isomargin.engine.order_checks import check_book, check_client_id
from isomargin.engine.state import Account
from isomargin.engine.units import QUANTA, money

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine, Handler

_BOOK_TIF: Final = {TimeInForce.GTC: BookTIF.GTC, TimeInForce.GTX: BookTIF.GTC, TimeInForce.IOC: BookTIF.IOC,
                    TimeInForce.FOK: BookTIF.FOK}  # fmt: skip


def handlers(engine: Engine) -> dict[type, Handler]:
    t = engine.option_trading
    return {PlaceOptionOrder: (t.check_place, t.commit_place), CancelOptionOrder: (t.check_cancel, t.commit_cancel)}


def _ceil(x: Fraction) -> int:
    return -(-x.numerator // x.denominator)


def fee(inst: OptionInstrument, rate_num: int, rate_den: int, lots: int, premium: int, index: Fraction | None) -> int:
    """A fill's fee (quanta, rounded up): the rate on the underlying's value (settle units: contracts × multiplier
    for a coin-margined option, × the index for one settled in the quote), capped at `fee_cap` of the premium."""
    units = lots * inst.lot_units
    notional = units if inst.coin_margined else units * (index or Fraction(0))
    raw = notional * QUANTA * Fraction(rate_num, rate_den)
    cap = premium * inst.fee_cap
    return _ceil(min(raw, cap))


class OptionTrading:
    """Owns the open option orders (by id and client id) and the option trade-id counter."""

    __slots__ = ("client_ids", "e", "next_trade_id", "orders")

    def __init__(self, engine: Engine) -> None:
        self.e = engine
        self.orders: dict[int, OptionOrder] = {}
        self.client_ids: dict[tuple[int, str], int] = {}
        self.next_trade_id = 1

    # -- placement -------------------------------------------------------------------------------------------
    def check_place(self, cmd: PlaceOptionOrder) -> tuple[Account, OptionMarket, OptionOrder]:
        e = self.e
        acct = e.accounts.get(cmd.account)
        market = e.options.market(cmd.symbol)
        inst = market.inst
        if cmd.ts >= inst.expiry:
            raise Reject(Code.OPTION_EXPIRED, f"{inst.symbol} expired: it takes no orders, only settlement")
        if type(cmd.side) is not OrderSide or type(cmd.tif) is not TimeInForce:
            raise Reject(Code.BAD_ENUM, "side and time in force must be their enums")
        if type(cmd.reduce_only) is not bool:
            raise Reject(Code.BAD_FLAG, f"reduce_only must be true or false, got {cmd.reduce_only!r}")
        lots = inst.to_lots(cmd.qty)
        if lots is None:
            raise Reject(Code.BAD_QUANTITY, f"contracts must be a positive multiple of {inst.step}, got {cmd.qty!r}")
        ticks = inst.to_ticks(cmd.price)
        if ticks is None:
            raise Reject(Code.BAD_PRICE, f"the premium must be a positive multiple of {inst.tick}, got {cmd.price!r}")
        band = inst.family.tick_for(inst.grid.price(ticks))  # OKX: a coarser tick for dearer options
        if (Fraction(ticks) * Fraction(inst.tick) / Fraction(band)).denominator != 1:
            raise Reject(Code.BAD_PRICE, f"a premium of {cmd.price} moves in steps of {band}")
        check_client_id(self.client_ids, acct.id, cmd.client_order_id, "option")
        pos = market.positions.get(acct.id)
        held = 0 if pos is None else pos.lots
        if cmd.reduce_only and (held * int(cmd.side) >= 0 or lots > abs(held)):
            raise Reject(Code.REDUCE_ONLY_REJECTED, "a reduce-only order must close part of the position, no more")
        check_book(market.book, cmd.side, cmd.tif, lots, ticks)
        per_lot = self._per_lot(acct, market, cmd, ticks, lots, held)
        need = per_lot * lots
        free = e.risk.available(acct, inst.settle)
        if need > free:
            raise Reject(Code.INSUFFICIENT_MARGIN, f"the order needs {money(need)} {inst.settle}; "
                         f"{money(max(free, 0))} is available")  # fmt: skip
        # The id is allocated by the commit: a check changes nothing, not even the id counter.
        order = OptionOrder(0, acct.id, inst.symbol, cmd.side, ticks, lots, cmd.tif, cmd.reduce_only,
                            cmd.client_order_id, per_lot)  # fmt: skip
        return acct, market, order

    def _per_lot(self, acct: Account, market: OptionMarket, cmd: PlaceOptionOrder, ticks: int, lots: int,
                 held: int) -> int:  # fmt: skip
        """Quanta held per contract lot: a buy its premium at the limit plus the largest fee it can pay (the cap's
        share of that premium: the fee never exceeds it, whatever the index does); a sell that is not reduce-only
        the initial margin at the index and max(mark, limit), tiered by the account's contracts with its open
        sells."""
        inst = market.inst
        if cmd.side is OrderSide.BUY:
            premium = ticks * inst.tick_k
            return premium + _ceil(premium * inst.fee_cap)
        if cmd.reduce_only:
            return 0
        index = self.e.options.index_of(inst)
        if index is None:
            raise Reject(Code.NO_INDEX_PRICE, f"{inst.family.family} has no index price to margin a short against")
        limit = Fraction(ticks * inst.tick_pp, 10**8)
        mark = limit if market.mark is None else max(price_of(market.mark), limit)
        contracts = (abs(min(held, 0)) + self._open_sells(acct, market) + lots) * Fraction(inst.step)
        im, _ = per_unit(inst, index, mark, contracts)
        # OKX's sell-to-open order margin: IM − premium + fee (at least the family's floor), so that with the
        # premium the fill brings, the new short's pool holds exactly its initial margin.
        premium = ticks * inst.tick_k
        taker_fee = fee(inst, inst.taker.num, inst.taker.den, 1, premium, index)
        floor = Fraction(inst.family.min_order_margin) * inst.lot_units * (1 if inst.coin_margined else index)
        return _ceil(max(im * inst.lot_units * QUANTA - premium + taker_fee, floor * QUANTA))

    def _open_sells(self, acct: Account, market: OptionMarket) -> int:
        return sum(o.remaining for o in self.orders.values()
                   if o.account == acct.id and o.symbol == market.inst.symbol and o.side is OrderSide.SELL)  # fmt: skip

    def commit_place(self, plan: tuple[Account, OptionMarket, OptionOrder]) -> None:
        acct, market, order = plan
        order.id = self.e.orders.allocate()
        self.lock(order, self.e.accounts.wallet(acct, market.inst.settle))
        self.emit_order(market, order)
        self.execute(market, order)

    def hold_of(self, account: int, settle: str) -> Balance:
        return self.e.ledger.open(BalanceKind.OPTION_HOLD, settle, account, name=f"{account}:{settle}")

    def lock(self, order: OptionOrder, source: Balance) -> None:
        """Commit step: move what the order holds from `source` (the wallet; a pool for a liquidation's order)."""
        amount = order.per_lot * order.lots
        self.e.ledger.post(source, self.hold_of(order.account, source.asset), amount, Posting.ORDER_HOLD)
        order.hold = amount

    def execute(self, market: OptionMarket, order: OptionOrder, release: Balance | None = None) -> None:
        """Commit step: match, settle the fills, rest or expire the rest (releasing its hold into `release`, the
        wallet by default)."""
        book_tif = _BOOK_TIF[order.tif]
        res = market.book.submit(order.id, order.account, int(order.side), order.ticks, order.remaining, book_tif,
                                 order.tif is TimeInForce.GTX, SelfTradePrevention.NONE)  # fmt: skip
        touched: dict[int, OptionPosition] = {}
        for f in res.fills:
            self._settle(market, order, f, touched)
        if res.rested:
            self.orders[order.id] = order
            if order.client_order_id is not None:
                self.client_ids[(order.account, order.client_order_id)] = order.id
            if res.fills:
                self.emit_order(market, order)
        else:
            status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.EXPIRED
            self.finish(market, order, status, None if order.remaining == 0 else "no_liquidity", release)
        for pos in touched.values():
            self.e.option_liquidation.measure(pos)

    def _settle(self, market: OptionMarket, taker: OptionOrder, f: Fill, touched: dict[int, OptionPosition]) -> None:
        inst = market.inst
        maker = self.orders[f.maker_order_id]
        buyer, seller = (taker, maker) if taker.side is OrderSide.BUY else (maker, taker)
        lots = f.qty
        premium = f.price * lots * inst.tick_k
        index = self.e.options.index_of(inst)
        b_rate, s_rate = (inst.taker if buyer is taker else inst.maker), (inst.taker if seller is taker else inst.maker)
        buy_fee = fee(inst, b_rate.num, b_rate.den, lots, premium, index)
        sell_fee = fee(inst, s_rate.num, s_rate.den, lots, premium, index)
        ledger = self.e.ledger
        fees = ledger.open(BalanceKind.FEES, inst.settle)
        b_hold = self.hold_of(buyer.account, inst.settle)
        share = buyer.per_lot * lots
        buyer.hold -= share
        to = self._seller_side(market, seller, lots, premium, touched)
        ledger.post(b_hold, to, premium, Posting.PREMIUM)
        ledger.post(to, fees, sell_fee, Posting.TRADING_FEE)  # the fee never exceeds the premium (fee_cap < 1)
        ledger.post(b_hold, fees, buy_fee, Posting.TRADING_FEE)
        ledger.post(b_hold, self._home(buyer), share - premium - buy_fee, Posting.HOLD_RELEASE)
        self._buyer_side(market, buyer, lots, premium, touched)
        seller_pos = market.positions.get(seller.account)
        if seller_pos is not None:  # after the premium landed in its pool
            self.e.options.emit_position(seller_pos)
            self.e.options.tidy(seller_pos)
        for o in (buyer, seller):
            o.filled += lots
        tid = self.next_trade_id
        self.next_trade_id = tid + 1
        g = inst.grid
        self._emit(OptionTrade(self.e.ctx.env, 0, tid, inst.symbol, g.price(f.price), g.qty(lots), money(premium),
                               taker.side, buyer.account, buyer.id, money(buy_fee), seller.account, seller.id,
                               money(sell_fee)))  # fmt: skip
        if maker.remaining == 0:
            self.finish(market, maker, OrderStatus.FILLED, None)
        else:
            maker.status = OrderStatus.PARTIALLY_FILLED
            self.emit_order(market, maker)
        taker.status = OrderStatus.PARTIALLY_FILLED

    def _home(self, order: OptionOrder) -> Balance:
        """Where an order's unused hold goes back to: the pool it came from (a liquidation), else the wallet."""
        pos = self.e.options.markets[order.symbol].positions.get(order.account)
        if order.id in self.e.option_liquidation.from_pool and pos is not None and pos.pool is not None:
            return pos.pool
        return self.e.accounts.wallet(
            self.e.accounts.by_id[order.account], self.e.options.markets[order.symbol].inst.settle
        )

    def _seller_side(self, market: OptionMarket, seller: OptionOrder, lots: int, premium: int,
                     touched: dict[int, OptionPosition]) -> Balance:  # fmt: skip
        """Commit step: the seller's position (closing a long first, then opening a short with the order's margin
        for those lots into the pool); returns the balance the premium goes to: the wallet, or the short's pool."""
        inst = market.inst
        ledger = self.e.ledger
        pos = self.e.options.position(market, seller.account)
        closing = min(lots, max(pos.lots, 0))
        opening = lots - closing
        hold = self.hold_of(seller.account, inst.settle)
        wallet = self.e.accounts.wallet(self.e.accounts.by_id[seller.account], inst.settle)
        share = seller.per_lot * lots
        seller.hold -= share
        if closing:
            pos.cost -= pos.cost * closing // pos.lots
            pos.lots -= closing
        to = wallet
        if opening:
            pool = self.e.options.pool(pos)
            ledger.post(hold, pool, seller.per_lot * opening, Posting.ISOLATED_MARGIN)
            ledger.post(hold, wallet, seller.per_lot * closing, Posting.HOLD_RELEASE)
            pos.lots -= opening
            pos.cost += premium - premium * closing // lots
            to = pool
            touched[pos.account] = pos
        else:
            ledger.post(hold, wallet, share, Posting.HOLD_RELEASE)
        return to

    def _buyer_side(self, market: OptionMarket, buyer: OptionOrder, lots: int, premium: int,
                    touched: dict[int, OptionPosition]) -> None:  # fmt: skip
        """Commit step: the buyer's position: buying back a short first (its pool's share for those contracts
        returns to the wallet), then opening a long."""
        inst = market.inst
        ledger = self.e.ledger
        pos = self.e.options.position(market, buyer.account)
        closing = min(lots, max(-pos.lots, 0))
        opening = lots - closing
        wallet = self.e.accounts.wallet(self.e.accounts.by_id[buyer.account], inst.settle)
        if closing:
            pool = pos.pool
            assert pool is not None
            released = pool.amount * closing // -pos.lots
            pos.cost -= pos.cost * closing // -pos.lots
            pos.lots += closing
            if pos.lots == 0:
                released = pool.amount
            # A liquidation's buy-back keeps the pool whole: the liquidation settles fee and rest itself.
            if buyer.id not in self.e.option_liquidation.from_pool:
                ledger.post(pool, wallet, released, Posting.MARGIN_RELEASE)
            touched[pos.account] = pos
        if opening:
            pos.lots += opening
            pos.cost += premium - premium * closing // lots
        self.e.options.tidy(pos)
        self.e.options.emit_position(pos)

    def finish(self, market: OptionMarket, order: OptionOrder, status: OrderStatus, reason: str | None,
               release: Balance | None = None) -> None:  # fmt: skip
        """Commit step: end an order: release what it still holds, drop it from the indexes, report it."""
        if order.hold:
            home = release if release is not None else self._home(order)
            self.e.ledger.post(self.hold_of(order.account, market.inst.settle), home, order.hold, Posting.HOLD_RELEASE)
            order.hold = 0
        order.status = status
        self.orders.pop(order.id, None)
        key = (order.account, order.client_order_id or "")
        if order.client_order_id is not None and self.client_ids.get(key) == order.id:
            del self.client_ids[key]
        self.emit_order(market, order, reason)

    # -- cancels ---------------------------------------------------------------------------------------------
    def check_cancel(self, cmd: CancelOptionOrder) -> tuple[OptionMarket, OptionOrder]:
        acct = self.e.accounts.get(cmd.account)
        market = self.e.options.market(cmd.symbol)
        oid = cmd.order_id
        if oid is None and type(cmd.client_order_id) is str:
            oid = self.client_ids.get((acct.id, cmd.client_order_id))
        order = self.orders.get(oid) if type(oid) is int else None
        if order is None or order.account != acct.id or order.symbol != market.inst.symbol:
            raise Reject(Code.UNKNOWN_ORDER, f"no open {market.inst.symbol} order "
                         f"{cmd.order_id or cmd.client_order_id!r} of account {acct.id}")  # fmt: skip
        return market, order

    def commit_cancel(self, plan: tuple[OptionMarket, OptionOrder]) -> None:
        market, order = plan
        self.cancel(market, order, "user")

    def cancel(self, market: OptionMarket, order: OptionOrder, reason: str) -> None:
        market.book.cancel(order.id)
        self.finish(market, order, OrderStatus.CANCELED, reason)

    # -- events ----------------------------------------------------------------------------------------------
    def emit_order(self, market: OptionMarket, o: OptionOrder, reason: str | None = None) -> None:
        g = market.inst.grid
        self._emit(OptionOrderUpdated(self.e.ctx.env, 0, o.id, o.account, o.symbol, o.side, g.price(o.ticks),
                                      g.qty(o.lots), g.qty(o.filled), o.tif, o.reduce_only, o.status,
                                      o.client_order_id, reason))  # fmt: skip

    def _emit(self, event: Any) -> None:
        out = self.e.ctx.out
        event.index = len(out)
        out.append(event)
