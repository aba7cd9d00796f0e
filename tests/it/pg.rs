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
            let (client, connection) =
                tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await.expect("PostgreSQL for tests is up");
            tokio::spawn(connection);
            client.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    })
    .join()
    .expect("the admin statement ran");
}

impl PgDatabase {
    pub fn create() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "ecsd_test_{}_{}_{}",
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
