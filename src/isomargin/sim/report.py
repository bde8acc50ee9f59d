"""Self-contained HTML reports (Plotly, with plotly.js inline — no CDN) for every kind of result.

Backtest: price with entry, stop and liquidation lines, equity, margin ratio; compare: isolated vs cross
equity side by side; stress: prices, insurance fund, open positions and the liquidation map; Monte Carlo
and sweeps: liquidation-time and loss distributions and the probability table.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from isomargin.sim.results import js, outcome_keys

_CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}h1{font-size:22px}h2{font-size:18px}
.ok{color:#060}.bad{color:#b00}.note{color:#666;font-size:13px}"""


def _time(ts: list[int]) -> list[str]:
    return [datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%d %H:%M") for t in ts]


def _table(rows: list[tuple[Any, Any]] | dict[str, Any], head: tuple[str, ...] | None = None) -> str:
    items = rows.items() if isinstance(rows, dict) else rows
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>")
    for k, v in items:
        cells = v if isinstance(v, list | tuple) else [v]
        out.append(
            f"<tr><td>{html.escape(str(k))}</td>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in cells) + "</tr>"
        )
    out.append("</table>")
    return "".join(out)


def _fmt(v: Any) -> str:
    v = js(v)
    if isinstance(v, float):
        return f"{v:,.6g}"
    if isinstance(v, str):
        try:
            f = float(v)
            return f"{f:,.2f}" if abs(f) >= 1 else f"{f:.6g}"
        except ValueError:
            return v
    return "—" if v is None else str(v)


class _Page:
    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self.figs = 0

    def add(self, text: str) -> None:
        self.parts.append(text)

    def fig(self, fig: go.Figure, height: int = 420) -> None:
        fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 40, "b": 40}, template="plotly_white")
        self.figs += 1
        self.parts.append(fig.to_html(full_html=False, include_plotlyjs=self.figs == 1, div_id=f"fig{self.figs}"))

    def html(self) -> str:
        body = "\n".join(self.parts)
        return (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>{body}</body></html>"
        )


def _price_fig(r: dict[str, Any], title: str) -> go.Figure:
    c = r["curve"]
    t = _time(js(c["ts"]))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=js(c["high"]), line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(
            x=t, y=js(c["low"]), fill="tonexty", line={"width": 0}, name="bar range", fillcolor="rgba(100,120,200,0.15)"
        )
    )
    fig.add_trace(go.Scatter(x=t, y=js(c["close"]), name="close", line={"color": "#345"}))
    seen: set[str] = set()

    def legend(name: str) -> dict[str, Any]:  # one legend entry per line type, however many lines
        first = name not in seen
        seen.add(name)
        return {"name": name, "legendgroup": name, "showlegend": first}

    for p in r["positions"]:
        x0, x1 = _time([p["opened_ts"]])[0], t[-1]
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[_num(p["entry"])] * 2,
                mode="lines",
                **legend(f"entry {p['side']}"),
                line={"dash": "dot", "color": "#2a7"},
            )
        )
        if p["liquidation_price"] is not None:
            fig.add_trace(
                go.Scatter(
                    x=[x0, x1],
                    y=[_num(p["liquidation_price"])] * 2,
                    mode="lines",
                    **legend("liquidation price"),
                    line={"dash": "dash", "color": "#c33"},
                )
            )
    for s in r.get("stops", []):
        fig.add_trace(
            go.Scatter(
                x=[_time([s["ts"]])[0], t[-1]],
                y=[_num(s["stop_price"])] * 2,
                mode="lines",
                **legend(f"{s['type'].lower()}"),
                line={"dash": "dashdot", "color": "#e90"},
            )
        )
    liq = [x for x in r["liquidations"] if x["price"] is not None]
    if liq:
        fig.add_trace(
            go.Scatter(
                x=_time([x["ts"] for x in liq]),
                y=[_num(x["price"]) for x in liq],
                mode="markers",
                name="liquidation fills",
                marker={"color": "#c00", "size": 10, "symbol": "x"},
            )
        )
    fig.update_layout(title=title)
    return fig


def _summary_rows(r: dict[str, Any]) -> list[tuple[str, Any]]:
    keys = (
        "strategy", "product", "symbol", "venue", "asset", "margin_mode", "leverage", "bars", "deposit",
        *outcome_keys(r),
        "deposit_usd", "final_equity_usd", "return_usd", "max_drawdown_usd", "rejections",
    )  # fmt: skip
    return [(k, _pct(r[k]) if k in _PERCENT else r[k]) for k in keys if k in r]


_PERCENT = frozenset({"return", "max_drawdown", "return_usd", "max_drawdown_usd", "worst_loss_fraction_of_margin"})


