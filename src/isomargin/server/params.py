"""The edge's one grammar for request values, used by every field of both APIs. Decimals are ASCII digits with at
most one '.', a '-' only where the field is signed, at most 20 digits each side of the point and nothing else (no
exponent, blank, '+', '_', NaN or Infinity): Binance's own `^([0-9]{1,20})(\\.[0-9]{1,20})?$`. Integers, booleans,
enums, symbols and client order ids beside them. Pure functions; a refusal is an ApiError with both APIs' codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, Final, TypeVar
from urllib.parse import unquote

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from isomargin.server.errors import ApiError

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

MAX_INT_DIGITS: Final = 20  # digits before the point (Binance's pattern)
MAX_FRAC_DIGITS: Final = 20  # digits after it
MAX_INTEGER_DIGITS: Final = 20  # an integer parameter (ids, times, limits, leverage): Binance's ^[0-9]{1,20}$
MAX_ENUM_CHARS: Final = 64  # longer than any enum value: refused before any case folding
ECHO_MAX_CHARS: Final = 64  # a refusal quotes at most this much of what it refuses
CLIENT_ID_MAX_CHARS: Final = 36
SYMBOL_MAX_CHARS: Final = 20

CLIENT_ID_RULE: Final = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"  # as Binance spells it in its -1100 message
SYMBOL_RULE: Final = "^[A-Z0-9-_.]{1,20}$"  # Binance's; ASCII lower case is accepted too and upper-cased
INTEGER_RULE: Final = "^[0-9]{1,20}$"
_CLIENT_ID = re.compile(r"[.A-Za-z0-9:/_-]+")
_SYMBOL = re.compile(r"[A-Za-z0-9._-]{1,20}")
_INTEGER = re.compile(r"[0-9]{1,20}")


def echo(value: object) -> str:
    """`value` for an error message: quoted, and cut to ECHO_MAX_CHARS (a 10k-char input gets a short answer)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):  # str() of a huge int is itself refused by Python (and would be long)
        return repr(value) if value.bit_length() < 200 else f"an integer of {value.bit_length()} bits"
    text = value if isinstance(value, str) else type(value).__name__
    if len(text) <= ECHO_MAX_CHARS:
        return repr(text)
    return f"{text[:ECHO_MAX_CHARS]!r}… ({len(text)} chars)"


def clip(text: str) -> str:
    """`text` cut to ECHO_MAX_CHARS, unquoted (for a path or name inside a sentence)."""
    return text if len(text) <= ECHO_MAX_CHARS else f"{text[:ECHO_MAX_CHARS]}…"


# ================================================================ decimals
def decimal_rule(signed: bool = False, int_digits: int = MAX_INT_DIGITS, frac_digits: int = MAX_FRAC_DIGITS) -> str:
    """The rule as a regular expression (the text quoted in refusals and in the OpenAPI schema)."""
    sign = "-?" if signed else ""
    return f"^{sign}([0-9]{{1,{int_digits}}})(\\.[0-9]{{1,{frac_digits}}})?$"


@lru_cache(maxsize=16)
def _decimal_pattern(signed: bool, int_digits: int, frac_digits: int) -> re.Pattern[str]:
    return re.compile(decimal_rule(signed, int_digits, frac_digits)[1:-1])  # fullmatch: no '$'-before-newline


def _bad_number(what: str, value: object, why: str, rule: str) -> ApiError:
    return ApiError(400, "bad_number", f"{what} must be a plain decimal number ({why}), got {echo(value)}", -1100,
                    f"Illegal characters found in parameter '{what}'; legal range is '{rule}'.")  # fmt: skip


