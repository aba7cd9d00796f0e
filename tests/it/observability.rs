//! What an operator sees of the real binary: the health answer, the banner, ephemeral and
//! clean starts, and the log lines that tell what happened (one per request, jobs, faults,
//! refused credentials), in text and in JSON, never with a secret in them.

use std::time::Duration;

use crate::common::*;
use ecsd::api::signing::{format_sdk_date, sign_request};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(20);

fn info_log() -> [(&'static str, &'static str); 1] {
    [("ECSD_LOG", "info")]
}

/// The log lines written so far that hold every one of `parts`.
fn lines_with<'a>(log: &'a str, parts: &[&str]) -> Vec<&'a str> {
    log.lines().filter(|line| parts.iter().all(|part| line.contains(part))).collect()
}

/// Waits until a line holding every one of `parts` is in the log (engine lines come a moment
/// after the answer that caused them).
async fn wait_for_line(process: &EcsProcess, parts: &[&str]) -> String {
    let began = std::time::Instant::now();
    loop {
        let log = process.log_text();
        if let Some(line) = lines_with(&log, parts).first() {
            return line.to_string();
        }
        assert!(began.elapsed() < PATIENCE, "no log line with {parts:?}; log:\n{log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn health_answers_anyone_and_tells_nothing_of_the_data() {
    let ecs = TestServer::start().await;
    let answer = reqwest::get(format!("{}/_ecsd/health", ecs.base)).await.expect("health answers");
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"], "reachable");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["timings"], "instant");
    assert!(body["uptime_seconds"].is_u64(), "{body}");
    let kind = if std::env::var("ECSD_TEST_STORE").as_deref() == Ok("postgres") { "postgres" } else { "sqlite" };
    assert_eq!(body["store_kind"], kind);
    let replica = body["replica_id"].as_str().expect("a replica id");
    assert_eq!(replica.len(), 16, "{body}");
    let mut keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["replica_id", "status", "store", "store_kind", "timings", "uptime_seconds", "version"],
        "nothing of the data"
    );

    let realistic = TestServer::start_with_timings(slow(true, false, false)).await;
    let body: Value =
        reqwest::get(format!("{}/_ecsd/health", realistic.base)).await.expect("answers").json().await.expect("json");
    assert_eq!(body["timings"], "realistic");
    assert_ne!(body["replica_id"], replica, "each process its own id");
}

#[tokio::test]
async fn the_banner_shows_timings_and_the_health_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let process = EcsProcess::try_spawn_with(&dir.path().join("data"), None, "instant", &[], &[("ECSD_LOG", "debug")])
        .expect("ecsd starts");
    let banner = process.stdout.lock().expect("stdout").join("\n");
    assert!(banner.contains("  timings:    instant"), "{banner}");
    assert!(banner.contains(&format!("  health:     {}/_ecsd/health", process.base)), "{banner}");
    // The console's one-time URL is shown to the operator, never logged.
    let prefix = format!("  console:    {}/console?token=", process.base);
    let token = banner.lines().find_map(|line| line.strip_prefix(prefix.as_str())).expect("a console URL");
    assert_eq!(token.len(), 64, "{banner}");
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/console?token={token}", process.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let log = std::fs::read_to_string(&process.log).expect("log");
    assert!(log.contains("/console"), "the sign-in was logged: {log}");
    assert!(!log.contains(token), "{log}");
}

#[tokio::test]
async fn a_start_on_a_taken_port_writes_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("address").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ecsd"))
        .args(["serve", "--listen", &address, "--data-dir"])
        .arg(&data_dir)
        .env_remove("ECSD_ACCESS_KEY")
        .env_remove("ECSD_SECRET_KEY")
        .env_remove("ECSD_PROJECT_ID")
        .env_remove("ECSD_CONFIG")
        .output()
        .expect("ecsd runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("listening on {address}")), "{stderr}");
    assert!(!data_dir.exists(), "a failed start created {}", data_dir.display());
    assert!(!String::from_utf8_lossy(&output.stdout).contains("secret key"));
}

#[tokio::test]
async fn an_ephemeral_server_leaves_no_data_dir_behind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let unused = dir.path().join("unused");
    let mut process = EcsProcess::try_spawn_with(&unused, None, "instant", &["--ephemeral"], &[]).expect("starts");
    let banner = process.stdout.lock().expect("stdout").join("\n");
    let data_dir = banner
        .lines()
        .find_map(|line| line.trim().strip_prefix("data dir:"))
        .map(|dir| std::path::PathBuf::from(dir.trim()))
        .expect("the banner names the data dir");
    assert_ne!(data_dir, unused);
    let ecs = process.client();
    ecs.create_servers("eph", "s6.small.1", 2).await;
    assert!(data_dir.join(ecsd::STORE_FILE).exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data_dir).expect("data dir").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the temporary data dir is private");
    }
    process.terminate();
    let exit = process.wait_exit(PATIENCE).expect("exits");
    assert!(exit.success(), "{exit:?}");
    assert!(!data_dir.exists(), "{} is still there", data_dir.display());
    assert!(!unused.exists(), "--data-dir is unused with --ephemeral");
}

