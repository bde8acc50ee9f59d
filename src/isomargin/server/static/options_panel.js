"use strict";
// isomargin dashboard: the isolated options panel. One row per open option position: side and contracts, entry and
// mark premium, premium PnL, a short's margin with its maintenance-ratio gauge and liquidation mark, and the delta
// when the option was marked from an IV. Loaded beside dashboard.js, whose api(), num() and alertLine() it calls.
const optionsPanel = {
  rows: [], busy: false,
  events: new Set(["OPTION_ORDER_UPDATE", "OPTION_TRADE", "OPTION_POSITION_UPDATE", "OPTION_MARGIN_CALL",
                   "OPTION_LIQUIDATION", "OPTION_SETTLEMENT"]),
};

function opAmount(x, asset) {  // a premium amount: at most 8 places, no float noise
  if (x === null || x === undefined || x === "") return "—";
  const n = Number(x); if (!isFinite(n)) return "—";
  return `${n.toLocaleString("en-US", { maximumFractionDigits: 8 })} ${asset}`;
}

function opGauge(p) {  // the arc fills as the short nears liquidation: (MM + fee) ÷ margin balance = 1 / ratio
  if (p.side !== "short" || p.margin_ratio === undefined || p.margin_ratio === null) return `<span class="dim">—</span>`;
  const ratio = Number(p.margin_ratio), risk = ratio > 0 ? Math.max(0, Math.min(1, 1 / ratio)) : 1;
  const color = p.level === "liquidate" || p.level === "cancel_orders" ? "var(--down)" : p.level === "warning" ? "var(--warn)" : "var(--up)";
  const a = Math.PI * (1 - risk), x = 30 + 24 * Math.cos(a), y = 30 - 24 * Math.sin(a);
  return `<svg class="gauge op-gauge" width="72" height="40" viewBox="0 0 60 36" data-risk="${risk.toFixed(4)}">` +
    `<path d="M6 30 A24 24 0 0 1 54 30" stroke="#233047" stroke-width="6" fill="none"/>` +
    `<path d="M6 30 A24 24 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}" stroke="${color}" stroke-width="6" fill="none"/>` +
    `<text x="30" y="34" text-anchor="middle">${num(ratio * 100, 0)} %</text></svg>`;
}

function opRender() {
  const body = document.querySelector("#op-positions tbody"); if (!body) return;
  if (!optionsPanel.rows.length) {
    body.innerHTML = `<tr><td colspan="9" class="empty">no open option positions</td></tr>`; return;
  }
  body.innerHTML = optionsPanel.rows.map((p) => {
    const pnl = p.pnl === undefined || p.pnl === null ? null : Number(p.pnl);
    const cls = pnl === null ? "" : pnl > 0 ? "up" : pnl < 0 ? "down" : "";
    const ratio = p.pnl_ratio === undefined || p.pnl_ratio === null ? "" : ` <span class="dim">(${num(Number(p.pnl_ratio) * 100, 2)} %)</span>`;
    const delta = p.greeks ? ` <span class="dim">Δ ${num(Number(p.greeks.delta), 4)}</span>` : "";
    return `<tr data-symbol="${p.symbol}"><td>${p.symbol}${delta}</td>` +
      `<td class="${p.side === "long" ? "up" : "down"}" data-field="side">${p.side} ${num(Math.abs(Number(p.contracts)), 0)}</td>` +
      `<td data-field="entry">${opAmount(p.entry_price, p.settle)}</td><td data-field="mark">${opAmount(p.mark_price, p.settle)}</td>` +
      `<td data-field="pnl" class="${cls}">${opAmount(p.pnl, p.settle)}${ratio}</td>` +
      `<td data-field="margin">${p.side === "short" ? opAmount(p.margin, p.settle) : `<span class="dim">premium paid</span>`}</td>` +
      `<td data-field="ratio">${opGauge(p)}</td>` +
      `<td data-field="liq" class="warn">${p.side === "short" ? opAmount(p.liquidation_mark, p.settle) : "—"}</td>` +
      `<td data-field="mm">${p.side === "short" ? opAmount(p.maintenance_margin, p.settle) : "—"}</td></tr>`;
  }).join("");
}

async function opLoad() {
  if (!state.key || optionsPanel.busy) return;
  optionsPanel.busy = true;
  try {
    optionsPanel.rows = await api("/api/v1/options/positions");
    opRender();
    window.optionsPanelLoaded = true;
  } catch (e) { alertLine(String(e.message), "down"); }
  finally { optionsPanel.busy = false; }
}

let opTimer = null;
function opOnStream(d) {
  if (!optionsPanel.events.has(d.e)) return false;
  if (d.e === "OPTION_MARGIN_CALL") alertLine(`option margin call ${d.symbol}: ${d.level}`, d.level === "ok" ? "up" : "warn");
  if (d.e === "OPTION_LIQUIDATION" && d.step === "close") alertLine(`option liquidation ${d.symbol}: ${d.qty} bought back, ${d.taken_over} taken over`, "down");
  if (d.e === "OPTION_SETTLEMENT") alertLine(`option settled ${d.symbol} at ${d.price}: ${opAmount(d.payout, d.settle)}`);
  if (!opTimer) opTimer = setTimeout(() => { opTimer = null; opLoad(); }, 300);
  return true;
}

function opStart() {
  if (!state.key) { $("op-positions").querySelector("tbody").innerHTML = `<tr><td colspan="9" class="empty">connect with an API key to see your option positions</td></tr>`; return; }
  opLoad(); setInterval(opLoad, 5000);
}
