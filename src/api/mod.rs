//! The HTTP layer: the operation tables, wire formats, error bodies. It knows nothing of
//! storage; every handler turns wire JSON into a service call and the result back into wire
//! JSON. Each API ecsd speaks (ECS, and beside it the IMS, VPC, Nova, IAM calls automation
//! needs, and ecsd's own control API) is a module with its own table and wire types.

pub mod auth;
pub mod cinder;
pub mod console;
pub mod control;
pub mod ecs;
pub mod error;
pub mod evs;
pub mod extract;
pub mod format;
pub mod glance;
pub mod iam;
pub mod ims;
pub mod neutron;
pub mod nova;
pub mod openapi;
pub mod operation;
pub mod signing;
pub mod vpc;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use tracing::Instrument;

use crate::audit;
use crate::domain::{Error, Result};
use crate::service::Ecs;
use error::{ApiError, ApiResult, unknown_path};
use operation::Row;

/// Most bytes a request body may have (the AK/SK signing limit of the real gateway).
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// Most bytes the body of an operation anyone may call (`POST /v3/auth/tokens`) may have: a
/// token request is a few hundred bytes, and these bodies are read before anyone is known.
pub const MAX_PUBLIC_BODY_BYTES: usize = 64 * 1024;

/// What handlers may extract with `State<...>`: the service, the authentication state, or
/// what the health answer tells of the process.
#[derive(Clone)]
pub struct ApiState {
    ecs: Arc<Ecs>,
    auth: Arc<auth::AuthState>,
    about: Arc<About>,
}

/// The process as `GET /_ecsd/health` describes it: nothing of its data.
#[derive(Debug)]
pub struct About {
    pub started: Instant,
    pub timings: crate::config::TimingsMode,
    /// Whether the store is PostgreSQL (shared) rather than the data dir's SQLite.
    pub shared_store: bool,
    /// Made at start, told by the health answer; the owner of the engine's leases.
    pub replica_id: String,
}

impl About {
    pub fn new(timings: crate::config::TimingsMode, shared_store: bool, replica_id: String) -> Self {
        About { started: Instant::now(), timings, shared_store, replica_id }
    }
}

impl FromRef<ApiState> for Arc<About> {
    fn from_ref(state: &ApiState) -> Self {
        Arc::clone(&state.about)
    }
}

impl FromRef<ApiState> for Arc<Ecs> {
    fn from_ref(state: &ApiState) -> Self {
        Arc::clone(&state.ecs)
    }
}

impl FromRef<ApiState> for Arc<auth::AuthState> {
    fn from_ref(state: &ApiState) -> Self {
        Arc::clone(&state.auth)
    }
}

/// The id given to a request, shared with the handlers that put it in error bodies.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the layers inside learn of a request for its log line: the SDK operation and the
/// project (from [`operation::dispatch`]), and for a refused credential its access key and
/// why (from [`auth::authenticate`]). Never a secret or a signature.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<LogFields>>);

#[derive(Debug, Default)]
struct LogFields {
    operation: Option<&'static str>,
    project: Option<String>,
    access_key: Option<String>,
    refused: Option<&'static str>,
}

impl RequestLog {
    fn update(&self, change: impl FnOnce(&mut LogFields)) {
        if let Ok(mut fields) = self.0.lock() {
            change(&mut fields);
        }
    }

    pub fn operation(&self, name: &'static str, project: Option<String>) {
        self.update(|fields| {
            fields.operation = Some(name);
            fields.project = project;
        });
    }

    /// A credential refused: the access key it named (when it named one) and the reason.
    pub fn refused(&self, access_key: Option<&str>, reason: &'static str) {
        self.update(|fields| {
            fields.access_key = access_key.map(String::from);
            fields.refused = Some(reason);
        });
    }
}

/// The code and message of an error answer, which the request's log line repeats.
#[derive(Debug, Clone)]
pub struct AnsweredError {
    pub code: String,
    pub message: String,
}

/// Every operation ecsd serves: the tables of its APIs, in the order the document lists them.
fn rows() -> Vec<Row> {
    [
        nova::operations(),
        openapi::operations(),
        ecs::operations(),
        ims::operations(),
        vpc::operations(),
        evs::operations(),
    ]
    .into_iter()
    .chain([
        glance::operations(),
        neutron::operations(),
        cinder::operations(),
        iam::operations(),
        control::operations(),
    ])
    .flatten()
    .collect()
}

/// The operation table of the running process; the rows depend on no state, so it is built once.
pub fn table() -> &'static operation::Table {
    static TABLE: OnceLock<operation::Table> = OnceLock::new();
    TABLE.get_or_init(|| operation::Table::new(&rows(), ecs::UNSERVED_PATHS))
}

/// Every path template the router serves, each once.
pub fn route_paths() -> Vec<&'static str> {
    let mut paths: Vec<&'static str> = table().operations().into_iter().map(|(_, path, _)| path).collect();
    paths.dedup();
    paths
}

/// The `--metrics-listen` address's one route: the metrics, to anyone.
pub fn metrics_router(ecs: Arc<Ecs>) -> Router {
    Router::new().route("/metrics", axum::routing::get(control::open_metrics)).with_state(ecs)
}

