//! REST for integrators: the same commands as the WebSocket, as resources under `/v1/`, and
//! read-only views of calls, devices, agents and links. Authentication is the same bearer
//! token (`Authorization: Bearer ...` or `?access_token=`).

use super::auth::{AuthError, Principal};
use super::metrics::ApiMetrics;
use super::{AppState, error_json, http_status};
use crate::model::{Command, CommandError, ErrorCode};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/calls",
            get(|st, h, q| view(st, h, q, "calls")).post(make_call),
        )
        .route("/v1/calls/{id}", get(one_call))
        .route("/v1/calls/{id}/{action}", post(call_action))
        .route("/v1/devices", get(|st, h, q| view(st, h, q, "devices")))
        .route(
            "/v1/devices/{id}/forward",
            post(set_forward).delete(cancel_forward),
        )
        .route("/v1/devices/{id}/dnd", post(set_dnd))
        .route("/v1/devices/{id}/agent", post(set_agent_state))
        .route("/v1/agents", get(|st, h, q| view(st, h, q, "agents")))
        .route("/v1/links", get(|st, h, q| view(st, h, q, "links")))
        .route("/v1/commands", post(raw_command))
}

#[derive(Deserialize)]
struct TokenQuery {
    access_token: Option<String>,
}

fn principal(
    st: &AppState,
    headers: &HeaderMap,
    q: &TokenQuery,
) -> Result<Principal, Box<Response>> {
    ApiMetrics::inc(&st.metrics.rest_requests_total);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::trim).map(str::to_string));
    let token = bearer.or_else(|| q.access_token.clone());
    let r = match token {
        Some(t) => st.auth.authenticate(&t),
        None => st.auth.anonymous().ok_or(AuthError::Missing),
    };
    r.map_err(|e| {
        ApiMetrics::inc(&st.metrics.auth_failures_total);
        let (code, message) = match e {
            // REST has no auth message: say how a request carries its token
            AuthError::Missing => (
                "no_token",
                "no access token: send the header `Authorization: Bearer TOKEN` or ?access_token=TOKEN".to_string(),
            ),
            AuthError::Invalid => ("bad_token", e.to_string()),
            AuthError::Expired => ("token_expired", e.to_string()),
        };
        Box::new(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(json!({"ok": false, "error": {"code": code, "message": message}})),
            )
                .into_response(),
        )
    })
}

fn err_response(e: CommandError) -> Response {
    (
        http_status(e.code),
        axum::Json(json!({"ok": false, "error": error_json(&e)})),
    )
        .into_response()
}

fn bad(msg: impl Into<String>) -> Response {
    err_response(CommandError::new(ErrorCode::BadRequest, msg))
}

