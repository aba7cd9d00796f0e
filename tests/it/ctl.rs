//! `ecsd ctl` as a user meets it: a fault rule checked whole before it is sent, a server_id
//! that must be a server of the project, JSON on stdout, one line on stderr, and exit codes
//! that tell a refusal, a wrong command and a missing server apart.

use std::process::Output;

use crate::common::*;
use serde_json::Value;

/// `ecsd ctl --endpoint BASE ARGS` with the test credential in the environment, off the
/// runtime's thread (the server under test answers on it).
async fn ctl(base: &str, args: &[&str]) -> Output {
    let credential = test_credential();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ecsd"));
    command
        .args(["ctl", "--endpoint", base])
        .args(args)
        .env("ECSD_ACCESS_KEY", &credential.access_key)
        .env("ECSD_SECRET_KEY", &credential.secret_key)
        .env("ECSD_PROJECT_ID", &credential.project_id)
        .env_remove("ECSD_DATA_DIR");
    tokio::task::spawn_blocking(move || command.output().expect("ecsd ctl runs")).await.expect("joined")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_rule_with_several_mistakes_is_refused_with_all_of_them_and_nothing_is_sent() {
    let ecs = TestServer::start().await;
    let done = ctl(
        &ecs.base,
        &[
            "faults",
            "add",
            r#"{"operation": "sotp", "server_id": "x", "probability": 2, "effect": {"kind": "sub_job_fail"}}"#,
        ],
    )
    .await;
    assert_eq!(done.status.code(), Some(2), "{}", stderr(&done));
    assert_eq!(stdout(&done), "");
    let said = stderr(&done);
    assert!(said.starts_with("error: 3 mistakes:"), "{said}");
    assert!(said.contains("operation: \"sotp\" is not one of create, start, stop,"), "{said}");
    assert!(said.contains("effect.code is missing"), "{said}");
    assert!(said.contains("probability must be at most 1, not 2"), "{said}");
    let (_, rules) = ecs.get("/_ecsd/faults").await;
    assert_eq!(rules["faults"], serde_json::json!([]));
}

#[tokio::test]
async fn a_server_id_must_be_a_server_of_the_project() {
    let ecs = TestServer::start().await;
    let rule = |server: &str| {
        format!(
            r#"{{"operation": "stop", "server_id": "{server}", "count": 1, "effect": {{"kind": "sub_job_fail", "code": "Ecs.0226"}}}}"#
        )
    };
    for placeholder in ["<id>", "detail", "6a1e3c9d-0b7f-4e2a-9c5d-8f1b2a3c4d5e"] {
        let done = ctl(&ecs.base, &["faults", "add", &rule(placeholder)]).await;
        assert_eq!(done.status.code(), Some(2), "{placeholder}: {}", stderr(&done));
        assert!(stderr(&done).contains("is not a server of project"), "{}", stderr(&done));
    }
    let server = ecs.create_servers("web", "s6.small.1", 1).await.remove(0);
    let done = ctl(&ecs.base, &["faults", "add", &rule(&server)]).await;
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    let added: Value = serde_json::from_str(&stdout(&done)).expect("the rule as JSON on stdout");
    assert_eq!(added["server_id"], server.as_str());
    let id = added["id"].as_str().expect("id");
    assert_eq!(stderr(&done).trim(), format!("fault rule {id} added: stop → sub_job_fail"));
}

#[tokio::test]
async fn data_goes_to_stdout_and_one_line_to_stderr_with_exit_codes() {
    let ecs = TestServer::start().await;
    let saved = ctl(&ecs.base, &["snapshot", "save", "base"]).await;
    assert_eq!(saved.status.code(), Some(0));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&saved)).expect("json")["name"], "base");
    assert_eq!(stderr(&saved), "snapshot base saved\n");

    let listed = ctl(&ecs.base, &["faults", "list"]).await;
    assert_eq!(serde_json::from_str::<Value>(&stdout(&listed)).expect("json"), serde_json::json!({"faults": []}));
    assert_eq!(stderr(&listed), "0 fault rules\n");

    let deleted = ctl(&ecs.base, &["snapshot", "delete", "base"]).await;
    assert_eq!((deleted.status.code(), stdout(&deleted)), (Some(0), String::new()));
    assert_eq!(stderr(&deleted), "snapshot base deleted\n");

    let refused = ctl(&ecs.base, &["faults", "delete", "nope"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(stdout(&refused), "");
    assert_eq!(stderr(&refused), "error: ecsd answered 404: Ecs.1000: No fault rule nope.\n");

    let health = ctl(&ecs.base, &["health"]).await;
    assert_eq!(health.status.code(), Some(0));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&health)).expect("json")["status"], "ok");
    assert!(stderr(&health).starts_with("ecsd 0.1.0 is ok: store reachable, instant timings"), "{}", stderr(&health));
}

#[tokio::test]
async fn without_a_server_it_says_so() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("address");
    let base = format!("http://{free}");
    let done = ctl(&base, &["clock", "settle"]).await;
    assert_eq!(done.status.code(), Some(3));
    assert_eq!(stderr(&done), format!("error: no ecsd answering at {base} — is `ecsd serve` running?\n"));
}

#[test]
fn every_subcommand_explains_itself_and_the_exit_codes() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_ecsd")).args(["ctl", "--help"]).output().expect("runs");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Exit codes:") && text.contains("3  no ecsd answers at the endpoint"), "{text}");
    for sub in ["faults", "reset", "snapshot", "clock", "fixtures", "events", "auto-terminations", "health"] {
        let line = text.lines().find(|line| line.trim_start().starts_with(&format!("{sub} "))).unwrap_or_default();
        assert!(line.split_whitespace().count() > 2, "`ecsd ctl {sub}` has no help: {text}");
    }
}
