//! Crash safety of the real binary: large batches with realistic timings, `kill -9` at random
//! moments, restarts on the same data dir; then every invariant of the store and the jobs.
//! And a graceful shutdown: SIGTERM finishes what is in flight and exits 0.
//!
//! `ECSD_CRASH_SEED=<n>` repeats a run of the kill test exactly (the seed is printed).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Servers the kill test creates at least (20 creates of 100).
const SERVERS: usize = 2000;
const KILLS: usize = 10;
const PATIENCE: Duration = Duration::from_secs(15);

const REALISTIC_CONFIG: &str = "
[timings]
create_ms = 2000
start_ms = 1000
stop_ms = 1000
reboot_ms = 1000
resize_ms = 1500
delete_ms = 1000

[quota]
max_instances = 10000
max_cores = 100000
max_ram_mib = 1000000000
";

/// A request whose answer the client saw, or did not.
#[derive(Debug, Clone)]
struct Sent {
    kind: &'static str,
    ids: Vec<String>,
    /// A resize's flavor.
    target: Option<String>,
    /// A create's `X-Client-Token` and body, to retry it as a client would.
    create: Option<Create>,
}

#[derive(Debug, Clone)]
struct Create {
    token: String,
    name: String,
    body: Value,
}

impl Sent {
    fn of(kind: &'static str, ids: Vec<String>) -> Self {
        Sent { kind, ids, target: None, create: None }
    }
}

#[derive(Default)]
struct Ledger {
    /// Server ids of answered creates, in order.
    accepted: Vec<String>,
    /// job id → what it was asked for.
    jobs: HashMap<String, Sent>,
    /// Requests cut off by a kill: they may or may not have been committed.
    in_doubt: usize,
    /// Creates cut off by a kill, to retry with their token (as a client would).
    unanswered_creates: Vec<Create>,
    /// How many times a create was sent again with its token.
    retries: usize,
    /// Answered creates: (the create, its job id, its server ids).
    answered_creates: Vec<(Create, String, Vec<String>)>,
    /// Whole-request refusals: (what, status, body).
    refusals: Vec<(String, u16, Value)>,
    /// Answers that should never be: 5xx.
    problems: Vec<String>,
}

type Shared = Arc<Mutex<Ledger>>;

/// Sends one request after `wait` and records what came of it.
async fn send(
    ecs: Arc<TestServer>,
    ledger: Shared,
    wait: Duration,
    sent: Sent,
    method: Method,
    path: String,
    body: Value,
) {
    tokio::time::sleep(wait).await;
    let bytes = serde_json::to_vec(&body).expect("json");
    let token = sent.create.as_ref().map(|c| c.token.clone());
    let headers: Vec<(&str, &str)> = token.iter().map(|t| ("x-client-token", t.as_str())).collect();
    let answer = ecs.try_call(method, &path, bytes, &headers, PATIENCE).await;
    let mut ledger = ledger.lock().await;
    match answer {
        Err(_) => {
            ledger.in_doubt += 1;
            ledger.unanswered_creates.extend(sent.create);
        }
        Ok(answer) if answer.status.is_server_error() => {
            ledger.problems.push(format!("{} {path}: {} {}", sent.kind, answer.status, answer.body));
        }
        Ok(answer) => match answer.body["job_id"].as_str() {
            Some(job_id) if answer.status == StatusCode::OK => {
                let ids = match answer.body["serverIds"].as_array() {
                    Some(ids) => ids.iter().map(|v| v.as_str().expect("id").to_string()).collect(),
                    None => sent.ids.clone(),
                };
                if let Some(create) = &sent.create {
                    ledger.accepted.extend(ids.iter().cloned());
                    ledger.answered_creates.push((create.clone(), job_id.to_string(), ids.clone()));
                }
                ledger.jobs.insert(job_id.to_string(), Sent { ids, ..sent });
            }
            _ if answer.status.is_success() => {}
            _ => ledger.refusals.push((sent.kind.to_string(), answer.status.as_u16(), answer.body)),
        },
    }
}

fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("ecsd.toml");
    std::fs::write(&path, REALISTIC_CONFIG).expect("config");
    path
}