/// Runs a command given as the WebSocket JSON form (with `op`).
async fn run(st: &AppState, p: &Principal, body: Value) -> Response {
    let op = body
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let cmd: Command = match serde_json::from_value(body) {
        Ok(c) => c,
        Err(e) if super::COMMAND_OPS.contains(&op.as_str()) => return bad(format!("{op}: {e}")),
        Err(_) => return bad(format!("unknown op \"{op}\"")),
    };
    if !p.may_use(cmd.device()) {
        return err_response(CommandError::new(
            ErrorCode::DeviceNotAllowed,
            format!("user {} may not use device {}", p.user, cmd.device()),
        ));
    }
    if !st
        .metrics
        .admission
        .command(&st.cfg.limits, &p.user, std::time::Instant::now())
    {
        super::metrics::ApiMetrics::inc(&st.metrics.commands_rate_limited_total);
        let per_s = st.cfg.limits.commands_per_second;
        let body = json!({"ok": false, "error": {"code": super::RATE_LIMITED, "message": format!("user {} is over {per_s} commands per second", p.user)}});
        return (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    }
    match tokio::time::timeout(st.cfg.command_guard, st.engine.command(cmd)).await {
        Ok(Ok(reply)) => {
            let mut o = json!({"ok": true});
            if let Some(c) = reply.call_id {
                o["callId"] = json!(c);
                return (StatusCode::CREATED, axum::Json(o)).into_response();
            }
            (StatusCode::OK, axum::Json(o)).into_response()
        }
        Ok(Err(e)) => err_response(e),
        Err(_) => err_response(CommandError::new(ErrorCode::Timeout, "no result in time")),
    }
}

fn object(
    body: Result<axum::Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Map<String, Value>, Box<Response>> {
    match body {
        Ok(axum::Json(Value::Object(m))) => Ok(m),
        Ok(_) => Err(Box::new(bad("the body must be a JSON object"))),
        Err(e) => Err(Box::new(bad(format!(
            "the body is not valid JSON: {}",
            e.body_text()
        )))),
    }
}

type Body = Result<axum::Json<Value>, axum::extract::rejection::JsonRejection>;

async fn raw_command(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    body: Body,
) -> Response {
    let p = match principal(&st, &headers, &q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    match object(body) {
        Ok(m) => run(&st, &p, Value::Object(m)).await,
        Err(r) => *r,
    }
}

/// `POST /v1/calls {"device": "24103", "to": "+33123456789"}`
async fn make_call(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    body: Body,
) -> Response {
    let p = match principal(&st, &headers, &q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let mut m = match object(body) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    m.insert("op".into(), json!("makeCall"));
    run(&st, &p, Value::Object(m)).await
}

/// `POST /v1/calls/{id}/{action}` with `{"device": ...}` and the action's other fields. For
/// transfer, conference and alternate, `{id}` is the active call and the body names
/// `heldCallId`.
async fn call_action(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Path((id, action)): Path<(String, String)>,
    body: Body,
) -> Response {
    let p = match principal(&st, &headers, &q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let mut m = match object(body) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let key = match action.as_str() {
        "answer" | "hangup" | "hold" | "retrieve" | "consult" | "deflect"
        | "singleStepTransfer" | "sendDigits" => "callId",
        "transfer" | "conference" | "alternate" => "activeCallId",
        other => {
            return err_response(CommandError::new(
                ErrorCode::BadRequest,
                format!("unknown call action \"{other}\""),
            ));
        }
    };
    m.insert(key.into(), json!(id));
    m.insert("op".into(), json!(action));
    run(&st, &p, Value::Object(m)).await
}

async fn device_op(
    st: AppState,
    headers: HeaderMap,
    q: TokenQuery,
    id: String,
    op: &str,
    body: Option<Body>,
) -> Response {
    let p = match principal(&st, &headers, &q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let mut m = match body.map(object) {
        None => Map::new(),
        Some(Ok(m)) => m,
        Some(Err(r)) => return *r,
    };
    m.insert("device".into(), json!(id));
    m.insert("op".into(), json!(op));
    run(&st, &p, Value::Object(m)).await
}

async fn set_forward(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    device_op(st, headers, q, id, "setForward", Some(body)).await
}

async fn cancel_forward(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Path(id): Path<String>,
) -> Response {
    device_op(st, headers, q, id, "cancelForward", None).await
}

async fn set_dnd(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    device_op(st, headers, q, id, "setDnd", Some(body)).await
}

async fn set_agent_state(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    device_op(st, headers, q, id, "setAgentState", Some(body)).await
}

/// `GET /v1/{calls,devices,agents,links}`: that part of the snapshot the user may see.
async fn view(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    what: &'static str,
) -> Response {
    let p = match principal(&st, &headers, &q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(snap) = st.engine.snapshot().await else {
        return err_response(CommandError::new(
            ErrorCode::Internal,
            "the engine has stopped",
        ));
    };
    let s = p.scope.filter_snapshot(&snap);
    let items = match what {
        "calls" => json!(s.api_calls()),
        "devices" => json!(s.devices),
        "agents" => json!(s.agents),
        _ => json!(s.links),
    };
    (
        StatusCode::OK,
        axum::Json(json!({"seq": s.seq, what: items})),
    )
        .into_response()
}

/// `GET /v1/calls/{id}`: one live call the user may see, as `GET /v1/calls` lists it; 404
/// `unknown_call` when there is none by that id.
async fn one_call(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Path(id): Path<String>,
) -> Response {
    let p = match principal(&st, &headers, &q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(snap) = st.engine.snapshot().await else {
        return err_response(CommandError::new(
            ErrorCode::Internal,
            "the engine has stopped",
        ));
    };
    let s = p.scope.filter_snapshot(&snap);
    let found = match json!(s.api_calls()) {
        Value::Array(calls) => calls
            .into_iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id.as_str())),
        _ => None,
    };
    match found {
        Some(call) => (
            StatusCode::OK,
            axum::Json(json!({"seq": s.seq, "call": call})),
        )
            .into_response(),
        None => err_response(CommandError::new(
            ErrorCode::UnknownCall,
            format!("no live call {id} that this user may see"),
        )),
    }
}
