//! `ecsd ctl`: the test-control API from the command line. Each action is one signed request
//! to a running ecsd (a fault rule naming a server checks it first), with the credential from
//! the environment or the data dir.
//!
//! What it prints: the answer's JSON, when there is one, on stdout (for `jq` and scripts), and
//! one readable line on stderr saying what was done or what went wrong. Exit codes: 0 done,
//! 1 ecsd refused the call, 2 the command itself is wrong (a rule that is not valid, an
//! unreadable file, no credential), 3 no ecsd answers at the endpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use crate::api::signing::{percent_encode, sign_request};
use crate::config::Credential;
use crate::domain::faults::FaultSpec;

pub enum Action {
    AddFault {
        rule: String,
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
    Health,
    /// Lists the audit trail, or follows it.
    Events {
        /// The query's filters (`server_id`, `job_id`, `operation`, `kind`, `since`, `limit`).
        filters: Vec<(&'static str, String)>,
        follow: bool,
        json: bool,
    },
}

/// Why a command did not do what it was asked, and the exit code that says so.
#[derive(Debug)]
pub enum Failure {
    /// The command is wrong: every mistake found, each on its own line.
    Invalid(Vec<String>),
    /// ecsd answered with an error.
    Refused { status: u16, detail: String },
    /// Nothing answers at the endpoint.
    Unreachable(String),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Refused { .. } => 1,
            Failure::Invalid(_) => 2,
            Failure::Unreachable(_) => 3,
        })
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid(mistakes) if mistakes.len() == 1 => write!(f, "{}", mistakes[0]),
            Failure::Invalid(mistakes) => {
                write!(f, "{} mistakes:", mistakes.len())?;
                mistakes.iter().try_for_each(|mistake| write!(f, "\n  - {mistake}"))
            }
            Failure::Refused { status, detail } => write!(f, "ecsd answered {status}: {detail}"),
            Failure::Unreachable(message) => f.write_str(message),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Invalid(vec![format!("{error:#}")])
    }
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

/// Runs one action; prints its data on stdout and what happened on stderr.
pub async fn run(endpoint: &str, credential: &Credential, action: Action) -> Result<(), Failure> {
    let client = Client { endpoint: endpoint.trim_end_matches('/').to_string(), credential };
    let (method, path, body, done): (&str, String, Option<Value>, Done) = match action {
        Action::Events { filters, follow, json } => return events(&client, filters, follow, json).await,
        Action::AddFault { rule } => {
            let rule = check_rule(&rule)?;
            client.check_server(&rule).await?;
            ("POST", "/_ecsd/faults".into(), Some(rule), Box::new(added_rule))
        }
        Action::ListFaults => ("GET", "/_ecsd/faults".into(), None, counted("faults", "fault rules")),
        Action::DeleteFault { id } => {
            let line = format!("fault rule {id} deleted; the sub-jobs it held go on");
            ("DELETE", format!("/_ecsd/faults/{id}"), None, fixed(line))
        }
        Action::ReleaseFault { id } => {
            let path = format!("/_ecsd/faults/{id}/release");
            let done = move |answer: &Value| format!("released {} sub-jobs held by {id}", answer["released"]);
            ("POST", path, None, Box::new(done))
        }
        Action::Reset { project_id } => {
            let line = match &project_id {
                Some(project) => format!("project {project} reset"),
                None => "every project reset, every fault rule removed".to_string(),
            };
            ("POST", "/_ecsd/reset".into(), project_id.map(|p| json!({ "project_id": p })), fixed(line))
        }
        Action::SaveSnapshot { name } => {
            let line = format!("snapshot {name} saved");
            ("POST", "/_ecsd/snapshots".into(), Some(json!({ "name": name })), fixed(line))
        }
        Action::RestoreSnapshot { name } => {
            let line = format!("snapshot {name} restored");
            ("POST", format!("/_ecsd/snapshots/{name}/restore"), None, fixed(line))
        }
        Action::ListSnapshots => ("GET", "/_ecsd/snapshots".into(), None, counted("snapshots", "snapshots")),
        Action::DeleteSnapshot { name } => {
            let line = format!("snapshot {name} deleted");
            ("DELETE", format!("/_ecsd/snapshots/{name}"), None, fixed(line))
        }
        Action::AdvanceClock { seconds } => {
            let done = move |answer: &Value| format!("clock advanced by {seconds} s; now {}", text(&answer["now"]));
            ("POST", "/_ecsd/clock/advance".into(), Some(json!({ "seconds": seconds })), Box::new(done))
        }
        Action::SettleClock => {
            let done = |answer: &Value| format!("settled: nothing pending; now {}", text(&answer["now"]));
            ("POST", "/_ecsd/clock/settle".into(), None, Box::new(done))
        }
        Action::LoadFixtures { file } => {
            let fixtures = read_fixtures(&file)?;
            ("POST", "/_ecsd/fixtures".into(), Some(fixtures), counted("servers", "servers loaded"))
        }
        Action::ScheduleEvent { event } => {
            let done = |answer: &Value| format!("event {} raised", text(&answer["id"]));
            ("POST", "/_ecsd/scheduled-events".into(), Some(event), Box::new(done))
        }
        Action::ListAutoTerminations => {
            ("GET", "/_ecsd/auto-terminations".into(), None, counted("auto_terminations", "scheduled deletions"))
        }
        Action::Health => {
            let done = |answer: &Value| {
                format!(
                    "ecsd {} is {}: store {}, {} timings, up {} s",
                    text(&answer["version"]),
                    text(&answer["status"]),
                    text(&answer["store"]),
                    text(&answer["timings"]),
                    answer["uptime_seconds"]
                )
            };
            ("GET", "/_ecsd/health".into(), None, Box::new(done))
        }
    };
    let answer = client.call(method, &path, body.as_ref()).await?;
    if !answer.is_null() {
        println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
    }
    eprintln!("{}", done(&answer));
    Ok(())
}

