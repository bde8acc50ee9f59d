"""Price paths: OHLCV bars from CSV (Binance kline or generic layout), Parquet or a DataFrame, validated.

`Bars` holds numpy arrays (ms timestamps, open/high/low/close/volume) plus optional mark-price bars,
a per-bar book-depth multiplier and halt flags (stress episodes); `intrabar` walks one bar as a path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from isomargin.sim.errors import SimError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BINANCE_KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
_TS_NAMES = ("timestamp", "time", "ts", "open_time", "date", "datetime")
_FUNDING_TS = ("timestamp", "time", "ts", "calc_time", "funding_time", "fundingtime")
_FUNDING_RATE = ("funding_rate", "rate", "last_funding_rate", "fundingrate")


@dataclass
class Bars:
    """A validated bar series. `depth` scales the liquidity provider's quotes (1 normal, 0 no book);
    `halt` marks bars during which the venue publishes nothing (the next live bar gaps)."""

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    depth: FloatArray | None = None
    halt: npt.NDArray[np.bool_] | None = None
    mark: Bars | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (index, missing ms) where spacing jumps
    name: str = ""
    notes: list[str] = field(default_factory=list)  # how the input was read, where that was a choice

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def interval_ms(self) -> int:
        if len(self.ts) < 2:
            return 60_000
        return int(np.median(np.diff(self.ts)))

    def slice(self, start: int, stop: int) -> Bars:
        def cut(a: Any) -> Any:
            return None if a is None else a[start:stop]

        mark = self.mark.slice(start, stop) if self.mark is not None else None
        return Bars(
            self.ts[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
            cut(self.depth),
            cut(self.halt),
            mark,
            [],
            self.name,
        )


def make_bars(
    ts: Any,
    open_: Any,
    high: Any,
    low: Any,
    close: Any,
    volume: Any = None,
    *,
    depth: Any = None,
    halt: Any = None,
    name: str = "",
    where: str = "data",
) -> Bars:
    """Build and validate bars from array-likes (timestamps in s, ms or µs: normalised to ms)."""
    t = np.asarray(ts, dtype=np.int64)
    arrays = [np.asarray(a, dtype=np.float64) for a in (open_, high, low, close)]
    vol = np.zeros(len(t)) if volume is None else np.asarray(volume, dtype=np.float64)
    if any(len(a) != len(t) for a in [*arrays, vol]):
        raise SimError("bad_data", f"{where}: columns have different lengths")
    bars = Bars(_to_ms(t), arrays[0], arrays[1], arrays[2], arrays[3], vol, name=name)
    if depth is not None:
        bars.depth = np.asarray(depth, dtype=np.float64)
    if halt is not None:
        bars.halt = np.asarray(halt, dtype=np.bool_)
    validate(bars, where)
    return bars


def _to_ms(t: IntArray) -> IntArray:
    if len(t) == 0:
        return t
    top = int(np.max(np.abs(t)))
    if top >= 10**14:  # microseconds (Binance spot klines since 2025)
        return t // 1000
    if top < 10**11:  # seconds
        return t * 1000
    return t


def validate(bars: Bars, where: str = "data") -> None:
    """Refuse what cannot be a bar series; record (not refuse) gaps in the spacing."""
    n = len(bars)
    if n == 0:
        raise SimError("empty_data", f"{where}: no bars")
    cols = {"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close}
    for label, col in cols.items():
        bad = np.flatnonzero(~np.isfinite(col) | (col <= 0))
        if len(bad):
            raise SimError("bad_price", f"{where}: row {int(bad[0])}: {label} must be a positive number")
    if n > 1:
        d = np.diff(bars.ts)
        dup = np.flatnonzero(d == 0)
        if len(dup):
            raise SimError(
                "duplicate_timestamp", f"{where}: row {int(dup[0]) + 1}: timestamp {int(bars.ts[dup[0]])} repeats"
            )
        back = np.flatnonzero(d < 0)
        if len(back):
            raise SimError("unsorted_timestamps", f"{where}: row {int(back[0]) + 1}: timestamps must increase")
    hl = np.flatnonzero(bars.high < bars.low)
    if len(hl):
        raise SimError("high_below_low", f"{where}: row {int(hl[0])}: high {bars.high[hl[0]]} < low {bars.low[hl[0]]}")
    top = np.maximum(bars.open, bars.close)
    bottom = np.minimum(bars.open, bars.close)
    out = np.flatnonzero((bars.high < top) | (bars.low > bottom))
    if len(out):
        raise SimError("bar_outside_range", f"{where}: row {int(out[0])}: open/close outside [low, high]")
    if n > 2:
        d = np.diff(bars.ts)
        step = int(np.median(d))
        gaps = np.flatnonzero(d > step)
        bars.gaps = [(int(i) + 1, int(d[i] - step)) for i in gaps]


def load(path: str | Path, *, name: str = "") -> Bars:
    """OHLCV from a .csv (Binance kline or generic header layout) or .parquet file."""
    p = Path(path)
    if not p.exists():
        raise SimError("no_such_file", f"{p} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        elif suffix in (".csv", ".txt", ".gz"):
            frame = _read_csv(p)
        else:
            raise SimError("bad_data", f"{p}: expected a .csv or .parquet file")
    except SimError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors: one line, no traceback
        raise SimError(
            "bad_data", f"{p}: cannot read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    return from_dataframe(frame, name=name or p.stem, where=str(p))


def _read_csv(p: Path) -> pd.DataFrame:
    head = pd.read_csv(p, nrows=1, header=None)
    first = str(head.iloc[0, 0]).strip()
    if first.lstrip("-").isdigit() and head.shape[1] >= 6:  # Binance kline files have no header row
        frame = pd.read_csv(p, header=None)
        names = list(BINANCE_KLINE_COLUMNS[: frame.shape[1]]) + [f"c{i}" for i in range(12, frame.shape[1])]
        frame.columns = pd.Index(names)
        return frame
    return pd.read_csv(p)


def from_dataframe(frame: pd.DataFrame, *, name: str = "", where: str = "DataFrame") -> Bars:
    """Bars from a DataFrame with open/high/low/close[/volume] columns and a timestamp column or index
    (integers in s/ms/µs, or datetimes)."""
    cols = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in ("open", "high", "low", "close") if c not in cols]
    if missing:
        raise SimError("bad_data", f"{where}: missing column(s) {', '.join(missing)}")
    ts_col = next((cols[c] for c in _TS_NAMES if c in cols), None)
    notes: list[str] = []
    if ts_col is not None:
        ts_values = frame[ts_col]
    else:
        first = frame.columns[0]
        unnamed = str(first).startswith("Unnamed:") or not str(first).strip()
        index = frame.index
        if unnamed and _dates(frame[first]):
            ts_values = frame[first]
            notes.append(f"{where}: timestamps read from the unnamed first column (dates, as pandas writes an index)")
        elif isinstance(index, pd.DatetimeIndex) or (not isinstance(index, pd.RangeIndex) and _dates(index)):
            ts_values = index.to_series()
        else:
            found = f"an unnamed first column of {'row numbers' if unnamed else 'non-dates'}" if unnamed else "none"
            raise SimError(
                "no_timestamp",
                f"{where}: no timestamp column (one of {', '.join(_TS_NAMES)}; found {found}): "
                "row numbers are not timestamps — name the column, e.g. timestamp",
            )
    ts = _timestamps(ts_values, where)
    try:
        values = [
            pd.to_numeric(frame[cols[c]], errors="raise").to_numpy(np.float64) for c in ("open", "high", "low", "close")
        ]
        vol = pd.to_numeric(frame[cols["volume"]]).to_numpy(np.float64) if "volume" in cols else None
    except (ValueError, TypeError) as exc:
        raise SimError("bad_data", f"{where}: non-numeric price: {exc}") from None
    mark = None
    if "mark_close" in cols:
        mark_cols = [cols.get(f"mark_{c}", cols["mark_close"]) for c in ("open", "high", "low", "close")]
        mvals = [pd.to_numeric(frame[c]).to_numpy(np.float64) for c in mark_cols]
        mark = make_bars(ts, mvals[0], mvals[1], mvals[2], mvals[3], where=f"{where} (mark)")
    bars = make_bars(ts, values[0], values[1], values[2], values[3], vol, name=name, where=where)
    bars.mark = mark
    bars.notes = notes
    return bars


def _dates(values: Any) -> bool:
    """Whether `values` hold dates/datetimes (strings that parse as dates, or datetime dtype), not numbers."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return False
    sample = pd.Series(values[:50])
    try:
        pd.to_datetime(sample, utc=True, errors="raise", format="mixed")
    except (ValueError, TypeError):
        return False
    return True


