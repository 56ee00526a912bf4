//! The OXE [`Session`] driven against a sans-IO fake PBX on a simulated clock: no socket, no
//! sleep. [`Pair::step`] moves bytes and actions between the two ends until both are idle,
//! [`Pair::run_until`] jumps the clock from deadline to deadline. The fake speaks only
//! `ctigw_codecs::csta_ber`, so it cannot share a misreading with the gateway's helpers.

use super::error::LinkError;
use super::link::LinkSettings;
use super::options::Options;
use super::session::{Action, Session};
use crate::engine::{Engine, EngineConfig};
use crate::model::{
    CallEvent, DeviceId, ErrorCode, LinkId, LinkState, PbxCommand, PbxEvent, SnapshotCall,
};
use crate::pbx::backoff::Backoff;
use crate::pbx::contract::AdapterRequest;
use bytes::BytesMut;
use ctigw_codecs::csta_ber::acse::{
    Aare, AssociateResult, CSTA_APPLICATION_CONTEXT, ResultSourceDiagnostic, ServiceUserDiagnostic,
};
use ctigw_codecs::csta_ber::events::{DeliveredEvent, private_number};
use ctigw_codecs::csta_ber::rose::OperationResult;
use ctigw_codecs::csta_ber::services::{
    MonitorObject, MonitorStartResult, SnapshotDeviceResponseInfo, SnapshotDeviceResult,
    SystemStatus,
};
use ctigw_codecs::csta_ber::types::DeviceId as CstaDevice;
use ctigw_codecs::csta_ber::{
    AcseApdu, Argument, ConnectionId, CstaCodec, CstaEvent, EventCause, EventReport, Hello, Invoke,
    LocalConnectionState, MonitorCrossRefId, Pdu, ResultValue, ReturnResult, RoseApdu, requests,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder};

const A: &str = "24103";
const CALLER: &str = "24200";
const KEEPALIVE: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The PBX end: answers hello, AARQ, MonitorStart, SnapshotDevice and keep-alives; commands
/// go unanswered; it can refuse the association, fall silent, restart, or report a call.
struct FakePbx {
    codec: CstaCodec,
    rx: BytesMut,
    tx: BytesMut,
    refuse: bool,
    /// Silent: reads everything, answers nothing.
    silent: bool,
    /// The calls each device is in (call id, the device's dynamic id), for snapshots.
    calls: HashMap<String, Vec<(u16, u8)>>,
    monitors: HashMap<String, Vec<u8>>,
    next_invoke: i64,
    /// Every invoke received from the gateway, by operation value.
    invokes: Vec<Argument>,
    associations: usize,
}

impl FakePbx {
    fn new() -> Self {
        FakePbx {
            codec: CstaCodec::server(),
            rx: BytesMut::new(),
            tx: BytesMut::new(),
            refuse: false,
            silent: false,
            calls: HashMap::new(),
            monitors: HashMap::new(),
            next_invoke: 0,
            invokes: Vec::new(),
            associations: 0,
        }
    }

    /// A new TCP connection: a fresh framing and no monitors.
    fn accept(&mut self) {
        self.codec = CstaCodec::server();
        self.rx.clear();
        self.tx.clear();
        self.monitors.clear();
    }

    fn send(&mut self, pdu: Pdu) {
        self.codec.encode(pdu, &mut self.tx).expect("encodable");
    }

    fn invoke_id(&mut self) -> i64 {
        self.next_invoke += 1;
        self.next_invoke
    }

    fn result(&mut self, invoke_id: i64, opcode: i64, value: ResultValue) {
        self.send(Pdu::Rose(RoseApdu::ReturnResult(ReturnResult {
            invoke_id,
            result: Some(OperationResult {
                opcode,
                value: Some(value),
                unknown: vec![],
            }),
            unknown: vec![],
        })));
    }

    fn receive(&mut self, bytes: &[u8]) {
        self.rx.extend_from_slice(bytes);
        while let Some(pdu) = self.codec.decode(&mut self.rx).expect("gateway framing") {
            self.on_pdu(pdu.expect("gateway PDU decodes"));
        }
    }

