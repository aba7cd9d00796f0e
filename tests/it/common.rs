//! A test server on an ephemeral port with instant timings and a temporary data dir, and a
//! client that signs its requests like the official SDK.

#![allow(dead_code)]

use std::path::PathBuf;

use ecsd::api::signing::{format_sdk_date, sign_request};
use ecsd::config::{Config, ConfigFile, Credential};
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const IMAGE: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01";
pub const VPC: &str = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01";
pub const SUBNET: &str = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01";

pub struct TestServer {
    pub running: Option<ecsd::Running>,
    pub base: String,
    pub credential: Credential,
    pub data_dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// A client that lets go of an idle pooled connection well before the server's idle timeout
/// does. reqwest keeps idle connections for 90 s by default, longer than ecsd's 60 s: a request
/// written on a connection the server is closing at that moment is reset (seen under load, when
/// the server reads the request only after its watchdog fired), the classic keep-alive race that
/// a client avoids by being the first to give up an idle connection.
pub fn client() -> reqwest::Client {
    let server_idle = ecsd::config::Limits::default().idle_timeout;
    reqwest::Client::builder().pool_idle_timeout(server_idle / 2).build().expect("an HTTP client")
}

pub fn test_credential() -> Credential {
    Credential {
        access_key: "AKTESTECSD0000000001".into(),
        secret_key: "SKtestecsd0000000000000000000000000000001".into(),
        project_id: "0123456789abcdef0123456789abcdef".into(),
    }
}

pub fn config(data_dir: PathBuf, catalogue: Catalogue, timings: Timings) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        store: crate::pg::store_for(&data_dir),
        data_dir,
        timings,
        catalogue,
        credential: Some(test_credential()),
        auth: true,
        projects: vec![],
        access_keys: vec![],
        users: vec![],
        fixtures: None,
        limits: ecsd::config::Limits::default(),
        tls: None,
        reset_on_start: false,
        region: ecsd::config::DEFAULT_REGION.into(),
        trail: ecsd::audit::TrailConfig::default(),
        metrics_listen: None,
    }
}

