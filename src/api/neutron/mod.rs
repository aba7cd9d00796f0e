//! The Networking service (Neutron v2.0): the version document, networks and subnets, ports,
//! security groups and their rules. A Neutron network is a subnet of the catalogue, and so is
//! its one Neutron subnet: the VPC API gives both the subnet's id, as the cloud does
//! (`neutron_network_id`, `neutron_subnet_id`). Ports and groups are the VPC API's own stored
//! objects, of the caller's project. Refusals are Neutron's
//! `{"NeutronError": {"type", "message", "detail"}}`.

mod ports;
mod security_groups;
pub mod wire;

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::BaseUrl;
use super::operation::Row;
use crate::domain::catalogue::{Catalogue, Subnet};
use crate::domain::faults::FaultOperation as Fault;
use crate::domain::{Error, ErrorCode};
use crate::service::Ecs;

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(neutron_show_version)),
        Row::new(routes!(neutron_show_version_slash)),
        Row::new(routes!(neutron_list_extensions)),
        Row::new(routes!(neutron_show_extension)),
        Row::new(routes!(neutron_list_networks)),
        Row::new(routes!(neutron_show_network)),
        Row::new(routes!(neutron_list_subnets)),
        Row::new(routes!(neutron_show_subnet)),
        Row::new(routes!(ports::neutron_list_ports)).neutron(),
        Row::new(routes!(ports::neutron_create_port)).neutron().fault(Fault::Port),
        Row::new(routes!(ports::neutron_show_port)).neutron(),
        Row::new(routes!(ports::neutron_update_port)).neutron().fault(Fault::Port),
        Row::new(routes!(ports::neutron_delete_port)).neutron().fault(Fault::Port),
        Row::new(routes!(security_groups::neutron_list_security_groups)).neutron(),
        Row::new(routes!(security_groups::neutron_create_security_group)).neutron().fault(Fault::SecurityGroup),
        Row::new(routes!(security_groups::neutron_show_security_group)).neutron(),
        Row::new(routes!(security_groups::neutron_update_security_group)).neutron().fault(Fault::SecurityGroup),
        Row::new(routes!(security_groups::neutron_delete_security_group)).neutron().fault(Fault::SecurityGroup),
        Row::new(routes!(security_groups::neutron_list_security_group_rules)).neutron(),
        Row::new(routes!(security_groups::neutron_create_security_group_rule)).neutron().fault(Fault::SecurityGroup),
        Row::new(routes!(security_groups::neutron_show_security_group_rule)).neutron(),
        Row::new(routes!(security_groups::neutron_delete_security_group_rule)).neutron().fault(Fault::SecurityGroup),
    ]
}

/// Neutron's error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronErrorBody {
    #[serde(rename = "NeutronError")]
    pub neutron_error: NeutronErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronErrorDetail {
    /// `NetworkNotFound`, `PortNotFound`, `SecurityGroupInUse`, `InvalidInput`, `HTTPBadRequest`...
    #[serde(rename = "type")]
    pub error_type: String,
    pub message: String,
    pub detail: &'static str,
}

/// A Neutron refusal: the status, Neutron's type of the fault and its message.
#[derive(Debug)]
pub struct NeutronError {
    status: StatusCode,
    kind: String,
    message: String,
}

impl IntoResponse for NeutronError {
    fn into_response(self) -> Response {
        let body = NeutronErrorBody {
            neutron_error: NeutronErrorDetail { error_type: self.kind, message: self.message, detail: "" },
        };
        (self.status, Json(body)).into_response()
    }
}

impl NeutronError {
    fn new(status: StatusCode, kind: &str, message: String) -> Self {
        NeutronError { status, kind: kind.to_string(), message }
    }

    fn bad_request(message: String) -> Self {
        NeutronError::new(StatusCode::BAD_REQUEST, "HTTPBadRequest", message)
    }

    fn network_not_found(network_id: &str) -> Self {
        NeutronError::new(StatusCode::NOT_FOUND, "NetworkNotFound", format!("Network {network_id} could not be found."))
    }
}

