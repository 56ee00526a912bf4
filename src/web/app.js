// The channel page: signs in, connects to ctigw, loads the Dynamics CIF library when the page
// is opened by Dynamics (standalone softphone otherwise), and ties the pieces together: click
// to dial through the leading tab, screen pop, call cards, call logging, history, presence,
// agent state, forwarding and do-not-disturb.

import { t, translate, setLang, currentLang } from "./i18n.js";
import { loadCif } from "./cif.js";
import { Gateway } from "./api.js";
import { Tabs, exclusive } from "./tabs.js";
import { cleanClicked } from "./numbers.js";
import { lookup, open as openPop, offerCreate, userOnForm } from "./pop.js";
import { logCall, logState, forgetFailure, notesOf, saveNotes } from "./calllog.js";
import { renderCall, myConnection, otherParty, elapsed, el, notesForm } from "./callcard.js";

const $ = (s) => document.querySelector(s);
const TOKEN_KEY = "ctigw.token";
const HISTORY_KEY = "ctigw.history";

const S = {
  cfg: null,
  gw: null,
  cif: null,
  tabs: null,
  device: null,
  pops: new Map(), // call id -> {name, record}
  notified: new Set(), // call ids notified through CIF 2.0
  mine: new Map(), // call id -> last version of my calls (to see them end)
  answered: new Map(), // call id -> when (local clock) the far end and I were first talking
  unsupported: new Set(),
  cards: new Map(),
  wrapups: new Map(),
  serverHistory: null,
};

// ---- errors and status -------------------------------------------------------------------

function showError(text) {
  const list = $("#errors");
  const li = el("li", {}, el("span", {}, text), el("button", { type: "button", className: "link", onclick: () => li.remove() }, t("dismiss")));
  list.prepend(li);
  while (list.children.length > 5) list.lastChild.remove();
  console.warn("ctigw page:", text);
}

function cifError(e) {
  showError(t("crmFailed", { what: e.what, msg: e.message }));
}

async function run(what, op, fields) {
  try {
    return await S.gw.command(op, { device: S.device, ...fields });
  } catch (e) {
    if (e.code === "not_supported") {
      S.unsupported.add(op);
      render();
    }
    showError(t("error", { what, msg: e.message }));
    return null;
  }
}

// ---- sign-in -------------------------------------------------------------------------------

