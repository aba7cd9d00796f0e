//! The operation table. Every operation ecsd serves is declared once, as a [`Row`] of its API's
//! table (`ecs::operations()`, `iam::operations()`, ...): a handler with its `#[utoipa::path]`
//! annotation, which gives the method, the path, the SDK operation name (`operationId`) and
//! the documentation, plus what the layers around the handlers need to know of it.
//!
//! From the rows come the axum router, the OpenAPI document, and [`dispatch`]: the one layer
//! that names the operation of every routed request (for its log line), answers 404 when
//! a word of the API stands where an id belongs, and applies the request-level fault rules.
//! A handler never does any of that itself.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use utoipa::openapi::path::{HttpMethod, PathItem, Paths};
use utoipa::openapi::{RefOr, schema::Schema};

use super::error::{ApiError, unknown_path};
use super::{ApiState, MAX_BODY_BYTES, RequestLog};
use crate::domain::faults::FaultOperation;
use crate::iam::Caller;
use crate::service::{Ecs, RequestFault};

/// What `utoipa_axum::routes!(handler)` gives: the schemas the handler's annotation refers to,
/// its documented path, and the method router serving it.
pub type Routed = (Schemas, Paths, MethodRouter<ApiState>);

/// Named schemas, as the document's components list them.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// One SDK operation, as the layers around its handler see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The SDK's name of the operation (`BatchStopServers`), for logs.
    pub name: String,
    /// The operation request-level fault rules (`http_error`, `delay`) match, if any.
    pub fault: Option<FaultOperation>,
    /// The shape its API gives an error.
    pub errors: ErrorShape,
}

/// The error bodies of the APIs whose operations request-level faults can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    Ecs,
    Vpc,
    Neutron,
    Cinder,
}

impl ErrorShape {
    fn render(self, error: crate::domain::Error) -> Response {
        match self {
            ErrorShape::Ecs => ApiError(error).into_response(),
            ErrorShape::Vpc => super::vpc::VpcError(error).into_response(),
            ErrorShape::Neutron => super::neutron::render(error),
            ErrorShape::Cinder => super::cinder::render(error),
        }
    }
}

/// How one of the operations sharing a route is told from the others by its JSON body, as the
/// API does (`{"os-stop": {...}}` on `.../cloudservers/action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMark {
    /// The body has this top-level key.
    Key(&'static str),
    /// The body's top-level field has this string value (`{"action": "create"}`).
    Field(&'static str, &'static str),
    /// The body's object has this field, a non-empty string (`{"nic": {"ip_address": "..."}}`).
    Filled(&'static str, &'static str),
    /// The reverse of [`BodyMark::Filled`]: the object or its field is absent, or not a
    /// non-empty string.
    Blank(&'static str, &'static str),
}

impl BodyMark {
    fn matches(self, body: &serde_json::Map<String, serde_json::Value>) -> bool {
        match self {
            BodyMark::Key(key) => body.contains_key(key),
            BodyMark::Field(name, value) => body.get(name).and_then(|v| v.as_str()) == Some(value),
            BodyMark::Filled(object, field) => filled(body, object, field),
            BodyMark::Blank(object, field) => !filled(body, object, field),
        }
    }
}

fn filled(body: &serde_json::Map<String, serde_json::Value>, object: &str, field: &str) -> bool {
    body.get(object).and_then(|o| o.get(field)).and_then(|v| v.as_str()).is_some_and(|text| !text.is_empty())
}

enum Operations {
    /// One operation, named by the annotation's `operationId`.
    One { fault: Option<FaultOperation> },
    /// Several SDK operations served by one handler, told apart by the body.
    ByBody(Vec<(BodyMark, Operation)>),
}

/// A row of an operation table.
pub struct Row {
    routed: Routed,
    operations: Operations,
    errors: ErrorShape,
}

impl Row {
    /// A handler serving one SDK operation, named after its annotation's `operationId`.
    pub fn new(routed: Routed) -> Self {
        Row { routed, operations: Operations::One { fault: None }, errors: ErrorShape::Ecs }
    }

