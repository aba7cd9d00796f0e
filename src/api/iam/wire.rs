//! The JSON of the Keystone token call.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::format::job_time;
use crate::iam::IssuedToken;

/// `POST /v3/auth/tokens` (password method). Every part may be absent, so that a request
/// without a name or password is refused with a message that says so.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    pub auth: TokenAuth,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenAuth {
    pub identity: TokenIdentity,
    /// The project to scope the token to; the user's own project when absent.
    pub scope: Option<TokenScope>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenIdentity {
    /// Must contain `password`.
    #[serde(default)]
    pub methods: Vec<String>,
    pub password: Option<TokenPassword>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenPassword {
    pub user: TokenUser,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenUser {
    pub name: Option<String>,
    pub password: Option<String>,
    pub domain: Option<TokenDomainRef>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenDomainRef {
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenScope {
    pub project: Option<TokenProjectRef>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenProjectRef {
    pub id: Option<String>,
}

/// The issued token; the token itself is in the `X-Subject-Token` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: Token,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub methods: Vec<&'static str>,
    pub issued_at: String,
    pub expires_at: String,
    pub user: TokenOwner,
    pub project: TokenOwner,
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
    /// `ecs` or `compute`.
    #[serde(rename = "type")]
    pub service_type: &'static str,
    pub id: &'static str,
    pub name: &'static str,
    pub endpoints: Vec<CatalogEndpoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEndpoint {
    pub id: &'static str,
    pub interface: &'static str,
    pub region: &'static str,
    pub region_id: &'static str,
    /// ecsd itself, as the client reached it.
    pub url: String,
}

impl TokenResponse {
    pub fn of(token: &IssuedToken, endpoint: &str) -> Self {
        let domain = || IdName { id: token.domain.clone(), name: token.domain.clone() };
        let service = |service_type, id, endpoint_id, url| CatalogService {
            service_type,
            id,
            name: id,
            endpoints: vec![CatalogEndpoint {
                id: endpoint_id,
                interface: "public",
                region: "local",
                region_id: "local",
                url,
            }],
        };
        TokenResponse {
            token: Token {
                methods: vec!["password"],
                issued_at: job_time(token.issued),
                expires_at: job_time(token.expires),
                user: TokenOwner { id: token.user.clone(), name: token.user.clone(), domain: domain() },
                project: TokenOwner { id: token.project_id.clone(), name: token.project_id.clone(), domain: domain() },
                roles: vec![IdName { id: "te_admin".into(), name: "te_admin".into() }],
                catalog: vec![
                    service("ecs", "ecs", "ecs-public", format!("{endpoint}/v1/{}", token.project_id)),
                    service("compute", "nova", "nova-public", format!("{endpoint}/v2.1/{}", token.project_id)),
                ],
            },
        }
    }
}

/// IAM's refusals, in Keystone's shape (`error`), with IAM's own code beside it where IAM
/// gives one.
#[derive(Debug, Serialize, ToSchema)]
pub struct IamError {
    pub error: IamErrorDetail,
    /// `IAM.0101` (wrong user name or password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IamErrorDetail {
    /// The HTTP status: 401 or 429.
    pub code: u16,
    pub title: &'static str,
    pub message: &'static str,
}

impl IamError {
    pub fn wrong_password() -> Self {
        const MESSAGE: &str = "The username or password is wrong.";
        IamError {
            error: IamErrorDetail { code: 401, title: "Unauthorized", message: MESSAGE },
            error_code: Some("IAM.0101"),
            error_msg: Some(MESSAGE),
        }
    }

    /// The user is locked after repeated wrong passwords (IAM's answer has only `error`).
    pub fn locked() -> Self {
        IamError {
            error: IamErrorDetail { code: 401, title: "Unauthorized", message: "The account is locked." },
            error_code: None,
            error_msg: None,
        }
    }

    pub fn too_many_requests() -> Self {
        IamError {
            error: IamErrorDetail {
                code: 429,
                title: "Too Many Requests",
                message: "Too many password checks at once; retry in a moment.",
            },
            error_code: None,
            error_msg: None,
        }
    }
}
