//! Nova's resize: RESIZE, then VERIFY_RESIZE (vm_state `resized`) until `confirmResize` keeps
//! the new flavor or `revertResize` puts the old one back; the state it waits in survives a
//! restart; refusals in Nova's shape; ECS's own resize unchanged.

use crate::common::*;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn call(ecs: &TestServer, method: Method, path: &str, body: Option<Value>) -> Answer {
    nova_call(ecs, method, &nova(ecs, path), body, "2.47").await
}

async fn action(ecs: &TestServer, id: &str, body: Value) -> Answer {
    call(ecs, Method::POST, &format!("/servers/{id}/action"), Some(body)).await
}

async fn shown(ecs: &TestServer, id: &str) -> Value {
    let answer = call(ecs, Method::GET, &format!("/servers/{id}"), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["server"].clone()
}

/// Waits until Nova shows the server idle in `wanted`.
async fn settled(ecs: &TestServer, id: &str, wanted: &str) -> Value {
    for _ in 0..500 {
        let server = shown(ecs, id).await;
        if server["status"] == wanted && server["OS-EXT-STS:task_state"].is_null() {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("server {id} never became {wanted}: {}", shown(ecs, id).await);
}

async fn actions(ecs: &TestServer, id: &str) -> Vec<Value> {
    let answer = call(ecs, Method::GET, &format!("/servers/{id}/os-instance-actions"), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["instanceActions"].as_array().expect("actions").iter().map(|a| a["action"].clone()).collect()
}

fn resize(flavor: &str) -> Value {
    json!({"resize": {"flavorRef": flavor, "OS-DCF:diskConfig": "AUTO"}})
}

#[tokio::test]
async fn a_running_server_resizes_into_verify_resize_and_a_confirm_keeps_the_new_flavor() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("grow", "s6.small.1", 1).await.remove(0);

    let answer = action(&ecs, &id, resize("s6.large.2")).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let waiting = settled(&ecs, &id, "VERIFY_RESIZE").await;
    assert_eq!(waiting["OS-EXT-STS:vm_state"], "resized");
    assert_eq!(waiting["OS-EXT-STS:power_state"], 1, "a running server keeps running");
    assert_eq!(waiting["flavor"]["original_name"], "s6.large.2");
    let in_ecs = ecs.server(&id).await;
    assert_eq!(
        (in_ecs["status"].clone(), in_ecs["flavor"]["id"].clone()),
        (json!("VERIFY_RESIZE"), json!("s6.large.2"))
    );

    // Nothing else starts on a server waiting for its confirm.
    for body in [json!({"os-stop": null}), json!({"reboot": {"type": "SOFT"}}), resize("s6.xlarge.2")] {
        assert_nova_fault(&action(&ecs, &id, body).await, 409, "conflictingRequestState");
    }

    let confirmed = action(&ecs, &id, json!({"confirmResize": null})).await;
    assert_eq!(confirmed.status, StatusCode::NO_CONTENT, "{}", confirmed.body);
    let active = settled(&ecs, &id, "ACTIVE").await;
    assert_eq!(active["OS-EXT-STS:vm_state"], "active");
    assert_eq!(active["flavor"]["original_name"], "s6.large.2");
    assert_eq!(actions(&ecs, &id).await, vec![json!("confirmResize"), json!("resize"), json!("create")]);
    assert_nova_fault(&action(&ecs, &id, json!({"confirmResize": null})).await, 409, "conflictingRequestState");
    assert_nova_fault(&action(&ecs, &id, json!({"revertResize": null})).await, 409, "conflictingRequestState");
    let stopped = action(&ecs, &id, json!({"os-stop": null})).await;
    assert_eq!(stopped.status, StatusCode::ACCEPTED, "{}", stopped.body);
}

#[tokio::test]
async fn a_revert_puts_the_old_flavor_back_and_a_stopped_server_stays_stopped() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("shrink", "s6.large.2", 1).await.remove(0);
    let stop = action(&ecs, &id, json!({"os-stop": null})).await;
    assert_eq!(stop.status, StatusCode::ACCEPTED, "{}", stop.body);
    settled(&ecs, &id, "SHUTOFF").await;

    let answer = action(&ecs, &id, resize("s6.medium.2")).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let waiting = settled(&ecs, &id, "VERIFY_RESIZE").await;
    assert_eq!(waiting["OS-EXT-STS:power_state"], 4, "a stopped server stays off");
    assert_eq!(waiting["flavor"]["original_name"], "s6.medium.2");

    let reverted = action(&ecs, &id, json!({"revertResize": null})).await;
    assert_eq!(reverted.status, StatusCode::ACCEPTED, "{}", reverted.body);
    let back = settled(&ecs, &id, "SHUTOFF").await;
    assert_eq!(back["OS-EXT-STS:vm_state"], "stopped");
    assert_eq!(back["flavor"]["original_name"], "s6.large.2");
    assert_eq!(ecs.server(&id).await["flavor"]["id"], "s6.large.2");
    assert_eq!(actions(&ecs, &id).await[..2], [json!("revertResize"), json!("resize")]);
}

#[tokio::test]
async fn resizes_are_refused_in_novas_shape() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("refused", "s6.small.1", 1).await.remove(0);
    for (body, status, fault) in [
        (resize("s6.small.1"), 400, "badRequest"),
        (resize("no-such-flavor"), 400, "badRequest"),
        (resize("kc1.large.2"), 400, "badRequest"),
        (json!({"resize": {}}), 400, "badRequest"),
        (json!({"resize": null}), 400, "badRequest"),
        (json!({"resize": {"flavorRef": 7}}), 400, "badRequest"),
        (json!({"confirmResize": null}), 409, "conflictingRequestState"),
        (json!({"revertResize": null}), 409, "conflictingRequestState"),
    ] {
        assert_nova_fault(&action(&ecs, &id, body).await, status, fault);
    }
    let same = action(&ecs, &id, resize("s6.small.1")).await;
    assert_eq!(same.body["badRequest"]["message"], "When resizing, instances must change flavor!");
    let missing = "ffffffff-ffff-4fff-bfff-ffffffffffff";
    assert_nova_fault(&action(&ecs, missing, resize("s6.large.2")).await, 404, "itemNotFound");
    assert_nova_fault(&action(&ecs, missing, json!({"confirmResize": null})).await, 404, "itemNotFound");

    assert_eq!(action(&ecs, &id, json!({"lock": null})).await.status, StatusCode::ACCEPTED);
    assert_nova_fault(&action(&ecs, &id, resize("s6.large.2")).await, 409, "conflictingRequestState");
    let server = settled(&ecs, &id, "ACTIVE").await;
    assert_eq!(server["flavor"]["original_name"], "s6.small.1", "nothing changed");
    assert_eq!(actions(&ecs, &id).await, vec![json!("create")]);
}

#[tokio::test]
async fn the_ecs_resize_does_not_wait_for_a_confirm() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("ecs-way", "s6.small.1", 1).await.remove(0);
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/cloudservers/{id}/resize")),
            json!({"resize": {"flavorRef": "s6.large.2", "mode": "withStopServer"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job id")).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    let server = settled(&ecs, &id, "ACTIVE").await;
    assert_eq!(server["flavor"]["original_name"], "s6.large.2");
    assert_eq!(server["OS-EXT-STS:vm_state"], "active");
}

#[tokio::test]
async fn the_state_a_resize_waits_in_survives_a_restart_and_a_revert_still_knows_the_old_flavor() {
    let slow = Timings { resize_ms: 600_000, ..Timings::INSTANT };
    let mut ecs = TestServer::start_with_timings(slow).await;
    let id = ecs.create_servers("durable", "s6.small.1", 1).await.remove(0);
    settled(&ecs, &id, "ACTIVE").await;
    let answer = action(&ecs, &id, resize("s6.large.2")).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    assert_eq!(shown(&ecs, &id).await["status"], "RESIZE");

    // Killed mid-resize: the restarted engine finishes it into VERIFY_RESIZE.
    ecs.restart(Timings::INSTANT).await;
    let waiting = settled(&ecs, &id, "VERIFY_RESIZE").await;
    assert_eq!(waiting["flavor"]["original_name"], "s6.large.2");

    ecs.restart(Timings::INSTANT).await;
    assert_eq!(settled(&ecs, &id, "VERIFY_RESIZE").await["OS-EXT-STS:power_state"], 1);
    let reverted = action(&ecs, &id, json!({"revertResize": null})).await;
    assert_eq!(reverted.status, StatusCode::ACCEPTED, "{}", reverted.body);
    let back = settled(&ecs, &id, "ACTIVE").await;
    assert_eq!(back["flavor"]["original_name"], "s6.small.1");
}
