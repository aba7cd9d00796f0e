//! Nova's server tags (microversion 2.26 and later): the server's ECS tags, each as `key=value`
//! or `key`, with the refusals in Nova's shape.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn call(ecs: &TestServer, method: Method, rest: &str, body: Option<Value>, version: &str) -> Answer {
    nova_call(ecs, method, &nova(ecs, rest), body, version).await
}

#[tokio::test]
async fn tags_are_the_servers_ecs_tags_set_and_read_one_by_one_or_all_at_once() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("tagged", "s6.small.1", 1).await.remove(0);
    let tags = format!("/servers/{id}/tags");

    let listed = call(&ecs, Method::GET, &tags, None, "2.26").await;
    assert_eq!((listed.status, listed.body.clone()), (StatusCode::OK, json!({"tags": []})));
    let replaced = call(&ecs, Method::PUT, &tags, Some(json!({"tags": ["web", "team=blue"]})), "2.26").await;
    assert_eq!((replaced.status, replaced.body.clone()), (StatusCode::OK, json!({"tags": ["web", "team=blue"]})));
    let (status, ecs_tags) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/tags"))).await;
    assert_eq!(status, StatusCode::OK, "{ecs_tags}");
    assert_eq!(ecs_tags["tags"], json!([{"key": "web", "value": ""}, {"key": "team", "value": "blue"}]));
    let shown = call(&ecs, Method::GET, &format!("/servers/{id}"), None, "2.26").await;
    assert_eq!(shown.body["server"]["tags"], json!(["web", "team=blue"]), "{}", shown.body);

    assert_eq!(call(&ecs, Method::GET, &format!("{tags}/web"), None, "2.26").await.status, StatusCode::NO_CONTENT);
    assert_nova_fault(&call(&ecs, Method::GET, &format!("{tags}/db"), None, "2.26").await, 404, "itemNotFound");
    let added = call(&ecs, Method::PUT, &format!("{tags}/db"), None, "2.26").await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert!(added.headers["location"].to_str().is_ok_and(|l| l.ends_with(&format!("/servers/{id}/tags/db"))));
    let again = call(&ecs, Method::PUT, &format!("{tags}/db"), None, "2.26").await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.body);
    let deleted = call(&ecs, Method::DELETE, &format!("{tags}/team=blue"), None, "2.26").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_nova_fault(
        &call(&ecs, Method::DELETE, &format!("{tags}/team=blue"), None, "2.26").await,
        404,
        "itemNotFound",
    );
    assert_eq!(call(&ecs, Method::GET, &tags, None, "2.26").await.body, json!({"tags": ["web", "db"]}));

    let cleared = call(&ecs, Method::DELETE, &tags, None, "2.26").await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT, "{}", cleared.body);
    assert_eq!(call(&ecs, Method::GET, &tags, None, "2.26").await.body, json!({"tags": []}));
}

/// `env=` is the tag `env` (a key with no value), as the server shows it: adding it again is
/// 204, and it is found and deleted by either spelling.
#[tokio::test]
async fn a_tag_with_an_empty_value_is_the_bare_key() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("bare", "s6.small.1", 1).await.remove(0);
    let tags = format!("/servers/{id}/tags");
    assert_eq!(call(&ecs, Method::PUT, &format!("{tags}/env="), None, "2.26").await.status, StatusCode::CREATED);
    assert_eq!(call(&ecs, Method::PUT, &format!("{tags}/env="), None, "2.26").await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&ecs, Method::PUT, &format!("{tags}/env"), None, "2.26").await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&ecs, Method::GET, &format!("{tags}/env="), None, "2.26").await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&ecs, Method::GET, &tags, None, "2.26").await.body, json!({"tags": ["env"]}));
    assert_eq!(call(&ecs, Method::DELETE, &format!("{tags}/env="), None, "2.26").await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&ecs, Method::GET, &tags, None, "2.26").await.body, json!({"tags": []}));
}

#[tokio::test]
async fn tags_need_2_26_and_are_refused_in_novas_shape() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("untagged", "s6.small.1", 1).await.remove(0);
    let tags = format!("/servers/{id}/tags");
    assert_nova_fault(&call(&ecs, Method::GET, &tags, None, "2.25").await, 404, "itemNotFound");
    assert_nova_fault(&call(&ecs, Method::PUT, &format!("{tags}/web"), None, "2.1").await, 404, "itemNotFound");

    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    for body in
        [json!({"tags": ["a/b"]}), json!({"tags": ["k=1", "k=2"]}), json!({"tags": eleven}), json!({"tags": "web"})]
    {
        assert_nova_fault(&call(&ecs, Method::PUT, &tags, Some(body), "2.26").await, 400, "badRequest");
    }
    let long = "x".repeat(37);
    assert_nova_fault(&call(&ecs, Method::PUT, &format!("{tags}/{long}"), None, "2.26").await, 400, "badRequest");
    assert_eq!(call(&ecs, Method::GET, &tags, None, "2.26").await.body, json!({"tags": []}), "nothing changed");
    let missing = "/servers/ffffffff-ffff-4fff-bfff-ffffffffffff/tags";
    assert_nova_fault(&call(&ecs, Method::GET, missing, None, "2.26").await, 404, "itemNotFound");
    assert_nova_fault(&call(&ecs, Method::PUT, &format!("{missing}/web"), None, "2.26").await, 404, "itemNotFound");
}

/// The answers to one request to each of `paths`, all sent at once, in order.
async fn at_once(ecs: &TestServer, method: Method, paths: &[String]) -> Vec<Answer> {
    futures_util::future::join_all(paths.iter().map(|path| call(ecs, method.clone(), path, None, "2.26"))).await
}

/// Whether a tag is new, or there to delete, is told by the transaction that adds or deletes
/// it: of requests racing each other, as many win as the server's tags allow, and no more.
#[tokio::test]
async fn concurrent_adds_and_deletes_are_each_told_what_they_did() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("raced", "s6.small.1", 1).await.remove(0);
    let tags = format!("/servers/{id}/tags");

    let distinct: Vec<String> = (0..16).map(|i| format!("{tags}/t{i}")).collect();
    let answers = at_once(&ecs, Method::PUT, &distinct).await;
    let added: Vec<String> =
        (0..16).filter(|i| answers[*i].status == StatusCode::CREATED).map(|i| format!("t{i}")).collect();
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    assert_eq!(added.len(), 10, "{statuses:?}");
    for refused in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        assert_nova_fault(refused, 400, "badRequest");
    }
    let mut listed: Vec<String> =
        serde_json::from_value(call(&ecs, Method::GET, &tags, None, "2.26").await.body["tags"].clone()).expect("tags");
    listed.sort();
    let mut expected = added.clone();
    expected.sort();
    assert_eq!(listed, expected);

    assert_eq!(call(&ecs, Method::DELETE, &tags, None, "2.26").await.status, StatusCode::NO_CONTENT);
    let same = vec![format!("{tags}/web"); 8];
    let statuses: Vec<StatusCode> = at_once(&ecs, Method::PUT, &same).await.iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count(), 7, "{statuses:?}");
    let answers = at_once(&ecs, Method::DELETE, &same).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count(), 1, "{statuses:?}");
    for missing in answers.iter().filter(|a| a.status != StatusCode::NO_CONTENT) {
        assert_nova_fault(missing, 404, "itemNotFound");
    }
    assert_eq!(call(&ecs, Method::GET, &tags, None, "2.26").await.body, json!({"tags": []}));
}