/// A `[[access_keys]]` entry of `credential`, an admin one or not.
pub fn key_config(credential: Credential, admin: bool) -> ecsd::config::AccessKeyConfig {
    ecsd::config::AccessKeyConfig {
        access_key: credential.access_key,
        secret_key: credential.secret_key,
        project_id: credential.project_id,
        admin,
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Catalogue::default(), Timings::INSTANT).await
    }

    /// A server whose catalogue comes from a TOML text, as `--config` would give it.
    pub async fn start_with_toml(toml_text: &str) -> Self {
        let file: ConfigFile = toml::from_str(toml_text).expect("valid test config");
        Self::start_with(file.catalogue().expect("valid catalogue"), Timings::INSTANT).await
    }

    pub async fn start_with(catalogue: Catalogue, timings: Timings) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let running =
            ecsd::start(config(data_dir.path().to_path_buf(), catalogue, timings)).await.expect("ecsd starts");
        let base = format!("http://{}", running.addr);
        let credential = running.credential.clone();
        TestServer { running: Some(running), base, credential, data_dir, http: client() }
    }

    /// Stops the server and starts a new one on the same data dir.
    pub async fn restart(&mut self, timings: Timings) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean stop");
        }
        let running = ecsd::start(config(self.data_dir.path().to_path_buf(), Catalogue::default(), timings))
            .await
            .expect("ecsd restarts");
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    pub fn project(&self) -> &str {
        &self.credential.project_id
    }

    /// `/v1/{project}` + `rest`.
    pub fn v1(&self, rest: &str) -> String {
        format!("/v1/{}{rest}", self.project())
    }

    /// A request signed with the test credential; `body` is sent as compact JSON.
    pub async fn call(&self, method: Method, path_and_query: &str, body: Option<Value>) -> (StatusCode, Value) {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("json")).unwrap_or_default();
        self.call_raw(method, path_and_query, bytes, &[]).await
    }

    pub async fn call_raw(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        extra_headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let answer = self.call_with_headers(method, path_and_query, body, extra_headers, None).await;
        (answer.status, answer.body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    /// Creates `count` servers named `name` of `flavor` and waits for the job; returns their ids.
    pub async fn create_servers(&self, name: &str, flavor: &str, count: u32) -> Vec<String> {
        let (status, body) = self.post(&self.v1("/cloudservers"), create_body(name, flavor, count)).await;
        assert_eq!(status, StatusCode::OK, "create: {body}");
        let job = self.wait_job(body["job_id"].as_str().expect("job id")).await;
        assert_eq!(job["status"], "SUCCESS", "create job: {job}");
        body["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()).collect()
    }

    /// Polls a job until it is SUCCESS or FAIL.
    pub async fn wait_job(&self, job_id: &str) -> Value {
        for _ in 0..500 {
            let (status, job) = self.get(&self.v1(&format!("/jobs/{job_id}"))).await;
            assert_eq!(status, StatusCode::OK, "job: {job}");
            if job["status"] == "SUCCESS" || job["status"] == "FAIL" {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("job {job_id} did not finish");
    }

    pub async fn server(&self, id: &str) -> Value {
        let (status, body) = self.get(&self.v1(&format!("/cloudservers/{id}"))).await;
        assert_eq!(status, StatusCode::OK, "show: {body}");
        body["server"].clone()
    }

    /// Runs a batch action (`os-start`, `os-stop`, `reboot`) and waits for its job.
    pub async fn batch(&self, action: &str, ids: &[String], extra: Value) -> Value {
        let mut inner = json!({ "servers": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>() });
        if let (Some(inner), Some(extra)) = (inner.as_object_mut(), extra.as_object()) {
            inner.extend(extra.clone());
        }
        let (status, body) = self.post(&self.v1("/cloudservers/action"), json!({ action: inner })).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        self.wait_job(body["job_id"].as_str().expect("job id")).await
    }
}

pub fn server_ids(ids: &[String]) -> Vec<Value> {
    ids.iter().map(|id| json!({ "id": id })).collect()
}

pub fn create_body(name: &str, flavor: &str, count: u32) -> Value {
    json!({
        "server": {
            "imageRef": IMAGE,
            "flavorRef": flavor,
            "name": name,
            "vpcid": VPC,
            "nics": [{"subnet_id": SUBNET}],
            "root_volume": {"volumetype": "SSD"},
            "count": count,
        }
    })
}

/// Asserts an ECS error body with `code`, and returns its message.
pub fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) -> String {
    assert_eq!(status.as_u16(), expected_status, "status of {body}");
    assert_eq!(body["error"]["code"], code, "code of {body}");
    body["error"]["message"].as_str().expect("message").to_string()
}

// ---------------------------------------------------------------------------------------------
// Helpers for the per-family HTTP tests.

/// A JSON response with its headers.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestServer {
    /// A request signed like the SDK signs: every header present is signed. `project_header`
    /// replaces the test project in `X-Project-Id`.
    pub fn signed(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        extra_headers: &[(&str, &str)],
        project_header: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, String> {
        let url = format!("{}{path_and_query}", self.base);
        // The harness's own date comes first, so an `X-Sdk-Date` among `extra_headers` is sent
        // as a second, unsigned one.
        let date = format_sdk_date(time::OffsetDateTime::now_utc());
        let mut headers = vec![
            ("content-type", "application/json"),
            ("x-project-id", project_header.unwrap_or(self.project())),
            ("x-sdk-date", &date),
        ];
        headers.extend_from_slice(extra_headers);
        let credential = &self.credential;
        let signed =
            sign_request(&credential.access_key, &credential.secret_key, method.as_str(), &url, &headers, &body)
                .map_err(|e| format!("not signable: {e}"))?;
        let builder =
            signed.iter().fold(self.http.request(method, url), |builder, (name, value)| builder.header(name, value));
        Ok(builder.body(body))
    }

    /// Like [`TestServer::call_raw`], but returns the headers too, and lets the caller choose the
    /// `X-Project-Id` the request is signed with (the SDK sends its credential's project; `None`
    /// sends the test credential's).
    pub async fn call_with_headers(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        extra_headers: &[(&str, &str)],
        project_header: Option<&str>,
    ) -> Answer {
        let builder = self.signed(method, path_and_query, body, extra_headers, project_header).expect("signable");
        let response = builder.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, headers, body }
    }

    /// A server (instant timings, default catalogue) that also knows [`other_credential`] and
    /// its project. Set `credential` to switch the project the client signs for.
    pub async fn start_with_two_projects() -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
        config.access_keys.push(key_config(other_credential(), false));
        let running = ecsd::start(config).await.expect("ecsd starts");
        let base = format!("http://{}", running.addr);
        let credential = running.credential.clone();
        TestServer { running: Some(running), base, credential, data_dir, http: client() }
    }

    /// A server with the default catalogue whose transitions take the given times.
    pub async fn start_with_timings(timings: Timings) -> Self {
        Self::start_with(Catalogue::default(), timings).await
    }

    /// Posts a create body and waits for its job; returns the server ids.
    pub async fn create_from(&self, body: Value) -> Vec<String> {
        let (status, answer) = self.post(&self.v1("/cloudservers"), body).await;
        assert_eq!(status, StatusCode::OK, "create: {answer}");
        let job = self.wait_job(answer["job_id"].as_str().expect("job id")).await;
        assert_eq!(job["status"], "SUCCESS", "create job: {job}");
        answer["serverIds"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()).collect()
    }

    /// Deletes servers and waits for the job; returns the finished job.
    pub async fn delete(&self, ids: &[String]) -> Value {
        let (status, body) = self.post(&self.v1("/cloudservers/delete"), json!({ "servers": server_ids(ids) })).await;
        assert_eq!(status, StatusCode::OK, "delete: {body}");
        self.wait_job(body["job_id"].as_str().expect("job id")).await
    }

    /// Makes a key pair of the project (Nova's `os-keypairs`, generated), for creates that
    /// name one.
    pub async fn keypair(&self, name: &str) {
        let path = format!("/v2.1/{}/os-keypairs", self.project());
        let (status, body) = self.post(&path, json!({"keypair": {"name": name}})).await;
        assert_eq!(status, StatusCode::OK, "key pair: {body}");
    }

    /// `GET .../cloudservers/limits` → the `absolute` object.
    pub async fn limits(&self) -> Value {
        let (status, body) = self.get(&self.v1("/cloudservers/limits")).await;
        assert_eq!(status, StatusCode::OK, "limits: {body}");
        body["absolute"].clone()
    }

    /// `GET .../jobs/{id}` once, without waiting.
    pub async fn job(&self, job_id: &str) -> Value {
        let (status, body) = self.get(&self.v1(&format!("/jobs/{job_id}"))).await;
        assert_eq!(status, StatusCode::OK, "job: {body}");
        body
    }

    /// Every server of the project (one page of 1000).
    pub async fn all_servers(&self) -> Vec<Value> {
        let (status, body) = self.get(&self.v1("/cloudservers/detail?limit=1000")).await;
        assert_eq!(status, StatusCode::OK, "list: {body}");
        body["servers"].as_array().expect("servers").clone()
    }
}

/// A second credential, for a second project in the same store.
pub fn other_credential() -> Credential {
    Credential {
        access_key: "AKTESTECSD0000000002".into(),
        secret_key: "SKtestecsd0000000000000000000000000000002".into(),
        project_id: "fedcba9876543210fedcba9876543210".into(),
    }
}

/// Instant timings except for the operations given a long duration (10 minutes): a server in
/// one of those operations stays busy for the whole test.
pub fn slow(create: bool, stop: bool, delete: bool) -> Timings {
    const LONG: u64 = 600_000;
    Timings {
        create_ms: if create { LONG } else { 0 },
        stop_ms: if stop { LONG } else { 0 },
        delete_ms: if delete { LONG } else { 0 },
        ..Timings::INSTANT
    }
}

/// Whether `text` has the shape of `template`, where `d` stands for any ASCII digit and every
/// other character for itself (e.g. `dddd-dd-ddTdd:dd:dd.dddZ`).
pub fn has_shape(text: &str, template: &str) -> bool {
    text.len() == template.len()
        && text.chars().zip(template.chars()).all(|(c, t)| if t == 'd' { c.is_ascii_digit() } else { c == t })
}

pub const JOB_TIME: &str = "dddd-dd-ddTdd:dd:dd.dddZ";

/// `count` fresh UUIDs (ids that exist nowhere).
pub fn random_ids(count: usize) -> Vec<String> {
    (0..count).map(|_| uuid::Uuid::new_v4().to_string()).collect()
}

/// Asserts the batch abnormal body: `Ecs.0611` and exactly these `(id, error_code)` entries,
/// in this order, each with a non-empty message. Returns the messages.
pub fn assert_batch_refused(status: StatusCode, body: &Value, expected: &[(&str, &str)]) -> Vec<String> {
    assert_error(status, body, 400, "Ecs.0611");
    let entries = body["internalError"].as_array().unwrap_or_else(|| panic!("internalError in {body}"));
    let got: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            assert_eq!(e.as_object().map(|o| o.len()), Some(3), "entry has exactly id, error_code, error_message: {e}");
            (e["id"].as_str().expect("id"), e["error_code"].as_str().expect("error_code"))
        })
        .collect();
    assert_eq!(got, expected, "internalError of {body}");
    entries
        .iter()
        .map(|e| {
            let message = e["error_message"].as_str().expect("error_message");
            assert!(!message.is_empty(), "empty message in {e}");
            message.to_string()
        })
        .collect()
}

