//! The OpenStack Compute (Nova v2.1) face of the same fleet: versions and microversions,
//! servers and their actions, interfaces, security groups, volume attachments and tags,
//! flavors, limits, ECS groups as server groups, availability zones.
//! A server made here is an ECS server, and every ECS server shows here. Nova answers in its
//! own error shape (`{"itemNotFound": {"code": 404, "message": ...}}`).

mod catalogue;
mod interfaces;
mod keypairs;
mod servers;
mod tags;
mod volumes;
pub mod wire;

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{BaseUrl, Project};
use super::operation::{BodyMark, Row};
use crate::domain::faults::FaultOperation as Fault;
use crate::domain::{Error, ErrorCode};
use crate::service::Ecs;
use wire::{NovaFault, NovaFaultDetail, VersionDocument, Versions};

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(list_versions)),
        Row::new(routes!(nova_show_version)),
        Row::new(routes!(nova_show_version_slash)),
        Row::new(routes!(servers::nova_create_server)).fault(Fault::Create),
        Row::new(routes!(servers::nova_list_servers)),
        Row::new(routes!(servers::nova_list_servers_detail)),
        Row::new(routes!(servers::nova_show_server)),
        Row::new(routes!(servers::nova_update_server)).fault(Fault::Rename),
        Row::new(routes!(servers::nova_delete_server)).fault(Fault::Delete),
        Row::by_body(
            routes!(servers::nova_server_action),
            [
                (BodyMark::Key("os-start"), "NovaStartServer", Fault::Start),
                (BodyMark::Key("os-stop"), "NovaStopServer", Fault::Stop),
                (BodyMark::Key("reboot"), "NovaRebootServer", Fault::Reboot),
                (BodyMark::Key("lock"), "NovaLockServer", Fault::Lock),
                (BodyMark::Key("unlock"), "NovaUnlockServer", Fault::Lock),
                (BodyMark::Key("os-getConsoleOutput"), "NovaShowServerConsoleOutput", Fault::Console),
                (BodyMark::Key("addSecurityGroup"), "NovaAssociateSecurityGroup", Fault::Nics),
                (BodyMark::Key("removeSecurityGroup"), "NovaDisassociateSecurityGroup", Fault::Nics),
                (BodyMark::Key("resize"), "NovaResizeServer", Fault::Resize),
                (BodyMark::Key("confirmResize"), "NovaConfirmResizeServer", Fault::Resize),
                (BodyMark::Key("revertResize"), "NovaRevertResizeServer", Fault::Resize),
            ],
        ),
        Row::new(routes!(interfaces::nova_list_server_interfaces)),
        Row::new(routes!(interfaces::nova_show_server_interface)),
        Row::new(routes!(interfaces::nova_attach_interface)).fault(Fault::Nics),
        Row::new(routes!(interfaces::nova_detach_interface)).fault(Fault::Nics),
        Row::new(routes!(interfaces::nova_list_server_security_groups)),
        Row::new(routes!(volumes::nova_list_volume_attachments)),
        Row::new(routes!(volumes::nova_show_volume_attachment)),
        Row::new(routes!(volumes::nova_attach_volume)).fault(Fault::AttachVolume),
        Row::new(routes!(volumes::nova_detach_volume)).fault(Fault::DetachVolume),
        Row::new(routes!(tags::nova_list_server_tags)),
        Row::new(routes!(tags::nova_replace_server_tags)).fault(Fault::Tags),
        Row::new(routes!(tags::nova_delete_all_server_tags)).fault(Fault::Tags),
        Row::new(routes!(tags::nova_check_server_tag)),
        Row::new(routes!(tags::nova_add_server_tag)).fault(Fault::Tags),
        Row::new(routes!(tags::nova_delete_server_tag)).fault(Fault::Tags),
        Row::new(routes!(servers::nova_list_instance_actions)),
        Row::new(routes!(servers::nova_show_instance_action)),
        Row::new(routes!(servers::nova_list_server_metadata)),
        Row::new(routes!(servers::nova_create_server_metadata)).fault(Fault::Metadata),
        Row::new(routes!(servers::nova_replace_server_metadata)).fault(Fault::Metadata),
        Row::new(routes!(servers::nova_show_server_metadata_item)),
        Row::new(routes!(servers::nova_set_server_metadata_item)).fault(Fault::Metadata),
        Row::new(routes!(servers::nova_delete_server_metadata_item)).fault(Fault::Metadata),
        Row::new(routes!(catalogue::nova_list_flavors)),
        Row::new(routes!(catalogue::nova_list_flavors_detail)),
        Row::new(routes!(catalogue::nova_show_flavor)),
        Row::new(routes!(catalogue::nova_list_flavor_extra_specs)),
        Row::new(routes!(catalogue::nova_show_limits)),
        Row::new(routes!(catalogue::nova_list_availability_zones)),
        Row::new(routes!(catalogue::nova_list_availability_zones_detail)),
        Row::new(routes!(catalogue::nova_create_server_group)).fault(Fault::ServerGroup),
        Row::new(routes!(catalogue::nova_list_server_groups)),
        Row::new(routes!(catalogue::nova_show_server_group)),
        Row::new(routes!(catalogue::nova_delete_server_group)).fault(Fault::ServerGroup),
        Row::new(routes!(keypairs::nova_create_keypair)).fault(Fault::Keypair),
        Row::new(routes!(keypairs::nova_list_keypairs)),
        Row::new(routes!(keypairs::nova_show_keypair)),
        Row::new(routes!(keypairs::nova_delete_keypair)).fault(Fault::Keypair),
    ]
}

