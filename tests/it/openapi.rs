//! The OpenAPI document: it covers every route the router serves (and nothing else), the
//! server serves exactly what the code generates, and `docs/openapi.json` is that same text.
//!
//! After changing the API, regenerate the committed copy with
//! `ECSD_WRITE_OPENAPI=1 cargo test --test it openapi`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs").join("openapi.json")
}

fn generated() -> String {
    ecsd::api::openapi::document().to_pretty_json().expect("the document serialises")
}

/// (method, path) of every operation in the document.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("path item");
        for method in item.keys().filter(|m| METHODS.contains(&m.as_str())) {
            operations.insert((method.clone(), path.clone()));
        }
    }
    operations
}

/// A concrete URL path for a route: the test project, and plausible values for other params.
fn concrete(path: &str, project: &str) -> String {
    path.replace("{project_id}", project)
        .replace("{server_id}", "6a1e3c9d-0b7f-4e2a-9c5d-8f1b2a3c4d5e")
        .replace("{job_id}", "0123456789abcdef0123456789abcdef")
        .replace("{id}", "0123456789abcdef0123456789abcdef")
        .replace("{name}", "no-such-snapshot")
}

#[test]
fn the_committed_document_is_what_the_code_generates() {
    let generated = generated();
    let path = committed_path();
    if std::env::var_os("ECSD_WRITE_OPENAPI").is_some_and(|v| v != "0") {
        std::fs::write(&path, format!("{generated}\n")).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/openapi.json differs from the document the code generates; regenerate it with \
         `ECSD_WRITE_OPENAPI=1 cargo test --test it openapi` and commit the result"
    );
}

#[test]
fn the_document_is_openapi_3_with_unique_operation_ids_and_both_security_schemes() {
    let document: Value = serde_json::from_str(&generated()).expect("JSON");
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", document["openapi"]);
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["aksk"]["in"], "header");
    assert_eq!(schemes["aksk"]["name"], "Authorization");
    assert_eq!(schemes["token"]["name"], "X-Auth-Token");
    let mut ids = BTreeSet::new();
    for (method, path) in documented_operations(&document) {
        let operation = &document["paths"][&path][&method];
        let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(responses.keys().any(|status| status.starts_with('2')), "{method} {path} documents no success answer");
        assert!(responses.contains_key("500"), "{method} {path} documents no 500");
        let public = [
            "/",
            "/openapi.json",
            "/v3/auth/tokens",
            "/v3",
            "/v3/",
            "/v2.1",
            "/v2.1/",
            "/v2",
            "/v2/",
            "/v2.0",
            "/v2.0/",
            "/volume/",
            "/volume/v3",
            "/volume/v3/",
            "/_ecsd/health",
        ]
        .contains(&path.as_str());
        assert_eq!(responses.contains_key("401"), !public || path == "/v3/auth/tokens", "401 of {method} {path}");
        if path.contains("{project_id}") {
            assert!(responses.contains_key("403"), "{method} {path} documents no 403");
        }
    }
}

fn collect_refs<'a>(value: &'a Value, refs: &mut BTreeSet<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                refs.insert(target);
            }
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[test]
fn every_schema_reference_resolves() {
    let document: Value = serde_json::from_str(&generated()).expect("JSON");
    let mut refs = BTreeSet::new();
    collect_refs(&document, &mut refs);
    assert!(!refs.is_empty());
    for target in refs {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{target} is not local"));
        assert!(document.pointer(pointer).is_some(), "{target} does not resolve");
    }
}

/// Every route of the router is documented with every method it serves, every documented
/// operation reaches a handler, and a method a path does not serve is an unknown API (404
/// `Ecs.1000`, as the gateway routes on method and path together).
#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_served() {
    let document: Value = serde_json::from_str(&generated()).expect("JSON");
    let documented = documented_operations(&document);
    let routes: BTreeSet<String> = ecsd::api::route_paths().into_iter().map(String::from).collect();
    let documented_paths: BTreeSet<String> = documented.iter().map(|(_, path)| path.clone()).collect();
    assert_eq!(routes, documented_paths, "the router's paths and the document's paths differ");

    let ecs = TestServer::start().await;
    let mut served = BTreeSet::new();
    for path in &routes {
        for method in METHODS {
            let url = concrete(path, ecs.project());
            let http_method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = if matches!(method, "get" | "delete") { vec![] } else { b"{}".to_vec() };
            // A stream answers for as long as ecsd runs: a resume point that is no id makes it
            // answer at once.
            let headers: &[(&str, &str)] = if path.ends_with("/stream") { &[("last-event-id", "x")] } else { &[] };
            let (status, answer) = ecs.call_raw(http_method, &url, body, headers).await;
            let fallback = answer["error"]["message"] == "No API matches this path.";
            let operation = (method.to_string(), path.clone());
            if documented.contains(&operation) {
                assert!(!fallback, "{method} {url} answered the unknown-path fallback: {answer}");
                served.insert(operation);
            } else {
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {url}: {answer}");
                assert!(fallback && answer["error"]["code"] == "Ecs.1000", "{method} {url}: {answer}");
            }
        }
    }
    assert_eq!(served, documented, "the operations the router serves and the documented ones differ");
}

#[tokio::test]
async fn the_server_serves_the_document_without_credentials() {
    let ecs = TestServer::start().await;
    let response = reqwest::get(format!("{}/openapi.json", ecs.base)).await.expect("GET /openapi.json");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "content type"
    );
    let served = response.text().await.expect("body");
    assert_eq!(served, generated(), "the served document differs from the generated one");
    // The public list is exactly the documented public operations.
    let unsigned = reqwest::get(format!("{}/", ecs.base)).await.expect("GET /");
    assert_eq!(unsigned.status(), StatusCode::OK);
    let refused = reqwest::get(format!("{}/_ecsd/faults", ecs.base)).await.expect("GET /_ecsd/faults");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}
