//! What no client can take from the server (issue 20, findings 3 and 4, and TLS): request
//! bodies are refused before they are read when the credential is missing or unknown or the
//! declared size is too large; a slow request head and an idle connection are closed; open
//! connections are bounded; password checks are bounded (429 beyond), take as long for an
//! unknown user as for a known one, and lock a user or a key after more than 5 failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use ecsd::config::{Credential, Limits};
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATIENCE: Duration = Duration::from_secs(10);

async fn start(configure: impl FnOnce(&mut ecsd::config::Config)) -> TestServer {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    configure(&mut config);
    let running = ecsd::start(config).await.expect("ecsd starts");
    let mut ecs = TestServer::remote(&format!("http://{}", running.addr), test_credential());
    ecs.running = Some(running);
    ecs.data_dir = data_dir;
    ecs
}

fn address(ecs: &TestServer) -> String {
    ecs.base.trim_start_matches("http://").to_string()
}

/// Reads what the server sends until it closes or `limit` passes; `None` on the timeout.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut answer = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await.ok().map(|_| answer)
}

fn status_of(answer: &[u8]) -> Option<u16> {
    String::from_utf8_lossy(answer).strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test]
async fn a_body_is_not_read_for_a_missing_or_unknown_credential_or_an_oversized_length() {
    let ecs = start(|_| {}).await;
    let path = ecs.v1("/cloudservers");
    let unknown = format!(
        "SDK-HMAC-SHA256 Access=AKUNKNOWN00000000001, SignedHeaders=host;x-sdk-date, Signature={}",
        "0".repeat(64)
    );
    let known = format!(
        "SDK-HMAC-SHA256 Access={}, SignedHeaders=host;x-sdk-date, Signature={}",
        ecs.credential.access_key,
        "0".repeat(64)
    );
    let cases = [
        ("no credential", String::new(), 12 * 1024 * 1024 - 1, 401),
        ("an unknown access key", format!("Authorization: {unknown}\r\n"), 12 * 1024 * 1024 - 1, 401),
        ("a length over 12 MiB", format!("Authorization: {known}\r\n"), 13 * 1024 * 1024, 413),
    ];
    for (what, authorization, length, expected) in cases {
        let mut stream = TcpStream::connect(address(&ecs)).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{authorization}\
             X-Sdk-Date: 20250101T000000Z\r\nContent-Length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("head sent");
        // Only the head: an answer must come without a byte of the body.
        let mut buffer = vec![0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buffer)).await;
        let read = read.unwrap_or_else(|_| panic!("{what}: no answer before the body was sent"));
        let answer = &buffer[..read.expect("read")];
        assert_eq!(status_of(answer), Some(expected), "{what}: {}", String::from_utf8_lossy(answer));
    }
}

#[tokio::test]
async fn a_slow_request_head_and_an_idle_connection_are_closed() {
    let limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let ecs = start(|config| config.limits = limits).await;

    // Half a head, then nothing: closed after the header read timeout.
    let began = Instant::now();
    let mut slow = TcpStream::connect(address(&ecs)).await.expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.expect("half a head");
    read_until_closed(&mut slow, PATIENCE).await.expect("a slow head is cut");
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "slow head closed after {waited:?}"
    );

    // A connection that sends nothing at all owes its first head as well.
    let began = Instant::now();
    let mut silent = TcpStream::connect(address(&ecs)).await.expect("connect");
    read_until_closed(&mut silent, PATIENCE).await.expect("a silent connection is cut");
    assert!(began.elapsed() < Duration::from_secs(4), "silent connection closed after {:?}", began.elapsed());

    // One request, then idle: kept alive for the idle timeout, then closed.
    let mut idle = TcpStream::connect(address(&ecs)).await.expect("connect");
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("request");
    let mut buffer = vec![0u8; 65536];
    let read = tokio::time::timeout(PATIENCE, idle.read(&mut buffer)).await.expect("an answer").expect("read");
    assert_eq!(status_of(&buffer[..read]), Some(200));
    let answered = Instant::now();
    let rest = read_until_closed(&mut idle, PATIENCE).await.expect("an idle connection is closed");
    let idled = answered.elapsed();
    assert!(rest.is_empty() || status_of(&rest).is_none(), "nothing more is sent");
    assert!(idled >= Duration::from_millis(1800) && idled < Duration::from_secs(5), "idle closed after {idled:?}");
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let ecs = start(|config| config.limits = Limits { max_connections: 2, ..Limits::default() }).await;
    let first = TcpStream::connect(address(&ecs)).await.expect("connect");
    let _second = TcpStream::connect(address(&ecs)).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(address(&ecs)).await.expect("the backlog takes it");
    third.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("request");
    let mut buffer = vec![0u8; 65536];
    let early = tokio::time::timeout(Duration::from_millis(1000), third.read(&mut buffer)).await;
    assert!(early.is_err(), "a third connection was served beyond the limit of 2");
    drop(first);
    let answer = read_until_closed(&mut third, PATIENCE).await.expect("served once a slot is free");
    assert_eq!(status_of(&answer), Some(200), "{}", String::from_utf8_lossy(&answer));
}

