//! Signed requests of the bench credential, and the few API calls the bench makes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ecsd::api::signing::sign_request;
use reqwest::Method;
use serde_json::{Value, json};

/// The credential ecsd is started with, and every request signed with.
pub const ACCESS_KEY: &str = "AKBENCHECSD000000001";
pub const SECRET_KEY: &str = "SKbenchecsd00000000000000000000000000001";
pub const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
const IMAGE: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e01";
const VPC: &str = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e01";
const SUBNET: &str = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f01";
const FLAVOR: &str = "s6.small.1";
/// The longest any one job may take before the bench gives up on it.
const JOB_DEADLINE: Duration = Duration::from_secs(600);

/// Signs and sends requests for the bench credential, like the SDK does.
pub struct Api {
    base: String,
    port: u16,
}

impl Api {
    pub fn new(port: u16) -> Self {
        Api { base: format!("http://127.0.0.1:{port}"), port }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The headers of one signed request without a body, to be replayed (by wrk).
    pub fn signed_headers(&self, method: Method, path_and_query: &str) -> anyhow::Result<Vec<(String, String)>> {
        let url = format!("{}{path_and_query}", self.base);
        let headers = [("content-type", "application/json"), ("x-project-id", PROJECT_ID)];
        sign_request(ACCESS_KEY, SECRET_KEY, method.as_str(), &url, &headers, &[])
            .map_err(|e| anyhow::anyhow!("signing: {e}"))
    }

    pub fn v1(rest: &str) -> String {
        format!("/v1/{PROJECT_ID}{rest}")
    }

    /// A request signed over content-type, host, x-project-id and x-sdk-date.
    pub fn request(
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
    pub async fn ok(
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
    pub async fn create(&self, http: &reqwest::Client, count: usize) -> anyhow::Result<(String, Vec<String>)> {
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
    pub async fn batch(&self, http: &reqwest::Client, action: &str, ids: &[String]) -> anyhow::Result<String> {
        let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
        let body = json!({ action: {"servers": servers} });
        let answer = self.ok(http, Method::POST, &Api::v1("/cloudservers/action"), Some(&body)).await?;
        Ok(answer["job_id"].as_str().context("batch answered no job_id")?.to_string())
    }

    /// Polls a job every millisecond until it finishes; fails unless it ends in SUCCESS.
    pub async fn wait_job(&self, http: &reqwest::Client, job_id: &str) -> anyhow::Result<()> {
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
    pub async fn wait_jobs(self: &Arc<Self>, jobs: Vec<String>, concurrency: usize) -> anyhow::Result<()> {
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

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().pool_max_idle_per_host(4).build().unwrap_or_default()
}
