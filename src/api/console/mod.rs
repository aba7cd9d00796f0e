//! The web console at `/console`: a page and its script, embedded in the binary, and the JSON
//! calls its views make (`/console/api/...`), with their own wire types over the same service
//! the APIs use. Not a cloud API, so not rows of the operation table nor in the OpenAPI document.
//!
//! Nothing but the sign-in page and its style sheet answers without a session. A session is
//! opened by the one-time URL of the start-up banner (bound to the bootstrap project) or by an
//! access key and its secret key, and lives in an `HttpOnly`, `SameSite=Strict` cookie; every
//! state-changing call must also carry the session's CSRF token in `X-Ecsd-Csrf`. The console
//! sees the session's project only: fault rules, settling and the server and job reads are the
//! project's; snapshots and moving the clock, which reach every project, need an admin
//! credential, as in the control API.

mod session;
mod wire;

use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::blocking;
use super::error::{ApiError, ApiResult};
use super::extract::{EcsJson, EcsPath, EcsQuery};
use crate::domain::faults::{FaultRule, FaultSpec};
use crate::domain::query::{Page, ServerFilter, Start};
use crate::domain::status::Status;
use crate::domain::{Error, ErrorCode};
use crate::iam::{Iam, Refused};
use crate::service::{Ecs, Reach};
pub use session::{Grant, Session, Sessions};
use wire::{
    AdvanceRequest, ClockView, Faults, JobView, Me, ServerDetail, ServerPage, ServerRow, SignIn, SnapshotRequest,
    SnapshotView, Snapshots,
};

/// The session cookie's name; the port of the `Host` is appended, since browsers share
/// cookies between the ports of a host and two ecsd on one machine must not sign each other out.
const COOKIE: &str = "ecsd_console";
/// The header a state-changing console call carries its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-ecsd-csrf";

const PAGE: &str = include_str!("assets/console.html");
const SIGN_IN_PAGE: &str = include_str!("assets/sign-in.html");
const STYLE: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");
const ICON: &str = include_str!("assets/icon.svg");

/// What the console's handlers extract with `State<...>`.
#[derive(Clone)]
pub struct ConsoleState {
    pub ecs: Arc<Ecs>,
    pub iam: Arc<Iam>,
    pub sessions: Arc<Sessions>,
    /// Whom the console stands for with `--no-auth`, where it opens without signing in.
    pub bootstrap: Grant,
    pub auth: bool,
    pub region: String,
    /// Served over TLS: the cookie is `Secure`.
    pub tls: bool,
}

pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/sign-in", post(sign_in))
        .route("/console/assets/console.css", get(style))
        .route("/console/assets/console.js", get(script))
        .route("/console/assets/icon.svg", get(icon))
        .route("/console/api/me", get(me))
        .route("/console/api/sign-out", post(sign_out))
        .route("/console/api/servers", get(list_servers))
        .route("/console/api/servers/{id}", get(show_server))
        .route("/console/api/jobs/{id}", get(show_job))
        .route("/console/api/faults", get(list_faults).post(add_fault))
        .route("/console/api/faults/{id}", delete(delete_fault))
        .route("/console/api/faults/{id}/release", post(release_fault))
        .route("/console/api/snapshots", get(list_snapshots).post(save_snapshot))
        .route("/console/api/snapshots/{name}", delete(delete_snapshot))
        .route("/console/api/snapshots/{name}/restore", post(restore_snapshot))
        .route("/console/api/clock", get(clock))
        .route("/console/api/clock/advance", post(advance_clock))
        .route("/console/api/clock/settle", post(settle_clock))
        .layer(axum::middleware::map_response(guarded))
        .with_state(state)
}