#[tokio::test]
async fn reset_on_start_begins_with_an_empty_store_and_the_same_credential() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let mut process = EcsProcess::spawn(&data_dir, None, "instant");
    let ecs = process.client();
    ecs.create_servers("kept", "s6.small.1", 2).await;
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "before"})).await;
    assert_eq!(status, StatusCode::CREATED);
    process.terminate();
    process.wait_exit(PATIENCE).expect("exits");

    let again = EcsProcess::spawn(&data_dir, None, "instant");
    assert_eq!(again.client().all_servers().await.len(), 2, "state survives a plain restart");
    drop(again);

    let clean = EcsProcess::try_spawn_with(&data_dir, None, "instant", &["--reset-on-start"], &[]).expect("starts");
    let ecs = clean.client();
    assert!(ecs.all_servers().await.is_empty());
    let (status, body) = ecs.get("/_ecsd/snapshots").await;
    assert_eq!((status, &body["snapshots"]), (StatusCode::OK, &json!([])));
}

/// Signs as the SDK does, with the date given, and sends.
async fn signed_at(base: &str, credential: &ecsd::config::Credential, path: &str, date: &str) -> StatusCode {
    let url = format!("{base}{path}");
    let headers = [("content-type", "application/json"), ("x-sdk-date", date)];
    let signed =
        sign_request(&credential.access_key, &credential.secret_key, "GET", &url, &headers, b"").expect("signable");
    let request = signed.iter().fold(reqwest::Client::new().get(&url), |r, (name, value)| r.header(name, value));
    request.send().await.expect("answers").status()
}

