//! Many clients at once: overlapping batches on the same servers, creates racing deletes and a
//! small quota. Afterwards every server's history, as the job documents tell it, must explain
//! its final state; refusals carry per-server codes; quotas never go negative or over.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::*;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const CLIENTS: usize = 60;
const PATIENCE: Duration = Duration::from_secs(30);

/// Codes a server may be refused with while others operate on it.
const PER_SERVER_CODES: [&str; 6] = ["Ecs.0603", "Ecs.0100", "Ecs.1001", "Ecs.0114", "Ecs.0810", "Ecs.0804"];

/// What one request did, as its client saw it.
#[derive(Debug, Clone)]
enum Outcome {
    /// A job was accepted for these servers (in request order); `target` is a resize's flavor.
    Job { job_id: String, kind: &'static str, ids: Vec<String>, target: Option<String> },
    /// A batch-format rename was applied to these servers.
    Renamed { name: String, ids: Vec<String> },
    /// A password reset was recorded for these servers.
    PasswordReset { ids: Vec<String> },
    /// The whole request was refused.
    Refused { what: String, status: u16, body: Value },
}

#[derive(Default)]
struct Journal {
    outcomes: Vec<Outcome>,
    /// Problems seen while the clients ran (a 5xx, a transport error, an odd body).
    problems: Vec<String>,
}

type Shared = Arc<Mutex<Journal>>;

async fn send(ecs: &TestServer, journal: &Shared, method: Method, path: &str, body: Value) -> Option<Answer> {
    let bytes = serde_json::to_vec(&body).expect("json");
    match ecs.try_call(method.clone(), path, bytes, &[], PATIENCE).await {
        Ok(answer) if answer.status.is_server_error() => {
            journal.lock().await.problems.push(format!("{method} {path} {body}: {} {}", answer.status, answer.body));
            None
        }
        Ok(answer) => Some(answer),
        Err(e) => {
            journal.lock().await.problems.push(format!("{method} {path}: no answer: {e}"));
            None
        }
    }
}

/// Records the answer to a job-based request.
async fn record_job(
    journal: &Shared,
    what: &str,
    kind: &'static str,
    ids: &[String],
    target: Option<&str>,
    answer: Option<Answer>,
) {
    let Some(answer) = answer else { return };
    let outcome = match answer.body["job_id"].as_str() {
        Some(job_id) if answer.status == StatusCode::OK => {
            Outcome::Job { job_id: job_id.to_string(), kind, ids: ids.to_vec(), target: target.map(String::from) }
        }
        _ => Outcome::Refused { what: what.to_string(), status: answer.status.as_u16(), body: answer.body },
    };
    journal.lock().await.outcomes.push(outcome);
}

fn body_ids(ids: &[String]) -> Vec<Value> {
    server_ids(ids)
}

/// One client: `rounds` random operations on random (overlapping) servers of `pool`.
async fn client(ecs: Arc<TestServer>, journal: Shared, pool: Vec<String>, deletable: Vec<String>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..8 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..60))).await;
        let how_many = rng.random_range(1..=8);
        let mut ids: Vec<String> = pool.choose_multiple(&mut rng, how_many).cloned().collect();
        ids.shuffle(&mut rng);
        let hard = if rng.random_bool(0.5) { "HARD" } else { "SOFT" };
        match rng.random_range(0..100) {
            0..=17 => {
                let answer = send(
                    &ecs,
                    &journal,
                    Method::POST,
                    &ecs.v1("/cloudservers/action"),
                    json!({"os-stop": {"servers": body_ids(&ids), "type": hard}}),
                )
                .await;
                record_job(&journal, "stop", "stop", &ids, None, answer).await;
            }
            18..=35 => {
                let answer = send(
                    &ecs,
                    &journal,
                    Method::POST,
                    &ecs.v1("/cloudservers/action"),
                    json!({"os-start": {"servers": body_ids(&ids)}}),
                )
                .await;
                record_job(&journal, "start", "start", &ids, None, answer).await;
            }
            36..=47 => {
                let answer = send(
                    &ecs,
                    &journal,
                    Method::POST,
                    &ecs.v1("/cloudservers/action"),
                    json!({"reboot": {"servers": body_ids(&ids), "type": hard}}),
                )
                .await;
                record_job(&journal, "reboot", "reboot", &ids, None, answer).await;
            }
            48..=57 => {
                let flavor = ["s6.small.1", "s6.medium.2", "s6.large.2"].choose(&mut rng).expect("flavor");
                let mut resize = json!({"flavorRef": flavor, "servers": body_ids(&ids)});
                if rng.random_bool(0.7) {
                    resize["mode"] = json!("withStopServer");
                }
                let answer = send(
                    &ecs,
                    &journal,
                    Method::POST,
                    &ecs.v1("/cloudservers/batch-resize"),
                    json!({"resize": resize}),
                )
                .await;
                record_job(&journal, "batch-resize", "resize", &ids, Some(flavor), answer).await;
            }
            58..=65 => {
                let id = &ids[..1];
                let flavor = ["s6.small.1", "s6.medium.2", "s6.large.2"].choose(&mut rng).expect("flavor");
                let answer = send(
                    &ecs,
                    &journal,
                    Method::POST,
                    &ecs.v1(&format!("/cloudservers/{}/resize", id[0])),
                    json!({"resize": {"flavorRef": flavor, "mode": "withStopServer"}}),
                )
                .await;
                record_job(&journal, "resize", "resize", id, Some(flavor), answer).await;
            }
            66..=75 => {
                let name = format!("c{seed}-r{round}");
                let answer = send(
                    &ecs,
                    &journal,
                    Method::PUT,
                    &ecs.v1("/cloudservers/server-name"),
                    json!({"name": name, "servers": body_ids(&ids)}),
                )
                .await;
                if let Some(answer) = answer {
                    let outcome = if answer.status == StatusCode::OK {
                        Outcome::Renamed { name, ids }
                    } else {
                        Outcome::Refused { what: "rename".into(), status: answer.status.as_u16(), body: answer.body }
                    };
                    journal.lock().await.outcomes.push(outcome);
                }
            }
            76..=81 => {
                let name = format!("c{seed}-s{round}");
                let answer = send(
                    &ecs,
                    &journal,
                    Method::PUT,
                    &ecs.v1(&format!("/cloudservers/{}", ids[0])),
                    json!({"server": {"name": name}}),
                )
                .await;
                if let Some(answer) = answer {
                    let outcome = if answer.status == StatusCode::OK {
                        Outcome::Renamed { name, ids: ids[..1].to_vec() }
                    } else {
                        Outcome::Refused { what: "update".into(), status: answer.status.as_u16(), body: answer.body }
                    };
                    journal.lock().await.outcomes.push(outcome);
                }
            }
            82..=87 => {
                let answer = send(
                    &ecs,
                    &journal,
                    Method::PUT,
                    &ecs.v1("/cloudservers/os-reset-passwords"),
                    json!({"new_password": "Test@123456", "servers": body_ids(&ids)}),
                )
                .await;
                if let Some(answer) = answer {
                    let outcome = if answer.status == StatusCode::OK {
                        Outcome::PasswordReset { ids }
                    } else {
                        Outcome::Refused { what: "reset".into(), status: answer.status.as_u16(), body: answer.body }
                    };
                    journal.lock().await.outcomes.push(outcome);
                }
            }
            88..=91 => {
                let answer = send(
                    &ecs,
                    &journal,
                    Method::PUT,
                    &ecs.v1(&format!("/cloudservers/{}/os-reset-password", ids[0])),
                    json!({"reset-password": {"new_password": "Test@654321"}}),
                )
                .await;
                if let Some(answer) = answer {
                    let outcome = if answer.status == StatusCode::NO_CONTENT {
                        Outcome::PasswordReset { ids: ids[..1].to_vec() }
                    } else {
                        Outcome::Refused { what: "reset-one".into(), status: answer.status.as_u16(), body: answer.body }
                    };
                    journal.lock().await.outcomes.push(outcome);
                }
            }
            _ => {
                // Deletes aim only at their own pool, so most servers live to the end.
                let how_many = rng.random_range(1..=3);
                let ids: Vec<String> = deletable.choose_multiple(&mut rng, how_many).cloned().collect();
                let answer = send(
                    &ecs,
                    &journal,
                    Method::POST,
                    &ecs.v1("/cloudservers/delete"),
                    json!({"servers": body_ids(&ids)}),
                )
                .await;
                record_job(&journal, "delete", "delete", &ids, None, answer).await;
            }
        }
    }
}

