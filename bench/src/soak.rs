//! `ecsd-bench --soak`: one ecsd, five projects, mixed signed traffic for a bounded time
//! (10 minutes by default). Every `--soak-sample-seconds` it records the server's RSS, the p50
//! and p99 of the requests answered in that window, and the errors; at the end it prints the
//! series and whether memory stayed flat and nothing failed.
//!
//! Each client waits for the jobs it starts, as automation does, so the fleets stay between
//! 50 and 300 servers a project. An error is a request without an answer, a 5xx, or a 401/403
//! (every request is signed for its own project). A 4xx that the state explains (a busy or stopped server refused by a
//! batch, a server deleted by another client of the project) is a refusal, counted apart.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ecsd::api::signing::sign_request;
use reqwest::Method;
use serde_json::{Value, json};

use crate::load::pick;
use crate::server::{free_port, start_server};

pub const PROJECTS: usize = 5;
/// Clients per project, each with its own keep-alive connection.
const CLIENTS_PER_PROJECT: usize = 4;
/// A project's fleet is kept between these sizes by the creates and deletes of its clients.
const FLEET_MIN: usize = 50;
const FLEET_MAX: usize = 300;
/// However fast the machine, no more requests than this in all.
const MAX_REQUESTS: usize = 50_000_000;

const IMAGE: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01";
const VPC: &str = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01";
const SUBNET: &str = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01";

struct Credential {
    access_key: String,
    secret_key: String,
    project_id: String,
}

fn credential(n: usize) -> Credential {
    Credential {
        access_key: format!("AKSOAK{n:014}"),
        secret_key: format!("SKsoak{n:034}"),
        project_id: format!("{:032x}", 0x50a4_0000 + n),
    }
}

/// The bench catalogue plus the five projects and their keys.
pub fn config_toml(base: &str) -> String {
    let mut toml = base.to_string();
    for n in 0..PROJECTS {
        let c = credential(n);
        toml.push_str(&format!(
            "\n[[projects]]\nid = \"{p}\"\nname = \"soak-{n}\"\n\n[[access_keys]]\naccess_key = \"{a}\"\nsecret_key = \"{s}\"\nproject_id = \"{p}\"\n",
            p = c.project_id,
            a = c.access_key,
            s = c.secret_key,
        ));
    }
    toml
}

/// What the clients saw in one sample window.
#[derive(Default)]
struct Window {
    micros: Vec<u32>,
    errors: usize,
    refusals: usize,
    first_errors: Vec<String>,
}

struct Shared {
    window: Mutex<Window>,
    sent: AtomicUsize,
    stop: AtomicBool,
}

impl Shared {
    fn record(&self, latency: Duration, outcome: Outcome) {
        let Ok(mut window) = self.window.lock() else { return };
        match outcome {
            Outcome::Answered => window.micros.push(latency.as_micros().min(u32::MAX as u128) as u32),
            Outcome::Refused => {
                window.micros.push(latency.as_micros().min(u32::MAX as u128) as u32);
                window.refusals += 1;
            }
            Outcome::Error(what) => {
                window.errors += 1;
                if window.first_errors.len() < 5 {
                    window.first_errors.push(what);
                }
            }
        }
    }
}

enum Outcome {
    Answered,
    Refused,
    Error(String),
}

/// One client of one project.
struct Client {
    http: reqwest::Client,
    base: String,
    credential: Credential,
    fleet: Arc<Mutex<Vec<String>>>,
    shared: Arc<Shared>,
}

