"""Shared by the number, enum, client-id and OpenAPI attack suites: a real venue on loopback (uvicorn on a thread
of this process, so the engine's state hash can be read between requests), a trader with an isolated long, a
resting order, a resting stop and a counterparty; signed raw requests to both APIs; and `Ledger`, which records
every attack with its answer and fails on a 5xx, an over-long refusal or any change of state.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from isomargin.server.config import VenueConfig
from isomargin.server.keys import sign
from isomargin.server.testing import InProcessVenue, signed

ADMIN = "test-admin"
MAX_ERROR_BODY = 600  # chars: a refusal quotes at most 64 of the input, so no answer should come near this

# ---------------------------------------------------------------------------------------------- hostile values
# Decimal text Binance's ^([0-9]{1,20})(\.[0-9]{1,20})?$ refuses; each would be read by Decimal(str) or float().
BAD_DECIMALS: tuple[str, ...] = (
    "١٢", "۱۲", "１", "１２.５", "²", "1²", "߁", "०.१", "𝟏", "๑", "Ⅻ", "½", "1٫5",  # Unicode digits and friends
    "1_000", "1_0.5", "_1",  # underscores
    "1e3", "1E3", "1e999999", "1e-7", "9e99999999999", "1e+2", "１e3",  # exponents
    "NaN", "nan", "sNaN", "-NaN", "Infinity", "inf", "-Infinity", "+Inf",  # not numbers
    "+1", "-1", "-0", "-0.0", "--1",  # signs (these fields are unsigned)
    " 1", "1 ", "1\n", "\t1", "1 000", "10\u200b", "\u00a01",  # whitespace, visible or not
    ".5", "5.", "1.2.3", "1,5", ".", "-", "e", "0x10", "0b1", "1/2", "0o7", "1j", "١e١",  # shapes
    "1" + "0" * 40, "0." + "0" * 39 + "1", "9" * 21, "1" + "0" * 20 + ".5", "0." + "1" * 21,  # 40 digits
    "0" * 25 + "1",  # leading zeros count as digits
    "x" * 10_000, "1" * 10_000,  # huge inputs: the answer must stay short
)  # fmt: skip
# Integer text refused by ^[0-9]{1,20}$ (ids, times, limits, leverage).
BAD_INTEGERS: tuple[str, ...] = (
    "١٢", "１", "²", "߁", "𝟏", "1_0", "1e3", "1.0", "1.5", "+1", "-1", "-0", " 1", "1 ", "1\n", "0x10", "NaN",
    "Infinity", "1" + "0" * 40, "9" * 21, "x" * 10_000, "true",
)  # fmt: skip
# Enum text: junk, homoglyphs that case-fold into a real value, padding, huge.
BAD_ENUMS: tuple[str, ...] = (
    "JUNK", "", " ", "BUY ", " SELL", "ſell", "ＢＵＹ", "BUY\x00", "LIMIT\n", "🙂", "0", "-1", "null", "X" * 10_000,
    "İSOLATED", "ısolated", "K\u212a",
)  # fmt: skip
BAD_BOOLS: tuple[str, ...] = ("1", "0", "yes", "no", "on", "TRUE ", "ｔｒｕｅ", "truе", "", "tru", "x" * 10_000)


# ---------------------------------------------------------------------------------------------- the venue
@dataclass
class Account:
    account: int
    key: str
    secret: str


@dataclass
class Answer:
    status: int
    body: Any
    text: str


@dataclass
class Env:
    """The running venue and the actors the attacks aim at."""

    venue: InProcessVenue
    trader: Account
    maker: Account
    resting_id: int = 0
    stop_id: int = 0
    attacks: list[tuple[str, str, str, int, str]] = field(default_factory=list)  # (api, where, value, status, code)
    server_errors: int = 0  # answers >= 500 seen by the ledgers
    state_changes: int = 0  # attacks after which the engine's state hash had moved

    @property
    def base(self) -> str:
        return self.venue.base

    # -- raw requests (keep-alive off: a 5xx that drops the connection must not hide the next answer) --------
    def send(self, method: str, target: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", self.venue.port, timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        finally:
            conn.close()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Answer(resp.status, parsed, text)

    def fapi(self, method: str, path: str, pairs: Sequence[tuple[str, str]], auth: str | None = "trade",
             who: Account | None = None, in_body: bool = False, api: str = "fapi") -> Answer:  # fmt: skip
        """A /fapi (or /dapi, `api`) request as Binance clients make it: form parameters, signed over query + body
        when `auth`."""
        who = who or self.trader
        items = list(pairs)
        headers = {"X-MBX-APIKEY": who.key} if auth is not None else {}
        if auth in ("read", "trade"):
            items.append(("timestamp", str(int(time.time() * 1000))))
        text = urlencode(items, quote_via=quote)
        if in_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            query = f"signature={sign(who.secret, text)}" if auth in ("read", "trade") else ""
            return self.send(method, f"/{api}/{path}?{query}", text.encode(), headers)
        if auth in ("read", "trade"):
            text += "&signature=" + sign(who.secret, text)
        return self.send(method, f"/{api}/{path}?{text}", None, headers)

    def native(self, method: str, path: str, query: Sequence[tuple[str, str]] = (), body: Any = None,
               auth: str | None = "signed", who: Account | None = None) -> Answer:  # fmt: skip
        """A native request: JSON body; signed (timestamp + signature in the query) or operator (X-Admin-Key)."""
        who = who or self.trader
        raw = json.dumps(body, ensure_ascii=False) if body is not None else ""
        items = list(query)
        headers = {"Content-Type": "application/json"}
        if auth == "signed":
            items.append(("timestamp", str(int(time.time() * 1000))))
            text = urlencode(items, quote_via=quote)
            text += "&signature=" + sign(who.secret, text + raw)
            headers["X-MBX-APIKEY"] = who.key
        else:
            text = urlencode(items, quote_via=quote)
            if auth == "admin":
                headers["X-Admin-Key"] = ADMIN
        return self.send(method, f"/api/v1/{path}" + (f"?{text}" if text else ""), raw.encode() or None, headers)

    # -- state ------------------------------------------------------------------------------------------
    def state_hash(self) -> str:
        return self.venue.venue.core.state_hash()

    def seq(self) -> int:
        return int(self.venue.venue.core.seq)

    def api_state(self) -> dict[str, Any]:
        """What the trader and the maker see through the API: balances, positions, open and algo orders."""
        out: dict[str, Any] = {}
        for name, who in (("trader", self.trader), ("maker", self.maker)):
            for path in ("balances", "positions", "orders"):
                status, body = signed(self.base, f"/api/v1/{path}", who.key, who.secret)
                assert status == 200, (path, body)
                if path == "positions":  # mark-dependent figures do not move (no feed), but keep only the book
                    body = [{k: p[k] for k in ("symbol", "size", "isolated_margin", "leverage", "margin_mode")}
                            for p in body]  # fmt: skip
                out[f"{name}:{path}"] = body
        out["insurance"] = self.send("GET", "/api/v1/insurance-fund").body
        return out


def make_env(tmp: Path) -> Iterator[Env]:
    config = VenueConfig(data_dir=tmp / "data", admin_key=ADMIN, market_maker=False, feed=False, rate_limit=0)
    with InProcessVenue(config) as v:
        t, m = v.new_account("100000"), v.new_account("5000000")
        env = Env(v, Account(t["account"], t["apiKey"], t["secret"]), Account(m["account"], m["apiKey"], m["secret"]))
        v.admin("mark-price", {"symbol": "BTCUSDT", "price": "60000"})
        ok = env.native("POST", "orders", body={"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                                "quantity": "0.2", "price": "60000"}, who=env.maker)  # fmt: skip
        assert ok.status == 200, ok.body
        ok = env.native("POST", "orders", body={"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                "quantity": "0.05"})  # fmt: skip
        assert ok.status == 200 and ok.body["status"] == "FILLED", ok.body
        ok = env.native("POST", "orders", body={"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01",
                                                "price": "50000", "client_order_id": "rest-1"})  # fmt: skip
        assert ok.status == 200 and ok.body["status"] == "NEW", ok.body
        env.resting_id = ok.body["order_id"]
        ok = env.native("POST", "orders", body={"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                                                "quantity": "0.01", "stop_price": "50000",
                                                "client_order_id": "stop-1"})  # fmt: skip
        assert ok.status == 200 and ok.body["status"] == "NEW", ok.body
        env.stop_id = ok.body["order_id"]
        yield env
        # the suite's tally, for the closing note (shown with pytest -s)
        print(f"\n[edge {tmp.name}] {len(env.attacks)} attacks, {env.server_errors} answers >= 500, "
              f"{env.state_changes} state changes")  # fmt: skip


class Ledger:
    """Runs attacks against one state: each answer must be a 4xx with a short body of the API's error shape,
    and the engine's state hash must not move; the API's view of the accounts is compared once at the end."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.hash = env.state_hash()
        self.view = env.api_state()
        self.failures: list[str] = []

    def check(self, api: str, where: str, value: str, ans: Answer, codes: Sequence[int | str] | None = None,
              mentions: str | None = None, may_succeed: bool = False, any_body: bool = False) -> None:  # fmt: skip
        """Record one attack. `may_succeed`: a read that may answer 200 (an ignored or valid-looking value); it
        must still not be a 5xx nor change anything. `any_body`: the HTTP parser refuses it before the app (its
        400 is plain text)."""
        code = ans.body.get("code") if isinstance(ans.body, dict) else None
        self.env.attacks.append((api, where, value, ans.status, str(code)))
        shown = value if len(value) <= 40 else value[:40] + f"…({len(value)})"
        problems = []
        if may_succeed and 200 <= ans.status < 300:
            pass
        elif not 400 <= ans.status < 500:
            problems.append(f"HTTP {ans.status}")
        elif len(ans.text) > MAX_ERROR_BODY:
            problems.append(f"{len(ans.text)}-char body")
        key = "message" if api == "native" else "msg"
        if ans.status < 400 or any_body:
            pass
        elif not isinstance(ans.body, dict) or set(ans.body) != {"code", key}:
            problems.append("not an error body")
        elif codes is not None and code not in codes:
            problems.append(f"code {code!r} not in {list(codes)}")
        elif mentions is not None and mentions not in str(ans.body[key]):
            problems.append(f"message does not name {mentions!r}")
        if ans.status >= 500:
            self.env.server_errors += 1
        now = self.env.state_hash()
        if now != self.hash:
            problems.append("STATE CHANGED")
            self.env.state_changes += 1
            self.hash = now
        if problems:
            self.failures.append(f"{api} {where} = {shown!r}: {', '.join(problems)} -> {ans.text[:160]}")

    def finish(self) -> None:
        view = self.env.api_state()
        if view != self.view:
            self.failures.append(f"API view changed: {self.view} -> {view}")
        assert not self.failures, f"{len(self.failures)} failures:\n" + "\n".join(self.failures[:60])


