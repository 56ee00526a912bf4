// Issue 12, point 4: the page recovers after its WebSocket is cut (it resumes from the last
// seq and shows the call as it is now, once), and after Dynamics answers a CIF call too late
// (the failure is shown, nothing is retried blindly, and the next click still dials).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launch, openHost, invokes, until, cifCalls, DEVICE } from "./harness.js";

let demo, browser, page, panel, callId;
before(async () => {
  demo = await startDemo();
  browser = await launch();
  ({ page, panel } = await openHost(browser.context, demo));
});
after(async () => {
  await browser?.close();
  await demo?.stop();
});

test("the WebSocket is cut during a call: the page resumes and shows the call as it now is", async () => {
  await demo.post("demo/call", { from: "00612345678", to: DEVICE });
  const ringing = panel.locator("#calls li.call[data-state=alerting]");
  await ringing.waitFor();
  callId = await ringing.getAttribute("data-call-id");
  await ringing.locator("button[data-action=answer]").click();
  await panel.locator(`#calls li.call[data-call-id="${callId}"][data-state=connected]`).waitFor();

  await panel.locator("body").evaluate(() => window.ctigwPanel.dropSocket());
  await panel.locator("#conn[data-state=reconnecting]").waitFor();
  // while the page is away, another client puts the call on hold
  const r = await fetch(demo.url + "v1/commands", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ op: "hold", device: DEVICE, callId }),
  });
  assert.equal(r.status, 200);
  assert.equal(await panel.locator("#conn").getAttribute("data-state"), "reconnecting", "the hold happened while the page was away");

  await panel.locator("#conn[data-state=up]").waitFor({ timeout: 15000 });
  await panel.locator(`#calls li.call[data-call-id="${callId}"][data-state=held]`).waitFor();
  assert.equal(await panel.locator("#calls li.call").count(), 1, "the call is shown once");
  const resumes = await panel.locator("body").evaluate(() => window.ctigwPanel.gateway.resumes);
  assert.equal(resumes, 1, "the page resumed instead of starting afresh");
});

test("Dynamics answers createRecord too late: the page says so, does not retry, and still dials", async () => {
  await page.evaluate(() => window.crmHost.setAnswerMode("late"));
  // the caller hangs up: the page logs the call, and Dynamics does not answer within 10 s
  assert.equal((await demo.post("demo/hangup", { device: "00612345678" })).status, 200);
  await panel.locator(`#wrapups li[data-wrapup="${callId}"][data-log=uncertain]`).waitFor({ timeout: 20000 });
  assert.match(await panel.locator("#errors").innerText(), /createRecord/);

  await page.evaluate(() => window.crmHost.setAnswerMode("normal"));
  // the late answer arrives; the page wrote the record once and did not try again
  await until(() => page.evaluate(() => window.crmHost.calls.some((c) => c.fn === "createRecord" && c.answered)), 5000, "the late answer");
  assert.equal((await cifCalls(page, "createRecord")).length, 1);

  const from = (await demo.wire()).length;
  const handled = await page.evaluate(() => window.crmHost.clickToAct("01 23 45 67 89"));
  assert.equal(handled.ok, true);
  const mk = await until(async () => invokes(await demo.wire(), from).find((i) => i.name === "makeCall"), 10000, "MakeCall after the late answer");
  assert.equal(mk.arg.calledDirectoryNumber.deviceIdentifier.dialingNumber, "00123456789");
  await panel.locator("#calls li.call button[data-action=hangup]").click();
  await panel.locator("#calls li.call").waitFor({ state: "detached" });
});
