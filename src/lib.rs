//! ecsd: a local, fast, faithful endpoint for the Elastic Cloud Server (ECS) API.
//!
//! config → store → engine (with the compute driver) → service → api.

pub mod api;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod domain;
pub mod engine;
pub mod secrets;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use config::{Config, Credential};
use credentials::Origin;

/// A started ecsd: where it listens and with which credential.
pub struct Running {
    pub addr: SocketAddr,
    pub credential: Credential,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.server.await??;
        Ok(())
    }

    /// Runs until the server ends (it ends on its own only on an I/O error).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.server.await??;
        Ok(())
    }

    /// A handle that makes [`Running::wait`] return after a graceful shutdown.
    pub fn shutdown_handle(&self) -> tokio::sync::watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Opens the store, resumes unfinished jobs and starts serving on `config.listen`.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data dir {}", config.data_dir.display()))?;
    let store: Arc<dyn store::Store> = Arc::new(store::SqliteStore::open(
        &config.data_dir.join("ecsd.sqlite3"),
    )?);
    let (credential, origin) = credentials::bootstrap(&config.data_dir, config.credential.clone())?;
    store::transact(store.as_ref(), |tx| {
        tx.ensure_project(&credential.project_id, "default")
    })?;

    let catalogue = Arc::new(config.catalogue.clone());
    let clock: Arc<dyn clock::Clock> = Arc::new(clock::SystemClock);
    let driver = Arc::new(engine::sim::Simulator::new(config.timings));
    let (engine, _engine_task) = engine::Engine::new(
        Arc::clone(&store),
        Arc::clone(&catalogue),
        driver,
        Arc::clone(&clock),
    )
    .start()?;
    let ecs = Arc::new(service::Ecs {
        store,
        catalogue,
        engine,
        clock,
    });

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    announce(&config, addr, &credential, origin);

    let (shutdown, mut shutdown_rx) = tokio::sync::watch::channel(false);
    let app = api::router(ecs);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = shutdown_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(Running {
        addr,
        credential,
        server,
        shutdown,
    })
}

fn announce(config: &Config, addr: SocketAddr, credential: &Credential, origin: Origin) {
    let endpoint = format!("http://{addr}");
    tracing::info!(%endpoint, data_dir = %config.data_dir.display(), "ecsd is listening");
    let secret = match origin {
        Origin::Generated => format!(
            "{} (generated now and shown only this once; kept in {})",
            credential.secret_key,
            config.data_dir.join(credentials::file_name()).display()
        ),
        Origin::Stored => format!(
            "(in {})",
            config.data_dir.join(credentials::file_name()).display()
        ),
        Origin::Configured => "(as configured)".to_string(),
    };
    // Printed to stdout, not logged: the generated secret key is shown once, to the operator.
    println!(
        "ecsd listening on {endpoint}\n  data dir:   {}\n  project id: {}\n  access key: {}\n  secret key: {secret}\n\
         Point the SDK at it:\n  EcsClient.new_builder().with_credentials(BasicCredentials(AK, SK, PROJECT_ID))\
         .with_endpoint(\"{endpoint}\").build()",
        config.data_dir.display(),
        credential.project_id,
        credential.access_key,
    );
}
