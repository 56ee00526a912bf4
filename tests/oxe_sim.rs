//! The gateway daemon against the simulated OXE over real TCP (CSTA BER both ways): every
//! scenario's API events, the link cut mid-call and resynchronised, a PBX restart, a monitor
//! refused for lack of licences reported by name, and every command answered exactly once.

mod common;

use common::{has, start_daemon, state};
use ctigw::model::{CallId, Command, DeviceId, ErrorCode, ForwardKind};
use ctigw::sim::oxe::{self, Control, SimConfig, SimOxe};
use std::time::Duration;

const A: &str = "24101";
const B: &str = "24102";
const C: &str = "24103";
const AGENT: &str = "24110";

type Gw = common::Gw<SimOxe>;

async fn gateway(sim_cfg: SimConfig, extra: &str) -> Gw {
    let sim = oxe::spawn("127.0.0.1:0".parse().unwrap(), sim_cfg)
        .await
        .unwrap();
    let text = format!(
        r#"
[api]
listen = "127.0.0.1:0"
auth = "none"
[engine]
command_timeout_ms = 4000
[[link]]
name = "oxe1"
dialect = "oxe"
address = "{}"
devices = ["{A}", "{B}", "{C}", "{AGENT}"]
keepalive_secs = 1
request_timeout_ms = 2000
reconnect_min_ms = 50
reconnect_max_ms = 300
{extra}
"#,
        sim.addr
    );
    let running = start_daemon(&text).await;
    // every device monitored and resynchronised before the scenario starts
    Gw::attach(sim, running, &[A, B, C, AGENT]).await
}

fn sim_cfg() -> SimConfig {
    SimConfig {
        pace: 0.05,
        keepalive: Some(Duration::from_millis(400)),
        reset_downtime: Duration::from_millis(300),
        ..SimConfig::default()
    }
}

impl Gw {
    async fn run(&mut self, scenario: &str) {
        self.sim.scenario(scenario).await;
    }
}

#[tokio::test]
async fn inbound_internal_hold_and_trunk() {
    let mut gw = gateway(sim_cfg(), "").await;
    gw.run("inbound").await;
    let d = gw
        .call_event("call.delivered", |c| has(c, A, "alerting"))
        .await;
    assert_eq!(d["direction"], "inbound");
    assert_eq!(d["calling"]["number"], oxe::scenario::CALLER);
    assert_eq!(d["calling"]["e164"], "+33612345678");
    let id = d["id"].clone();
    let e = gw
        .call_event("call.established", |c| has(c, A, "connected"))
        .await;
    assert_eq!(e["id"], id);
    let x = gw.call_event("call.cleared", |c| c["id"] == id).await;
    assert_eq!(x["cause"], "normalClearing");

    // internal: one call seen from both monitored devices
    gw.run("internal").await;
    let d = gw
        .call_event("call.delivered", |c| has(c, B, "alerting"))
        .await;
    assert_eq!(d["direction"], "internal");
    let id = d["id"].clone();
    let e = gw
        .call_event("call.established", |c| has(c, B, "connected"))
        .await;
    assert_eq!(e["id"], id);
    assert_eq!(e["connections"].as_array().unwrap().len(), 2);
    gw.call_event("call.cleared", |c| c["id"] == id).await;

    gw.run("hold").await;
    let h = gw.call_event("call.held", |c| has(c, A, "held")).await;
    let r = gw
        .call_event("call.retrieved", |c| has(c, A, "connected"))
        .await;
    assert_eq!(h["id"], r["id"]);
    gw.call_event("call.cleared", |c| c["id"] == r["id"]).await;

    gw.run("trunk").await;
    let n = gw
        .call_event("call.networkReached", |c| {
            has(c, oxe::scenario::OUTSIDE, "alerting")
        })
        .await;
    assert_eq!(n["direction"], "outbound");
    assert_eq!(n["called"]["number"], oxe::scenario::OUTSIDE);
    let e = gw
        .call_event("call.established", |c| {
            has(c, oxe::scenario::OUTSIDE, "connected")
        })
        .await;
    assert!(e["answeredAt"].is_u64());
    gw.call_event("call.cleared", |c| c["id"] == n["id"]).await;
    gw.running.shutdown().await;
}

