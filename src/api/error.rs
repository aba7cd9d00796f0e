//! Rendering errors into the API's bodies, and extractors that turn malformed input into
//! those errors instead of axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AppState;
use super::wire::batch::InternalError;
use crate::domain::{Error, ErrorCode};
use crate::iam::Caller;

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

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
    #[serde(rename = "internalError", skip_serializing_if = "Vec::is_empty")]
    internal_error: Vec<InternalError>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail { code: error.wire_code(), message: &error.message },
            internal_error: error.refusals.iter().map(InternalError::from).collect(),
        };
        (status, axum::Json(body)).into_response()
    }
}

/// The raw body, failing as `Ecs.0005` with 413 when over the size limit (not axum's text).
pub struct EcsBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for EcsBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state).await.map(EcsBody).map_err(|rejection| {
            ApiError(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(
                    ErrorCode::BodyTooLarge,
                    format!("The request body is over {} bytes.", super::MAX_BODY_BYTES),
                )
            } else {
                Error::invalid(format!("The request body could not be read: {rejection}."))
            })
        })
    }
}

/// A JSON body parsed with serde, failing as `Common.0002` (empty) or `Ecs.0005` (invalid).
pub struct EcsJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for EcsJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let EcsBody(bytes) = EcsBody::from_request(req, state).await?;
        parse_json(&bytes).map(EcsJson)
    }
}

/// Path parameters, failing as `Ecs.0005` (say, one that decodes to invalid UTF-8).
pub struct EcsPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for EcsPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| EcsPath(value))
            .map_err(|rejection| ApiError(Error::invalid(format!("Invalid path parameter: {rejection}."))))
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ErrorCode::EmptyBody.into());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError(Error::invalid(format!("request body is illegal: {e}."))))
}

/// Query parameters parsed with serde, failing as `Ecs.0005`.
pub struct EcsQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for EcsQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(EcsQuery)
            .map_err(|e| ApiError(Error::invalid(format!("Invalid query parameter: {e}."))))
    }
}

/// The project of the request path, checked to be one ecsd knows.
pub struct Project(pub String);

impl FromRequestParts<AppState> for Project {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::of(ErrorCode::ResourceNotFound))?;
        let project_id = params
            .iter()
            .find(|(name, _)| *name == "project_id")
            .map(|(_, value)| value.to_string())
            .ok_or_else(|| Error::of(ErrorCode::ResourceNotFound))?;
        let forbidden = || {
            ApiError(Error::new(
                ErrorCode::Forbidden,
                format!("The project {project_id} does not exist or is not permitted."),
            ))
        };
        // With authentication on, the credential decides; another project's URL answers like
        // an unknown one, so a caller learns nothing of projects it cannot use.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            if caller.declared_project_id.as_ref().is_some_and(|declared| *declared != project_id) {
                return Err(ErrorCode::ProjectMismatch.into());
            }
            return if caller.project_id == project_id { Ok(Project(project_id)) } else { Err(forbidden()) };
        }
        let ecs = state.clone();
        let lookup = project_id.clone();
        let known =
            tokio::task::spawn_blocking(move || ecs.project_exists(&lookup)).await.map_err(Error::internal)??;
        if known { Ok(Project(project_id)) } else { Err(forbidden()) }
    }
}

/// The `scheme://host` a client reached us at, for links in documents.
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let host = parts.headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        Ok(BaseUrl(format!("http://{host}")))
    }
}