/// `ecsd ctl events`: the records the filters pick, then with `follow` those stored after them.
async fn events(
    client: &Client<'_>,
    mut filters: Vec<(&'static str, String)>,
    follow: bool,
    json: bool,
) -> Result<(), Failure> {
    let print = |record: &Value| {
        if json {
            println!("{record}");
        } else {
            println!("{}", event_line(record));
        }
    };
    let listed = client.call("GET", &format!("/_ecsd/events{}", query(&filters)), None).await?;
    let records = listed["events"].as_array().cloned().unwrap_or_default();
    if !json {
        println!("{:>6}  {:<12}  {:<7}  {:<28}  {:<7}  DETAIL", "ID", "TIME", "KIND", "OPERATION", "STATUS");
    }
    records.iter().for_each(print);
    if !follow {
        eprintln!("{} records", records.len());
        return Ok(());
    }
    filters.retain(|(name, _)| !matches!(*name, "since" | "limit"));
    if let Some(last) = records.last() {
        filters.push(("since", last["id"].to_string()));
    } else if let Some(since) = filters.iter().position(|(name, _)| *name == "since") {
        filters.remove(since);
    }
    let mut response = client.open("GET", &format!("/_ecsd/events/stream{}", query(&filters))).await?;
    let mut pending = String::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                eprintln!("the stream ended: ecsd stopped");
                return Ok(());
            }
            Err(error) => return Err(client.unreachable(&error)),
        };
        pending.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = pending.find("\n\n") {
            let block: String = pending.drain(..end + 2).collect();
            let data: String =
                block.lines().filter_map(|line| line.strip_prefix("data:")).map(str::trim_start).collect();
            if let Ok(record) = serde_json::from_str::<Value>(&data) {
                print(&record);
            }
        }
    }
}

fn query(filters: &[(&str, String)]) -> String {
    if filters.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> =
        filters.iter().map(|(name, value)| format!("{name}={}", percent_encode(value.as_bytes()))).collect();
    format!("?{}", pairs.join("&"))
}

