//! The gateway daemon against the simulated CSTA XML PBXs over real TCP: the OpenScape-like
//! CSTA XML server (ECMA-354 session kept alive, 8-byte frames) and the uaCSTA gateway (SIP
//! dialogs, Digest challenge, INFO requests and events, re-INVITE refresh, BYE): scenarios'
//! API events, the link cut mid-call and resynchronised, a PBX restart, a refused monitor
//! reported by name, and every command answered exactly once.

mod common;

use common::{has, start_daemon, state};
use ctigw::daemon::Running;
use ctigw::model::{AgentState, Command, DeviceId, ErrorCode, ForwardKind};
use ctigw::sim::csta_xml::{self, Control, SimConfig, SimCsta};
use ctigw::sim::oxe::scenario::{CALLER, OUTSIDE};
use serde_json::Value;
use std::time::Duration;

const A: &str = "24101";
const B: &str = "24102";
const C: &str = "24103";
const AGENT: &str = "24110";

type Gw = common::Gw<SimCsta>;

fn openscape() -> SimConfig {
    SimConfig {
        pace: 0.05,
        reset_downtime: Duration::from_millis(300),
        ..SimConfig::openscape()
    }
}

fn cucm() -> SimConfig {
    SimConfig {
        pace: 0.05,
        reset_downtime: Duration::from_millis(300),
        ..SimConfig::cucm(Some("s3cret"))
    }
}

fn link_keys(cfg: &SimConfig) -> &'static str {
    match cfg.front {
        csta_xml::Front::OpenScape => "dialect = \"csta-xml-tcp\"\nedition = \"ed4\"\n",
        csta_xml::Front::UaCsta { .. } => {
            "dialect = \"uacsta\"\nusername = \"ctigw\"\npassword = \"s3cret\"\ndomain = \"cucm.example.com\"\n"
        }
    }
}

async fn start(sim_cfg: SimConfig, extra: &str) -> (SimCsta, Running) {
    let keys = link_keys(&sim_cfg);
    let sim = csta_xml::spawn("127.0.0.1:0".parse().unwrap(), sim_cfg)
        .await
        .unwrap();
    let text = format!(
        "[api]\nlisten = \"127.0.0.1:0\"\nauth = \"none\"\n[engine]\ncommand_timeout_ms = 4000\n[[link]]\nname = \"x1\"\n{keys}address = \"{}\"\ndevices = [\"{A}\", \"{B}\", \"{C}\", \"{AGENT}\"]\nrequest_timeout_ms = 2000\nreconnect_min_ms = 50\nreconnect_max_ms = 300\n{extra}",
        sim.addr
    );
    (sim, start_daemon(&text).await)
}

async fn gateway(sim_cfg: SimConfig, extra: &str) -> Gw {
    let (sim, running) = start(sim_cfg, extra).await;
    Gw::attach(sim, running, &[A, B, C, AGENT]).await
}

