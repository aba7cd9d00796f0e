use crate::common::*;
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

#[tokio::test]
async fn a_job_cut_short_by_a_stop_finishes_after_the_restart() {
    let slow = ecsd::engine::sim::Timings { create_ms: 60_000, ..ecsd::engine::sim::Timings::INSTANT };
    let mut ecs = TestServer::start_with(ecsd::domain::catalogue::Catalogue::default(), slow).await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("cut", "s6.small.1", 3)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job_id = body["job_id"].as_str().expect("job").to_string();
    let first = body["serverIds"][0].as_str().expect("id").to_string();
    assert_eq!(ecs.server(&first).await["status"], "BUILD");

    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    let job = ecs.wait_job(&job_id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    let (_, list) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(list["count"], 3, "no server lost or duplicated");
    for server in list["servers"].as_array().expect("servers") {
        assert_eq!(server["status"], "ACTIVE");
        assert_eq!(server["OS-EXT-STS:task_state"], serde_json::Value::Null);
    }
}

#[tokio::test]
async fn a_password_reset_waits_for_the_next_reboot() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("pw", "s6.small.1", 1).await;
    let flag = ecs.v1(&format!("/cloudservers/{}/os-resetpwd-flag", ids[0]));
    let (status, body) = ecs
        .put(
            &ecs.v1("/cloudservers/os-reset-passwords"),
            json!({"new_password": "Test@123456", "servers": server_ids(&ids)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.get(&flag).await.1["password_reset_pending"], true);
    ecs.batch("reboot", &ids, json!({"type": "HARD"})).await;
    assert_eq!(ecs.get(&flag).await.1["password_reset_pending"], false);
}
