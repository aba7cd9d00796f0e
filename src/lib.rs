//! ecsd: a local, fast, faithful endpoint for the Elastic Cloud Server (ECS) API.
//!
//! config → store → engine (with the compute driver) → service → api.

pub mod api;
pub mod audit;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod ctl;
pub mod domain;
pub mod engine;
pub mod iam;
pub mod keys;
pub mod metrics;
pub mod secrets;
pub mod serve;
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
    /// The start-up banner's console URL, with its one-time sign-in token.
    pub console_url: String,
    /// Where `--metrics-listen` serves the metrics, if it was given.
    pub metrics_addr: Option<SocketAddr>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    metrics_server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    engine: tokio::task::JoinHandle<()>,
    /// Stops the engine, giving its leases up, when the store is shared.
    leases: engine::EngineHandle,
    timers: tokio::task::JoinHandle<()>,
    trail: tokio::task::JoinHandle<()>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    /// The job engine stops too; what it had not applied is stored and resumes at next start.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.wait().await
    }

    /// Runs until the server ends (after a graceful shutdown, or on an I/O error).
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.server.await;
        if let Some(metrics) = self.metrics_server {
            metrics.abort();
        }
        // Another replica takes the work over at once rather than once the leases expire.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.leases.stop()).await;
        self.engine.abort();
        self.timers.abort();
        // The trail's writer ends once the last holder of the trail is gone, after storing what
        // was queued; a store that no longer answers must not keep ecsd from stopping.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.trail).await;
        served??;
        Ok(())
    }

    /// A handle that makes [`Running::wait`] return after a graceful shutdown.
    pub fn shutdown_handle(&self) -> tokio::sync::watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// The store's file in the data dir (SQLite keeps `-wal` and `-shm` files beside it).
pub const STORE_FILE: &str = "ecsd.sqlite3";