async fn scenarios(gw: &mut Gw) {
    gw.sim.scenario("inbound").await;
    let d = gw
        .call_event("call.delivered", |c| has(c, A, "alerting"))
        .await;
    assert_eq!(d["direction"], "inbound");
    assert_eq!(d["calling"]["number"], CALLER);
    let id = d["id"].clone();
    let e = gw
        .call_event("call.established", |c| has(c, A, "connected"))
        .await;
    assert_eq!(e["id"], id);
    let x = gw.call_event("call.cleared", |c| c["id"] == id).await;
    assert_eq!(x["cause"], "normalClearing");

    gw.sim.scenario("internal").await;
    let d = gw
        .call_event("call.delivered", |c| has(c, B, "alerting"))
        .await;
    assert_eq!(d["direction"], "internal");
    let e = gw
        .call_event("call.established", |c| has(c, B, "connected"))
        .await;
    assert_eq!(e["id"], d["id"]);
    assert_eq!(e["connections"].as_array().unwrap().len(), 2);
    gw.call_event("call.cleared", |c| c["id"] == d["id"]).await;

    gw.sim.scenario("hold").await;
    let h = gw.call_event("call.held", |c| has(c, A, "held")).await;
    let r = gw
        .call_event("call.retrieved", |c| has(c, A, "connected"))
        .await;
    assert_eq!(h["id"], r["id"]);
    gw.call_event("call.cleared", |c| c["id"] == r["id"]).await;

    gw.sim.scenario("trunk").await;
    let n = gw
        .call_event("call.networkReached", |c| has(c, OUTSIDE, "alerting"))
        .await;
    assert_eq!(n["direction"], "outbound");
    gw.call_event("call.cleared", |c| c["id"] == n["id"]).await;

    gw.sim.scenario("transfer").await;
    let first = gw
        .call_event("call.delivered", |c| has(c, A, "alerting"))
        .await["id"]
        .clone();
    let consult = gw
        .call_event("call.delivered", |c| has(c, B, "alerting"))
        .await;
    assert_ne!(consult["id"], first);
    let t = gw.call_event("call.transferred", |_| true).await;
    assert_eq!(t["id"], first, "the held call survives the transfer");
    assert!(state(&t, A).is_none(), "the transferring party left: {t}");
    assert!(
        has(&t, B, "connected") && has(&t, CALLER, "connected"),
        "{t}"
    );
    gw.call_event("call.cleared", |c| c["id"] == first).await;

    gw.sim.scenario("conference").await;
    let conf = gw.call_event("call.conferenced", |_| true).await;
    assert_eq!(conf["conference"], true);
    assert!(
        has(&conf, A, "connected") && has(&conf, B, "connected") && has(&conf, CALLER, "connected"),
        "{conf}"
    );
    gw.call_event("call.cleared", |c| c["id"] == conf["id"])
        .await;

    gw.sim.scenario("forward").await;
    gw.wait("forwarding shown", |e| {
        e["event"] == "device.updated"
            && e["device"]["id"] == B
            && e["device"]["forwards"][0]["destination"] == C
    })
    .await;
    gw.call_event("call.diverted", |c| state(c, B).is_none())
        .await;
    let d = gw
        .call_event("call.delivered", |c| has(c, C, "alerting"))
        .await;
    gw.call_event("call.cleared", |c| c["id"] == d["id"]).await;
}

#[tokio::test]
async fn openscape_scenarios() {
    let mut gw = gateway(openscape(), "").await;
    scenarios(&mut gw).await;
    gw.running.shutdown().await;
}

#[tokio::test]
async fn cucm_scenarios_after_a_digest_challenge_one_dialog_per_line() {
    let mut gw = gateway(cucm(), "dialog_per_line = true\n").await;
    let st = gw.sim.stats().await;
    assert_eq!(st.challenges, 1, "{st:?}");
    assert_eq!(st.auth_failures, 0, "{st:?}");
    assert_eq!(st.dialogs, 4, "one dialog per line: {st:?}");
    scenarios(&mut gw).await;
    gw.running.shutdown().await;
}

