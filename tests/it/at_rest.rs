//! Secrets at rest (issue 20, finding 5): the data dir ecsd creates is private (0700), the
//! store's files are 0600 (created so, and narrowed if an older ecsd left them wider), and an
//! `X-Client-Token` fingerprint is an HMAC under a per-store key that leaves `adminPass` out.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn store_files(data: &Path) -> Vec<std::path::PathBuf> {
    ["ecsd.sqlite3", "ecsd.sqlite3-wal", "ecsd.sqlite3-shm"].iter().map(|name| data.join(name)).collect()
}

#[tokio::test]
async fn the_data_dir_and_the_store_files_are_private() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("new").join("data");
    let mut config = config(data.clone(), Catalogue::default(), Timings::INSTANT);
    config.credential = None;
    let running = ecsd::start(config.clone()).await.expect("starts");
    let ecs = TestServer::remote(&format!("http://{}", running.addr), running.credential.clone());
    ecs.create_servers("private", "s6.small.1", 2).await;
    assert_eq!(mode(&data), 0o700, "the data dir");
    assert_eq!(mode(&dir.path().join("new")), 0o700, "a parent ecsd created");
    for file in store_files(&data).iter().chain([&data.join("bootstrap-credential.json")]) {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    running.stop().await.expect("stops");

    // Files an older ecsd left readable are narrowed at the next start.
    for file in store_files(&data) {
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
    }
    let running = ecsd::start(config).await.expect("starts again");
    for file in store_files(&data).iter().filter(|f| f.exists()) {
        assert_eq!(mode(file), 0o600, "{} after a restart", file.display());
    }
    running.stop().await.expect("stops");
}

fn create_with_password(name: &str, password: &str) -> Value {
    let mut body = create_body(name, "s6.small.1", 1);
    body["server"]["adminPass"] = json!(password);
    body
}

#[tokio::test]
async fn client_token_fingerprints_are_keyed_and_leave_the_password_out() {
    let ecs = TestServer::start().await;
    let token = uuid::Uuid::new_v4().to_string();
    let send = |body: Value| {
        let token = token.clone();
        let ecs = &ecs;
        async move {
            let bytes = serde_json::to_vec(&body).expect("json");
            ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), bytes, &[("x-client-token", &token)]).await
        }
    };
    let body = create_with_password("keyed", "Secret@12345");
    let (status, first) = send(body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");

    let db = rusqlite::Connection::open(ecs.data_dir.path().join("ecsd.sqlite3")).expect("open");
    let stored: String = db
        .query_row("SELECT fingerprint FROM client_tokens WHERE token = ?1", [&token], |r| r.get(0))
        .expect("the token is remembered");
    let mut without = body.clone();
    without["server"].as_object_mut().expect("server").remove("adminPass");
    for guess in [&body, &without] {
        let plain = hex::encode(sha2::Sha256::digest(serde_json::to_vec(guess).expect("json")));
        assert_ne!(stored, plain, "the fingerprint is a plain SHA-256 of the body");
    }
    assert_eq!(stored.len(), 64);

    // The same body answers the first job; a different password too (it is not part of the
    // fingerprint); any other difference is Ecs.0122.
    let (status, again) = send(body).await;
    assert_eq!((status, &again["job_id"]), (StatusCode::OK, &first["job_id"]), "{again}");
    let (status, again) = send(create_with_password("keyed", "Other@123456")).await;
    assert_eq!((status, &again["job_id"]), (StatusCode::OK, &first["job_id"]), "{again}");
    let (status, refused) = send(create_with_password("renamed", "Secret@12345")).await;
    assert_error(status, &refused, 400, "Ecs.0122");
    assert_eq!(ecs.limits().await["totalInstancesUsed"], 1);
}