#[tokio::test]
async fn the_log_tells_the_story_of_requests_jobs_faults_and_refusals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = other_credential();
    let config = dir.path().join("ecsd.toml");
    std::fs::write(
        &config,
        format!(
            "[[access_keys]]\naccess_key = \"{}\"\nsecret_key = \"{}\"\nproject_id = \"{}\"\n",
            other.access_key, other.secret_key, other.project_id
        ),
    )
    .expect("config");
    let data_dir = dir.path().join("data");
    let process = EcsProcess::try_spawn_with(&data_dir, Some(&config), "instant", &[], &info_log()).expect("starts");
    let ecs = process.client();
    let credential = test_credential();

    // A request line names the SDK operation and carries the id the client saw.
    let answer = ecs.call_with_headers(Method::GET, &ecs.v1("/cloudservers/detail"), vec![], &[], None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let request_id = answer.headers["x-request-id"].to_str().expect("id").to_string();
    let line = wait_for_line(&process, &["answered", &request_id]).await;
    for part in [
        "method=GET",
        "path=\"/v1/0123456789abcdef0123456789abcdef/cloudservers/detail\"",
        "operation=\"ListServersDetails\"",
        "status=200",
        "latency_ms=",
        &format!("project=\"{}\"", credential.project_id),
    ] {
        assert!(line.contains(part), "{part} missing in: {line}");
    }

    // A batch stop with one failing server: accepted, the rule fired, sub-jobs and job done.
    let servers = ecs.create_servers("web", "s6.small.1", 2).await;
    let (status, rule) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "stop", "server_id": servers[1], "count": 1,
                   "effect": {"kind": "sub_job_fail", "code": "Ecs.0226", "message": "stop failed"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let rule_id = rule["id"].as_str().expect("rule id");
    let job = ecs.batch("os-stop", &servers, json!({"type": "SOFT"})).await;
    let job_id = job["job_id"].as_str().expect("job id");
    wait_for_line(&process, &["batch accepted", job_id, "action=os-stop SOFT"]).await;
    wait_for_line(&process, &["fault rule added", rule_id, "operation=\"stop\"", "effect=\"sub_job_fail\""]).await;
    wait_for_line(&process, &["fault rule fired", rule_id, "effect=\"sub_job_fail\"", &servers[1]]).await;
    wait_for_line(&process, &["sub-job done", job_id, &servers[1], "status=\"FAIL\"", "Ecs.0226"]).await;
    wait_for_line(&process, &["sub-job done", job_id, &servers[0], "status=\"SUCCESS\""]).await;
    wait_for_line(&process, &["job done", job_id, "status=\"FAIL\"", "error_code=\"Ecs.0226\""]).await;

    // An injected gateway error: the request line has the rule's code, the fired line its id.
    let (_, rule) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "start", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Common.1503"}}),
        )
        .await;
    let http_rule = rule["id"].as_str().expect("rule id").to_string();
    let answer = ecs
        .call_with_headers(
            Method::POST,
            &ecs.v1("/cloudservers/action"),
            serde_json::to_vec(&json!({"os-start": {"servers": server_ids(&servers)}})).expect("json"),
            &[],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    let injected_id = answer.headers["x-request-id"].to_str().expect("id").to_string();
    wait_for_line(&process, &["fault rule fired", &http_rule, "effect=\"http_error\"", &injected_id]).await;
    wait_for_line(
        &process,
        &["answered", &injected_id, "operation=\"BatchStartServers\"", "status=503", "error_code=\"Common.1503\""],
    )
    .await;

    // Control actions.
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "base"})).await;
    assert_eq!(status, StatusCode::CREATED);
    ecs.post("/_ecsd/snapshots/base/restore", json!({})).await;
    ecs.post("/_ecsd/clock/settle", json!({})).await;
    wait_for_line(&process, &["snapshot saved", "base"]).await;
    wait_for_line(&process, &["snapshot restored", "base"]).await;
    wait_for_line(&process, &["settled"]).await;

    // Refusals, each with its reason.
    let unknown = ecsd::config::Credential {
        access_key: "AKUNKNOWN00000000001".into(),
        secret_key: "SKunknown000000000000000000000000000001".into(),
        project_id: credential.project_id.clone(),
    };
    let bad_secret = ecsd::config::Credential { secret_key: "SKwrong".repeat(6), ..credential.clone() };
    for (who, reason) in [(&unknown, "unknown access key"), (&bad_secret, "bad signature")] {
        let (status, body) = TestServer::remote(&process.base, who.clone()).get(&ecs.v1("/cloudservers/detail")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let id = body["request_id"].as_str().expect("request id");
        wait_for_line(&process, &["answered", id, "status=401", &format!("refused=\"{reason}\"")]).await;
    }
    let old = format_sdk_date(time::OffsetDateTime::now_utc() - time::Duration::hours(1));
    assert_eq!(signed_at(&process.base, &credential, &ecs.v1("/cloudservers/detail"), &old).await, 401);
    wait_for_line(&process, &["answered", "status=401", "refused=\"clock skew"]).await;
    let unsigned = reqwest::get(format!("{}{}", process.base, ecs.v1("/cloudservers/detail"))).await.expect("answers");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    wait_for_line(&process, &["answered", "status=401", "refused=\"no credential"]).await;
    // Another project's path: 403 with why.
    let (status, _) = ecs.get(&format!("/v1/{}/cloudservers/detail", other.project_id)).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST, "{status}");
    wait_for_line(&process, &["answered", "ListServersDetails", "status=", "error_code=\"Ecs.00"]).await;
    // A revoked key.
    let revoked = std::process::Command::new(env!("CARGO_BIN_EXE_ecsd"))
        .args(["keys", "revoke", &other.access_key, "--data-dir"])
        .arg(&data_dir)
        .output()
        .expect("ecsd keys runs");
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let (status, _) = TestServer::remote(&process.base, other.clone())
        .get(&format!("/v1/{}/cloudservers/detail", other.project_id))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    wait_for_line(&process, &["answered", "status=401", "refused=\"revoked access key\"", &other.access_key]).await;

    let log = process.log_text();
    for secret in [&credential.secret_key, &other.secret_key, &bad_secret.secret_key, &unknown.secret_key] {
        assert!(!log.contains(secret.as_str()), "a secret key is in the log");
    }
    assert!(!log.contains("Signature="), "an Authorization header is in the log");
    assert!(!log.contains("Stop {"), "an action in Rust's debug form:\n{log}");
}

#[tokio::test]
async fn json_logs_have_one_object_a_line_with_the_request_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let process = EcsProcess::try_spawn_with(
        &dir.path().join("data"),
        None,
        "instant",
        &[],
        &[("ECSD_LOG", "info"), ("ECSD_LOG_FORMAT", "json")],
    )
    .expect("starts");
    let ecs = process.client();
    let servers = ecs.create_servers("json", "s6.small.1", 1).await;
    let answer =
        ecs.call_with_headers(Method::GET, &ecs.v1(&format!("/cloudservers/{}", servers[0])), vec![], &[], None).await;
    let request_id = answer.headers["x-request-id"].to_str().expect("id").to_string();
    let line = wait_for_line(&process, &["answered", &request_id]).await;
    let object: Value = serde_json::from_str(&line).expect("a JSON object");
    assert_eq!(object["operation"], "ShowServer");
    assert_eq!(object["status"], 200);
    assert_eq!(object["request_id"], request_id.as_str());
    assert_eq!(object["level"], "INFO");
    let log = process.log_text();
    for line in log.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    // A line logged while serving a request carries that request's id.
    let accepted = lines_with(&log, &["create accepted"]);
    let accepted: Value = serde_json::from_str(accepted.first().expect("create accepted")).expect("json");
    assert!(accepted["span"]["id"].is_string(), "{accepted}");
}