/// One record as a line of the table: id, the time of day (real), kind, operation, status, and
/// what it touched or why it failed.
fn event_line(record: &Value) -> String {
    let time = text(&record["time"]);
    let time = time.split('T').nth(1).unwrap_or(&time).trim_end_matches('Z').to_string();
    let servers: Vec<String> = record["server_ids"].as_array().into_iter().flatten().map(text).collect();
    let mut detail = Vec::new();
    if let Some(code) = record["code"].as_str() {
        detail.push(code.to_string());
    }
    if let Some(job) = record["job_id"].as_str() {
        detail.push(format!("job {job}"));
    }
    match servers.len() {
        0 => {}
        1 => detail.push(format!("server {}", servers[0])),
        n => detail.push(format!("{n} servers")),
    }
    if let Some(message) = record["message"].as_str() {
        detail.push(message.to_string());
    }
    format!(
        "{:>6}  {:<12}  {:<7}  {:<28}  {:<7}  {}",
        record["id"],
        time,
        text(&record["kind"]),
        text(&record["operation"]),
        text(&record["status"]),
        detail.join("  ")
    )
}

/// The line that says what was done, from the answer.
type Done = Box<dyn FnOnce(&Value) -> String + Send>;

fn fixed(line: String) -> Done {
    Box::new(move |_| line)
}

/// "3 fault rules", from the length of the answer's list `key`.
fn counted(key: &'static str, what: &'static str) -> Done {
    Box::new(move |answer| format!("{} {what}", answer[key].as_array().map_or(0, Vec::len)))
}

fn added_rule(rule: &Value) -> String {
    format!("fault rule {} added: {} → {}", text(&rule["id"]), text(&rule["operation"]), text(&rule["effect"]["kind"]))
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

/// A fault rule as given on the command line, checked against the API's own schema (the
/// OpenAPI document of this binary) so that every mistake is reported at once, with the valid
/// choices; then against the type ecsd reads it into, for what the schema does not say.
pub fn check_rule(text: &str) -> Result<Value, Failure> {
    let rule: Value =
        serde_json::from_str(text).map_err(|error| Failure::Invalid(vec![format!("the rule is not JSON: {error}")]))?;
    let document = serde_json::to_value(crate::api::openapi::document()).map_err(anyhow::Error::from)?;
    let mut mistakes = Vec::new();
    Schema { document: &document }.check(&json!({"$ref": "#/components/schemas/FaultSpec"}), &rule, "", &mut mistakes);
    if mistakes.is_empty()
        && let Err(error) = serde_json::from_value::<FaultSpec>(rule.clone())
    {
        mistakes.push(error.to_string());
    }
    if mistakes.is_empty() { Ok(rule) } else { Err(Failure::Invalid(mistakes)) }
}

/// The subset of JSON Schema the document uses for request bodies: `$ref`, `type` (one or a
/// list), `enum`, `required`, `properties`, `additionalProperties: false`, `minimum`,
/// `maximum`, and `oneOf` over objects told apart by a property with one allowed value (the
/// effect's `kind`).
struct Schema<'a> {
    document: &'a Value,
}

