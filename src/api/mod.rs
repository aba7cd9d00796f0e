//! The HTTP layer: the operation tables, wire formats, error bodies. It knows nothing of
//! storage; every handler turns wire JSON into a service call and the result back into wire
//! JSON. Each API ecsd speaks (ECS, and beside it the IMS, VPC, Nova, IAM calls automation
//! needs, and ecsd's own control API) is a module with its own table and wire types.

pub mod auth;
pub mod control;
pub mod ecs;
pub mod error;
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

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{FromRef, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::domain::{Error, Result};
use crate::service::Ecs;
use error::{ApiError, ApiResult, unknown_path};
use operation::Row;

/// Most bytes a request body may have (the AK/SK signing limit of the real gateway).
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// Most bytes the body of an operation anyone may call (`POST /v3/auth/tokens`) may have: a
/// token request is a few hundred bytes, and these bodies are read before anyone is known.
pub const MAX_PUBLIC_BODY_BYTES: usize = 64 * 1024;

/// What handlers may extract with `State<...>`: the service, or the authentication state.
#[derive(Clone)]
pub struct ApiState {
    ecs: Arc<Ecs>,
    auth: Arc<auth::AuthState>,
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

/// Every operation ecsd serves: the tables of its APIs, in the order the document lists them.
fn rows() -> Vec<Row> {
    [nova::operations(), openapi::operations(), ecs::operations(), ims::operations(), vpc::operations()]
        .into_iter()
        .chain([glance::operations(), neutron::operations(), iam::operations(), control::operations()])
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

pub fn router(ecs: Arc<Ecs>, auth: Arc<auth::AuthState>) -> Router {
    let state = ApiState { ecs, auth: Arc::clone(&auth) };
    let (routes, _, _) = operation::assemble(rows());
    routes
        .route_layer(middleware::from_fn_with_state((Arc::clone(&state.ecs), table()), operation::dispatch))
        .fallback(unknown_path)
        // The gateway routes on method and path together: a method a path does not serve is
        // an unknown API like any other.
        .method_not_allowed_fallback(unknown_path)
        .with_state(state)
        .layer(middleware::from_fn(nova::negotiate))
        .layer(middleware::from_fn_with_state(auth, auth::authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_id))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::debug_span!(
                "request",
                method = %request.method(),
                uri = %request.uri(),
                operation = tracing::field::Empty,
            )
        }))
}

/// Gives every response an `X-Request-Id`, which the SDKs copy into their exceptions.
/// Nova paths also carry `X-Openstack-Request-Id` and `X-Compute-Request-Id` as `req-<uuid>`.
async fn request_id(mut request: Request, next: Next) -> Response {
    let uuid = uuid::Uuid::new_v4();
    let id = uuid.simple().to_string();
    let nova = request.uri().path().starts_with("/v2.1/") || request.uri().path().starts_with("/v2/");
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    if nova && let Ok(value) = HeaderValue::from_str(&format!("req-{}", uuid.hyphenated())) {
        headers.insert(HeaderName::from_static("x-openstack-request-id"), value.clone());
        headers.insert(HeaderName::from_static("x-compute-request-id"), value);
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
    tokio::task::spawn_blocking(move || call(&ecs)).await.map_err(|e| ApiError(Error::internal(e)))?.map_err(ApiError)
}
