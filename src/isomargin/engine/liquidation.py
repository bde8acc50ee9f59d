"""The liquidation pipeline: margin calls, partial and full liquidation, insurance fund, ADL.

Order of steps for a position whose mark crosses its liquidation price (fixed; each step is an event):
  1. cancel the account's open orders on it (cross: all the account's orders), return holds, re-check;
  2. hedge mode: close the opposite leg against it at mark, re-check;
  3. partial liquidation where the venue does it (OKX: two tiers down from tier 3; Hyperliquid: 20 %
     slices of large positions), an IOC at the bankruptcy price, re-check after each step;
  4. full close: an IOC into the book at the bankruptcy price. The liquidation fee and whatever margin is
     left go to the insurance fund (or the remainder back to the trader where the venue says so);
  5. what the book cannot absorb the insurance fund takes over at the bankruptcy price if it can carry
     the loss at mark; otherwise auto-deleveraging closes opposite positions at the bankruptcy price,
     ranked by PnL % × effective leverage (profitable first).
The isolated owner's wallet never pays; a flat account never pays; ADL never touches the same side.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from isomargin.engine.book import SelfTradePrevention
from isomargin.engine.book import TimeInForce as BookTIF
from isomargin.engine.commands import OrderSide, PositionSide
from isomargin.engine.events import AutoDeleveraged, Event, Liquidated, MarginCall
from isomargin.engine.instruments import Instrument
from isomargin.engine.ledger import QUANTUM, isolated_key, money, settlement_key, wallet_key
from isomargin.engine.positions import Position
from isomargin.engine.state import Account
from isomargin.engine.trading import Trading
from isomargin.engine.watch import PriceWatch
from isomargin.margin import Leg, Side, make_leg, solve_liquidation_price
from isomargin.venues import VenueProfile

ZERO = Decimal(0)
ONE = Decimal(1)
INSURANCE = 0  # the insurance fund's account id in events and its positions


class Liquidation(Trading):
    """Adds margin calls, liquidation, the insurance fund and ADL to the trading engine."""

    def __init__(self) -> None:
        super().__init__()
        self.watches: dict[str, PriceWatch] = {}
        self.cross_accounts: dict[str, dict[int, None]] = {}  # symbol -> accounts with a cross position in it
        self.alert_levels: dict[tuple[str, int, str], str] = {}  # (symbol, account, side) or (“”, account, “”)
        self.insurance_positions: dict[str, Position] = {}  # positions the fund took over, by symbol

    # ================================================================ keeping the watches exact
    def watch_position(self, pos: Position) -> None:
        """Re-index a position after any change (called from `refresh`)."""
        watch = self.watches.get(pos.symbol)
        if watch is None:
            return
        side = pos.side.value
        cross = self.cross_accounts.setdefault(pos.symbol, {})
        if not pos.isolated or pos.lots == 0:
            watch.set((pos.account, side, "liq"), None, True)
            watch.set((pos.account, side, "alert"), None, True)
            if not pos.isolated and pos.lots:
                cross[pos.account] = None
            elif not self._has_cross(pos.account, pos.symbol):
                cross.pop(pos.account, None)
            if pos.lots == 0:
                self.alert_levels.pop((pos.symbol, pos.account, side), None)
            return
        long = pos.lots > 0
        watch.set((pos.account, side, "liq"), pos.liquidation, long)
        self._watch_alert(pos, watch)

    def _has_cross(self, account: int, symbol: str) -> bool:
        acct = self.accounts.get(account)
        return acct is not None and any(
            p.symbol == symbol and not p.isolated and p.lots for p in acct.positions.values()
        )

    def _watch_alert(self, pos: Position, watch: PriceWatch) -> None:
        """Watch the price of the next alert level in the adverse direction, or of recovery from this one."""
        profile = self.instruments[pos.symbol].profile
        thresholds = [t for t in (profile.alerts.warning, profile.alerts.cancel_orders) if t is not None]
        key = (pos.account, pos.side.value, "alert")
        if not thresholds:
            return
        level = self.alert_levels.get((pos.symbol, pos.account, pos.side.value), "ok")
        long = pos.lots > 0
        if level == "ok":
            price, on_fall = self._level_price(pos, thresholds[0]), long
        else:  # watch for the way back above the warning threshold
            price, on_fall = self._level_price(pos, thresholds[0]), not long
        watch.set(key, price, on_fall)

    def _level_price(self, pos: Position, threshold: Decimal) -> Decimal | None:
        """The mark at which the position's ratio reaches `threshold` (same solver as the liquidation price)."""
        inst = self.instruments[pos.symbol]
        profile = inst.profile
        scale = threshold if profile.ratio.value == "balance_over_mm" else ONE / threshold
        leg = self._leg(inst, pos)
        return solve_liquidation_price([leg], self.isolated_margin(pos), mm_scale=scale)

    def _leg(self, inst: Instrument, pos: Position) -> Leg:
        size = inst.qty(abs(pos.lots))
        side = Side.LONG if pos.lots > 0 else Side.SHORT
        fee = inst.taker_fee if inst.profile.fee_in_maintenance else ZERO
        return make_leg(side, size, pos.cost / size, inst.spec.table, inst.spec.kind, inst.profile.mm_basis, fee)

    # ================================================================ on every mark change
    def after_mark(self, symbol: str, out: list[Event]) -> None:
        mark = self.marks[symbol]
        watch = self.watches[symbol]
        while True:
            fired = watch.fire(mark)
            if not fired:
                break
            for account, side, kind in fired:
                pos = self.accounts[account].positions.get((symbol, PositionSide(side)))
                if pos is None or not pos.lots or not pos.isolated:
                    continue
                if kind == "liq":
                    self._liquidate_isolated(pos, mark, out)
                else:
                    self._alert_isolated(pos, mark, out)
        for account in sorted(self.cross_accounts.get(symbol, {})):  # an order independent of history
            self._check_cross(self.accounts[account], out)
        self._unwind_insurance(symbol, out)

    # ================================================================ margin calls
    def _alert_isolated(self, pos: Position, mark: Decimal, out: list[Event]) -> None:
        inst = self.instruments[pos.symbol]
        leg = self._leg(inst, pos)
        balance = self.isolated_margin(pos) + leg.pnl_at(mark)
        mm = leg.maintenance_at(mark)
        ratio = inst.profile.health(balance, mm)
        self._set_alert((pos.symbol, pos.account, pos.side.value), inst.profile.alert_level(ratio), ratio, out)
        self.watch_position(pos)

    def _set_alert(self, key: tuple[str, int, str], level: str, ratio: Decimal, out: list[Event]) -> None:
        level = "cancel_orders" if level == "liquidate" else level
        if self.alert_levels.get(key, "ok") == level:
            return
        if level == "ok":
            self.alert_levels.pop(key, None)
        else:
            self.alert_levels[key] = level
        symbol, account, side = key
        out.append(MarginCall(account, symbol or None, side or None, level, ratio))

    # ================================================================ isolated
    def _liquidatable(self, pos: Position, mark: Decimal) -> bool:
        lp = pos.liquidation
        return lp is not None and (mark <= lp if pos.lots > 0 else mark >= lp)

    def _liquidate_isolated(self, pos: Position, mark: Decimal, out: list[Event]) -> None:
        acct = self.accounts[pos.account]
        inst = self.instruments[pos.symbol]
        self._step(pos, "cancel_orders", mark, out)
        for order in [o for o in acct.orders.values() if o.symbol == pos.symbol and o.position_side is pos.side]:
            self._finish(acct, order, "CANCELED", out, reason="liquidation")
        if acct.hedge_mode:
            self._hedge_offset(acct, pos, mark, out)
            if not pos.lots or not self._liquidatable(pos, mark):
                self._after_liquidation(acct, pos, out)
                return
        while pos.lots and self._liquidatable(pos, mark):
            lots = self._partial_lots(inst, pos, mark)
            if lots is None or not self._close_into_book(pos, lots, "partial", mark, out):
                break
            self.refresh(pos)
        if (
            pos.lots
            and self._liquidatable(pos, mark)
            and not self._close_into_book(pos, abs(pos.lots), "close", mark, out)
        ):
            self._absorb(pos, mark, out)
        self._after_liquidation(acct, pos, out)

    def _partial_lots(self, inst: Instrument, pos: Position, mark: Decimal) -> int | None:
        """Lots a partial step closes, or None for a full close."""
        rule = inst.profile.partial
        whole = abs(pos.lots)
        size = inst.qty(whole)
        leg = self._leg(inst, pos)
        target = rule.target_tier(leg.tier_at(mark).tier)
        if target is not None:
            cap = inst.spec.table.tiers[target - 1].cap
            if cap is None:
                return None
            keep = cap * inst.spec.table.contract_size if inst.spec.table.basis.value == "contracts" else cap / mark
            keep_lots = int((keep / inst.step).to_integral_value(rounding=ROUND_FLOOR))
            return whole - keep_lots if 0 < keep_lots < whole else None
        fraction = rule.slice_fraction(size * mark)
        if fraction is not None:
            lots = int((whole * fraction).to_integral_value(rounding=ROUND_CEILING))
            return lots if 0 < lots < whole else None
        return None

    def _close_into_book(self, pos: Position, lots: int, step: str, mark: Decimal, out: list[Event]) -> bool:
        """IOC at the bankruptcy price for `lots`; True when it all filled."""
        inst = self.instruments[pos.symbol]
        bankrupt = self._bankruptcy(pos, mark)
        side = OrderSide(-pos.sign)
        if bankrupt is None or bankrupt <= 0:
            ticks = self._band_price(inst, side)  # nothing to lose at any price: take the market
        else:
            rounding = ROUND_CEILING if side is OrderSide.SELL else ROUND_FLOOR  # never worse than bankruptcy
            ticks = int((bankrupt / inst.tick).to_integral_value(rounding=rounding))
        if ticks is None or ticks <= 0:
            return False
        order_id = self.next_order_id
        self.next_order_id += 1
        result = self.books[pos.symbol].submit(
            order_id, pos.account, int(side), ticks, lots, BookTIF.IOC, False, SelfTradePrevention.CANCEL_TAKER
        )
        fund_before = self.ledger.balance(self.fund_key(inst.settle, inst.symbol))
        touched = self.fill_makers(
            inst, result, order_id, pos.account, side,
            lambda lots, ticks: self._liquidation_fill(inst, pos, lots, inst.price(ticks), out), out,
        )  # fmt: skip
        filled = sum(f.qty for f in result.fills)
        if result.fills:
            avg = sum((inst.price(f.price) * f.qty for f in result.fills), ZERO) / filled
            fund = self.ledger.balance(self.fund_key(inst.settle, inst.symbol)) - fund_before
            self._step(pos, step, mark, out, qty=inst.qty(filled), price=avg, fund=fund)
        for account, pside in touched:
            self._upkeep(self.accounts[account], pos.symbol, pside, out)
        return filled == lots

    def _liquidation_fill(self, inst: Instrument, pos: Position, lots: int, price: Decimal,
                          out: list[Event]) -> tuple[Decimal, Decimal]:  # fmt: skip
        """The liquidated side of a fill: PnL into its own collateral, the liquidation fee to the fund;
        no margin goes back to the wallet until the liquidation is over."""
        asset = inst.settle
        key = self._collateral_key(pos, asset)
        pnl = self._realize(pos, lots, price, key, asset, out)
        fee = min(inst.spec.liquidation_fee_rate * inst.qty(lots) * price, max(self.ledger.balance(key), ZERO))
        self.ledger.post(key, self.fund_key(asset, pos.symbol), asset, fee, "liquidation_fee", out)
        return fee, pnl

    def _realize(self, pos: Position, lots: int, price: Decimal, key: str, asset: str, out: list[Event]) -> Decimal:
        whole = abs(pos.lots)
        released = pos.cost if lots == whole else money(pos.cost * lots / whole)
        pnl = pos.sign * (self.instruments[pos.symbol].qty(lots) * price - released)
        self.ledger.post(settlement_key(asset), key, asset, pnl, "realized_pnl", out)
        pos.cost -= released
        pos.lots -= pos.sign * lots
        pos.realized += pnl
        return pnl

    def _collateral_key(self, pos: Position, asset: str) -> str:
        if pos.account == INSURANCE:
            return self.fund_key(asset, pos.symbol)
        return isolated_key(pos.account, pos.symbol, pos.side.value) if pos.isolated else wallet_key(pos.account, asset)

    def _bankruptcy(self, pos: Position, mark: Decimal) -> Decimal | None:
        """Isolated: the cached price where its margin is gone. Cross: where the account's equity is gone,
        holding its other symbols at mark. Cut to the ledger's quantum against the trader (a long's up, a
        short's down), so amounts moved at this price are exact and never leave the owner short."""
        price = self._raw_bankruptcy(pos, mark)
        if price is None:
            return None
        return price.quantize(QUANTUM, rounding=ROUND_CEILING if pos.lots > 0 else ROUND_FLOOR)

    def _raw_bankruptcy(self, pos: Position, mark: Decimal) -> Decimal | None:
        if pos.isolated:
            self.refresh(pos)
            return pos.bankruptcy
        inst = self.instruments[pos.symbol]
        acct = self.accounts[pos.account]
        legs, base = [], self.wallet(acct.id, inst.settle)
        for p in acct.positions.values():
            if p.isolated or not p.lots or self.instruments[p.symbol].settle != inst.settle:
                continue
            pinst = self.instruments[p.symbol]
            if p.symbol == pos.symbol:
                legs.append(self._leg(pinst, p))
            else:
                pmark = self.reference_price(p.symbol) or p.cost / pinst.qty(abs(p.lots))
                base += p.sign * (pinst.qty(abs(p.lots)) * pmark - p.cost)
        return solve_liquidation_price(legs, base, with_mm=False) if legs else None

    # ---------------------------------------------------------------- what the book could not take
    def _absorb(self, pos: Position, mark: Decimal, out: list[Event]) -> None:
        """Insurance takeover at the bankruptcy price if the fund can carry the loss at mark, else ADL."""
        inst = self.instruments[pos.symbol]
        asset = inst.settle
        bankrupt = self._bankruptcy(pos, mark)
        if bankrupt is None or bankrupt <= 0:
            bankrupt = mark
        lots = abs(pos.lots)
        qty = inst.qty(lots)
        loss_at_mark = max(ZERO, pos.sign * qty * (bankrupt - mark))  # the fund would hold the same side
        fund = self.ledger.balance(self.fund_key(asset, pos.symbol))
        if fund >= loss_at_mark or not self._adl_candidates(pos, mark):
            self._takeover(pos, lots, bankrupt, mark, out)
        else:
            self._deleverage(pos, bankrupt, mark, out)

    def _takeover(self, pos: Position, lots: int, price: Decimal, mark: Decimal, out: list[Event]) -> None:
        """The fund becomes the holder of `lots` of the position at `price` (its bankruptcy price)."""
        inst = self.instruments[pos.symbol]
        asset = inst.settle
        fund_before = self.ledger.balance(self.fund_key(asset, pos.symbol))
        exposure = pos.sign * lots  # the fund takes over the same side the trader held
        self._realize(pos, lots, price, self._collateral_key(pos, asset), asset, out)
        held = self.insurance_positions.get(pos.symbol)
        if held is None:
            held = self.insurance_positions[pos.symbol] = Position(INSURANCE, pos.symbol, PositionSide.BOTH, False, 1)
        self._add_to_fund(held, exposure, price, out)
        fund = self.ledger.balance(self.fund_key(asset, pos.symbol)) - fund_before
        self._step(pos, "takeover", mark, out, qty=inst.qty(lots), price=price, fund=fund)

    def _add_to_fund(self, held: Position, exposure: int, price: Decimal, out: list[Event]) -> None:
        """Add signed `exposure` lots bought/sold at `price` to the fund's inventory (netting what it holds)."""
        inst = self.instruments[held.symbol]
        sign = 1 if exposure > 0 else -1
        if held.lots and held.sign != sign:
            close = min(abs(exposure), abs(held.lots))
            self._realize(held, close, price, self.fund_key(inst.settle, held.symbol), inst.settle, out)
            exposure -= sign * close
        if exposure:
            held.cost += inst.qty(abs(exposure)) * price
            held.lots += exposure

    def _adl_candidates(self, pos: Position, mark: Decimal) -> list[tuple[Decimal, int, str, Position]]:
        """Opposite-side positions of other accounts, best ADL score first (BitMEX's ranking)."""
        inst = self.instruments[pos.symbol]
        ranked = []
        for (account, pside), cand in self.positions[pos.symbol].items():
            if account == pos.account or not cand.lots or cand.sign == pos.sign:
                continue
            size = inst.qty(abs(cand.lots))
            pnl = cand.sign * (size * mark - cand.cost)
            collateral = self.isolated_margin(cand) if cand.isolated else self.wallet(account, inst.settle)
            balance = collateral + pnl
            margin = cand.cost / cand.leverage
            pnl_pct = pnl / margin
            leverage = size * mark / balance if balance > 0 else Decimal("1e9")
            score = pnl_pct * leverage if pnl_pct > 0 else pnl_pct / leverage
            ranked.append((-score, account, pside.value, cand))
        ranked.sort(key=lambda r: (r[0], r[1], r[2]))
        return ranked

    def _deleverage(self, pos: Position, price: Decimal, mark: Decimal, out: list[Event]) -> None:
        inst = self.instruments[pos.symbol]
        asset = inst.settle
        for _, account, _, cand in self._adl_candidates(pos, mark):
            if not pos.lots:
                break
            lots = min(abs(pos.lots), abs(cand.lots))
            sides = ("long" if cand.lots > 0 else "short", "long" if pos.lots > 0 else "short")
            self._realize(pos, lots, price, self._collateral_key(pos, asset), asset, out)
            pnl = self._reduce(inst, cand, lots, price, ZERO, out)  # an ordinary close, no fee, margin released
            out.append(AutoDeleveraged(account, pos.symbol, cand.side.value, inst.qty(lots), price, pnl, pos.account,
                                       *sides))  # fmt: skip
            self._upkeep(self.accounts[account], pos.symbol, cand.side, out)
            self._step(pos, "adl", mark, out, qty=inst.qty(lots), price=price)
        if pos.lots:  # nobody left on the other side: the fund must take it whatever it costs
            self._takeover(pos, abs(pos.lots), price, mark, out)

    def _after_liquidation(self, acct: Account, pos: Position, out: list[Event]) -> None:
        """Settle what is left of an isolated pool, then the usual position upkeep."""
        inst = self.instruments[pos.symbol]
        asset = inst.settle
        if pos.isolated and not pos.lots:
            key = isolated_key(pos.account, pos.symbol, pos.side.value)
            self.cover_shortfall(key, pos.account, pos.symbol, asset, "liquidated_beyond_bankruptcy", out)
            rest = self.ledger.balance(key)
            fund = self.fund_key(asset, pos.symbol)
            target = wallet_key(pos.account, asset) if inst.profile.keeps_remainder else fund
            self.ledger.post(key, target, asset, rest, "liquidation_remainder", out)
        self._step(pos, "done", self.marks[pos.symbol], out)
        self._upkeep(acct, pos.symbol, pos.side, out)

    def _hedge_offset(self, acct: Account, pos: Position, mark: Decimal, out: list[Event]) -> None:
        """Hedge mode: the account's opposite leg closes against this one at mark before anything else."""
        other_side = PositionSide.SHORT if pos.side is PositionSide.LONG else PositionSide.LONG
        other = acct.positions.get((pos.symbol, other_side))
        if other is None or not other.lots:
            return
        inst = self.instruments[pos.symbol]
        lots = min(abs(pos.lots), abs(other.lots))
        key = self._collateral_key(pos, inst.settle)
        self._realize(pos, lots, mark, key, inst.settle, out)
        # Past bankruptcy (a gap) the offset can leave the leg's own pool short: the fund covers it, never the owner.
        self.cover_shortfall(key, pos.account, pos.symbol, inst.settle, "liquidated_beyond_bankruptcy", out)
        self._reduce(inst, other, lots, mark, ZERO, out)
        self._upkeep(acct, pos.symbol, other_side, out)
        self.refresh(pos)
        self._step(pos, "hedge_offset", mark, out, qty=inst.qty(lots), price=mark)

    # ================================================================ cross
    def _check_cross(self, acct: Account, out: list[Event]) -> None:
        """Account-level health of the cross positions in each settle asset; liquidate them together."""
        for asset in sorted({self.instruments[p.symbol].settle for p in acct.positions.values() if not p.isolated}):
            equity, mm, profile = self._cross_health(acct, asset)
            if profile is None:
                continue
            ratio = profile.health(equity, mm)
            self._set_alert(("", acct.id, ""), profile.alert_level(ratio), ratio, out)
            if equity > mm:
                continue
            for order in list(acct.orders.values()):
                self._finish(acct, order, "CANCELED", out, reason="liquidation")
            equity, mm, _ = self._cross_health(acct, asset)
            if equity > mm:
                continue
            for pos in [p for p in acct.positions.values() if not p.isolated and p.lots]:
                if self.instruments[pos.symbol].settle != asset:
                    continue
                mark = self.reference_price(pos.symbol) or pos.cost / self.instruments[pos.symbol].qty(abs(pos.lots))
                self._step(pos, "cancel_orders", mark, out)
                if not self._close_into_book(pos, abs(pos.lots), "close", mark, out) and pos.lots:
                    self._absorb(pos, mark, out)
                self._step(pos, "done", mark, out)
                self._upkeep(acct, pos.symbol, pos.side, out)
            self.cover_shortfall(wallet_key(acct.id, asset), acct.id, "", asset, "cross_liquidation", out)

    def _cross_health(self, acct: Account, asset: str) -> tuple[Decimal, Decimal, VenueProfile | None]:
        equity = self.wallet(acct.id, asset)
        mm = ZERO
        profile: VenueProfile | None = None
        for p in acct.positions.values():
            if p.isolated or not p.lots:
                continue
            inst = self.instruments[p.symbol]
            if inst.settle != asset:
                continue
            profile = profile or inst.profile
            mark = self.reference_price(p.symbol) or p.cost / inst.qty(abs(p.lots))
            leg = self._leg(inst, p)
            equity += leg.pnl_at(mark)
            mm += leg.maintenance_at(mark)
        return equity, mm, profile

    # ================================================================ insurance fund inventory
    def _unwind_insurance(self, symbol: str, out: list[Event]) -> None:
        """The fund sells what it took over back into the book (IOC within the market band)."""
        held = self.insurance_positions.get(symbol)
        if held is None or not held.lots:
            return
        inst = self.instruments[symbol]
        side = OrderSide(-held.sign)
        ticks = self._band_price(inst, side)
        if ticks is None:
            return
        order_id = self.next_order_id
        self.next_order_id += 1
        result = self.books[symbol].submit(order_id, INSURANCE, int(side), ticks, abs(held.lots), BookTIF.IOC, False,
                                           SelfTradePrevention.NONE)  # fmt: skip
        fund_key = self.fund_key(inst.settle, inst.symbol)
        touched = self.fill_makers(
            inst, result, order_id, INSURANCE, side,
            lambda lots, ticks: (ZERO, self._realize(held, lots, inst.price(ticks), fund_key, inst.settle, out)), out,
        )  # fmt: skip
        for account, pside in touched:
            self._upkeep(self.accounts[account], symbol, pside, out)

    # ================================================================ events
    def _step(self, pos: Position, step: str, mark: Decimal, out: list[Event], qty: Decimal | None = None,
              price: Decimal | None = None, fund: Decimal | None = None) -> None:  # fmt: skip
        out.append(Liquidated(
            pos.account, pos.symbol, pos.side.value, "isolated" if pos.isolated else "cross", step, mark,
            pos.liquidation, pos.bankruptcy, qty, price, fund,
        ))  # fmt: skip
