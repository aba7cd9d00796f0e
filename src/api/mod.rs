//! The HTTP layer: routes, wire formats, error bodies. It knows nothing of storage; every
//! handler turns wire JSON into a service call and the result back into wire JSON.

pub mod auth;
mod batch;
mod catalogue;
pub mod control;
pub mod error;
mod jobs;
pub mod openapi;
mod servers;
pub mod signing;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post, put};

use crate::domain::{Error, ErrorCode, Result};
use crate::service::Ecs;
use error::{ApiError, ApiResult};

pub type AppState = Arc<Ecs>;

/// Most bytes a request body may have (the AK/SK signing limit of the real gateway).
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// The id given to a request, shared with the handlers that put it in error bodies.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The path of the token endpoint, the one route with the IAM state.
pub const TOKENS_PATH: &str = "/v3/auth/tokens";

/// Every path served with the ECS state, and its handlers. The router is built from this list,
/// and `tests/openapi.rs` walks it (via [`route_paths`]) to check the OpenAPI document covers
/// every route.
fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/", get(catalogue::list_versions)),
        ("/openapi.json", get(openapi::serve)),
        ("/v1/{project_id}/cloudservers", post(servers::create_servers)),
        ("/v1.1/{project_id}/cloudservers", post(servers::create_servers)),
        ("/v1/{project_id}/cloudservers/detail", get(servers::list_servers_details)),
        ("/v1/{project_id}/cloudservers/action", post(batch::batch_action)),
        ("/v1/{project_id}/cloudservers/delete", post(batch::delete_servers)),
        ("/v1/{project_id}/cloudservers/os-reset-passwords", put(batch::batch_reset_servers_password)),
        ("/v1/{project_id}/cloudservers/server-name", put(batch::batch_update_servers_name)),
        ("/v1/{project_id}/cloudservers/batch-resize", post(batch::batch_resize_servers)),
        ("/v1/{project_id}/cloudservers/flavors", get(catalogue::list_flavors)),
        ("/v1/{project_id}/cloudservers/resize_flavors", get(catalogue::list_resize_flavors)),
        ("/v1/{project_id}/cloudservers/limits", get(catalogue::show_server_limits)),
        ("/v1/{project_id}/cloudservers/{server_id}", get(servers::show_server).put(servers::update_server)),
        ("/v1/{project_id}/cloudservers/{server_id}/resize", post(batch::resize_server)),
        ("/v1.1/{project_id}/cloudservers/{server_id}/resize", post(batch::resize_server)),
        ("/v1/{project_id}/cloudservers/{server_id}/os-reset-password", put(batch::reset_server_password)),
        ("/v1/{project_id}/cloudservers/{server_id}/os-resetpwd-flag", get(batch::show_reset_password_flag)),
        ("/v1/{project_id}/jobs/{job_id}", get(jobs::show_job)),
        ("/v1/{project_id}/availability-zones", get(catalogue::list_server_az_info)),
        ("/v2.1/{project_id}/os-availability-zone", get(catalogue::nova_list_availability_zones)),
        ("/v2/cloudimages", get(catalogue::list_images)),
        ("/v1/{project_id}/vpcs", get(catalogue::list_vpcs)),
        ("/v1/{project_id}/subnets", get(catalogue::list_subnets)),
        ("/_ecsd/faults", post(control::add_fault).get(control::list_faults)),
        ("/_ecsd/faults/{id}", delete(control::delete_fault)),
        ("/_ecsd/faults/{id}/release", post(control::release_fault)),
        ("/_ecsd/reset", post(control::reset)),
        ("/_ecsd/snapshots", post(control::save_snapshot).get(control::list_snapshots)),
        ("/_ecsd/snapshots/{name}", delete(control::delete_snapshot)),
        ("/_ecsd/snapshots/{name}/restore", post(control::restore_snapshot)),
        ("/_ecsd/clock/advance", post(control::advance_clock)),
        ("/_ecsd/clock/settle", post(control::settle_clock)),
        ("/_ecsd/fixtures", post(control::load_fixtures)),
    ]
}

/// Every path the router serves, in axum's `{param}` syntax.
pub fn route_paths() -> Vec<&'static str> {
    routes().into_iter().map(|(path, _)| path).chain([TOKENS_PATH]).collect()
}

pub fn router(ecs: Arc<Ecs>, auth: Arc<auth::AuthState>) -> Router {
    let iam = Router::new()
        .route(TOKENS_PATH, post(auth::keystone_create_user_token))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(Arc::clone(&auth));
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, handlers)| router.route(path, handlers))
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ecs)
        .merge(iam)
        .layer(middleware::from_fn_with_state(auth, auth::authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_id))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

async fn unknown_path() -> ApiError {
    ApiError(Error::new(ErrorCode::ResourceNotFound, "No API matches this path."))
}

async fn method_not_allowed() -> Response {
    let mut response = axum::response::IntoResponse::into_response(ApiError(Error::invalid(
        "This method is not allowed on this path.",
    )));
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
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
fn point_read<R>(ecs: &AppState, call: impl FnOnce(&Ecs) -> Result<R>) -> ApiResult<R> {
    call(ecs).map_err(ApiError)
}

/// Runs a service call off the async workers: store calls block.
async fn blocking<R: Send + 'static>(
    ecs: &AppState,
    call: impl FnOnce(&Ecs) -> Result<R> + Send + 'static,
) -> ApiResult<R> {
    let ecs = Arc::clone(ecs);
    tokio::task::spawn_blocking(move || call(&ecs)).await.map_err(|e| ApiError(Error::internal(e)))?.map_err(ApiError)
}
