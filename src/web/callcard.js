// One call of the user's phone as a card: the other party (with the CRM name when the pop
// found one), the state, a running timer, and only the buttons the connection's state allows
// (answer, hang up, hold / resume, consult, transfer / conference with the held call, blind
// transfer, deflect, DTMF keypad), plus notes and outcome for the call log.

import { t } from "./i18n.js";
import { notesOf, saveNotes } from "./calllog.js";

const STATE_KEY = {
  incomingCall: "st_alerting",
  answering: "st_alerting",
  queuedIncoming: "st_queued",
  dialing: "st_initiated",
  connecting: "st_ringingOutgoing",
  ringingOutgoing: "st_ringingOutgoing",
  queuedOutGoing: "st_ringingOutgoing",
  active: "st_connected",
  held: "st_held",
  putOnHold: "st_putOnHold",
  error: "st_fail",
  releasing: "st_null",
};

export const DISPOSITIONS = ["", "resolved", "callback", "voicemail", "noanswer"];

export function myConnection(call, device) {
  return (call.connections || []).find((c) => c.device === device);
}

// The party the user talks to: the far connection's number, or the calling/called party.
export function otherParty(call, device) {
  const mine = myConnection(call, device);
  if (call.calling?.number === device) return call.called || {};
  if (call.called?.number === device) return call.calling || {};
  const far = (call.connections || []).find((c) => c.device !== device);
  if (far) return { number: far.device, internal: far.monitored };
  return (mine && mine.initiator ? call.called : call.calling) || {};
}

