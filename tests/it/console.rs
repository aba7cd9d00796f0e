//! The web console's session rules over HTTP: nothing without a session, the banner's one-time
//! URL, access-key sign-in, CSRF on every state-changing call, expiry, and one project's session
//! seeing nothing of another's. The views themselves run in a real browser (tests/browser).

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestServer, config, other_credential};
use ecsd::domain::catalogue::Catalogue;
use ecsd::engine::sim::Timings;

/// A browser's side of the console: a cookie once signed in, and the page's CSRF token.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Browser { http, base: base.to_string(), cookie: None, csrf: None }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.cookie {
            Some(cookie) => builder.header(COOKIE, cookie),
            None => builder,
        }
    }

    /// Follows a sign-in answer: a redirect to the console with the session cookie, which must
    /// be `HttpOnly` and `SameSite=Strict`; then reads the page for its CSRF token.
    async fn take_session(&mut self, response: reqwest::Response) {
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{:?}", response.text().await);
        assert_eq!(response.headers()[LOCATION], "/console");
        let set = response.headers()[SET_COOKIE].to_str().expect("ascii").to_string();
        assert!(set.contains("; HttpOnly") && set.contains("; SameSite=Strict") && set.contains("; Path=/"), "{set}");
        self.cookie = Some(set.split(';').next().expect("pair").to_string());
        let page = self.request(Method::GET, "/console").send().await.expect("page").text().await.expect("text");
        self.csrf = page
            .split("name=\"ecsd-csrf\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(String::from);
    }

    async fn open(&mut self, url: &str) {
        let path = url.strip_prefix(&self.base).expect("a URL of this server");
        let response = self.request(Method::GET, path).send().await.expect("sent");
        self.take_session(response).await;
    }

    async fn sign_in(&mut self, access_key: &str, secret_key: &str) -> reqwest::Response {
        self.request(Method::POST, "/console/sign-in")
            .form(&[("access_key", access_key), ("secret_key", secret_key)])
            .send()
            .await
            .expect("sent")
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut builder = self.request(method, path);
        if let Some(csrf) = &self.csrf {
            builder = builder.header("X-Ecsd-Csrf", csrf);
        }
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder.send().await.expect("sent");
        let status = response.status();
        let text = response.text().await.expect("text");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

fn stop_rule() -> Value {
    json!({"operation": "stop", "effect": {"kind": "sub_job_fail", "code": "Ecs.0226", "message": "stop failed"}})
}

#[tokio::test]
async fn nothing_of_the_console_answers_without_a_session() {
    let server = TestServer::start().await;
    let browser = Browser::new(&server.base);
    let page = browser.request(Method::GET, "/console").send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("text");
    assert!(page.contains("action=\"/console/sign-in\"") && !page.contains("ecsd-csrf"), "the sign-in page: {page}");
    for (method, path) in [
        (Method::GET, "/console/assets/console.js"),
        (Method::GET, "/console/api/me"),
        (Method::GET, "/console/api/servers"),
        (Method::GET, "/console/api/faults"),
        (Method::POST, "/console/api/faults"),
        (Method::GET, "/console/api/snapshots"),
        (Method::POST, "/console/api/clock/settle"),
    ] {
        let (status, body) = browser.call(method.clone(), path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "Console.0401", "{method} {path}: {body}");
    }
    // A cookie that no session has is no session.
    let mut guessed = Browser::new(&server.base);
    guessed.cookie = Some(format!("ecsd_console_{}={}", server.base.rsplit(':').next().unwrap(), "0".repeat(64)));
    assert_eq!(guessed.call(Method::GET, "/console/api/me", None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_banner_url_signs_in_once_to_the_bootstrap_project() {
    let server = TestServer::start().await;
    let url = server.running.as_ref().expect("running").console_url.clone();
    assert!(url.starts_with(&format!("{}/console?token=", server.base)), "{url}");
    let mut browser = Browser::new(&server.base);
    browser.open(&url).await;
    let (status, me) = browser.call(Method::GET, "/console/api/me", None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["project_id"], server.project());
    assert_eq!(me["access_key"], server.credential.access_key);
    assert_eq!(me["admin"], true);
    assert!(browser.csrf.as_deref().is_some_and(|csrf| csrf.len() == 64), "{:?}", browser.csrf);

    // The token is spent: a second browser gets the sign-in page, and no cookie.
    let second = Browser::new(&server.base);
    let path = url.strip_prefix(&server.base).expect("path");
    let again = second.request(Method::GET, path).send().await.expect("sent");
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.headers().get(SET_COOKIE).is_none());
    assert!(again.text().await.expect("text").contains("works once"));

    // Signing out ends the session.
    let (status, _) = browser.call(Method::POST, "/console/api/sign-out", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(browser.call(Method::GET, "/console/api/me", None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_access_key_and_its_secret_sign_in_and_a_wrong_secret_does_not() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server.base);
    let wrong = browser.sign_in(&server.credential.access_key, "not the secret").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    assert!(wrong.text().await.expect("text").contains("is wrong"));
    let unknown = browser.sign_in("AKNOSUCHKEY000000000", "whatever").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    let right = browser.sign_in(&server.credential.access_key, &server.credential.secret_key).await;
    browser.take_session(right).await;
    let (status, me) = browser.call(Method::GET, "/console/api/me", None).await;
    assert_eq!((status, me["project_id"].clone()), (StatusCode::OK, json!(server.project())));
}

#[tokio::test]
async fn a_state_changing_call_needs_the_sessions_csrf_token() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server.base);
    browser.open(&server.running.as_ref().expect("running").console_url.clone()).await;
    let csrf = browser.csrf.take();

    // What another site's form could send: the cookie, but not the token.
    let (status, body) = browser.call(Method::POST, "/console/api/faults", Some(stop_rule())).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("Console.0403")), "{body}");
    browser.csrf = Some("0".repeat(64));
    let (status, _) = browser.call(Method::POST, "/console/api/faults", Some(stop_rule())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, faults) = server.get("/_ecsd/faults").await;
    assert_eq!(faults["faults"], json!([]), "nothing was added");

    browser.csrf = csrf;
    let (status, rule) = browser.call(Method::POST, "/console/api/faults", Some(stop_rule())).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(rule["project_id"], server.project(), "a rule of the session's project");
    let (status, listed) = browser.call(Method::GET, "/console/api/faults", None).await;
    assert_eq!((status, listed["faults"][0]["id"].clone()), (StatusCode::OK, rule["id"].clone()));
    let id = rule["id"].as_str().expect("id");
    let (status, _) = browser.call(Method::DELETE, &format!("/console/api/faults/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_session_past_its_lifetime_is_refused() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = config(data_dir.path().to_path_buf(), Catalogue::default(), Timings::INSTANT);
    config.limits.console_session = std::time::Duration::ZERO;
    let running = ecsd::start(config).await.expect("ecsd starts");
    let base = format!("http://{}", running.addr);
    let mut browser = Browser::new(&base);
    browser.open(&running.console_url).await;
    let (status, body) = browser.call(Method::GET, "/console/api/me", None).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::UNAUTHORIZED, json!("Console.0401")));
    running.stop().await.expect("stops");
}

#[tokio::test]
async fn a_session_sees_its_own_project_only() {
    let mut server = TestServer::start_with_two_projects().await;
    let own = server.create_servers("mine", "s6.small.1", 2).await;
    let (_, stop) =
        server.post(&server.v1("/cloudservers/action"), json!({"os-stop": {"servers": [{"id": own[0]}]}})).await;
    let own_job = stop["job_id"].as_str().expect("job").to_string();
    let (status, _) = server.post("/_ecsd/faults", stop_rule()).await;
    assert_eq!(status, StatusCode::CREATED);

    let other = other_credential();
    server.credential = other.clone();
    let theirs = server.create_servers("theirs", "s6.small.1", 1).await;
    let mut browser = Browser::new(&server.base);
    let signed = browser.sign_in(&other.access_key, &other.secret_key).await;
    browser.take_session(signed).await;

    let (status, page) = browser.call(Method::GET, "/console/api/servers", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 1);
    assert_eq!(page["servers"][0]["id"], json!(theirs[0]));
    let (status, body) = browser.call(Method::GET, &format!("/console/api/servers/{}", own[0]), None).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("Ecs.0114")), "{body}");
    let (status, body) = browser.call(Method::GET, &format!("/console/api/jobs/{own_job}"), None).await;
    assert_eq!(body["error"]["code"], "Common.0011", "{status} {body}");
    let (_, faults) = browser.call(Method::GET, "/console/api/faults", None).await;
    assert_eq!(faults["faults"], json!([]), "the first project's rule is not shown");
    // Snapshots and the clock reach every project: not for a project key's session.
    let (status, body) = browser.call(Method::GET, "/console/api/snapshots", None).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("Ecs.0003")));
    let (status, _) = browser.call(Method::POST, "/console/api/clock/advance", Some(json!({"seconds": 5}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = browser.call(Method::POST, "/console/api/clock/settle", None).await;
    assert_eq!(status, StatusCode::OK, "settling reaches the session's project");
}

#[tokio::test]
async fn the_views_read_the_fleet_a_page_at_a_time_with_filters() {
    let server = TestServer::start().await;
    server.create_servers("web", "s6.small.1", 5).await;
    let db = server.create_servers("db", "s6.small.1", 2).await;
    server.batch("os-stop", &db, json!({})).await;
    let mut browser = Browser::new(&server.base);
    browser.open(&server.running.as_ref().expect("running").console_url.clone()).await;

    let (_, page) = browser.call(Method::GET, "/console/api/servers?limit=3&page=2", None).await;
    assert_eq!((page["total"].clone(), page["servers"].as_array().map(Vec::len)), (json!(7), Some(3)), "{page}");
    let (_, page) = browser.call(Method::GET, "/console/api/servers?status=SHUTOFF", None).await;
    assert_eq!(page["total"], 2, "{page}");
    let (_, page) = browser.call(Method::GET, "/console/api/servers?name=we", None).await;
    assert_eq!(page["total"], 5, "{page}");
    let row = &page["servers"][0];
    assert!(row["ips"][0].as_str().is_some_and(|ip| ip.starts_with("192.168.")), "{row}");
    assert!(row["host"].is_string() && row["flavor"] == "s6.small.1", "{row}");
    let (status, body) = browser.call(Method::GET, "/console/api/servers?limit=0", None).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("Ecs.0005")));
    let (status, body) = browser.call(Method::GET, "/console/api/servers?status=ASLEEP", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, detail) = browser.call(Method::GET, &format!("/console/api/servers/{}", db[0]), None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["status"], "SHUTOFF");
    assert_eq!(detail["nics"][0]["ip"], detail["ips"][0]);
    assert_eq!(detail["disks"][0]["boot_index"], 0);

    let (_, stop) = server
        .post(&server.v1("/cloudservers/action"), json!({"os-start": {"servers": [{"id": db[0]}, {"id": db[1]}]}}))
        .await;
    let job_id = stop["job_id"].as_str().expect("job");
    server.wait_job(job_id).await;
    let (status, job) = browser.call(Method::GET, &format!("/console/api/jobs/{job_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["status"], "SUCCESS");
    assert_eq!(job["counts"], json!({"total": 2, "success": 2, "fail": 0, "running": 0, "init": 0}));
}

/// The events a session's cookie reads, once the trail holds one naming `server_id` (the trail
/// may be written just after the answer).
async fn events_naming(browser: &Browser, server_id: &str) -> Vec<Value> {
    for _ in 0..200 {
        let (status, body) = browser.call(Method::GET, "/_ecsd/events?limit=1000", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let events = body["events"].as_array().expect("events").clone();
        if events.iter().any(|e| e["server_ids"].as_array().is_some_and(|ids| ids.contains(&json!(server_id)))) {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no event names {server_id}");
}

#[tokio::test]
async fn a_session_reads_the_events_of_its_project_only() {
    let mut server = TestServer::start_with_two_projects().await;
    let own = server.create_servers("mine", "s6.small.1", 1).await;
    let first_project = server.project().to_string();
    server.credential = other_credential();
    let theirs = server.create_servers("theirs", "s6.small.1", 1).await;

    // Unsigned and without a session: refused as any unsigned call is.
    let anonymous = Browser::new(&server.base);
    let (status, _) = anonymous.call(Method::GET, "/_ecsd/events", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The bootstrap (admin) key's session sees its own project's events, not every project's.
    let mut admin = Browser::new(&server.base);
    admin.open(&server.running.as_ref().expect("running").console_url.clone()).await;
    let events = events_naming(&admin, &own[0]).await;
    assert!(events.iter().all(|e| e["project_id"] == json!(first_project)), "{events:#?}");
    // The test client's create body is the post-paid one.
    assert!(events.iter().any(|e| e["kind"] == "call" && e["operation"] == "CreatePostPaidServers"), "{events:#?}");

    let other = other_credential();
    let mut browser = Browser::new(&server.base);
    let signed = browser.sign_in(&other.access_key, &other.secret_key).await;
    browser.take_session(signed).await;
    let events = events_naming(&browser, &theirs[0]).await;
    assert!(events.iter().all(|e| e["project_id"] == json!(other.project_id)), "{events:#?}");

    // The stream opens with the cookie too.
    let stream = browser.request(Method::GET, "/_ecsd/events/stream").send().await.expect("sent");
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"].to_str().expect("ascii").starts_with("text/event-stream"));
}
