//! The JSON of the Keystone v3 calls: the version document, tokens, the catalog, projects and
//! domains, and Keystone's error body.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::format::keystone_time;
use crate::iam::{IssuedToken, ProjectInfo, ProjectRef, TokenAuth, UserRef};

/// `POST /v3/auth/tokens`. Every part may be absent, so that a request without a name or
/// password is refused with a message that says so.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    pub auth: TokenRequestAuth,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequestAuth {
    pub identity: TokenIdentity,
    /// The project to scope the token to; the user's own project when absent.
    pub scope: Option<TokenScope>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenIdentity {
    /// `password` or `token`.
    #[serde(default)]
    pub methods: Vec<String>,
    pub password: Option<TokenPassword>,
    pub token: Option<TokenRef>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenPassword {
    pub user: TokenUser,
}

/// The user, by `id`, or by `name` within a `domain`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenUser {
    pub id: Option<String>,
    pub name: Option<String>,
    pub password: Option<String>,
    pub domain: Option<DomainRef>,
}

/// A domain by `id` or `name` (a domain's id is its name in ecsd).
#[derive(Debug, Deserialize, ToSchema)]
pub struct DomainRef {
    pub id: Option<String>,
    pub name: Option<String>,
}

impl DomainRef {
    fn named(&self) -> Option<String> {
        self.name.clone().or_else(|| self.id.clone())
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRef {
    pub id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenScope {
    pub project: Option<TokenProjectRef>,
    /// Domain-scoped tokens are not issued.
    #[schema(value_type = Option<Object>)]
    pub domain: Option<serde_json::Value>,
}

/// The project, by `id`, or by `name` within a `domain`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenProjectRef {
    pub id: Option<String>,
    pub name: Option<String>,
    pub domain: Option<DomainRef>,
}

impl TokenRequest {
    /// How the token is asked for and for which project, or why the request cannot say.
    pub fn into_auth(self) -> Result<(TokenAuth, Option<ProjectRef>), String> {
        let identity = self.auth.identity;
        let auth = if identity.methods.iter().any(|m| m == "password") {
            let user = identity.password.map(|p| p.user).ok_or("auth.identity.password is missing.")?;
            let password = user.password.ok_or("auth.identity.password.user.password is missing.")?;
            let user = match (user.id, user.name) {
                (Some(id), _) => UserRef::Id(id),
                (None, Some(name)) => UserRef::Name { name, domain: user.domain.as_ref().and_then(DomainRef::named) },
                (None, None) => return Err("auth.identity.password.user needs an id or a name.".into()),
            };
            TokenAuth::Password { user, password }
        } else if identity.methods.iter().any(|m| m == "token") {
            let token = identity.token.and_then(|t| t.id).ok_or("auth.identity.token.id is missing.")?;
            TokenAuth::Token(token)
        } else {
            return Err("auth.identity.methods must contain password or token.".into());
        };
        let project = match self.auth.scope {
            None => None,
            Some(TokenScope { project: Some(project), .. }) => Some(match (project.id, project.name) {
                (Some(id), _) => ProjectRef::Id(id),
                (None, Some(name)) => {
                    ProjectRef::Name { name, domain: project.domain.as_ref().and_then(DomainRef::named) }
                }
                (None, None) => return Err("auth.scope.project needs an id or a name.".into()),
            }),
            Some(TokenScope { domain: Some(_), .. }) => {
                return Err("Only project-scoped tokens are issued: scope to a project.".into());
            }
            Some(TokenScope { .. }) => None,
        };
        Ok((auth, project))
    }
}

/// A token; the token itself is in the `X-Subject-Token` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: Token,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub methods: Vec<&'static str>,
    pub issued_at: String,
    pub expires_at: String,
    pub audit_ids: Vec<String>,
    pub user: TokenOwner,
    pub project: TokenOwner,
    pub is_domain: bool,
    pub roles: Vec<IdName>,
    pub catalog: Vec<CatalogService>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOwner {
    pub id: String,
    pub name: String,
    pub domain: IdName,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdName {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogService {
    /// `compute`, `ecs`, `image`, `network`, `volumev3`, `block-storage`, `evs`, `identity`.
    #[serde(rename = "type")]
    pub service_type: &'static str,
    pub id: &'static str,
    pub name: &'static str,
    pub endpoints: Vec<CatalogEndpoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEndpoint {
    pub id: String,
    /// `public`, `internal` or `admin`: all three are ecsd itself.
    pub interface: &'static str,
    pub region: String,
    pub region_id: String,
    /// ecsd itself, as the client reached it.
    pub url: String,
}

/// Every service ecsd serves, each on ecsd itself: `(type, name, path after the base URL)`.
/// Image and network are versioned (`/v2`, `/v2.0`), so that version discovery finds their
/// own documents there rather than Nova's at `/`; block storage is under `/volume`, since
/// Keystone owns `/v3`, and is given under both names clients look for. `evs` is EVS's own API
/// in the form the Huawei SDKs build it (`https://evs.{region}.../v2/{project_id}`); its v2.1
/// operations sit beside it on the same host.
fn services(project_id: &str) -> [(&'static str, &'static str, String); 8] {
    [
        ("ecs", "ecs", format!("/v1/{project_id}")),
        ("compute", "nova", format!("/v2.1/{project_id}")),
        ("image", "glance", "/v2".into()),
        ("network", "neutron", "/v2.0".into()),
        ("volumev3", "cinderv3", format!("/volume/v3/{project_id}")),
        ("block-storage", "cinder", format!("/volume/v3/{project_id}")),
        ("evs", "evs", format!("/v2/{project_id}")),
        ("identity", "keystone", "/v3".into()),
    ]
}

/// The catalog of a project's token: every service, in the one region, on every interface.
pub fn catalog(base_url: &str, project_id: &str, region: &str) -> Vec<CatalogService> {
    services(project_id)
        .into_iter()
        .map(|(service_type, name, path)| CatalogService {
            service_type,
            id: service_type,
            name,
            endpoints: ["public", "internal", "admin"]
                .into_iter()
                .map(|interface| CatalogEndpoint {
                    id: format!("{service_type}-{interface}"),
                    interface,
                    region: region.to_string(),
                    region_id: region.to_string(),
                    url: format!("{base_url}{path}"),
                })
                .collect(),
        })
        .collect()
}

impl TokenResponse {
    pub fn of(token: &IssuedToken, methods: Vec<&'static str>, base_url: &str, region: &str) -> Self {
        let domain = || IdName { id: token.domain.clone(), name: token.domain.clone() };
        TokenResponse {
            token: Token {
                methods,
                issued_at: keystone_time(token.issued),
                expires_at: keystone_time(token.expires),
                audit_ids: vec![audit_id(&token.token)],
                user: TokenOwner { id: token.user_id.clone(), name: token.user.clone(), domain: domain() },
                project: TokenOwner {
                    id: token.project_id.clone(),
                    name: token.project_name.clone(),
                    domain: domain(),
                },
                is_domain: false,
                roles: vec![IdName { id: "te_admin".into(), name: "te_admin".into() }],
                catalog: catalog(base_url, &token.project_id, region),
            },
        }
    }
}

/// An audit id Keystone-like (22 characters), derived from the token so it names it without
/// revealing it.
fn audit_id(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("audit:{token}").as_bytes()))[..22].to_string()
}

/// `GET /v3/auth/catalog`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogResponse {
    pub catalog: Vec<CatalogService>,
    pub links: ListLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListLinks {
    #[serde(rename = "self")]
    pub self_link: String,
    /// Always null: every list is one page.
    #[schema(value_type = Option<String>)]
    pub previous: Option<()>,
    #[schema(value_type = Option<String>)]
    pub next: Option<()>,
}

impl ListLinks {
    pub fn at(url: String) -> Self {
        ListLinks { self_link: url, previous: None, next: None }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_link: String,
}

/// A project as Keystone shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: String,
    pub enabled: bool,
    /// The domain: projects are top-level.
    pub parent_id: String,
    pub is_domain: bool,
    pub tags: Vec<String>,
    pub links: SelfLink,
}

impl Project {
    pub fn of(project: &ProjectInfo, base_url: &str) -> Self {
        Project {
            id: project.id.clone(),
            name: project.name.clone(),
            domain_id: project.domain.clone(),
            description: String::new(),
            enabled: true,
            parent_id: project.domain.clone(),
            is_domain: false,
            tags: vec![],
            links: SelfLink { self_link: format!("{base_url}/v3/projects/{}", project.id) },
        }
    }
}

/// `GET /v3/projects`, `GET /v3/auth/projects`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectsResponse {
    pub projects: Vec<Project>,
    pub links: ListLinks,
}

/// `GET /v3/projects/{project_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectResponse {
    pub project: Project,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub links: SelfLink,
}

/// `GET /v3/auth/domains`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainsResponse {
    pub domains: Vec<Domain>,
    pub links: ListLinks,
}