/// Neutron's status and type for a domain error; an injected fault keeps its own.
impl From<Error> for NeutronError {
    fn from(error: Error) -> Self {
        if let Some(injected) = &error.injected {
            let status = StatusCode::from_u16(injected.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return NeutronError { status, kind: injected.code.clone(), message: error.message };
        }
        let (status, kind) = match error.code {
            ErrorCode::PortNotFound => (StatusCode::NOT_FOUND, "PortNotFound"),
            ErrorCode::SecurityGroupNotFound => (StatusCode::NOT_FOUND, "SecurityGroupNotFound"),
            ErrorCode::SecurityGroupRuleNotFound => (StatusCode::NOT_FOUND, "SecurityGroupRuleNotFound"),
            ErrorCode::PortInUse => (StatusCode::CONFLICT, "PortInUse"),
            ErrorCode::SecurityGroupInUse => (StatusCode::CONFLICT, "SecurityGroupInUse"),
            ErrorCode::SecurityGroupRuleExists => (StatusCode::CONFLICT, "SecurityGroupRuleExists"),
            ErrorCode::VpcIpInUse => (StatusCode::CONFLICT, "IpAddressAlreadyAllocated"),
            ErrorCode::VpcSubnetFull => (StatusCode::CONFLICT, "IpAddressGenerationFailure"),
            ErrorCode::InvalidRequest | ErrorCode::EmptyBody => (StatusCode::BAD_REQUEST, "HTTPBadRequest"),
            ErrorCode::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "HTTPRequestEntityTooLarge"),
            ErrorCode::Forbidden | ErrorCode::ProjectMismatch => (StatusCode::FORBIDDEN, "HTTPForbidden"),
            code => match code.http_status() {
                404 => (StatusCode::NOT_FOUND, "NotFound"),
                409 => (StatusCode::CONFLICT, "Conflict"),
                // The store is gone or full: clients retry, as they do Neutron's own 503.
                503 => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
                status if status < 500 => (StatusCode::BAD_REQUEST, "InvalidInput"),
                _ => {
                    tracing::error!(%error, "Neutron call failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, "HTTPInternalServerError")
                }
            },
        };
        NeutronError::new(status, kind, error.message)
    }
}

impl From<ApiError> for NeutronError {
    fn from(error: ApiError) -> Self {
        NeutronError::from(error.0)
    }
}

pub type NeutronResult<T> = Result<T, NeutronError>;

/// Renders a request-level fault of a Neutron operation.
pub fn render(error: Error) -> Response {
    NeutronError::from(error).into_response()
}

crate::api::extract::json_refused_as!(
    /// A JSON body, refused in Neutron's shape.
    NeutronJson,
    NeutronError
);
crate::api::extract::path_refused_as!(
    /// Path parameters, refused in Neutron's shape.
    NeutronPath,
    NeutronError
);

/// Runs a service call off the async workers, refused in Neutron's shape.
async fn blocking<R: Send + 'static>(
    ecs: &Arc<Ecs>,
    call: impl FnOnce(&Ecs) -> crate::domain::Result<R> + Send + 'static,
) -> NeutronResult<R> {
    super::blocking(ecs, call).await.map_err(NeutronError::from)
}

/// `GET /v2.0`: the networking API version.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronVersionResponse {
    pub version: NeutronVersion,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronVersion {
    /// `v2.0`.
    pub id: &'static str,
    /// `CURRENT`.
    pub status: &'static str,
    pub links: Vec<NeutronLink>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronLink {
    pub rel: &'static str,
    pub href: String,
}

impl NeutronVersionResponse {
    fn of(base_url: &str) -> Self {
        NeutronVersionResponse {
            version: NeutronVersion {
                id: "v2.0",
                status: "CURRENT",
                links: vec![NeutronLink { rel: "self", href: format!("{base_url}/v2.0/") }],
            },
        }
    }
}

/// `GET /v2.0`: where keystoneauth finds the networking API of the catalog's `network`
/// endpoint (public).
#[utoipa::path(
    get,
    path = "/v2.0",
    operation_id = "NeutronShowVersion",
    tag = "Neutron",
    security(()),
    responses((status = 200, description = "The networking API version.", body = NeutronVersionResponse))
)]
pub async fn neutron_show_version(BaseUrl(base): BaseUrl) -> Json<NeutronVersionResponse> {
    Json(NeutronVersionResponse::of(&base))
}

