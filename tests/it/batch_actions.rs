//! `POST /v1/{pid}/cloudservers/action` with `os-start`, `os-stop`, `reboot` (SDK
//! `BatchStartServers`, `BatchStopServers`, `BatchRebootServers`): contract T1.1–T1.3, 2.5, 3.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn action(ecs: &TestServer, body: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1("/cloudservers/action"), body).await
}

/// Asserts the documented job document of a finished batch: parent and sub-job types, the
/// time formats, sub-jobs in request order, and `error_code`/`fail_reason` null on success.
fn assert_job_shape(job: &Value, parent_type: &str, sub_type: &str, ids: &[String]) {
    let keys: Vec<&String> = job.as_object().expect("object").keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["begin_time", "end_time", "entities", "error_code", "fail_reason", "job_id", "job_type", "status"],
        "{job}"
    );
    assert_eq!(job["job_type"], parent_type);
    assert!(job["job_id"].as_str().is_some_and(|id| id.len() == 32), "{job}");
    for time in ["begin_time", "end_time"] {
        assert!(has_shape(job[time].as_str().expect("time"), JOB_TIME), "{time} of {job}");
    }
    let entities = job["entities"].as_object().expect("entities");
    let mut entity_keys: Vec<&String> = entities.keys().collect();
    entity_keys.sort();
    assert_eq!(entity_keys, ["sub_jobs", "sub_jobs_total"], "{job}");
    assert_eq!(job["entities"]["sub_jobs_total"], ids.len());
    let subs = job["entities"]["sub_jobs"].as_array().expect("sub jobs");
    assert_eq!(subs.len(), ids.len());
    for (sub, id) in subs.iter().zip(ids) {
        assert_eq!(sub["job_type"], sub_type, "{sub}");
        assert_eq!(sub["entities"]["server_id"], id.as_str(), "{sub}");
        assert!(sub["job_id"].as_str().is_some_and(|s| s.len() == 32 && s != job["job_id"]), "{sub}");
        for time in ["begin_time", "end_time"] {
            assert!(has_shape(sub[time].as_str().expect("time"), JOB_TIME), "{time} of {sub}");
        }
        if sub["status"] == "SUCCESS" {
            assert_eq!(sub["error_code"], Value::Null);
            assert_eq!(sub["fail_reason"], Value::Null);
            assert!(sub["entities"].get("errorcode_message").is_none_or(Value::is_null), "{sub}");
        }
    }
    if job["status"] == "SUCCESS" {
        assert_eq!(job["error_code"], Value::Null);
        assert_eq!(job["fail_reason"], Value::Null);
    }
}

async fn statuses(ecs: &TestServer, ids: &[String]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for id in ids {
        let server = ecs.server(id).await;
        out.push((server["status"].as_str().expect("status").to_string(), server["OS-EXT-STS:task_state"].clone()));
    }
    out
}

#[tokio::test]
async fn stop_answers_a_job_id_and_its_job_stops_every_server() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 3).await;
    let (status, body) = action(&ecs, json!({"os-stop": {"type": "HARD", "servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["job_id"], "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_job_shape(&job, "stopServer", "stopSingleServer", &ids);
    for id in &ids {
        let server = ecs.server(id).await;
        assert_eq!(server["status"], "SHUTOFF");
        assert_eq!(server["OS-EXT-STS:power_state"], 4);
    }
}

#[tokio::test]
async fn stop_without_a_type_is_a_soft_stop() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 1).await;
    let job = ecs.batch("os-stop", &ids, json!({})).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(ecs.server(&ids[0]).await["status"], "SHUTOFF");
}

#[tokio::test]
async fn start_brings_stopped_servers_back_to_active() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    let job = ecs.batch("os-start", &ids, json!({})).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_job_shape(&job, "startServer", "startSingleServer", &ids);
    for id in &ids {
        let server = ecs.server(id).await;
        assert_eq!(server["status"], "ACTIVE");
        assert_eq!(server["OS-EXT-STS:power_state"], 1);
    }
}

