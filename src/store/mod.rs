//! Persistence behind a trait: transactional reads and writes of projects, servers, jobs and
//! idempotency tokens. The store is the source of truth; the engine only moves stored work on.
//!
//! The transaction API is split by concern, each a read trait and a write trait that extends
//! it. [`ReadTx`] gathers every read trait and is what [`Store::read`] hands out, so a read
//! cannot write; [`WriteTx`] adds every write trait. Both are implemented for any type that
//! implements their parts, so a backend implements only the concern traits.
//! `tests/store_conformance.rs` holds every backend to the same behaviour.

mod postgres;
mod rows;
mod sqlite;

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::domain::Result;
use crate::domain::catalogue::Usage;
use crate::domain::events::{Event, EventFilter};
use crate::domain::faults::FaultRule;
use crate::domain::groups::ServerGroup;
use crate::domain::job::{Failure, Job, JobStatus, SubJob};
use crate::domain::keypairs::Keypair;
use crate::domain::lifecycle::{AutoTermination, ServerEvent};
use crate::domain::network::{Port, PortFilter, SecurityGroup, SecurityGroupRule};
use crate::domain::placement::HostUsage;
use crate::domain::query::{Page, ServerFilter};
use crate::domain::recycle_bin::{RecycleBin, Recycled};
use crate::domain::scheduled_events::ScheduledEvent;
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::TaskState;
use crate::domain::tags::TagQuery;
use crate::domain::templates::{LaunchTemplate, TemplateVersion};
use crate::domain::volumes::{CloudVolume, VolumeFilter};

/// The answer a create gave, kept under its `X-Client-Token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedCreate {
    pub fingerprint: String,
    pub job_id: String,
    pub server_ids: Vec<String>,
    pub created: Timestamp,
}

/// An IAM token as stored: its project, its user (the user's id) and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub project_id: String,
    pub user: String,
    pub expires: Timestamp,
}

/// Consecutive failed authentications of a user or an access key, and until when the lock
/// they led to lasts. Kept in the store, so that failures on every replica count together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthFailures {
    pub consecutive: u32,
    pub locked_until: Option<Timestamp>,
}

/// A web console session, or a one-time sign-in token that opens one, as stored under the
/// SHA-256 of its secret (the secret itself is never stored): whom it stands for and until
/// when. Kept in the store, so that a session opened on one replica works on every other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub project_id: String,
    pub access_key: String,
    pub admin: bool,
    pub expires: Timestamp,
    /// A sign-in token (spent by opening a session), not a session.
    pub sign_in: bool,
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
    /// How many servers of every project are in each status (statuses with none are absent).
    fn fleet_by_status(&mut self) -> Result<Vec<(String, u64)>>;
}

pub trait ServerWrites: ServerReads {
    /// Inserts servers with a port for each NIC (holding its address, with the server's
    /// security groups); `Ecs.0010` if an address is taken.
    fn insert_servers(&mut self, servers: &[Server], reserved: &[Usage]) -> Result<()>;
    /// Writes a server only if its task state is still `expected_task` (the compare-and-set
    /// that keeps one operation per server); `Ecs.0603` otherwise.
    fn update_server(&mut self, server: &Server, expected_task: Option<TaskState>, reserved: Usage) -> Result<()>;
    /// Deletes a server with the ports that are its NICs, whose addresses are free again.
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
    /// Which of `ids` `owner` holds a lease on (see [`Store::claim_sub_jobs`]).
    fn leased_to(&mut self, owner: &str, ids: &[String]) -> Result<HashSet<String>>;
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
    fn token(&mut self, token_sha256: &str) -> Result<Option<StoredToken>>;
    /// The failures counted against `who` (a user or an access key); none if never failed.
    fn auth_failures(&mut self, who: &str) -> Result<AuthFailures>;
    fn console_session(&mut self, secret_sha256: &str) -> Result<Option<ConsoleSession>>;
}

