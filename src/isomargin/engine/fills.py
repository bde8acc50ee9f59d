"""The money side of one fill for one party: realised PnL, fees, the isolated pool's pro-rata release,
new initial margin, and the party's fill history. Depends only on state, so every kind of taker (orders,
liquidations, the insurance fund) settles fills the same way.
"""

from __future__ import annotations

from decimal import Decimal

from isomargin.engine.commands import MarginMode, OrderSide
from isomargin.engine.events import Event, Trade
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import fees_key, hold_key, isolated_key, money, settlement_key, wallet_key
from isomargin.engine.orders import Order
from isomargin.engine.positions import Position
from isomargin.engine.state import State

ZERO = Decimal(0)


class Fills(State):
    """Position accounting of fills on top of State."""

    def _log_fill(self, trade: Trade, order: Order, maker: bool) -> None:
        self.remember(self.fills, order.account, {
            "trade_id": str(trade.trade_id), "symbol": trade.symbol, "order_id": str(order.id),
            "side": order.side.name, "price": str(trade.price), "qty": str(trade.qty),
            "fee": str(trade.maker_fee if maker else trade.taker_fee),
            "realized_pnl": str(trade.maker_realized_pnl if maker else trade.taker_realized_pnl),
            "maker": "true" if maker else "false", "position_side": order.position_side.value,
        })  # fmt: skip

    def _fill(self, order: Order, lots: int, ticks: int, maker: bool, out: list[Event]) -> tuple[Decimal, Decimal]:
        """Move one fill's money for one side; returns (fee, realised PnL)."""
        acct = self.accounts[order.account]
        inst = self.instruments[order.symbol]
        asset = inst.settle
        if maker and order.hold:
            share = order.hold if lots == order.remaining else money(order.hold * lots / order.remaining)
            self.ledger.post(hold_key(acct.id, asset), wallet_key(acct.id, asset), asset, share, "hold_release", out)
            order.hold -= share
        pos = self.open_position(acct, order.symbol, order.position_side)
        price = inst.price(ticks)
        rate = inst.maker_fee if maker else inst.taker_fee
        closing = min(lots, abs(pos.lots)) if pos.lots * order.side < 0 else 0
        pnl = self._reduce(inst, pos, closing, price, rate, out) if closing else ZERO
        if lots > closing:
            self._increase(inst, pos, order.side, lots - closing, price, rate, out)
        qty = inst.qty(lots)
        order.filled_lots += lots
        order.filled_cost += qty * price
        return qty * price * rate, pnl

    def _reduce(
        self, inst: Instrument, pos: Position, lots: int, price: Decimal, rate: Decimal, out: list[Event]
    ) -> Decimal:
        asset = inst.settle
        whole = abs(pos.lots)
        full = lots == whole
        qty = inst.qty(lots)
        released_cost = pos.cost if full else money(pos.cost * lots / whole)
        pnl = pos.sign * (qty * price - released_cost)
        fee = qty * price * rate
        ledger = self.ledger
        if pos.isolated:
            key = isolated_key(pos.account, pos.symbol, pos.side.value)
            share = money(ledger.balance(key) * lots / whole)  # pro rata: the remainder's liquidation price holds
            ledger.post(settlement_key(asset), key, asset, pnl, "realized_pnl", out)
            ledger.post(key, fees_key(asset), asset, fee, "trading_fee", out)
            if full:
                self.cover_shortfall(key, pos.account, pos.symbol, asset, "closed_beyond_bankruptcy", out)
                payout = ledger.balance(key)
            else:
                payout = share + pnl - fee
            if payout > 0:
                ledger.post(key, wallet_key(pos.account, asset), asset, payout, "margin_release", out)
            self.cover_shortfall(key, pos.account, pos.symbol, asset, "closed_beyond_bankruptcy", out)
        else:
            wallet = wallet_key(pos.account, asset)
            ledger.post(settlement_key(asset), wallet, asset, pnl, "realized_pnl", out)
            ledger.post(wallet, fees_key(asset), asset, fee, "trading_fee", out)
            self.cover_shortfall(wallet, pos.account, pos.symbol, asset, "cross_wallet_exhausted", out)
        pos.cost -= released_cost
        pos.lots -= pos.sign * lots
        pos.realized += pnl
        return pnl

    def _increase(
        self,
        inst: Instrument,
        pos: Position,
        side: OrderSide,
        lots: int,
        price: Decimal,
        rate: Decimal,
        out: list[Event],
    ) -> None:
        asset = inst.settle
        wallet = wallet_key(pos.account, asset)
        notional = inst.qty(lots) * price
        if pos.lots == 0:  # a new position takes the account's current mode and leverage
            setting = self.accounts[pos.account].setting(pos.symbol)
            pos.isolated = setting.margin_mode is MarginMode.ISOLATED
            pos.leverage = setting.leverage
        if pos.isolated:
            im = money(notional / pos.leverage)
            self.ledger.post(
                wallet, isolated_key(pos.account, pos.symbol, pos.side.value), asset, im, "isolated_margin", out
            )
        self.ledger.post(wallet, fees_key(asset), asset, notional * rate, "trading_fee", out)
        self.cover_shortfall(wallet, pos.account, pos.symbol, asset, "fee_shortfall", out)
        pos.cost += notional
        pos.lots += side * lots

    # ============================================================================ margin holds
    def _release_credit(self, inst: Instrument, pos: Position, lots: int, price: Decimal) -> Decimal:
        """What closing `lots` of an isolated position pays back to the wallet at the worst price the taker
        accepts (its limit, or the band price; every fill is at least that good): the pro-rata margin plus
        PnL less the fee. A flip's new margin is drawn after this arrives, as the seeds' example has it."""
        whole = abs(pos.lots)
        qty = inst.qty(lots)
        share = money(self.isolated_margin(pos) * lots / whole)  # exactly as `_reduce` will release it
        pnl = pos.sign * (qty * price - money(pos.cost * lots / whole))
        return max(ZERO, share + pnl - qty * price * inst.taker_fee)
