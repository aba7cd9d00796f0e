use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use ecsd::config::{Config, ConfigFile, Credential, TimingsMode};

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
    /// Accept every request unsigned: for quick local experiments only.
    #[arg(long, env = "ECSD_NO_AUTH")]
    no_auth: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ECSD_LOG").unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = match Cli::parse().command {
        Command::Serve(args) => args,
        Command::Keys { data_dir, action } => return ecsd::keys::run(&data_dir, action.into()),
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
