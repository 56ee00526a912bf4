//! The pages the daemon serves to people, embedded in the binary so it needs no files beside
//! it: the Dynamics 365 CIF channel page at `/` (its ES modules under `/web/`), the engineer's
//! live view at `/engineer`, and, in `ctigw demo` only, a host page that plays Dynamics under
//! `/demo/` (see [`demo`]).

mod assets;
pub mod demo;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use std::sync::OnceLock;

/// The engineer's live view: links, devices, agents and calls, with call buttons.
pub const ENGINEER_HTML: &str = include_str!("engineer.html");

/// What the channel page is told by `/web/config.json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageConfig {
    /// Origins the page may load the CIF library from. `https://*.dynamics.com` matches any
    /// host under that domain over https; `self` is the page's own origin (the demo host).
    pub crm_origins: Vec<String>,
    /// Entities searched for a screen pop, in order, each with the phone fields compared.
    pub pop_entities: Vec<PopEntity>,
    /// Write each finished call as a `phonecall` activity.
    pub call_logging: bool,
    /// Calls shorter than this (seconds) are not logged.
    pub min_log_seconds: u64,
    /// The op the history query will have (issue 11); the page hides the panel when the
    /// server answers that it does not know it.
    pub history_op: String,
    /// True in `ctigw demo`: the page signs in without a token and the demo host page is
    /// served.
    pub demo: bool,
    /// The device the page controls when the user has not chosen one yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// CIF 2.0: the notification template shown for an incoming call (`notifyEvent`);
    /// accepting it answers the call. None: no notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cif2_notification_template: Option<String>,
    /// CIF 2.0: the session template of the session opened for each incoming call
    /// (`createSession`, multisession apps). None: no session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cif2_session_template: Option<String>,
    /// Where the sign-in button sends the user (the OIDC sign-on of issue 11); none: token only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_url: Option<String>,
}

/// One entity searched for a screen pop.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopEntity {
    pub entity: String,
    pub name_field: String,
    pub phone_fields: Vec<String>,
}

impl Default for PageConfig {
    fn default() -> Self {
        let e = |entity: &str, name: &str, phones: &[&str]| PopEntity {
            entity: entity.into(),
            name_field: name.into(),
            phone_fields: phones.iter().map(|p| p.to_string()).collect(),
        };
        PageConfig {
            crm_origins: vec!["https://*.dynamics.com".into()],
            pop_entities: vec![
                e(
                    "contact",
                    "fullname",
                    &["telephone1", "telephone2", "mobilephone"],
                ),
                e("account", "name", &["telephone1", "telephone2"]),
                e("lead", "fullname", &["telephone1", "mobilephone"]),
            ],
            call_logging: true,
            min_log_seconds: 0,
            history_op: "history".into(),
            demo: false,
            device: None,
            cif2_notification_template: None,
            cif2_session_template: None,
            sso_url: None,
        }
    }
}

impl PageConfig {
    /// `ctigw demo`: the CIF library may come from the daemon's own origin (the host page).
    pub fn demo() -> Self {
        PageConfig {
            crm_origins: vec!["self".into()],
            demo: true,
            device: Some("24104".into()),
            cif2_notification_template: Some("ctigw_incoming_call".into()),
            cif2_session_template: Some("ctigw_call_session".into()),
            ..Default::default()
        }
    }
}

static PAGE_CONFIG: OnceLock<PageConfig> = OnceLock::new();

/// The browser tab's icon: a handset on the gateway's blue (SVG; browsers take it at
/// `/favicon.ico` by its content type).
const FAVICON_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b5cad"/><path d="M4 3h2l1 3-1.5 1a7 7 0 0 0 3.5 3.5L10 9l3 1v2a1 1 0 0 1-1 1A9 9 0 0 1 3 4a1 1 0 0 1 1-1z" fill="#fff"/></svg>"##;

/// Sets what `/web/config.json` answers; call once before serving (later calls are ignored).
pub fn configure(cfg: PageConfig) {
    let _ = PAGE_CONFIG.set(cfg);
}

fn page_config() -> PageConfig {
    PAGE_CONFIG.get().cloned().unwrap_or_default()
}

/// The routes of the pages, for any router state (they keep none of their own).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { channel_page() }))
        .route("/engineer", get(|| async { Html(ENGINEER_HTML) }))
        .route(
            "/favicon.ico",
            get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml")], FAVICON_SVG) }),
        )
        .route(
            "/web/config.json",
            get(|| async { axum::Json(page_config()) }),
        )
        .route(
            "/web/{file}",
            get(|Path(file): Path<String>| async move { asset_response(&file) }),
        )
        .merge(demo::routes())
}

/// The channel page, with a Content-Security-Policy that lets scripts come only from the
/// daemon and the allowed CRM origins, and lets the page be framed only by them.
fn channel_page() -> Response {
    let crm: Vec<&str> = PAGE_CONFIG
        .get()
        .map(|c| c.crm_origins.iter().map(String::as_str).collect())
        .unwrap_or_else(|| vec!["https://*.dynamics.com"]);
    let sources = crm
        .iter()
        .map(|o| if *o == "self" { "'self'" } else { o })
        .collect::<Vec<_>>()
        .join(" ");
    let csp = format!(
        "default-src 'self'; script-src 'self' {sources}; connect-src 'self'; \
         style-src 'self'; img-src 'self' data:; frame-ancestors 'self' {sources}"
    );
    let mut r = asset_response("index.html");
    if let Ok(v) = header::HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

fn asset_response(name: &str) -> Response {
    match assets::get(name) {
        Some((mime, body)) => (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}
