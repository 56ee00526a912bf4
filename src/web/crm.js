// The demo host page that plays Dynamics 365 for the channel page in its iframe: an in-memory
// CRM (contacts, accounts, leads, phonecall activities), the host side of the CIF contract
// (JSON-string payloads, CIFInitDone, onclicktoact, searchAndOpenRecords with an OData
// $filter of exact matches, openForm, createRecord, setMode, getEnvironment, 2.0 sessions),
// a record of every call, and answers that can be made late (after 10 s) or never.
// `window.crmHost` is what the browser tests drive.

const params = new URLSearchParams(location.search);
const DEVICE = params.get("device") || "24104";

const tables = {
  contact: [
    { contactid: "c-ada", fullname: "Ada Lovelace", telephone1: "+33 6 12 34 56 78", mobilephone: "" },
    { contactid: "c-alan", fullname: "Alan Turing", telephone1: "01 23 45 67 89", mobilephone: "" },
    { contactid: "c-grace", fullname: "Grace Hopper", telephone1: "", mobilephone: "0033698765432" },
    { contactid: "c-marie", fullname: "Marie Curie", telephone1: "+33145678900", mobilephone: "" },
    { contactid: "c-pierre", fullname: "Pierre Curie", telephone1: "01 45 67 89 00", mobilephone: "" },
  ],
  account: [{ accountid: "a-contoso", name: "Contoso", telephone1: "+33 1 99 88 77 66", telephone2: "" }],
  lead: [{ leadid: "l-jean", fullname: "Jean Dupont", telephone1: "", mobilephone: "06 11 22 33 44" }],
  phonecall: [],
};

const host = {
  device: DEVICE,
  tables,
  calls: [], // every CIF call: {fn, args, at, answered}
  events: [], // every event sent to the panel: {name, payload, result}
  answerMode: params.get("answer") || "normal", // normal | late | never
  version: params.get("cif") || "1.0",
  legacyClickToAct: params.get("legacy") === "1",
  mode: 1,
  view: { pagetype: "dashboard" },
  frame: null,
  nextEvent: 1,
  pendingEvents: new Map(),
  handlers: new Set(),
};
window.crmHost = host;

const $ = (s) => document.querySelector(s);

function log(line) {
  const box = $("#log");
  box.textContent = `${new Date().toISOString().slice(11, 19)} ${line}\n` + box.textContent.slice(0, 20000);
}

function show(view) {
  host.view = view;
  const v = $("#view");
  if (view.pagetype === "entityrecord") {
    v.textContent = view.id ? `Form: ${view.etn} ${view.name || view.id}` : `New ${view.etn} form, prefilled ${JSON.stringify(view.data || {})}`;
  } else if (view.pagetype === "search") v.textContent = `Search results for ${view.etn}: ${view.names.join(", ")}`;
  else v.textContent = "Dashboard";
}

// `field eq 'value'` terms of an OData $filter, or'ed (what the panel sends).
function terms(query) {
  const f = new URLSearchParams(query.replace(/^\?/, "")).get("$filter") || "";
  const out = [];
  const re = /(\w+)\s+eq\s+'((?:[^']|'')*)'/g;
  let m;
  while ((m = re.exec(f))) out.push({ field: m[1], value: m[2].replace(/''/g, "'") });
  return out;
}

function nameOf(entity, r) {
  return r.fullname || r.name || r[`${entity}id`];
}