/// A client that creates servers and deletes them at once, racing their build.
async fn create_then_delete(ecs: Arc<TestServer>, journal: Shared, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..3 {
        let count = rng.random_range(1..=3);
        let answer = send(
            &ecs,
            &journal,
            Method::POST,
            &ecs.v1("/cloudservers"),
            create_body(&format!("race{seed}"), "s6.small.1", count),
        )
        .await;
        let Some(answer) = answer else { return };
        if answer.status != StatusCode::OK {
            journal.lock().await.outcomes.push(Outcome::Refused {
                what: "create".into(),
                status: answer.status.as_u16(),
                body: answer.body,
            });
            continue;
        }
        let ids: Vec<String> = answer.body["serverIds"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|v| v.as_str().expect("id").to_string())
            .collect();
        journal.lock().await.outcomes.push(Outcome::Job {
            job_id: answer.body["job_id"].as_str().expect("job").to_string(),
            kind: "create",
            ids: ids.clone(),
            target: None,
        });
        // Delete at once (while building: refused per server with Ecs.0603), and again until
        // every server's delete sub-job succeeded.
        let mut remaining = ids;
        for _ in 0..200 {
            if remaining.is_empty() {
                break;
            }
            let answer = send(
                &ecs,
                &journal,
                Method::POST,
                &ecs.v1("/cloudservers/delete"),
                json!({"servers": body_ids(&remaining)}),
            )
            .await;
            let Some(answer) = answer else { return };
            let Some(job_id) = answer.body["job_id"].as_str().map(String::from) else {
                journal.lock().await.problems.push(format!("delete refused: {} {}", answer.status, answer.body));
                return;
            };
            journal.lock().await.outcomes.push(Outcome::Job {
                job_id: job_id.clone(),
                kind: "delete",
                ids: remaining.clone(),
                target: None,
            });
            let Some(job) = wait_job_patiently(&ecs, &job_id).await else {
                journal.lock().await.problems.push(format!("delete job {job_id} did not end"));
                return;
            };
            let succeeded: BTreeSet<String> =
                sub_jobs(&job).into_iter().filter(|s| s.status == "SUCCESS").map(|s| s.server_id).collect();
            remaining.retain(|id| !succeeded.contains(id));
            tokio::time::sleep(Duration::from_millis(rng.random_range(5..40))).await;
        }
        if !remaining.is_empty() {
            journal.lock().await.problems.push(format!("servers {remaining:?} could never be deleted"));
        }
    }
}

