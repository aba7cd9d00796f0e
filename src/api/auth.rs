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
use super::{AnsweredError, MAX_BODY_BYTES, MAX_PUBLIC_BODY_BYTES, RequestId, RequestLog};
use crate::clock::Clock;
use crate::iam::{Caller, Iam, Refused};

pub struct AuthState {
    pub iam: Arc<Iam>,
    pub clock: Arc<dyn Clock>,
    pub enabled: bool,
    /// The web console's sessions, which may read the events (`/_ecsd/events`).
    pub sessions: Arc<super::console::Sessions>,
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

/// Whether a path is one of the OpenStack APIs (Keystone, Nova, Glance, Neutron, Cinder), which
/// refuse a missing or bad credential in Keystone's shape, as keystonemiddleware does.
pub fn openstack_path(path: &str) -> bool {
    ["/v3", "/v2.1", "/v2.0", "/v2/images", "/volume"]
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// A store failure while checking the credential (the database gone: 503), in the error
/// shape of the API the path belongs to, as its handlers would answer it.
fn store_failure(path: &str, error: crate::domain::Error) -> Response {
    let under = |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if under("/v2.1") {
        return super::nova::NovaError::from(error).into_response();
    }
    if under("/v2.0") {
        return super::neutron::render(error);
    }
    if under("/volume") {
        return super::cinder::render(error);
    }
    if under("/v3") {
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, Json(super::iam::IamError::new(status, error.message))).into_response();
    }
    ApiError(error).into_response()
}

fn gateway_refusal(error_code: &'static str, error_msg: String, request_id: &str) -> Response {
    let answered = AnsweredError { code: error_code.to_string(), message: error_msg.clone() };
    let body = GatewayError { error_msg, error_code, request_id: request_id.to_string() };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.extensions_mut().insert(answered);
    response
}

fn signature_refusal(error: &SignatureError, request_id: &str) -> Response {
    gateway_refusal(
        "APIG.0301",
        format!("Incorrect IAM authentication information: verify aksk signature fail: {error}"),
        request_id,
    )
}

/// Why a signature was refused, in the words of the request's log line.
fn signature_reason(error: &SignatureError) -> &'static str {
    match error {
        SignatureError::MissingAuthorization => "no credential: neither Authorization nor X-Auth-Token",
        SignatureError::SignatureMismatch => "bad signature",
        SignatureError::ClockSkew => "clock skew: X-Sdk-Date more than 15 minutes from the server's time",
        SignatureError::PayloadHashMismatch => "bad signature: X-Sdk-Content-Sha256 differs from the body",
        SignatureError::MalformedAuthorization(_)
        | SignatureError::UnsupportedAlgorithm
        | SignatureError::RequiredHeaderNotSigned(_)
        | SignatureError::SignedHeaderMissing(_)
        | SignatureError::MalformedSdkDate
        | SignatureError::UnsignedPayload => "malformed signature",
    }
}

/// Notes on the request's log line why its credential was refused.
fn note_refusal(request: &Request, access_key: Option<&str>, reason: &'static str) {
    if let Some(log) = request.extensions().get::<RequestLog>() {
        log.refused(access_key, reason);
    }
}

