//! The OpenAPI 3.1 document of everything ecsd serves, generated from the handlers'
//! `#[utoipa::path]` annotations and the wire structs' `ToSchema` derives, and served at
//! `GET /openapi.json`. `docs/openapi.json` is a committed copy; `tests/openapi.rs` fails when
//! it differs from what the code generates (regenerate with
//! `ECSD_WRITE_OPENAPI=1 cargo test --test openapi`).
//!
//! Shapes that handlers build with `serde_json::json!` are described here by schema structs of
//! their own ([`doc`]); those structs are never serialised, they only describe the JSON.

use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as OpenApiDocument, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};

use super::wire;

/// `GET /openapi.json`: the document, rendered once.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "GetOpenApiDocument",
    tag = "Meta",
    security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document.", body = Object, content_type = "application/json"))
)]
pub async fn serve() -> Response {
    static RENDERED: OnceLock<String> = OnceLock::new();
    let json = RENDERED.get_or_init(|| document().to_pretty_json().unwrap_or_else(|_| "{}".into()));
    ([(CONTENT_TYPE, "application/json")], json.as_str()).into_response()
}

/// The document as the code describes it.
pub fn document() -> OpenApiDocument {
    ApiDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ecsd",
        description = "A local emulation of the Huawei Cloud / Open Telekom Cloud Elastic Cloud Server (ECS) API \
(v1 and v1.1), with the IMS, VPC and IAM calls automation needs beside it, and ecsd's own test-control API \
under `/_ecsd/`.\n\n\
Every path but `GET /`, `GET /openapi.json` and `POST /v3/auth/tokens` needs an AK/SK signature \
(`SDK-HMAC-SHA256`, as the official SDKs sign) or an `X-Auth-Token`. A refused credential answers 401 with the \
API gateway's body `{\"error_msg\",\"error_code\",\"request_id\"}` (`APIG.0301` signature, `APIG.0307` token).\n\n\
Other errors answer the ECS body `{\"error\":{\"code\",\"message\"}}`, with an `internalError` array when a \
batch is refused because of individual servers (`Ecs.0611`). Unknown paths answer 404 `Ecs.1000`; a method a \
path does not serve answers 405 `Ecs.0005`; a body over 12 MiB answers 413 `Ecs.0005`; an empty body where one \
is required answers 400 `Common.0002`. A fault rule (`POST /_ecsd/faults`, effect `http_error`) may make any \
ECS operation answer the status and code it names. See docs/behaviour.md for every choice where the public \
documentation is silent.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::catalogue::list_versions,
        serve,
        super::servers::create_servers,
        create_servers_v1_1,
        super::servers::list_servers_details,
        super::batch::batch_action,
        super::batch::delete_servers,
        super::batch::batch_reset_servers_password,
        super::batch::batch_update_servers_name,
        super::batch::batch_resize_servers,
        super::catalogue::list_flavors,
        super::catalogue::list_resize_flavors,
        super::catalogue::show_server_limits,
        super::servers::show_server,
        super::servers::update_server,
        super::batch::resize_server,
        resize_server_v1_1,
        super::batch::reset_server_password,
        super::batch::show_reset_password_flag,
        super::jobs::show_job,
        super::catalogue::list_server_az_info,
        super::catalogue::nova_list_availability_zones,
        super::catalogue::list_images,
        super::catalogue::list_vpcs,
        super::catalogue::list_subnets,
        super::auth::keystone_create_user_token,
        super::control::add_fault,
        super::control::list_faults,
        super::control::delete_fault,
        super::control::release_fault,
        super::control::reset,
        super::control::save_snapshot,
        super::control::list_snapshots,
        super::control::delete_snapshot,
        super::control::restore_snapshot,
        super::control::advance_clock,
        super::control::settle_clock,
        super::control::load_fixtures,
    ),
    components(schemas(
        doc::EcsError,
        doc::GatewayError,
        wire::batch::InternalError,
        doc::ServerStatus,
        doc::FlavorSortKey,
        doc::SortDir
    )),
    modifiers(&OptionalBodies, &CommonResponses, &Security),
    security(("aksk" = []), ("token" = [])),
    tags(
        (name = "ECS", description = "Elastic Cloud Server v1/v1.1: create, list, show, modify servers."),
        (name = "ECS batch", description = "Batch operations: job-based start/stop/reboot/delete/resize, and the \
batch-format password reset and rename (all-or-nothing)."),
        (name = "Jobs", description = "Asynchronous jobs and their sub-jobs."),
        (name = "Catalogue", description = "Flavors, quotas, availability zones, and the IMS images and VPC \
networks that creating a server refers to."),
        (name = "IAM", description = "Keystone token issue (password method)."),
        (name = "ecsd control", description = "ecsd's own test-control API: fault rules, reset, snapshots, \
simulated time, fixtures. Authenticated like every ECS path."),
        (name = "Meta", description = "Versions and this document."),
    )
)]
struct ApiDoc;

