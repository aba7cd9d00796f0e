//! The IAM (Keystone v3) calls OpenStack tools and the Terraform providers make: the version
//! document, tokens (issue and validate), the token's catalog, projects and domains. IAM
//! answers in Keystone's error shape.

mod wire;

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::header::RETRY_AFTER;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::auth::AuthState;
use super::extract::{BaseUrl, EcsBody, parse_json};
use super::operation::Row;
use crate::iam::{Caller, IssuedToken, ProjectInfo, Refused};
pub use wire::{
    CatalogResponse, DomainsResponse, IamError, ProjectResponse, ProjectsResponse, TokenRequest, TokenResponse,
    VersionResponse,
};

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(keystone_show_version)),
        Row::new(routes!(keystone_show_version_slash)),
        Row::new(routes!(keystone_create_user_token_by_password)),
        Row::new(routes!(keystone_validate_token)),
        Row::new(routes!(keystone_list_auth_projects)),
        Row::new(routes!(keystone_list_auth_domains)),
        Row::new(routes!(keystone_show_catalog)),
        Row::new(routes!(keystone_list_projects)),
        Row::new(routes!(keystone_show_project)),
    ]
}

/// The path of the token endpoint, which anyone may call.
pub const TOKENS_PATH: &str = "/v3/auth/tokens";

/// A Keystone refusal.
pub struct KeystoneError(pub StatusCode, pub IamError);

impl IntoResponse for KeystoneError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(self.1)).into_response();
        if self.0 == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl KeystoneError {
    fn bad_request(message: impl Into<String>) -> Self {
        KeystoneError(StatusCode::BAD_REQUEST, IamError::new(StatusCode::BAD_REQUEST, message))
    }

    fn internal(error: crate::domain::Error) -> Self {
        tracing::error!(%error, "identity call failed");
        KeystoneError(
            StatusCode::INTERNAL_SERVER_ERROR,
            IamError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An unexpected error prevented the server from fulfilling your request.",
            ),
        )
    }

    fn refused(refused: Refused) -> Self {
        match refused {
            Refused::Busy => KeystoneError(StatusCode::TOO_MANY_REQUESTS, IamError::too_many_requests()),
            Refused::Locked => KeystoneError(StatusCode::UNAUTHORIZED, IamError::locked()),
            Refused::BadScope => KeystoneError(
                StatusCode::UNAUTHORIZED,
                IamError::new(StatusCode::UNAUTHORIZED, "The user has no access to the project asked for."),
            ),
            Refused::BadToken => KeystoneError(StatusCode::UNAUTHORIZED, IamError::unauthenticated()),
            Refused::BadPassword | Refused::UnknownAccessKey | Refused::RevokedAccessKey => {
                KeystoneError(StatusCode::UNAUTHORIZED, IamError::wrong_password())
            }
        }
    }
}

/// Who calls an identity path: the project and domain of its token, or of its access key.
pub struct KeystoneCaller(pub ProjectInfo);

impl<S: Send + Sync> FromRequestParts<S> for KeystoneCaller
where
    Arc<AuthState>: FromRef<S>,
{
    type Rejection = KeystoneError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Arc::<AuthState>::from_ref(state);
        if let Some(token) = header(&parts.headers, "x-auth-token") {
            let shown = auth.iam.validate_token(&token).map_err(KeystoneError::internal)?;
            let shown = shown.map_err(KeystoneError::refused)?;
            return Ok(KeystoneCaller(ProjectInfo {
                id: shown.project_id,
                name: shown.project_name,
                domain: shown.domain,
            }));
        }
        match parts.extensions.get::<Caller>() {
            Some(caller) => Ok(KeystoneCaller(auth.iam.project(&caller.project_id))),
            None => Err(KeystoneError::refused(Refused::BadToken)),
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()).map(String::from)
}

/// `GET /v3`: the identity API version (public, as keystoneauth discovers it unauthenticated).
#[utoipa::path(
    get,
    path = "/v3",
    operation_id = "KeystoneShowVersion",
    tag = "IAM",
    security(()),
    responses((status = 200, description = "The identity API version.", body = VersionResponse))
)]
pub async fn keystone_show_version(BaseUrl(base): BaseUrl) -> Json<VersionResponse> {
    Json(VersionResponse::of(&base))
}

/// `GET /v3/`: the same document.
#[utoipa::path(
    get,
    path = "/v3/",
    operation_id = "KeystoneShowVersionSlash",
    tag = "IAM",
    security(()),
    responses((status = 200, description = "The identity API version.", body = VersionResponse))
)]
pub async fn keystone_show_version_slash(BaseUrl(base): BaseUrl) -> Json<VersionResponse> {
    Json(VersionResponse::of(&base))
}

