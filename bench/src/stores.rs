//! `--stores`: the same figures on SQLite, on PostgreSQL with one replica and on PostgreSQL with
//! two replicas (requests round-robin), side by side in one run, each setup on a fresh store (a
//! PostgreSQL database the bench makes and drops, with `psql`, on the server `--postgres` names).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::api::{Api, client};
use crate::load::load;
use crate::server::{Server, free_port, start_server};
use crate::{CONFIG_TOML, MAX_CREATE};

/// One setup measured: its column title, the replicas, and whether it uses PostgreSQL.
struct Setup {
    title: &'static str,
    replicas: usize,
    postgres: bool,
}

const SETUPS: [Setup; 3] = [
    Setup { title: "SQLite", replicas: 1, postgres: false },
    Setup { title: "PostgreSQL, 1 replica", replicas: 1, postgres: true },
    Setup { title: "PostgreSQL, 2 replicas", replicas: 2, postgres: true },
];

/// The figures of one setup, in the order of `ROWS`.
type Figures = [f64; 4];

/// Label, unit, and whether more is better.
const ROWS: [(&str, &str, bool); 4] = [
    ("Create 1,000 servers as 10 concurrent calls of 100: all accepted", "ms", false),
    ("Create 1,000 servers as 10 concurrent calls of 100: all jobs SUCCESS", "ms", false),
    ("Batch stop 1,000 servers (one call): accepted, median", "ms", false),
    ("Signed GET show of one server", "req/s", true),
];

/// Runs every setup one after the other and prints one table, with each PostgreSQL figure also
/// as its ratio to SQLite's.
pub async fn stores(bin: &Path, base: &Path, admin_url: &str, quick: bool, connections: usize) -> anyhow::Result<()> {
    let rounds = if quick { 3 } else { 7 };
    let show_secs = if quick { 3 } else { 6 };
    let load_before = load_average();
    let mut columns = Vec::new();
    for (n, setup) in SETUPS.iter().enumerate() {
        eprintln!("stores: {}", setup.title);
        let dir = base.join(format!("setup-{n}"));
        let database = if setup.postgres {
            let name = format!("ecsd_bench_{}_{n}", std::process::id());
            admin(admin_url, &format!("CREATE DATABASE \"{name}\""))?;
            Some(name)
        } else {
            None
        };
        let url = database.as_ref().map(|name| database_url(admin_url, name));
        let figures = measure(bin, &dir, url.as_deref(), setup.replicas, rounds, show_secs, connections).await;
        if let Some(name) = &database {
            admin(admin_url, &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
        }
        columns.push(figures?);
    }
    let load_after = load_average();

    println!();
    let titles: Vec<&str> = SETUPS.iter().map(|s| s.title).collect();
    println!("| Row | {} | PG 1 / SQLite | PG 2 / SQLite |", titles.join(" | "));
    println!("|---|---:|---:|---:|---:|---:|");
    for (row, (label, unit, _)) in ROWS.iter().enumerate() {
        let values: Vec<String> = columns.iter().map(|c| format!("{:.0} {unit}", c[row])).collect();
        let ratio = |column: usize| format!("{:.2}×", columns[column][row] / columns[0][row]);
        println!("| {label} | {} | {} | {} |", values.join(" | "), ratio(1), ratio(2));
    }
    println!();
    println!(
        "- {rounds} batch stops a setup (each followed by a start), show load {connections} conns for {show_secs} s; \
         load average before {load_before}, after {load_after}"
    );
    println!("- ratios: time rows above 1 are slower than SQLite, the req/s row below 1 is slower");
    Ok(())
}

/// One setup: `replicas` processes on one store, each request of a phase sent to the next
/// replica and each job waited on through another one.
async fn measure(
    bin: &Path,
    dir: &Path,
    store: Option<&str>,
    replicas: usize,
    rounds: usize,
    show_secs: u64,
    connections: usize,
) -> anyhow::Result<Figures> {
    let mut servers: Vec<Server> = Vec::new();
    let mut apis: Vec<Arc<Api>> = Vec::new();
    for n in 0..replicas {
        let data_dir = dir.join(format!("replica-{n}"));
        std::fs::create_dir_all(&data_dir)?;
        std::fs::write(data_dir.join("bench.toml"), CONFIG_TOML)?;
        let port = free_port()?;
        let (server, _) = start_server(bin, &data_dir, port, store).await?;
        servers.push(server);
        apis.push(Arc::new(Api::new(port)));
    }
    let figures = phases(&apis, rounds, show_secs, connections).await;
    for server in servers {
        server.stop().await;
    }
    figures
}

/// 1,000 servers as ten concurrent creates of 100, each through the next of `apis` and its
/// job waited on through the one after: the servers, when the last was accepted, and when the
/// last job succeeded.
pub async fn create_thousand(apis: &[Arc<Api>]) -> anyhow::Result<(Vec<String>, Duration, Duration)> {
    let replica = |n: usize| Arc::clone(&apis[n % apis.len()]);
    let started = Instant::now();
    let mut creates = tokio::task::JoinSet::new();
    for n in 0..10 {
        let (accepting, waiting) = (replica(n), replica(n + 1));
        creates.spawn(async move {
            let http = client();
            let (job, ids) = accepting.create(&http, MAX_CREATE).await?;
            let accepted = started.elapsed();
            waiting.wait_job(&http, &job).await?;
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
    Ok((fleet, accepted, success))
}

async fn phases(apis: &[Arc<Api>], rounds: usize, show_secs: u64, connections: usize) -> anyhow::Result<Figures> {
    let replica = |n: usize| Arc::clone(&apis[n % apis.len()]);
    let http = client();
    replica(0).ok(&http, reqwest::Method::GET, &Api::v1("/cloudservers/flavors"), None).await?;

    let (fleet, accepted, success) = create_thousand(apis).await?;

    let mut stops = Vec::new();
    for round in 0..rounds {
        for (step, action) in ["os-stop", "os-start"].into_iter().enumerate() {
            let n = round * 2 + step;
            let began = Instant::now();
            let job = replica(n).batch(&http, action, &fleet).await?;
            if action == "os-stop" {
                stops.push(began.elapsed());
            }
            replica(n + 1).wait_job(&http, &job).await?;
        }
    }
    stops.sort();

    let path = Api::v1(&format!("/cloudservers/{}", fleet.first().context("no server created")?));
    let show = load(
        apis,
        connections,
        Duration::from_secs(show_secs),
        300_000 * show_secs as usize,
        Arc::new(move |_, _| path.clone()),
    )
    .await;
    if show.errors > 0 {
        bail!("{} show requests failed", show.errors);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok([ms(accepted), ms(success), ms(stops[stops.len() / 2]), show.rps()])
}

/// The URL of database `name` on the server of `admin_url` (its last path segment replaced).
fn database_url(admin_url: &str, name: &str) -> String {
    let (server, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
    format!("{server}/{name}")
}

fn admin(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let done = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin_url, "-c", sql])
        .stdin(std::process::Stdio::null())
        .output()
        .context("running psql (Debian: postgresql-client)")?;
    if !done.status.success() {
        bail!("psql {sql:?} on {admin_url}: {}", String::from_utf8_lossy(&done.stderr).trim());
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