    fn on_pdu(&mut self, pdu: Pdu) {
        if let Pdu::Rose(RoseApdu::Invoke(inv)) = &pdu {
            self.invokes.push(inv.argument.clone());
        }
        if self.silent {
            return;
        }
        match pdu {
            Pdu::Hello { .. } => self.send(Pdu::Hello { hello: Hello::Pbx }),
            Pdu::Acse(AcseApdu::Aarq(_)) => {
                let (result, diag) = if self.refuse {
                    (
                        AssociateResult::RejectedPermanent,
                        ServiceUserDiagnostic::AuthenticationFailure,
                    )
                } else {
                    self.associations += 1;
                    (AssociateResult::Accepted, ServiceUserDiagnostic::Null)
                };
                self.send(Pdu::Acse(AcseApdu::Aare(Aare {
                    protocol_version: None,
                    application_context_name: Some(CSTA_APPLICATION_CONTEXT.to_string()),
                    result: Some(result),
                    result_source_diagnostic: Some(ResultSourceDiagnostic::AcseServiceUser(diag)),
                    responder_acse_requirements: None,
                    mechanism_name: None,
                    user_information: vec![],
                    other: vec![],
                })));
            }
            Pdu::Rose(RoseApdu::Invoke(inv)) => {
                let (id, op) = (inv.invoke_id, inv.opcode());
                match &inv.argument {
                    Argument::MonitorStart(_) | Argument::SnapshotDevice(_) => {
                        let dev = device_of(&inv.argument).unwrap_or_default();
                        let value = if matches!(inv.argument, Argument::MonitorStart(_)) {
                            let xref = vec![0x10, self.monitors.len() as u8 + 1];
                            self.monitors.insert(dev, xref.clone());
                            ResultValue::MonitorStart(MonitorStartResult {
                                cross_ref_identifier: MonitorCrossRefId(xref),
                                monitor_filter: None,
                                unknown: vec![],
                            })
                        } else {
                            ResultValue::SnapshotDevice(self.snapshot(&dev))
                        };
                        self.result(id, op, value);
                    }
                    Argument::SystemStatus(_) => self.result(id, op, ResultValue::Null),
                    // commands: never answered
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn snapshot(&self, dev: &str) -> SnapshotDeviceResult {
        let data = self
            .calls
            .get(dev)
            .into_iter()
            .flatten()
            .map(|&(call, dynid)| SnapshotDeviceResponseInfo {
                device_on_call: None,
                call_identifier: ConnectionId::dynamic(&call.to_be_bytes(), &[dynid]),
                local_connection_state: Some(LocalConnectionState::Connected),
                local_call_state: None,
                unknown: vec![],
            })
            .collect();
        SnapshotDeviceResult {
            snapshot_data: data,
            in_sequence: false,
            unknown: vec![],
        }
    }

    /// A call from `CALLER` rings at `dev` (the device must be monitored).
    fn deliver(&mut self, dev: &str, call: u16, dynid: u8) {
        let xref = self.monitors[dev].clone();
        let report = EventReport::new(
            &xref,
            CstaEvent::Delivered(DeliveredEvent {
                connection: ConnectionId::dynamic(&call.to_be_bytes(), &[dynid]),
                alerting_device: Some(private_number(dev)),
                calling_device: Some(private_number(CALLER)),
                called_device: Some(private_number(dev)),
                last_redirection_device: None,
                local_connection_info: Some(LocalConnectionState::Alerting),
                cause: Some(EventCause::NewCall),
                unknown: vec![],
            }),
        );
        self.calls
            .entry(dev.to_string())
            .or_default()
            .push((call, dynid));
        let id = self.invoke_id();
        self.send(Pdu::Rose(RoseApdu::Invoke(Invoke::new(
            id,
            Argument::CstaEventReport(report),
        ))));
    }

    /// The PBX restarts: it says so, then forgets every call.
    fn restart(&mut self) {
        let id = self.invoke_id();
        self.send(requests::system_status(id, SystemStatus::Initializing));
        self.calls.clear();
    }
}

/// The device a MonitorStart / SnapshotDevice names.
fn device_of(arg: &Argument) -> Option<String> {
    let d: &CstaDevice = match arg {
        Argument::MonitorStart(m) => match &m.monitor_object {
            MonitorObject::Device(d) => d,
            _ => return None,
        },
        Argument::SnapshotDevice(s) => &s.snapshot_object,
        _ => return None,
    };
    Some(d.digits()?.as_str()?.to_string())
}

/// Gateway session and fake PBX, connected by a simulated TCP connection and clock.
struct Pair {
    now: Instant,
    session: Session,
    pbx: FakePbx,
    connected: bool,
    /// Whether the PBX accepts TCP connections.
    reachable: bool,
    events: Vec<(Instant, PbxEvent)>,
    /// The engine the session's events go to, to see what they do to its calls.
    engine: Engine,
    link: LinkId,
}

impl Pair {
    fn new(opts: Options) -> Self {
        let settings = LinkSettings {
            address: "pbx.test:2555".into(),
            devices: vec![DeviceId::new(A)],
            options: opts.clone(),
        };
        let backoff = Backoff::with_seed(opts.reconnect_min, opts.reconnect_max, 7);
        let link = LinkId::new("oxe1");
        let mut engine = Engine::new(EngineConfig::default());
        engine.add_link(link.clone(), "oxe", &[(DeviceId::new(A), None)]);
        Pair {
            now: Instant::now(),
            session: Session::with_backoff(settings, backoff),
            pbx: FakePbx::new(),
            connected: false,
            reachable: true,
            events: Vec::new(),
            engine,
            link,
        }
    }

    /// One round of moving everything pending; false when nothing moved.
    fn step(&mut self) -> bool {
        let mut moved = false;
        while let Some(ev) = self.session.poll_event() {
            self.engine.on_pbx_event(&self.link, ev.clone(), self.now);
            self.events.push((self.now, ev));
            moved = true;
        }
        while let Some(bytes) = self.session.poll_transmit() {
            moved = true;
            if self.connected {
                self.pbx.receive(&bytes);
            }
        }
        while let Some(a) = self.session.poll_action() {
            moved = true;
            match a {
                Action::Connect { address, .. } => {
                    if self.reachable {
                        self.connected = true;
                        self.pbx.accept();
                        self.session.handle_connected(self.now);
                    } else {
                        let source = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
                        self.session
                            .handle_closed(self.now, LinkError::Connect { address, source });
                    }
                }
                Action::Close => self.connected = false,
            }
        }
        if !self.pbx.tx.is_empty() {
            moved = true;
            let bytes = self.pbx.tx.split();
            if self.connected {
                self.session.handle_bytes(self.now, &bytes);
            }
        }
        moved
    }

    fn drive(&mut self) {
        while self.step() {}
    }

    /// Runs every deadline up to `t`, then sets the clock to `t`.
    fn run_until(&mut self, t: Instant) {
        loop {
            self.drive();
            match self.session.poll_timeout() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.session.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = t;
        self.drive();
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// The PBX closes the TCP connection.
    fn pbx_closes(&mut self) {
        self.connected = false;
        self.session.handle_closed(self.now, LinkError::Closed);
        self.drive();
    }

    fn request(&mut self, token: u64, command: PbxCommand) {
        self.session
            .handle_request(self.now, AdapterRequest { token, command });
        self.drive();
    }

    fn take_events(&mut self) -> Vec<(Instant, PbxEvent)> {
        std::mem::take(&mut self.events)
    }
}

fn opts() -> Options {
    let mut o = Options::defaults("oxe");
    o.keepalive = Some(KEEPALIVE);
    o.request_timeout = REQUEST_TIMEOUT;
    o.reconnect_min = Duration::from_secs(1);
    o.reconnect_max = Duration::from_secs(8);
    o
}

fn downs(events: &[(Instant, PbxEvent)]) -> Vec<(Instant, String)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            PbxEvent::Link(LinkState::Down { reason }) => Some((*t, reason.clone())),
            _ => None,
        })
        .collect()
}

fn ups(events: &[(Instant, PbxEvent)]) -> usize {
    events
        .iter()
        .filter(|(_, e)| matches!(e, PbxEvent::Link(LinkState::Up)))
        .count()
}

fn snapshots(events: &[(Instant, PbxEvent)]) -> Vec<Vec<SnapshotCall>> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            PbxEvent::Snapshot { device, calls } if device.as_str() == A => Some(calls.clone()),
            _ => None,
        })
        .collect()
}

