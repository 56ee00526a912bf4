// Issue 12, point 2: an incoming outside call pops the matching contact; two matches open the
// search page; no match offers a new contact with the number filled in; an internal call does
// not pop; on a form the page asks first. Point 6 (part): the ringing-with-pop screenshot.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launch, openHost, invokes, until, cifCalls, screenshotPath, DEVICE } from "./harness.js";

let demo, browser, page, panel;
before(async () => {
  demo = await startDemo();
  browser = await launch();
  ({ page, panel } = await openHost(browser.context, demo));
});
after(async () => {
  await browser?.close();
  await demo?.stop();
});

async function ring(from) {
  await page.evaluate(() => window.crmHost.setEnvironment({ pagetype: "dashboard" }));
  const r = await demo.post("demo/call", { from, to: DEVICE });
  assert.equal(r.status, 200);
  await panel.locator("#calls li.call[data-state=alerting]").waitFor();
}

async function decline() {
  await panel.locator("#calls li.call button[data-action=hangup]").first().click();
  await panel.locator("#calls li.call").waitFor({ state: "detached" });
}

const view = () => page.evaluate(() => window.crmHost.view);

test("one matching contact: its record opens and the call shows its name", async () => {
  await ring("00612345678"); // Ada Lovelace, stored as "+33 6 12 34 56 78"
  const v = await until(async () => ((await view()).id ? view() : null), 10000, "the record to open");
  assert.deepEqual([v.pagetype, v.etn, v.id], ["entityrecord", "contact", "c-ada"]);
  const searches = await cifCalls(page, "searchAndOpenRecords");
  assert.equal(searches[0].args[0], "contact");
  assert.equal(searches[0].args[2], true, "searched without opening first");
  assert.doesNotMatch(searches[0].args[1], /[ +]33/, "the query string is percent-encoded");
  const q = new URLSearchParams(searches[0].args[1].slice(1)).get("$filter");
  assert.match(q, /telephone1 eq '\+33612345678'/);
  assert.match(q, /telephone1 eq '0612345678'/);
  assert.match(q, /telephone1 eq '33612345678'/);
  assert.doesNotMatch(q, /contains|endswith/);
  await until(async () => /Ada Lovelace/.test(await panel.locator("#calls li.call").innerText()), 5000, "the CRM name on the call");
  await page.locator("#channel").screenshot({ path: screenshotPath("ringing-pop.png") });
  await decline();
});

test("two matching contacts: the search page opens", async () => {
  const n = (await cifCalls(page, "searchAndOpenRecords")).length;
  await ring("00145678900"); // Marie and Pierre Curie
  const v = await until(async () => ((await view()).pagetype === "search" ? view() : null), 10000, "the search page");
  assert.deepEqual(v.names.sort(), ["Marie Curie", "Pierre Curie"]);
  const s = (await cifCalls(page, "searchAndOpenRecords")).slice(n);
  assert.deepEqual(s.map((c) => [c.args[0], c.args[2]]), [["contact", true], ["contact", false]]);
  await decline();
});

test("no match in contacts, accounts or leads: the page offers the create form, number filled in", async () => {
  const n = (await cifCalls(page, "searchAndOpenRecords")).length;
  await ring("0099887766");
  const create = panel.locator("#pop button[data-action=create]");
  await create.waitFor();
  const s = (await cifCalls(page, "searchAndOpenRecords")).slice(n);
  assert.deepEqual(s.map((c) => c.args[0]), ["contact", "account", "lead"]);
  assert.equal((await view()).pagetype, "dashboard", "nothing opened by itself");
  await create.click();
  const v = await until(async () => ((await view()).pagetype === "entityrecord" ? view() : null), 5000, "the create form");
  assert.equal(v.etn, "contact");
  assert.equal(v.id, null);
  assert.equal(v.data.telephone1, "+99887766");
  await decline();
});

test("an account is found when no contact matches", async () => {
  await ring("00199887766"); // Contoso, "+33 1 99 88 77 66"
  const v = await until(async () => ((await view()).id ? view() : null), 10000, "the account to open");
  assert.deepEqual([v.etn, v.id], ["account", "a-contoso"]);
  await decline();
});

test("an internal call does not pop", async () => {
  const n = (await cifCalls(page)).length;
  await ring("24199");
  await new Promise((r) => setTimeout(r, 1000));
  const after = (await cifCalls(page)).slice(n).map((c) => c.fn);
  assert.ok(!after.includes("searchAndOpenRecords"), `CIF calls: ${after}`);
  assert.equal((await view()).pagetype, "dashboard");
  await decline();
});

test("on a record form the page asks before opening the caller's record", async () => {
  await page.evaluate(() => window.crmHost.setEnvironment({ pagetype: "entityrecord", etn: "account", id: "a-contoso", name: "Contoso" }));
  await demo.post("demo/call", { from: "00612345678", to: DEVICE });
  const open = panel.locator("#pop button[data-action=open-pop]");
  await open.waitFor();
  assert.equal((await view()).id, "a-contoso", "the form the user is on stays");
  await open.click();
  await until(async () => (await view()).id === "c-ada", 5000, "the record to open on request");
  await decline();
});

test("CIF 2.0: the incoming call is notified, a session opened, and accepting answers it", async () => {
  const two = await openHost(browser.context, demo, "?cif=2.0");
  await page.close(); // the 1.0 tab goes: the 2.0 one leads
  await until(() => two.panel.locator("html").evaluate((h) => h.dataset.leader === "true"), 5000, "the 2.0 tab to lead");
  assert.match(await two.panel.locator("#crm").innerText(), /CIF 2\.0/);
  const from = (await demo.wire()).length;
  await demo.post("demo/call", { from: "00612345678", to: DEVICE });
  await two.panel.locator("#calls li.call[data-state=connected]").waitFor();
  const n = await cifCalls(two.page, "notifyEvent");
  assert.equal(n.length, 1);
  assert.equal(n[0].args[0].templateName, "ctigw_incoming_call");
  assert.equal(n[0].args[0].templateParameters.number, "+33612345678");
  assert.equal((await cifCalls(two.page, "createSession")).length, 1);
  assert.ok(invokes(await demo.wire(), from).some((i) => i.name === "answerCall"), "AnswerCall on the wire");
  await two.panel.locator("#calls li.call button[data-action=hangup]").click();
  await two.panel.locator("#calls li.call").waitFor({ state: "detached" });
});
