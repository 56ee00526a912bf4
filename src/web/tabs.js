// Several Dynamics tabs each run this page: one of them leads (it holds a Web Lock for as long
// as it lives; the next tab takes over when it closes) and the others relay click-to-act
// events to it over a BroadcastChannel, so one click places exactly one call. The leader
// also drops a click it has just handled (the same event delivered to several tabs).

const CHANNEL = "ctigw-cif";
const LEADER_LOCK = "ctigw-leader";
const SAME_CLICK_MS = 3000;

export class Tabs {
  constructor(onClick) {
    this.onClick = onClick;
    this.leader = false;
    this.recent = new Map();
    this.channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
    if (this.channel) {
      this.channel.onmessage = (m) => {
        if (m.data && m.data.kind === "click" && this.leader) this.handle(m.data.payload);
      };
    }
    if (navigator.locks) {
      navigator.locks.request(LEADER_LOCK, () => {
        this.leader = true;
        document.documentElement.dataset.leader = "true";
        return new Promise(() => {}); // held until the tab goes away
      });
    } else {
      this.leader = true; // no locks: every tab acts alone
    }
  }

  // A click-to-act event arrived in this tab.
  click(payload) {
    if (this.leader || !this.channel) this.handle(payload);
    else this.channel.postMessage({ kind: "click", payload });
  }

  handle(payload) {
    const key = JSON.stringify([payload.value, payload.name, payload.entityLogicalName]);
    const now = Date.now();
    for (const [k, at] of this.recent) if (now - at > SAME_CLICK_MS) this.recent.delete(k);
    if (this.recent.has(key)) return;
    this.recent.set(key, now);
    this.onClick(payload);
  }
}

// Runs `fn` in at most one tab at a time for `name` (a Web Lock), or directly without locks.
export function exclusive(name, fn) {
  if (navigator.locks) return navigator.locks.request(name, fn);
  return fn();
}