/// The results of `token`: when, and the error code (`None`: success).
fn results(events: &[(Instant, PbxEvent)], token: u64) -> Vec<(Instant, Option<ErrorCode>)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            PbxEvent::CommandResult { token: k, result } if *k == token => {
                Some((*t, result.as_ref().err().map(|e| e.code)))
            }
            _ => None,
        })
        .collect()
}

/// Associated, monitor started and resynchronised on a quiet PBX.
fn up_pair() -> Pair {
    let mut p = Pair::new(opts());
    p.drive();
    assert!(p.session.is_up(), "associated: {:?}", p.events);
    let evs = p.take_events();
    assert!(evs.iter().any(|(_, e)| matches!(
        e,
        PbxEvent::Monitor { device, result: Ok(()) } if device.as_str() == A
    )));
    assert_eq!(snapshots(&evs), vec![vec![]], "one empty resync");
    p
}

#[test]
fn association_refused_names_the_cause_and_schedules_a_reconnect() {
    let mut p = Pair::new(opts());
    p.pbx.refuse = true;
    let start = p.now;
    p.drive();
    assert!(!p.session.is_up());
    let evs = p.take_events();
    let d = downs(&evs);
    assert_eq!(d.len(), 1, "{evs:?}");
    assert!(
        d[0].1.contains("association refused") && d[0].1.contains("authentication-failure"),
        "{}",
        d[0].1
    );
    assert!(!p.connected, "the refused connection is closed");
    assert_eq!(ups(&evs), 0);
    // a request meanwhile fails at once with link_down naming the reason
    p.request(
        9,
        PbxCommand::Snapshot {
            device: DeviceId::new(A),
        },
    );
    let r = results(&p.take_events(), 9);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].1, Some(ErrorCode::LinkDown));
    // the reconnect decision: a new attempt within the backoff bounds, which succeeds now
    let retry = p.session.poll_timeout().expect("a reconnect is scheduled");
    let wait = retry - start;
    assert!(
        wait >= opts().reconnect_min && wait <= opts().reconnect_max,
        "{wait:?}"
    );
    p.pbx.refuse = false;
    p.run_until(retry);
    let evs = p.take_events();
    assert!(matches!(evs[0].1, PbxEvent::Link(LinkState::Connecting)));
    assert_eq!(ups(&evs), 1);
    assert!(p.session.is_up());
}