export function elapsed(call, now = Date.now()) {
  const from = call.answeredAt || call.startedAt;
  const s = Math.max(0, Math.floor((now - from) / 1000));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

// What the state allows for my connection. `held` is another call of mine on hold (for
// transfer and conference), `unsupported` the ops the PBX refused as not_supported.
export function allowed(call, device, held, unsupported) {
  const c = myConnection(call, device);
  const s = c ? c.state : "null";
  const a = new Set();
  if (s === "alerting" || s === "queued") ["answer", "deflect", "hangup"].forEach((x) => a.add(x));
  if (s === "connected") ["hangup", "hold", "consult", "singleStepTransfer", "sendDigits"].forEach((x) => a.add(x));
  if (s === "held") ["retrieve", "hangup", "consult", "singleStepTransfer"].forEach((x) => a.add(x));
  if (s === "initiated") a.add("hangup");
  if (held && held.id !== call.id && ["connected", "initiated", "alerting"].includes(s)) {
    a.add("transfer");
    a.add("conference");
  }
  if (c && c.answering) a.delete("answer");
  for (const u of unsupported) a.delete(u);
  return a;
}

const LABEL = {
  answer: "answer",
  hangup: "hangup",
  hold: "hold",
  retrieve: "retrieve",
  consult: "consult",
  transfer: "transfer",
  conference: "conference",
  singleStepTransfer: "blind",
  deflect: "deflect",
  sendDigits: "keypad",
};
const NEEDS_NUMBER = new Set(["consult", "singleStepTransfer", "deflect"]);

function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

// Builds the card. `act(op, fields)` runs a command for this call.
export function renderCall(call, ctx) {
  const { device, held, unsupported, crmName, act, open } = ctx;
  const mine = myConnection(call, device);
  const party = otherParty(call, device);
  const number = party.e164 || party.number || t("unknownCaller");
  const name = crmName || party.name || "";
  const status = mine?.rainbowStatus || (mine?.state === "alerting" ? "incomingCall" : "active");
  const ringing = mine && (mine.state === "alerting" || mine.state === "queued");
  const dir = call.direction === "inbound" ? t("dirIn") : call.direction === "outbound" ? t("dirOut") : t("dirInt");
  const stateText = t(STATE_KEY[status] || "st_connected");
  const can = allowed(call, device, held, unsupported);
  const li = el("li", {
    className: "call" + (ringing ? " ringing" : ""),
    dataset: { callId: call.id, state: mine ? mine.state : "null" },
    "aria-label": `${dir}: ${name || number}, ${stateText}`,
  });
  li.append(
    el(
      "header",
      {},
      el("span", { className: "party" }, name ? `${name} ` : "", el("span", { className: "num" }, name ? `(${number})` : number)),
      el("span", { className: "timer", role: "timer", "aria-label": "duration", dataset: { since: String(call.answeredAt || call.startedAt) } }, elapsed(call)),
    ),
    el("div", { className: "state" }, `${dir} · `, el("span", { className: "state-text" }, stateText)),
  );
  const actions = el("div", { className: "actions", role: "group", "aria-label": t("calls") });
  const extra = el("div", { className: "extra" });
  for (const op of ["answer", "retrieve", "hold", "consult", "transfer", "conference", "singleStepTransfer", "deflect", "sendDigits", "hangup"]) {
    if (!can.has(op) && !["answer", "hangup", "hold"].includes(op)) continue;
    const b = el("button", {
      type: "button",
      className: op === "hangup" ? "danger" : op === "answer" ? "" : "secondary",
      disabled: !can.has(op),
      dataset: { action: op },
    }, t(LABEL[op]));
    b.addEventListener("click", () => {
      if (NEEDS_NUMBER.has(op)) return askNumber(extra, op, (to) => act(op, { callId: call.id, to }));
      if (op === "sendDigits") return keypad(extra, (digits) => act("sendDigits", { callId: call.id, digits }));
      if (op === "transfer" || op === "conference") return act(op, { heldCallId: held.id, activeCallId: call.id });
      return act(op, { callId: call.id });
    });
    actions.append(b);
  }
  li.append(actions, extra, notesForm(call.id));
  if (open) li.append(open);
  return li;
}

function askNumber(box, op, run) {
  box.replaceChildren();
  const id = `to-${op}-${Math.random().toString(36).slice(2, 7)}`;
  const input = el("input", { id, type: "tel", required: true, name: "to" });
  const form = el(
    "form",
    { className: "row", dataset: { for: op } },
    el("label", { htmlFor: id }, t(LABEL[op]) + " — " + t("to")),
    input,
    el("button", { type: "submit" }, t("go")),
    el("button", { type: "button", className: "secondary", onclick: () => box.replaceChildren() }, t("cancel")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(input.value.trim());
    box.replaceChildren();
  });
  box.append(form);
  input.focus();
}

function keypad(box, send) {
  if (box.querySelector(".keypad")) return box.replaceChildren();
  box.replaceChildren();
  const pad = el("div", { className: "keypad", role: "group", "aria-label": t("keypad") });
  for (const d of "123456789*0#") pad.append(el("button", { type: "button", className: "secondary", dataset: { digit: d }, onclick: () => send(d) }, d));
  box.append(pad);
  pad.querySelector("button").focus();
}

// Notes and outcome, kept per call id in localStorage (every tab sees them; the log uses them).
export function notesForm(callId) {
  const v = notesOf(callId);
  const nid = `notes-${callId}`;
  const did = `disp-${callId}`;
  const notes = el("textarea", { id: nid, value: v.notes, dataset: { notes: callId } });
  const disp = el("select", { id: did, dataset: { disposition: callId } });
  for (const d of DISPOSITIONS) disp.append(el("option", { value: d, selected: d === v.disposition }, t(d ? `disp_${d}` : "disp_none")));
  const save = () => saveNotes(callId, { notes: notes.value, disposition: disp.value });
  notes.addEventListener("input", save);
  disp.addEventListener("change", save);
  return el(
    "details",
    { className: "notes", open: !!(v.notes || v.disposition) },
    el("summary", {}, `${t("notes")} / ${t("disposition")}`),
    el("label", { htmlFor: nid, className: "sr" }, t("notes")),
    notes,
    el("label", { htmlFor: did }, t("disposition") + " "),
    disp,
  );
}

export { el };
