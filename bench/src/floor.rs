//! The machine's own ceiling, measured in the same run as ecsd: a bare axum server answering a
//! fixed document (the bytes of one of ecsd's show answers), and a bare rusqlite transaction
//! that compare-and-sets 1,000 rows (WAL, `synchronous=NORMAL`, as ecsd's store is opened).
//! The axum floor is this binary re-run with `--serve-floor`, so that, like ecsd, it is a
//! process of its own with its own runtime, loaded by the same client as ecsd.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rusqlite::{Connection, params};

/// Serves `body` (as `application/json`) to every GET on `port` until killed: the floor of a
/// show. A bare `axum::serve` on the default multi-threaded runtime (`#[tokio::main]`, as
/// ecsd's), with no middleware.
pub async fn serve_floor(port: u16, body_file: &Path) -> anyhow::Result<()> {
    let body = bytes_of(body_file)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let answer = move || {
        let body = body.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
    };
    let app = axum::Router::new().route("/", axum::routing::get(answer.clone())).fallback(answer);
    axum::serve(listener, app).await?;
    Ok(())
}

fn bytes_of(path: &Path) -> anyhow::Result<axum::body::Bytes> {
    Ok(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?.into())
}

/// The axum floor, running as a child process.
pub struct FloorServer {
    child: tokio::process::Child,
    pub pid: u32,
    pub port: u16,
}

impl FloorServer {
    /// Starts `ecsd-bench --serve-floor` answering `body`, and waits until it answers.
    pub async fn start(data_dir: &Path, body: &[u8]) -> anyhow::Result<FloorServer> {
        let body_file = data_dir.join("floor-body.json");
        std::fs::write(&body_file, body)?;
        let port = crate::server::free_port()?;
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--serve-floor")
            .arg(port.to_string())
            .arg("--floor-body")
            .arg(&body_file)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting the axum floor")?;
        let pid = child.id().context("the axum floor exited at once")?;
        let mut floor = FloorServer { child, pid, port };
        let started = Instant::now();
        let url = format!("http://127.0.0.1:{port}/");
        loop {
            let http = reqwest::Client::builder().no_proxy().build()?;
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(floor);
            }
            if let Some(status) = floor.child.try_wait()? {
                bail!("the axum floor exited with {status}");
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the axum floor did not answer within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Rows in the floor's table: as many as ecsd holds when its batches are measured, each with a
/// document of the size of a stored server.
const CAS_TABLE_ROWS: usize = 1_100;
/// Rows compare-and-set in one transaction: a batch's maximum.
const CAS_ROWS: usize = 1_000;

/// The bare SQLite floor of a batch action: one transaction that reads the state and version
/// of 1,000 rows by primary key and updates each only if its version is still the one read
/// (a compare-and-set), then commits. Returns the median of `rounds` transactions.
pub fn cas_floor(dir: &Path, rounds: usize) -> anyhow::Result<Duration> {
    let path = dir.join("floor-cas.sqlite");
    let mut conn = Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE servers (id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL, \
         document TEXT NOT NULL)",
    )?;
    let document = "x".repeat(1_500);
    let ids: Vec<String> = (0..CAS_TABLE_ROWS).map(|i| format!("{i:08x}-0000-4000-8000-{i:012x}")).collect();
    {
        let tx = conn.transaction()?;
        let mut insert = tx.prepare("INSERT INTO servers VALUES (?1, 0, 'ACTIVE', ?2)")?;
        for id in &ids {
            insert.execute(params![id, document])?;
        }
        drop(insert);
        tx.commit()?;
    }
    let batch = &ids[..CAS_ROWS];
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let status = if round % 2 == 0 { "SHUTOFF" } else { "ACTIVE" };
        let started = Instant::now();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut read = tx.prepare_cached("SELECT version, status FROM servers WHERE id = ?1")?;
            let mut update = tx.prepare_cached(
                "UPDATE servers SET status = ?1, version = version + 1 WHERE id = ?2 AND version = ?3",
            )?;
            for id in batch {
                let (version, _status): (i64, String) = read.query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
                if update.execute(params![status, id, version])? != 1 {
                    bail!("the floor's compare-and-set lost a race it cannot have");
                }
            }
        }
        tx.commit()?;
        times.push(started.elapsed());
    }
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("floor-cas.sqlite{suffix}")));
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// What `wrk` measured.
pub struct WrkRun {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// Whether `wrk` (Debian's package) is on the PATH.
pub fn wrk_installed() -> bool {
    std::process::Command::new("wrk")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// Replays one GET of `url` with `headers` (a pre-signed request: ecsd accepts a signature for
/// 15 minutes) for `seconds` over `connections`, two threads, and reads its figures.
pub async fn wrk(url: &str, headers: &[(String, String)], connections: usize, seconds: u64) -> anyhow::Result<WrkRun> {
    let mut command = tokio::process::Command::new("wrk");
    command.args(["-t2", "--latency", &format!("-c{connections}"), &format!("-d{seconds}s")]);
    for (name, value) in headers {
        command.arg("-H").arg(format!("{name}: {value}"));
    }
    let output = command.arg(url).kill_on_drop(true).output().await.context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {}{}", text, String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(&text).with_context(|| format!("reading wrk's output:\n{text}"))
}

fn parse_wrk(text: &str) -> Option<WrkRun> {
    let field = |prefix: &str| {
        text.lines().map(str::trim).find_map(|line| line.strip_prefix(prefix)).map(|rest| rest.trim().to_string())
    };
    let rps = field("Requests/sec:")?.parse().ok()?;
    let p50_ms = wrk_ms(&field("50%")?)?;
    let p99_ms = wrk_ms(&field("99%")?)?;
    // A non-2xx answer (a refused signature) or a socket error counts as an error.
    let non_2xx: u64 = field("Non-2xx or 3xx responses:").and_then(|n| n.parse().ok()).unwrap_or(0);
    let socket: u64 = field("Socket errors:")
        .map(|rest| {
            rest.split(',').filter_map(|part| part.split_whitespace().last().and_then(|n| n.parse::<u64>().ok())).sum()
        })
        .unwrap_or(0);
    Some(WrkRun { rps, p50_ms, p99_ms, errors: non_2xx + socket })
}

/// A wrk latency (`688.00us`, `1.02ms`, `1.20s`) in milliseconds.
fn wrk_ms(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(number / 1000.0),
        "ms" => Some(number),
        "s" => Some(number * 1000.0),
        "m" => Some(number * 60_000.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 6s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Latency Distribution\n     50%  688.00us\n     75%    1.02ms\n     99%    5.20ms\n  1000 requests in 6.00s, 1.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 4\nRequests/sec:  81234.50\nTransfer/sec:  1.00MB\n";
        let run = parse_wrk(text).unwrap();
        assert_eq!(run.rps, 81234.5);
        assert!((run.p50_ms - 0.688).abs() < 1e-9);
        assert_eq!(run.p99_ms, 5.2);
        assert_eq!(run.errors, 7);
    }
}