#[test]
fn unreachable_pbx_backs_off_between_attempts() {
    let mut p = Pair::new(opts());
    p.reachable = false;
    p.drive();
    let mut attempts = vec![p.now];
    for _ in 0..4 {
        let t = p.session.poll_timeout().expect("retry scheduled");
        p.run_until(t);
        attempts.push(t);
    }
    let evs = p.take_events();
    let d = downs(&evs);
    assert_eq!(d.len(), 5);
    assert!(d.iter().all(|(_, r)| r.contains("cannot connect")), "{d:?}");
    for w in attempts.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= opts().reconnect_min && gap <= opts().reconnect_max);
    }
}

#[test]
fn keep_alive_missed_twice_declares_the_link_down_within_two_intervals() {
    let mut p = up_pair();
    let up_at = p.now;
    // answered keep-alives keep the link up
    p.run_for(KEEPALIVE * 3 + Duration::from_secs(1));
    assert!(p.session.is_up());
    let keep_alives = |p: &Pair| {
        p.pbx
            .invokes
            .iter()
            .filter(|a| matches!(a, Argument::SystemStatus(_)))
            .count()
    };
    assert_eq!(keep_alives(&p), 3, "one keep-alive per interval");
    assert!(downs(&p.take_events()).is_empty());
    // the PBX falls silent (and stays so: later attempts fail on the hello)
    p.pbx.silent = true;
    let first_unanswered = up_at + KEEPALIVE * 4;
    p.run_for(KEEPALIVE * 4);
    assert_eq!(keep_alives(&p), 5, "two more went unanswered");
    let evs = p.take_events();
    let d = downs(&evs);
    assert!(d[0].1.contains("keep-alives"), "{evs:?}");
    let after = d[0].0 - first_unanswered;
    assert!(
        after > KEEPALIVE && after <= KEEPALIVE * 2,
        "down {after:?} after the first unanswered keep-alive"
    );
    assert!(!p.connected, "the dead connection is closed");
}

#[test]
fn a_request_never_answered_gets_one_timeout_result() {
    let mut p = up_pair();
    p.request(
        41,
        PbxCommand::MakeCall {
            device: DeviceId::new(A),
            to: "0123456789".into(),
        },
    );
    assert!(
        p.pbx
            .invokes
            .iter()
            .any(|a| matches!(a, Argument::MakeCall(_))),
        "the request reached the PBX"
    );
    let sent = p.now;
    p.run_for(REQUEST_TIMEOUT / 2);
    assert!(results(&p.events, 41).is_empty(), "not before the timeout");
    p.run_for(REQUEST_TIMEOUT * 10);
    let r = results(&p.take_events(), 41);
    assert_eq!(r.len(), 1, "exactly one result");
    assert_eq!(r[0].1, Some(ErrorCode::Timeout));
    assert_eq!(r[0].0 - sent, REQUEST_TIMEOUT);
    assert!(
        p.session.is_up(),
        "a lost answer does not take the link down"
    );
}