#[tokio::test]
async fn transfer_conference_and_forward() {
    let mut gw = gateway(sim_cfg(), "").await;
    gw.run("transfer").await;
    let d = gw
        .call_event("call.delivered", |c| has(c, A, "alerting"))
        .await;
    let first = d["id"].clone();
    let consult = gw
        .call_event("call.delivered", |c| has(c, B, "alerting"))
        .await;
    assert_ne!(consult["id"], first);
    let cleared_consult = gw
        .wait("consultation call merged", |e| {
            e["event"] == "call.cleared" && e["call"]["id"] == consult["id"]
        })
        .await;
    let t = gw.call_event("call.transferred", |_| true).await;
    assert_eq!(t["id"], first, "the held call survives the transfer");
    assert!(state(&t, A).is_none(), "the transferring party left: {t}");
    assert!(has(&t, B, "connected") && has(&t, oxe::scenario::CALLER, "connected"));
    assert!(
        cleared_consult["call"]["cause"]
            .as_str()
            .unwrap()
            .starts_with("mergedInto:")
    );
    gw.call_event("call.cleared", |c| c["id"] == first).await;

    gw.run("conference").await;
    let conf = gw.call_event("call.conferenced", |_| true).await;
    assert_eq!(conf["conference"], true);
    assert!(
        has(&conf, A, "connected")
            && has(&conf, B, "connected")
            && has(&conf, oxe::scenario::CALLER, "connected")
    );
    let left = gw
        .call_event("call.connectionCleared", |c| c["id"] == conf["id"])
        .await;
    assert!(state(&left, B).is_none());
    gw.call_event("call.cleared", |c| c["id"] == conf["id"])
        .await;

    gw.run("forward").await;
    let dev = gw
        .wait("forwarding shown", |e| {
            e["event"] == "device.updated"
                && e["device"]["id"] == B
                && e["device"]["forwards"][0]["destination"] == C
        })
        .await;
    assert_eq!(dev["device"]["forwards"][0]["kind"], "immediate");
    gw.call_event("call.diverted", |c| state(c, B).is_none())
        .await;
    let d = gw
        .call_event("call.delivered", |c| has(c, C, "alerting"))
        .await;
    assert_eq!(d["called"]["number"], C);
    gw.call_event("call.cleared", |c| c["id"] == d["id"]).await;
    gw.wait("forwarding cancelled", |e| {
        e["event"] == "device.updated"
            && e["device"]["id"] == B
            && e["device"]["forwards"].is_null()
    })
    .await;
    gw.running.shutdown().await;
}

#[tokio::test]
async fn ccd_agent_with_timer_384_zero_is_freed_at_once() {
    let mut gw = gateway(sim_cfg(), "").await;
    gw.run("ccd-timer384-zero").await;
    gw.wait("agent ready", |e| {
        e["event"] == "agent.updated"
            && e["agent"]["device"] == AGENT
            && e["agent"]["state"] == "ready"
    })
    .await;
    let d = gw
        .call_event("call.delivered", |c| has(c, AGENT, "alerting"))
        .await;
    assert_eq!(d["cause"], "distributed");
    gw.call_event("call.cleared", |c| c["id"] == d["id"]).await;
    gw.quiet(Duration::from_millis(2600), |e| {
        e["event"] == "agent.blocked" || e["agent"]["state"] == "blocked"
    })
    .await;
    gw.running.shutdown().await;
}

