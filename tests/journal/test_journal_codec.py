"""The codec is exact and versioned: every command class round-trips through canonical bytes; every event a
realistic stream produces round-trips through the journal's form with its envelope (seq, command) and index."""

from __future__ import annotations

import json
import typing
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isomargin.engine import Code, Command, CreateAccount, Deposit, Engine, Rejected, SetMarginMode
from isomargin.engine.catalog import EVENT_TYPES
from isomargin.engine.events import Envelope, Event
from isomargin.journal import CodecError, command_bytes, command_from_bytes, decode_event, encode_command
from isomargin.journal.codec import command_classes, decode_command, decode_events, encode_events, event_classes
from isomargin.journal.crashchild import seeded_stream


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    if origin is not None and type(None) in typing.get_args(hint):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return st.none() | strategy_for(inner)
    if hint is Decimal:
        return st.decimals(allow_nan=True, allow_infinity=True)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers()
    if hint is str:
        return st.text()
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(list(hint))
    raise AssertionError(f"no strategy for {hint!r}")  # a new field type: teach the codec and this test


def command_strategy(cls: type[Command]) -> st.SearchStrategy[Command]:
    hints = typing.get_type_hints(cls)
    fields = {f: strategy_for(h) for f, h in hints.items()}
    return st.builds(cls, **fields)


ALL_COMMANDS = st.one_of([command_strategy(cls) for cls in command_classes().values()])


def test_every_engine_command_is_covered() -> None:
    import isomargin.engine as engine

    exported = {n for n in engine.__all__ if isinstance(getattr(engine, n), type)}
    commands = {n for n in exported if issubclass(getattr(engine, n), Command) and n != "Command"}
    assert commands <= set(command_classes())
    assert len(command_classes()) >= 14


@given(ALL_COMMANDS)
def test_round_trip_is_exact(cmd: Command) -> None:
    raw = command_bytes(cmd)
    back = command_from_bytes(raw)
    assert type(back) is type(cmd)
    assert repr(back) == repr(cmd)  # repr tells 1.0 from 1.00, -0 from 0 and NaN from NaN
    assert command_bytes(back) == raw  # canonical: same command, same bytes


@given(ALL_COMMANDS)
def test_encoding_is_json_native_and_versioned(cmd: Command) -> None:
    data = encode_command(cmd)
    assert data["@v"] == 2 and data["@type"] == type(cmd).__name__
    assert all(v is None or type(v) in (str, int, bool) for v in data.values())


def test_canonical_bytes() -> None:
    raw = command_bytes(Deposit(1, "USDT", Decimal("1.50"), ts=7))
    assert raw == b'{"@type":"Deposit","@v":2,"account":1,"amount":"1.50","asset":"USDT","ts":7}'
    auto = command_bytes(CreateAccount(ts=8))  # the engine picks the id; the journal keeps the None
    assert auto == b'{"@type":"CreateAccount","@v":2,"account":null,"hedge_mode":false,"ts":8}'
    assert command_from_bytes(auto) == CreateAccount(None, ts=8)


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (Deposit(1, "USDT", 1.5, ts=1), "codec_not_exact"),  # type: ignore[arg-type]
        (Deposit(1.0, "USDT", Decimal(1), ts=1), "codec_not_exact"),  # type: ignore[arg-type]
        (Deposit(1, "USDT", 1, ts=1), "codec_not_exact"),  # type: ignore[arg-type]  # an int in a Decimal field
        (Command(ts=1), "codec_unknown_type"),
        # a plain string where an enum belongs: the engine refuses it, so the journal must not turn it into one
        (SetMarginMode(1, "BTCUSDT", "ISOLATED", ts=1), "codec_not_exact"),  # type: ignore[arg-type]
    ],
)
def test_inexact_values_are_refused(cmd: Command, code: str) -> None:
    with pytest.raises(CodecError) as exc:
        encode_command(cmd)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"@v": 1, "@type": "Deposit"}, "codec_version"),  # format 1 (isomargin <= 0.1)
        ({"@v": 3, "@type": "Deposit"}, "codec_version"),
        ({"@v": 2, "@type": "Nope"}, "codec_unknown_type"),
        ({"@v": 2, "@type": "Deposit", "account": 1, "asset": "USDT", "amount": "x"}, "codec_bad_value"),
        (
            {"@v": 2, "@type": "Deposit", "account": 1, "asset": "USDT", "amount": "1", "bogus": 1},
            "codec_unknown_field",
        ),
        ({"@v": 2, "@type": "Deposit", "account": 1}, "codec_bad_record"),
        ({"@v": 2, "@type": "SetMarginMode", "account": 1, "symbol": "X", "mode": "NOPE"}, "codec_bad_value"),
        (
            {"@v": 2, "@type": "PlaceOrder", "account": 1, "symbol": "X", "side": True, "type": "LIMIT"},
            "codec_bad_value",
        ),
        ({"@v": 2, "@type": "Deposit", "account": 1.0, "asset": "USDT", "amount": "1"}, "codec_not_exact"),
    ],
)
def test_bad_records_are_refused(data: dict[str, Any], code: str) -> None:
    with pytest.raises(CodecError) as exc:
        decode_command(data)
    assert exc.value.code == code