// The token from the landing URL (query or fragment, as an SSO redirect would bring it), else
// the session's. It is removed from the address bar once read.
function takeToken() {
  const url = new URL(location.href);
  const frag = new URLSearchParams(url.hash.slice(1));
  const tok = url.searchParams.get("access_token") || frag.get("access_token");
  if (tok) {
    sessionStorage.setItem(TOKEN_KEY, tok);
    url.searchParams.delete("access_token");
    history.replaceState(null, "", url.pathname + url.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function showSignIn() {
  $("#main").hidden = true;
  $("#signin").hidden = false;
  // an identity provider, when configured (issue 11), adds a redirect button here
  if (S.cfg.ssoUrl) {
    const b = $("#sso");
    b.hidden = false;
    b.onclick = () => location.assign(S.cfg.ssoUrl + "?return=" + encodeURIComponent(location.href));
  }
  $("#token").focus();
}

function signedIn(token) {
  $("#signin").hidden = true;
  $("#main").hidden = false;
  $("#who").textContent = `${t("signedIn")} (…${token.slice(-4)})`;
  S.gw = new Gateway({
    token,
    onChange: render,
    onEvent,
    onStatus: status,
    onAuthFailed: (code, reason) => {
      sessionStorage.removeItem(TOKEN_KEY);
      showError(t("error", { what: t("signin"), msg: `${code} ${reason}` }));
      showSignIn();
    },
  });
  S.gw.start();
  window.ctigwPanel.gateway = S.gw;
}

function status(s) {
  const c = $("#conn");
  c.className = "pill " + (s.state === "up" ? "up" : s.state === "reconnecting" || s.state === "error" ? "down" : "");
  c.dataset.state = s.state;
  c.textContent =
    s.state === "up" ? t("connected") : s.state === "reconnecting" ? t("reconnecting", { s: Math.round(s.wait / 1000) }) : s.state === "error" ? s.message : t("connecting");
  if (s.state === "up") queryHistory();
}

// ---- CIF --------------------------------------------------------------------------------

async function startCif() {
  const crm = $("#crm");
  crm.textContent = t("crmLoading");
  const r = await loadCif(S.cfg, cifError);
  document.documentElement.dataset.crm = r.reason;
  if (!r.cif) {
    crm.textContent = r.reason === "refused" ? t("crmRefused", { origin: r.origin }) : t("crmOff");
    if (r.reason === "failed") showError(t("crmFailed", { what: r.error.what || "load", msg: r.error.message }));
    return;
  }
  S.cif = r.cif;
  crm.textContent = t("crmOn", { v: S.cif.version });
  S.tabs = new Tabs(clickToDial);
  await S.cif.on("onclicktoact", (p) => {
    // a value with no number in it is reported in the tab where it was clicked
    if (!cleanClicked(p && p.value)) showError(t("error", { what: t("call"), msg: JSON.stringify(p && p.value) }));
    else S.tabs.click(p);
  });
  // deprecated: click-to-act is switched on in the channel provider record; older libraries
  // still want it here
  if (S.cif.has("setClickToAct")) await S.cif.try("setClickToAct", true);
}

async function clickToDial(payload) {
  const number = cleanClicked(payload.value);
  if (!number) return;
  $("#pop").textContent = t("dialFrom", { number });
  if (S.cif) {
    const mode = S.cif.has("getMode") ? await S.cif.try("getMode") : null;
    if (mode === null || Number(mode) === 0) S.cif.try("setMode", 1);
  }
  if (!S.gw || !S.device) {
    showError(t("error", { what: t("call"), msg: "not connected" }));
    return;
  }
  await run(t("call"), "makeCall", { to: number });
}

// ---- events: pop, end of call, history ----------------------------------------------------

function isMine(call) {
  return !!myConnection(call, S.device) && myConnection(call, S.device).state !== "null";
}

function onEvent(msg) {
  if (msg.type === "snapshot") {
    // calls that ended while we were away
    for (const [id, prev] of S.mine) if (!S.gw.calls.has(id)) finished({ ...prev, endedAt: prev.endedAt || Date.now() });
    for (const c of S.gw.calls.values()) track(c, false);
    return;
  }
  if (!msg.call) return;
  const call = msg.call;
  const had = S.mine.get(call.id);
  if (msg.event === "call.cleared" || !isMine(call)) {
    if (had) finished({ ...had, ...call, connections: had.connections, endedAt: call.endedAt || Date.now() });
    return;
  }
  track(call, true);
}

function track(call, live) {
  if (!isMine(call)) return;
  S.mine.set(call.id, call);
  const c = myConnection(call, S.device);
  const talking = ["active", "held", "putOnHold"].includes(c.rainbowStatus) || (c.state === "held" && !c.rainbowStatus);
  if (talking && !S.answered.has(call.id)) S.answered.set(call.id, Date.now());
  if (live && c.state === "alerting" && call.direction === "inbound" && call.calling && !call.calling.internal) {
    pop(call);
    notify2(call);
  }
}

// CIF 2.0 (multisession apps): a notification for the incoming call, whose Accept answers it,
// and a session for the call. Only when the templates are configured and the library has them.
async function notify2(call) {
  if (!S.cif || S.cif.version !== "2.0" || !S.tabs || !S.tabs.leader || S.notified.has(call.id)) return;
  S.notified.add(call.id); // once per call, whatever the number of ringing events
  const number = call.calling.e164 || call.calling.number;
  const params = { number, callId: call.id };
  if (S.cfg.cif2SessionTemplate && S.cif.has("createSession")) {
    S.cif.try("createSession", { templateName: S.cfg.cif2SessionTemplate, templateParameters: params });
  }
  if (!S.cfg.cif2NotificationTemplate || !S.cif.has("notifyEvent")) return;
  const r = await S.cif.try("notifyEvent", { templateName: S.cfg.cif2NotificationTemplate, templateParameters: params });
  const action = r && (r.actionName || r.action);
  const mine = S.gw.calls.get(call.id) && myConnection(S.gw.calls.get(call.id), S.device);
  if (action === "Accept" && mine && mine.state === "alerting") run(t("answer"), "answer", { callId: call.id });
}

async function pop(call) {
  if (!S.cif || S.pops.has(call.id)) return;
  S.pops.set(call.id, { name: "" });
  // one tab pops (the visible one first)
  if (document.visibilityState !== "visible") await new Promise((r) => setTimeout(r, 300));
  await exclusive(`ctigw-pop-${call.id}`, async () => {
    const key = `ctigw.pop.${call.id}`;
    const done = localStorage.getItem(key);
    if (done) {
      S.pops.set(call.id, JSON.parse(done));
      render();
      return;
    }
    localStorage.setItem(key, JSON.stringify({ name: "" }));
    const box = $("#pop");
    let found;
    try {
      found = await lookup(S.cif, S.cfg, call.calling);
    } catch {
      return; // shown by the CIF error handler
    }
    const info = { name: found.name || "", record: found.record || null, kind: found.kind };
    S.pops.set(call.id, info);
    localStorage.setItem(key, JSON.stringify(info));
    render();
    const number = call.calling.e164 || call.calling.number;
    if (found.kind === "none") {
      box.replaceChildren(
        t("popNone", { number }),
        el("button", { type: "button", className: "secondary", dataset: { action: "create" }, onclick: () => offerCreate(S.cif, number).catch(() => {}) }, t("createContact")),
      );
      return;
    }
    const say = found.kind === "one" ? t("popFound", { name: found.name }) : t("popSeveral", { n: found.count });
    if (await userOnForm(S.cif)) {
      const ask = found.kind === "one" ? t("popAsk", { name: found.name }) : t("popAskSearch", { number });
      box.replaceChildren(
        ask,
        el("button", { type: "button", dataset: { action: "open-pop" }, onclick: () => openPop(S.cif, found).then(() => (box.textContent = say)).catch(() => {}) }, t("open")),
      );
      return;
    }
    try {
      await openPop(S.cif, found);
      box.textContent = say;
    } catch {
      /* shown */
    }
  });
}

// What the screen pop found for a call, in this tab or another one (shared in localStorage).
function popInfo(id) {
  const here = S.pops.get(id);
  if (here && (here.name || here.record)) return here;
  try {
    return JSON.parse(localStorage.getItem(`ctigw.pop.${id}`) || "null") || here || null;
  } catch {
    return here || null;
  }
}

function finished(call) {
  S.mine.delete(call.id);
  // durations from this browser's clock: the PBX's and ours need not agree
  const since = S.answered.get(call.id);
  const answered = since !== undefined;
  S.answered.delete(call.id);
  call.durationSeconds = answered ? Math.round((Date.now() - since) / 1000) : 0;
  call.wasAnswered = answered;
  if (String(call.cause || "").startsWith("mergedInto")) return; // part of another call now
  const party = otherParty(call, S.device);
  const mine = myConnection(call, S.device);
  const outgoing = !!(mine && mine.initiator) || call.calling?.number === S.device;
  addHistory({
    id: call.id,
    number: party.e164 || party.number || "",
    name: popInfo(call.id)?.name || party.name || "",
    direction: outgoing ? "out" : call.direction === "internal" ? "int" : "in",
    answered,
    start: call.startedAt,
    seconds: call.durationSeconds,
    read: answered || outgoing,
  });
  const external = call.direction !== "internal" && !party.internal;
  const secs = call.durationSeconds;
  if (S.cif && S.cfg.callLogging && external && secs >= (S.cfg.minLogSeconds || 0)) {
    S.wrapups.set(call.id, call);
    renderWrapups();
    const withName = { ...call, crmName: popInfo(call.id)?.name };
    logCall(S.cif, withName, S.device, popInfo(call.id)?.record).then(renderWrapups);
  }
  render();
}

function renderWrapups() {
  const box = $("#wrapups");
  box.replaceChildren();
  for (const [id, call] of S.wrapups) {
    const st = logState(id);
    const party = otherParty(call, S.device);
    const msg = !st || st.state === "writing" ? t("logging") : st.state === "done" ? t("logged") : st.state === "uncertain" ? t("logUncertain") : t("logFailed", { msg: st.error });
    const li = el(
      "li",
      { className: "call", dataset: { wrapup: id, log: st ? st.state : "writing" } },
      el("header", {}, el("span", { className: "party" }, t("wrapUp") + ": " + (popInfo(id)?.name || party.e164 || party.number || ""))),
      el("p", { className: "note", role: "status" }, msg),
    );
    if (st && (st.state === "failed" || st.state === "uncertain")) {
      li.append(el("button", { type: "button", className: "secondary", onclick: () => { forgetFailure(id); logCall(S.cif, { ...call, crmName: popInfo(id)?.name }, S.device, popInfo(id)?.record).then(renderWrapups); } }, t("retry")));
    }
    li.append(notesForm(id));
    if (st && st.state === "done" && st.id && S.cif.has("updateRecord")) {
      li.append(el("button", { type: "button", className: "secondary", onclick: () => {
        const v = notesOf(id);
        saveNotes(id, v);
        S.cif.try("updateRecord", "phonecall", st.id, JSON.stringify({ description: [v.notes, v.disposition && `Outcome: ${v.disposition}`].filter(Boolean).join("\n") }));
      } }, t("saveNotes")));
    }
    li.append(el("button", { type: "button", className: "link", onclick: () => { S.wrapups.delete(id); renderWrapups(); } }, t("dismiss")));
    box.append(li);
  }
}

function loadHistory() {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
  } catch {
    return [];
  }
}

function addHistory(h) {
  const list = loadHistory().filter((x) => x.id !== h.id);
  list.unshift(h);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(0, 50)));
  renderHistory();
}

