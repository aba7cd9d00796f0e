//! `GET /v1/{pid}/jobs/{job_id}` (SDK `ShowJob`): contract section 3.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn take_time(doc: &mut Value, pointer: &str) {
    let slot = doc.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}"));
    assert!(slot.as_str().is_some_and(|t| has_shape(t, JOB_TIME)), "{pointer}: {slot}");
    *slot = json!("TIME");
}

#[tokio::test]
async fn a_finished_create_job_has_the_documented_shape() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("job", "s6.small.1", 2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job_id = body["job_id"].as_str().expect("job id");
    let ids = &body["serverIds"];
    let mut job = ecs.wait_job(job_id).await;

    let sub_ids: Vec<String> = job["entities"]["sub_jobs"]
        .as_array()
        .expect("subs")
        .iter()
        .map(|s| s["job_id"].as_str().expect("sub id").to_string())
        .collect();
    for sub_id in &sub_ids {
        assert!(sub_id.len() == 32 && sub_id.chars().all(|c| c.is_ascii_hexdigit()), "{sub_id}");
        assert_ne!(sub_id, job_id);
    }
    for pointer in [
        "/begin_time",
        "/end_time",
        "/entities/sub_jobs/0/begin_time",
        "/entities/sub_jobs/0/end_time",
        "/entities/sub_jobs/1/begin_time",
        "/entities/sub_jobs/1/end_time",
    ] {
        take_time(&mut job, pointer);
    }
    assert_eq!(
        job,
        json!({
            "job_id": job_id,
            "job_type": "createServer",
            "status": "SUCCESS",
            "begin_time": "TIME",
            "end_time": "TIME",
            "error_code": null,
            "fail_reason": null,
            "entities": {
                "sub_jobs_total": 2,
                "sub_jobs": [
                    {
                        "job_id": sub_ids[0],
                        "job_type": "createSingleServer",
                        "status": "SUCCESS",
                        "begin_time": "TIME",
                        "end_time": "TIME",
                        "error_code": null,
                        "fail_reason": null,
                        "entities": {"server_id": ids[0]},
                    },
                    {
                        "job_id": sub_ids[1],
                        "job_type": "createSingleServer",
                        "status": "SUCCESS",
                        "begin_time": "TIME",
                        "end_time": "TIME",
                        "error_code": null,
                        "fail_reason": null,
                        "entities": {"server_id": ids[1]},
                    },
                ],
            },
        })
    );
}

#[tokio::test]
async fn a_sub_job_is_queryable_by_its_own_id_with_flat_entities() {
    let ecs = TestServer::start().await;
    let (_, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("sub", "s6.small.1", 2)).await;
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    let sub = &job["entities"]["sub_jobs"][1];
    let sub_id = sub["job_id"].as_str().expect("sub id");

    let mut shown = ecs.job(sub_id).await;
    take_time(&mut shown, "/begin_time");
    take_time(&mut shown, "/end_time");
    assert_eq!(
        shown,
        json!({
            "job_id": sub_id,
            "job_type": "createSingleServer",
            "status": "SUCCESS",
            "begin_time": "TIME",
            "end_time": "TIME",
            "error_code": null,
            "fail_reason": null,
            "entities": {"server_id": body["serverIds"][1]},
        })
    );
}

#[tokio::test]
async fn a_failed_sub_job_queried_by_its_id_carries_its_code() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("fail", "s6.small.1", 1).await;
    let job = ecs.batch("os-start", &ids, json!({})).await;
    assert_eq!(job["status"], "FAIL");
    let sub_id = job["entities"]["sub_jobs"][0]["job_id"].as_str().expect("sub id");
    let shown = ecs.job(sub_id).await;
    assert_eq!(shown["status"], "FAIL");
    assert_eq!(shown["job_type"], "startSingleServer");
    assert_eq!(shown["error_code"], "Ecs.0100");
    assert!(shown["fail_reason"].as_str().is_some_and(|r| !r.is_empty()), "{shown}");
    assert_eq!(shown["entities"]["server_id"], ids[0].as_str());
    assert!(shown["entities"].get("sub_jobs").is_none(), "{shown}");
}

#[tokio::test]
async fn an_unknown_job_is_common_0011_with_400() {
    let ecs = TestServer::start().await;
    for job_id in ["ff80808288d41e1b018990260955686a", "70a599e0-31e7-49b7-b260-868f441e862b", "nope"] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/jobs/{job_id}"))).await;
        assert_error(status, &body, 400, "Common.0011");
        let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["error"], "the ECS error shape, not top-level code/message: {body}");
    }
}

#[tokio::test]
async fn a_job_of_another_project_is_unknown() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let (_, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("mine", "s6.small.1", 1)).await;
    let job_id = body["job_id"].as_str().expect("job").to_string();
    ecs.wait_job(&job_id).await;
    ecs.credential = other_credential();
    let (status, body) = ecs.get(&ecs.v1(&format!("/jobs/{job_id}"))).await;
    assert_error(status, &body, 400, "Common.0011");
}
