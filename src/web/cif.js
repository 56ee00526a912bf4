// The Dynamics 365 Channel Integration Framework seam: finds the CRM URL (`?ucilib=` or
// `data-crmurl`), refuses origins the configuration does not allow, loads the library, waits
// for `CIFInitDone`, and wraps every `Microsoft.CIFramework` call as a Promise of parsed JSON
// that fails after 10 s (the library's own time-out) instead of hanging. Handlers registered
// through `on()` answer the library at once and do their work afterwards.

export const CIF_TIMEOUT_MS = 10_000;
const LIB_PATH = "/webresources/Widget/msdyn_ciLibrary.js";

export class CifError extends Error {
  constructor(what, message) {
    super(message);
    this.what = what;
  }
}

// Where the CIF library would come from, or null when the page is not opened by Dynamics.
export function libraryUrl(loc = location, root = document.documentElement) {
  const q = new URLSearchParams(loc.search).get("ucilib");
  const given = q || root.dataset.crmurl || "";
  if (!given) return null;
  let url;
  try {
    url = new URL(given, loc.href);
  } catch {
    return { error: given };
  }
  if (!/\.js$/i.test(url.pathname)) url = new URL(LIB_PATH, url.origin);
  return { url, origin: url.origin };
}

// `patterns`: exact origins, `https://*.domain` (any host under it, https only) or `self`.
export function originAllowed(origin, patterns, self = location.origin) {
  for (const p of patterns) {
    if (p === "self" && origin === self) return true;
    if (p === origin) return true;
    const m = /^https:\/\/\*\.(.+)$/.exec(p);
    if (m) {
      try {
        const u = new URL(origin);
        if (u.protocol === "https:" && u.hostname.endsWith("." + m[1]) && !u.port) return true;
      } catch {
        /* not an origin */
      }
    }
  }
  return false;
}

// Loads the library; resolves to a Cif, or null with `reason` set when CRM features are off.
export async function loadCif(config, onError) {
  const where = libraryUrl();
  if (!where) return { cif: null, reason: "absent" };
  if (where.error || !originAllowed(where.origin, config.crmOrigins || [])) {
    return { cif: null, reason: "refused", origin: where.origin || where.error };
  }
  const inited = new Promise((resolve) => window.addEventListener("CIFInitDone", resolve, { once: true }));
  const script = document.createElement("script");
  script.src = where.url.href;
  script.dataset.crmurl = where.origin;
  script.dataset.cifid = "CIFMainLibrary";
  const loaded = new Promise((resolve, reject) => {
    script.onload = resolve;
    script.onerror = () => reject(new CifError("load", `cannot load ${where.url.href}`));
  });
  document.head.appendChild(script);
  try {
    await loaded;
    await withTimeout(inited, CIF_TIMEOUT_MS * 2, "CIFInitDone");
  } catch (e) {
    return { cif: null, reason: "failed", error: e };
  }
  const api = window.Microsoft && window.Microsoft.CIFramework;
  if (!api) return { cif: null, reason: "failed", error: new CifError("load", "no Microsoft.CIFramework") };
  return { cif: new Cif(api, onError), reason: "ok" };
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CifError(what, `no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function parse(v) {
  if (typeof v !== "string") return v ?? null;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export class Cif {
  constructor(api, onError) {
    this.api = api;
    this.onError = onError || (() => {});
    // 2.0 adds sessions and notifications (multisession apps only)
    this.version = typeof api.createSession === "function" ? "2.0" : "1.0";
  }

  has(name) {
    return typeof this.api[name] === "function";
  }

  // Calls `name`; resolves to the parsed JSON answer, rejects with a CifError (shown to the
  // user through onError) on a rejection, a missing function or no answer within 10 s.
  async call(name, ...args) {
    if (!this.has(name)) throw new CifError(name, `${name} is not available in this CIF library`);
    try {
      const r = await withTimeout(Promise.resolve().then(() => this.api[name](...args)), CIF_TIMEOUT_MS + 500, name);
      return parse(r);
    } catch (e) {
      const err = e instanceof CifError ? e : new CifError(name, String((e && e.message) || e));
      this.onError(err);
      throw err;
    }
  }

  // Like call(), but a failure is only reported: resolves to null.
  async try(name, ...args) {
    try {
      return await this.call(name, ...args);
    } catch {
      return null;
    }
  }

  // Registers a handler: the library gets its answer at once (handlers that take time make
  // Dynamics report a time-out), and `work(payload)` runs afterwards with the parsed payload.
  on(event, work) {
    const handler = (payload) => {
      setTimeout(() => {
        Promise.resolve()
          .then(() => work(parse(payload)))
          .catch((e) => this.onError(new CifError(event, String((e && e.message) || e))));
      }, 0);
      return Promise.resolve(JSON.stringify({ ok: true }));
    };
    return this.call("addHandler", event, handler);
  }
}
