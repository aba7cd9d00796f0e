//! The OpenAPI 3.1 document of everything ecsd serves, assembled from the operation tables:
//! each handler's `#[utoipa::path]` annotation and the wire types' `ToSchema` derives. Served
//! at `GET /openapi.json`; `docs/openapi.json` is a committed copy, and a test fails when it
//! differs from what the code generates (regenerate with
//! `ECSD_WRITE_OPENAPI=1 cargo test --test it openapi`).

use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as OpenApiDocument, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::routes;

use super::auth::GatewayError;
use super::error::EcsErrorBody;
use super::iam::IamError;
use super::nova::wire::NovaFault;
use super::operation::{self, Row};

pub fn operations() -> Vec<Row> {
    vec![Row::new(routes!(serve))]
}

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
    let mut document = ApiDoc::openapi();
    let (_, paths, schemas) = operation::assemble(super::rows());
    document.paths = paths;
    let components = document.components.get_or_insert_with(Default::default);
    let mut shared = Vec::new();
    EcsErrorBody::schemas(&mut shared);
    GatewayError::schemas(&mut shared);
    shared.push((EcsErrorBody::name().into_owned(), EcsErrorBody::schema()));
    shared.push((GatewayError::name().into_owned(), GatewayError::schema()));
    IamError::schemas(&mut shared);
    NovaFault::schemas(&mut shared);
    shared.push((IamError::name().into_owned(), IamError::schema()));
    shared.push((NovaFault::name().into_owned(), NovaFault::schema()));
    components.schemas.extend(schemas.into_iter().chain(shared));
    for modifier in [&OptionalBodies as &dyn Modify, &CommonResponses, &Security] {
        modifier.modify(&mut document);
    }
    document
}

/// What the tables do not say: the document's info, tags and security.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ecsd",
        description = "A local emulation of the Huawei Cloud / Open Telekom Cloud Elastic Cloud Server (ECS) API \
(v1 and v1.1), with the IMS, VPC and IAM calls automation needs beside it, and ecsd's own test-control API \
under `/_ecsd/`.\n\n\
Every path but `GET /`, `GET /openapi.json`, `GET /_ecsd/health` and `POST /v3/auth/tokens` needs an AK/SK signature \
(`SDK-HMAC-SHA256`, as the official SDKs sign) or an `X-Auth-Token`. A refused credential answers 401 with the \
API gateway's body `{\"error_msg\",\"error_code\",\"request_id\"}` (`APIG.0301` signature, `APIG.0307` token).\n\n\
Other errors answer the ECS body `{\"error\":{\"code\",\"message\"}}`, with an `internalError` array when a \
batch is refused because of individual servers (`Ecs.0611`). Unknown paths, and methods a path does not \
serve, answer 404 `Ecs.1000`; a body over 12 MiB answers 413 `Ecs.0005`; an empty body where one \
is required answers 400 `Common.0002`. A fault rule (`POST /_ecsd/faults`, effect `http_error`) may make any \
ECS operation answer the status and code it names. See docs/behaviour.md for every choice where the public \
documentation is silent.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
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

/// The error bodies of an API: its own for bad input and failures, and for a refused
/// credential the gateway's, or Keystone's on the OpenStack APIs.
fn error_schemas(path: &str) -> (&'static str, &'static str) {
    if path.starts_with("/v2.1/") {
        ("NovaFault", "IamError")
    } else if path.starts_with("/v2/images") {
        ("GlanceError", "IamError")
    } else if path.starts_with("/v2.0/") {
        ("NeutronErrorBody", "IamError")
    } else if super::auth::openstack_path(path) {
        ("IamError", "IamError")
    } else {
        ("EcsError", "GatewayError")
    }
}

fn add_common_responses(path: &str, operation: &mut Operation) {
    let public = operation::needs_no_credential(operation);
    let responses = &mut operation.responses.responses;
    let (own, refused) = error_schemas(path);
    let mut add = |status: &str, description: &str, schema: &str| {
        let schema = match schema {
            "GatewayError" => refused,
            "EcsError" => own,
            other => other,
        };
        responses.entry(status.to_string()).or_insert_with(|| error_response(description, schema));
    };
    if !public {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Components are keyed by type name alone: two wire types of one name in different
    /// modules would silently document one shape for both.
    #[test]
    fn no_two_schemas_share_a_name() {
        let (_, _, schemas) = operation::assemble(crate::api::rows());
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (name, schema) in schemas {
            let text = serde_json::to_string(&schema).expect("schema serialises");
            if let Some(other) = seen.insert(name.clone(), text.clone()) {
                assert_eq!(other, text, "two different schemas are named {name}");
            }
        }
    }
}
