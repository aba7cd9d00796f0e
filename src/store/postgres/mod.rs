//! The shared store: PostgreSQL, for several ecsd replicas serving one fleet (and for a team's
//! endpoint that must outlive the process serving it). The same tables, documents and indexed
//! columns as SQLite's, the same migration versions; each concern's transaction methods are in
//! the module named after it, as in `sqlite/`.
//!
//! The store traits are blocking, so the store is too: connections (tokio-postgres, pooled by
//! deadpool) are driven by a small runtime of the store's own, and a transaction waits for its
//! statements with a plain executor on the calling thread. That works the same from a blocking
//! thread, a test thread or inside the server's runtime, where the sync `postgres` crate would
//! start a runtime inside a runtime and panic.

mod clock;
mod events;
mod faults;
mod groups;
mod idempotency;
mod identity;
mod jobs;
mod keypairs;
mod lifecycle;
mod network;
mod placement;
mod recycle_bin;
mod servers;
mod snapshots;
mod tags;
mod templates;
mod volumes;

use super::rows::{from_ms, from_ns, ms, ns};
use std::future::Future;
use std::sync::OnceLock;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::{Claim, Listener, Notice, ReadTx, Store, Take, Topic, WriteTx};
use crate::domain::job::SubJob;
use crate::domain::{Error, Result};

/// Schema migrations, applied in order; `schema_version` records how many ran. The same
/// versions as SQLite's: a migration is added to both.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_auth.sql"),
    include_str!("migrations/0003_control.sql"),
    include_str!("migrations/0004_day2.sql"),
    include_str!("migrations/0005_tags_groups_placement.sql"),
    include_str!("migrations/0006_hardening.sql"),
    include_str!("migrations/0007_recycle_bin.sql"),
    include_str!("migrations/0008_volumes.sql"),
    include_str!("migrations/0009_network.sql"),
    include_str!("migrations/0010_server_columns.sql"),
    include_str!("migrations/0011_audit_events.sql"),
    include_str!("migrations/0012_keypairs.sql"),
    include_str!("migrations/0013_list_index.sql"),
    include_str!("migrations/0014_sub_job_leases.sql"),
    include_str!("migrations/0015_shared_sign_in.sql"),
];

/// Session advisory lock held while migrating: replicas starting at once against an empty
/// database migrate one after the other (the later ones find nothing left to do).
const MIGRATION_LOCK: i64 = 0x6563_7364_0001;
/// Transaction advisory lock every write transaction takes first. Writes are serialised across
/// every replica, as SQLite's single writer serialises them in one process: every
/// read-check-write of the service (quota, task state, addresses) stays as consistent as there.
const WRITER_LOCK: i64 = 0x6563_7364_0002;

/// Connections kept per store: writers wait on one lock, readers never wait.
const POOL_SIZE: usize = 16;

pub struct PostgresStore {
    pool: Pool,
    /// Where to connect, for the connection that listens for other replicas' notices.
    config: tokio_postgres::Config,
    /// Dropped with the store, which ends its listener: the listener's own connection is not
    /// the pool's, and would outlive the store (one leaked connection per store opened).
    alive: tokio::sync::watch::Sender<()>,
}

/// The channel replicas notify each other on; a payload is `<topic> <replica id>`.
const CHANNEL: &str = "ecsd";

/// The runtime that drives every store's connections: one worker, as the work is waiting on
/// sockets.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ecsd-postgres")
            .enable_all()
            .build()
            .expect("the PostgreSQL runtime starts")
    })
}

/// Runs `future` on the store's runtime and waits for it, from any thread.
fn on_runtime<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> Result<T> {
    block_on(runtime().spawn(future)).map_err(Error::internal)
}

/// Waits for a statement of a connection already made (its socket is the runtime's).
fn wait<T>(future: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>) -> Result<T> {
    block_on(future).map_err(db)
}

