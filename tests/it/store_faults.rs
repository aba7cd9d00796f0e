//! Faults of the store under the real binary: the data dir runs full, or is read-only. Writes
//! must answer a clean 5xx body (503 `Common.0503` "The store is out of space." on a full disk,
//! `Common.0001` otherwise; no panic, no hang, no reset connection), reads keep working, settle
//! and shutdown return, and once the space is back ecsd recovers without a restart; after a
//! restart the database passes `PRAGMA integrity_check`.
//!
//! Needs to mount a tmpfs (root, or CAP_SYS_ADMIN); prints a skip message otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(15);

const CONFIG: &str = "
[quota]
max_instances = 100000
max_cores = 1000000
max_ram_mib = 1000000000
";

/// A tmpfs mounted for one test; unmounted (lazily, so even a process still holding files
/// cannot keep it) when dropped, whatever happened.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `"16m"`) at `path`, or `None` when not permitted.
    fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() => Some(Tmpfs { path: path.to_path_buf() }),
            _ => None,
        }
    }

    /// `mount -o remount,<options>`; whether it worked, and the error text if not.
    fn remount(&self, options: &str) -> Result<(), String> {
        let output = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.path)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).trim().to_string()) }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn skip(test: &str) {
    println!("SKIPPED {test}: mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)");
}

/// The directory layout of one test: `<tmp>/data` (the mount point) and `<tmp>/ecsd.toml`.
fn layout() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("ecsd.toml");
    std::fs::write(&config, CONFIG).expect("config");
    (dir, data, config)
}

async fn call(ecs: &TestServer, method: Method, path: &str, body: Option<Value>) -> Result<Answer, String> {
    let bytes = body.map(|b| serde_json::to_vec(&b).expect("json")).unwrap_or_default();
    ecs.try_call(method, path, bytes, &[], PATIENCE).await
}

/// What a write answered while the disk was full: 503, its own code, a message that says so.
fn assert_out_of_space(what: &str, answer: &Answer) {
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {}", answer.body);
    assert_eq!(answer.body["error"]["code"], "Common.0503", "{what}: {}", answer.body);
    assert_eq!(answer.body["error"]["message"], "The store is out of space.", "{what}: {}", answer.body);
}

/// What a write answered while the store could not write.
fn assert_clean_store_failure(what: &str, answer: &Answer) {
    assert!(answer.status.is_server_error(), "{what}: expected a 5xx, got {} {}", answer.status, answer.body);
    assert_eq!(answer.body["error"]["code"], "Common.0001", "{what}: {}", answer.body);
    assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {}", answer.body);
    let text = answer.body.to_string();
    assert!(!text.contains("sqlite") && !text.contains("/data"), "{what}: internals leak: {text}");
}

/// Writes a file until the file system is full; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0xA5u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    // Whatever is left, byte by byte in small pieces.
    while file.write_all(&chunk[..512]).is_ok() {}
    let _ = file.sync_all();
    path
}

/// `PRAGMA integrity_check` of the database file.
fn integrity(data: &Path) -> String {
    let db = rusqlite::Connection::open(data.join("ecsd.sqlite3")).expect("open the database");
    db.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).expect("integrity check")
}

fn create(name: &str, count: u32) -> Value {
    create_body(name, "s6.small.1", count)
}

