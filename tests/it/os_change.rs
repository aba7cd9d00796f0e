//! OS reinstall and change (issue 13): ReinstallServerWithCloudInit (v2),
//! ReinstallServerWithoutCloudInit (v1), ChangeServerOsWithCloudInit (v2),
//! ChangeServerOsWithoutCloudInit (v1). Each with its refusals, fault injection, persistence
//! and project isolation.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CENTOS: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e02";
const WINDOWS: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e03";
const DEACTIVATED: &str = "0d4f9e1c-6b1e-4c1e-9a55-3f3c0b2f5a10";
const PASSWORD: &str = "Rebuilt-Pass-2024";

/// Stopped servers with a 40 GiB system disk, which every seeded image fits.
async fn stopped(ecs: &TestServer, name: &str, count: u32) -> Vec<String> {
    let mut body = create_body(name, "s6.small.1", count);
    body["server"]["root_volume"] = json!({"volumetype": "SSD", "size": 40});
    let ids = ecs.create_from(body).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    ids
}

async fn rebuild(ecs: &TestServer, version: &str, action: &str, id: &str, body: Value) -> (StatusCode, Value) {
    ecs.post(&format!("/{version}/{}/cloudservers/{id}/{action}", ecs.project()), body).await
}

async fn accepted(ecs: &TestServer, version: &str, action: &str, id: &str, body: Value) -> Value {
    let (status, answer) = rebuild(ecs, version, action, id, body).await;
    assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    assert_eq!(answer.as_object().map(|o| o.len()), Some(1), "only a job_id: {answer}");
    ecs.wait_job(answer["job_id"].as_str().expect("job id")).await
}

async fn password_pending(ecs: &TestServer, id: &str) -> bool {
    let (_, flag) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/os-resetpwd-flag"))).await;
    flag["password_reset_pending"].as_bool().expect("flag")
}

fn system_disk(server: &Value) -> Value {
    server["os-extended-volumes:volumes_attached"][0].clone()
}

#[tokio::test]
async fn a_change_of_os_rebuilds_the_system_disk_from_the_new_image_and_keeps_the_rest() {
    let ecs = TestServer::start().await;
    let id = stopped(&ecs, "os", 1).await.remove(0);
    let before = ecs.server(&id).await;
    let body = json!({"os-change": {"imageid": CENTOS, "adminpass": PASSWORD,
                                     "metadata": {"user_data": "IyEvYmluL3NoCmVjaG8gaGkK"}}});
    let job = accepted(&ecs, "v2", "changeos", &id, body).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "changeServerOs");
    assert_eq!(job["entities"]["server_id"], id.as_str(), "a job on one server shows it flat");

    let after = ecs.server(&id).await;
    assert_eq!(after["image"]["id"], CENTOS);
    assert_eq!(after["metadata"]["image_name"], "Standard_CentOS_7_latest");
    assert_eq!(after["metadata"]["os_type"], "Linux");
    assert_eq!(after["status"], "SHUTOFF", "a stopped server stays stopped");
    assert_eq!(after["OS-EXT-SRV-ATTR:user_data"], "IyEvYmluL3NoCmVjaG8gaGkK");
    assert_eq!(system_disk(&after)["id"], system_disk(&before)["id"], "the system disk keeps its volume id");
    for same in ["name", "flavor", "addresses", "OS-EXT-SRV-ATTR:host", "tags"] {
        assert_eq!(after[same], before[same], "{same} is kept");
    }
    assert!(password_pending(&ecs, &id).await, "the new password waits for the first boot");
    ecs.batch("os-start", std::slice::from_ref(&id), json!({})).await;
    assert!(!password_pending(&ecs, &id).await);
    let (_, log) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/console-output?length=-1"))).await;
    let log = log["output"].as_str().expect("output");
    assert_eq!(log.matches("Generating public/private rsa key pair").count(), 2, "a new guest's first boot: {log}");
    assert!(log.contains("Welcome to Standard_CentOS_7_latest!"), "{log}");
    assert!(log.contains("password of user root has been reset"), "{log}");
}