/// `GET /v2.0/`: the same document.
#[utoipa::path(
    get,
    path = "/v2.0/",
    operation_id = "NeutronShowVersionSlash",
    tag = "Neutron",
    security(()),
    responses((status = 200, description = "The networking API version.", body = NeutronVersionResponse))
)]
pub async fn neutron_show_version_slash(BaseUrl(base): BaseUrl) -> Json<NeutronVersionResponse> {
    Json(NeutronVersionResponse::of(&base))
}

/// An API extension: what clients look for before using an attribute it brings.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronExtension {
    pub alias: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub updated: &'static str,
    #[schema(value_type = Vec<Object>)]
    pub links: Vec<()>,
}

/// The extensions whose attributes ecsd's documents carry and its calls honour.
const EXTENSIONS: [(&str, &str, &str); 10] = [
    ("security-group", "security-group", "The security groups extension."),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("port-security", "Port Security", "Provides port security"),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),
    (
        "standard-attr-timestamp",
        "Resource timestamps",
        "Adds created_at and updated_at fields to all Neutron resources",
    ),
    (
        "standard-attr-revisions",
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
    ),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
];

impl NeutronExtension {
    fn all() -> impl Iterator<Item = NeutronExtension> {
        EXTENSIONS.into_iter().map(|(alias, name, description)| NeutronExtension {
            alias,
            name,
            description,
            updated: "2024-01-01T00:00:00-00:00",
            links: vec![],
        })
    }
}

/// `GET /v2.0/extensions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronExtensions {
    pub extensions: Vec<NeutronExtension>,
}

/// `GET /v2.0/extensions/{alias}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeutronExtensionResponse {
    pub extension: NeutronExtension,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ExtensionPath {
    pub alias: String,
}

/// `GET /v2.0/extensions`: the extensions served, which the CLI checks before some calls.
#[utoipa::path(
    get,
    path = "/v2.0/extensions",
    operation_id = "NeutronListExtensions",
    tag = "Neutron",
    responses((status = 200, description = "The extensions served.", body = NeutronExtensions))
)]
pub async fn neutron_list_extensions() -> Json<NeutronExtensions> {
    Json(NeutronExtensions { extensions: NeutronExtension::all().collect() })
}

/// `GET /v2.0/extensions/{alias}`.
#[utoipa::path(
    get,
    path = "/v2.0/extensions/{alias}",
    operation_id = "NeutronShowExtension",
    tag = "Neutron",
    params(ExtensionPath),
    responses(
        (status = 200, description = "The extension.", body = NeutronExtensionResponse),
        (status = 404, description = "An extension not served (`HTTPNotFound`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_show_extension(
    NeutronPath(ExtensionPath { alias }): NeutronPath<ExtensionPath>,
) -> NeutronResult<Json<NeutronExtensionResponse>> {
    let extension = NeutronExtension::all().find(|e| e.alias == alias).ok_or_else(|| {
        NeutronError::new(StatusCode::NOT_FOUND, "HTTPNotFound", format!("Extension with alias {alias} does not exist"))
    })?;
    Ok(Json(NeutronExtensionResponse { extension }))
}

/// The caller's project: Neutron paths carry none, so the credential's (with authentication
/// off, none is known and the tenant fields are empty).
pub struct Caller(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(parts.extensions.get::<crate::iam::Caller>().map(|c| c.project_id.clone()).unwrap_or_default()))
    }
}

/// The query of a Neutron call, refused in Neutron's shape.
pub struct NeutronQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for NeutronQuery<T> {
    type Rejection = NeutronError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(NeutronQuery)
            .map_err(|e| NeutronError::bad_request(format!("Invalid query parameter: {e}.")))
    }
}

