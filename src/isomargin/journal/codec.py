"""Exact, versioned codec: engine commands and events ⇄ JSON-able dicts ⇄ canonical bytes.

A command becomes {"@v": 1, "@type": <class name>, "ts": …, <fields>} ("@" keys cannot clash with a field):
decimals as strings (so "1.50" stays "1.50"), enums by value, None/bool/int/str as themselves.
Floats are refused: they are not exact.
Classes are discovered from `isomargin.engine.commands` / `.events`, so new ones need no registration here.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any

from isomargin.engine import commands as _commands
from isomargin.engine import events as _events
from isomargin.engine.commands import Command
from isomargin.engine.events import Event
from isomargin.journal.errors import CodecError

VERSION = 1

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]
_Plan = tuple[type, tuple[tuple[str, Encoder, Decoder], ...]]

_RAW = (str, int, bool)  # JSON-native and exact; float is deliberately absent


def canonical(data: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, fixed separators, ASCII only."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def _classes(module: types.ModuleType, base: type) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, base) and obj is not base and obj.__module__ == module.__name__
    }


@cache
def command_classes() -> dict[str, type[Command]]:
    """Every command class the engine defines, by name."""
    return _classes(_commands, Command)


@cache
def event_classes() -> dict[str, type[Event]]:
    """Every event class the engine defines, by name."""
    return _classes(_events, Event)


def _converters(hint: Any, where: str) -> tuple[Encoder, Decoder]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(inner) == 1:
            return _converters(inner[0], where)
    if origin is tuple:
        args = typing.get_args(hint)
        enc_i, dec_i = _converters(args[0] if args else Any, where)
        return (
            lambda v: None if v is None else [enc_i(x) for x in _expect(v, tuple, where)],
            lambda v: None if v is None else tuple(dec_i(x) for x in v),
        )
    if hint is Decimal:

        def enc_dec(v: Any) -> Any:
            if v is None:
                return None
            return str(_expect(v, Decimal, where))

        def dec_dec(v: Any) -> Any:
            if v is None:
                return None
            try:
                return Decimal(_expect(v, str, where))
            except InvalidOperation:
                raise CodecError("codec_bad_value", f"{where}: {v!r} is not a decimal") from None

        return enc_dec, dec_dec
    if isinstance(hint, type) and issubclass(hint, Enum):
        enum = hint

        def enc_enum(v: Any) -> Any:
            return None if v is None else _expect(v, enum, where).value

        def dec_enum(v: Any) -> Any:
            if v is None:
                return None
            try:
                return enum(v)
            except ValueError:
                raise CodecError("codec_bad_value", f"{where}: {v!r} is not a {enum.__name__}") from None

        return enc_enum, dec_enum

    def enc_raw(v: Any) -> Any:
        if v is None or type(v) in _RAW:
            return v
        raise CodecError("codec_not_exact", f"{where}: {type(v).__name__} {v!r} cannot be journaled exactly")

    return enc_raw, enc_raw


def _expect(v: Any, cls: type, where: str) -> Any:
    if not isinstance(v, cls):
        raise CodecError("codec_not_exact", f"{where}: expected {cls.__name__}, got {type(v).__name__} {v!r}")
    return v


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        plan = _PLANS[cls] = (
            cls,
            tuple((f.name, *_converters(hints[f.name], f"{cls.__name__}.{f.name}")) for f in fields(cls)),
        )
    return plan


def encode_command(cmd: Command) -> dict[str, Any]:
    """The command as a JSON-able dict; raises CodecError if any value is not exactly representable."""
    cls = type(cmd)
    if command_classes().get(cls.__name__) is not cls:
        raise CodecError("codec_unknown_type", f"{cls.__name__} is not an engine command")
    out: dict[str, Any] = {"@v": VERSION, "@type": cls.__name__}
    for name, enc, _ in _plan(cls)[1]:
        out[name] = enc(getattr(cmd, name))
    return out


def decode_command(data: dict[str, Any]) -> Command:
    """The inverse of `encode_command`."""
    if not isinstance(data, dict):
        raise CodecError("codec_bad_record", f"a command is a JSON object, got {type(data).__name__}")
    if data.get("@v") != VERSION:
        raise CodecError("codec_version", f"unsupported command encoding version {data.get('@v')!r}")
    cls = command_classes().get(data.get("@type", ""))
    if cls is None:
        raise CodecError("codec_unknown_type", f"unknown command type {data.get('@type')!r}")
    return typing.cast(Command, _build(cls, data, skip=("@v", "@type")))


def _build(cls: type, data: dict[str, Any], skip: tuple[str, ...]) -> Any:
    _, plan = _plan(cls)
    known = {name for name, _, _ in plan}
    extra = set(data) - known - set(skip)
    if extra:
        raise CodecError("codec_unknown_field", f"{cls.__name__} has no field(s) {', '.join(sorted(extra))}")
    kwargs = {name: dec(data[name]) for name, _, dec in plan if name in data}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise CodecError("codec_bad_record", f"{cls.__name__}: {exc}") from None


def command_bytes(cmd: Command) -> bytes:
    return canonical(encode_command(cmd))


def command_from_bytes(raw: bytes) -> Command:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CodecError("codec_bad_record", "command payload is not JSON") from None
    return decode_command(data)


def encode_events(events: list[Event]) -> bytes:
    """Canonical bytes of a command's events (each `Event.to_dict()`), in order."""
    return canonical([e.to_dict() for e in events])


def decode_event(data: dict[str, Any]) -> Event:
    """The event a `to_dict()` came from."""
    if not isinstance(data, dict):
        raise CodecError("codec_bad_record", f"an event is a JSON object, got {type(data).__name__}")
    cls = event_classes().get(data.get("event", ""))
    if cls is None:
        raise CodecError("codec_unknown_type", f"unknown event type {data.get('event')!r}")
    return typing.cast(Event, _build(cls, data, skip=("event",)))


def decode_events(raw: bytes) -> list[Event]:
    try:
        items = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CodecError("codec_bad_record", "events payload is not JSON") from None
    return [decode_event(item) for item in items]
