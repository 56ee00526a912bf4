// Issue 12, point 1: a click-to-act event from Dynamics puts one MakeCall on the PBX wire for
// the user's device and the number through the dialling plan, and opens a minimised panel.
// Point 6 (part): the idle panel's screenshot.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, launch, openHost, invokes, until, cifCalls, screenshotPath, DEVICE } from "./harness.js";

let demo, browser;
before(async () => {
  demo = await startDemo();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await demo?.stop();
});

test("click to act dials the clicked number from the user's phone, once", async () => {
  const { page, panel } = await openHost(browser.context, demo);
  await panel.locator("#calls .empty").waitFor();
  await page.locator("#channel").screenshot({ path: screenshotPath("idle.png") });

  // the user had minimised the panel
  await page.evaluate(() => window.crmHost.tables && (window.crmHost.mode = 0));
  const from = (await demo.wire()).length;
  const handled = await page.evaluate(() => window.crmHost.clickToAct("+33 1 23 45 67 89", "telephone1", "contact"));
  assert.equal(handled.ok, true, "the onclicktoact handler answered");
  const calls = await until(async () => {
    const m = invokes(await demo.wire(), from).filter((i) => i.name === "makeCall");
    return m.length ? m : null;
  }, 10000, "a MakeCall on the wire");
  assert.equal(calls[0].arg.callingDevice.dialingNumber, DEVICE);
  assert.equal(calls[0].arg.calledDirectoryNumber.deviceIdentifier.dialingNumber, "00123456789");

  // the panel was opened, and shows the new call
  const setMode = await cifCalls(page, "setMode");
  assert.deepEqual(setMode.map((c) => c.args), [[1]]);
  const card = panel.locator("#calls li.call");
  await card.waitFor();
  assert.match(await card.innerText(), /\+33123456789/);

  // a moment later there is still exactly one MakeCall
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(invokes(await demo.wire(), from).filter((i) => i.name === "makeCall").length, 1);

  // hang up from the panel: ClearConnection on the wire, the card goes
  const before = (await demo.wire()).length;
  await card.locator("button[data-action=hangup]").click();
  await until(async () => invokes(await demo.wire(), before).some((i) => i.name === "clearConnection"), 10000, "ClearConnection");
  await panel.locator("#calls li.call").waitFor({ state: "detached" });
  await page.close();
});

test("a clicked value that holds no number is refused on the page, nothing is dialled", async () => {
  const { page, panel } = await openHost(browser.context, demo);
  const from = (await demo.wire()).length;
  await page.evaluate(() => window.crmHost.clickToAct("n/a", "telephone1", "contact"));
  await panel.locator("#errors li").first().waitFor();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(invokes(await demo.wire(), from).filter((i) => i.name === "makeCall").length, 0);
  assert.match(await panel.locator("#errors li").first().innerText(), /n\/a/);
  await page.close();
});