/// The filters of the network and subnet lists (exact matches, as Neutron's).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeutronQueryFilters {
    pub id: Option<String>,
    pub name: Option<String>,
    /// Subnets of this network.
    pub network_id: Option<String>,
}

/// A network: one subnet of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct Network {
    pub id: String,
    pub name: String,
    /// `ACTIVE`.
    pub status: &'static str,
    pub admin_state_up: bool,
    pub shared: bool,
    /// Its one subnet.
    pub subnets: Vec<String>,
    pub tenant_id: String,
    pub project_id: String,
    #[serde(rename = "router:external")]
    pub router_external: bool,
    pub mtu: u32,
    pub port_security_enabled: bool,
    pub availability_zones: Vec<String>,
    pub tags: Vec<String>,
    pub created_at: &'static str,
    pub updated_at: &'static str,
}

impl Network {
    fn of(subnet: &Subnet, catalogue: &Catalogue, project_id: &str) -> Self {
        Network {
            id: subnet.id.clone(),
            name: subnet.name.clone(),
            status: "ACTIVE",
            admin_state_up: true,
            shared: false,
            subnets: vec![subnet.id.clone()],
            tenant_id: project_id.to_string(),
            project_id: project_id.to_string(),
            router_external: false,
            mtu: 1500,
            port_security_enabled: true,
            availability_zones: catalogue.availability_zones.clone(),
            tags: vec![],
            created_at: "2024-01-01T00:00:00Z",
            updated_at: "2024-01-01T00:00:00Z",
        }
    }
}

/// A subnet as Neutron shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeutronSubnet)]
pub struct NeutronSubnetView {
    pub id: String,
    pub name: String,
    pub network_id: String,
    pub cidr: String,
    pub gateway_ip: String,
    pub ip_version: u8,
    pub enable_dhcp: bool,
    pub allocation_pools: Vec<AllocationPool>,
    pub dns_nameservers: Vec<String>,
    pub host_routes: Vec<String>,
    pub tenant_id: String,
    pub project_id: String,
    pub tags: Vec<String>,
    pub created_at: &'static str,
    pub updated_at: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationPool {
    pub start: String,
    pub end: String,
}

impl NeutronSubnetView {
    fn of(subnet: &Subnet, project_id: &str) -> Self {
        let allocation_pools = subnet
            .usable_range()
            .map(|range| AllocationPool {
                start: std::net::Ipv4Addr::from(*range.start()).to_string(),
                end: std::net::Ipv4Addr::from(*range.end()).to_string(),
            })
            .into_iter()
            .collect();
        NeutronSubnetView {
            id: subnet.id.clone(),
            name: subnet.name.clone(),
            network_id: subnet.id.clone(),
            cidr: subnet.cidr.clone(),
            gateway_ip: subnet.gateway_ip.to_string(),
            ip_version: 4,
            enable_dhcp: true,
            allocation_pools,
            dns_nameservers: vec![],
            host_routes: vec![],
            tenant_id: project_id.to_string(),
            project_id: project_id.to_string(),
            tags: vec![],
            created_at: "2024-01-01T00:00:00Z",
            updated_at: "2024-01-01T00:00:00Z",
        }
    }
}

fn matching<'c>(catalogue: &'c Catalogue, filters: &NeutronQueryFilters) -> Vec<&'c Subnet> {
    catalogue
        .subnets
        .iter()
        .filter(|s| filters.id.as_deref().is_none_or(|id| id == s.id))
        .filter(|s| filters.name.as_deref().is_none_or(|name| name == s.name))
        .filter(|s| filters.network_id.as_deref().is_none_or(|id| id == s.id))
        .collect()
}

/// `GET /v2.0/networks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworksResponse {
    pub networks: Vec<Network>,
}

/// `GET /v2.0/networks/{network_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkResponse {
    pub network: Network,
}

/// `GET /v2.0/subnets`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubnetsResponse {
    pub subnets: Vec<NeutronSubnetView>,
}

/// `GET /v2.0/subnets/{subnet_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubnetResponse {
    pub subnet: NeutronSubnetView,
}

