//! The EVS API: CreateVolume, ShowVolume, ListVolumes, UpdateVolume, ResizeVolume,
//! DeleteVolume, EVS's jobs, with their refusals in EVS's error shape.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `/v2/{project}` + `rest`.
pub fn v2(ecs: &TestServer, rest: &str) -> String {
    format!("/v2/{}{rest}", ecs.project())
}

/// `/v2.1/{project}` + `rest`.
pub fn v21(ecs: &TestServer, rest: &str) -> String {
    format!("/v2.1/{}{rest}", ecs.project())
}

/// Asserts EVS's error body (`{"error": {"code", "message"}}`, nothing else) with `code`.
pub fn assert_evs_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status.as_u16(), expected_status, "status of {body}");
    assert_eq!(body["error"]["code"], code, "code of {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message: {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "only `error`: {body}");
}

/// Creates disks and waits for the job; returns their ids.
pub async fn create_volumes(ecs: &TestServer, volume: Value) -> Vec<String> {
    let (status, body) = ecs.post(&v21(ecs, "/cloudvolumes"), json!({ "volume": volume })).await;
    assert_eq!(status, StatusCode::OK, "create: {body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job id")).await;
    assert_eq!(job["status"], "SUCCESS", "create job: {job}");
    body["volume_ids"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()).collect()
}

pub async fn create_volume(ecs: &TestServer, name: &str, size: u32) -> String {
    create_volumes(ecs, json!({"name": name, "size": size, "volume_type": "SSD", "availability_zone": "eu-de-01"}))
        .await
        .remove(0)
}