/// `POST /v3/auth/tokens`: the password method (user by id, or by name within a domain) or the
/// token method, scoped to the user's project by id or by name within a domain.
#[utoipa::path(
    post,
    path = "/v3/auth/tokens",
    operation_id = "KeystoneCreateUserTokenByPassword",
    tag = "IAM",
    security(()),
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token, valid 24 hours, scoped to the user's project, with the catalog \
of every service ecsd serves.", body = TokenResponse,
         headers(("X-Subject-Token" = String, description = "The token to send as `X-Auth-Token`."))),
        (status = 400, description = "Malformed body, no user or password, a method other than `password` and \
`token`, or a domain scope.", body = IamError),
        (status = 401, description = "Wrong user name or password (`IAM.0101`), an invalid or expired token, a \
project that is not the user's, or a user locked for 5 minutes after more than 5 consecutive wrong passwords \
(\"The account is locked.\").", body = IamError),
        (status = 429, description = "Too many password checks at once (with `Retry-After`).", body = IamError),
    )
)]
pub async fn keystone_create_user_token_by_password(
    State(auth): State<Arc<AuthState>>,
    BaseUrl(base): BaseUrl,
    EcsBody(body): EcsBody,
) -> Result<Response, KeystoneError> {
    let request: TokenRequest = parse_json(&body).map_err(|e| KeystoneError::bad_request(e.0.message))?;
    let (how, project) = request.into_auth().map_err(KeystoneError::bad_request)?;
    let methods = match how {
        crate::iam::TokenAuth::Password { .. } => vec!["password"],
        crate::iam::TokenAuth::Token(_) => vec!["token", "password"],
    };
    let token = auth.iam.issue_token(how, project).await.map_err(KeystoneError::internal)?;
    let token = token.map_err(KeystoneError::refused)?;
    Ok(token_answer(StatusCode::CREATED, &token, methods, &base, auth.iam.region()))
}

fn token_answer(
    status: StatusCode,
    token: &IssuedToken,
    methods: Vec<&'static str>,
    base: &str,
    region: &str,
) -> Response {
    let mut response = (status, Json(TokenResponse::of(token, methods, base, region))).into_response();
    if let Ok(value) = HeaderValue::from_str(&token.token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}

/// The token to validate.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct SubjectTokenHeader {
    #[param(rename = "X-Subject-Token")]
    pub x_subject_token: String,
}

/// `GET /v3/auth/tokens`: what the `X-Subject-Token` stands for.
#[utoipa::path(
    get,
    path = "/v3/auth/tokens",
    operation_id = "KeystoneValidateToken",
    tag = "IAM",
    params(SubjectTokenHeader),
    responses(
        (status = 200, description = "The token, as it was issued.", body = TokenResponse,
         headers(("X-Subject-Token" = String, description = "The token validated."))),
        (status = 401, description = "No valid token or signature of the caller.", body = IamError),
        (status = 404, description = "The subject token is unknown or has expired.", body = IamError),
    )
)]
pub async fn keystone_validate_token(
    State(auth): State<Arc<AuthState>>,
    KeystoneCaller(_): KeystoneCaller,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
) -> Result<Response, KeystoneError> {
    let not_found =
        || KeystoneError(StatusCode::NOT_FOUND, IamError::new(StatusCode::NOT_FOUND, "Could not find token."));
    let subject = header(&headers, "x-subject-token").ok_or_else(not_found)?;
    let token = auth.iam.validate_token(&subject).map_err(KeystoneError::internal)?.map_err(|_| not_found())?;
    Ok(token_answer(StatusCode::OK, &token, vec!["password"], &base, auth.iam.region()))
}

/// `GET /v3/auth/projects`: the projects the caller may scope to (its own).
#[utoipa::path(
    get,
    path = "/v3/auth/projects",
    operation_id = "KeystoneListAuthProjects",
    tag = "IAM",
    responses(
        (status = 200, description = "The caller's project.", body = ProjectsResponse),
        (status = 401, description = "No valid token or signature.", body = IamError),
    )
)]
pub async fn keystone_list_auth_projects(
    KeystoneCaller(project): KeystoneCaller,
    BaseUrl(base): BaseUrl,
) -> Json<ProjectsResponse> {
    Json(ProjectsResponse {
        projects: vec![wire::Project::of(&project, &base)],
        links: wire::ListLinks::at(format!("{base}/v3/auth/projects")),
    })
}

