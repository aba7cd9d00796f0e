//! Metadata of servers: UpdateServerMetadata, DeleteServerMetadata, ShowMetadataOptions,
//! UpdateMetadataOptions.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn update(ecs: &TestServer, id: &str, metadata: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{id}/metadata")), json!({ "metadata": metadata })).await
}

async fn delete_key(ecs: &TestServer, id: &str, key: &str) -> (StatusCode, Value) {
    ecs.call(Method::DELETE, &ecs.v1(&format!("/cloudservers/{id}/metadata/{key}")), None).await
}

#[tokio::test]
async fn an_update_merges_and_the_server_document_shows_it_beside_the_system_keys() {
    let ecs = TestServer::start().await;
    let mut body = create_body("meta", "s6.small.1", 1);
    body["server"]["metadata"] = json!({"owner": "team-a"});
    let id = ecs.create_from(body).await.remove(0);
    let (status, answer) = update(&ecs, &id, json!({"owner": "team-b", "app:tier": "web.1"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, json!({"metadata": {"owner": "team-b", "app:tier": "web.1"}}));
    let (status, answer) = update(&ecs, &id, json!({})).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"metadata": {"owner": "team-b", "app:tier": "web.1"}})));
    let shown = ecs.server(&id).await["metadata"].clone();
    assert_eq!(shown["owner"], "team-b");
    assert_eq!(shown["app:tier"], "web.1");
    assert_eq!(shown["charging_mode"], "0", "system keys stay");
    // The v1 list shows the same metadata.
    let listed = ecs.all_servers().await;
    assert_eq!(listed[0]["metadata"], shown);
    // Deleting a key, then a key the server does not have.
    let (status, _) = delete_key(&ecs, &id, "owner").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = delete_key(&ecs, &id, "owner").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, answer) = update(&ecs, &id, json!({})).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"metadata": {"app:tier": "web.1"}})));
    // A percent-encoded key (the SDK encodes the path) is decoded.
    update(&ecs, &id, json!({"a.b": "1"})).await;
    let (status, _) = delete_key(&ecs, &id, "a%2Eb").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(ecs.server(&id).await["metadata"].get("a.b").is_none());
}

