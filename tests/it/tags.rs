//! Tags of servers: BatchCreateServerTags, BatchDeleteServerTags, ShowServerTags,
//! ListServerTags, ListServersByTag, and the tags given at create.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn tag_action(ecs: &TestServer, id: &str, action: &str, tags: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{id}/tags/action")), json!({"action": action, "tags": tags})).await
}

async fn tags_of(ecs: &TestServer, id: &str) -> Value {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/tags"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["tags"].clone()
}

async fn by_tag(ecs: &TestServer, query: Value) -> Value {
    let (status, body) = ecs.post(&ecs.v1("/cloudservers/resource_instances/action"), query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn ids_of(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["resource_id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[tokio::test]
async fn created_tags_are_shown_replace_values_and_deleted_ones_go() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("tagged", "s6.small.1", 1).await.remove(0);
    let (status, body) =
        tag_action(&ecs, &id, "create", json!([{"key": "env", "value": "dev"}, {"key": "team"}])).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(tags_of(&ecs, &id).await, json!([{"key": "env", "value": "dev"}, {"key": "team", "value": ""}]));
    // The same key again replaces its value; the same tag again changes nothing.
    let (status, _) = tag_action(&ecs, &id, "create", json!([{"key": "env", "value": "prod"}])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = tag_action(&ecs, &id, "create", json!([{"key": "env", "value": "prod"}])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(tags_of(&ecs, &id).await, json!([{"key": "env", "value": "prod"}, {"key": "team", "value": ""}]));
    // The server document and the v1 list filters see the same tags.
    assert_eq!(ecs.server(&id).await["tags"], json!(["env=prod", "team"]));
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/detail?tags=env%3Dprod")).await;
    assert_eq!(listed["count"], 1);
    // Delete: by key, by key and value, and a tag it does not have.
    let (status, _) = tag_action(&ecs, &id, "delete", json!([{"key": "env", "value": "dev"}, {"key": "nope"}])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(tags_of(&ecs, &id).await.as_array().map(Vec::len), Some(2), "a value that differs deletes nothing");
    let (status, _) = tag_action(&ecs, &id, "delete", json!([{"key": "env"}, {"key": "team", "value": ""}])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(tags_of(&ecs, &id).await, json!([]));
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/detail?tags=env")).await;
    assert_eq!(listed["count"], 0);
}

#[tokio::test]
async fn tags_given_at_create_are_the_same_tags() {
    let ecs = TestServer::start().await;
    let mut body = create_body("born", "s6.small.1", 1);
    body["server"]["server_tags"] = json!([{"key": "env", "value": "prod"}]);
    body["server"]["tags"] = json!(["tier.web"]);
    let id = ecs.create_from(body).await.remove(0);
    assert_eq!(tags_of(&ecs, &id).await, json!([{"key": "tier", "value": "web"}, {"key": "env", "value": "prod"}]));
    let (_, tags) = ecs.get(&ecs.v1("/cloudservers/tags")).await;
    assert_eq!(tags, json!({"tags": [{"key": "env", "values": ["prod"]}, {"key": "tier", "values": ["web"]}]}));
}

#[tokio::test]
async fn tag_refusals_have_their_codes_and_change_nothing() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("strict", "s6.small.1", 1).await.remove(0);
    let nine: Vec<Value> = (0..9).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
    let (status, _) = tag_action(&ecs, &id, "create", json!(nine)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = tag_action(&ecs, &id, "create", json!([{"key": "a"}, {"key": "b"}])).await;
    assert_error(status, &body, 400, "Ecs.0905");
    for bad in
        [json!({"key": ""}), json!({"key": "k".repeat(37)}), json!({"key": "a b"}), json!({"key": "k", "value": "v=1"})]
    {
        let (status, body) = tag_action(&ecs, &id, "create", json!([bad])).await;
        assert_error(status, &body, 400, "Ecs.0906");
    }
    let (status, body) = tag_action(&ecs, &id, "create", json!([{"key": "x", "value": "1"}, {"key": "x"}])).await;
    assert_error(status, &body, 400, "Ecs.0908");
    let (status, body) = tag_action(&ecs, &id, "delete", json!([{"key": "k1"}, {"key": "k1"}])).await;
    assert_error(status, &body, 400, "Ecs.0908");
    for action in ["CREATE", "update"] {
        let (status, body) = tag_action(&ecs, &id, action, json!([{"key": "x"}])).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    assert_eq!(tags_of(&ecs, &id).await.as_array().map(Vec::len), Some(9), "nothing changed");
    let (status, body) = tag_action(&ecs, &uuid::Uuid::new_v4().to_string(), "create", json!([{"key": "x"}])).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn another_projects_server_and_tags_are_not_found_and_not_listed() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let mine = ecs.create_servers("mine", "s6.small.1", 1).await.remove(0);
    let (status, _) = tag_action(&ecs, &mine, "create", json!([{"key": "secret", "value": "a"}])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    ecs.credential = other_credential();
    let (status, body) = tag_action(&ecs, &mine, "create", json!([{"key": "x"}])).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{mine}/tags"))).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (_, tags) = ecs.get(&ecs.v1("/cloudservers/tags")).await;
    assert_eq!(tags, json!({"tags": []}));
    assert_eq!(by_tag(&ecs, json!({"action": "count", "tags": [{"key": "secret"}]})).await, json!({"total_count": 0}));
}

#[tokio::test]
async fn servers_are_found_by_every_filter_form_with_paging_and_counts() {
    let ecs = TestServer::start().await;
    let web = ecs.create_servers("web", "s6.small.1", 3).await;
    let db = ecs.create_servers("db", "s6.small.1", 2).await;
    let bare = ecs.create_servers("bare", "s6.small.1", 1).await;
    for id in &web {
        tag_action(&ecs, id, "create", json!([{"key": "tier", "value": "web"}, {"key": "env", "value": "prod"}])).await;
    }
    tag_action(&ecs, &db[0], "create", json!([{"key": "tier", "value": "db"}, {"key": "env", "value": "prod"}])).await;
    tag_action(&ecs, &db[1], "create", json!([{"key": "tier", "value": "db"}, {"key": "env", "value": "dev"}])).await;
    let all: Vec<String> = web.iter().chain(&db).chain(&bare).cloned().collect();

    let q = |extra: Value| {
        let mut query = json!({"action": "filter"});
        if let (Some(q), Some(e)) = (query.as_object_mut(), extra.as_object()) {
            q.extend(e.clone());
        }
        query
    };
    let found = by_tag(&ecs, q(json!({"tags": [{"key": "tier", "values": ["web"]}]}))).await;
    assert_eq!(ids_of(&found), sorted(&web));
    assert_eq!(found["total_count"], 3);
    // Values of one key are ORed, keys ANDed.
    let found = by_tag(
        &ecs,
        q(json!({"tags": [{"key": "tier", "values": ["web", "db"]}, {"key": "env", "values": ["prod"]}]})),
    )
    .await;
    assert_eq!(ids_of(&found), sorted(&[web.clone(), vec![db[0].clone()]].concat()));
    // No values: any value of the key.
    let found = by_tag(&ecs, q(json!({"tags": [{"key": "tier"}]}))).await;
    assert_eq!(found["total_count"], 5);
    let found =
        by_tag(&ecs, q(json!({"tags_any": [{"key": "env", "values": ["dev"]}, {"key": "tier", "values": ["web"]}]})))
            .await;
    assert_eq!(ids_of(&found), sorted(&[web.clone(), vec![db[1].clone()]].concat()));
    // not_tags: not all of them; not_tags_any: none of them.
    let found =
        by_tag(&ecs, q(json!({"not_tags": [{"key": "tier", "values": ["db"]}, {"key": "env", "values": ["prod"]}]})))
            .await;
    assert_eq!(ids_of(&found), sorted(&[web.clone(), vec![db[1].clone()], bare.clone()].concat()));
    let found = by_tag(
        &ecs,
        q(json!({"not_tags_any": [{"key": "env", "values": ["dev"]}, {"key": "tier", "values": ["web"]}]})),
    )
    .await;
    assert_eq!(ids_of(&found), sorted(&[vec![db[0].clone()], bare.clone()].concat()));
    let found = by_tag(&ecs, q(json!({"matches": [{"key": "resource_name", "value": "db-"}]}))).await;
    assert_eq!(ids_of(&found), sorted(&db));
    // Every resource carries its tags and name; an empty query finds every server.
    let found = by_tag(&ecs, q(json!({}))).await;
    assert_eq!(ids_of(&found), sorted(&all));
    let resource =
        found["resources"].as_array().expect("resources").iter().find(|r| r["resource_id"] == db[1].as_str()).cloned();
    assert_eq!(
        resource,
        Some(json!({"resource_id": db[1], "resource_detail": null, "resource_name": "db-0001",
                    "tags": [{"key": "tier", "value": "db"}, {"key": "env", "value": "dev"}]}))
    );
    // Paging by item index over the list's order; count ignores limit and offset.
    let mut paged = Vec::new();
    for offset in [0, 2, 4] {
        let page = by_tag(&ecs, q(json!({"limit": "2", "offset": offset.to_string()}))).await;
        assert_eq!(page["total_count"], 6);
        paged.extend(ids_of(&page));
    }
    assert_eq!(sorted(&paged), sorted(&all));
    let zero = by_tag(&ecs, q(json!({"limit": "0"}))).await;
    assert_eq!(zero, json!({"resources": [], "total_count": 6}));
    let count = by_tag(&ecs, json!({"action": "count", "limit": "1", "tags": [{"key": "env"}]})).await;
    assert_eq!(count, json!({"total_count": 5}));
    // The path of the OTC reference answers the same.
    let (status, otc) = ecs
        .post(&ecs.v1("/servers/resource_instances/action"), json!({"action": "count", "tags": [{"key": "env"}]}))
        .await;
    assert_eq!((status, otc), (StatusCode::OK, json!({"total_count": 5})));
}

#[tokio::test]
async fn malformed_queries_by_tag_are_ecs_0005() {
    let ecs = TestServer::start().await;
    let eleven: Vec<Value> = (0..11).map(|i| json!({"key": format!("k{i}")})).collect();
    for query in [
        json!({"action": "list"}),
        json!({"tags": []}),
        json!({"action": "filter", "limit": "1001"}),
        json!({"action": "filter", "limit": "-1"}),
        json!({"action": "filter", "offset": "x"}),
        json!({"action": "filter", "limit": 5}),
        json!({"action": "filter", "tags": eleven}),
        json!({"action": "filter", "tags": [{"key": "a"}, {"key": "a"}]}),
        json!({"action": "filter", "tags": [{"key": ""}]}),
        json!({"action": "filter", "not_tags": [{"key": "a", "values": ["1", "1"]}]}),
        json!({"action": "filter", "matches": [{"key": "resource_id", "value": "x"}]}),
        json!({"action": "filter", "matches": [{"key": "resource_name", "value": ""}]}),
    ] {
        let (status, body) = ecs.post(&ecs.v1("/cloudservers/resource_instances/action"), query.clone()).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn tags_survive_a_restart_and_follow_reset_and_snapshots() {
    let mut ecs = TestServer::start().await;
    let id = ecs.create_servers("keep", "s6.small.1", 1).await.remove(0);
    tag_action(&ecs, &id, "create", json!([{"key": "env", "value": "prod"}])).await;
    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    assert_eq!(tags_of(&ecs, &id).await, json!([{"key": "env", "value": "prod"}]));
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "tagged"})).await;
    assert!(status.is_success());
    tag_action(&ecs, &id, "create", json!([{"key": "env", "value": "dev"}])).await;
    let (status, _) = ecs.post("/_ecsd/snapshots/tagged/restore", json!({})).await;
    assert!(status.is_success());
    let (_, tags) = ecs.get(&ecs.v1("/cloudservers/tags")).await;
    assert_eq!(tags, json!({"tags": [{"key": "env", "values": ["prod"]}]}));
    assert_eq!(
        by_tag(&ecs, json!({"action": "count", "tags": [{"key": "env", "values": ["prod"]}]})).await["total_count"],
        1
    );
    let (status, _) = ecs.post("/_ecsd/reset", json!({})).await;
    assert!(status.is_success());
    let (_, tags) = ecs.get(&ecs.v1("/cloudservers/tags")).await;
    assert_eq!(tags, json!({"tags": []}));
}

#[tokio::test]
async fn fixtures_carry_tags_and_request_faults_reach_tag_actions() {
    let ecs = TestServer::start().await;
    let (status, loaded) = ecs
        .post("/_ecsd/fixtures", json!({"servers": [{"name": "fx", "tags": ["env=prod", "solo"], "count": 2}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{loaded}");
    assert_eq!(by_tag(&ecs, json!({"action": "count", "tags": [{"key": "solo"}]})).await["total_count"], 2);
    let rule = json!({"operation": "tags", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Common.1503"}});
    let (status, _) = ecs.post("/_ecsd/faults", rule).await;
    assert!(status.is_success());
    let id = loaded["servers"][0].as_str().expect("id").to_string();
    let (status, body) = tag_action(&ecs, &id, "delete", json!([{"key": "solo"}])).await;
    assert_error(status, &body, 503, "Common.1503");
    let (status, _) = tag_action(&ecs, &id, "delete", json!([{"key": "solo"}])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
