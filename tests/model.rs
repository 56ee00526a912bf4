//! The call model's mappings: every Rainbow call status is reachable and maps from the CSTA
//! states the way PROTOCOLS.md section 6 and docs/api.md say; keys and names are Rainbow's.
//! The status is derived outside the model (`engine::rainbow`): a call serialised as the API
//! sends it is the model's JSON plus a `rainbowStatus` on each monitored leg, nothing else.

use ctigw::engine::rainbow::{ApiCall, RainbowStatus, leg_status, rainbow_status};
use ctigw::model::*;

fn leg(device: &str, state: ConnectionState, initiator: bool) -> Connection {
    Connection {
        id: format!("c/{device}"),
        device: DeviceId::new(device),
        state,
        monitored: true,
        initiator,
        answering: false,
    }
}

#[test]
fn rainbow_keys_and_names_are_the_sdk_ones() {
    let expected = [
        (0, "Unknown"),
        (1, "dialing"),
        (2, "queuedIncoming"),
        (3, "incomingCall"),
        (4, "ringingOutgoing"),
        (5, "active"),
        (6, "held"),
        (7, "putOnHold"),
        (8, "releasing"),
        (9, "answering"),
        (10, "queuedOutGoing"),
        (11, "error"),
        (12, "connecting"),
    ];
    for (s, (key, name)) in RainbowStatus::ALL.iter().zip(expected) {
        assert_eq!(s.key(), key);
        assert_eq!(s.name(), name);
        // the JSON form is the name
        assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(name));
    }
}

#[test]
fn every_rainbow_status_maps_from_csta_states() {
    use ConnectionState as S;
    use RainbowStatus as R;
    let far = |s| leg("far", s, false);
    let cases: Vec<(Connection, Vec<Connection>, R)> = vec![
        (leg("me", S::Initiated, true), vec![], R::Dialing),
        (
            leg("me", S::Queued, false),
            vec![far(S::Connected)],
            R::QueuedIncoming,
        ),
        (
            leg("me", S::Alerting, false),
            vec![far(S::Connected)],
            R::IncomingCall,
        ),
        (
            leg("me", S::Connected, true),
            vec![far(S::Alerting)],
            R::RingingOutgoing,
        ),
        (
            leg("me", S::Connected, true),
            vec![far(S::Connected)],
            R::Active,
        ),
        (leg("me", S::Held, false), vec![far(S::Connected)], R::Held),
        (
            leg("me", S::Connected, false),
            vec![far(S::Held)],
            R::PutOnHold,
        ),
        (
            leg("me", S::Null, false),
            vec![far(S::Connected)],
            R::Releasing,
        ),
        (
            Connection {
                answering: true,
                ..leg("me", S::Alerting, false)
            },
            vec![far(S::Connected)],
            R::Answering,
        ),
        (
            leg("me", S::Connected, true),
            vec![far(S::Queued)],
            R::QueuedOutgoing,
        ),
        (leg("me", S::Fail, true), vec![far(S::Connected)], R::Error),
        (leg("me", S::Connected, true), vec![far(S::Fail)], R::Error),
        (leg("me", S::Connected, true), vec![], R::Connecting),
        // answered, far end unreported (not monitored, e.g. a trunk): the call is up
        (leg("me", S::Connected, false), vec![], R::Active),
    ];
    let mut reached = std::collections::HashSet::new();
    for (me, others, want) in &cases {
        let refs: Vec<&Connection> = others.iter().collect();
        assert_eq!(
            rainbow_status(me, &refs),
            *want,
            "{:?} with far {:?}",
            me.state,
            others.iter().map(|c| c.state).collect::<Vec<_>>()
        );
        reached.insert(*want);
    }
    // every status but Unknown is produced by some state (Unknown is for calls not yet seen)
    for s in RainbowStatus::ALL {
        assert!(
            s == RainbowStatus::Unknown || reached.contains(&s),
            "{s:?} is never produced"
        );
    }
}

