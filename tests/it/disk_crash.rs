//! Crash safety of the work on disks, on the real binary: attaches and detaches in flight when
//! ecsd is killed with `kill -9` finish after the restart, with the disk and the server's block
//! devices agreeing, and no disk left `attaching` or `detaching`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CONFIG: &str = "
[timings]
create_ms = 300
create_volume_ms = 300
attach_volume_ms = 4000
detach_volume_ms = 4000
";

const SERVERS: usize = 4;
const DISKS_PER_SERVER: usize = 3;

async fn wait_jobs(ecs: &TestServer, jobs: &[String]) -> BTreeMap<String, Value> {
    let mut done = BTreeMap::new();
    for _ in 0..600 {
        for job in jobs {
            if done.contains_key(job) {
                continue;
            }
            let answer = ecs
                .try_call(reqwest::Method::GET, &ecs.v1(&format!("/jobs/{job}")), vec![], &[], Duration::from_secs(5))
                .await;
            if let Ok(answer) = answer
                && (answer.body["status"] == "SUCCESS" || answer.body["status"] == "FAIL")
            {
                done.insert(job.clone(), answer.body);
            }
        }
        if done.len() == jobs.len() {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("jobs did not finish: {} of {}", done.len(), jobs.len());
}

async fn volume(ecs: &TestServer, id: &str) -> Value {
    let (status, body) = ecs.get(&format!("/v2/{}/cloudvolumes/{id}", ecs.project())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["volume"].clone()
}

async fn devices_of(ecs: &TestServer, server: &str) -> Vec<String> {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/block_device"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["volumeAttachments"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["volumeId"].as_str().expect("id").into())
        .collect()
}

/// Starts one job per disk (`attach` or `detach`), waits until some are mid-way, kills ecsd.
async fn start_and_kill(process: &mut EcsProcess, plan: &[(String, String)], attach: bool) -> Vec<String> {
    let ecs = process.client();
    let mut jobs = Vec::new();
    for (server, disk) in plan {
        let (status, body) = if attach {
            ecs.post(
                &ecs.v1(&format!("/cloudservers/{server}/attachvolume")),
                json!({"volumeAttachment": {"volumeId": disk}}),
            )
            .await
        } else {
            ecs.call(reqwest::Method::DELETE, &ecs.v1(&format!("/cloudservers/{server}/detachvolume/{disk}")), None)
                .await
        };
        assert_eq!(status, StatusCode::OK, "{body}");
        jobs.push(body["job_id"].as_str().expect("job").to_string());
    }
    let transitional = if attach { "attaching" } else { "detaching" };
    let mid_way = volume(&ecs, &plan[0].1).await;
    assert_eq!(mid_way["status"], transitional, "the kill comes mid-way: {mid_way}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    process.kill();
    jobs
}

#[tokio::test]
async fn attaches_and_detaches_cut_off_by_kill_9_finish_after_the_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let config = dir.path().join("ecsd.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let mut process = EcsProcess::spawn(&data_dir, Some(&config), "realistic");
    let ecs = process.client();
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("crash", "s6.small.1", SERVERS as u32)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_jobs(&ecs, &[body["job_id"].as_str().expect("job").to_string()]).await;
    let servers: Vec<String> =
        body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect();
    let (status, body) = ecs
        .post(
            &format!("/v2.1/{}/cloudvolumes", ecs.project()),
            json!({"volume": {"size": 10, "volume_type": "SSD", "availability_zone": "eu-de-01",
                              "count": SERVERS * DISKS_PER_SERVER}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_jobs(&ecs, &[body["job_id"].as_str().expect("job").to_string()]).await;
    let disks: Vec<String> =
        body["volume_ids"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect();
    let plan: Vec<(String, String)> =
        disks.iter().enumerate().map(|(i, disk)| (servers[i % SERVERS].clone(), disk.clone())).collect();

    let jobs = start_and_kill(&mut process, &plan, true).await;
    let mut process = EcsProcess::spawn(&data_dir, Some(&config), "realistic");
    let ecs = process.client();
    for (id, job) in wait_jobs(&ecs, &jobs).await {
        assert_eq!(job["status"], "SUCCESS", "{id}: {job}");
    }
    for (server, disk) in &plan {
        let shown = volume(&ecs, disk).await;
        assert_eq!(shown["status"], "in-use", "{shown}");
        let attachments = shown["attachments"].as_array().expect("attachments");
        assert_eq!(attachments.len(), 1, "attached once: {shown}");
        assert_eq!(attachments[0]["server_id"], server.as_str());
        assert!(devices_of(&ecs, server).await.contains(disk), "the server lists {disk}");
    }
    for server in &servers {
        assert_eq!(devices_of(&ecs, server).await.len(), 1 + DISKS_PER_SERVER, "no device twice");
    }

    let jobs = start_and_kill(&mut process, &plan, false).await;
    let process = EcsProcess::spawn(&data_dir, Some(&config), "instant");
    let ecs = process.client();
    for (id, job) in wait_jobs(&ecs, &jobs).await {
        assert_eq!(job["status"], "SUCCESS", "{id}: {job}");
    }
    for (server, disk) in &plan {
        let shown = volume(&ecs, disk).await;
        assert_eq!((shown["status"].clone(), shown["attachments"].clone()), (json!("available"), json!([])));
        assert!(!devices_of(&ecs, server).await.contains(disk));
    }
}
