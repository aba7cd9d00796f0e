//! Authentication of every API request: an AK/SK signature (`SDK-HMAC-SHA256`, verified with
//! [`super::signing`]) or an `X-Auth-Token`. Refusals use the API gateway's error body.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::signing::{self, RequestToVerify, SignatureError};
use super::{MAX_BODY_BYTES, RequestId};
use crate::clock::Clock;
use crate::domain::{Error, ErrorCode};
use crate::iam::{Caller, Iam, Refused};

/// Paths anyone may call: the versions document, the OpenAPI document and the token endpoint.
fn is_public(method: &axum::http::Method, path: &str) -> bool {
    (method == axum::http::Method::GET && (path == "/" || path == "/openapi.json")) || path == "/v3/auth/tokens"
}

pub struct AuthState {
    pub iam: Arc<Iam>,
    pub clock: Arc<dyn Clock>,
    pub enabled: bool,
}

/// `{"error_msg","error_code","request_id"}` with 401, as the gateway answers.
fn gateway_refusal(code: &str, message: String, request_id: &str) -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "error_msg": message, "error_code": code, "request_id": request_id })))
        .into_response()
}

fn signature_refusal(error: &SignatureError, request_id: &str) -> Response {
    gateway_refusal(
        "APIG.0301",
        format!("Incorrect IAM authentication information: verify aksk signature fail: {error}"),
        request_id,
    )
}

pub async fn authenticate(State(auth): State<Arc<AuthState>>, request: Request, next: Next) -> Response {
    if !auth.enabled || is_public(request.method(), request.uri().path()) {
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
        return ApiError(Error::new(
            ErrorCode::BodyTooLarge,
            format!("The request body is over {MAX_BODY_BYTES} bytes."),
        ))
        .into_response();
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

/// `POST /v3/auth/tokens`: the password method, scoped to the user's project.
#[utoipa::path(
    post,
    path = "/v3/auth/tokens",
    operation_id = "KeystoneCreateUserTokenByPassword",
    tag = "IAM",
    security(()),
    request_body = super::openapi::doc::TokenRequest,
    responses(
        (status = 201, description = "The token, valid 24 hours, scoped to the user's project.",
         body = super::openapi::doc::TokenResponse,
         headers(("X-Subject-Token" = String, description = "The token to send as `X-Auth-Token`."))),
        (status = 400, description = "Malformed body, no name or password, or a method other than `password` \
(`Ecs.0005`).", body = super::openapi::doc::EcsError),
        (status = 401, description = "Wrong user name or password (`IAM.0101`).",
         body = super::openapi::doc::IamError),
    )
)]
pub async fn keystone_create_user_token(
    State(auth): State<Arc<AuthState>>,
    headers: axum::http::HeaderMap,
    super::error::EcsBody(body): super::error::EcsBody,
) -> Response {
    let request: Value = match super::error::parse_json(&body) {
        Ok(value) => value,
        Err(error) => return error.into_response(),
    };
    let identity = &request["auth"]["identity"];
    let methods_ok = identity["methods"].as_array().is_some_and(|m| m.iter().any(|x| x == "password"));
    let user = &identity["password"]["user"];
    let (Some(name), Some(password)) = (user["name"].as_str(), user["password"].as_str()) else {
        return ApiError(Error::invalid("auth.identity.password.user needs name and password.")).into_response();
    };
    if !methods_ok {
        return ApiError(Error::invalid("Only the password method is supported.")).into_response();
    }
    let domain = user["domain"]["name"].as_str().map(String::from);
    let project = request["auth"]["scope"]["project"]["id"].as_str().map(String::from);
    let (name, password) = (name.to_string(), password.to_string());
    let iam = Arc::clone(&auth.iam);
    let issued =
        tokio::task::spawn_blocking(move || iam.issue_token(&name, domain.as_deref(), &password, project.as_deref()))
            .await;
    let token = match issued {
        Ok(Ok(Ok(token))) => token,
        Ok(Ok(Err(_))) => {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}, "error_code": "IAM.0101", "error_msg": "The username or password is wrong."})),
            )
                .into_response();
        }
        Ok(Err(error)) => return ApiError(error).into_response(),
        Err(join) => return ApiError(Error::internal(join)).into_response(),
    };
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let endpoint = format!("http://{host}");
    let time = |t| super::wire::job_time(t);
    let body = json!({"token": {
        "methods": ["password"],
        "issued_at": time(token.issued),
        "expires_at": time(token.expires),
        "user": {"id": token.user, "name": token.user, "domain": {"id": token.domain, "name": token.domain}},
        "project": {"id": token.project_id, "name": token.project_id, "domain": {"id": token.domain, "name": token.domain}},
        "roles": [{"id": "te_admin", "name": "te_admin"}],
        "catalog": [{
            "type": "ecs", "id": "ecs", "name": "ecs",
            "endpoints": [{"id": "ecs-public", "interface": "public", "region": "local", "region_id": "local",
                           "url": format!("{endpoint}/v1/{}", token.project_id)}],
        }, {
            "type": "compute", "id": "nova", "name": "nova",
            "endpoints": [{"id": "nova-public", "interface": "public", "region": "local", "region_id": "local",
                           "url": format!("{endpoint}/v2.1/{}", token.project_id)}],
        }],
    }});
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&token.token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}
