//! Hostile input: oversized, malformed, mistyped, absurd and garbage requests on every route.
//! Every answer must be a 4xx with a documented code in a documented body shape: never a 5xx,
//! never a panic, never a reset connection, never a hang.

use std::time::Duration;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longest any single answer may take.
const PATIENCE: Duration = Duration::from_secs(20);

const IMAGE_ID: &str = IMAGE;

/// One hostile request.
struct Case {
    method: Method,
    path: String,
    body: Vec<u8>,
    /// Some inputs are legitimate (a CJK name, a 64 KiB header): they may also succeed.
    may_succeed: bool,
}

impl Case {
    fn new(method: Method, path: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Case { method, path: path.into(), body: body.into(), may_succeed: false }
    }

    fn json(method: Method, path: impl Into<String>, body: Value) -> Self {
        Case::new(method, path, serde_json::to_vec(&body).expect("json"))
    }

    fn may_succeed(mut self) -> Self {
        self.may_succeed = true;
        self
    }

    fn label(&self) -> String {
        let body = String::from_utf8_lossy(&self.body[..self.body.len().min(120)]).into_owned();
        let path: String = self.path.chars().take(160).collect();
        format!("{} {path} {body:?}", self.method)
    }
}

/// Sends every case (signed) and returns what went wrong, one line per failing case.
async fn run(ecs: &TestServer, cases: Vec<Case>) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let answer = ecs.try_call(case.method.clone(), &case.path, case.body.clone(), &[], PATIENCE).await;
        if let Err(problem) = judge(&case, answer) {
            failures.push(format!("{}\n      -> {problem}", case.label()));
        }
    }
    failures
}

fn judge(case: &Case, answer: Result<Answer, String>) -> Result<(), String> {
    let answer = answer.map_err(|e| format!("no HTTP answer: {e}"))?;
    let status = answer.status;
    if status.is_server_error() {
        return Err(format!("{status}: {}", answer.body));
    }
    if status.is_success() && case.may_succeed {
        return Ok(());
    }
    if !status.is_client_error() {
        return Err(format!("expected a 4xx, got {status}: {}", answer.body));
    }
    documented_error_shape(&answer.body).map_err(|e| format!("{status}: {e}"))
}

fn assert_no_failures(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} hostile request(s) answered badly:\n  {}", failures.len(), failures.join("\n  "));
}

/// A server with a few servers to aim at: one running, one stopped.
async fn target() -> (TestServer, String, String) {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("target", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids[1..], json!({})).await;
    let (running, stopped) = (ids[0].clone(), ids[1].clone());
    (ecs, running, stopped)
}

/// Every route that takes a JSON body, with a method and a path that reaches its handler.
fn body_routes(ecs: &TestServer, server: &str) -> Vec<(Method, String)> {
    let p = ecs.project();
    vec![
        (Method::POST, format!("/v1/{p}/cloudservers")),
        (Method::POST, format!("/v1.1/{p}/cloudservers")),
        (Method::POST, format!("/v1/{p}/cloudservers/action")),
        (Method::POST, format!("/v1/{p}/cloudservers/delete")),
        (Method::PUT, format!("/v1/{p}/cloudservers/os-reset-passwords")),
        (Method::PUT, format!("/v1/{p}/cloudservers/server-name")),
        (Method::POST, format!("/v1/{p}/cloudservers/batch-resize")),
        (Method::PUT, format!("/v1/{p}/cloudservers/{server}")),
        (Method::POST, format!("/v1/{p}/cloudservers/{server}/resize")),
        (Method::POST, format!("/v1.1/{p}/cloudservers/{server}/resize")),
        (Method::PUT, format!("/v1/{p}/cloudservers/{server}/os-reset-password")),
        (Method::POST, "/_ecsd/faults".into()),
        (Method::POST, "/_ecsd/snapshots".into()),
        (Method::POST, "/_ecsd/clock/advance".into()),
        (Method::POST, "/_ecsd/fixtures".into()),
        (Method::POST, "/_ecsd/reset".into()),
        (Method::POST, "/v3/auth/tokens".into()),
    ]
}

fn nested(depth: usize) -> Vec<u8> {
    let mut text = "[".repeat(depth);
    text.push_str(&"]".repeat(depth));
    text.into_bytes()
}

#[tokio::test]
async fn bodies_over_12_mib_answer_413_with_an_ecs_error_body() {
    let ecs = TestServer::start().await;
    let too_big = ecsd::api::MAX_BODY_BYTES + 1;
    // A JSON document, so only the size is wrong.
    let mut body = br#"{"server":{"name":""#.to_vec();
    body.resize(too_big - 3, b'a');
    body.extend_from_slice(br#""}}"#);
    assert_eq!(body.len(), too_big);
    for (method, path) in [
        (Method::POST, ecs.v1("/cloudservers")),
        (Method::PUT, ecs.v1("/cloudservers/server-name")),
        (Method::POST, ecs.v1("/cloudservers/action")),
        (Method::POST, "/_ecsd/faults".to_string()),
    ] {
        let answer = ecs.try_call(method.clone(), &path, body.clone(), &[], PATIENCE).await.expect("an answer");
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "Ecs.0005", "{method} {path}");
        documented_error_shape(&answer.body).expect("ECS error body");
    }
    // Unsigned, too: the size is refused before (or instead of) the signature.
    let response = reqwest::Client::new()
        .post(format!("{}{}", ecs.base, ecs.v1("/cloudservers")))
        .body(body)
        .send()
        .await
        .expect("an answer, not a reset connection");
    let status = response.status();
    let answer: Value = response.json().await.expect("a JSON body");
    assert!(status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::UNAUTHORIZED, "{status}");
    documented_error_shape(&answer).expect("documented body");

    // Exactly at the limit is not "too large" (it is just not a valid request).
    let mut at_limit = b"{\"servers\":[],\"pad\":\"".to_vec();
    at_limit.resize(ecsd::api::MAX_BODY_BYTES - 2, b'a');
    at_limit.extend_from_slice(b"\"}");
    let answer =
        ecs.try_call(Method::POST, &ecs.v1("/cloudservers/delete"), at_limit, &[], PATIENCE).await.expect("answer");
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "Ecs.0005");
}

/// A server with authentication off (`--no-auth`), so no middleware reads the body first.
async fn start_without_auth() -> TestServer {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = crate::common::config(
        data_dir.path().to_path_buf(),
        ecsd::domain::catalogue::Catalogue::default(),
        ecsd::engine::sim::Timings::INSTANT,
    );
    config.auth = false;
    let running = ecsd::start(config).await.expect("ecsd starts");
    let mut ecs = TestServer::remote(&format!("http://{}", running.addr), test_credential());
    ecs.running = Some(running);
    ecs.data_dir = data_dir;
    ecs
}

/// The signature check reads (and limits) the body before any handler; where it does not run
/// (the public token route, or every route with `--no-auth`), the handlers' own extractors
/// meet the oversized body.
#[tokio::test]
async fn oversized_bodies_get_413_on_the_token_route_and_without_auth() {
    let big = vec![b'a'; ecsd::api::MAX_BODY_BYTES + 1];
    let ecs = TestServer::start().await;
    let plain = start_without_auth().await;
    let client = reqwest::Client::new();
    let p = ecs.project().to_string();
    let targets = [
        (&ecs, "/v3/auth/tokens".to_string()),
        (&plain, "/v3/auth/tokens".to_string()),
        (&plain, format!("/v1/{p}/cloudservers")),
        (&plain, format!("/v1/{p}/cloudservers/action")),
        (&plain, "/_ecsd/reset".to_string()),
    ];
    let mut failures = Vec::new();
    for (server, path) in targets {
        let response = client.post(format!("{}{path}", server.base)).body(big.clone()).send().await.expect("answer");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status != StatusCode::PAYLOAD_TOO_LARGE || body["error"]["code"] != "Ecs.0005" {
            failures.push(format!("{path} (auth {}): {status} {body}", server.base == ecs.base));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn malformed_json_on_every_body_route() {
    let (ecs, server, _) = target().await;
    let garbage: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"}".to_vec(),
        b"not json".to_vec(),
        b"{\"a\":".to_vec(),
        b"[]".to_vec(),
        b"null".to_vec(),
        b"true".to_vec(),
        b"\"a string\"".to_vec(),
        b"12345678901234567890123456789".to_vec(),
        b"{}".to_vec(),
        b"{\"server\":{}}".to_vec(),
        b"{'single':'quotes'}".to_vec(),
        b"{\"a\":1,}".to_vec(),
        b"{\"a\":NaN}".to_vec(),
        b"{\"a\":\"\\ud800\"}".to_vec(),
        b"\xef\xbb\xbf{}".to_vec(),
        b"\xff\xfe\x00{\x00}".to_vec(),
        b"{\"servers\":[{\"id\":\"\xc3\x28\"}]}".to_vec(),
        b"{\"name\":\"\xed\xa0\x80\"}".to_vec(),
        b"\x00\x00\x00\x00".to_vec(),
        nested(10_000),
        format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)).into_bytes(),
        b"  \n\t ".to_vec(),
        b"{\"a\":1}{\"b\":2}".to_vec(),
    ];
    let mut cases = Vec::new();
    for (method, path) in body_routes(&ecs, &server) {
        for body in &garbage {
            let mut case = Case::new(method.clone(), path.clone(), body.clone());
            let empty_object = body.as_slice() == b"{}";
            if path == "/_ecsd/reset" && (body.iter().all(u8::is_ascii_whitespace) || empty_object) {
                case = case.may_succeed(); // an empty reset body means "reset everything"
            }
            if path.ends_with(&format!("/cloudservers/{server}")) && body.as_slice() == b"{\"server\":{}}" {
                case = case.may_succeed(); // an update that changes nothing
            }
            cases.push(case);
        }
    }
    assert_no_failures(run(&ecs, cases).await);
}