/// Polls until every job ended; panics naming those that did not.
async fn wait_jobs(ecs: &TestServer, jobs: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for job in jobs {
        loop {
            let (status, body) = ecs.get(&ecs.v1(&format!("/jobs/{job}"))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if body["status"] == "SUCCESS" || body["status"] == "FAIL" {
                break;
            }
            assert!(Instant::now() < deadline, "job {job} did not end: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_dir_answers_503_out_of_space_keeps_reading_and_recovers_when_space_is_freed() {
    let (_dir, data, config) = layout();
    let Some(tmpfs) = Tmpfs::mount(&data, "24m") else { return skip("full data dir") };
    let mut process = EcsProcess::spawn(&data, Some(&config), "instant");
    let ecs = process.client();
    let first = ecs.create_servers("before", "s6.small.1", 20).await;
    let mut jobs = Vec::new();

    let filler = fill(&tmpfs.path);
    // Writes eventually fail (SQLite may first reuse room it already has in its WAL).
    let mut refused = None;
    let mut accepted_while_full = Vec::new();
    for attempt in 0..60 {
        let answer = call(&ecs, Method::POST, &ecs.v1("/cloudservers"), Some(create(&format!("full{attempt}"), 100)))
            .await
            .unwrap_or_else(|e| panic!("create on a full disk: no answer ({e}); log:\n{}", process.log_text()));
        if answer.status == StatusCode::OK {
            jobs.push(answer.body["job_id"].as_str().expect("job").to_string());
            accepted_while_full.extend(
                answer.body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()),
            );
            continue;
        }
        refused = Some(answer);
        break;
    }
    let refused = refused.expect("some write fails once the disk is full");
    assert_out_of_space("create on a full disk", &refused);

    // Other writes fail the same way; reads keep working.
    let stop = json!({"os-stop": {"servers": server_ids(&first[..2])}});
    let answer = call(&ecs, Method::POST, &ecs.v1("/cloudservers/action"), Some(stop.clone())).await.expect("answer");
    if answer.status != StatusCode::OK {
        assert_out_of_space("stop on a full disk", &answer);
    } else {
        jobs.push(answer.body["job_id"].as_str().expect("job").to_string());
    }
    for path in [
        ecs.v1("/cloudservers/detail?limit=5"),
        ecs.v1(&format!("/cloudservers/{}", first[0])),
        ecs.v1("/cloudservers/limits"),
        ecs.v1("/cloudservers/flavors"),
    ] {
        let answer = call(&ecs, Method::GET, &path, None).await.expect("a read is answered");
        assert_eq!(answer.status, StatusCode::OK, "read {path} on a full disk: {}", answer.body);
    }

    // Space again: writes work without a restart, and what was accepted finishes.
    std::fs::remove_file(&filler).expect("free the space");
    let mut recovered = None;
    for _ in 0..50 {
        let answer =
            call(&ecs, Method::POST, &ecs.v1("/cloudservers"), Some(create("after", 5))).await.expect("answer");
        if answer.status == StatusCode::OK {
            recovered = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered =
        recovered.unwrap_or_else(|| panic!("no recovery after freeing space; log:\n{}", process.log_text()));
    jobs.push(recovered.body["job_id"].as_str().expect("job").to_string());
    wait_jobs(&ecs, &jobs).await;
    let stopped = ecs.batch("os-stop", &first[2..4], json!({})).await;
    assert_eq!(stopped["status"], "SUCCESS", "{stopped}");

    // A clean stop, an intact database, and everything there after a restart.
    process.terminate();
    let exit = process.wait_exit(Duration::from_secs(10)).expect("ecsd exits");
    assert!(exit.success(), "exit {exit:?}");
    assert_eq!(integrity(&data), "ok");
    let process = EcsProcess::spawn(&data, Some(&config), "instant");
    let ecs = process.client();
    let listed = list_all_servers(&ecs).await;
    assert_eq!(listed.len(), 20 + accepted_while_full.len() + 5);
    assert!(listed.iter().all(|s| s["OS-EXT-STS:task_state"].is_null()), "a server is stuck");
    assert_eq!(ecs.limits().await["totalInstancesUsed"], listed.len());
    println!(
        "full disk: {} servers accepted while filling, refused with {} {}; recovered without restart",
        accepted_while_full.len(),
        refused.status,
        refused.body
    );
    drop(process);
    drop(tmpfs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_steps_that_hit_a_full_disk_are_retried_and_finish() {
    let (_dir, data, config) = layout();
    let Some(tmpfs) = Tmpfs::mount(&data, "24m") else { return skip("engine on a full disk") };
    // Stops take 1.5 s, so the engine writes their steps while the disk is full.
    std::fs::write(&config, format!("{CONFIG}\n[timings]\ncreate_ms = 0\nstop_ms = 1500\n")).expect("config");
    let process = EcsProcess::spawn(&data, Some(&config), "realistic");
    let ecs = process.client();
    let ids = ecs.create_servers("engine", "s6.small.1", 50).await;
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = body["job_id"].as_str().expect("job").to_string();
    let filler = fill(&tmpfs.path);
    // Keep the WAL busy so the engine's own writes need new space.
    for attempt in 0..30 {
        let answer = call(&ecs, Method::POST, &ecs.v1("/cloudservers"), Some(create(&format!("w{attempt}"), 100)))
            .await
            .expect("answer");
        if !answer.status.is_success() {
            assert_out_of_space("create while the engine runs", &answer);
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let retried = process.log_text().lines().filter(|l| l.contains("retrying")).count();
    println!("engine on a full disk: {retried} failed step transaction(s) logged as retried");
    let reading = call(&ecs, Method::GET, &ecs.v1(&format!("/jobs/{job}")), None).await.expect("answer");
    assert_eq!(reading.status, StatusCode::OK, "{}", reading.body);
    std::fs::remove_file(&filler).expect("free the space");
    wait_jobs(&ecs, std::slice::from_ref(&job)).await;
    let job = ecs.job(&job).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    for id in &ids {
        let server = ecs.server(id).await;
        assert_eq!(server["status"], "SHUTOFF", "{server}");
        assert!(server["OS-EXT-STS:task_state"].is_null());
    }
    drop(process);
    assert_eq!(integrity(&data), "ok");
    drop(tmpfs);
}

/// Linux refuses to remount a file system read-only while a file on it is open for writing,
/// as ecsd's database is (EBUSY; should a kernel allow it, writes must fail cleanly). So the
/// data dir turns read-only between runs: ecsd must then refuse cleanly (an orderly exit with
/// an error, or `Common.0001` on writes with reads working), and work again once the data dir
/// is writable. Recovery without a restart is covered by the full-disk test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_data_dir_is_refused_cleanly_and_works_once_writable_again() {
    let (_dir, data, config) = layout();
    let Some(tmpfs) = Tmpfs::mount(&data, "24m") else { return skip("read-only data dir") };
    let mut process = EcsProcess::spawn(&data, Some(&config), "instant");
    let ecs = process.client();
    let ids = ecs.create_servers("ro", "s6.small.1", 10).await;
    let busy = tmpfs.remount("ro");
    println!("remount,ro while ecsd runs: {busy:?}");
    if busy.is_ok() {
        // The kernel allowed it: writes must fail cleanly, reads keep working.
        let answer = call(&ecs, Method::POST, &ecs.v1("/cloudservers"), Some(create("x", 1))).await.expect("an answer");
        assert_clean_store_failure("create on a read-only data dir", &answer);
        tmpfs.remount("rw").expect("remount rw");
    }
    process.terminate();
    assert!(process.wait_exit(Duration::from_secs(10)).expect("exits").success());

    tmpfs.remount("ro").expect("remount ro with no writer");
    let outcome = match EcsProcess::try_spawn(&data, Some(&config), "instant") {
        Err((exit, log)) => {
            // A refusal to start must be an orderly exit with an error, not a panic or a hang.
            let exit = exit.expect("ecsd exits when it cannot use its data dir");
            assert!(!exit.success(), "{exit:?}");
            assert!(!log.contains("panicked"), "{log}");
            let last = log.lines().last().unwrap_or_default().to_string();
            format!("ecsd refused to start ({exit}): {last}")
        }
        Ok(mut process) => {
            let ecs = process.client();
            let read = call(&ecs, Method::GET, &ecs.v1("/cloudservers/detail"), None).await;
            let write = call(&ecs, Method::POST, &ecs.v1("/cloudservers"), Some(create("x", 1))).await;
            let (read, write) = (read.expect("a read is answered"), write.expect("a write is answered"));
            assert_eq!(read.status, StatusCode::OK, "read on a read-only data dir: {}", read.body);
            assert_eq!(read.body["count"], 10);
            assert_clean_store_failure("create on a read-only data dir", &write);
            let log = process.log_text();
            process.kill();
            assert!(!log.contains("panicked"), "{log}");
            "ecsd served reads and refused writes with Common.0001".to_string()
        }
    };
    println!("read-only data dir: {outcome}");

    tmpfs.remount("rw").expect("remount rw");
    assert_eq!(integrity(&data), "ok");
    let process = EcsProcess::spawn(&data, Some(&config), "instant");
    let ecs = process.client();
    assert_eq!(list_all_servers(&ecs).await.len(), ids.len());
    ecs.create_servers("again", "s6.small.1", 2).await;
    drop(process);
    drop(tmpfs);
}

/// When ecsd cannot start on its data dir, the one line an operator sees should say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_a_read_only_data_dir_names_the_cause() {
    let (_dir, data, config) = layout();
    let Some(tmpfs) = Tmpfs::mount(&data, "24m") else { return skip("read-only data dir message") };
    let mut process = EcsProcess::spawn(&data, Some(&config), "instant");
    process.client().create_servers("ro", "s6.small.1", 1).await;
    process.terminate();
    assert!(process.wait_exit(Duration::from_secs(10)).expect("exits").success());
    tmpfs.remount("ro").expect("remount ro");
    let Err((_, log)) = EcsProcess::try_spawn(&data, Some(&config), "instant") else {
        return; // it serves reads on a read-only data dir: nothing to explain
    };
    let last = log.lines().last().unwrap_or_default().to_lowercase();
    assert!(
        last.contains("read-only") || last.contains("readonly") || last.contains(&data.display().to_string()),
        "the error does not say why: {last}"
    );
}

/// Fills the disk, then keeps creating until the store refuses, so that the WAL holds no
/// room for the engine's own writes either; returns the filler.
async fn fill_the_store(ecs: &TestServer, dir: &Path) -> PathBuf {
    let filler = fill(dir);
    for attempt in 0..60 {
        let answer = call(ecs, Method::POST, &ecs.v1("/cloudservers"), Some(create(&format!("w{attempt}"), 100)))
            .await
            .expect("answer");
        if !answer.status.is_success() {
            assert_out_of_space("create on a full disk", &answer);
            break;
        }
    }
    filler
}

/// A fleet of `count` running servers and a stop of them whose steps wait 10 minutes.
async fn pending_stop(ecs: &TestServer, count: u32) -> (Vec<String>, String) {
    let ids = ecs.create_servers("pending", "s6.small.1", count).await;
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (ids, body["job_id"].as_str().expect("job").to_string())
}

const LONG_STOPS: &str = "\n[timings]\ncreate_ms = 0\nstop_ms = 600000\n";

/// Issue 20, finding 6: on a full disk a settle answers 503 out of space instead of waiting
/// forever; the engine takes fewer steps at a time, backs off, and finishes the work by itself
/// once space is freed, without a restart or another settle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_settle_answers_out_of_space_and_the_engine_resumes_by_itself() {
    let (_dir, data, config) = layout();
    let Some(tmpfs) = Tmpfs::mount(&data, "24m") else { return skip("settle on a full disk") };
    std::fs::write(&config, format!("{CONFIG}{LONG_STOPS}")).expect("config");
    let process = EcsProcess::spawn(&data, Some(&config), "realistic");
    let ecs = process.client();
    let (ids, job) = pending_stop(&ecs, 100).await;
    let filler = fill_the_store(&ecs, &tmpfs.path).await;

    let settled = call(&ecs, Method::POST, "/_ecsd/clock/settle", None)
        .await
        .unwrap_or_else(|e| panic!("settle on a full disk: no answer ({e}); log:\n{}", process.log_text()));
    assert_out_of_space("settle on a full disk", &settled);
    let log = process.log_text();
    assert!(log.contains("retrying with fewer at a time"), "the engine did not split its transaction:\n{log}");

    std::fs::remove_file(&filler).expect("free the space");
    wait_jobs(&ecs, std::slice::from_ref(&job)).await;
    assert_eq!(ecs.job(&job).await["status"], "SUCCESS");
    for id in &ids {
        assert_eq!(ecs.server(id).await["status"], "SHUTOFF");
    }
    drop(process);
    assert_eq!(integrity(&data), "ok");
    drop(tmpfs);
}

/// Issue 20, finding 6: SIGTERM while a settle is in flight on a full disk exits at once and
/// cleanly; the work is stored and finishes after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_sigterm_during_a_settle_exits_cleanly() {
    let (_dir, data, config) = layout();
    let Some(tmpfs) = Tmpfs::mount(&data, "24m") else { return skip("shutdown on a full disk") };
    std::fs::write(&config, format!("{CONFIG}{LONG_STOPS}")).expect("config");
    let mut process = EcsProcess::spawn(&data, Some(&config), "realistic");
    let ecs = process.client();
    let (_, job) = pending_stop(&ecs, 100).await;
    let filler = fill_the_store(&ecs, &tmpfs.path).await;
    let base = ecs.base.clone();
    // The settle's client waits far longer than the exit may take.
    let settle = tokio::spawn(async move {
        let ecs = TestServer::remote(&base, test_credential());
        ecs.try_call(Method::POST, "/_ecsd/clock/settle", vec![], &[], Duration::from_secs(120)).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    process.terminate();
    let exit = process.wait_exit(Duration::from_secs(10));
    let exit = exit.unwrap_or_else(|| panic!("ecsd did not exit within 10 s; log:\n{}", process.log_text()));
    assert!(exit.success(), "exit {exit:?}");
    let _ = settle.await;

    std::fs::remove_file(&filler).expect("free the space");
    let process = EcsProcess::spawn(&data, Some(&config), "instant");
    let ecs = process.client();
    wait_jobs(&ecs, std::slice::from_ref(&job)).await;
    assert_eq!(ecs.job(&job).await["status"], "SUCCESS");
    drop(process);
    assert_eq!(integrity(&data), "ok");
    drop(tmpfs);
}