#[test]
fn connection_states_keep_their_csta_numbers() {
    for (i, s) in ConnectionState::ALL.iter().enumerate() {
        assert_eq!(s.csta_value() as usize, i);
        assert_eq!(ConnectionState::from_csta_value(i as i64), Some(*s));
    }
    assert_eq!(ConnectionState::from_csta_value(7), None);
    assert_eq!(ConnectionState::from_csta_value(-1), None);
}

#[test]
fn commands_parse_from_the_api_json() {
    let c: Command = serde_json::from_str(
        r#"{"op":"makeCall","id":2,"device":"24103","to":"+33 1 23 45 67 89"}"#,
    )
    .unwrap();
    assert_eq!(
        c,
        Command::MakeCall {
            device: DeviceId::new("24103"),
            to: "+33 1 23 45 67 89".into()
        }
    );
    let c: Command = serde_json::from_str(
        r#"{"op":"transfer","id":3,"device":"24103","heldCallId":"a","activeCallId":"b"}"#,
    )
    .unwrap();
    assert_eq!(c.op(), "transfer");
    let c: Command = serde_json::from_str(
        r#"{"op":"setAgentState","id":4,"device":"24103","state":"notReady","reason":"lunch"}"#,
    )
    .unwrap();
    assert_eq!(
        c,
        Command::SetAgentState {
            device: DeviceId::new("24103"),
            state: AgentState::NotReady,
            agent_id: None,
            reason: Some("lunch".into())
        }
    );
    let c: Command = serde_json::from_str(
        r#"{"op":"setForward","id":5,"device":"24103","kind":"busyOrNoAnswer","to":"24104"}"#,
    )
    .unwrap();
    assert_eq!(c.device().as_str(), "24103");
    assert!(
        serde_json::from_str::<Command>(r#"{"op":"hold","id":6,"device":"24103"}"#).is_err(),
        "callId is required"
    );
}

fn sample_call(answering: bool) -> Call {
    let mut far = leg("00612345678", ConnectionState::Connected, true);
    far.monitored = false;
    let mut me = leg("24101", ConnectionState::Alerting, false);
    me.answering = answering;
    Call {
        id: CallId::new("c-1"),
        link: LinkId::new("oxe1"),
        pbx_call_id: "2b01".into(),
        direction: Direction::Inbound,
        calling: Some(Party {
            number: "00612345678".into(),
            e164: Some("+33612345678".into()),
            name: None,
            internal: false,
        }),
        called: None,
        connections: vec![far, me],
        started_at: 1_740_845_383_000,
        answered_at: None,
        ended_at: None,
        conference: false,
        cause: Some("newCall".into()),
    }
}

#[test]
fn the_api_form_of_a_call_is_the_model_json_plus_rainbow_status_on_monitored_legs() {
    for answering in [false, true] {
        let call = sample_call(answering);
        let model = serde_json::to_string(&call).unwrap();
        let api = serde_json::to_string(&ApiCall(&call)).unwrap();
        let want = if answering {
            "answering"
        } else {
            "incomingCall"
        };
        // the only difference is the monitored leg's status, placed before `answering`
        let key = format!(r#","rainbowStatus":"{want}""#);
        assert_eq!(api.matches("rainbowStatus").count(), 1, "{api}");
        assert!(api.contains(&key), "{api}");
        assert_eq!(api.replacen(&key, "", 1), model);
        if answering {
            assert!(
                api.contains(r#""rainbowStatus":"answering","answering":true}"#),
                "{api}"
            );
        }
    }
}

#[test]
fn leg_status_is_only_for_monitored_legs_in_the_call() {
    let call = sample_call(false);
    assert_eq!(
        leg_status(&call, &DeviceId::new("24101")),
        Some(RainbowStatus::IncomingCall)
    );
    assert_eq!(leg_status(&call, &DeviceId::new("00612345678")), None);
    assert_eq!(leg_status(&call, &DeviceId::new("24199")), None);
}
