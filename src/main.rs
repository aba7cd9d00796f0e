use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use ecsd::config::{Config, ConfigFile, Credential, Limits, TimingsMode, TlsFiles};

#[derive(Parser)]
#[command(
    name = "ecsd",
    version,
    about = "A local Elastic Cloud Server (ECS) API endpoint for testing cloud automation"
)]
struct Cli {
    /// How log lines (on stderr) are written: `text` for people, `json` (one object a line) for
    /// machines. The level filter is `ECSD_LOG` (default `info`).
    #[arg(long, env = "ECSD_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ECS API (and its neighbours, and the /_ecsd/ control API).
    Serve(Box<ServeArgs>),
    /// Create, list and revoke access keys in the data dir (works while the server runs).
    Keys {
        /// The data dir of the server.
        #[arg(long, env = "ECSD_DATA_DIR", default_value = "./ecsd-data", global = true)]
        data_dir: PathBuf,
        /// The server's store: `sqlite` (in the data dir) or its PostgreSQL URL.
        #[arg(long, env = "ECSD_STORE", default_value = "sqlite", global = true)]
        store: String,
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Control a running ecsd for tests: fault rules, reset, snapshots, time, fixtures.
    ///
    /// Each command is one signed call to the control API under /_ecsd/ (docs/testing.md). The
    /// answer's JSON goes to stdout; one line saying what was done, or what went wrong, goes to
    /// stderr.
    #[command(after_help = CTL_EXIT_CODES)]
    Ctl {
        /// The ecsd to control.
        #[arg(long, env = "ECSD_ENDPOINT", default_value = "http://127.0.0.1:8774", global = true)]
        endpoint: String,
        /// Where to find the bootstrap credential when ECSD_ACCESS_KEY, ECSD_SECRET_KEY and
        /// ECSD_PROJECT_ID are not all set.
        #[arg(long, env = "ECSD_DATA_DIR", default_value = "./ecsd-data", global = true)]
        data_dir: PathBuf,
        #[command(subcommand)]
        action: CtlAction,
    },
}

const CTL_EXIT_CODES: &str = "Exit codes:
  0  done
  1  ecsd refused the call (the line on stderr has its status, code and message)
  2  the command is wrong: an invalid fault rule (every mistake is listed), a server_id that
     is not a server of the project, an unreadable file, no credential
  3  no ecsd answers at the endpoint";

#[derive(Subcommand)]
enum CtlAction {
    /// Fault rules: make the next operations fail, answer late, or hang.
    #[command(subcommand)]
    Faults(FaultsAction),
    /// Remove the servers, jobs and client tokens of one project (or, with an admin
    /// credential and no --project-id, of every project, and every fault rule).
    Reset {
        /// The project to reset (32 hex characters); every project when omitted.
        #[arg(long)]
        project_id: Option<String>,
    },
    /// Named snapshots of the whole state (admin credential): save, restore, list, delete.
    #[command(subcommand)]
    Snapshot(SnapshotAction),
    /// Simulated time: advance it, or settle every pending transition now.
    #[command(subcommand)]
    Clock(ClockAction),
    /// Load a fleet, created directly in its stable statuses, into the caller's project.
    Fixtures {
        /// A JSON or TOML (*.toml) file: {"servers": [{"name", "flavor", "status", "tags",
        /// "count", "metadata", "server_group"}], "server_groups": [{"name"}]}.
        file: PathBuf,
    },
    /// The audit trail: calls, job and sub-job transitions, fault rules that fired (as a table,
    /// or JSON lines); `events schedule` raises a scheduled event instead.
    Events(Box<EventsArgs>),
    /// List the scheduled deletions (UpdateServerAutoTerminateTime) and their delete jobs.
    AutoTerminations,
    /// Whether ecsd answers: its version, store, timings and uptime (needs no credential).
    Health,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct EventsArgs {
    #[command(subcommand)]
    action: Option<EventsAction>,
    /// Keep printing records as they are stored (from the event stream) until interrupted.
    #[arg(long)]
    follow: bool,
    /// One JSON object a line instead of a table.
    #[arg(long)]
    json: bool,
    /// Records naming this server.
    #[arg(long)]
    server_id: Option<String>,
    /// Records of this job.
    #[arg(long)]
    job_id: Option<String>,
    /// Records of this operation (BatchStopServers, stopServer, stop).
    #[arg(long)]
    operation: Option<String>,
    /// call, job, sub_job or fault.
    #[arg(long)]
    kind: Option<String>,
    /// Records after this id, or at or after this RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Most records listed (1 to 1000; default 100, the newest when --since is absent).
    #[arg(long)]
    limit: Option<u64>,
}

#[derive(Subcommand)]
enum EventsAction {
    /// Raise a scheduled event (as the platform does for host maintenance) for a server; accepting it (or reaching not_before) runs its action as a job.
    Schedule {
        /// The server the event is for (a server of the caller's project).
        #[arg(long)]
        server_id: String,
        /// instance-reboot, instance-stop, instance-migrate, instance-redeploy or system-maintenance.
        #[arg(long = "type")]
        event_type: String,
        /// inquiring (waits for AcceptScheduledEvent) or scheduled (runs at --not-before).
        #[arg(long, default_value = "inquiring")]
        state: String,
        /// When a scheduled event runs, yyyy-MM-ddTHH:mm:ssZ (24 hours from now by default).
        #[arg(long)]
        not_before: Option<String>,
        /// The latest not_before a user may move it to, yyyy-MM-ddTHH:mm:ssZ (7 days from now
        /// by default).
        #[arg(long)]
        deadline: Option<String>,
        /// What the event tells the user.
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Subcommand)]
enum FaultsAction {
    /// Add a rule: checked first, every mistake reported at once; a server_id must be a server
    /// of the project.
    #[command(after_help = "Example:
  ecsd ctl faults add '{\"operation\": \"stop\", \"count\": 1,
    \"effect\": {\"kind\": \"sub_job_fail\", \"code\": \"Ecs.0226\", \"message\": \"stop failed\"}}'

Fields: operation (required), effect (required: kind sub_job_fail, precheck_fail, http_error,
delay or hang), server_id, name_pattern, tag, project_id, probability, count, seed.")]
    Add {
        /// The rule as JSON (docs/testing.md, "Fault rules").
        rule: String,
    },
    /// List the rules with how often each fired.
    List,
    /// Remove a rule; the sub-jobs it holds go on.
    Delete {
        /// The rule's id, as `faults add` or `faults list` shows it.
        id: String,
    },
    /// Let the sub-jobs a hang rule holds go on; the rule stays.
    Release {
        /// The rule's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum SnapshotAction {
    /// Save the whole state under a name (replacing a snapshot of that name).
    Save {
        /// 1 to 64 letters, digits, '_', '.' or '-'.
        name: String,
    },
    /// Put a saved state back: list and show answer as when it was saved.
    Restore {
        /// The snapshot's name.
        name: String,
    },
    /// List the saved snapshots.
    List,
    /// Delete a snapshot.
    Delete {
        /// The snapshot's name.
        name: String,
    },
}

#[derive(Subcommand)]
enum ClockAction {
    /// Move simulated time forward; every transition and timer due meanwhile is applied first.
    Advance {
        /// How far, from 0 to 31536000 (a year).
        seconds: f64,
    },
    /// Finish every pending transition now (of the caller's project, or all with an admin
    /// credential).
    Settle,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Create an access key for a project (the project is created if new); prints the secret key once.
    Create {
        /// 32 lower-case hex characters; a new random project when omitted.
        #[arg(long)]
        project_id: Option<String>,
        /// What the key is for, shown by `ecsd keys list`.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List access keys (never their secret keys).
    List,
    /// Revoke an access key: requests signed with it are refused from now on.
    Revoke {
        /// The access key to revoke.
        access_key: String,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ECSD_LISTEN", default_value = "127.0.0.1:8774")]
    listen: SocketAddr,
    /// Where the embedded store and the bootstrap credential live.
    #[arg(long, env = "ECSD_DATA_DIR", default_value = "./ecsd-data")]
    data_dir: PathBuf,
    /// Where the state is kept: `sqlite` (in the data dir, for one ecsd) or a PostgreSQL URL
    /// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`) that several ecsd replicas share.
    #[arg(long, env = "ECSD_STORE", default_value = "sqlite", hide_env_values = true)]
    store: String,
    /// Keep everything in a new temporary data dir, removed when ecsd exits (on SIGTERM or
    /// Ctrl-C; a SIGKILL leaves it in the system's temporary dir). `--data-dir` is then unused.
    #[arg(long, env = "ECSD_EPHEMERAL")]
    ephemeral: bool,
    /// Start from an empty store: servers, jobs, fault rules, snapshots, keys made with
    /// `ecsd keys` and the clock go; the bootstrap credential file stays.
    #[arg(long, env = "ECSD_RESET_ON_START")]
    reset_on_start: bool,
    /// How long transitions take.
    #[arg(long, env = "ECSD_TIMINGS", value_enum, default_value = "realistic")]
    timings: TimingsMode,
    /// TOML file with flavors, images, VPCs/subnets, availability zones, quota and durations.
    #[arg(long, env = "ECSD_CONFIG")]
    config: Option<PathBuf>,
    /// Bootstrap access key (generated on first start when unset).
    #[arg(long, env = "ECSD_ACCESS_KEY", requires_all = ["secret_key", "project_id"])]
    access_key: Option<String>,
    /// Bootstrap secret key.
    #[arg(long, env = "ECSD_SECRET_KEY", hide_env_values = true, requires_all = ["access_key", "project_id"])]
    secret_key: Option<String>,
    /// Project the bootstrap credential may use.
    #[arg(long, env = "ECSD_PROJECT_ID", requires_all = ["access_key", "secret_key"])]
    project_id: Option<String>,
    /// A fleet (JSON or TOML) to load into the bootstrap project when it has no servers yet.
    #[arg(long, env = "ECSD_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// Accept every request unsigned: for quick local experiments only.
    #[arg(long, env = "ECSD_NO_AUTH")]
    no_auth: bool,
    /// Open connections at most; more wait in the listen backlog until one closes.
    #[arg(long, env = "ECSD_MAX_CONNECTIONS", default_value_t = 512)]
    max_connections: usize,
    /// Seconds a connection has to send a whole request head (from its opening, or from the
    /// first byte of a later head).
    #[arg(long, env = "ECSD_HEADER_READ_TIMEOUT", default_value_t = 10.0)]
    header_read_timeout: f64,
    /// Seconds a kept-alive connection may idle between requests before it is closed.
    #[arg(long, env = "ECSD_IDLE_TIMEOUT", default_value_t = 60.0)]
    idle_timeout: f64,
    /// Seconds a web console session lasts from sign-in (12 hours by default).
    #[arg(long, env = "ECSD_CONSOLE_SESSION", default_value_t = 43200.0)]
    console_session: f64,
    /// The region's name: the Keystone catalog's region and the default project name
    /// (default: the config file's `region`, else eu-de).
    #[arg(long, env = "ECSD_REGION")]
    region: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "ECSD_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "ECSD_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Most records the audit trail keeps (`GET /_ecsd/events`); older ones are trimmed.
    #[arg(long, env = "ECSD_EVENTS_MAX", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    events_max: u64,
    /// Hours a record of the audit trail is kept at most (real time).
    #[arg(long, env = "ECSD_EVENTS_MAX_AGE_HOURS", default_value_t = 24.0)]
    events_max_age_hours: f64,
    /// Record reads in the audit trail too, not only the calls that change something.
    #[arg(long, env = "ECSD_EVENTS_READS")]
    events_reads: bool,
    /// Also serve Prometheus metrics (`GET /metrics`) on this address, to anyone: for a
    /// scraper that cannot sign requests. On the main address they need an admin credential.
    #[arg(long, env = "ECSD_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

/// A number of seconds from the command line, as a duration (a tenth of a second to a day).
fn seconds(name: &str, value: f64) -> anyhow::Result<std::time::Duration> {
    if !(0.1..=86_400.0).contains(&value) {
        anyhow::bail!("--{name} must be between 0.1 and 86400 seconds, not {value}");
    }
    Ok(std::time::Duration::from_secs_f64(value))
}

/// A number of hours from the command line, as a duration (a minute to ten years).
fn hours(name: &str, value: f64) -> anyhow::Result<std::time::Duration> {
    if !(1.0 / 60.0..=87_600.0).contains(&value) {
        anyhow::bail!("--{name} must be between 0.0167 (a minute) and 87600 hours, not {value}");
    }
    Ok(std::time::Duration::from_secs_f64(value * 3600.0))
}

/// Store calls run on tokio's blocking pool; a bounded pool keeps memory flat under load
/// (each thread gets its own allocator arena), and writes queue on one connection anyway.
const MAX_BLOCKING_THREADS: usize = 32;

/// glibc's malloc gives threads that allocate at the same time arenas of their own (up to eight
/// per core) and keeps in each what was freed there: with the store's calls spread over the
/// blocking pool's threads, an ecsd that had grown 10,000 servers held about 150 MiB, most of it
/// freed memory kept in a dozen arenas; with two, half that. Set before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_allocator_arenas() {
    // SAFETY: mallopt only sets a tunable of the allocator; no thread allocates yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_allocator_arenas() {}

fn main() -> ExitCode {
    limit_allocator_arenas();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(MAX_BLOCKING_THREADS).build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(code) => code,
        Err(error) => {
            // One line with every cause, and no backtrace: the operator needs the why.
            eprintln!("Error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let args = match cli.command {
        Command::Serve(args) => *args,
        Command::Keys { data_dir, store, action } => {
            let store = ecsd::config::StoreChoice::parse(&store)?;
            return ecsd::keys::run(&data_dir, &store, action.into()).map(|()| ExitCode::SUCCESS);
        }
        Command::Ctl { endpoint, data_dir, action } => return Ok(ctl(&endpoint, &data_dir, action).await),
    };
    // Held until ecsd exits: dropping it removes the directory.
    let ephemeral = if args.ephemeral {
        let mut builder = tempfile::Builder::new();
        builder.prefix("ecsd-ephemeral-");
        // The store holds secret keys: only the owner may enter, as with a data dir ecsd creates.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        Some(builder.tempdir().context("creating a temporary data dir")?)
    } else {
        None
    };
    let data_dir = ephemeral.as_ref().map_or(args.data_dir, |dir| dir.path().to_path_buf());
    let file = match &args.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    file.check_project_ids()?;
    let credential = match (args.access_key, args.secret_key, args.project_id) {
        (Some(access_key), Some(secret_key), Some(project_id)) => {
            Some(Credential { access_key, secret_key, project_id })
        }
        _ => None,
    };
    let config = Config {
        listen: args.listen,
        data_dir,
        store: ecsd::config::StoreChoice::parse(&args.store)?,
        timings: file.timings(args.timings),
        catalogue: file.catalogue()?,
        credential,
        auth: !args.no_auth,
        projects: file.projects.clone(),
        access_keys: file.access_keys.clone(),
        users: file.users.clone(),
        fixtures: args.fixtures.as_deref().map(ecsd::ctl::read_fixtures).transpose()?,
        limits: Limits {
            max_connections: args.max_connections.max(1),
            header_read_timeout: seconds("header-read-timeout", args.header_read_timeout)?,
            idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
            console_session: seconds("console-session", args.console_session)?,
        },
        tls: args.tls_cert.zip(args.tls_key).map(|(cert, key)| TlsFiles { cert, key }),
        reset_on_start: args.reset_on_start,
        region: args.region.or(file.region.clone()).unwrap_or_else(|| ecsd::config::DEFAULT_REGION.into()),
        trail: ecsd::audit::TrailConfig {
            retention: ecsd::domain::events::Retention {
                max_events: args.events_max,
                max_age: hours("events-max-age-hours", args.events_max_age_hours)?,
            },
            record_reads: args.events_reads,
        },
        metrics_listen: args.metrics_listen,
    };
    let running = ecsd::start(config).await?;
    release_start_up_memory();
    let shutdown = running.shutdown_handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = shutdown.send(true);
    });
    running.wait().await?;
    if let Some(dir) = ephemeral {
        let path = dir.path().display().to_string();
        dir.close().with_context(|| format!("removing the temporary data dir {path}"))?;
        tracing::info!(data_dir = path, "temporary data dir removed");
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Building the operation table and the router assembles every operation's OpenAPI schemas
/// (`utoipa_axum::routes!` makes them with the route), some 20 MiB that are freed as soon as
/// the router is built. glibc's allocator keeps freed heap pages that long-lived allocations
/// made in between pin, so an idle ecsd held about 30 MiB of free heap; handing it back once,
/// after the start, brings that to a few MiB. Other allocators return freed pages themselves.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_start_up_memory() {
    // SAFETY: `malloc_trim` only returns the allocator's free pages to the system; it takes no
    // pointer and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_start_up_memory() {}

/// `ecsd ctl`: the action's outcome as its exit code (see `CTL_EXIT_CODES`).
async fn ctl(endpoint: &str, data_dir: &std::path::Path, action: CtlAction) -> ExitCode {
    let credential = match (ctl_credential(data_dir), &action) {
        (Ok(credential), _) => credential,
        // The health answer needs no credential: any signature will do.
        (Err(_), CtlAction::Health) => ecsd::credentials::generate(),
        (Err(error), _) => {
            eprintln!("error: {error:#}");
            return ecsd::ctl::Failure::Invalid(vec![]).exit_code();
        }
    };
    let outcome = ecsd::ctl::run(endpoint, &credential, action.into()).await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ECSD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        // One object a line: the event's fields at the top level, the request span's id beside them.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

impl From<KeysAction> for ecsd::keys::Action {
    fn from(action: KeysAction) -> Self {
        match action {
            KeysAction::Create { project_id, description } => ecsd::keys::Action::Create { project_id, description },
            KeysAction::List => ecsd::keys::Action::List,
            KeysAction::Revoke { access_key } => ecsd::keys::Action::Revoke { access_key },
        }
    }
}

/// The credential `ecsd ctl` signs with: the environment's, else the data dir's bootstrap one.
fn ctl_credential(data_dir: &std::path::Path) -> anyhow::Result<Credential> {
    let from_env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    if let (Some(access_key), Some(secret_key), Some(project_id)) =
        (from_env("ECSD_ACCESS_KEY"), from_env("ECSD_SECRET_KEY"), from_env("ECSD_PROJECT_ID"))
    {
        return Ok(Credential { access_key, secret_key, project_id });
    }
    ecsd::credentials::stored(data_dir)?.ok_or_else(|| {
        anyhow::anyhow!("no credential: set ECSD_ACCESS_KEY, ECSD_SECRET_KEY and ECSD_PROJECT_ID, or point --data-dir at the server's")
    })
}

impl From<CtlAction> for ecsd::ctl::Action {
    fn from(action: CtlAction) -> Self {
        use ecsd::ctl::Action as A;
        match action {
            CtlAction::Faults(FaultsAction::Add { rule }) => A::AddFault { rule },
            CtlAction::Faults(FaultsAction::List) => A::ListFaults,
            CtlAction::Faults(FaultsAction::Delete { id }) => A::DeleteFault { id },
            CtlAction::Faults(FaultsAction::Release { id }) => A::ReleaseFault { id },
            CtlAction::Reset { project_id } => A::Reset { project_id },
            CtlAction::Snapshot(SnapshotAction::Save { name }) => A::SaveSnapshot { name },
            CtlAction::Snapshot(SnapshotAction::Restore { name }) => A::RestoreSnapshot { name },
            CtlAction::Snapshot(SnapshotAction::List) => A::ListSnapshots,
            CtlAction::Snapshot(SnapshotAction::Delete { name }) => A::DeleteSnapshot { name },
            CtlAction::Clock(ClockAction::Advance { seconds }) => A::AdvanceClock { seconds },
            CtlAction::Clock(ClockAction::Settle) => A::SettleClock,
            CtlAction::Fixtures { file } => A::LoadFixtures { file },
            CtlAction::Events(events) => events.into(),
            CtlAction::AutoTerminations => A::ListAutoTerminations,
            CtlAction::Health => A::Health,
        }
    }
}

impl From<Box<EventsArgs>> for ecsd::ctl::Action {
    fn from(events: Box<EventsArgs>) -> Self {
        use ecsd::ctl::Action as A;
        match *events {
            EventsArgs { action: None, follow, json, server_id, job_id, operation, kind, since, limit } => {
                let filters = [
                    ("server_id", server_id),
                    ("job_id", job_id),
                    ("operation", operation),
                    ("kind", kind),
                    ("since", since),
                    ("limit", limit.map(|limit| limit.to_string())),
                ];
                let filters = filters.into_iter().filter_map(|(name, value)| Some((name, value?))).collect();
                A::Events { filters, follow, json }
            }
            EventsArgs {
                action: Some(EventsAction::Schedule { server_id, event_type, state, not_before, deadline, description }),
                ..
            } => {
                let mut event = serde_json::json!({ "server_id": server_id, "type": event_type, "state": state });
                for (key, value) in
                    [("not_before", not_before), ("not_before_deadline", deadline), ("description", description)]
                {
                    if let Some(value) = value {
                        event[key] = serde_json::Value::String(value);
                    }
                }
                A::ScheduleEvent { event }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand and every flag or argument says what it is for in `--help`.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let generated = ["help", "version"].contains(&arg.get_id().as_str());
                if !generated && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
                let path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(path.clone());
                }
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "ecsd", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }
}