/// The microversions ecsd speaks: 2.1 up to 2.60, the maximum the OTC reference gives.
pub const MIN_MICROVERSION: u16 = 1;
pub const MAX_MICROVERSION: u16 = 60;

/// The microversion a Nova request negotiated (the minor number of `2.x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Microversion(pub u16);

impl Microversion {
    pub fn at_least(self, minor: u16) -> bool {
        self.0 >= minor
    }

    /// The version a request asks for in `OpenStack-API-Version: compute 2.x` (or the older
    /// `X-OpenStack-Nova-API-Version: 2.x`); 2.1 when it asks for none.
    pub fn requested(headers: &HeaderMap) -> Result<Self, NovaError> {
        let compute = headers
            .get_all("openstack-api-version")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|part| {
                let mut words = part.split_whitespace();
                (words.next().is_some_and(|s| s.eq_ignore_ascii_case("compute"))).then(|| words.next().unwrap_or(""))
            })
            .map(str::to_string);
        let legacy = headers.get("x-openstack-nova-api-version").and_then(|v| v.to_str().ok()).map(str::to_string);
        let Some(asked) = compute.or(legacy) else { return Ok(Microversion(MIN_MICROVERSION)) };
        let asked = asked.trim();
        if asked.eq_ignore_ascii_case("latest") {
            return Ok(Microversion(MAX_MICROVERSION));
        }
        let invalid =
            || NovaError::new(StatusCode::BAD_REQUEST, format!("Version {asked} is not a valid microversion."));
        let (major, minor) = asked.split_once('.').ok_or_else(invalid)?;
        let (major, minor): (u16, u16) = (major.parse().map_err(|_| invalid())?, minor.parse().map_err(|_| invalid())?);
        if major != 2 || !(MIN_MICROVERSION..=MAX_MICROVERSION).contains(&minor) {
            return Err(NovaError::new(
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "Version {asked} is not supported by the API. Minimum is 2.{MIN_MICROVERSION} and maximum is \
                     2.{MAX_MICROVERSION}."
                ),
            ));
        }
        Ok(Microversion(minor))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Microversion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Microversion>().copied().unwrap_or(Microversion(MIN_MICROVERSION)))
    }
}

/// Whether a path is one of Nova's (under `/v2.1/`), which negotiate a microversion.
fn nova_path(path: &str) -> bool {
    path.strip_prefix("/v2.1/").is_some_and(|rest| !rest.is_empty())
}

/// The layer that negotiates the microversion of every Nova request and says it in the answer
/// (a version above the maximum is 406, as Nova answers).
pub async fn negotiate(mut request: Request, next: Next) -> Response {
    if !nova_path(request.uri().path()) {
        return next.run(request).await;
    }
    let version = match Microversion::requested(request.headers()) {
        Ok(version) => version,
        Err(error) => return error.into_response(),
    };
    request.extensions_mut().insert(version);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("compute 2.{}", version.0)) {
        headers.insert("openstack-api-version", value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("2.{}", version.0)) {
        headers.insert("x-openstack-nova-api-version", value);
    }
    headers.insert("vary", HeaderValue::from_static("OpenStack-API-Version, X-OpenStack-Nova-API-Version"));
    response
}

/// A Nova refusal: the HTTP status and the message, rendered as `{"<fault>": {code, message}}`.
#[derive(Debug)]
pub struct NovaError {
    pub status: StatusCode,
    pub message: String,
}

impl NovaError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        NovaError { status, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        NovaError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        NovaError::new(StatusCode::NOT_FOUND, message)
    }

    /// Nova's answer for a server that is not the project's.
    pub fn no_such_server(server_id: &str) -> Self {
        NovaError::not_found(format!("Instance {server_id} could not be found."))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        NovaError::new(StatusCode::CONFLICT, message)
    }

    /// The name Nova gives a fault of this status (Cinder gives the same).
    pub(crate) fn fault_name(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "badRequest",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "itemNotFound",
            405 => "badMethod",
            409 => "conflictingRequestState",
            413 | 429 => "overLimit",
            415 => "badMediaType",
            501 => "notImplemented",
            503 => "serviceUnavailable",
            _ => "computeFault",
        }
    }
}

