//! A test server on an ephemeral port with instant timings and a temporary data dir, and a
//! client that signs its requests like the official SDK.

#![allow(dead_code)]

use std::path::PathBuf;

use ecsd::api::signing::{RequestToVerify, authorization_value};
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
        data_dir,
        timings,
        catalogue,
        credential: Some(test_credential()),
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
        let running = ecsd::start(config(data_dir.path().to_path_buf(), catalogue, timings))
            .await
            .expect("ecsd starts");
        let base = format!("http://{}", running.addr);
        let credential = running.credential.clone();
        TestServer {
            running: Some(running),
            base,
            credential,
            data_dir,
            http: reqwest::Client::new(),
        }
    }

    /// Stops the server and starts a new one on the same data dir.
    pub async fn restart(&mut self, timings: Timings) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean stop");
        }
        let running = ecsd::start(config(
            self.data_dir.path().to_path_buf(),
            Catalogue::default(),
            timings,
        ))
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
    pub async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let bytes = body
            .map(|b| serde_json::to_vec(&b).expect("json"))
            .unwrap_or_default();
        self.call_raw(method, path_and_query, bytes, &[]).await
    }

    pub async fn call_raw(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        extra_headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let host = self.base.trim_start_matches("http://").to_string();
        let date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .expect("date");
        let mut headers: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), host),
            ("x-project-id".into(), self.project().to_string()),
            ("x-sdk-date".into(), date),
        ];
        headers.extend(
            extra_headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let names: Vec<String> = headers.iter().map(|(k, _)| k.to_lowercase()).collect();
        let mut signed: Vec<&str> = names.iter().map(String::as_str).collect();
        signed.sort();
        let request = RequestToVerify {
            method: method.as_str(),
            path,
            query,
            headers: &headers,
            body: &body,
        };
        let authorization = authorization_value(
            &self.credential.access_key,
            self.credential.secret_key.as_bytes(),
            &request,
            &signed,
        )
        .expect("signable");
        let mut builder = self
            .http
            .request(method, format!("{}{path_and_query}", self.base));
        for (name, value) in &headers {
            if name != "host" {
                builder = builder.header(name, value);
            }
        }
        let response = builder
            .header("authorization", authorization)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
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
        let (status, body) = self
            .post(&self.v1("/cloudservers"), create_body(name, flavor, count))
            .await;
        assert_eq!(status, StatusCode::OK, "create: {body}");
        let job = self
            .wait_job(body["job_id"].as_str().expect("job id"))
            .await;
        assert_eq!(job["status"], "SUCCESS", "create job: {job}");
        body["serverIds"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|v| v.as_str().expect("id").to_string())
            .collect()
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
        let mut inner =
            json!({ "servers": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>() });
        if let (Some(inner), Some(extra)) = (inner.as_object_mut(), extra.as_object()) {
            inner.extend(extra.clone());
        }
        let (status, body) = self
            .post(&self.v1("/cloudservers/action"), json!({ action: inner }))
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        self.wait_job(body["job_id"].as_str().expect("job id"))
            .await
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
    body["error"]["message"]
        .as_str()
        .expect("message")
        .to_string()
}
