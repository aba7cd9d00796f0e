//! Routing as the API gateway does it: on method and path together. A pair no operation
//! serves is an unknown API, a word of the API is never taken for an id, and every operation
//! with a fault kind goes through the request-level fault rules without its handler asking.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_method_a_path_does_not_serve_is_an_unknown_api_not_405() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 1).await;
    for (method, path) in [
        (Method::POST, ecs.v1("/cloudservers/anything-unknown")),
        (Method::DELETE, ecs.v1(&format!("/cloudservers/{}", ids[0]))),
        (Method::GET, ecs.v1("/cloudservers/action")),
        (Method::PATCH, ecs.v1("/cloudservers/detail")),
        (Method::DELETE, "/_ecsd/reset".to_string()),
    ] {
        let (status, body) = ecs.call(method.clone(), &path, Some(json!({}))).await;
        let message = assert_error(status, &body, 404, "Ecs.1000");
        assert_eq!(message, "No API matches this path.", "{method} {path}");
    }
    assert_eq!(ecs.server(&ids[0]).await["name"], "web", "nothing happened to the server");
}

#[tokio::test]
async fn a_word_of_the_api_is_never_taken_for_a_server_id() {
    let ecs = TestServer::start().await;
    for (method, path) in [
        // Served elsewhere with another method.
        (Method::PUT, ecs.v1("/cloudservers/detail")),
        (Method::GET, ecs.v1("/cloudservers/action")),
        (Method::GET, ecs.v1("/cloudservers/delete")),
        (Method::POST, ecs.v1("/cloudservers/flavors/resize")),
        (Method::PUT, ecs.v1("/cloudservers/tags")),
        (Method::PUT, ecs.v1("/cloudservers/os-server-groups")),
        (Method::GET, ecs.v1("/cloudservers/flavor-sell-policies/x")),
        // Paths of the real API not served yet.
        (Method::PUT, ecs.v1("/cloudservers/nics")),
        (Method::GET, ecs.v1("/cloudservers/actions")),
        (Method::GET, format!("/v1.1/{}/cloudservers/detail/resize", ecs.project())),
    ] {
        let body = if method == Method::GET { None } else { Some(json!({"server": {"name": "x"}})) };
        let (status, answer) = ecs.call(method.clone(), &path, body).await;
        assert_error(status, &answer, 404, "Ecs.1000");
    }
    // An id that is no word of the API is still looked up as an id.
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/not-a-word")).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn head_answers_like_get_without_a_body_and_options_is_an_unknown_api() {
    let ecs = TestServer::start().await;
    let head = ecs.call_with_headers(Method::HEAD, &ecs.v1("/cloudservers/flavors"), vec![], &[], None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.headers.contains_key("x-request-id"));
    let (status, body) = ecs.call(Method::OPTIONS, &ecs.v1("/cloudservers/flavors"), None).await;
    assert_error(status, &body, 404, "Ecs.1000");
    let public = reqwest::Client::new().head(format!("{}/", ecs.base)).send().await.expect("HEAD /");
    assert_eq!(public.status(), StatusCode::OK, "HEAD of a public GET needs no credential either");
}

#[tokio::test]
async fn request_level_faults_reach_each_operation_of_a_shared_route_by_its_body() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 2).await;
    let rule = json!({"operation": "stop", "effect": {"kind": "http_error", "status": 503, "code": "Common.1503"}});
    let (status, body) = ecs.post("/_ecsd/faults", rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let servers = json!({"servers": server_ids(&ids)});
    let (status, body) = ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": servers})).await;
    assert_error(status, &body, 503, "Common.1503");
    // A reboot on the same path is another operation: the rule does not fire.
    let (status, body) = ecs
        .post(&ecs.v1("/cloudservers/action"), json!({"reboot": {"type": "SOFT", "servers": server_ids(&ids)}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A body naming no action, or two, is the handler's to refuse: no fault, a 400.
    let (status, body) = ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": servers, "reboot": {}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn every_operation_with_a_fault_kind_goes_through_the_fault_gate() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 1).await;
    let rule = json!({"operation": "any", "effect": {"kind": "http_error", "status": 500, "code": "Common.0500"}});
    let (status, body) = ecs.post("/_ecsd/faults", rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let server = format!("/cloudservers/{}", ids[0]);
    let one = json!({"servers": server_ids(&ids)});
    let gated = [
        (Method::POST, ecs.v1("/cloudservers"), create_body("x", "s6.small.1", 1)),
        (Method::POST, format!("/v1.1/{}/cloudservers", ecs.project()), create_body("x", "s6.small.1", 1)),
        (Method::POST, ecs.v1("/cloudservers/action"), json!({"os-start": one})),
        (Method::POST, ecs.v1("/cloudservers/delete"), one.clone()),
        (
            Method::PUT,
            ecs.v1("/cloudservers/os-reset-passwords"),
            json!({"new_password": "Test@123456", "servers": server_ids(&ids)}),
        ),
        (Method::PUT, ecs.v1("/cloudservers/server-name"), json!({"name": "y", "servers": server_ids(&ids)})),
        (
            Method::POST,
            ecs.v1("/cloudservers/batch-resize"),
            json!({"resize": {"flavorRef": "s6.medium.2", "servers": server_ids(&ids)}}),
        ),
        (Method::PUT, ecs.v1(&server), json!({"server": {"name": "y"}})),
        (Method::POST, ecs.v1(&format!("{server}/resize")), json!({"resize": {"flavorRef": "s6.medium.2"}})),
        (
            Method::POST,
            format!("/v1.1/{}{server}/resize", ecs.project()),
            json!({"resize": {"flavorRef": "s6.medium.2"}}),
        ),
        (
            Method::PUT,
            ecs.v1(&format!("{server}/os-reset-password")),
            json!({"reset-password": {"new_password": "Test@123456"}}),
        ),
    ];
    for (method, path, body) in gated {
        let (status, answer) = ecs.call(method.clone(), &path, Some(body)).await;
        assert_error(status, &answer, 500, "Common.0500");
    }
    // Reads have no fault kind.
    assert_eq!(ecs.server(&ids[0]).await["name"], "web");
}