impl Schema<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => &self.document["components"]["schemas"][name],
            None => schema,
        }
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, mistakes: &mut Vec<String>) {
        self.check_object(schema, value, at, false, mistakes);
    }

    /// `closed`: unknown fields are mistakes even where the schema does not say so (a variant
    /// of an effect: ecsd's enums refuse unknown fields, which utoipa leaves out of `oneOf`).
    fn check_object(&self, schema: &Value, value: &Value, at: &str, closed: bool, mistakes: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let name = if at.is_empty() { "the rule" } else { at };
        if let Some(variants) = schema["oneOf"].as_array() {
            return self.check_variants(variants, value, at, mistakes);
        }
        if let Some(types) = types(schema)
            && !types.iter().any(|t| is_type(value, t))
        {
            let wanted: Vec<&str> = types.iter().map(|t| type_name(t)).collect();
            mistakes.push(format!("{name} must be {}, not {}", wanted.join(" or "), json_type(value)));
            return;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            mistakes.push(format!("{name}: {value} is not one of {}", choices(allowed)));
        }
        if let Some(number) = value.as_f64() {
            if let Some(minimum) = schema["minimum"].as_f64()
                && number < minimum
            {
                mistakes.push(format!("{name} must be at least {}, not {value}", schema["minimum"]));
            }
            if let Some(maximum) = schema["maximum"].as_f64()
                && number > maximum
            {
                mistakes.push(format!("{name} must be at most {}, not {value}", schema["maximum"]));
            }
        }
        let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object()) else {
            return;
        };
        for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(required) {
                mistakes.push(format!("{} is missing", join(at, required)));
            }
        }
        for (key, field) in object {
            match properties.get(key) {
                Some(property) => self.check(property, field, &join(at, key), mistakes),
                None if closed || schema["additionalProperties"] == Value::Bool(false) => {
                    let known: Vec<Value> = properties.keys().map(|k| Value::String(k.clone())).collect();
                    mistakes.push(format!("{}: unknown field; the fields are {}", join(at, key), choices(&known)));
                }
                None => {}
            }
        }
    }

    fn check_variants(&self, variants: &[Value], value: &Value, at: &str, mistakes: &mut Vec<String>) {
        let variants: Vec<&Value> = variants.iter().map(|v| self.resolve(v)).collect();
        let Some(tag) = variants.first().and_then(|first| {
            first["properties"].as_object()?.iter().find_map(|(key, property)| {
                let single = property["enum"].as_array().is_some_and(|values| values.len() == 1);
                single.then_some(key.as_str())
            })
        }) else {
            return;
        };
        let kinds: Vec<Value> = variants.iter().map(|v| v["properties"][tag]["enum"][0].clone()).collect();
        let Some(object) = value.as_object() else {
            mistakes.push(format!("{at} must be an object with a {tag}: one of {}", choices(&kinds)));
            return;
        };
        match object.get(tag) {
            None => mistakes.push(format!("{} is missing: one of {}", join(at, tag), choices(&kinds))),
            Some(kind) => match kinds.iter().position(|k| k == kind) {
                Some(index) => self.check_object(variants[index], value, at, true, mistakes),
                None => mistakes.push(format!("{}: {kind} is not one of {}", join(at, tag), choices(&kinds))),
            },
        }
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() { key.to_string() } else { format!("{at}.{key}") }
}

fn choices(values: &[Value]) -> String {
    values.iter().map(text).collect::<Vec<_>>().join(", ")
}

