// The ctigw v1 WebSocket client (docs/api.md): authenticates with a first `auth` message,
// subscribes, keeps links, devices, calls and agents by id, and after any loss of the
// connection reconnects with back-off and `resume`s from the last seq, so no event is lost
// and none applied twice. Commands are matched to their result by id.

const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];

export class Gateway {
  constructor({ token, onChange, onEvent, onStatus, onAuthFailed }) {
    this.token = token;
    this.onChange = onChange || (() => {});
    this.onEvent = onEvent || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onAuthFailed = onAuthFailed || (() => {});
    this.links = new Map();
    this.devices = new Map();
    this.calls = new Map();
    this.agents = new Map();
    this.seq = null;
    this.nextId = 1;
    this.pending = new Map();
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
    this.resumes = 0; // reconnections answered by a replay rather than a snapshot
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000, "signed out");
  }

  // Drops the socket as a network failure would (the page then reconnects and resumes).
  drop() {
    if (this.ws) this.ws.close(4999, "dropped");
  }

  open() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    this.onStatus({ state: "connecting" });
    // the path comes from the page (<html data-ws>), so a proxy prefix can be set there
    const path = document.documentElement.dataset.ws || "/v1/ws";
    const ws = new WebSocket(`${proto}://${location.host}${path}`);
    this.ws = ws;
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      this.receive(msg);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [, p] of this.pending) p.reject(Object.assign(new Error("connection lost"), { code: "link_down" }));
      this.pending.clear();
      if (this.stopped) return;
      if (e.code === 4001 || e.code === 4002 || e.code === 4003) {
        this.onAuthFailed(e.code, e.reason);
        return;
      }
      const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      this.onStatus({ state: "reconnecting", wait, code: e.code });
      this.retryTimer = setTimeout(() => this.open(), wait);
    };
  }

  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  request(op, fields = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.send({ op, id, ...fields })) {
        reject(Object.assign(new Error("not connected"), { code: "link_down" }));
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  // A command: resolves with the result, rejects with {code, message} when ok is false.
  async command(op, fields) {
    const r = await this.request(op, fields);
    if (r.ok === false) throw Object.assign(new Error(r.error?.message || "failed"), { code: r.error?.code });
    return r;
  }

  async receive(msg) {
    if (msg.type === "hello") {
      try {
        if (this.token) await this.command("auth", { token: this.token });
        if (this.seq === null) {
          this.applySnapshot(await this.request("subscribe", { devices: "*" }));
        } else {
          const r = await this.request("resume", { lastSeq: this.seq, devices: "*" });
          if (r.type === "snapshot") this.applySnapshot(r);
          else if (r.resumed) this.resumes += 1;
        }
        this.attempt = 0;
        this.onStatus({ state: "up" });
        this.onChange();
      } catch (e) {
        this.onStatus({ state: "error", message: e.message });
      }
      return;
    }
    if (msg.type === "result" || msg.type === "snapshot") {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p.resolve(msg);
      }
      return;
    }
    if (msg.type === "event") {
      if (this.seq !== null && msg.seq <= this.seq) return; // already applied
      this.seq = msg.seq;
      this.apply(msg);
      this.onEvent(msg);
      this.onChange();
    }
  }

  applySnapshot(s) {
    const byId = (list, key = "id") => new Map((list || []).map((x) => [x[key], x]));
    this.links = byId(s.links);
    this.devices = byId(s.devices);
    this.calls = byId(s.calls);
    this.agents = byId(s.agents, "device");
    this.seq = s.seq;
    this.onEvent({ type: "snapshot" });
  }

  apply(msg) {
    if (msg.call) {
      if (msg.event === "call.cleared" || !(msg.call.connections || []).some((c) => c.monitored)) {
        this.calls.delete(msg.call.id);
      } else {
        this.calls.set(msg.call.id, msg.call);
      }
    }
    if (msg.device) this.devices.set(msg.device.id, msg.device);
    if (msg.agent) this.agents.set(msg.agent.device, msg.agent);
    if (msg.link) this.links.set(msg.link.id, msg.link);
  }
}
