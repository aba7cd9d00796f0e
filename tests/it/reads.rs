//! The other reads: ListCloudServers (v1.1), ShowServerPassword / DeleteServerPassword,
//! ListFlavorSellPolicies, ShowFlavorCapacity.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WINDOWS: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e03";

fn v11(ecs: &TestServer, rest: &str) -> String {
    format!("/v1.1/{}{rest}", ecs.project())
}

#[tokio::test]
async fn the_v1_1_list_shows_default_fields_and_those_asked_for() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("v11", "s6.large.2", 1).await.remove(0);
    let answer = ecs.call_with_headers(Method::GET, &v11(&ecs, "/cloudservers/detail"), vec![], &[], None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["request_id"], answer.headers["x-request-id"].to_str().expect("id"));
    let server = answer.body["servers"][0].clone();
    let mut keys: Vec<&str> = server.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "availability_zone",
            "created",
            "description",
            "fault",
            "flavor",
            "id",
            "in_recycle_bin",
            "name",
            "status",
            "task_state",
            "tenant_id",
            "updated",
            "user_id",
            "vm_state"
        ]
    );
    assert_eq!(server["id"], id.as_str());
    assert_eq!(server["status"], "ACTIVE");
    assert_eq!(
        server["flavor"],
        json!({"id": "s6.large.2", "name": "s6.large.2", "vcpus": 2, "ram": 4096, "disk": 0, "gpus": [], "asic_accelerators": []})
    );
    assert!(answer.body.get("servers_links").is_none());
    let (_, asked) = ecs
        .get(&v11(
            &ecs,
            "/cloudservers/detail?expect-fields=addresses,locked,volumes_attached,power_state,image,metadata",
        ))
        .await;
    let server = &asked["servers"][0];
    assert_eq!(server["locked"], false);
    assert_eq!(server["power_state"], 1);
    assert_eq!(server["image"], json!({"id": IMAGE}));
    assert_eq!(server["addresses"][VPC][0]["version"], 4);
    assert_eq!(server["volumes_attached"][0]["delete_on_termination"], true);
    assert_eq!(server["volumes_attached"][0]["bootIndex"], "0");
    assert_eq!(server["metadata"]["os_type"], "Linux");
    assert!(server.get("tags").is_none());
    // The SDK sends `expect-fields` once per field.
    let (status, repeated) = ecs.get(&v11(&ecs, "/cloudservers/detail?expect-fields=locked&expect-fields=tags")).await;
    assert_eq!(status, StatusCode::OK, "{repeated}");
    assert_eq!(
        (repeated["servers"][0]["locked"].clone(), repeated["servers"][0]["tags"].clone()),
        (json!(false), json!([]))
    );
    let (status, body) = ecs.get(&v11(&ecs, "/cloudservers/detail?expect-fields=everything")).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn the_v1_1_list_filters_and_pages_by_marker() {
    let ecs = TestServer::start().await;
    let web = ecs.create_servers("web", "s6.small.1", 3).await;
    ecs.keypair("ops-key").await;
    let mut body = create_body("db", "s6.large.2", 2);
    body["server"]["availability_zone"] = json!("eu-de-02");
    body["server"]["metadata"] = json!({"role": "db"});
    body["server"]["key_name"] = json!("ops-key");
    body["server"]["server_tags"] = json!([{"key": "env", "value": "prod"}]);
    let db = ecs.create_from(body).await;
    let ids = |body: &Value| -> Vec<String> {
        let mut ids: Vec<String> =
            body["servers"].as_array().expect("servers").iter().map(|s| s["id"].as_str().expect("id").into()).collect();
        ids.sort();
        ids
    };
    let sorted = |list: &[String]| {
        let mut list = list.to_vec();
        list.sort();
        list
    };
    for (query, expected) in [
        ("name=web", web.clone()),
        ("flavor_name=s6.large.2", db.clone()),
        ("availability_zone=de-02", db.clone()),
        ("availability_zone_eq=eu-de-01", web.clone()),
        ("metadata=role%3Ddb", db.clone()),
        ("metadata-key=role", db.clone()),
        ("key_name=ops-key", db.clone()),
        ("tags=env%3Dprod", db.clone()),
        ("not-tags=env", web.clone()),
        ("image_id=8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01", [web.clone(), db.clone()].concat()),
        (&format!("id={}", web[1]), vec![web[1].clone()]),
        ("status=SHUTOFF", vec![]),
        ("in_recycle_bin=true", vec![]),
        ("charging_mode=1", vec![]),
        ("launched_since=2000-01-01T00:00:00Z", [web.clone(), db.clone()].concat()),
        ("launched_since=2999-01-01T00:00:00Z", vec![]),
    ] {
        let (status, body) = ecs.get(&v11(&ecs, &format!("/cloudservers/detail?{query}"))).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(ids(&body), sorted(&expected), "{query}");
    }
    // Marker paging: two pages of two and one of one, newest first, with links while more follow.
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..3 {
        let query = marker.as_ref().map_or("limit=2".to_string(), |m| format!("limit=2&marker={m}"));
        let (_, page) = ecs.get(&v11(&ecs, &format!("/cloudservers/detail?{query}"))).await;
        let listed = page["servers"].as_array().expect("servers").clone();
        seen.extend(listed.iter().map(|s| s["id"].as_str().expect("id").to_string()));
        match page["servers_links"].as_array() {
            Some(links) => {
                let last = listed.last().expect("a page")["id"].as_str().expect("id").to_string();
                assert_eq!(links[0]["rel"], "next");
                assert!(links[0]["href"].as_str().expect("href").ends_with(&format!("limit=2&marker={last}")));
                marker = Some(last);
            }
            None => marker = None,
        }
    }
    assert!(marker.is_none());
    assert_eq!(sorted(&seen), sorted(&[web, db].concat()));
    for query in ["limit=0", "limit=101", "status=FROZEN", "launched_since=yesterday", "metadata=novalue"] {
        let (status, body) = ecs.get(&v11(&ecs, &format!("/cloudservers/detail?{query}"))).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn a_windows_server_with_a_key_pair_leaves_an_encrypted_password_until_it_is_deleted() {
    let ecs = TestServer::start().await;
    ecs.keypair("ops-key").await;
    let mut body = create_body("win", "s6.large.2", 1);
    body["server"]["imageRef"] = json!(WINDOWS);
    body["server"]["key_name"] = json!("ops-key");
    let windows = ecs.create_from(body).await.remove(0);
    let linux = ecs.create_servers("linux", "s6.small.1", 1).await.remove(0);
    let path = |id: &str| ecs.v1(&format!("/cloudservers/{id}/os-server-password"));
    let (status, body) = ecs.get(&path(&windows)).await;
    assert_eq!(status, StatusCode::OK);
    let password = body["password"].as_str().expect("password").to_string();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&password).expect("base64");
    assert_eq!(bytes.len(), 256, "the size of an RSA-2048 ciphertext");
    let (_, again) = ecs.get(&path(&windows)).await;
    assert_eq!(again["password"], password.as_str(), "the same password each time");
    assert_eq!(ecs.get(&path(&linux)).await.1, json!({"password": ""}));
    let (status, answer) = ecs.call(Method::DELETE, &path(&windows), None).await;
    assert_eq!((status, answer), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(ecs.get(&path(&windows)).await.1, json!({"password": ""}));
    let (status, _) = ecs.call(Method::DELETE, &path(&windows), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ghost = uuid::Uuid::new_v4().to_string();
    let (status, body) = ecs.get(&path(&ghost)).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) = ecs.call(Method::DELETE, &path(&ghost), None).await;
    assert_error(status, &body, 404, "Ecs.0114");
    // With an admin password given, the guest sets none of its own.
    let mut body = create_body("win2", "s6.large.2", 1);
    body["server"]["imageRef"] = json!(WINDOWS);
    body["server"]["key_name"] = json!("ops-key");
    body["server"]["adminPass"] = json!("Test@123456");
    let given = ecs.create_from(body).await.remove(0);
    assert_eq!(ecs.get(&path(&given)).await.1, json!({"password": ""}));
}

#[tokio::test]
async fn sell_policies_list_each_flavor_in_each_zone_with_filters_and_paging() {
    let ecs = TestServer::start().await;
    let (status, all) = ecs.get(&ecs.v1("/cloudservers/flavor-sell-policies")).await;
    assert_eq!(status, StatusCode::OK);
    let flavors = ecsd::domain::catalogue::default_flavors().len();
    assert_eq!(all["count"], flavors as u64 * 3);
    assert_eq!(
        all["sell_policies"][0],
        json!({"id": 1, "flavor_id": "s6.small.1", "sell_status": "available", "availability_zone_id": "eu-de-01",
               "sell_mode": "spot", "spot_options": {"longest_spot_duration_hours": 6, "largest_spot_duration_count": 1,
               "interruption_policy": "immediate"}})
    );
    let (_, some) =
        ecs.get(&ecs.v1("/cloudservers/flavor-sell-policies?flavor_id=s6&availability_zone_id=eu-de-02")).await;
    assert_eq!(some["count"], 4);
    let (_, page) = ecs.get(&ecs.v1("/cloudservers/flavor-sell-policies?limit=2&marker=2")).await;
    assert_eq!(
        page["sell_policies"].as_array().map(|p| p.iter().map(|p| p["id"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(3), json!(4)])
    );
    assert_eq!(page["count"], flavors as u64 * 3, "count is of every matching policy");
    for empty in
        ["sell_mode=postPaid", "sell_status=sellout", "longest_spot_duration_hours_gt=6", "interruption_policy=delay"]
    {
        let (_, none) = ecs.get(&ecs.v1(&format!("/cloudservers/flavor-sell-policies?{empty}"))).await;
        assert_eq!(none, json!({"count": 0, "sell_policies": []}), "{empty}");
    }
    for bad in ["sell_mode=free", "sell_status=maybe", "limit=0", "marker=x"] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/flavor-sell-policies?{bad}"))).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn flavor_capacity_says_per_zone_whether_count_servers_fit() {
    let ecs =
        TestServer::start_with_toml("[placement]\nhosts_per_zone = 2\nhost_vcpus = 4\nhost_ram_mib = 16384\n").await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/flavors/s6.large.2/resources?count=4")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["resources"].as_array().expect("resources").iter().all(|r| r["prefer"] == true), "{body}");
    let (_, body) = ecs.get(&ecs.v1("/cloudservers/flavors/s6.large.2/resources?count=5")).await;
    assert!(body["resources"].as_array().expect("resources").iter().all(|r| r["prefer"] == false), "{body}");
    let (_, body) = ecs.get(&ecs.v1("/cloudservers/flavors/s6.large.2/resources?region_ids=elsewhere")).await;
    assert_eq!(body, json!({"resources": []}));
    let (_, body) = ecs.get(&ecs.v1("/cloudservers/flavors/s6.large.2/resources?region_ids=eu-de")).await;
    assert_eq!(body["resources"].as_array().map(Vec::len), Some(3));
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/flavors/no.such.flavor/resources")).await;
    assert_error(status, &body, 400, "Ecs.0029");
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/flavors/s6.large.2/resources?count=0")).await;
    assert_error(status, &body, 400, "Ecs.0005");
}
