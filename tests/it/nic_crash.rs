//! Crash safety of NIC changes, on the real binary: NICs being added (new ports, and a port
//! attached by its id) or deleted when ecsd is killed with `kill -9` join or leave their server
//! after the restart, and no port is left half-bound: every port on a server is one of its NICs.

use std::time::Duration;

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CONFIG: &str = "
[timings]
create_ms = 300
nic_ms = 4000
";

async fn finished(ecs: &TestServer, job: &str) -> Value {
    for _ in 0..600 {
        let answer = ecs
            .try_call(reqwest::Method::GET, &ecs.v1(&format!("/jobs/{job}")), vec![], &[], Duration::from_secs(5))
            .await;
        if let Ok(answer) = answer
            && (answer.body["status"] == "SUCCESS" || answer.body["status"] == "FAIL")
        {
            return answer.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} did not finish");
}

/// The port ids of the server's NICs, and of the ports bound to it, both sorted.
async fn nics_and_bound_ports(ecs: &TestServer, server: &str) -> (Vec<String>, Vec<String>) {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-interface"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut nics: Vec<String> = body["interfaceAttachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .map(|a| a["port_id"].as_str().expect("id").into())
        .collect();
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports?device_id={server}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut ports: Vec<String> =
        body["ports"].as_array().expect("ports").iter().map(|p| p["id"].as_str().expect("id").into()).collect();
    nics.sort();
    ports.sort();
    (nics, ports)
}

async fn port(ecs: &TestServer, id: &str) -> Value {
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["port"].clone()
}

/// Waits until the server is mid-way through its NIC change, then a little more, and kills.
async fn kill_mid_way(process: &mut EcsProcess, server: &str) {
    let shown = process.client().server(server).await;
    assert_eq!(shown["OS-EXT-STS:task_state"], "networking", "the kill comes mid-way: {shown}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    process.kill();
}

#[tokio::test]
async fn nic_changes_cut_off_by_kill_9_finish_after_the_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let config = dir.path().join("ecsd.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let mut process = EcsProcess::spawn(&data_dir, Some(&config), "realistic");
    let ecs = process.client();
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("crash", "s6.xlarge.2", 2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    finished(&ecs, body["job_id"].as_str().expect("job")).await;
    let servers: Vec<String> =
        body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect();
    let (status, body) = ecs
        .post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.9.9"}]}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own = body["port"].clone();
    let own_id = own["id"].as_str().expect("id").to_string();

    // Adding: a new port on one server, the existing port on the other.
    let mut jobs = Vec::new();
    for nic in [json!({"subnet_id": SUBNET}), json!({"port_id": own_id})] {
        let server = &servers[jobs.len()];
        let (status, body) = ecs.post(&ecs.v1(&format!("/cloudservers/{server}/nics")), json!({"nics": [nic]})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        jobs.push(body["job_id"].as_str().expect("job").to_string());
    }
    let (nics, bound) = nics_and_bound_ports(&ecs, &servers[0]).await;
    assert_eq!((nics.len(), bound.len()), (1, 2), "the new port holds its address before it joins");
    kill_mid_way(&mut process, &servers[1]).await;

    let mut process = EcsProcess::spawn(&data_dir, Some(&config), "realistic");
    let ecs = process.client();
    let mut added = Vec::new();
    for (server, job) in servers.iter().zip(&jobs) {
        assert_eq!(finished(&ecs, job).await["status"], "SUCCESS");
        let (nics, bound) = nics_and_bound_ports(&ecs, server).await;
        assert_eq!(nics.len(), 2, "{server}: {nics:?}");
        assert_eq!(nics, bound, "every port on {server} is one of its NICs");
        assert_eq!(ecs.server(server).await["OS-EXT-STS:task_state"], Value::Null);
        let (_, listed) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-interface"))).await;
        added.push(listed["interfaceAttachments"][1]["port_id"].as_str().expect("id").to_string());
    }
    assert_eq!(added[1], own_id, "the attached port is the NIC");
    let attached = port(&ecs, &own_id).await;
    assert_eq!((attached["status"].clone(), attached["device_id"].clone()), (json!("ACTIVE"), json!(servers[1])));

    // Deleting both again.
    let mut jobs = Vec::new();
    for (server, port_id) in servers.iter().zip(&added) {
        let (status, body) =
            ecs.post(&ecs.v1(&format!("/cloudservers/{server}/nics/delete")), json!({"nics": [{"id": port_id}]})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        jobs.push(body["job_id"].as_str().expect("job").to_string());
    }
    kill_mid_way(&mut process, &servers[1]).await;

    let process = EcsProcess::spawn(&data_dir, Some(&config), "instant");
    let ecs = process.client();
    for (server, job) in servers.iter().zip(&jobs) {
        assert_eq!(finished(&ecs, job).await["status"], "SUCCESS");
        let (nics, bound) = nics_and_bound_ports(&ecs, server).await;
        assert_eq!(nics.len(), 1, "{server}: {nics:?}");
        assert_eq!(nics, bound, "no port is left on {server}");
    }
    let (status, _) = ecs.get(&ecs.v1(&format!("/ports/{}", added[0]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the port ECS made is deleted with its NIC");
    let kept = port(&ecs, &own_id).await;
    assert_eq!(kept["status"], "DOWN", "the attached port is only unbound: {kept}");
    assert_eq!(kept["device_id"], "");
    assert_eq!(
        (kept["fixed_ips"].clone(), kept["mac_address"].clone()),
        (own["fixed_ips"].clone(), own["mac_address"].clone())
    );
}