fn types(schema: &Value) -> Option<Vec<&str>> {
    match &schema["type"] {
        Value::String(one) => Some(vec![one.as_str()]),
        Value::Array(many) => Some(many.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

fn type_name(name: &str) -> &str {
    match name {
        "boolean" => "a boolean",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "an object",
        other => other,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fraction",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// An error answer: the ECS body, the gateway's, or whatever came.
fn refusal(status: u16, answer: &Value) -> Failure {
    let detail = match (&answer["error"]["code"], &answer["error_code"]) {
        (Value::String(code), _) => format!("{code}: {}", text(&answer["error"]["message"])),
        (_, Value::String(code)) => format!("{code}: {}", text(&answer["error_msg"])),
        _ => text(answer),
    };
    Failure::Refused { status, detail }
}

struct Client<'a> {
    endpoint: String,
    credential: &'a Credential,
}

impl Client<'_> {
    /// One signed call; the answer's JSON (null when it has none), or why not.
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, Failure> {
        let response = self.send(method, path, body).await?;
        let status = response.status();
        let raw = response.text().await.map_err(|error| self.unreachable(&error))?;
        let answer =
            if raw.is_empty() { Value::Null } else { serde_json::from_str(&raw).unwrap_or(Value::String(raw)) };
        if status.is_success() {
            return Ok(answer);
        }
        Err(refusal(status.as_u16(), &answer))
    }

    /// A signed call whose answer is read as it comes (a stream), once it is known to succeed.
    async fn open(&self, method: &str, path: &str) -> Result<reqwest::Response, Failure> {
        let response = self.send(method, path, None).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let raw = response.text().await.map_err(|error| self.unreachable(&error))?;
        Err(refusal(status, &serde_json::from_str(&raw).unwrap_or(Value::String(raw))))
    }

    async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<reqwest::Response, Failure> {
        let body = body.map(serde_json::to_vec).transpose().map_err(anyhow::Error::from)?.unwrap_or_default();
        let url = format!("{}{path}", self.endpoint);
        let headers = sign_request(
            &self.credential.access_key,
            &self.credential.secret_key,
            method,
            &url,
            &[("content-type", "application/json")],
            &body,
        )
        .map_err(|error| Failure::Invalid(vec![format!("{url} cannot be signed: {error}")]))?;
        let method: reqwest::Method = method.parse().map_err(anyhow::Error::from)?;
        let request = reqwest::Client::new().request(method, &url);
        let request = headers.iter().fold(request, |request, (name, value)| request.header(name, value));
        request.body(body).send().await.map_err(|error| self.unreachable(&error))
    }

    fn unreachable(&self, error: &reqwest::Error) -> Failure {
        if error.is_connect() || error.is_timeout() {
            Failure::Unreachable(format!("no ecsd answering at {} — is `ecsd serve` running?", self.endpoint))
        } else {
            Failure::Unreachable(format!("calling ecsd at {}: {error}", self.endpoint))
        }
    }

    /// A rule naming a server must name one of the project's servers: a placeholder or a
    /// mistyped id would make a rule that never fires.
    async fn check_server(&self, rule: &Value) -> Result<(), Failure> {
        let Some(server_id) = rule["server_id"].as_str() else { return Ok(()) };
        let project = rule["project_id"].as_str().unwrap_or(&self.credential.project_id);
        let not_a_server = || {
            Failure::Invalid(vec![format!(
                "server_id {server_id:?} is not a server of project {project} (`GET /v1/{project}/cloudservers/detail` lists them)"
            )])
        };
        let path = format!("/v1/{project}/cloudservers/{}", percent_encode(server_id.as_bytes()));
        match self.call("GET", &path, None).await {
            // A word of the API (`detail`) answers too, with something else than this server.
            Ok(answer) if answer["server"]["id"] == server_id => Ok(()),
            Ok(_) | Err(Failure::Refused { status: 404, .. }) => Err(not_a_server()),
            Err(Failure::Refused { status, detail }) => Err(Failure::Invalid(vec![format!(
                "server_id {server_id:?} cannot be checked in project {project} with this credential ({status}: {detail})"
            )])),
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mistakes(rule: &str) -> Vec<String> {
        match check_rule(rule) {
            Err(Failure::Invalid(mistakes)) => mistakes,
            other => panic!("{rule} was not refused: {other:?}"),
        }
    }

    #[test]
    fn every_mistake_of_a_rule_is_reported_with_the_choices() {
        let found = mistakes(r#"{"operation": "sotp", "effect": {"kind": "sub_job_fail"}, "count": -1, "colour": 1}"#);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found.iter().any(|m| m.starts_with("operation: \"sotp\" is not one of create, start, stop")),
            "{found:#?}"
        );
        assert!(found.contains(&"effect.code is missing".to_string()), "{found:#?}");
        assert!(found.iter().any(|m| m.starts_with("count must be at least 0")), "{found:#?}");
        assert!(
            found.iter().any(|m| m.starts_with("colour: unknown field; the fields are count, effect")),
            "{found:#?}"
        );
    }

    #[test]
    fn an_effect_is_checked_by_its_kind() {
        let found = mistakes(r#"{"operation": "stop", "effect": {"kind": "explode"}}"#);
        assert_eq!(
            found,
            ["effect.kind: \"explode\" is not one of sub_job_fail, precheck_fail, http_error, delay, hang"]
        );
        let found = mistakes(r#"{"operation": "any", "effect": {"kind": "http_error", "status": 200, "code": 7}}"#);
        assert_eq!(
            found,
            ["effect.code must be a string, not an integer", "effect.status must be at least 400, not 200"]
        );
        assert_eq!(mistakes(r#"{"operation": "stop"}"#), ["effect is missing"]);
        assert_eq!(
            mistakes(r#"{"operation": "stop", "effect": {"kind": "hang", "ms": 5}}"#),
            ["effect.ms: unknown field; the fields are kind"]
        );
        assert!(mistakes("{not json")[0].starts_with("the rule is not JSON"));
    }

    #[test]
    fn a_valid_rule_passes_as_given() {
        let rule = r#"{"operation": "stop", "count": 1, "probability": 0.5, "effect": {"kind": "sub_job_fail", "code": "Ecs.0226"}}"#;
        assert_eq!(check_rule(rule).expect("valid"), serde_json::from_str::<Value>(rule).expect("json"));
    }
}
