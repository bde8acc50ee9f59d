"""The engine: one deterministic state machine. `apply(command)` returns the events it caused.

Each command runs in two phases. Its check decides, changing nothing, whether it is acceptable (a refusal is
one `Rejected` event); its commit then carries it out through steps that cannot refuse. An exception during a
commit is a bug: the engine marks itself failed and refuses everything after it (fail-stop), so no caller can
acknowledge a half-changed state. Nothing reads a clock or the decimal context; iteration follows the command
stream's order. Components (see docs/engine.md) each own their state; this module wires them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from isomargin.engine import admin, options, options_trading, spot, spot_trading
from isomargin.engine.accounts import Accounts
from isomargin.engine.amend import Amendments
from isomargin.engine.audit import audit
from isomargin.engine.backstop import Backstop
from isomargin.engine.codes import Code
from isomargin.engine.commands import AmendOrder, CancelAllOrders, CancelOrder, Command, PlaceOrder, SetMarkPrice
from isomargin.engine.context import Context
from isomargin.engine.errors import EngineFailed, Reject
from isomargin.engine.events import Envelope, Event, Posted, Rejected
from isomargin.engine.funding import Funding
from isomargin.engine.health import Health
from isomargin.engine.ledger import Ledger
from isomargin.engine.liquidation import Liquidation
from isomargin.engine.options import Options
from isomargin.engine.options_liquidation import OptionLiquidation
from isomargin.engine.options_trading import OptionTrading
from isomargin.engine.orders import Orders
from isomargin.engine.positions import Positions
from isomargin.engine.risk import Risk
from isomargin.engine.spot import Spot
from isomargin.engine.spot_liquidation import SpotLiquidation
from isomargin.engine.spot_trading import SpotTrading
from isomargin.engine.state import Market
from isomargin.engine.trading import Trading
from isomargin.venues import SymbolSpec
from isomargin.venues.spot_margin import SpotPairSpec

Handler = tuple[Callable[[Any], Any], Callable[[Any], None]]  # (check: command -> plan, commit: plan -> None)
MAX_TS: Final = 2**63 - 1


class Engine:
    """Commands in, events out. `debug=True` runs the full invariant audit after every command."""

    def __init__(
        self, insurance_per_symbol: bool = False, *, debug: bool = False,
        listings: Iterable[tuple[str, SymbolSpec]] = (), spot_listings: Iterable[SpotPairSpec] = (),
    ) -> None:  # fmt: skip
        self.insurance_per_symbol = insurance_per_symbol
        self.debug = debug
        # Symbol specs beyond the venue profiles' own data, by (venue, symbol): what `ListInstrument` may list
        # besides them (tests, operators listing an instrument before its venue data ships). Not journaled: an
        # engine rebuilt from a journal or snapshot needs the same listings (`restore(..., listings=…)`).
        self.listings: dict[tuple[str, str], SymbolSpec] = {
            (venue.strip().lower(), spec.symbol): spec for venue, spec in listings
        }
        # Spot pair specs beyond the venue data, by (venue, symbol), for `ListSpotPair`; not journaled either.
        self.spot_listings: dict[tuple[str, str], SpotPairSpec] = {(s.venue, s.symbol): s for s in spot_listings}
        self.seq = 0  # commands applied (accepted or not): the sequence number in their events' envelope
        self.failed: str | None = None
        self.ctx = ctx = Context()
        self.ledger = ledger = Ledger()
        self.markets: dict[str, Market] = {}
        self.accounts = accounts = Accounts(ledger)
        self.orders = orders = Orders()
        self.positions = positions = Positions(ledger, accounts, ctx)
        self.risk = risk = Risk(ledger, accounts)
        self.health = health = Health(positions, self.markets)
        self.trading = trading = Trading(ledger, accounts, orders, positions, risk, health, self.markets, ctx)
        self.amendments = Amendments(trading)
        self.backstop = backstop = Backstop(trading, positions, health, accounts, orders, ctx)
        self.liquidation = Liquidation(trading, backstop, positions, health, accounts, orders, self.markets, ctx)
        backstop.liquidation = self.liquidation
        self.funding = Funding(positions, accounts, health, trading, ctx)
        self.spot = Spot(self)
        self.spot_trading = SpotTrading(self)
        self.spot_liquidation = SpotLiquidation(self)
        self.options = Options(self)
        self.option_trading = OptionTrading(self)
        self.option_liquidation = OptionLiquidation(self)
        self.rejected = 0
        self._handlers: dict[type, Handler] = {
            PlaceOrder: (trading.check_place, trading.commit_place),
            CancelOrder: (trading.check_cancel, trading.commit_cancel),
            CancelAllOrders: (trading.check_cancel_all, trading.commit_cancel_all),
            AmendOrder: (self.amendments.check, self.amendments.commit),
            **admin.handlers(self),
            **spot.handlers(self),
            **spot_trading.handlers(self),
            **options.handlers(self),
            **options_trading.handlers(self),
        }
        # A mark names a futures market, a spot pair, an option or an option family (whose index it sets). Spot pairs
        # (BASE-QUOTE) and options (…-EXPIRY-STRIKE-C|P) never clash with futures; a family may (below).
        perp_mark = self._handlers[SetMarkPrice]
        spot_mark: Handler = (self.spot_liquidation.check_mark, self.spot_liquidation.commit_mark)
        pairs = self.spot.pairs
        option_mark: Handler = (self.options.check_mark, self.options.commit_mark)
        owns_option = self.options.owns_mark
        markets = self.markets
        book = self.options

        def check_mark(cmd: SetMarkPrice) -> tuple[Handler, Any, Any]:
            symbol = cmd.symbol
            if type(symbol) is str and symbol in pairs:
                return spot_mark, spot_mark[0](cmd), None
            if type(symbol) is str and symbol in markets:
                # A futures market may share its name with an option family (Binance's BTCUSDT options on the
                # BTCUSDT index): the mark is the market's, and its index (else its mark) the family's index too.
                also = book.check_family_index(cmd) if owns_option(symbol) else None
                return perp_mark, perp_mark[0](cmd), also
            h = option_mark if owns_option(symbol) else perp_mark
            return h, h[0](cmd), None

        def commit_mark(plan: tuple[Handler, Any, Any]) -> None:
            plan[0][1](plan[1])
            if plan[2] is not None:
                book.commit_mark(plan[2], announce=False)

        self._handlers[SetMarkPrice] = (check_mark, commit_mark)

    def apply(self, cmd: Command) -> list[Event]:
        """Carry out one command; the returned events describe every change it made (a rejection: exactly one
        `Rejected` event, and nothing changed). Raises `EngineFailed` once the engine has failed."""
        if self.failed is not None:
            raise EngineFailed(f"the engine stopped after a fault ({self.failed}); rebuild it from the journal")
        self.seq += 1
        ctx = self.ctx
        env = ctx.env = Envelope(self.seq, cmd)
        out: list[Event] = []
        ctx.out = out
        handler = self._handlers.get(type(cmd))
        if handler is None:
            return self._reject(env, Code.UNKNOWN_COMMAND, f"{type(cmd).__name__} is not an engine command")
        if type(cmd.ts) is not int or not (0 <= cmd.ts <= MAX_TS):
            return self._reject(env, Code.BAD_TIMESTAMP, f"ts must be an integer from 0 to 2^63 − 1, got {cmd.ts!r}")
        check, commit = handler
        try:
            plan = check(cmd)
        except Reject as rej:
            return self._reject(env, rej.code, rej.message)
        except Exception as exc:  # a check is pure: whatever it tripped over, nothing has changed yet
            return self._reject(env, Code.INTERNAL_CHECK_ERROR, f"{type(cmd).__name__} could not be checked "
                                f"({type(exc).__name__}: {exc})")  # fmt: skip
        try:
            commit(plan)
            if self.ledger.postings:
                out.append(Posted(env, len(out), self.ledger.take()))
            if self.debug:
                audit(self)
        except BaseException as exc:
            self.failed = f"{type(exc).__name__} in {type(cmd).__name__} #{self.seq}: {exc}"
            raise EngineFailed(self.failed) from exc
        return out

    def _reject(self, env: Envelope, code: Code, message: str) -> list[Event]:
        self.rejected += 1
        self.ledger.postings.clear()  # a check posts nothing; this only keeps a buggy one from leaking rows
        return [Rejected(env, 0, code, message)]

    def stats(self) -> dict[str, Any]:
        """Counters for benchmarks, health endpoints and journal tools: commands applied, rejections, trades,
        accounts, instruments, open orders, open positions, resting orders per market, and the failure if any."""
        return {
            "commands": self.seq,
            "rejected": self.rejected,
            "trades": self.trading.next_trade_id - 1,
            "accounts": len(self.accounts.by_id),
            "instruments": len(self.markets),
            "open_orders": len(self.orders),
            "positions": sum(len(m.positions) for m in self.markets.values()),
            "resting": {s: len(m.book) for s, m in self.markets.items()},
            "spot_pairs": len(self.spot.pairs),
            "spot_orders": len(self.spot_trading.orders),
            "failed": self.failed,
        }
