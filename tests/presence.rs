//! Phone reachability as presence: the PBX says a phone is unreachable (Asterisk
//! `DeviceStateChange` UNAVAILABLE: not registered) and the device shows `offline` until it
//! is back; calls still decide idle / ringing / busy while it is reachable.

use ctigw::engine::{ApiEvent, Engine, EngineConfig, Output};
use ctigw::model::*;
use ctigw::tools::replay;
use std::time::Instant;

fn ami(device: &str, state: &str) -> Vec<u8> {
    format!("Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: {device}\r\nState: {state}\r\n\r\n").into_bytes()
}

#[test]
fn asterisk_device_state_reports_reachability_changes_only() {
    let mut r = replay::replayer("asterisk", &DialPlan::default()).unwrap();
    let mut out = Vec::new();
    for (dev, st) in [
        ("PJSIP/101", "NOT_INUSE"),
        ("PJSIP/101", "INUSE"),
        ("PJSIP/101", "UNAVAILABLE"),
        ("PJSIP/101", "UNAVAILABLE"),
        ("PJSIP/101", "NOT_INUSE"),
    ] {
        out.extend(r.feed(&ami(dev, st)).into_iter().map(|e| e.unwrap()));
    }
    let online: Vec<(String, bool)> = out
        .iter()
        .filter_map(|e| match e {
            PbxEvent::DeviceOnline { device, online } => Some((device.to_string(), *online)),
            _ => None,
        })
        .collect();
    assert_eq!(
        online,
        vec![
            ("101".to_string(), true),
            ("101".to_string(), false),
            ("101".to_string(), true)
        ]
    );
}

#[test]
fn engine_shows_unreachable_phones_offline() {
    let mut e = Engine::new(EngineConfig::default());
    let link = LinkId::new("pbx");
    let dev = DeviceId::new("24101");
    e.add_link(link.clone(), "asterisk", &[(dev.clone(), None)]);
    let now = Instant::now();
    e.on_pbx_event(&link, PbxEvent::Link(LinkState::Up), now);
    e.on_pbx_event(
        &link,
        PbxEvent::Monitor {
            device: dev.clone(),
            result: Ok(()),
        },
        now,
    );
    e.drain().for_each(drop);
    let presence = |e: &Engine| e.snapshot().devices[0].presence;
    assert_eq!(presence(&e), Presence::Idle);
    e.on_pbx_event(
        &link,
        PbxEvent::DeviceOnline {
            device: dev.clone(),
            online: false,
        },
        now,
    );
    let evs: Vec<_> = e.drain().collect();
    assert!(
        evs.iter().any(|o| matches!(o, Output::Event(s) if matches!(&s.event, ApiEvent::Device { device, .. } if device.presence == Presence::Offline && !device.online))),
        "{evs:?}"
    );
    assert_eq!(presence(&e), Presence::Offline);
    // nothing new, nothing sent
    e.on_pbx_event(
        &link,
        PbxEvent::DeviceOnline {
            device: dev.clone(),
            online: false,
        },
        now,
    );
    assert_eq!(e.drain().count(), 0);
    e.on_pbx_event(
        &link,
        PbxEvent::DeviceOnline {
            device: dev,
            online: true,
        },
        now,
    );
    assert_eq!(presence(&e), Presence::Idle);
    // JSON name
    assert_eq!(serde_json::to_value(Presence::Offline).unwrap(), "offline");
}
