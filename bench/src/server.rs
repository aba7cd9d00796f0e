//! The ecsd process under test: start, stop, memory and CPU.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::api::{ACCESS_KEY, PROJECT_ID, SECRET_KEY};

pub struct Server {
    child: tokio::process::Child,
    pub pid: u32,
}

/// Starts ecsd (on `store`, a `--store` value, or SQLite in the data dir) and returns once it
/// answered `GET /`, with the time that took.
pub async fn start_server(
    bin: &Path,
    data_dir: &Path,
    port: u16,
    store: Option<&str>,
) -> anyhow::Result<(Server, Duration)> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("ecsd.log"))?;
    let started = Instant::now();
    let child = tokio::process::Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--timings", "instant", "--data-dir"])
        .arg(data_dir)
        .arg("--config")
        .arg(data_dir.join("bench.toml"))
        .args(store.map(|url| ["--store", url]).into_iter().flatten())
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
    /// Under `bench/callgrind-ecsd.sh` (which sets `ECSD_BENCH_CALLGRIND`): dumps the profile
    /// of the phase that just ended, named `phase`, and zeroes the counters, so each phase of
    /// the bench has a profile of its own.
    pub fn profile_phase(&self, phase: &str) {
        if std::env::var_os("ECSD_BENCH_CALLGRIND").is_some() {
            let _ = std::process::Command::new("callgrind_control")
                .arg(format!("--dump={phase}"))
                .arg(self.pid.to_string())
                .stdout(std::process::Stdio::null())
                .status();
        }
    }

    pub fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// SIGTERM (a graceful stop), then waits; SIGKILL after 30 s.
    pub async fn stop(mut self) {
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
pub async fn with_cpu<T>(server_pid: u32, what: &str, notes: &mut Vec<String>, work: impl Future<Output = T>) -> T {
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

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
