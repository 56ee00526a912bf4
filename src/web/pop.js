// Screen pop: for an incoming outside call, search the configured entities in order
// (contacts, then accounts, then leads) for exact matches of the caller's number forms with
// `searchAndOpenRecords(..., searchOnly=true)`, then decide: one match opens the record,
// several open the search page, none offers a new contact with the number filled in. When the
// user is on a record form the page asks before navigating away from it.

import { candidates, popQuery } from "./numbers.js";

function records(r) {
  if (!r) return [];
  if (Array.isArray(r)) return r;
  if (Array.isArray(r.value)) return r.value;
  if (typeof r === "object") return Object.values(r).filter((x) => x && typeof x === "object");
  return [];
}

function idOf(rec, entity) {
  return rec[`${entity}id`] || rec.id || null;
}

// Finds the caller. Resolves to {kind: "one"|"several"|"none", entity, query, record, name}.
export async function lookup(cif, cfg, party) {
  const numbers = candidates(party);
  if (numbers.length === 0) return { kind: "none", numbers };
  for (const e of cfg.popEntities) {
    const query = popQuery(e, numbers);
    const found = records(await cif.call("searchAndOpenRecords", e.entity, query, true));
    if (found.length === 1) {
      const r = found[0];
      return { kind: "one", entity: e.entity, query, record: { entity: e.entity, id: idOf(r, e.entity) }, name: r[e.nameField] || "" };
    }
    if (found.length > 1) return { kind: "several", entity: e.entity, query, count: found.length, name: "" };
  }
  return { kind: "none", numbers };
}

// Whether a pop now would take the user away from a form they may be typing in.
export async function userOnForm(cif) {
  const env = await cif.try("getEnvironment");
  return !!(env && (env.pagetype === "entityrecord" || env.pageType === "entityrecord") && env.id);
}

// Opens what `found` says: the record, the search page, or (none) nothing: the caller of
// `offerCreate` does that on the user's click.
export async function open(cif, found) {
  if (found.kind === "one") {
    if (found.record.id && cif.has("openForm")) {
      return cif.call("openForm", JSON.stringify({ entityName: found.entity, entityId: found.record.id }));
    }
    return cif.call("searchAndOpenRecords", found.entity, found.query, false);
  }
  if (found.kind === "several") return cif.call("searchAndOpenRecords", found.entity, found.query, false);
  return null;
}

// The create form for a new contact with the number filled in.
export function offerCreate(cif, number) {
  return cif.call(
    "openForm",
    JSON.stringify({ entityName: "contact", useQuickCreateForm: false }),
    JSON.stringify({ telephone1: number }),
  );
}
