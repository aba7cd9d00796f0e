//! The recycle bin (issue 13): ShowRecycleBin, UpdateRecycleBin, UpdateRecycleBinPolicy,
//! ListRecycleBinServers, RevertRecycleBinServer, DeleteRecycleBinServer, a delete that keeps
//! servers in the bin and the purge on ecsd's clock.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn bin(ecs: &TestServer) -> Value {
    let (status, body) = ecs.get(&ecs.v1("/recycle-bin")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn switch(ecs: &TestServer, on: &str) -> (StatusCode, Value) {
    ecs.put(&ecs.v1("/recycle-bin"), json!({"recycle_bin": {"switch": on}})).await
}

async fn policy(ecs: &TestServer, hours: Value, days: Value) -> (StatusCode, Value) {
    ecs.put(&ecs.v1("/recycle-bin/policy"), json!({"policy": {"retention_hour": hours, "recycle_threshold_day": days}}))
        .await
}

async fn binned(ecs: &TestServer, query: &str) -> Vec<String> {
    let (status, body) = ecs.get(&ecs.v1(&format!("/recycle-bin/cloudservers{query}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["servers"].as_array().expect("servers").iter().map(|s| s["id"].as_str().expect("id").to_string()).collect()
}

async fn advance(ecs: &TestServer, seconds: f64) {
    let (status, body) = ecs.post("/_ecsd/clock/advance", json!({ "seconds": seconds })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A bin that is on, keeps servers 2 hours and takes any a day old; servers made a day ago.
async fn with_bin(ecs: &TestServer, name: &str, count: u32) -> Vec<String> {
    let mut body = create_body(name, "s6.small.1", count);
    body["server"]["server_tags"] = json!([{"key": "env", "value": "prod"}]);
    body["server"]["data_volumes"] = json!([{"volumetype": "SSD", "size": 20}]);
    let ids = ecs.create_from(body).await;
    assert_eq!(switch(ecs, "on").await.0, StatusCode::OK);
    assert_eq!(policy(ecs, json!(2), json!(1)).await.0, StatusCode::OK);
    advance(ecs, 86_400.0).await;
    ids
}

#[tokio::test]
async fn the_bin_is_off_by_default_and_its_switch_and_policy_keep_to_their_ranges() {
    let ecs = TestServer::start().await;
    let shown = bin(&ecs).await;
    assert_eq!(
        shown,
        json!({"project_id": ecs.project(), "switch": "off", "policy": {"recycle_threshold_day": 7, "retention_hour": 168}})
    );
    let (status, body) = switch(&ecs, "on").await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (status, body) = policy(&ecs, json!(24), json!(3)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(bin(&ecs).await["policy"], json!({"recycle_threshold_day": 3, "retention_hour": 24}));
    assert_eq!(bin(&ecs).await["switch"], "on");
    for (hours, days) in [
        (json!(0), json!(3)),
        (json!(721), json!(3)),
        (json!(24), json!(0)),
        (json!(24), json!(1001)),
        (json!("x"), json!(3)),
    ] {
        let (status, body) = policy(&ecs, hours, days).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    let (status, body) = switch(&ecs, "maybe").await;
    assert_error(status, &body, 400, "Ecs.0005");
    assert_eq!(
        bin(&ecs).await["policy"],
        json!({"recycle_threshold_day": 3, "retention_hour": 24}),
        "refusals change nothing"
    );
}

#[tokio::test]
async fn a_delete_keeps_old_enough_servers_in_the_bin_and_a_revert_brings_them_back_with_disks_and_tags() {
    let ecs = TestServer::start().await;
    let ids = with_bin(&ecs, "keep", 2).await;
    let before = ecs.server(&ids[0]).await;
    let usage = ecs.limits().await;
    let job = ecs.delete(&ids).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "deleteServer");

    let server = ecs.server(&ids[0]).await;
    assert_eq!(
        (server["status"].as_str(), server["OS-EXT-STS:vm_state"].as_str()),
        (Some("SOFT_DELETED"), Some("soft-delete"))
    );
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(listed["count"], 0, "a server in the bin is not in the server list: {listed}");
    let mut in_bin = binned(&ecs, "").await;
    in_bin.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(in_bin, expected);
    assert_eq!(binned(&ecs, "?name=nothing-like-it").await, Vec::<String>::new());
    assert_eq!(ecs.limits().await, usage, "servers in the bin still hold their quota");
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-start": {"servers": server_ids(&ids[..1])}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["entities"]["sub_jobs"][0]["error_code"], "Ecs.0100", "a server in the bin cannot start");

    let revert = ecs.v1(&format!("/recycle-bin/cloudservers/{}/actions/revert", ids[0]));
    let (status, answer) = ecs.call(Method::POST, &revert, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!((job["status"].as_str(), job["job_type"].as_str()), (Some("SUCCESS"), Some("restoreServer")));
    let back = ecs.server(&ids[0]).await;
    assert_eq!(back["status"], "SHUTOFF");
    for kept in ["os-extended-volumes:volumes_attached", "tags", "addresses", "OS-EXT-SRV-ATTR:host", "image"] {
        assert_eq!(back[kept], before[kept], "{kept} came back");
    }
    assert_eq!(binned(&ecs, "").await, vec![ids[1].clone()]);
    let (status, body) = ecs.call(Method::POST, &revert, None).await;
    assert_error(status, &body, 400, "Ecs.0100");

    // Deleted for good from the bin; then the bin is empty and may be switched off.
    let (status, body) = switch(&ecs, "off").await;
    assert_error(status, &body, 400, "Ecs.0005");
    let purge = ecs.v1(&format!("/recycle-bin/cloudservers/{}", ids[1]));
    let (status, answer) = ecs.call(Method::DELETE, &purge, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(ecs.wait_job(answer["job_id"].as_str().expect("job")).await["status"], "SUCCESS");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{}", ids[1]))).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let not_in_bin = ecs.v1(&format!("/recycle-bin/cloudservers/{}", ids[0]));
    let (status, body) = ecs.call(Method::DELETE, &not_in_bin, None).await;
    assert_error(status, &body, 400, "Ecs.0100");
    assert_eq!(switch(&ecs, "off").await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_timers_purge_the_bin_after_the_retention_time_on_ecsds_clock() {
    let ecs = TestServer::start().await;
    let ids = with_bin(&ecs, "purge", 1).await;
    ecs.delete(&ids).await;
    advance(&ecs, 3600.0).await;
    assert_eq!(binned(&ecs, "").await, ids, "still in the bin after one of two hours");
    advance(&ecs, 3600.0).await;
    ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(binned(&ecs, "").await, Vec::<String>::new());
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{}", ids[0]))).await;
    assert_error(status, &body, 404, "Ecs.0114");
    assert_eq!(ecs.limits().await["totalInstancesUsed"], 0, "the quota is free again");
}

#[tokio::test]
async fn the_bin_takes_only_servers_its_policy_allows_and_faults_reach_it() {
    let ecs = TestServer::start().await;
    let old = with_bin(&ecs, "old", 1).await;
    let young = ecs.create_servers("young", "s6.small.1", 1).await;
    let job = ecs.delete(&[old[0].clone(), young[0].clone()]).await;
    assert_eq!(job["status"], "SUCCESS");
    assert_eq!(binned(&ecs, "").await, old, "a server younger than the threshold is deleted for good");
    let (status, _) = ecs.get(&ecs.v1(&format!("/cloudservers/{}", young[0]))).await;
    assert_eq!(status.as_u16(), 404);

    let rule = json!({"operation": "recycle-bin", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Common.0503"}});
    let (status, _) = ecs.post("/_ecsd/faults", rule).await;
    assert!(status.is_success());
    let (status, body) = ecs.get(&ecs.v1("/recycle-bin")).await;
    assert_error(status, &body, 503, "Common.0503");
    let rule = json!({"operation": "recycle-bin", "count": 1, "effect": {"kind": "sub_job_fail", "code": "Ecs.0101"}});
    ecs.post("/_ecsd/faults", rule).await;
    let revert = ecs.v1(&format!("/recycle-bin/cloudservers/{}/actions/revert", old[0]));
    let (_, answer) = ecs.call(Method::POST, &revert, None).await;
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(binned(&ecs, "").await, old, "a failed revert leaves it in the bin");
}

#[tokio::test]
async fn the_bin_survives_restart_and_snapshots_and_stays_in_its_project() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let ids = with_bin(&ecs, "durable", 1).await;
    ecs.delete(&ids).await;
    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    assert_eq!(binned(&ecs, "").await, ids);
    assert_eq!(bin(&ecs).await["switch"], "on");
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "binned"})).await;
    assert!(status.is_success());
    let revert = ecs.v1(&format!("/recycle-bin/cloudservers/{}/actions/revert", ids[0]));
    let (_, answer) = ecs.call(Method::POST, &revert, None).await;
    ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(binned(&ecs, "").await, Vec::<String>::new());
    let (status, _) = ecs.post("/_ecsd/snapshots/binned/restore", json!({})).await;
    assert!(status.is_success());
    assert_eq!(binned(&ecs, "").await, ids, "the snapshot holds the bin");

    ecs.credential = other_credential();
    assert_eq!(bin(&ecs).await["switch"], "off", "each project has its own bin");
    assert_eq!(binned(&ecs, "").await, Vec::<String>::new());
    let (status, body) =
        ecs.call(Method::POST, &revert.replace(test_credential().project_id.as_str(), ecs.project()), None).await;
    assert_error(status, &body, 404, "Ecs.0114");

    ecs.credential = test_credential();
    let (status, _) = ecs.post("/_ecsd/reset", json!({})).await;
    assert!(status.is_success());
    assert_eq!(bin(&ecs).await["switch"], "off", "a reset empties and switches off the bin");
}
