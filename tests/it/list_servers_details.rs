//! `GET /v1/{pid}/cloudservers/detail` (SDK `ListServersDetails`): contract T1.10, 1.6.

use std::collections::HashSet;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `GET .../cloudservers/detail?{query}` → (count, [(id, name)]).
async fn list(ecs: &TestServer, query: &str) -> (u64, Vec<(String, String)>) {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?{query}"))).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["count", "servers"], "{body}");
    let servers = body["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| (s["id"].as_str().expect("id").to_string(), s["name"].as_str().expect("name").to_string()))
        .collect();
    (body["count"].as_u64().expect("count is an integer"), servers)
}

async fn names(ecs: &TestServer, query: &str) -> Vec<String> {
    let (count, servers) = list(ecs, query).await;
    assert_eq!(count as usize, servers.len(), "{query}: one page holds them all");
    let mut names: Vec<String> = servers.into_iter().map(|(_, n)| n).collect();
    names.sort();
    names
}

fn with_tags(name: &str, tags: Value) -> Value {
    let mut body = create_body(name, "s6.small.1", 1);
    body["server"]["server_tags"] = tags;
    body
}

#[tokio::test]
async fn offset_is_a_page_number_and_count_is_the_total() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pg", "s6.small.1", 5).await;

    let mut seen = Vec::new();
    for (page, expected) in [(1, 2), (2, 2), (3, 1), (4, 0)] {
        let (count, servers) = list(&ecs, &format!("limit=2&offset={page}")).await;
        assert_eq!(count, 5, "count is the total, not the page size");
        assert_eq!(servers.len(), expected, "page {page}");
        seen.extend(servers.into_iter().map(|(id, _)| id));
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 5, "pages are disjoint");
    assert_eq!(unique, ids.iter().collect(), "pages cover every server");

    assert_eq!(list(&ecs, "limit=2&offset=0").await, list(&ecs, "limit=2&offset=1").await, "0 behaves like 1");
    assert_eq!(list(&ecs, "limit=2").await, list(&ecs, "limit=2&offset=1").await, "default page is 1");
}

#[tokio::test]
async fn the_default_page_size_is_25_and_the_maximum_1000() {
    let ecs = TestServer::start().await;
    ecs.create_servers("many", "s6.small.1", 30).await;
    let (count, servers) = list(&ecs, "").await;
    assert_eq!((count, servers.len()), (30, 25));
    let (count, servers) = list(&ecs, "limit=1000").await;
    assert_eq!((count, servers.len()), (30, 30));
}

#[tokio::test]
async fn newest_servers_come_first() {
    let ecs = TestServer::start().await;
    ecs.create_servers("older", "s6.small.1", 1).await;
    ecs.create_servers("newer", "s6.small.1", 1).await;
    let (_, servers) = list(&ecs, "").await;
    let order: Vec<&str> = servers.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(order, ["newer", "older"]);
}

#[tokio::test]
async fn every_listed_server_is_the_full_document_show_gives() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("doc", "s6.small.1", 1).await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["servers"][0], ecs.server(&ids[0]).await);
}

#[tokio::test]
async fn name_is_a_fuzzy_match_where_a_dot_matches_any_character() {
    let ecs = TestServer::start().await;
    ecs.create_servers("web", "s6.small.1", 2).await;
    ecs.create_servers("db", "s6.small.1", 1).await;
    ecs.create_servers("webapp", "s6.small.1", 1).await;
    assert_eq!(names(&ecs, "name=web").await, ["web-0000", "web-0001", "webapp"]);
    assert_eq!(names(&ecs, "name=w.b-").await, ["web-0000", "web-0001"]);
    assert_eq!(names(&ecs, "name=b-000.").await, ["web-0000", "web-0001"]);
    assert_eq!(names(&ecs, "name=d.").await, ["db"]);
    assert_eq!(names(&ecs, "name=0001").await, ["web-0001"]);
    assert!(names(&ecs, "name=nothing").await.is_empty());
}

#[tokio::test]
async fn status_and_flavor_filters() {
    let ecs = TestServer::start().await;
    let small = ecs.create_servers("small", "s6.small.1", 2).await;
    ecs.create_servers("large", "s6.large.2", 1).await;
    ecs.batch("os-stop", &small[..1], json!({})).await;
    assert_eq!(names(&ecs, "status=SHUTOFF").await, ["small-0000"]);
    assert_eq!(names(&ecs, "status=ACTIVE").await, ["large", "small-0001"]);
    assert!(names(&ecs, "status=BUILD").await.is_empty());
    assert_eq!(names(&ecs, "flavor=s6.large.2").await, ["large"]);
    assert_eq!(names(&ecs, "flavor=s6.small.1&status=ACTIVE").await, ["small-0001"]);
}

