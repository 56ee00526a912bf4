// The demo's stand-in for Dynamics 365's msdyn_ciLibrary.js, served at the path Dynamics uses
// (/webresources/Widget/msdyn_ciLibrary.js) and loaded by the channel page inside the host's
// iframe. Like the real library it defines Microsoft.CIFramework, forwards every call to the
// host window by postMessage, answers with a Promise of a JSON string, rejects after 10 s
// without an answer, refuses messages from any other origin, and fires CIFInitDone when the
// host has answered its greeting. Whether 2.0 functions (sessions, notifications) and the
// deprecated setClickToAct exist is the host's choice.
(function () {
  "use strict";
  const TIMEOUT_MS = 10000;
  const me = document.currentScript;
  const crmOrigin = new URL(me.dataset.crmurl || me.src).origin;
  const host = window.parent;
  const waiting = new Map();
  const handlers = new Map();
  let next = 1;

  function post(msg) {
    host.postMessage(msg, crmOrigin);
  }

  function call(fn, args) {
    const id = next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error("Timeout occurred as no response was received from listener window"));
      }, TIMEOUT_MS);
      waiting.set(id, { resolve, reject, timer });
      post({ cif: "call", id, fn, args });
    });
  }

  const api = {
    addHandler(name, fn) {
      const list = handlers.get(name) || [];
      list.push(fn);
      handlers.set(name, list);
      return call("addHandler", [name]);
    },
    removeHandler(name, fn) {
      handlers.set(name, (handlers.get(name) || []).filter((f) => f !== fn));
      return call("removeHandler", [name]);
    },
  };
  const V1 = ["setMode", "getMode", "setWidth", "getWidth", "getEnvironment", "searchAndOpenRecords", "openForm", "createRecord", "updateRecord", "retrieveRecord", "deleteRecord", "getClickToAct"];
  const V2 = ["createSession", "getFocusedSession", "requestFocusSession", "notifyEvent", "createTab", "getSession", "setSessionTitle"];

  window.addEventListener("message", (e) => {
    if (e.origin !== crmOrigin || e.source !== host) return; // not from the CRM window
    const m = e.data || {};
    if (m.cif === "ready") {
      const names = V1.concat(m.version === "2.0" ? V2 : []).concat(m.legacyClickToAct ? ["setClickToAct"] : []);
      for (const n of names) api[n] = (...args) => call(n, args);
      window.Microsoft = window.Microsoft || {};
      window.Microsoft.CIFramework = api;
      window.dispatchEvent(new CustomEvent("CIFInitDone"));
    } else if (m.cif === "reply") {
      const w = waiting.get(m.id);
      if (!w) return; // too late: the caller was told it timed out
      waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(m.error));
    } else if (m.cif === "event") {
      const list = handlers.get(m.name) || [];
      Promise.all(list.map((f) => Promise.resolve().then(() => f(m.payload))))
        .then((r) => post({ cif: "handled", id: m.id, ok: true, value: r }))
        .catch((err) => post({ cif: "handled", id: m.id, ok: false, error: String(err) }));
    }
  });
  post({ cif: "hello" });
})();
