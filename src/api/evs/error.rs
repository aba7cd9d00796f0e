//! EVS's error body, `{"error": {"code": "EVS.5404", "message": ...}}`, and its renderer. The
//! extractors every API shares refuse with the ECS codes; on EVS paths those are given as
//! EVS's own (`Evs<...>` wraps an extractor to do so).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::ApiError;
use crate::domain::{Error, ErrorCode};

/// A domain error on its way to an EVS answer.
#[derive(Debug)]
pub struct EvsError(pub Error);

impl From<Error> for EvsError {
    fn from(error: Error) -> Self {
        EvsError(error)
    }
}

impl From<ApiError> for EvsError {
    fn from(error: ApiError) -> Self {
        EvsError(error.0)
    }
}

pub type EvsResult<T> = Result<T, EvsError>;

#[derive(Debug, Serialize, ToSchema)]
pub struct EvsErrorBody {
    pub error: EvsErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvsErrorDetail {
    /// `EVS.NNNN`, or `Common.0011` for an unknown job.
    #[schema(example = "EVS.5404")]
    pub code: String,
    pub message: String,
}

/// The code EVS answers where the shared layers would answer an ECS one.
fn in_evs(code: ErrorCode) -> ErrorCode {
    match code {
        ErrorCode::InvalidRequest | ErrorCode::EmptyBody => ErrorCode::EvsMalformed,
        ErrorCode::BodyTooLarge => ErrorCode::EvsBodyTooLarge,
        ErrorCode::Forbidden | ErrorCode::ProjectMismatch => ErrorCode::EvsForbidden,
        ErrorCode::Internal => ErrorCode::EvsInternal,
        ErrorCode::StoreFull | ErrorCode::Unavailable => ErrorCode::EvsUnavailable,
        other => other,
    }
}

impl IntoResponse for EvsError {
    fn into_response(self) -> Response {
        let mut error = self.0;
        if error.injected.is_none() {
            let code = in_evs(error.code);
            if code != error.code {
                error = Error::new(code, error.message);
            }
        }
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body =
            EvsErrorBody { error: EvsErrorDetail { code: error.wire_code().to_string(), message: error.message } };
        (status, axum::Json(body)).into_response()
    }
}

/// An extractor of the shared ones (`Project`, `EcsPath`, `EcsJson`, `EcsQuery`) whose
/// refusal is answered in EVS's shape.
pub struct Evs<X>(pub X);

impl<S: Send + Sync, X: FromRequestParts<S, Rejection = ApiError>> FromRequestParts<S> for Evs<X> {
    type Rejection = EvsError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        X::from_request_parts(parts, state).await.map(Evs).map_err(EvsError::from)
    }
}

/// A body extractor of the shared ones, refusing in EVS's shape.
pub struct EvsBody<X>(pub X);

impl<S: Send + Sync, X: FromRequest<S, Rejection = ApiError>> FromRequest<S> for EvsBody<X> {
    type Rejection = EvsError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        X::from_request(req, state).await.map(EvsBody).map_err(EvsError::from)
    }
}
