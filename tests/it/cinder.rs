//! Cinder v3 under `/volume`: version discovery without a credential, volumes (EVS disks, made
//! asynchronously by EVS's create job), their update and delete, the volume types, and the
//! refusals in Cinder's shape, project by project.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn v3(ecs: &TestServer, rest: &str) -> String {
    format!("/volume/v3/{}{rest}", ecs.project())
}

/// Asserts Cinder's fault body: one key, the fault's name, with the code and a message.
fn assert_cinder_fault(status: StatusCode, body: &Value, expected_status: u16, fault: &str) {
    assert_eq!(status.as_u16(), expected_status, "status of {body}");
    assert_eq!(body[fault]["code"], expected_status, "{fault} in {body}");
    assert!(body[fault]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message: {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "only `{fault}`: {body}");
}

async fn create(ecs: &TestServer, volume: Value) -> Value {
    let (status, body) = ecs.post(&v3(ecs, "/volumes"), json!({ "volume": volume })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, _) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    body["volume"].clone()
}

#[tokio::test]
async fn version_documents_answer_without_a_credential() {
    let ecs = TestServer::start().await;
    for path in ["/volume/", "/volume/v3", "/volume/v3/"] {
        let response = reqwest::get(format!("{}{path}", ecs.base)).await.expect("sent");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["versions"][0]["id"], "v3.0", "{body}");
        assert_eq!(body["versions"][0]["version"], "3.0");
        assert_eq!(body["versions"][0]["links"][0]["href"], format!("{}/volume/v3/", ecs.base));
    }
    let response = reqwest::get(format!("{}/volume/v3/{}/volumes", ecs.base, ecs.project())).await.expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "volumes need a credential");
}