/// Blocks the calling thread on `future`. Outside tokio's cooperative budget: called on an
/// async task of the server (a point read) that has spent its budget, a tokio future (the
/// join handle of the runtime, the statement cache's cell) would answer "not yet" and wake
/// the task only once it yields, which a blocked thread never does: the request would wait
/// forever.
fn block_on<T>(future: impl Future<Output = T>) -> T {
    futures_executor::block_on(tokio::task::unconstrained(future))
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, or libpq's `key=value`
    /// form) and migrates the schema.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| anyhow::anyhow!("the store URL: {e}"))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .build()?;
        let store = PostgresStore { pool, config, alive: tokio::sync::watch::Sender::new(()) };
        store.migrate()?;
        Ok(store)
    }

    fn client(&self) -> Result<Object> {
        let pool = self.pool.clone();
        on_runtime(async move { pool.get().await })?.map_err(|e| {
            tracing::warn!(error = %e, "the PostgreSQL store is unreachable");
            unreachable()
        })
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let client = self.client()?;
        wait(client.query("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]))?;
        let migrated = self.migrate_locked(&client);
        wait(client.query("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]))?;
        migrated
    }

    fn migrate_locked(&self, client: &Object) -> anyhow::Result<()> {
        wait(client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
             INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        ))?;
        let applied: i64 = wait(client.query_one("SELECT version FROM schema_version WHERE id = 1", &[]))?.get(0);
        let applied = usize::try_from(applied)?;
        if applied > MIGRATIONS.len() {
            anyhow::bail!(
                "the database was written by a newer ecsd (schema {applied}); this one knows {}",
                MIGRATIONS.len()
            );
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let version = i64::try_from(index + 1)?;
            wait(client.batch_execute(&format!("BEGIN; {sql}")))
                .and_then(|()| wait(client.execute("UPDATE schema_version SET version = $1 WHERE id = 1", &[&version])))
                .and_then(|_| wait(client.batch_execute("COMMIT")))
                .map_err(|e| {
                    let _ = wait(client.batch_execute("ROLLBACK"));
                    anyhow::anyhow!("migration {version}: {e}")
                })?;
            tracing::info!(version, "store migrated");
        }
        Ok(())
    }

    /// Runs `work` between `begin` and COMMIT (ROLLBACK when it fails). A connection whose
    /// transaction did not end cleanly is closed rather than reused.
    fn within(&self, begin: &str, work: impl FnOnce(&mut PgTx) -> Result<()>) -> Result<()> {
        let client = self.client()?;
        let mut tx = PgTx { client: &client };
        let outcome = wait(client.batch_execute(begin)).and_then(|()| work(&mut tx));
        let ended = match &outcome {
            Ok(()) => wait(client.batch_execute("COMMIT")),
            Err(_) => wait(client.batch_execute("ROLLBACK")),
        };
        if ended.is_err() {
            let _ = Object::take(client);
        }
        outcome.and(ended)
    }
}

impl Store for PostgresStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<()>) -> Result<()> {
        self.within(&format!("BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})"), |tx| work(tx))
    }

    fn read(&self, work: &mut dyn FnMut(&mut dyn ReadTx) -> Result<()>) -> Result<()> {
        self.within("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |tx| work(tx))
    }

    fn shared(&self) -> bool {
        true
    }

    fn claim_sub_jobs(&self, claim: &Claim) -> Result<Vec<SubJob>> {
        let mut claimed = Vec::new();
        // Not behind the writers' lock: the rows being written are skipped, not waited for.
        self.within("BEGIN", |tx| {
            claimed = tx.claim(claim)?;
            Ok(())
        })?;
        Ok(claimed)
    }

    fn renew_leases(&self, owner: &str, working: &[String], until_ms: i64) -> Result<u64> {
        let mut renewed = 0;
        self.within("BEGIN", |tx| {
            tx.exec("DELETE FROM sub_job_leases WHERE owner = $1 AND NOT sub_job_id = ANY($2)", &[&owner, &working])?;
            renewed = tx.exec("UPDATE sub_job_leases SET expires_ms = $2 WHERE owner = $1", &[&owner, &until_ms])?;
            Ok(())
        })?;
        Ok(renewed)
    }

    fn notify(&self, notice: &Notice) -> Result<()> {
        let client = self.client()?;
        let payload = format!("{} {}", notice.topic.as_str(), notice.from);
        wait(client.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])).map(drop)
    }

    fn listen(&self, listener: Listener) {
        let mut store = self.alive.subscribe();
        let listening = listen(self.config.clone(), listener);
        runtime().spawn(async move {
            tokio::select! {
                () = listening => {}
                // Nothing is ever sent: this answers when the store is dropped.
                _ = store.changed() => {}
            }
        });
    }
}