// The daemon's history query (issue 11). Until the daemon has it, it answers that the op is
// unknown and the panel shows the calls this browser saw.
async function queryHistory() {
  if (!S.cfg.historyOp || !S.device || S.serverHistory === false) return;
  try {
    const r = await S.gw.request(S.cfg.historyOp, { device: S.device, limit: 20 });
    if (r.ok === false) {
      S.serverHistory = false; // not_supported / unknown op: local history only
    } else {
      S.serverHistory = r.calls || [];
      $("#history-note").hidden = true;
    }
  } catch {
    /* connection lost: retried on the next connect */
  }
  renderHistory();
}

function renderHistory() {
  const list = $("#history-list");
  const items = Array.isArray(S.serverHistory) ? S.serverHistory : loadHistory();
  list.replaceChildren();
  if (items.length === 0) list.append(el("li", { className: "note" }, t("noHistory")));
  for (const h of items.slice(0, 20)) {
    const when = new Date(h.start).toLocaleTimeString(currentLang(), { hour: "2-digit", minute: "2-digit" });
    const kind = h.answered ? t("answered") : t("missedCall");
    const dir = h.direction === "out" ? t("dirOut") : h.direction === "int" ? t("dirInt") : t("dirIn");
    list.append(
      el(
        "li",
        { className: h.answered ? "" : "missed" },
        el("span", {}, `${h.name || h.number} · ${dir} · ${kind} · ${h.seconds}s · ${when}`),
        h.number ? el("button", { type: "button", className: "link", "aria-label": t("callBack", { number: h.number }), onclick: () => { markRead(); run(t("call"), "makeCall", { to: h.number }); } }, t("call")) : null,
      ),
    );
  }
  const missed = loadHistory().filter((h) => !h.answered && !h.read).length;
  $("#missed").textContent = missed ? t("missed", { n: missed }) : "";
}

