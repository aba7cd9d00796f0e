//! The ECS error body, `{"error":{"code","message"}}` with `internalError` for a batch refused
//! because of individual servers, and its one renderer. The other APIs (the gateway, IAM)
//! render their own shapes in their modules.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::ecs::wire::batch::InternalError;
use crate::domain::{Error, ErrorCode};

/// A domain error on its way to the wire.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError(error)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError(Error::of(code))
    }
}

impl ApiError {
    pub fn body_too_large() -> Self {
        Self::body_over(super::MAX_BODY_BYTES)
    }

    /// A body over `limit` bytes.
    pub fn body_over(limit: usize) -> Self {
        ApiError(Error::new(ErrorCode::BodyTooLarge, format!("The request body is over {limit} bytes.")))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The ECS error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EcsError)]
pub struct EcsErrorBody {
    pub error: EcsErrorDetail,
    /// One entry per refused server when a batch is refused because of individual servers
    /// (`Ecs.0611`); absent otherwise.
    #[serde(rename = "internalError", skip_serializing_if = "Vec::is_empty")]
    pub internal_error: Vec<InternalError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EcsErrorDetail {
    /// `Ecs.NNNN` or `Common.NNNN` (or the code a fault rule injects).
    #[schema(example = "Ecs.0005")]
    pub code: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = EcsErrorBody {
            error: EcsErrorDetail { code: error.wire_code().to_string(), message: error.message.clone() },
            internal_error: error.refusals.iter().map(InternalError::from).collect(),
        };
        let answered = super::AnsweredError { code: body.error.code.clone(), message: body.error.message.clone() };
        let mut response = (status, axum::Json(body)).into_response();
        response.extensions_mut().insert(answered);
        response
    }
}

/// The answer to a method and path no operation serves.
pub async fn unknown_path() -> ApiError {
    ApiError(Error::new(ErrorCode::ResourceNotFound, "No API matches this path."))
}
