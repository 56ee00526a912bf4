//! The SIP side of the simulated uaCSTA gateway (CUCM IM and Presence): dialogs opened by
//! INVITE with a RequestSystemStatus body, one Digest challenge per connection when a
//! password is set, requests as INFO answered in the 200 OK body, events sent as INFO in the
//! dialog that started the monitor, re-INVITE and BYE.

use super::{Front, Server, xml};
use ctigw_codecs::csta_xml::Message as Csta;
use ctigw_codecs::sip::{
    BRANCH_MAGIC, CSTA_XML, ContentDisposition, EncodeError, FrameError, Message, Method, NameAddr,
    SipCodec, Uri, digest,
};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

const REALM: &str = "cucm-sim";

struct Dialog {
    /// our tag, the client's tag, the client's URI (From) and our own (To)
    ours: String,
    theirs: String,
    remote: String,
    local: String,
    target: String,
    cseq: u32,
}

/// One client connection of the gateway.
pub struct SipConn {
    framed: Framed<TcpStream, SipCodec>,
    authenticated: bool,
    nonce: String,
    dialogs: HashMap<String, Dialog>,
    /// monitorCrossRefID → Call-ID of the dialog that started it
    monitors: HashMap<String, String>,
    counter: u64,
}

impl SipConn {
    pub fn new(stream: TcpStream, seed: String) -> Self {
        SipConn {
            framed: Framed::new(stream, SipCodec::new()),
            authenticated: false,
            nonce: format!("{:x}", seed.len() as u64 * 7919 + 0x5eed),
            dialogs: HashMap::new(),
            monitors: HashMap::new(),
            counter: 0,
        }
    }

    pub fn dialogs(&self) -> usize {
        self.dialogs.len()
    }

    pub async fn next(
        &mut self,
    ) -> Option<Result<Result<Message, ctigw_codecs::sip::MessageError>, FrameError>> {
        self.framed.next().await
    }

    async fn send(&mut self, m: Message) -> Result<(), EncodeError> {
        self.framed.send(m).await
    }

    fn tag(&mut self) -> String {
        self.counter += 1;
        format!("gw{:x}", self.counter * 0x9e37 + 11)
    }

    fn check_auth(&self, m: &Message, username: &str, password: &str) -> bool {
        let Some(a) = m.authorization().into_iter().next() else {
            return false;
        };
        let nc = a
            .param("nc")
            .and_then(|n| u32::from_str_radix(n, 16).ok())
            .unwrap_or(0);
        let input = digest::DigestInput {
            algorithm: digest::Algorithm::parse(a.algorithm()).unwrap_or(digest::Algorithm::Md5),
            username,
            realm: REALM,
            password,
            nonce: &self.nonce,
            method: "INVITE",
            uri: a.param("uri").unwrap_or_default(),
            qop: a.param("qop"),
            cnonce: a.param("cnonce").unwrap_or_default(),
            nc,
        };
        a.param("username") == Some(username)
            && a.nonce() == Some(self.nonce.as_str())
            && a.param("response") == Some(digest::response(&input).as_str())
    }