/// The status Nova answers for a domain error: a server in the wrong state is a conflict (409),
/// an exceeded quota forbidden (403), a missing server not found (404).
impl From<Error> for NovaError {
    fn from(error: Error) -> Self {
        let status = match (&error.injected, error.code) {
            (Some(injected), _) => StatusCode::from_u16(injected.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            (None, ErrorCode::ServerNotFound | ErrorCode::ResourceNotFound | ErrorCode::JobNotFound) => {
                StatusCode::NOT_FOUND
            }
            (
                None,
                ErrorCode::WrongStatus | ErrorCode::ServerBusy | ErrorCode::ServerLocked | ErrorCode::AlreadyDeleting,
            ) => StatusCode::CONFLICT,
            (
                None,
                ErrorCode::QuotaExceeded
                | ErrorCode::GroupQuotaExceeded
                | ErrorCode::Forbidden
                | ErrorCode::ProjectMismatch
                | ErrorCode::NotAdmin,
            ) => StatusCode::FORBIDDEN,
            (None, _) => StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        if status.is_server_error() {
            tracing::error!(%error, "Nova call failed");
        }
        NovaError { status, message: error.message }
    }
}

impl From<ApiError> for NovaError {
    fn from(error: ApiError) -> Self {
        NovaError::from(error.0)
    }
}

impl IntoResponse for NovaError {
    fn into_response(self) -> Response {
        let detail = NovaFaultDetail { code: self.status.as_u16(), message: self.message };
        let body = NovaFault { fault: [(NovaError::fault_name(self.status), detail)].into_iter().collect() };
        (self.status, Json(body)).into_response()
    }
}

pub type NovaResult<T> = Result<T, NovaError>;

crate::api::extract::json_refused_as!(
    /// A JSON body, refused in Nova's shape.
    NovaJson,
    NovaError
);
crate::api::extract::path_refused_as!(
    /// Path parameters, refused in Nova's shape.
    NovaPath,
    NovaError
);

/// Query parameters, refused in Nova's shape.
pub struct NovaQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for NovaQuery<T> {
    type Rejection = NovaError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(NovaQuery)
            .map_err(|e| NovaError::bad_request(format!("Invalid query parameter: {e}.")))
    }
}

/// The project of the path, which the caller must be allowed to use; refused in Nova's shape.
pub struct NovaProject(pub String);

impl<S: Send + Sync> FromRequestParts<S> for NovaProject
where
    Arc<Ecs>: FromRef<S>,
{
    type Rejection = NovaError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Project::from_request_parts(parts, state).await.map(|Project(id)| NovaProject(id)).map_err(NovaError::from)
    }
}

/// Runs a service call off the async workers, refused in Nova's shape.
async fn blocking<R: Send + 'static>(
    ecs: &Arc<Ecs>,
    call: impl FnOnce(&Ecs) -> crate::domain::Result<R> + Send + 'static,
) -> NovaResult<R> {
    super::blocking(ecs, call).await.map_err(NovaError::from)
}

/// `GET /`: the API versions (public).
#[utoipa::path(
    get,
    path = "/",
    operation_id = "NovaListVersions",
    tag = "Meta",
    security(()),
    responses((status = 200, description = "The API versions.", body = Versions))
)]
pub async fn list_versions(BaseUrl(base): BaseUrl) -> Json<Versions> {
    Json(Versions::of(&base))
}

/// `GET /v2.1`: the v2.1 version document, with the microversion range (public).
#[utoipa::path(
    get,
    path = "/v2.1",
    operation_id = "NovaShowVersion",
    tag = "Meta",
    security(()),
    responses((status = 200, description = "The v2.1 API version.", body = VersionDocument))
)]
pub async fn nova_show_version(BaseUrl(base): BaseUrl) -> Json<VersionDocument> {
    Json(VersionDocument::of(&base))
}

/// `GET /v2.1/`: the same document, where keystoneauth looks for it.
#[utoipa::path(
    get,
    path = "/v2.1/",
    operation_id = "NovaShowVersionSlash",
    tag = "Meta",
    security(()),
    responses((status = 200, description = "The v2.1 API version.", body = VersionDocument))
)]
pub async fn nova_show_version_slash(BaseUrl(base): BaseUrl) -> Json<VersionDocument> {
    Json(VersionDocument::of(&base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(headers: &[(&str, &str)]) -> Result<u16, u16> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        Microversion::requested(&map).map(|v| v.0).map_err(|e| e.status.as_u16())
    }

    #[test]
    fn the_microversion_comes_from_either_header_within_the_range() {
        assert_eq!(asked(&[]), Ok(1));
        assert_eq!(asked(&[("openstack-api-version", "compute 2.47")]), Ok(47));
        assert_eq!(asked(&[("openstack-api-version", "image 2.5, compute 2.26")]), Ok(26));
        assert_eq!(asked(&[("x-openstack-nova-api-version", "2.9")]), Ok(9));
        assert_eq!(asked(&[("openstack-api-version", "compute latest")]), Ok(MAX_MICROVERSION));
        assert_eq!(asked(&[("openstack-api-version", "compute 2.61")]), Err(406));
        assert_eq!(asked(&[("openstack-api-version", "compute 3.0")]), Err(406));
        assert_eq!(asked(&[("openstack-api-version", "compute two")]), Err(400));
    }
}