#[tokio::test]
async fn ip_is_a_fuzzy_match_on_the_private_address_and_ip_eq_an_exact_one() {
    let ecs = TestServer::start().await;
    for (name, ip) in [("a", "192.168.5.1"), ("b", "192.168.5.10"), ("c", "192.168.6.10")] {
        let mut body = create_body(name, "s6.small.1", 1);
        body["server"]["nics"] = json!([{"subnet_id": SUBNET, "ip_address": ip}]);
        ecs.create_from(body).await;
    }
    assert_eq!(names(&ecs, "ip=192.168.5.1").await, ["a", "b"]);
    assert_eq!(names(&ecs, "ip=.10").await, ["b", "c"]);
    assert_eq!(names(&ecs, "ip_eq=192.168.5.1").await, ["a"]);
}

#[tokio::test]
async fn tags_and_not_tags_filter_by_tag() {
    let ecs = TestServer::start().await;
    ecs.create_from(with_tags("prod", json!([{"key": "env", "value": "prod"}]))).await;
    ecs.create_from(with_tags("dev", json!([{"key": "env", "value": "dev"}]))).await;
    ecs.create_from(with_tags("bare", json!([]))).await;
    assert_eq!(names(&ecs, "tags=env%3Dprod").await, ["prod"]);
    assert_eq!(names(&ecs, "tags=env").await, ["dev", "prod"]);
    assert_eq!(names(&ecs, "not-tags=env%3Dprod").await, ["bare", "dev"]);
    assert_eq!(names(&ecs, "not-tags=env").await, ["bare"]);
}

#[tokio::test]
async fn reservation_id_lists_the_servers_created_together() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pair", "s6.small.1", 2).await;
    ecs.create_servers("alone", "s6.small.1", 1).await;
    let reservation = ecs.server(&ids[0]).await["OS-EXT-SRV-ATTR:reservation_id"].as_str().expect("r-id").to_string();
    assert_eq!(names(&ecs, &format!("reservation_id={reservation}")).await, ["pair-0000", "pair-0001"]);
}

#[tokio::test]
async fn server_id_lists_exactly_those_servers_and_ignores_the_other_filters() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pick", "s6.small.1", 3).await;
    let (count, servers) = list(&ecs, &format!("server_id={},{}&name=nomatch&limit=1", ids[2], ids[0])).await;
    assert_eq!(count, 2);
    let listed: Vec<&str> = servers.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[0].as_str()]);
}

#[tokio::test]

async fn server_id_with_an_unknown_id_lists_an_entry_with_only_id_and_fault() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("known", "s6.small.1", 1).await;
    let unknown = random_ids(1).remove(0);
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?server_id={},{unknown}", ids[0]))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let servers = body["servers"].as_array().expect("servers");
    assert_eq!(servers.len(), 2, "{body}");
    let entry = servers.iter().find(|s| s["id"] == unknown.as_str()).expect("an entry for the unknown id");
    assert!(entry["fault"].is_object(), "fault is set: {entry}");
    for (key, value) in entry.as_object().expect("object") {
        if key != "id" && key != "fault" {
            assert!(value.is_null(), "{key} is null in {entry}");
        }
    }
}

#[tokio::test]
async fn deleted_servers_are_not_listed() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("gone", "s6.small.1", 2).await;
    ecs.delete(&ids[..1]).await;
    assert_eq!(names(&ecs, "").await, ["gone-0001"]);
}

#[tokio::test]
async fn a_limit_of_0_or_over_1000_is_ecs_0005() {
    let ecs = TestServer::start().await;
    for query in ["limit=0", "limit=1001", "limit=-1", "limit=ten", "offset=first"] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?{query}"))).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn an_unknown_status_is_ecs_0005() {
    let ecs = TestServer::start().await;
    for status_value in ["RUNNING", "active", ""] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?status={status_value}"))).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn an_unknown_project_is_ecs_0003() {
    let ecs = TestServer::start().await;
    let project = "99999999999999999999999999999999";
    let answer = ecs
        .call_with_headers(Method::GET, &format!("/v1/{project}/cloudservers/detail"), Vec::new(), &[], Some(project))
        .await;
    assert_error(answer.status, &answer.body, 403, "Ecs.0003");
}

#[tokio::test]
async fn another_projects_servers_are_not_listed() {
    let mut ecs = TestServer::start_with_two_projects().await;
    ecs.create_servers("mine", "s6.small.1", 2).await;
    ecs.credential = other_credential();
    let (count, servers) = list(&ecs, "").await;
    assert_eq!((count, servers.len()), (0, 0));
    ecs.create_servers("theirs", "s6.small.1", 1).await;
    assert_eq!(names(&ecs, "").await, ["theirs"]);
    ecs.credential = test_credential();
    assert_eq!(names(&ecs, "").await, ["mine-0000", "mine-0001"]);
}

#[tokio::test]

async fn marker_starts_after_the_given_server() {
    let ecs = TestServer::start().await;
    ecs.create_servers("mk", "s6.small.1", 5).await;
    let (_, all) = list(&ecs, "limit=5").await;
    let (count, after) = list(&ecs, &format!("limit=2&marker={}", all[1].0)).await;
    assert_eq!(count, 5);
    assert_eq!(after, all[2..4].to_vec());
}