function markRead() {
  localStorage.setItem(HISTORY_KEY, JSON.stringify(loadHistory().map((h) => ({ ...h, read: true }))));
  renderHistory();
}

// ---- rendering ---------------------------------------------------------------------------

function chooseDevice() {
  const ids = [...S.gw.devices.keys()].sort();
  const saved = localStorage.getItem("ctigw.device");
  const want = [saved, S.cfg.device, ids[0]].find((d) => d && S.gw.devices.has(d));
  if (want && want !== S.device) {
    S.device = want;
    queryHistory();
  }
  const sel = $("#device");
  if (sel.options.length !== ids.length) {
    sel.replaceChildren(...ids.map((d) => el("option", { value: d }, d)));
  }
  sel.value = S.device || "";
}

function render() {
  if (!S.gw) return;
  chooseDevice();
  const mineCalls = [...S.gw.calls.values()].filter(isMine).sort((a, b) => a.startedAt - b.startedAt);
  const held = mineCalls.find((c) => myConnection(c, S.device).state === "held");
  const list = $("#calls");
  const keep = new Set();
  for (const call of mineCalls) {
    keep.add(call.id);
    const crmName = popInfo(call.id)?.name || "";
    const key = JSON.stringify([call, held?.id, [...S.unsupported], crmName, currentLang()]);
    const old = S.cards.get(call.id);
    if (old && old.key === key) continue;
    const li = renderCall(call, {
      device: S.device,
      held,
      unsupported: S.unsupported,
      crmName,
      act: (op, f) => run(t(op === "singleStepTransfer" ? "blind" : op), op, f),
    });
    if (old) {
      // keep what the user is typing (number forms, keypad, notes)
      li.querySelector(".extra").replaceChildren(...old.li.querySelector(".extra").childNodes);
      li.querySelector(".notes").replaceWith(old.li.querySelector(".notes"));
      old.li.replaceWith(li);
    } else list.append(li);
    S.cards.set(call.id, { li, key });
  }
  for (const [id, c] of S.cards) if (!keep.has(id)) { c.li.remove(); S.cards.delete(id); }
  list.dataset.count = String(mineCalls.length);
  if (mineCalls.length === 0 && !list.querySelector(".empty")) list.append(el("li", { className: "note empty" }, t("noCalls")));
  if (mineCalls.length) list.querySelector(".empty")?.remove();

  const down = [...S.gw.links.values()].some((l) => l.status !== "up");
  $("#crm").dataset.linkDown = String(down);

  // the blocked agent banner (OXE timer 384)
  const agent = S.gw.agents.get(S.device);
  const banner = $("#blocked");
  banner.hidden = !(agent && agent.state === "blocked");
  if (!banner.hidden) banner.textContent = t("blocked", { agent: agent.id }) + (agent.reason ? ` (${agent.reason})` : "");
  $("#agent").hidden = !agent;
  if (agent) $("#agent-now").textContent = t(`ag_${agent.state}`) + (agent.reason ? ` · ${agent.reason}` : "");

  const dev = S.gw.devices.get(S.device);
  if (dev) {
    $("#dnd").checked = !!dev.dnd;
    const f = dev.forwards || [];
    $("#fwd-now").textContent = f.map((x) => `${t("fw_" + x.kind)} → ${x.destination}`).join(", ");
    $("#fwd-off").hidden = f.length === 0;
  }
  const pres = $("#presence-list");
  pres.replaceChildren(
    ...[...S.gw.devices.values()]
      .filter((d) => d.id !== S.device)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((d) =>
        el(
          "li",
          { dataset: { presence: d.presence } },
          el("span", {}, `${d.name || d.id} · ${t("pr_" + (d.presence || "unknown"))}${d.dnd ? " · " + t("dnd") : ""}`),
          el("button", { type: "button", className: "link", "aria-label": t("callBack", { number: d.id }), onclick: () => run(t("call"), "makeCall", { to: d.id }) }, t("call")),
        ),
      ),
  );
}

