"""Stateful test of isolated options: random command streams, money rules after every step.

A Hypothesis state machine drives OKX BTC-USD (coin-margined, 0.01 BTC a contract) with a call and a put of one
expiry and five accounts (a whale among them, big enough for the second margin tier; a market maker) through
buys and sells to open and to close, reduce-only orders, every time in force, cancels by id and by client id, an
index and marks that walk and jump (partial and full liquidations), marks from implied vols as time advances,
margin added to and taken from a short's pool, and finally the settlement at expiry. The engine runs in debug mode
(its own `options_sound` audit after each command); the machine checks from the outside:

* exact conservation: the ledger sums to zero per asset and what is inside the venue equals what was deposited;
  wallets, holds and pools are never below zero;
* the isolated loss cap: a wallet is drawn on only by its owner's own commands (withdrawals, order holds and
  premiums, fees, margin added) and by the fee of its own resting order's fill; a liquidation and the settlement
  never draw on a wallet;
* positions followed from the trade and liquidation events equal the engine's, and open interest (the fund's
  inventory included) nets to zero per option;
* liquidation: a mark one price point short of a short's liquidation mark (the position view's) leaves it
  alone, the mark itself liquidates it; liveness: after a mark or a vol no short of that option, after an index no
  short of the family, is left at a ratio ≤ 100 %;
* settlement pays each long exactly ⌊contracts × 0.01 × intrinsic / S × 10^10⌋ quanta (recomputed here) and each
  short pays ⌈…⌉, into its wallet (the long's payout) from the clearing balance;
* a rejection changes nothing; snapshot/restore mid-stream gives the same state hash and the same events for the
  next command, and the command list replays to identical events at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from isomargin.engine import (
    Command,
    CreateAccount,
    Deposit,
    Engine,
    FundInsurance,
    OrderSide,
    Rejected,
    SetMarkPrice,
    TimeInForce,
    Withdraw,
    options_queries,
    restore,
    snapshot,
    state_hash,
)
from isomargin.engine.codes import BalanceKind, Code, Posting
from isomargin.engine.commands import (
    AdjustOptionMargin,
    CancelOptionOrder,
    ListOption,
    PlaceOptionOrder,
    SetOptionVol,
    SettleOptions,
)
from isomargin.engine.events import Event, Posted
from isomargin.engine.options_events import (
    OptionDelisted,
    OptionLiquidated,
    OptionOrderUpdated,
    OptionSettled,
    OptionTrade,
)

D = Decimal
FAMILY = "BTC-USD"
CALL, PUT = "BTC-USD-261225-100000-C", "BTC-USD-261225-90000-P"
STRIKES = {CALL: ("C", 100_000), PUT: ("P", 90_000)}
SYMBOLS = tuple(STRIKES)
EXPIRY = 1_798_185_600_000  # 2026-12-25 08:00 UTC
DAY, HOUR = 86_400_000, 3_600_000
T0 = EXPIRY - 40 * DAY
MULTIPLIER = Fraction(1, 100)  # BTC of underlying per contract
Q = 10**10  # ledger quanta per BTC
PP = D("1E-8")  # a price point
# (account, BTC in the wallet at the start): 4 is a whale (tier 2 from 10,000 contracts), 5 makes markets
FUNDING = ((1, 30), (2, 30), (3, 5), (4, 300), (5, 2_000))
ACCOUNTS = tuple(row[0] for row in FUNDING)
MAKER = 5

accounts = st.sampled_from([1, 1, 2, 2, 3, 4, 5])
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from([OrderSide.BUY, OrderSide.SELL])
tifs = st.sampled_from([TimeInForce.GTC] * 4 + list(TimeInForce))


def on_grid(premium: Fraction) -> Decimal:
    """`premium` (BTC per BTC) on OKX's bands: 0.0001 steps up to 0.005, 0.0005 above; at least one tick."""
    tick = Fraction(1, 10_000) if premium < Fraction(5, 1000) else Fraction(5, 10_000)
    n = max(1, round(premium / tick))
    return D(n) * D(tick.numerator) / D(tick.denominator)


