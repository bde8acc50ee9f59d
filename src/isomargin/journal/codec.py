"""Exact, versioned codec: engine commands and events ⇄ JSON-able dicts ⇄ canonical bytes (journal format 2).

A command becomes {"@v": 2, "@type": <class name>, "ts": …, <fields>} ("@" keys cannot clash with a field):
decimals as strings (so "1.50" stays "1.50"), enums by value, None/bool/int/str as themselves. An event becomes
{"@type": <class name>, **event.raw()} (integers stay integers; its envelope is the record's seq and command).
Floats are refused both ways: they are not exact. Command classes are discovered from `isomargin.engine.commands`,
event classes come from `isomargin.engine.catalog.EVENT_TYPES`, so new ones need no registration here.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache, lru_cache
from typing import Any, Final, NoReturn

from isomargin.engine import commands as _commands
from isomargin.engine.catalog import EVENT_TYPES
from isomargin.engine.commands import Command
from isomargin.engine.events import Envelope, Event
from isomargin.engine.instruments import Grid
from isomargin.journal.errors import CodecError, JournalCode

VERSION: Final = 2  # the command encoding's "@v"; journal format 2 (see backend.FORMAT_VERSION)

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]
_Plan = tuple[type, tuple[tuple[str, Encoder, Decoder], ...]]

_RAW = (str, int, bool)  # JSON-native and exact; float is deliberately absent


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)

try:  # orjson writes the same bytes 1.3-3x faster (flat commands, nested events); the stdlib is the definition
    import orjson

    _fast: Callable[[Any], bytes] | None = functools.partial(orjson.dumps, option=orjson.OPT_SORT_KEYS)
    _FAST_ERRORS: tuple[type[Exception], ...] = (orjson.JSONEncodeError, TypeError, ValueError)
except ImportError:  # pragma: no cover - a dependency, but the stdlib alone gives the same bytes
    _fast, _FAST_ERRORS = None, ()


def canonical_stdlib(data: Any) -> bytes:
    """Canonical JSON bytes by definition: sorted keys, fixed separators, ASCII only (\\uXXXX escapes)."""
    return _CANONICAL.encode(data).encode()


def canonical(data: Any) -> bytes:
    """Canonical JSON bytes (`canonical_stdlib`'s, byte for byte). orjson's output is used only where it is the
    same: it escapes control characters like the stdlib but writes non-ASCII and DEL (0x7f) raw, and refuses
    integers beyond 64 bits, so such data (and any orjson error) takes the stdlib path. The journal never hands
    it floats (the codec refuses them first), whose spelling would differ."""
    if _fast is not None:
        try:
            out = _fast(data)
        except _FAST_ERRORS:
            return canonical_stdlib(data)
        if out.isascii() and b"\x7f" not in out:
            return out
    return canonical_stdlib(data)


def _no_float(text: str) -> NoReturn:
    raise CodecError(JournalCode.CODEC_NOT_EXACT, f"the number {text} is not exact (floats are never journaled)")


def _loads(raw: bytes | str, what: str) -> Any:
    """JSON that refuses floats, NaN and infinities (the journal only ever writes exact values)."""
    try:
        return json.loads(raw, parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, UnicodeDecodeError):
        raise CodecError(JournalCode.CODEC_BAD_RECORD, f"{what} payload is not JSON") from None
    except RecursionError:
        raise CodecError(JournalCode.CODEC_BAD_RECORD, f"{what} payload is nested too deeply") from None


@cache
def command_classes() -> dict[str, type[Command]]:
    """Every command class the engine defines, by name."""
    return {
        name: obj
        for name, obj in vars(_commands).items()
        if isinstance(obj, type) and issubclass(obj, Command) and obj is not Command
        and obj.__module__ == _commands.__name__
    }  # fmt: skip


def event_classes() -> dict[str, type[Event]]:
    """Every event class the engine defines, by name."""
    return EVENT_TYPES


# ---------------------------------------------------------------------------------------------------- commands
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
            lambda v: None if v is None else tuple(dec_i(x) for x in _expect(v, list, where)),
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
                raise CodecError(JournalCode.CODEC_BAD_VALUE, f"{where}: {v!r} is not a decimal") from None

        return enc_dec, dec_dec
    if isinstance(hint, type) and issubclass(hint, Enum):
        enum = hint
        # Only members: the engine refuses a plain "LIMIT" where an OrderType belongs, so a value that is not a
        # member must not come back from the journal as one. (Such a command is rejected at the edge.)

        def enc_enum(v: Any) -> Any:
            return None if v is None else _expect(v, enum, where).value

        def dec_enum(v: Any) -> Any:
            if v is None:
                return None
            if type(v) is not type(next(iter(enum)).value):  # StrEnum: str; OrderSide: int (never bool or float)
                raise CodecError(JournalCode.CODEC_BAD_VALUE, f"{where}: {v!r} is not a {enum.__name__}")
            try:
                return enum(v)
            except ValueError:
                raise CodecError(JournalCode.CODEC_BAD_VALUE, f"{where}: {v!r} is not a {enum.__name__}") from None

        return enc_enum, dec_enum

    def enc_raw(v: Any) -> Any:
        if v is None or type(v) in _RAW:
            return v
        raise CodecError(JournalCode.CODEC_NOT_EXACT, f"{where}: {type(v).__name__} {v!r} cannot be journaled exactly")

    return enc_raw, enc_raw


def _expect(v: Any, cls: type, where: str) -> Any:
    if not isinstance(v, cls):
        raise CodecError(JournalCode.CODEC_NOT_EXACT, f"{where}: expected {cls.__name__}, got {type(v).__name__} {v!r}")
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
        raise CodecError(JournalCode.CODEC_UNKNOWN_TYPE, f"{cls.__name__} is not an engine command")
    out: dict[str, Any] = {"@v": VERSION, "@type": cls.__name__}
    for name, enc, _ in _plan(cls)[1]:
        out[name] = enc(getattr(cmd, name))
    return out


def decode_command(data: dict[str, Any]) -> Command:
    """The inverse of `encode_command`."""
    if not isinstance(data, dict):
        raise CodecError(JournalCode.CODEC_BAD_RECORD, f"a command is a JSON object, got {type(data).__name__}")
    if data.get("@v") != VERSION:
        raise CodecError(
            JournalCode.CODEC_VERSION, f"command encoding version {data.get('@v')!r}; this build reads {VERSION}"
        )
    cls = command_classes().get(data.get("@type", ""))
    if cls is None:
        raise CodecError(JournalCode.CODEC_UNKNOWN_TYPE, f"unknown command type {data.get('@type')!r}")
    _, plan = _plan(cls)
    extra = set(data) - {name for name, _, _ in plan} - {"@v", "@type"}
    if extra:
        raise CodecError(JournalCode.CODEC_UNKNOWN_FIELD, f"{cls.__name__} has no field(s) {', '.join(sorted(extra))}")
    kwargs = {name: dec(data[name]) for name, _, dec in plan if name in data}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise CodecError(JournalCode.CODEC_BAD_RECORD, f"{cls.__name__}: {exc}") from None


def command_bytes(cmd: Command) -> bytes:
    return canonical(encode_command(cmd))


def command_from_bytes(raw: bytes | str) -> Command:
    return decode_command(_loads(raw, "command"))


# ------------------------------------------------------------------------------------------------------ events
@lru_cache(maxsize=4096)
def grid(spec: str) -> Grid:
    """The instrument grid a journaled event names (memoised: events of one market share one Grid)."""
    try:
        return Grid.parse(spec)
    except (ValueError, ArithmeticError, AttributeError):
        raise CodecError(JournalCode.CODEC_BAD_VALUE, f"{spec!r} is not an instrument grid") from None


_LEAVES = frozenset({str, int, bool, type(None)})


def _check_exact(data: dict[str, Any], where: str) -> None:
    """Refuse anything but str/int/bool/None inside `data`'s dicts and lists (a float in an event would be an
    engine bug). Iterative: one type test per value, a stack entry per container."""
    stack: list[Any] = [data]
    while stack:
        container = stack.pop()
        for v in container.values() if type(container) is dict else container:
            t = type(v)
            if t in _LEAVES:
                continue
            if t is dict or t is list:
                stack.append(v)
            else:
                raise CodecError(
                    JournalCode.CODEC_NOT_EXACT, f"{where}: {t.__name__} {v!r} cannot be journaled exactly"
                )


def encode_event(event: Event) -> dict[str, Any]:
    """{"@type": class name, **event.raw()}: exact and JSON-native."""
    name = type(event).__name__
    if EVENT_TYPES.get(name) is not type(event):
        raise CodecError(JournalCode.CODEC_UNKNOWN_TYPE, f"{name} is not an engine event")
    data = event.raw()
    _check_exact(data, name)
    data["@type"] = name
    return data


def encode_events(events: Sequence[Event]) -> bytes:
    """Canonical bytes of a command's events, in order (what the journal stores beside the command)."""
    return canonical([encode_event(e) for e in events])


