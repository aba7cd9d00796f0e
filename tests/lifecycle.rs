mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_then_stop_start_reboot_and_delete_a_batch() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.large.2", 3).await;
    assert_eq!(ids.len(), 3);
    assert_eq!(ecs.server(&ids[0]).await["status"], "ACTIVE");

    let job = ecs.batch("os-stop", &ids, json!({"type": "HARD"})).await;
    assert_eq!(job["status"], "SUCCESS");
    assert_eq!(job["job_type"], "stopServer");
    assert_eq!(job["entities"]["sub_jobs_total"], 3);
    assert_eq!(ecs.server(&ids[1]).await["status"], "SHUTOFF");
    assert_eq!(ecs.server(&ids[1]).await["OS-EXT-STS:power_state"], 4);

    assert_eq!(ecs.batch("os-start", &ids, json!({})).await["status"], "SUCCESS");
    assert_eq!(ecs.batch("reboot", &ids, json!({"type": "SOFT"})).await["status"], "SUCCESS");
    assert_eq!(ecs.server(&ids[2]).await["status"], "ACTIVE");

    let (status, body) = ecs.post(&ecs.v1("/cloudservers/delete"), json!({"servers": server_ids(&ids)})).await;
    assert_eq!(status, StatusCode::OK);
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{}", ids[0]))).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn stopping_a_stopped_server_fails_its_sub_job_while_the_others_stop() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids[..1], json!({})).await;
    let job = ecs.batch("os-stop", &ids, json!({})).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["error_code"], "Ecs.0100");
    let subs = job["entities"]["sub_jobs"].as_array().expect("sub jobs");
    assert_eq!(subs[0]["status"], "FAIL");
    assert_eq!(subs[0]["error_code"], "Ecs.0100");
    assert_eq!(subs[0]["entities"]["server_id"], ids[0].as_str());
    assert_eq!(subs[1]["status"], "SUCCESS");
    assert_eq!(ecs.server(&ids[1]).await["status"], "SHUTOFF");
}

#[tokio::test]
async fn servers_and_jobs_survive_a_restart() {
    let mut ecs = TestServer::start().await;
    let ids = ecs.create_servers("keep", "s6.small.1", 2).await;
    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    assert_eq!(ecs.server(&ids[0]).await["name"], "keep-0000");
    let (_, list) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(list["count"], 2);
}
