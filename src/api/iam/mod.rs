//! The IAM (Keystone v3) calls: a token for a password user. IAM answers a refused password in
//! its own error shape.

mod wire;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::routes;

use super::auth::AuthState;
use super::error::{ApiError, EcsErrorBody as EcsError};
use super::extract::{BaseUrl, EcsJson};
use super::operation::Row;
use crate::domain::Error;
use crate::iam::Refused;
pub use wire::{IamError, TokenRequest, TokenResponse};

pub fn operations() -> Vec<Row> {
    vec![Row::new(routes!(keystone_create_user_token_by_password))]
}

/// The path of the token endpoint, which anyone may call.
pub const TOKENS_PATH: &str = "/v3/auth/tokens";

/// `POST /v3/auth/tokens`: the password method, scoped to the user's project.
#[utoipa::path(
    post,
    path = "/v3/auth/tokens",
    operation_id = "KeystoneCreateUserTokenByPassword",
    tag = "IAM",
    security(()),
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token, valid 24 hours, scoped to the user's project.",
         body = TokenResponse,
         headers(("X-Subject-Token" = String, description = "The token to send as `X-Auth-Token`."))),
        (status = 400, description = "Malformed body, no name or password, or a method other than `password` \
(`Ecs.0005`).", body = EcsError),
        (status = 401, description = "Wrong user name or password (`IAM.0101`), or a user locked for 5 minutes \
after more than 5 consecutive wrong passwords (\"The account is locked.\").", body = IamError),
        (status = 429, description = "Too many password checks at once (Keystone's body, with `Retry-After`).",
         body = IamError),
    )
)]
pub async fn keystone_create_user_token_by_password(
    State(auth): State<Arc<AuthState>>,
    BaseUrl(base): BaseUrl,
    EcsJson(request): EcsJson<TokenRequest>,
) -> Response {
    let identity = &request.auth.identity;
    let user = identity.password.as_ref().map(|p| &p.user);
    let (Some(name), Some(password)) = (user.and_then(|u| u.name.clone()), user.and_then(|u| u.password.clone()))
    else {
        return ApiError(Error::invalid("auth.identity.password.user needs name and password.")).into_response();
    };
    if !identity.methods.iter().any(|m| m == "password") {
        return ApiError(Error::invalid("Only the password method is supported.")).into_response();
    }
    let domain = user.and_then(|u| u.domain.as_ref()).and_then(|d| d.name.clone());
    let project = request.auth.scope.and_then(|s| s.project).and_then(|p| p.id);
    let token = match auth.iam.issue_token(name, domain, password, project).await {
        Ok(Ok(token)) => token,
        Ok(Err(Refused::Busy)) => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(IamError::too_many_requests())).into_response();
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        Ok(Err(Refused::Locked)) => return (StatusCode::UNAUTHORIZED, Json(IamError::locked())).into_response(),
        Ok(Err(_)) => return (StatusCode::UNAUTHORIZED, Json(IamError::wrong_password())).into_response(),
        Err(error) => return ApiError(error).into_response(),
    };
    let mut response = (StatusCode::CREATED, Json(TokenResponse::of(&token, &base))).into_response();
    if let Ok(value) = HeaderValue::from_str(&token.token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}