def parse_decimal(
    value: object, what: str, *, signed: bool = False, max_int_digits: int = MAX_INT_DIGITS,
    max_frac_digits: int = MAX_FRAC_DIGITS,
) -> Decimal:  # fmt: skip
    """A decimal from a request: a string in the grammar, or a JSON integer within the digit bound. JSON floats
    are refused (they are not exact: 0.1 is not one tenth); so are booleans. Negative zero comes back as zero."""
    rule = decimal_rule(signed, max_int_digits, max_frac_digits)
    if isinstance(value, bool):
        raise _bad_number(what, value, "not a boolean", rule)
    if isinstance(value, int):
        if value < 0 and not signed:
            raise _bad_number(what, value, "no sign", rule)
        if abs(value) >= 10**max_int_digits:
            raise _bad_number(what, value, f"at most {max_int_digits} digits", rule)
        return Decimal(value)
    if isinstance(value, float):
        raise _bad_number(what, value, "send it as a string: a float is not exact", rule)
    if not isinstance(value, str):
        raise _bad_number(what, value, "a string", rule)
    if len(value) > max_int_digits + max_frac_digits + 2 or not _decimal_pattern(
        signed, max_int_digits, max_frac_digits
    ).fullmatch(value):
        why = f"ASCII digits, one optional '.', at most {max_int_digits}.{max_frac_digits} digits"
        raise _bad_number(what, value, f"{'an optional -, ' if signed else ''}{why}, no exponent", rule)
    d = Decimal(value)  # exact: the grammar left nothing Decimal() would read leniently
    return d.copy_abs() if d.is_zero() else d


# ================================================================ integers, booleans, enums
def _bad_parameter(what: str, message: str, binance: int = -1130, binance_msg: str | None = None) -> ApiError:
    return ApiError(400, "bad_parameter", message, binance,
                    binance_msg or f"Data sent for parameter '{what}' is not valid.")  # fmt: skip


def parse_int(value: object, what: str, *, lo: int = 0, hi: int = 10**MAX_INTEGER_DIGITS - 1) -> int:
    """An integer from a request: ASCII digits (at most 20, no sign) or a JSON integer, then within lo..hi."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**MAX_INTEGER_DIGITS:
        n = value  # a JSON integer is held to the same grammar: no sign, at most 20 digits
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        n = int(value)  # ASCII digits only, so int() cannot read anything else into it
    else:
        raise ApiError(400, "bad_number", f"{what} must be an integer (ASCII digits, at most {MAX_INTEGER_DIGITS}), "
                       f"got {echo(value)}", -1100,
                       f"Illegal characters found in parameter '{what}'; legal range is '{INTEGER_RULE}'.")  # fmt: skip
    if not lo <= n <= hi:
        raise _bad_parameter(what, f"{what} must be in {lo}..{hi}, got {echo(n)}")
    return n


def parse_bool(value: object, what: str, *, binance: int = -1130, binance_msg: str | None = None) -> bool:
    """true or false: a JSON boolean, or the word in any ASCII case (Binance's "true", ccxt's "TRUE"); nothing
    else ("1", "yes", "on" are refused rather than guessed)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii():
        word = value.lower()
        if word in ("true", "false"):
            return word == "true"
    raise _bad_parameter(what, f"{what} must be true or false, got {echo(value)}", binance, binance_msg)


def parse_enum(
    value: object, choices: Mapping[str, T], what: str, *, code: str = "bad_parameter", binance: int = -1130,
    binance_msg: str | None = None,
) -> T:  # fmt: skip
    """One of `choices` (keys upper case), matched in any ASCII case. Non-ASCII is refused before folding:
    'ſell'.upper() is 'SELL', and a homoglyph must not become a real side."""
    if isinstance(value, str) and len(value) <= MAX_ENUM_CHARS and value.isascii():
        hit = choices.get(value.upper())
        if hit is not None:
            return hit
    raise ApiError(400, code, f"{what} must be one of {', '.join(choices)}; got {echo(value)}", binance,
                   binance_msg or f"Data sent for parameter '{what}' is not valid.")  # fmt: skip


def enum_choices(enum: type[E], extra: Mapping[str, E] | None = None) -> dict[str, E]:
    """The wire table of a str-valued Enum: its values, upper case, plus any aliases."""
    table = {str(m.value).upper(): m for m in enum}
    table.update(extra or {})
    return table


def parse_symbol(value: object, what: str = "symbol") -> str:
    """A market symbol: ASCII letters, digits and ._- (at most 20), upper-cased. Whether it is listed is the
    caller's question."""
    if isinstance(value, str) and _SYMBOL.fullmatch(value):
        return value.upper()
    raise ApiError(400, "bad_symbol", f"{what} must be 1..{SYMBOL_MAX_CHARS} of A-Z 0-9 . _ -, got {echo(value)}",
                   -1100,
                   f"Illegal characters found in parameter '{what}'; legal range is '{SYMBOL_RULE}'.")  # fmt: skip


