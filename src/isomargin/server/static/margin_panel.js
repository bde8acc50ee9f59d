"use strict";
// isomargin dashboard: the isolated spot-margin panel. One card per listed spot pair: what the pair's isolated
// margin account holds and owes, interest, the margin level gauge, the liquidation price, and transfer / borrow /
// repay with a confirmation step. Loaded after dashboard.js, whose api(), confirmStep() and alertLine() it uses.
const marginPanel = {
  pairs: [], views: {}, busy: false,
  events: new Set(["MARGIN_ACCOUNT_UPDATE", "MARGIN_TRANSFER", "BORROW", "REPAY", "INTEREST", "SPOT_MARGIN_CALL",
                   "SPOT_LIQUIDATION", "SPOT_TRADE"]),
};

// amounts for people: thousands separators; USDT to at least 2 places, every asset to at most 8, no float noise
function imAmount(x, asset) {
  if (x === null || x === undefined || x === "") return "—";
  const n = Number(x); if (!isFinite(n)) return "—";
  const stable = asset === "USDT" || asset === "USDC" || asset === "USD";
  return `${n.toLocaleString("en-US", { minimumFractionDigits: stable ? 2 : 0, maximumFractionDigits: 8 })} ${asset}`;
}
function imPrice(x, pair) {
  if (x === null || x === undefined) return "—";
  const d = decimalsOf(pair.tick_size);
  return `${num(x, d)} ${pair.quote}`;
}
const imRate = (daily) => `${num(Number(daily) * 100, 4)} % a day`;

function imGauge(view, pair) {  // the arc fills as the account nears liquidation: liabilities ÷ assets
  const level = view && view.margin_level !== null && view.margin_level !== undefined ? Number(view.margin_level) : null;
  const risk = level ? Math.max(0, Math.min(1, 1 / level)) : 0;
  const alert = view ? view.level || view.alert : "ok";
  const color = alert === "liquidate" || alert === "cancel_orders" ? "var(--down)" : alert === "warning" ? "var(--warn)" : "var(--up)";
  const a = Math.PI * (1 - risk), x = 30 + 24 * Math.cos(a), y = 30 - 24 * Math.sin(a);
  let label = level ? num(level, 2) : "no debt";
  if (pair.risk === "maintenance_ratio" && view && view.margin_ratio) label = `${num(Number(view.margin_ratio) * 100, 0)} %`;
  return `<svg class="gauge im-gauge" width="72" height="40" viewBox="0 0 60 36" data-risk="${risk.toFixed(4)}">` +
    `<path d="M6 30 A24 24 0 0 1 54 30" stroke="#233047" stroke-width="6" fill="none"/>` +
    `<path d="M6 30 A24 24 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}" stroke="${color}" stroke-width="6" fill="none"/>` +
    `<text x="30" y="34" text-anchor="middle">${label}</text></svg>`;
}

function imCard(pair) {
  const div = document.createElement("div");
  div.className = "im-card"; div.dataset.pair = pair.symbol;
  div.innerHTML = `<h3>${pair.symbol} <span class="dim">${pair.venue} · up to ${pair.max_leverage}× · ` +
    `${pair.risk === "margin_level" ? "margin level" : "maintenance ratio"}</span></h3>` +
    `<div class="im-body"><div class="kv im-figures"></div><div class="im-right"><div class="im-gauge-box"></div>` +
    `<div class="dim">liquidation price</div><div class="im-liq warn">—</div></div></div>` +
    `<div class="im-controls"><select class="im-asset"><option value="${pair.quote}">${pair.quote}</option>` +
    `<option value="${pair.base}">${pair.base}</option></select>` +
    `<input class="im-amount" type="text" inputmode="decimal" autocomplete="off" placeholder="amount" size="10">` +
    `<button class="im-in">transfer in</button><button class="im-out">transfer out</button>` +
    `<button class="im-borrow">borrow</button><button class="im-repay">repay</button>` +
    `<button class="im-repay-all">repay all</button></div><div class="err im-error"></div>`;
  div.querySelector(".im-in").onclick = () => imAction(pair, "in");
  div.querySelector(".im-out").onclick = () => imAction(pair, "out");
  div.querySelector(".im-borrow").onclick = () => imAction(pair, "borrow");
  div.querySelector(".im-repay").onclick = () => imAction(pair, "repay");
  div.querySelector(".im-repay-all").onclick = () => imAction(pair, "repay-all");
  div.querySelector(".im-amount").addEventListener("input", () => { div.querySelector(".im-error").textContent = ""; });
  return div;
}

function imRender(pair) {
  const card = document.querySelector(`.im-card[data-pair="${pair.symbol}"]`); if (!card) return;
  const v = marginPanel.views[pair.symbol];
  const fig = card.querySelector(".im-figures"), rows = [];
  if (!v) {
    rows.push(["status", `<span class="dim">no margin account yet: transfer ${pair.quote} or ${pair.base} in to open one</span>`]);
  }
  for (const a of [pair.base, pair.quote]) {
    const x = v ? v.assets[a] : null;
    rows.push([`${a} held`, `<span data-field="free-${a}">${imAmount(x ? x.total : "0", a)}</span>` +
      (x && Number(x.locked) ? ` <span class="dim">(${imAmount(x.locked, a)} in orders)</span>` : "")]);
    rows.push([`${a} borrowed`, `<span data-field="borrowed-${a}">${imAmount(x ? x.borrowed : "0", a)}</span>`]);
    rows.push([`${a} interest owed`, `<span data-field="interest-${a}">${imAmount(x ? x.interest : "0", a)}</span> ` +
      `<span class="dim">at ${imRate(x ? x.daily_rate : pair.daily_rates[a])}</span>`]);
    rows.push([`${a} max borrowable`, `<span data-field="max-borrow-${a}">${imAmount(x ? x.max_borrowable : "0", a)}</span>`]);
  }
  if (v && v.total_asset_value !== undefined) {
    rows.push(["assets / liabilities", `${imAmount(v.total_asset_value, pair.quote)} / ${imAmount(v.total_liability_value, pair.quote)}`]);
  }
  fig.innerHTML = rows.map(([k, val]) => `<div>${k}</div><div>${val}</div>`).join("");
  card.querySelector(".im-gauge-box").innerHTML = imGauge(v, pair);
  card.querySelector(".im-liq").textContent = v && v.position ? imPrice(v.position.liquidation_price, pair) : "—";
  card.classList.toggle("im-open", Boolean(v));
}