pub trait IdentityWrites: IdentityReads {
    fn ensure_project(&mut self, project_id: &str, name: &str) -> Result<()>;
    /// Inserts or replaces the key (a configured key is written again at every start).
    fn put_access_key(&mut self, key: &AccessKey) -> Result<()>;
    /// Marks a key revoked; false if there is no such key.
    fn revoke_access_key(&mut self, access_key: &str, at: Timestamp) -> Result<bool>;
    fn put_token(&mut self, token_sha256: &str, project_id: &str, user: &str, expires: Timestamp) -> Result<()>;
    /// Sets the failures counted against `who`; the default forgets them.
    fn put_auth_failures(&mut self, who: &str, failures: &AuthFailures) -> Result<()>;
    /// Adds a session or sign-in token, after dropping those expired at `now` and, beyond
    /// `keep` in all, those closest to expiry.
    fn put_console_session(
        &mut self,
        secret_sha256: &str,
        session: &ConsoleSession,
        now: Timestamp,
        keep: u32,
    ) -> Result<()>;
    /// Ends a session or spends a sign-in token; false if there was none.
    fn delete_console_session(&mut self, secret_sha256: &str) -> Result<bool>;
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
    /// Removes the servers, ports, security groups, disks, jobs, ECS groups, idempotency tokens
    /// and the audit trail of one project, or of all (and then every fault rule too).
    fn reset(&mut self, project_id: Option<&str>) -> Result<()>;
    /// Saves servers, ports, security groups, disks, jobs, ECS groups, idempotency tokens and the
    /// audit trail under a name (replacing it).
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

/// A server's life outside its jobs (history, scheduled deletion) and the scheduled events of
/// the platform. Rows of a server that is deleted go with it (a trigger), except deletions
/// that already started their job.
pub trait LifecycleReads {
    /// The project of a server, whatever the caller's (for paths without a project).
    fn server_project(&mut self, server_id: &str) -> Result<Option<String>>;
    /// What happened to the server without a job, oldest first.
    fn server_events(&mut self, project_id: &str, server_id: &str) -> Result<Vec<ServerEvent>>;
    /// Every sub-job the server had, oldest first.
    fn server_sub_jobs(&mut self, project_id: &str, server_id: &str) -> Result<Vec<SubJob>>;
    /// The project's scheduled deletions, pending and started.
    fn auto_terminations(&mut self, project_id: &str) -> Result<Vec<AutoTermination>>;
    /// Pending deletions due by `until`, earliest first.
    fn due_auto_terminations(&mut self, until: Timestamp) -> Result<Vec<AutoTermination>>;
    fn scheduled_event(&mut self, project_id: &str, id: &str) -> Result<Option<ScheduledEvent>>;
    /// The project's events, oldest published first.
    fn scheduled_events(&mut self, project_id: &str) -> Result<Vec<ScheduledEvent>>;
    /// Scheduled events waiting for a time by `until`, earliest first.
    fn due_scheduled_events(&mut self, until: Timestamp) -> Result<Vec<ScheduledEvent>>;
    /// The earliest time a pending deletion, a waiting scheduled event or the end of a server's
    /// time in the recycle bin is due.
    fn next_due(&mut self) -> Result<Option<Timestamp>>;
}

pub trait LifecycleWrites: LifecycleReads {
    fn record_server_event(&mut self, event: &ServerEvent) -> Result<()>;
    /// Inserts or replaces the server's scheduled deletion.
    fn put_auto_termination(&mut self, termination: &AutoTermination) -> Result<()>;
    fn delete_auto_termination(&mut self, server_id: &str) -> Result<()>;
    /// Inserts or replaces an event.
    fn put_scheduled_event(&mut self, event: &ScheduledEvent) -> Result<()>;
}

/// Each project's recycle bin and the servers in it. A server in the bin stays a server (its
/// row, quota, addresses, host and tags stay); these rows say since and until when.
pub trait RecycleBinReads {
    /// The project's settings, if it ever changed them.
    fn recycle_bin(&mut self, project_id: &str) -> Result<Option<RecycleBin>>;
    fn recycled(&mut self, project_id: &str, server_id: &str) -> Result<Option<Recycled>>;
    /// How many of the project's servers are in its bin.
    fn recycled_count(&mut self, project_id: &str) -> Result<u64>;
    /// Servers whose time in the bin is over by `until` and whose purge has not started.
    fn due_recycled(&mut self, until: Timestamp) -> Result<Vec<Recycled>>;
}

pub trait RecycleBinWrites: RecycleBinReads {
    fn put_recycle_bin(&mut self, bin: &RecycleBin) -> Result<()>;
    /// Inserts or replaces a server's place in the bin.
    fn put_recycled(&mut self, recycled: &Recycled) -> Result<()>;
    fn delete_recycled(&mut self, server_id: &str) -> Result<()>;
}

/// Launch templates and their versions.
pub trait TemplateReads {
    /// The project's templates, oldest first.
    fn launch_templates(&mut self, project_id: &str) -> Result<Vec<LaunchTemplate>>;
    /// The project's template versions (of one template when given), by template and number.
    fn launch_template_versions(&mut self, project_id: &str, template_id: Option<&str>)
    -> Result<Vec<TemplateVersion>>;
}

pub trait TemplateWrites: TemplateReads {
    /// Inserts a template with its first version; `Ecs.0005` if the project has one by that name.
    fn insert_launch_template(&mut self, template: &LaunchTemplate, first: &TemplateVersion) -> Result<()>;
    /// Deletes a template and its versions; false if the project has no such template.
    fn delete_launch_template(&mut self, project_id: &str, template_id: &str) -> Result<bool>;
}

/// Nova key pairs, by project and name (the public key only: a generated private key is never
/// stored).
pub trait KeypairReads {
    fn keypair(&mut self, project_id: &str, name: &str) -> Result<Option<Keypair>>;
    /// The project's key pairs, oldest first (Nova's order, by `id`).
    fn keypairs(&mut self, project_id: &str) -> Result<Vec<Keypair>>;
}

pub trait KeypairWrites: KeypairReads {
    /// Inserts a key pair and gives it its number; `KeypairExists` if the project has the name.
    fn insert_keypair(&mut self, keypair: &Keypair) -> Result<i64>;
    /// Deletes a key pair; false if the project has none of that name.
    fn delete_keypair(&mut self, project_id: &str, name: &str) -> Result<bool>;
}

/// The tags of a project's servers, which the store keeps from the server documents.
pub trait TagReads {
    /// Every tag key of the project's servers with its distinct values, both sorted.
    fn project_tags(&mut self, project_id: &str) -> Result<Vec<(String, Vec<String>)>>;
    /// How many servers match `query`, and `limit` of them after skipping `offset`, newest
    /// first (the server list's order).
    fn servers_by_tag(
        &mut self,
        project_id: &str,
        query: &TagQuery,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<Server>)>;
}

/// ECS groups. Their members are the servers whose documents name them, so a deleted server
/// leaves its group by itself.
pub trait ServerGroupReads {
    /// A group with its members, oldest server first.
    fn server_group(&mut self, project_id: &str, group_id: &str) -> Result<Option<ServerGroup>>;
    /// Up to `limit` groups, oldest first, after the group `marker` (from the first when
    /// `None`), with their members; `None` when the marker is not a group of the project.
    fn server_groups(&mut self, project_id: &str, marker: Option<&str>, limit: u64)
    -> Result<Option<Vec<ServerGroup>>>;
    fn server_group_count(&mut self, project_id: &str) -> Result<u64>;
}

pub trait ServerGroupWrites: ServerGroupReads {
    fn insert_server_group(&mut self, group: &ServerGroup) -> Result<()>;
    fn delete_server_group(&mut self, group_id: &str) -> Result<()>;
}

/// What the servers on each simulated host hold of it, kept by the store beside the servers
/// (every project's servers share the hosts).
pub trait PlacementReads {
    /// The usage of these hosts; a host no server is on is absent.
    fn host_usage(&mut self, hosts: &[String]) -> Result<HashMap<String, HostUsage>>;
}

/// EVS disks. A disk's side of an attachment is here; the server's side is its document's
/// block devices; every write of an attachment writes both in one transaction.
pub trait VolumeReads {
    fn volume(&mut self, project_id: &str, volume_id: &str) -> Result<Option<CloudVolume>>;
    /// The disks of the project among `ids`, by id; ids of other projects are absent.
    fn volumes(&mut self, project_id: &str, ids: &[String]) -> Result<HashMap<String, CloudVolume>>;
    /// How many disks match `filter`, and its page in its order; `None` when the filter's
    /// marker is not a disk of the project.
    fn list_volumes(&mut self, project_id: &str, filter: &VolumeFilter) -> Result<Option<(u64, Vec<CloudVolume>)>>;
}

pub trait VolumeWrites: VolumeReads {
    fn insert_volumes(&mut self, volumes: &[CloudVolume]) -> Result<()>;
    fn update_volume(&mut self, volume: &CloudVolume) -> Result<()>;
    fn delete_volume(&mut self, volume_id: &str) -> Result<()>;
}

/// The VPC objects of a project: ports (which hold the subnets' addresses, servers' NICs
/// among them), security groups and their rules.
pub trait NetworkReads {
    fn port(&mut self, project_id: &str, port_id: &str) -> Result<Option<Port>>;
    /// The project's ports matching `filter`, oldest first (in the order inserted).
    fn ports(&mut self, project_id: &str, filter: &PortFilter) -> Result<Vec<Port>>;
    /// The project's ports holding addresses of one subnet, by address.
    fn subnet_ports(&mut self, project_id: &str, subnet_id: &str) -> Result<Vec<Port>>;
    fn security_group(&mut self, project_id: &str, group_id: &str) -> Result<Option<SecurityGroup>>;
    /// The project's groups, oldest first (in the order inserted).
    fn security_groups(&mut self, project_id: &str) -> Result<Vec<SecurityGroup>>;
    fn security_group_rule(&mut self, project_id: &str, rule_id: &str) -> Result<Option<SecurityGroupRule>>;
    /// The project's rules (of one group when given), oldest first (in the order inserted).
    fn security_group_rules(&mut self, project_id: &str, group_id: Option<&str>) -> Result<Vec<SecurityGroupRule>>;
    /// Whether a port of the project carries the group, or a rule of another group names it.
    fn security_group_in_use(&mut self, project_id: &str, group_id: &str) -> Result<bool>;
}

pub trait NetworkWrites: NetworkReads {
    /// Inserts a port holding its address; `VPC.0701` if a port of the subnet holds it already.
    fn insert_port(&mut self, port: &Port) -> Result<()>;
    /// Stores a port's new name, device, groups and address pairs (its address never changes).
    fn update_port(&mut self, port: &Port) -> Result<()>;
    /// Deletes a port; its address is free again.
    fn delete_port(&mut self, project_id: &str, port_id: &str) -> Result<()>;
    fn insert_security_group(&mut self, group: &SecurityGroup) -> Result<()>;
    /// Stores a group's new name and description.
    fn update_security_group(&mut self, group: &SecurityGroup) -> Result<()>;
    /// Deletes a group and its rules.
    fn delete_security_group(&mut self, project_id: &str, group_id: &str) -> Result<()>;
    fn insert_security_group_rule(&mut self, rule: &SecurityGroupRule) -> Result<()>;
    fn delete_security_group_rule(&mut self, project_id: &str, rule_id: &str) -> Result<()>;
}

/// The audit trail (calls, job and sub-job transitions, fault rules that fired).
pub trait EventReads {
    /// The records `filter` picks, oldest first: the first `limit` after `since` when given,
    /// else the newest `limit`.
    fn list_events(&mut self, filter: &EventFilter) -> Result<Vec<Event>>;
}

pub trait EventWrites: EventReads {
    /// Appends records, each given the next id (their own `id` is ignored).
    fn append_events(&mut self, events: &[Event]) -> Result<()>;
    /// Deletes up to `at_most` of the oldest records beyond the newest `keep`, or made (real
    /// time) before `before`; returns how many.
    fn trim_events(&mut self, keep: u64, before: Timestamp, at_most: u64) -> Result<u64>;
}

/// A read transaction. Every method sees one consistent state.
pub trait ReadTx:
    ServerReads
    + JobReads
    + IdentityReads
    + FaultReads
    + SnapshotReads
    + ClockReads
    + IdempotencyReads
    + LifecycleReads
    + TemplateReads
    + KeypairReads
    + TagReads
    + ServerGroupReads
    + PlacementReads
    + RecycleBinReads
    + VolumeReads
    + NetworkReads
    + EventReads
{
}

impl<T> ReadTx for T where
    T: ServerReads
        + JobReads
        + IdentityReads
        + FaultReads
        + SnapshotReads
        + ClockReads
        + IdempotencyReads
        + LifecycleReads
        + TemplateReads
        + KeypairReads
        + TagReads
        + ServerGroupReads
        + PlacementReads
        + RecycleBinReads
        + VolumeReads
        + NetworkReads
        + EventReads
        + ?Sized
{
}

/// A write transaction. Every method sees the writes made before it in the same transaction.
pub trait WriteTx:
    ReadTx
    + ServerWrites
    + JobWrites
    + IdentityWrites
    + FaultWrites
    + SnapshotWrites
    + ClockWrites
    + IdempotencyWrites
    + LifecycleWrites
    + TemplateWrites
    + KeypairWrites
    + ServerGroupWrites
    + RecycleBinWrites
    + VolumeWrites
    + NetworkWrites
    + EventWrites
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
        + LifecycleWrites
        + TemplateWrites
        + KeypairWrites
        + ServerGroupWrites
        + RecycleBinWrites
        + VolumeWrites
        + NetworkWrites
        + EventWrites
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
    /// A token that is different after any commit to the store by anyone (this process,
    /// `ecsd keys` in another, another replica sharing the store): equal tokens mean nothing
    /// was committed in between. It is what lets a cache of store data stay exact (the access
    /// keys of [`crate::iam::Iam`]), so it must cost less than a read. It may change more often
    /// than the data cached (SQLite's changes on every commit). `None`, the default: the store
    /// cannot tell cheaply, and nothing is cached.
    fn change_token(&self) -> Result<Option<u64>> {
        Ok(None)
    }
    /// Whether other processes may serve from this store at once (PostgreSQL): their engines
    /// then share the work through [`Store::claim_sub_jobs`].
    fn shared(&self) -> bool {
        false
    }
    /// Leases the sub-jobs `claim` picks to its owner and answers them. On PostgreSQL it does
    /// not wait for the writers: rows another transaction is writing are skipped
    /// (`FOR UPDATE SKIP LOCKED`), and a lease taken meanwhile by another replica is kept.
    fn claim_sub_jobs(&self, claim: &Claim) -> Result<Vec<SubJob>>;
    /// Extends `owner`'s leases on `working` until `until_ms`; its other leases are dropped
    /// (finished, held or no longer its work). Returns how many were extended.
    fn renew_leases(&self, owner: &str, working: &[String], until_ms: i64) -> Result<u64>;
    /// Tells every other process listening on the store (none but PostgreSQL's).
    fn notify(&self, _notice: &Notice) -> Result<()> {
        Ok(())
    }
    /// Hears the notices of other processes from now on, reconnecting by itself; a store
    /// that has none never calls `listener`.
    fn listen(&self, _listener: Listener) {}
}

