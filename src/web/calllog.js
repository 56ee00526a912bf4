// Call logging: each finished call of the user's phone becomes one Dynamics `phonecall`
// activity (createRecord), with the popped record as "regarding" and the notes and outcome the
// user typed. Exactly one per call id across tabs and reloads: a Web Lock per call and a
// localStorage entry written before the record is created.

import { exclusive } from "./tabs.js";

const KEY = (id) => `ctigw.log.${id}`;
const NOTES = (id) => `ctigw.notes.${id}`;

export function logState(callId) {
  try {
    return JSON.parse(localStorage.getItem(KEY(callId)) || "null");
  } catch {
    return null;
  }
}

function setState(callId, s) {
  localStorage.setItem(KEY(callId), JSON.stringify({ ...s, at: Date.now() }));
}

// Notes and outcome typed for a call, shared by every tab through localStorage.
export function notesOf(callId) {
  try {
    return JSON.parse(localStorage.getItem(NOTES(callId)) || "null") || { notes: "", disposition: "" };
  } catch {
    return { notes: "", disposition: "" };
  }
}

export function saveNotes(callId, v) {
  localStorage.setItem(NOTES(callId), JSON.stringify(v));
}

// The activity for a finished call. `mine` is the user's device; `regarding` the popped
// record {entity, id} if any.
export function activity(call, mine, regarding, typed) {
  const outgoing = (call.connections || []).some((c) => c.device === mine && c.initiator) || call.calling?.number === mine;
  const other = outgoing ? call.called : call.calling;
  const number = other?.e164 || other?.number || "";
  const name = call.crmName || other?.name || number;
  const secs = call.durationSeconds ?? (call.answeredAt && call.endedAt ? Math.max(0, Math.round((call.endedAt - call.answeredAt) / 1000)) : 0);
  const lines = [];
  if (typed.notes) lines.push(typed.notes);
  if (typed.disposition) lines.push(`Outcome: ${typed.disposition}`);
  lines.push(`Duration: ${secs} s${call.wasAnswered === false ? " (not answered)" : ""}. ctigw call ${call.id}.`);
  const rec = {
    subject: `${outgoing ? "Outgoing call to" : "Incoming call from"} ${name}`,
    directioncode: outgoing,
    phonenumber: number,
    actualdurationminutes: Math.ceil(secs / 60),
    description: lines.join("\n"),
  };
  if (regarding && regarding.id) {
    rec[`regardingobjectid_${regarding.entity}_phonecall@odata.bind`] = `/${regarding.entity}s(${regarding.id})`;
  }
  return rec;
}

// Writes the activity once. Returns the final state ({state: done|failed|uncertain, ...}).
export function logCall(cif, call, mine, regarding) {
  return exclusive(`ctigw-log-${call.id}`, async () => {
    const prev = logState(call.id);
    if (prev && (prev.state === "done" || prev.state === "uncertain" || prev.state === "writing")) return prev;
    setState(call.id, { state: "writing" });
    const rec = activity(call, mine, regarding, notesOf(call.id));
    try {
      const r = await cif.call("createRecord", "phonecall", JSON.stringify(rec));
      const id = r && (r.id || r.activityid) ? r.id || r.activityid : null;
      const s = { state: "done", id };
      setState(call.id, s);
      return s;
    } catch (e) {
      // a time-out may still have created the record: do not retry blindly
      const s = /no answer|Timeout/i.test(e.message) ? { state: "uncertain", error: e.message } : { state: "failed", error: e.message };
      setState(call.id, s);
      return s;
    }
  });
}

// A failed log may be retried by the user (never an uncertain one without asking).
export function forgetFailure(callId) {
  const s = logState(callId);
  if (s && s.state !== "done") localStorage.removeItem(KEY(callId));
}