#[tokio::test]
async fn soft_and_hard_reboot_end_active() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 2).await;
    for kind in ["SOFT", "HARD"] {
        let job = ecs.batch("reboot", &ids, json!({ "type": kind })).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
        assert_job_shape(&job, "rebootServer", "rebootSingleServer", &ids);
        assert_eq!(statuses(&ecs, &ids).await, vec![("ACTIVE".to_string(), Value::Null); 2]);
    }
}

#[tokio::test]
async fn the_job_lists_its_sub_jobs_in_request_order() {
    let ecs = TestServer::start().await;
    let mut ids = ecs.create_servers("order", "s6.small.1", 4).await;
    ids.reverse();
    ids.swap(0, 2);
    let job = ecs.batch("reboot", &ids, json!({"type": "SOFT"})).await;
    assert_job_shape(&job, "rebootServer", "rebootSingleServer", &ids);
}

#[tokio::test]
async fn a_server_in_the_wrong_status_fails_its_sub_job_with_ecs_0100_while_the_others_succeed() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("mix", "s6.small.1", 3).await;
    ecs.batch("os-stop", &ids[1..2], json!({})).await;
    // Start all three: only the middle one is stopped.
    let job = ecs.batch("os-start", &ids, json!({})).await;
    assert_job_shape(&job, "startServer", "startSingleServer", &ids);
    assert_eq!(job["status"], "FAIL", "{job}");
    let subs = job["entities"]["sub_jobs"].as_array().expect("subs");
    let sub_statuses: Vec<&str> = subs.iter().map(|s| s["status"].as_str().expect("status")).collect();
    assert_eq!(sub_statuses, ["FAIL", "SUCCESS", "FAIL"]);
    for failed in [&subs[0], &subs[2]] {
        assert_eq!(failed["error_code"], "Ecs.0100", "{failed}");
        assert!(failed["fail_reason"].as_str().is_some_and(|r| !r.is_empty()), "{failed}");
        assert!(
            failed["entities"]["errorcode_message"].as_str().is_some_and(|m| !m.is_empty()),
            "errorcode_message explains the failure: {failed}"
        );
    }
    assert_eq!(job["error_code"], "Ecs.0100", "the parent copies the first failed sub-job's code");
    assert_eq!(job["fail_reason"], subs[0]["fail_reason"]);
    assert_eq!(statuses(&ecs, &ids).await, vec![("ACTIVE".to_string(), Value::Null); 3]);
}

#[tokio::test]
async fn a_busy_server_fails_its_sub_job_and_is_not_operated_on_twice() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let ids = ecs.create_servers("busy", "s6.small.1", 2).await;
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": server_ids(&ids[..1])}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // ids[0] is powering off for minutes; a reboot of both must leave it alone.
    let job = ecs.batch("reboot", &ids, json!({"type": "HARD"})).await;
    assert_eq!(job["status"], "FAIL", "{job}");
    let subs = job["entities"]["sub_jobs"].as_array().expect("subs");
    assert_eq!(subs[0]["status"], "FAIL");
    assert_eq!(subs[0]["error_code"], "Ecs.0603");
    assert_eq!(subs[1]["status"], "SUCCESS");
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["OS-EXT-STS:task_state"], "powering-off", "still in its first operation");
}