def test_events_round_trip() -> None:
    """Every event a realistic stream produces decodes back to itself (idempotent replies rely on it): the same
    fields, envelope (seq, ts, command) and index, and the same bytes when encoded again."""
    engine = Engine()
    seen: set[str] = set()
    for cmd in seeded_stream(3, 1500):
        events = engine.apply(cmd)
        raw = encode_events(events)
        back = decode_events(raw, engine.seq, cmd)
        assert [e.to_dict() for e in back] == [e.to_dict() for e in events]
        assert [e.index for e in back] == list(range(len(events)))
        assert all(e.env.seq == engine.seq and e.env.command is cmd for e in back)
        assert encode_events(back) == raw
        seen.update(type(e).__name__ for e in events)
    assert {"Trade", "OrderUpdated", "PositionUpdated", "Posted", "Rejected", "FundingPaid"} <= seen
    assert set(seen) <= set(event_classes()) == set(EVENT_TYPES)


def test_event_encoding_is_exact_integers() -> None:
    """A trade is journaled in ticks, lots and quanta (1e-10), and decodes to the same Decimals."""
    engine = Engine()
    for cmd in seeded_stream(3, 400):
        events = engine.apply(cmd)
        trades = [e for e in events if type(e).__name__ == "Trade"]
        if trades:
            break
    trade = trades[0]
    (data,) = [d for d in json.loads(encode_events(events)) if d["@type"] == "Trade"]
    assert data["grid"] == "BTCUSDT|USDT|0.10|0.001"
    assert Decimal(data["ticks"]) * Decimal("0.10") == trade.price  # type: ignore[attr-defined]
    assert Decimal(data["lots"]) * Decimal("0.001") == trade.qty  # type: ignore[attr-defined]
    assert Decimal(data["taker_fee"]).scaleb(-10) == trade.taker_fee  # type: ignore[attr-defined]
    assert all(type(v) in (str, int, bool) or v is None for v in data.values())


def test_event_decode_refuses_unknown_and_inexact() -> None:
    env = Envelope(3, Deposit(1, "USDT", Decimal(1), ts=5))
    with pytest.raises(CodecError) as exc:
        decode_event({"@type": "Nope"}, env, 0)
    assert exc.value.code == "codec_unknown_type"
    with pytest.raises(CodecError) as exc:
        decode_event({"@type": "Rejected", "code": "unknown_account"}, env, 0)  # no message
    assert exc.value.code == "codec_bad_record"
    with pytest.raises(CodecError) as exc:  # a float anywhere in the payload is refused while parsing
        decode_events(b'[{"@type":"MarkPriceUpdated","symbol":"X","mark":60000.5,"index_price":null}]', 3, env.command)
    assert exc.value.code == "codec_not_exact"
    ok: Event = decode_event({"@type": "Rejected", "code": "unknown_account", "message": "y"}, env, 0)
    assert isinstance(ok, Rejected) and ok.code is Code.UNKNOWN_ACCOUNT and ok.message == "y"
    assert ok.env.seq == 3 and ok.command == "Deposit" and ok.account == 1 and ok.env.ts == 5


def test_event_encoding_refuses_floats() -> None:
    from isomargin.engine.events import MarkPriceUpdated
    from isomargin.journal.codec import encode_event

    bad = MarkPriceUpdated(Envelope(1, Deposit(1, "USDT", Decimal(1))), 0, "X", 1.5, Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(CodecError) as exc:
        encode_event(bad)
    assert exc.value.code == "codec_not_exact"