    /// The operation's API answers errors in the VPC shape.
    pub fn vpc(mut self) -> Self {
        self.errors = ErrorShape::Vpc;
        self
    }

    /// The operation's API answers errors in Neutron's shape.
    pub fn neutron(mut self) -> Self {
        self.errors = ErrorShape::Neutron;
        self
    }

    /// The operation's API answers errors in Cinder's shape.
    pub fn cinder(mut self) -> Self {
        self.errors = ErrorShape::Cinder;
        self
    }

    /// Request-level fault rules of this kind apply to the operation.
    pub fn fault(mut self, fault: FaultOperation) -> Self {
        if let Operations::One { fault: slot } = &mut self.operations {
            *slot = Some(fault);
        }
        self
    }

    /// A handler serving several SDK operations, each recognised by its body.
    pub fn by_body(
        routed: Routed,
        operations: impl IntoIterator<Item = (BodyMark, &'static str, FaultOperation)>,
    ) -> Self {
        let operations = operations
            .into_iter()
            .map(|(mark, name, fault)| {
                (mark, Operation { name: name.to_string(), fault: Some(fault), errors: ErrorShape::Ecs })
            })
            .collect();
        Row { routed, operations: Operations::ByBody(operations), errors: ErrorShape::Ecs }
    }
}

/// The documented (method, path) pairs of a path item.
fn methods(item: &PathItem) -> Vec<(Method, &utoipa::openapi::path::Operation)> {
    [
        (Method::GET, &item.get),
        (Method::PUT, &item.put),
        (Method::POST, &item.post),
        (Method::DELETE, &item.delete),
        (Method::PATCH, &item.patch),
        (Method::HEAD, &item.head),
        (Method::OPTIONS, &item.options),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|operation| (method, operation)))
    .collect()
}

/// Whether an operation is documented as callable without a credential (`security(())`).
pub fn needs_no_credential(operation: &utoipa::openapi::path::Operation) -> bool {
    operation.security.as_ref().is_some_and(|requirements| requirements.iter().all(|r| *r == Default::default()))
}

/// What [`dispatch`] knows of one route and method.
struct Route {
    choice: Choice,
    /// For each path parameter, by segment index: the words of the API at that place, which
    /// never stand for an id.
    reserved: Vec<(usize, BTreeSet<String>)>,
}

enum Choice {
    One(Operation),
    ByBody(Vec<(BodyMark, Operation)>),
}

/// Every routed operation, by path template and method.
pub struct Table {
    routes: HashMap<String, HashMap<Method, Route>>,
    /// The operations documented as needing no credential (`security(())`); none has a
    /// parameter in its path, so they are looked up by the request's own path.
    public: HashMap<String, Vec<Method>>,
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Whether two paths agree on their first `n` segments, any parameter matching any other.
fn same_prefix(a: &[&str], b: &[&str], n: usize) -> bool {
    a.len() >= n && b.len() >= n && a[..n].iter().zip(&b[..n]).all(|(x, y)| x == y || (is_param(x) && is_param(y)))
}

impl Table {
    /// `unserved` lists paths of the real API that ecsd does not serve yet: their words are
    /// reserved like those of served paths, so they are never read as an id.
    pub fn new(rows: &[Row], unserved: &[&str]) -> Self {
        let templates: Vec<String> = rows
            .iter()
            .flat_map(|row| row.routed.1.paths.keys().cloned())
            .chain(unserved.iter().map(|path| path.to_string()))
            .collect();
        let mut routes: HashMap<String, HashMap<Method, Route>> = HashMap::new();
        let mut public: HashMap<String, Vec<Method>> = HashMap::new();
        for row in rows {
            for (path, item) in &row.routed.1.paths {
                let own = segments(path);
                let reserved = own
                    .iter()
                    .enumerate()
                    .filter(|(_, segment)| is_param(segment))
                    .map(|(index, _)| {
                        let words = templates
                            .iter()
                            .map(|other| segments(other))
                            .filter(|other| same_prefix(&own, other, index))
                            .filter_map(|other| other.get(index).filter(|s| !is_param(s)).map(|s| s.to_string()))
                            .collect();
                        (index, words)
                    })
                    .collect::<Vec<_>>();
                for (method, documented) in methods(item) {
                    if needs_no_credential(documented) {
                        public.entry(path.clone()).or_default().push(method.clone());
                    }
                    let choice = match &row.operations {
                        Operations::One { fault } => Choice::One(Operation {
                            name: documented.operation_id.clone().unwrap_or_else(|| path.clone()),
                            fault: *fault,
                            errors: row.errors,
                        }),
                        Operations::ByBody(operations) => Choice::ByBody(operations.clone()),
                    };
                    routes
                        .entry(path.clone())
                        .or_default()
                        .insert(method, Route { choice, reserved: reserved.clone() });
                }
            }
        }
        Table { routes, public }
    }

