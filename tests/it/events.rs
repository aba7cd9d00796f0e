//! The audit trail (docs/testing.md, "The audit trail"): `GET /_ecsd/events` and its filters,
//! the Server-Sent Events stream and its resume, what a batch stop records, fault rules that
//! fire, retention, reset, and projects kept apart.

use crate::common::*;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The records a query answers.
async fn events(ecs: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = ecs.get(&format!("/_ecsd/events{query}")).await;
    assert_eq!(status, StatusCode::OK, "events: {body}");
    body["events"].as_array().expect("events").clone()
}

/// Polls the trail until `done` holds for what `query` answers (call records are stored just
/// after their answer).
async fn events_until(ecs: &TestServer, query: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..500 {
        let found = events(ecs, query).await;
        if done(&found) {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the trail never showed what was expected for {query}: {:#}", Value::from(events(ecs, query).await));
}

fn has_call(operation: &'static str) -> impl Fn(&[Value]) -> bool {
    move |events| events.iter().any(|e| e["kind"] == "call" && e["operation"] == operation)
}

/// (kind, status) of each record, in order.
fn statuses(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            let status = match &e["status"] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (e["kind"].as_str().unwrap_or_default().to_string(), status)
        })
        .collect()
}

/// What a batch stop of two servers records: the job and each sub-job from INIT to SUCCESS, and
/// the call with its job and servers.
async fn stopped_two(ecs: &TestServer) -> (Vec<String>, String, Vec<Value>) {
    let ids = ecs.create_servers("trail", "s6.small.1", 2).await;
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job_id = body["job_id"].as_str().expect("job id").to_string();
    ecs.wait_job(&job_id).await;
    let trail = events_until(ecs, &format!("?job_id={job_id}"), |events| {
        has_call("BatchStopServers")(events) && events.iter().any(|e| e["kind"] == "job" && e["status"] == "SUCCESS")
    })
    .await;
    (ids, job_id, trail)
}

#[tokio::test]
async fn a_batch_stop_records_its_call_its_job_and_each_sub_job() {
    let ecs = TestServer::start().await;
    let (ids, job_id, trail) = stopped_two(&ecs).await;
    let ids_of = |e: &Value| -> Vec<String> {
        e["server_ids"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()).collect()
    };

    let call = trail.iter().find(|e| e["kind"] == "call").expect("the call");
    assert_eq!(call["operation"], "BatchStopServers");
    assert_eq!(call["status"], 200);
    assert_eq!(call["job_id"], job_id.as_str());
    assert_eq!(call["caller"], ecs.credential.access_key.as_str());
    assert_eq!(call["project_id"], ecs.project());
    assert_eq!(call["code"], Value::Null);
    assert_eq!(call["request_id"].as_str().map(str::len), Some(32), "{call}");
    let mut touched = ids_of(call);
    touched.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(touched, expected);

    let jobs: Vec<_> = trail.iter().filter(|e| e["kind"] == "job").collect();
    let job_statuses: Vec<_> = jobs.iter().map(|e| e["status"].as_str().expect("status")).collect();
    // A stop is one step after its acceptance (which puts the server in `powering-off`).
    assert_eq!(job_statuses, ["INIT", "SUCCESS"], "{trail:#?}");
    assert!(jobs.iter().all(|e| e["operation"] == "stopServer"));
    // The acceptance's records carry the request; the engine's carry none.
    assert_eq!(jobs[0]["request_id"], call["request_id"]);
    assert_eq!(jobs[1]["request_id"], Value::Null);
    for id in &ids {
        let subs: Vec<_> = trail.iter().filter(|e| e["kind"] == "sub_job" && ids_of(e) == [id.clone()]).collect();
        let sub_statuses: Vec<_> = subs.iter().map(|e| e["status"].as_str().expect("status")).collect();
        assert_eq!(sub_statuses, ["INIT", "SUCCESS"], "{trail:#?}");
        assert!(subs.iter().all(|e| e["operation"] == "stopSingleServer" && e["sub_job_id"] == subs[0]["sub_job_id"]));
    }
    // Ids grow; each record has both times.
    assert!(trail.windows(2).all(|w| w[0]["id"].as_u64() < w[1]["id"].as_u64()));
    for record in &trail {
        for field in ["time", "clock"] {
            let text = record[field].as_str().expect("time");
            assert!(
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok(),
                "{text}"
            );
        }
    }
    // The job's first record comes before its first sub-job's; its last after every sub-job's.
    let position = |wanted: &dyn Fn(&Value) -> bool| trail.iter().position(wanted).expect("present");
    assert!(position(&|e| e["kind"] == "job") < position(&|e| e["kind"] == "sub_job"));
    let last_sub = trail.iter().rposition(|e| e["kind"] == "sub_job").expect("sub-jobs");
    assert!(position(&|e| e["kind"] == "job" && e["status"] == "SUCCESS") > last_sub);
}

#[tokio::test]
async fn filters_pick_records_by_server_operation_kind_since_and_limit() {
    let ecs = TestServer::start().await;
    let (ids, job_id, _) = stopped_two(&ecs).await;
    let all = events_until(&ecs, "?limit=1000", has_call("BatchStopServers")).await;

    let of_server = events(&ecs, &format!("?server_id={}&limit=1000", ids[0])).await;
    assert!(!of_server.is_empty());
    assert!(of_server.iter().all(|e| e["server_ids"].as_array().expect("ids").contains(&json!(ids[0]))));
    // The create's call and the stop's name it, and none of the other server's sub-jobs.
    assert!(has_call("CreatePostPaidServers")(&of_server) && has_call("BatchStopServers")(&of_server));

    let calls = events(&ecs, "?kind=call&limit=1000").await;
    assert!(calls.iter().all(|e| e["kind"] == "call"));
    assert_eq!(
        calls.iter().map(|e| e["operation"].as_str().expect("op")).collect::<Vec<_>>(),
        ["CreatePostPaidServers", "BatchStopServers"],
        "reads are not recorded by default"
    );
    let stops = events(&ecs, "?operation=stopSingleServer").await;
    assert_eq!(stops.len(), 4, "{stops:#?}");

    let middle = all[all.len() / 2]["id"].as_u64().expect("id");
    let after = events(&ecs, &format!("?since={middle}&limit=1000")).await;
    assert_eq!(after.len(), all.iter().filter(|e| e["id"].as_u64() > Some(middle)).count());
    assert_eq!(after.first().map(|e| &e["id"]), all.iter().find(|e| e["id"].as_u64() > Some(middle)).map(|e| &e["id"]));
    let first_two = events(&ecs, "?since=0&limit=2").await;
    assert_eq!(first_two, all[..2].to_vec());
    let newest_two = events(&ecs, "?limit=2").await;
    assert_eq!(newest_two, all[all.len() - 2..].to_vec());
    let by_time = events(&ecs, &format!("?since={}&limit=1000", all[0]["time"].as_str().expect("time"))).await;
    assert_eq!(by_time.len(), all.len());
    let future = events(&ecs, "?since=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());
    let of_job = events(&ecs, &format!("?job_id={job_id}&kind=sub_job&limit=1000")).await;
    assert_eq!(of_job.len(), 4);

    for bad in ["?kind=calls", "?limit=0", "?limit=1001", "?since=yesterday", "?colour=red"] {
        let (status, body) = ecs.get(&format!("/_ecsd/events{bad}")).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn a_refused_call_is_recorded_with_its_code_and_a_fired_rule_too() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("faulty", "s6.small.1", 1).await;
    let (status, body) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "stop", "count": 1,
                   "effect": {"kind": "sub_job_fail", "code": "Ecs.0226", "message": "stop failed"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rule = body["id"].as_str().expect("rule id").to_string();
    let job = ecs.batch("os-stop", &ids, json!({})).await;
    assert_eq!(job["status"], "FAIL");
    let job_id = job["job_id"].as_str().expect("job id");
    let trail = events_until(&ecs, &format!("?job_id={job_id}"), |events| {
        events.iter().any(|e| e["kind"] == "job" && e["status"] == "FAIL")
    })
    .await;
    let fault = trail.iter().find(|e| e["kind"] == "fault").expect("the rule's firing");
    assert_eq!(fault["status"], "sub_job_fail");
    assert_eq!(fault["code"], "Ecs.0226");
    assert_eq!(fault["operation"], "stop");
    assert_eq!(fault["server_ids"], json!(ids));
    assert!(fault["message"].as_str().expect("message").contains(&rule));
    let failed = trail.iter().find(|e| e["kind"] == "sub_job" && e["status"] == "FAIL").expect("failed sub-job");
    assert_eq!(failed["code"], "Ecs.0226");
    assert_eq!(failed["message"], "stop failed");

    let (status, _) = ecs.get(&ecs.v1("/cloudservers/not-a-server")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let gone = "7a1c2f3e-0000-4000-8000-000000000000";
    let (status, _) = ecs.call(Method::DELETE, &ecs.v1(&format!("/cloudservers/{gone}/metadata/x")), None).await;
    assert!(status.is_client_error());
    let refused = events_until(&ecs, "?kind=call&operation=DeleteServerMetadata", |events| !events.is_empty()).await;
    assert!(refused[0]["status"].as_u64().is_some_and(|s| (400..500).contains(&s)), "{refused:#?}");
    assert!(refused[0]["code"].as_str().is_some_and(|c| c.starts_with("Ecs.")), "{refused:#?}");
    assert_eq!(refused[0]["server_ids"], json!([gone]));
}

#[tokio::test]
async fn projects_see_only_their_own_records_and_an_admin_sees_all() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let admin = ecs.credential.clone();
    ecs.create_servers("mine", "s6.small.1", 1).await;
    events_until(&ecs, "", has_call("CreatePostPaidServers")).await;

    ecs.credential = other_credential();
    assert!(events(&ecs, "").await.is_empty(), "another project's records are not visible");
    let (status, body) = ecs.get(&format!("/_ecsd/events?project_id={}", admin.project_id)).await;
    assert_error(status, &body, 403, "Ecs.0003");
    ecs.create_servers("theirs", "s6.small.1", 1).await;
    let theirs = events_until(&ecs, "", has_call("CreatePostPaidServers")).await;
    assert!(theirs.iter().all(|e| e["project_id"] == other_credential().project_id.as_str()));

    ecs.credential = admin.clone();
    let all = events_until(&ecs, "?kind=call", |events| events.len() >= 2).await;
    let projects: std::collections::BTreeSet<_> = all.iter().map(|e| e["project_id"].as_str().expect("p")).collect();
    assert_eq!(projects.len(), 2, "{all:#?}");
    let one = events(&ecs, &format!("?kind=call&project_id={}", other_credential().project_id)).await;
    assert_eq!(one.len(), 1);
}

#[tokio::test]
async fn a_reset_clears_the_trail_and_a_snapshot_restores_it() {
    let ecs = TestServer::start().await;
    ecs.create_servers("gone", "s6.small.1", 1).await;
    events_until(&ecs, "", has_call("CreatePostPaidServers")).await;
    let (status, body) = ecs.post("/_ecsd/snapshots", json!({"name": "before"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = ecs.call(Method::POST, "/_ecsd/reset", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = events_until(&ecs, "", has_call("EcsdReset")).await;
    assert_eq!(statuses(&after), [("call".to_string(), "204".to_string())], "{after:#?}");

    let (status, _) = ecs.call(Method::POST, "/_ecsd/snapshots/before/restore", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let restored = events_until(&ecs, "?kind=call", has_call("EcsdRestoreSnapshot")).await;
    let operations: Vec<_> = restored.iter().map(|e| e["operation"].as_str().expect("op")).collect();
    // A call is recorded once answered: the snapshot holds what came before its own save.
    assert_eq!(operations, ["CreatePostPaidServers", "EcsdRestoreSnapshot"], "{restored:#?}");
    assert!(restored[0]["id"].as_u64() < restored[1]["id"].as_u64());
}

#[tokio::test]
async fn the_trail_keeps_at_most_its_retention() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    config.trail.retention.max_events = 5;
    let running = ecsd::start(config).await.expect("ecsd starts");
    let mut ecs = TestServer::remote(&format!("http://{}", running.addr), running.credential.clone());
    ecs.running = Some(running);
    for n in 0..8 {
        let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": format!("s{n}")})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // The writer trims every second, off the request path.
    let kept = events_until(&ecs, "?limit=1000", |events| {
        events.len() == 5 && events.last().is_some_and(|e| e["operation"] == "EcsdSaveSnapshot")
    })
    .await;
    assert!(kept.iter().all(|e| e["kind"] == "call"));
    // The newest are kept.
    let all_calls = kept.iter().filter(|e| e["operation"] == "EcsdSaveSnapshot").count();
    assert!(all_calls >= 4, "{kept:#?}");
}

#[tokio::test]
async fn records_older_than_the_retention_age_are_trimmed() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    config.trail.retention.max_age = std::time::Duration::from_secs(2);
    let running = ecsd::start(config).await.expect("ecsd starts");
    let mut ecs = TestServer::remote(&format!("http://{}", running.addr), running.credential.clone());
    ecs.running = Some(running);
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "old"})).await;
    assert_eq!(status, StatusCode::CREATED);
    events_until(&ecs, "?limit=1000", has_call("EcsdSaveSnapshot")).await;
    // Older than two seconds, at the writer's next trim (every second).
    let trimmed = events_until(&ecs, "?operation=EcsdSaveSnapshot", |events| events.is_empty()).await;
    assert!(trimmed.is_empty());
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "new"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let kept = events_until(&ecs, "?operation=EcsdSaveSnapshot", |events| !events.is_empty()).await;
    assert_eq!(kept.len(), 1, "a new record is kept: {kept:#?}");
}

#[tokio::test]
async fn reads_are_recorded_only_when_configured() {
    let quiet = TestServer::start().await;
    let (status, _) = quiet.get(&quiet.v1("/cloudservers/detail")).await;
    assert_eq!(status, StatusCode::OK);
    quiet.post("/_ecsd/snapshots", json!({"name": "mark"})).await;
    let recorded = events_until(&quiet, "?kind=call", has_call("EcsdSaveSnapshot")).await;
    assert!(
        !recorded.iter().any(|e| e["operation"] == "ListServersDetails"),
        "reads are off by default: {recorded:#?}"
    );

    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    config.trail.record_reads = true;
    let running = ecsd::start(config).await.expect("ecsd starts");
    let mut ecs = TestServer::remote(&format!("http://{}", running.addr), running.credential.clone());
    ecs.running = Some(running);
    let (status, _) = ecs.get(&ecs.v1("/cloudservers/no-such-server")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let recorded = events_until(&ecs, "?kind=call", has_call("ShowServer")).await;
    let show = recorded.iter().find(|e| e["operation"] == "ShowServer").expect("the read");
    assert_eq!(show["status"], 404);
    assert_eq!(show["code"], "Ecs.0114");
}

/// Reads a stream's records until `enough` holds; each is (SSE id, SSE event, data).
async fn read_stream(
    ecs: &TestServer,
    query: &str,
    last_event_id: Option<&str>,
    enough: impl Fn(&[(String, String, Value)]) -> bool,
) -> Vec<(String, String, Value)> {
    let mut headers = vec![("accept", "text/event-stream")];
    if let Some(id) = last_event_id {
        headers.push(("last-event-id", id));
    }
    let request =
        ecs.signed(Method::GET, &format!("/_ecsd/events/stream{query}"), vec![], &headers, None).expect("signed");
    let mut response = request.send().await.expect("stream opens");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let mut records = Vec::new();
    while !enough(&records) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(20), response.chunk())
            .await
            .expect("the stream goes on")
            .expect("readable")
            .expect("the stream is open");
        text.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("id: ").or_else(|| line.strip_prefix("id:")) {
                    id = value.to_string();
                } else if let Some(value) = line.strip_prefix("event: ").or_else(|| line.strip_prefix("event:")) {
                    event = value.to_string();
                } else if let Some(value) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
                    data.push_str(value);
                }
            }
            if !data.is_empty() {
                records.push((id, event, serde_json::from_str(&data).expect("json data")));
            }
        }
    }
    records
}

#[tokio::test]
async fn the_stream_sends_a_batch_stop_as_it_happens_and_resumes_after_the_last_event_id() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("live", "s6.small.1", 2).await;
    events_until(&ecs, "", has_call("CreatePostPaidServers")).await;
    // Everything after the newest record so far: the stop's records, whenever the stream opens.
    let newest = events(&ecs, "?limit=1").await[0]["id"].clone();
    let stream = {
        let ecs = TestServer::remote(&ecs.base, ecs.credential.clone());
        tokio::spawn(async move {
            read_stream(&ecs, &format!("?since={newest}"), None, |records| {
                records.iter().any(|(_, kind, e)| kind == "job" && e["status"] == "SUCCESS")
                    && records.iter().any(|(_, kind, _)| kind == "call")
            })
            .await
        })
    };
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job_id = body["job_id"].as_str().expect("job id").to_string();
    let streamed = stream.await.expect("stream task");
    let listed = events_until(&ecs, &format!("?job_id={job_id}"), has_call("BatchStopServers")).await;
    let of_job: Vec<_> = streamed.iter().filter(|(_, _, e)| e["job_id"] == job_id.as_str()).collect();
    assert_eq!(of_job.iter().map(|(_, _, e)| e.clone()).collect::<Vec<_>>(), listed);
    for (id, kind, record) in &streamed {
        assert_eq!(id, &record["id"].to_string());
        assert_eq!(kind, record["kind"].as_str().expect("kind"));
    }

    // Resuming after the third record sends the fourth on.
    let third = streamed[2].0.clone();
    let resumed = read_stream(&ecs, "", Some(&third), |records| records.len() >= 2).await;
    assert_eq!(resumed[0].2, streamed[3].2);
    assert_eq!(resumed[1].2, streamed[4].2);
    // Filters apply to the stream too; `since` starts it like Last-Event-ID.
    let calls = read_stream(&ecs, "?kind=call&since=0", None, |records| records.len() >= 2).await;
    assert_eq!(calls[0].2["operation"], "CreatePostPaidServers");
    assert_eq!(calls[1].2["operation"], "BatchStopServers");

    let (status, body) =
        ecs.call_raw(Method::GET, "/_ecsd/events/stream", vec![], &[("last-event-id", "not-an-id")]).await;
    assert_error(status, &body, 400, "Ecs.0005");
}