#[tokio::test]
async fn whitespace_bodies_are_common_0002_and_invalid_json_is_ecs_0005() {
    let (ecs, server, _) = target().await;
    for body in [&b""[..], b"   ", b"\n"] {
        let answer = ecs.try_call(Method::POST, &ecs.v1("/cloudservers/action"), body.to_vec(), &[], PATIENCE).await;
        let answer = answer.expect("answer");
        assert_plain_error(answer.status, &answer.body, 400, "Common.0002");
    }
    let answer = ecs
        .try_call(Method::PUT, &ecs.v1(&format!("/cloudservers/{server}")), b"{".to_vec(), &[], PATIENCE)
        .await
        .expect("answer");
    assert_plain_error(answer.status, &answer.body, 400, "Ecs.0005");
}

#[tokio::test]
async fn wrong_types_missing_fields_null_and_empty_containers() {
    let (ecs, server, stopped) = target().await;
    let p = ecs.project();
    let create = |server: Value| json!({ "server": server });
    let valid = create_body("ok", "s6.small.1", 1)["server"].clone();
    let with = |key: &str, value: Value| {
        let mut s = valid.clone();
        s[key] = value;
        create(s)
    };
    let without = |key: &str| {
        let mut s = valid.clone();
        s.as_object_mut().expect("object").remove(key);
        create(s)
    };
    let mut bodies = vec![
        create(Value::Null),
        create(json!([])),
        create(json!("server")),
        json!({"server": valid, "dry_run": "yes"}),
        with("name", json!(123)),
        with("name", Value::Null),
        with("name", json!(["a"])),
        with("flavorRef", json!({"id": "s6.small.1"})),
        with("imageRef", json!(true)),
        with("nics", Value::Null),
        with("nics", json!({})),
        with("nics", json!([])),
        with("nics", json!([null])),
        with("nics", json!([{}])),
        with("nics", json!([{"subnet_id": 5}])),
        with("nics", json!([{"subnet_id": SUBNET, "ip_address": "999.1.1.1"}])),
        with("nics", json!([{"subnet_id": SUBNET, "ip_address": "192.168.0.0"}])),
        with("nics", json!([{"subnet_id": SUBNET, "ip_address": "192.168.255.255"}])),
        with("nics", json!([{"subnet_id": SUBNET, "ip_address": "::1"}])),
        with("root_volume", Value::Null),
        with("root_volume", json!({})),
        with("root_volume", json!({"volumetype": "SSD", "size": -1})),
        with("root_volume", json!({"volumetype": "SSD", "size": 1e30})),
        with("root_volume", json!({"volumetype": "SSD", "size": 4_294_967_295u64})),
        with("root_volume", json!({"volumetype": "SSD", "size": 1.5})),
        with("data_volumes", json!([{"volumetype": "SSD"}])),
        with("data_volumes", json!([{"volumetype": "SSD", "size": 0}])),
        with("data_volumes", json!(vec![json!({"volumetype": "SSD", "size": 10}); 60])),
        with("data_volumes", Value::Null),
        with("metadata", json!([])),
        with("metadata", json!({"k": 1})),
        with("metadata", json!({"": "v"})),
        with("tags", json!([1, 2])),
        with("server_tags", json!([{"value": "no key"}])),
        with("server_tags", json!([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}])),
        with("security_groups", json!("default")),
        with("extendparam", json!({"chargingMode": "prePaid"})),
        with("extendparam", json!({"chargingMode": 1})),
        with("availability_zone", json!("nowhere-01")),
        with("adminPass", json!("weak")),
        with("adminPass", json!(12345678)),
        with("description", json!("<script>")),
        with("vpcid", json!("")),
        with("batch_create_in_multi_az", json!("true")),
        without("name"),
        without("imageRef"),
        without("flavorRef"),
        without("vpcid"),
        without("nics"),
        without("root_volume"),
    ];
    bodies.push(json!({}));
    let mut cases: Vec<Case> =
        bodies.into_iter().map(|b| Case::json(Method::POST, format!("/v1/{p}/cloudservers"), b)).collect();
    let ids = |list: Value| json!({ "servers": list });
    let id_lists = [
        Value::Null,
        json!({}),
        json!("all"),
        json!([]),
        json!([null]),
        json!([{}]),
        json!([{"id": null}]),
        json!([{"id": 1}]),
        json!([{"id": ""}]),
        json!([{"id": "not-a-uuid"}]),
        json!([{"id": "../../../etc/passwd"}]),
        json!([{"id": "x".repeat(100_000)}]),
        json!([{"id": "\u{0}"}]),
        json!([{"id": server}, {"id": server}]),
        json!([server]),
    ];
    for (index, list) in id_lists.iter().enumerate() {
        // The batch-format operations collapse a repeated id (docs/behaviour.md); the job-based
        // ones refuse it.
        let collapsed = index == id_lists.len() - 2;
        cases.push(Case::json(
            Method::POST,
            format!("/v1/{p}/cloudservers/action"),
            json!({"os-start": ids(list.clone())}),
        ));
        cases.push(Case::json(
            Method::POST,
            format!("/v1/{p}/cloudservers/action"),
            json!({"os-stop": ids(list.clone())}),
        ));
        cases.push(Case::json(
            Method::POST,
            format!("/v1/{p}/cloudservers/action"),
            json!({"reboot": {"servers": list, "type": "SOFT"}}),
        ));
        cases.push(Case::json(Method::POST, format!("/v1/{p}/cloudservers/delete"), ids(list.clone())));
        let reset = Case::json(
            Method::PUT,
            format!("/v1/{p}/cloudservers/os-reset-passwords"),
            json!({"new_password": "Test@123456", "servers": list}),
        );
        let rename = Case::json(
            Method::PUT,
            format!("/v1/{p}/cloudservers/server-name"),
            json!({"name": "fine", "servers": list}),
        );
        cases.extend(if collapsed { [reset.may_succeed(), rename.may_succeed()] } else { [reset, rename] });
        cases.push(Case::json(
            Method::POST,
            format!("/v1/{p}/cloudservers/batch-resize"),
            json!({"resize": {"flavorRef": "s6.medium.2", "servers": list}}),
        ));
    }
    let one = format!("/cloudservers/{server}");
    let one_reset = format!("/cloudservers/{server}/os-reset-password");
    let stopped_resize = format!("/cloudservers/{stopped}/resize");
    let running_resize = format!("/cloudservers/{server}/resize");
    let more: Vec<(Method, &str, Value)> = vec![
        (Method::POST, "/cloudservers/action", json!({"os-stop": {"servers": [{"id": server}], "type": "MEDIUM"}})),
        (Method::POST, "/cloudservers/action", json!({"os-stop": {"servers": [{"id": server}], "type": 1}})),
        (Method::POST, "/cloudservers/action", json!({"reboot": {"servers": [{"id": server}]}})),
        (Method::POST, "/cloudservers/action", json!({"reboot": {"servers": [{"id": server}], "type": null}})),
        (Method::POST, "/cloudservers/action", json!({"os-start": null})),
        (Method::POST, "/cloudservers/action", json!({"os-start": []})),
        (Method::POST, "/cloudservers/delete", json!({"servers": [{"id": server}], "delete_publicip": "yes"})),
        (
            Method::PUT,
            "/cloudservers/os-reset-passwords",
            json!({"new_password": 12345678, "servers": [{"id": server}]}),
        ),
        (
            Method::PUT,
            "/cloudservers/os-reset-passwords",
            json!({"new_password": "short", "servers": [{"id": server}]}),
        ),
        (Method::PUT, "/cloudservers/os-reset-passwords", json!({"servers": [{"id": server}], "dry_run": 1})),
        (Method::PUT, "/cloudservers/server-name", json!({"servers": [{"id": server}]})),
        (Method::PUT, "/cloudservers/server-name", json!({"name": null, "servers": [{"id": server}]})),
        (Method::PUT, "/cloudservers/server-name", json!({"name": "", "servers": [{"id": server}]})),
        (Method::PUT, "/cloudservers/server-name", json!({"name": "a".repeat(129), "servers": [{"id": server}]})),
        (Method::POST, "/cloudservers/batch-resize", json!({"resize": null})),
        (Method::POST, "/cloudservers/batch-resize", json!({"resize": {"servers": [{"id": stopped}]}})),
        (Method::POST, "/cloudservers/batch-resize", json!({"resize": {"flavorRef": 7, "servers": [{"id": stopped}]}})),
        (
            Method::POST,
            "/cloudservers/batch-resize",
            json!({"resize": {"flavorRef": "nope", "servers": [{"id": stopped}]}}),
        ),
        (
            Method::POST,
            "/cloudservers/batch-resize",
            json!({"resize": {"flavorRef": "s6.medium.2", "servers": [{"id": stopped}], "mode": "now"}}),
        ),
        (Method::PUT, &one, json!({"server": null})),
        (Method::PUT, &one, json!({"server": {"name": 5}})),
        (Method::PUT, &one, json!({"server": {"name": ""}})),
        (Method::PUT, &one, json!({"server": {"hostname": "h"}})),
        (Method::PUT, &one, json!({"server": {"description": "d".repeat(86)}})),
        (Method::PUT, &one, json!({"name": "flat"})),
        (Method::POST, &stopped_resize, json!({"resize": {}})),
        (Method::POST, &stopped_resize, json!({"resize": {"flavorRef": null}})),
        (Method::POST, &stopped_resize, json!({"resize": {"flavorRef": "s6.small.1"}})),
        (Method::POST, &stopped_resize, json!({"resize": {"flavorRef": "kc1.large.2"}})),
        (Method::POST, &running_resize, json!({"resize": {"flavorRef": "s6.medium.2"}})),
        (Method::PUT, &one_reset, json!({"reset-password": null})),
        (Method::PUT, &one_reset, json!({"reset-password": {}})),
        (Method::PUT, &one_reset, json!({"reset-password": {"new_password": "weak", "is_check_password": true}})),
        (
            Method::PUT,
            &one_reset,
            json!({"reset-password": {"new_password": "Test@123456", "is_check_password": "true"}}),
        ),
    ];
    for (method, rest, body) in more {
        cases.push(Case::json(method, format!("/v1/{p}{rest}"), body));
    }
    let control = vec![
        json!({"operation": "stop"}),
        json!({"operation": "fly", "effect": {"kind": "hang"}}),
        json!({"operation": "stop", "effect": {"kind": "explode"}}),
        json!({"operation": "stop", "effect": {"kind": "delay", "ms": -1}}),
        json!({"operation": "stop", "effect": {"kind": "delay", "ms": 1e300}}),
        json!({"operation": "stop", "effect": {"kind": "delay", "ms": 600_001}}),
        json!({"operation": "stop", "effect": {"kind": "http_error", "status": 200, "code": "X"}}),
        json!({"operation": "stop", "effect": {"kind": "http_error", "status": 70000, "code": "X"}}),
        json!({"operation": "stop", "effect": {"kind": "sub_job_fail", "code": ""}}),
        json!({"operation": "stop", "probability": 2.0, "effect": {"kind": "hang"}}),
        json!({"operation": "stop", "probability": -0.5, "effect": {"kind": "hang"}}),
        json!({"operation": "stop", "count": -1, "effect": {"kind": "hang"}}),
        json!({"operation": "stop", "seed": "x", "effect": {"kind": "hang"}}),
        json!({"operation": "stop", "unknown": 1, "effect": {"kind": "hang"}}),
    ];
    for body in control {
        cases.push(Case::json(Method::POST, "/_ecsd/faults", body));
    }
    for body in [
        json!({"seconds": -1}),
        json!({"seconds": 1e300}),
        json!({"seconds": "10"}),
        json!({"seconds": null}),
        json!({"seconds": 31_536_001}),
        json!({}),
        json!({"seconds": 1, "extra": true}),
    ] {
        cases.push(Case::json(Method::POST, "/_ecsd/clock/advance", body));
    }
    for body in [
        json!({"name": ""}),
        json!({"name": "a/b"}),
        json!({"name": "x".repeat(65)}),
        json!({"name": 5}),
        json!({"name": "../../etc"}),
        json!({"name": "ok", "extra": 1}),
    ] {
        cases.push(Case::json(Method::POST, "/_ecsd/snapshots", body));
    }
    for body in [
        json!({"servers": null}),
        json!({"servers": [{"name": "f", "count": 1_000_000_000}]}),
        json!({"servers": [{"name": "f", "count": -1}]}),
        json!({"servers": [{"name": "f", "status": "BUILD"}]}),
        json!({"servers": [{"name": "f", "flavor": "nope"}]}),
        json!({"servers": [{"name": "bad name!"}]}),
        json!({"servers": [{}]}),
        json!({"project_id": "fedcba9876543210fedcba9876543210", "servers": []}),
    ] {
        cases.push(Case::json(Method::POST, "/_ecsd/fixtures", body));
    }
    for body in [json!({"project_id": 5}), json!({"project_id": null, "x": 1}), json!([])] {
        cases.push(Case::json(Method::POST, "/_ecsd/reset", body));
    }
    for body in [
        json!({"auth": null}),
        json!({"auth": {"identity": {"methods": ["token"]}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 1, "password": 2}}}}}),
        json!({"auth": {"identity": {"methods": "password", "password": {"user": {"name": "u", "password": "p"}}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "nobody", "password": "x".repeat(100_000)}}}}}),
    ] {
        cases.push(Case::json(Method::POST, "/v3/auth/tokens", body));
    }
    assert_no_failures(run(&ecs, cases).await);
    // Nothing above changed the servers.
    assert_eq!(ecs.server(&server).await["status"], "ACTIVE");
    assert_eq!(ecs.server(&stopped).await["status"], "SHUTOFF");
    assert_eq!(ecs.limits().await["totalInstancesUsed"], 2);
}