    /// Whether anyone may call this method and path, without a credential.
    pub fn is_public(&self, method: &Method, path: &str) -> bool {
        let method = if method == Method::HEAD { &Method::GET } else { method };
        self.public.get(path).is_some_and(|methods| methods.contains(method))
    }

    fn route(&self, template: &str, method: &Method) -> Option<&Route> {
        // HEAD is served by the GET handler (axum answers it without a body).
        let method = if method == Method::HEAD { &Method::GET } else { method };
        self.routes.get(template)?.get(method)
    }

    /// Every (method, path template) the table routes, for tests and the OpenAPI check.
    pub fn operations(&self) -> Vec<(Method, &str, Vec<&Operation>)> {
        let mut all: Vec<_> = self
            .routes
            .iter()
            .flat_map(|(path, methods)| {
                methods.iter().map(|(method, route)| {
                    let operations = match &route.choice {
                        Choice::One(operation) => vec![operation],
                        Choice::ByBody(operations) => operations.iter().map(|(_, operation)| operation).collect(),
                    };
                    (method.clone(), path.as_str(), operations)
                })
            })
            .collect();
        all.sort_by(|a, b| (a.1, a.0.as_str()).cmp(&(b.1, b.0.as_str())));
        all
    }
}

impl Route {
    /// Whether a word of the API stands where this route has a parameter (`.../cloudservers/tags`
    /// taken for a server id), which the gateway would never route here.
    fn takes_a_word_for_an_id(&self, path: &str) -> bool {
        let given = segments(path);
        self.reserved.iter().any(|(index, words)| given.get(*index).is_some_and(|segment| words.contains(*segment)))
    }
}

/// The operation a request was routed to, for the layers and handlers after [`dispatch`].
#[derive(Debug, Clone)]
pub struct Current(pub &'static Operation);

/// The layer around every routed handler; see the module documentation.
pub async fn dispatch(
    State((ecs, table)): State<(Arc<Ecs>, &'static Table)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(template) = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()) else {
        return next.run(request).await;
    };
    let Some(route) = table.route(&template, request.method()) else {
        return next.run(request).await;
    };
    if route.takes_a_word_for_an_id(request.uri().path()) {
        return unknown_path().await.into_response();
    }
    let (operation, mut request) = match &route.choice {
        Choice::One(operation) => (Some(operation), request),
        Choice::ByBody(operations) => {
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
                return ApiError::body_too_large().into_response();
            };
            let marked =
                serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).ok().and_then(|map| {
                    let mut found = operations.iter().filter(|(mark, _)| mark.matches(&map));
                    // Exactly one mark: a body with none or several is the handler's to refuse.
                    match (found.next(), found.next()) {
                        (Some((_, operation)), None) => Some(operation),
                        _ => None,
                    }
                });
            (marked, Request::from_parts(parts, Body::from(bytes)))
        }
    };
    let Some(operation) = operation else {
        return next.run(request).await;
    };
    request.extensions_mut().insert(Current(operation));
    let (caller, in_path) = projects(&mut request).await;
    if let Some(log) = request.extensions().get::<RequestLog>() {
        log.operation(&operation.name, caller.clone().or(in_path.clone()));
    }
    if let Some(fault) = operation.fault
        && let Some(project_id) = fault_project(caller, in_path)
    {
        match request_fault(&ecs, project_id, fault).await {
            Ok(None) => {}
            Ok(Some(RequestFault::Delay(pause))) => tokio::time::sleep(pause).await,
            Ok(Some(RequestFault::Fail(error))) => return operation.errors.render(error),
            Err(error) => return error.into_response(),
        }
    }
    next.run(request).await
}