/// Every console answer: never cached (they hold a project's data), never framed, scripts and
/// styles from ecsd only, and no `Referer` that could carry a sign-in token away.
async fn guarded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The cookie's name for the host a request was sent to.
fn cookie_name(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    match host.rsplit_once(':') {
        Some((_, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => format!("{COOKIE}_{port}"),
        _ => COOKIE.to_string(),
    }
}

/// The session cookie's value, when the request carries one.
fn cookie(headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(headers);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// The open session a request's cookie names. A point read: done in place (see
/// `api::point_read`).
pub fn session_of(sessions: &Sessions, headers: &HeaderMap) -> crate::domain::Result<Option<Session>> {
    match cookie(headers) {
        Some(cookie) => sessions.session(&cookie),
        None => Ok(None),
    }
}

/// Opens, spends or ends sessions off the async workers: those are writes, which wait on the
/// store.
async fn writing<R: Send + 'static>(
    sessions: &Arc<Sessions>,
    write: impl FnOnce(&Sessions) -> crate::domain::Result<R> + Send + 'static,
) -> crate::domain::Result<R> {
    let sessions = Arc::clone(sessions);
    tokio::task::spawn_blocking(move || write(&sessions)).await.map_err(crate::domain::Error::internal)?
}

/// A console call with an open session; a state-changing one also carried the session's
/// CSRF token, which another site's page cannot read, so cannot send.
pub struct Console(Session);

impl Console {
    /// The session's project: what the console's reads and most of its actions reach.
    fn project(&self) -> Reach {
        Reach::Project(self.0.grant.project_id.clone())
    }

    fn project_id(&self) -> String {
        self.0.grant.project_id.clone()
    }

    /// Every project, for an admin credential's session (snapshots, the clock); the project
    /// only otherwise, which the service refuses for those actions.
    fn everything(&self) -> Reach {
        if self.0.grant.admin { Reach::Everything } else { self.project() }
    }
}

impl FromRequestParts<ConsoleState> for Console {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        let session = session_of(&state.sessions, &parts.headers)?.ok_or(ErrorCode::ConsoleSignedOut)?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts.headers.get(CSRF_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
            if !bool::from(sent.ct_eq(session.csrf.as_bytes())) {
                return Err(ErrorCode::ConsoleCsrf.into());
            }
        }
        Ok(Console(session))
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    token: Option<String>,
}

/// The text of a page: `{{name}}` replaced by the HTML-escaped value.
fn render(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_string(), |page, (name, value)| {
        let escaped = value
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        page.replace(&format!("{{{{{name}}}}}"), &escaped)
    })
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn sign_in_page(status: StatusCode, message: &str) -> Response {
    html(status, render(SIGN_IN_PAGE, &[("message", message)]))
}

/// Back to the console, with the new session's cookie.
fn signed_in(state: &ConsoleState, headers: &HeaderMap, cookie: &str) -> Response {
    let secure = if state.tls { "; Secure" } else { "" };
    let value = format!(
        "{}={cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        cookie_name(headers),
        state.sessions.ttl().as_secs()
    );
    let mut response = Redirect::to("/console").into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /console`: the console for a session, the sign-in page otherwise; `?token=` spends the
/// banner's one-time token for a session.
async fn page(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    if let Some(token) = query.ok().and_then(|Query(q)| q.token) {
        return match writing(&state.sessions, move |sessions| sessions.redeem(&token)).await {
            Ok(Some((cookie, _))) => signed_in(&state, &headers, &cookie),
            Err(error) => ApiError(error).into_response(),
            Ok(None) => sign_in_page(
                StatusCode::UNAUTHORIZED,
                "This sign-in link is spent (each one works once) or has expired. Sign in with an \
                 access key, or restart ecsd for a new link.",
            ),
        };
    }
    match session_of(&state.sessions, &headers) {
        Ok(Some(session)) => html(StatusCode::OK, render(PAGE, &[("csrf", &session.csrf)])),
        Ok(None) if !state.auth => {
            let bootstrap = state.bootstrap.clone();
            match writing(&state.sessions, move |sessions| sessions.open(bootstrap)).await {
                Ok((cookie, _)) => signed_in(&state, &headers, &cookie),
                Err(error) => ApiError(error).into_response(),
            }
        }
        Ok(None) => sign_in_page(StatusCode::OK, ""),
        Err(error) => ApiError(error).into_response(),
    }
}

/// `POST /console/sign-in`: an access key and its secret key, checked as a signature's key is
/// (the key active and not locked; a wrong secret counts towards its lockout), open a session
/// bound to the key's project. The secret is compared and forgotten.
async fn sign_in(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    let wrong = || sign_in_page(StatusCode::UNAUTHORIZED, "The access key or the secret key is wrong.");
    let Ok(Form(SignIn { access_key, secret_key })) = form else { return wrong() };
    let key = match state.iam.signing_key(&access_key) {
        Ok(Ok(key)) => key,
        Ok(Err(Refused::Locked)) => {
            return sign_in_page(
                StatusCode::UNAUTHORIZED,
                "This access key is locked for a while after repeated failures.",
            );
        }
        Ok(Err(_)) => return wrong(),
        Err(error) => return ApiError(error).into_response(),
    };
    let matched = bool::from(key.secret_key.as_bytes().ct_eq(secret_key.as_bytes()));
    if let Err(error) = state.iam.signature_checked(&access_key, &key, matched).await {
        return ApiError(error).into_response();
    }
    if !matched {
        return wrong();
    }
    let grant = Grant { project_id: key.project_id, access_key, admin: key.admin };
    tracing::info!(access_key = grant.access_key, project_id = grant.project_id, "console: signed in");
    match writing(&state.sessions, move |sessions| sessions.open(grant)).await {
        Ok((cookie, _)) => signed_in(&state, &headers, &cookie),
        Err(error) => ApiError(error).into_response(),
    }
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

async fn icon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], ICON).into_response()
}

/// The script holds no data, but is the console's all the same: served to a session only.
async fn script(_console: Console) -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT).into_response()
}

/// `GET /console/api/me`.
async fn me(State(state): State<ConsoleState>, Console(session): Console) -> Json<Me> {
    let expires_in = u64::try_from((session.expires - time::OffsetDateTime::now_utc()).whole_seconds()).unwrap_or(0);
    Json(Me {
        project_id: session.grant.project_id,
        access_key: session.grant.access_key,
        admin: session.grant.admin,
        region: state.region.clone(),
        expires_in,
    })
}

/// `POST /console/api/sign-out`: the session ends and its cookie is cleared.
async fn sign_out(State(state): State<ConsoleState>, headers: HeaderMap, _console: Console) -> Response {
    if let Some(value) = cookie(&headers)
        && let Err(error) = writing(&state.sessions, move |sessions| sessions.close(&value)).await
    {
        return ApiError(error).into_response();
    }
    let clear = format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", cookie_name(&headers));
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The fleet view's query: a 1-based page of `limit` servers, filtered.
#[derive(Debug, Deserialize)]
struct ServersQuery {
    page: Option<u64>,
    limit: Option<u64>,
    status: Option<Status>,
    /// A substring of the name (`.` matches any character).
    name: Option<String>,
    /// A substring of a private IP address.
    ip: Option<String>,
    /// A tag key, or `key=value`.
    tag: Option<String>,
    flavor: Option<String>,
}

/// The most servers of one fleet page: enough for a screen, few enough to render at once.
const MAX_PAGE: u64 = 200;

/// `GET /console/api/servers`.
async fn list_servers(
    State(state): State<ConsoleState>,
    console: Console,
    EcsQuery(query): EcsQuery<ServersQuery>,
) -> ApiResult<Json<ServerPage>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::invalid(format!("limit must be between 1 and {MAX_PAGE}.")).into());
    }
    let page = query.page.unwrap_or(1).max(1);
    let filter = ServerFilter {
        name: query.name.filter(|s| !s.is_empty()),
        status: query.status,
        flavor: query.flavor.filter(|s| !s.is_empty()),
        ip: query.ip.filter(|s| !s.is_empty()),
        tags: query.tag.filter(|s| !s.is_empty()),
        ..ServerFilter::default()
    };
    filter.validate()?;
    let project = console.project_id();
    let (total, servers) = blocking(&state.ecs, move |ecs| {
        ecs.list_servers_details(&project, &filter, Page { start: Start::Page(page), limit })
    })
    .await?;
    Ok(Json(ServerPage { total, page, limit, servers: servers.iter().map(ServerRow::from).collect() }))
}

#[derive(Debug, Deserialize)]
struct IdPath {
    id: String,
}

#[derive(Debug, Deserialize)]
struct NamePath {
    name: String,
}

/// `GET /console/api/servers/{id}`.
async fn show_server(
    State(state): State<ConsoleState>,
    console: Console,
    EcsPath(IdPath { id }): EcsPath<IdPath>,
) -> ApiResult<Json<ServerDetail>> {
    let server = state.ecs.show_server(&console.project_id(), &id)?;
    Ok(Json(ServerDetail::new(&server, state.ecs.catalogue())))
}

/// `GET /console/api/jobs/{id}`.
async fn show_job(
    State(state): State<ConsoleState>,
    console: Console,
    EcsPath(IdPath { id }): EcsPath<IdPath>,
) -> ApiResult<Json<JobView>> {
    let job = state.ecs.show_job(&console.project_id(), &id)?.ok_or(ErrorCode::JobNotFound)?;
    Ok(Json(JobView::from(&job)))
}

async fn list_faults(State(state): State<ConsoleState>, console: Console) -> ApiResult<Json<Faults>> {
    let reach = console.project();
    let faults = blocking(&state.ecs, move |ecs| ecs.list_faults(&reach)).await?;
    Ok(Json(Faults { faults }))
}

/// `POST /console/api/faults`: a rule as the control API takes it, for the session's project.
async fn add_fault(
    State(state): State<ConsoleState>,
    console: Console,
    EcsJson(spec): EcsJson<FaultSpec>,
) -> ApiResult<(StatusCode, Json<FaultRule>)> {
    let reach = console.project();
    let rule = blocking(&state.ecs, move |ecs| ecs.add_fault(&reach, spec)).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

async fn delete_fault(
    State(state): State<ConsoleState>,
    console: Console,
    EcsPath(IdPath { id }): EcsPath<IdPath>,
) -> ApiResult<StatusCode> {
    let reach = console.project();
    blocking(&state.ecs, move |ecs| ecs.delete_fault(&reach, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn release_fault(
    State(state): State<ConsoleState>,
    console: Console,
    EcsPath(IdPath { id }): EcsPath<IdPath>,
) -> ApiResult<StatusCode> {
    let reach = console.project();
    blocking(&state.ecs, move |ecs| ecs.release_fault(&reach, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_snapshots(State(state): State<ConsoleState>, console: Console) -> ApiResult<Json<Snapshots>> {
    let reach = console.everything();
    let snapshots = blocking(&state.ecs, move |ecs| ecs.snapshots(&reach)).await?;
    Ok(Json(Snapshots { snapshots: snapshots.into_iter().map(|(name, saved)| SnapshotView { name, saved }).collect() }))
}

async fn save_snapshot(
    State(state): State<ConsoleState>,
    console: Console,
    EcsJson(SnapshotRequest { name }): EcsJson<SnapshotRequest>,
) -> ApiResult<StatusCode> {
    let reach = console.everything();
    blocking(&state.ecs, move |ecs| ecs.save_snapshot(&reach, &name)).await?;
    Ok(StatusCode::CREATED)
}

async fn restore_snapshot(
    State(state): State<ConsoleState>,
    console: Console,
    EcsPath(NamePath { name }): EcsPath<NamePath>,
) -> ApiResult<StatusCode> {
    let reach = console.everything();
    blocking(&state.ecs, move |ecs| ecs.restore_snapshot(&reach, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_snapshot(
    State(state): State<ConsoleState>,
    console: Console,
    EcsPath(NamePath { name }): EcsPath<NamePath>,
) -> ApiResult<StatusCode> {
    let reach = console.everything();
    blocking(&state.ecs, move |ecs| ecs.delete_snapshot(&reach, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn clock(State(state): State<ConsoleState>, _console: Console) -> Json<ClockView> {
    Json(ClockView { now: state.ecs.now() })
}

async fn advance_clock(
    State(state): State<ConsoleState>,
    console: Console,
    EcsJson(AdvanceRequest { seconds }): EcsJson<AdvanceRequest>,
) -> ApiResult<Json<ClockView>> {
    state.ecs.advance_clock(&console.everything(), seconds).await?;
    Ok(Json(ClockView { now: state.ecs.now() }))
}

async fn settle_clock(State(state): State<ConsoleState>, console: Console) -> ApiResult<Json<ClockView>> {
    state.ecs.settle(&console.project()).await?;
    Ok(Json(ClockView { now: state.ecs.now() }))
}