/// Asserts a whole-request error body: the code and no `internalError`.
pub fn assert_plain_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_error(status, body, expected_status, code);
    assert!(body.get("internalError").is_none(), "no internalError expected in {body}");
}

// ---------------------------------------------------------------------------------------------
// Helpers for the reliability tests (crash, concurrency, hostile input, store faults).

impl TestServer {
    /// A client of an ecsd that runs elsewhere (the real binary, see [`EcsProcess`]): it signs
    /// with `credential` and has no server of its own.
    pub fn remote(base: &str, credential: Credential) -> Self {
        TestServer {
            running: None,
            base: base.to_string(),
            credential,
            data_dir: tempfile::tempdir().expect("temp dir"),
            http: client(),
        }
    }

    /// Like [`TestServer::call_with_headers`], but a transport error or no answer within
    /// `timeout` comes back as `Err` instead of a panic, so a caller can tell a refused or
    /// reset connection and a hang from an answer.
    pub async fn try_call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        extra_headers: &[(&str, &str)],
        timeout: std::time::Duration,
    ) -> Result<Answer, String> {
        let builder = self.signed(method, path_and_query, body, extra_headers, None)?;
        let exchange = async {
            let response = builder.send().await.map_err(|e| format!("{e:?}"))?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await.map_err(|e| format!("reading the body: {e:?}"))?;
            let body =
                if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
            Ok(Answer { status, headers, body })
        };
        tokio::time::timeout(timeout, exchange).await.map_err(|_| format!("no answer within {timeout:?}"))?
    }
}

