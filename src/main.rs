use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use ecsd::config::{Config, ConfigFile, Credential, Limits, TimingsMode, TlsFiles};

#[derive(Parser)]
#[command(
    name = "ecsd",
    version,
    about = "A local Elastic Cloud Server (ECS) API endpoint for testing cloud automation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ECS API.
    Serve(ServeArgs),
    /// Create, list and revoke access keys in the data dir (works while the server runs).
    Keys {
        /// The data dir of the server.
        #[arg(long, env = "ECSD_DATA_DIR", default_value = "./ecsd-data", global = true)]
        data_dir: PathBuf,
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Control a running ecsd for tests: fault rules, reset, snapshots, time, fixtures.
    Ctl {
        /// The ecsd to control.
        #[arg(long, env = "ECSD_ENDPOINT", default_value = "http://127.0.0.1:8774", global = true)]
        endpoint: String,
        /// Where to find the bootstrap credential when ECSD_ACCESS_KEY etc. are not set.
        #[arg(long, env = "ECSD_DATA_DIR", default_value = "./ecsd-data", global = true)]
        data_dir: PathBuf,
        #[command(subcommand)]
        action: CtlAction,
    },
}

#[derive(Subcommand)]
enum CtlAction {
    /// Fault rules: add '<json>', list, delete ID, release ID.
    #[command(subcommand)]
    Faults(FaultsAction),
    /// Wipe one project (or everything) back to the seeded catalogue.
    Reset {
        #[arg(long)]
        project_id: Option<String>,
    },
    /// Named snapshots of the state: save, restore, list, delete.
    #[command(subcommand)]
    Snapshot(SnapshotAction),
    /// Simulated time: advance SECONDS, or settle every pending transition.
    #[command(subcommand)]
    Clock(ClockAction),
    /// Load a fleet from a JSON or TOML file ({"servers": [{"name", "flavor", "status", "tags", "count"}]}).
    Fixtures { file: PathBuf },
    /// Scheduled events, as the platform raises them for host maintenance.
    #[command(subcommand)]
    Events(EventsAction),
    /// List the scheduled deletions (UpdateServerAutoTerminateTime) and their delete jobs.
    AutoTerminations,
}

#[derive(Subcommand)]
enum EventsAction {
    /// Raise an event for a server; accepting it (or reaching not_before) runs its action as a job.
    Schedule {
        #[arg(long)]
        server_id: String,
        /// instance-reboot, instance-stop, instance-migrate, instance-redeploy or system-maintenance.
        #[arg(long = "type")]
        event_type: String,
        /// inquiring (waits for AcceptScheduledEvent) or scheduled (runs at --not-before).
        #[arg(long, default_value = "inquiring")]
        state: String,
        /// yyyy-MM-ddTHH:mm:ssZ.
        #[arg(long)]
        not_before: Option<String>,
        /// yyyy-MM-ddTHH:mm:ssZ.
        #[arg(long)]
        deadline: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Subcommand)]
enum FaultsAction {
    /// Add a rule, given as JSON (e.g. '{"operation":"stop","effect":{"kind":"sub_job_fail","code":"Ecs.0226"},"count":1}').
    Add {
        rule: String,
    },
    List,
    Delete {
        id: String,
    },
    /// Let the sub-jobs a hang rule holds go on.
    Release {
        id: String,
    },
}

#[derive(Subcommand)]
enum SnapshotAction {
    Save { name: String },
    Restore { name: String },
    List,
    Delete { name: String },
}

#[derive(Subcommand)]
enum ClockAction {
    Advance { seconds: f64 },
    Settle,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Create an access key for a project (the project is created if new); prints the secret key once.
    Create {
        /// 32 lower-case hex characters; a new random project when omitted.
        #[arg(long)]
        project_id: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List access keys (never their secret keys).
    List,
    /// Revoke an access key: requests signed with it are refused from now on.
    Revoke { access_key: String },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ECSD_LISTEN", default_value = "127.0.0.1:8774")]
    listen: SocketAddr,
    /// Where the embedded store and the bootstrap credential live.
    #[arg(long, env = "ECSD_DATA_DIR", default_value = "./ecsd-data")]
    data_dir: PathBuf,
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
}

/// A number of seconds from the command line, as a duration (a tenth of a second to a day).
fn seconds(name: &str, value: f64) -> anyhow::Result<std::time::Duration> {
    if !(0.1..=86_400.0).contains(&value) {
        anyhow::bail!("--{name} must be between 0.1 and 86400 seconds, not {value}");
    }
    Ok(std::time::Duration::from_secs_f64(value))
}

/// Store calls run on tokio's blocking pool; a bounded pool keeps memory flat under load
/// (each thread gets its own allocator arena), and writes queue on one connection anyway.
const MAX_BLOCKING_THREADS: usize = 32;

fn main() -> std::process::ExitCode {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(MAX_BLOCKING_THREADS).build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error: starting the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line with every cause, and no backtrace: the operator needs the why.
            eprintln!("Error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ECSD_LOG").unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = match Cli::parse().command {
        Command::Serve(args) => args,
        Command::Keys { data_dir, action } => return ecsd::keys::run(&data_dir, action.into()),
        Command::Ctl { endpoint, data_dir, action } => {
            let credential = ctl_credential(&data_dir)?;
            return ecsd::ctl::run(&endpoint, &credential, action.try_into()?).await;
        }
    };
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
        data_dir: args.data_dir,
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
        },
        tls: args.tls_cert.zip(args.tls_key).map(|(cert, key)| TlsFiles { cert, key }),
        region: args.region.or(file.region.clone()).unwrap_or_else(|| ecsd::config::DEFAULT_REGION.into()),
    };
    let running = ecsd::start(config).await?;
    let shutdown = running.shutdown_handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = shutdown.send(true);
    });
    running.wait().await?;
    tracing::info!("stopped");
    Ok(())
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

impl TryFrom<CtlAction> for ecsd::ctl::Action {
    type Error = anyhow::Error;

    fn try_from(action: CtlAction) -> anyhow::Result<Self> {
        use ecsd::ctl::Action as A;
        Ok(match action {
            CtlAction::Faults(FaultsAction::Add { rule }) => A::AddFault { rule: serde_json::from_str(&rule)? },
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
            CtlAction::Events(EventsAction::Schedule {
                server_id,
                event_type,
                state,
                not_before,
                deadline,
                description,
            }) => {
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
            CtlAction::AutoTerminations => A::ListAutoTerminations,
        })
    }
}
