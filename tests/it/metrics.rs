//! Prometheus metrics (README, "Metrics"): what `GET /metrics` counts after a known sequence of
//! calls, who may read it, and the unauthenticated `--metrics-listen` address.

use crate::common::*;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::StatusCode;
use serde_json::json;

async fn scrape(ecs: &TestServer) -> String {
    let (status, body) = ecs.get("/metrics").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_str().expect("the exposition is text").to_string()
}

/// The value of the sample `name{labels}` (labels as the exposition writes them, sorted by
/// name), or `None` when the exposition has no such sample.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|value| value.parse().expect("a number"))
}

#[tokio::test]
async fn metrics_count_the_calls_jobs_sub_jobs_faults_and_fleet_of_a_known_sequence() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("metered", "s6.small.1", 3).await;
    let (status, body) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "stop", "server_id": ids[2], "count": 1,
                   "effect": {"kind": "sub_job_fail", "code": "Ecs.0226"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let job = ecs.batch("os-stop", &ids, json!({})).await;
    assert_eq!(job["status"], "FAIL", "one sub-job fails by the rule: {job}");
    let (status, _) = ecs.get(&ecs.v1("/cloudservers/no-such-server")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ecs.get("/v1/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let text = scrape(&ecs).await;
    let value = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series} in:\n{text}"));
    assert_eq!(value(r#"ecsd_requests_total{operation="CreatePostPaidServers",status="2xx"}"#), 1.0);
    assert_eq!(value(r#"ecsd_requests_total{operation="BatchStopServers",status="2xx"}"#), 1.0);
    assert_eq!(value(r#"ecsd_requests_total{operation="ShowServer",status="4xx"}"#), 1.0);
    assert_eq!(value(r#"ecsd_requests_total{operation="none",status="4xx"}"#), 1.0, "the unknown path");
    assert_eq!(value(r#"ecsd_request_duration_seconds_count{operation="BatchStopServers"}"#), 1.0);
    assert_eq!(value(r#"ecsd_jobs_started_total{type="createServer"}"#), 1.0);
    assert_eq!(value(r#"ecsd_jobs_finished_total{status="SUCCESS",type="createServer"}"#), 1.0);
    assert_eq!(value(r#"ecsd_sub_jobs_started_total{type="createSingleServer"}"#), 3.0);
    assert_eq!(value(r#"ecsd_sub_jobs_finished_total{status="SUCCESS",type="createSingleServer"}"#), 3.0);
    assert_eq!(value(r#"ecsd_jobs_finished_total{status="FAIL",type="stopServer"}"#), 1.0);
    assert_eq!(value(r#"ecsd_sub_jobs_finished_total{status="SUCCESS",type="stopSingleServer"}"#), 2.0);
    assert_eq!(value(r#"ecsd_sub_jobs_finished_total{status="FAIL",type="stopSingleServer"}"#), 1.0);
    assert_eq!(value(r#"ecsd_fault_rules_fired_total{effect="sub_job_fail",operation="stop"}"#), 1.0);
    assert_eq!(value(r#"ecsd_servers{status="SHUTOFF"}"#), 2.0);
    assert_eq!(value(r#"ecsd_servers{status="ACTIVE"}"#), 1.0);
    assert!(value(r#"ecsd_store_transaction_seconds_count{kind="write"}"#) >= 3.0, "{text}");
    assert!(text.contains("# TYPE ecsd_request_duration_seconds histogram"), "{text}");

    // The fleet is counted when scraped: a delete shows at once.
    ecs.delete(&ids).await;
    let text = scrape(&ecs).await;
    assert_eq!(sample(&text, r#"ecsd_servers{status="SHUTOFF"}"#), None, "{text}");
    assert_eq!(sample(&text, r#"ecsd_requests_total{operation="EcsdMetrics",status="2xx"}"#), Some(1.0), "{text}");
}

/// Scrapes until the engine's queue holds `depth` steps (it is set each time the engine waits).
async fn queue_reaches(ecs: &TestServer, depth: f64) {
    for _ in 0..500 {
        if sample(&scrape(ecs).await, "ecsd_engine_queue_depth") == Some(depth) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the engine's queue never held {depth}: {}", scrape(ecs).await);
}

#[tokio::test]
async fn the_engine_queue_holds_the_steps_of_running_work_and_empties_when_it_is_done() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let ids = ecs.create_servers("queued", "s6.small.1", 2).await;
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    queue_reaches(&ecs, 2.0).await;
    let (status, body) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    queue_reaches(&ecs, 0.0).await;
}

#[tokio::test]
async fn a_refused_create_counts_its_call_and_no_job() {
    let ecs = TestServer::start().await;
    let mut body = create_body("refused", "s6.small.1", 1);
    body["server"]["vpcid"] = json!("no-such-vpc");
    let (status, answer) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_error(status, &answer, 400, "Ecs.0014");
    let text = scrape(&ecs).await;
    assert_eq!(sample(&text, r#"ecsd_jobs_started_total{type="createServer"}"#), None, "{text}");
    assert_eq!(
        sample(&text, r#"ecsd_requests_total{operation="CreatePostPaidServers",status="4xx"}"#),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn only_an_admin_credential_reads_metrics_on_the_api_address() {
    let mut ecs = TestServer::start_with_two_projects().await;
    ecs.credential = other_credential();
    let (status, body) = ecs.get("/metrics").await;
    assert_error(status, &body, 403, "Ecs.0003");
    let unsigned = client().get(format!("{}/metrics", ecs.base)).send().await.expect("sent");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_metrics_address_serves_them_to_anyone_and_nothing_else() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    config.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
    let running = ecsd::start(config).await.expect("ecsd starts");
    let at = running.metrics_addr.expect("the metrics address");
    assert_ne!(at, running.addr);
    let answer = client().get(format!("http://{at}/metrics")).send().await.expect("sent");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], ecsd::metrics::CONTENT_TYPE);
    assert!(answer.text().await.expect("text").contains("# TYPE ecsd_engine_queue_depth gauge"));
    let other = client().get(format!("http://{at}/_ecsd/health")).send().await.expect("sent");
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "only the metrics are open there");
    running.stop().await.expect("stops");
    assert!(client().get(format!("http://{at}/metrics")).send().await.is_err(), "closed with ecsd");
}

#[tokio::test]
async fn the_exposition_lists_every_family_with_help_and_type() {
    let ecs = TestServer::start().await;
    let (status, _) = ecs.get("/_ecsd/health").await;
    assert_eq!(status, StatusCode::OK);
    let text = scrape(&ecs).await;
    for (family, kind) in [
        ("ecsd_requests_total", "counter"),
        ("ecsd_request_duration_seconds", "histogram"),
        ("ecsd_store_transaction_seconds", "histogram"),
        ("ecsd_engine_queue_depth", "gauge"),
        ("ecsd_engine_lag_seconds", "gauge"),
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "{family} in:\n{text}");
        assert!(text.contains(&format!("# TYPE {family} {kind}")), "{family} in:\n{text}");
    }
    assert!(!text.contains("ecsd_servers{"), "no servers, no series: {text}");
}