/// The real `ecsd` binary, serving on an ephemeral port with the [`test_credential`] and a
/// data dir the caller owns (so it survives the process). Dropping it kills the process.
pub struct EcsProcess {
    pub child: Option<std::process::Child>,
    pub base: String,
    pub data_dir: PathBuf,
    /// Where the process's log (stderr) goes.
    pub log: PathBuf,
    /// What it printed on stdout so far (the banner).
    pub stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl EcsProcess {
    /// Starts `ecsd serve` on `data_dir` with `--timings <timings>` and, when given, a config
    /// file; waits until it prints its endpoint.
    pub fn spawn(data_dir: &std::path::Path, config: Option<&std::path::Path>, timings: &str) -> Self {
        Self::try_spawn(data_dir, config, timings)
            .unwrap_or_else(|(exit, log)| panic!("ecsd did not start ({exit:?}); log:\n{log}"))
    }

    /// Like [`EcsProcess::spawn`], but when ecsd does not come up, its exit status (if it
    /// exited within 30 s) and its log.
    pub fn try_spawn(
        data_dir: &std::path::Path,
        config: Option<&std::path::Path>,
        timings: &str,
    ) -> Result<Self, (Option<std::process::ExitStatus>, String)> {
        Self::try_spawn_with(data_dir, config, timings, &[], &[])
    }

    /// Like [`EcsProcess::try_spawn`], with more arguments of `ecsd serve` and more (or other)
    /// environment variables.
    pub fn try_spawn_with(
        data_dir: &std::path::Path,
        config: Option<&std::path::Path>,
        timings: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self, (Option<std::process::ExitStatus>, String)> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let credential = test_credential();
        let log = data_dir.with_extension(format!("log-{}", uuid::Uuid::new_v4().simple()));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecsd"));
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--timings")
            .arg(timings)
            .env("ECSD_ACCESS_KEY", &credential.access_key)
            .env("ECSD_SECRET_KEY", &credential.secret_key)
            .env("ECSD_PROJECT_ID", &credential.project_id)
            .env("ECSD_LOG", std::env::var("ECSD_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .env_remove("ECSD_CONFIG")
            .env_remove("ECSD_NO_AUTH")
            .env_remove("ECSD_FIXTURES")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        command.args(args).envs(env.iter().copied());
        let mut child = command.spawn().expect("ecsd binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (found, endpoint) = std::sync::mpsc::channel();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = std::sync::Arc::clone(&printed);
        // Reads the announcement, then keeps draining stdout so the process never blocks on it.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().expect("stdout lines").push(line.clone());
                // The banner's whole block is printed at once: the endpoint comes with it.
                if !sent && line.starts_with("Point the SDK at it") {
                    let url = lines
                        .lock()
                        .expect("stdout lines")
                        .iter()
                        .find_map(|l| l.strip_prefix("ecsd listening on ").map(|url| url.trim().to_string()));
                    let _ = found.send(url.unwrap_or_default());
                    sent = true;
                }
            }
        });
        match endpoint.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(base) => {
                Ok(EcsProcess { child: Some(child), base, data_dir: data_dir.to_path_buf(), log, stdout: printed })
            }
            Err(_) => {
                // Stdout closes as the process exits: give it a moment to be reaped.
                let mut exit = None;
                for _ in 0..250 {
                    exit = child.try_wait().ok().flatten();
                    if exit.is_some() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                if exit.is_none() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let _ = std::fs::remove_file(&log);
                Err((exit, text))
            }
        }
    }

    /// A signing client for this process.
    pub fn client(&self) -> TestServer {
        TestServer::remote(&self.base, test_credential())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM with `kill -TERM <pid>`.
    pub fn terminate(&self) {
        let status =
            std::process::Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status().expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` if it still runs.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let began = std::time::Instant::now();
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if began.elapsed() > limit {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The log the process wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for EcsProcess {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Every server of the project, over as many pages of 1000 as it takes.
pub async fn list_all_servers(ecs: &TestServer) -> Vec<Value> {
    let mut servers = Vec::new();
    for page in 1.. {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?limit=1000&offset={page}"))).await;
        assert_eq!(status, StatusCode::OK, "list: {body}");
        let listed = body["servers"].as_array().expect("servers");
        servers.extend(listed.iter().cloned());
        if listed.len() < 1000 {
            break;
        }
    }
    servers
}

/// Whether a body is an error body of a documented shape: the ECS `{"error":{"code","message"}}`
/// (with an optional `internalError` list) with an `Ecs.NNNN`/`Common.NNNN` code, or the API
/// gateway's `{"error_msg","error_code":"APIG.NNNN","request_id"}`. `Err` says what is wrong.
pub fn documented_error_shape(body: &Value) -> Result<(), String> {
    let code_like = |code: &str, prefixes: &[&str]| {
        prefixes
            .iter()
            .any(|p| code.strip_prefix(p).is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit())))
    };
    let Some(object) = body.as_object() else { return Err(format!("not a JSON object: {body}")) };
    // The gateway's (and IAM's) refusals: `error_code` at the top.
    if let Some(code) = object.get("error_code").and_then(Value::as_str) {
        if !code_like(code, &["APIG.", "IAM."]) {
            return Err(format!("undocumented gateway code {code}: {body}"));
        }
        if object.get("error_msg").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(format!("error_msg missing: {body}"));
        }
        return Ok(());
    }
    // Keystone's: `{"error": {"code": 401, "title": ..., "message": ...}}`.
    if let Some(error) = object.get("error")
        && error["code"].is_u64()
    {
        if error["title"].as_str().is_none_or(str::is_empty) || error["message"].as_str().is_none_or(str::is_empty) {
            return Err(format!("Keystone error without title or message: {body}"));
        }
        return Ok(());
    }
    // The VPC API's: `{"code": "VPC.0101", "message": ...}`.
    if let Some(code) = object.get("code").and_then(Value::as_str)
        && code.starts_with("VPC.")
    {
        if !code_like(code, &["VPC."]) || object.get("message").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(format!("VPC error with an undocumented code or no message: {body}"));
        }
        if object.keys().any(|k| k != "code" && k != "message") {
            return Err(format!("unexpected keys: {body}"));
        }
        return Ok(());
    }
    // Glance's: `{"code": "404 Not Found", "title": ..., "message": ...}`.
    if let Some(code) = object.get("code").and_then(Value::as_str) {
        let numbered = code.split_once(' ').is_some_and(|(n, _)| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()));
        if !numbered || object.get("message").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(format!("Glance error without a status line or message: {body}"));
        }
        return Ok(());
    }
    // Neutron's: `{"NeutronError": {"type": ..., "message": ..., "detail": ...}}`.
    if let Some(error) = object.get("NeutronError") {
        if error["type"].as_str().is_none_or(str::is_empty) || error["message"].as_str().is_none_or(str::is_empty) {
            return Err(format!("Neutron error without type or message: {body}"));
        }
        return Ok(());
    }
    // Nova's: one key naming the fault, `{"itemNotFound": {"code": 404, "message": ...}}`.
    if object.len() == 1
        && let Some((fault, detail)) = object.iter().next()
        && fault != "error"
    {
        if !detail["code"].is_u64() || detail["message"].as_str().is_none_or(str::is_empty) {
            return Err(format!("Nova fault without code or message: {body}"));
        }
        return Ok(());
    }
    if let Some(error) = object.get("error") {
        let code = error["code"].as_str().ok_or_else(|| format!("error.code missing: {body}"))?;
        if !code_like(code, &["Ecs.", "Common.", "EVS."]) {
            return Err(format!("undocumented code {code}: {body}"));
        }
        if error["message"].as_str().is_none_or(str::is_empty) {
            return Err(format!("error.message missing: {body}"));
        }
        if object.keys().any(|k| k != "error" && k != "internalError") {
            return Err(format!("unexpected keys: {body}"));
        }
        return Ok(());
    }
    Err(format!("not an error body: {body}"))
}

/// A client that signs as golangsdk, the SDK of the Terraform `huaweicloud` provider, does
/// (`signer.go` of github.com/chnsz/golangsdk): every header of Go's header map at signing time —
/// which never holds `Host`, kept by Go outside the map — sorted, then `X-Project-Id` added after
/// signing. Answers come back as bytes, for decoding into the provider's Go types.
pub struct GoSdk {
    pub base: String,
    pub credential: Credential,
    http: reqwest::Client,
}

impl GoSdk {
    pub fn of(ecs: &TestServer) -> Self {
        GoSdk { base: ecs.base.clone(), credential: ecs.credential.clone(), http: client() }
    }

    /// `method` on `path_and_query`, `body` as golangsdk marshals it, signed over golangsdk's headers.
    pub async fn request(&self, method: Method, path_and_query: &str, body: Option<&Value>) -> (StatusCode, Vec<u8>) {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("json")).unwrap_or_default();
        let mut headers =
            vec![("Accept", "application/json"), ("User-Agent", "terraform-provider-iac golangsdk/2.0.0")];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let mut signed: Vec<String> = headers.iter().map(|(name, _)| name.to_ascii_lowercase()).collect();
        signed.push("x-sdk-date".into());
        signed.sort();
        let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
        self.send_signed_over(method, path_and_query, &headers, &signed, bytes).await
    }

    /// Sends `headers` and `X-Sdk-Date`, signed over `signed` whatever they are (a test of the
    /// gateway's refusals may list a header that is not sent, or leave one out).
    pub async fn send_signed_over(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        signed: &[&str],
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        use ecsd::api::signing::{RequestToVerify, canonical_request, sign, string_to_sign};
        let date = format_sdk_date(time::OffsetDateTime::now_utc());
        let mut sent: Vec<(String, String)> =
            headers.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        sent.push(("X-Sdk-Date".into(), date.clone()));
        // What the canonical request may read of a header that is signed but not sent: the
        // gateway's answer to that is what such a test looks at.
        let host = self.base.trim_start_matches("http://").to_string();
        let mut seen = sent.clone();
        seen.push(("Host".into(), host));
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let to_sign = RequestToVerify { method: method.as_str(), path, query, headers: &seen, body: &body };
        // Signed by hand rather than with `authorization_value`, which (as the official SDK's
        // signer) insists on `host`: golangsdk never signs it.
        let canonical = canonical_request(&to_sign, signed).expect("signable");
        let signature = sign(self.credential.secret_key.as_bytes(), &string_to_sign(&date, &canonical));
        let authorization = format!(
            "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={signature}",
            self.credential.access_key,
            signed.join(";")
        );
        let mut builder = self.http.request(method, format!("{}{path_and_query}", self.base));
        for (name, value) in &sent {
            builder = builder.header(name, value);
        }
        let response = builder
            .header("Authorization", authorization)
            .header("X-Project-Id", &self.credential.project_id)
            .body(body)
            .send()
            .await
            .expect("sent");
        let status = response.status();
        (status, response.bytes().await.expect("body").to_vec())
    }
}

// Nova's calls (tests/it/nova*.rs).

/// The path of `rest` under the test project's Nova endpoint.
pub fn nova(ecs: &TestServer, rest: &str) -> String {
    format!("/v2.1/{}{rest}", ecs.project())
}

/// A call to `path` at Nova's microversion `version` (`2.1`, `2.47`, ...).
pub async fn nova_call(ecs: &TestServer, method: Method, path: &str, body: Option<Value>, version: &str) -> Answer {
    let bytes = body.map(|b| serde_json::to_vec(&b).expect("json")).unwrap_or_default();
    let header = format!("compute {version}");
    ecs.call_with_headers(method, path, bytes, &[("openstack-api-version", &header)], None).await
}

/// A refusal in Nova's shape: `{fault: {code: status, message}}`, with a message.
pub fn assert_nova_fault(answer: &Answer, status: u16, fault: &str) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(answer.body[fault]["code"], status, "{}", answer.body);
    assert!(answer.body[fault]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.body);
}
