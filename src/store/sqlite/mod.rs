//! The embedded default store: SQLite in WAL mode under the data dir. This file holds the
//! connections, the migrations and the encodings every table shares; each concern's
//! transaction methods are in the module named after it.

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

use super::rows::{from_ms, ms, ns};
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, TransactionBehavior};

use super::{Claim, ReadTx, Store, WriteTx};
use crate::domain::job::SubJob;
use crate::domain::{Error, Result};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
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

/// Idle read connections kept for reuse; each holds its own page cache.
const MAX_IDLE_READERS: usize = 8;

pub struct SqliteStore {
    path: std::path::PathBuf,
    // One writer: SQLite serialises writers anyway, and a single writer makes every
    // transaction's compare-and-set trivially consistent across this process; IMMEDIATE
    // transactions keep it so across processes (`ecsd keys`) too.
    writer: Mutex<Connection>,
    /// Idle read-only connections: in WAL mode readers never wait for the writer.
    readers: Mutex<Vec<Connection>>,
    /// A read-only connection that only asks `PRAGMA data_version`, which changes whenever
    /// another connection (this process's writer, or any other process) commits: the
    /// store's change token.
    watch: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        make_private(path)?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let watch = Self::open_reader(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let store = SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            watch: Mutex::new(watch),
        };
        store.migrate()?;
        Ok(store)
    }

    fn open_reader(path: &Path) -> Result<Connection> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db)?;
        Ok(conn)
    }

    fn reader(&self) -> Result<Connection> {
        if let Some(conn) = self.readers.lock().map_err(|_| Error::internal("store lock poisoned"))?.pop() {
            return Ok(conn);
        }
        Self::open_reader(&self.path)
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.writer.lock().map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
        let applied: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if applied > MIGRATIONS.len() {
            anyhow::bail!(
                "the data dir was written by a newer ecsd (schema {applied}); this one knows {}",
                MIGRATIONS.len()
            );
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// The database and its `-wal` and `-shm` files hold secret keys, so only their owner may read
/// them. The database is created here, mode 0600, before SQLite opens it: SQLite gives the
/// `-wal` and `-shm` files it creates the database's mode. Files made wider by an older ecsd
/// are narrowed; none is ever widened.
fn make_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_os_string();
            name.push(suffix);
            let file = std::path::PathBuf::from(name);
            let Ok(meta) = std::fs::metadata(&file) else { continue };
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0
                && let Err(error) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
            {
                tracing::warn!(file = %file.display(), %error, "could not make the file private");
            }
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<()>) -> Result<()> {
        let mut conn = self.writer.lock().map_err(|_| Error::internal("store lock poisoned"))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        work(&mut SqliteTx { tx: &tx })?;
        tx.commit().map_err(db)
    }

    fn read(&self, work: &mut dyn FnMut(&mut dyn ReadTx) -> Result<()>) -> Result<()> {
        let conn = self.reader()?;
        // Cached BEGIN/COMMIT statements: reads are the hot path, and rusqlite's transaction
        // type would parse its BEGIN again every time.
        let outcome = conn.prepare_cached("BEGIN").and_then(|mut s| s.execute([])).map_err(db).and_then(|_| {
            let worked = work(&mut SqliteTx { tx: &conn });
            let ended = conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([])).map_err(db);
            worked.and(ended.map(drop))
        });
        // A connection whose transaction failed is dropped rather than reused.
        if outcome.is_ok()
            && let Ok(mut idle) = self.readers.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
        outcome
    }

    fn change_token(&self) -> Result<Option<u64>> {
        let watch = self.watch.lock().map_err(|_| Error::internal("store lock poisoned"))?;
        let version: i64 =
            watch.prepare_cached("PRAGMA data_version").and_then(|mut s| s.query_row([], |r| r.get(0))).map_err(db)?;
        Ok(Some(version as u64))
    }

    fn claim_sub_jobs(&self, claim: &Claim) -> Result<Vec<SubJob>> {
        self.with_writer(|tx| tx.claim(claim))
    }

    fn renew_leases(&self, owner: &str, working: &[String], until_ms: i64) -> Result<u64> {
        self.with_writer(|tx| tx.renew_leases(owner, working, until_ms))
    }
}

impl SqliteStore {
    /// Runs `work` in a transaction of the single writer.
    fn with_writer<R>(&self, work: impl FnOnce(&SqliteTx) -> Result<R>) -> Result<R> {
        let mut conn = self.writer.lock().map_err(|_| Error::internal("store lock poisoned"))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let out = work(&SqliteTx { tx: &tx })?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

/// A connection inside a transaction (a write one, or a read one begun by hand). One type
/// implements every concern; a read hands it out as `dyn ReadTx`, which has no write methods
/// (and its connection is read-only besides).
struct SqliteTx<'c> {
    tx: &'c Connection,
}

/// A store error: out of space is one the client is told of (and which passes once space is
/// freed); anything else is internal.
fn db(e: rusqlite::Error) -> Error {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        tracing::warn!(error = %e, "the store is out of space");
        return Error::of(crate::domain::ErrorCode::StoreFull);
    }
    Error::internal(e)
}
