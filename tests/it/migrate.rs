//! Moving servers between the simulated hosts (issue 13): MigrateServer (cold, to a named host
//! or anywhere else) and ExecuteServerRedeploy, with anti-affinity, refusals, faults, and the
//! scheduled migrate/redeploy events that now run them.

use std::collections::BTreeSet;

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Three hosts a zone, 8 vCPUs and 16 GiB each.
const THREE_HOSTS: &str = "[placement]\nhosts_per_zone = 3\nhost_vcpus = 8\nhost_ram_mib = 16384\n";

async fn host(ecs: &TestServer, id: &str) -> String {
    ecs.server(id).await["OS-EXT-SRV-ATTR:host"].as_str().expect("host").to_string()
}

async fn migrate(ecs: &TestServer, id: &str, body: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{id}/migrate")), body).await
}

async fn redeploy(ecs: &TestServer, id: &str) -> (StatusCode, Value) {
    ecs.call(reqwest::Method::POST, &ecs.v1(&format!("/cloudservers/{id}/actions/redeploy")), None).await
}

async fn done(ecs: &TestServer, (status, answer): (StatusCode, Value)) -> Value {
    assert_eq!(status, StatusCode::OK, "{answer}");
    ecs.wait_job(answer["job_id"].as_str().expect("job id")).await
}

fn in_zone(name: &str, count: u32) -> Value {
    let mut body = create_body(name, "s6.small.1", count);
    body["server"]["availability_zone"] = json!("eu-de-01");
    body
}