/// Binds `config.listen`, then opens the store, resumes unfinished jobs and starts serving.
/// The listener comes first: a start that fails because the address is taken has written
/// nothing (no data dir, no credential whose secret nobody saw).
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let tls = match &config.tls {
        Some(files) => Some(serve::tls_acceptor(&files.cert, &files.key)?),
        None => None,
    };
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match config.metrics_listen {
        Some(at) => Some(TcpListener::bind(at).await.with_context(|| format!("listening for metrics on {at}"))?),
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(TcpListener::local_addr).transpose()?;
    create_data_dir(&config.data_dir)?;
    check_writable(&config.data_dir)?;
    if config.reset_on_start {
        if config.store != config::StoreChoice::Sqlite {
            // Other replicas may be serving from the database: emptying it is not one start's call.
            anyhow::bail!(
                "--reset-on-start empties the data dir's SQLite store; give a PostgreSQL store a new database"
            );
        }
        remove_store(&config.data_dir)?;
    }
    let metrics = metrics::Metrics::new();
    let store: Arc<dyn store::Store> =
        Arc::new(metrics::MeteredStore::new(config.store.open(&config.data_dir)?, Arc::clone(&metrics)));
    let (credential, origin) = credentials::bootstrap(&config.data_dir, config.credential.clone())?;
    let advanced_ms = store::read(store.as_ref(), |tx| tx.clock_advanced_ms())?;
    let clock: Arc<dyn clock::Clock> = Arc::new(clock::SystemClock::advanced_by_ms(advanced_ms));
    register_identities(store.as_ref(), &config, &credential, clock.now())?;
    let iam = Arc::new(iam::Iam::new(
        Arc::clone(&store),
        Arc::clone(&clock),
        &config.users,
        &config.projects,
        &config.region,
    )?);
    let catalogue = Arc::new(config.catalogue.clone());
    let driver = Arc::new(engine::sim::Simulator::new(config.timings));
    let (trail, trail_task) = audit::Trail::start(Arc::clone(&store), config.trail);
    let replica_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let (engine, engine_task) = engine::Engine::new(
        Arc::clone(&store),
        Arc::clone(&catalogue),
        driver,
        Arc::clone(&clock),
        Arc::clone(&trail),
        Arc::clone(&metrics),
        &replica_id,
    )
    .start()?;
    let leases = engine.clone();
    let ecs = Arc::new(service::Ecs::new(Arc::clone(&store), catalogue, engine, clock, Arc::clone(&trail), metrics));
    if let Some(fixtures) = &config.fixtures {
        load_start_fixtures(&ecs, &credential.project_id, fixtures)?;
    }
    let sessions = Arc::new(api::console::Sessions::new(Arc::clone(&store), config.limits.console_session));
    let bootstrap = api::console::Grant {
        project_id: credential.project_id.clone(),
        access_key: credential.access_key.clone(),
        admin: true,
    };
    let console_url = format!("{}/console", endpoint(&config, addr));
    let console_url = if config.auth {
        format!("{console_url}?token={}", sessions.sign_in_token(bootstrap.clone())?)
    } else {
        console_url
    };
    announce(&config, addr, &credential, origin, &console_url);
    if let Some(at) = metrics_addr {
        tracing::info!(metrics = %format!("http://{at}/metrics"), "metrics are served there to anyone");
    }

    let (shutdown, mut shutdown_rx) = tokio::sync::watch::channel(false);
    // Signatures are checked against real time: a client signs with its own clock, whatever
    // simulated time says.
    let real_time = Arc::new(clock::SystemClock::default());
    let console = api::console::ConsoleState {
        ecs: Arc::clone(&ecs),
        iam: Arc::clone(&iam),
        sessions: Arc::clone(&sessions),
        bootstrap,
        auth: config.auth,
        region: config.region.clone(),
        tls: config.tls.is_some(),
    };
    let auth = Arc::new(api::auth::AuthState { iam, clock: real_time, enabled: config.auth, sessions });
    let timers = tokio::spawn(service::run_timers(Arc::clone(&ecs)));
    let about = api::About::new(config.timings_mode(), config.store != config::StoreChoice::Sqlite, replica_id);
    let metrics_server = metrics_listener.map(|listener| {
        let mut stop = shutdown_rx.clone();
        let app = api::metrics_router(Arc::clone(&ecs));
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                })
                .await
        })
    });
    let app = api::router(ecs, auth, about, console);
    let streams = Arc::clone(&trail);
    let stopped = async move {
        let _ = shutdown_rx.wait_for(|stop| *stop).await;
        streams.close();
    };
    let server = tokio::spawn(serve::serve(listener, app, config.limits, tls, stopped));
    Ok(Running {
        addr,
        credential,
        console_url,
        metrics_addr,
        server,
        metrics_server,
        engine: engine_task,
        leases,
        timers,
        trail: trail_task,
        shutdown,
    })
}

/// `--reset-on-start`: removes the store's files, so the store opens empty. Only those files:
/// the data dir may hold others (the bootstrap credential stays, so clients keep working).
fn remove_store(data_dir: &std::path::Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = data_dir.join(format!("{STORE_FILE}{suffix}"));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).with_context(|| format!("removing {}", path.display())),
        }
    }
    tracing::info!(data_dir = %data_dir.display(), "store reset on start");
    Ok(())
}

/// Creates the data dir so that only its owner may enter it: the store in it holds secret
/// keys. A dir that exists is left as it is (it may be shared on purpose, or be a home
/// directory), with a warning when others may enter it; the store's files are private anyway.
pub fn create_data_dir(path: &std::path::Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).with_context(|| format!("creating the data dir {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                data_dir = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "other users may enter the data dir; `chmod 700` it to keep even file names private"
            );
        }
    }
    Ok(())
}

/// Fails early, naming the data dir and the cause, when it cannot be written: otherwise the
/// first write would fail deep in the store with a generic error.
fn check_writable(data_dir: &std::path::Path) -> anyhow::Result<()> {
    let probe = data_dir.join(".ecsd-write-check");
    std::fs::write(&probe, b"ok")
        .and_then(|()| std::fs::remove_file(&probe))
        .with_context(|| format!("the data dir {} is not writable", data_dir.display()))
}