/// Starts every request of one life of the process, each after a random pause so a kill
/// finds some in flight; returns their tasks.
fn fire(
    ecs: &Arc<TestServer>,
    ledger: &Shared,
    accepted: &[String],
    rng: &mut StdRng,
    creates: Vec<Create>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let mut pauses = StdRng::seed_from_u64(rng.random());
    let mut go = |sent: Sent, method: Method, path: String, body: Value| {
        let wait = Duration::from_millis(pauses.random_range(0..1500));
        tasks.push(tokio::spawn(send(Arc::clone(ecs), Arc::clone(ledger), wait, sent, method, path, body)));
    };
    for create in creates {
        let body = create.body.clone();
        go(Sent { create: Some(create), ..Sent::of("create", vec![]) }, Method::POST, ecs.v1("/cloudservers"), body);
    }
    if accepted.is_empty() {
        return tasks;
    }
    let some = |rng: &mut StdRng, n: usize| -> Vec<String> { accepted.choose_multiple(rng, n).cloned().collect() };
    // Deletes only aim at every seventh server, so most live to be stopped and started.
    let deletable: Vec<String> = accepted.iter().step_by(7).cloned().collect();
    for (kind, action, n) in [("stop", "os-stop", 300), ("stop", "os-stop", 200), ("start", "os-start", 300)] {
        let ids = some(rng, n);
        let mut inner = json!({"servers": server_ids(&ids)});
        if kind == "stop" && rng.random_bool(0.5) {
            inner["type"] = json!("HARD");
        }
        go(Sent::of(kind, ids), Method::POST, ecs.v1("/cloudservers/action"), json!({ action: inner }));
    }
    let ids = some(rng, 150);
    go(
        Sent::of("reboot", ids.clone()),
        Method::POST,
        ecs.v1("/cloudservers/action"),
        json!({"reboot": {"servers": server_ids(&ids), "type": "SOFT"}}),
    );
    let ids: Vec<String> = deletable.choose_multiple(rng, 60).cloned().collect();
    go(
        Sent::of("delete", ids.clone()),
        Method::POST,
        ecs.v1("/cloudservers/delete"),
        json!({"servers": server_ids(&ids)}),
    );
    // Resize and rename are all-or-nothing: small batches, so some find every server idle.
    for _ in 0..3 {
        let flavor = *["s6.medium.2", "s6.large.2", "s6.small.1"].choose(rng).expect("flavor");
        let ids = some(rng, 3);
        go(
            Sent { target: Some(flavor.into()), ..Sent::of("resize", ids.clone()) },
            Method::POST,
            ecs.v1("/cloudservers/batch-resize"),
            json!({"resize": {"flavorRef": flavor, "mode": "withStopServer", "servers": server_ids(&ids)}}),
        );
    }
    let ids = some(rng, 2);
    go(
        Sent::of("rename", ids.clone()),
        Method::PUT,
        ecs.v1("/cloudservers/server-name"),
        json!({"name": format!("renamed-{}", rng.random::<u16>()), "servers": server_ids(&ids)}),
    );
    tasks
}

/// A sub-job as the job document shows it.
#[derive(Debug, Clone)]
struct Sub {
    server_id: String,
    status: String,
    code: Option<String>,
    end: String,
}

fn sub_jobs(job: &Value) -> Vec<Sub> {
    let of = |s: &Value, server_id: &str| Sub {
        server_id: server_id.to_string(),
        status: s["status"].as_str().unwrap_or_default().to_string(),
        code: s["error_code"].as_str().map(String::from),
        end: s["end_time"].as_str().unwrap_or_default().to_string(),
    };
    match job["entities"]["sub_jobs"].as_array() {
        Some(subs) => subs.iter().map(|s| of(s, s["entities"]["server_id"].as_str().unwrap_or_default())).collect(),
        None => vec![of(job, job["entities"]["server_id"].as_str().unwrap_or_default())],
    }
}

