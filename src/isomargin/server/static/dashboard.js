"use strict";
// isomargin dashboard: positions, an order ticket with the engine's own preview, history, funding, ADL, candles
// (lightweight-charts, served locally) and the liquidation map. Requests are signed with WebCrypto; the key and
// secret come from the URL fragment (never sent to the server) and are kept in sessionStorage.
const state = { key: null, secret: null, symbol: "BTCUSDT", markets: {}, positions: [], orders: [], ws: null,
                refreshing: false, side: "BUY", balances: {}, settings: {}, adl: {}, nextFunding: 0, rate: null,
                lines: [], bars: [], histTab: "pos" };
const $ = (id) => document.getElementById(id);
const enc = new TextEncoder();
let hmacKey = null;

// ------------------------------------------------------------------ numbers for people
const DECIMAL = /^[0-9]{1,12}(\.[0-9]{1,12})?$/;  // what the ticket accepts: plain digits, at most 12 each side
function decimalsOf(step) {
  const s = String(step); if (!s.includes(".")) return 0;
  return s.split(".")[1].replace(/0+$/, "").length;
}
function num(x, d) {
  if (x === null || x === undefined || x === "") return "—";
  const n = Number(x); if (!isFinite(n)) return "—";
  return n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}
const mkt = (s) => state.markets[s || state.symbol] || { tick_size: "0.01", step_size: "0.001", settle: "USDT", kind: "linear", contract_size: "1" };
const inverse = (s) => mkt(s).kind === "inverse";
const price = (x, s) => num(x, decimalsOf(mkt(s).tick_size));  // to the tick
const moneyDigits = (asset) => (asset === "USDT" || asset === "USD" ? 2 : 8);
const money = (x, asset) => `${num(x, moneyDigits(asset))} ${asset}`;  // 2 places, or the coin's 8
function size(x, s) {  // linear: base asset to the step; inverse: whole contracts of contract_size USD
  const m = mkt(s); const a = Math.abs(Number(x));
  if (m.kind === "inverse") return `${num(a / Number(m.contract_size), 0)} cont`;
  return num(a, decimalsOf(m.step_size));
}
const pct = (x, d = 2) => (x === null || x === undefined ? "—" : `${num(Number(x) * 100, d)} %`);