#[test]
fn a_request_pending_when_the_link_drops_gets_one_link_down_result() {
    let mut p = up_pair();
    p.request(
        42,
        PbxCommand::MakeCall {
            device: DeviceId::new(A),
            to: "0123456789".into(),
        },
    );
    p.pbx_closes();
    p.run_for(REQUEST_TIMEOUT * 10);
    let r = results(&p.take_events(), 42);
    assert_eq!(r.len(), 1, "exactly one result");
    assert_eq!(r[0].1, Some(ErrorCode::LinkDown));
}

#[test]
fn pbx_reset_mid_call_reconnects_and_resync_clears_the_call() {
    let mut p = up_pair();
    p.pbx.deliver(A, 0x0102, 0x31);
    p.drive();
    let evs = p.take_events();
    let call = evs
        .iter()
        .find_map(|(_, e)| match e {
            PbxEvent::Call(CallEvent { call, .. }) => Some(call.clone()),
            _ => None,
        })
        .expect("the delivered call is reported");
    assert_eq!(p.session_calls(), 1);
    assert_eq!(p.engine.active_calls(), 1);
    p.pbx.restart();
    p.drive();
    let evs = p.take_events();
    let d = downs(&evs);
    assert_eq!(d.len(), 1);
    assert!(d[0].1.contains("restarting"), "{}", d[0].1);
    assert!(!p.connected);
    let retry = p.session.poll_timeout().expect("reconnect scheduled");
    p.run_until(retry);
    let evs = p.take_events();
    assert_eq!(ups(&evs), 1);
    assert_eq!(p.pbx.associations, 2);
    let snaps = snapshots(&evs);
    assert_eq!(snaps.len(), 1, "resynchronised once");
    assert!(
        snaps[0].iter().all(|c| c.call != call),
        "the call is gone from the PBX's truth: {snaps:?}"
    );
    assert_eq!(p.session_calls(), 0, "the mapper forgot the call");
    assert_eq!(p.engine.active_calls(), 0, "the engine cleared the call");
}

#[test]
fn resync_after_a_drop_keeps_live_calls_and_drops_gone_ones() {
    let mut p = up_pair();
    p.pbx.deliver(A, 0x0201, 0x41);
    p.pbx.deliver(A, 0x0202, 0x42);
    p.drive();
    assert_eq!(p.session_calls(), 2);
    assert_eq!(p.engine.active_calls(), 2);
    p.pbx_closes();
    // while the link is down, one call ends
    p.pbx
        .calls
        .get_mut(A)
        .unwrap()
        .retain(|&(c, _)| c != 0x0201);
    let retry = p.session.poll_timeout().expect("reconnect scheduled");
    p.run_until(retry);
    let evs = p.take_events();
    assert_eq!(ups(&evs), 1);
    let snaps = snapshots(&evs);
    assert_eq!(snaps.len(), 1);
    let listed: Vec<&str> = snaps[0].iter().map(|c| c.call.as_str()).collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].contains("0202"), "{listed:?}");
    assert_eq!(p.session_calls(), 1, "the gone call is forgotten");
    assert_eq!(
        p.engine.active_calls(),
        1,
        "the engine keeps only the live call"
    );
}

impl Pair {
    fn session_calls(&self) -> usize {
        self.session.calls_remembered()
    }
}

#[test]
fn requests_while_associating_wait_for_the_association() {
    let mut p = Pair::new(opts());
    // connect, but hold the PBX's answers back
    p.pbx.silent = true;
    p.drive();
    p.request(
        7,
        PbxCommand::Snapshot {
            device: DeviceId::new(A),
        },
    );
    assert!(results(&p.events, 7).is_empty(), "queued, not refused");
    // no hello within the request timeout: down, and the queued request fails once
    p.run_for(REQUEST_TIMEOUT);
    let evs = p.take_events();
    let d = downs(&evs);
    assert_eq!(d.len(), 1);
    assert!(d[0].1.contains("the hello"), "{}", d[0].1);
    let r = results(&evs, 7);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].1, Some(ErrorCode::LinkDown));
}
