//! `ecsd ctl`: the test-control API from the command line. Each action is one signed request
//! to a running ecsd, with the credential from the environment or the data dir.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use crate::api::signing::sign_request;
use crate::config::Credential;

pub enum Action {
    AddFault {
        rule: Value,
    },
    ListFaults,
    DeleteFault {
        id: String,
    },
    ReleaseFault {
        id: String,
    },
    Reset {
        project_id: Option<String>,
    },
    SaveSnapshot {
        name: String,
    },
    RestoreSnapshot {
        name: String,
    },
    ListSnapshots,
    DeleteSnapshot {
        name: String,
    },
    AdvanceClock {
        seconds: f64,
    },
    SettleClock,
    LoadFixtures {
        file: PathBuf,
    },
    /// Raises a scheduled event (the JSON body of `POST /_ecsd/scheduled-events`).
    ScheduleEvent {
        event: Value,
    },
    ListAutoTerminations,
}

/// Reads a fixtures file: JSON, or TOML when the name ends in `.toml`.
pub fn read_fixtures(file: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    if file.extension().is_some_and(|e| e == "toml") {
        let value: toml::Value = toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        Ok(serde_json::to_value(value)?)
    } else {
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))
    }
}

pub async fn run(endpoint: &str, credential: &Credential, action: Action) -> anyhow::Result<()> {
    let (method, path, body) = match action {
        Action::AddFault { rule } => ("POST", "/_ecsd/faults".to_string(), Some(rule)),
        Action::ListFaults => ("GET", "/_ecsd/faults".to_string(), None),
        Action::DeleteFault { id } => ("DELETE", format!("/_ecsd/faults/{id}"), None),
        Action::ReleaseFault { id } => ("POST", format!("/_ecsd/faults/{id}/release"), None),
        Action::Reset { project_id } => {
            ("POST", "/_ecsd/reset".to_string(), project_id.map(|p| json!({"project_id": p})))
        }
        Action::SaveSnapshot { name } => ("POST", "/_ecsd/snapshots".to_string(), Some(json!({ "name": name }))),
        Action::RestoreSnapshot { name } => ("POST", format!("/_ecsd/snapshots/{name}/restore"), None),
        Action::ListSnapshots => ("GET", "/_ecsd/snapshots".to_string(), None),
        Action::DeleteSnapshot { name } => ("DELETE", format!("/_ecsd/snapshots/{name}"), None),
        Action::AdvanceClock { seconds } => {
            ("POST", "/_ecsd/clock/advance".to_string(), Some(json!({ "seconds": seconds })))
        }
        Action::SettleClock => ("POST", "/_ecsd/clock/settle".to_string(), None),
        Action::LoadFixtures { file } => ("POST", "/_ecsd/fixtures".to_string(), Some(read_fixtures(&file)?)),
        Action::ScheduleEvent { event } => ("POST", "/_ecsd/scheduled-events".to_string(), Some(event)),
        Action::ListAutoTerminations => ("GET", "/_ecsd/auto-terminations".to_string(), None),
    };
    let body = body.map(|b| serde_json::to_vec(&b)).transpose()?.unwrap_or_default();
    let url = format!("{}{path}", endpoint.trim_end_matches('/'));
    let headers = sign_request(
        &credential.access_key,
        &credential.secret_key,
        method,
        &url,
        &[("content-type", "application/json")],
        &body,
    )?;
    let request = reqwest::Client::new().request(method.parse()?, &url);
    let request = headers.iter().fold(request, |request, (name, value)| request.header(name, value));
    let response = request.body(body).send().await.context("calling ecsd")?;
    let status = response.status();
    let text = response.text().await?;
    match serde_json::from_str::<Value>(&text) {
        Ok(value) => println!("{}", serde_json::to_string_pretty(&value)?),
        Err(_) if text.is_empty() => println!("{status}"),
        Err(_) => println!("{text}"),
    }
    if !status.is_success() {
        anyhow::bail!("ecsd answered {status}");
    }
    Ok(())
}