def _positions_table(r: dict[str, Any]) -> str:
    head = (
        "#",
        "account",
        "symbol",
        "side",
        "mode",
        "lev",
        "allocated",
        "loss",
        "of which fees",
        "margin loss",
        "loss / margin",
        "liquidated",
        "cap ok (margin loss ≤ allocated)",
    )
    rows = [
        (
            i + 1,
            [
                p["account"],
                p["symbol"],
                p["side"],
                p["mode"],
                p["leverage"],
                p["allocated_margin"],
                p["loss"],
                p["fees"],
                p["margin_loss"],
                _pct(p["loss_fraction_of_margin"]),
                p["liquidated"],
                p["isolated_cap_ok"],
            ],
        )
        for i, p in enumerate(r["positions"][:200])
    ]
    more = f"<p class='note'>{len(r['positions']) - 200} more in --json</p>" if len(r["positions"]) > 200 else ""
    note = (
        "<p class='note'>The cap is on the margin: an isolated position can lose at most the margin moved into its "
        "pool; trading fees charged to the wallet come on top, so a loss can exceed the allocation by its fees "
        "and still be within the cap.</p>"
    )
    return _table(rows, head) + more + note


def backtest_html(r: dict[str, Any]) -> str:
    page = _Page(f"Backtest — {r['strategy']} on {r['symbol']} ({r['venue']}, {r['margin_mode']} {r['leverage']}×)")
    page.add(_table(_summary_rows(r)))
    _backtest_figs(page, r)
    page.add("<h2>Positions</h2>" + _positions_table(r))
    return page.html()


def _backtest_figs(page: _Page, r: dict[str, Any], label: str = "") -> None:
    page.fig(_price_fig(r, f"Price with entry, stop and liquidation lines {label}"))
    c = r["curve"]
    t = _time(js(c["ts"]))
    asset = r.get("asset", "USDT")
    eq = go.Figure(go.Scatter(x=t, y=js(c["equity"]), name=f"equity ({asset})"))
    if "equity_usd" in c:  # inverse: the coin equity × mark on a second axis
        eq.add_trace(go.Scatter(x=t, y=js(c["equity_usd"]), name="equity (USD)", yaxis="y2"))
        eq.update_layout(yaxis2={"overlaying": "y", "side": "right", "title": "USD"}, yaxis={"title": asset})
    eq.update_layout(title=f"Equity {label}")
    page.fig(eq, 320)
    mr = r["margin_ratio"]
    ts = js(c["ts"])
    bars = js(c["bar"])
    at = {b: ts[i] for i, b in enumerate(bars)}
    x = _time([at.get(b, ts[-1]) for b in mr["bar"]])
    m = go.Figure(go.Scatter(x=x, y=js(mr["ratio"]), name="margin ratio", connectgaps=False))
    m.update_layout(title=f"Margin ratio (venue convention) {label}")
    page.fig(m, 300)


def compare_html(r: dict[str, Any]) -> str:
    iso, cross = r["isolated"], r["cross"]
    if r["kind"] == "compare_stress":
        return _compare_stress_html(r)
    page = _Page(f"Isolated vs cross — {iso['strategy']} on {iso['symbol']} ({iso['venue']}, {iso['leverage']}×)")
    rows = [(k, [a, b]) for (k, a), (_, b) in zip(_summary_rows(iso), _summary_rows(cross), strict=True)]
    page.add(_table(rows, ("", "isolated", "cross")))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("isolated", "cross"), shared_yaxes=True)
    for col, run in ((1, iso), (2, cross)):
        c = run["curve"]
        fig.add_trace(go.Scatter(x=_time(js(c["ts"])), y=js(c["equity"]), name=f"{run['margin_mode']} equity"), 1, col)
    fig.update_layout(title="Equity side by side")
    page.fig(fig, 380)
    for run in (iso, cross):
        _backtest_figs(page, run, f"({run['margin_mode']})")
    return page.html()


def _compare_stress_html(r: dict[str, Any]) -> str:
    page = _Page("Stress: isolated vs cross (same book, same path)")
    page.add(_table({k: [v["isolated"], v["cross"]] for k, v in r["difference"].items()}, ("", "isolated", "cross")))
    for mode in ("isolated", "cross"):
        page.add(f"<h2>{mode}</h2>")
        _stress_body(page, r[mode])
    return page.html()


def stress_html(r: dict[str, Any]) -> str:
    page = _Page(f"Stress — {', '.join(r['symbols'])} ({r['venue']}, {r['mode']})")
    _stress_body(page, r)
    return page.html()


