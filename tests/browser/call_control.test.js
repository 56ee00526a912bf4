// Issue 12, point 3: answer, hold, retrieve, consult, transfer, conference, deflect and hang up
// from the page each put their CSTA request on the PBX wire, and the page shows the states
// that follow. Point 6 (part): the in-call screenshot.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launch, openHost, invokes, until, screenshotPath, DEVICE } from "./harness.js";

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

// Clicks `action` on `card` and waits for the CSTA request `csta` on the wire; returns it.
async function act(card, action, csta, to) {
  const from = (await demo.wire()).length;
  await card.locator(`button[data-action=${action}]`).click();
  if (to !== undefined) {
    const form = card.locator(`form[data-for=${action}]`);
    await form.locator("input").fill(to);
    await form.locator("button[type=submit]").click();
  }
  return until(async () => invokes(await demo.wire(), from).find((i) => i.name === csta), 10000, csta);
}

const cards = () => panel.locator("#calls li.call");
const cardIn = (state) => panel.locator(`#calls li.call[data-state=${state}]`);

async function incoming(from) {
  await demo.post("demo/call", { from, to: DEVICE });
  await cardIn("alerting").waitFor();
  return cardIn("alerting");
}

test("answer, hold, retrieve, consult and transfer", async () => {
  const ringing = await incoming("00612345678");
  const id = await ringing.getAttribute("data-call-id");
  assert.equal(await ringing.locator("button[data-action=hold]").isDisabled(), true, "hold is off while ringing");
  const answer = await act(ringing, "answer", "answerCall");
  const pbxCallId = await panel.locator("body").evaluate((_, i) => window.ctigwPanel.gateway.calls.get(i).pbxCallId, id);
  assert.equal(answer.arg.connection.call, pbxCallId, "AnswerCall names the ringing call");
  const card = panel.locator(`#calls li.call[data-call-id="${id}"]`);
  await panel.locator(`#calls li.call[data-call-id="${id}"][data-state=connected]`).waitFor();
  assert.equal(await card.locator("button[data-action=answer]").isDisabled(), true, "answer is off once answered");
  await until(async () => /Ada Lovelace/.test(await card.innerText()), 5000, "the CRM name");
  await page.locator("#channel").screenshot({ path: screenshotPath("in-call.png") });

  await act(card, "hold", "holdCall");
  await panel.locator(`#calls li.call[data-call-id="${id}"][data-state=held]`).waitFor();
  assert.match(await card.locator(".state-text").innerText(), /hold/i);
  await act(card, "retrieve", "retrieveCall");
  await panel.locator(`#calls li.call[data-call-id="${id}"][data-state=connected]`).waitFor();

  const consult = await act(card, "consult", "consultationCall", "06 11 22 33 44");
  assert.equal(consult.arg.existingCall.call, pbxCallId);
  assert.equal(consult.arg.calledDirectoryNumber.deviceIdentifier.dialingNumber, "00611223344");
  await panel.locator(`#calls li.call[data-call-id="${id}"][data-state=held]`).waitFor();
  await until(async () => (await cards().count()) === 2, 5000, "the consultation call");
  const second = panel.locator(`#calls li.call:not([data-call-id="${id}"])`);
  await act(second, "transfer", "transferCall");
  await until(async () => (await cards().count()) === 0, 10000, "both calls to leave the phone");
});

test("consult then conference, then hang up", async () => {
  const ringing = await incoming("00123456789");
  const id = await ringing.getAttribute("data-call-id");
  await act(ringing, "answer", "answerCall");
  const card = panel.locator(`#calls li.call[data-call-id="${id}"]`);
  await panel.locator(`#calls li.call[data-call-id="${id}"][data-state=connected]`).waitFor();
  await act(card, "consult", "consultationCall", "0623456789");
  await until(async () => (await cards().count()) === 2, 5000, "the consultation call");
  assert.equal((await demo.post("demo/answer", { device: "00623456789" })).status, 200);
  const second = panel.locator(`#calls li.call:not([data-call-id="${id}"])`);
  await until(async () => /In call/.test(await second.locator(".state-text").innerText()), 5000, "the consulted party to answer");
  await act(second, "conference", "conferenceCall");
  await until(async () => (await cards().count()) === 1, 10000, "one conference call");
  await cardIn("connected").waitFor();
  await act(cards().first(), "hangup", "clearConnection");
  await until(async () => (await cards().count()) === 0, 10000, "the call to end");
});

test("deflect a ringing call", async () => {
  const ringing = await incoming("00612345678");
  const d = await act(ringing, "deflect", "divertCall", "24103");
  assert.match(JSON.stringify(d.arg), /24103/);
  await until(async () => (await cards().count()) === 0, 10000, "the call to leave the phone");
  await demo.post("demo/hangup", { device: "00612345678" });
});