#[tokio::test]
async fn a_reinstall_keeps_the_image_and_with_stop_server_runs_on_a_running_server() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("re", "s6.small.1", 2).await;
    let (status, body) =
        rebuild(&ecs, "v2", "reinstallos", &ids[0], json!({"os-reinstall": {"adminpass": PASSWORD}})).await;
    assert_error(status, &body, 400, "Ecs.0100");
    let body = json!({"os-reinstall": {"adminpass": PASSWORD, "mode": "withStopServer",
                                        "metadata": {"__system__encrypted": "0"}}});
    let job = accepted(&ecs, "v2", "reinstallos", &ids[0], body).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "reinstallServer");
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["status"], "ACTIVE", "withStopServer starts it again");
    assert_eq!(server["image"]["id"], IMAGE);
    assert_eq!(server["metadata"]["__system__encrypted"], "0");
    assert!(!password_pending(&ecs, &ids[0]).await, "the restart took the new password up");

    // v1 (an image without cloud-init): no login needed, no user data taken.
    ecs.batch("os-stop", &ids[1..], json!({})).await;
    let job = accepted(&ecs, "v1", "reinstallos", &ids[1], json!({"os-reinstall": {}})).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert!(!password_pending(&ecs, &ids[1]).await);
    let job = accepted(
        &ecs,
        "v1",
        "changeos",
        &ids[1],
        json!({"os-change": {"imageid": IMAGE, "keyname": "kp", "userid": "u"}}),
    )
    .await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(ecs.server(&ids[1]).await["key_name"], "kp");
}

#[tokio::test]
async fn a_rebuild_shows_as_rebuild_while_it_runs_and_refuses_another_operation() {
    let timings = ecsd::engine::sim::Timings { change_os_ms: 600_000, ..ecsd::engine::sim::Timings::INSTANT };
    let ecs = TestServer::start_with_timings(timings).await;
    let id = stopped(&ecs, "busy", 1).await.remove(0);
    let (status, answer) =
        rebuild(&ecs, "v2", "changeos", &id, json!({"os-change": {"imageid": CENTOS, "adminpass": PASSWORD}})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let server = ecs.server(&id).await;
    assert_eq!(server["status"], "REBUILD");
    assert_eq!(server["OS-EXT-STS:task_state"], "rebuilding");
    assert_eq!(server["image"]["id"], IMAGE, "the image changes when the new disk is in place");
    let (status, body) =
        rebuild(&ecs, "v2", "reinstallos", &id, json!({"os-reinstall": {"adminpass": PASSWORD}})).await;
    assert_error(status, &body, 400, "Ecs.0603");
    let (status, body) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 600})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS");
    assert_eq!(ecs.server(&id).await["image"]["id"], CENTOS);
}