const FUNCTIONS = {
  addHandler(name) {
    host.handlers.add(name);
    return {};
  },
  removeHandler(name) {
    host.handlers.delete(name);
    return {};
  },
  setClickToAct(v) {
    return { value: v };
  },
  getClickToAct() {
    return true;
  },
  setMode(m) {
    host.mode = Number(m);
    $("#panel").classList.toggle("minimised", host.mode === 0);
    return { mode: host.mode };
  },
  getMode() {
    return host.mode;
  },
  setWidth(w) {
    return { width: w };
  },
  getEnvironment() {
    return { ...host.view, clientUrl: location.origin, appUrl: location.href, orgId: "demo", userId: "demo-user" };
  },
  searchAndOpenRecords(entity, query, searchOnly) {
    const table = tables[entity];
    if (!table) throw new Error(`unknown entity ${entity}`);
    const ts = terms(query);
    const found = table.filter((r) => ts.some((x) => r[x.field] !== undefined && r[x.field] !== "" && r[x.field] === x.value));
    if (!searchOnly) {
      if (found.length === 1) show({ pagetype: "entityrecord", etn: entity, id: found[0][`${entity}id`], name: nameOf(entity, found[0]) });
      else if (found.length > 1) show({ pagetype: "search", etn: entity, names: found.map((r) => nameOf(entity, r)) });
    }
    return Object.fromEntries(found.map((r, i) => [String(i), r]));
  },
  openForm(options, parameters) {
    const o = JSON.parse(options || "{}");
    const data = parameters ? JSON.parse(parameters) : undefined;
    const rec = o.entityId ? (tables[o.entityName] || []).find((r) => r[`${o.entityName}id`] === o.entityId) : null;
    show({ pagetype: "entityrecord", etn: o.entityName, id: o.entityId || null, name: rec ? nameOf(o.entityName, rec) : undefined, data });
    return { savedEntityReference: o.entityId ? [{ id: o.entityId, entityType: o.entityName }] : [] };
  },
  createRecord(entity, data) {
    const rec = JSON.parse(data);
    const id = `${entity}-${tables[entity] ? tables[entity].length + 1 : 1}-${Math.random().toString(36).slice(2, 8)}`;
    (tables[entity] = tables[entity] || []).push({ [`${entity}id`]: id, ...rec });
    renderActivities();
    return { id, entityType: entity };
  },
  updateRecord(entity, id, data) {
    const r = (tables[entity] || []).find((x) => x[`${entity}id`] === id);
    if (!r) throw new Error(`no ${entity} ${id}`);
    Object.assign(r, JSON.parse(data));
    renderActivities();
    return { id, entityType: entity };
  },
  retrieveRecord(entity, id) {
    const r = (tables[entity] || []).find((x) => x[`${entity}id`] === id);
    if (!r) throw new Error(`no ${entity} ${id}`);
    return r;
  },
  createSession() {
    return `session-${host.calls.length}`;
  },
  getFocusedSession() {
    return "session-default";
  },
  requestFocusSession() {
    return {};
  },
  notifyEvent() {
    return { actionName: "Accept" };
  },
};

window.addEventListener("message", (e) => {
  if (!host.frame || e.source !== host.frame.contentWindow || e.origin !== location.origin) return;
  const m = e.data || {};
  if (m.cif === "hello") {
    host.frame.contentWindow.postMessage({ cif: "ready", version: host.version, legacyClickToAct: host.legacyClickToAct }, location.origin);
    log(`CIF library ready (${host.version})`);
    return;
  }
  if (m.cif === "handled") {
    const p = host.pendingEvents.get(m.id);
    if (p) {
      host.pendingEvents.delete(m.id);
      p(m);
    }
    return;
  }
  if (m.cif !== "call") return;
  const rec = { fn: m.fn, args: m.args, at: Date.now(), answered: null };
  host.calls.push(rec);
  let reply;
  try {
    const f = FUNCTIONS[m.fn];
    if (!f) throw new Error(`${m.fn} is not implemented by this host`);
    reply = { cif: "reply", id: m.id, ok: true, value: JSON.stringify(f(...m.args)) };
  } catch (err) {
    reply = { cif: "reply", id: m.id, ok: false, error: String(err.message || err) };
  }
  log(`${m.fn}(${m.args.map((a) => JSON.stringify(a)).join(", ")}) -> ${reply.ok ? reply.value : "error " + reply.error} [${host.answerMode}]`);
  const send = () => {
    rec.answered = Date.now();
    host.frame.contentWindow.postMessage(reply, location.origin);
  };
  if (host.answerMode === "never" || m.fn === "addHandler" && host.answerMode === "never") return;
  if (host.answerMode === "late") setTimeout(send, 11000);
  else send();
});