/// Which unfinished sub-jobs a [`Claim`] takes: those without a live lease, those and the
/// claimer's own, or every one whatever its lease (a replica that settles or moves time takes
/// the work over; the step check of the engine keeps a step from being applied twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    Free,
    FreeOrMine,
    Any,
}

/// A replica's claim on unfinished sub-jobs that no `hang` rule holds: it leases them to
/// `owner` until `until_ms` (real time, ms since the epoch; a lease whose `expires_ms` is
/// before `now_ms` is free).
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub owner: &'a str,
    pub now_ms: i64,
    pub until_ms: i64,
    pub take: Take,
    /// Only these sub-jobs (all when `None`).
    pub ids: Option<&'a [String]>,
    /// Only this project's (every project's when `None`).
    pub project_id: Option<&'a str>,
    /// At most this many, oldest first.
    pub limit: usize,
}

/// What one replica tells the others sharing its store (PostgreSQL's `NOTIFY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Sub-jobs lost their lease (a replica stopped): claim them.
    Work,
    /// Simulated time moved: read it again.
    Clock,
    /// The state was reset or restored: load the work again.
    Reload,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Work => "work",
            Topic::Clock => "clock",
            Topic::Reload => "reload",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Topic::Work, Topic::Clock, Topic::Reload].into_iter().find(|t| t.as_str() == name)
    }
}

/// A [`Topic`] and the replica that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub topic: Topic,
    pub from: String,
}

/// Called with every notice a store hears; returns false to stop listening.
pub type Listener = Box<dyn Fn(Notice) -> bool + Send + Sync>;

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