/// The body size a request declares in `Content-Length`, when it declares one.
fn declared_length(request: &Request) -> Option<u64> {
    request.headers().get(axum::http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Authenticates every request that needs it. Whatever can be decided from the head is decided
/// before the body is read: a request without a known, active access key, or one declaring a
/// body over the limit, is refused without buffering a byte of its body.
pub async fn authenticate(State(auth): State<Arc<AuthState>>, request: Request, next: Next) -> Response {
    if !auth.enabled {
        return next.run(request).await;
    }
    if super::table().is_public(request.method(), request.uri().path()) {
        return public(request, next).await;
    }
    match console_reader(&auth, &request) {
        Ok(Some(caller)) => return with_caller(request, caller, next).await,
        Ok(None) => {}
        Err(error) => return store_failure(request.uri().path(), error),
    }
    let request_id = request.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    if openstack_path(request.uri().path()) {
        // The OpenStack APIs' handlers answer 401 only in Keystone's shape too, so every 401
        // of these paths is this one body.
        let response = authenticate_with(&auth, request, next, &request_id).await;
        if response.status() == StatusCode::UNAUTHORIZED {
            let body = super::iam::IamError::unauthenticated();
            return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        }
        return response;
    }
    authenticate_with(&auth, request, next, &request_id).await
}

/// The paths the web console reads with its session instead of a signature: the audit trail
/// and its stream (an `EventSource` cannot sign).
const CONSOLE_READS: [&str; 2] = ["/_ecsd/events", "/_ecsd/events/stream"];

/// The caller of an unsigned `GET` of the events that carries a console session's cookie: the
/// session's project, never every project (an admin key's session too), so one project's
/// session sees nothing of another's. Reads only, so no CSRF token is needed (and the cookie
/// is `SameSite=Strict`).
fn console_reader(auth: &AuthState, request: &Request) -> crate::domain::Result<Option<Caller>> {
    let headers = request.headers();
    let unsigned = !headers.contains_key(axum::http::header::AUTHORIZATION) && !headers.contains_key("x-auth-token");
    if request.method() != axum::http::Method::GET || !unsigned || !CONSOLE_READS.contains(&request.uri().path()) {
        return Ok(None);
    }
    let Some(session) = super::console::session_of(&auth.sessions, headers)? else { return Ok(None) };
    Ok(Some(Caller {
        project_id: session.grant.project_id,
        declared_project_id: None,
        admin: false,
        principal: session.grant.access_key,
    }))
}

async fn authenticate_with(auth: &AuthState, request: Request, next: Next, request_id: &str) -> Response {
    let request_id = request_id.to_string();
    if let Some(token) = request.headers().get("x-auth-token").filter(|t| !t.is_empty()) {
        let token = token.to_str().unwrap_or_default().to_string();
        // A point read on a read connection: done in place (see `api::point_read`).
        return match auth.iam.token_caller(&token) {
            Ok(Ok(caller)) => with_caller(request, caller, next).await,
            Ok(Err(_)) => {
                note_refusal(&request, None, "invalid or expired token");
                gateway_refusal(
                    "APIG.0307",
                    "The token must be updated: it is invalid or has expired.".into(),
                    &request_id,
                )
            }
            Err(error) => store_failure(request.uri().path(), error),
        };
    }
    // Header values as raw UTF-8: the SDK signs non-ASCII values byte for byte.
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let head = RequestToVerify { method: "", path: "", query: None, headers: &headers, body: &[] };
    let authorization = match head.authorization() {
        Ok(authorization) => authorization,
        Err(error) => {
            note_refusal(&request, None, signature_reason(&error));
            return signature_refusal(&error, &request_id);
        }
    };
    // A point read on a read connection: done in place (see `api::point_read`).
    let key = match auth.iam.signing_key(authorization.access_key) {
        Ok(Ok(key)) => key,
        Ok(Err(Refused::Locked)) => {
            note_refusal(&request, Some(authorization.access_key), "access key locked after repeated failures");
            return gateway_refusal(
                "APIG.0301",
                "Incorrect IAM authentication information: AK access failed to reach the limit,forbidden.".into(),
                &request_id,
            );
        }
        Ok(Err(refused)) => {
            let reason = match refused {
                Refused::RevokedAccessKey => "revoked access key",
                _ => "unknown access key",
            };
            note_refusal(&request, Some(authorization.access_key), reason);
            return gateway_refusal(
                "APIG.0301",
                "Incorrect IAM authentication information: Get secretKey failed,ak:******,err:ak not exist".into(),
                &request_id,
            );
        }
        Err(error) => return store_failure(request.uri().path(), error),
    };
    if declared_length(&request).is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return ApiError::body_too_large().into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::body_too_large().into_response();
    };
    let to_verify = RequestToVerify {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body: &bytes,
    };
    let signed = signing::verify_signature(key.secret_key.as_bytes(), &to_verify, &authorization);
    if matches!(signed, Ok(()) | Err(SignatureError::SignatureMismatch))
        && let Err(error) = auth.iam.signature_checked(authorization.access_key, &key, signed.is_ok()).await
    {
        return store_failure(parts.uri.path(), error);
    }
    let verified = signed
        .and_then(|()| to_verify.sdk_date())
        .and_then(|signed_at| signing::check_clock_skew(signed_at, auth.clock.now()));
    if let Err(error) = verified {
        if let Some(log) = parts.extensions.get::<RequestLog>() {
            log.refused(Some(authorization.access_key), signature_reason(&error));
        }
        return signature_refusal(&error, &request_id);
    }
    let declared_project_id =
        authorization.signed_headers.contains(&"x-project-id").then(|| to_verify.header("x-project-id")).flatten();
    let caller = Caller {
        project_id: key.project_id,
        declared_project_id: declared_project_id.map(String::from),
        admin: key.admin,
        principal: authorization.access_key.to_string(),
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    with_caller(request, caller, next).await
}

/// An operation anyone may call (the token call, the versions and OpenAPI documents): its
/// body is read here, up to the small limit of such bodies, so that no one unauthenticated can
/// make the server hold large bodies.
async fn public(request: Request, next: Next) -> Response {
    if declared_length(&request).is_some_and(|length| length > MAX_PUBLIC_BODY_BYTES as u64) {
        return ApiError::body_over(MAX_PUBLIC_BODY_BYTES).into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PUBLIC_BODY_BYTES).await else {
        return ApiError::body_over(MAX_PUBLIC_BODY_BYTES).into_response();
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

async fn with_caller(mut request: Request, caller: Caller, next: Next) -> Response {
    request.extensions_mut().insert(caller);
    next.run(request).await
}