#[tokio::test]
async fn ccd_agent_with_timer_384_stays_busy_until_released() {
    let mut gw = gateway(sim_cfg(), "").await;
    gw.run("ccd-timer384").await;
    let d = gw
        .call_event("call.established", |c| has(c, AGENT, "connected"))
        .await;
    let c = gw
        .call_event("call.connectionCleared", |c| {
            state(c, oxe::scenario::CALLER).is_none()
        })
        .await;
    assert!(has(&c, AGENT, "connected"), "agent's leg stays up: {c}");
    assert_eq!(c["id"], d["id"]);
    // the engine diagnoses the agent blocked (and confirms by SnapshotDevice, which the
    // simulated OXE answers truthfully: the agent's connection is still there)
    gw.wait("agent blocked", |e| {
        e["agent"]["device"] == AGENT && e["agent"]["state"] == "blocked"
    })
    .await;
    assert_eq!(
        gw.sim.calls().await.len(),
        1,
        "the PBX still holds the agent's leg"
    );
    // the agent (or the gateway) hangs up: ClearConnection frees the set
    let call_id = CallId::new(d["id"].as_str().unwrap());
    let r = gw
        .running
        .engine
        .command(Command::Hangup {
            device: DeviceId::new(AGENT),
            call_id,
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    gw.call_event("call.cleared", |c| c["id"] == d["id"]).await;
    assert!(gw.sim.calls().await.is_empty());
    gw.running.shutdown().await;
}

#[tokio::test]
async fn link_cut_mid_call_then_resynchronised() {
    let mut gw = gateway(sim_cfg(), "").await;
    // two calls up; the link is cut; one of them ends while we are away
    gw.sim
        .control(Control::Act(Box::new(|sw| {
            let c1 = sw.originate(oxe::scenario::CALLER, A);
            let _ = sw.answer(c1, A);
            let c2 = sw.originate(B, C);
            let _ = sw.answer(c2, C);
        })))
        .await;
    let c1 = gw
        .call_event("call.established", |c| has(c, A, "connected"))
        .await;
    let c2 = gw
        .call_event("call.established", |c| has(c, C, "connected"))
        .await;
    gw.sim.control(Control::Cut).await;
    gw.sim
        .control(Control::Act(Box::new(|sw| {
            let calls = sw.calls();
            for (id, parties) in calls {
                if parties.iter().any(|(d, _)| d == B) {
                    let id = u16::from_str_radix(&id, 16).unwrap();
                    let _ = sw.clear(id, B);
                }
            }
        })))
        .await;
    gw.wait("link down", |e| {
        e["event"] == "link.updated" && e["link"]["status"] == "down"
    })
    .await;
    gw.wait("link up again", |e| {
        e["event"] == "link.updated" && e["link"]["status"] == "up"
    })
    .await;
    let gone = gw.call_event("call.cleared", |c| c["id"] == c2["id"]).await;
    assert_eq!(gone["cause"], "resynchronised");
    // the call that is still up stays, with its id
    let snap = gw.running.engine.snapshot().await.unwrap();
    let calls: Vec<String> = snap.calls.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(calls, vec![c1["id"].as_str().unwrap().to_string()]);
    gw.running.shutdown().await;
}

#[tokio::test]
async fn pbx_restart_clears_calls_with_a_reason() {
    let mut gw = gateway(sim_cfg(), "").await;
    gw.run("reset").await;
    let e = gw
        .call_event("call.established", |c| has(c, A, "connected"))
        .await;
    gw.wait("link down", |e| {
        e["event"] == "link.updated" && e["link"]["status"] == "down"
    })
    .await;
    let gone = gw.call_event("call.cleared", |c| c["id"] == e["id"]).await;
    assert_eq!(gone["cause"], "resynchronised");
    let snap = gw.running.engine.snapshot().await.unwrap();
    assert!(
        snap.devices.iter().all(|d| d.monitored),
        "re-monitored after the restart"
    );
    assert!(snap.calls.is_empty());
    gw.running.shutdown().await;
}

#[tokio::test]
async fn monitor_refused_for_lack_of_licences_is_reported_by_name() {
    let mut cfg = sim_cfg();
    cfg.switch.monitor_limit = 3;
    let sim = oxe::spawn("127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .unwrap();
    let text = format!(
        "[api]\nlisten = \"127.0.0.1:0\"\nauth = \"none\"\n[[link]]\nname = \"oxe1\"\ndialect = \"oxe\"\naddress = \"{}\"\ndevices = [\"{A}\", \"{B}\", \"{C}\", \"{AGENT}\"]\nreconnect_min_ms = 50\n",
        sim.addr
    );
    let running = start_daemon(&text).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let snap = running.engine.snapshot().await.unwrap();
        let refused = snap.devices.iter().find(|d| d.monitor_error.is_some());
        if let Some(d) = refused {
            assert_eq!(d.id.as_str(), AGENT);
            let msg = d.monitor_error.as_deref().unwrap();
            assert!(msg.contains("overallMonitorLimitExceeded"), "{msg}");
            assert_eq!(snap.devices.iter().filter(|d| d.monitored).count(), 3);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no refused monitor");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.shutdown().await;
}

#[tokio::test]
async fn every_command_gets_one_result() {
    let mut gw = gateway(sim_cfg(), "").await;
    let eng = gw.running.engine.clone();
    let dev = |d: &str| DeviceId::new(d);
    // make call: the result names the call the events then describe
    let r = eng
        .command(Command::MakeCall {
            device: dev(A),
            to: B.into(),
        })
        .await
        .unwrap();
    let call_id = r.call_id.expect("makeCall returns the call");
    let d = gw
        .call_event("call.delivered", |c| has(c, B, "alerting"))
        .await;
    assert_eq!(d["id"], call_id.to_string());
    eng.command(Command::Answer {
        device: dev(B),
        call_id: call_id.clone(),
    })
    .await
    .unwrap();
    gw.call_event("call.established", |c| has(c, B, "connected"))
        .await;
    eng.command(Command::Hold {
        device: dev(A),
        call_id: call_id.clone(),
    })
    .await
    .unwrap();
    gw.call_event("call.held", |c| has(c, A, "held")).await;
    // consult, then alternate, then conference
    let consult = eng
        .command(Command::Consult {
            device: dev(A),
            call_id: call_id.clone(),
            to: C.into(),
        })
        .await
        .unwrap()
        .call_id
        .unwrap();
    eng.command(Command::Answer {
        device: dev(C),
        call_id: consult.clone(),
    })
    .await
    .unwrap();
    gw.call_event("call.established", |c| has(c, C, "connected"))
        .await;
    eng.command(Command::Conference {
        device: dev(A),
        held_call_id: call_id.clone(),
        active_call_id: consult.clone(),
    })
    .await
    .unwrap();
    let conf = gw.call_event("call.conferenced", |_| true).await;
    assert_eq!(conf["connections"].as_array().unwrap().len(), 3);
    // what Phase II cannot do is NotSupported, by name
    let e = eng
        .command(Command::SendDigits {
            device: dev(A),
            call_id: call_id.clone(),
            digits: "12".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotSupported);
    let e = eng
        .command(Command::SingleStepTransfer {
            device: dev(A),
            call_id: call_id.clone(),
            to: "24104".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotSupported);
    // features
    eng.command(Command::SetForward {
        device: dev(C),
        kind: ForwardKind::BusyOrNoAnswer,
        to: "24105".into(),
    })
    .await
    .unwrap();
    eng.command(Command::CancelForward {
        device: dev(C),
        kind: None,
    })
    .await
    .unwrap();
    eng.command(Command::SetDnd {
        device: dev(B),
        enabled: true,
    })
    .await
    .unwrap();
    gw.wait("dnd", |e| {
        e["event"] == "device.updated" && e["device"]["id"] == B && e["device"]["dnd"] == true
    })
    .await;
    eng.command(Command::SetAgentState {
        device: dev(AGENT),
        state: ctigw::model::AgentState::NotReady,
        agent_id: None,
        reason: None,
    })
    .await
    .unwrap();
    gw.wait("agent not ready", |e| {
        e["agent"]["device"] == AGENT && e["agent"]["state"] == "notReady"
    })
    .await;
    // a burst of commands at once: each answered once
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let eng = eng.clone();
        let call_id = call_id.clone();
        tasks.push(tokio::spawn(async move {
            eng.command(Command::Hold {
                device: DeviceId::new(B),
                call_id,
            })
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(
                matches!(e.code, ErrorCode::InvalidState | ErrorCode::PbxRejected),
                "{e:?}"
            ),
        }
    }
    assert!(ok >= 1);
    // hang everyone up
    for d in [A, B, C] {
        let _ = eng
            .command(Command::Hangup {
                device: dev(d),
                call_id: call_id.clone(),
            })
            .await;
    }
    gw.call_event("call.cleared", |c| c["id"] == call_id.to_string())
        .await;
    let st = eng.status().await.unwrap();
    assert_eq!(st.pending_commands, 0, "no command left without a result");
    gw.running.shutdown().await;
}