#[tokio::test]
async fn a_volume_made_through_cinder_is_an_evs_disk_and_the_reverse() {
    let ecs = TestServer::start().await;
    let null = Value::Null;
    let made = create(
        &ecs,
        json!({"size": 10, "name": "data", "description": null, "volume_type": null, "availability_zone": null,
               "metadata": {"team": "a"}, "snapshot_id": null, "imageRef": null, "multiattach": false}),
    )
    .await;
    let id = made["id"].as_str().expect("id").to_string();
    assert_eq!((made["size"].clone(), made["volume_type"].clone()), (json!(10), json!("SATA")), "{made}");
    assert_eq!(made["availability_zone"], "eu-de-01");
    assert_eq!(made["os-vol-tenant-attr:tenant_id"], ecs.project());
    assert_ne!(made["status"], null);

    let (status, shown) = ecs.get(&v3(&ecs, &format!("/volumes/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(
        (shown["volume"]["status"].clone(), shown["volume"]["bootable"].clone()),
        (json!("available"), json!("false"))
    );
    let (status, evs) = ecs.get(&format!("/v2/{}/cloudvolumes/{id}", ecs.project())).await;
    assert_eq!((status, evs["volume"]["name"].clone()), (StatusCode::OK, json!("data")), "{evs}");

    // A server's system disk, made through ECS, is a volume here, in use.
    let server = ecs.create_servers("web", "s6.small.1", 1).await.remove(0);
    let (_, detail) = ecs.get(&v3(&ecs, "/volumes/detail")).await;
    let volumes = detail["volumes"].as_array().expect("volumes");
    assert_eq!(volumes.len(), 2, "{detail}");
    let system = volumes.iter().find(|v| v["id"] != id.as_str()).expect("the system disk");
    assert_eq!((system["status"].clone(), system["bootable"].clone()), (json!("in-use"), json!("true")), "{system}");
    assert_eq!(system["attachments"][0]["server_id"], server.as_str());
    let (status, body) =
        ecs.call(Method::DELETE, &v3(&ecs, &format!("/volumes/{}", system["id"].as_str().expect("id"))), None).await;
    assert_cinder_fault(status, &body, 400, "badRequest");

    let (_, summary) = ecs.get(&v3(&ecs, "/volumes?name=data")).await;
    assert_eq!(summary["volumes"], json!([{"id": id, "name": "data", "links": summary["volumes"][0]["links"]}]));
    let (_, page) = ecs.get(&v3(&ecs, "/volumes/detail?limit=1")).await;
    assert_eq!(page["volumes"].as_array().map(Vec::len), Some(1));
    assert!(page["volumes_links"][0]["href"].as_str().is_some_and(|h| h.contains("marker=")), "{page}");
    let (_, none) = ecs.get(&v3(&ecs, "/volumes/detail?status=no-such-status")).await;
    assert_eq!(none["volumes"], json!([]));
}

/// Following `next` links walks every volume once, and the last page has no link (a marker page
/// once linked to an empty one: the count it compared ignores the marker).
#[tokio::test]
async fn next_links_walk_every_volume_and_stop_at_the_last_page() {
    let ecs = TestServer::start().await;
    for n in 0..4 {
        create(&ecs, json!({"size": 10, "name": format!("v{n}")})).await;
    }
    let mut path = v3(&ecs, "/volumes/detail?limit=2");
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (status, page) = ecs.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["volumes"].as_array().expect("volumes").iter().map(|v| v["id"].clone()));
        match page["volumes_links"][0]["href"].as_str() {
            Some(next) => path = next.strip_prefix(&ecs.base).expect("ecsd's URL").to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let (_, last) = ecs.get(&path).await;
    assert_eq!(last["volumes"].as_array().map(Vec::len), Some(2), "the last page is full: {last}");
    assert!(last["volumes_links"].as_array().is_none_or(Vec::is_empty), "and links nowhere: {last}");
}

#[tokio::test]
async fn update_and_delete() {
    let ecs = TestServer::start().await;
    let id = create(&ecs, json!({"size": 20, "volume_type": "SSD", "multiattach": true})).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = v3(&ecs, &format!("/volumes/{id}"));
    let (status, body) = ecs.put(&path, json!({"volume": {"name": "renamed", "description": "logs"}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["volume"]["name"].clone(), body["volume"]["multiattach"].clone()),
        (json!("renamed"), json!(true))
    );
    let (status, body) = ecs.put(&path, json!({"volume": {}})).await;
    assert_cinder_fault(status, &body, 400, "badRequest");
    let (status, body) = ecs.put(&path, json!({"volume": {"name": "x".repeat(65)}})).await;
    assert_cinder_fault(status, &body, 400, "badRequest");

    let (status, body) = ecs.call(Method::DELETE, &path, None).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null));
    ecs.post("/_ecsd/clock/settle", json!({})).await;
    let (status, body) = ecs.get(&path).await;
    assert_cinder_fault(status, &body, 404, "itemNotFound");
    let (status, body) = ecs.call(Method::DELETE, &path, None).await;
    assert_cinder_fault(status, &body, 404, "itemNotFound");
    let (status, body) = ecs.put(&path, json!({"volume": {"name": "gone"}})).await;
    assert_cinder_fault(status, &body, 404, "itemNotFound");
}

#[tokio::test]
async fn bad_creates_are_refused_in_cinders_shape() {
    let ecs = TestServer::start().await;
    for (volume, status, fault) in [
        (json!({"size": 5}), 400, "badRequest"),
        (json!({"name": "no size"}), 400, "badRequest"),
        (json!({"size": "ten"}), 400, "badRequest"),
        (json!({"size": 10, "availability_zone": "mars-1"}), 400, "badRequest"),
        (json!({"size": 10, "snapshot_id": "s-1"}), 400, "badRequest"),
        (json!({"size": 10, "imageRef": IMAGE}), 400, "badRequest"),
        (json!({"size": 10, "volume_type": "gold"}), 404, "itemNotFound"),
    ] {
        let (answered, body) = ecs.post(&v3(&ecs, "/volumes"), json!({ "volume": volume })).await;
        assert_cinder_fault(answered, &body, status, fault);
    }
    let (status, body) = ecs.call_raw(Method::POST, &v3(&ecs, "/volumes"), b"{".to_vec(), &[]).await;
    assert_cinder_fault(status, &body, 400, "badRequest");
    for query in ["limit=0", "limit=x", "sort_key=colour", "sort_dir=up", "marker=no-such-volume"] {
        let (status, body) = ecs.get(&v3(&ecs, &format!("/volumes/detail?{query}"))).await;
        assert_cinder_fault(status, &body, 400, "badRequest");
    }
    let (_, detail) = ecs.get(&v3(&ecs, "/volumes/detail")).await;
    assert_eq!(detail["volumes"], json!([]), "nothing made: {detail}");
}

#[tokio::test]
async fn volume_types_are_evs_disk_types_by_name_or_id() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&v3(&ecs, "/types")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let types = body["volume_types"].as_array().expect("types");
    let ssd = types.iter().find(|t| t["name"] == "SSD").expect("SSD");
    assert_eq!(ssd["id"].as_str().map(str::len), Some(36), "{ssd}");
    let made = create(&ecs, json!({"size": 10, "volume_type": ssd["id"]})).await;
    assert_eq!(made["volume_type"], "SSD");
}

#[tokio::test]
async fn another_projects_volumes_are_not_found_and_its_urls_forbidden() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let mine = create(&ecs, json!({"size": 10, "name": "mine"})).await["id"].as_str().expect("id").to_string();
    let theirs = format!("/volume/v3/{}/volumes/detail", test_credential().project_id);
    ecs.credential = other_credential();
    let (status, body) = ecs.get(&v3(&ecs, &format!("/volumes/{mine}"))).await;
    assert_cinder_fault(status, &body, 404, "itemNotFound");
    let (status, body) = ecs.call(Method::DELETE, &v3(&ecs, &format!("/volumes/{mine}")), None).await;
    assert_cinder_fault(status, &body, 404, "itemNotFound");
    let (_, detail) = ecs.get(&v3(&ecs, "/volumes/detail")).await;
    assert_eq!(detail["volumes"], json!([]));
    let (status, body) = ecs.get(&theirs).await;
    assert_cinder_fault(status, &body, 403, "forbidden");
}

#[tokio::test]
async fn fault_rules_fail_cinder_calls_in_cinders_shape() {
    let ecs = TestServer::start().await;
    let rule =
        json!({"operation": "create-volume", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "X"}});
    let (status, body) = ecs.post("/_ecsd/faults", rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = ecs.post(&v3(&ecs, "/volumes"), json!({"volume": {"size": 10}})).await;
    assert_cinder_fault(status, &body, 503, "serviceUnavailable");
    let (status, _) = ecs.post(&v3(&ecs, "/volumes"), json!({"volume": {"size": 10}})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the rule fired once");
}