impl Client {
    fn v1(&self, rest: &str) -> String {
        format!("/v1/{}{rest}", self.credential.project_id)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Option<(u16, Value)> {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap_or_default()).unwrap_or_default();
        let url = format!("{}{path}", self.base);
        let headers = [("content-type", "application/json"), ("x-project-id", self.credential.project_id.as_str())];
        let c = &self.credential;
        let signed = sign_request(&c.access_key, &c.secret_key, method.as_str(), &url, &headers, &bytes).ok()?;
        let request = signed.iter().fold(self.http.request(method.clone(), url), |r, (n, v)| r.header(n, v));
        self.shared.sent.fetch_add(1, Ordering::Relaxed);
        let began = Instant::now();
        let answer = async {
            let response = request.body(bytes).send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let text = response.bytes().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, serde_json::from_slice(&text).unwrap_or(Value::Null)))
        };
        let answer =
            tokio::time::timeout(Duration::from_secs(30), answer).await.unwrap_or(Err("no answer in 30 s".into()));
        let latency = began.elapsed();
        match answer {
            Ok((status, body)) => {
                let outcome = match status {
                    200..=299 => Outcome::Answered,
                    401 | 403 | 500..=599 => Outcome::Error(format!("{method} {path}: {status} {body}")),
                    _ => Outcome::Refused,
                };
                self.shared.record(latency, outcome);
                Some((status, body))
            }
            Err(error) => {
                self.shared.record(latency, Outcome::Error(format!("{method} {path}: {error}")));
                None
            }
        }
    }

    /// Up to `n` servers of the project, picked at random.
    fn some(&self, seed: usize, i: usize, n: usize) -> Vec<String> {
        let Ok(fleet) = self.fleet.lock() else { return Vec::new() };
        let mut picked: Vec<String> =
            (0..n.min(fleet.len())).map(|k| fleet[pick(seed + k, i, fleet.len())].clone()).collect();
        picked.sort();
        picked.dedup();
        picked
    }

    fn fleet_size(&self) -> usize {
        self.fleet.lock().map(|f| f.len()).unwrap_or(0)
    }

    /// Polls a job until it ends, as automation does (every 50 ms, for at most a minute);
    /// the ids of the servers whose sub-jobs succeeded.
    async fn wait_job(&self, job_id: &str) -> Vec<String> {
        let path = self.v1(&format!("/jobs/{job_id}"));
        let began = Instant::now();
        while began.elapsed() < Duration::from_secs(60) && !self.shared.stop.load(Ordering::Relaxed) {
            let Some((200, job)) = self.call(Method::GET, &path, None).await else { return Vec::new() };
            if job["status"] == "SUCCESS" || job["status"] == "FAIL" {
                let subs = job["entities"]["sub_jobs"].as_array().cloned().unwrap_or_default();
                return subs
                    .iter()
                    .filter(|sub| sub["status"] == "SUCCESS")
                    .filter_map(|sub| sub["entities"]["server_id"].as_str().map(String::from))
                    .collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Vec::new()
    }

    async fn run(self, seed: usize) {
        let mut jobs: Vec<String> = Vec::new();
        let mut i = 0;
        while !self.shared.stop.load(Ordering::Relaxed) && self.shared.sent.load(Ordering::Relaxed) < MAX_REQUESTS {
            i += 1;
            let roll = pick(seed, i, 100);
            let size = self.fleet_size();
            if size < FLEET_MIN || (roll < 8 && size < FLEET_MAX) {
                let count = 1 + pick(seed + 1, i, 10);
                let body = json!({"server": {"imageRef": IMAGE, "flavorRef": "s6.small.1", "name": format!("soak-{seed}-{i}"),
                    "vpcid": VPC, "nics": [{"subnet_id": SUBNET}], "root_volume": {"volumetype": "SSD"}, "count": count}});
                if let Some((200, answer)) = self.call(Method::POST, &self.v1("/cloudservers"), Some(body)).await
                    && let Some(job) = answer["job_id"].as_str()
                {
                    let created = self.wait_job(job).await;
                    if let Ok(mut fleet) = self.fleet.lock() {
                        fleet.extend(created);
                    }
                    jobs.push(job.to_string());
                }
                continue;
            }
            match roll {
                0..=37 => {
                    if let Some(id) = self.some(seed, i, 1).pop() {
                        self.call(Method::GET, &self.v1(&format!("/cloudservers/{id}")), None).await;
                    }
                }
                38..=52 => {
                    let page = 1 + pick(seed + 2, i, 3);
                    self.call(Method::GET, &self.v1(&format!("/cloudservers/detail?limit=50&offset={page}")), None)
                        .await;
                }
                53..=64 => {
                    if let Some(job) = jobs.get(pick(seed + 3, i, jobs.len().max(1))).cloned() {
                        self.call(Method::GET, &self.v1(&format!("/jobs/{job}")), None).await;
                    }
                    if jobs.len() > 50 {
                        jobs.drain(..25);
                    }
                }
                65..=76 => {
                    let action = if roll.is_multiple_of(2) { "os-stop" } else { "os-start" };
                    let ids = self.some(seed + 4, i, 20);
                    let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
                    if !servers.is_empty()
                        && let Some((200, answer)) = self
                            .call(
                                Method::POST,
                                &self.v1("/cloudservers/action"),
                                Some(json!({action: {"servers": servers}})),
                            )
                            .await
                        && let Some(job) = answer["job_id"].as_str()
                    {
                        self.wait_job(job).await;
                        jobs.push(job.to_string());
                    }
                }
                77..=83 => {
                    let ids = self.some(seed + 5, i, 10);
                    let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
                    if !servers.is_empty() {
                        let body = json!({"name": format!("renamed-{i}"), "servers": servers});
                        self.call(Method::PUT, &self.v1("/cloudservers/server-name"), Some(body)).await;
                    }
                }
                84..=89 if size > FLEET_MIN * 2 => {
                    let ids = self.some(seed + 6, i, 10);
                    let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
                    if let Some((200, answer)) = self
                        .call(Method::POST, &self.v1("/cloudservers/delete"), Some(json!({"servers": servers})))
                        .await
                        && let Some(job) = answer["job_id"].as_str()
                    {
                        let deleted = self.wait_job(job).await;
                        if let Ok(mut fleet) = self.fleet.lock() {
                            fleet.retain(|id| !deleted.contains(id));
                        }
                    }
                }
                _ => {
                    let path = if roll.is_multiple_of(2) { "/cloudservers/limits" } else { "/cloudservers/flavors" };
                    self.call(Method::GET, &self.v1(path), None).await;
                }
            }
        }
    }
}

/// One sample of the series.
pub struct Sample {
    pub at_s: f64,
    pub rss_mib: f64,
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
    pub refusals: usize,
}

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// Runs the soak on `data_dir` (where `bench.toml` already holds [`config_toml`]).
pub async fn soak(
    bin: &std::path::Path,
    data_dir: &std::path::Path,
    minutes: f64,
    sample: Duration,
) -> anyhow::Result<()> {
    let port = free_port()?;
    let (server, _) = start_server(bin, data_dir, port, None).await?;
    let shared = Arc::new(Shared {
        window: Mutex::new(Window::default()),
        sent: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let mut clients = tokio::task::JoinSet::new();
    for project in 0..PROJECTS {
        let fleet = Arc::new(Mutex::new(Vec::new()));
        for k in 0..CLIENTS_PER_PROJECT {
            let client = Client {
                http: reqwest::Client::builder().no_proxy().build()?,
                base: format!("http://127.0.0.1:{port}"),
                credential: credential(project),
                fleet: Arc::clone(&fleet),
                shared: Arc::clone(&shared),
            };
            clients.spawn(client.run(1000 * project + 100 * k + 1));
        }
    }
    let duration = Duration::from_secs_f64(minutes * 60.0);
    eprintln!(
        "soak: {PROJECTS} projects × {CLIENTS_PER_PROJECT} clients for {minutes} min, a sample every {} s",
        sample.as_secs()
    );
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut errors_seen = Vec::new();
    while started.elapsed() < duration {
        tokio::time::sleep(sample.min(duration.saturating_sub(started.elapsed())).max(Duration::from_millis(100)))
            .await;
        let window = shared.window.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default();
        let mut micros = window.micros;
        micros.sort_unstable();
        let point = Sample {
            at_s: started.elapsed().as_secs_f64(),
            rss_mib: server.rss_mib().unwrap_or(f64::NAN),
            requests: micros.len() + window.errors,
            p50_ms: percentile(&micros, 0.5),
            p99_ms: percentile(&micros, 0.99),
            errors: window.errors,
            refusals: window.refusals,
        };
        eprintln!(
            "  {:>6.0} s  RSS {:>6.1} MiB  {:>6} requests  p50 {:>6.2} ms  p99 {:>7.2} ms  errors {}  refusals {}",
            point.at_s, point.rss_mib, point.requests, point.p50_ms, point.p99_ms, point.errors, point.refusals
        );
        errors_seen.extend(window.first_errors);
        samples.push(point);
    }
    shared.stop.store(true, Ordering::Relaxed);
    while clients.join_next().await.is_some() {}
    server.stop().await;
    print_soak(&samples, minutes, sample, &errors_seen);
    Ok(())
}

fn print_soak(samples: &[Sample], minutes: f64, sample: Duration, errors: &[String]) {
    println!(
        "\n## Soak: {PROJECTS} projects × {CLIENTS_PER_PROJECT} clients, {minutes} min, samples every {} s\n",
        sample.as_secs()
    );
    println!("| t (s) | RSS (MiB) | requests | req/s | p50 (ms) | p99 (ms) | errors | refusals (4xx) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in samples {
        println!(
            "| {:.0} | {:.1} | {} | {:.0} | {:.2} | {:.2} | {} | {} |",
            s.at_s,
            s.rss_mib,
            s.requests,
            s.requests as f64 / sample.as_secs_f64(),
            s.p50_ms,
            s.p99_ms,
            s.errors,
            s.refusals
        );
    }
    let total: usize = samples.iter().map(|s| s.requests).sum();
    let failed: usize = samples.iter().map(|s| s.errors).sum();
    // The first half warms up: the fleets fill, the store grows and with it the page caches of
    // SQLite's connections (capped, 2 MiB each). Memory is flat when the second half adds at
    // most 10 % (or 5 MiB, for a small RSS).
    let rss = |i: usize| samples.get(i).map_or(f64::NAN, |s| s.rss_mib);
    let (first, half, last) = (rss(0), rss(samples.len() / 2), rss(samples.len().saturating_sub(1)));
    let peak = samples.iter().map(|s| s.rss_mib).fold(f64::NAN, f64::max);
    let p99 = |from: usize, to: usize| {
        let window: Vec<f64> = samples[from.min(to)..to].iter().map(|s| s.p99_ms).collect();
        window.iter().sum::<f64>() / window.len().max(1) as f64
    };
    let minutes_per_half = minutes / 2.0;
    println!(
        "\n- {total} requests, {failed} errors; RSS {first:.1} MiB at the first sample, {half:.1} MiB at half time, \
         {last:.1} MiB at the end (second half {:+.1} MiB, {:+.2} MiB/min), peak {peak:.1} MiB; mean p99 of the \
         samples {:.2} ms in the first half, {:.2} ms in the second",
        last - half,
        (last - half) / minutes_per_half.max(0.01),
        p99(0, samples.len() / 2),
        p99(samples.len() / 2, samples.len()),
    );
    let flat = last - half <= (half * 0.1).max(5.0);
    println!(
        "- verdict: memory {}, {}",
        if flat { "flat" } else { "GREW" },
        if failed == 0 { "no errors" } else { "ERRORS" }
    );
    for error in errors {
        println!("  - {error}");
    }
}
