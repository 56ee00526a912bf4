//! Links and their devices: declaring them, following a link's state (monitors die with it,
//! commands waiting on it end), and recomputing a device's presence from its calls.

use super::{ApiEvent, Engine, unix_ms};
use crate::model::{
    CommandError, ConnectionState, Device, DeviceId, ErrorCode, Link, LinkId, LinkState,
    LinkStatus, Presence,
};

impl Engine {
    /// Declares a link and the devices it owns (from the configuration). Devices start
    /// unmonitored until the adapter reports its monitors.
    pub fn add_link(&mut self, id: LinkId, dialect: &str, devices: &[(DeviceId, Option<String>)]) {
        let link = Link {
            id: id.clone(),
            dialect: dialect.to_string(),
            status: LinkStatus::Connecting,
            since: unix_ms(),
            reason: None,
        };
        self.links.insert(id.clone(), link.clone());
        self.emit(
            ApiEvent::Link {
                event: "link.updated",
                link,
            },
            Vec::new(),
        );
        for (dev, name) in devices {
            let d = Device::new(dev.clone(), id.clone(), name.clone());
            self.devices.insert(dev.clone(), d.clone());
            self.emit(
                ApiEvent::Device {
                    event: "device.updated",
                    device: d,
                },
                vec![dev.clone()],
            );
        }
    }

    /// Declares a link whose devices are not configured but learnt: every device the
    /// adapter reports a monitor for joins the link (`ctigw replay` of a capture).
    pub fn learn_devices(&mut self, id: &LinkId, dialect: &str) {
        self.add_link(id.clone(), dialect, &[]);
        self.learning.push(id.clone());
        self.on_link(id, LinkState::Up);
    }

    pub(super) fn on_link(&mut self, link: &LinkId, state: LinkState) {
        let Some(l) = self.links.get_mut(link) else {
            tracing::warn!(%link, "state change for an unknown link");
            return;
        };
        let (status, reason) = match state {
            LinkState::Connecting => (LinkStatus::Connecting, None),
            LinkState::Up => (LinkStatus::Up, None),
            LinkState::Down { reason } => (LinkStatus::Down, Some(reason)),
        };
        if l.status == status && l.reason == reason {
            return;
        }
        l.status = status;
        l.reason = reason;
        l.since = unix_ms();
        let snapshot = l.clone();
        self.emit(
            ApiEvent::Link {
                event: "link.updated",
                link: snapshot,
            },
            Vec::new(),
        );
        if status != LinkStatus::Up {
            // monitors die with the link; calls stay until the resync tells their fate
            let devs: Vec<DeviceId> = self
                .devices
                .values()
                .filter(|d| &d.link == link)
                .map(|d| d.id.clone())
                .collect();
            for dev in devs {
                if let Some(d) = self.devices.get_mut(&dev)
                    && d.monitored
                {
                    d.monitored = false;
                    self.refresh_device(&dev, true);
                }
            }
            // commands waiting on this link will not be answered
            let lost: Vec<u64> = self
                .pending
                .iter()
                .filter(|(_, p)| &p.link == link)
                .map(|(t, _)| *t)
                .collect();
            for token in lost {
                self.finish(
                    token,
                    Err(CommandError::new(
                        ErrorCode::LinkDown,
                        format!("link {link} went down"),
                    )),
                );
            }
        }
    }

    /// Recomputes a device's presence; emits `device.updated` when it changed or `force`.
    pub(super) fn refresh_device(&mut self, dev: &DeviceId, force: bool) {
        let presence = {
            let Some(d) = self.devices.get(dev) else {
                return;
            };
            if !d.monitored {
                Presence::Unknown
            } else if !d.online {
                Presence::Offline
            } else {
                let mut p = Presence::Idle;
                for c in self.calls.values() {
                    if let Some(conn) = c.connection(dev) {
                        match conn.state {
                            ConnectionState::Alerting | ConnectionState::Queued
                                if p == Presence::Idle =>
                            {
                                p = Presence::Ringing
                            }
                            ConnectionState::Initiated
                            | ConnectionState::Connected
                            | ConnectionState::Held
                            | ConnectionState::Fail => p = Presence::Busy,
                            _ => {}
                        }
                    }
                }
                p
            }
        };
        let Some(d) = self.devices.get_mut(dev) else {
            return;
        };
        if d.presence != presence || force {
            d.presence = presence;
            let snapshot = d.clone();
            self.emit(
                ApiEvent::Device {
                    event: "device.updated",
                    device: snapshot,
                },
                vec![dev.clone()],
            );
        }
    }
}
