// Issue 12, point 5: with the page open in two Dynamics tabs, one click places one call (the
// leading tab dials, the other relays; the same click seen by both is dialled once), and one
// finished call is logged as one phonecall activity, also after a reload. Point 6 (part): the
// history screenshot.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launch, openHost, invokes, until, cifCalls, screenshotPath, DEVICE } from "./harness.js";

let demo, browser, A, B;
before(async () => {
  demo = await startDemo();
  browser = await launch();
  A = await openHost(browser.context, demo);
  B = await openHost(browser.context, demo);
});
after(async () => {
  await browser?.close();
  await demo?.stop();
});

const isLeader = (tab) => tab.panel.locator("html").evaluate((h) => h.dataset.leader === "true");
const makeCalls = async (from) => invokes(await demo.wire(), from).filter((i) => i.name === "makeCall");

async function hangUpAll(tab) {
  const cards = tab.panel.locator("#calls li.call");
  while ((await cards.count()) > 0) {
    await cards.first().locator("button[data-action=hangup]").click();
    await new Promise((r) => setTimeout(r, 300));
  }
}

test("two tabs, one click: one call", async () => {
  const leaders = [await isLeader(A), await isLeader(B)];
  assert.deepEqual(leaders.filter(Boolean).length, 1, `exactly one tab leads: ${leaders}`);
  const follower = leaders[0] ? B : A;

  // clicked in the tab that does not lead: relayed, dialled once
  let from = (await demo.wire()).length;
  await follower.page.evaluate(() => window.crmHost.clickToAct("+33 1 23 45 67 80"));
  await until(async () => (await makeCalls(from)).length === 1, 10000, "one MakeCall");
  await A.panel.locator("#calls li.call").waitFor();
  await B.panel.locator("#calls li.call").waitFor();
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await makeCalls(from)).length, 1);
  await hangUpAll(A);
  await B.panel.locator("#calls li.call").waitFor({ state: "detached" });

  // the same click delivered to both tabs
  from = (await demo.wire()).length;
  await Promise.all([A, B].map((t) => t.page.evaluate(() => window.crmHost.clickToAct("+33 1 23 45 67 81"))));
  await until(async () => (await makeCalls(from)).length >= 1, 10000, "a MakeCall");
  await new Promise((r) => setTimeout(r, 1500));
  const mk = await makeCalls(from);
  assert.equal(mk.length, 1, "one call for one click");
  assert.equal(mk[0].arg.calledDirectoryNumber.deviceIdentifier.dialingNumber, "00123456781");
  await A.panel.locator("#calls li.call").waitFor();
  await hangUpAll(A);
  await B.panel.locator("#calls li.call").waitFor({ state: "detached" });
});

test("two tabs, one finished call: one phonecall activity, also after a reload", async () => {
  await demo.post("demo/call", { from: "00612345678", to: DEVICE });
  await B.panel.locator("#calls li.call[data-state=alerting]").waitFor();
  const ringing = A.panel.locator("#calls li.call[data-state=alerting]");
  await ringing.waitFor();
  const id = await ringing.getAttribute("data-call-id");
  await ringing.locator("button[data-action=answer]").click();
  const card = A.panel.locator(`#calls li.call[data-call-id="${id}"][data-state=connected]`);
  await card.waitFor();
  // notes typed in one tab
  await card.locator("details.notes summary").click();
  await card.locator("textarea").fill("Asked for a quote");
  await card.locator("select").selectOption("callback");
  await new Promise((r) => setTimeout(r, 1200));
  await demo.post("demo/hangup", { device: "00612345678" });

  await until(async () => {
    for (const t of [A, B]) if ((await t.panel.locator(`#wrapups li[data-wrapup="${id}"][data-log=done]`).count()) > 0) return true;
    return false;
  }, 15000, "the call to be logged");
  await new Promise((r) => setTimeout(r, 1500));
  // (the two dialled calls of the test before were logged too: count this call's records)
  const forCall = async () =>
    [...(await cifCalls(A.page, "createRecord")), ...(await cifCalls(B.page, "createRecord"))].filter((c) => c.args[1].includes(`ctigw call ${id}.`));
  const created = await forCall();
  assert.equal(created.length, 1, "one phonecall activity for the call");
  assert.equal(created[0].args[0], "phonecall");
  const rec = JSON.parse(created[0].args[1]);
  assert.equal(rec.directioncode, false, "incoming");
  assert.equal(rec.phonenumber, "+33612345678");
  assert.match(rec.subject, /Ada Lovelace/);
  assert.equal(rec["regardingobjectid_contact_phonecall@odata.bind"], "/contacts(c-ada)");
  assert.match(rec.description, /Asked for a quote/);
  assert.match(rec.description, /callback/);
  assert.ok(rec.actualdurationminutes >= 1);
  // one tab popped the caller, not both
  const pops = [...(await cifCalls(A.page, "openForm")), ...(await cifCalls(B.page, "openForm"))];
  assert.equal(pops.length, 1);

  const inA = (await cifCalls(A.page, "createRecord")).filter((c) => c.args[1].includes(`ctigw call ${id}.`)).length;
  await B.page.reload(); // B's host starts afresh: what B records now was written after the reload
  await B.panel.locator("#conn[data-state=up]").waitFor({ timeout: 20000 });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await forCall()).length, inA, "nothing written again after the reload");

  // the history: the call just logged, with a missed one
  await demo.post("demo/call", { from: "00123456789", to: DEVICE });
  await A.panel.locator("#calls li.call[data-state=alerting]").waitFor();
  await demo.post("demo/hangup", { device: "00123456789" });
  await A.panel.locator("#missed").filter({ hasText: /1/ }).waitFor();
  const items = A.panel.locator("#history-list li");
  assert.match(await items.nth(0).innerText(), /Alan Turing.*Missed/s);
  assert.equal(await items.nth(0).getAttribute("class"), "missed");
  assert.match(await items.nth(1).innerText(), /Ada Lovelace.*Answered/s);
  await A.panel.locator("#history").scrollIntoViewIfNeeded();
  await A.page.locator("#channel").screenshot({ path: screenshotPath("history.png") });
});
