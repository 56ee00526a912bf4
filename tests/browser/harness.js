// Shared by the browser tests: starts `ctigw demo` (the built binary, a free port, the
// simulated OXE behind the demo's wire tap), opens headless Chromium with a fresh profile, and
// reads the CSTA requests the gateway wrote to the PBX (GET /demo/wire).

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "..", "..");
export const ARTIFACTS = path.join(ROOT, "target", "browser-artifacts");
export const DEVICE = "24104";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function startDemo() {
  const bin = process.env.CTIGW_BIN || path.join(ROOT, "target", "debug", "ctigw");
  const child = spawn(bin, ["demo", "--listen", "127.0.0.1:0", "--pbx", "oxe", "--plain-http"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-20000)));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`ctigw demo printed no URL: ${out} ${stderr}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /live view at (http:\/\/\S+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`ctigw demo exited (${code}): ${stderr}`)));
  });
  const demo = {
    url,
    child,
    stderr: () => stderr,
    async wire() {
      return (await fetch(url + "demo/wire")).json();
    },
    async post(p, body) {
      const r = await fetch(url + p, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      return { status: r.status, body: await r.json() };
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    },
  };
  // the link must be up before a test acts
  await until(async () => {
    const h = await (await fetch(url + "healthz")).json();
    return h.status === "ok";
  }, 20000, "the demo's OXE link to come up");
  return demo;
}

export async function launch() {
  const dir = mkdtempSync(path.join(tmpdir(), "ctigw-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 800 },
  });
  const close = async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { context, close };
}

// The decoded invokes the gateway sent (argument name -> argument), from entry `from` on.
export function invokes(wire, from = 0) {
  return wire
    .slice(from)
    .filter((p) => p.invoke && p.invoke.argument)
    .map((p) => {
      const [name, arg] = Object.entries(p.invoke.argument)[0];
      return { name, arg };
    });
}

export async function until(check, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last && last.stack ? last.stack : JSON.stringify(last)})`);
}

// Opens the demo host page and waits until the panel inside it is connected and CIF is up.
export async function openHost(context, demo, query = "") {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(demo.url + "demo/crm.html" + query);
  const panel = page.frameLocator("#channel");
  await panel.locator("#conn[data-state=up]").waitFor({ timeout: 20000 });
  await until(() => page.evaluate(() => window.crmHost.handlers.has("onclicktoact")), 15000, "onclicktoact handler");
  return { page, panel };
}

export function screenshotPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

// CIF calls the host recorded, by function name.
export async function cifCalls(page, fn) {
  return page.evaluate((f) => window.crmHost.calls.filter((c) => !f || c.fn === f), fn);
}
