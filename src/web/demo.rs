//! What `ctigw demo` adds to the pages: the host page that plays Dynamics 365 (`/demo/crm.html`,
//! an in-memory contact table and the `Microsoft.CIFramework` contract, for newcomers and the
//! browser tests), what the gateway wrote to the simulated PBX (`GET /demo/wire`: the wire
//! evidence the browser tests check; `GET /demo/calls`: the switch's own view), and hooks that
//! play the outside world on the simulated switch through [`DemoWorld`]. The host page's CIF library stand-in is served where
//! Dynamics serves the real one, `/webresources/Widget/msdyn_ciLibrary.js`. The hooks play the
//! outside world on the simulated switch (`POST /demo/call`, `/demo/answer`, `/demo/hangup`).
//! None of it exists outside the demo: the hooks answer 404 until [`install`] is called.

use crate::sim::world::DemoWorld;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, OnceLock};

static DEMO: OnceLock<Arc<dyn DemoWorld>> = OnceLock::new();

/// Turns the demo hooks on, for the simulated PBX whose outside world `world` plays.
pub fn install(world: Arc<dyn DemoWorld>) {
    let _ = DEMO.set(world);
}

pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/demo/", get(|| async { host_file("crm.html") }))
        .route("/demo/crm.html", get(|| async { host_file("crm.html") }))
        .route("/demo/crm.js", get(|| async { host_file("crm.js") }))
        .route(
            "/webresources/Widget/msdyn_ciLibrary.js",
            get(|| async { host_file("msdyn_ciLibrary.js") }),
        )
        .route("/demo/wire", get(wire))
        .route("/demo/calls", get(calls))
        .route("/demo/call", post(call))
        .route("/demo/answer", post(answer))
        .route("/demo/hangup", post(hangup))
}

fn not_demo() -> Response {
    (StatusCode::NOT_FOUND, "only in ctigw demo\n").into_response()
}

fn host_file(name: &str) -> Response {
    if !super::page_config().demo {
        return not_demo();
    }
    super::asset_response(name)
}

async fn wire() -> Response {
    match DEMO.get() {
        Some(d) => axum::Json(d.wire()).into_response(),
        None => not_demo(),
    }
}

/// The calls on the simulated switch: `[[callId, [[device, state], ...]], ...]`.
async fn calls() -> Response {
    match DEMO.get() {
        Some(d) => axum::Json(d.calls().await).into_response(),
        None => not_demo(),
    }
}

#[derive(Deserialize)]
struct CallBody {
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct DeviceBody {
    device: String,
}

/// An outside caller (or any number) dials `to` on the simulated switch.
async fn call(axum::Json(b): axum::Json<CallBody>) -> Response {
    let Some(d) = DEMO.get() else {
        return not_demo();
    };
    d.call(b.from, b.to).await;
    axum::Json(json!({"ok": true})).into_response()
}

/// The first call in which `device` rings is answered by that party.
async fn answer(axum::Json(b): axum::Json<DeviceBody>) -> Response {
    let Some(d) = DEMO.get() else {
        return not_demo();
    };
    acted(d.answer(b.device).await)
}

/// `device` leaves its calls (an outside party hanging up).
async fn hangup(axum::Json(b): axum::Json<DeviceBody>) -> Response {
    let Some(d) = DEMO.get() else {
        return not_demo();
    };
    acted(d.hangup(b.device).await)
}

fn acted(r: Result<(), String>) -> Response {
    match r {
        Ok(()) => axum::Json(json!({"ok": true})).into_response(),
        Err(error) => (
            StatusCode::CONFLICT,
            axum::Json(json!({"ok": false, "error": error})),
        )
            .into_response(),
    }
}