impl Domain {
    pub fn of(name: &str, base_url: &str) -> Self {
        Domain {
            id: name.to_string(),
            name: name.to_string(),
            description: String::new(),
            enabled: true,
            links: SelfLink { self_link: format!("{base_url}/v3/domains/{name}") },
        }
    }
}

/// `GET /v3`: the identity API version.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionResponse {
    pub version: IdentityVersion,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityVersion {
    /// `v3.14`.
    pub id: &'static str,
    /// `stable`.
    pub status: &'static str,
    pub updated: &'static str,
    pub links: Vec<VersionLink>,
    #[serde(rename = "media-types")]
    pub media_types: Vec<MediaType>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionLink {
    pub rel: &'static str,
    pub href: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaType {
    pub base: &'static str,
    #[serde(rename = "type")]
    pub media_type: &'static str,
}

impl VersionResponse {
    pub fn of(base_url: &str) -> Self {
        VersionResponse {
            version: IdentityVersion {
                id: "v3.14",
                status: "stable",
                updated: "2020-04-07T00:00:00Z",
                links: vec![VersionLink { rel: "self", href: format!("{base_url}/v3/") }],
                media_types: vec![MediaType {
                    base: "application/json",
                    media_type: "application/vnd.openstack.identity-v3+json",
                }],
            },
        }
    }
}

/// Keystone's error body (`error`), with IAM's own code beside it where IAM gives one.
#[derive(Debug, Serialize, ToSchema)]
pub struct IamError {
    pub error: IamErrorDetail,
    /// `IAM.0101` (wrong user name or password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IamErrorDetail {
    /// The HTTP status.
    pub code: u16,
    /// The status's reason phrase (`Unauthorized`, `Not Found`, ...).
    pub title: String,
    pub message: String,
}

impl IamError {
    /// Keystone's body for a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        IamError {
            error: IamErrorDetail {
                code: status.as_u16(),
                title: status.canonical_reason().unwrap_or("Error").to_string(),
                message: message.into(),
            },
            error_code: None,
            error_msg: None,
        }
    }

    pub fn wrong_password() -> Self {
        const MESSAGE: &str = "The username or password is wrong.";
        IamError {
            error_code: Some("IAM.0101"),
            error_msg: Some(MESSAGE.into()),
            ..IamError::new(StatusCode::UNAUTHORIZED, MESSAGE)
        }
    }

    /// The user is locked after repeated wrong passwords (IAM's answer has only `error`).
    pub fn locked() -> Self {
        IamError::new(StatusCode::UNAUTHORIZED, "The account is locked.")
    }

    pub fn too_many_requests() -> Self {
        IamError::new(StatusCode::TOO_MANY_REQUESTS, "Too many password checks at once; retry in a moment.")
    }

    /// What Keystone answers a request without a valid token.
    pub fn unauthenticated() -> Self {
        IamError::new(StatusCode::UNAUTHORIZED, "The request you have made requires authentication.")
    }
}