/// Writes the bootstrap credential, the configured projects and keys into the store; keys
/// from configuration are active for as long as they are configured.
fn register_identities(
    store: &dyn store::Store,
    config: &Config,
    bootstrap: &Credential,
    now: domain::server::Timestamp,
) -> anyhow::Result<()> {
    if !config::is_project_id(&bootstrap.project_id) {
        anyhow::bail!("project id {:?} is not 32 lower-case hex characters", bootstrap.project_id);
    }
    store::transact(store, |tx| {
        for project in &config.projects {
            tx.ensure_project(&project.id, &project.name)?;
        }
        // The bootstrap credential is an admin one.
        let bootstrap =
            (bootstrap.access_key.as_str(), bootstrap.secret_key.as_str(), bootstrap.project_id.as_str(), true);
        let configured = config
            .access_keys
            .iter()
            .map(|k| (k.access_key.as_str(), k.secret_key.as_str(), k.project_id.as_str(), k.admin));
        for (access_key, secret_key, project_id, admin) in std::iter::once(bootstrap).chain(configured) {
            tx.ensure_project(project_id, "")?;
            let stored = tx.access_key(access_key)?;
            // A revocation (`ecsd keys revoke`) outlives restarts: configuring the key again does
            // not undo it.
            let revoked = stored.as_ref().and_then(|key| key.revoked);
            if revoked.is_some() {
                tracing::warn!(
                    access_key,
                    "this configured access key was revoked with `ecsd keys revoke`: it stays refused"
                );
            }
            tx.put_access_key(&store::AccessKey {
                access_key: access_key.to_string(),
                secret_key: secret_key.to_string(),
                project_id: project_id.to_string(),
                description: "configured".into(),
                created: stored.map_or(now, |key| key.created),
                revoked,
                admin,
            })?;
        }
        for user in &config.users {
            tx.ensure_project(&user.project_id, "")?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Loads the `--fixtures` fleet into a project that has no servers yet, so a restart does
/// not load it twice.
fn load_start_fixtures(ecs: &service::Ecs, project_id: &str, fixtures: &serde_json::Value) -> anyhow::Result<()> {
    let fixtures: service::Fixtures = serde_json::from_value(fixtures.clone()).context("reading the fixtures")?;
    if ecs.show_server_limits(project_id)?.instances > 0 {
        tracing::info!("the project has servers already; fixtures not loaded again");
        return Ok(());
    }
    ecs.load_fixtures(project_id, &fixtures)?;
    Ok(())
}

fn endpoint(config: &Config, addr: SocketAddr) -> String {
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{addr}")
}

fn announce(config: &Config, addr: SocketAddr, credential: &Credential, origin: Origin, console_url: &str) {
    let endpoint = endpoint(config, addr);
    let timings = config.timings_mode().as_str();
    tracing::info!(%endpoint, data_dir = %config.data_dir.display(), timings, "ecsd is listening");
    if !config.auth {
        tracing::warn!("authentication is OFF (--no-auth): every request is accepted unsigned");
    }
    let secret = match origin {
        Origin::Generated => format!(
            "{} (generated now and shown only this once; kept in {})",
            credential.secret_key,
            config.data_dir.join(credentials::file_name()).display()
        ),
        Origin::Stored => format!("(in {})", config.data_dir.join(credentials::file_name()).display()),
        Origin::Configured => "(as configured)".to_string(),
    };
    // Printed to stdout, not logged: the generated secret key is shown once, to the operator,
    // and so is the console's one-time sign-in URL.
    println!(
        "ecsd listening on {endpoint}\n  console:    {console_url}\n  health:     {endpoint}/_ecsd/health\n  \
         timings:    {timings}\n  \
         data dir:   {}\n  project id: {}\n  access key: {}\n  secret key: {secret}\n\
         Point the SDK at it:\n  EcsClient.new_builder().with_credentials(BasicCredentials(AK, SK, PROJECT_ID))\
         .with_endpoint(\"{endpoint}\").build()",
        config.data_dir.display(),
        credential.project_id,
        credential.access_key,
    );
}