/// `GET /v2.0/networks`: the catalogue's subnets as networks.
#[utoipa::path(
    get,
    path = "/v2.0/networks",
    operation_id = "NeutronListNetworks",
    tag = "Neutron",
    params(NeutronQueryFilters),
    responses(
        (status = 200, description = "The networks that match.", body = NetworksResponse),
        (status = 400, description = "A malformed query.", body = NeutronErrorBody),
    )
)]
pub async fn neutron_list_networks(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronQuery(filters): NeutronQuery<NeutronQueryFilters>,
) -> Json<NetworksResponse> {
    let catalogue = ecs.catalogue();
    let networks = matching(catalogue, &filters).into_iter().map(|s| Network::of(s, catalogue, &project_id)).collect();
    Json(NetworksResponse { networks })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NetworkPath {
    pub network_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubnetPath {
    pub subnet_id: String,
}

fn path<T>(path: Result<axum::extract::Path<T>, axum::extract::rejection::PathRejection>) -> Result<T, NeutronError> {
    path.map(|axum::extract::Path(value)| value)
        .map_err(|e| NeutronError::bad_request(format!("Invalid path parameter: {e}.")))
}

/// `GET /v2.0/networks/{network_id}`.
#[utoipa::path(
    get,
    path = "/v2.0/networks/{network_id}",
    operation_id = "NeutronShowNetwork",
    tag = "Neutron",
    params(NetworkPath),
    responses(
        (status = 200, description = "The network.", body = NetworkResponse),
        (status = 404, description = "No such network (`NetworkNotFound`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_show_network(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    network: Result<axum::extract::Path<NetworkPath>, axum::extract::rejection::PathRejection>,
) -> Result<Json<NetworkResponse>, NeutronError> {
    let NetworkPath { network_id } = path(network)?;
    let catalogue = ecs.catalogue();
    let subnet = catalogue.subnet(&network_id).ok_or_else(|| NeutronError::network_not_found(&network_id))?;
    Ok(Json(NetworkResponse { network: Network::of(subnet, catalogue, &project_id) }))
}

/// `GET /v2.0/subnets`.
#[utoipa::path(
    get,
    path = "/v2.0/subnets",
    operation_id = "NeutronListSubnets",
    tag = "Neutron",
    params(NeutronQueryFilters),
    responses(
        (status = 200, description = "The subnets that match.", body = SubnetsResponse),
        (status = 400, description = "A malformed query.", body = NeutronErrorBody),
    )
)]
pub async fn neutron_list_subnets(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    NeutronQuery(filters): NeutronQuery<NeutronQueryFilters>,
) -> Json<SubnetsResponse> {
    let subnets =
        matching(ecs.catalogue(), &filters).into_iter().map(|s| NeutronSubnetView::of(s, &project_id)).collect();
    Json(SubnetsResponse { subnets })
}

/// `GET /v2.0/subnets/{subnet_id}`.
#[utoipa::path(
    get,
    path = "/v2.0/subnets/{subnet_id}",
    operation_id = "NeutronShowSubnet",
    tag = "Neutron",
    params(SubnetPath),
    responses(
        (status = 200, description = "The subnet.", body = SubnetResponse),
        (status = 404, description = "No such subnet (`SubnetNotFound`).", body = NeutronErrorBody),
    )
)]
pub async fn neutron_show_subnet(
    State(ecs): State<Arc<Ecs>>,
    Caller(project_id): Caller,
    subnet: Result<axum::extract::Path<SubnetPath>, axum::extract::rejection::PathRejection>,
) -> Result<Json<SubnetResponse>, NeutronError> {
    let SubnetPath { subnet_id } = path(subnet)?;
    let subnet = ecs.catalogue().subnet(&subnet_id).ok_or_else(|| {
        NeutronError::new(StatusCode::NOT_FOUND, "SubnetNotFound", format!("Subnet {subnet_id} could not be found."))
    })?;
    Ok(Json(SubnetResponse { subnet: NeutronSubnetView::of(subnet, &project_id) }))
}