/// `GET /v3/auth/domains`: the domains the caller may scope to (its project's).
#[utoipa::path(
    get,
    path = "/v3/auth/domains",
    operation_id = "KeystoneListAuthDomains",
    tag = "IAM",
    responses(
        (status = 200, description = "The caller's domain.", body = DomainsResponse),
        (status = 401, description = "No valid token or signature.", body = IamError),
    )
)]
pub async fn keystone_list_auth_domains(
    KeystoneCaller(project): KeystoneCaller,
    BaseUrl(base): BaseUrl,
) -> Json<DomainsResponse> {
    Json(DomainsResponse {
        domains: vec![wire::Domain::of(&project.domain, &base)],
        links: wire::ListLinks::at(format!("{base}/v3/auth/domains")),
    })
}

/// `GET /v3/auth/catalog`: the catalog of the caller's project.
#[utoipa::path(
    get,
    path = "/v3/auth/catalog",
    operation_id = "KeystoneShowCatalog",
    tag = "IAM",
    responses(
        (status = 200, description = "Every service ecsd serves, on ecsd.", body = CatalogResponse),
        (status = 401, description = "No valid token or signature.", body = IamError),
    )
)]
pub async fn keystone_show_catalog(
    State(auth): State<Arc<AuthState>>,
    KeystoneCaller(project): KeystoneCaller,
    BaseUrl(base): BaseUrl,
) -> Json<CatalogResponse> {
    Json(CatalogResponse {
        catalog: wire::catalog(&base, &project.id, auth.iam.region()),
        links: wire::ListLinks::at(format!("{base}/v3/auth/catalog")),
    })
}

/// The filters of `GET /v3/projects`.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ProjectsQuery {
    /// Only the project of this name (the region's name for a project configured without one).
    pub name: Option<String>,
    pub domain_id: Option<String>,
}

/// `GET /v3/projects`: the projects the caller may see (its own), by name.
#[utoipa::path(
    get,
    path = "/v3/projects",
    operation_id = "KeystoneListProjects",
    tag = "IAM",
    params(ProjectsQuery),
    responses(
        (status = 200, description = "The caller's project, when it matches the filters; else none.",
         body = ProjectsResponse),
        (status = 400, description = "Malformed query.", body = IamError),
        (status = 401, description = "No valid token or signature.", body = IamError),
    )
)]
pub async fn keystone_list_projects(
    KeystoneCaller(project): KeystoneCaller,
    BaseUrl(base): BaseUrl,
    parts: axum::http::Uri,
) -> Result<Json<ProjectsResponse>, KeystoneError> {
    let query: ProjectsQuery = serde_urlencoded::from_str(parts.query().unwrap_or_default())
        .map_err(|e| KeystoneError::bad_request(format!("Invalid query parameter: {e}.")))?;
    let matches = query.name.as_ref().is_none_or(|name| *name == project.name)
        && query.domain_id.as_ref().is_none_or(|domain| domain.eq_ignore_ascii_case(&project.domain));
    let projects = if matches { vec![wire::Project::of(&project, &base)] } else { vec![] };
    Ok(Json(ProjectsResponse { projects, links: wire::ListLinks::at(format!("{base}/v3/projects")) }))
}

/// The project of `/v3/projects/{project_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeystoneProjectPath {
    pub project_id: String,
}

/// `GET /v3/projects/{project_id}`: the caller's project.
#[utoipa::path(
    get,
    path = "/v3/projects/{project_id}",
    operation_id = "KeystoneShowProject",
    tag = "IAM",
    params(KeystoneProjectPath),
    responses(
        (status = 200, description = "The project.", body = ProjectResponse),
        (status = 401, description = "No valid token or signature.", body = IamError),
        (status = 404, description = "Not the caller's project (others are not told apart from unknown ones).",
         body = IamError),
    )
)]
pub async fn keystone_show_project(
    KeystoneCaller(project): KeystoneCaller,
    BaseUrl(base): BaseUrl,
    path: Result<Path<KeystoneProjectPath>, axum::extract::rejection::PathRejection>,
) -> Result<Json<ProjectResponse>, KeystoneError> {
    let Path(KeystoneProjectPath { project_id }) =
        path.map_err(|rejection| KeystoneError::bad_request(format!("Invalid path parameter: {rejection}.")))?;
    if project_id != project.id {
        return Err(KeystoneError(
            StatusCode::NOT_FOUND,
            IamError::new(StatusCode::NOT_FOUND, format!("Could not find project: {project_id}.")),
        ));
    }
    Ok(Json(ProjectResponse { project: wire::Project::of(&project, &base) }))
}