// Sends an event (e.g. onclicktoact) to the panel's handlers; resolves with what they said.
host.fire = function (name, payload) {
  const id = host.nextEvent++;
  const ev = { name, payload, at: Date.now(), result: null };
  host.events.push(ev);
  log(`event ${name} ${payload}`);
  return new Promise((resolve) => {
    host.pendingEvents.set(id, (m) => {
      ev.result = m;
      ev.answeredIn = Date.now() - ev.at;
      resolve(m);
    });
    host.frame.contentWindow.postMessage({ cif: "event", id, name, payload }, location.origin);
  });
};

host.clickToAct = function (value, field = "telephone1", entity = "contact") {
  return host.fire("onclicktoact", JSON.stringify({ value, name: field, format: "phone", entityLogicalName: entity }));
};

host.setAnswerMode = function (mode) {
  host.answerMode = mode;
  $("#answer-mode").value = mode;
};

host.setEnvironment = function (view) {
  show(view);
};

// The simulated outside world: `from` calls `to` on the simulated PBX.
host.ring = async function (from, to = DEVICE) {
  const r = await fetch("/demo/call", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ from, to }) });
  return r.json();
};

// The number as an OXE presents an outside caller: the outside-line prefix, then the national
// number.
function presented(n) {
  const d = n.replace(/[^\d+]/g, "");
  if (d.startsWith("+33")) return "00" + d.slice(3);
  if (d.startsWith("0033")) return "00" + d.slice(4);
  if (d.startsWith("+")) return "000" + d.slice(1);
  return "0" + d;
}
host.presented = presented;

function renderContacts() {
  const body = $("#contacts");
  body.replaceChildren();
  for (const c of tables.contact) {
    const tr = document.createElement("tr");
    const cell = (field) => {
      const td = document.createElement("td");
      if (c[field]) {
        const b = document.createElement("button");
        b.className = "num";
        b.type = "button";
        b.textContent = c[field];
        b.setAttribute("aria-label", `Call ${c.fullname} on ${c[field]}`);
        b.onclick = () => host.clickToAct(c[field], field, "contact");
        td.append(b);
      }
      return td;
    };
    const name = document.createElement("td");
    name.textContent = c.fullname;
    const ringTd = document.createElement("td");
    const rb = document.createElement("button");
    rb.type = "button";
    rb.textContent = "Call me";
    rb.setAttribute("aria-label", `${c.fullname} calls you`);
    rb.onclick = () => host.ring(presented(c.telephone1 || c.mobilephone), $("#callee").value);
    ringTd.append(rb);
    tr.append(name, cell("telephone1"), cell("mobilephone"), ringTd);
    body.append(tr);
  }
}

function renderActivities() {
  const ol = $("#activities");
  ol.replaceChildren(
    ...tables.phonecall.map((p) => {
      const li = document.createElement("li");
      li.textContent = `${p.subject} · ${p.phonenumber} · ${p.directioncode ? "outgoing" : "incoming"} · ${p.actualdurationminutes} min`;
      return li;
    }),
  );
}

$("#answer-mode").value = host.answerMode;
$("#answer-mode").onchange = (e) => (host.answerMode = e.target.value);
$("#cif-version").value = host.version;
$("#cif-version").onchange = (e) => {
  host.version = e.target.value;
  host.frame.src = host.frame.src; // reload the panel with the other library version
};
$("#ring").onclick = () => host.ring($("#caller").value, $("#callee").value);
renderContacts();
renderActivities();
host.frame = $("#channel");
const panelUrl = new URL("/", location.origin);
panelUrl.searchParams.set("ucilib", location.origin);
host.frame.src = panelUrl.href;
