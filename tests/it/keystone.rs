//! Keystone v3 as OpenStack tools call it: the version document without a credential, tokens
//! by password (user by name or id) and by token, project scope by id or name, validation, the
//! catalog, projects and domains; refusals in Keystone's shape.

use crate::common::*;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "Alice-pass-1";

async fn start() -> (ecsd::Running, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    config.users.push(ecsd::iam::User {
        name: "alice".into(),
        password: Some(PASSWORD.into()),
        password_hash: None,
        domain: "default".into(),
        project_id: test_credential().project_id,
    });
    let running = ecsd::start(config).await.expect("starts");
    let base = format!("http://{}", running.addr);
    (running, dir, base)
}

fn password_auth(user: Value, scope: Value) -> Value {
    let mut identity = json!({"methods": ["password"], "password": {"user": user}});
    identity["password"]["user"]["password"] = json!(PASSWORD);
    json!({"auth": {"identity": identity, "scope": scope}})
}

async fn post_token(base: &str, body: &Value) -> (StatusCode, Option<String>, Value) {
    let response = reqwest::Client::new().post(format!("{base}/v3/auth/tokens")).json(body).send().await.expect("sent");
    let status = response.status();
    let token = response.headers().get("x-subject-token").map(|t| t.to_str().expect("ascii").to_string());
    (status, token, response.json().await.expect("json"))
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let request =
        headers.iter().fold(reqwest::Client::new().get(url), |request, (name, value)| request.header(*name, *value));
    let response = request.send().await.expect("sent");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("text");
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn assert_keystone_error(status: StatusCode, body: &Value, expected: u16) {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(body["error"]["code"], expected, "{body}");
    assert!(body["error"]["title"].is_string() && body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn version_documents_answer_without_a_credential() {
    let (running, _dir, base) = start().await;
    for path in ["/v3", "/v3/"] {
        let (status, _, body) = get(&format!("{base}{path}"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["version"]["id"], "v3.14");
        assert_eq!(body["version"]["status"], "stable");
        assert_eq!(body["version"]["links"][0]["href"], format!("{base}/v3/"));
    }
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn a_token_by_name_and_domain_carries_a_catalog_of_every_service_on_ecsd() {
    let (running, _dir, base) = start().await;
    let project = test_credential().project_id;
    let body = password_auth(
        json!({"name": "alice", "domain": {"name": "Default"}}),
        json!({"project": {"name": "eu-de", "domain": {"name": "Default"}}}),
    );
    let (status, token, body) = post_token(&base, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(token.as_deref().is_some_and(|t| t.starts_with("MII")));
    let subject = token.expect("X-Subject-Token");
    let token = &body["token"];
    assert_eq!(token["project"]["id"], project.as_str());
    assert_eq!(token["project"]["name"], "eu-de");
    assert_eq!(token["user"]["name"], "alice");
    assert_eq!(token["user"]["domain"]["id"], "default");
    assert_eq!(token["methods"], json!(["password"]));
    assert!(token["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(token["roles"].as_array().is_some_and(|r| !r.is_empty()));
    let catalog = token["catalog"].as_array().expect("catalog");
    let url = |service: &str, interface: &str| {
        let entry = catalog.iter().find(|s| s["type"] == service).unwrap_or_else(|| panic!("{service} in catalog"));
        let endpoint = entry["endpoints"].as_array().expect("endpoints").iter().find(|e| e["interface"] == interface);
        let endpoint = endpoint.unwrap_or_else(|| panic!("{service} {interface}"));
        assert_eq!(endpoint["region"], "eu-de");
        assert_eq!(endpoint["region_id"], "eu-de");
        endpoint["url"].as_str().expect("url").to_string()
    };
    assert_eq!(url("compute", "public"), format!("{base}/v2.1/{project}"));
    assert_eq!(url("compute", "internal"), format!("{base}/v2.1/{project}"));
    assert_eq!(url("ecs", "admin"), format!("{base}/v1/{project}"));
    assert_eq!(url("volumev3", "public"), format!("{base}/volume/v3/{project}"));
    assert_eq!(url("block-storage", "public"), format!("{base}/volume/v3/{project}"));
    assert_eq!(url("identity", "public"), format!("{base}/v3"));
    assert_eq!(url("image", "public"), format!("{base}/v2"));
    assert_eq!(url("network", "public"), format!("{base}/v2.0"));
    // `evs` in the form the Huawei SDKs build (`https://evs.{region}.../v2/{project_id}`): EVS's
    // own paths follow it, with the token.
    let evs = url("evs", "public");
    assert_eq!(evs, format!("{base}/v2/{project}"));
    let (status, _, listed) = get(&format!("{evs}/cloudvolumes/detail"), &[("x-auth-token", subject.as_str())]).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(listed["volumes"].is_array(), "{listed}");
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn a_user_by_id_and_the_token_method_get_tokens_of_the_same_user() {
    let (running, _dir, base) = start().await;
    let project = test_credential().project_id;
    let (status, first, body) =
        post_token(&base, &password_auth(json!({"name": "alice"}), json!({"project": {"id": project}}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let user_id = body["token"]["user"]["id"].as_str().expect("user id").to_string();
    assert_eq!(user_id.len(), 32);

    let by_id = password_auth(json!({"id": user_id}), Value::Null);
    let (status, _, body) = post_token(&base, &by_id).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["token"]["user"]["name"], "alice");

    let rescope = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": first.clone().expect("token")}},
                                  "scope": {"project": {"id": project}}}});
    let (status, second, body) = post_token(&base, &rescope).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_ne!(second, first);
    assert_eq!(body["token"]["methods"], json!(["token", "password"]));
    assert_eq!(body["token"]["user"]["id"], user_id.as_str());

    let forged = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "MIIforged"}}}});
    let (status, _, body) = post_token(&base, &forged).await;
    assert_keystone_error(status, &body, 401);
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn another_project_or_a_bad_request_is_refused_in_keystones_shape() {
    let (running, _dir, base) = start().await;
    let other = password_auth(json!({"name": "alice"}), json!({"project": {"id": "fedcba9876543210fedcba9876543210"}}));
    let (status, token, body) = post_token(&base, &other).await;
    assert_keystone_error(status, &body, 401);
    assert!(token.is_none());
    let other_name = password_auth(json!({"name": "alice"}), json!({"project": {"name": "eu-nl"}}));
    assert_keystone_error(post_token(&base, &other_name).await.0, &post_token(&base, &other_name).await.2, 401);
    let wrong = json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": "alice", "password": "nope"}}}}});
    let (status, _, body) = post_token(&base, &wrong).await;
    assert_keystone_error(status, &body, 401);
    assert_eq!(body["error_code"], "IAM.0101");
    for bad in [
        json!({"auth": {"identity": {"methods": ["totp"]}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}}}),
        json!({"auth": {"identity": {"methods": ["token"], "token": {}}}}),
        json!({"nope": 1}),
        password_auth(json!({"name": "alice"}), json!({"domain": {"name": "default"}})),
    ] {
        let (status, _, body) = post_token(&base, &bad).await;
        assert_keystone_error(status, &body, 400);
    }
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn a_token_validates_and_lists_its_project_domain_and_catalog() {
    let (running, _dir, base) = start().await;
    let project = test_credential().project_id;
    let (_, token, _) = post_token(&base, &password_auth(json!({"name": "alice"}), Value::Null)).await;
    let token = token.expect("token");
    let auth = [("x-auth-token", token.as_str()), ("x-subject-token", token.as_str())];
    let (status, headers, body) = get(&format!("{base}/v3/auth/tokens"), &auth).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-subject-token"], token.as_str());
    assert_eq!(body["token"]["project"]["id"], project.as_str());
    assert_eq!(body["token"]["user"]["name"], "alice");

    let forged_subject = [("x-auth-token", token.as_str()), ("x-subject-token", "MIIforged")];
    let (status, _, body) = get(&format!("{base}/v3/auth/tokens"), &forged_subject).await;
    assert_keystone_error(status, &body, 404);
    let forged = [("x-auth-token", "MIIforged"), ("x-subject-token", token.as_str())];
    let (status, _, body) = get(&format!("{base}/v3/auth/tokens"), &forged).await;
    assert_keystone_error(status, &body, 401);

    let with_token = [("x-auth-token", token.as_str())];
    let (status, _, body) = get(&format!("{base}/v3/auth/projects"), &with_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["projects"][0]["id"], project.as_str());
    assert_eq!(body["projects"][0]["name"], "eu-de");
    let (_, _, body) = get(&format!("{base}/v3/auth/domains"), &with_token).await;
    assert_eq!(body["domains"][0]["id"], "default");
    let (_, _, body) = get(&format!("{base}/v3/auth/catalog"), &with_token).await;
    assert!(body["catalog"].as_array().is_some_and(|c| c.iter().any(|s| s["type"] == "identity")), "{body}");
    let (status, _, body) = get(&format!("{base}/v3/projects/{project}"), &with_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["project"]["domain_id"], "default");
    let (status, _, body) = get(&format!("{base}/v3/projects/fedcba9876543210fedcba9876543210"), &with_token).await;
    assert_keystone_error(status, &body, 404);
    for path in ["/v3/auth/projects", "/v3/auth/catalog", "/v3/projects"] {
        let (status, _, body) = get(&format!("{base}{path}"), &[("x-auth-token", "MIIforged")]).await;
        assert_keystone_error(status, &body, 401);
        let (status, _, body) = get(&format!("{base}{path}"), &[]).await;
        assert_keystone_error(status, &body, 401);
    }
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn an_access_key_finds_its_project_by_the_regions_name_and_its_domain() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get("/v3/projects?name=eu-de").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["projects"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["projects"][0]["id"], ecs.project());
    let (status, body) = ecs.get("/v3/projects?name=eu-nl").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["projects"], json!([]));
    let (status, body) = ecs.get("/v3/auth/domains").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["domains"][0]["name"], "default");
    let (status, body) = ecs.call(Method::GET, &format!("/v3/projects/{}", ecs.project()), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let (running, _dir, base) = start().await;
    let (_, token, _) = post_token(&base, &password_auth(json!({"name": "alice"}), Value::Null)).await;
    let token = token.expect("token");
    let admin = TestServer::remote(&base, running.credential.clone());
    let (status, body) = admin.post("/_ecsd/clock/advance", json!({"seconds": 25 * 3600})).await;
    assert!(status.is_success(), "{body}");
    let (status, _, body) = get(&format!("{base}/v3/auth/projects"), &[("x-auth-token", token.as_str())]).await;
    assert_keystone_error(status, &body, 401);
    running.stop().await.expect("stops");
}