function tick() {
  const now = Date.now();
  for (const span of document.querySelectorAll(".timer[data-since]")) {
    span.textContent = elapsed({ answeredAt: Number(span.dataset.since) }, now);
  }
}

// ---- wiring ------------------------------------------------------------------------------

function wire() {
  $("#lang").value = currentLang();
  $("#lang").addEventListener("change", (e) => {
    setLang(e.target.value);
    translate();
    S.cards.clear();
    $("#calls").replaceChildren();
    render();
    renderHistory();
    renderWrapups();
  });
  $("#token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const tok = $("#token").value.trim();
    if (!tok) return;
    sessionStorage.setItem(TOKEN_KEY, tok);
    signedIn(tok);
  });
  $("#signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    S.gw?.stop();
    S.gw = null;
    showSignIn();
  });
  $("#device").addEventListener("change", (e) => {
    localStorage.setItem("ctigw.device", e.target.value);
    S.device = e.target.value;
    S.cards.clear();
    $("#calls").replaceChildren();
    S.serverHistory = null;
    render();
    queryHistory();
  });
  $("#dial").addEventListener("submit", (e) => {
    e.preventDefault();
    const to = $("#number").value.trim();
    if (to) run(t("call"), "makeCall", { to });
  });
  $("#history-h").addEventListener("click", markRead);
  $("#agent-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const state = $("#agent-state").value;
    const reason = $("#agent-reason").value.trim();
    run(t("agent"), "setAgentState", reason && state === "notReady" ? { state, reason } : { state });
  });
  $("#fwd-form").addEventListener("submit", (e) => {
    e.preventDefault();
    run(t("forward"), "setForward", { kind: $("#fwd-kind").value, to: $("#fwd-to").value.trim() });
  });
  $("#fwd-off").addEventListener("click", () => run(t("fwdOff"), "cancelForward", {}));
  $("#dnd").addEventListener("change", (e) => run(t("dnd"), "setDnd", { enabled: e.target.checked }));
  window.addEventListener("storage", (e) => {
    if (e.key && e.key.startsWith("ctigw.log.")) renderWrapups();
    if (e.key === HISTORY_KEY) renderHistory();
  });
  setInterval(tick, 1000);
}

async function main() {
  document.documentElement.lang = currentLang();
  translate();
  window.ctigwPanel = { dropSocket: () => S.gw?.drop() };
  wire();
  try {
    S.cfg = await (await fetch("/web/config.json")).json();
  } catch (e) {
    S.cfg = { crmOrigins: [], popEntities: [], callLogging: false };
    showError(t("error", { what: "config", msg: e.message }));
  }
  renderHistory();
  startCif().catch((e) => showError(String(e)));
  const token = takeToken() || (S.cfg.demo ? "demo" : null);
  if (token) signedIn(token);
  else showSignIn();
}

main();
