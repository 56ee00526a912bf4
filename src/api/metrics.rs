//! Counters kept by the API layer and the Prometheus text rendering of `/metrics`.

use crate::engine::Status;
use crate::model::LinkStatus;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters updated by client sessions.
#[derive(Debug, Default)]
pub struct ApiMetrics {
    pub ws_connected: AtomicU64,
    pub ws_sessions_total: AtomicU64,
    pub ws_closed_slow_total: AtomicU64,
    pub ws_protocol_errors_total: AtomicU64,
    pub auth_failures_total: AtomicU64,
    pub frames_sent_total: AtomicU64,
    pub rest_requests_total: AtomicU64,
    pub commands_rate_limited_total: AtomicU64,
    /// Connection counts and command buckets (see [`super::limits`]).
    pub admission: std::sync::Arc<super::limits::Admission>,
}

impl ApiMetrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

fn line(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// Renders the Prometheus text exposition format (version 0.0.4).
pub fn render(api: &ApiMetrics, st: &Status) -> String {
    let mut o = String::with_capacity(2048);
    let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
    line(
        &mut o,
        "ctigw_events_seq",
        "counter",
        "Sequence number of the last event emitted.",
        st.seq,
    );
    line(
        &mut o,
        "ctigw_pbx_events_total",
        "counter",
        "Events received from PBX adapters.",
        st.counters.pbx_events,
    );
    line(
        &mut o,
        "ctigw_api_events_total",
        "counter",
        "Events emitted to clients.",
        st.counters.api_events,
    );
    line(
        &mut o,
        "ctigw_calls_active",
        "gauge",
        "Calls in progress.",
        st.active_calls as u64,
    );
    line(
        &mut o,
        "ctigw_commands_pending",
        "gauge",
        "Commands waiting for their PBX answer.",
        st.pending_commands as u64,
    );
    let _ = writeln!(
        o,
        "# HELP ctigw_commands_total Commands ended, by outcome.\n# TYPE ctigw_commands_total counter"
    );
    let _ = writeln!(
        o,
        "ctigw_commands_total{{result=\"ok\"}} {}",
        st.counters.commands_ok
    );
    let _ = writeln!(
        o,
        "ctigw_commands_total{{result=\"error\"}} {}",
        st.counters.commands_failed
            - st.counters
                .commands_timed_out
                .min(st.counters.commands_failed)
    );
    let _ = writeln!(
        o,
        "ctigw_commands_total{{result=\"timeout\"}} {}",
        st.counters.commands_timed_out
    );
    line(
        &mut o,
        "ctigw_calls_cleared_by_resync_total",
        "counter",
        "Calls found ended when a link resynchronised.",
        st.counters.calls_cleared_by_resync,
    );
    line(
        &mut o,
        "ctigw_agents_blocked",
        "gauge",
        "Agents blocked behind a caller who hung up (OXE timer 384).",
        st.agents_blocked as u64,
    );
    line(
        &mut o,
        "ctigw_agents_blocked_total",
        "counter",
        "Agents found blocked (OXE timer 384).",
        st.counters.agents_blocked,
    );
    line(
        &mut o,
        "ctigw_agents_blocked_released_total",
        "counter",
        "Blocked agents whose connection the gateway released.",
        st.counters.agents_blocked_released,
    );
    line(
        &mut o,
        "ctigw_devices_monitored",
        "gauge",
        "Devices the PBX monitors for us.",
        st.devices_monitored as u64,
    );
    line(
        &mut o,
        "ctigw_devices_configured",
        "gauge",
        "Devices in the configuration.",
        st.devices_total as u64,
    );
    let _ = writeln!(
        o,
        "# HELP ctigw_link_up 1 when the PBX link is up.\n# TYPE ctigw_link_up gauge"
    );
    for l in &st.links {
        let up = u8::from(l.status == LinkStatus::Up);
        let _ = writeln!(
            o,
            "ctigw_link_up{{link=\"{}\",dialect=\"{}\"}} {up}",
            escape(l.id.as_str()),
            escape(&l.dialect)
        );
    }
    line(
        &mut o,
        "ctigw_ws_clients",
        "gauge",
        "WebSocket clients connected.",
        g(&api.ws_connected),
    );
    line(
        &mut o,
        "ctigw_connections_open",
        "gauge",
        "TCP connections open on the API listener.",
        api.admission.open() as u64,
    );
    line(
        &mut o,
        "ctigw_connections_refused_total",
        "counter",
        "Connections and sessions refused by a cap.",
        api.admission.refused() as u64,
    );
    line(
        &mut o,
        "ctigw_commands_rate_limited_total",
        "counter",
        "Commands refused with rate_limited.",
        g(&api.commands_rate_limited_total),
    );
    line(
        &mut o,
        "ctigw_ws_sessions_total",
        "counter",
        "WebSocket sessions opened.",
        g(&api.ws_sessions_total),
    );
    line(
        &mut o,
        "ctigw_ws_closed_slow_total",
        "counter",
        "Clients closed with 4008 for reading too slowly.",
        g(&api.ws_closed_slow_total),
    );
    line(
        &mut o,
        "ctigw_ws_protocol_errors_total",
        "counter",
        "Clients closed with 4004 for protocol errors.",
        g(&api.ws_protocol_errors_total),
    );
    line(
        &mut o,
        "ctigw_auth_failures_total",
        "counter",
        "WebSocket clients and REST requests refused for a missing, bad or expired token.",
        g(&api.auth_failures_total),
    );
    line(
        &mut o,
        "ctigw_ws_frames_sent_total",
        "counter",
        "Frames written to WebSocket clients.",
        g(&api.frames_sent_total),
    );
    line(
        &mut o,
        "ctigw_rest_requests_total",
        "counter",
        "REST requests served.",
        g(&api.rest_requests_total),
    );
    o
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