async fn anti_affinity(ecs: &TestServer, name: &str, count: u32) -> Vec<String> {
    let (status, group) = ecs
        .post(
            &ecs.v1("/cloudservers/os-server-groups"),
            json!({"server_group": {"name": name, "policies": ["anti-affinity"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{group}");
    let mut body = in_zone(name, count);
    body["server"]["os:scheduler_hints"] = json!({"group": group["server_group"]["id"]});
    ecs.create_from(body).await
}

#[tokio::test]
async fn a_stopped_server_migrates_to_the_named_host_or_to_another_one() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    let ids = ecs.create_from(in_zone("mig", 2)).await;
    ecs.batch("os-stop", &ids, json!({})).await;
    let from = host(&ecs, &ids[0]).await;
    let target =
        ["pod01.eu-de-01", "pod02.eu-de-01", "pod03.eu-de-01"].into_iter().find(|h| *h != from).expect("a host");
    let job = done(&ecs, migrate(&ecs, &ids[0], json!({"migrate": {"dedicated_host_id": target}})).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "migrateServer");
    assert_eq!(job["entities"]["server_id"], ids[0].as_str());
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["OS-EXT-SRV-ATTR:host"], target);
    assert_eq!(server["OS-EXT-SRV-ATTR:hypervisor_hostname"], format!("nova-{target}"));
    assert_eq!(server["status"], "SHUTOFF");

    // By the project's hostId of a host, and with `migrate: null` (or `{}`) anywhere else.
    for anywhere in [json!({"migrate": null}), json!({})] {
        let before = host(&ecs, &ids[1]).await;
        let job = done(&ecs, migrate(&ecs, &ids[1], anywhere).await).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
        assert_ne!(host(&ecs, &ids[1]).await, before);
    }
    let back_id = ecs.server(&ids[0]).await["hostId"].clone();
    let job = done(&ecs, migrate(&ecs, &ids[1], json!({"migrate": {"dedicated_host_id": back_id}})).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(host(&ecs, &ids[1]).await, target);
}

#[tokio::test]
async fn a_migration_shows_as_resize_while_it_runs_and_refusals_change_nothing() {
    let timings = ecsd::engine::sim::Timings { migrate_ms: 600_000, ..ecsd::engine::sim::Timings::INSTANT };
    let ecs = TestServer::start_with_timings(timings).await;
    let ids = ecs.create_servers("refuse", "s6.small.1", 2).await;
    let (status, body) = migrate(&ecs, &ids[0], json!({"migrate": null})).await;
    assert_error(status, &body, 400, "Ecs.0100");
    ecs.batch("os-stop", &ids, json!({})).await;
    let before = ecs.server(&ids[0]).await;
    let own = before["OS-EXT-SRV-ATTR:host"].clone();
    for (body, status, code) in [
        (json!({"migrate": {"dedicated_host_id": own}}), 400, "Ecs.0221"),
        (json!({"migrate": {"dedicated_host_id": "pod99.eu-de-01"}}), 400, "Ecs.0005"),
        (json!({"migrate": {"dedicated_host_id": 7}}), 400, "Ecs.0005"),
    ] {
        let (got, answer) = migrate(&ecs, &ids[0], body).await;
        assert_error(got, &answer, status, code);
    }
    let (status, body) = migrate(&ecs, "no-such-server", json!({"migrate": null})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    assert_eq!(ecs.server(&ids[0]).await, before, "nothing changed");

    let (status, answer) = migrate(&ecs, &ids[0], json!({"migrate": null})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let moving = ecs.server(&ids[0]).await;
    assert_eq!(
        (moving["status"].as_str(), moving["OS-EXT-STS:task_state"].as_str()),
        (Some("RESIZE"), Some("resize_prep"))
    );
    let (status, body) = migrate(&ecs, &ids[0], json!({"migrate": null})).await;
    assert_error(status, &body, 400, "Ecs.0603");
    ecs.post("/_ecsd/clock/advance", json!({"seconds": 600})).await;
    assert_eq!(ecs.wait_job(answer["job_id"].as_str().expect("job")).await["status"], "SUCCESS");
    assert_ne!(ecs.server(&ids[0]).await["OS-EXT-SRV-ATTR:host"], own);
}

#[tokio::test]
async fn a_migration_respects_anti_affinity_and_refuses_when_no_host_is_left() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    let members = anti_affinity(&ecs, "aa", 2).await;
    ecs.batch("os-stop", &members, json!({})).await;
    let other = host(&ecs, &members[1]).await;
    let (status, body) = migrate(&ecs, &members[0], json!({"migrate": {"dedicated_host_id": other}})).await;
    let message = assert_error(status, &body, 400, "Ecs.0319");
    assert!(message.contains("anti-affinity"), "{message}");
    // Anywhere else: the one host neither member is on.
    let job = done(&ecs, migrate(&ecs, &members[0], json!({"migrate": null})).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    let hosts: BTreeSet<String> = [host(&ecs, &members[0]).await, host(&ecs, &members[1]).await].into();
    assert_eq!(hosts.len(), 2, "the members still never share a host");

    let third = anti_affinity(&ecs, "full", 3).await;
    ecs.batch("os-stop", &third, json!({})).await;
    let (status, body) = migrate(&ecs, &third[0], json!({"migrate": null})).await;
    assert_error(status, &body, 400, "Ecs.0319");
    let (status, body) = redeploy(&ecs, &third[0]).await;
    assert_error(status, &body, 400, "Ecs.0319");
}

#[tokio::test]
async fn a_redeploy_moves_a_running_server_and_starts_it_again() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    let ids = ecs.create_from(in_zone("rd", 2)).await;
    let before = host(&ecs, &ids[0]).await;
    let job = done(&ecs, redeploy(&ecs, &ids[0]).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "redeployServer");
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["status"], "ACTIVE");
    assert_ne!(server["OS-EXT-SRV-ATTR:host"], before.as_str());
    let (_, log) = ecs.get(&ecs.v1(&format!("/cloudservers/{}/console-output?length=-1", ids[0]))).await;
    assert_eq!(log["output"].as_str().expect("log").matches("Linux version").count(), 2);

    ecs.batch("os-stop", &ids[1..], json!({})).await;
    let job = done(&ecs, redeploy(&ecs, &ids[1]).await).await;
    assert_eq!(job["status"], "SUCCESS");
    assert_eq!(ecs.server(&ids[1]).await["status"], "SHUTOFF", "a stopped server stays stopped");
    let (status, body) = redeploy(&ecs, "no-such-server").await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn faults_reach_migrations_and_a_failed_one_stays_put_and_a_scheduled_migration_moves_a_running_server_live() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    let ids = ecs.create_from(in_zone("ev", 2)).await;
    let rule = json!({"operation": "redeploy", "count": 1, "effect": {"kind": "precheck_fail", "code": "Ecs.0101"}});
    let (status, _) = ecs.post("/_ecsd/faults", rule).await;
    assert!(status.is_success());
    let (status, body) = redeploy(&ecs, &ids[0]).await;
    assert_error(status, &body, 400, "Ecs.0101");
    let rule = json!({"operation": "migrate", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Common.0503"}});
    ecs.post("/_ecsd/faults", rule).await;
    let (status, body) = migrate(&ecs, &ids[0], json!({"migrate": null})).await;
    assert_error(status, &body, 503, "Common.0503");

    // A move that fails puts the server back on the host it left.
    ecs.batch("os-stop", &ids[..1], json!({})).await;
    let left = host(&ecs, &ids[0]).await;
    let rule = json!({"operation": "migrate", "count": 1, "effect": {"kind": "sub_job_fail", "code": "Ecs.0221"}});
    ecs.post("/_ecsd/faults", rule).await;
    let job = done(&ecs, migrate(&ecs, &ids[0], json!({"migrate": null})).await).await;
    assert_eq!((job["status"].as_str(), job["error_code"].as_str()), (Some("FAIL"), Some("Ecs.0221")));
    let server = ecs.server(&ids[0]).await;
    assert_eq!(
        (server["status"].as_str(), server["OS-EXT-SRV-ATTR:host"].as_str()),
        (Some("SHUTOFF"), Some(left.as_str()))
    );
    let job = done(&ecs, migrate(&ecs, &ids[0], json!({"migrate": null})).await).await;
    assert_eq!(job["status"], "SUCCESS");
    assert_ne!(host(&ecs, &ids[0]).await, left);

    let before = host(&ecs, &ids[1]).await;
    let (status, event) =
        ecs.post("/_ecsd/scheduled-events", json!({"server_id": ids[1], "type": "instance-migrate"})).await;
    assert_eq!(status.as_u16(), 201, "{event}");
    let accept =
        format!("/v3/{}/instance-scheduled-events/{}/actions/accept", ecs.project(), event["id"].as_str().expect("id"));
    let (status, body) = ecs.call(reqwest::Method::POST, &accept, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    ecs.post("/_ecsd/clock/settle", json!({})).await;
    let server = ecs.server(&ids[1]).await;
    assert_eq!(server["status"], "ACTIVE", "a live migration keeps it running");
    assert_ne!(server["OS-EXT-SRV-ATTR:host"], before.as_str());
    let (_, log) = ecs.get(&ecs.v1(&format!("/cloudservers/{}/console-output?length=-1", ids[1]))).await;
    assert_eq!(log["output"].as_str().expect("log").matches("Linux version").count(), 1, "the guest never noticed");
}