#[tokio::test]
async fn https_is_served_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("cert");
    std::fs::write(&key, certified.key_pair.serialize_pem()).expect("key");
    let ecs = start(|config| config.tls = Some(ecsd::config::TlsFiles { cert, key })).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(address(&ecs)).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp).await.expect("TLS handshake");
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("sent");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, tls.read_to_end(&mut answer)).await.expect("answer");
    assert_eq!(status_of(&answer), Some(200), "{}", String::from_utf8_lossy(&answer));

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(address(&ecs)).await.expect("connect");
    plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("sent");
    let answer = read_until_closed(&mut plain, PATIENCE).await.unwrap_or_default();
    assert_eq!(status_of(&answer), None);
}

const ALICE: &str = "Alice-pass-1";

fn token_request(user: &str, password: &str) -> Value {
    json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "password": password}}}}})
}

/// The real binary with a password user: its memory is measured, alone.
fn spawn_with_alice(dir: &std::path::Path) -> EcsProcess {
    let config = dir.join("ecsd.toml");
    std::fs::write(
        &config,
        format!(
            "[[users]]\nname = \"alice\"\npassword = \"{ALICE}\"\nproject_id = \"{}\"\n",
            test_credential().project_id
        ),
    )
    .expect("config");
    EcsProcess::spawn(&dir.join("data"), Some(&config), "instant")
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

async fn ask_token(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> (StatusCode, Option<String>, Value) {
    let response =
        http.post(format!("{base}/v3/auth/tokens")).json(&token_request(user, password)).send().await.expect("sent");
    let status = response.status();
    let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(String::from);
    (status, retry, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_checks_are_bounded_in_memory_and_refused_beyond_with_429() {
    let dir = tempfile::tempdir().expect("temp dir");
    let process = spawn_with_alice(dir.path());
    let http = reqwest::Client::new();
    let (status, _, _) = ask_token(&http, &process.base, "alice", ALICE).await;
    assert_eq!(status, StatusCode::CREATED);
    let before = rss_mib(process.pid());

    // 200 wrong passwords, 50 at a time: half for the existing user (locked after the sixth,
    // then refused without a check), half for unknown users (each checked against the decoy).
    let mut too_many = 0;
    for round in 0..4 {
        let asks: Vec<_> = (0..50)
            .map(|i| {
                let (http, base) = (http.clone(), process.base.clone());
                let user = if i % 2 == 0 { "alice".to_string() } else { format!("nobody-{round}-{i}") };
                tokio::spawn(async move { ask_token(&http, &base, &user, "Wrong-pass-1").await })
            })
            .collect();
        for ask in asks {
            let (status, retry, body) = ask.await.expect("ask");
            match status {
                StatusCode::UNAUTHORIZED => {}
                StatusCode::TOO_MANY_REQUESTS => {
                    too_many += 1;
                    assert_eq!(retry.as_deref(), Some("1"), "Retry-After");
                    assert_eq!(body["error"]["code"], 429, "{body}");
                    assert_eq!(body["error"]["title"], "Too Many Requests", "{body}");
                }
                other => panic!("{other}: {body}"),
            }
        }
    }
    let grown = rss_mib(process.pid()) - before;
    println!("200 wrong passwords, 50 at a time: RSS grew by {grown:.1} MiB; {too_many} answered 429");
    assert!(too_many > 0, "50 at once should exceed the password checks that may wait");
    assert!(grown < 150.0, "RSS grew by {grown:.1} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_takes_as_long_to_refuse_as_a_wrong_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let process = spawn_with_alice(dir.path());
    let http = reqwest::Client::new();
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..7 {
        // Alternate, and let a right password reset alice's count before she could be locked.
        for (user, times) in [("alice", &mut known), ("nobody", &mut unknown)] {
            let began = Instant::now();
            let (status, _, _) = ask_token(&http, &process.base, user, &format!("Wrong-pass-{i}")).await;
            times.push(began.elapsed());
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        ask_token(&http, &process.base, "alice", ALICE).await;
    }
    known.sort();
    unknown.sort();
    let (known, unknown) = (known[3].as_secs_f64(), unknown[3].as_secs_f64());
    println!("median refusal: known user {:.1} ms, unknown user {:.1} ms", known * 1e3, unknown * 1e3);
    assert!(unknown > known * 0.5 && unknown < known * 2.0, "known {known:.4} s, unknown {unknown:.4} s");
}

#[tokio::test]
async fn a_user_is_locked_after_more_than_five_wrong_passwords() {
    let ecs = start(|config| {
        config.users.push(ecsd::iam::User {
            name: "alice".into(),
            password: Some(ALICE.into()),
            password_hash: None,
            domain: "default".into(),
            project_id: test_credential().project_id,
        })
    })
    .await;
    let http = reqwest::Client::new();
    for attempt in 1..=6 {
        let (status, _, body) = ask_token(&http, &ecs.base, "alice", "Wrong-pass-1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert_eq!(body["error_code"], "IAM.0101", "attempt {attempt}: {body}");
    }
    let (status, _, body) = ask_token(&http, &ecs.base, "alice", ALICE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the right password while locked: {body}");
    assert_eq!(body, json!({"error": {"code": 401, "title": "Unauthorized", "message": "The account is locked."}}));
}

#[tokio::test]
async fn an_access_key_is_locked_after_more_than_five_bad_signatures() {
    let other = other_credential();
    let ecs = start(|config| config.access_keys.push(key_config(other_credential(), false))).await;
    let forged = TestServer::remote(&ecs.base, Credential { secret_key: "SKwrong".into(), ..test_credential() });
    for attempt in 1..=6 {
        let (status, body) = forged.get(&forged.v1("/cloudservers/detail")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}: {body}");
    }
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the right signature while locked: {body}");
    assert_eq!(body["error_code"], "APIG.0301");
    assert!(body["error_msg"].as_str().is_some_and(|m| m.contains("AK access failed to reach the limit")), "{body}");
    // Another key is not affected.
    let second = TestServer::remote(&ecs.base, other);
    let (status, body) = second.call(Method::GET, &second.v1("/cloudservers/detail"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A request that arrived in time is answered even when the server was too busy to read it
/// before its connection's deadline passed: the connection is looked at before its watchdog.
/// The runtime here has one thread, blocked on purpose past the deadlines of twenty connections
/// whose requests are already in their socket buffers; each must be answered, none cut.
#[tokio::test(flavor = "current_thread")]
async fn a_request_sent_in_time_is_answered_after_the_server_was_busy_past_its_deadline() {
    let limits = Limits {
        header_read_timeout: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "answered" }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ecsd::serve::serve(listener, app, limits, None, async {
        let _ = stopped.await;
    }));
    let mut connections = Vec::new();
    for _ in 0..20 {
        connections.push(TcpStream::connect(addr).await.expect("connect"));
    }
    // Every connection accepted and watched before the requests are written.
    tokio::time::sleep(Duration::from_millis(20)).await;
    for connection in &mut connections {
        connection.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("request");
    }
    std::thread::sleep(Duration::from_millis(300));
    for (index, connection) in connections.iter_mut().enumerate() {
        let mut answer = vec![0; 256];
        let read = tokio::time::timeout(PATIENCE, connection.read(&mut answer)).await.expect("an answer");
        let answer = String::from_utf8_lossy(&answer[..read.unwrap_or(0)]).to_string();
        assert!(answer.starts_with("HTTP/1.1 200"), "connection {index} was cut instead of answered: {answer:?}");
    }
    let _ = stop.send(());
    server.await.expect("served").expect("no error");
}
