//! Tenancy of the test-control API (docs/testing.md, "Who may do what"): a project's key, or a
//! user's token, reaches only its own project; actions on every project (reset all, snapshots,
//! the clock) need an admin credential: the bootstrap one, or a key configured `admin = true`.
//! Every control endpoint is covered with two projects.

use crate::common::*;
use ecsd::config::Credential;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn team(n: u8) -> Credential {
    Credential {
        access_key: format!("AKTEAM{n:014}"),
        secret_key: format!("SKteam{n:034}"),
        project_id: format!("{n:032x}"),
    }
}

const ALICE_PASSWORD: &str = "Alice-pass-1";

/// A server with the admin bootstrap credential, two project keys A and B, an admin key of
/// project B, and a user of project A.
async fn start(timings: Timings) -> TestServer {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), timings);
    config.access_keys.push(key_config(team(0xa), false));
    config.access_keys.push(key_config(team(0xb), false));
    config.access_keys.push(key_config(Credential { access_key: "AKTEAMBADMIN00000001".into(), ..team(0xb) }, true));
    config.users.push(ecsd::iam::User {
        name: "alice".into(),
        password: Some(ALICE_PASSWORD.into()),
        password_hash: None,
        domain: "default".into(),
        project_id: team(0xa).project_id,
    });
    let running = ecsd::start(config).await.expect("ecsd starts");
    let mut ecs = TestServer::remote(&format!("http://{}", running.addr), team(0xa));
    ecs.running = Some(running);
    ecs.data_dir = data_dir;
    ecs
}

/// The same server, signing as `credential`.
fn as_(ecs: &TestServer, credential: Credential) -> TestServer {
    TestServer::remote(&ecs.base, credential)
}

fn admin(ecs: &TestServer) -> TestServer {
    as_(ecs, test_credential())
}

