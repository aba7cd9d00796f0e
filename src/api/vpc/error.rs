//! The VPC error body, `{"code", "message"}`, and the extractors that refuse bad input in it.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::api::error::ApiError;
use crate::api::extract::EcsJson;
use crate::domain::{Error, ErrorCode};

/// A domain error on its way to a VPC client.
#[derive(Debug)]
pub struct VpcError(pub Error);

pub type VpcResult<T> = Result<T, VpcError>;

impl From<Error> for VpcError {
    fn from(error: Error) -> Self {
        VpcError(error)
    }
}

impl From<ApiError> for VpcError {
    fn from(ApiError(error): ApiError) -> Self {
        VpcError(error)
    }
}

/// The VPC error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VpcError)]
pub struct VpcErrorBody {
    /// `VPC.NNNN` (or the code a fault rule injects).
    #[schema(example = "VPC.0101")]
    pub code: String,
    pub message: String,
}

/// The VPC code of the errors every API shares (a malformed body, another project's URL).
fn in_vpc_terms(code: ErrorCode) -> ErrorCode {
    match code {
        ErrorCode::InvalidRequest | ErrorCode::EmptyBody => ErrorCode::VpcInvalid,
        ErrorCode::ProjectMismatch => ErrorCode::VpcTenantMismatch,
        ErrorCode::Forbidden => ErrorCode::VpcForbidden,
        other => other,
    }
}

impl IntoResponse for VpcError {
    fn into_response(self) -> Response {
        let error = self.0;
        let (status, code) = match &error.injected {
            Some(injected) => (injected.status, injected.code.clone()),
            // A body over the limit keeps its 413.
            None if error.code == ErrorCode::BodyTooLarge => (413, ErrorCode::VpcInvalid.code().to_string()),
            None => {
                let code = in_vpc_terms(error.code);
                (code.http_status(), code.code().to_string())
            }
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(VpcErrorBody { code, message: error.message })).into_response()
    }
}

/// Any of the shared extractors (`Project`, `EcsPath`, `EcsQuery`), refusing in VPC terms.
pub struct Vpc<E>(pub E);

impl<S: Send + Sync, E: FromRequestParts<S, Rejection = ApiError>> FromRequestParts<S> for Vpc<E> {
    type Rejection = VpcError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        E::from_request_parts(parts, state).await.map(Vpc).map_err(VpcError::from)
    }
}

/// A JSON body, refusing in VPC terms.
pub struct VpcJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for VpcJson<T> {
    type Rejection = VpcError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        EcsJson::from_request(req, state).await.map(|EcsJson(value)| VpcJson(value)).map_err(VpcError::from)
    }
}