/// The ids of every job in the store, read from the database file (the API has no job list).
fn stored_job_ids(data_dir: &Path, project_id: &str) -> Result<Vec<String>, String> {
    let db = rusqlite::Connection::open_with_flags(
        data_dir.join("ecsd.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| e.to_string())?;
    let mut stmt = db.prepare("SELECT id FROM jobs WHERE project_id = ?1").map_err(|e| e.to_string())?;
    let rows = stmt.query_map([project_id], |r| r.get::<_, String>(0)).map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    for row in rows {
        ids.push(row.map_err(|e| e.to_string())?);
    }
    Ok(ids)
}

/// Polls until every job has ended, or the deadline passes; returns the documents.
async fn finished_jobs(ecs: &TestServer, ids: &[String], deadline: Duration) -> (HashMap<String, Value>, Vec<String>) {
    let began = Instant::now();
    let mut done = HashMap::new();
    let mut pending: Vec<String> = ids.to_vec();
    while !pending.is_empty() && began.elapsed() < deadline {
        let mut still = Vec::new();
        for id in pending {
            let (status, job) = ecs.get(&ecs.v1(&format!("/jobs/{id}"))).await;
            if status == StatusCode::OK && (job["status"] == "SUCCESS" || job["status"] == "FAIL") {
                done.insert(id, job);
            } else {
                still.push(id);
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    (done, pending)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_servers_survive_repeated_kill_9_with_every_invariant() {
    let seed = std::env::var("ECSD_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    println!("ECSD_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let config = write_config(dir.path());
    let ledger: Shared = Arc::default();
    let began = Instant::now();

    let mut kills = Vec::new();
    let mut next_create = 0;
    for life in 0..KILLS {
        let mut process = EcsProcess::spawn(&data_dir, Some(&config), "realistic");
        let ecs = Arc::new(process.client());
        let (accepted, mut creates) = {
            let mut ledger = ledger.lock().await;
            let retry = std::mem::take(&mut ledger.unanswered_creates);
            ledger.retries += retry.len();
            (ledger.accepted.clone(), retry)
        };
        // The first life gets the 20 concurrent creates of 100; later ones retry the creates a
        // kill cut off, and send a mix of batches while the engine resumes what was left.
        while accepted.len() + 100 * creates.len() < SERVERS {
            // A name of its own (fixed width, so no name contains another) and a client token.
            let name = format!("cr{next_create:04}");
            next_create += 1;
            let body = create_body(&name, "s6.small.1", 100);
            creates.push(Create { token: uuid::Uuid::new_v4().to_string(), name, body });
        }
        let tasks = fire(&ecs, &ledger, &accepted, &mut rng, creates);
        let delay =
            Duration::from_millis(if life == 0 { rng.random_range(200..2500) } else { rng.random_range(0..3000) });
        tokio::time::sleep(delay).await;
        process.kill();
        for task in tasks {
            task.await.expect("request task");
        }
        kills.push(delay);
    }

    // The last life: instant timings finish whatever is left.
    let process = EcsProcess::spawn(&data_dir, Some(&config), "instant");
    let ecs = process.client();
    let mut ledger = Arc::try_unwrap(ledger).ok().expect("requests done").into_inner();
    let mut problems = Vec::new();
    // A client whose create was cut off by a kill retries it with the same X-Client-Token: it
    // gets the servers of the first attempt if that was committed, else new ones; never both.
    for create in std::mem::take(&mut ledger.unanswered_creates) {
        ledger.retries += 1;
        let answer = ecs
            .try_call(
                Method::POST,
                &ecs.v1("/cloudservers"),
                serde_json::to_vec(&create.body).expect("json"),
                &[("x-client-token", &create.token)],
                PATIENCE,
            )
            .await
            .expect("the retried create is answered");
        assert_eq!(answer.status, StatusCode::OK, "retried create {}: {}", create.name, answer.body);
        let ids: Vec<String> =
            answer.body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect();
        ledger.accepted.extend(ids.iter().cloned());
        let job_id = answer.body["job_id"].as_str().expect("job").to_string();
        ledger.jobs.insert(job_id.clone(), Sent::of("create", ids.clone()));
        ledger.answered_creates.push((create, job_id, ids));
    }
    // A create that was answered, retried with its token, answers the same job and servers.
    for (create, job_id, ids) in &ledger.answered_creates {
        let answer = ecs
            .try_call(
                Method::POST,
                &ecs.v1("/cloudservers"),
                serde_json::to_vec(&create.body).expect("json"),
                &[("x-client-token", &create.token)],
                PATIENCE,
            )
            .await
            .expect("answer");
        if answer.body["job_id"] != job_id.as_str() || answer.body["serverIds"] != json!(ids) {
            problems.push(format!("create {} retried with its token answered {}", create.name, answer.body));
        }
    }
    // Top up to 2,000 accepted servers if the kills cut too many creates short.
    while ledger.accepted.len() < SERVERS {
        let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("late", "s6.small.1", 100)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ids: Vec<String> =
            body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect();
        ledger.accepted.extend(ids.iter().cloned());
        ledger.jobs.insert(body["job_id"].as_str().expect("job").into(), Sent::of("create", ids));
    }
    problems.append(&mut ledger.problems);

    // Every job, including those of requests cut off by a kill, read from the store.
    let mut job_ids: BTreeSet<String> = ledger.jobs.keys().cloned().collect();
    match stored_job_ids(&data_dir, ecs.project()) {
        Ok(stored) => {
            for id in &job_ids {
                if !stored.contains(id) {
                    problems.push(format!("job {id} was answered but is not in the store"));
                }
            }
            job_ids.extend(stored);
        }
        Err(e) => problems.push(format!("could not read the job ids from the store: {e}")),
    }
    let job_ids: Vec<String> = job_ids.into_iter().collect();
    let (jobs, unfinished) = finished_jobs(&ecs, &job_ids, Duration::from_secs(20)).await;
    for id in &unfinished {
        problems.push(format!("job {id} never ended after the restart"));
    }

    // Jobs: finished, sub-jobs as asked, counts consistent.
    let mut created_by_jobs: BTreeSet<String> = BTreeSet::new();
    let mut history: HashMap<String, Vec<(String, Sub, Option<String>)>> = HashMap::new();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut successes: BTreeMap<String, usize> = BTreeMap::new();
    for (id, job) in &jobs {
        let subs = sub_jobs(job);
        let kind = job["job_type"].as_str().unwrap_or_default().to_string();
        if let Some(total) = job["entities"]["sub_jobs_total"].as_u64()
            && total as usize != subs.len()
        {
            problems.push(format!("job {id}: sub_jobs_total {total} but {} sub-jobs", subs.len()));
        }
        let known = ledger.jobs.get(id);
        if let Some(sent) = known {
            let listed: Vec<&String> = subs.iter().map(|s| &s.server_id).collect();
            if listed != sent.ids.iter().collect::<Vec<_>>() {
                problems.push(format!("job {id} ({kind}): its sub-jobs are not the servers asked for"));
            }
        }
        let all_ok = subs.iter().all(|s| s.status == "SUCCESS");
        if (job["status"] == "SUCCESS") != all_ok {
            problems.push(format!("job {id} is {} but its sub-jobs say otherwise", job["status"]));
        }
        let mut seen = BTreeSet::new();
        for sub in subs {
            if !seen.insert(sub.server_id.clone()) {
                problems.push(format!("job {id}: two sub-jobs for {}", sub.server_id));
            }
            if kind == "createServer" {
                created_by_jobs.insert(sub.server_id.clone());
            }
            match sub.status.as_str() {
                "SUCCESS" => {
                    *successes.entry(kind.clone()).or_default() += 1;
                    let target = known.and_then(|s| s.target.clone());
                    history.entry(sub.server_id.clone()).or_default().push((kind.clone(), sub, target));
                }
                "FAIL" => {
                    let code = sub.code.clone().unwrap_or_default();
                    if !(code.starts_with("Ecs.") || code.starts_with("Common.")) {
                        problems.push(format!("job {id}: sub-job of {} failed without a code", sub.server_id));
                    }
                    if kind == "createServer" {
                        problems.push(format!("job {id}: the create of {} failed with {code}", sub.server_id));
                    }
                    *failures.entry(code).or_default() += 1;
                }
                other => problems.push(format!("job {id}: a sub-job ended {other}")),
            }
        }
    }
    for id in &ledger.accepted {
        if !created_by_jobs.contains(id) {
            problems.push(format!("server {id} was accepted but no create job knows it"));
        }
    }
    // Every create was retried until answered, so every server a job created is known.
    let accepted: BTreeSet<&String> = ledger.accepted.iter().collect();
    let unknown = created_by_jobs.iter().filter(|id| !accepted.contains(id)).count();
    if unknown > 0 {
        problems.push(format!("{unknown} servers were created by jobs no client answer knows"));
    }

    // Servers: each accepted one listed exactly once, or deleted by a successful sub-job.
    let listed = list_all_servers(&ecs).await;
    let mut by_id: HashMap<String, Value> = HashMap::new();
    for server in &listed {
        let id = server["id"].as_str().expect("id").to_string();
        if by_id.insert(id.clone(), server.clone()).is_some() {
            problems.push(format!("server {id} is listed twice"));
        }
    }
    let (_, page) = ecs.get(&ecs.v1("/cloudservers/detail?limit=1")).await;
    if page["count"] != listed.len() {
        problems.push(format!("count {} but {} listed", page["count"], listed.len()));
    }
    let mut deleted = 0;
    let mut addresses: BTreeMap<String, String> = BTreeMap::new();
    for id in &created_by_jobs {
        let mut ops = history.get(id).cloned().unwrap_or_default();
        ops.sort_by(|a, b| a.1.end.cmp(&b.1.end));
        let was_deleted = ops.iter().any(|(kind, _, _)| kind == "deleteServer");
        let Some(server) = by_id.get(id) else {
            if was_deleted {
                deleted += 1;
            } else {
                problems.push(format!("server {id} is lost: not listed and no successful delete"));
            }
            continue;
        };
        if was_deleted {
            problems.push(format!("server {id} was deleted by a successful sub-job but is still listed"));
        }
        let status = server["status"].as_str().unwrap_or_default();
        if !["ACTIVE", "SHUTOFF"].contains(&status) || !server["OS-EXT-STS:task_state"].is_null() {
            problems
                .push(format!("server {id} is stuck: status {status}, task state {}", server["OS-EXT-STS:task_state"]));
        }
        // Replay: created ACTIVE; a stop needs ACTIVE, a start SHUTOFF; a resize keeps the state.
        let mut state = "ACTIVE";
        let mut flavor = Some("s6.small.1".to_string());
        for (kind, _, target) in &ops {
            match (kind.as_str(), state) {
                ("createServer", _) | ("rebootServer", "ACTIVE") => {}
                ("stopServer", "ACTIVE") => state = "SHUTOFF",
                ("startServer", "SHUTOFF") => state = "ACTIVE",
                // A resize cut off by a kill has no known target: the flavor is then unknown.
                ("resizeServer", _) => flavor = target.clone(),
                (kind, state) => problems.push(format!("server {id}: {kind} succeeded on a {state} server")),
            }
        }
        if status != state {
            let kinds: Vec<&str> = ops.iter().map(|(k, _, _)| k.as_str()).collect();
            problems.push(format!("server {id} is {status} but its jobs say {state}: {kinds:?}"));
        }
        if let Some(flavor) = flavor
            && server["flavor"]["id"] != flavor.as_str()
        {
            problems.push(format!("server {id} has flavor {} but its resizes say {flavor}", server["flavor"]["id"]));
        }
        let ips: Vec<String> = server["addresses"]
            .as_object()
            .map(|nets| nets.values().flat_map(|v| v.as_array().cloned().unwrap_or_default()).collect::<Vec<_>>())
            .unwrap_or_default()
            .iter()
            .filter_map(|a| a["addr"].as_str().map(String::from))
            .collect();
        if ips.is_empty() || server["os-extended-volumes:volumes_attached"].as_array().is_none_or(Vec::is_empty) {
            problems.push(format!("server {id} is half-created: addresses {ips:?}"));
        }
        for ip in ips {
            if let Some(other) = addresses.insert(ip.clone(), id.clone()) {
                problems.push(format!("{ip} is the address of {other} and {id}"));
            }
        }
    }
    for id in by_id.keys() {
        if !created_by_jobs.contains(id) {
            problems.push(format!("server {id} is listed but no create job made it"));
        }
    }

    // Each create, however often it was sent, made its servers once: every listed server of
    // its name is one its answer named.
    for (create, _, ids) in &ledger.answered_creates {
        let prefix = format!("{}-", create.name);
        let strays = listed
            .iter()
            .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with(&prefix)))
            .filter(|s| !ids.iter().any(|id| s["id"] == id.as_str()))
            .count();
        if strays > 0 || ids.len() != 100 {
            problems.push(format!(
                "create {}: {} servers answered, {strays} more by that name",
                create.name,
                ids.len()
            ));
        }
    }

    // Quota usage is what the listed servers hold.
    let (_, flavors) = ecs.get(&ecs.v1("/cloudservers/flavors")).await;
    let size: HashMap<&str, (i64, i64)> = flavors["flavors"]
        .as_array()
        .expect("flavors")
        .iter()
        .map(|f| {
            let vcpus = f["vcpus"].as_str().expect("vcpus").parse().expect("number");
            (f["id"].as_str().expect("id"), (vcpus, f["ram"].as_i64().expect("ram")))
        })
        .collect();
    let cores: i64 = listed.iter().map(|s| size[s["flavor"]["id"].as_str().expect("flavor")].0).sum();
    let ram: i64 = listed.iter().map(|s| size[s["flavor"]["id"].as_str().expect("flavor")].1).sum();
    let limits = ecs.limits().await;
    if limits["totalInstancesUsed"] != listed.len() as i64
        || limits["totalCoresUsed"] != cores
        || limits["totalRAMUsed"] != ram
    {
        problems.push(format!("limits say {limits}, the {} servers hold {cores} cores, {ram} MiB", listed.len()));
    }
    for (what, status, body) in &ledger.refusals {
        if let Err(e) = documented_error_shape(body) {
            problems.push(format!("{what} refused with {status}: {e}"));
        }
    }

    println!(
        "seed {seed}: {} kills at {kills:?}; {} servers accepted, {} listed, \
         {deleted} deleted; {} jobs, {} requests cut off by a kill, {} creates retried with their token, \
         successful sub-jobs {successes:?}, failed {failures:?}; {:?}",
        kills.len(),
        ledger.accepted.len(),
        listed.len(),
        jobs.len(),
        ledger.in_doubt,
        ledger.retries,
        began.elapsed()
    );
    if !problems.is_empty() {
        eprintln!("log of the last life:\n{}", process.log_text());
    }
    assert!(problems.is_empty(), "seed {seed}: {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    assert!(ledger.accepted.len() >= SERVERS);
    assert!(listed.len() + deleted == created_by_jobs.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let config = write_config(dir.path());
    let mut process = EcsProcess::spawn(&data_dir, Some(&config), "realistic");
    let ecs = Arc::new(process.client());
    let before = create_patiently(&ecs, "before", 5).await;

    // Requests that take 1.5 s inside ecsd, then SIGTERM while they are in flight.
    let (status, body) =
        ecs.post("/_ecsd/faults", json!({"operation": "create", "effect": {"kind": "delay", "ms": 1500}})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut in_flight = Vec::new();
    for i in 0..5 {
        let ecs = Arc::clone(&ecs);
        in_flight.push(tokio::spawn(async move {
            let body = serde_json::to_vec(&create_body(&format!("inflight{i}"), "s6.small.1", 10)).expect("json");
            ecs.try_call(Method::POST, &ecs.v1("/cloudservers"), body, &[], PATIENCE).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let signalled = Instant::now();
    process.terminate();

    // New connections are no longer served while the in-flight ones finish.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let late = ecs.try_call(Method::GET, &ecs.v1("/cloudservers/limits"), vec![], &[], Duration::from_secs(3)).await;
    if let Ok(answer) = &late {
        assert!(!answer.status.is_server_error(), "a request during shutdown got {}", answer.status);
    }

    let mut created = before.clone();
    for task in in_flight {
        let answer = task.await.expect("task").expect("the in-flight request is answered, not cut off");
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        created
            .extend(answer.body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()));
    }
    let exit = process.wait_exit(Duration::from_secs(5)).expect("ecsd exits within 5 s of SIGTERM");
    assert!(exit.success(), "exit status {exit:?}; log:\n{}", process.log_text());
    println!("SIGTERM → exit 0 in {:?}; late request: {:?}", signalled.elapsed(), late.map(|a| a.status));

    // After a restart everything answered is there, and the creates cut short by the shutdown
    // finish.
    let process = EcsProcess::spawn(&data_dir, Some(&config), "instant");
    let ecs = process.client();
    let listed = list_all_servers(&ecs).await;
    let listed_ids: BTreeSet<&str> = listed.iter().map(|s| s["id"].as_str().expect("id")).collect();
    assert_eq!(listed.len(), 55, "5 + 5 × 10 servers");
    for id in &created {
        assert!(listed_ids.contains(id.as_str()), "{id} lost");
    }
    for _ in 0..200 {
        if list_all_servers(&ecs).await.iter().all(|s| s["status"] == "ACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for server in list_all_servers(&ecs).await {
        assert_eq!(server["status"], "ACTIVE", "{}", server["id"]);
        assert!(server["OS-EXT-STS:task_state"].is_null());
    }
    assert_eq!(ecs.limits().await["totalInstancesUsed"], 55);
}

/// Creates with realistic timings, which take seconds (the harness's `create_servers` waits 5 s).
async fn create_patiently(ecs: &TestServer, name: &str, count: u32) -> Vec<String> {
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body(name, "s6.small.1", count)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job_id = body["job_id"].as_str().expect("job").to_string();
    let (done, pending) = finished_jobs(ecs, &[job_id], Duration::from_secs(20)).await;
    assert!(pending.is_empty(), "create did not finish");
    assert!(done.values().all(|j| j["status"] == "SUCCESS"));
    body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect()
}

/// Starts the binary with no configured credential (so it generates one, or reads the data
/// dir's), waits for its endpoint; `Err` with the exit status and stderr if it does not come up.
fn start_unconfigured(data_dir: &Path) -> Result<std::process::Child, String> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecsd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--timings", "instant", "--data-dir"])
        .arg(data_dir)
        .env_remove("ECSD_ACCESS_KEY")
        .env_remove("ECSD_SECRET_KEY")
        .env_remove("ECSD_PROJECT_ID")
        .env("ECSD_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ecsd runs");
    let stdout = child.stdout.take().expect("stdout");
    let (found, announced) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("ecsd listening on ") {
                let _ = found.send(());
            }
        }
    });
    if announced.recv_timeout(Duration::from_secs(20)).is_ok() {
        return Ok(child);
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("exit");
    Err(format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim()))
}

/// On first start ecsd writes the generated credential to a temporary file and renames it
/// into place; a kill -9 (or a full disk) before the rename leaves only that partial file,
/// empty or cut short. The next start must not refuse the data dir for it.
#[test]
fn a_credential_file_cut_short_by_a_kill_does_not_stop_the_next_start() {
    for left in ["", "{\n  \"access_key\": \"AK"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&data_dir).expect("data dir");
        std::fs::write(data_dir.join("bootstrap-credential.json.partial"), left).expect("file");
        match start_unconfigured(&data_dir) {
            Ok(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Err(e) => panic!("with {left:?} left in the credential file, ecsd does not start: {e}"),
        }
    }
}

/// Kills during the very first start (store creation, migrations, the generated credential)
/// at random moments; each following start must come up on the data dir.
#[test]
fn kills_during_the_first_start_leave_a_data_dir_that_starts() {
    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut problems = Vec::new();
    for round in 0..6 {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecsd"))
            .args(["serve", "--listen", "127.0.0.1:0", "--timings", "instant", "--data-dir"])
            .arg(&data_dir)
            .env_remove("ECSD_ACCESS_KEY")
            .env_remove("ECSD_SECRET_KEY")
            .env_remove("ECSD_PROJECT_ID")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("ecsd runs");
        std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
        let _ = child.kill();
        let _ = child.wait();
        match start_unconfigured(&data_dir) {
            Ok(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Err(e) => {
                let left = std::fs::read_to_string(data_dir.join("bootstrap-credential.json")).unwrap_or_default();
                problems.push(format!("round {round}: {e} (credential file: {left:?})"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
