"""Stateful test of spot pairs and isolated spot-margin accounts: random command streams, money rules after every step.

A Hypothesis state machine drives two spot pairs on two risk models — binance BTC-USDT (margin level) and okx
ETH-USDT (maintenance ratio, tiers) — and five accounts (a whale among them, big enough for OKX's upper tiers)
through deposits, transfers in and out, borrows and repays, wallet and isolated spot orders with every side effect,
cancels, marks that drift or crash, time that advances across odd hour boundaries, hourly interest and rate
changes. The engine runs in debug mode (its own audit after each command); the machine checks from the outside:

* exact conservation per asset: the ledger sums to zero and what is inside the venue equals what was deposited;
* the isolated loss cap: a wallet (with its wallet orders' locks) changes only by the owner's own commands, its
  own wallet orders' fills and what a liquidation returns — a liquidation never takes from it, nor from any other
  margin account (another pair's, or an uninvolved account's on the same pair);
* liabilities are never negative, balances never below zero, a closed account is empty;
* interest: each charge is hours × ⌈principal × daily / 24⌉ (to a quantum) recomputed from the Borrowed, Repaid
  and InterestCharged events the model follows, no hour is charged twice or skipped at AccrueInterest, and the
  lender's balance is the sum of all charges;
* liquidation thresholds: solved here for an account owing one asset, a mark just on the safe side leaves it
  alone and one just beyond liquidates it; liveness: after a mark (on its pair) or an accrual (for what it
  charged) no account is left at its liquidation threshold with a liability;
* a rejection changes nothing; snapshot/restore keeps the state hash mid-stream and the command list replays to
  identical events at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from isomargin.engine import (
    AlertLevel,
    Command,
    CreateAccount,
    Deposit,
    Engine,
    FundInsurance,
    OrderSide,
    OrderType,
    Rejected,
    SetMarkPrice,
    TimeInForce,
    Withdraw,
    queries,
    restore,
    snapshot,
    spot_queries,
    state_hash,
)
from isomargin.engine.codes import BalanceKind, Code, Posting
from isomargin.engine.commands import (
    AccrueInterest,
    Borrow,
    CancelSpotOrder,
    ListSpotPair,
    MarginTransfer,
    PlaceSpotOrder,
    Repay,
    SetBorrowRate,
    SideEffect,
)
from isomargin.engine.events import Event, Posted
from isomargin.engine.spot_events import (
    Borrowed,
    BorrowRateSet,
    InterestCharged,
    MarginTransferred,
    Repaid,
    SpotLiquidated,
    SpotMarginCall,
    SpotOrderUpdated,
    SpotTrade,
)
from isomargin.venues.spot_margin import spot_pair

D = Decimal
HOUR = 3_600_000
QUANTUM = D("1E-10")  # the ledger's unit of every asset
CENT = D("1E-8")  # commands carry at most 8 decimals


@dataclass(frozen=True)
class Pair:
    symbol: str
    venue: str
    base: str
    tick: Decimal
    unit: Decimal  # about 60 USDT of base, on the step grid
    mark: Decimal  # the opening mark


BTC_PAIR = Pair("BTC-USDT", "binance", "BTC", D("0.01"), D("0.001"), D(60000))
ETH_PAIR = Pair("ETH-USDT", "okx", "ETH", D("0.01"), D("0.02"), D(3000))
PAIRS = {p.symbol: p for p in (BTC_PAIR, ETH_PAIR)}
QUOTE = "USDT"
ASSETS = ("USDT", "BTC", "ETH")
# The documented venue data (venues/data/spot_margin.json): binance 10x levels, okx's default daily rates.
BINANCE_LIQUIDATION = Fraction("1.05")
BINANCE_TRANSFER_OUT = Fraction(2)
BINANCE_CALL = Fraction("1.1")
DEFAULT_DAILY = D("0.00024")
# (account, USDT, BTC, ETH) in the wallet at the start: 4 is a whale (OKX tiers 3 and up), 5 makes markets
FUNDING = ((1, 20_000, "0.5", 10), (2, 20_000, "0.5", 10), (3, 5_000, "0.1", 2), (4, 3_000_000, "5", 3000),
           (5, 500_000, "10", 200))  # fmt: skip
ACCOUNTS = tuple(row[0] for row in FUNDING)

accounts = st.sampled_from([1, 1, 2, 2, 3, 4, 5])
pairs = st.sampled_from(list(PAIRS))
sides = st.sampled_from([OrderSide.BUY, OrderSide.SELL])
percents = st.sampled_from([1, 5, 10, 25, 50, 90, 100])


def floor_hour(ts: int) -> int:
    return ts - ts % HOUR


def ceil_quantum(x: Fraction) -> Decimal:
    """`x` rounded up to a ledger quantum (the lender's side)."""
    n = -(-x.numerator * 10**10 // x.denominator)
    return D(n).scaleb(-10)


def cents_down(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_DOWN)


def hourly(principal: Decimal, daily: Decimal) -> Decimal:
    """One hour of interest on `principal` at `daily` / 24, rounded up to a quantum: Binance's hourly rule."""
    return ceil_quantum(Fraction(principal) * Fraction(daily) / 24)


def refused(events: list[Event]) -> bool:
    """Whether the command was rejected (an accepted command may have no events: nothing to accrue)."""
    return bool(events) and isinstance(events[0], Rejected)


def _concerns(ev: Event, account: int) -> bool:
    """A trade of `account`'s, or `account` reaching its liquidation threshold."""
    if isinstance(ev, SpotTrade):
        return account in (ev.buyer_account, ev.seller_account)
    if isinstance(ev, SpotMarginCall):
        return ev.account == account and ev.level is AlertLevel.LIQUIDATE
    return isinstance(ev, SpotLiquidated) and ev.account == account


def code_of(events: list[Event]) -> Code | None:
    """The rejection's code, None if the command was accepted."""
    return events[0].code if events and isinstance(events[0], Rejected) else None


@dataclass
class Loan:
    """The model's view of one (account, pair, asset) loan, from events only."""

    principal: Decimal = field(default_factory=Decimal)
    interest: Decimal = field(default_factory=Decimal)
    paid_to: int | None = None  # the hour boundary interest is charged through


class SpotMarginMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(debug=True)
        self.commands: list[Command] = []
        self.events: list[list[dict[str, object]]] = []
        self.ts = 0
        self.marks = {p.symbol: p.mark for p in PAIRS.values()}
        self.inside: dict[str, Decimal] = dict.fromkeys(ASSETS, D(0))  # net deposits into the venue
        self.wallets: dict[tuple[int, str], Decimal] = {(a, x): D(0) for a in ACCOUNTS for x in ASSETS}
        self.wallet_orders: set[int] = set()
        self.loans: dict[tuple[int, str, str], Loan] = {}
        self.rates = {(p.symbol, x): DEFAULT_DAILY for p in PAIRS.values() for x in (p.base, QUOTE)}
        self.lent: dict[str, Decimal] = dict.fromkeys(ASSETS, D(0))
        self.client_ids = 0
        self.stats = {"liquidations": 0, "interest": 0, "restores": 0}

    # ------------------------------------------------------------------ plumbing
    def do(self, make: Callable[[int], Command] | Command, advance: int = 1) -> list[Event]:
        """Apply one command (or one built for it) at the next timestamp, follow its events in the model, check
        every invariant."""
        self.ts += advance
        cmd = replace(make, ts=self.ts) if isinstance(make, Command) else make(self.ts)
        e = self.engine
        before_hash = state_hash(e)
        before = self.margin_balances()
        events = e.apply(cmd)
        self.commands.append(cmd)
        self.events.append([ev.to_dict() for ev in events])
        if refused(events):
            assert len(events) == 1, f"a rejection must be the only event: {events}"
            assert state_hash(e) == before_hash, f"rejected {cmd} changed state: {events[0]}"
            assert code_of(events) is not Code.INTERNAL_CHECK_ERROR, events[0]
            return events
        self.follow(cmd, events)
        self.check_money()
        after = self.margin_balances()
        self.check_untouched(cmd, events, before, after)
        self.check_loans(cmd, after)
        self.check_alive(cmd, events)
        return events

    def follow(self, cmd: Command, events: list[Event]) -> None:
        """The model's bookkeeping, from the command and its events (never from engine state)."""
        ts = cmd.ts
        if isinstance(cmd, Deposit | Withdraw):
            sign = 1 if isinstance(cmd, Deposit) else -1
            self.wallets[(cmd.account, cmd.asset)] += sign * cmd.amount
            self.inside[cmd.asset] += sign * cmd.amount
        elif isinstance(cmd, FundInsurance):
            self.inside[cmd.asset] += cmd.amount
        elif isinstance(cmd, SetMarkPrice):
            self.marks[cmd.symbol] = cmd.mark
        liquidated = {(ev.account, ev.symbol) for ev in events if isinstance(ev, SpotLiquidated)}
        for ev in events:
            if isinstance(ev, SpotOrderUpdated) and not ev.isolated:
                self.wallet_orders.add(ev.order_id)
            elif isinstance(ev, SpotTrade):
                self.follow_trade(ev)
            elif isinstance(ev, MarginTransferred):
                assert isinstance(cmd, MarginTransfer), f"only the owner's transfer moves wallet money: {ev}"
                self.wallets[(ev.account, ev.asset)] -= ev.amount
            elif isinstance(ev, Borrowed):
                self.follow_borrow(ev, ts)
            elif isinstance(ev, InterestCharged):
                self.follow_interest(ev, ts)
            elif isinstance(ev, Repaid):
                self.follow_repay(ev, ts)
            elif isinstance(ev, BorrowRateSet):
                self.rates[(ev.symbol, ev.asset)] = ev.daily_rate
            elif isinstance(ev, SpotLiquidated):
                self.stats["liquidations"] += 1
            elif isinstance(ev, Posted):
                # What a closing liquidation returns: margin account → its own wallet (a MarginTransfer's own
                # movement is its first such posting; a transfer in re-measures, which may liquidate)
                returns = [t for t in ev.postings if t.reason is Posting.MARGIN_TRANSFER]
                for t in returns[1:] if isinstance(cmd, MarginTransfer) else returns:
                    _, account, symbol, asset = t.debit.split(":")
                    assert t.debit.startswith("margin:") and t.credit == f"wallet:{account}:{asset}", t
                    assert (int(account), symbol) in liquidated, f"money left a margin account unasked: {t}"
                    self.wallets[(int(account), asset)] += t.amount

    def follow_trade(self, ev: SpotTrade) -> None:
        base = PAIRS[ev.symbol].base
        if ev.buyer_order_id in self.wallet_orders:
            self.wallets[(ev.buyer_account, base)] += ev.qty - ev.buyer_fee
            self.wallets[(ev.buyer_account, QUOTE)] -= ev.quote_qty
        if ev.seller_order_id in self.wallet_orders:
            self.wallets[(ev.seller_account, base)] -= ev.qty
            self.wallets[(ev.seller_account, QUOTE)] += ev.quote_qty - ev.seller_fee
        assert ev.quote_qty == ev.qty * ev.price, ev  # a spot fill exchanges exactly qty × price

    def loan(self, account: int, symbol: str, asset: str) -> Loan:
        return self.loans.setdefault((account, symbol, asset), Loan())

    def follow_borrow(self, ev: Borrowed, ts: int) -> None:
        loan = self.loan(ev.account, ev.symbol, ev.asset)
        if loan.principal > 0:  # hours before the loan grew are owed on the old principal
            assert loan.paid_to == floor_hour(ts), f"borrowing without charging the hours due first: {ev}"
        assert ev.amount > 0
        first = hourly(ev.amount, self.rates[(ev.symbol, ev.asset)])
        assert ev.interest == first, f"the first hour is {first}, charged {ev.interest}: {ev}"
        if loan.paid_to is None or loan.paid_to < floor_hour(ts):
            loan.paid_to = floor_hour(ts)
        loan.principal += ev.amount
        loan.interest += first
        self.lent[ev.asset] += first
        assert (ev.principal, ev.owed_interest) == (loan.principal, loan.interest), (ev, loan)

    def follow_interest(self, ev: InterestCharged, ts: int) -> None:
        loan = self.loan(ev.account, ev.symbol, ev.asset)
        rate = self.rates[(ev.symbol, ev.asset)]
        assert loan.principal > 0 and loan.paid_to is not None, f"interest on no loan: {ev} {loan}"
        assert ev.principal == loan.principal and ev.daily_rate == rate, (ev, loan, rate)
        assert ev.hours >= 1 and ev.through == loan.paid_to + ev.hours * HOUR <= floor_hour(ts), (ev, loan)
        expected = ev.hours * hourly(loan.principal, rate)
        assert ev.amount == expected, f"{ev.hours} h on {loan.principal} at {rate}/day is {expected}: {ev}"
        loan.paid_to = ev.through
        loan.interest += expected
        self.lent[ev.asset] += expected
        self.stats["interest"] += 1

    def follow_repay(self, ev: Repaid, ts: int) -> None:
        loan = self.loan(ev.account, ev.symbol, ev.asset)
        if ev.auto != "liquidation" and loan.principal > 0:
            assert loan.paid_to == floor_hour(ts), f"repaying without charging the hours due first: {ev}"
        assert ev.interest >= 0 and ev.principal >= 0 and ev.interest + ev.principal > 0, ev
        if ev.principal > 0:
            assert ev.interest == loan.interest, f"principal repaid before the interest: {ev} {loan}"
        loan.interest -= ev.interest
        loan.principal -= ev.principal
        assert loan.interest >= 0 and loan.principal >= 0, f"repaid more than owed: {ev}"
        assert (ev.owed_principal, ev.owed_interest) == (loan.principal, loan.interest), (ev, loan)
        if loan.principal == 0 and loan.interest == 0:
            loan.paid_to = None

    # ------------------------------------------------------------------ invariants
    def margin_balances(self) -> dict[tuple[int, str], tuple[Decimal, ...]]:
        """Every margin account's (free, locked, borrowed, interest) per asset (base, then quote), read from its
        ledger balances by name (what a loan and its interest hold is ≤ 0: shown as owed, ≥ 0)."""
        out: dict[tuple[int, str], tuple[Decimal, ...]] = {}
        for a in ACCOUNTS:
            for symbol in spot_queries.margin_accounts(self.engine, a):
                row: list[Decimal] = []
                for asset in (PAIRS[symbol].base, QUOTE):
                    for kind, sign in (("margin", 1), ("locked", 1), ("loan", -1), ("interest", -1)):
                        row.append(sign * queries.ledger_balance(self.engine, f"{kind}:{a}:{symbol}:{asset}"))
                out[(a, symbol)] = tuple(row)
        return out

    def check_money(self) -> None:
        e = self.engine
        assert all(v == 0 for v in e.ledger.totals().values()), f"the ledger does not sum to zero: {e.ledger.totals()}"
        inside = dict.fromkeys(ASSETS, 0)
        for bal in e.ledger.balances.values():
            if bal.kind is not BalanceKind.EXTERNAL:
                inside[bal.asset] = inside.get(bal.asset, 0) + bal.amount
            if bal.kind in (BalanceKind.LOAN, BalanceKind.INTEREST):
                assert bal.amount <= 0, f"a liability with the wrong sign: {bal.key} {bal.amount}"
            elif bal.kind in (BalanceKind.WALLET, BalanceKind.MARGIN, BalanceKind.LOCKED, BalanceKind.LENDING):
                assert bal.amount >= 0, f"a balance below zero: {bal.key} {bal.amount}"
        for asset in ASSETS:
            assert D(inside[asset]) * QUANTUM == self.inside[asset], f"{asset}: {inside[asset]} ≠ {self.inside}"
            lent = queries.ledger_balance(e, f"lending:{asset}")
            assert lent == self.lent[asset], f"{asset} interest earned {lent}, charged {self.lent[asset]}"
        for (a, asset), expected in self.wallets.items():
            if not queries.account_exists(e, a):
                assert expected == 0
                continue
            held = queries.wallet(e, a, asset) + spot_queries.spot_wallet_locked(e, a, asset)
            assert held == expected, f"account {a}'s {asset} wallet holds {held}, its own doing says {expected}"

    def check_untouched(self, cmd: Command, events: list[Event], before: dict[tuple[int, str], tuple[Decimal, ...]],
                        after: dict[tuple[int, str], tuple[Decimal, ...]]) -> None:  # fmt: skip
        """A command touches only its own pair; on that pair only its account, the accounts whose orders filled
        and the accounts it liquidated. Interest accrual and rate changes only add interest."""
        symbol = getattr(cmd, "symbol", None)
        account = getattr(cmd, "account", None)
        parties: set[tuple[int, str]] = set()
        for ev in events:
            if isinstance(ev, SpotTrade):
                parties |= {(ev.buyer_account, ev.symbol), (ev.seller_account, ev.symbol)}
            elif isinstance(ev, SpotLiquidated):
                parties.add((ev.account, ev.symbol))
        for key, was in before.items():
            now = after[key]
            if key in parties or key == (account, symbol):
                continue
            # Interest alone (indices 3 and 7) may grow: an accrual or rate change charges every loan, and a pair's
            # mark charges the hours already due of the accounts on it before it measures them.
            marked = isinstance(cmd, SetMarkPrice) and key[1] == cmd.symbol
            if isinstance(cmd, AccrueInterest | SetBorrowRate) or marked:
                assert all(now[i] == was[i] for i in (0, 1, 2, 4, 5, 6)), f"{cmd} moved {key}: {was} → {now}"
                assert now[3] >= was[3] and now[7] >= was[7], f"{cmd} lowered {key}'s interest"
            else:
                assert now == was, f"{cmd} changed the uninvolved margin account {key}: {was} → {now}"
        for ev in events:
            if isinstance(ev, SpotLiquidated) and ev.step == "done":
                assert after[(ev.account, ev.symbol)] == (D(0),) * 8, f"a closed account kept something: {ev}"

    def check_loans(self, cmd: Command, after: dict[tuple[int, str], tuple[Decimal, ...]]) -> None:
        """The engine's loans are the model's; after AccrueInterest every loan is charged through its hour."""
        for (a, symbol, asset), loan in self.loans.items():
            at = 0 if asset == PAIRS[symbol].base else 4
            owed = after[(a, symbol)][at + 2 : at + 4]
            assert owed == (loan.principal, loan.interest), (a, symbol, asset, owed, loan)
            if isinstance(cmd, AccrueInterest) and loan.principal > 0:
                assert loan.paid_to == floor_hour(cmd.ts), f"{a} {symbol} {asset}: charged to {loan.paid_to}"

    def check_alive(self, cmd: Command, events: list[Event]) -> None:
        """Liveness: after a mark no account on its pair, after an accrual no account it charged, is left at or
        beyond its liquidation threshold while it owes something (binance: the margin level recomputed here from
        the balances and the mark; okx: the engine's level)."""
        e = self.engine
        if isinstance(cmd, SetMarkPrice):
            measured = {(a, cmd.symbol) for a in ACCOUNTS}
        elif isinstance(cmd, AccrueInterest):
            measured = {(ev.account, ev.symbol) for ev in events if isinstance(ev, InterestCharged)}
        else:
            return
        for a in ACCOUNTS:
            for symbol in spot_queries.margin_accounts(e, a):
                if (a, symbol) not in measured:
                    continue
                view = spot_queries.margin_account(e, a, symbol)
                assert view is not None
                rows = view["assets"]
                owes = sum(rows[x]["borrowed"] + rows[x]["interest"] for x in rows)
                if owes == 0:
                    continue
                price = {PAIRS[symbol].base: Fraction(self.marks[symbol]), QUOTE: Fraction(1)}
                if PAIRS[symbol].venue == "binance":
                    assets = sum(Fraction(rows[x]["total"]) * price[x] for x in rows)
                    owed = sum(Fraction(rows[x]["borrowed"] + rows[x]["interest"]) * price[x] for x in rows)
                    assert assets > BINANCE_LIQUIDATION * owed, f"{a} {symbol} left at level {assets / owed}"
                else:
                    assert view["level"] != "liquidate", f"{a} {symbol} left liquidatable: {view}"

    # ------------------------------------------------------------------ set-up
    @initialize()
    def open_venue(self) -> None:
        cmds: list[Command] = [ListSpotPair(p.symbol, venue=p.venue) for p in PAIRS.values()]
        cmds += [FundInsurance(QUOTE, D(1_000_000)), FundInsurance("BTC", D(20)), FundInsurance("ETH", D(500))]
        for a, usdt, btc, eth in FUNDING:
            cmds += [CreateAccount(a), Deposit(a, QUOTE, D(usdt)), Deposit(a, "BTC", D(btc)), Deposit(a, "ETH", D(eth))]
        cmds += [SetMarkPrice(p.symbol, p.mark) for p in PAIRS.values()]
        for cmd in cmds:
            events = self.do(cmd)
            assert not refused(events), events
        for p in PAIRS.values():  # 5 quotes both sides from its wallet, 1 % and 2 % around the mark
            for k in (1, 2):
                self.make_market(p.symbol, k * 5, 40)
        # collateral in isolated margin accounts: (account, pair, asset, amount)
        for a, symbol, asset, amount in ((1, "BTC-USDT", QUOTE, 5000), (1, "ETH-USDT", QUOTE, 5000),
                                         (2, "BTC-USDT", "BTC", "0.3"), (2, "ETH-USDT", "ETH", 5),
                                         (2, "ETH-USDT", QUOTE, 2000), (3, "BTC-USDT", QUOTE, 2000),
                                         (4, "ETH-USDT", QUOTE, 2_000_000),
                                         (4, "BTC-USDT", QUOTE, 500_000)):  # fmt: skip
            events = self.do(MarginTransfer(a, symbol, asset, D(amount)))
            assert not refused(events), events

    # ------------------------------------------------------------------ helpers for the rules
    def price(self, p: Pair, offset: int) -> Decimal:
        """The mark moved by `offset` × 0.2 %, on the tick grid."""
        raw = self.marks[p.symbol] * (1 + D(offset) * D("0.002"))
        return max(p.tick, (raw / p.tick).to_integral_value() * p.tick)

    def view(self, account: int, symbol: str) -> dict[str, Any] | None:
        return spot_queries.margin_account(self.engine, account, symbol)

    def values(self, view: dict[str, Any]) -> tuple[Fraction, Fraction]:
        """(asset value, liability value incl. interest) in quote at the mark, from the query's balances."""
        symbol = view["symbol"]
        rows = view["assets"]
        price = {PAIRS[symbol].base: Fraction(self.marks[symbol]), QUOTE: Fraction(1)}
        assets = sum((Fraction(rows[x]["total"]) * price[x] for x in rows), Fraction(0))
        owed = sum((Fraction(rows[x]["borrowed"] + rows[x]["interest"]) * price[x] for x in rows), Fraction(0))
        return assets, owed

    def borrowable(self, view: dict[str, Any], asset: str) -> Decimal:
        """What may be borrowed: the query's figure, and on OKX at most what keeps the liability within the
        leverage of the tier it lands in (L + x ≤ leverage × net assets, net assets unchanged by the loan; 1 %
        kept back for the first hour's interest) — recomputed here from the venue's published tiers."""
        most = cents_down(view["assets"][asset]["max_borrowable"])
        symbol = view["symbol"]
        p = PAIRS[symbol]
        if p.venue != "okx":
            return most
        assets, owed = self.values(view)
        px = Fraction(self.marks[symbol]) if asset == p.base else Fraction(1)
        row = view["assets"][asset]
        mine = Fraction(row["borrowed"] + row["interest"])
        best, floor = Fraction(0), Fraction(0)
        for tier in spot_pair(p.venue, symbol).tiers[asset]:
            cap = None if tier.max_liability is None else Fraction(tier.max_liability)
            top = (tier.max_leverage * (assets - owed) - owed) / px
            if cap is not None:
                top = min(top, cap - mine)
            if top > max(floor - mine, Fraction(0)):
                best = max(best, top)
            floor = cap if cap is not None else floor
        return min(most, cents_down(D(best.numerator) / D(best.denominator) * D("0.99")))

    def place(self, account: int, p: Pair, side: OrderSide, kind: OrderType, qty: Decimal, price: Decimal | None,
              tif: TimeInForce, isolated: bool, effect: SideEffect) -> list[Event]:  # fmt: skip
        self.client_ids += 1
        cid = f"s{self.client_ids}"
        return self.do(lambda ts: PlaceSpotOrder(account, p.symbol, side, kind, qty, price, tif, isolated, effect,
                                                 cid, ts=ts))  # fmt: skip

    # ------------------------------------------------------------------ rules
    @rule(account=accounts, asset=st.sampled_from(ASSETS), amount=st.integers(1, 5000))
    def deposit(self, account: int, asset: str, amount: int) -> None:
        scale = {"USDT": D(1), "BTC": D("0.0001"), "ETH": D("0.001")}[asset]
        self.do(lambda ts: Deposit(account, asset, amount * scale, ts=ts))

    @rule(account=accounts, asset=st.sampled_from(ASSETS), pct=percents)
    def withdraw(self, account: int, asset: str, pct: int) -> None:
        free = queries.available(self.engine, account, asset)
        amount = cents_down(free * pct / 100)
        if amount > 0:
            events = self.do(lambda ts: Withdraw(account, asset, amount, ts=ts))
            assert not refused(events), events  # what is available may leave

    @rule(account=accounts, symbol=pairs, base=st.booleans(), pct=percents)
    def transfer_in(self, account: int, symbol: str, base: bool, pct: int) -> None:
        asset = PAIRS[symbol].base if base else QUOTE
        amount = cents_down(queries.available(self.engine, account, asset) * pct / 100)
        if amount > 0:
            events = self.do(lambda ts: MarginTransfer(account, symbol, asset, amount, ts=ts))
            assert not refused(events), events

    @rule(account=accounts, symbol=pairs, base=st.booleans(), how=st.sampled_from(["max", "half", "beyond"]))
    def transfer_out(self, account: int, symbol: str, base: bool, how: str) -> None:
        asset = PAIRS[symbol].base if base else QUOTE
        view = self.view(account, symbol)
        most = D(0) if view is None else cents_down(view["assets"][asset]["max_transferable"])
        amount = {"max": most, "half": cents_down(most / 2), "beyond": most + CENT}[how]
        if amount <= 0:
            return
        events = self.do(lambda ts: MarginTransfer(account, symbol, asset, -amount, ts=ts))
        rejected = refused(events)
        if how != "beyond":
            assert not rejected, f"{amount} is within the {most} {asset} the query says may leave: {events}"
        elif rejected:
            assert code_of(events) in (Code.INSUFFICIENT_BALANCE, Code.TRANSFER_OUT_LIMITED), events
        if rejected or view is None:
            return
        after = self.view(account, symbol)
        assert after is not None
        rows = after["assets"]
        price = {PAIRS[symbol].base: Fraction(self.marks[symbol]), QUOTE: Fraction(1)}
        assets = sum(Fraction(rows[x]["total"]) * price[x] for x in rows)
        owed = sum(Fraction(rows[x]["borrowed"] + rows[x]["interest"]) * price[x] for x in rows)
        if owed > 0 and PAIRS[symbol].venue == "binance":  # what may leave keeps the transfer-out level
            assert assets >= BINANCE_TRANSFER_OUT * owed, f"transfer out left level {assets / owed}"

    @rule(account=accounts, symbol=pairs, base=st.booleans(), how=st.sampled_from([1, 10, 50, 100, 100, 0]))
    def borrow(self, account: int, symbol: str, base: bool, how: int) -> None:
        """`how` % of the most the query says may be borrowed; 0: one cent beyond it."""
        asset = PAIRS[symbol].base if base else QUOTE
        view = self.view(account, symbol)
        if view is None:
            return
        most = self.borrowable(view, asset)
        amount = cents_down(view["assets"][asset]["max_borrowable"]) + CENT if how == 0 else cents_down(
            most * how / 100)  # fmt: skip
        if amount <= 0:
            return
        events = self.do(lambda ts: Borrow(account, symbol, asset, amount, ts=ts))
        if how:
            assert not refused(events), f"{amount} ≤ max borrowable {most}: {events}"
        else:
            assert code_of(events) is Code.ABOVE_MAX_BORROWABLE, events
            return
        after = self.view(account, symbol)
        assert after is not None
        caught_up = any(isinstance(ev, InterestCharged) for ev in events)  # hours due, charged before the loan
        if PAIRS[symbol].venue == "binance" and not caught_up:  # a borrow never leaves the account in a margin call
            rows = after["assets"]
            price = {PAIRS[symbol].base: Fraction(self.marks[symbol]), QUOTE: Fraction(1)}
            assets = sum(Fraction(rows[x]["total"]) * price[x] for x in rows)
            owed = sum(Fraction(rows[x]["borrowed"] + rows[x]["interest"]) * price[x] for x in rows)
            assert assets > BINANCE_CALL * owed, f"a borrow left margin level {assets / owed}"

    @rule(account=accounts, symbol=pairs, base=st.booleans(), how=st.sampled_from(["all", "half", "beyond"]),
          owing=st.integers(0, 3))  # fmt: skip
    def repay(self, account: int, symbol: str, base: bool, how: str, owing: int) -> None:
        """Mostly (`owing` ≠ 0) repay a loan the model knows is outstanding, else whatever is drawn."""
        asset = PAIRS[symbol].base if base else QUOTE
        debts = sorted(k for k, loan in self.loans.items() if loan.principal + loan.interest > 0)
        if owing and debts:
            account, symbol, asset = debts[(account + owing) % len(debts)]
        loan = self.loans.get((account, symbol, asset))
        view = self.view(account, symbol)
        if loan is None or view is None or loan.principal + loan.interest == 0:
            events = self.do(lambda ts: Repay(account, symbol, asset, None, ts=ts))
            assert code_of(events) is Code.NOTHING_TO_REPAY, events
            return
        free = view["assets"][asset]["free"]
        ts = self.ts + 1
        due = D(0)  # the whole hours this repay charges first, by the model's clock
        if loan.principal > 0 and loan.paid_to is not None:
            hours = (floor_hour(ts) - loan.paid_to) // HOUR
            due = hours * hourly(loan.principal, self.rates[(symbol, asset)])
        owed = loan.principal + loan.interest + due
        beyond = (owed + QUANTUM).quantize(CENT, rounding=ROUND_CEILING)  # the least 8-decimal amount above it
        amount = {"all": None, "half": cents_down(min(free, owed) / 2), "beyond": beyond}[how]
        if amount == 0:
            return
        events = self.do(lambda ts: Repay(account, symbol, asset, amount, ts=ts))
        if how == "beyond":
            assert code_of(events) is Code.REPAY_EXCEEDS_DEBT, events
        elif how == "all" and free >= owed:  # everything owed, interest charged now included, goes
            assert not refused(events), events
            assert loan.principal == loan.interest == 0, loan

    @rule(
        account=accounts, symbol=pairs, side=sides, market=st.sampled_from([False, False, False, True]),
        units=st.one_of(st.integers(1, 40), st.integers(100, 400)), offset=st.integers(-10, 10),
        tif=st.sampled_from([TimeInForce.GTC] * 4 + list(TimeInForce)), isolated=st.booleans(),
        effect=st.sampled_from(list(SideEffect)),
    )  # fmt: skip
    def place_order(self, account: int, symbol: str, side: OrderSide, market: bool, units: int, offset: int,
                    tif: TimeInForce, isolated: bool, effect: SideEffect) -> None:  # fmt: skip
        p = PAIRS[symbol]
        if not isolated:
            effect = SideEffect.NO_SIDE_EFFECT
        if market and tif is TimeInForce.GTX:
            tif = TimeInForce.GTC
        price = None if market else self.price(p, offset)
        self.place(account, p, side, OrderType.MARKET if market else OrderType.LIMIT, p.unit * units, price, tif,
                   isolated, effect)  # fmt: skip

    @rule(account=accounts, symbol=pairs, long=st.booleans(), pct=st.sampled_from([30, 60, 90, 100]),
          market=st.booleans())  # fmt: skip
    def leverage_up(self, account: int, symbol: str, long: bool, pct: int, market: bool) -> None:
        """A MARGIN_BUY order as large as `pct` % of what the account could borrow allows: a long buys base with
        borrowed quote, a short sells borrowed base (market, or a limit 0.4 % through the mark)."""
        p = PAIRS[symbol]
        view = self.view(account, symbol)
        if view is None:
            return
        rows, mark = view["assets"], self.marks[symbol]
        if long:
            spend = rows[QUOTE]["free"] + self.borrowable(view, QUOTE) * pct / 100
            qty = spend / (mark * D("1.06"))  # within the 5 % band a market buy locks at
        else:
            qty = rows[p.base]["free"] + self.borrowable(view, p.base) * pct / 100
        qty = (qty / p.unit * 50).to_integral_value(ROUND_DOWN) * p.unit / 50  # on the step grid
        if qty <= 0:
            return
        side = OrderSide.BUY if long else OrderSide.SELL
        price = None if market else self.price(p, 2 if long else -2)
        self.place(account, p, side, OrderType.MARKET if market else OrderType.LIMIT, qty, price, TimeInForce.GTC,
                   True, SideEffect.MARGIN_BUY)  # fmt: skip

    @rule(pick=st.integers(0, 50), pct=st.sampled_from([25, 50, 100]), market=st.booleans(),
          effect=st.sampled_from([SideEffect.AUTO_REPAY, SideEffect.AUTO_BORROW_REPAY]))  # fmt: skip
    def unwind(self, pick: int, pct: int, market: bool, effect: SideEffect) -> None:
        """An indebted account trades back with an auto-repay order: what owes quote sells its base, what owes
        base buys it back with its quote; each fill repays the asset received, interest first."""
        owing = sorted(k for k, loan in self.loans.items() if loan.principal + loan.interest > 0)
        if not owing:
            return
        account, symbol, asset = owing[pick % len(owing)]
        view = self.view(account, symbol)
        assert view is not None
        p = PAIRS[symbol]
        rows, mark = view["assets"], self.marks[symbol]
        if asset == QUOTE:  # a long: sell base for quote
            side, qty = OrderSide.SELL, rows[p.base]["free"] * pct / 100
        else:  # a short: buy base back
            side, qty = OrderSide.BUY, rows[QUOTE]["free"] * pct / 100 / (mark * D("1.06"))
        qty = (qty / p.unit * 50).to_integral_value(ROUND_DOWN) * p.unit / 50
        if qty <= 0:
            return
        price = None if market else self.price(p, -2 if side is OrderSide.SELL else 2)
        self.place(account, p, side, OrderType.MARKET if market else OrderType.LIMIT, qty, price, TimeInForce.IOC,
                   True, effect)  # fmt: skip

    @rule(symbol=pairs, spread=st.integers(1, 15), units=st.integers(5, 200))
    def make_market(self, symbol: str, spread: int, units: int) -> None:
        """5 quotes a bid and an ask `spread` × 0.2 % around the mark from its wallet."""
        p = PAIRS[symbol]
        for side, away in ((OrderSide.SELL, spread), (OrderSide.BUY, -spread)):
            self.place(5, p, side, OrderType.LIMIT, p.unit * units, self.price(p, away), TimeInForce.GTC, False,
                       SideEffect.NO_SIDE_EFFECT)  # fmt: skip

    @rule(account=accounts, pick=st.integers(0, 50), by_client=st.booleans())
    def cancel(self, account: int, pick: int, by_client: bool) -> None:
        orders = spot_queries.spot_orders(self.engine, account)
        if not orders:
            return
        o = orders[pick % len(orders)]
        ref = {"client_order_id": o["client_order_id"]} if by_client else {"order_id": o["order_id"]}
        events = self.do(lambda ts: CancelSpotOrder(account, o["symbol"], ts=ts, **ref))
        assert not refused(events), events
        assert spot_queries.spot_order(self.engine, o["order_id"]) is None

    @rule(symbol=pairs, move=st.sampled_from([-60, -35, -20, -8, -3, -1, 0, 1, 3, 8, 20, 35, 60, 150]),
          wiggle=st.integers(-99, 99))  # fmt: skip
    def mark(self, symbol: str, move: int, wiggle: int) -> None:
        """Marks drift, crash and spike (percent), each time off the round number."""
        p = PAIRS[symbol]
        raw = self.marks[symbol] * (1 + D(move) / 100 + D(wiggle) / 10_000)
        mark = max(D("0.01"), raw.quantize(D("0.01")))
        events = self.do(lambda ts: SetMarkPrice(p.symbol, mark, ts=ts))
        assert not refused(events), events
        self.marks[symbol] = mark

    def threshold(self, view: dict[str, Any]) -> tuple[Fraction, bool] | None:
        """(the mark at which the account reaches its liquidation threshold, whether it is long), solved here
        from its balances — binance: margin level (hb p + hq) / (ob p + oq) = 1.05; okx: maintenance ratio
        (assets − liabilities) / (liability × (mmr + (1 + mmr) × taker)) = 1, mmr from the published tier of
        the liability (bounds inclusive) — for an account owing one asset only; None if no such mark exists."""
        p = PAIRS[view["symbol"]]
        rows = view["assets"]
        hb, hq = Fraction(rows[p.base]["total"]), Fraction(rows[QUOTE]["total"])
        ob = Fraction(rows[p.base]["borrowed"] + rows[p.base]["interest"])
        oq = Fraction(rows[QUOTE]["borrowed"] + rows[QUOTE]["interest"])
        if (ob > 0) == (oq > 0):
            return None
        spec = spot_pair(p.venue, p.symbol)
        if p.venue == "binance":
            k = BINANCE_LIQUIDATION
        else:
            asset, owed = (QUOTE, oq) if oq > 0 else (p.base, ob)
            tiers = spec.tiers[asset]  # (interest can take a liability past the last tier: that tier's rate)
            tier = next((t for t in tiers if t.max_liability is None or owed <= t.max_liability), tiers[-1])
            mmr = Fraction(tier.mmr)
            k = 1 + mmr + (1 + mmr) * Fraction(spec.taker_fee)
        if oq > 0:  # long: (hb p + hq) = k oq
            return ((k * oq - hq) / hb, True) if hb > 0 and k * oq > hq else None
        return (hq / (k * ob - hb), False) if k * ob > hb and hq > 0 else None  # short: hb p + hq = k ob p

    @rule(symbol=pairs, pick=st.integers(0, 50))
    def squeeze(self, symbol: str, pick: int) -> None:
        """Take one indebted account's pair to the mark where it reaches its liquidation threshold (solved here):
        0.2 % on the safe side (rounded away from it to the cent) it is not liquidated, 0.2 % beyond it is (at
        very low marks a cent may be more than 0.2 %: then the exact comparison decides) — unless another
        account's liquidation at that mark fills one of its resting orders first (a stale limit can cascade). A mark
        charges the hours already due before it measures, so they are charged first (through the two marks'
        timestamps), and the threshold is solved on what is then owed."""
        self.do(lambda ts: AccrueInterest(ts=ts + 2))
        candidates = []
        for a in ACCOUNTS:
            view = self.view(a, symbol) if queries.account_exists(self.engine, a) else None
            found = None if view is None else self.threshold(view)
            if found is not None:
                candidates.append((a, *found))
        if not candidates:
            return
        account, at, long = candidates[pick % len(candidates)]
        up, down = at * Fraction("1.002"), at * Fraction("0.998")
        for mark in (up, down) if long else (down, up):  # the safe side first
            cents = (
                -(-mark.numerator * 100 // mark.denominator) if mark > at else mark.numerator * 100 // mark.denominator
            )
            price = D(cents).scaleb(-2)  # on the grid, rounded away from the threshold
            liquidates = price <= at if long else price >= at
            if not D("0.01") <= price < D(10**11):
                return
            events = self.do(SetMarkPrice(symbol, price))
            assert not refused(events), events
            self.marks[symbol] = price
            first = next((ev for ev in events if _concerns(ev, account)), None)
            if isinstance(first, SpotTrade):
                return  # another account's liquidation filled its resting order first: the mark alone did not decide
            hit = isinstance(first, SpotMarginCall | SpotLiquidated)
            assert hit is liquidates, f"account {account} at mark {price} (threshold {float(at)}): {events}"

    @rule(minutes=st.integers(1, 300), seconds=st.integers(0, 59))
    def accrue(self, minutes: int, seconds: int) -> None:
        """Time moves on (across zero or more hour boundaries, never exactly on one) and interest is charged."""
        self.do(lambda ts: AccrueInterest(ts=ts), advance=minutes * 60_000 + seconds * 1000 + 7)

    @rule(minutes=st.integers(1, 180))
    def wait(self, minutes: int) -> None:
        """Time passes without an accrual: the next loan command charges the hours due itself."""
        self.ts += minutes * 60_000 + 13

    @rule(symbol=pairs, base=st.booleans(),
          rate=st.sampled_from([D(0), D("0.00024"), D("0.0001234"), D("0.001"), D("0.01"), D("0.1")]))  # fmt: skip
    def set_rate(self, symbol: str, base: bool, rate: Decimal) -> None:
        asset = PAIRS[symbol].base if base else QUOTE
        events = self.do(lambda ts: SetBorrowRate(symbol, asset, rate, ts=ts))
        assert not refused(events), events

    @precondition(lambda self: len(self.commands) % 4 == 0)
    @rule()
    def snapshot_and_restore(self) -> None:
        """Mid-stream the state round-trips through a snapshot; the stream goes on against the restored engine
        (the replay at the end then also checks that a restored engine behaves as the original would have)."""
        restored = restore(snapshot(self.engine), debug=True)
        assert state_hash(restored) == state_hash(self.engine)
        self.engine = restored
        self.stats["restores"] += 1

    # ------------------------------------------------------------------ determinism
    def teardown(self) -> None:
        if not self.commands:
            return
        fresh = Engine()
        events = [[ev.to_dict() for ev in fresh.apply(c)] for c in self.commands]
        assert events == self.events, "replaying the command list gave different events"
        assert state_hash(fresh) == state_hash(self.engine)


TestSpotMarginStateful = SpotMarginMachine.TestCase  # examples and steps: the Hypothesis profile (tests/conftest.py)