// ------------------------------------------------------------------ API
async function sign(payload) {
  if (!hmacKey) hmacKey = await crypto.subtle.importKey("raw", enc.encode(state.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = await crypto.subtle.sign("HMAC", hmacKey, enc.encode(payload));
  return Array.from(new Uint8Array(sig)).map((b) => b.toString(16).padStart(2, "0")).join("");
}
async function api(path, method = "GET", body = null, params = {}) {
  const q = new URLSearchParams({ ...params, timestamp: String(Date.now()) }).toString();
  const raw = body ? JSON.stringify(body) : "";
  const sig = await sign(q + raw);
  const r = await fetch(`${path}?${q}&signature=${sig}`, { method, body: body ? raw : undefined,
    headers: { "X-MBX-APIKEY": state.key, "Content-Type": "application/json" } });
  const data = await r.json();
  if (!r.ok) throw new Error(`${data.code}: ${data.message}`);
  return data;
}
async function pub(path) { const r = await fetch(path); return r.json(); }

function alertLine(text, cls = "") {
  const li = document.createElement("li"); li.className = cls;
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("alerts").prepend(li);
}

// ------------------------------------------------------------------ confirmation step (every order and close)
function confirmStep(title, lines) {
  return new Promise((resolve) => {
    $("confirm-title").textContent = title; $("confirm-body").textContent = lines.join("\n");
    $("confirm").classList.add("open");
    const done = (ok) => { $("confirm").classList.remove("open"); $("confirm-ok").onclick = $("confirm-cancel").onclick = null; resolve(ok); };
    $("confirm-ok").onclick = () => done(true); $("confirm-cancel").onclick = () => done(false);
  });
}
function openDlg(id) { $(id).classList.add("open"); }
function closeDlg(id) { $(id).classList.remove("open"); }

// ------------------------------------------------------------------ positions
function gauge(ratio) {
  const r = Math.max(0, Math.min(1, Number(ratio) || 0));
  const color = r >= 0.8 ? "var(--down)" : r >= 0.5 ? "var(--warn)" : "var(--up)";
  const a = Math.PI * (1 - r), x = 30 + 24 * Math.cos(a), y = 30 - 24 * Math.sin(a);
  return `<svg class="gauge" width="64" height="38" viewBox="0 0 60 36"><path d="M6 30 A24 24 0 0 1 54 30" stroke="#233047" stroke-width="6" fill="none"/>` +
         `<path d="M6 30 A24 24 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}" stroke="${color}" stroke-width="6" fill="none"/>` +
         `<text x="30" y="34" text-anchor="middle">${(r * 100).toFixed(1)}%</text></svg>`;
}
function adlLights(p) {
  const a = state.adl[`${p.symbol}:${p.position_side}`]; if (!a) return "—";
  let s = `<span class="adl" title="place ${a.queue_position} of ${a.queue_size} in the ${a.side}s' ADL queue">`;
  for (let i = 1; i <= 5; i++) s += `<i class="${i <= a.adl_quantile ? "on" : ""}"></i>`;
  return `${s}</span> <span class="dim adl-rank">${a.adl_quantile}</span>`;
}
function renderPositions() {
  const tb = $("positions").querySelector("tbody");
  tb.innerHTML = "";
  if (!state.positions.length) { tb.innerHTML = `<tr><td colspan="13" class="empty">no open positions</td></tr>`; return; }
  for (const p of state.positions) {
    const tr = document.createElement("tr");
    tr.dataset.symbol = p.symbol; tr.className = "position";
    const pnl = Number(p.unrealized_pnl), cls = pnl >= 0 ? "up" : "down";
    const asset = p.margin_asset || "USDT";
    tr.innerHTML = `<td>${p.symbol}</td><td class="${p.side === "long" ? "up" : "down"}">${p.side} · ${p.margin_mode}</td>` +
      `<td class="size">${size(p.size, p.symbol)}</td><td>${p.leverage}×</td>` +
      `<td class="margin">${money(p.margin_mode === "isolated" ? p.isolated_margin : p.initial_margin, asset)}</td>` +
      `<td>${price(p.entry_price, p.symbol)}</td><td>${price(p.mark_price, p.symbol)}</td><td class="liq warn">${price(p.liquidation_price, p.symbol)}</td>` +
      `<td>${pct(p.liquidation_distance)}</td><td>${gauge(p.margin_ratio)}</td><td class="${cls}">${money(pnl, asset)} (${pct(p.pnl_ratio)})</td>` +
      `<td>${adlLights(p)}</td>` +
      `<td><button class="add-margin">+ margin</button> <button class="remove-margin" title="at most ${money(p.max_removable_margin, asset)} can be removed">− margin</button> ` +
      `<button class="tpsl">TP/SL</button> <button class="close danger">close</button></td>`;
    tr.querySelector(".add-margin").onclick = () => adjust(p, "add");
    tr.querySelector(".remove-margin").onclick = () => adjust(p, "remove");
    tr.querySelector(".close").onclick = () => closeDialog(p);
    tr.querySelector(".tpsl").onclick = () => tpslDialog(p);
    tb.appendChild(tr);
  }
}
async function adjust(p, type) {
  const asset = p.margin_asset || "USDT", amount = $("margin-amount").value.trim();
  if (!DECIMAL.test(amount) || Number(amount) <= 0) { alertLine(`margin amount must be a positive number, got "${amount.slice(0, 20)}"`, "down"); return; }
  try {
    await api(`/api/v1/positions/${p.symbol}/margin`, "POST", { amount, type, position_side: p.position_side });
    alertLine(`${type === "add" ? "added" : "removed"} ${money(amount, asset)} ${type === "add" ? "to" : "from"} ${p.symbol}`);
    await refresh();
  } catch (e) { alertLine(String(e.message), "down"); }
}
const absStr = (s) => (String(s).startsWith("-") ? String(s).slice(1) : String(s));
function closeQty(p, share) {  // the API's face value / base quantity, on the step (whole contracts for inverse)
  const m = mkt(p.symbol), full = absStr(p.size);
  if (share >= 100) return full;
  if (m.kind === "inverse") {
    const cs = Number(m.contract_size), c = Math.floor(Number(full) / cs * share / 100);
    return String(c * cs);
  }
  const d = decimalsOf(m.step_size), step = Number(m.step_size);
  return (Math.floor(Number(full) * share / 100 / step + 1e-9) * step).toFixed(d);
}
let closing = null;
function closeDialog(p) {
  closing = p; $("close-title").textContent = `Close ${p.symbol} ${p.side} (${size(p.size, p.symbol)})`;
  $("close-pct").value = "100"; $("close-type").value = "MARKET"; $("close-price").value = ""; $("close-error").textContent = "";
  updateClose(); openDlg("close-dlg");
}
function updateClose() {
  if (!closing) return;
  $("close-price-row").style.display = $("close-type").value === "LIMIT" ? "flex" : "none";
  const share = Number($("close-pct").value);
  $("close-summary").textContent = DECIMAL.test($("close-pct").value) && share > 0 && share <= 100
    ? `closes ${size(closeQty(closing, share), closing.symbol)} of ${size(closing.size, closing.symbol)}` : "";
}
async function sendClose() {
  const p = closing, share = $("close-pct").value.trim(), type = $("close-type").value, limit = $("close-price").value.trim();
  $("close-error").textContent = "";
  if (!DECIMAL.test(share) || Number(share) <= 0 || Number(share) > 100) { $("close-error").textContent = "how much: a number from 0 to 100 %"; return; }
  if (type === "LIMIT" && (!DECIMAL.test(limit) || Number(limit) <= 0)) { $("close-error").textContent = "limit price: a positive number"; return; }
  const qty = closeQty(p, Number(share));
  if (!(Number(qty) > 0)) { $("close-error").textContent = "that is less than one step of size"; return; }
  const side = String(p.size).startsWith("-") ? "BUY" : "SELL";
  closeDlg("close-dlg");
  const ok = await confirmStep(`Close ${share} % of ${p.symbol}?`, [
    `${side === "SELL" ? "sell" : "buy"} ${size(qty, p.symbol)} ${type === "LIMIT" ? `at ${price(limit, p.symbol)} (limit)` : "at market"}`,
    `reduce-only: it can only shrink the ${p.side} position`]);
  if (!ok) return;
  const body = { symbol: p.symbol, side, type, quantity: qty, reduce_only: p.position_side === "BOTH", position_side: p.position_side };
  if (type === "LIMIT") body.price = limit;
  try { await api("/api/v1/orders", "POST", body); alertLine(`close order for ${p.symbol} sent`); await refresh(); }
  catch (e) { alertLine(String(e.message), "down"); }
}
let tpslFor = null;
function tpslDialog(p) {
  tpslFor = p; $("tpsl-title").textContent = `TP/SL for ${p.symbol} ${p.side}`; $("tpsl-tp").value = ""; $("tpsl-sl").value = "";
  $("tpsl-error").textContent = ""; openDlg("tpsl-dlg");
}
async function sendTpsl() {
  const p = tpslFor, tp = $("tpsl-tp").value.trim(), sl = $("tpsl-sl").value.trim();
  const bad = [tp, sl].some((v) => v !== "" && (!DECIMAL.test(v) || Number(v) <= 0));
  if (bad || (tp === "" && sl === "")) { $("tpsl-error").textContent = "give a take-profit and/or stop-loss price (positive numbers)"; return; }
  closeDlg("tpsl-dlg");
  const side = String(p.size).startsWith("-") ? "BUY" : "SELL", lines = [];
  if (tp) lines.push(`take profit: close the whole position at market when the mark reaches ${price(tp, p.symbol)}`);
  if (sl) lines.push(`stop loss: close the whole position at market when the mark reaches ${price(sl, p.symbol)}`);
  if (!(await confirmStep(`Attach to ${p.symbol} ${p.side}?`, lines))) return;
  try {
    for (const [type, at] of [["TAKE_PROFIT_MARKET", tp], ["STOP_MARKET", sl]]) {
      if (!at) continue;
      await api("/api/v1/orders", "POST", { symbol: p.symbol, side, type, stop_price: at, close_position: true,
        position_side: p.position_side, working_type: "MARK_PRICE" });
    }
    alertLine(`TP/SL attached to ${p.symbol}`); await refresh();
  } catch (e) { alertLine(String(e.message), "down"); }
}
async function closeAll() {
  if (!state.positions.length) return;
  const ok = await confirmStep("Close every position at market?",
    state.positions.map((p) => `${p.symbol} ${p.side} ${size(p.size, p.symbol)}`));
  if (!ok) return;
  for (const p of state.positions) {
    try {
      await api("/api/v1/orders", "POST", { symbol: p.symbol, side: String(p.size).startsWith("-") ? "BUY" : "SELL", type: "MARKET",
        quantity: absStr(p.size), reduce_only: p.position_side === "BOTH", position_side: p.position_side });
    } catch (e) { alertLine(`${p.symbol}: ${e.message}`, "down"); }
  }
  alertLine("close-all sent"); await refresh();
}

// ------------------------------------------------------------------ orders
function orderQty(o) { return o.close_position ? "whole position" : size(o.qty, o.symbol); }
function renderOrders() {
  const tb = $("orders").querySelector("tbody"); tb.innerHTML = "";
  if (!state.orders.length) { tb.innerHTML = `<tr><td colspan="7" class="empty">no open orders</td></tr>`; return; }
  for (const o of state.orders) {
    const tr = document.createElement("tr"); tr.className = "order"; tr.dataset.id = o.order_id;
    tr.innerHTML = `<td>${o.symbol}</td><td class="${o.side === "BUY" ? "up" : "down"}">${o.side}</td><td>${o.type.toLowerCase().replaceAll("_", " ")}${o.reduce_only ? " · RO" : ""}</td>` +
      `<td class="qty">${orderQty(o)}</td><td class="price">${price(o.price, o.symbol)}</td><td>${price(o.stop_price, o.symbol)}</td>` +
      `<td>${o.type === "LIMIT" ? '<button class="amend">amend</button> ' : ""}<button class="cancel danger">cancel</button></td>`;
    tr.querySelector(".cancel").onclick = async () => {
      if (!(await confirmStep("Cancel this order?", [`${o.symbol} ${o.side} ${o.type} ${orderQty(o)}`]))) return;
      try { await api(`/api/v1/orders/${o.order_id}`, "DELETE"); await refresh(); } catch (e) { alertLine(e.message, "down"); }
    };
    const am = tr.querySelector(".amend"); if (am) am.onclick = () => amendDialog(o);
    tb.appendChild(tr);
  }
}
let amending = null;
function amendDialog(o) {
  amending = o; $("amend-title").textContent = `Amend ${o.symbol} ${o.side} limit #${o.order_id}`;
  $("amend-price").value = o.price; $("amend-qty").value = inverse(o.symbol) ? String(Number(o.qty) / Number(mkt(o.symbol).contract_size)) : o.qty;
  $("amend-error").textContent = ""; openDlg("amend-dlg");
}
async function sendAmend() {
  const o = amending, px = $("amend-price").value.trim(), qy = $("amend-qty").value.trim();
  if (!DECIMAL.test(px) || !DECIMAL.test(qy) || Number(px) <= 0 || Number(qy) <= 0) { $("amend-error").textContent = "price and quantity: positive numbers"; return; }
  const qty = inverse(o.symbol) ? String(Number(qy) * Number(mkt(o.symbol).contract_size)) : qy;
  closeDlg("amend-dlg");
  if (!(await confirmStep("Amend the order?", [`price ${price(o.price, o.symbol)} → ${price(px, o.symbol)}`, `size ${size(o.qty, o.symbol)} → ${size(qty, o.symbol)}`]))) return;
  try { await api(`/api/v1/orders/${o.order_id}`, "PUT", { price: px, quantity: qty }); alertLine(`order #${o.order_id} amended`); await refresh(); }
  catch (e) { alertLine(String(e.message), "down"); }
}

// ------------------------------------------------------------------ order ticket
const STOPS = new Set(["STOP_MARKET", "TAKE_PROFIT_MARKET"]);
function ticketLayout() {
  const t = $("t-type").value;
  $("t-price-row").style.display = t === "LIMIT" ? "flex" : "none";
  $("t-stop-row").style.display = STOPS.has(t) ? "flex" : "none";
  $("t-post").disabled = t !== "LIMIT"; if (t !== "LIMIT") $("t-post").checked = false;
  const m = mkt(); $("t-symbol").textContent = state.symbol;
  $("t-unit").textContent = m.kind === "inverse" ? `contracts of ${num(m.contract_size, 0)} USD` : state.symbol.replace(m.settle, "");
  $("t-buy").classList.toggle("on", state.side === "BUY"); $("t-sell").classList.toggle("on", state.side === "SELL");
}
function refPrice() {
  const t = $("t-type").value, v = t === "LIMIT" ? $("t-price").value : STOPS.has(t) ? $("t-stop").value : "";
  return DECIMAL.test(v.trim()) && Number(v) > 0 ? Number(v) : Number(mkt().mark_price || 0);
}
function fromSlider() {  // % of available margin × leverage → size on the step (the preview shows the margin it takes)
  const share = Number($("t-pct").value), m = mkt(), lev = Number($("t-lev").value) || 1, px = refPrice();
  $("t-pct-label").textContent = `${share} % of available ${money((state.balances[m.settle] || {}).available, m.settle)}`;
  const avail = Number((state.balances[m.settle] || {}).available || 0) * share / 100 * lev;
  if (!px || !avail) { $("t-qty").value = ""; schedulePreview(); return; }
  if (m.kind === "inverse") $("t-qty").value = String(Math.floor(avail * px / Number(m.contract_size)));
  else { const step = Number(m.step_size); $("t-qty").value = (Math.floor(avail / px / step) * step).toFixed(decimalsOf(m.step_size)); }
  schedulePreview();
}
function ticketOrder() {  // {body, error}: the ticket's order as the API takes it, or why the page refuses it
  const m = mkt(), t = $("t-type").value, q = $("t-qty").value.trim(), lev = $("t-lev").value.trim();
  if (!DECIMAL.test(q) || !(Number(q) > 0)) return { error: `size must be a positive number${q ? `, not "${q.slice(0, 20)}"` : ""}` };
  const qd = q.includes(".") ? q.split(".")[1].replace(/0+$/, "").length : 0;
  if (m.kind === "inverse" && qd) return { error: "size is in whole contracts" };
  if (m.kind !== "inverse" && qd > decimalsOf(m.step_size)) return { error: `size goes in steps of ${m.step_size}` };
  if (!/^[0-9]{1,4}$/.test(lev) || Number(lev) < 1 || Number(lev) > 1000) return { error: "leverage must be a whole number from 1 to 1000" };
  const body = { symbol: state.symbol, side: state.side, type: t, reduce_only: $("t-reduce").checked,
                 quantity: m.kind === "inverse" ? String(BigInt(q) * BigInt(Math.round(Number(m.contract_size)))) : q };
  for (const [field, id, on] of [["price", "t-price", t === "LIMIT"], ["stop_price", "t-stop", STOPS.has(t)]]) {
    if (!on) continue;
    const v = $(id).value.trim();
    if (!DECIMAL.test(v) || !(Number(v) > 0)) return { error: `${field === "price" ? "price" : "trigger price"} must be a positive number` };
    if (v.includes(".") && v.split(".")[1].replace(/0+$/, "").length > decimalsOf(m.tick_size)) return { error: `prices go in ticks of ${m.tick_size}` };
    body[field] = v;
  }
  if (t === "LIMIT" && $("t-post").checked) body.time_in_force = "GTX";
  return { body, leverage: Number(lev), mode: $("t-mode").value };
}
function syncTicketSettings() {  // the ticket starts from the account's leverage and margin mode for the symbol
  const st = state.settings[state.symbol];
  if (st) { $("t-lev").value = String(st.leverage); $("t-mode").value = st.margin_mode; }
}
let previewTimer = null, previewSeq = 0;
function schedulePreview() { clearTimeout(previewTimer); previewTimer = setTimeout(runPreview, 250); }
function clearPreview() { for (const id of ["t-pv-margin", "t-pv-liq", "t-pv-fee", "t-pv-price"]) $(id).textContent = "—"; }
async function runPreview() {
  const o = ticketOrder(), seq = ++previewSeq;
  $("t-error").textContent = o.error || ""; $("t-submit").disabled = Boolean(o.error);
  if (o.error || !state.key) { clearPreview(); return null; }
  try {
    const pv = await api("/api/v1/orders/preview", "POST", { ...o.body, leverage: o.leverage, margin_mode: o.mode });
    if (seq !== previewSeq) return null;
    if (!pv.ok) { clearPreview(); $("t-error").textContent = `${pv.code}: ${pv.message}`; return pv; }
    const a = pv.asset;
    $("t-pv-margin").textContent = `${money(pv.margin_change, a)} (position ${money(pv.margin_after, a)})`;
    $("t-pv-liq").textContent = pv.liquidation_price_after ? price(pv.liquidation_price_after) : "none";
    $("t-pv-fee").textContent = money(pv.fee, a);
    $("t-pv-price").textContent = pv.average_price ? price(pv.average_price) : "—";
    return pv;
  } catch (e) { if (seq === previewSeq) { clearPreview(); $("t-error").textContent = e.message; } return null; }
}
async function submitTicket() {
  const o = ticketOrder();
  if (o.error) { $("t-error").textContent = o.error; return; }
  const pv = await runPreview();
  if (!pv || !pv.ok) return;
  const m = mkt(), t = o.body.type, a = pv.asset;
  const lines = [
    `${o.body.side === "BUY" ? "buy / long" : "sell / short"} ${size(o.body.quantity)} ${state.symbol} · ${t.toLowerCase().replaceAll("_", " ")}` +
      (o.body.price ? ` at ${price(o.body.price)}` : "") + (o.body.stop_price ? ` when the price reaches ${price(o.body.stop_price)}` : ""),
    `${o.leverage}× ${o.mode}${o.body.reduce_only ? " · reduce-only" : ""}${o.body.time_in_force === "GTX" ? " · post-only" : ""}`,
    `margin ${money(pv.margin_change, a)} · fee ${money(pv.fee, a)}`,
    `liquidation price ${pv.liquidation_price_after ? price(pv.liquidation_price_after) : "none"}`,
  ];
  if (m.kind === "inverse") lines.push(`face value ${num(o.body.quantity, 0)} USD; margin, fee and PnL in ${m.settle}`);
  if (!(await confirmStep("Send this order?", lines))) return;
  try {
    const s = state.settings[state.symbol] || { margin_mode: "cross", leverage: 20 };
    if (s.margin_mode !== o.mode) await api("/api/v1/settings/margin-mode", "POST", { symbol: state.symbol, mode: o.mode });
    if (Number(s.leverage) !== o.leverage) await api("/api/v1/settings/leverage", "POST", { symbol: state.symbol, leverage: o.leverage });
    const r = await api("/api/v1/orders", "POST", o.body);
    alertLine(`order #${r.order_id} ${r.status.toLowerCase()}: ${r.side} ${size(r.qty, r.symbol)} ${r.symbol}`, "up");
    await refresh();
  } catch (e) { $("t-error").textContent = e.message; alertLine(String(e.message), "down"); }
}

// ------------------------------------------------------------------ history
async function renderHistory() {
  const th = $("history").querySelector("thead"), tb = $("history").querySelector("tbody");
  if (state.histTab === "pos") {
    const rows = await api("/api/v1/position-history", "GET", null, { limit: "50" });
    th.innerHTML = "<tr><th>symbol</th><th>side</th><th>size</th><th>entry</th><th>close</th><th>realised PnL</th><th>fees</th><th>opened</th><th>closed</th></tr>";
    tb.innerHTML = rows.length ? "" : `<tr><td colspan="9" class="empty">no trades yet</td></tr>`;
    for (const r of rows) {
      const tr = document.createElement("tr"); tr.className = "hist-pos";
      tr.innerHTML = `<td>${r.symbol}</td><td class="${r.side === "long" ? "up" : "down"}">${r.side}${r.liquidated ? " · liquidated" : ""}</td>` +
        `<td>${size(r.max_size, r.symbol)}</td><td>${price(r.entry_price, r.symbol)}</td><td>${price(r.close_price, r.symbol)}</td>` +
        `<td class="rpnl ${Number(r.realized_pnl) >= 0 ? "up" : "down"}">${money(r.realized_pnl, r.asset)}</td><td>${money(r.fees, r.asset)}</td>` +
        `<td>${new Date(r.opened_time).toLocaleString()}</td><td>${r.closed_time ? new Date(r.closed_time).toLocaleString() : "open"}</td>`;
      tb.appendChild(tr);
    }
  } else {
    const rows = (await api("/api/v1/fills", "GET", null, { limit: "100" })).reverse();
    th.innerHTML = "<tr><th>symbol</th><th>side</th><th>size</th><th>price</th><th>fee</th><th>realised PnL</th><th>role</th><th>time</th></tr>";
    tb.innerHTML = rows.length ? "" : `<tr><td colspan="8" class="empty">no trades yet</td></tr>`;
    for (const r of rows) {
      const tr = document.createElement("tr"); tr.className = "hist-fill";
      tr.innerHTML = `<td>${r.symbol}</td><td class="${r.side === "BUY" ? "up" : "down"}">${r.side}</td><td>${size(r.qty, r.symbol)}</td>` +
        `<td>${price(r.price, r.symbol)}</td><td>${money(r.fee, r.asset)}</td><td>${money(r.realized_pnl, r.asset)}</td>` +
        `<td>${r.maker ? "maker" : "taker"}</td><td>${new Date(r.time).toLocaleString()}</td>`;
      tb.appendChild(tr);
    }
  }
}

// ------------------------------------------------------------------ candles (lightweight-charts) and levels
let chart = null, candles = null, volume = null;
function setupChart() {
  const LC = window.LightweightCharts; if (!LC) { $("candles").textContent = "chart library not loaded"; return; }
  chart = LC.createChart($("candles"), { autoSize: true, layout: { background: { color: "#131a26" }, textColor: "#d7e0ee" },
    grid: { vertLines: { color: "#1a2333" }, horzLines: { color: "#1a2333" } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#233047" }, rightPriceScale: { borderColor: "#233047" },
    localization: { priceFormatter: (v) => price(v) } });
  candles = chart.addCandlestickSeries({ upColor: "#2ebd85", downColor: "#f6465d", borderVisible: false, wickUpColor: "#2ebd85", wickDownColor: "#f6465d" });
  volume = chart.addHistogramSeries({ priceScaleId: "vol", priceFormat: { type: "volume" }, color: "#4c8dff66" });
  chart.priceScale("vol").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
}
function drawLevels() {
  if (!candles) return;
  for (const l of state.lines) candles.removePriceLine(l);
  state.lines = [];
  const add = (p, color, title) => state.lines.push(candles.createPriceLine({ price: Number(p), color, lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title }));
  for (const p of state.positions) if (p.symbol === state.symbol) {
    if (p.liquidation_price) add(p.liquidation_price, "#f0b90b", `liq ${p.side}`);
    add(p.entry_price, "#7d8aa3", "entry");
  }
  for (const o of state.orders) if (o.symbol === state.symbol && o.stop_price) add(o.stop_price, "#4c8dff", o.type === "STOP_MARKET" ? "stop" : "take profit");
}
function onMark(ms, p) {
  if (!candles) return;
  const t = Math.floor(ms / 60000) * 60, v = Number(p), last = state.bars[state.bars.length - 1];
  if (last && last.time === t) { last.high = Math.max(last.high, v); last.low = Math.min(last.low, v); last.close = v; candles.update(last); }
  else if (!last || t > last.time) { const b = { time: t, open: v, high: v, low: v, close: v }; state.bars.push(b); candles.update(b); }
}

// ------------------------------------------------------------------ liquidation map (this symbol's own axis)
function setupCanvas(c) {
  const dpr = window.devicePixelRatio || 1, w = c.clientWidth;
  if (!c._h) c._h = c.height;
  c.width = w * dpr; c.height = c._h * dpr;
  const g = c.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [g, w, c._h];
}
async function drawLiqMap() {
  const sym = state.symbol, data = await pub(`/api/v1/markets/${sym}/liquidation-map?bins=40`);
  if (sym !== state.symbol) return;
  const asset = mkt(sym).settle; $("liq-symbol").textContent = `${sym} · value in ${asset}`;
  for (const el of document.querySelectorAll(".liq-asset")) el.textContent = asset;
  const [g, w, h] = setupCanvas($("liqmap"));
  g.clearRect(0, 0, w, h); g.font = "11px system-ui"; g.fillStyle = "#7d8aa3";
  if (!data.bins || !data.bins.length) { g.fillText(`no open ${sym} positions with a liquidation price`, 20, 30); return; }
  const max = Math.max(...data.bins.map((b) => Math.max(Number(b.long), Number(b.short)))) || 1;
  const L = 8, R = w - 8, T = 16, B = h - 30, bw = (R - L) / data.bins.length;
  data.bins.forEach((b, i) => {
    const x = L + i * bw, hl = Number(b.long) / max * (B - T), hs = Number(b.short) / max * (B - T);
    g.fillStyle = "#f6465d"; g.fillRect(x + 1, B - hl, bw / 2 - 1, hl);
    g.fillStyle = "#2ebd85"; g.fillRect(x + bw / 2, B - hs, bw / 2 - 1, hs);
  });
  const lo = Number(data.bins[0].price_low), hi = Number(data.bins[data.bins.length - 1].price_high);
  g.fillStyle = "#7d8aa3";
  for (let i = 0; i <= 4; i++) { const v = lo + (hi - lo) * i / 4, x = L + (R - L) * i / 4; g.fillText(price(v, sym), Math.min(Math.max(x - 25, L), R - 60), h - 16); }
  g.fillText(`largest bar: ${money(max, asset)}`, L, 12);
  const away = (data.outside?.below?.count || 0) + (data.outside?.above?.count || 0);
  if (away) g.fillText(`+${away} positions liquidate beyond ±50 % of the mark`, L, h - 3);
  if (data.mark_price) {
    const x = L + (Number(data.mark_price) - lo) / (hi - lo) * (R - L);
    g.strokeStyle = "#d7e0ee"; g.setLineDash([3, 3]); g.beginPath(); g.moveTo(x, T); g.lineTo(x, B); g.stroke(); g.setLineDash([]);
    g.fillStyle = "#d7e0ee"; g.fillText(`mark ${price(data.mark_price, sym)}`, Math.min(x + 4, R - 100), T + 10);
  }
}

// ------------------------------------------------------------------ refresh, ticker, stream
async function refresh() {
  if (!state.key || state.refreshing) return;
  state.refreshing = true;
  try {
    const [pos, ord, acct, adl] = await Promise.all([api("/api/v1/positions"), api("/api/v1/orders"), api("/api/v1/account"), api("/api/v1/adl-rank")]);
    state.positions = pos; state.orders = ord; state.balances = acct.balances; state.settings = acct.settings;
    state.adl = Object.fromEntries(adl.map((a) => [`${a.symbol}:${a.position_side}`, a]));
    $("balance").textContent = Object.entries(acct.balances)
      .filter(([a, b]) => a === "USDT" || Number(b.wallet) || Number(b.isolated_margin))
      .map(([a, b]) => `${a}: wallet ${money(b.wallet, a)} · available ${money(b.available, a)} · in isolated margin ${money(b.isolated_margin, a)}`)
      .join("  |  ");
    renderPositions(); renderOrders(); drawLevels();
    if (!$("confirm").classList.contains("open")) schedulePreview();  // the position it previews against changed
    await renderHistory();
  } catch (e) { alertLine(String(e.message), "down"); }
  finally { state.refreshing = false; }
  drawLiqMap(); loadTicker();
}
async function loadTicker() {
  const t = await pub(`/api/v1/markets/${state.symbol}/ticker`);
  showTicker(t.mark_price, t.index_price, t.funding_rate); state.nextFunding = Number(t.next_funding_time) || 0;
  if (state.markets[state.symbol]) state.markets[state.symbol].mark_price = t.mark_price;
}
function showTicker(mark, index, funding) {
  $("mark").textContent = `mark ${price(mark)}`; $("index").textContent = `index ${price(index)}`;
  if (funding !== undefined && funding !== null) $("funding").textContent = `next rate ${num(Number(funding) * 100, 4)} %`;
}
function tickCountdown() {
  const left = Math.max(0, state.nextFunding - Date.now());
  if (!state.nextFunding) { $("countdown").textContent = "next funding —"; return; }
  const s = Math.floor(left / 1000), hh = Math.floor(s / 3600), mm = Math.floor(s % 3600 / 60), ss = s % 60;
  $("countdown").textContent = `funding in ${hh ? `${hh}:` : ""}${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}`;
}
async function loadSymbol() {
  const [kl, last] = await Promise.all([pub(`/api/v1/markets/${state.symbol}/klines?price=mark&limit=500`),
                                        pub(`/api/v1/markets/${state.symbol}/klines?price=last&limit=500`)]);
  state.bars = kl.map((k) => ({ time: Math.floor(k.open_time / 1000), open: Number(k.open), high: Number(k.high), low: Number(k.low), close: Number(k.close) }));
  const m = mkt(), d = decimalsOf(m.tick_size);
  if (candles) {
    candles.applyOptions({ priceFormat: { type: "price", precision: d, minMove: Number(m.tick_size) } });
    candles.setData(state.bars);
    volume.setData(last.map((k) => ({ time: Math.floor(k.open_time / 1000), value: Number(k.volume),
                                       color: Number(k.close) >= Number(k.open) ? "#2ebd8566" : "#f6465d66" })));
    chart.timeScale().fitContent();
  }
  await loadTicker(); ticketLayout(); drawLevels(); drawLiqMap(); connect(); schedulePreview();
}
let refreshTimer = null;
function soon() { if (!refreshTimer) refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 400); }
async function connect() {
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  let url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws?streams=mark:${state.symbol},trades:${state.symbol},liquidations`;
  if (state.key) { try { const lk = await api("/api/v1/listen-key", "POST"); url += `&listenKey=${lk.listenKey}`; } catch (e) { alertLine(e.message, "down"); } }
  const ws = new WebSocket(url); state.ws = ws;
  ws.onopen = () => { $("conn").textContent = "live"; $("conn").className = "pill live"; };
  ws.onclose = () => { $("conn").textContent = "offline"; $("conn").className = "pill"; setTimeout(connect, 2000); };
  ws.onmessage = (msg) => {
    const d = JSON.parse(msg.data);
    if (typeof imOnStream === "function" && imOnStream(d)) { soon(); return; }  // the spot-margin panel's events
    if (typeof opOnStream === "function" && opOnStream(d)) { soon(); return; }  // the options panel's events
    if (d.e === "markPriceUpdate") { onMark(d.E, d.p); showTicker(d.p, d.i, d.r); if (d.T) state.nextFunding = Number(d.T); soon(); }
    else if (d.e === "ACCOUNT_UPDATE" || d.e === "ORDER_TRADE_UPDATE") { soon(); }
    else if (d.e === "MARGIN_CALL") { alertLine(`margin call ${d.symbol || "cross"}: ${d.level} (ratio ${pct(d.ratio)})`, d.level === "ok" ? "up" : "warn"); }
    else if (d.e === "LIQUIDATION" && d.account !== undefined && d.step === "close") { alertLine(`liquidation ${d.symbol}: ${d.step} ${size(d.qty, d.symbol)} @ ${price(d.price, d.symbol)}`, "down"); soon(); }
    else if (d.e === "ADL") { alertLine(`auto-deleveraged ${d.symbol}: ${size(d.qty, d.symbol)} @ ${price(d.price, d.symbol)}`, "warn"); soon(); }
  };
}

async function start() {
  const h = new URLSearchParams(location.hash.slice(1));
  state.key = h.get("key") || sessionStorage.getItem("im.key"); state.secret = h.get("secret") || sessionStorage.getItem("im.secret");
  if (h.get("key")) { sessionStorage.setItem("im.key", state.key); sessionStorage.setItem("im.secret", state.secret); history.replaceState(null, "", location.pathname); }
  if (!state.key) { $("login").style.display = "flex"; $("ticket").style.opacity = "0.5"; }
  $("go").onclick = () => { sessionStorage.setItem("im.key", $("k").value.trim()); sessionStorage.setItem("im.secret", $("s").value.trim()); location.reload(); };
  for (const m of await pub("/api/v1/markets")) {
    state.markets[m.symbol] = m;
    const o = document.createElement("option"); o.value = o.textContent = m.symbol; $("symbol").appendChild(o);
  }
  setupChart();
  if (state.key) {
    try { const a = await api("/api/v1/account"); $("acct").textContent = `account ${a.account} · ${a.position_mode.replace("_", "-")}`;
          (await api("/api/v1/alerts")).forEach((x) => alertLine(`margin call ${x.symbol}: ${x.level}`, "warn")); }
    catch (e) { alertLine(e.message, "down"); }
  }
  $("symbol").onchange = () => { state.symbol = $("symbol").value; $("t-pct").value = "0"; $("t-qty").value = ""; syncTicketSettings(); loadSymbol(); };
  $("t-buy").onclick = () => { state.side = "BUY"; ticketLayout(); schedulePreview(); };
  $("t-sell").onclick = () => { state.side = "SELL"; ticketLayout(); schedulePreview(); };
  $("t-type").onchange = () => { ticketLayout(); schedulePreview(); };
  for (const id of ["t-qty", "t-price", "t-stop", "t-lev", "t-mode", "t-reduce", "t-post"]) $(id).addEventListener("input", schedulePreview);
  $("t-mode").onchange = schedulePreview; $("t-pct").addEventListener("input", fromSlider);
  $("t-submit").onclick = submitTicket; $("close-all").onclick = closeAll;
  $("close-pct").addEventListener("input", updateClose); $("close-type").onchange = updateClose;
  for (const b of document.querySelectorAll("#close-dlg [data-pct]")) b.onclick = () => { $("close-pct").value = b.dataset.pct; updateClose(); };
  $("close-cancel").onclick = () => closeDlg("close-dlg"); $("close-send").onclick = sendClose;
  $("tpsl-cancel").onclick = () => closeDlg("tpsl-dlg"); $("tpsl-send").onclick = sendTpsl;
  $("amend-cancel").onclick = () => closeDlg("amend-dlg"); $("amend-send").onclick = sendAmend;
  $("tab-pos").onclick = () => { state.histTab = "pos"; $("tab-pos").classList.add("on"); $("tab-fills").classList.remove("on"); renderHistory(); };
  $("tab-fills").onclick = () => { state.histTab = "fills"; $("tab-fills").classList.add("on"); $("tab-pos").classList.remove("on"); renderHistory(); };
  await loadSymbol(); await refresh();
  if (state.positions.length && !state.positions.some((p) => p.symbol === state.symbol)) {
    state.symbol = state.positions[0].symbol; $("symbol").value = state.symbol; await loadSymbol();
  }
  syncTicketSettings();
  setInterval(refresh, 5000); setInterval(tickCountdown, 1000); tickCountdown();
  window.addEventListener("resize", () => drawLiqMap());
  if (typeof imStart === "function") imStart();
  if (typeof opStart === "function") opStart();
  window.dashboardReady = true;
}
start();