/// The caller's project, and the project the path names. Who calls and the server the path
/// names are noted for the call's record.
async fn projects(request: &mut Request) -> (Option<String>, Option<String>) {
    let (mut parts, body) = std::mem::take(request).into_parts();
    let params = RawPathParams::from_request_parts(&mut parts, &()).await.ok();
    let param = |wanted: &str| {
        params.as_ref().and_then(|params| params.iter().find(|(name, _)| *name == wanted).map(|(_, v)| v.to_string()))
    };
    let in_path = param("project_id");
    let server = param("server_id");
    let caller = parts.extensions.get::<Caller>();
    super::note_call(|call| {
        if let Some(caller) = caller {
            call.caller(&caller.principal);
        }
        if let Some(server) = &server {
            call.server(server);
        }
    });
    let caller = caller.map(|caller| caller.project_id.clone());
    *request = Request::from_parts(parts, body);
    (caller, in_path)
}

/// The project whose fault rules apply: the caller's, or with authentication off the path's.
/// `None` when the path names another project than the caller's: the handler refuses that.
fn fault_project(caller: Option<String>, in_path: Option<String>) -> Option<String> {
    match (caller, in_path) {
        (Some(caller), Some(path)) if caller != path => None,
        (Some(caller), _) => Some(caller),
        (None, path) => path,
    }
}

async fn request_fault(
    ecs: &Arc<Ecs>,
    project_id: String,
    fault: FaultOperation,
) -> Result<Option<RequestFault>, ApiError> {
    let ecs = Arc::clone(ecs);
    let span = tracing::Span::current();
    let current = super::CALL.try_with(Arc::clone).ok();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| match current {
            Some(current) => current.within(|| ecs.request_fault(&project_id, fault)),
            None => ecs.request_fault(&project_id, fault),
        })
    })
    .await
    .map_err(|e| ApiError(crate::domain::Error::internal(e)))?
    .map_err(ApiError)
}

/// The router serving the rows, their documented paths, and the schemas those refer to.
pub fn assemble(rows: Vec<Row>) -> (axum::Router<ApiState>, Paths, Schemas) {
    let mut paths = Paths::new();
    let mut schemas = Vec::new();
    let mut router = axum::Router::new();
    for row in rows {
        let (row_schemas, row_paths, method_router) = row.routed;
        for (path, item) in row_paths.paths {
            router = router.route(&path, method_router.clone());
            for (method, operation) in methods(&item) {
                paths.add_path_operation(&path, vec![http_method(&method)], operation.clone());
            }
        }
        schemas.extend(row_schemas);
    }
    (router, paths, schemas)
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::PUT => HttpMethod::Put,
        Method::POST => HttpMethod::Post,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        _ => HttpMethod::Get,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_other_paths_at_a_parameter_are_reserved() {
        let own = segments("/v1/{project_id}/cloudservers/{server_id}");
        let other = segments("/v1/{project_id}/cloudservers/detail");
        assert!(same_prefix(&own, &other, 3));
        assert!(!same_prefix(&own, &segments("/v2/{project_id}/cloudservers/detail"), 3));
        assert!(is_param("{server_id}") && !is_param("detail"));
    }

    #[test]
    fn a_body_mark_matches_a_key_or_a_field_value() {
        let body: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"os-stop": {}, "action": "create"}"#).expect("json");
        assert!(BodyMark::Key("os-stop").matches(&body));
        assert!(!BodyMark::Key("os-start").matches(&body));
        assert!(BodyMark::Field("action", "create").matches(&body));
        assert!(!BodyMark::Field("action", "delete").matches(&body));
    }
}