def _stress_body(page: _Page, r: dict[str, Any]) -> None:
    keys = (
        "bars",
        "positions_opened",
        "liquidated_positions",
        "partial_liquidations",
        "full_liquidations",
        "adl_events",
        "bad_debt",
        "insurance_draws",
        "insurance_end",
        "isolated_cap_ok",
        "worst_loss_fraction_of_margin",
    )
    ok = r["isolated_cap_ok"]
    page.add(
        f"<p class='{'ok' if ok else 'bad'}'>isolated-loss cap check: {'every' if ok else 'NOT every'} isolated "
        "position lost at most its allocated margin, and no isolated-only wallet paid for one.</p>"
    )
    page.add(_table([(k, r[k]) for k in keys]))
    c = r["curve"]
    t = _time(js(c["ts"]))
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.5, 0.25, 0.25],
        subplot_titles=(
            "price, % of the first close" if len(r["symbols"]) > 1 else "price",
            "insurance fund",
            "open positions",
        ),
    )
    for s in r["symbols"]:
        close = js(c[f"close:{s}"])
        if len(r["symbols"]) > 1 and close and close[0]:  # one axis for BTC at 110k and SOL at 200: normalised
            close = [None if v is None else 100 * v / close[0] for v in close]
        fig.add_trace(go.Scatter(x=t, y=close, name=s), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=js(c["insurance"]), name="insurance fund"), 2, 1)
    fig.add_trace(go.Scatter(x=t, y=js(c["open_positions"]), name="open positions", line={"shape": "hv"}), 3, 1)
    page.fig(fig, 700)
    liq = [x for x in r["liquidations"] if x["step"] != "done"]
    m = go.Figure()
    for mode in ("isolated", "cross"):
        pts = [x for x in liq if x["mode"] == mode]
        if pts:
            m.add_trace(
                go.Scatter(
                    x=_time([x["ts"] for x in pts]),
                    y=[_num(x["mark"]) for x in pts],
                    mode="markers",
                    name=f"{mode}",
                    text=[f"{x['symbol']} acct {x['account']} {x['step']} qty {js(x['qty'])}" for x in pts],
                    marker={"size": 9, "symbol": "x" if mode == "cross" else "circle"},
                )
            )
    m.update_layout(title="Liquidation map (mark at each liquidation step)")
    page.fig(m, 380)
    page.add("<h2>Positions</h2>" + _positions_table(r))


def _pct(value: Any) -> str | None:
    """A fraction as a percentage for a table (1.0025 → '100.25 %')."""
    return None if value is None else f"{float(value) * 100:,.2f} %"


def _num(value: Any) -> float | None:
    """A number for a chart axis (a Decimal as a string would make plotly's axis categorical, unsorted)."""
    return None if value is None else float(value)


def montecarlo_html(r: dict[str, Any]) -> str:
    page = _Page("Monte Carlo — probability of liquidation within the horizon")
    head = (
        "leverage",
        "margin",
        "stop",
        "paths",
        "P(liquidated)",
        "P(stopped)",
        "median liq. bar",
        "mean loss",
        "max loss / margin",
    )
    rows = []
    for run in r["runs"]:
        p = run["params"]
        med = run["liquidation_bar"]["p50"] if run["liquidation_bar"] else None
        rows.append(
            (
                p["leverage"],
                [
                    p["margin"],
                    p["stop"],
                    run["paths"],
                    run["p_liquidation"],
                    run["p_stopped"],
                    med,
                    run["mean_loss"],
                    run["max_loss_fraction_of_margin"],
                ],
            )
        )
    page.add(_table(rows, head))
    hist = go.Figure()
    loss = go.Figure()
    for run in r["runs"][:12]:
        p = run["params"]
        label = f"{p['leverage']}× m{p['margin']} s{p['stop']}"
        hist.add_trace(go.Histogram(x=[b for b in run["liquidation_bars"] if b is not None], name=label, opacity=0.6))
        loss.add_trace(go.Histogram(x=run["losses"], name=label, opacity=0.6))
    hist.update_layout(title="Bar of liquidation (liquidated paths)", barmode="overlay")
    loss.update_layout(title="Loss per path", barmode="overlay")
    page.fig(hist, 360)
    page.fig(loss, 360)
    return page.html()


def write_report(result: dict[str, Any], path: str | Path) -> None:
    kind = result["kind"]
    if kind == "backtest":
        text = backtest_html(result)
    elif kind in ("compare", "compare_stress"):
        text = compare_html(result)
    elif kind == "stress":
        text = stress_html(result)
    else:
        text = montecarlo_html(result)
    Path(path).write_text(text, encoding="utf-8")