def parse_client_id(value: object, what: str) -> str:
    """A client order id, Binance's rule on both APIs: 1..36 of A-Z a-z 0-9 . : / _ - (case kept)."""
    if isinstance(value, str) and _CLIENT_ID.fullmatch(value):
        if len(value) <= CLIENT_ID_MAX_CHARS:
            return value
        raise ApiError(400, "bad_client_order_id", f"{what} is longer than {CLIENT_ID_MAX_CHARS} chars "
                       f"({len(value)})", -4015, "Client order id length should not be more than 36 chars")  # fmt: skip
    raise ApiError(400, "bad_client_order_id", f"{what} must be 1..{CLIENT_ID_MAX_CHARS} of A-Z a-z 0-9 . : / _ -, "
                   f"got {echo(value)}", -1100,
                   f"Illegal characters found in parameter '{what}'; legal range is '{CLIENT_ID_RULE}'.")  # fmt: skip


def form_pairs(text: str) -> list[tuple[str, str]]:
    """`urllib.parse.parse_qsl(text, keep_blank_values=True)`, pair for pair (the same '&' split, empty fields
    skipped, a field without '=' read as an empty value, '+' and %-escapes decoded as UTF-8 with replacement),
    with the decoding skipped for the fields that have nothing to decode: most of a signed order's fields."""
    out: list[tuple[str, str]] = []
    for item in text.split("&") if text else ():
        if not item:
            continue
        name, _, value = item.partition("=")
        if "%" in item or "+" in item:
            name, value = unquote(name.replace("+", " ")), unquote(value.replace("+", " "))
        out.append((name, value))
    return out


def reject_duplicates(pairs: Iterable[tuple[str, str]]) -> None:
    """Binance refuses a parameter sent twice (-1101); taking the first or the last would let a proxy and the
    venue read different requests from the same bytes."""
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise ApiError(400, "duplicate_parameter", f"parameter {echo(name)} is sent more than once", -1101,
                           "Duplicate values for a parameter detected.")  # fmt: skip
        seen.add(name)


# ================================================================ pydantic glue (native API models and query params)
@dataclass(frozen=True)
class Grammar:
    """Annotated metadata that makes a pydantic field (or FastAPI parameter) go through one of the parsers above
    instead of pydantic's lax coercion (which reads '1_000', ' 5', 10.0 and True as numbers). A refusal raises
    the parser's ApiError, which FastAPI passes to the app's ApiError handler unchanged."""

    parse: Callable[[Any], Any]
    schema: dict[str, Any] = field(default_factory=dict)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return dict(self.schema)

    def or_none(self) -> Grammar:
        """The same grammar for an optional field: JSON null (or an absent field) is None, not a refusal."""
        parse = self.parse
        return Grammar(lambda v: None if v is None else parse(v), {"anyOf": [self.schema, {"type": "null"}]})


def decimal_field(what: str, *, signed: bool = False, example: str = "1") -> Grammar:
    rule = decimal_rule(signed)
    return Grammar(lambda v: parse_decimal(v, what, signed=signed), {
        "anyOf": [{"type": "string", "pattern": rule}, {"type": "integer"}], "examples": [example],
        "description": f"decimal string matching {rule} (or a JSON integer; JSON floats are refused)",
    })  # fmt: skip


def int_field(what: str, lo: int = 0, hi: int = 10**MAX_INTEGER_DIGITS - 1) -> Grammar:
    return Grammar(lambda v: parse_int(v, what, lo=lo, hi=hi), {"type": "integer", "minimum": lo, "maximum": hi})


def bool_field(what: str) -> Grammar:
    return Grammar(lambda v: parse_bool(v, what), {"type": "boolean"})


def symbol_field(what: str = "symbol") -> Grammar:
    return Grammar(lambda v: parse_symbol(v, what), {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,20}$",
                                                     "examples": ["BTCUSDT"]})  # fmt: skip


def client_id_field(what: str) -> Grammar:
    return Grammar(lambda v: parse_client_id(v, what), {"type": "string", "pattern": "^[.A-Za-z0-9:/_-]{1,36}$"})
