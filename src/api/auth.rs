//! Authentication of every API request: an AK/SK signature (`SDK-HMAC-SHA256`, verified with
//! [`super::signing`]) or an `X-Auth-Token`. Refusals use the API gateway's error body.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::signing::{self, RequestToVerify, SignatureError};
use super::{MAX_BODY_BYTES, RequestId};
use crate::clock::Clock;
use crate::iam::{Caller, Iam, Refused};

pub struct AuthState {
    pub iam: Arc<Iam>,
    pub clock: Arc<dyn Clock>,
    pub enabled: bool,
}

/// The API gateway's refusal body, with 401.
#[derive(Debug, Serialize, ToSchema)]
pub struct GatewayError {
    #[schema(example = "Incorrect IAM authentication information: verify aksk signature fail")]
    pub error_msg: String,
    /// `APIG.0301` (signature) or `APIG.0307` (token).
    #[schema(example = "APIG.0301")]
    pub error_code: &'static str,
    pub request_id: String,
}

fn gateway_refusal(error_code: &'static str, error_msg: String, request_id: &str) -> Response {
    let body = GatewayError { error_msg, error_code, request_id: request_id.to_string() };
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

fn signature_refusal(error: &SignatureError, request_id: &str) -> Response {
    gateway_refusal(
        "APIG.0301",
        format!("Incorrect IAM authentication information: verify aksk signature fail: {error}"),
        request_id,
    )
}

pub async fn authenticate(State(auth): State<Arc<AuthState>>, request: Request, next: Next) -> Response {
    if !auth.enabled || super::table().is_public(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let request_id = request.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    if let Some(token) = request.headers().get("x-auth-token").filter(|t| !t.is_empty()) {
        let token = token.to_str().unwrap_or_default().to_string();
        // A point read on a read connection: done in place (see `api::point_read`).
        return match auth.iam.token_caller(&token) {
            Ok(Ok(caller)) => with_caller(request, caller, next).await,
            Ok(Err(_)) => gateway_refusal(
                "APIG.0307",
                "The token must be updated: it is invalid or has expired.".into(),
                &request_id,
            ),
            Err(error) => ApiError(error).into_response(),
        };
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::body_too_large().into_response();
    };
    // Header values as raw UTF-8: the SDK signs non-ASCII values byte for byte.
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let to_verify = RequestToVerify {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body: &bytes,
    };
    let authorization = match to_verify.authorization() {
        Ok(authorization) => authorization,
        Err(error) => return signature_refusal(&error, &request_id),
    };
    // A point read on a read connection: done in place (see `api::point_read`).
    let (secret_key, project_id) = match auth.iam.secret_key(authorization.access_key) {
        Ok(Ok(found)) => found,
        Ok(Err(Refused::UnknownAccessKey | Refused::BadPassword | Refused::BadToken)) => {
            return gateway_refusal(
                "APIG.0301",
                "Incorrect IAM authentication information: Get secretKey failed,ak:******,err:ak not exist".into(),
                &request_id,
            );
        }
        Err(error) => return ApiError(error).into_response(),
    };
    let verified = signing::verify_signature(secret_key.as_bytes(), &to_verify, &authorization)
        .and_then(|()| to_verify.sdk_date())
        .and_then(|signed_at| signing::check_clock_skew(signed_at, auth.clock.now()));
    if let Err(error) = verified {
        tracing::info!(access_key = %authorization.access_key, %error, "signature refused");
        return signature_refusal(&error, &request_id);
    }
    let declared_project_id =
        authorization.signed_headers.contains(&"x-project-id").then(|| to_verify.header("x-project-id")).flatten();
    let caller = Caller { project_id, declared_project_id: declared_project_id.map(String::from) };
    let request = Request::from_parts(parts, Body::from(bytes));
    with_caller(request, caller, next).await
}

async fn with_caller(mut request: Request, caller: Caller, next: Next) -> Response {
    request.extensions_mut().insert(caller);
    next.run(request).await
}