pub async fn show_volume(ecs: &TestServer, id: &str) -> Value {
    let (status, body) = ecs.get(&v2(ecs, &format!("/cloudvolumes/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "show: {body}");
    body["volume"].clone()
}

#[tokio::test]
async fn a_created_disk_is_creating_then_available_and_shows_every_field() {
    let ecs = TestServer::start().await;
    let body = json!({"volume": {"name": "data", "size": 20, "volume_type": "GPSSD", "availability_zone": "eu-de-02",
                                 "description": "logs", "metadata": {"team": "a"}}});
    let (status, accepted) = ecs.post(&v21(&ecs, "/cloudvolumes"), body).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let id = accepted["volume_ids"][0].as_str().expect("id").to_string();
    let job = ecs.wait_job(accepted["job_id"].as_str().expect("job")).await;
    assert_eq!(job["job_type"], "createVolume");
    assert_eq!(job["entities"]["volume_id"], id.as_str());
    assert_eq!(job["entities"]["size"], 20);
    assert_eq!(job["entities"]["volume_type"], "GPSSD");
    assert!(job["entities"].get("server_id").is_none(), "an EVS job: {job}");
    let volume = show_volume(&ecs, &id).await;
    assert_eq!(volume["status"], "available");
    assert_eq!(volume["name"], "data");
    assert_eq!(volume["description"], "logs");
    assert_eq!(volume["size"], 20);
    assert_eq!(volume["volume_type"], "GPSSD");
    assert_eq!(volume["availability_zone"], "eu-de-02");
    assert_eq!(volume["bootable"], "false");
    assert_eq!(volume["multiattach"], false);
    assert_eq!(volume["shareable"], "false");
    assert_eq!(volume["attachments"], json!([]));
    assert_eq!(volume["metadata"], json!({"team": "a"}));
    assert_eq!(volume["os-vol-tenant-attr:tenant_id"], ecs.project());
    assert!(has_shape(volume["created_at"].as_str().expect("created"), "dddd-dd-ddTdd:dd:dd.dddddd"));
    assert!(volume["iops"]["total_val"].is_u64() && volume["throughput"]["total_val"].is_u64());
}

#[tokio::test]
async fn a_batch_create_names_its_disks_and_its_job_lists_them() {
    let ecs = TestServer::start().await;
    let body = json!({"volume": {"name": "many", "size": 10, "volume_type": "SAS", "availability_zone": "eu-de-01",
                                 "count": 3}});
    let (status, accepted) = ecs.post(&v21(&ecs, "/cloudvolumes"), body).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let job = ecs.wait_job(accepted["job_id"].as_str().expect("job")).await;
    assert_eq!(job["job_type"], "batchCreateVolume");
    let subs = job["entities"]["sub_jobs"].as_array().expect("sub-jobs");
    assert_eq!(subs.len(), 3);
    assert!(subs.iter().all(|s| s["job_type"] == "createVolume" && s["status"] == "SUCCESS"));
    let ids = accepted["volume_ids"].as_array().expect("ids");
    let names: Vec<Value> = {
        let mut names = Vec::new();
        for id in ids {
            names.push(show_volume(&ecs, id.as_str().expect("id")).await["name"].clone());
        }
        names
    };
    assert_eq!(names, vec![json!("many-0001"), json!("many-0002"), json!("many-0003")]);
}

#[tokio::test]
async fn bad_create_requests_are_refused_with_evs_codes() {
    let ecs = TestServer::start().await;
    let base = json!({"name": "x", "size": 10, "volume_type": "SSD", "availability_zone": "eu-de-01"});
    let with = |field: &str, value: Value| {
        let mut volume = base.clone();
        volume[field] = value;
        json!({ "volume": volume })
    };
    for (body, code) in [
        (with("volume_type", json!("TAPE")), "EVS.1020"),
        (with("size", json!(5)), "EVS.1010"),
        (with("size", json!(40000)), "EVS.1010"),
        (with("count", json!(0)), "EVS.1021"),
        (with("availability_zone", json!("mars-01")), "EVS.1036"),
        (with("name", json!("n".repeat(65))), "EVS.1003"),
        (with("description", json!("<b>")), "EVS.1004"),
        (with("size", json!("ten")), "EVS.5400"),
        (json!({"volume": base, "server_id": "6f1f2b2e-1111-4222-8333-444455556666"}), "EVS.5400"),
    ] {
        let (status, answer) = ecs.post(&v21(&ecs, "/cloudvolumes"), body.clone()).await;
        assert_evs_error(status, &answer, 400, code);
    }
    let (status, answer) = ecs.call_raw(Method::POST, &v21(&ecs, "/cloudvolumes"), b"{not json".to_vec(), &[]).await;
    assert_evs_error(status, &answer, 400, "EVS.5400");
    let (status, answer) = ecs.get(&v2(&ecs, "/cloudvolumes/detail")).await;
    assert_eq!((status, answer["count"].clone()), (StatusCode::OK, json!(0)), "nothing was made: {answer}");
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages() {
    let ecs = TestServer::start().await;
    let small = create_volume(&ecs, "small", 10).await;
    let big = create_volume(&ecs, "big", 100).await;
    let shared = create_volumes(
        &ecs,
        json!({"name": "shared", "size": 50, "volume_type": "SSD", "availability_zone": "eu-de-02", "multiattach": true,
               "metadata": {"env": "prod"}}),
    )
    .await
    .remove(0);
    let list = |query: &'static str| {
        let ecs = &ecs;
        async move {
            let (status, body) = ecs.get(&v2(ecs, &format!("/cloudvolumes/detail{query}"))).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            let ids: Vec<String> = body["volumes"]
                .as_array()
                .expect("volumes")
                .iter()
                .map(|v| v["id"].as_str().expect("id").into())
                .collect();
            (body["count"].as_u64().expect("count"), ids, body)
        }
    };
    let (count, ids, _) = list("").await;
    assert_eq!((count, ids), (3, vec![shared.clone(), big.clone(), small.clone()]), "newest first");
    assert_eq!(list("?name=big").await.1, vec![big.clone()]);
    assert_eq!(list("?availability_zone=eu-de-02").await.1, vec![shared.clone()]);
    assert_eq!(list("?multiattach=true").await.1, vec![shared.clone()]);
    assert_eq!(list("?status=available").await.0, 3);
    assert_eq!(list("?status=in-use").await.0, 0);
    assert_eq!(list("?metadata=%7B%22env%22%3A%22prod%22%7D").await.1, vec![shared.clone()]);
    assert_eq!(list("?sort_key=size&sort_dir=asc").await.1, vec![small.clone(), shared.clone(), big.clone()]);
    let (count, page, body) = list("?limit=2").await;
    assert_eq!((count, page.clone()), (3, vec![shared.clone(), big.clone()]));
    let next = body["volumes_links"][0]["href"].as_str().expect("a next link");
    assert!(next.contains(&format!("marker={big}")), "{next}");
    let (status, rest) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/detail?limit=2&marker={big}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rest["volumes"][0]["id"], small.as_str());
    assert!(rest.get("volumes_links").is_none(), "the last page: {rest}");
    assert_eq!(list("?offset=2").await.1, vec![small.clone()]);
    let ids_query = format!("?ids={small},{big}");
    let (_, body) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/detail{ids_query}"))).await;
    assert_eq!(body["count"], 2);
    for (query, code) in [
        ("?limit=0", "EVS.1023"),
        ("?limit=1001", "EVS.1023"),
        ("?marker=ffffffff-ffff-4fff-bfff-ffffffffffff", "EVS.1024"),
        ("?sort_key=colour", "EVS.1039"),
        ("?sort_dir=up", "EVS.1040"),
        ("?status=happy", "EVS.5400"),
        ("?limit=many", "EVS.5400"),
        ("?metadata=%5B1%5D", "EVS.5400"),
    ] {
        let (status, body) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/detail{query}"))).await;
        assert_evs_error(status, &body, 400, code);
    }
}

#[tokio::test]
async fn update_renames_and_answers_the_disk_flat() {
    let ecs = TestServer::start().await;
    let id = create_volume(&ecs, "before", 10).await;
    let path = v2(&ecs, &format!("/cloudvolumes/{id}"));
    let (status, body) = ecs.put(&path, json!({"volume": {"name": "after", "description": "d"}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["id"].clone(), body["name"].clone()), (json!(id), json!("after")), "flat: {body}");
    assert_eq!(show_volume(&ecs, &id).await["description"], "d");
    let (status, body) = ecs.put(&path, json!({"volume": {}})).await;
    assert_evs_error(status, &body, 400, "EVS.1007");
    let (status, body) = ecs.put(&path, json!({"volume": {"name": "n".repeat(65)}})).await;
    assert_evs_error(status, &body, 400, "EVS.1003");
    let missing = v2(&ecs, "/cloudvolumes/ffffffff-ffff-4fff-bfff-ffffffffffff");
    let (status, body) = ecs.put(&missing, json!({"volume": {"name": "x"}})).await;
    assert_evs_error(status, &body, 404, "EVS.5404");
}

#[tokio::test]
async fn extend_grows_the_disk_and_refuses_what_evs_refuses() {
    let ecs = TestServer::start().await;
    let id = create_volume(&ecs, "grow", 10).await;
    let action = v21(&ecs, &format!("/cloudvolumes/{id}/action"));
    let (status, body) = ecs.post(&action, json!({"os-extend": {"new_size": 30}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!((job["status"].clone(), job["job_type"].clone()), (json!("SUCCESS"), json!("extendVolume")));
    assert_eq!(job["entities"]["size"], 30);
    let volume = show_volume(&ecs, &id).await;
    assert_eq!((volume["size"].clone(), volume["status"].clone()), (json!(30), json!("available")));
    let (status, body) = ecs.post(&action, json!({"os-extend": {"new_size": 30}})).await;
    assert_evs_error(status, &body, 400, "EVS.1015");
    let (status, body) = ecs.post(&action, json!({"os-extend": {"new_size": 40000}})).await;
    assert_evs_error(status, &body, 400, "EVS.1010");
    let (status, body) = ecs.post(&action, json!({"os-extend": {}})).await;
    assert_evs_error(status, &body, 400, "EVS.5400");
    let shared = create_volumes(
        &ecs,
        json!({"size": 10, "volume_type": "SSD", "availability_zone": "eu-de-01", "multiattach": true}),
    )
    .await
    .remove(0);
    let server = ecs.create_servers("host", "s6.small.1", 1).await.remove(0);
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/cloudservers/{server}/attachvolume")),
            json!({"volumeAttachment": {"volumeId": shared}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    let (status, body) =
        ecs.post(&v21(&ecs, &format!("/cloudvolumes/{shared}/action")), json!({"os-extend": {"new_size": 20}})).await;
    assert_evs_error(status, &body, 400, "EVS.1065");
}

#[tokio::test]
async fn delete_removes_an_available_disk_and_refuses_one_in_use() {
    let ecs = TestServer::start().await;
    let id = create_volume(&ecs, "gone", 10).await;
    let path = v2(&ecs, &format!("/cloudvolumes/{id}"));
    let (status, body) = ecs.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!((job["status"].clone(), job["job_type"].clone()), (json!("SUCCESS"), json!("deleteVolume")));
    let (status, body) = ecs.get(&path).await;
    assert_evs_error(status, &body, 404, "EVS.5404");
    let (status, body) = ecs.call(Method::DELETE, &path, None).await;
    assert_evs_error(status, &body, 404, "EVS.5404");
    // A server's system disk is in use.
    let server = ecs.create_servers("s", "s6.small.1", 1).await.remove(0);
    let system =
        ecs.server(&server).await["os-extended-volumes:volumes_attached"][0]["id"].as_str().expect("id").to_string();
    let (status, body) = ecs.call(Method::DELETE, &v2(&ecs, &format!("/cloudvolumes/{system}")), None).await;
    assert_evs_error(status, &body, 400, "EVS.1046");
}

#[tokio::test]
async fn another_projects_disks_are_invisible_and_its_urls_refused() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let mine = create_volume(&ecs, "mine", 10).await;
    ecs.credential = other_credential();
    let (status, body) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/{mine}"))).await;
    assert_evs_error(status, &body, 404, "EVS.5404");
    let (_, body) = ecs.get(&v2(&ecs, "/cloudvolumes/detail")).await;
    assert_eq!(body["count"], 0);
    let (status, body) = ecs.get(&format!("/v2/{}/cloudvolumes/detail", test_credential().project_id)).await;
    assert_evs_error(status, &body, 403, "EVS.5403");
}

#[tokio::test]
async fn fault_rules_fail_a_create_into_error_and_refuse_requests() {
    let ecs = TestServer::start().await;
    let rule =
        json!({"operation": "create-volume", "count": 1, "effect": {"kind": "sub_job_fail", "code": "EVS.2024"}});
    assert_eq!(ecs.post("/_ecsd/faults", rule).await.0, StatusCode::CREATED);
    let body = json!({"volume": {"size": 10, "volume_type": "SSD", "availability_zone": "eu-de-01"}});
    let (status, accepted) = ecs.post(&v21(&ecs, "/cloudvolumes"), body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let job = ecs.wait_job(accepted["job_id"].as_str().expect("job")).await;
    assert_eq!((job["status"].clone(), job["error_code"].clone()), (json!("FAIL"), json!("EVS.2024")));
    let id = accepted["volume_ids"][0].as_str().expect("id");
    assert_eq!(show_volume(&ecs, id).await["status"], "error");
    // A disk in error may be deleted.
    let (status, _) = ecs.call(Method::DELETE, &v2(&ecs, &format!("/cloudvolumes/{id}")), None).await;
    assert_eq!(status, StatusCode::OK);
    let rule = json!({"operation": "delete-volume", "count": 1,
                      "effect": {"kind": "http_error", "status": 500, "code": "EVS.5500"}});
    assert_eq!(ecs.post("/_ecsd/faults", rule).await.0, StatusCode::CREATED);
    let other = create_volume(&ecs, "kept", 10).await;
    let (status, body) = ecs.call(Method::DELETE, &v2(&ecs, &format!("/cloudvolumes/{other}")), None).await;
    assert_eq!((status.as_u16(), body["error"]["code"].clone()), (500, json!("EVS.5500")));
    assert_eq!(show_volume(&ecs, &other).await["status"], "available");
}

#[tokio::test]
async fn with_realistic_timings_a_disk_is_creating_until_its_job_ends() {
    let timings = ecsd::engine::sim::Timings { create_volume_ms: 600_000, ..ecsd::engine::sim::Timings::INSTANT };
    let ecs = TestServer::start_with_timings(timings).await;
    let body = json!({"volume": {"size": 10, "volume_type": "SSD", "availability_zone": "eu-de-01"}});
    let (_, accepted) = ecs.post(&v21(&ecs, "/cloudvolumes"), body).await;
    let id = accepted["volume_ids"][0].as_str().expect("id");
    assert_eq!(show_volume(&ecs, id).await["status"], "creating");
    let (status, body) = ecs.call(Method::DELETE, &v2(&ecs, &format!("/cloudvolumes/{id}")), None).await;
    assert_evs_error(status, &body, 400, "EVS.1046");
    assert_eq!(ecs.job(accepted["job_id"].as_str().expect("job")).await["status"], "INIT");
    let (status, _) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert!(status.is_success());
    assert_eq!(show_volume(&ecs, id).await["status"], "available");
}