/// Polls a job until it ends (up to 30 s).
async fn wait_job_patiently(ecs: &TestServer, job_id: &str) -> Option<Value> {
    for _ in 0..1500 {
        let (status, job) = ecs.get(&ecs.v1(&format!("/jobs/{job_id}"))).await;
        if status == StatusCode::OK && (job["status"] == "SUCCESS" || job["status"] == "FAIL") {
            return Some(job);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// A server's successful operations: the job kind, the sub-job, a resize's target flavor.
type History = HashMap<String, Vec<(&'static str, Sub, Option<String>)>>;

/// A sub-job as the job document shows it (a single-server job counts as its own sub-job).
#[derive(Debug, Clone)]
struct Sub {
    server_id: String,
    status: String,
    code: Option<String>,
    begin: String,
    end: String,
}

fn sub_jobs(job: &Value) -> Vec<Sub> {
    let of = |s: &Value, server_id: &str| Sub {
        server_id: server_id.to_string(),
        status: s["status"].as_str().unwrap_or_default().to_string(),
        code: s["error_code"].as_str().map(String::from),
        begin: s["begin_time"].as_str().unwrap_or_default().to_string(),
        end: s["end_time"].as_str().unwrap_or_default().to_string(),
    };
    match job["entities"]["sub_jobs"].as_array() {
        Some(subs) => subs.iter().map(|s| of(s, s["entities"]["server_id"].as_str().unwrap_or_default())).collect(),
        None => vec![of(job, job["entities"]["server_id"].as_str().unwrap_or_default())],
    }
}

/// Checks a refusal of a whole request: a documented body, and per-server codes where the body
/// lists servers. Returns the codes seen.
fn check_refusal(what: &str, status: u16, body: &Value, problems: &mut Vec<String>) -> Vec<String> {
    if let Err(e) = documented_error_shape(body) {
        problems.push(format!("{what}: {status} {e}"));
        return vec![];
    }
    let code = body["error"]["code"].as_str().unwrap_or_default().to_string();
    match code.as_str() {
        "Ecs.0611" => {
            let entries = body["internalError"].as_array().cloned().unwrap_or_default();
            if entries.is_empty() {
                problems.push(format!("{what}: Ecs.0611 without internalError: {body}"));
            }
            entries
                .iter()
                .map(|e| {
                    let code = e["error_code"].as_str().unwrap_or_default().to_string();
                    if !PER_SERVER_CODES.contains(&code.as_str())
                        || e["id"].as_str().is_none()
                        || e["error_message"].as_str().is_none_or(str::is_empty)
                    {
                        problems.push(format!("{what}: bad internalError entry {e}"));
                    }
                    code
                })
                .collect()
        }
        // A server deleted by another client, or busy/in the wrong state for a one-server request.
        c if PER_SERVER_CODES.contains(&c) || c == "Ecs.0001" => vec![code],
        other => {
            problems.push(format!("{what}: unexpected refusal {status} {other}: {body}"));
            vec![]
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_clients_with_overlapping_batches_leave_every_server_explained_by_its_jobs() {
    let timings = Timings {
        create_ms: 150,
        start_ms: 90,
        stop_ms: 90,
        reboot_ms: 120,
        resize_ms: 200,
        delete_ms: 90,
        nic_ms: 90,
        ..Timings::INSTANT
    };
    let ecs = Arc::new(TestServer::start_with(Catalogue::default(), timings).await);
    let flavors = flavor_table(&ecs).await;
    let created = ecs.create_servers("fleet", "s6.small.1", 40).await;
    let (pool, deletable) = (created[..32].to_vec(), created[32..].to_vec());
    let journal: Shared = Arc::default();

    // A monitor that reads the quota usage all along.
    let stop_monitor = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (ecs, stop) = (Arc::clone(&ecs), Arc::clone(&stop_monitor));
        tokio::spawn(async move { watch_usage(&ecs, &stop).await })
    };

    let mut tasks = Vec::new();
    for seed in 0..CLIENTS as u64 {
        let (ecs, journal) = (Arc::clone(&ecs), Arc::clone(&journal));
        if seed % 12 == 11 {
            tasks.push(tokio::spawn(create_then_delete(ecs, journal, seed)));
        } else {
            tasks.push(tokio::spawn(client(ecs, journal, pool.clone(), deletable.clone(), seed)));
        }
    }
    for task in tasks {
        task.await.expect("client task");
    }

    let journal = Arc::try_unwrap(journal).ok().expect("clients done").into_inner();
    let mut problems = journal.problems;

    // Every job ends; collect every server's successful sub-jobs.
    let mut jobs: Vec<(&'static str, Vec<String>, Option<String>, Value)> = Vec::new();
    for outcome in &journal.outcomes {
        if let Outcome::Job { job_id, kind, ids, target } = outcome {
            match wait_job_patiently(&ecs, job_id).await {
                Some(job) => jobs.push((kind, ids.clone(), target.clone(), job)),
                None => problems.push(format!("{kind} job {job_id} never ended")),
            }
        }
    }
    stop_monitor.store(true, Ordering::Relaxed);
    let (max_seen, usage_problems) = monitor.await.expect("monitor");
    problems.extend(usage_problems);

    let mut conflicts: BTreeMap<String, usize> = BTreeMap::new();
    let mut history: History = HashMap::new();
    for (kind, ids, target, job) in &jobs {
        let subs = sub_jobs(job);
        let listed: Vec<&str> = subs.iter().map(|s| s.server_id.as_str()).collect();
        let asked: Vec<&str> = ids.iter().map(String::as_str).collect();
        if listed != asked {
            problems.push(format!("{kind} job {}: sub-jobs for {listed:?}, asked {asked:?}", job["job_id"]));
        }
        if let Some(total) = job["entities"]["sub_jobs_total"].as_u64()
            && total as usize != subs.len()
        {
            problems.push(format!("{kind} job {}: sub_jobs_total {total} but {} sub-jobs", job["job_id"], subs.len()));
        }
        let all_ok = subs.iter().all(|s| s.status == "SUCCESS");
        if (job["status"] == "SUCCESS") != all_ok {
            problems.push(format!("{kind} job {} is {} but its sub-jobs say otherwise", job["job_id"], job["status"]));
        }
        for sub in subs {
            match sub.status.as_str() {
                "SUCCESS" => history.entry(sub.server_id.clone()).or_default().push((kind, sub, target.clone())),
                "FAIL" => {
                    let code = sub.code.clone().unwrap_or_default();
                    if !PER_SERVER_CODES.contains(&code.as_str()) {
                        problems.push(format!("{kind} sub-job of {} failed with {code:?}", sub.server_id));
                    }
                    *conflicts.entry(code).or_default() += 1;
                }
                other => problems.push(format!("{kind} sub-job of {} ended {other}", sub.server_id)),
            }
        }
    }
    let mut renamed: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut resets = 0;
    for outcome in &journal.outcomes {
        match outcome {
            Outcome::Refused { what, status, body } => {
                for code in check_refusal(what, *status, body, &mut problems) {
                    *conflicts.entry(code).or_default() += 1;
                }
            }
            Outcome::Renamed { name, ids } => {
                for id in ids {
                    renamed.entry(id.clone()).or_default().insert(name.clone());
                }
            }
            Outcome::PasswordReset { ids } => resets += ids.len(),
            Outcome::Job { .. } => {}
        }
    }

    // Final state of every server.
    // Jobs accepted last may still be moving: finish every pending step, then nothing may be
    // busy (a lost or stuck sub-job is not in the engine's queue and stays busy).
    let (status, _) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let listed = list_all_servers(&ecs).await;
    let by_id: HashMap<String, &Value> =
        listed.iter().map(|s| (s["id"].as_str().expect("id").to_string(), s)).collect();
    if by_id.len() != listed.len() {
        problems.push("a server is listed twice".into());
    }
    let mut known: BTreeSet<String> = created.iter().cloned().collect();
    known.extend(history.keys().cloned());
    for id in &known {
        let mut ops = history.get(id).cloned().unwrap_or_default();
        // In the order they ended; one at a time: each began after the previous one ended.
        ops.sort_by(|a, b| (&a.1.end, &a.1.begin).cmp(&(&b.1.end, &b.1.begin)));
        for pair in ops.windows(2) {
            if pair[1].1.begin < pair[0].1.end {
                problems.push(format!(
                    "{id}: {} ({}..{}) overlaps {} ({}..{})",
                    pair[1].0, pair[1].1.begin, pair[1].1.end, pair[0].0, pair[0].1.begin, pair[0].1.end
                ));
            }
        }
        let deleted = ops.iter().any(|(kind, _, _)| *kind == "delete");
        match (deleted, by_id.get(id)) {
            (true, Some(_)) => problems.push(format!("{id}: deleted by a successful sub-job but still listed")),
            (false, None) => problems.push(format!("{id}: lost: no successful delete, yet not listed")),
            (true, None) => {
                if ops.last().is_some_and(|(kind, _, _)| *kind != "delete") {
                    problems.push(format!("{id}: an operation succeeded after its delete"));
                }
                let (status, _) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}"))).await;
                if status != StatusCode::NOT_FOUND {
                    problems.push(format!("{id}: deleted but GET answers {status}"));
                }
            }
            (false, Some(server)) => {
                // Replay the successful operations: each must have been allowed where it ran,
                // and together they must give the final status and flavor.
                let mut state = "ACTIVE";
                let mut flavor = if created.contains(id) { "s6.small.1".to_string() } else { String::new() };
                for (kind, _, target) in &ops {
                    match *kind {
                        "create" => state = "ACTIVE",
                        "stop" if state == "ACTIVE" => state = "SHUTOFF",
                        "start" if state == "SHUTOFF" => state = "ACTIVE",
                        "reboot" if state == "ACTIVE" => {}
                        "resize" => flavor = target.clone().unwrap_or(flavor),
                        other => problems.push(format!("{id}: {other} succeeded on a {state} server")),
                    }
                }
                let status = server["status"].as_str().unwrap_or_default();
                if status != state {
                    problems.push(format!("{id}: is {status}, its jobs say {state}: {:?}", kinds(&ops)));
                }
                if !server["OS-EXT-STS:task_state"].is_null() {
                    problems.push(format!("{id}: stuck busy: {}", server["OS-EXT-STS:task_state"]));
                }
                if !flavor.is_empty() && server["flavor"]["id"] != flavor.as_str() {
                    problems.push(format!("{id}: flavor {} but its resizes say {flavor}", server["flavor"]["id"]));
                }
                let name = server["name"].as_str().unwrap_or_default();
                if let Some(names) = renamed.get(id)
                    && !names.contains(name)
                {
                    problems.push(format!("{id}: named {name}, none of its accepted renames {names:?}"));
                }
            }
        }
    }
    // Quota usage is exactly what the listed servers hold.
    let limits = ecs.limits().await;
    let cores: i64 = listed.iter().map(|s| flavors[s["flavor"]["id"].as_str().expect("flavor")].0).sum();
    let ram: i64 = listed.iter().map(|s| flavors[s["flavor"]["id"].as_str().expect("flavor")].1).sum();
    if limits["totalInstancesUsed"] != listed.len() as i64
        || limits["totalCoresUsed"] != cores
        || limits["totalRAMUsed"] != ram
    {
        problems.push(format!("usage {limits} but the servers hold {} / {cores} cores / {ram} MiB", listed.len()));
    }
    let successes: usize = history.values().map(Vec::len).sum();
    println!(
        "{CLIENTS} clients, {} requests, {} jobs, {successes} successful sub-jobs, {resets} password resets, \
         conflicts {conflicts:?}, most instances seen {max_seen}",
        journal.outcomes.len(),
        jobs.len()
    );
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    assert!(conflicts.get("Ecs.0603").copied().unwrap_or(0) > 0, "the clients never collided: {conflicts:?}");
}

fn kinds(ops: &[(&'static str, Sub, Option<String>)]) -> Vec<&'static str> {
    ops.iter().map(|(kind, _, _)| *kind).collect()
}

/// flavor id → (vCPUs, RAM MiB), from the API.
async fn flavor_table(ecs: &TestServer) -> HashMap<String, (i64, i64)> {
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/flavors")).await;
    assert_eq!(status, StatusCode::OK);
    body["flavors"]
        .as_array()
        .expect("flavors")
        .iter()
        .map(|f| {
            let vcpus: i64 = f["vcpus"].as_str().expect("vcpus").parse().expect("number");
            (f["id"].as_str().expect("id").to_string(), (vcpus, f["ram"].as_i64().expect("ram")))
        })
        .collect()
}

/// Reads `/limits` until told to stop; returns the most instances seen and any reading that was
/// negative or over the limit.
async fn watch_usage(ecs: &TestServer, stop: &AtomicBool) -> (i64, Vec<String>) {
    let mut problems = Vec::new();
    let mut max_seen = 0;
    while !stop.load(Ordering::Relaxed) {
        let (status, body) = ecs.get(&ecs.v1("/cloudservers/limits")).await;
        if status != StatusCode::OK {
            problems.push(format!("limits answered {status}: {body}"));
            break;
        }
        let a = &body["absolute"];
        for (used, max) in [
            ("totalInstancesUsed", "maxTotalInstances"),
            ("totalCoresUsed", "maxTotalCores"),
            ("totalRAMUsed", "maxTotalRAMSize"),
        ] {
            let (used_value, max_value) = (a[used].as_i64().unwrap_or(-1), a[max].as_i64().unwrap_or(-1));
            if used_value < 0 || (max_value >= 0 && used_value > max_value) {
                problems.push(format!("{used} = {used_value} (limit {max_value})"));
            }
        }
        max_seen = max_seen.max(a["totalInstancesUsed"].as_i64().unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (max_seen, problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creates_and_resizes_racing_a_small_quota_never_exceed_it() {
    const MAX_INSTANCES: i64 = 30;
    const MAX_CORES: i64 = 45;
    let ecs = Arc::new(
        TestServer::start_with_toml(&format!("[quota]\nmax_instances = {MAX_INSTANCES}\nmax_cores = {MAX_CORES}\n"))
            .await,
    );
    let flavors = flavor_table(&ecs).await;
    let stop_monitor = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (ecs, stop) = (Arc::clone(&ecs), Arc::clone(&stop_monitor));
        tokio::spawn(async move { watch_usage(&ecs, &stop).await })
    };
    let journal: Shared = Arc::default();
    let mut tasks = Vec::new();
    for seed in 0..CLIENTS as u64 {
        let (ecs, journal) = (Arc::clone(&ecs), Arc::clone(&journal));
        tasks.push(tokio::spawn(async move { quota_client(&ecs, &journal, seed, 8).await }));
    }
    let mut created = 0;
    let mut deleted = 0;
    for task in tasks {
        let (c, d) = task.await.expect("client");
        created += c;
        deleted += d;
    }
    stop_monitor.store(true, Ordering::Relaxed);
    let (max_seen, mut problems) = monitor.await.expect("monitor");
    let journal = Arc::try_unwrap(journal).ok().expect("clients done").into_inner();
    problems.extend(journal.problems);
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in &journal.outcomes {
        if let Outcome::Refused { what, status, body } = outcome {
            for code in check_refusal(what, *status, body, &mut problems) {
                *refusals.entry(code).or_default() += 1;
            }
        }
    }
    // Jobs accepted last may still be moving: finish every pending step, then nothing may be
    // busy (a lost or stuck sub-job is not in the engine's queue and stays busy).
    let (status, _) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let listed = list_all_servers(&ecs).await;
    let limits = ecs.limits().await;
    let cores: i64 = listed.iter().map(|s| flavors[s["flavor"]["id"].as_str().expect("flavor")].0).sum();
    if listed.len() as i64 > MAX_INSTANCES || cores > MAX_CORES {
        problems.push(format!("{} servers with {cores} cores are over the quota", listed.len()));
    }
    if limits["totalInstancesUsed"] != listed.len() as i64 || limits["totalCoresUsed"] != cores {
        problems.push(format!("usage {limits} but {} servers with {cores} cores are listed", listed.len()));
    }
    if created - deleted != listed.len() {
        problems.push(format!("{created} created - {deleted} deleted != {} listed", listed.len()));
    }
    for server in &listed {
        if !server["OS-EXT-STS:task_state"].is_null() {
            problems.push(format!("{} stuck busy", server["id"]));
        }
    }
    println!(
        "{CLIENTS} clients: {created} servers created, {deleted} deleted, {} left, refusals {refusals:?}, \
         most instances seen {max_seen} (limit {MAX_INSTANCES})",
        listed.len()
    );
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    assert!(refusals.get("Ecs.0001").copied().unwrap_or(0) > 0, "the quota was never reached: {refusals:?}");
}

/// Creates small batches against the quota, resizes its own servers up, deletes some; returns
/// how many servers it created and deleted (by successful sub-jobs).
async fn quota_client(ecs: &TestServer, journal: &Shared, seed: u64, rounds: usize) -> (usize, usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut mine: Vec<String> = Vec::new();
    let (mut created, mut deleted) = (0, 0);
    for _ in 0..rounds {
        let flavor = if rng.random_bool(0.7) { "s6.small.1" } else { "s6.large.2" };
        let count = rng.random_range(1..=4);
        let Some(answer) =
            send(ecs, journal, Method::POST, &ecs.v1("/cloudservers"), create_body("q", flavor, count)).await
        else {
            continue;
        };
        if answer.status == StatusCode::OK {
            let ids: Vec<String> = answer.body["serverIds"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|v| v.as_str().expect("id").into())
                .collect();
            let job_id = answer.body["job_id"].as_str().expect("job");
            match wait_job_patiently(ecs, job_id).await {
                Some(job) if job["status"] == "SUCCESS" => {
                    created += ids.len();
                    mine.extend(ids);
                }
                other => journal.lock().await.problems.push(format!("create job ended {other:?}")),
            }
        } else {
            journal.lock().await.outcomes.push(Outcome::Refused {
                what: "create".into(),
                status: answer.status.as_u16(),
                body: answer.body,
            });
        }
        match rng.random_range(0..3) {
            // Resize one of its servers up (with a stop): quota counts the larger flavor.
            0 if !mine.is_empty() => {
                let id = mine.choose(&mut rng).expect("one").clone();
                let answer = send(
                    ecs,
                    journal,
                    Method::POST,
                    &ecs.v1(&format!("/cloudservers/{id}/resize")),
                    json!({"resize": {"flavorRef": "s6.xlarge.2", "mode": "withStopServer"}}),
                )
                .await;
                record_job(journal, "resize", "resize", &[id], Some("s6.xlarge.2"), answer).await;
            }
            // Delete some of its servers and wait, so the quota frees. A server busy with a
            // resize refuses (Ecs.0603): delete again what is left.
            1 if !mine.is_empty() => {
                let how_many = rng.random_range(1..=mine.len());
                let mut remaining: Vec<String> = mine.drain(..how_many).collect();
                for _ in 0..100 {
                    if remaining.is_empty() {
                        break;
                    }
                    let Some(answer) = send(
                        ecs,
                        journal,
                        Method::POST,
                        &ecs.v1("/cloudservers/delete"),
                        json!({"servers": body_ids(&remaining)}),
                    )
                    .await
                    else {
                        break;
                    };
                    let Some(job_id) = answer.body["job_id"].as_str() else {
                        journal.lock().await.problems.push(format!("delete refused: {}", answer.body));
                        break;
                    };
                    let Some(job) = wait_job_patiently(ecs, job_id).await else {
                        journal.lock().await.problems.push(format!("delete job {job_id} did not end"));
                        break;
                    };
                    let gone: BTreeSet<String> =
                        sub_jobs(&job).into_iter().filter(|s| s.status == "SUCCESS").map(|s| s.server_id).collect();
                    deleted += gone.len();
                    remaining.retain(|id| !gone.contains(id));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                if !remaining.is_empty() {
                    journal.lock().await.problems.push(format!("{remaining:?} could not be deleted"));
                }
            }
            _ => {}
        }
    }
    (created, deleted)
}

/// Two ecsd replicas on one data dir: each has its own process state, so only the store's
/// transactions can keep the quota and the private addresses consistent between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_store_share_the_quota_and_the_addresses() {
    const MAX_INSTANCES: i64 = 40;
    const REPLICA_CLIENTS: u64 = CLIENTS as u64;
    let file: ecsd::config::ConfigFile =
        toml::from_str(&format!("[quota]\nmax_instances = {MAX_INSTANCES}\n")).expect("config");
    let catalogue = file.catalogue().expect("catalogue");
    let first = TestServer::start_with(catalogue.clone(), Timings::INSTANT).await;
    let second_running =
        ecsd::start(crate::common::config(first.data_dir.path().to_path_buf(), catalogue, Timings::INSTANT))
            .await
            .expect("second replica starts");
    let mut second = TestServer::remote(&format!("http://{}", second_running.addr), test_credential());
    second.running = Some(second_running);
    let replicas = [Arc::new(first), Arc::new(second)];

    let journal: Shared = Arc::default();
    let mut tasks = Vec::new();
    let began = std::time::Instant::now();
    for seed in 0..REPLICA_CLIENTS {
        let ecs = Arc::clone(&replicas[seed as usize % 2]);
        let journal = Arc::clone(&journal);
        tasks.push(tokio::spawn(async move { quota_client(&ecs, &journal, 1000 + seed, 6).await }));
    }
    let (mut created, mut deleted) = (0, 0);
    for task in tasks {
        let (c, d) = task.await.expect("client");
        created += c;
        deleted += d;
    }
    let journal = Arc::try_unwrap(journal).ok().expect("clients done").into_inner();
    let mut problems = journal.problems;
    for outcome in &journal.outcomes {
        if let Outcome::Refused { what, status, body } = outcome {
            check_refusal(what, *status, body, &mut problems);
        }
    }
    for ecs in &replicas {
        let listed = list_all_servers(ecs).await;
        if listed.len() as i64 > MAX_INSTANCES || created - deleted != listed.len() {
            problems.push(format!("{} listed, {created} created, {deleted} deleted", listed.len()));
        }
        let mut addresses = BTreeSet::new();
        for server in &listed {
            for nic in server["addresses"]
                .as_object()
                .expect("addresses")
                .values()
                .flat_map(|v| v.as_array().cloned().unwrap_or_default())
            {
                let ip = nic["addr"].as_str().expect("addr").to_string();
                if !addresses.insert(ip.clone()) {
                    problems.push(format!("{ip} is given to two servers"));
                }
            }
        }
        let limits = ecs.limits().await;
        if limits["totalInstancesUsed"] != listed.len() as i64 {
            problems.push(format!("usage {} but {} listed", limits["totalInstancesUsed"], listed.len()));
        }
    }
    println!("two replicas, {REPLICA_CLIENTS} clients: {created} created, {deleted} deleted in {:?}", began.elapsed());
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
}

/// Each operation of a server is accepted only after the previous one ended (the task-state
/// compare-and-set), so its sub-job's `begin_time` must not precede the previous one's
/// `end_time`. Clients hammer start/stop/reboot on a few servers to make requests wait for the
/// store while the engine finishes steps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn job_times_show_the_operations_of_a_server_one_after_another() {
    let timings = Timings {
        create_ms: 0,
        start_ms: 40,
        stop_ms: 40,
        reboot_ms: 60,
        resize_ms: 80,
        delete_ms: 40,
        nic_ms: 40,
        ..Timings::INSTANT
    };
    let ecs = Arc::new(TestServer::start_with(Catalogue::default(), timings).await);
    let ids = ecs.create_servers("hot", "s6.small.1", 6).await;
    let mut tasks = Vec::new();
    for seed in 0..CLIENTS as u64 {
        let (ecs, ids) = (Arc::clone(&ecs), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut jobs = Vec::new();
            let began = std::time::Instant::now();
            while began.elapsed() < Duration::from_secs(5) {
                let action = ["os-start", "os-stop", "reboot"].choose(&mut rng).expect("action");
                let mut inner = json!({"servers": server_ids(&ids)});
                if *action == "reboot" {
                    inner["type"] = json!("SOFT");
                }
                let (status, body) = ecs.post(&ecs.v1("/cloudservers/action"), json!({ *action: inner })).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                jobs.push(body["job_id"].as_str().expect("job").to_string());
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..10))).await;
            }
            jobs
        }));
    }
    let mut history: HashMap<String, Vec<Sub>> = HashMap::new();
    for task in tasks {
        for job_id in task.await.expect("client") {
            let job = wait_job_patiently(&ecs, &job_id).await.expect("job ends");
            for sub in sub_jobs(&job).into_iter().filter(|s| s.status == "SUCCESS") {
                history.entry(sub.server_id.clone()).or_default().push(sub);
            }
        }
    }
    let mut overlaps = Vec::new();
    for (id, mut subs) in history {
        subs.sort_by(|a, b| a.end.cmp(&b.end));
        for pair in subs.windows(2) {
            if pair[1].begin < pair[0].end {
                overlaps
                    .push(format!("{id}: began {} before the previous operation ended {}", pair[1].begin, pair[0].end));
            }
        }
    }
    assert!(overlaps.is_empty(), "{} overlap(s):\n  {}", overlaps.len(), overlaps.join("\n  "));
}

/// Issue 20, finding 2: commands that reach the engine while it settles are carried out and
/// answered only once they have taken effect. A settle of 20,000 reboots (60,000 steps) runs
/// while a second settle, five clock advances and a snapshot restore arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restore_settle_and_advance_racing_a_20000_server_settle_all_take_effect() {
    const LONG: u64 = 600_000;
    let mut catalogue = Catalogue::default();
    catalogue.quota.max_instances = 100_000;
    catalogue.quota.max_cores = 1_000_000;
    catalogue.quota.max_ram_mib = 1_000_000_000;
    let timings = Timings { create_ms: LONG, reboot_ms: LONG, ..Timings::INSTANT };
    let ecs = Arc::new(TestServer::start_with(catalogue, timings).await);
    let fleet: Vec<Value> = (0..200).map(|i| json!({"name": format!("f{i:03}"), "count": 100})).collect();
    let (status, body) = ecs.post("/_ecsd/fixtures", json!({"servers": fleet})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ids: Vec<String> =
        body["servers"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()).collect();
    assert_eq!(ids.len(), 20_000);
    let reboot_all = || async {
        let mut jobs = Vec::new();
        for chunk in ids.chunks(1000) {
            let body = json!({"reboot": {"servers": server_ids(chunk), "type": "SOFT"}});
            let (status, answer) = ecs.post(&ecs.v1("/cloudservers/action"), body).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            jobs.push(answer["job_id"].as_str().expect("job").to_string());
        }
        jobs
    };
    let settle = |ecs: Arc<TestServer>| {
        tokio::spawn(async move {
            let (status, body) = ecs.post("/_ecsd/clock/settle", json!({})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            std::time::Instant::now()
        })
    };
    let now = |body: &Value| {
        time::OffsetDateTime::parse(body["now"].as_str().expect("now"), &time::format_description::well_known::Rfc3339)
            .expect("a time")
    };

    // A second settle and five advances arrive while the first settle runs.
    let reboots = reboot_all().await;
    let (_, before) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 0})).await;
    let first = settle(Arc::clone(&ecs));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let raced_at = std::time::Instant::now();
    let advances: Vec<_> = (0..5)
        .map(|_| {
            let ecs = Arc::clone(&ecs);
            tokio::spawn(async move { ecs.post("/_ecsd/clock/advance", json!({"seconds": 60})).await })
        })
        .collect();
    let (status, body) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for job in &reboots {
        assert_eq!(ecs.job(job).await["status"], "SUCCESS", "the second settle answered before its work was done");
    }
    for advance in advances {
        let (status, body) = advance.await.expect("advance");
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let first_done = first.await.expect("first settle");
    assert!(first_done > raced_at, "the first settle ended before the race: make the fleet larger");
    let (_, after) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 0})).await;
    let moved = now(&after) - now(&before);
    assert!(moved >= time::Duration::seconds(300), "five advances of 60 s moved the clock by {moved}");

    // A restore arrives while a settle runs: the restored job is settled too.
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("restored", "s6.small.1", 1)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let restored_job = body["job_id"].as_str().expect("job").to_string();
    let restored_server = body["serverIds"][0].as_str().expect("id").to_string();
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "pending"})).await;
    assert_eq!(status, StatusCode::CREATED);
    reboot_all().await;
    let third = settle(Arc::clone(&ecs));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = ecs.call(Method::POST, "/_ecsd/snapshots/pending/restore", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let restored_at = std::time::Instant::now();
    let (status, body) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        third.await.expect("third settle") > restored_at,
        "the settle ended before the restore: make the fleet larger"
    );
    assert_eq!(ecs.job(&restored_job).await["status"], "SUCCESS", "the restored job was not settled");
    let server = ecs.server(&restored_server).await;
    assert_eq!(server["status"], "ACTIVE", "{server}");
    assert!(server["OS-EXT-STS:task_state"].is_null(), "{server}");
}