async fn fixtures(ecs: &TestServer, name: &str, count: u32) -> Vec<String> {
    let (status, body) = ecs.post("/_ecsd/fixtures", json!({"servers": [{"name": name, "count": count}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["servers"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").to_string()).collect()
}

async fn count(ecs: &TestServer) -> u64 {
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["count"].as_u64().expect("count")
}

fn assert_forbidden(status: StatusCode, body: &Value) {
    assert_plain_error(status, body, 403, "Ecs.0003");
}

#[tokio::test]
async fn a_project_key_resets_its_own_project_only() {
    let a = start(Timings::INSTANT).await;
    let b = as_(&a, team(0xb));
    fixtures(&a, "a", 3).await;
    fixtures(&b, "b", 2).await;

    let (status, body) = a.post("/_ecsd/reset", json!({"project_id": team(0xb).project_id})).await;
    assert_forbidden(status, &body);
    let (status, body) = a.call(Method::POST, "/_ecsd/reset", None).await;
    assert_forbidden(status, &body);
    assert_eq!(count(&b).await, 2, "B's fleet is untouched");
    assert_eq!(count(&a).await, 3);

    let (status, body) = a.post("/_ecsd/reset", json!({"project_id": team(0xa).project_id})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!((count(&a).await, count(&b).await), (0, 2));

    // An admin credential resets everything.
    let (status, _) = admin(&a).call(Method::POST, "/_ecsd/reset", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(count(&b).await, 0);
}

#[tokio::test]
async fn a_users_token_cannot_reset_every_project() {
    let a = start(Timings::INSTANT).await;
    let b = as_(&a, team(0xb));
    fixtures(&b, "b", 2).await;
    let http = reqwest::Client::new();
    let issued = http
        .post(format!("{}/v3/auth/tokens", a.base))
        .json(&json!({"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"name": "alice", "password": ALICE_PASSWORD}}}}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(issued.status(), StatusCode::CREATED);
    let token = issued.headers()["x-subject-token"].to_str().expect("token").to_string();
    let response = http.post(format!("{}/_ecsd/reset", a.base)).header("x-auth-token", &token).send().await;
    let response = response.expect("sent");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "Ecs.0003", "{body}");
    let response = http
        .post(format!("{}/_ecsd/reset", a.base))
        .header("x-auth-token", &token)
        .json(&json!({"project_id": team(0xb).project_id}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&b).await, 2, "B's fleet is untouched");
}

#[tokio::test]
async fn snapshots_and_the_clock_need_an_admin_credential() {
    let a = start(Timings::INSTANT).await;
    let b = as_(&a, team(0xb));
    let root = admin(&a);
    let ids = fixtures(&b, "before", 1).await;
    let (status, _) = root.post("/_ecsd/snapshots", json!({"name": "base"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = b.put(&b.v1(&format!("/cloudservers/{}", ids[0])), json!({"server": {"name": "after"}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = a.post("/_ecsd/snapshots/base/restore", json!({})).await;
    assert_forbidden(status, &body);
    assert_eq!(b.server(&ids[0]).await["name"], "after", "B's rename is kept");
    let (status, body) = a.post("/_ecsd/snapshots", json!({"name": "mine"})).await;
    assert_forbidden(status, &body);
    let (status, body) = a.get("/_ecsd/snapshots").await;
    assert_forbidden(status, &body);
    let (status, body) = a.call(Method::DELETE, "/_ecsd/snapshots/base", None).await;
    assert_forbidden(status, &body);
    let (status, body) = a.post("/_ecsd/clock/advance", json!({"seconds": 60})).await;
    assert_forbidden(status, &body);

    // An admin key of another project may: it is the admin flag that counts.
    let b_admin = as_(&a, Credential { access_key: "AKTEAMBADMIN00000001".into(), ..team(0xb) });
    let (status, body) = b_admin.get("/_ecsd/snapshots").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["snapshots"][0]["name"], "base");
    let (status, body) = b_admin.post("/_ecsd/clock/advance", json!({"seconds": 60})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = root.call(Method::POST, "/_ecsd/snapshots/base/restore", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(b.server(&ids[0]).await["name"], "before");
    let (status, _) = root.call(Method::DELETE, "/_ecsd/snapshots/base", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn fault_rules_of_a_project_key_reach_only_its_project() {
    let a = start(Timings::INSTANT).await;
    let b = as_(&a, team(0xb));
    let root = admin(&a);
    let a_ids = fixtures(&a, "a", 1).await;
    let b_ids = fixtures(&b, "b", 1).await;
    let failing = |project: Option<String>| {
        let mut rule = json!({"operation": "stop",
            "effect": {"kind": "http_error", "status": 503, "code": "Common.1503", "message": "injected"}});
        if let Some(project) = project {
            rule["project_id"] = json!(project);
        }
        rule
    };

    let (status, body) = a.post("/_ecsd/faults", failing(Some(team(0xb).project_id))).await;
    assert_forbidden(status, &body);
    let stop = |ids: &[String]| json!({"os-stop": {"servers": server_ids(ids)}});
    let (status, body) = b.post(&b.v1("/cloudservers/action"), stop(&b_ids)).await;
    assert_eq!(status, StatusCode::OK, "B's stop is not failed by A: {body}");

    // A rule without a project is A's own.
    let (status, rule) = a.post("/_ecsd/faults", failing(None)).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(rule["project_id"], team(0xa).project_id.as_str());
    let id = rule["id"].as_str().expect("id").to_string();
    let (status, body) = a.post(&a.v1("/cloudservers/action"), stop(&a_ids)).await;
    assert_error(status, &body, 503, "Common.1503");

    // B neither sees nor touches A's rule; the admin sees every rule.
    let (_, listed) = b.get("/_ecsd/faults").await;
    assert_eq!(listed["faults"], json!([]));
    let (status, body) = b.call(Method::DELETE, &format!("/_ecsd/faults/{id}"), None).await;
    assert_plain_error(status, &body, 404, "Ecs.1000");
    let (status, body) = b.call(Method::POST, &format!("/_ecsd/faults/{id}/release"), None).await;
    assert_plain_error(status, &body, 404, "Ecs.1000");
    let (status, rule_b) = root.post("/_ecsd/faults", failing(Some(team(0xb).project_id))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, listed) = a.get("/_ecsd/faults").await;
    let seen: Vec<&Value> = listed["faults"].as_array().expect("faults").iter().map(|r| &r["id"]).collect();
    assert_eq!(seen, vec![&json!(id)], "A sees its own rule only");
    let (status, _) =
        a.call(Method::DELETE, &format!("/_ecsd/faults/{}", rule_b["id"].as_str().expect("id")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = root.get("/_ecsd/faults").await;
    assert_eq!(listed["faults"].as_array().expect("faults").len(), 2);

    let (status, _) = a.call(Method::POST, &format!("/_ecsd/faults/{id}/release"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = a.call(Method::DELETE, &format!("/_ecsd/faults/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

async fn create_slowly(ecs: &TestServer) -> String {
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("slow", "s6.small.1", 2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["job_id"].as_str().expect("job").to_string()
}

#[tokio::test]
async fn a_project_keys_settle_finishes_its_own_project_only() {
    let a = start(slow(true, false, false)).await;
    let b = as_(&a, team(0xb));
    let (job_a, job_b) = (create_slowly(&a).await, create_slowly(&b).await);
    let (status, body) = a.call(Method::POST, "/_ecsd/clock/settle", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(a.job(&job_a).await["status"], "SUCCESS");
    assert_ne!(b.job(&job_b).await["status"], "SUCCESS", "A's settle leaves B's transitions alone");
    let (status, _) = admin(&a).call(Method::POST, "/_ecsd/clock/settle", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b.job(&job_b).await["status"], "SUCCESS");
}

#[tokio::test]
async fn fixtures_go_into_another_project_only_for_an_admin() {
    let a = start(Timings::INSTANT).await;
    let b = as_(&a, team(0xb));
    let into_b = json!({"project_id": team(0xb).project_id, "servers": [{"name": "x"}]});
    let (status, body) = a.post("/_ecsd/fixtures", into_b.clone()).await;
    assert_forbidden(status, &body);
    assert_eq!(count(&b).await, 0);
    let (status, body) = admin(&a).post("/_ecsd/fixtures", into_b).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(count(&b).await, 1);
}
