//! Persistence behind a trait: transactional reads and writes of projects, servers, jobs and
//! idempotency tokens. The store is the source of truth; the engine only moves stored work on.

mod sqlite;

use std::collections::HashMap;
use std::net::Ipv4Addr;

pub use sqlite::SqliteStore;

use crate::domain::Result;
use crate::domain::catalogue::Usage;
use crate::domain::faults::FaultRule;
use crate::domain::job::{Failure, Job, JobStatus, SubJob};
use crate::domain::query::{Page, ServerFilter};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::TaskState;

/// The answer a create gave, kept under its `X-Client-Token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedCreate {
    pub fingerprint: String,
    pub job_id: String,
    pub server_ids: Vec<String>,
    pub created: Timestamp,
}

/// An access key pair and the project it may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
    pub description: String,
    pub created: Timestamp,
    pub revoked: Option<Timestamp>,
}

/// One transaction. Every method sees the writes made before it in the same transaction.
pub trait StoreTx {
    fn project_exists(&mut self, project_id: &str) -> Result<bool>;
    fn ensure_project(&mut self, project_id: &str, name: &str) -> Result<()>;

    fn server(&mut self, project_id: &str, server_id: &str) -> Result<Option<Server>>;
    /// The servers of the project among `ids`, by id; ids of other projects are absent.
    fn servers(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, Server>>;
    /// The total matching `filter` and one page of them, newest first.
    fn list_servers(&mut self, project_id: &str, filter: &ServerFilter, page: &Page) -> Result<(u64, Vec<Server>)>;
    /// Inserts servers and reserves their addresses; `Ecs.0010` if an address is taken.
    fn insert_servers(&mut self, servers: &[Server], reserved: &[Usage]) -> Result<()>;
    /// Writes a server only if its task state is still `expected_task` (the compare-and-set
    /// that keeps one operation per server); `Ecs.0603` otherwise.
    fn update_server(&mut self, server: &Server, expected_task: Option<TaskState>, reserved: Usage) -> Result<()>;
    fn delete_server(&mut self, server_id: &str) -> Result<()>;
    fn usage(&mut self, project_id: &str) -> Result<Usage>;
    fn address_in_use(&mut self, project_id: &str, subnet_id: &str, ip: Ipv4Addr) -> Result<bool>;
    /// An address below which every address of the subnet is taken (0 when unknown).
    fn lowest_free_hint(&mut self, project_id: &str, subnet_id: &str) -> Result<u32>;
    fn set_lowest_free_hint(&mut self, project_id: &str, subnet_id: &str, ip: u32) -> Result<()>;

    fn insert_job(&mut self, job: &Job) -> Result<()>;
    /// A job with its sub-jobs, in request order.
    fn job(&mut self, project_id: &str, job_id: &str) -> Result<Option<Job>>;
    fn sub_job(&mut self, project_id: &str, sub_job_id: &str) -> Result<Option<SubJob>>;
    fn update_sub_job(&mut self, sub_job: &SubJob) -> Result<()>;
    fn sub_job_statuses(&mut self, job_id: &str) -> Result<Vec<(JobStatus, Option<Failure>)>>;
    fn update_job(
        &mut self,
        job_id: &str,
        status: JobStatus,
        end: Option<Timestamp>,
        failure: Option<&Failure>,
    ) -> Result<()>;
    fn unfinished_sub_jobs(&mut self) -> Result<Vec<SubJob>>;

    /// Inserts or replaces the key (a configured key is written again at every start).
    fn put_access_key(&mut self, key: &AccessKey) -> Result<()>;
    fn access_key(&mut self, access_key: &str) -> Result<Option<AccessKey>>;
    fn access_keys(&mut self) -> Result<Vec<AccessKey>>;
    /// Marks a key revoked; false if there is no such key.
    fn revoke_access_key(&mut self, access_key: &str, at: Timestamp) -> Result<bool>;
    fn put_token(&mut self, token_sha256: &str, project_id: &str, user: &str, expires: Timestamp) -> Result<()>;
    /// The project of a token and when it expires.
    fn token(&mut self, token_sha256: &str) -> Result<Option<(String, Timestamp)>>;

    fn fault_rules(&mut self) -> Result<Vec<FaultRule>>;
    /// Inserts a rule or stores its new counters.
    fn put_fault_rule(&mut self, rule: &FaultRule) -> Result<()>;
    fn delete_fault_rule(&mut self, id: &str) -> Result<bool>;
    /// Lets go of the sub-jobs a `hang` rule holds; returns them.
    fn release_held(&mut self, rule_id: &str) -> Result<Vec<SubJob>>;

    /// Removes the servers, addresses, jobs and idempotency tokens of one project, or of all
    /// (and then every fault rule too).
    fn reset(&mut self, project_id: Option<&str>) -> Result<()>;
    /// Saves servers, addresses, jobs and idempotency tokens under a name (replacing it).
    fn save_snapshot(&mut self, name: &str, at: Timestamp) -> Result<()>;
    /// Puts a snapshot back in place of the current state; false if there is none by that name.
    fn restore_snapshot(&mut self, name: &str) -> Result<bool>;
    fn snapshots(&mut self) -> Result<Vec<(String, Timestamp)>>;
    fn delete_snapshot(&mut self, name: &str) -> Result<bool>;

    /// How far simulated time has been advanced, in milliseconds.
    fn clock_advanced_ms(&mut self) -> Result<i64>;
    fn advance_clock(&mut self, by_ms: i64) -> Result<()>;

    fn remembered_create(&mut self, project_id: &str, token: &str) -> Result<Option<RememberedCreate>>;
    fn remember_create(&mut self, project_id: &str, token: &str, create: &RememberedCreate) -> Result<()>;
}

pub trait Store: Send + Sync {
    /// Runs `work` in one transaction: committed if it returns `Ok`, rolled back otherwise.
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn StoreTx) -> Result<()>) -> Result<()>;
    /// Runs `work` on a consistent snapshot that may only read; reads never wait for writes.
    fn read(&self, work: &mut dyn FnMut(&mut dyn StoreTx) -> Result<()>) -> Result<()>;
}

/// [`Store::read`] with a result.
pub fn read<R>(store: &dyn Store, mut work: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
    let mut out = None;
    store.read(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| crate::domain::Error::internal("read finished without a result"))
}

/// [`Store::transaction`] with a result.
pub fn transact<R>(store: &dyn Store, mut work: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
    let mut out = None;
    store.transaction(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| crate::domain::Error::internal("transaction finished without a result"))
}
