//! The AMI server side of the simulator: the banner, login (plain or MD5 challenge, checked
//! with the `md-5` crate, not the gateway's code), the event classes a client asked for, and
//! the answers to each action.

use super::switch::Pbx;
use super::{Shared, SimAsterisk, VERSION};
use bytes::BytesMut;
use ctigw_codecs::ami::{AmiCodec, Message};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio_util::codec::Framed;

/// The `Key` a client must send for an MD5 login: hex `md5(challenge + secret)`.
fn md5_key(challenge: &str, secret: &str) -> String {
    use md5::Digest as _;
    md5::Md5::digest(format!("{challenge}{secret}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SimAsterisk {
    /// Answers one action; may start a scenario.
    pub(super) fn action(&self, m: &Message, session: &mut Session) -> Vec<Message> {
        let id = m.action_id().unwrap_or("");
        let ok = |msg: &str| {
            let r = Message::new().with("Response", "Success");
            let r = if id.is_empty() {
                r
            } else {
                r.with("ActionID", id)
            };
            r.with("Message", msg)
        };
        let err = |msg: &str| {
            let r = Message::new().with("Response", "Error");
            let r = if id.is_empty() {
                r
            } else {
                r.with("ActionID", id)
            };
            r.with("Message", msg)
        };
        let action = m.action().unwrap_or("").to_ascii_lowercase();
        if !session.logged_in
            && !matches!(action.as_str(), "login" | "challenge" | "logoff" | "ping")
        {
            return vec![err("Permission denied")];
        }
        match action.as_str() {
            "challenge" => {
                session.challenge = Some(format!("{:09}", 100_000_000 + id.len() * 7919));
                vec![ok("").with(
                    "Challenge",
                    session.challenge.as_deref().unwrap_or_default(),
                )]
            }
            "login" => {
                let cfg = &self.shared.cfg;
                let user_ok = m.get("Username") == Some(cfg.username.as_str());
                let secret_ok = match (m.get("AuthType"), m.get("Key"), m.get("Secret")) {
                    (Some(t), Some(k), _) if t.eq_ignore_ascii_case("md5") => session
                        .challenge
                        .as_deref()
                        .is_some_and(|c| md5_key(c, &cfg.secret) == k),
                    (_, _, Some(s)) => s == cfg.secret,
                    _ => false,
                };
                if user_ok && secret_ok {
                    session.logged_in = true;
                    session.classes = m.get("Events").unwrap_or("on").to_ascii_lowercase();
                    vec![
                        ok("Authentication accepted"),
                        Message::new()
                            .with("Event", "FullyBooted")
                            .with("Privilege", "system,all")
                            .with("Status", "Fully Booted"),
                    ]
                } else {
                    vec![err("Authentication failed")]
                }
            }
            "logoff" => vec![
                Message::new()
                    .with("Response", "Goodbye")
                    .with("ActionID", id)
                    .with("Message", "Thanks for all the fish."),
            ],
            "ping" => vec![ok("").with("Ping", "Pong")],
            "coreshowchannels" => {
                let mut out = vec![ok("Channels will follow").with("EventList", "start")];
                let items = self.step(|p| {
                    p.chans
                        .values()
                        .map(|c| {
                            let mut e = Message::new()
                                .with("Event", "CoreShowChannel")
                                .with("ActionID", id);
                            Pbx::chan_fields(&mut e, "", c);
                            e.push(
                                "Application",
                                if c.application.is_empty() {
                                    "Dial"
                                } else {
                                    &c.application
                                },
                            );
                            e.push("BridgeId", c.bridge.as_deref().unwrap_or(""));
                            e
                        })
                        .collect::<Vec<_>>()
                });
                let n = items.len();
                out.extend(items);
                out.push(
                    Message::new()
                        .with("Event", "CoreShowChannelsComplete")
                        .with("ActionID", id)
                        .with("EventList", "Complete")
                        .with("ListItems", &n.to_string()),
                );
                out
            }
            "queuestatus" => {
                // one QueueMember item per (member, queue), as Asterisk lists them
                let mut out = vec![ok("Queue status will follow").with("EventList", "start")];
                let members = self.step(|p| p.members.clone());
                let mut n = 0;
                for (iface, (queues, paused)) in members {
                    for q in queues {
                        n += 1;
                        out.push(
                            Message::new()
                                .with("Event", "QueueMember")
                                .with("ActionID", id)
                                .with("Queue", &q)
                                .with("Name", &iface)
                                .with("Location", &iface)
                                .with("StateInterface", &iface)
                                .with("Membership", "dynamic")
                                .with("InCall", "0")
                                .with("Status", "1")
                                .with("Paused", if paused { "1" } else { "0" })
                                .with("PausedReason", ""),
                        );
                    }
                }
                out.push(
                    Message::new()
                        .with("Event", "QueueStatusComplete")
                        .with("ActionID", id)
                        .with("EventList", "Complete")
                        .with("ListItems", &n.to_string()),
                );
                out
            }
            "devicestatelist" => {
                let mut out =
                    vec![ok("Device State Changes will follow").with("EventList", "start")];
                let busy: Vec<String> = self.step(|p| {
                    p.chans
                        .values()
                        .filter_map(|c| c.name.rsplit_once('-').map(|(b, _)| b.to_string()))
                        .collect()
                });
                let devs = ["PJSIP/101", "PJSIP/102", "PJSIP/103"];
                for d in devs {
                    let st = if busy.iter().any(|b| b == d) {
                        "INUSE"
                    } else {
                        "NOT_INUSE"
                    };
                    out.push(
                        Message::new()
                            .with("Event", "DeviceStateChange")
                            .with("ActionID", id)
                            .with("Device", d)
                            .with("State", st),
                    );
                }
                out.push(
                    Message::new()
                        .with("Event", "DeviceStateListComplete")
                        .with("ActionID", id)
                        .with("EventList", "Complete")
                        .with("ListItems", "3"),
                );
                out
            }
            "originate" => {
                let Some(channel) = m.get("Channel").map(str::to_string) else {
                    return vec![err("Channel not specified")];
                };
                let exten = m.get("Exten").unwrap_or("s").to_string();
                let cid = m.get("ChannelId").map(str::to_string);
                let me = self.clone();
                tokio::spawn(async move { me.originate(channel, exten, cid).await });
                vec![ok("Originate successfully queued")]
            }
            "hangup" => {
                let name = m.get("Channel").unwrap_or("");
                let found = self.step(|p| match p.find(name) {
                    Some(u) => {
                        let peer = p.bridged_peer(&u);
                        p.hangup(&u, "16");
                        if let Some(peer) = peer {
                            p.hangup(&peer, "16");
                        }
                        true
                    }
                    None => false,
                });
                if found {
                    vec![ok("Channel Hungup")]
                } else {
                    vec![err("No such channel")]
                }
            }
            "blindtransfer" => {
                let name = m.get("Channel").unwrap_or("").to_string();
                let exten = m.get("Exten").unwrap_or("").to_string();
                let Some(u) = self.step(|p| p.find(&name)) else {
                    return vec![err("No such channel")];
                };
                let me = self.clone();
                tokio::spawn(async move { me.blind_transfer(&u, &exten).await });
                vec![ok("Transfer succeeded")]
            }
            "redirect" | "atxfer" | "bridge" => {
                let name = m.get("Channel").or_else(|| m.get("Channel1")).unwrap_or("");
                if self.step(|p| p.find(name)).is_some() {
                    vec![ok("Success")]
                } else {
                    vec![err("No such channel")]
                }
            }
            "playdtmf" => {
                if m.get("Digit").is_some_and(|d| d.len() == 1) {
                    vec![ok("DTMF successfully queued")]
                } else {
                    vec![err("No digit specified")]
                }
            }
            "pjsipnotify" => {
                // a phone that takes action URIs answers when told `key=OK`
                let ep = format!("PJSIP/{}", m.get("Endpoint").unwrap_or(""));
                let answer = m.get_all("Variable").any(|v| v == "Content=key=OK");
                if answer {
                    let me = self.clone();
                    tokio::spawn(async move {
                        me.step(|p| {
                            if let Some(u) = p.of_endpoint(&ep)
                                && p.chans.get(&u).is_some_and(|c| c.state == 5)
                            {
                                p.set_state(&u, 6);
                            }
                        });
                    });
                }
                vec![ok("NOTIFY sent")]
            }
            "queuepause" => {
                let iface = m.get("Interface").unwrap_or("").to_string();
                let paused = m
                    .get("Paused")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
                let reason = m.get("Reason").unwrap_or("").to_string();
                let known = self.step(|p| {
                    let Some(mem) = p.members.get_mut(&iface) else {
                        return false;
                    };
                    mem.1 = paused;
                    let queues = mem.0.clone();
                    for q in queues {
                        p.event(
                            "QueueMemberPause",
                            "agent",
                            None,
                            &[
                                ("Queue", &q),
                                ("MemberName", &iface),
                                ("Interface", &iface),
                                ("Paused", if paused { "1" } else { "0" }),
                                ("PausedReason", &reason),
                            ],
                        );
                    }
                    true
                });
                if known {
                    vec![ok("Interface paused successfully")]
                } else {
                    vec![err("Interface not found")]
                }
            }
            "queueadd" | "queueremove" => {
                let iface = m.get("Interface").unwrap_or("").to_string();
                let queue = m.get("Queue").unwrap_or("").to_string();
                let add = action == "queueadd";
                self.step(|p| {
                    let mem = p.members.entry(iface.clone()).or_default();
                    if add {
                        mem.0.push(queue.clone());
                        p.member_event("QueueMemberAdded", &iface, &queue, false);
                    } else {
                        mem.0.retain(|q| q != &queue);
                        p.member_event("QueueMemberRemoved", &iface, &queue, false);
                    }
                });
                vec![ok(if add {
                    "Added interface to queue"
                } else {
                    "Removed interface from queue"
                })]
            }
            _ => vec![err("Invalid/unknown command")],
        }
    }
}

pub(super) struct Session {
    pub(super) logged_in: bool,
    pub(super) challenge: Option<String>,
    pub(super) classes: String,
}

impl Session {
    pub(super) fn wants(&self, ev: &Message) -> bool {
        if !self.logged_in || self.classes == "off" {
            return false;
        }
        if self.classes == "on" || self.classes.is_empty() {
            return true;
        }
        let privilege = ev.get("Privilege").unwrap_or("");
        privilege
            .split(',')
            .filter(|c| *c != "all")
            .any(|c| self.classes.split(',').any(|w| w.trim() == c))
    }
}

pub(super) async fn serve(stream: TcpStream, shared: Arc<Shared>) -> anyhow::Result<()> {
    let sim = SimAsterisk {
        addr: stream.local_addr()?,
        shared: shared.clone(),
    };
    let mut cut = shared.cut.subscribe();
    cut.borrow_and_update();
    let mut events = shared.events.subscribe();
    let mut framed = Framed::new(stream, AmiCodec::server());
    let mut banner = BytesMut::new();
    AmiCodec::encode_banner(VERSION, &mut banner)?;
    framed.get_mut().writable().await?;
    tokio::io::AsyncWriteExt::write_all(framed.get_mut(), &banner).await?;
    let mut session = Session {
        logged_in: false,
        challenge: None,
        classes: String::new(),
    };
    loop {
        tokio::select! {
            _ = cut.changed() => return Ok(()),
            msg = framed.next() => match msg {
                None => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Err(e))) => {
                    framed.send(Message::new().with("Response", "Error").with("Message", &format!("Missing action in request ({e})"))).await?;
                }
                Some(Ok(Ok(m))) => {
                    let logoff = m.action().is_some_and(|a| a.eq_ignore_ascii_case("logoff"));
                    for r in sim.action(&m, &mut session) {
                        framed.send(r).await?;
                    }
                    if logoff {
                        return Ok(());
                    }
                }
            },
            ev = events.recv() => match ev {
                Ok(ev) => {
                    if session.wants(&ev) {
                        framed.send(ev).await?;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // what a real Asterisk does to a client that cannot keep up
                    anyhow::bail!("client lagged {n} events behind");
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}
