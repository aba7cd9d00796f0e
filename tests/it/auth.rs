//! Authentication and tenancy: AK/SK signatures, tokens, project isolation, `--no-auth`.

use crate::common::*;
use ecsd::api::signing::{format_sdk_date, sign_request};
use ecsd::config::Credential;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Signed<'a> {
    credential: &'a Credential,
    method: Method,
    path: &'a str,
    body: Vec<u8>,
    signed_at: time::OffsetDateTime,
    project_header: String,
}

impl<'a> Signed<'a> {
    fn new(credential: &'a Credential, method: Method, path: &'a str, body: Vec<u8>) -> Self {
        Signed {
            credential,
            method,
            path,
            body,
            signed_at: time::OffsetDateTime::now_utc(),
            project_header: credential.project_id.clone(),
        }
    }

    /// Signs with `secret_key` and sends `sent_body` (normally the signed body).
    async fn send(&self, base: &str, secret_key: &str, sent_body: Vec<u8>) -> (StatusCode, Value) {
        let url = format!("{base}{}", self.path);
        let date = format_sdk_date(self.signed_at);
        let headers =
            [("content-type", "application/json"), ("x-project-id", &self.project_header), ("x-sdk-date", &date)];
        let signed =
            sign_request(&self.credential.access_key, secret_key, self.method.as_str(), &url, &headers, &self.body)
                .expect("sign");
        let request = reqwest::Client::new().request(self.method.clone(), url);
        let request = signed.iter().fold(request, |request, (name, value)| request.header(name, value));
        let response = request.body(sent_body).send().await.expect("sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn assert_gateway_refusal(status: StatusCode, body: &Value, code: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["error_msg"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["request_id"].as_str().is_some_and(|r| !r.is_empty()), "{body}");
}

#[tokio::test]
async fn an_unsigned_request_is_refused_with_the_gateway_error() {
    let ecs = TestServer::start().await;
    let response = reqwest::get(format!("{}/v1/{}/cloudservers/detail", ecs.base, ecs.project())).await.expect("sent");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_gateway_refusal(status, &body, "APIG.0301");
}

#[tokio::test]
async fn the_versions_document_needs_no_signature() {
    let ecs = TestServer::start().await;
    let response = reqwest::get(format!("{}/", ecs.base)).await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_secret_key_is_refused() {
    let ecs = TestServer::start().await;
    let path = ecs.v1("/cloudservers/detail");
    let request = Signed::new(&ecs.credential, Method::GET, &path, vec![]);
    let (status, body) = request.send(&ecs.base, "not-the-secret-key", vec![]).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    let (status, _) = request.send(&ecs.base, &ecs.credential.secret_key, vec![]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_access_key_is_refused_without_echoing_it() {
    let ecs = TestServer::start().await;
    let stranger = Credential { access_key: "AKUNKNOWN".into(), ..ecs.credential.clone() };
    let path = ecs.v1("/cloudservers/detail");
    let (status, body) =
        Signed::new(&stranger, Method::GET, &path, vec![]).send(&ecs.base, &stranger.secret_key, vec![]).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    assert!(!body.to_string().contains("AKUNKNOWN"));
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 1).await;
    let path = ecs.v1("/cloudservers/action");
    let signed_body = serde_json::to_vec(&json!({"os-stop": {"servers": server_ids(&ids)}})).expect("json");
    let tampered =
        serde_json::to_vec(&json!({"os-stop": {"servers": server_ids(&ids), "type": "HARD"}})).expect("json");
    let request = Signed::new(&ecs.credential, Method::POST, &path, signed_body);
    let (status, body) = request.send(&ecs.base, &ecs.credential.secret_key, tampered).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    assert_eq!(ecs.server(&ids[0]).await["status"], "ACTIVE");
}

#[tokio::test]
async fn a_request_signed_more_than_15_minutes_ago_is_refused() {
    let ecs = TestServer::start().await;
    let path = ecs.v1("/cloudservers/detail");
    let mut request = Signed::new(&ecs.credential, Method::GET, &path, vec![]);
    request.signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(16);
    let (status, body) = request.send(&ecs.base, &ecs.credential.secret_key, vec![]).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    request.signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(14);
    let (status, _) = request.send(&ecs.base, &ecs.credential.secret_key, vec![]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_signed_project_header_that_disagrees_with_the_url_is_ecs_0023() {
    let ecs = TestServer::start().await;
    let path = ecs.v1("/cloudservers/detail");
    let mut request = Signed::new(&ecs.credential, Method::GET, &path, vec![]);
    request.project_header = "fedcba9876543210fedcba9876543210".into();
    let (status, body) = request.send(&ecs.base, &ecs.credential.secret_key, vec![]).await;
    assert_error(status, &body, 400, "Ecs.0023");
}

async fn start(configure: impl FnOnce(&mut ecsd::config::Config)) -> (ecsd::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    configure(&mut config);
    (ecsd::start(config).await.expect("starts"), dir)
}

fn second_project() -> Credential {
    Credential {
        access_key: "AKSECONDPROJECT00001".into(),
        secret_key: "SKsecondproject0000000000000000000000001".into(),
        project_id: "fedcba9876543210fedcba9876543210".into(),
    }
}

#[tokio::test]
async fn two_projects_see_and_touch_only_their_own_servers() {
    let (running, _dir) = start(|c| c.access_keys.push(key_config(second_project(), false))).await;
    let base = format!("http://{}", running.addr);
    let first = test_credential();
    let second = second_project();
    let create = serde_json::to_vec(&create_body("mine", "s6.small.1", 1)).expect("json");
    let first_path = format!("/v1/{}/cloudservers", first.project_id);
    let (status, created) =
        Signed::new(&first, Method::POST, &first_path, create.clone()).send(&base, &first.secret_key, create).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let server_id = created["serverIds"][0].as_str().expect("id").to_string();

    // The second project lists nothing, cannot see, stop or delete the first's server.
    let list = format!("/v1/{}/cloudservers/detail", second.project_id);
    let (status, body) = Signed::new(&second, Method::GET, &list, vec![]).send(&base, &second.secret_key, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 0);
    let show = format!("/v1/{}/cloudservers/{server_id}", second.project_id);
    let (status, body) = Signed::new(&second, Method::GET, &show, vec![]).send(&base, &second.secret_key, vec![]).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let stop = serde_json::to_vec(&json!({"os-stop": {"servers": [{"id": server_id}]}})).expect("json");
    let action = format!("/v1/{}/cloudservers/action", second.project_id);
    let (status, body) =
        Signed::new(&second, Method::POST, &action, stop.clone()).send(&base, &second.secret_key, stop).await;
    assert_error(status, &body, 404, "Ecs.0114");

    // Using the first project's URL with the second project's key is refused as forbidden.
    let foreign = format!("/v1/{}/cloudservers/detail", first.project_id);
    let mut request = Signed::new(&second, Method::GET, &foreign, vec![]);
    request.project_header = first.project_id.clone();
    let (status, body) = request.send(&base, &second.secret_key, vec![]).await;
    assert_error(status, &body, 403, "Ecs.0003");
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn a_revoked_access_key_is_refused_at_once() {
    let (running, dir) = start(|_| {}).await;
    let base = format!("http://{}", running.addr);
    let data_dir = dir.path().to_path_buf();
    let create =
        ecsd::keys::Action::Create { project_id: Some(test_credential().project_id), description: "ci".into() };
    // The server's own store: the data dir's SQLite, or its PostgreSQL database on that leg.
    let store_choice = crate::pg::store_for(&data_dir);
    ecsd::keys::run(&data_dir, &store_choice, create).expect("key created");
    let store = store_choice.open(&data_dir).expect("store");
    let keys = ecsd::store::transact(store.as_ref(), |tx| tx.access_keys()).expect("keys");
    let key = keys.iter().find(|k| k.description == "ci").expect("the new key");
    let credential = Credential {
        access_key: key.access_key.clone(),
        secret_key: key.secret_key.clone(),
        project_id: key.project_id.clone(),
    };
    let path = format!("/v1/{}/cloudservers/detail", credential.project_id);
    let (status, _) =
        Signed::new(&credential, Method::GET, &path, vec![]).send(&base, &credential.secret_key, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    ecsd::keys::run(&data_dir, &store_choice, ecsd::keys::Action::Revoke { access_key: credential.access_key.clone() })
        .expect("revoked");
    let (status, body) =
        Signed::new(&credential, Method::GET, &path, vec![]).send(&base, &credential.secret_key, vec![]).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    running.stop().await.expect("stops");
}

fn token_request(user: &str, password: &str) -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": user, "password": password, "domain": {"name": "default"}}}},
        "scope": {"project": {"id": test_credential().project_id}},
    }})
}

#[tokio::test]
async fn a_password_user_gets_a_token_that_works_on_every_api_path() {
    let (running, _dir) = start(|c| {
        c.users.push(ecsd::iam::User {
            name: "alice".into(),
            password: Some("Alice-pass-1".into()),
            password_hash: None,
            domain: "default".into(),
            project_id: test_credential().project_id,
        })
    })
    .await;
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/v3/auth/tokens"))
        .json(&token_request("alice", "Alice-pass-1"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = response.headers()["x-subject-token"].to_str().expect("token").to_string();
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token"]["project"]["id"], test_credential().project_id.as_str());
    let url = body["token"]["catalog"][0]["endpoints"][0]["url"].as_str().expect("endpoint url");
    assert_eq!(url, format!("{base}/v1/{}", test_credential().project_id));

    let list = format!("{url}/cloudservers/detail");
    let response = http.get(&list).header("x-auth-token", &token).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let response = http.get(&list).header("x-auth-token", "MIIbogus").send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let wrong =
        http.post(format!("{base}/v3/auth/tokens")).json(&token_request("alice", "nope")).send().await.expect("sent");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn tokens_are_stored_hashed() {
    let (running, dir) = start(|c| {
        c.users.push(ecsd::iam::User {
            name: "bob".into(),
            password: Some("Bob-pass-12".into()),
            password_hash: None,
            domain: "default".into(),
            project_id: test_credential().project_id,
        })
    })
    .await;
    let base = format!("http://{}", running.addr);
    let response = reqwest::Client::new()
        .post(format!("{base}/v3/auth/tokens"))
        .json(&token_request("bob", "Bob-pass-12"))
        .send()
        .await
        .expect("sent");
    let token = response.headers()["x-subject-token"].to_str().expect("token").to_string();
    running.stop().await.expect("stops");
    for entry in std::fs::read_dir(dir.path()).expect("data dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("file");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&token), "the token is stored in clear");
        assert!(!text.contains("Bob-pass-12"), "the password is stored in clear");
    }
}

#[tokio::test]
async fn with_auth_off_unsigned_requests_are_accepted() {
    let (running, _dir) = start(|c| c.auth = false).await;
    let response =
        reqwest::get(format!("http://{}/v1/{}/cloudservers/detail", running.addr, test_credential().project_id))
            .await
            .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let unknown =
        reqwest::get(format!("http://{}/v1/99999999999999999999999999999999/cloudservers/detail", running.addr))
            .await
            .expect("sent");
    assert_eq!(unknown.status(), StatusCode::FORBIDDEN);
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn an_empty_token_header_does_not_hide_a_valid_signature() {
    let ecs = TestServer::start().await;
    let (status, body) =
        ecs.call_raw(Method::GET, &ecs.v1("/cloudservers/detail"), vec![], &[("x-auth-token", "")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A list signed as golangsdk signs, over `signed`.
async fn send_signed_like_golangsdk(ecs: &TestServer, signed: &[&str]) -> (StatusCode, Value) {
    let headers = [("Accept", "application/json"), ("User-Agent", "terraform-provider-iac golangsdk/2.0.0")];
    let (status, body) =
        GoSdk::of(ecs).send_signed_over(Method::GET, &ecs.v1("/cloudservers/detail"), &headers, signed, vec![]).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_request_signed_like_golangsdk_without_host_is_accepted_and_the_date_is_still_required() {
    let ecs = TestServer::start().await;
    let (status, body) = send_signed_like_golangsdk(&ecs, &["accept", "user-agent", "x-sdk-date"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 0);
    let (status, body) = send_signed_like_golangsdk(&ecs, &["accept", "host", "user-agent"]).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    assert!(body["error_msg"].as_str().is_some_and(|m| m.contains("x-sdk-date")), "{body}");
}

/// Issue 20, finding 7: `ecsd keys revoke` of a key from the configuration lasts across
/// restarts, though the key is still configured.
#[tokio::test]
async fn revoking_a_configured_key_lasts_across_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    config.access_keys.push(key_config(second_project(), false));
    let list = |base: &str| {
        let ecs = TestServer::remote(base, second_project());
        async move { ecs.get(&ecs.v1("/cloudservers/detail")).await }
    };
    let running = ecsd::start(config.clone()).await.expect("starts");
    assert_eq!(list(&format!("http://{}", running.addr)).await.0, StatusCode::OK);
    ecsd::keys::run(dir.path(), &config.store, ecsd::keys::Action::Revoke { access_key: second_project().access_key })
        .expect("revoked");
    let (status, body) = list(&format!("http://{}", running.addr)).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    running.stop().await.expect("stops");

    let running = ecsd::start(config).await.expect("starts again");
    let (status, body) = list(&format!("http://{}", running.addr)).await;
    assert_gateway_refusal(status, &body, "APIG.0301");
    // The bootstrap credential still works.
    let ecs = TestServer::remote(&format!("http://{}", running.addr), test_credential());
    assert_eq!(ecs.get(&ecs.v1("/cloudservers/detail")).await.0, StatusCode::OK);
    running.stop().await.expect("stops");
}
