//! `ecsd-bench`: starts `ecsd serve --timings instant` on a temporary data dir, loads it with
//! requests signed like the official SDK, and prints one table of the figures of issue 6
//! (optionally beside moto's, from `bench/run-moto.sh`).
//!
//! ```sh
//! cargo build --release && cargo run --release -p ecsd-bench -- --quick
//! bench/run-moto.sh --out target/bench/moto.json
//! cargo run --release -p ecsd-bench -- --moto-json target/bench/moto.json
//! ```
//!
//! Every request goes to 127.0.0.1 only; every load loop is bounded in time and in count.

mod api;
mod floor;
mod load;
mod report;
mod server;
mod soak;
mod stores;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use reqwest::Method;
use serde_json::{Value, json};

use api::{Api, client};
use floor::FloorServer;
use load::{load, pick};
use report::{Better, Report, Target, count_label, format_value, print_table};
use server::{Server, free_port, start_server, with_cpu};

/// `count` may be at most 100 in one create (contract T1.8).
pub(crate) const MAX_CREATE: usize = 100;
/// At most 1,000 servers in one batch action.
const MAX_BATCH: usize = 1000;
/// Creates in flight while the fleet grows.
const GROW_CONCURRENCY: usize = 8;

/// A catalogue with no quota limits and one subnet big enough for 16 million servers. Only the
/// addresses are data: nothing is ever sent to them.
pub(crate) const CONFIG_TOML: &str = r#"
[quota]
max_instances = -1
max_cores = -1
max_ram_mib = -1