/// `POST /v1.1/{project_id}/cloudservers`: the same handler as v1 (documentation only).
#[utoipa::path(
    post,
    path = "/v1.1/{project_id}/cloudservers",
    operation_id = "CreateServers",
    tag = "ECS",
    params(doc::ProjectPath, doc::ClientTokenHeader),
    request_body = wire::servers::CreateServersRequest,
    responses(
        (status = 200, description = "Accepted: one job creates the servers, which exist (status BUILD) at once.",
         body = wire::servers::CreateServersResponse),
        (status = 202, description = "`dry_run`: every check passed; nothing was created. No body."),
        (status = 400, description = "Invalid request, quota, network, image, flavor or client-token error.",
         body = doc::EcsError),
    )
)]
#[allow(dead_code)]
fn create_servers_v1_1() {}

/// `POST /v1.1/{project_id}/cloudservers/{server_id}/resize`: the same handler as v1
/// (documentation only).
#[utoipa::path(
    post,
    path = "/v1.1/{project_id}/cloudservers/{server_id}/resize",
    operation_id = "ResizePostPaidServer",
    tag = "ECS batch",
    params(doc::ServerPath),
    request_body = wire::batch::ResizeRequest,
    responses(
        (status = 200, description = "Accepted: the resize job.", body = wire::batch::JobAccepted),
        (status = 202, description = "`dry_run`: every check passed; nothing changed. No body."),
        (status = 400, description = "Invalid request, unknown flavor (`Ecs.0029`) or a refusal of the server \
(`Ecs.0611` with `internalError`).", body = doc::EcsError),
        (status = 404, description = "No such server in the project (`Ecs.0114`).", body = doc::EcsError),
    )
)]
#[allow(dead_code)]
fn resize_server_v1_1() {}

/// Operations whose body may be empty (utoipa marks every typed body required).
const OPTIONAL_BODIES: [&str; 1] = ["EcsdReset"];

struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                if OPTIONAL_BODIES.contains(&operation.operation_id.as_deref().unwrap_or_default())
                    && let Some(RefOr::T(body)) = &mut operation.request_body
                {
                    body.required = Some(Required::False);
                }
            }
        }
    }
}

/// Paths anyone may call (no security requirement).
const PUBLIC: [&str; 3] = ["/", "/openapi.json", "/v3/auth/tokens"];

/// Adds the error answers every operation shares, where its own annotation does not already
/// give that status: 401 (credential refused), 403/400 (project not permitted or mismatched),
/// 400 (malformed body), 413 (body too large) and 500 (`Common.0001`).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                add_common_responses(path, operation);
            }
        }
    }
}

fn error_response(description: &str, schema: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(Ref::from_schema_name(schema))))
        .into()
}

fn add_common_responses(path: &str, operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str, schema: &str| {
        responses.entry(status.to_string()).or_insert_with(|| error_response(description, schema));
    };
    if !PUBLIC.contains(&path) {
        add(
            "401",
            "The signature or token is refused: `APIG.0301` (missing, malformed or wrong AK/SK signature, unknown \
key, `X-Sdk-Date` more than 15 minutes away) or `APIG.0307` (invalid or expired token).",
            "GatewayError",
        );
    }
    if path.contains("{project_id}") {
        add(
            "400",
            "Invalid request (`Ecs.0005`), or a signed `X-Project-Id` that differs from the URL's project \
(`Ecs.0023`).",
            "EcsError",
        );
        add("403", "The project is unknown or the credential is not granted it (`Ecs.0003`).", "EcsError");
    }
    if let Some(body) = &operation.request_body {
        if matches!(body, RefOr::T(body) if matches!(body.required, Some(Required::True))) {
            add(
                "400",
                "Empty body (`Common.0002`), malformed JSON, wrong types or missing fields (`Ecs.0005`).",
                "EcsError",
            );
        }
        add("413", "The body is over 12 MiB (`Ecs.0005`).", "EcsError");
    }
    add("500", "An internal failure, such as the store being unavailable (`Common.0001`).", "EcsError");
}