def decode_event(data: dict[str, Any], env: Envelope, index: int) -> Event:
    """The event `encode_event` gave `data` for, as the `index`-th event of the command in `env`. Values read back
    exactly (integers, decimal strings, enum values; floats were refused when parsing); `encode_event` of the
    result gives `data` again."""
    if not isinstance(data, dict):
        raise CodecError(JournalCode.CODEC_BAD_RECORD, f"an event is a JSON object, got {type(data).__name__}")
    name = data.get("@type")
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CodecError(JournalCode.CODEC_UNKNOWN_TYPE, f"unknown event type {name!r}")
    try:  # from_raw reads its own fields by name, so "@type" can stay in `data`
        event: Event = getattr(cls, "from_raw")(env, index, data, grid)  # noqa: B009 (not on the Event base)
    except CodecError:
        raise
    except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError) as exc:
        raise CodecError(JournalCode.CODEC_BAD_RECORD, f"{name} #{index}: {type(exc).__name__}: {exc}") from None
    return event


def decode_events(blob: bytes | str, seq: int, command: Command) -> list[Event]:
    """The events journaled for record `seq` (whose command is `command`), each with that envelope and its index."""
    items = _loads(blob, "events")
    if not isinstance(items, list):
        raise CodecError(JournalCode.CODEC_BAD_RECORD, "an events payload is a JSON list")
    env = Envelope(seq, command)
    return [decode_event(item, env, i) for i, item in enumerate(items)]