#[tokio::test]
async fn cucm_dialog_refreshed_by_reinvite_and_bye_on_shutdown() {
    let gw = gateway(cucm(), "dialog_refresh_secs = 1\n").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let st = gw.sim.stats().await;
    assert!(st.reinvites >= 2, "{st:?}");
    assert_eq!(st.dialogs, 1);
    assert_eq!(st.connections, 1, "refreshing never reconnects: {st:?}");
    let sim = gw.sim.clone();
    gw.running.shutdown().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.stats().await.byes == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no BYE on shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn openscape_session_kept_alive() {
    let mut cfg = openscape();
    cfg.session_duration = 2;
    let gw = gateway(cfg, "session_duration_secs = 10\nkeepalive_secs = 1\n").await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let st = gw.sim.stats().await;
    assert!(st.session_resets >= 2, "{st:?}");
    assert_eq!(st.connections, 1, "the session never expired: {st:?}");
    let sim = gw.sim.clone();
    gw.running.shutdown().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.stats().await.session_stops == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no StopApplicationSession on shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn cut_and_resync(sim_cfg: SimConfig, extra: &str) {
    let mut gw = gateway(sim_cfg, extra).await;
    gw.sim
        .control(Control::Act(Box::new(|sw| {
            let c = sw.originate(CALLER, A);
            sw.answer(&c, A).unwrap();
            let c2 = sw.originate(CALLER, B);
            sw.answer(&c2, B).unwrap();
        })))
        .await;
    let on_a = gw
        .call_event("call.established", |c| has(c, A, "connected"))
        .await;
    let on_b = gw
        .call_event("call.established", |c| has(c, B, "connected"))
        .await;
    gw.sim.control(Control::Cut).await;
    gw.wait("link down", |e| {
        e["event"] == "link.updated" && e["link"]["status"] == "down"
    })
    .await;
    // while the link is down, B's call ends
    let b_call = gw
        .sim
        .calls()
        .await
        .into_iter()
        .find(|(_, p)| p.iter().any(|(d, _)| d == B))
        .unwrap()
        .0;
    gw.sim
        .control(Control::Act(Box::new(move |sw| drop(sw.clear(&b_call, B)))))
        .await;
    gw.wait("link up", |e| {
        e["event"] == "link.updated" && e["link"]["status"] == "up"
    })
    .await;
    let gone = gw
        .call_event("call.cleared", |c| c["id"] == on_b["id"])
        .await;
    assert_eq!(gone["cause"], "resynchronised");
    let snap = gw.running.engine.snapshot().await.unwrap();
    assert!(
        snap.calls
            .iter()
            .any(|c| c.id.to_string() == on_a["id"].as_str().unwrap()),
        "A's call kept"
    );
    gw.running.shutdown().await;
}

#[tokio::test]
async fn openscape_cut_mid_call_then_resynchronised() {
    cut_and_resync(openscape(), "").await;
}

#[tokio::test]
async fn cucm_cut_mid_call_then_resynchronised() {
    cut_and_resync(cucm(), "dialog_per_line = true\n").await;
}

#[tokio::test]
async fn openscape_restart_clears_calls() {
    let mut gw = gateway(openscape(), "").await;
    gw.sim.scenario("reset").await;
    let e = gw
        .call_event("call.established", |c| has(c, A, "connected"))
        .await;
    gw.wait("link down", |e| {
        e["event"] == "link.updated" && e["link"]["status"] == "down"
    })
    .await;
    let gone = gw.call_event("call.cleared", |c| c["id"] == e["id"]).await;
    assert_eq!(gone["cause"], "resynchronised");
    gw.running.shutdown().await;
}

#[tokio::test]
async fn monitor_refused_is_reported_by_name() {
    let mut cfg = openscape();
    cfg.switch.monitor_limit = 3;
    let (_sim, running) = start(cfg, "").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let snap = running.engine.snapshot().await.unwrap();
        if let Some(d) = snap.devices.iter().find(|d| d.monitor_error.is_some()) {
            assert_eq!(d.id.as_str(), AGENT);
            let msg = d.monitor_error.as_deref().unwrap();
            assert!(msg.contains("overallMonitorLimitExceeded"), "{msg}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no refused monitor");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.shutdown().await;
}

async fn every_command(sim_cfg: SimConfig, extra: &str, agent_supported: bool) {
    let mut gw = gateway(sim_cfg, extra).await;
    let eng = gw.running.engine.clone();
    let dev = |d: &str| DeviceId::new(d);
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
    eng.command(Command::Retrieve {
        device: dev(A),
        call_id: call_id.clone(),
    })
    .await
    .unwrap();
    gw.call_event("call.retrieved", |c| has(c, A, "connected"))
        .await;
    let consult = eng
        .command(Command::Consult {
            device: dev(A),
            call_id: call_id.clone(),
            to: C.into(),
        })
        .await
        .unwrap()
        .call_id
        .expect("consult returns the new call");
    gw.call_event("call.delivered", |c| has(c, C, "alerting"))
        .await;
    eng.command(Command::Answer {
        device: dev(C),
        call_id: consult.clone(),
    })
    .await
    .unwrap();
    gw.call_event("call.established", |c| has(c, C, "connected"))
        .await;
    eng.command(Command::Alternate {
        device: dev(A),
        held_call_id: call_id.clone(),
        active_call_id: consult.clone(),
    })
    .await
    .unwrap();
    eng.command(Command::SendDigits {
        device: dev(A),
        call_id: call_id.clone(),
        digits: "12#".into(),
    })
    .await
    .unwrap();
    eng.command(Command::Conference {
        device: dev(A),
        held_call_id: consult.clone(),
        active_call_id: call_id.clone(),
    })
    .await
    .unwrap();
    let conf = gw.call_event("call.conferenced", |_| true).await;
    assert!(
        has(&conf, A, "connected") && has(&conf, B, "connected") && has(&conf, C, "connected"),
        "{conf}"
    );
    let conf_id: ctigw::model::CallId = serde_json::from_value(conf["id"].clone()).unwrap();
    eng.command(Command::Hangup {
        device: dev(A),
        call_id: conf_id.clone(),
    })
    .await
    .unwrap();
    eng.command(Command::SingleStepTransfer {
        device: dev(B),
        call_id: conf_id.clone(),
        to: AGENT.into(),
    })
    .await
    .unwrap();
    gw.call_event("call.delivered", |c| has(c, AGENT, "alerting"))
        .await;
    eng.command(Command::SetForward {
        device: dev(C),
        kind: ForwardKind::Immediate,
        to: A.into(),
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
        device: dev(C),
        enabled: true,
    })
    .await
    .unwrap();
    gw.wait("dnd", |e| {
        e["event"] == "device.updated" && e["device"]["id"] == C && e["device"]["dnd"] == true
    })
    .await;
    // a refused request is a named error
    let e = eng
        .command(Command::Retrieve {
            device: dev(C),
            call_id: conf_id.clone(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.code,
            ErrorCode::UnknownCall | ErrorCode::InvalidState | ErrorCode::PbxRejected
        ),
        "{e:?}"
    );
    let r = eng
        .command(Command::SetAgentState {
            device: dev(AGENT),
            state: AgentState::Ready,
            agent_id: None,
            reason: None,
        })
        .await;
    if agent_supported {
        r.unwrap();
    } else {
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::NotSupported, "{e:?}");
        assert!(e.message.contains("serviceNotSupported"), "{e:?}");
    }
    gw.running.shutdown().await;
}

#[tokio::test]
async fn openscape_every_command_gets_one_result() {
    every_command(openscape(), "", true).await;
}

#[tokio::test]
async fn cucm_every_command_gets_one_result() {
    every_command(cucm(), "", false).await;
}

#[tokio::test]
async fn cucm_wrong_password_is_a_named_link_failure() {
    let sim_cfg = SimConfig {
        pace: 0.05,
        ..SimConfig::cucm(Some("other"))
    };
    let (sim, running) = start(sim_cfg, "").await;
    let (_snap, mut feed) = running.engine.subscribe().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let d = tokio::time::timeout_at(deadline, feed.rx.recv())
            .await
            .expect("link down reported")
            .unwrap();
        let v: Value = serde_json::from_slice(&d.frame).unwrap();
        if v["event"] == "link.updated" && v["link"]["status"] == "down" {
            let reason = v["link"]["reason"].as_str().unwrap_or_default();
            assert!(
                reason.contains("authentication failed") && reason.contains("403"),
                "{v}"
            );
            break;
        }
    }
    let st = sim.stats().await;
    assert!(st.auth_failures >= 1 && st.challenges >= 1, "{st:?}");
    running.shutdown().await;
}