#[tokio::test]
async fn invalid_and_reserved_keys_and_too_many_items_are_refused_and_change_nothing() {
    let ecs = TestServer::start_with_toml("[quota]\nmax_server_meta = 3\n").await;
    let id = ecs.create_servers("strict", "s6.small.1", 1).await.remove(0);
    for bad in [
        json!({"": "v"}),
        json!({"with space": "v"}),
        Value::Object([("k".repeat(256), json!("v"))].into_iter().collect()),
        json!({"k": "v".repeat(256)}),
        json!({"charging_mode": "1"}),
        json!({"__support_agent_list": "hss"}),
        json!({"a": "1", "b": "2", "c": "3", "d": "4"}),
    ] {
        let (status, body) = update(&ecs, &id, bad).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    let (status, body) =
        ecs.post(&ecs.v1(&format!("/cloudservers/{id}/metadata")), json!({"metadata": {"k": 1}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post(&ecs.v1(&format!("/cloudservers/{id}/metadata")), json!({})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = delete_key(&ecs, &id, "os_type").await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (_, answer) = update(&ecs, &id, json!({})).await;
    assert_eq!(answer, json!({"metadata": {}}));
    let (status, body) = update(&ecs, &uuid::Uuid::new_v4().to_string(), json!({"a": "b"})).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn metadata_needs_an_idle_running_or_stopped_unlocked_server() {
    let ecs = TestServer::start_with_timings(slow(true, false, false)).await;
    let (status, created) = ecs.post(&ecs.v1("/cloudservers"), create_body("building", "s6.small.1", 1)).await;
    assert_eq!(status, StatusCode::OK);
    let building = created["serverIds"][0].as_str().expect("id").to_string();
    // A server being built is busy.
    let (status, body) = update(&ecs, &building, json!({"a": "b"})).await;
    assert_error(status, &body, 400, "Ecs.0603");
    let (status, body) = delete_key(&ecs, &building, "a").await;
    assert_error(status, &body, 400, "Ecs.0603");
    let (status, body) = ecs
        .put(&ecs.v1(&format!("/cloudservers/{building}/metadata-options")), json!({"http_tokens": "required"}))
        .await;
    assert_error(status, &body, 400, "Ecs.0603");

    let (status, loaded) = ecs.post("/_ecsd/fixtures", json!({"servers": [{"name": "locked", "locked": true}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let locked = loaded["servers"][0].as_str().expect("id");
    let (status, body) = update(&ecs, locked, json!({"a": "b"})).await;
    assert_error(status, &body, 400, "Ecs.0605");
}

#[tokio::test]
async fn metadata_options_default_then_change_one_at_a_time() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("imds", "s6.small.1", 1).await.remove(0);
    let path = ecs.v1(&format!("/cloudservers/{id}/metadata-options"));
    let (status, options) = ecs.get(&path).await;
    assert_eq!((status, options), (StatusCode::OK, json!({"http_endpoint": "enabled", "http_tokens": "optional"})));
    let (status, body) = ecs.put(&path, json!({"http_tokens": "required"})).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = ecs.put(&path, json!({"http_endpoint": "disabled"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, options) = ecs.get(&path).await;
    assert_eq!(options, json!({"http_endpoint": "disabled", "http_tokens": "required"}));
    for bad in [json!({"http_tokens": "sometimes"}), json!({"http_endpoint": true})] {
        let (status, body) = ecs.put(&path, bad).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    let (_, options) = ecs.get(&path).await;
    assert_eq!(options, json!({"http_endpoint": "disabled", "http_tokens": "required"}), "refusals changed nothing");
    // A field ecsd does not know (the hop limit of other clouds) is ignored.
    let (status, _) = ecs.put(&path, json!({"http_put_response_hop_limit": 2})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // At create, the options are the request's.
    let mut body = create_body("imds2", "s6.small.1", 1);
    body["server"]["metadata_options"] = json!({"http_tokens": "required"});
    let other = ecs.create_from(body).await.remove(0);
    let (_, options) = ecs.get(&ecs.v1(&format!("/cloudservers/{other}/metadata-options"))).await;
    assert_eq!(options, json!({"http_endpoint": "enabled", "http_tokens": "required"}));
}

#[tokio::test]
async fn metadata_survives_a_restart_and_another_project_cannot_see_it() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let id = ecs.create_servers("keep", "s6.small.1", 1).await.remove(0);
    update(&ecs, &id, json!({"owner": "ops"})).await;
    ecs.put(&ecs.v1(&format!("/cloudservers/{id}/metadata-options")), json!({"http_tokens": "required"})).await;
    ecs.credential = other_credential();
    let (status, body) = update(&ecs, &id, json!({"owner": "thief"})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/metadata-options"))).await;
    assert_error(status, &body, 404, "Ecs.0114");
    ecs.credential = test_credential();
    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    assert_eq!(ecs.server(&id).await["metadata"]["owner"], "ops");
    let (_, options) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/metadata-options"))).await;
    assert_eq!(options["http_tokens"], "required");
}

#[tokio::test]
async fn request_faults_reach_metadata_updates() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("faulty", "s6.small.1", 1).await.remove(0);
    let rule = json!({"operation": "metadata", "count": 1, "effect": {"kind": "http_error", "status": 500, "code": "Common.0001"}});
    let (status, _) = ecs.post("/_ecsd/faults", rule).await;
    assert!(status.is_success());
    let (status, body) = update(&ecs, &id, json!({"a": "b"})).await;
    assert_error(status, &body, 500, "Common.0001");
    let (status, _) = update(&ecs, &id, json!({"a": "b"})).await;
    assert_eq!(status, StatusCode::OK);
}