# Hosts large enough for the whole fleet: the bench measures ecsd, not a full zone.
[placement]
host_vcpus = 100000000
host_ram_mib = 100000000000

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
    /// Only the rows that have a floor (the machine's own ceiling: a bare axum server, a bare
    /// SQLite compare-and-set of 1,000 rows) beside their floors, at 1,100 servers: no growth
    /// (with --quick: shorter phases, 3 calls of each batch).
    #[arg(long)]
    floor: bool,
    /// Internal: serve the axum floor on this port (the bench starts itself so).
    #[arg(long, hide = true, requires = "floor_body")]
    serve_floor: Option<u16>,
    /// Internal: the document the axum floor answers.
    #[arg(long, hide = true)]
    floor_body: Option<PathBuf>,
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
    /// Instead of the benchmark: a soak of mixed signed traffic from 5 projects against one
    /// server, reporting RSS, p99 and errors over time.
    #[arg(long, conflicts_with_all = ["quick", "moto_json"])]
    soak: bool,
    /// Instead of the benchmark: create 1,000, batch stop 1,000 and signed show on SQLite, on
    /// PostgreSQL with 1 replica and with 2 replicas (requests round-robin), side by side.
    #[arg(long, conflicts_with_all = ["soak", "floor", "moto_json"])]
    stores: bool,
    /// The PostgreSQL server of --stores: a database URL the bench makes (and drops) its
    /// databases from.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test", requires = "stores")]
    postgres: String,
    /// Minutes the soak runs.
    #[arg(long, default_value_t = 10.0, requires = "soak")]
    soak_minutes: f64,
    /// Seconds between two samples of the soak.
    #[arg(long, default_value_t = 10, requires = "soak")]
    soak_sample_seconds: u64,
}

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
            std::slice::from_ref(&self.api),
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
        let first = load(std::slice::from_ref(&self.api), 4, Duration::from_secs(secs), 20_000, list_page(1)).await;
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
        let deep = load(std::slice::from_ref(&self.api), 4, Duration::from_secs(secs), 20_000, list_page(middle)).await;
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
        if size >= 1_000_000 {
            self.report.target_of(&format!("list_deep_{size}_p50_ms"), Target::Absolute(20.0));
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
            1_000_000 => self.report.target(200.0),
            _ => {}
        }
        Ok(())
    }
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
    eprintln!("ecsd-bench: {} on {}", bin.display(), data_dir.display());
    if args.soak {
        std::fs::write(data_dir.join("bench.toml"), soak::config_toml(CONFIG_TOML))?;
        let sample = Duration::from_secs(args.soak_sample_seconds.max(1));
        let result = soak::soak(&bin, &data_dir, args.soak_minutes.clamp(0.05, 600.0), sample).await;
        if !args.keep {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return result;
    }
    if args.stores {
        let result = stores::stores(&bin, &data_dir, &args.postgres, args.quick, args.connections).await;
        if !args.keep {
            let _ = std::fs::remove_dir_all(&data_dir);
        }
        return result;
    }
    std::fs::write(data_dir.join("bench.toml"), CONFIG_TOML)?;
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
    let (server, cold) = start_server(bin, data_dir, port, None).await?;
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
    let (fleet, accepted, success) = stores::create_thousand(&[Arc::clone(&api)]).await?;
    b.report.ms(
        "create_1000_accepted_ms",
        "Create 1,000 servers as 10 concurrent calls of 100: all accepted",
        accepted,
    );
    b.report.target(20.0);
    b.report.ms(
        "create_1000_success_ms",
        "Create 1,000 servers as 10 concurrent calls of 100: all jobs SUCCESS",
        success,
    );
    b.servers.extend(fleet.iter().cloned());

    // The floor of a batch: a bare SQLite compare-and-set of 1,000 rows, just before ecsd's.
    let rounds = if args.quick { 3 } else { 7 };
    server.profile_phase("setup");
    let cas = floor::cas_floor(data_dir, rounds * 2)?;
    b.report.ms(
        "floor_cas_1000_ms",
        format!("Floor: bare rusqlite compare-and-set of 1,000 rows in one transaction (WAL, synchronous=NORMAL), median of {}", rounds * 2),
        cas,
    );
    // Batch stop and start of those 1,000, `rounds` times each (the median: one call on a
    // shared machine is mostly noise), then a password reset.
    let mut timings: HashMap<&str, (Vec<Duration>, Vec<Duration>)> = HashMap::new();
    for _ in 0..rounds {
        for action in ["os-stop", "os-start"] {
            let started = Instant::now();
            let job = api.batch(&b.http, action, &fleet).await?;
            let accepted = started.elapsed();
            api.wait_job(&b.http, &job).await?;
            let entry = timings.entry(action).or_default();
            entry.0.push(accepted);
            entry.1.push(started.elapsed());
        }
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    for (action, id, label) in
        [("os-stop", "stop_1000", "Batch stop 1,000 servers"), ("os-start", "start_1000", "Batch start 1,000 servers")]
    {
        let (accepted, success) = timings.remove(action).unwrap_or_default();
        let label = format!("{label} (one call, median of {rounds})");
        b.report.ms(format!("{id}_accepted_ms"), format!("{label}: accepted"), median(accepted));
        b.report.set_target(Target::OfFloor(3.0));
        b.report.floor(&format!("{id}_accepted_ms"), "floor_cas_1000_ms");
        b.report.ms(format!("{id}_success_ms"), format!("{label}: job SUCCESS"), median(success));
    }
    server.profile_phase("batches");
    let servers: Vec<Value> = fleet.iter().map(|id| json!({"id": id})).collect();
    let body = json!({"new_password": "Bench@123456", "servers": servers});
    let mut resets = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let answer = api.ok(&b.http, Method::PUT, &Api::v1("/cloudservers/os-reset-passwords"), Some(&body)).await?;
        resets.push(started.elapsed());
        if answer["response"].as_array().map(Vec::len) != Some(fleet.len()) {
            bail!("reset password answered {answer}");
        }
    }
    b.report.ms(
        "reset_password_1000_ms",
        format!("Batch reset password of 1,000 servers (one call, synchronous, median of {rounds})"),
        median(resets),
    );
    b.report.target(15.0);
    server.profile_phase("reset");

    // Signed show of one server, beside the bare axum floor answering the same bytes, with the
    // same client, connections and duration; then both again from wrk.
    let show_secs = args.show_seconds.unwrap_or(if args.quick { 3 } else { 6 });
    let one = Api::v1(&format!("/cloudservers/{}", fleet[0]));
    let document = api.request(&b.http, Method::GET, &one, Vec::new()).send().await?.bytes().await?;
    let axum_floor = FloorServer::start(data_dir, &document).await?;
    let floor_api = Arc::new(Api::new(axum_floor.port));
    let path = one.clone();
    let max_requests = 300_000 * show_secs as usize;
    let floor_show = load(
        std::slice::from_ref(&floor_api),
        args.connections,
        Duration::from_secs(show_secs),
        max_requests,
        Arc::new(move |_, _| path.clone()),
    );
    let floor_show = with_cpu(axum_floor.pid, "Floor: bare axum", &mut b.report.notes, floor_show).await;
    let conns = args.connections;
    b.report.load(
        "floor_show",
        &format!("Floor: bare axum answering the {} bytes of a show, {conns} conns, {show_secs} s", document.len()),
        floor_show,
    );
    let path = one.clone();
    let show = load(
        std::slice::from_ref(&api),
        conns,
        Duration::from_secs(show_secs),
        max_requests,
        Arc::new(move |_, _| path.clone()),
    );
    let show = with_cpu(server.pid, "Show of one server", &mut b.report.notes, show).await;
    server.profile_phase(&format!("show-{}-requests", show.requests));
    let label =
        format!("Signed GET show of one server (at {}), {conns} conns, {show_secs} s", count_label(b.servers.len()));
    b.report.load("show", &label, show);
    b.report.target_of("show_rps", Target::OfFloor(0.6));
    b.report.floor("show_rps", "floor_show_rps");
    b.report.target_of("show_p99_ms", Target::Absolute(3.0));
    if floor::wrk_installed() {
        let url = |port: u16| format!("http://127.0.0.1:{port}{one}");
        let floor_run = floor::wrk(&url(axum_floor.port), &[], conns, show_secs).await?;
        b.report.add_wrk("wrk_floor_show", &format!("Floor: bare axum, wrk, {conns} conns, {show_secs} s"), &floor_run);
        // One signature, replayed: ecsd accepts it for 15 minutes, like the real gateway.
        let signed = api.signed_headers(Method::GET, &one)?;
        server.profile_phase("between");
        let run = floor::wrk(&url(api.port()), &signed, conns, show_secs).await?;
        server.profile_phase(&format!("wrk-show-{:.0}-requests", run.rps * show_secs as f64));
        b.report.add_wrk(
            "wrk_show",
            &format!("Signed GET show of one server, wrk (one pre-signed request), {conns} conns, {show_secs} s"),
            &run,
        );
        b.report.target_of("wrk_show_rps", Target::OfFloor(0.6));
        b.report.floor("wrk_show_rps", "wrk_floor_show_rps");
        b.report.target_of("wrk_show_p99_ms", Target::Absolute(3.0));
    } else {
        b.report.notes.push("wrk is not installed (Debian: apt-get install wrk): the wrk rows are left out".into());
    }
    axum_floor.stop().await;

    let limit = Duration::from_secs(args.grow_limit_minutes * 60);
    let largest = match (args.floor, args.quick) {
        (true, _) => 0,
        (false, true) => 10_000,
        (false, false) => args.max_servers.max(10_000),
    };
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
        if size == 1_000_000 && reached >= size {
            b.report.target(60.0);
        }
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
    let (restarted, warm) = start_server(bin, data_dir, port, None).await?;
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
    if let (Some(port), Some(body)) = (args.serve_floor, &args.floor_body) {
        return floor::serve_floor(port, body).await;
    }
    let started = Instant::now();
    run(args).await?;
    eprintln!("ecsd-bench finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