    /// One message from the client.
    pub(crate) async fn on_message(
        &mut self,
        s: &mut Server,
        m: Message,
    ) -> Result<(), EncodeError> {
        let Some(method) = m.method().cloned() else {
            return Ok(()); // a response to one of our INFO events
        };
        let call_id = m.call_id().unwrap_or_default().to_string();
        match method {
            Method::Invite => {
                s.stats.invites += 1;
                if let Front::UaCsta {
                    username,
                    password: Some(pw),
                } = &s.cfg.front
                    && !self.authenticated
                {
                    if m.authorization().is_empty() {
                        s.stats.challenges += 1;
                        let ch = format!(
                            "Digest realm=\"{REALM}\", nonce=\"{}\", qop=\"auth\", algorithm=MD5",
                            self.nonce
                        );
                        let r = Message::response_to(&m, 401, "", None)
                            .with_header("WWW-Authenticate", ch);
                        return self.send(r).await;
                    }
                    if !self.check_auth(&m, username, pw) {
                        s.stats.auth_failures += 1;
                        return self
                            .send(Message::response_to(&m, 403, "Forbidden", None))
                            .await;
                    }
                    self.authenticated = true;
                }
                let from = m.from();
                let to_tag = m.to().and_then(|t| t.tag().map(str::to_string));
                let existing = to_tag
                    .as_deref()
                    .is_some_and(|t| self.dialogs.get(&call_id).is_some_and(|d| d.ours == t));
                let ours = if existing {
                    s.stats.reinvites += 1;
                    to_tag.unwrap_or_default()
                } else {
                    let t = self.tag();
                    let Some(from) = &from else {
                        return self
                            .send(Message::response_to(&m, 400, "Missing From", None))
                            .await;
                    };
                    let target = m
                        .contacts()
                        .first()
                        .map(|c| c.uri.to_string())
                        .unwrap_or_else(|| from.uri.to_string());
                    self.dialogs.insert(
                        call_id.clone(),
                        Dialog {
                            ours: t.clone(),
                            theirs: from.tag().unwrap_or_default().to_string(),
                            remote: from.uri.to_string(),
                            local: m
                                .to()
                                .map(|t| t.uri.to_string())
                                .unwrap_or_else(|| "sip:gateway@cucm-sim".into()),
                            target,
                            cseq: 1,
                        },
                    );
                    t
                };
                let body = xml(&s
                    .sw
                    .on_request(&Csta::RequestSystemStatus(Default::default())));
                let r = Message::response_to(&m, 200, "", Some(&ours))
                    .with_header("Contact", "<sip:gateway@127.0.0.1;transport=tcp>")
                    .with_header("Content-Disposition", ContentDisposition::csta_signal())
                    .with_body(CSTA_XML, body.to_vec());
                self.send(r).await
            }
            Method::Ack => Ok(()),
            Method::Bye => {
                s.stats.byes += 1;
                self.dialogs.remove(&call_id);
                let gone: Vec<String> = self
                    .monitors
                    .iter()
                    .filter(|(_, c)| **c == call_id)
                    .map(|(x, _)| x.clone())
                    .collect();
                for x in gone {
                    self.monitors.remove(&x);
                    let _ =
                        s.sw.on_request(&ctigw_codecs::csta_xml::requests::monitor_stop(&x));
                }
                self.send(Message::response_to(&m, 200, "", None)).await
            }
            Method::Info => {
                if !self.dialogs.contains_key(&call_id) {
                    return self.send(Message::response_to(&m, 481, "", None)).await;
                }
                let req = match Csta::decode(&m.body) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("simulated uaCSTA gateway: bad CSTA body: {e}");
                        return self
                            .send(Message::response_to(&m, 400, "Bad CSTA body", None))
                            .await;
                    }
                };
                let resp = s.sw.on_request(&req);
                if let Csta::MonitorStartResponse(r) = &resp {
                    self.monitors
                        .insert(r.monitor_cross_ref_id.clone(), call_id.clone());
                }
                let r = Message::response_to(&m, 200, "", None)
                    .with_header("Content-Disposition", ContentDisposition::csta_signal())
                    .with_body(CSTA_XML, xml(&resp).to_vec());
                self.send(r).await
            }
            Method::Options => self.send(Message::response_to(&m, 200, "", None)).await,
            _ => self.send(Message::response_to(&m, 405, "", None)).await,
        }
    }

    /// Events as INFO requests in the dialog of their monitor.
    pub(crate) async fn send_events(
        &mut self,
        evs: Vec<(String, Csta)>,
    ) -> Result<(), EncodeError> {
        for (xref, ev) in evs {
            let Some(cid) = self.monitors.get(&xref).cloned() else {
                continue;
            };
            self.counter += 1;
            let branch = format!("{BRANCH_MAGIC}gw{}", self.counter);
            let Some(d) = self.dialogs.get_mut(&cid) else {
                continue;
            };
            d.cseq += 1;
            let Ok(uri) = Uri::parse(&d.target) else {
                continue;
            };
            let to = match Uri::parse(&d.remote) {
                Ok(u) => NameAddr::new(u)
                    .with_param(ctigw_codecs::sip::Param::new("tag", d.theirs.clone()))
                    .to_string(),
                Err(_) => continue,
            };
            let m = Message::request(Method::Info, uri)
                .with_header("Via", format!("SIP/2.0/TCP 127.0.0.1;branch={branch}"))
                .with_header("Max-Forwards", 70)
                .with_header("From", format!("<{}>;tag={}", d.local, d.ours))
                .with_header("To", to)
                .with_header("Call-ID", &cid)
                .with_header("CSeq", format!("{} INFO", d.cseq))
                .with_header("Content-Disposition", ContentDisposition::csta_signal())
                .with_body(CSTA_XML, xml(&ev).to_vec());
            self.framed.feed(m).await?;
        }
        SinkExt::<Message>::flush(&mut self.framed).await
    }
}
