"""The deterministic state machine: commands in, events out, no wall clock and no I/O.

    engine = Engine()
    events = engine.apply(ListInstrument("BTCUSDT", venue="binance"))

Commands are in `isomargin.engine.commands`, events in `isomargin.engine.events`, outcome codes in
`isomargin.engine.codes`, read views in `isomargin.engine.queries`, snapshot/restore/hash in
`isomargin.engine.snapshot`. docs/engine.md says which component owns what.

`BUILD` says which build of the modules below is running: "compiled" when tools/build_engine.py's mypyc build
in `_compiled/` matches the sources on disk (its shims then go first on this package's `__path__`),
else "pure"; `BUILD_DETAIL` says why. ISOMARGIN_PURE=1 forces the .py modules. A build that no longer matches
its sources is never used: the engine runs pure and says so in one line on stderr.
"""

import hashlib as _hashlib
import importlib as _importlib
import importlib.machinery as _machinery
import json as _json
import os as _os
import sys as _sys
from typing import Final as _Final


def _digest(package: str, files: list[str]) -> str:
    """SHA-256 over (relative path, SHA-256 of content) of `files` under the isomargin package directory;
    tools/build_engine.py's `digest` is the same function."""
    h = _hashlib.sha256()
    for rel in files:
        with open(_os.path.join(package, *rel.split("/")), "rb") as f:
            h.update(rel.encode() + b"\0" + _hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def _select_build() -> tuple[str, str]:
    """("compiled" | "pure", why). Puts the build's shims first on __path__ only when the build is current."""
    if _os.environ.get("ISOMARGIN_PURE", "") not in ("", "0"):
        return "pure", "ISOMARGIN_PURE is set"
    here = _os.path.dirname(_os.path.abspath(__file__))
    compiled = _os.path.join(here, "_compiled")
    shims = _os.path.join(compiled, "isomargin", "engine")  # see tools/build_engine.py's SHIMS
    manifest = _os.path.join(compiled, "BUILD.json")
    if not _os.path.isfile(manifest):
        return "pure", "no compiled build"
    problem = None
    try:
        with open(manifest) as f:
            info = _json.load(f)
        suffix = info["ext_suffix"]
        modules = sorted(n[:-3] for n in _os.listdir(here) if n.endswith(".py") and n != "__init__.py")
        if info.get("format") != 1:
            problem = "unknown manifest format"
        elif suffix not in _machinery.EXTENSION_SUFFIXES:
            problem = f"it was built for {suffix}"
        elif info["modules"] != modules:
            problem = "engine modules added or removed since the build"
        elif _digest(_os.path.dirname(here), info["sources"]) != info["digest"]:
            problem = "sources changed since the build"
        elif not all(_os.path.isfile(_os.path.join(shims, m + suffix)) for m in info["compiled"]):
            problem = "incomplete build"
        else:
            _importlib.import_module(__name__ + "._compiled.engine__mypyc")  # loads, or says why not
    except (OSError, ValueError, KeyError, TypeError, ImportError) as exc:
        problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if problem is not None:
        print(
            f"isomargin: not using the compiled engine ({problem}); running the pure-Python engine"
            " (rebuild: make engine)",
            file=_sys.stderr,
        )
        return "pure", f"compiled build not used: {problem}"
    __path__.insert(0, shims)
    return "compiled", f"mypyc build {info['digest'][:12]} in {compiled}"


_BUILD = _select_build()
BUILD: _Final[str] = _BUILD[0]  # "compiled" | "pure"
BUILD_DETAIL: _Final[str] = _BUILD[1]

from isomargin.engine.codes import AlertLevel, Code, LiquidationStep, OrderReason, OrderStatus
from isomargin.engine.commands import (
    STP,
    AdjustMargin,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    Command,
    CreateAccount,
    DeliverInstrument,
    Deposit,
    FundInsurance,
    ListInstrument,
    MarginMode,
    OrderSide,
    OrderType,
    PlaceOrder,
    PositionSide,
    SetLeverage,
    SetMarginMode,
    SetMarketStatus,
    SetMarkPrice,
    SetPositionMode,
    SettleFunding,
    TimeInForce,
    Withdraw,
    WorkingType,
)
from isomargin.engine.engine import Engine
from isomargin.engine.errors import EngineFailed
from isomargin.engine.events import Event, Rejected
from isomargin.engine.snapshot import restore, snapshot, state_hash

__all__ = [
    "BUILD",
    "BUILD_DETAIL",
    "STP",
    "AdjustMargin",
    "AlertLevel",
    "AmendOrder",
    "CancelAllOrders",
    "CancelOrder",
    "Code",
    "Command",
    "CreateAccount",
    "DeliverInstrument",
    "Deposit",
    "Engine",
    "EngineFailed",
    "Event",
    "FundInsurance",
    "LiquidationStep",
    "ListInstrument",
    "MarginMode",
    "OrderReason",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PlaceOrder",
    "PositionSide",
    "Rejected",
    "SetLeverage",
    "SetMarginMode",
    "SetMarkPrice",
    "SetMarketStatus",
    "SetPositionMode",
    "SettleFunding",
    "TimeInForce",
    "Withdraw",
    "WorkingType",
    "restore",
    "snapshot",
    "state_hash",
]