def make_dapi_env(tmp: Path, symbol: str = "BTCUSD_PERP") -> Iterator[Env]:
    """A trader with an isolated 10x BTCUSD_PERP long of 5 contracts, a resting limit and a resting stop of one
    contract each, and a maker on the other side (the native API sizes inverse orders by face value: 100 USD
    a contract)."""
    config = VenueConfig(data_dir=tmp / "data", admin_key=ADMIN, market_maker=False, feed=False, rate_limit=0)
    with InProcessVenue(config) as v:
        t, m = v.new_account("1"), v.new_account("1")
        for who, amount in ((t, "5"), (m, "100")):
            v.admin("deposit", {"account": who["account"], "asset": "BTC", "amount": amount})
        env = Env(v, Account(t["account"], t["apiKey"], t["secret"]), Account(m["account"], m["apiKey"], m["secret"]))
        for setting in (("marginType", "ISOLATED"), ("leverage", "10")):
            path = "v1/marginType" if setting[0] == "marginType" else "v1/leverage"
            assert env.fapi("POST", path, [("symbol", symbol), setting], api="dapi").status == 200
        sell = [("symbol", symbol), ("side", "SELL"), ("type", "LIMIT"), ("quantity", "100"), ("price", "60000"),
                ("timeInForce", "GTC")]  # fmt: skip
        assert env.fapi("POST", "v1/order", sell, who=env.maker, api="dapi").status == 200
        buy = [("symbol", symbol), ("side", "BUY"), ("type", "MARKET"), ("quantity", "5")]
        ans = env.fapi("POST", "v1/order", buy, api="dapi")
        assert ans.status == 200 and ans.body["status"] == "FILLED" and ans.body["executedQty"] == "5", ans.body
        rest = [("symbol", symbol), ("side", "BUY"), ("type", "LIMIT"), ("quantity", "1"), ("price", "50000"),
                ("timeInForce", "GTC"), ("newClientOrderId", "rest-1")]  # fmt: skip
        ans = env.fapi("POST", "v1/order", rest, api="dapi")
        assert ans.status == 200 and ans.body["status"] == "NEW" and ans.body["origQty"] == "1", ans.body
        env.resting_id = ans.body["orderId"]
        stop = [("symbol", symbol), ("side", "SELL"), ("type", "STOP_MARKET"), ("quantity", "1"),
                ("stopPrice", "50000")]  # fmt: skip
        ans = env.fapi("POST", "v1/order", stop, api="dapi")
        assert ans.status == 200, ans.body
        env.stop_id = ans.body["orderId"]
        yield env