#[tokio::test]
async fn unknown_missing_and_repeated_action_keys() {
    let (ecs, server, _) = target().await;
    let servers = json!({"servers": [{"id": server}]});
    let action = ecs.v1("/cloudservers/action");
    let mut cases: Vec<Case> = [
        json!({}),
        json!({"os-foo": servers}),
        json!({"os-start": servers, "os-stop": servers}),
        json!({"os-start": servers, "reboot": {"servers": [{"id": server}], "type": "SOFT"}}),
        json!({"os-start": servers, "extra": 1}),
        json!({"OS-START": servers}),
        json!({"forceDelete": null}),
        json!({"os-start": servers, "os-stop": null, "reboot": null, "x": null}),
    ]
    .into_iter()
    .map(|b| Case::json(Method::POST, action.clone(), b))
    .collect();
    // The same action key twice.
    let twice =
        format!(r#"{{"os-stop":{{"servers":[{{"id":"{server}"}}]}},"os-stop":{{"servers":[{{"id":"{server}"}}]}}}}"#);
    cases.push(Case::new(Method::POST, action.clone(), twice.into_bytes()));
    assert_no_failures(run(&ecs, cases).await);
    assert_eq!(ecs.server(&server).await["status"], "ACTIVE", "no refused action did anything");
}

/// docs/behaviour.md: "a duplicate key is `Ecs.0005`". Duplicates in the fields of a request
/// struct are refused; so must they be inside maps and on every route.
#[tokio::test]
async fn duplicate_json_keys_are_refused_everywhere() {
    let (ecs, server, _) = target().await;
    let p = ecs.project();
    let create = |inner: &str| {
        format!(
            r#"{{"server":{{"imageRef":"{IMAGE_ID}","flavorRef":"s6.small.1","name":"dup","vpcid":"{VPC}",
                "nics":[{{"subnet_id":"{SUBNET}"}}],"root_volume":{{"volumetype":"SSD"}}{inner}}}}}"#
        )
    };
    let cases = vec![
        Case::new(Method::POST, format!("/v1/{p}/cloudservers"), create(r#","name":"twice""#)),
        Case::new(Method::POST, format!("/v1/{p}/cloudservers"), create(r#","count":1,"count":2"#)),
        Case::new(Method::PUT, format!("/v1/{p}/cloudservers/{server}"), r#"{"server":{"name":"a","name":"b"}}"#),
        Case::new(
            Method::PUT,
            format!("/v1/{p}/cloudservers/server-name"),
            format!(r#"{{"name":"a","servers":[{{"id":"{server}","id":"{server}"}}],"name":"b"}}"#),
        ),
        Case::new(Method::POST, "/_ecsd/clock/advance", r#"{"seconds":1,"seconds":2}"#),
    ];
    assert_no_failures(run(&ecs, cases).await);
    assert_eq!(ecs.server(&server).await["name"], "target-0000");
}

#[tokio::test]
async fn duplicate_keys_inside_maps_are_refused() {
    let ecs = TestServer::start().await;
    let body = format!(
        r#"{{"server":{{"imageRef":"{IMAGE_ID}","flavorRef":"s6.small.1","name":"dup","vpcid":"{VPC}",
            "nics":[{{"subnet_id":"{SUBNET}"}}],"root_volume":{{"volumetype":"SSD"}},
            "metadata":{{"k":"first","k":"second"}}}}}}"#
    );
    let answer = ecs.try_call(Method::POST, &ecs.v1("/cloudservers"), body.into_bytes(), &[], PATIENCE).await;
    let answer = answer.expect("answer");
    assert_plain_error(answer.status, &answer.body, 400, "Ecs.0005");
}

#[tokio::test]
async fn absurd_numbers_are_refused_with_their_codes() {
    let (ecs, _, _) = target().await;
    let count = |n: Value| {
        let mut body = create_body("absurd", "s6.small.1", 1);
        body["server"]["count"] = n;
        body
    };
    let expect = [
        (count(json!(1_000_000_000u64)), 400, "Ecs.0913"),
        (count(json!(101)), 400, "Ecs.0913"),
        (count(json!(0)), 400, "Ecs.0913"),
        (count(json!(4_294_967_295u64)), 400, "Ecs.0913"),
        (count(json!(-1)), 400, "Ecs.0005"),
        (count(json!(4_294_967_296u64)), 400, "Ecs.0005"),
        (count(json!(1e30)), 400, "Ecs.0005"),
        (count(json!(2.5)), 400, "Ecs.0005"),
        (count(json!("3")), 400, "Ecs.0005"),
    ];
    for (body, status, code) in expect {
        let (got, answer) = ecs.post(&ecs.v1("/cloudservers"), body.clone()).await;
        assert_plain_error(got, &answer, status, code);
    }
    let mut cases = Vec::new();
    for query in [
        "limit=-1",
        "limit=0",
        "limit=1001",
        "limit=1000000000000000000000000000000",
        "limit=abc",
        "limit=",
        "limit=1.5",
        "offset=-1",
        "offset=1000000000000000000000000000000",
        "offset=x",
        "status=EXPLODING",
        "status=",
        "limit=1&limit=2",
        "offset=18446744073709551615&limit=1000",
        "marker=not-a-server&limit=1",
        "name=%FF%FE",
        "tags=%00",
        "ip=..................",
        "server_id=,,,,",
        "reservation_id=%E2%80%AE",
        "not-tags=&tags=",
    ] {
        let mut case = Case::new(Method::GET, ecs.v1(&format!("/cloudservers/detail?{query}")), vec![]);
        if [
            "offset=18446744073709551615",
            "marker=",
            "name=",
            "tags=",
            "ip=",
            "server_id=",
            "reservation_id=",
            "not-tags=",
        ]
        .iter()
        .any(|q| query.starts_with(q))
        {
            case = case.may_succeed(); // valid filters that match nothing
        }
        cases.push(case);
    }
    for query in [
        "",
        "limit=-1&source_flavor_id=s6.small.1",
        "limit=99999999999999999999999&source_flavor_id=s6.small.1",
        "source_flavor_id=nope",
        "instance_uuid=not-a-uuid",
        "instance_uuid=%FF",
        "source_flavor_id=s6.small.1&sort_key=../../",
        "source_flavor_id=s6.small.1&sort_dir=sideways",
    ] {
        cases.push(Case::new(Method::GET, ecs.v1(&format!("/cloudservers/resize_flavors?{query}")), vec![]));
    }
    assert_no_failures(run(&ecs, cases).await);
}

#[tokio::test]
async fn non_uuid_and_garbage_ids_in_paths() {
    let (ecs, _, _) = target().await;
    let long = "a".repeat(8_000);
    let garbage_ids = [
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "%00",
        "%20",
        "%E6%9C%8D%E5%8A%A1%E5%99%A8",
        "%F0%9F%92%A5",
        "'%20OR%201=1--",
        "%3Cscript%3E",
        long.as_str(),
        "12345678123456781234567812345678",
    ];
    let p = ecs.project();
    let mut cases = Vec::new();
    for id in garbage_ids {
        cases.push(Case::new(Method::GET, format!("/v1/{p}/cloudservers/{id}"), vec![]));
        cases.push(Case::json(Method::PUT, format!("/v1/{p}/cloudservers/{id}"), json!({"server": {"name": "x"}})));
        cases.push(Case::json(
            Method::POST,
            format!("/v1/{p}/cloudservers/{id}/resize"),
            json!({"resize": {"flavorRef": "s6.medium.2"}}),
        ));
        cases.push(Case::json(
            Method::POST,
            format!("/v1.1/{p}/cloudservers/{id}/resize"),
            json!({"resize": {"flavorRef": "s6.medium.2"}}),
        ));
        cases.push(Case::json(
            Method::PUT,
            format!("/v1/{p}/cloudservers/{id}/os-reset-password"),
            json!({"reset-password": {"new_password": "Test@123456"}}),
        ));
        cases.push(Case::new(Method::GET, format!("/v1/{p}/cloudservers/{id}/os-resetpwd-flag"), vec![]));
        cases.push(Case::new(Method::GET, format!("/v1/{p}/jobs/{id}"), vec![]));
        cases.push(Case::new(Method::DELETE, format!("/_ecsd/faults/{id}"), vec![]));
        cases.push(Case::new(Method::POST, format!("/_ecsd/faults/{id}/release"), vec![]));
        cases.push(Case::new(Method::DELETE, format!("/_ecsd/snapshots/{id}"), vec![]));
        cases.push(Case::new(Method::POST, format!("/_ecsd/snapshots/{id}/restore"), vec![]));
        // A garbage project in the path.
        cases.push(Case::new(Method::GET, format!("/v1/{id}/cloudservers/detail"), vec![]));
        cases.push(Case::json(
            Method::POST,
            format!("/v1/{id}/cloudservers/action"),
            json!({"os-start": {"servers": []}}),
        ));
        cases.push(Case::new(Method::GET, format!("/v2.1/{id}/os-availability-zone"), vec![]));
    }
    assert_no_failures(run(&ecs, cases).await);
}

/// Path segments that percent-decode to invalid UTF-8 on the ECS routes get an ECS body.
#[tokio::test]
async fn path_ids_that_are_not_utf8_get_an_ecs_error_body() {
    let (ecs, _, _) = target().await;
    let p = ecs.project();
    let cases = vec![
        Case::new(Method::GET, format!("/v1/{p}/cloudservers/%FF"), vec![]),
        Case::new(Method::GET, format!("/v1/{p}/cloudservers/%C3%28/os-resetpwd-flag"), vec![]),
        Case::new(Method::GET, format!("/v1/{p}/jobs/%FF%FE"), vec![]),
        Case::json(Method::PUT, format!("/v1/{p}/cloudservers/%FF"), json!({"server": {"name": "x"}})),
        Case::json(Method::POST, format!("/v1/{p}/cloudservers/%FF/resize"), json!({"resize": {"flavorRef": "x"}})),
        Case::new(Method::GET, "/v1/%FF/cloudservers/detail", vec![]),
    ];
    assert_no_failures(run(&ecs, cases).await);
}

/// The control routes too: a path id that is not UTF-8 gets an ECS body, not axum's text.
#[tokio::test]
async fn control_path_ids_that_are_not_utf8_get_an_ecs_error_body() {
    let ecs = TestServer::start().await;
    let cases = vec![
        Case::new(Method::DELETE, "/_ecsd/faults/%FF", vec![]),
        Case::new(Method::POST, "/_ecsd/faults/%FF/release", vec![]),
        Case::new(Method::DELETE, "/_ecsd/snapshots/%FF", vec![]),
        Case::new(Method::POST, "/_ecsd/snapshots/%FF/restore", vec![]),
    ];
    assert_no_failures(run(&ecs, cases).await);
}

#[tokio::test]
async fn unicode_names_are_judged_by_the_name_rule() {
    let (ecs, server, _) = target().await;
    let rename = |name: &str| json!({"name": name, "servers": [{"id": server}]});
    // CJK ideographs are allowed; everything else outside [A-Za-z0-9_.-] is Ecs.0915.
    let (status, body) = ecs.put(&ecs.v1("/cloudservers/server-name"), rename("服务器-01")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.server(&server).await["name"], "服务器-01");
    for bad in
        ["💥", "server\u{0}", "a\u{202E}b", "e\u{301}", "Ωmega", "tab\there", "new\nline", "ｆｕｌｌ", "\u{FEFF}"]
    {
        let (status, body) = ecs.put(&ecs.v1("/cloudservers/server-name"), rename(bad)).await;
        assert_plain_error(status, &body, 400, "Ecs.0915");
        let (status, body) =
            ecs.put(&ecs.v1(&format!("/cloudservers/{server}")), json!({"server": {"name": bad}})).await;
        assert_plain_error(status, &body, 400, "Ecs.0915");
        let mut create = create_body("x", "s6.small.1", 1);
        create["server"]["name"] = json!(bad);
        let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create).await;
        assert_plain_error(status, &body, 400, "Ecs.0915");
    }
    // 128 CJK characters fit; 129 do not (characters, not bytes).
    let (status, body) = ecs.put(&ecs.v1("/cloudservers/server-name"), rename(&"服".repeat(128))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ecs.put(&ecs.v1("/cloudservers/server-name"), rename(&"服".repeat(129))).await;
    assert_plain_error(status, &body, 400, "Ecs.0914");
    // Unicode in a description and a reset password is judged, not mangled.
    let (status, body) =
        ecs.put(&ecs.v1(&format!("/cloudservers/{server}")), json!({"server": {"description": "描述 ✓"}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ecs
        .put(
            &ecs.v1("/cloudservers/os-reset-passwords"),
            json!({"new_password": "Pässwörd@123", "servers": [{"id": server}]}),
        )
        .await;
    assert_plain_error(status, &body, 400, "Ecs.0011");
}

#[tokio::test]
async fn huge_and_numerous_headers_and_long_paths_never_get_a_5xx() {
    let (ecs, _, _) = target().await;
    // 64 KiB in one header is within what ecsd reads: the request is served.
    let value = "v".repeat(64 * 1024);
    let answer = ecs
        .try_call(Method::GET, &ecs.v1("/cloudservers/detail"), vec![], &[("x-padding", &value)], PATIENCE)
        .await
        .expect("answer");
    assert!(answer.status == StatusCode::OK || answer.status.is_client_error(), "{}", answer.status);
    // A huge X-Client-Token is refused as a bad token, signed and all.
    let token = "t".repeat(16 * 1024);
    let answer = ecs
        .try_call(
            Method::POST,
            &ecs.v1("/cloudservers"),
            serde_json::to_vec(&create_body("tok", "s6.small.1", 1)).expect("json"),
            &[("x-client-token", &token)],
            PATIENCE,
        )
        .await
        .expect("answer");
    assert_plain_error(answer.status, &answer.body, 400, "Ecs.0123");
    // Over the limits of the HTTP layer: a 4xx, and the connection is answered, not reset.
    let huge = "h".repeat(1024 * 1024);
    for request in [
        format!("GET / HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\nConnection: close\r\n\r\n"),
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\n{}Connection: close\r\n\r\n",
            (0..500).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()
        ),
        format!("GET /v1/{}/cloudservers/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", ecs.project(), "a".repeat(100_000)),
        "GET /v1/\u{ff}\u{fe} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
        "\u{0}\u{1}garbage\r\n\r\n".to_string(),
        "GET / HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
        "POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\nConnection: close\r\n\r\nzz\r\n".to_string(),
    ] {
        let (status, _) = raw_exchange(&ecs.base, request.as_bytes()).await.expect("an HTTP answer");
        assert!((400..500).contains(&status), "status {status} for {:?}", &request[..request.len().min(80)]);
    }
    // The server still serves.
    assert_eq!(ecs.get(&ecs.v1("/cloudservers/limits")).await.0, StatusCode::OK);
}

/// docs/behaviour.md: requests the HTTP parser cannot take are answered by the parser, with
/// the bare status (no route is known yet): 431 for a header block over its buffer, 414 for a
/// URI over 64 KiB, 400 for an unparsable request line.
#[tokio::test]
async fn requests_refused_by_the_http_parser_get_the_documented_status() {
    let ecs = TestServer::start().await;
    let huge = "h".repeat(1024 * 1024);
    for (request, expected) in [
        (format!("GET / HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\nConnection: close\r\n\r\n"), 431),
        (
            format!("GET /v1/p/cloudservers/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(100_000)),
            414,
        ),
        ("\u{0}\u{1}garbage\r\n\r\n".to_string(), 400),
        ("GET / HTTP/1.1 extra\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(), 400),
    ] {
        let (status, _) = raw_exchange(&ecs.base, request.as_bytes()).await.expect("an HTTP answer");
        assert_eq!(status, expected, "{:?}", &request[..request.len().min(60)]);
    }
}

#[tokio::test]
async fn garbage_authorization_is_refused_by_the_gateway() {
    let ecs = TestServer::start().await;
    let url = format!("{}{}", ecs.base, ecs.v1("/cloudservers/detail"));
    let date = ecsd::api::signing::format_sdk_date(time::OffsetDateTime::now_utc());
    let sig = "0".repeat(64);
    let values = [
        String::new(),
        " ".into(),
        "SDK-HMAC-SHA256".into(),
        "SDK-HMAC-SHA256 ".into(),
        "Basic dXNlcjpwYXNz".into(),
        "SDK-HMAC-SHA256 Access=, SignedHeaders=, Signature=".into(),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature={sig}, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature={}", "z".repeat(64)),
        format!("SDK-HMAC-SHA256 Access={}, SignedHeaders=host;x-sdk-date, Signature={sig}", "A".repeat(100_000)),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders={}, Signature={sig}", "h;".repeat(20_000)),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date;@, Signature={sig}"),
        "SDK-HMAC-SHA256 ====,,,,====".into(),
        format!("SDK-HMAC-SHA256 Access=AKTESTECSD0000000001, SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AKTESTECSD0000000001, SignedHeaders=host;x-sdk-date, Signature={sig}"),
    ];
    let client = reqwest::Client::new();
    for value in values {
        let response = tokio::time::timeout(
            PATIENCE,
            client.get(&url).header("x-sdk-date", &date).header("authorization", &value).send(),
        )
        .await
        .expect("no hang")
        .expect("an answer");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{value:.80}: {body}");
        assert!(body["error_code"].as_str().is_some_and(|c| c.starts_with("APIG.")), "{value:.80}: {body}");
    }
    for date in ["", "yesterday", "20240230T250000Z", "99999999T999999Z", "20240101T000000Z"] {
        let answer = ecs
            .try_call(Method::GET, &ecs.v1("/cloudservers/detail"), vec![], &[("x-sdk-date", date)], PATIENCE)
            .await
            .expect("answer");
        // The harness signs its own X-Sdk-Date; a second one makes the request ambiguous.
        assert!(answer.status.is_client_error() || answer.status.is_success(), "{date}: {}", answer.status);
        if answer.status.is_client_error() {
            documented_error_shape(&answer.body).expect("documented");
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_on_every_route() {
    let (ecs, server, _) = target().await;
    let p = ecs.project();
    let mut cases = Vec::new();
    let paths = [
        "/".to_string(),
        "/openapi.json".to_string(),
        format!("/v1/{p}/cloudservers"),
        format!("/v1.1/{p}/cloudservers"),
        format!("/v1/{p}/cloudservers/detail"),
        format!("/v1/{p}/cloudservers/action"),
        format!("/v1/{p}/cloudservers/delete"),
        format!("/v1/{p}/cloudservers/os-reset-passwords"),
        format!("/v1/{p}/cloudservers/server-name"),
        format!("/v1/{p}/cloudservers/batch-resize"),
        format!("/v1/{p}/cloudservers/flavors"),
        format!("/v1/{p}/cloudservers/resize_flavors"),
        format!("/v1/{p}/cloudservers/limits"),
        format!("/v1/{p}/cloudservers/{server}"),
        format!("/v1/{p}/cloudservers/{server}/resize"),
        format!("/v1.1/{p}/cloudservers/{server}/resize"),
        format!("/v1/{p}/cloudservers/{server}/os-reset-password"),
        format!("/v1/{p}/cloudservers/{server}/os-resetpwd-flag"),
        format!("/v1/{p}/jobs/0123"),
        format!("/v1/{p}/availability-zones"),
        format!("/v2.1/{p}/os-availability-zone"),
        "/v2/cloudimages".to_string(),
        format!("/v1/{p}/vpcs"),
        format!("/v1/{p}/subnets"),
        "/_ecsd/faults".to_string(),
        "/_ecsd/faults/x".to_string(),
        "/_ecsd/faults/x/release".to_string(),
        "/_ecsd/reset".to_string(),
        "/_ecsd/snapshots".to_string(),
        "/_ecsd/snapshots/x".to_string(),
        "/_ecsd/snapshots/x/restore".to_string(),
        "/_ecsd/clock/advance".to_string(),
        "/_ecsd/clock/settle".to_string(),
        "/_ecsd/fixtures".to_string(),
        "/v3/auth/tokens".to_string(),
    ];
    // The token route is judged in its own (ignored) test below.
    for path in paths.iter().filter(|p| *p != "/v3/auth/tokens") {
        // PATCH is served nowhere; TRACE neither.
        cases.push(Case::new(Method::PATCH, path.clone(), b"{}".to_vec()));
        cases.push(Case::new(Method::from_bytes(b"TRACE").expect("method"), path.clone(), vec![]));
        // A sub-path that does not exist.
        cases.push(Case::new(Method::GET, format!("{path}/nothing/here"), vec![]));
    }
    for path in [
        "/v9/x".to_string(),
        format!("/v1/{p}"),
        format!("/v1/{p}/"),
        format!("/v1/{p}/cloudservers/"),
        format!("/v1/{p}/cloudservers//detail"),
        "/v1//cloudservers/detail".to_string(),
        "//".to_string(),
        "/_ecsd".to_string(),
        "/_ecsd/".to_string(),
        format!("/v1/{p}/cloudservers/detail/%2e%2e/limits"),
    ] {
        cases.push(Case::new(Method::GET, path.clone(), vec![]));
        cases.push(Case::new(Method::DELETE, path, vec![]));
    }
    assert_no_failures(run(&ecs, cases).await);
}

#[tokio::test]
async fn a_wrong_method_on_the_token_route_gets_an_ecs_error_body() {
    let ecs = TestServer::start().await;
    let cases = [Method::PATCH, Method::DELETE, Method::PUT]
        .into_iter()
        .map(|m| Case::new(m, "/v3/auth/tokens", b"{}".to_vec()))
        .collect();
    assert_no_failures(run(&ecs, cases).await);
}

/// Garbage (a bad query and a bad body) on every route the router serves, each with the method
/// it serves. The route list is taken from `ecsd::api::route_paths()`, so a new route without
/// an entry here fails this test.
#[tokio::test]
async fn garbage_on_every_route() {
    let (ecs, server, _) = target().await;
    let p = ecs.project().to_string();
    let fill = |template: &str| {
        template
            .replace("{project_id}", &p)
            .replace("{server_id}", &server)
            .replace("{job_id}", "ffffffffffffffffffffffffffffffff")
            .replace("{launch_template_id}", "no-such-template")
            .replace("{id}", "no-such-rule")
            .replace("{name}", "no-such-snapshot")
            .replace("{key}", "no%20such%20key")
            .replace("{server_group_id}", "ffffffff-ffff-4fff-bfff-ffffffffffff")
            .replace("{flavor_id}", "s6.small.1")
            .replace("{volume_id}", "ffffffff-ffff-4fff-bfff-ffffffffffff")
            .replace("{vpc_id}", "no-such-vpc")
            .replace("{request_id}", "no-such-request")
            .replace("{image_id}", "no-such-image")
            .replace("{network_id}", "no-such-network")
            .replace("{subnet_id}", "no-such-subnet")
            .replace("{port_id}", "no-such-port")
            .replace("{nic_id}", "no-such-nic")
            .replace("{privateip_id}", "no-such-privateip")
            .replace("{security_group_id}", "no-such-group")
            .replace("{security_group_rule_id}", "no-such-rule")
            .replace("{keypair_name}", "no%20such%20keypair")
            .replace("{alias}", "no-such-extension")
            .replace("{tag}", "no-such-tag")
    };
    // (method, route template, garbage body or None for a GET with a garbage query)
    let table: Vec<(Method, &str, Option<&[u8]>)> = vec![
        (Method::GET, "/", None),
        (Method::GET, "/openapi.json", None),
        (Method::POST, "/v1/{project_id}/cloudservers", Some(b"{\"server\": 7}")),
        (Method::POST, "/v1.1/{project_id}/cloudservers", Some(b"[1,2,3]")),
        (Method::GET, "/v1/{project_id}/cloudservers/detail", None),
        (Method::POST, "/v1/{project_id}/cloudservers/action", Some(b"{\"os-start\": {\"servers\": 1}}")),
        (Method::POST, "/v1/{project_id}/cloudservers/delete", Some(b"{\"servers\": [[[]]]}")),
        (Method::PUT, "/v1/{project_id}/cloudservers/os-reset-passwords", Some(b"{\"servers\": \"*\"}")),
        (Method::PUT, "/v1/{project_id}/cloudservers/server-name", Some(b"{\"name\": {}}")),
        (Method::POST, "/v1/{project_id}/cloudservers/batch-resize", Some(b"{\"resize\": []}")),
        (Method::GET, "/v1/{project_id}/cloudservers/flavors", None),
        (Method::GET, "/v1/{project_id}/cloudservers/resize_flavors", None),
        (Method::GET, "/v1/{project_id}/cloudservers/limits", None),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}", None),
        (Method::PUT, "/v1/{project_id}/cloudservers/{server_id}", Some(b"{\"server\": []}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/resize", Some(b"{\"resize\": 0}")),
        (Method::POST, "/v1.1/{project_id}/cloudservers/{server_id}/resize", Some(b"{\"resize\": \"\"}")),
        (Method::PUT, "/v1/{project_id}/cloudservers/{server_id}/os-reset-password", Some(b"{\"reset-password\": 1}")),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/os-resetpwd-flag", None),
        (Method::GET, "/v1/{project_id}/jobs/{job_id}", None),
        (Method::GET, "/v1/{project_id}/availability-zones", None),
        (Method::GET, "/v2.1/{project_id}/os-availability-zone", None),
        (Method::GET, "/v2/cloudimages", None),
        (Method::GET, "/v1/{project_id}/vpcs", None),
        (Method::GET, "/v1/{project_id}/subnets", None),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/nics", Some(b"{\"nics\": {}}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/nics/delete", Some(b"{\"nics\": [1]}")),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/os-interface", None),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/os-interface_extension", None),
        (
            Method::PUT,
            "/v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}",
            Some(b"{\"interface_attachment\": {\"delete_on_termination\": \"yes\"}}"),
        ),
        (
            Method::POST,
            "/v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}/change-network-interface",
            Some(b"{\"subnet_id\": 5}"),
        ),
        (Method::PUT, "/v1/{project_id}/cloudservers/nics/{nic_id}", Some(b"{\"nic\": {\"ip_address\": 1}}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/changevpc", Some(b"{\"vpc_id\": []}")),
        (Method::GET, "/v1/{project_id}/vpcs/{vpc_id}", None),
        (Method::GET, "/v1/{project_id}/subnets/{subnet_id}", None),
        (Method::GET, "/v1/{project_id}/ports", None),
        (Method::POST, "/v1/{project_id}/ports", Some(b"{\"port\": {\"network_id\": []}}")),
        (Method::GET, "/v1/{project_id}/ports/{port_id}", None),
        (Method::PUT, "/v1/{project_id}/ports/{port_id}", Some(b"{\"port\": {\"allowed_address_pairs\": 1}}")),
        (Method::DELETE, "/v1/{project_id}/ports/{port_id}", None),
        (Method::GET, "/v1/{project_id}/subnets/{subnet_id}/privateips", None),
        (Method::POST, "/v1/{project_id}/privateips", Some(b"{\"privateips\": [{\"subnet_id\": 7}]}")),
        (Method::GET, "/v1/{project_id}/privateips/{privateip_id}", None),
        (Method::DELETE, "/v1/{project_id}/privateips/{privateip_id}", None),
        (Method::GET, "/v1/{project_id}/security-groups", None),
        (Method::POST, "/v1/{project_id}/security-groups", Some(b"{\"security_group\": {\"name\": {}}}")),
        (Method::GET, "/v1/{project_id}/security-groups/{security_group_id}", None),
        (Method::DELETE, "/v1/{project_id}/security-groups/{security_group_id}", None),
        (Method::GET, "/v1/{project_id}/security-group-rules", None),
        (
            Method::POST,
            "/v1/{project_id}/security-group-rules",
            Some(b"{\"security_group_rule\": {\"port_range_min\": -1}}"),
        ),
        (Method::GET, "/v1/{project_id}/security-group-rules/{security_group_rule_id}", None),
        (Method::DELETE, "/v1/{project_id}/security-group-rules/{security_group_rule_id}", None),
        (Method::POST, "/_ecsd/faults", Some(b"{\"operation\": []}")),
        (Method::GET, "/_ecsd/faults", None),
        (Method::DELETE, "/_ecsd/faults/{id}", None),
        (Method::POST, "/_ecsd/faults/{id}/release", Some(b"garbage")),
        (Method::POST, "/_ecsd/reset", Some(b"{\"project_id\": []}")),
        (Method::POST, "/_ecsd/snapshots", Some(b"{\"name\": []}")),
        (Method::GET, "/_ecsd/snapshots", None),
        (Method::GET, "/_ecsd/health", None),
        (Method::DELETE, "/_ecsd/snapshots/{name}", None),
        (Method::POST, "/_ecsd/snapshots/{name}/restore", Some(b"\xff")),
        (Method::POST, "/_ecsd/clock/advance", Some(b"{\"seconds\": []}")),
        (Method::POST, "/_ecsd/clock/settle", Some(b"\xff\xfe")),
        (Method::POST, "/_ecsd/fixtures", Some(b"{\"servers\": {}}")),
        (Method::POST, "/v3/auth/tokens", Some(b"{\"auth\": []}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/remote_console", Some(b"{\"remote_console\": 1}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/actions/serial-console", Some(b"\xff")),
        (
            Method::PUT,
            "/v1/{project_id}/cloudservers/{server_id}/serial-console-options",
            Some(b"{\"serial_console_options\": {\"enabled\": \"y\"}}"),
        ),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/console-output", None),
        (Method::POST, "/v1/{project_id}/cloudservers/actions/change-charge-mode", Some(b"{\"server_ids\": {}}")),
        (
            Method::POST,
            "/v1/{project_id}/cloudservers/{server_id}/actions/update-auto-terminate-time",
            Some(b"{\"auto_terminate_time\": 7}"),
        ),
        (Method::POST, "/v1.0/servers/{server_id}/action", Some(b"{\"monitorMetrics\": []}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/actions/trigger-crash-dump", Some(b"\x00")),
        (
            Method::POST,
            "/v2/{project_id}/cloudservers/{server_id}/reinstallos",
            Some(b"{\"os-reinstall\": {\"metadata\": 1}}"),
        ),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/reinstallos", Some(b"{\"os-reinstall\": []}")),
        (
            Method::POST,
            "/v2/{project_id}/cloudservers/{server_id}/changeos",
            Some(b"{\"os-change\": {\"imageid\": {}}}"),
        ),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/changeos", Some(b"{\"os-change\": {\"mode\": 1}}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/migrate", Some(b"{\"migrate\": []}")),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/actions/redeploy", Some(b"\x00")),
        (Method::GET, "/v1/{project_id}/recycle-bin", None),
        (Method::PUT, "/v1/{project_id}/recycle-bin", Some(b"{\"recycle_bin\": {\"switch\": 1}}")),
        (Method::PUT, "/v1/{project_id}/recycle-bin/policy", Some(b"{\"policy\": {\"retention_hour\": -1}}")),
        (Method::GET, "/v1/{project_id}/recycle-bin/cloudservers", None),
        (Method::POST, "/v1/{project_id}/recycle-bin/cloudservers/{server_id}/actions/revert", None),
        (Method::DELETE, "/v1/{project_id}/recycle-bin/cloudservers/{server_id}", None),
        (Method::POST, "/v3/{project_id}/launch-templates", Some(b"{\"launch_template\": []}")),
        (Method::GET, "/v3/{project_id}/launch-templates", None),
        (Method::GET, "/v3/{project_id}/launch-template-versions", None),
        (Method::DELETE, "/v3/{project_id}/launch-templates/{launch_template_id}", None),
        (Method::GET, "/v3/{project_id}/instance-scheduled-events", None),
        (Method::POST, "/v3/{project_id}/instance-scheduled-events/{id}/actions/accept", Some(b"{\"not_before\": 1}")),
        (Method::PUT, "/v3/{project_id}/instance-scheduled-events/{id}", Some(b"{\"not_before\": []}")),
        (Method::POST, "/_ecsd/scheduled-events", Some(b"{\"type\": []}")),
        (Method::GET, "/_ecsd/auto-terminations", None),
        (Method::GET, "/_ecsd/events", None),
        (Method::GET, "/_ecsd/events/stream", None),
        (Method::GET, "/metrics", None),
        (
            Method::POST,
            "/v1/{project_id}/cloudservers/{server_id}/tags/action",
            Some(b"{\"action\": \"create\", \"tags\": {}}"),
        ),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/tags", None),
        (Method::GET, "/v1/{project_id}/cloudservers/tags", None),
        (
            Method::POST,
            "/v1/{project_id}/cloudservers/resource_instances/action",
            Some(b"{\"action\": [], \"limit\": 5}"),
        ),
        (
            Method::POST,
            "/v1/{project_id}/servers/resource_instances/action",
            Some(b"{\"action\": \"filter\", \"offset\": \"-1\"}"),
        ),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/metadata", Some(b"{\"metadata\": {\"k\": 1}}")),
        (Method::DELETE, "/v1/{project_id}/cloudservers/{server_id}/metadata/{key}", None),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/metadata-options", None),
        (
            Method::PUT,
            "/v1/{project_id}/cloudservers/{server_id}/metadata-options",
            Some(b"{\"http_tokens\": \"sometimes\"}"),
        ),
        (Method::POST, "/v1/{project_id}/cloudservers/os-server-groups", Some(b"{\"server_group\": {\"name\": 7}}")),
        (Method::GET, "/v1/{project_id}/cloudservers/os-server-groups", None),
        (Method::GET, "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}", None),
        (Method::DELETE, "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}", None),
        (
            Method::POST,
            "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/action",
            Some(b"{\"add_member\": []}"),
        ),
        (
            Method::POST,
            "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/add_members",
            Some(b"{\"server_ids\": 1}"),
        ),
        (
            Method::POST,
            "/v1/{project_id}/cloudservers/os-server-groups/{server_group_id}/remove_members",
            Some(b"\xff"),
        ),
        (Method::GET, "/v1.1/{project_id}/cloudservers/detail", None),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/os-server-password", None),
        (Method::DELETE, "/v1/{project_id}/cloudservers/{server_id}/os-server-password", None),
        (Method::GET, "/v1/{project_id}/cloudservers/flavor-sell-policies", None),
        (Method::GET, "/v1/{project_id}/cloudservers/flavors/{flavor_id}/resources", None),
        (Method::POST, "/v1/{project_id}/cloudservers/{server_id}/attachvolume", Some(b"{\"volumeAttachment\": []}")),
        (Method::DELETE, "/v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}", None),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/block_device", None),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}", None),
        (
            Method::PUT,
            "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}",
            Some(b"{\"block_device\": {\"delete_on_termination\": 1}}"),
        ),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/os-volume_attachments", None),
        (Method::GET, "/v1/{project_id}/cloudservers/{server_id}/appendvolumequota", None),
        (Method::POST, "/v1/{project_id}/batchaction/attachvolumes/{volume_id}", Some(b"{\"serverinfo\": {}}")),
        (Method::POST, "/v1/{project_id}/batchaction/detachvolumes/{volume_id}", Some(b"{\"serverinfo\": [7]}")),
        (Method::POST, "/v2.1/{project_id}/cloudvolumes", Some(b"{\"volume\": {\"size\": []}}")),
        (Method::GET, "/v2/{project_id}/cloudvolumes/detail", None),
        (Method::GET, "/v2/{project_id}/cloudvolumes/{volume_id}", None),
        (Method::PUT, "/v2/{project_id}/cloudvolumes/{volume_id}", Some(b"{\"volume\": 1}")),
        (
            Method::POST,
            "/v2.1/{project_id}/cloudvolumes/{volume_id}/action",
            Some(b"{\"os-extend\": {\"new_size\": -1}}"),
        ),
        (Method::DELETE, "/v2/{project_id}/cloudvolumes/{volume_id}", None),
        (Method::GET, "/v3", None),
        (Method::GET, "/v3/", None),
        (Method::GET, "/v3/auth/catalog", None),
        (Method::GET, "/v3/auth/domains", None),
        (Method::GET, "/v3/auth/projects", None),
        (Method::GET, "/v3/projects", None),
        (Method::GET, "/v3/projects/{project_id}", None),
        (Method::GET, "/v2.1", None),
        (Method::GET, "/v2.1/", None),
        (Method::GET, "/v2", None),
        (Method::GET, "/v2/", None),
        (Method::GET, "/v2/images", None),
        (Method::GET, "/v2/images/{image_id}", None),
        (Method::GET, "/v2.0", None),
        (Method::GET, "/v2.0/", None),
        (Method::GET, "/v2.0/networks", None),
        (Method::GET, "/v2.0/networks/{network_id}", None),
        (Method::GET, "/v2.0/subnets", None),
        (Method::GET, "/v2.0/subnets/{subnet_id}", None),
        (Method::GET, "/v2.0/extensions", None),
        (Method::GET, "/v2.0/extensions/{alias}", None),
        (Method::GET, "/v2.0/ports", None),
        (Method::POST, "/v2.0/ports", Some(b"{\"port\": {\"network_id\": 5, \"fixed_ips\": {}}}")),
        (Method::GET, "/v2.0/ports/{port_id}", None),
        (Method::PUT, "/v2.0/ports/{port_id}", Some(b"{\"port\": {\"security_groups\": \"x\"}}")),
        (Method::DELETE, "/v2.0/ports/{port_id}", None),
        (Method::GET, "/v2.0/security-groups", None),
        (Method::POST, "/v2.0/security-groups", Some(b"{\"security_group\": {\"name\": []}}")),
        (Method::GET, "/v2.0/security-groups/{security_group_id}", None),
        (Method::PUT, "/v2.0/security-groups/{security_group_id}", Some(b"{\"security_group\": 1}")),
        (Method::DELETE, "/v2.0/security-groups/{security_group_id}", None),
        (Method::GET, "/v2.0/security-group-rules", None),
        (Method::POST, "/v2.0/security-group-rules", Some(b"{\"security_group_rule\": {\"direction\": \"up\"}}")),
        (Method::GET, "/v2.0/security-group-rules/{security_group_rule_id}", None),
        (Method::DELETE, "/v2.0/security-group-rules/{security_group_rule_id}", None),
        (Method::GET, "/volume/", None),
        (Method::GET, "/volume/v3", None),
        (Method::GET, "/volume/v3/", None),
        (Method::GET, "/volume/v3/{project_id}/volumes", None),
        (Method::GET, "/volume/v3/{project_id}/volumes/detail", None),
        (Method::POST, "/volume/v3/{project_id}/volumes", Some(b"{\"volume\": {\"size\": \"ten\"}}")),
        (Method::GET, "/volume/v3/{project_id}/volumes/{volume_id}", None),
        (Method::PUT, "/volume/v3/{project_id}/volumes/{volume_id}", Some(b"{\"volume\": {\"name\": 3}}")),
        (Method::DELETE, "/volume/v3/{project_id}/volumes/{volume_id}", None),
        (Method::GET, "/volume/v3/{project_id}/types", None),
        (Method::POST, "/v2.1/{project_id}/servers", Some(b"{\"server\": {\"name\": [], \"flavorRef\": 7}}")),
        (Method::GET, "/v2.1/{project_id}/servers", None),
        (Method::GET, "/v2.1/{project_id}/servers/detail", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}", None),
        (Method::PUT, "/v2.1/{project_id}/servers/{server_id}", Some(b"{\"server\": {\"name\": {}}}")),
        (Method::DELETE, "/v2.1/{project_id}/servers/{server_id}", None),
        (Method::POST, "/v2.1/{project_id}/servers/{server_id}/action", Some(b"{\"reboot\": {\"type\": 1}}")),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/os-instance-actions", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/os-instance-actions/{request_id}", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/metadata", None),
        (Method::POST, "/v2.1/{project_id}/servers/{server_id}/metadata", Some(b"{\"metadata\": []}")),
        (Method::PUT, "/v2.1/{project_id}/servers/{server_id}/metadata", Some(b"{\"metadata\": 1}")),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/metadata/{key}", None),
        (Method::PUT, "/v2.1/{project_id}/servers/{server_id}/metadata/{key}", Some(b"{\"meta\": null}")),
        (Method::DELETE, "/v2.1/{project_id}/servers/{server_id}/metadata/{key}", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/os-interface", None),
        (Method::POST, "/v2.1/{project_id}/servers/{server_id}/os-interface", Some(b"{\"interfaceAttachment\": 1}")),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}", None),
        (Method::DELETE, "/v2.1/{project_id}/servers/{server_id}/os-interface/{port_id}", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/os-security-groups", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments", None),
        (
            Method::POST,
            "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments",
            Some(b"{\"volumeAttachment\": {\"volumeId\": []}}"),
        ),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments/{volume_id}", None),
        (Method::DELETE, "/v2.1/{project_id}/servers/{server_id}/os-volume_attachments/{volume_id}", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/tags", None),
        (Method::PUT, "/v2.1/{project_id}/servers/{server_id}/tags", Some(b"{\"tags\": [1]}")),
        (Method::DELETE, "/v2.1/{project_id}/servers/{server_id}/tags", None),
        (Method::GET, "/v2.1/{project_id}/servers/{server_id}/tags/{tag}", None),
        (Method::PUT, "/v2.1/{project_id}/servers/{server_id}/tags/{tag}", None),
        (Method::DELETE, "/v2.1/{project_id}/servers/{server_id}/tags/{tag}", None),
        (Method::GET, "/v2.1/{project_id}/flavors", None),
        (Method::GET, "/v2.1/{project_id}/flavors/detail", None),
        (Method::GET, "/v2.1/{project_id}/flavors/{flavor_id}", None),
        (Method::GET, "/v2.1/{project_id}/flavors/{flavor_id}/os-extra_specs", None),
        (Method::GET, "/v2.1/{project_id}/limits", None),
        (Method::GET, "/v2.1/{project_id}/os-availability-zone/detail", None),
        (Method::POST, "/v2.1/{project_id}/os-server-groups", Some(b"{\"server_group\": {\"name\": 1}}")),
        (Method::GET, "/v2.1/{project_id}/os-server-groups", None),
        (Method::GET, "/v2.1/{project_id}/os-server-groups/{server_group_id}", None),
        (Method::DELETE, "/v2.1/{project_id}/os-server-groups/{server_group_id}", None),
        (Method::POST, "/v2.1/{project_id}/os-keypairs", Some(b"{\"keypair\": {\"name\": [], \"public_key\": 7}}")),
        (Method::GET, "/v2.1/{project_id}/os-keypairs", None),
        (Method::GET, "/v2.1/{project_id}/os-keypairs/{keypair_name}", None),
        (Method::DELETE, "/v2.1/{project_id}/os-keypairs/{keypair_name}", None),
    ];
    let covered: std::collections::BTreeSet<&str> = table.iter().map(|(_, route, _)| *route).collect();
    let served: std::collections::BTreeSet<&str> = ecsd::api::route_paths().into_iter().collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    assert!(missing.is_empty(), "routes without hostile input here: {missing:?}");

    let query = "?limit=-1&offset=1e99&marker=%FF&flavor_id=%00&name[]=x&status=%7B%7D&instance_uuid=..%2F&id=&vpc_id=\
                 &availability_zone=%F0%9F%92%A5&sort_key=%27&__os_type=&x=";
    let mut cases = Vec::new();
    for (method, route, body) in &table {
        let path = fill(route);
        match body {
            None => {
                // A GET with garbage in the query: refused, or served ignoring what it does not know.
                cases.push(Case::new(method.clone(), format!("{path}{query}"), vec![]).may_succeed());
            }
            // Settling the clock, a kernel dump and a redeploy take no body: garbage in it is ignored.
            Some(body)
                if *route == "/_ecsd/clock/settle"
                    || route.ends_with("/actions/trigger-crash-dump")
                    || route.ends_with("/actions/redeploy") =>
            {
                cases.push(Case::new(method.clone(), path, body.to_vec()).may_succeed())
            }
            Some(body) => cases.push(Case::new(method.clone(), path, body.to_vec())),
        }
    }
    let failures = run(&ecs, cases).await;
    assert_no_failures(failures);
    // Garbage that must be refused, route by route, when it is a query.
    let refused = [
        ecs.v1("/cloudservers/detail?limit=-1"),
        ecs.v1("/cloudservers/detail?offset=1e99"),
        ecs.v1("/cloudservers/resize_flavors?limit=-1&source_flavor_id=s6.small.1"),
    ];
    assert_no_failures(run(&ecs, refused.into_iter().map(|p| Case::new(Method::GET, p, vec![])).collect()).await);
}

/// Writes `request` on a fresh connection and reads the answer; `(status, body)`.
async fn raw_exchange(base: &str, request: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let address = base.trim_start_matches("http://");
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.map_err(|e| e.to_string())?;
        // The server may answer and close before reading everything: a failed write is fine.
        let _ = stream.write_all(request).await;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.map_err(|e| format!("reading: {e}"))?;
        Ok::<_, String>(answer)
    };
    let answer = tokio::time::timeout(PATIENCE, exchange).await.map_err(|_| "no answer (hang)".to_string())??;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", &text[..text.len().min(200)]))?;
    let body = answer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| answer[at + 4..].to_vec()).unwrap_or_default();
    Ok((status, body))
}

/// docs/behaviour.md: unknown JSON fields are ignored (forward compatibility), except in the
/// action body of `.../action`, where an unknown key could be an action passing as a no-op.
#[tokio::test]
async fn unknown_fields_are_ignored_except_as_action_keys() {
    let (ecs, server, _) = target().await;
    let mut create = create_body("extra", "s6.small.1", 1);
    create["server"]["futureField"] = json!({"nested": [1, 2]});
    create["alsoUnknown"] = json!(true);
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ecs
        .put(&ecs.v1("/cloudservers/server-name"), json!({"name": "kept", "servers": [{"id": server, "x": 1}], "y": 2}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ecs
        .post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": [{"id": server}]}, "os-explode": {}}))
        .await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    assert_eq!(ecs.server(&server).await["status"], "ACTIVE");
}

/// docs/behaviour.md: a path parameter that does not decode to UTF-8 is `Ecs.0005` (400), on
/// every method and route that has a parameter, one parameter at a time, the others valid;
/// EVS's paths answer it in EVS's shape, `EVS.5400`, and the VPC API in its own, `VPC.0101`.
#[tokio::test]
async fn every_path_parameter_that_is_not_utf8_is_a_400_ecs_0005() {
    let (ecs, server, _) = target().await;
    let valid = |name: &str| match name {
        "project_id" => ecs.project().to_string(),
        "server_id" => server.clone(),
        _ => "0123456789abcdef0123456789abcdef".to_string(),
    };
    let mut failures = Vec::new();
    for (method, template, _) in ecsd::api::table().operations() {
        let segments: Vec<&str> = template.split('/').collect();
        let params: Vec<usize> = (0..segments.len()).filter(|&i| segments[i].starts_with('{')).collect();
        for &bad in &params {
            let path: Vec<String> = segments
                .iter()
                .enumerate()
                .map(|(i, segment)| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(_) if i == bad => "%FF%FE".to_string(),
                    Some(name) => valid(name),
                    None => segment.to_string(),
                })
                .collect();
            let path = path.join("/");
            let answer = ecs.try_call(method.clone(), &path, b"{}".to_vec(), &[], PATIENCE).await;
            let expected = if template.contains("/cloudvolumes") { "EVS.5400" } else { "Ecs.0005" };
            match answer {
                Ok(answer)
                    if answer.status == StatusCode::BAD_REQUEST
                        && (answer.body["error"]["code"] == expected
                            || (expected == "Ecs.0005" && answer.body["code"] == "VPC.0101")) => {}
                // The OpenStack APIs refuse it in their own shapes.
                Ok(answer)
                    if answer.status == StatusCode::BAD_REQUEST
                        && ecsd::api::auth::openstack_path(&path)
                        && documented_error_shape(&answer.body).is_ok() => {}
                Ok(answer) => failures.push(format!("{method} {path}: {} {}", answer.status, answer.body)),
                Err(e) => failures.push(format!("{method} {path}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{} answered otherwise:\n  {}", failures.len(), failures.join("\n  "));
}

/// Issue 20, finding 7: list filters are capped at 255 characters (and `server_id` at 1,000
/// ids): a longer one is 400 `Ecs.0005`, not a 500 from the store's pattern matcher.
#[tokio::test]
async fn list_filters_over_their_length_cap_are_ecs_0005() {
    let ecs = TestServer::start().await;
    ecs.create_servers("web", "s6.small.1", 1).await;
    let long = "x".repeat(49_999);
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?name={long}"))).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    for filter in ["name", "flavor", "ip", "ip_eq", "tags", "not-tags", "reservation_id", "marker", "server_id"] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?{filter}={}", "a".repeat(256)))).await;
        assert_plain_error(status, &body, 400, "Ecs.0005");
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?{filter}={}", "a".repeat(255)))).await;
        assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND, "{filter} of 255: {status} {body}");
    }
    let ids = random_ids(1001).join(",");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?server_id={ids}"))).await;
    assert_plain_error(status, &body, 400, "Ecs.0005");
    let ids = random_ids(1000).join(",");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/detail?server_id={ids}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
