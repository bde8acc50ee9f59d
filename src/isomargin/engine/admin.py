"""The engine's non-order commands, each a check (pure, may refuse) and a commit: listing markets, accounts and
money, settings, mark prices, funding and isolated-margin adjustments.

Numbers are bounded at this edge: money, marks and rates carry at most 8 decimals and stay below 10¹², so
every integer the engine forms from them is exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from isomargin.engine.backstop import against, collateral
from isomargin.engine.codes import BalanceKind, Code, OrderReason, Posting, ShortfallReason
from isomargin.engine.commands import (
    AdjustMargin,
    CreateAccount,
    DeliverInstrument,
    Deposit,
    FundInsurance,
    ListInstrument,
    MarginMode,
    PositionSide,
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
    Delivered,
    DeliverySettlement,
    InstrumentListed,
    MarginAdjusted,
    MarketStatusChanged,
    MarkPriceUpdated,
    SettingChanged,
)
from isomargin.engine.instruments import MAX_LEVERAGE, Instrument
from isomargin.engine.ledger import Balance
from isomargin.engine.state import Account, Market, Position
from isomargin.engine.units import MAX_MAGNITUDE, PRICE_POINTS, QUANTA, money, points, ratio_of, scaled
from isomargin.margin import MarginError, Side, max_removable_margin
from isomargin.venues import get_profile

if TYPE_CHECKING:
    from isomargin.engine.engine import Engine, Handler

MAX_ASSET_CHARS = 12


def handlers(engine: Engine) -> dict[type, Handler]:
    a = Admin(engine)
    return {
        ListInstrument: (a.check_list, a.commit_list),
        CreateAccount: (a.check_create, a.commit_create),
        Deposit: (a.check_deposit, a.commit_move),
        Withdraw: (a.check_withdraw, a.commit_move),
        FundInsurance: (a.check_fund, a.commit_move),
        SetMarketStatus: (a.check_status, a.commit_status),
        SetPositionMode: (a.check_position_mode, a.commit_position_mode),
        SetMarginMode: (a.check_margin_mode, a.commit_margin_mode),
        SetLeverage: (a.check_leverage, a.commit_leverage),
        SetMarkPrice: (a.check_mark, a.commit_mark),
        SettleFunding: (a.check_funding, a.commit_funding),
        AdjustMargin: (a.check_adjust, a.commit_adjust),
        DeliverInstrument: (a.check_deliver, a.commit_deliver),
    }


# ----------------------------------------------------------------------------------------------- bounded input
def points_of(value: object, what: str, positive: bool = True) -> int:
    """A decimal with at most 8 places and |value| < 10¹², as an int of 10⁻⁸ units (Reject otherwise)."""
    r = ratio_of(value)
    if r is None:
        raise Reject(Code.BAD_NUMBER, f"{what} must be a finite decimal below 10^12, got {value!r}")
    if positive and r[0] <= 0:
        raise Reject(Code.NOT_POSITIVE, f"{what} must be greater than zero, got {value}")
    e8 = scaled(value, PRICE_POINTS)
    if e8 is not None and abs(e8) >= MAX_MAGNITUDE * PRICE_POINTS:
        raise Reject(Code.BAD_NUMBER, f"{what} {value} is too large")
    if e8 is None:
        raise Reject(Code.BAD_NUMBER, f"{what} {value} has more than 8 decimal places")
    return e8


def quanta_of(value: object, what: str, positive: bool = True) -> int:
    """A money amount (≤ 8 decimals, below 10¹²) in quanta."""
    return points_of(value, what, positive) * (QUANTA // PRICE_POINTS)


def asset_of(asset: object) -> str:
    if type(asset) is not str or not asset.isascii() or not asset.isalnum() or not asset.isupper():
        raise Reject(Code.BAD_ASSET, f"asset must be an upper-case ASCII code like USDT, got {asset!r}")
    if len(asset) > MAX_ASSET_CHARS:
        raise Reject(Code.BAD_ASSET, f"asset codes have at most {MAX_ASSET_CHARS} characters")
    return asset


def flag(value: object, what: str) -> bool:
    if type(value) is not bool:
        raise Reject(Code.BAD_FLAG, f"{what} must be true or false, got {value!r}")
    return value


def rate_of(value: object, what: str) -> Decimal:
    """A fee rate: a finite decimal with |rate| < 1 and an exact, bounded ratio."""
    r = ratio_of(value)
    if r is None or abs(r[0]) >= r[1]:
        raise Reject(Code.BAD_FEE, f"{what} must be a decimal between −1 and 1, got {value!r}")
    assert isinstance(value, Decimal)
    return value


class Admin:
    """Checks and commits of the set-up, money, settings, price and funding commands."""

    def __init__(self, engine: Engine) -> None:
        self.e = engine

    # -- markets ------------------------------------------------------------------------------------------
    def check_list(self, cmd: ListInstrument) -> Instrument:
        try:
            profile = get_profile(cmd.venue) if type(cmd.venue) is str else get_profile("")
            extra = self.e.listings.get((profile.name, cmd.symbol.strip().upper())) if type(cmd.symbol) is str else None
            spec = extra or (profile.spec(cmd.symbol) if type(cmd.symbol) is str else profile.spec(""))
        except MarginError as exc:
            raise Reject(Code(exc.code), exc.message) from None
        expiry = cmd.expiry
        if expiry is not None and (type(expiry) is not int or not (0 <= expiry < 2**63)):
            raise Reject(Code.BAD_EXPIRY, f"expiry must be a time in ms from 0 to 2^63 − 1, or none, got {expiry!r}")
        if spec.symbol in self.e.markets:
            raise Reject(Code.ALREADY_LISTED, f"{spec.symbol} is already listed")
        band = cmd.price_band
        r = ratio_of(band)
        if r is None or not (0 < r[0] < r[1]):
            raise Reject(Code.BAD_PRICE_BAND, "the market-order price band must be a decimal between 0 and 1")
        maker = profile.maker_fee if cmd.maker_fee is None else rate_of(cmd.maker_fee, "maker fee")
        taker = profile.taker_fee if cmd.taker_fee is None else rate_of(cmd.taker_fee, "taker fee")
        if taker < 0 or maker > taker:
            raise Reject(Code.BAD_FEE, "taker fee must be ≥ 0 and ≥ the maker fee (a maker's hold uses the taker rate)")
        assert isinstance(band, Decimal)
        try:
            return Instrument(profile, spec, maker, taker, band, expiry)
        except ValueError as exc:
            raise Reject(Code.BAD_INSTRUMENT, str(exc)) from None

    def commit_list(self, inst: Instrument) -> None:
        e = self.e
        name = f"{inst.settle}:{inst.symbol}" if e.insurance_per_symbol else ""
        fund = e.ledger.open(BalanceKind.INSURANCE, inst.settle, name=name)
        e.markets[inst.symbol] = Market(inst, fund)
        e.positions.asset_books(inst.settle)
        spec = inst.spec
        self._emit(InstrumentListed(
            e.ctx.env, 0, inst.symbol, inst.profile.name, inst.settle, spec.tick_size, spec.step_size,
            spec.min_notional, inst.maker_fee.decimal, inst.taker_fee.decimal, inst.price_band,
        ))  # fmt: skip

    def check_status(self, cmd: SetMarketStatus) -> tuple[Market, bool]:
        market = self.e.trading.market(cmd.symbol)
        paused = flag(cmd.paused, "paused")
        if market.paused == paused:
            raise Reject(Code.STATUS_UNCHANGED, f"{cmd.symbol} is already {'paused' if paused else 'open'}")
        return market, paused

    def commit_status(self, plan: tuple[Market, bool]) -> None:
        market, paused = plan
        market.paused = paused
        self._emit(MarketStatusChanged(self.e.ctx.env, 0, market.inst.symbol, paused))
        if not paused and market.triggers.size:
            self.e.trading.run_triggers(market)  # stops that came due while it was paused fire now

    # -- accounts and money -----------------------------------------------------------------------------------
    def check_create(self, cmd: CreateAccount) -> tuple[int, bool]:
        return self.e.accounts.check_new(cmd.account), flag(cmd.hedge_mode, "hedge_mode")

    def commit_create(self, plan: tuple[int, bool]) -> None:
        acct = self.e.accounts.create(*plan)
        self._emit(AccountCreated(self.e.ctx.env, 0, acct.id, acct.hedge_mode))

    def check_deposit(self, cmd: Deposit) -> tuple[Account | None, str, int, Posting]:
        acct = self.e.accounts.get(cmd.account)
        amount = quanta_of(cmd.amount, "deposit amount")
        return acct, asset_of(cmd.asset), amount, Posting.DEPOSIT

    def check_withdraw(self, cmd: Withdraw) -> tuple[Account | None, str, int, Posting]:
        acct = self.e.accounts.get(cmd.account)
        amount = quanta_of(cmd.amount, "withdrawal amount")
        asset = asset_of(cmd.asset)
        free = self.e.risk.available(acct, asset)
        if amount > free:
            raise Reject(Code.INSUFFICIENT_BALANCE, f"withdrawal {_d(amount)} exceeds the available {_d(free)} {asset}")
        return acct, asset, amount, Posting.WITHDRAWAL

    def check_fund(self, cmd: FundInsurance) -> tuple[Account | None, str, int, Posting, Balance | None]:
        amount = quanta_of(cmd.amount, "amount")
        asset = asset_of(cmd.asset)
        fund = None
        if cmd.symbol is not None:
            market = self.e.trading.market(cmd.symbol)
            if market.inst.settle != asset:
                raise Reject(Code.BAD_ASSET, f"{cmd.symbol}'s fund is in {market.inst.settle}, not {asset}")
            fund = market.fund
        return None, asset, amount, Posting.INSURANCE_DEPOSIT, fund

    def commit_move(self, plan: tuple[Any, ...]) -> None:
        """Money between the outside world and a wallet (deposit, withdrawal) or an insurance fund."""
        e = self.e
        acct, asset, amount, reason = plan[:4]
        external = e.ledger.open(BalanceKind.EXTERNAL, asset)
        if acct is None:
            fund = plan[4] if plan[4] is not None else e.ledger.open(BalanceKind.INSURANCE, asset)
            e.ledger.post(external, fund, amount, reason)
            return
        wallet = e.accounts.wallet(acct, asset)
        if reason is Posting.WITHDRAWAL:
            e.ledger.post(wallet, external, amount, reason)
        else:
            e.ledger.post(external, wallet, amount, reason)

    # -- settings -------------------------------------------------------------------------------------------------
    def check_position_mode(self, cmd: SetPositionMode) -> tuple[Account, bool]:
        acct = self.e.accounts.get(cmd.account)
        hedge = flag(cmd.hedge_mode, "hedge_mode")
        if acct.positions:
            raise Reject(Code.POSITION_OPEN, "close every position before changing position mode")
        if acct.orders:
            raise Reject(Code.ORDERS_OPEN, "cancel every open order before changing position mode")
        return acct, hedge

    def commit_position_mode(self, plan: tuple[Account, bool]) -> None:
        acct, hedge = plan
        acct.hedge_mode = hedge
        self._emit(SettingChanged(self.e.ctx.env, 0, acct.id, "position_mode", "hedge" if hedge else "one_way"))

    def check_margin_mode(self, cmd: SetMarginMode) -> tuple[Account, str, MarginMode]:
        acct = self.e.accounts.get(cmd.account)
        market = self.e.trading.market(cmd.symbol)
        if type(cmd.mode) is not MarginMode:
            raise Reject(Code.BAD_ENUM, f"margin mode must be a MarginMode, got {cmd.mode!r}")
        symbol = market.inst.symbol
        if any(sym == symbol for sym, _ in acct.positions):
            raise Reject(Code.POSITION_OPEN, f"close the {symbol} position before changing margin mode")
        if any(o.symbol == symbol for o in acct.orders.values()):
            raise Reject(Code.ORDERS_OPEN, f"cancel open {symbol} orders before changing margin mode")
        return acct, symbol, cmd.mode

    def commit_margin_mode(self, plan: tuple[Account, str, MarginMode]) -> None:
        acct, symbol, mode = plan
        self.e.accounts.edit_setting(acct, symbol).margin_mode = mode
        self._emit(SettingChanged(self.e.ctx.env, 0, acct.id, "margin_mode", mode.value, symbol))

    def check_leverage(self, cmd: SetLeverage) -> tuple[Account, Market, int, list[Position]]:
        e = self.e
        acct = e.accounts.get(cmd.account)
        market = e.trading.market(cmd.symbol)
        lev = cmd.leverage
        if type(lev) is not int or not (1 <= lev <= MAX_LEVERAGE):
            raise Reject(Code.BAD_LEVERAGE, f"leverage must be a whole number from 1 to {MAX_LEVERAGE}, got {lev!r}")
        inst = market.inst
        if any(o.symbol == inst.symbol for o in acct.orders.values()):
            raise Reject(Code.ORDERS_OPEN, f"cancel open {inst.symbol} orders before changing leverage")
        positions = [p for (sym, _), p in acct.positions.items() if sym == inst.symbol]
        size = inst.qty(sum(abs(p.lots) for p in positions))
        ref = market.reference()
        value = inst.notional_at(size, points(ref)) if ref is not None else Decimal(0)
        table = inst.spec.table
        try:
            table.check_leverage(Decimal(lev), table.size_of(size, value))
        except MarginError as exc:
            raise Reject(Code(exc.code), exc.message) from None
        if any(not p.isolated for p in positions) and e.risk.available(acct, inst.settle, (inst.symbol, lev)) < 0:
            raise Reject(Code.INSUFFICIENT_MARGIN, f"leverage {lev} would need more margin than is available")
        return acct, market, lev, positions

    def commit_leverage(self, plan: tuple[Account, Market, int, list[Position]]) -> None:
        acct, market, lev, positions = plan
        for p in positions:
            p.leverage = lev
        self.e.accounts.edit_setting(acct, market.inst.symbol).leverage = lev
        self._emit(SettingChanged(self.e.ctx.env, 0, acct.id, "leverage", str(lev), market.inst.symbol))

    # -- prices and funding ---------------------------------------------------------------------------------------
    def check_mark(self, cmd: SetMarkPrice) -> tuple[Market, int, Decimal, int, Decimal]:
        market = self.e.trading.market(cmd.symbol)
        mark = points_of(cmd.mark, "mark price")
        index = points_of(cmd.index, "index price") if cmd.index is not None else mark
        assert isinstance(cmd.mark, Decimal)
        return market, mark, cmd.mark, index, cmd.index if isinstance(cmd.index, Decimal) else cmd.mark

    def commit_mark(self, plan: tuple[Market, int, Decimal, int, Decimal]) -> None:
        market, mark, mark_dec, index, index_dec = plan
        market.mark = mark
        market.mark_dec = mark_dec
        market.index = index
        market.index_dec = index_dec
        self._emit(MarkPriceUpdated(self.e.ctx.env, 0, market.inst.symbol, mark_dec, index_dec))
        if market.triggers.size:
            self.e.trading.run_triggers(market)
        self.e.liquidation.after_mark(market)

    def check_funding(self, cmd: SettleFunding) -> tuple[Market, Decimal]:
        market = self.e.trading.market(cmd.symbol)
        rate = points_of(cmd.rate, "funding rate", positive=False)
        if abs(rate) >= PRICE_POINTS:
            raise Reject(Code.BAD_FUNDING_RATE, "funding rate must be a fraction between −1 and 1")
        if market.inst.expiry is not None:
            raise Reject(Code.NOT_PERPETUAL, f"{cmd.symbol} is a dated future: venues fund perpetuals only")
        if market.mark is None:
            raise Reject(Code.NO_MARK_PRICE, f"{cmd.symbol} has no mark price to settle funding at")
        assert isinstance(cmd.rate, Decimal)
        return market, cmd.rate

    def commit_funding(self, plan: tuple[Market, Decimal]) -> None:
        self.e.funding.settle(*plan)

    # -- isolated margin ---------------------------------------------------------------------------------------------
    def check_adjust(self, cmd: AdjustMargin) -> tuple[Account, Position, int]:
        e = self.e
        acct = e.accounts.get(cmd.account)
        market = e.trading.market(cmd.symbol)
        amount = quanta_of(cmd.amount, "amount", positive=False)
        if type(cmd.position_side) is not PositionSide:
            raise Reject(Code.BAD_ENUM, f"position side must be a PositionSide, got {cmd.position_side!r}")
        pos = acct.positions.get((market.inst.symbol, cmd.position_side))
        if pos is None or pos.lots == 0:
            raise Reject(Code.NO_POSITION, f"no {cmd.position_side.value} position on {cmd.symbol}")
        if not pos.isolated:
            raise Reject(Code.NOT_ISOLATED, "margin can only be added to or removed from an isolated position")
        if amount == 0:
            raise Reject(Code.BAD_AMOUNT, "amount must not be zero")
        asset = market.inst.settle
        if amount > 0:
            free = e.risk.available(acct, asset)
            if amount > free:
                raise Reject(Code.INSUFFICIENT_BALANCE, f"adding {_d(amount)} exceeds the available {_d(free)} {asset}")
        else:
            room = self.removable(pos)
            if -amount > room:
                raise Reject(Code.ABOVE_MAX_REMOVABLE, f"at most {_d(room)} can be removed from this position")
        return acct, pos, amount

    @staticmethod
    def removable(pos: Position) -> int:
        """Max removable margin (quanta, rounded down) at the reference price: losses count, profits don't."""
        inst = pos.inst
        size = inst.qty(abs(pos.lots))
        entry = inst.entry(abs(pos.lots), pos.cost, pos.xnum, pos.xden)
        ref = pos.market.reference()
        mark = entry if ref is None else points(ref)
        side = Side.LONG if pos.lots > 0 else Side.SHORT
        room = max_removable_margin(side, size, entry, money(pos.margin), mark, pos.leverage, inst.kind)
        num, den = room.as_integer_ratio()
        return num * QUANTA // den

    def commit_adjust(self, plan: tuple[Account, Position, int]) -> None:
        e = self.e
        acct, pos, amount = plan
        assert pos.pool is not None
        e.ledger.post(e.accounts.wallet(acct, pos.inst.settle), pos.pool, amount, Posting.MARGIN_ADJUSTMENT)
        e.health.track(pos)
        self._emit(MarginAdjusted(e.ctx.env, 0, acct.id, pos.symbol, pos.side, money(amount), money(pos.margin),
                                  pos.liquidation, pos.inst.settle))  # fmt: skip
        e.trading.position_event(pos)

    # -- dated futures ---------------------------------------------------------------------------------------------
    def check_deliver(self, cmd: DeliverInstrument) -> tuple[Market, int, Decimal]:
        market = self.e.trading.market(cmd.symbol)
        inst = market.inst
        price = points_of(cmd.price, "delivery price")
        if inst.expiry is None:
            raise Reject(Code.NOT_DATED, f"{inst.symbol} is a perpetual: only a dated future is delivered")
        if market.delivered:
            raise Reject(Code.MARKET_DELIVERED, f"{inst.symbol} was already delivered")
        if cmd.ts < inst.expiry:
            raise Reject(Code.BEFORE_EXPIRY, f"{inst.symbol} expires at {inst.expiry}, not before (ts {cmd.ts})")
        assert isinstance(cmd.price, Decimal)
        return market, price, cmd.price

    def commit_deliver(self, plan: tuple[Market, int, Decimal]) -> None:
        """Close the market for good, cancel its orders, and settle every position at the delivery price: PnL into
        its collateral (each position's value rounded against its holder, as `backstop.against` closes), an
        isolated pool's rest back to its wallet (a pool past bankruptcy is covered by the fund, never the
        owner), the fund's inventory against the fund. The roundings' dust (what the holders were paid less
        than the exact value) moves from settlement to fees, so the settlement identity stays exact."""
        market, price, price_dec = plan
        e = self.e
        inst = market.inst
        market.delivered = True
        market.mark, market.mark_dec = price, price_dec
        market.index, market.index_dec = price, price_dec
        held = market.held
        count = len(market.positions) + (1 if held is not None and held.lots else 0)
        delivered = Delivered(e.ctx.env, 0, inst.symbol, inst.settle, price_dec, count)
        self._emit(delivered)
        rows: list[DeliverySettlement] = []  # the event's settlements, filled in below
        for acct in list(e.accounts.by_id.values()):
            if any(o.symbol == inst.symbol for o in acct.orders.values()):
                e.trading.cancel_orders(acct, market, OrderReason.DELIVERY)
        dust = 0
        positions = e.positions
        for pos in list(market.positions.values()):
            acct = e.accounts.by_id[pos.account]
            lots = abs(pos.lots)
            sign = pos.sign
            notional = against(pos, lots, price)
            dust -= sign * inst.vsign * notional
            col = collateral(e.accounts, pos)
            size = inst.qty(pos.lots)
            pnl = positions.realize(pos, lots, notional, col)
            wallet = e.accounts.wallet(acct, inst.settle)
            returned = 0
            if pos.isolated:
                positions.cover(col, pos.account, market, ShortfallReason.CLOSED_BEYOND_BANKRUPTCY)
                returned = col.amount
                e.ledger.post(col, wallet, returned, Posting.MARGIN_RELEASE)
            rows.append(DeliverySettlement(pos.account, inst.symbol, pos.side, size, price_dec, _d(pnl), inst.settle,
                                           _d(returned)))  # fmt: skip
            if not pos.isolated and wallet.amount < 0:
                positions.cover(wallet, pos.account, market, ShortfallReason.CROSS_WALLET_EXHAUSTED)
            e.trading.upkeep(acct, market, pos.side)
        if held is not None and held.lots:
            lots = abs(held.lots)
            notional = against(held, lots, price)
            dust -= held.sign * inst.vsign * notional
            size = inst.qty(held.lots)
            pnl = positions.realize(held, lots, notional, market.fund)
            rows.append(DeliverySettlement(held.account, inst.symbol, held.side, size, price_dec, _d(pnl), inst.settle,
                                           _d(0)))  # fmt: skip
        delivered.settlements = tuple(rows)
        if dust:
            positions.rounding(inst.settle, dust)

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _emit(self, event: Any) -> None:
        out = self.e.ctx.out
        event.index = len(out)
        out.append(event)


def _d(quanta: int) -> Decimal:
    return money(quanta)
