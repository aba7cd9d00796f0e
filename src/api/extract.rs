//! Extractors that turn malformed input into the API's errors instead of axum's plain-text
//! rejections, and the path parameters every API shares.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult};
use crate::domain::{Error, ErrorCode};
use crate::iam::Caller;
use crate::service::Ecs;

/// The project (tenant) of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectPath {
    /// The project (tenant) id: 32 lower-case hex characters.
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub project_id: String,
}

/// The server of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServerPath {
    /// The server id (a UUID).
    pub server_id: String,
}

/// The raw body, failing as `Ecs.0005` with 413 when over the size limit (not axum's text).
pub struct EcsBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for EcsBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state).await.map(EcsBody).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::body_too_large()
            } else {
                ApiError(Error::invalid(format!("The request body could not be read: {rejection}.")))
            }
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

/// A JSON body that may be absent: an empty body is `T::default()`.
pub struct OptionalEcsJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalEcsJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let EcsBody(bytes) = EcsBody::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalEcsJson(T::default()));
        }
        parse_json(&bytes).map(OptionalEcsJson)
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

/// The project of the request path, checked to be one the caller may use.
pub struct Project(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Project
where
    Arc<Ecs>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let EcsPath(ProjectPath { project_id }) = EcsPath::from_request_parts(parts, state).await?;
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
        let ecs = Arc::<Ecs>::from_ref(state);
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
        let scheme = parts.extensions.get::<crate::serve::Scheme>().map_or("http", |scheme| scheme.0);
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// Declares `$name<T>`, a JSON body read by ECS's rules ([`EcsBody`], [`parse_json`]) whose
/// refusals are answered in the shape of `$error`, an API's own error type (`From<ApiError>`
/// and `From<Error>`). Each neighbour API names its extractors; the rules are these.
macro_rules! json_refused_as {
    ($(#[$doc:meta])* $name:ident, $error:ty) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for $name<T> {
            type Rejection = $error;

            async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
                let $crate::api::extract::EcsBody(bytes) =
                    <$crate::api::extract::EcsBody as axum::extract::FromRequest<S>>::from_request(req, state).await?;
                $crate::api::extract::parse_json(&bytes).map($name).map_err(<$error>::from)
            }
        }
    };
}
pub(crate) use json_refused_as;

/// Declares `$name<T>`, path parameters read by ECS's rules ([`EcsPath`]) whose refusals are
/// answered in the shape of `$error`, as [`json_refused_as`] does for bodies.
macro_rules! path_refused_as {
    ($(#[$doc:meta])* $name:ident, $error:ty) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for $name<T> {
            type Rejection = $error;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                <$crate::api::extract::EcsPath<T> as axum::extract::FromRequestParts<S>>::from_request_parts(parts, state)
                    .await
                    .map(|$crate::api::extract::EcsPath(value)| $name(value))
                    .map_err(<$error>::from)
            }
        }
    };
}
pub(crate) use path_refused_as;