/// The two ways to authenticate.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "aksk",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "AK/SK signature as the official SDKs compute it: `SDK-HMAC-SHA256 Access=<AK>, \
SignedHeaders=<names>, Signature=<hex>`. `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`, within 15 minutes) must be among the \
signed headers; `X-Project-Id`, when signed, must equal the URL's project.",
            ))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "A token from `POST /v3/auth/tokens` (the `X-Subject-Token` answer header), valid 24 hours.",
            ))),
        );
    }
}

/// Schemas of the shapes built with `serde_json::json!`, of error bodies, and of the control
/// API's requests whose Rust types live outside the API layer. Documentation only.
#[allow(dead_code)]
pub mod doc {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use utoipa::{IntoParams, ToSchema};

    // ------------------------------------------------------------------ parameters

    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    pub struct ProjectPath {
        /// The project (tenant) id: 32 lower-case hex characters.
        #[param(pattern = "^[0-9a-f]{32}$")]
        pub project_id: String,
    }

    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    pub struct ServerPath {
        /// The project (tenant) id: 32 lower-case hex characters.
        #[param(pattern = "^[0-9a-f]{32}$")]
        pub project_id: String,
        /// The server id (a UUID).
        pub server_id: String,
    }

    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    pub struct JobPath {
        /// The project (tenant) id: 32 lower-case hex characters.
        #[param(pattern = "^[0-9a-f]{32}$")]
        pub project_id: String,
        /// A job or sub-job id: 32 lower-case hex characters.
        #[param(pattern = "^[0-9a-f]{32}$")]
        pub job_id: String,
    }

    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    pub struct FaultPath {
        /// The fault rule's id.
        pub id: String,
    }

    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    pub struct SnapshotPath {
        /// The snapshot's name: 1 to 64 letters, digits, `_`, `.` or `-`.
        pub name: String,
    }

    #[derive(IntoParams)]
    #[into_params(parameter_in = Header)]
    pub struct ClientTokenHeader {
        /// Idempotency token: a lower-case UUID (`Ecs.0123` otherwise). The same token with a
        /// byte-identical body within 8 hours answers the first job again and creates nothing;
        /// a different body is `Ecs.0122`, an older token `Ecs.0124`.
        #[param(rename = "X-Client-Token")]
        pub x_client_token: Option<String>,
    }

    // ------------------------------------------------------------------ enumerations

    /// The `type` of a stop or reboot.
    #[derive(Serialize, ToSchema)]
    pub enum PowerOffType {
        #[serde(rename = "SOFT")]
        Soft,
        #[serde(rename = "HARD")]
        Hard,
    }

    /// The only resize mode.
    #[derive(Serialize, ToSchema)]
    pub enum ResizeMode {
        #[serde(rename = "withStopServer")]
        WithStopServer,
    }

    /// A server's status.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum ServerStatus {
        Build,
        Active,
        Shutoff,
        Reboot,
        HardReboot,
        Resize,
        Error,
        Deleted,
    }

    /// A job's or sub-job's status.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum JobStatus {
        Init,
        Running,
        Success,
        Fail,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum FlavorSortKey {
        Flavorid,
        Name,
        MemoryMb,
        Vcpus,
        RootGb,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SortDir {
        Asc,
        Desc,
    }

    // ------------------------------------------------------------------ errors

    /// The ECS error body.
    #[derive(Serialize, ToSchema)]
    pub struct EcsError {
        pub error: EcsErrorDetail,
        /// One entry per refused server when a batch is refused because of individual servers
        /// (`Ecs.0611`); absent otherwise.
        #[serde(rename = "internalError", skip_serializing_if = "Option::is_none")]
        pub internal_error: Option<Vec<super::wire::batch::InternalError>>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct EcsErrorDetail {
        /// `Ecs.NNNN` or `Common.NNNN` (or the code a fault rule injects).
        #[schema(example = "Ecs.0005")]
        pub code: String,
        pub message: String,
    }

    /// The API gateway's refusal body, with 401.
    #[derive(Serialize, ToSchema)]
    pub struct GatewayError {
        #[schema(example = "Incorrect IAM authentication information: verify aksk signature fail")]
        pub error_msg: String,
        /// `APIG.0301` (signature) or `APIG.0307` (token).
        #[schema(example = "APIG.0301")]
        pub error_code: String,
        pub request_id: String,
    }

    /// IAM's refusal of a user name and password, with 401.
    #[derive(Serialize, ToSchema)]
    pub struct IamError {
        pub error: IamErrorDetail,
        /// `IAM.0101`.
        pub error_code: String,
        pub error_msg: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct IamErrorDetail {
        /// 401.
        pub code: u16,
        pub title: String,
        pub message: String,
    }

    // ------------------------------------------------------------------ meta

    /// `GET /`: the API versions.
    #[derive(Serialize, ToSchema)]
    pub struct Versions {
        pub versions: Vec<Version>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Version {
        /// `v2.0` or `v2.1`.
        pub id: String,
        /// `SUPPORTED` or `CURRENT`.
        pub status: String,
        pub version: String,
        pub min_version: String,
        pub updated: String,
        pub links: Vec<VersionLink>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct VersionLink {
        pub rel: String,
        pub href: String,
    }

    /// A link of a flavor document.
    #[derive(Serialize, ToSchema)]
    pub struct FlavorDocLink {
        /// `self` or `bookmark`.
        pub rel: String,
        pub href: String,
        /// Always null.
        #[serde(rename = "type")]
        pub link_type: Option<String>,
    }

    /// Free attachment slots of a flavor (`GET .../cloudservers/flavors` only).
    #[derive(Serialize, ToSchema)]
    pub struct AttachableQuantity {
        pub free_scsi: u32,
        pub free_blk: u32,
        pub free_disk: u32,
        pub free_nic: u32,
    }

    /// A server asked for by `server_id` in the list that does not exist: only `id` and `fault`.
    #[derive(Serialize, ToSchema)]
    pub struct MissingServerFault {
        /// 404.
        pub code: u16,
        pub message: String,
        pub details: String,
        pub created: String,
    }

    // ------------------------------------------------------------------ catalogue

    /// `GET /v1/{project_id}/availability-zones`.
    #[derive(Serialize, ToSchema)]
    pub struct AvailabilityZones {
        pub availability_zones: Vec<AvailabilityZone>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct AvailabilityZone {
        pub availability_zone_id: String,
        /// `core`.
        #[serde(rename = "type")]
        pub zone_type: String,
        /// `single`.
        pub mode: String,
        pub alias: BTreeMap<String, String>,
        pub az_group_ids: Vec<String>,
        pub category: i32,
    }

    /// `GET /v2.1/{project_id}/os-availability-zone` (Nova).
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct NovaAvailabilityZones {
        pub availability_zone_info: Vec<NovaAvailabilityZone>,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct NovaAvailabilityZone {
        pub zone_name: String,
        pub zone_state: NovaZoneState,
        /// Always null.
        #[schema(value_type = Option<Object>)]
        pub hosts: Option<()>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct NovaZoneState {
        pub available: bool,
    }

    /// `GET /v2/cloudimages` (IMS).
    #[derive(Serialize, ToSchema)]
    pub struct Images {
        pub images: Vec<Image>,
    }

    /// A public image as IMS lists it.
    #[derive(Serialize, ToSchema)]
    pub struct Image {
        pub id: String,
        pub name: String,
        /// `active`, or another status for an image that cannot be used.
        pub status: String,
        pub visibility: String,
        pub min_disk: u32,
        pub min_ram: u64,
        pub disk_format: String,
        pub container_format: String,
        #[serde(rename = "__os_type")]
        pub os_type: String,
        #[serde(rename = "__os_version")]
        pub os_version: String,
        #[serde(rename = "__platform")]
        pub platform: String,
        /// `gold` (public images).
        #[serde(rename = "__imagetype")]
        pub image_type: String,
        #[serde(rename = "__os_bit")]
        pub os_bit: String,
        #[serde(rename = "__support_kvm")]
        pub support_kvm: String,
        #[serde(rename = "__isregistered")]
        pub is_registered: String,
        #[serde(rename = "__image_source_type")]
        pub image_source_type: String,
        #[serde(rename = "__os_feature_list")]
        pub os_feature_list: String,
        pub virtual_env_type: String,
        /// `x86` or `arm`.
        pub architecture: String,
        pub size: u64,
        pub protected: bool,
        pub owner: String,
        pub tags: Vec<String>,
        pub created_at: String,
        pub updated_at: String,
        #[serde(rename = "self")]
        pub self_link: String,
        pub file: String,
        pub schema: String,
    }

    /// `GET /v1/{project_id}/vpcs` (VPC).
    #[derive(Serialize, ToSchema)]
    pub struct Vpcs {
        pub vpcs: Vec<Vpc>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Vpc {
        pub id: String,
        pub name: String,
        pub cidr: String,
        /// `OK`.
        pub status: String,
        pub description: String,
        /// Always empty.
        #[schema(value_type = Vec<Object>)]
        pub routes: Vec<()>,
        pub tenant_id: String,
        pub enterprise_project_id: String,
        pub created_at: String,
        pub updated_at: String,
    }

    /// `GET /v1/{project_id}/subnets` (VPC).
    #[derive(Serialize, ToSchema)]
    pub struct Subnets {
        pub subnets: Vec<Subnet>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Subnet {
        pub id: String,
        pub name: String,
        pub description: String,
        pub cidr: String,
        pub gateway_ip: String,
        pub vpc_id: String,
        /// `ACTIVE`.
        pub status: String,
        pub availability_zone: String,
        pub dhcp_enable: bool,
        pub primary_dns: String,
        pub secondary_dns: String,
        #[serde(rename = "dnsList")]
        pub dns_list: Vec<String>,
        pub ipv6_enable: bool,
        pub neutron_network_id: String,
        pub neutron_subnet_id: String,
        pub tenant_id: String,
        /// Free addresses left in the subnet.
        pub available_ip_address_count: u32,
        pub created_at: String,
        pub updated_at: String,
    }

    /// `GET .../os-resetpwd-flag`.
    #[derive(Serialize, ToSchema)]
    pub struct ResetPasswordFlag {
        /// Always `"True"`: the one-click reset plug-in is present in every simulated guest.
        pub resetpwd_flag: String,
        /// An ecsd addition: a reset waits for the server's next start or reboot.
        pub password_reset_pending: bool,
    }

    // ------------------------------------------------------------------ IAM

    /// `POST /v3/auth/tokens` (password method).
    #[derive(Serialize, ToSchema)]
    pub struct TokenRequest {
        pub auth: TokenAuth,
    }

    #[derive(Serialize, ToSchema)]
    pub struct TokenAuth {
        pub identity: TokenIdentity,
        /// The project to scope the token to; the user's own project when absent.
        pub scope: Option<TokenScope>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct TokenIdentity {
        /// Must contain `password`.
        pub methods: Vec<String>,
        pub password: TokenPassword,
    }

    #[derive(Serialize, ToSchema)]
    pub struct TokenPassword {
        pub user: TokenUser,
    }

    #[derive(Serialize, ToSchema)]
    pub struct TokenUser {
        pub name: String,
        pub password: String,
        pub domain: Option<NamedRef>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct NamedRef {
        pub name: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct TokenScope {
        pub project: IdOnly,
    }

    #[derive(Serialize, ToSchema)]
    pub struct IdOnly {
        pub id: String,
    }

    /// The issued token; the token itself is in the `X-Subject-Token` header.
    #[derive(Serialize, ToSchema)]
    pub struct TokenResponse {
        pub token: Token,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Token {
        pub methods: Vec<String>,
        pub issued_at: String,
        pub expires_at: String,
        pub user: TokenUserInfo,
        pub project: TokenUserInfo,
        pub roles: Vec<IdName>,
        pub catalog: Vec<CatalogService>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct TokenUserInfo {
        pub id: String,
        pub name: String,
        pub domain: IdName,
    }

    #[derive(Serialize, ToSchema)]
    pub struct IdName {
        pub id: String,
        pub name: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct CatalogService {
        /// `ecs` or `compute`.
        #[serde(rename = "type")]
        pub service_type: String,
        pub id: String,
        pub name: String,
        pub endpoints: Vec<CatalogEndpoint>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct CatalogEndpoint {
        pub id: String,
        pub interface: String,
        pub region: String,
        pub region_id: String,
        /// ecsd itself, as the client reached it.
        pub url: String,
    }

    // ------------------------------------------------------------------ control

    /// The operation a fault rule matches.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "kebab-case")]
    pub enum FaultOperation {
        Create,
        Start,
        Stop,
        Reboot,
        Resize,
        Delete,
        ResetPassword,
        Rename,
        Any,
    }

    /// What a fault rule does when it fires.
    #[derive(Serialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    pub enum FaultEffect {
        /// The server's sub-job fails with this code; the server returns to where it was.
        SubJobFail { code: String, message: Option<String> },
        /// The per-server check fails: the batch answers `internalError` (or a failed sub-job).
        PrecheckFail { code: String, message: Option<String> },
        /// The whole request fails with this HTTP status (400 to 599) and code.
        HttpError {
            #[schema(minimum = 400, maximum = 599)]
            status: u16,
            code: String,
            message: Option<String>,
        },
        /// The request is answered this many milliseconds later (at most 600000).
        Delay {
            #[schema(maximum = 600000)]
            ms: u64,
        },
        /// The sub-job stays RUNNING until the rule is released or deleted.
        Hang,
    }

    /// A fault rule as a user writes it.
    #[derive(Serialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct FaultSpec {
        pub operation: FaultOperation,
        pub server_id: Option<String>,
        /// Substring of the server name; `.` matches any character.
        pub name_pattern: Option<String>,
        /// A tag key, or `key=value`.
        pub tag: Option<String>,
        pub project_id: Option<String>,
        /// Chance in [0, 1] that a matching occasion fires; always when absent.
        #[schema(minimum = 0, maximum = 1)]
        pub probability: Option<f64>,
        /// Fire for the next `count` matching occasions, then stop; forever when absent.
        pub count: Option<u64>,
        /// Seed of the probability draws, so a run can be repeated exactly.
        #[serde(default)]
        pub seed: u64,
        pub effect: FaultEffect,
    }

    /// A stored fault rule: the spec's fields plus its id and counters.
    #[derive(Serialize, ToSchema)]
    pub struct FaultRule {
        pub id: String,
        pub operation: FaultOperation,
        pub server_id: Option<String>,
        pub name_pattern: Option<String>,
        pub tag: Option<String>,
        pub project_id: Option<String>,
        pub probability: Option<f64>,
        pub count: Option<u64>,
        pub seed: u64,
        pub effect: FaultEffect,
        /// How often the rule fired.
        pub fired: u64,
        /// How many matching occasions were drawn for, fired or not.
        pub evaluations: u64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct FaultRules {
        pub faults: Vec<FaultRule>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Released {
        /// How many held sub-jobs were let go.
        pub released: u64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct SnapshotName {
        pub name: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Snapshots {
        pub snapshots: Vec<Snapshot>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Snapshot {
        pub name: String,
        /// `2019-05-22T03:19:19Z`.
        pub created: String,
    }

    /// The simulated time after the call.
    #[derive(Serialize, ToSchema)]
    pub struct ClockNow {
        /// `2016-04-25T20:04:34.604Z`.
        pub now: String,
    }

    /// A server of a fixture fleet, created directly in a stable status.
    #[derive(Serialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct FixtureServer {
        pub name: String,
        /// Default `s6.small.1`.
        #[serde(default)]
        pub flavor: String,
        /// An image id; the first active image when absent.
        pub image: Option<String>,
        /// `ACTIVE` (default) or `SHUTOFF`.
        #[serde(default)]
        #[schema(value_type = Option<FixtureStatus>)]
        pub status: String,
        /// `key=value` or `key`.
        #[serde(default)]
        pub tags: Vec<String>,
        #[serde(default)]
        pub locked: bool,
        pub availability_zone: Option<String>,
        #[serde(default)]
        pub metadata: BTreeMap<String, String>,
        /// How many servers like this one (names get `-0000` suffixes when more than one); default 1.
        #[serde(default)]
        #[schema(minimum = 1, maximum = 100)]
        pub count: u32,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum FixtureStatus {
        Active,
        Shutoff,
    }

    #[derive(Serialize, ToSchema)]
    pub struct FixtureIds {
        /// The new servers' ids, in order.
        pub servers: Vec<String>,
    }
}