async function imLoad() {
  if (!state.key || marginPanel.busy) return;
  marginPanel.busy = true;
  try {
    const [pairs, views] = await Promise.all([pub("/api/v1/spot/pairs"), api("/api/v1/margin/isolated/accounts")]);
    const box = $("im-cards");
    if (pairs.map((p) => p.symbol).join() !== marginPanel.pairs.map((p) => p.symbol).join()) {
      box.innerHTML = pairs.length ? "" : `<div class="empty">no spot pairs are listed</div>`;
      for (const p of pairs) box.appendChild(imCard(p));
    }
    marginPanel.pairs = pairs;
    marginPanel.views = Object.fromEntries(views.filter((v) => v).map((v) => [v.symbol, v]));
    for (const p of pairs) imRender(p);
    window.marginPanelLoaded = true;
  } catch (e) { alertLine(String(e.message), "down"); }
  finally { marginPanel.busy = false; }
}

const IM_VERBS = { in: "Transfer in", out: "Transfer out", borrow: "Borrow", repay: "Repay", "repay-all": "Repay all" };
async function imAction(pair, kind) {
  const card = document.querySelector(`.im-card[data-pair="${pair.symbol}"]`);
  const err = card.querySelector(".im-error"), asset = card.querySelector(".im-asset").value;
  const amount = card.querySelector(".im-amount").value.trim();
  err.textContent = "";
  if (kind !== "repay-all" && (!DECIMAL.test(amount) || !(Number(amount) > 0))) {
    err.textContent = `amount must be a positive number like 100 or 0.5, got "${amount.slice(0, 20)}"`; return;
  }
  const v = marginPanel.views[pair.symbol], x = v ? v.assets[asset] : null, lines = [];
  if (kind === "in") lines.push(`move ${imAmount(amount, asset)} from your wallet into the ${pair.symbol} isolated margin account`);
  if (kind === "out") {
    lines.push(`move ${imAmount(amount, asset)} from the ${pair.symbol} isolated margin account back to your wallet`);
    if (x) lines.push(`at most ${imAmount(x.max_transferable, asset)} can leave now`);
  }
  if (kind === "borrow") {
    const daily = x ? x.daily_rate : pair.daily_rates[asset];
    lines.push(`borrow ${imAmount(amount, asset)} into the ${pair.symbol} isolated margin account`);
    lines.push(`interest ${imRate(daily)}: about ${imAmount(Number(amount) * Number(daily) / 24, asset)} an hour, the first hour charged now`);
    if (x) lines.push(`at most ${imAmount(x.max_borrowable, asset)} can be borrowed now`);
  }
  if (kind === "repay") lines.push(`repay ${imAmount(amount, asset)} of ${pair.symbol}'s ${asset} debt (interest first, then principal)`);
  if (kind === "repay-all") {
    const owed = x ? Number(x.borrowed) + Number(x.interest) : 0;
    lines.push(`repay everything owed in ${asset} on ${pair.symbol}: ${imAmount(owed, asset)} (interest and principal)`);
  }
  if (!(await confirmStep(`${IM_VERBS[kind]} ${asset} on ${pair.symbol}?`, lines))) return;
  const body = { symbol: pair.symbol, asset };
  let path = "/api/v1/margin/isolated/transfer";
  if (kind === "in" || kind === "out") Object.assign(body, { amount, direction: kind });
  else if (kind === "borrow") { path = "/api/v1/margin/isolated/borrow"; body.amount = amount; }
  else { path = "/api/v1/margin/isolated/repay"; if (kind === "repay") body.amount = amount; }
  try {
    const view = await api(path, "POST", body);
    marginPanel.views[pair.symbol] = view; imRender(pair);
    alertLine(`${IM_VERBS[kind].toLowerCase()} ${kind === "repay-all" ? asset : imAmount(amount, asset)} on ${pair.symbol}: done`, "up");
    soon();
  } catch (e) { err.textContent = e.message; alertLine(String(e.message), "down"); }
}

function imOnStream(d) {
  if (!marginPanel.events.has(d.e)) return false;
  if (d.e === "SPOT_MARGIN_CALL") alertLine(`margin call ${d.symbol}: ${d.level}`, d.level === "ok" ? "up" : "warn");
  if (d.e === "SPOT_LIQUIDATION" && d.step === "close") alertLine(`liquidation ${d.symbol}: debt repaid ${d.repaid} ${d.asset}`, "down");
  if (d.e === "INTEREST") alertLine(`interest ${d.symbol}: ${imAmount(d.amount, d.asset)} for ${d.hours} h`);
  if (d.e === "MARGIN_ACCOUNT_UPDATE" && d.margin_account) {
    marginPanel.views[d.symbol] = d.margin_account;
    const pair = marginPanel.pairs.find((p) => p.symbol === d.symbol); if (pair) imRender(pair);
  }
  return true;
}

function imStart() {
  if (!state.key) { $("im-cards").innerHTML = `<div class="empty">connect with an API key to see your isolated margin accounts</div>`; return; }
  imLoad(); setInterval(imLoad, 5000);
}