def intrinsic_quanta(kind: str, strike: int, price: Decimal, contracts: int, up: bool) -> int:
    """What `contracts` pay at settlement price `price`, in quanta: contracts × 0.01 × max(0, ±(S − K)) / S × 10^10,
    rounded down (the long's side) or up (the short's)."""
    s = Fraction(price)
    value = max(Fraction(0), s - strike if kind == "C" else strike - s) / s * MULTIPLIER * contracts * Q
    return -(-value.numerator // value.denominator) if up else value.numerator // value.denominator


def refused(events: list[Event]) -> bool:
    return bool(events) and isinstance(events[0], Rejected)


class OptionsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(debug=True)
        self.shadow: Engine | None = None  # a restored copy the next command is also applied to
        self.commands: list[Command] = []
        self.events: list[list[dict[str, object]]] = []
        self.ts = T0
        self.index = 95_000
        self.marks: dict[str, Decimal] = {CALL: D("0.03"), PUT: D("0.02")}
        self.inside = D(0)  # BTC deposited into the venue, net
        self.lots: dict[tuple[int, str], int] = {}  # positions from events; account 0 is the fund's inventory
        self.open_orders: list[tuple[int, str, int, str | None]] = []  # (account, symbol, id, client id)
        self.client_ids = 0
        self.settled = False
        self.stats = {"partial": 0, "close": 0, "restores": 0, "settled_longs": 0, "threshold": 0}

    # ------------------------------------------------------------------ plumbing
    def do(self, make: Callable[[int], Command] | Command, advance: int = 1) -> list[Event]:
        """Apply one command at the next timestamp, follow its events in the model, check every invariant."""
        self.ts += advance
        cmd = replace(make, ts=self.ts) if isinstance(make, Command) else make(self.ts)
        e = self.engine
        before_hash = state_hash(e)
        events = e.apply(cmd)
        self.commands.append(cmd)
        self.events.append([ev.to_dict() for ev in events])
        if self.shadow is not None:  # the restored copy answers the next command exactly as the original
            again = self.shadow.apply(cmd)
            assert [ev.to_dict() for ev in again] == self.events[-1], f"the restored engine answered {cmd} apart"
            assert state_hash(self.shadow) == state_hash(e)
            self.engine, self.shadow = self.shadow, None  # and the stream goes on against it
        if refused(events):
            assert len(events) == 1, f"a rejection must be the only event: {events}"
            assert state_hash(self.engine) == before_hash, f"rejected {cmd} changed state: {events[0]}"
            assert events[0].code is not Code.INTERNAL_CHECK_ERROR, events[0]  # type: ignore[attr-defined]
            return events
        self.follow(cmd, events)
        self.check_money()
        self.check_wallets_drawn(cmd, events)
        self.check_positions()
        self.check_alive(cmd)
        return events

    def ok(self, make: Callable[[int], Command] | Command, advance: int = 1) -> list[Event]:
        events = self.do(make, advance)
        assert not refused(events), events
        return events

    def follow(self, cmd: Command, events: list[Event]) -> None:
        """The model's bookkeeping, from the command and its events (never from engine state)."""
        if isinstance(cmd, Deposit | Withdraw):
            self.inside += cmd.amount if isinstance(cmd, Deposit) else -cmd.amount
        elif isinstance(cmd, FundInsurance):
            self.inside += cmd.amount
        elif isinstance(cmd, SetMarkPrice):
            if cmd.symbol == FAMILY:
                self.index = int(cmd.mark)
            else:
                self.marks[cmd.symbol] = cmd.mark
        for ev in events:
            if isinstance(ev, OptionTrade):
                for account, sign in ((ev.buyer_account, 1), (ev.seller_account, -1)):
                    key = (account, ev.symbol)
                    self.lots[key] = self.lots.get(key, 0) + sign * int(ev.qty)
            elif isinstance(ev, OptionLiquidated):
                self.stats[ev.step] = self.stats.get(ev.step, 0) + 1
                if ev.taken_over:  # the fund takes the short over at the mark
                    self.lots[(ev.account, ev.symbol)] += int(ev.taken_over)
                    self.lots[(0, ev.symbol)] = self.lots.get((0, ev.symbol), 0) - int(ev.taken_over)
            elif isinstance(ev, OptionDelisted):  # settled: its positions are gone
                self.lots = {k: v for k, v in self.lots.items() if k[1] != ev.symbol}
            elif isinstance(ev, OptionOrderUpdated):
                row = (ev.account, ev.symbol, ev.order_id, ev.client_order_id)
                live = ev.status.value in ("NEW", "PARTIALLY_FILLED")
                if live and row not in self.open_orders:
                    self.open_orders.append(row)
                elif not live and row in self.open_orders:
                    self.open_orders.remove(row)
        self.lots = {k: v for k, v in self.lots.items() if v}
        if isinstance(cmd, SetOptionVol):
            marked = options_queries.option(self.engine, cmd.symbol)
            assert marked is not None
            self.marks[cmd.symbol] = marked["mark_price"]

    # ------------------------------------------------------------------ invariants
    def check_money(self) -> None:
        e = self.engine
        assert all(v == 0 for v in e.ledger.totals().values()), f"the ledger does not sum to zero: {e.ledger.totals()}"
        inside = 0
        for bal in e.ledger.balances.values():
            if bal.kind is not BalanceKind.EXTERNAL:
                inside += bal.amount
            if bal.kind in (BalanceKind.WALLET, BalanceKind.OPTION_HOLD) or bal.key.startswith("option_pool:"):
                assert bal.amount >= 0, f"a balance below zero: {bal.key} {bal.amount}"
        assert D(inside) / Q == self.inside, f"{D(inside) / Q} BTC inside, {self.inside} deposited"

    def check_wallets_drawn(self, cmd: Command, events: list[Event]) -> None:
        """The isolated loss cap: who may take from a wallet."""
        makers = {ev.buyer_account if ev.taker_side is OrderSide.SELL else ev.seller_account
                  for ev in events if isinstance(ev, OptionTrade)}  # fmt: skip
        owner = getattr(cmd, "account", None)
        for ev in events:
            if not isinstance(ev, Posted):
                continue
            for t in ev.postings:
                if not t.debit.startswith("wallet:"):
                    continue
                account = int(t.debit.split(":")[1])
                if account == owner and isinstance(cmd, Withdraw | PlaceOptionOrder | AdjustOptionMargin):
                    assert isinstance(cmd, Withdraw) or t.reason in (Posting.ORDER_HOLD, Posting.TRADING_FEE,
                                                                     Posting.MARGIN_ADJUSTMENT), t  # fmt: skip
                    continue
                assert not isinstance(cmd, SettleOptions), f"the settlement drew on a wallet: {t}"
                # otherwise (a liquidation, a mark, anyone else's command) only the maker's fee of the account's
                # own resting order that traded: a sell to close holds nothing, its fee is paid from the premium
                # that lands in the wallet in the same fill
                assert t.reason is Posting.TRADING_FEE and account in makers, f"{cmd} drew on a wallet: {t}"

    def check_positions(self) -> None:
        """Positions from the events are the engine's; open interest nets to zero, the fund's inventory included."""
        engine_lots: dict[tuple[int, str], int] = {}
        for symbol, m in self.engine.options.markets.items():
            total = 0
            for account, p in m.positions.items():
                if p.lots:
                    engine_lots[(account, symbol)] = p.lots
                    total += p.lots
            if m.held is not None and m.held.lots:
                engine_lots[(0, symbol)] = m.held.lots
                total += m.held.lots
            assert total == 0, f"{symbol}: open interest nets to {total}"
        assert engine_lots == self.lots, f"engine {engine_lots} ≠ events {self.lots}"

    def check_alive(self, cmd: Command) -> None:
        """Liveness: after a mark or a vol no short of that option, after an index no short of the family, is
        left at a ratio of 100 % or less."""
        if not isinstance(cmd, SetMarkPrice | SetOptionVol) or self.settled:
            return
        for (account, symbol), lots in self.lots.items():
            if account == 0 or lots > 0 or cmd.symbol not in (symbol, FAMILY):
                continue
            view = options_queries.option_position(self.engine, account, symbol)
            assert view is not None
            assert view["margin_ratio"] is None or view["margin_ratio"] > 1, f"{account} left at {view}"

    # ------------------------------------------------------------------ set-up
    @initialize()
    def open_venue(self) -> None:
        cmds: list[Command] = [ListOption(s) for s in SYMBOLS]
        cmds.append(FundInsurance("BTC", D(100)))
        for a, btc in FUNDING:
            cmds += [CreateAccount(a), Deposit(a, "BTC", D(btc))]
        cmds += [SetMarkPrice(FAMILY, D(self.index))] + [SetMarkPrice(s, self.marks[s]) for s in SYMBOLS]
        for cmd in cmds:
            self.ok(cmd)
        for s in SYMBOLS:
            self.make_market(s, 2, 200)

    # ------------------------------------------------------------------ helpers
    def price(self, symbol: str, offset: int) -> Decimal:
        """The mark moved by `offset` × 2 %, on the tick grid."""
        return on_grid(Fraction(self.marks[symbol]) * (1 + Fraction(offset, 50)))

    def client_id(self) -> str:
        self.client_ids += 1
        return f"o{self.client_ids}"

    def shorts(self) -> list[tuple[int, str]]:
        return sorted((a, s) for (a, s), lots in self.lots.items() if a and lots < 0)

    # ------------------------------------------------------------------ rules
    @precondition(lambda self: not self.settled)
    @rule(account=accounts, symbol=symbols, side=sides, qty=st.sampled_from([1, 5, 20, 100, 300, 1000]),
          offset=st.integers(-6, 6), tif=tifs, reduce_only=st.sampled_from([False] * 5 + [True]),
          named=st.booleans())  # fmt: skip
    def place(self, account: int, symbol: str, side: OrderSide, qty: int, offset: int, tif: TimeInForce,
              reduce_only: bool, named: bool) -> None:  # fmt: skip
        cid = self.client_id() if named else None
        self.do(PlaceOptionOrder(account, symbol, side, D(qty), self.price(symbol, offset), tif=tif,
                                 reduce_only=reduce_only, client_order_id=cid))  # fmt: skip

    @precondition(lambda self: not self.settled and self.lots)
    @rule(pick=st.integers(0, 50), pct=st.sampled_from([30, 100, 150]), reduce_only=st.booleans())
    def close(self, pick: int, pct: int, reduce_only: bool) -> None:
        """Close (part of) a position against the book: sell a long, buy back a short; 150 % is refused
        reduce-only and otherwise flips the position."""
        held = [(a, s, n) for (a, s), n in sorted(self.lots.items()) if a]
        if not held:
            return
        account, symbol, lots = held[pick % len(held)]
        qty = max(1, abs(lots) * pct // 100)
        side = OrderSide.SELL if lots > 0 else OrderSide.BUY
        price = self.price(symbol, -10 if lots > 0 else 10)
        events = self.do(PlaceOptionOrder(account, symbol, side, D(qty), price, tif=TimeInForce.IOC,
                                          reduce_only=reduce_only))  # fmt: skip
        if reduce_only and qty > abs(lots):
            assert refused(events) and events[0].code is Code.REDUCE_ONLY_REJECTED, events  # type: ignore[attr-defined]

    @precondition(lambda self: not self.settled)
    @rule(symbol=symbols, spread=st.integers(1, 5), units=st.sampled_from([20, 100, 500]))
    def make_market(self, symbol: str, spread: int, units: int) -> None:
        """5 quotes a bid and an ask `spread` × 2 % around the mark."""
        for side, offset in ((OrderSide.BUY, -spread), (OrderSide.SELL, spread)):
            self.do(PlaceOptionOrder(MAKER, symbol, side, D(units), self.price(symbol, offset)))

    @precondition(lambda self: not self.settled)
    @rule(symbol=symbols, buyer=st.sampled_from([1, 2, 5]), lots=st.sampled_from([10_500, 12_000, 15_000]))
    def whale_sells(self, symbol: str, buyer: int, lots: int) -> None:
        """4 sells into the second tier (factor 1.02 past 10,000 contracts): a partial liquidation steps it down."""
        price = self.price(symbol, 0)
        self.do(PlaceOptionOrder(4, symbol, OrderSide.SELL, D(lots), price))
        self.do(PlaceOptionOrder(buyer, symbol, OrderSide.BUY, D(lots), price, tif=TimeInForce.IOC))

    @precondition(lambda self: not self.settled and self.open_orders)
    @rule(pick=st.integers(0, 50), by_client=st.booleans(), wrong=st.sampled_from([False] * 5 + [True]))
    def cancel(self, pick: int, by_client: bool, wrong: bool) -> None:
        account, symbol, oid, cid = self.open_orders[pick % len(self.open_orders)]
        if wrong:  # someone else's order: refused
            other = ACCOUNTS[(ACCOUNTS.index(account) + 1) % len(ACCOUNTS)]
            events = self.do(CancelOptionOrder(other, symbol, order_id=oid))
            assert refused(events) and events[0].code is Code.UNKNOWN_ORDER, events  # type: ignore[attr-defined]
            return
        if by_client and cid is not None:
            events = self.do(CancelOptionOrder(account, symbol, client_order_id=cid))
        else:
            events = self.do(CancelOptionOrder(account, symbol, order_id=oid))
        assert not refused(events), events

    @precondition(lambda self: not self.settled)
    @rule(move=st.sampled_from([-30, -10, -3, -1, 1, 3, 10, 30]))
    def index(self, move: int) -> None:
        """The index walks or jumps by `move` %."""
        self.ok(SetMarkPrice(FAMILY, D(max(10_000, self.index * (100 + move) // 100))))

    @precondition(lambda self: not self.settled)
    @rule(symbol=symbols, move=st.sampled_from([-60, -20, -5, -1, 1, 5, 20, 60, 150, 400, 1500]))
    def mark(self, symbol: str, move: int) -> None:
        """The option's mark walks or jumps by `move` % (to the price-point grid, at least one point)."""
        mark = max(PP, (self.marks[symbol] * (100 + move) / 100).quantize(PP))
        self.ok(SetMarkPrice(symbol, mark))

    @precondition(lambda self: not self.settled)
    @rule(symbol=symbols, iv=st.sampled_from(["0.2", "0.5", "0.8", "1.5", "3"]), hours=st.integers(1, 12))
    def vol(self, symbol: str, iv: str, hours: int) -> None:
        """A mark from an implied vol, some hours later (Black-76 on the index, time to the expiry shrinking)."""
        self.ok(SetOptionVol(symbol, D(iv)), advance=hours * HOUR)

    @precondition(lambda self: not self.settled and self.shorts())
    @rule(pick=st.integers(0, 50), how=st.sampled_from(["add", "max", "beyond"]))
    def margin(self, pick: int, how: str) -> None:
        shorts = self.shorts()
        account, symbol = shorts[pick % len(shorts)]
        view = options_queries.option_position(self.engine, account, symbol)
        assert view is not None
        removable: Decimal = view["max_removable"].quantize(PP, rounding="ROUND_FLOOR")
        if how == "add":
            self.ok(AdjustOptionMargin(account, symbol, D("0.05")))
        elif how == "max" and removable > 0:
            self.ok(AdjustOptionMargin(account, symbol, -removable))
        elif how == "beyond":
            events = self.do(AdjustOptionMargin(account, symbol, -(removable + PP)))
            assert refused(events) and events[0].code is Code.ABOVE_MAX_REMOVABLE, events  # type: ignore[attr-defined]

    @precondition(lambda self: not self.settled and self.shorts())
    @rule(pick=st.integers(0, 50))
    def squeeze(self, pick: int) -> None:
        """The liquidation threshold: one price point below a short's liquidation mark nothing happens to it
        (checked on a restored copy), at the mark (rounded up to a point) it is liquidated. Only a short with no
        open orders (a liquidation cancels them first, and what they held may move the ratio)."""
        busy = {(a, s) for a, s, _, _ in self.open_orders}  # orders are cancelled first, which may move the pool
        shorts = [short for short in self.shorts() if short not in busy]
        if not shorts:
            return
        account, symbol = shorts[pick % len(shorts)]
        view = options_queries.option_position(self.engine, account, symbol)
        assert view is not None
        liq = view["liquidation_mark"]
        if liq is None or not PP * 2 <= liq < 10:
            return
        # the view computes the mark from its entry price rounded to 10 decimals, which moves the root by up to
        # 5 × 10^-11 (reported); 10^-10 of slack keeps the check one price point tight
        at = (liq + D("1E-10")).quantize(PP, rounding=ROUND_CEILING)
        below = restore(snapshot(self.engine), debug=True)
        hit = below.apply(SetMarkPrice(symbol, liq.quantize(PP, rounding=ROUND_CEILING) - PP, ts=self.ts + 1))
        assert not [ev for ev in hit if isinstance(ev, OptionLiquidated) and ev.account == account], hit
        events = self.ok(SetMarkPrice(symbol, at))
        assert [ev for ev in events if isinstance(ev, OptionLiquidated) and ev.account == account], events
        self.stats["threshold"] += 1

    @rule(account=accounts, amount=st.sampled_from(["0.5", "5"]), out=st.booleans())
    def cash(self, account: int, amount: str, out: bool) -> None:
        self.do(Withdraw(account, "BTC", D(amount)) if out else Deposit(account, "BTC", D(amount)))

    @precondition(lambda self: not self.settled and len(self.commands) > 60)  # late in the stream, if at all
    @rule(price=st.sampled_from([60_000, 88_000, 90_000, 95_000, 100_000, 104_000, 130_000]),
          late=st.integers(0, 3 * HOUR))  # fmt: skip
    def settle(self, price: int, late: int) -> None:
        """Expiry: settling a moment early is refused; at or after the expiry every position is paid."""
        early = self.do(SettleOptions(FAMILY, EXPIRY, D(price)), advance=0)
        assert refused(early) and early[0].code is Code.BEFORE_EXPIRY, early  # type: ignore[attr-defined]
        positions = dict(self.lots)
        self.ts = EXPIRY + late
        events = self.ok(SettleOptions(FAMILY, EXPIRY, D(price)), advance=0)
        self.settled = True
        settled = {(ev.account, ev.symbol): ev for ev in events if isinstance(ev, OptionSettled)}
        credited: dict[int, int] = {}
        for ev in events:
            if isinstance(ev, Posted):
                for t in ev.postings:
                    if t.reason is Posting.OPTION_SETTLEMENT and t.credit.startswith("wallet:"):
                        a = int(t.credit.split(":")[1])
                        credited[a] = credited.get(a, 0) + int(t.amount * Q)
        expected_credit: dict[int, int] = {}
        for (account, symbol), lots in positions.items():
            kind, strike = STRIKES[symbol]
            if account == 0:
                continue
            got = settled[(account, symbol)]
            assert got.qty == lots, got
            if lots > 0:  # a long: rounded down
                gets = intrinsic_quanta(kind, strike, D(price), lots, up=False)
                assert got.payout * Q == gets, (got, gets)
                if gets:
                    expected_credit[account] = expected_credit.get(account, 0) + gets
                self.stats["settled_longs"] += 1
            else:  # a short pays rounded up (the fund pays what its pool cannot)
                assert -got.payout * Q == intrinsic_quanta(kind, strike, D(price), -lots, up=True), got
        assert credited == expected_credit, (credited, expected_credit)
        assert self.lots == {} and not self.engine.options.markets, "every option settled and delisted"

    @precondition(lambda self: len(self.commands) % 5 == 0 and self.shadow is None)
    @rule()
    def snapshot_and_restore(self) -> None:
        """Mid-stream the state round-trips through a snapshot to the same hash; the next command is applied to
        both and must give the same events (then the stream goes on against the restored engine)."""
        restored = restore(snapshot(self.engine), debug=True)
        assert state_hash(restored) == state_hash(self.engine)
        self.shadow = restored
        self.stats["restores"] += 1

    # ------------------------------------------------------------------ determinism
    def teardown(self) -> None:
        if not self.commands:
            return
        if not self.settled:  # finally, the expiry: at the index, rounded to a dollar
            self.settle(self.index, 0)
        fresh = Engine()
        events = [[ev.to_dict() for ev in fresh.apply(c)] for c in self.commands]
        assert events == self.events, "replaying the command list gave different events"
        assert state_hash(fresh) == state_hash(self.engine)


TestOptionsStateful = OptionsMachine.TestCase  # examples and steps: the Hypothesis profile (tests/conftest.py)