pub fn router(ecs: Arc<Ecs>, auth: Arc<auth::AuthState>, about: About, console: console::ConsoleState) -> Router {
    let ecs_for_observe = Arc::clone(&ecs);
    let state = ApiState { ecs, auth: Arc::clone(&auth), about: Arc::new(about) };
    let (routes, _, _) = operation::assemble(rows());
    let apis = routes
        .route_layer(middleware::from_fn_with_state((Arc::clone(&state.ecs), table()), operation::dispatch))
        .fallback(unknown_path)
        // The gateway routes on method and path together: a method a path does not serve is
        // an unknown API like any other.
        .method_not_allowed_fallback(unknown_path)
        .with_state(state)
        .layer(middleware::from_fn(nova::negotiate))
        .layer(middleware::from_fn_with_state(auth, auth::authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES));
    // The console authenticates by its session, not by signature: it sits beside the APIs.
    apis.merge(console::router(console).layer(axum::extract::DefaultBodyLimit::max(MAX_PUBLIC_BODY_BYTES)))
        .layer(middleware::from_fn_with_state(ecs_for_observe, observe))
}

tokio::task_local! {
    /// The call being served, for what the layers and the service note of it (its record in
    /// the audit trail).
    static CALL: Arc<audit::Call>;
}

/// Notes something of the call being served, if any.
fn note_call(note: impl FnOnce(&audit::Call)) {
    let _ = CALL.try_with(|call| note(call));
}

/// Gives every request its id, which the response carries as `X-Request-Id` (the SDKs copy
/// it into their exceptions), every line logged while it is served carries as the span
/// `request{id=...}`, and its one log line (method, path, SDK operation, status, latency,
/// project) ends with. Nova paths also carry `X-Openstack-Request-Id` and
/// `X-Compute-Request-Id` as `req-<uuid>`. A call of an operation that changes something (and
/// with `--events-reads` any call of an operation) is recorded in the audit trail once answered.
async fn observe(State(ecs): State<Arc<Ecs>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let uuid = uuid::Uuid::new_v4();
    let id = uuid.simple().to_string();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let nova = path.starts_with("/v2.1/") || path.starts_with("/v2/");
    let log = RequestLog::default();
    request.extensions_mut().insert(RequestId(id.clone()));
    request.extensions_mut().insert(log.clone());
    let call = Arc::new(audit::Call::new(id.clone()));
    let changes = !matches!(method, Method::GET | Method::HEAD);
    let mut response =
        CALL.scope(Arc::clone(&call), next.run(request).instrument(tracing::info_span!("request", id = %id))).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    if nova && let Ok(value) = HeaderValue::from_str(&format!("req-{}", uuid.hyphenated())) {
        headers.insert(HeaderName::from_static("x-openstack-request-id"), value.clone());
        headers.insert(HeaderName::from_static("x-compute-request-id"), value);
    }
    let error = response.extensions().get::<AnsweredError>();
    let fields = log.0.lock().ok();
    let fields = fields.as_deref();
    ecs.metrics().answered(
        fields.and_then(|f| f.operation).unwrap_or(crate::metrics::NO_OPERATION),
        response.status().as_u16(),
        started.elapsed(),
    );
    tracing::info!(
        target: "ecsd::request",
        method = %method,
        path,
        operation = fields.and_then(|f| f.operation),
        status = response.status().as_u16(),
        latency_ms = format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        project = fields.and_then(|f| f.project.as_deref()),
        request_id = id,
        error_code = error.map(|e| e.code.as_str()),
        error = error.map(|e| e.message.as_str()),
        access_key = fields.and_then(|f| f.access_key.as_deref()),
        refused = fields.and_then(|f| f.refused),
        "answered"
    );
    if let Some(operation) = fields.and_then(|f| f.operation)
        && (changes || ecs.trail().config().record_reads)
    {
        let notes = call.notes();
        let project_id = fields.and_then(|f| f.project.clone()).unwrap_or_default();
        let mut event = audit::origin(ecs.now()).call(&project_id, operation, response.status().as_u16());
        event.request_id = Some(id);
        event.caller = notes.caller;
        event.server_ids = notes.server_ids;
        event.job_id = notes.job_id;
        event.code = error.map(|e| e.code.clone());
        event.message = error.map(|e| e.message.clone());
        ecs.trail().record(event);
    }
    response
}

/// Runs a point read (a key lookup) on the calling task. Reads use the store's read
/// connections, which in WAL mode never wait for writers, so they are as quick as any
/// in-memory work; a hop to the blocking pool would cost more than the read itself.
fn point_read<R>(ecs: &Ecs, call: impl FnOnce(&Ecs) -> Result<R>) -> ApiResult<R> {
    call(ecs).map_err(ApiError)
}

/// Runs a service call off the async workers: store calls block.
async fn blocking<R: Send + 'static>(
    ecs: &Arc<Ecs>,
    call: impl FnOnce(&Ecs) -> Result<R> + Send + 'static,
) -> ApiResult<R> {
    let ecs = Arc::clone(ecs);
    // The request's span goes along, so what the call logs carries the request id; so does
    // the call, so what the service touches is noted for its record.
    let span = tracing::Span::current();
    let current = CALL.try_with(Arc::clone).ok();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| match current {
            Some(current) => current.within(|| call(&ecs)),
            None => call(&ecs),
        })
    })
    .await
    .map_err(|e| ApiError(Error::internal(e)))?
    .map_err(ApiError)
}