#[tokio::test]
async fn an_empty_server_list_is_ecs_0005() {
    let ecs = TestServer::start().await;
    for key in ["os-start", "os-stop"] {
        let (status, body) = action(&ecs, json!({ key: {"servers": []} })).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    let (status, body) = action(&ecs, json!({"reboot": {"type": "SOFT", "servers": []}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn more_than_1000_servers_is_ecs_0118() {
    let ecs = TestServer::start().await;
    let ids = random_ids(1001);
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_error(status, &body, 400, "Ecs.0118");
}

#[tokio::test]
async fn duplicate_ids_are_ecs_0005_and_nothing_happens() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("dup", "s6.small.1", 2).await;
    let twice = vec![ids[0].clone(), ids[1].clone(), ids[0].clone()];
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": server_ids(&twice)}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    assert_eq!(statuses(&ecs, &ids).await, vec![("ACTIVE".to_string(), Value::Null); 2]);
}

#[tokio::test]
async fn an_unknown_id_is_ecs_0114_with_404_and_no_job_is_created() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let ids = ecs.create_servers("real", "s6.small.1", 2).await;
    let unknown = random_ids(1).remove(0);
    let mixed = vec![ids[0].clone(), unknown.clone(), ids[1].clone()];
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": server_ids(&mixed)}})).await;
    let message = assert_error(status, &body, 404, "Ecs.0114");
    assert!(message.contains(&unknown), "names the unknown id: {message}");
    assert!(body.get("job_id").is_none(), "{body}");
    // No job: the known servers were not touched (a stop would leave them powering off).
    assert_eq!(statuses(&ecs, &ids).await, vec![("ACTIVE".to_string(), Value::Null); 2]);
}

#[tokio::test]
async fn a_server_of_another_project_is_unknown() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let ids = ecs.create_servers("mine", "s6.small.1", 1).await;
    ecs.credential = other_credential();
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    ecs.credential = test_credential();
    assert_eq!(ecs.server(&ids[0]).await["status"], "ACTIVE");
}

#[tokio::test]
async fn two_action_keys_an_unknown_key_or_none_is_ecs_0005() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("keys", "s6.small.1", 1).await;
    let servers = server_ids(&ids);
    for body in [
        json!({"os-start": {"servers": servers}, "os-stop": {"servers": servers}}),
        json!({"os-stop": {"servers": servers}, "reboot": {"type": "SOFT", "servers": servers}}),
        json!({"os-pause": {"servers": servers}}),
        json!({"os-stop": {"servers": servers}, "extra": true}),
        json!({}),
    ] {
        let (status, answer) = action(&ecs, body.clone()).await;
        assert_error(status, &answer, 400, "Ecs.0005");
    }
    assert_eq!(statuses(&ecs, &ids).await, vec![("ACTIVE".to_string(), Value::Null)]);
}

#[tokio::test]
async fn a_type_other_than_soft_or_hard_is_ecs_0005() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("types", "s6.small.1", 1).await;
    let servers = server_ids(&ids);
    for body in [
        json!({"os-stop": {"type": "FORCE", "servers": servers}}),
        json!({"os-stop": {"type": "soft", "servers": servers}}),
        json!({"reboot": {"type": "HARDER", "servers": servers}}),
        json!({"reboot": {"type": 1, "servers": servers}}),
    ] {
        let (status, answer) = action(&ecs, body).await;
        assert_error(status, &answer, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn reboot_without_a_type_is_ecs_0005() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("reboot", "s6.small.1", 1).await;
    let (status, body) = action(&ecs, json!({"reboot": {"servers": server_ids(&ids)}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn malformed_bodies_are_ecs_0005_and_an_empty_body_common_0002() {
    let ecs = TestServer::start().await;
    let path = ecs.v1("/cloudservers/action");
    let (status, body) = ecs.call_raw(Method::POST, &path, b"{\"os-stop\":".to_vec(), &[]).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.call_raw(Method::POST, &path, Vec::new(), &[]).await;
    assert_error(status, &body, 400, "Common.0002");
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": [{"name": "x"}]}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": "all"}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn a_running_job_is_init_or_running_with_an_empty_end_time() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let ids = ecs.create_servers("slow", "s6.small.1", 2).await;
    let (status, body) = action(&ecs, json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.job(body["job_id"].as_str().expect("job")).await;
    assert!(job["status"] == "INIT" || job["status"] == "RUNNING", "{job}");
    assert_eq!(job["end_time"], "");
    assert!(has_shape(job["begin_time"].as_str().expect("begin"), JOB_TIME));
    assert_eq!(job["error_code"], Value::Null);
    for sub in job["entities"]["sub_jobs"].as_array().expect("subs") {
        assert!(sub["status"] == "INIT" || sub["status"] == "RUNNING", "{sub}");
        assert_eq!(sub["end_time"], "");
    }
}