/// Listens on a connection of its own (a pooled one would be handed to others), and connects
/// again after losing it. After each (re)connection the listener hears `Work` and `Clock`
/// from nobody: notices sent meanwhile were lost, so it looks again.
async fn listen(config: tokio_postgres::Config, listener: Listener) {
    let lost = || Notice { topic: Topic::Work, from: String::new() };
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (heard, mut notices) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                        match message {
                            Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                                if heard.send(n.payload().to_string()).is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                            Err(error) => {
                                tracing::warn!(%error, "the PostgreSQL listener lost its connection");
                                return;
                            }
                        }
                    }
                });
                if client.batch_execute(&format!("LISTEN {CHANNEL}")).await.is_ok() {
                    for topic in [Topic::Work, Topic::Clock] {
                        if !listener(Notice { topic, ..lost() }) {
                            return;
                        }
                    }
                    while let Some(payload) = notices.recv().await {
                        let (topic, from) = payload.split_once(' ').unwrap_or((payload.as_str(), ""));
                        if let Some(topic) = Topic::parse(topic)
                            && !listener(Notice { topic, from: from.to_string() })
                        {
                            driver.abort();
                            return;
                        }
                    }
                }
                driver.abort();
            }
            Err(error) => tracing::debug!(%error, "the PostgreSQL listener cannot connect; trying again"),
        }
        if !listener(Notice { topic: Topic::Work, ..lost() }) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

impl PgTx<'_> {
    fn claim(&self, claim: &Claim) -> Result<Vec<SubJob>> {
        let mut args = Args::default();
        let mut conditions = vec!["status IN ('INIT', 'RUNNING')".to_string(), "held_by IS NULL".to_string()];
        if claim.take != Take::Any {
            let free = format!("owner IS NULL OR expires_ms < {}", args.push(claim.now_ms));
            conditions.push(match claim.take {
                Take::FreeOrMine => format!("({free} OR owner = {})", args.push(claim.owner.to_string())),
                _ => format!("({free})"),
            });
        }
        if let Some(ids) = claim.ids {
            conditions.push(format!("id = ANY({})", args.push(ids.to_vec())));
        }
        if let Some(project) = claim.project_id {
            conditions.push(format!("project_id = {}", args.push(project.to_string())));
        }
        let limit = args.push(i64::try_from(claim.limit).unwrap_or(i64::MAX));
        let rows = self.rows(
            &format!(
                "SELECT {} FROM sub_jobs LEFT JOIN sub_job_leases ON sub_job_id = id WHERE {}
                 ORDER BY begin_ms, job_id, seq LIMIT {limit} FOR UPDATE OF sub_jobs SKIP LOCKED",
                jobs::SUB_JOB_COLUMNS,
                conditions.join(" AND ")
            ),
            &args.params(),
        )?;
        let candidates = rows.iter().map(jobs::sub_job_from_row).collect::<Result<Vec<_>>>()?;
        if candidates.is_empty() {
            return Ok(candidates);
        }
        // A lease another replica took since the rows were read is kept: the conflict sees it.
        let keep = match claim.take {
            Take::Any => "",
            Take::Free | Take::FreeOrMine => {
                " WHERE sub_job_leases.owner = excluded.owner OR sub_job_leases.expires_ms < $4"
            }
        };
        let ids: Vec<String> = candidates.iter().map(|sub| sub.id.clone()).collect();
        let params: [&(dyn ToSql + Sync); 4] = [&ids, &claim.owner, &claim.until_ms, &claim.now_ms];
        let taken: std::collections::HashSet<String> = self
            .rows(
                &format!(
                    "INSERT INTO sub_job_leases (sub_job_id, owner, expires_ms) SELECT UNNEST($1::text[]), $2, $3
                     ON CONFLICT (sub_job_id) DO UPDATE SET owner = excluded.owner, expires_ms = excluded.expires_ms{keep}
                     RETURNING sub_job_id"
                ),
                &params[..if keep.is_empty() { 3 } else { 4 }],
            )?
            .iter()
            .map(|row| row.get(0))
            .collect();
        Ok(candidates.into_iter().filter(|sub| taken.contains(&sub.id)).collect())
    }
}

