//! Persistence behind a trait: transactional reads and writes of projects, servers, jobs and
//! idempotency tokens. The store is the source of truth; the engine only moves stored work on.
//!
//! The transaction API is split by concern, each a read trait and a write trait that extends
//! it. [`ReadTx`] gathers every read trait and is what [`Store::read`] hands out, so a read
//! cannot write; [`WriteTx`] adds every write trait. Both are implemented for any type that
//! implements their parts, so a backend implements only the concern traits.
//! `tests/store_conformance.rs` holds every backend to the same behaviour.

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
    /// The key's control calls may reach every project.
    pub admin: bool,
}

/// Servers, the project usage kept beside them, and their private addresses.
pub trait ServerReads {
    fn server(&mut self, project_id: &str, server_id: &str) -> Result<Option<Server>>;
    /// The servers of the project among `ids`, by id; ids of other projects are absent.
    fn servers(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, Server>>;
    /// The total matching `filter` and one page of them, newest first.
    fn list_servers(&mut self, project_id: &str, filter: &ServerFilter, page: &Page) -> Result<(u64, Vec<Server>)>;
    fn usage(&mut self, project_id: &str) -> Result<Usage>;
    fn address_in_use(&mut self, project_id: &str, subnet_id: &str, ip: Ipv4Addr) -> Result<bool>;
    /// An address below which every address of the subnet is taken (0 when unknown).
    fn lowest_free_hint(&mut self, project_id: &str, subnet_id: &str) -> Result<u32>;
}

pub trait ServerWrites: ServerReads {
    /// Inserts servers and reserves their addresses; `Ecs.0010` if an address is taken.
    fn insert_servers(&mut self, servers: &[Server], reserved: &[Usage]) -> Result<()>;
    /// Writes a server only if its task state is still `expected_task` (the compare-and-set
    /// that keeps one operation per server); `Ecs.0603` otherwise.
    fn update_server(&mut self, server: &Server, expected_task: Option<TaskState>, reserved: Usage) -> Result<()>;
    fn delete_server(&mut self, server_id: &str) -> Result<()>;
    fn set_lowest_free_hint(&mut self, project_id: &str, subnet_id: &str, ip: u32) -> Result<()>;
}

/// Jobs and their sub-jobs.
pub trait JobReads {
    /// A job with its sub-jobs, in request order.
    fn job(&mut self, project_id: &str, job_id: &str) -> Result<Option<Job>>;
    fn sub_job(&mut self, project_id: &str, sub_job_id: &str) -> Result<Option<SubJob>>;
    fn sub_job_statuses(&mut self, job_id: &str) -> Result<Vec<(JobStatus, Option<Failure>)>>;
    fn unfinished_sub_jobs(&mut self) -> Result<Vec<SubJob>>;
}

pub trait JobWrites: JobReads {
    fn insert_job(&mut self, job: &Job) -> Result<()>;
    fn update_sub_job(&mut self, sub_job: &SubJob) -> Result<()>;
    fn update_job(
        &mut self,
        job_id: &str,
        status: JobStatus,
        end: Option<Timestamp>,
        failure: Option<&Failure>,
    ) -> Result<()>;
}

/// Projects, access keys and IAM tokens.
pub trait IdentityReads {
    fn project_exists(&mut self, project_id: &str) -> Result<bool>;
    fn access_key(&mut self, access_key: &str) -> Result<Option<AccessKey>>;
    fn access_keys(&mut self) -> Result<Vec<AccessKey>>;
    /// The project of a token and when it expires.
    fn token(&mut self, token_sha256: &str) -> Result<Option<(String, Timestamp)>>;
}

pub trait IdentityWrites: IdentityReads {
    fn ensure_project(&mut self, project_id: &str, name: &str) -> Result<()>;
    /// Inserts or replaces the key (a configured key is written again at every start).
    fn put_access_key(&mut self, key: &AccessKey) -> Result<()>;
    /// Marks a key revoked; false if there is no such key.
    fn revoke_access_key(&mut self, access_key: &str, at: Timestamp) -> Result<bool>;
    fn put_token(&mut self, token_sha256: &str, project_id: &str, user: &str, expires: Timestamp) -> Result<()>;
}

/// Fault rules and the sub-jobs a `hang` rule holds.
pub trait FaultReads {
    fn fault_rules(&mut self) -> Result<Vec<FaultRule>>;
}

pub trait FaultWrites: FaultReads {
    /// Inserts a rule or stores its new counters.
    fn put_fault_rule(&mut self, rule: &FaultRule) -> Result<()>;
    fn delete_fault_rule(&mut self, id: &str) -> Result<bool>;
    /// Lets go of the sub-jobs a `hang` rule holds; returns them.
    fn release_held(&mut self, rule_id: &str) -> Result<Vec<SubJob>>;
}

/// Named snapshots of the whole state, and resetting it.
pub trait SnapshotReads {
    fn snapshots(&mut self) -> Result<Vec<(String, Timestamp)>>;
}

pub trait SnapshotWrites: SnapshotReads {
    /// Removes the servers, addresses, jobs and idempotency tokens of one project, or of all
    /// (and then every fault rule too).
    fn reset(&mut self, project_id: Option<&str>) -> Result<()>;
    /// Saves servers, addresses, jobs and idempotency tokens under a name (replacing it).
    fn save_snapshot(&mut self, name: &str, at: Timestamp) -> Result<()>;
    /// Puts a snapshot back in place of the current state; false if there is none by that name.
    fn restore_snapshot(&mut self, name: &str) -> Result<bool>;
    fn delete_snapshot(&mut self, name: &str) -> Result<bool>;
}

/// Simulated time.
pub trait ClockReads {
    /// How far simulated time has been advanced, in milliseconds.
    fn clock_advanced_ms(&mut self) -> Result<i64>;
}

pub trait ClockWrites: ClockReads {
    fn advance_clock(&mut self, by_ms: i64) -> Result<()>;
}

/// The `X-Client-Token`s of creates.
pub trait IdempotencyReads {
    fn remembered_create(&mut self, project_id: &str, token: &str) -> Result<Option<RememberedCreate>>;
    /// The secret key of the fingerprints (made once per store, the same ever after).
    fn fingerprint_key(&mut self) -> Result<Vec<u8>>;
}

pub trait IdempotencyWrites: IdempotencyReads {
    fn remember_create(&mut self, project_id: &str, token: &str, create: &RememberedCreate) -> Result<()>;
}

/// A read transaction. Every method sees one consistent state.
pub trait ReadTx:
    ServerReads + JobReads + IdentityReads + FaultReads + SnapshotReads + ClockReads + IdempotencyReads
{
}

impl<T> ReadTx for T where
    T: ServerReads + JobReads + IdentityReads + FaultReads + SnapshotReads + ClockReads + IdempotencyReads + ?Sized
{
}

/// A write transaction. Every method sees the writes made before it in the same transaction.
pub trait WriteTx:
    ReadTx + ServerWrites + JobWrites + IdentityWrites + FaultWrites + SnapshotWrites + ClockWrites + IdempotencyWrites
{
}

impl<T> WriteTx for T where
    T: ReadTx
        + ServerWrites
        + JobWrites
        + IdentityWrites
        + FaultWrites
        + SnapshotWrites
        + ClockWrites
        + IdempotencyWrites
        + ?Sized
{
}

pub trait Store: Send + Sync {
    /// Runs `work` in one transaction: committed if it returns `Ok`, rolled back otherwise.
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<()>) -> Result<()>;
    /// Runs `work` on a consistent snapshot that may only read; reads never wait for writes.
    /// `work` gets a [`ReadTx`], so a write in a read does not compile:
    ///
    /// ```compile_fail
    /// fn sneak(store: &dyn ecsd::store::Store) -> ecsd::domain::Result<()> {
    ///     ecsd::store::read(store, |tx| tx.advance_clock(1_000))
    /// }
    /// ```
    fn read(&self, work: &mut dyn FnMut(&mut dyn ReadTx) -> Result<()>) -> Result<()>;
}

/// [`Store::read`] with a result.
pub fn read<R>(store: &dyn Store, mut work: impl FnMut(&mut dyn ReadTx) -> Result<R>) -> Result<R> {
    let mut out = None;
    store.read(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| crate::domain::Error::internal("read finished without a result"))
}

/// [`Store::transaction`] with a result.
pub fn transact<R>(store: &dyn Store, mut work: impl FnMut(&mut dyn WriteTx) -> Result<R>) -> Result<R> {
    let mut out = None;
    store.transaction(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| crate::domain::Error::internal("transaction finished without a result"))
}
