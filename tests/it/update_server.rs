//! `PUT /v1/{pid}/cloudservers/{server_id}` (SDK `UpdateServer`): contract T1.17.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn update(ecs: &TestServer, id: &str, server: Value) -> (StatusCode, Value) {
    ecs.put(&ecs.v1(&format!("/cloudservers/{id}")), json!({ "server": server })).await
}

#[tokio::test]
async fn a_rename_answers_the_short_server_document_of_t1_17() {
    let ecs = TestServer::start().await;
    let mut body = create_body("before", "s6.small.1", 1);
    body["server"]["nics"] = json!([{"subnet_id": SUBNET, "ip_address": "192.168.20.5"}]);
    body["server"]["metadata"] = json!({"owner": "team-a"});
    body["server"]["server_tags"] = json!([{"key": "env", "value": "prod"}]);
    let ids = ecs.create_from(body).await;
    let id = ids[0].as_str();
    let shown = ecs.server(id).await;

    let (status, answer) = update(&ecs, id, json!({"name": "after", "description": "web tier"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let keys: Vec<&String> = answer.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["server"]);
    let mut doc = answer["server"].clone();
    for key in ["created", "updated"] {
        let text = doc[key].as_str().unwrap_or_else(|| panic!("{key} string"));
        assert!(has_shape(text, "dddd-dd-ddTdd:dd:ddZ"), "{key}: {text}");
        doc[key] = json!(key.to_uppercase());
    }
    let project = ecs.project();
    assert_eq!(
        doc,
        json!({
            "id": id,
            "name": "after",
            "status": "ACTIVE",
            "tenant_id": project,
            "user_id": project,
            "image": IMAGE,
            "flavor": {"id": "s6.small.1", "links": []},
            "addresses": {VPC: [{"addr": "192.168.20.5", "version": 4}]},
            "metadata": {"owner": "team-a"},
            "accessIPv4": "",
            "accessIPv6": "",
            "created": "CREATED",
            "updated": "UPDATED",
            "hostId": shown["hostId"],
            "OS-DCF:diskConfig": "MANUAL",
            "progress": 100,
            "links": [],
            "locked": false,
            "description": "web tier",
            "tags": ["env=prod"],
            "OS-EXT-SRV-ATTR:hostname": shown["OS-EXT-SRV-ATTR:hostname"],
        })
    );
    let shown = ecs.server(id).await;
    assert_eq!(shown["name"], "after");
    assert_eq!(shown["description"], "web tier");
}

#[tokio::test]
async fn fields_left_out_are_kept() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("keep", "s6.small.1", 1).await;
    let (status, _) = update(&ecs, &ids[0], json!({"description": "first"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = update(&ecs, &ids[0], json!({"name": "renamed"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["server"]["description"], "first");
    let (status, answer) = update(&ecs, &ids[0], json!({"description": ""})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["server"]["name"], "renamed");
    assert_eq!(ecs.server(&ids[0]).await["description"], "");
}

#[tokio::test]
async fn a_name_with_invalid_characters_is_ecs_0915_and_a_long_one_ecs_0914() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("orig", "s6.small.1", 1).await;
    for name in ["bad name", "semi;colon", ""] {
        let (status, body) = update(&ecs, &ids[0], json!({ "name": name })).await;
        assert_error(status, &body, 400, "Ecs.0915");
    }
    let (status, body) = update(&ecs, &ids[0], json!({"name": "n".repeat(129)})).await;
    assert_error(status, &body, 400, "Ecs.0914");
    let (status, _) = update(&ecs, &ids[0], json!({"name": "服务器-1"})).await;
    assert_eq!(status, StatusCode::OK, "CJK ideographs are allowed");
    assert_eq!(ecs.server(&ids[0]).await["name"], "服务器-1");
}

#[tokio::test]
async fn an_invalid_description_is_ecs_0041_and_changes_nothing() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("orig", "s6.small.1", 1).await;
    for description in ["<script>".to_string(), "d".repeat(86)] {
        let (status, body) = update(&ecs, &ids[0], json!({"name": "changed", "description": description})).await;
        assert_error(status, &body, 400, "Ecs.0041");
    }
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["name"], "orig", "the valid field of a refused request is not applied");
    assert_eq!(server["description"], "");
}

#[tokio::test]
async fn an_unknown_server_is_ecs_0114() {
    let ecs = TestServer::start().await;
    let (status, body) = update(&ecs, &random_ids(1)[0], json!({"name": "x"})).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn a_body_without_server_is_ecs_0005_and_an_empty_one_common_0002() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("orig", "s6.small.1", 1).await;
    let path = ecs.v1(&format!("/cloudservers/{}", ids[0]));
    let (status, body) = ecs.put(&path, json!({"name": "x"})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.call_raw(Method::PUT, &path, b"{not json".to_vec(), &[]).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.call_raw(Method::PUT, &path, Vec::new(), &[]).await;
    assert_error(status, &body, 400, "Common.0002");
}

#[tokio::test]
async fn a_server_busy_with_a_job_is_ecs_0603_and_one_being_deleted_ecs_0100() {
    // Issue 3, point 5: one operation per server at a time, for every operation.
    let ecs = TestServer::start_with_timings(slow(false, true, true)).await;
    let ids = ecs.create_servers("busy", "s6.small.1", 2).await;
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids[..1])}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = update(&ecs, &ids[0], json!({"name": "renamed"})).await;
    assert_error(status, &body, 400, "Ecs.0603");
    assert_eq!(ecs.server(&ids[0]).await["name"], "busy-0000");

    let (status, body) = ecs.post(&ecs.v1("/cloudservers/delete"), json!({"servers": server_ids(&ids[1..])})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = update(&ecs, &ids[1], json!({"name": "renamed"})).await;
    assert_error(status, &body, 400, "Ecs.0100");
    assert_eq!(ecs.server(&ids[1]).await["name"], "busy-0001");
}
