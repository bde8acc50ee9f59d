"""The command codec is exact and versioned: every command class round-trips through canonical bytes."""

from __future__ import annotations

import typing
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isomargin.engine import Command, Deposit, Engine, Rejected
from isomargin.engine.events import Event
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
    assert data["@v"] == 1 and data["@type"] == type(cmd).__name__
    assert all(v is None or type(v) in (str, int, bool) for v in data.values())


def test_canonical_bytes() -> None:
    raw = command_bytes(Deposit(1, "USDT", Decimal("1.50"), ts=7))
    assert raw == b'{"@type":"Deposit","@v":1,"account":1,"amount":"1.50","asset":"USDT","ts":7}'


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (Deposit(1, "USDT", 1.5, ts=1), "codec_not_exact"),  # type: ignore[arg-type]
        (Deposit(1.0, "USDT", Decimal(1), ts=1), "codec_not_exact"),  # type: ignore[arg-type]
        (Deposit(1, "USDT", 1, ts=1), "codec_not_exact"),  # type: ignore[arg-type]  (int in a Decimal field)
        (Command(ts=1), "codec_unknown_type"),
    ],
)
def test_inexact_values_are_refused(cmd: Command, code: str) -> None:
    with pytest.raises(CodecError) as exc:
        encode_command(cmd)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"@v": 2, "@type": "Deposit"}, "codec_version"),
        ({"@v": 1, "@type": "Nope"}, "codec_unknown_type"),
        ({"@v": 1, "@type": "Deposit", "account": 1, "asset": "USDT", "amount": "x"}, "codec_bad_value"),
        (
            {"@v": 1, "@type": "Deposit", "account": 1, "asset": "USDT", "amount": "1", "bogus": 1},
            "codec_unknown_field",
        ),
        ({"@v": 1, "@type": "Deposit", "account": 1}, "codec_bad_record"),
        ({"@v": 1, "@type": "SetMarginMode", "account": 1, "symbol": "X", "mode": "NOPE"}, "codec_bad_value"),
    ],
)
def test_bad_records_are_refused(data: dict[str, Any], code: str) -> None:
    with pytest.raises(CodecError) as exc:
        decode_command(data)
    assert exc.value.code == code


def test_events_round_trip() -> None:
    """Every event a realistic stream produces decodes back to itself (idempotent replies rely on it)."""
    engine = Engine()
    seen: set[str] = set()
    for cmd in seeded_stream(3, 1500):
        events = engine.apply(cmd)
        raw = encode_events(events)
        back = decode_events(raw)
        assert back == events
        assert encode_events(back) == raw
        seen.update(type(e).__name__ for e in events)
    assert {"Trade", "OrderUpdated", "PositionUpdated", "Posted", "Rejected", "FundingPaid"} <= seen
    assert set(seen) <= set(event_classes())


def test_event_decode_refuses_unknown() -> None:
    with pytest.raises(CodecError):
        decode_event({"event": "Nope"})
    ok: Event = decode_event(Rejected("Deposit", "x", "y").to_dict())
    assert ok == Rejected("Deposit", "x", "y")