#[tokio::test]
async fn refusals_change_nothing() {
    let ecs = TestServer::start().await;
    let id = stopped(&ecs, "refused", 1).await.remove(0);
    let mut small = create_body("small-disk", "s6.small.1", 1);
    small["server"]["root_volume"] = json!({"volumetype": "SSD", "size": 20});
    let small = ecs.create_from(small).await.remove(0);
    ecs.batch("os-stop", std::slice::from_ref(&small), json!({})).await;
    let before = ecs.server(&id).await;
    let change = |option: Value| json!({ "os-change": option });
    for (server, body, code) in [
        (&id, change(json!({"imageid": CENTOS, "adminpass": "weak"})), "Ecs.0011"),
        (&id, change(json!({"imageid": CENTOS, "adminpass": PASSWORD, "keyname": "kp", "userid": "u"})), "Ecs.0005"),
        (&id, change(json!({"imageid": CENTOS, "keyname": "kp"})), "Ecs.0005"),
        (&id, change(json!({"imageid": CENTOS})), "Ecs.0005"),
        (&id, change(json!({"imageid": CENTOS, "metadata": {"user_data": "%%%"}})), "Ecs.0005"),
        (
            &id,
            change(json!({"imageid": CENTOS, "adminpass": PASSWORD, "metadata": {"__system__encrypted": "1"}})),
            "Ecs.0005",
        ),
        (&id, change(json!({"imageid": CENTOS, "adminpass": PASSWORD, "metadata": {"BYOL": "no"}})), "Ecs.0005"),
        (&id, change(json!({"imageid": "no-such-image", "adminpass": PASSWORD})), "Ecs.0031"),
        (&id, change(json!({"imageid": DEACTIVATED, "adminpass": PASSWORD})), "Ecs.0032"),
        (&id, change(json!({"adminpass": PASSWORD})), "Ecs.0005"),
        (&small, change(json!({"imageid": CENTOS, "adminpass": PASSWORD})), "Ecs.0005"),
        (&id, json!({"os-reinstall": {"adminpass": PASSWORD}}), "Ecs.0005"),
    ] {
        let (status, answer) = rebuild(&ecs, "v2", "changeos", server, body.clone()).await;
        let message = assert_error(status, &answer, 400, code);
        assert!(!message.is_empty(), "{body}");
    }
    let (status, body) =
        rebuild(&ecs, "v2", "changeos", "no-such-server", change(json!({"imageid": CENTOS, "adminpass": PASSWORD})))
            .await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) =
        rebuild(&ecs, "v1", "changeos", &id, json!({"os-change": {"imageid": CENTOS, "mode": "later"}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    assert_eq!(ecs.server(&id).await, before, "nothing changed");
    assert!(!password_pending(&ecs, &id).await);

    // An Arm flavor takes no x86 image.
    let mut arm = create_body("arm", "kc1.large.2", 1);
    arm["server"]["root_volume"] = json!({"volumetype": "SSD", "size": 40});
    let arm = ecs.create_from(arm).await.remove(0);
    ecs.batch("os-stop", std::slice::from_ref(&arm), json!({})).await;
    let (status, body) =
        rebuild(&ecs, "v2", "changeos", &arm, change(json!({"imageid": CENTOS, "adminpass": PASSWORD}))).await;
    let message = assert_error(status, &body, 400, "Ecs.0005");
    assert!(message.contains("arm64"), "{message}");
}

#[tokio::test]
async fn a_windows_image_with_a_key_pair_leaves_an_encrypted_password() {
    let ecs = TestServer::start().await;
    let id = stopped(&ecs, "win", 1).await.remove(0);
    let job = accepted(
        &ecs,
        "v2",
        "changeos",
        &id,
        json!({"os-change": {"imageid": WINDOWS, "keyname": "kp", "userid": "u"}}),
    )
    .await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/os-server-password"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["password"].as_str().is_some_and(|p| p.len() > 100), "{body}");
    assert_eq!(ecs.server(&id).await["metadata"]["os_type"], "Windows");
}

#[tokio::test]
async fn faults_reach_rebuilds_by_their_own_operation_names() {
    let ecs = TestServer::start().await;
    let ids = stopped(&ecs, "faulty", 2).await;
    let rule = json!({"operation": "change-os", "server_id": ids[0], "count": 1,
                      "effect": {"kind": "sub_job_fail", "code": "Ecs.0202", "message": "system disk not created"}});
    let (status, _) = ecs.post("/_ecsd/faults", rule).await;
    assert!(status.is_success());
    let job =
        accepted(&ecs, "v2", "changeos", &ids[0], json!({"os-change": {"imageid": CENTOS, "adminpass": PASSWORD}}))
            .await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["error_code"], "Ecs.0202");
    let server = ecs.server(&ids[0]).await;
    assert_eq!((server["status"].as_str(), server["image"]["id"].as_str()), (Some("SHUTOFF"), Some(IMAGE)));

    let rule = json!({"operation": "reinstall", "count": 1, "effect": {"kind": "precheck_fail", "code": "Ecs.0101"}});
    ecs.post("/_ecsd/faults", rule).await;
    let (status, body) = rebuild(&ecs, "v1", "reinstallos", &ids[1], json!({"os-reinstall": {}})).await;
    assert_error(status, &body, 400, "Ecs.0101");
    let rule = json!({"operation": "reinstall", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Common.0503"}});
    ecs.post("/_ecsd/faults", rule).await;
    let (status, body) =
        rebuild(&ecs, "v2", "reinstallos", &ids[1], json!({"os-reinstall": {"adminpass": PASSWORD}})).await;
    assert_error(status, &body, 503, "Common.0503");
    let job = accepted(&ecs, "v1", "reinstallos", &ids[1], json!({"os-reinstall": {}})).await;
    assert_eq!(job["status"], "SUCCESS");
}

#[tokio::test]
async fn a_rebuilt_server_survives_a_restart_mid_job_and_stays_in_its_project() {
    let timings = ecsd::engine::sim::Timings { reinstall_ms: 600_000, ..ecsd::engine::sim::Timings::INSTANT };
    let mut ecs = TestServer::start_with_two_projects().await;
    ecs.restart(timings).await;
    let id = stopped(&ecs, "durable", 1).await.remove(0);
    let (status, answer) =
        rebuild(&ecs, "v2", "reinstallos", &id, json!({"os-reinstall": {"adminpass": PASSWORD}})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "the job resumes after a restart: {job}");
    assert!(password_pending(&ecs, &id).await, "the pending rebuild was kept across the restart");

    ecs.credential = other_credential();
    let (status, body) =
        rebuild(&ecs, "v2", "reinstallos", &id, json!({"os-reinstall": {"adminpass": PASSWORD}})).await;
    assert_error(status, &body, 404, "Ecs.0114");
}
