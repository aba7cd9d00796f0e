//! `POST /v1/{pid}/cloudservers/delete` (SDK `DeleteServers`): contract T1.7, 2.5, 5.5.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn delete_request(ecs: &TestServer, body: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1("/cloudservers/delete"), body).await
}

fn with_ip(name: &str, ip: &str) -> Value {
    let mut body = create_body(name, "s6.small.1", 1);
    body["server"]["nics"] = json!([{"subnet_id": SUBNET, "ip_address": ip}]);
    body
}

#[tokio::test]
async fn deleted_servers_answer_404_and_leave_the_list() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("gone", "s6.small.1", 3).await;
    let (status, body) = delete_request(
        &ecs,
        json!({"servers": server_ids(&ids[..2]), "delete_publicip": false, "delete_volume": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["job_id"]);
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "deleteServer");
    assert_eq!(job["entities"]["sub_jobs_total"], 2);
    for (sub, id) in job["entities"]["sub_jobs"].as_array().expect("subs").iter().zip(&ids) {
        assert_eq!(sub["job_type"], "deleteSingleServer");
        assert_eq!(sub["status"], "SUCCESS");
        assert_eq!(sub["entities"]["server_id"], id.as_str());
        assert!(has_shape(sub["end_time"].as_str().expect("end"), JOB_TIME));
    }
    for id in &ids[..2] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}"))).await;
        assert_error(status, &body, 404, "Ecs.0114");
    }
    let left: Vec<Value> = ecs.all_servers().await.iter().map(|s| s["id"].clone()).collect();
    assert_eq!(left, [json!(ids[2])]);
}

#[tokio::test]
async fn a_stopped_server_can_be_deleted() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("off", "s6.small.1", 1).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    assert_eq!(ecs.delete(&ids).await["status"], "SUCCESS");
    assert!(ecs.all_servers().await.is_empty());
}

#[tokio::test]
async fn quota_usage_drops_when_servers_are_deleted() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("q", "s6.large.2", 3).await;
    let limits = ecs.limits().await;
    assert_eq!((limits["totalInstancesUsed"].clone(), limits["totalCoresUsed"].clone()), (json!(3), json!(6)));
    assert_eq!(limits["totalRAMUsed"], 3 * 4096);
    ecs.delete(&ids[..2]).await;
    let limits = ecs.limits().await;
    assert_eq!(limits["totalInstancesUsed"], 1);
    assert_eq!(limits["totalCoresUsed"], 2);
    assert_eq!(limits["totalRAMUsed"], 4096);
    ecs.delete(&ids[2..]).await;
    let limits = ecs.limits().await;
    assert_eq!((limits["totalInstancesUsed"].clone(), limits["totalRAMUsed"].clone()), (json!(0), json!(0)));
}

#[tokio::test]
async fn deleting_frees_the_quota_for_new_servers() {
    let ecs = TestServer::start_with_toml("[quota]\nmax_instances = 2\n").await;
    let ids = ecs.create_servers("full", "s6.small.1", 2).await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("more", "s6.small.1", 1)).await;
    assert_error(status, &body, 400, "Ecs.0001");
    ecs.delete(&ids[..1]).await;
    ecs.create_servers("more", "s6.small.1", 1).await;
}

#[tokio::test]
async fn a_deleted_servers_fixed_ip_can_be_taken_again() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_from(with_ip("first", "192.168.9.9")).await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), with_ip("second", "192.168.9.9")).await;
    assert_error(status, &body, 400, "Ecs.0010");
    ecs.delete(&ids).await;
    let ids = ecs.create_from(with_ip("second", "192.168.9.9")).await;
    assert_eq!(ecs.server(&ids[0]).await["addresses"][VPC][0]["addr"], "192.168.9.9");
}

#[tokio::test]
async fn a_deleted_servers_automatic_ip_is_handed_out_again() {
    let ecs = TestServer::start().await;
    let first = ecs.create_servers("first", "s6.small.1", 1).await;
    let addr = ecs.server(&first[0]).await["addresses"][VPC][0]["addr"].clone();
    ecs.delete(&first).await;
    let second = ecs.create_servers("second", "s6.small.1", 1).await;
    assert_eq!(ecs.server(&second[0]).await["addresses"][VPC][0]["addr"], addr);
}

#[tokio::test]
async fn a_server_being_deleted_keeps_its_status_with_task_deleting_and_a_second_delete_fails_ecs_1001() {
    let ecs = TestServer::start_with_timings(slow(false, false, true)).await;
    let ids = ecs.create_servers("slow", "s6.small.1", 1).await;
    let (status, body) = delete_request(&ecs, json!({"servers": server_ids(&ids[..1])})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["status"], "ACTIVE");
    assert_eq!(server["OS-EXT-STS:task_state"], "deleting");

    let (status, body) = delete_request(&ecs, json!({"servers": server_ids(&ids[..1])})).await;
    assert_eq!(status, StatusCode::OK, "a state conflict is a failed sub-job: {body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "FAIL", "{job}");
    assert_eq!(job["error_code"], "Ecs.1001");
    assert_eq!(job["entities"]["sub_jobs"][0]["error_code"], "Ecs.1001");
}

#[tokio::test]
async fn an_empty_list_or_duplicates_are_ecs_0005_and_over_1000_ids_ecs_0118() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("keep", "s6.small.1", 1).await;
    let (status, body) = delete_request(&ecs, json!({"servers": []})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = delete_request(&ecs, json!({"servers": server_ids(&[ids[0].clone(), ids[0].clone()])})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = delete_request(&ecs, json!({"servers": server_ids(&random_ids(1001))})).await;
    assert_error(status, &body, 400, "Ecs.0118");
    let (status, body) = delete_request(&ecs, json!({"delete_volume": true})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers/delete"), Vec::new(), &[]).await;
    assert_error(status, &body, 400, "Common.0002");
    assert_eq!(ecs.all_servers().await.len(), 1);
}

#[tokio::test]
async fn an_unknown_id_is_ecs_0114_and_nothing_is_deleted() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("keep", "s6.small.1", 1).await;
    let mixed = vec![ids[0].clone(), random_ids(1).remove(0)];
    let (status, body) = delete_request(&ecs, json!({"servers": server_ids(&mixed)})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["OS-EXT-STS:task_state"], Value::Null);
    assert_eq!(ecs.all_servers().await.len(), 1);
}
