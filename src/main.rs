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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ECSD_LOG")
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve(args) = Cli::parse().command;
    let file = match &args.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let credential = match (args.access_key, args.secret_key, args.project_id) {
        (Some(access_key), Some(secret_key), Some(project_id)) => Some(Credential {
            access_key,
            secret_key,
            project_id,
        }),
        _ => None,
    };
    let config = Config {
        listen: args.listen,
        data_dir: args.data_dir,
        timings: file.timings(args.timings),
        catalogue: file.catalogue()?,
        credential,
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
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