/// A connection inside a transaction. One type implements every concern; a read hands it out
/// as `dyn ReadTx` (and its transaction is read-only besides).
struct PgTx<'c> {
    client: &'c Object,
}

/// Statement parameters.
type Params<'a> = [&'a (dyn ToSql + Sync)];

impl PgTx<'_> {
    fn rows(&self, sql: &str, params: &Params) -> Result<Vec<Row>> {
        let statement = wait(self.client.prepare_cached(sql))?;
        wait(self.client.query(&statement, params))
    }

    fn row(&self, sql: &str, params: &Params) -> Result<Option<Row>> {
        let statement = wait(self.client.prepare_cached(sql))?;
        wait(self.client.query_opt(&statement, params))
    }

    fn exec(&self, sql: &str, params: &Params) -> Result<u64> {
        let statement = wait(self.client.prepare_cached(sql))?;
        wait(self.client.execute(&statement, params))
    }

    fn exists(&self, sql: &str, params: &Params) -> Result<bool> {
        self.row(sql, params).map(|row| row.is_some())
    }

    /// The documents the first column of `sql` holds, in its order.
    fn docs<T: DeserializeOwned>(&self, sql: &str, params: &Params) -> Result<Vec<T>> {
        self.rows(sql, params)?.iter().map(|row| parse(row.get(0))).collect()
    }

    fn one_doc<T: DeserializeOwned>(&self, sql: &str, params: &Params) -> Result<Option<T>> {
        self.row(sql, params)?.map(|row| parse(row.get(0))).transpose()
    }
}

/// Positional parameters of a statement built from parts: `push` answers the placeholder.
#[derive(Default)]
struct Args {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Args {
    fn push(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect()
    }
}

/// A store error: out of space is one the client is told of (and which passes once space is
/// freed); anything else is internal.
fn db(e: tokio_postgres::Error) -> Error {
    if e.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL) {
        tracing::warn!(error = %e, "the store is out of space");
        return Error::of(crate::domain::ErrorCode::StoreFull);
    }
    // PostgreSQL's text cannot hold U+0000, so a request value with one is refused as the
    // bad input it is; SQLite stores it, and at worst matches nothing.
    if e.code() == Some(&tokio_postgres::error::SqlState::CHARACTER_NOT_IN_REPERTOIRE) {
        return Error::invalid("The request holds a NUL character (U+0000), which no value may hold.");
    }
    // A connection lost (the database stopped or restarted): the service is unavailable
    // until it returns, and the pool connects again by itself.
    let lost = match e.code() {
        // Connection exceptions, and the server shutting down.
        Some(state) => state.code().starts_with("08") || state.code().starts_with("57P"),
        None => e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()),
    };
    if lost {
        tracing::warn!(error = %e, "the PostgreSQL store is unreachable");
        return unreachable();
    }
    Error::internal(e)
}

/// The database does not answer: `Common.0503`, which clients retry (the cause is logged).
fn unreachable() -> Error {
    Error::of(crate::domain::ErrorCode::Unavailable)
}

fn doc<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

fn parse<T: DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(Error::internal)
}
