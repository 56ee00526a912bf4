// Phone numbers as the CRM stores them: the exact-match candidates a screen pop searches for
// (E.164, national, digits only, as received), the OData filter over the configured phone
// fields, and the cleaning of a clicked number before the gateway's dialling plan sees it.

// Candidate forms of a caller's number. `party` is the API's party object
// ({number, e164?}); `site` is {countryCode, nationalPrefix}.
export function candidates(party, site = { countryCode: "33", nationalPrefix: "0" }) {
  const out = new Set();
  const raw = (party.number || "").trim();
  const e164 = party.e164 || (/^\+\d{6,}$/.test(raw.replace(/[\s().-]/g, "")) ? raw.replace(/[\s().-]/g, "") : null);
  if (e164) {
    out.add(e164);
    const digits = e164.slice(1);
    out.add(digits);
    out.add("00" + digits);
    if (digits.startsWith(site.countryCode)) {
      const national = site.nationalPrefix + digits.slice(site.countryCode.length);
      out.add(national);
      out.add(spaced(national));
      out.add("+" + site.countryCode + " " + grouped(national.slice(site.nationalPrefix.length)));
    }
  }
  if (raw && /^[+\d][\d\s().-]*$/.test(raw)) {
    out.add(raw);
    out.add(raw.replace(/\D/g, ""));
  }
  return [...out].filter((c) => c.replace(/\D/g, "").length >= 3);
}

// "0612345678" -> "06 12 34 56 78" (the French way people type numbers into Dynamics).
function spaced(n) {
  return n.replace(/(\d{2})(?=\d)/g, "$1 ").trim();
}

// "612345678" -> "6 12 34 56 78": pairs from the right, as after a country code.
function grouped(n) {
  return n.length % 2 ? n[0] + (n.length > 1 ? " " + spaced(n.slice(1)) : "") : spaced(n);
}

// OData literal: single quotes doubled.
function lit(s) {
  return "'" + s.replace(/'/g, "''") + "'";
}

// `?$select=...&$filter=(f1 eq 'a' or f1 eq 'b' or f2 eq 'a' ...)`: exact matches only, so
// Dynamics can use its indexes (contains/endswith scan the table and get throttled).
export function popQuery(entity, numbers) {
  const conds = [];
  for (const f of entity.phoneFields) for (const n of numbers) conds.push(`${f} eq ${lit(n)}`);
  const select = [entity.nameField, ...entity.phoneFields].join(",");
  // percent-encoded: a bare "+" would reach the Web API as a space
  return `?$select=${select}&$filter=${encodeURIComponent(`(${conds.join(" or ")})`)}`;
}

// A clicked value ("Tel: +33 (1) 23-45-67-89 ext") cleaned to what a user would type; the
// gateway's dialling plan does the rest. Returns null when nothing diallable is left.
export function cleanClicked(value) {
  if (typeof value !== "string") return null;
  let v = value.replace(/\u00a0/g, " ").trim();
  const m = v.match(/[+\d][\d\s().\-/*#]*/);
  if (!m) return null;
  v = m[0].replace(/\(0\)/g, "").replace(/[\s().\-/]/g, "");
  if (v.startsWith("+")) v = "+" + v.slice(1).replace(/\+/g, "");
  return /\d/.test(v) ? v : null;
}
