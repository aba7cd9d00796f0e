//! Fresh PostgreSQL databases for tests: each made empty on the server `ECSD_TEST_POSTGRES`
//! names (`postgres://postgres@127.0.0.1:5432/test` unless set, the one CI starts) and
//! dropped when the handle goes.

use std::sync::atomic::{AtomicU64, Ordering};

/// The server and the database the test databases are made from.
pub fn admin_url() -> String {
    std::env::var("ECSD_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// An empty database of its own, dropped (with whatever is still connected) on drop.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

/// Runs one admin statement on a thread of its own, so a test may call it from anywhere
/// (a plain test, or inside a runtime).
fn admin(sql: String) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async {
            let (client, connection) = connect_admin().await;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {}", detail(&e)));
        })
    })
    .join()
    .expect("the admin statement ran");
}

/// The admin connection. A server that is starting or recovering (after one of its processes
/// died, which other suites sharing the machine's cluster can cause), or whose connection slots
/// are all taken for a moment by the suites running beside this one, refuses connections for a
/// while: those are retried for up to 30 s, anything else fails the test at once.
async fn connect_admin()
-> (tokio_postgres::Client, tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await {
            Ok(connected) => return connected,
            Err(error)
                if std::time::Instant::now() < deadline
                    && (error.code() == Some(&tokio_postgres::error::SqlState::CANNOT_CONNECT_NOW)
                        || error.code() == Some(&tokio_postgres::error::SqlState::TOO_MANY_CONNECTIONS)
                        || error.code().is_none()) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(error) => panic!("PostgreSQL for tests is up: {}", detail(&error)),
        }
    }
}

/// The server's own message: a database error displays as only "db error".
fn detail(error: &tokio_postgres::Error) -> String {
    error.as_db_error().map_or_else(|| error.to_string(), |db| db.to_string())
}

/// How many connections the server has open to `database`.
pub fn connections_to(database: &str) -> i64 {
    let database = database.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async {
            let (client, connection) = connect_admin().await;
            tokio::spawn(connection);
            let row = client
                .query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", &[&database])
                .await
                .expect("the count");
            row.get::<_, i64>(0)
        })
    })
    .join()
    .expect("the count ran")
}

impl PgDatabase {
    pub fn create() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        // `scripts/test-postgres` gives its run a prefix of its own, to drop what it made.
        let prefix = std::env::var("ECSD_TEST_DB_PREFIX").unwrap_or_else(|_| "ecsd_test".into());
        let name = format!(
            "{prefix}_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            uuid::Uuid::new_v4().simple().to_string().get(..8).unwrap_or_default()
        );
        admin(format!("CREATE DATABASE {name}"));
        let base = admin_url();
        let server = base.rsplit_once('/').map_or(base.as_str(), |(server, _)| server);
        let url = format!("{server}/{name}");
        PgDatabase { name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        admin(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// The store of a test server on `data_dir`: SQLite in it, or, when `ECSD_TEST_STORE` is
/// `postgres` (the PostgreSQL leg of `scripts/test`), a database of its own made on first use
/// and kept for the data dir, so a restarted server finds its state again. A database is dropped
/// once its data dir is gone (a test's temporary dir goes with its test): hundreds of databases
/// kept to the end made every checkpoint sync hundreds of thousands of files, and each `DROP
/// DATABASE` waits for a checkpoint. `scripts/test-postgres` drops whatever is left after the
/// run (the names start with its `ECSD_TEST_DB_PREFIX`).
pub fn store_for(data_dir: &std::path::Path) -> ecsd::config::StoreChoice {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    if std::env::var("ECSD_TEST_STORE").as_deref() != Ok("postgres") {
        return ecsd::config::StoreChoice::Sqlite;
    }
    /// A data dir's database, and whether the dir was seen to exist: one that a test names
    /// before the server makes it is not yet gone.
    struct Kept {
        database: PgDatabase,
        seen: bool,
    }
    static DATABASES: OnceLock<Mutex<HashMap<std::path::PathBuf, Kept>>> = OnceLock::new();
    let mut databases = DATABASES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    databases.retain(|dir, kept| {
        let exists = dir.exists();
        kept.seen |= exists;
        exists || !kept.seen
    });
    let kept =
        databases.entry(data_dir.to_path_buf()).or_insert_with(|| Kept { database: PgDatabase::create(), seen: false });
    ecsd::config::StoreChoice::Postgres(kept.database.url.clone())
}