def _timestamps(values: pd.Series, where: str) -> IntArray:
    if pd.api.types.is_datetime64_any_dtype(values):
        return np.asarray(pd.to_datetime(values, utc=True).astype("int64") // 1_000_000, dtype=np.int64)
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.isna().any():
        try:
            dt = pd.to_datetime(values, utc=True)
        except (ValueError, TypeError):
            raise SimError("bad_timestamp", f"{where}: timestamps must be integers (s/ms/µs) or dates") from None
        return np.asarray(dt.astype("int64") // 1_000_000, dtype=np.int64)
    return np.asarray(numeric.astype("int64"), dtype=np.int64)


@dataclass
class FundingSeries:
    """Funding rates by timestamp (ms); `rate_at(ts)` is the latest rate published at or before ts."""

    ts: IntArray
    rate: FloatArray

    def rate_at(self, ts: int) -> float | None:
        i = int(np.searchsorted(self.ts, ts, side="right")) - 1
        return None if i < 0 else float(self.rate[i])


def load_funding(path: str | Path) -> FundingSeries:
    """A CSV of funding rates: a timestamp column (timestamp/time/calc_time) and a rate column
    (funding_rate/rate/last_funding_rate), e.g. Binance's public fundingRate files."""
    p = Path(path)
    if not p.exists():
        raise SimError("no_such_file", f"{p} does not exist")
    try:
        frame = pd.read_csv(p)
    except Exception as exc:
        raise SimError("bad_data", f"{p}: cannot read: {exc}") from None
    cols = {str(c).strip().lower(): c for c in frame.columns}
    t = next((cols[c] for c in _FUNDING_TS if c in cols), None)
    r = next((cols[c] for c in _FUNDING_RATE if c in cols), None)
    if t is None or r is None:
        raise SimError("bad_data", f"{p}: needs a timestamp column and a funding_rate column")
    ts = _to_ms(_timestamps(frame[t], str(p)))
    rate = pd.to_numeric(frame[r], errors="coerce").to_numpy(np.float64)
    if np.isnan(rate).any() or (np.abs(rate) >= 1).any():
        raise SimError("bad_funding_rate", f"{p}: funding rates must be numbers between −1 and 1")
    if len(ts) > 1 and (np.diff(ts) <= 0).any():
        raise SimError("unsorted_timestamps", f"{p}: funding timestamps must strictly increase")
    return FundingSeries(ts, rate)


def intrabar(o: float, h: float, low: float, c: float) -> tuple[float, float, float, float]:
    """The path a bar is walked along: open → nearer extreme → farther extreme → close.

    The extreme nearer the open is visited first (a tie goes to the low first: the adverse case for the
    more common long); this is the usual convention when the true intrabar order is unknown."""
    if o - low <= h - o:
        return (o, low, h, c)
    return (o, h, low, c)
