//! `ecsd-bench`: starts `ecsd serve --timings instant` on a temporary data dir, loads it with
//! requests signed like the official SDK, and prints one table of the figures of issue 6
//! (optionally beside moto's, from `bench/run-moto.sh`).
//!
//! ```sh
//! cargo build --release && cargo run --release --bin ecsd-bench -- --quick
//! bench/run-moto.sh --out target/bench/moto.json
//! cargo run --release --bin ecsd-bench -- --moto-json target/bench/moto.json
//! ```
//!
//! Every request goes to 127.0.0.1 only; every load loop is bounded in time and in count.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use ecsd::api::signing::sign_request;
use reqwest::Method;
use serde_json::{Value, json};

const ACCESS_KEY: &str = "AKBENCHECSD000000001";
const SECRET_KEY: &str = "SKbenchecsd00000000000000000000000000001";
const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
const IMAGE: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01";
const VPC: &str = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01";
const SUBNET: &str = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01";
const FLAVOR: &str = "s6.small.1";
/// `count` may be at most 100 in one create (contract T1.8).
const MAX_CREATE: usize = 100;
/// At most 1,000 servers in one batch action.
const MAX_BATCH: usize = 1000;
/// Creates in flight while the fleet grows.
const GROW_CONCURRENCY: usize = 8;
/// The longest any one job may take before the bench gives up on it.
const JOB_DEADLINE: Duration = Duration::from_secs(600);

/// A catalogue with no quota limits and one subnet big enough for 16 million servers. Only the
/// addresses are data: nothing is ever sent to them.
const CONFIG_TOML: &str = r#"
[quota]
max_instances = -1
max_cores = -1
max_ram_mib = -1

[[vpcs]]
id = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01"
name = "vpc-bench"
cidr = "10.0.0.0/8"

[[subnets]]
id = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01"
name = "subnet-bench"
vpc_id = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01"
cidr = "10.0.0.0/8"
gateway_ip = "10.0.0.1"
"#;

#[derive(Parser)]
#[command(name = "ecsd-bench", about = "Benchmarks ecsd (instant timings, temporary data dir) and prints one table")]
struct Args {
    /// Only 10,000 servers and shorter load phases: finishes in under a minute.
    #[arg(long)]
    quick: bool,
    /// The largest fleet measured: 10,000, 100,000 or 1,000,000 (growing to 1,000,000 takes
    /// about 4 minutes on 2 cores).
    #[arg(long, default_value_t = 1_000_000, conflicts_with = "quick")]
    max_servers: usize,
    /// The ecsd binary; by default the `ecsd` beside this one (target/release/ecsd).
    #[arg(long)]
    ecsd_bin: Option<PathBuf>,
    /// JSON written by bench/run-moto.sh: printed beside ecsd's figures with the ratio ecsd/moto.
    #[arg(long)]
    moto_json: Option<PathBuf>,
    /// Also write ecsd's figures as JSON to this file.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Connections of the show load.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of the main show load (default 10, 3 with --quick).
    #[arg(long)]
    show_seconds: Option<u64>,
    /// Stop growing the fleet after this many minutes and measure at the size reached.
    #[arg(long, default_value_t = 30)]
    grow_limit_minutes: u64,
    /// Keep the temporary data dir.
    #[arg(long)]
    keep: bool,
}

// ---------------------------------------------------------------------------------------------
// Signed requests.

/// Signs and sends requests for the bench credential, like the SDK does.
struct Api {
    base: String,
}

impl Api {
    fn new(port: u16) -> Self {
        Api { base: format!("http://127.0.0.1:{port}") }
    }

    fn v1(rest: &str) -> String {
        format!("/v1/{PROJECT_ID}{rest}")
    }

