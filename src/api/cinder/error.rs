//! Cinder's error body, `{"itemNotFound": {"code": 404, "message": ...}}`, and the extractors
//! that refuse bad input in it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::api::error::ApiError;
use crate::domain::{Error, ErrorCode};

/// Cinder's fault: one key, the fault's name (`badRequest`, `itemNotFound`, ...).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CinderFault, example = json!({"itemNotFound": {"code": 404, "message": "Volume 1 could not be found."}}))]
pub struct CinderFault(pub BTreeMap<&'static str, CinderFaultDetail>);

#[derive(Debug, Serialize, ToSchema)]
pub struct CinderFaultDetail {
    pub code: u16,
    pub message: String,
}

/// A Cinder refusal: the status and the message.
#[derive(Debug)]
pub struct CinderError {
    pub status: StatusCode,
    pub message: String,
}

pub type CinderResult<T> = Result<T, CinderError>;

impl CinderError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        CinderError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

/// Cinder's status for a domain error: a refused check is a bad request, another project's URL
/// forbidden, a missing disk not found; an injected fault keeps its own.
impl From<Error> for CinderError {
    fn from(error: Error) -> Self {
        let status = match (&error.injected, error.code) {
            (Some(injected), _) => StatusCode::from_u16(injected.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            (None, ErrorCode::Forbidden | ErrorCode::ProjectMismatch | ErrorCode::EvsForbidden) => {
                StatusCode::FORBIDDEN
            }
            (None, code) => StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        if status.is_server_error() {
            tracing::error!(%error, "Cinder call failed");
        }
        CinderError { status, message: error.message }
    }
}

impl From<ApiError> for CinderError {
    fn from(error: ApiError) -> Self {
        CinderError::from(error.0)
    }
}

impl IntoResponse for CinderError {
    fn into_response(self) -> Response {
        let detail = CinderFaultDetail { code: self.status.as_u16(), message: self.message };
        let body = CinderFault([(crate::api::nova::NovaError::fault_name(self.status), detail)].into_iter().collect());
        (self.status, Json(body)).into_response()
    }
}

/// A request-level fault of a Cinder operation, rendered.
pub fn render(error: Error) -> Response {
    CinderError::from(error).into_response()
}

/// An extractor of the shared ones (`Project`, `EcsPath`), refusing in Cinder's shape.
pub struct Cinder<X>(pub X);

impl<S: Send + Sync, X: FromRequestParts<S, Rejection = ApiError>> FromRequestParts<S> for Cinder<X> {
    type Rejection = CinderError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        X::from_request_parts(parts, state).await.map(Cinder).map_err(CinderError::from)
    }
}

crate::api::extract::json_refused_as!(
    /// A JSON body, refused in Cinder's shape.
    CinderJson,
    CinderError
);

/// The query, refused in Cinder's shape; parameters it does not name are taken as given.
pub struct CinderQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for CinderQuery<T> {
    type Rejection = CinderError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(CinderQuery)
            .map_err(|e| CinderError::bad_request(format!("Invalid query parameter: {e}.")))
    }
}