    /// A request signed over content-type, host, x-project-id and x-sdk-date.
    fn request(
        &self,
        http: &reqwest::Client,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}{path_and_query}", self.base);
        let headers = [("content-type", "application/json"), ("x-project-id", PROJECT_ID)];
        let signed = sign_request(ACCESS_KEY, SECRET_KEY, method.as_str(), &url, &headers, &body).unwrap_or_default();
        signed.iter().fold(http.request(method, url), |request, (name, value)| request.header(name, value)).body(body)
    }

    /// Sends a signed request and parses the JSON answer.
    async fn call(
        &self,
        http: &reqwest::Client,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let bytes = match body {
            Some(body) => serde_json::to_vec(body)?,
            None => Vec::new(),
        };
        let response = self.request(http, method, path_and_query, bytes).send().await?;
        let status = response.status().as_u16();
        let text = response.bytes().await?;
        let value = if text.is_empty() { Value::Null } else { serde_json::from_slice(&text).unwrap_or(Value::Null) };
        Ok((status, value))
    }

    /// A call that must answer 200; returns the body.
    async fn ok(
        &self,
        http: &reqwest::Client,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.call(http, method.clone(), path_and_query, body).await?;
        if status != 200 {
            bail!("{method} {path_and_query} answered {status}: {value}");
        }
        Ok(value)
    }

    /// Creates `count` (≤ 100) servers; returns the job id and the server ids.
    async fn create(&self, http: &reqwest::Client, count: usize) -> anyhow::Result<(String, Vec<String>)> {
        let body = json!({"server": {
            "imageRef": IMAGE, "flavorRef": FLAVOR, "name": "bench", "vpcid": VPC,
            "nics": [{"subnet_id": SUBNET}], "root_volume": {"volumetype": "SSD"}, "count": count,
        }});
        let answer = self.ok(http, Method::POST, &Api::v1("/cloudservers"), Some(&body)).await?;
        let job = answer["job_id"].as_str().context("create answered no job_id")?.to_string();
        let ids = answer["serverIds"]
            .as_array()
            .context("create answered no serverIds")?
            .iter()
            .filter_map(|id| id.as_str().map(String::from))
            .collect();
        Ok((job, ids))
    }

    /// `os-start` or `os-stop` of up to 1,000 servers; returns the job id.
    async fn batch(&self, http: &reqwest::Client, action: &str, ids: &[String]) -> anyhow::Result<String> {
        let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
        let body = json!({ action: {"servers": servers} });
        let answer = self.ok(http, Method::POST, &Api::v1("/cloudservers/action"), Some(&body)).await?;
        Ok(answer["job_id"].as_str().context("batch answered no job_id")?.to_string())
    }

    /// Polls a job every millisecond until it finishes; fails unless it ends in SUCCESS.
    async fn wait_job(&self, http: &reqwest::Client, job_id: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        let path = Api::v1(&format!("/jobs/{job_id}"));
        loop {
            let job = self.ok(http, Method::GET, &path, None).await?;
            match job["status"].as_str() {
                Some("SUCCESS") => return Ok(()),
                Some("FAIL") => bail!("job {job_id} failed: {}", job["fail_reason"]),
                _ if started.elapsed() > JOB_DEADLINE => bail!("job {job_id} did not finish in {JOB_DEADLINE:?}"),
                _ => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    }

    /// Waits for every job, `concurrency` at a time.
    async fn wait_jobs(self: &Arc<Self>, jobs: Vec<String>, concurrency: usize) -> anyhow::Result<()> {
        let queue = Arc::new(std::sync::Mutex::new(jobs));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (api, queue) = (Arc::clone(self), Arc::clone(&queue));
            tasks.spawn(async move {
                let http = client();
                loop {
                    let next = queue.lock().map_err(|_| anyhow::anyhow!("queue poisoned"))?.pop();
                    match next {
                        Some(job) => api.wait_job(&http, &job).await?,
                        None => return anyhow::Ok(()),
                    }
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        Ok(())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().pool_max_idle_per_host(4).build().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Latency figures.

#[derive(Debug, Clone, Copy, Default)]
struct Load {
    requests: usize,
    errors: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Load {
    fn rps(&self) -> f64 {
        if self.seconds > 0.0 { self.requests as f64 / self.seconds } else { 0.0 }
    }
}

/// The value at fraction `q` of sorted latencies (nearest rank).
fn percentile(sorted_micros: &[u32], q: f64) -> f64 {
    if sorted_micros.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_micros.len() as f64).ceil() as usize).clamp(1, sorted_micros.len());
    sorted_micros[rank - 1] as f64 / 1000.0
}

/// `connections` tasks, each with its own keep-alive client, send signed GETs of the paths
/// `path(task, i)` for `duration` or until `max_requests` were sent in all.
async fn load(
    api: &Arc<Api>,
    connections: usize,
    duration: Duration,
    max_requests: usize,
    path: Arc<dyn Fn(usize, usize) -> String + Send + Sync>,
) -> Load {
    let sent = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..connections {
        let (api, sent, errors, path) = (Arc::clone(api), Arc::clone(&sent), Arc::clone(&errors), Arc::clone(&path));
        tasks.spawn(async move {
            let http = client();
            let mut micros = Vec::with_capacity(4096);
            let mut i = 0;
            while started.elapsed() < duration && sent.fetch_add(1, Ordering::Relaxed) < max_requests {
                let request = api.request(&http, Method::GET, &path(task, i), Vec::new());
                let begun = Instant::now();
                let ok = match request.send().await {
                    Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    micros.push(begun.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
            micros
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done.unwrap_or_default());
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Load {
        requests: all.len(),
        errors: errors.load(Ordering::Relaxed),
        seconds,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
    }
}

/// A small xorshift, so random picks need no extra crate.
fn pick(seed: usize, i: usize, len: usize) -> usize {
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64).wrapping_add(0xD1B5_4A32_D192_ED03);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x % len.max(1) as u64) as usize
}

// ---------------------------------------------------------------------------------------------
// The server process.

struct Server {
    child: tokio::process::Child,
    pid: u32,
}

/// Starts ecsd and returns once it answered `GET /`, with the time that took.
async fn start_server(bin: &Path, data_dir: &Path, port: u16) -> anyhow::Result<(Server, Duration)> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("ecsd.log"))?;
    let started = Instant::now();
    let child = tokio::process::Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--timings", "instant", "--data-dir"])
        .arg(data_dir)
        .arg("--config")
        .arg(data_dir.join("bench.toml"))
        .env("ECSD_ACCESS_KEY", ACCESS_KEY)
        .env("ECSD_SECRET_KEY", SECRET_KEY)
        .env("ECSD_PROJECT_ID", PROJECT_ID)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = child.id().context("ecsd exited at once")?;
    let mut server = Server { child, pid };
    let url = format!("http://127.0.0.1:{port}/");
    loop {
        // A fresh client each try: a refused connection must not be kept in a pool.
        let http = reqwest::Client::builder().no_proxy().build()?;
        if let Ok(response) = http.get(&url).send().await
            && response.status().is_success()
        {
            return Ok((server, started.elapsed()));
        }
        if let Some(status) = server.child.try_wait()? {
            bail!("ecsd exited with {status}; see {}", data_dir.join("ecsd.log").display());
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("ecsd did not answer within 120 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

impl Server {
    fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// SIGTERM (a graceful stop), then waits; SIGKILL after 30 s.
    async fn stop(mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status();
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// User plus system CPU seconds of a process (`self` or a pid), from /proc (100 ticks a second).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU used by the server and by this bench while `work` runs, as a note.
async fn with_cpu<T>(server_pid: u32, what: &str, notes: &mut Vec<String>, work: impl Future<Output = T>) -> T {
    let pid = server_pid.to_string();
    let (server_before, bench_before, started) = (cpu_seconds(&pid), cpu_seconds("self"), Instant::now());
    let result = work.await;
    let wall = started.elapsed().as_secs_f64();
    if let (Some(s0), Some(b0), Some(s1), Some(b1)) =
        (server_before, bench_before, cpu_seconds(&pid), cpu_seconds("self"))
    {
        notes.push(format!(
            "{what}: the server used {:.0} % of one core and the bench client {:.0} % (2 cores in all)",
            (s1 - s0) / wall * 100.0,
            (b1 - b0) / wall * 100.0
        ));
    }
    result
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

// ---------------------------------------------------------------------------------------------
// The figures.

/// Which way is better for a figure.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Lower,
    Higher,
}

/// A target of the issue: `value ≤ limit` (Lower) or `value ≥ limit` (Higher).
#[derive(Clone, Copy)]
struct Target {
    limit: f64,
}

struct Row {
    id: String,
    label: String,
    unit: &'static str,
    better: Better,
    value: Option<f64>,
    target: Option<Target>,
    /// A target relative to another row: within 20 % of it.
    relative_to: Option<String>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    fn add(&mut self, id: impl Into<String>, label: impl Into<String>, unit: &'static str, better: Better, value: f64) {
        let value = value.is_finite().then_some(value);
        self.rows.push(Row {
            id: id.into(),
            label: label.into(),
            unit,
            better,
            value,
            target: None,
            relative_to: None,
        });
    }

    fn ms(&mut self, id: impl Into<String>, label: impl Into<String>, elapsed: Duration) {
        self.add(id, label, "ms", Better::Lower, elapsed.as_secs_f64() * 1000.0);
    }

    fn target(&mut self, limit: f64) {
        if let Some(row) = self.rows.last_mut() {
            row.target = Some(Target { limit });
        }
    }

    /// The rows of `size` that the issue wants within 20 % of the same at 10,000 servers.
    fn relative_to_10000(&mut self, size: usize) {
        for row in &mut self.rows {
            for kind in ["show", "list", "list_deep"] {
                if let Some(metric) = row.id.strip_prefix(&format!("{kind}_{size}_")) {
                    row.relative_to = Some(format!("{kind}_10000_{metric}"));
                }
            }
        }
    }

    fn value(&self, id: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.id == id).and_then(|r| r.value)
    }

    fn load(&mut self, id: &str, label: &str, load: Load) {
        self.add(format!("{id}_rps"), format!("{label}: requests/s"), "req/s", Better::Higher, load.rps());
        self.add(format!("{id}_p50_ms"), format!("{label}: p50"), "ms", Better::Lower, load.p50_ms);
        self.add(format!("{id}_p99_ms"), format!("{label}: p99"), "ms", Better::Lower, load.p99_ms);
        if load.errors > 0 {
            self.notes.push(format!("{label}: {} requests failed", load.errors));
        }
    }
}

fn format_value(value: f64, unit: &str) -> String {
    let number = if value >= 1000.0 {
        let whole = value.round() as u64;
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        grouped
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    format!("{number} {unit}")
}

/// The status of a row against its target: `met`, `not met` or empty.
fn verdict(report: &Report, row: &Row) -> (String, String) {
    let Some(value) = row.value else { return (String::new(), String::new()) };
    if let Some(target) = row.target {
        let (text, met) = match row.better {
            Better::Lower => (format!("≤ {}", format_value(target.limit, row.unit)), value <= target.limit),
            Better::Higher => (format!("≥ {}", format_value(target.limit, row.unit)), value >= target.limit),
        };
        return (text, if met { "met".into() } else { "not met".into() });
    }
    if let Some(base) = row.relative_to.as_deref().and_then(|id| report.value(id)) {
        let limit = match row.better {
            Better::Lower => base * 1.2,
            Better::Higher => base / 1.2,
        };
        let met = match row.better {
            Better::Lower => value <= limit,
            Better::Higher => value >= limit,
        };
        return (
            format!("within 20 % of 10k ({})", format_value(base, row.unit)),
            if met { "met".into() } else { "not met".into() },
        );
    }
    (String::new(), String::new())
}

fn print_table(report: &Report, moto: Option<&HashMap<String, Value>>, moto_notes: &HashMap<String, String>) {
    let mut lines = Vec::new();
    if moto.is_some() {
        lines.push("| Measure | ecsd | moto | ecsd/moto | Target | Met |".to_string());
        lines.push("|---|---:|---:|---:|---|---|".to_string());
    } else {
        lines.push("| Measure | ecsd | Target | Met |".to_string());
        lines.push("|---|---:|---|---|".to_string());
    }
    for row in &report.rows {
        let ecsd = row.value.map_or("n/a".to_string(), |v| format_value(v, row.unit));
        let (target, met) = verdict(report, row);
        match moto {
            Some(moto) => {
                let moto_value = moto.get(&row.id).and_then(Value::as_f64);
                let moto_text = match (moto_value, moto_notes.get(&row.id)) {
                    (Some(v), Some(note)) => format!("{} ({note})", format_value(v, row.unit)),
                    (Some(v), None) => format_value(v, row.unit),
                    (None, Some(note)) => note.clone(),
                    (None, None) => "—".to_string(),
                };
                let ratio = match (row.value, moto_value) {
                    (Some(e), Some(m)) if m > 0.0 => {
                        let ratio = e / m;
                        if ratio >= 100.0 {
                            format!("{ratio:.0}")
                        } else if ratio >= 0.1 {
                            format!("{ratio:.2}")
                        } else {
                            format!("{ratio:.4}")
                        }
                    }
                    _ => "—".to_string(),
                };
                lines.push(format!("| {} | {ecsd} | {moto_text} | {ratio} | {target} | {met} |", row.label));
            }
            None => lines.push(format!("| {} | {ecsd} | {target} | {met} |", row.label)),
        }
    }
    println!("{}", lines.join("\n"));
    if moto.is_some() {
        println!(
            "\necsd/moto: below 1 means ecsd takes less time or memory; above 1 on req/s rows means ecsd serves more."
        );
    }
    for note in &report.notes {
        println!("- {note}");
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Bench {
    api: Arc<Api>,
    http: reqwest::Client,
    quick: bool,
    report: Report,
    /// Every server created, in creation order.
    servers: Vec<String>,
}

impl Bench {
    /// Grows the fleet to `target` servers with creates of 100, `GROW_CONCURRENCY` in flight,
    /// then waits for every create job. Returns the time taken.
    /// Stops early, with fewer servers, once `limit` has passed; the growth milestones (every
    /// 100,000 servers) go into the notes.
    async fn grow_to(&mut self, target: usize, limit: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let missing = target.saturating_sub(self.servers.len());
        let calls: Vec<usize> =
            (0..missing.div_ceil(MAX_CREATE)).map(|i| (missing - i * MAX_CREATE).min(MAX_CREATE)).collect();
        let queue = Arc::new(std::sync::Mutex::new(calls.into_iter().rev().collect::<Vec<_>>()));
        let done = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..GROW_CONCURRENCY {
            let (api, queue, done) = (Arc::clone(&self.api), Arc::clone(&queue), Arc::clone(&done));
            tasks.spawn(async move {
                let http = client();
                let mut created = Vec::new();
                let mut jobs = Vec::new();
                while started.elapsed() < limit {
                    let next = queue.lock().map_err(|_| anyhow::anyhow!("queue poisoned"))?.pop();
                    let Some(count) = next else { break };
                    let (job, ids) = api.create(&http, count).await?;
                    done.fetch_add(ids.len(), Ordering::Relaxed);
                    created.extend(ids);
                    jobs.push(job);
                }
                anyhow::Ok((created, jobs))
            });
        }
        let milestones = Arc::new(std::sync::Mutex::new(Vec::new()));
        let progress = {
            let (done, milestones) = (Arc::clone(&done), Arc::clone(&milestones));
            let base = self.servers.len();
            tokio::spawn(async move {
                let (mut next_milestone, mut last) = ((base / 100_000 + 1) * 100_000, (0, 0.0));
                for tick in 1u64.. {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let n = base + done.load(Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64();
                    if n >= next_milestone {
                        if let Ok(mut milestones) = milestones.lock() {
                            milestones.push((n, secs));
                        }
                        next_milestone = (n / 100_000 + 1) * 100_000;
                    }
                    if tick % 15 == 0 {
                        let rate = (n - last.0) as f64 / (secs - last.1).max(0.001);
                        eprintln!("  growing: {n} servers after {secs:.0} s, {rate:.0} servers/s over the last 15 s");
                        last = (n, secs);
                    }
                }
            })
        };
        let mut jobs = Vec::new();
        while let Some(result) = tasks.join_next().await {
            let (created, mut task_jobs) = result??;
            self.servers.extend(created);
            jobs.append(&mut task_jobs);
        }
        progress.abort();
        self.api.wait_jobs(jobs, 8).await?;
        let milestones = milestones.lock().map(|m| m.clone()).unwrap_or_default();
        if !milestones.is_empty() {
            let text: Vec<String> = milestones
                .iter()
                .map(|(n, secs)| format!("{} at {secs:.0} s", format_value(*n as f64, "").trim_end()))
                .collect();
            self.report.notes.push(format!("Growth to {}: {}", count_label(target), text.join(", ")));
        }
        Ok(started.elapsed())
    }

    /// Show (random servers), list page 1 and a deep page, and RSS at the current size.
    async fn measure_size(&mut self, server: &Server, label: &str) -> anyhow::Result<()> {
        let size = self.servers.len();
        let secs = if self.quick { 2 } else { 5 };
        let rss = server.rss_mib().unwrap_or(f64::NAN);
        self.report.add(
            format!("rss_grown_{size}_mib"),
            format!("Server RSS at {label}, just grown (before the read loads below)"),
            "MiB",
            Better::Lower,
            rss,
        );
        let ids: Arc<Vec<String>> = Arc::new(self.servers.clone());
        let show = load(
            &self.api,
            64,
            Duration::from_secs(secs),
            1_000_000,
            Arc::new(move |task, i| Api::v1(&format!("/cloudservers/{}", ids[pick(task + 1, i, ids.len())]))),
        );
        let show = with_cpu(server.pid, &format!("Show at {label}"), &mut self.report.notes, show).await;
        self.report.load(
            &format!("show_{size}"),
            &format!("Show a random server at {label}, 64 conns, {secs} s"),
            show,
        );
        let list_page = |page: usize| -> Arc<dyn Fn(usize, usize) -> String + Send + Sync> {
            Arc::new(move |_, _| Api::v1(&format!("/cloudservers/detail?limit=100&offset={page}")))
        };
        let first = load(&self.api, 4, Duration::from_secs(secs), 20_000, list_page(1)).await;
        let label_first = format!("List detail, page 1 of 100, at {label}, 4 conns");
        self.report.add(
            format!("list_{size}_p50_ms"),
            format!("{label_first}: p50"),
            "ms",
            Better::Lower,
            first.p50_ms,
        );
        self.report.add(
            format!("list_{size}_p99_ms"),
            format!("{label_first}: p99"),
            "ms",
            Better::Lower,
            first.p99_ms,
        );
        let middle = (size / 100 / 2).max(1);
        let deep = load(&self.api, 4, Duration::from_secs(secs), 20_000, list_page(middle)).await;
        let label_deep = format!("List detail, page {middle} (the middle one, pages of 100), at {label}, 4 conns");
        self.report.add(
            format!("list_deep_{size}_p50_ms"),
            format!("{label_deep}: p50"),
            "ms",
            Better::Lower,
            deep.p50_ms,
        );
        self.report.add(
            format!("list_deep_{size}_p99_ms"),
            format!("{label_deep}: p99"),
            "ms",
            Better::Lower,
            deep.p99_ms,
        );
        if size > 10_000 {
            self.report.relative_to_10000(size);
        }
        let rss = server.rss_mib().unwrap_or(f64::NAN);
        self.report.add(
            format!("rss_{size}_mib"),
            format!("Server RSS at {label}, after the show and list loads"),
            "MiB",
            Better::Lower,
            rss,
        );
        match size {
            10_000 => self.report.target(50.0),
            1_000_000 => self.report.target(1024.0),
            _ => {}
        }
        Ok(())
    }
}

fn count_label(n: usize) -> String {
    format!("{} servers", format_value(n as f64, "").trim_end())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = match &args.ecsd_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?.with_file_name("ecsd"),
    };
    if !bin.exists() {
        bail!("{} not found: run `cargo build --release` first, or give --ecsd-bin", bin.display());
    }
    let moto: Option<Value> = match &args.moto_json {
        Some(path) => Some(
            serde_json::from_str(
                &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
            )
            .with_context(|| format!("parsing {}", path.display()))?,
        ),
        None => None,
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let data_dir = std::env::temp_dir().join(format!("ecsd-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    std::fs::write(data_dir.join("bench.toml"), CONFIG_TOML)?;
    eprintln!("ecsd-bench: {} on {}", bin.display(), data_dir.display());
    let result = bench(&args, &bin, &data_dir).await;
    if args.keep {
        eprintln!("kept {}", data_dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    let report = result?;

    let moto_rows: Option<HashMap<String, Value>> = moto
        .as_ref()
        .and_then(|m| m.get("rows"))
        .and_then(|rows| rows.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()));
    let moto_notes: HashMap<String, String> = moto
        .as_ref()
        .and_then(|m| m.get("notes"))
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default();
    println!();
    print_table(&report, moto_rows.as_ref(), &moto_notes);
    if let Some(meta) = moto.as_ref().and_then(|m| m.get("meta")) {
        println!("- moto: {meta}");
    }
    if let Some(path) = &args.json_out {
        let rows: serde_json::Map<String, Value> =
            report.rows.iter().map(|r| (r.id.clone(), r.value.map_or(Value::Null, Value::from))).collect();
        let labels: serde_json::Map<String, Value> =
            report.rows.iter().map(|r| (r.id.clone(), Value::from(r.label.clone()))).collect();
        std::fs::write(
            path,
            serde_json::to_string_pretty(&json!({"rows": rows, "labels": labels, "notes": report.notes}))?,
        )?;
    }
    Ok(())
}

async fn bench(args: &Args, bin: &Path, data_dir: &Path) -> anyhow::Result<Report> {
    let port = free_port()?;
    let (server, cold) = start_server(bin, data_dir, port).await?;
    let api = Arc::new(Api::new(port));
    let mut b = Bench {
        api: Arc::clone(&api),
        http: client(),
        quick: args.quick,
        report: Report::default(),
        servers: Vec::new(),
    };
    b.report.ms("cold_start_ms", "Cold start to first answered request (fresh data dir)", cold);
    b.report.target(100.0);
    // The first signed request warms the access-key path; it is not measured.
    api.ok(&b.http, Method::GET, &Api::v1("/cloudservers/flavors"), None).await?;

    // One create of 100 (the most one call may ask for).
    let started = Instant::now();
    let (job, ids) = api.create(&b.http, MAX_CREATE).await?;
    let accepted = started.elapsed();
    api.wait_job(&b.http, &job).await?;
    b.report.ms(
        "create_100_accepted_ms",
        "Create 100 servers in one call (count=100, the API's maximum): accepted",
        accepted,
    );
    b.report.ms("create_100_success_ms", "Create 100 servers in one call: job SUCCESS", started.elapsed());
    b.servers.extend(ids);

    // 1,000 servers: ten concurrent creates of 100.
    let started = Instant::now();
    let mut creates = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let api = Arc::clone(&api);
        creates.spawn(async move {
            let http = client();
            let (job, ids) = api.create(&http, MAX_CREATE).await?;
            let accepted = started.elapsed();
            api.wait_job(&http, &job).await?;
            anyhow::Ok((ids, accepted, started.elapsed()))
        });
    }
    let (mut fleet, mut accepted, mut success) = (Vec::new(), Duration::ZERO, Duration::ZERO);
    while let Some(done) = creates.join_next().await {
        let (ids, a, s) = done??;
        fleet.extend(ids);
        accepted = accepted.max(a);
        success = success.max(s);
    }
    b.report.ms(
        "create_1000_accepted_ms",
        "Create 1,000 servers as 10 concurrent calls of 100: all accepted",
        accepted,
    );
    b.report.target(50.0);
    b.report.ms(
        "create_1000_success_ms",
        "Create 1,000 servers as 10 concurrent calls of 100: all jobs SUCCESS",
        success,
    );
    b.servers.extend(fleet.iter().cloned());

    // Batch stop, start and password reset of those 1,000.
    for (action, id, label) in
        [("os-stop", "stop_1000", "Batch stop 1,000 servers"), ("os-start", "start_1000", "Batch start 1,000 servers")]
    {
        let started = Instant::now();
        let job = api.batch(&b.http, action, &fleet).await?;
        let accepted = started.elapsed();
        api.wait_job(&b.http, &job).await?;
        b.report.ms(format!("{id}_accepted_ms"), format!("{label} (one call): accepted"), accepted);
        b.report.target(10.0);
        b.report.ms(format!("{id}_success_ms"), format!("{label} (one call): job SUCCESS"), started.elapsed());
    }
    let servers: Vec<Value> = fleet.iter().map(|id| json!({"id": id})).collect();
    let body = json!({"new_password": "Bench@123456", "servers": servers});
    let started = Instant::now();
    let answer = api.ok(&b.http, Method::PUT, &Api::v1("/cloudservers/os-reset-passwords"), Some(&body)).await?;
    let elapsed = started.elapsed();
    if answer["response"].as_array().map(Vec::len) != Some(fleet.len()) {
        bail!("reset password answered {answer}");
    }
    b.report.ms("reset_password_1000_ms", "Batch reset password of 1,000 servers (one call, synchronous)", elapsed);

    // Signed show of one server.
    let show_secs = args.show_seconds.unwrap_or(if args.quick { 3 } else { 10 });
    let one = Api::v1(&format!("/cloudservers/{}", fleet[0]));
    let show = load(
        &api,
        args.connections,
        Duration::from_secs(show_secs),
        300_000 * show_secs as usize,
        Arc::new(move |_, _| one.clone()),
    );
    let show = with_cpu(server.pid, "Show of one server", &mut b.report.notes, show).await;
    let label = format!(
        "Signed GET show of one server (at {}), {} conns, {show_secs} s",
        count_label(b.servers.len()),
        args.connections
    );
    b.report.load("show", &label, show);
    if let Some(row) = b.report.rows.iter_mut().find(|r| r.id == "show_rps") {
        row.target = Some(Target { limit: 40_000.0 });
    }
    if let Some(row) = b.report.rows.iter_mut().find(|r| r.id == "show_p99_ms") {
        row.target = Some(Target { limit: 5.0 });
    }

    let limit = Duration::from_secs(args.grow_limit_minutes * 60);
    let largest = if args.quick { 10_000 } else { args.max_servers.max(10_000) };
    let sizes: Vec<usize> = [10_000, 100_000, 1_000_000].into_iter().filter(|size| *size <= largest).collect();

    for size in sizes {
        let from = b.servers.len();
        eprintln!("growing from {from} to {size} servers");
        let grew = b.grow_to(size, limit).await?;
        let reached = b.servers.len();
        let (id, label) = if reached >= size {
            (
                format!("grow_{size}_s"),
                format!("Grow from {} to {}", format_value(from as f64, "").trim_end(), count_label(size)),
            )
        } else {
            (
                format!("grow_partial_{size}_s"),
                format!(
                    "Grow from {} towards {}: stopped at the --grow-limit-minutes limit with {}",
                    format_value(from as f64, "").trim_end(),
                    count_label(size),
                    count_label(reached)
                ),
            )
        };
        b.report.add(
            id,
            format!("{label} (creates of 100, {GROW_CONCURRENCY} in flight, to all jobs SUCCESS)"),
            "s",
            Better::Lower,
            grew.as_secs_f64(),
        );
        eprintln!("  grew to {reached} in {:.1} s", grew.as_secs_f64());
        b.measure_size(&server, &count_label(reached)).await?;
        if reached < size {
            break;
        }

        if size == 10_000 {
            // 10,000 servers stopped as ten concurrent batches of 1,000 (the most one call takes).
            let started = Instant::now();
            let mut batches = tokio::task::JoinSet::new();
            for chunk in b.servers[..10_000].chunks(MAX_BATCH) {
                let (api, chunk) = (Arc::clone(&api), chunk.to_vec());
                batches.spawn(async move {
                    let http = client();
                    let job = api.batch(&http, "os-stop", &chunk).await?;
                    let accepted = started.elapsed();
                    api.wait_job(&http, &job).await?;
                    anyhow::Ok((accepted, started.elapsed()))
                });
            }
            let (mut accepted, mut success) = (Duration::ZERO, Duration::ZERO);
            while let Some(done) = batches.join_next().await {
                let (a, s) = done??;
                accepted = accepted.max(a);
                success = success.max(s);
            }
            b.report.ms(
                "stop_10000_accepted_ms",
                "Stop 10,000 servers as 10 concurrent batches of 1,000: all accepted",
                accepted,
            );
            b.report.ms(
                "stop_10000_success_ms",
                "Stop 10,000 servers as 10 concurrent batches of 1,000: all jobs SUCCESS",
                success,
            );
            b.report.target(1000.0);
        }
    }

    // Restart on the full data dir: what a restart with a big fleet costs.
    let size = b.servers.len();
    server.stop().await;
    let (restarted, warm) = start_server(bin, data_dir, port).await?;
    b.report.ms(
        format!("restart_{size}_ms"),
        format!("Restart to first answered request with {} in the data dir", count_label(size)),
        warm,
    );
    let rss = restarted.rss_mib().unwrap_or(f64::NAN);
    b.report.add(format!("rss_restart_{size}_mib"), "Server RSS just after that restart", "MiB", Better::Lower, rss);
    restarted.stop().await;
    Ok(b.report)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    run(args).await?;
    eprintln!("ecsd-bench finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
