//! The store contract, written once against `dyn Store` and run for every backend in
//! [`DATABASES`]: what the service and the engine rely on whatever the store is. A new backend
//! joins by adding its factory there; nothing else in this file names a backend.
//!
//! That a read transaction cannot write is checked at compile time (the `compile_fail`
//! example on `Store::read`), not here.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::{Barrier, mpsc};
use std::thread;
use std::time::Duration;

use ecsd::domain::catalogue::Usage;
use ecsd::domain::faults::{FaultEffect, FaultOperation, FaultRule, FaultSpec};
use ecsd::domain::groups::ServerGroup;
use ecsd::domain::job::{Failure, Job, JobStatus, SubJob};
use ecsd::domain::network::{Port, PortFilter, SecurityGroup, SecurityGroupRule, default_group};
use ecsd::domain::placement::HostUsage;
use ecsd::domain::query::{Page, ServerFilter, Start};
use ecsd::domain::recycle_bin::{RecycleBin, Recycled};
use ecsd::domain::server::{Nic, Rebuild, Server, Tag, Timestamp, Volume};
use ecsd::domain::status::{Operation, OperationKind, Status, TaskState, VmState};
use ecsd::domain::tags::{TagMatch, TagQuery};
use ecsd::domain::volumes::{Attachment, CloudVolume, VolumeFilter, VolumeSortKey, VolumeStatus};
use ecsd::domain::{Error, ErrorCode, Result};
use ecsd::store::{
    AccessKey, AuthFailures, Claim, ConsoleSession, PostgresStore, ReadTx, RememberedCreate, SqliteStore, Store, Take,
    WriteTx, read, transact,
};

use crate::pg::PgDatabase;

/// A database that stores can be opened on. Each `open` is a new store over the same data, as
/// a restarted ecsd or a second process (`ecsd keys`) has.
trait Database {
    fn open(&self) -> Box<dyn Store>;
}

/// Makes a new, empty database.
type Factory = fn() -> Box<dyn Database>;

/// Every backend under test, by name.
const DATABASES: &[(&str, Factory)] = &[("sqlite", SqliteDatabase::empty), ("postgres", PostgresDatabase::empty)];

struct SqliteDatabase {
    dir: tempfile::TempDir,
}

impl SqliteDatabase {
    fn empty() -> Box<dyn Database> {
        Box::new(SqliteDatabase { dir: tempfile::tempdir().expect("temp dir") })
    }
}

impl Database for SqliteDatabase {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(&self.dir.path().join("ecsd.sqlite3")).expect("the SQLite store opens"))
    }
}

/// A database of its own on the test PostgreSQL server.
struct PostgresDatabase {
    database: PgDatabase,
}

impl PostgresDatabase {
    fn empty() -> Box<dyn Database> {
        Box::new(PostgresDatabase { database: PgDatabase::create() })
    }
}

impl Database for PostgresDatabase {
    fn open(&self) -> Box<dyn Store> {
        Box::new(PostgresStore::open(&self.database.url).expect("the PostgreSQL store opens"))
    }
}

/// Runs `test` on a new, empty database of every backend.
fn on_every_database(test: impl Fn(&dyn Database)) {
    for (name, empty) in DATABASES {
        // Shown with the output of a failing test: which backend broke the contract.
        eprintln!("store conformance: {name}");
        test(empty().as_ref());
    }
}

/// Runs `test` on a store over a new, empty database of every backend.
fn on_every_store(test: impl Fn(&dyn Store)) {
    on_every_database(|database| test(database.open().as_ref()));
}

const P: &str = "0123456789abcdef0123456789abcdef";
const Q: &str = "fedcba9876543210fedcba9876543210";
const SUBNET: &str = "subnet-a";
const OTHER_SUBNET: &str = "subnet-b";
const SMALL: &str = "s3.small.1";
const LARGE: &str = "s3.large.2";

/// A time `ms` milliseconds after a fixed start. Whole milliseconds, the coarsest precision a
/// store keeps (jobs, keys, tokens).
fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_timestamp_nanos(i128::from(1_700_000_000_000 + ms) * 1_000_000).expect("time")
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 0, last)
}

fn nic(subnet_id: &str, address: Ipv4Addr) -> Nic {
    Nic {
        port_id: format!("port-{address}"),
        subnet_id: subnet_id.into(),
        ip: address,
        mac: "fa:16:3e:00:00:01".into(),
        delete_on_termination: true,
    }
}

/// An idle running server with one NIC on `SUBNET` at `192.168.0.<address>`.
fn server(project_id: &str, id: &str, name: &str, created_ms: i64, address: u8) -> Server {
    Server {
        id: id.into(),
        project_id: project_id.into(),
        name: name.into(),
        description: String::new(),
        vm_state: VmState::Active,
        task_state: None,
        locked: false,
        flavor_id: SMALL.into(),
        resize_target: None,
        image_id: "image-1".into(),
        availability_zone: "eu-de-01".into(),
        vpc_id: "vpc-1".into(),
        nics: vec![nic(SUBNET, ip(address))],
        volumes: vec![],
        metadata: BTreeMap::new(),
        tags: vec![],
        security_group_ids: vec![],
        key_name: None,
        user_data: None,
        hostname: name.into(),
        instance_name: format!("instance-{id}"),
        reservation_id: "r-0".into(),
        launch_index: 0,
        created: at(created_ms),
        updated: at(created_ms),
        launched_at: Some(at(created_ms)),
        password_hash: None,
        pending_password_hash: None,
        host: None,
        server_group_id: None,
        metadata_options: Default::default(),
        encrypted_password: None,
        auto_terminate_time: None,
        previous_host: None,
        resize_revert: None,
        rebuild: None,
    }
}

fn tag(key: &str, value: &str) -> Tag {
    Tag { key: key.into(), value: value.into() }
}

fn reserving(cores: i64) -> Usage {
    Usage { instances: 1, cores, ram_mib: cores * 1024 }
}

/// `work` committed; the test fails if it does not.
fn commit<R>(store: &dyn Store, work: impl FnMut(&mut dyn WriteTx) -> Result<R>) -> R {
    transact(store, work).expect("the transaction commits")
}

/// `work` run in a read transaction; the test fails if it errs.
fn look<R>(store: &dyn Store, work: impl FnMut(&mut dyn ReadTx) -> Result<R>) -> R {
    read(store, work).expect("the read succeeds")
}

/// Inserts servers of one core each, creating their projects.
fn insert(store: &dyn Store, servers: &[Server]) {
    commit(store, |tx| insert_in(tx, servers));
}

fn insert_in(tx: &mut dyn WriteTx, servers: &[Server]) -> Result<()> {
    for server in servers {
        tx.ensure_project(&server.project_id, "")?;
    }
    tx.insert_servers(servers, &vec![reserving(1); servers.len()])
}

fn page(number: u64, limit: u64) -> Page {
    Page { start: Start::Page(number), limit }
}

fn after(marker: &str, limit: u64) -> Page {
    Page { start: Start::After(marker.into()), limit }
}

/// The total and the ids of one page of the list.
fn list(store: &dyn Store, project_id: &str, filter: &ServerFilter, page: &Page) -> (u64, Vec<String>) {
    let (total, servers) = look(store, |tx| tx.list_servers(project_id, filter, page));
    (total, servers.into_iter().map(|s| s.id).collect())
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

fn sub_job(job_id: &str, id: &str, server_id: &str, operation: Operation, status: JobStatus, begin_ms: i64) -> SubJob {
    SubJob {
        id: id.into(),
        job_id: job_id.into(),
        project_id: P.into(),
        server_id: server_id.into(),
        operation,
        from: VmState::Active,
        status,
        step: 0,
        begin_time: at(begin_ms),
        end_time: None,
        failure: None,
        held_by: None,
    }
}

fn job(project_id: &str, id: &str, kind: OperationKind, mut sub_jobs: Vec<SubJob>) -> Job {
    for sub in &mut sub_jobs {
        sub.project_id = project_id.into();
    }
    Job {
        id: id.into(),
        project_id: project_id.into(),
        kind,
        status: JobStatus::Running,
        begin_time: sub_jobs.first().map_or(at(0), |s| s.begin_time),
        end_time: None,
        failure: None,
        single_server: false,
        sub_jobs,
    }
}

/// A job of one sub-job, stopping `server_id`.
fn stop_job(project_id: &str, id: &str, server_id: &str) -> Job {
    let sub = sub_job(id, &format!("{id}-sub"), server_id, Operation::Stop { hard: false }, JobStatus::Init, 0);
    job(project_id, id, OperationKind::Stop, vec![sub])
}

fn rule(id: &str, effect: FaultEffect) -> FaultRule {
    FaultRule {
        id: id.into(),
        spec: FaultSpec {
            operation: FaultOperation::Stop,
            server_id: None,
            name_pattern: None,
            tag: None,
            project_id: None,
            probability: None,
            count: Some(3),
            seed: 7,
            effect,
        },
        fired: 0,
        evaluations: 0,
    }
}

fn access_key(id: &str, created_ms: i64) -> AccessKey {
    AccessKey {
        access_key: id.into(),
        secret_key: format!("secret-of-{id}"),
        project_id: P.into(),
        description: "test".into(),
        created: at(created_ms),
        revoked: None,
        admin: false,
    }
}

fn remembered(job_id: &str, created_ms: i64) -> RememberedCreate {
    RememberedCreate {
        fingerprint: format!("fingerprint-{job_id}"),
        job_id: job_id.into(),
        server_ids: strings(&["srv-2", "srv-1"]),
        created: at(created_ms),
    }
}

/// Everything a snapshot holds (and a reset removes) that the tests below write, as the store
/// shows it.
#[derive(Debug, PartialEq)]
struct Observed {
    servers: Vec<(u64, Vec<Server>)>,
    usage: Vec<Usage>,
    jobs: Vec<Option<Job>>,
    unfinished: Vec<SubJob>,
    tokens: Vec<Option<RememberedCreate>>,
    addresses_in_use: Vec<bool>,
}

fn observe(store: &dyn Store) -> Observed {
    look(store, |tx| {
        let mut observed = Observed {
            servers: vec![],
            usage: vec![],
            jobs: vec![],
            unfinished: tx.unfinished_sub_jobs()?,
            tokens: vec![],
            addresses_in_use: vec![],
        };
        for project in [P, Q] {
            observed.servers.push(tx.list_servers(project, &ServerFilter::default(), &page(1, 100))?);
            observed.usage.push(tx.usage(project)?);
            for job_id in ["job-p", "job-q"] {
                observed.jobs.push(tx.job(project, job_id)?);
            }
            for token in ["tok-1", "tok-2"] {
                observed.tokens.push(tx.remembered_create(project, token)?);
            }
            for last in 10..16 {
                observed.addresses_in_use.push(tx.address_in_use(project, SUBNET, ip(last))?);
            }
        }
        Ok(observed)
    })
}

/// Two projects with servers, a job, a client token and an address hint each.
fn populate(store: &dyn Store) {
    commit(store, |tx| {
        insert_in(tx, &[server(P, "srv-p1", "web-1", 0, 10), server(P, "srv-p2", "web-2", 1, 11)])?;
        insert_in(tx, &[server(Q, "srv-q1", "db-1", 2, 12)])?;
        tx.insert_job(&stop_job(P, "job-p", "srv-p1"))?;
        tx.insert_job(&stop_job(Q, "job-q", "srv-q1"))?;
        tx.remember_create(P, "tok-1", &remembered("job-p", 0))?;
        tx.remember_create(Q, "tok-1", &remembered("job-q", 0))?;
        tx.set_lowest_free_hint(P, SUBNET, u32::from(ip(12)))?;
        tx.set_lowest_free_hint(Q, SUBNET, u32::from(ip(13)))
    });
}

#[test]
fn a_transaction_that_fails_rolls_back_every_write() {
    on_every_store(|store| {
        let outcome = store.transaction(&mut |tx| {
            insert_in(tx, &[server(P, "srv-1", "web", 0, 10)])?;
            tx.set_lowest_free_hint(P, SUBNET, u32::from(ip(11)))?;
            tx.insert_job(&stop_job(P, "job-1", "srv-1"))?;
            tx.put_access_key(&access_key("AK1", 0))?;
            tx.put_token("token-sha", P, "alice", at(60_000))?;
            tx.put_fault_rule(&rule("rule-1", FaultEffect::Hang))?;
            tx.save_snapshot("snap", at(0))?;
            tx.advance_clock(5_000)?;
            tx.remember_create(P, "tok-1", &remembered("job-1", 0))?;
            // Every write is seen by the rest of its transaction...
            assert!(tx.server(P, "srv-1")?.is_some());
            assert_eq!(tx.usage(P)?, reserving(1));
            assert_eq!(tx.clock_advanced_ms()?, 5_000);
            Err(Error::invalid("the caller gives up"))
        });
        assert_eq!(outcome.map_err(|e| e.message), Err("the caller gives up".to_string()));

        // ...and none outlives it.
        look(store, |tx| {
            assert!(!tx.project_exists(P)?);
            assert_eq!(tx.server(P, "srv-1")?, None);
            assert_eq!(tx.usage(P)?, Usage::default());
            assert!(!tx.address_in_use(P, SUBNET, ip(10))?);
            assert_eq!(tx.lowest_free_hint(P, SUBNET)?, 0);
            assert_eq!(tx.job(P, "job-1")?, None);
            assert_eq!(tx.unfinished_sub_jobs()?, vec![]);
            assert_eq!(tx.access_key("AK1")?, None);
            assert_eq!(tx.token("token-sha")?, None);
            assert_eq!(tx.fault_rules()?, vec![]);
            assert_eq!(tx.snapshots()?, vec![]);
            assert_eq!(tx.clock_advanced_ms()?, 0);
            assert_eq!(tx.remembered_create(P, "tok-1")?, None);
            Ok(())
        });

        // The store takes the next transaction as if nothing had happened.
        insert(store, &[server(P, "srv-1", "web", 0, 10)]);
        assert!(look(store, |tx| tx.server(P, "srv-1")).is_some());
    });
}

/// The server makes point reads (a request's access key, a show) on its async tasks. A task
/// that has spent its cooperative budget (tokio's, which its I/O spends and only its yielding
/// refills) still gets its answer: a store that waited on a tokio future under that budget
/// would be told "not yet" forever, and its worker thread would spin, as ecsd's did under 64
/// signed connections on PostgreSQL.
#[test]
fn a_store_called_from_an_async_task_that_spent_its_budget_answers() {
    on_every_store(|store| {
        insert(store, &[server(P, "srv-1", "web", 0, 10)]);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let found = runtime.block_on(async {
            while tokio::task::coop::has_budget_remaining() {
                tokio::task::coop::consume_budget().await;
            }
            look(store, |tx| tx.server(P, "srv-1"))
        });
        assert!(found.is_some());
        let written = runtime.block_on(async {
            while tokio::task::coop::has_budget_remaining() {
                tokio::task::coop::consume_budget().await;
            }
            store.transaction(&mut |tx| tx.advance_clock(1_000))
        });
        assert_eq!(written.map_err(|e| e.message), Ok(()));
    });
}

#[test]
fn auth_failures_round_trip_and_the_default_forgets_them() {
    on_every_database(|database| {
        let locked = AuthFailures { consecutive: 6, locked_until: Some(at(300_000)) };
        commit(database.open().as_ref(), |tx| {
            tx.put_auth_failures("key:AK1", &AuthFailures { consecutive: 2, locked_until: None })?;
            tx.put_auth_failures("key:AK1", &locked)
        });
        // Another store on the same database (another replica) sees them.
        let other = database.open();
        assert_eq!(look(other.as_ref(), |tx| tx.auth_failures("key:AK1")), locked);
        assert_eq!(look(other.as_ref(), |tx| tx.auth_failures("key:AK2")), AuthFailures::default());
        commit(other.as_ref(), |tx| tx.put_auth_failures("key:AK1", &AuthFailures::default()));
        assert_eq!(look(other.as_ref(), |tx| tx.auth_failures("key:AK1")), AuthFailures::default());
    });
}

fn console_session(expires_ms: i64, sign_in: bool) -> ConsoleSession {
    ConsoleSession { project_id: P.into(), access_key: "AK1".into(), admin: false, expires: at(expires_ms), sign_in }
}

#[test]
fn console_sessions_are_shared_and_the_expired_and_the_oldest_beyond_the_limit_are_dropped() {
    on_every_database(|database| {
        let store = database.open();
        commit(store.as_ref(), |tx| {
            tx.put_console_session("sha-expired", &console_session(1_000, false), at(0), 10)?;
            tx.put_console_session("sha-token", &console_session(50_000, true), at(0), 10)?;
            tx.put_console_session("sha-a", &console_session(60_000, false), at(2_000), 10)
        });
        let other = database.open();
        assert_eq!(look(other.as_ref(), |tx| tx.console_session("sha-a")), Some(console_session(60_000, false)));
        assert_eq!(look(other.as_ref(), |tx| tx.console_session("sha-token")), Some(console_session(50_000, true)));
        assert_eq!(look(other.as_ref(), |tx| tx.console_session("sha-expired")), None, "expired at the last put");
        // Two held, room for two: the one closest to expiry makes room for the new one.
        commit(other.as_ref(), |tx| tx.put_console_session("sha-b", &console_session(70_000, false), at(2_000), 2));
        assert_eq!(look(store.as_ref(), |tx| tx.console_session("sha-token")), None);
        assert!(look(store.as_ref(), |tx| tx.console_session("sha-a")).is_some());
        assert!(commit(store.as_ref(), |tx| tx.delete_console_session("sha-a")));
        assert!(!commit(store.as_ref(), |tx| tx.delete_console_session("sha-a")), "deleted already");
        assert!(look(other.as_ref(), |tx| tx.console_session("sha-b")).is_some());
    });
}

#[test]
fn a_server_round_trips_whole() {
    on_every_store(|store| {
        let mut rich = server(P, "srv-1", "web-01", 0, 10);
        rich.description = "the front end".into();
        rich.nics.push(nic(OTHER_SUBNET, Ipv4Addr::new(10, 0, 0, 5)));
        rich.volumes = vec![Volume {
            id: "vol-1".into(),
            volume_type: "SSD".into(),
            size_gib: 40,
            boot_index: Some(0),
            device: "/dev/vda".into(),
            delete_on_termination: true,
        }];
        rich.metadata = BTreeMap::from([("owner".into(), "ops".into())]);
        rich.tags = vec![tag("env", "prod"), tag("solo", "")];
        rich.security_group_ids = vec!["sg-1".into()];
        rich.key_name = Some("key-1".into());
        rich.user_data = Some("IyEvYmluL3NoCg==".into());
        rich.launch_index = 3;
        rich.password_hash = Some("$argon2id$hash".into());
        // Sub-millisecond parts of server times are kept.
        rich.updated = at(5) + Duration::from_nanos(123_456);
        insert(store, std::slice::from_ref(&rich));
        assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(rich.clone()));
        assert_eq!(look(store, |tx| tx.server(Q, "srv-1")), None, "a server is seen only in its project");

        let mut rebuilding = rich.clone();
        rebuilding.task_state = Some(TaskState::Rebuilding);
        rebuilding.vm_state = VmState::Stopped;
        rebuilding.rebuild = Some(Rebuild {
            image_id: "image-2".into(),
            password_hash: Some("$argon2id$rebuilt".into()),
            key_name: None,
            user_data: Some("IyEvYmluL3NoCg==".into()),
            disk_metadata: BTreeMap::from([("__system__encrypted".into(), "0".into())]),
            encrypted_password: None,
        });
        commit(store, |tx| tx.update_server(&rebuilding, None, reserving(1)));
        assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(rebuilding), "a pending rebuild is kept");

        let mut resized = rich.clone();
        resized.resize_target = Some(LARGE.into());
        resized.task_state = Some(TaskState::ResizePrep);
        resized.vm_state = VmState::Stopped;
        resized.pending_password_hash = Some("$argon2id$next".into());
        commit(store, |tx| tx.update_server(&resized, Some(TaskState::Rebuilding), reserving(2)));
        assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(resized.clone()));
        let (_, listed) = look(store, |tx| tx.list_servers(P, &ServerFilter::default(), &page(1, 25)));
        assert_eq!(listed, vec![resized]);
    });
}

#[test]
fn servers_by_ids_answers_only_those_of_the_project() {
    on_every_store(|store| {
        let mine = [server(P, "srv-1", "a", 0, 10), server(P, "srv-2", "b", 1, 11)];
        insert(store, &mine);
        insert(store, &[server(Q, "srv-q", "c", 2, 12)]);
        let found = look(store, |tx| tx.servers(P, &strings(&["srv-2", "srv-q", "missing", "srv-1"])));
        let expected: HashMap<String, Server> = mine.iter().map(|s| (s.id.clone(), s.clone())).collect();
        assert_eq!(found, expected);
        assert!(look(store, |tx| tx.servers(P, &[])).is_empty());
    });
}

#[test]
fn the_fleet_is_counted_by_status_across_projects() {
    on_every_store(|store| {
        assert!(look(store, |tx| tx.fleet_by_status()).is_empty());
        let mut stopped = server(Q, "srv-q", "c", 2, 12);
        stopped.vm_state = VmState::Stopped;
        insert(store, &[server(P, "srv-1", "a", 0, 10), server(P, "srv-2", "b", 1, 11), stopped]);
        assert_eq!(look(store, |tx| tx.fleet_by_status()), vec![("ACTIVE".to_string(), 2), ("SHUTOFF".to_string(), 1)]);
    });
}

#[test]
fn a_stale_task_state_is_refused_and_changes_nothing() {
    on_every_store(|store| {
        let idle = server(P, "srv-1", "web", 0, 10);
        insert(store, std::slice::from_ref(&idle));
        let mut stopping = idle.clone();
        stopping.task_state = Some(TaskState::PoweringOff);
        stopping.name = "renamed".into();

        let refused = transact(store, |tx| tx.update_server(&stopping, Some(TaskState::Spawning), reserving(8)))
            .expect_err("a stale expected task state is refused");
        assert_eq!(refused.code.code(), "Ecs.0603");
        assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(idle.clone()));
        assert_eq!(look(store, |tx| tx.usage(P)), reserving(1));

        // The refusal leaves its transaction usable: the engine records a failed sub-job in it.
        commit(store, |tx| {
            let again = tx.update_server(&stopping, Some(TaskState::Spawning), reserving(8));
            assert_eq!(again.map_err(|e| e.code), Err(ErrorCode::ServerBusy));
            tx.advance_clock(1)
        });
        assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(idle.clone()));
        assert_eq!(look(store, |tx| tx.clock_advanced_ms()), 1);

        // The state it holds is the one that writes, and from then on the old one is stale.
        commit(store, |tx| tx.update_server(&stopping, None, reserving(8)));
        assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(stopping.clone()));
        assert_eq!(look(store, |tx| tx.usage(P)), reserving(8));
        let refused = transact(store, |tx| tx.update_server(&idle, None, reserving(1))).expect_err("stale");
        assert_eq!(refused.code.code(), "Ecs.0603");
        assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(stopping));
    });
}

#[test]
fn of_writers_racing_the_same_compare_and_set_exactly_one_wins() {
    const RACERS: usize = 8;
    on_every_database(|database| {
        // Half the racers go through a second store, as another process would.
        let stores = [database.open(), database.open()];
        insert(stores[0].as_ref(), &[server(P, "srv-1", "web", 0, 10)]);
        let barrier = Barrier::new(RACERS);
        let outcomes: Vec<Result<()>> = thread::scope(|scope| {
            let racers: Vec<_> = (0..RACERS)
                .map(|racer| {
                    let (store, barrier) = (stores[racer % 2].as_ref(), &barrier);
                    scope.spawn(move || {
                        let seen = look(store, |tx| tx.server(P, "srv-1")).expect("the server");
                        let mut next = seen.clone();
                        next.task_state = Some(TaskState::PoweringOff);
                        next.name = format!("racer-{racer}");
                        // Every racer has seen the server idle before any of them writes.
                        barrier.wait();
                        transact(store, |tx| tx.update_server(&next, seen.task_state, reserving(1)))
                    })
                })
                .collect();
            racers.into_iter().map(|racer| racer.join().expect("a racer finishes")).collect()
        });
        let winners: Vec<usize> = (0..RACERS).filter(|racer| outcomes[*racer].is_ok()).collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        for lost in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
            assert_eq!(lost.code.code(), "Ecs.0603");
        }
        let stored = look(stores[1].as_ref(), |tx| tx.server(P, "srv-1")).expect("the server");
        assert_eq!(stored.name, format!("racer-{}", winners[0]));
    });
}

#[test]
fn the_list_is_newest_first_with_ties_by_id_and_pages_by_number_and_marker() {
    on_every_store(|store| {
        // Inserted out of order, in separate transactions.
        for (id, created, address) in
            [("srv-c", 2000, 12), ("srv-a", 1000, 10), ("srv-e", 2000, 14), ("srv-b", 3000, 11), ("srv-d", 3000, 13)]
        {
            insert(store, &[server(P, id, id, created, address)]);
        }
        insert(store, &[server(Q, "srv-q", "other", 5000, 30)]);
        let all = ServerFilter::default();
        let newest_first = strings(&["srv-b", "srv-d", "srv-c", "srv-e", "srv-a"]);

        assert_eq!(list(store, P, &all, &page(1, 25)), (5, newest_first.clone()));
        assert_eq!(list(store, P, &all, &page(1, 2)), (5, strings(&["srv-b", "srv-d"])));
        assert_eq!(list(store, P, &all, &page(2, 2)), (5, strings(&["srv-c", "srv-e"])));
        assert_eq!(list(store, P, &all, &page(3, 2)), (5, strings(&["srv-a"])));
        assert_eq!(list(store, P, &all, &page(4, 2)), (5, vec![]));

        assert_eq!(list(store, P, &all, &after("srv-b", 2)), (5, strings(&["srv-d", "srv-c"])));
        assert_eq!(list(store, P, &all, &after("srv-d", 2)), (5, strings(&["srv-c", "srv-e"])));
        assert_eq!(list(store, P, &all, &after("srv-e", 25)), (5, strings(&["srv-a"])));
        assert_eq!(list(store, P, &all, &after("srv-a", 25)), (5, vec![]));
        assert_eq!(list(store, P, &all, &after("missing", 25)), (5, vec![]));
        assert_eq!(list(store, P, &all, &after("srv-q", 25)), (5, vec![]), "a marker of another project");

        assert_eq!(list(store, Q, &all, &page(1, 25)), (1, strings(&["srv-q"])));
        assert_eq!(list(store, "00000000000000000000000000000000", &all, &page(1, 25)), (0, vec![]));

        // The count follows deletes.
        commit(store, |tx| tx.delete_server("srv-d"));
        assert_eq!(list(store, P, &all, &page(1, 2)), (4, strings(&["srv-b", "srv-c"])));
    });
}

#[test]
fn list_filters_select_in_sql() {
    on_every_store(|store| {
        let mut web1 = server(P, "srv-1", "web-01", 4000, 10);
        web1.tags = vec![tag("env", "prod")];
        web1.reservation_id = "r-1".into();
        let mut web2 = server(P, "srv-2", "web-02", 3000, 11);
        web2.vm_state = VmState::Stopped;
        web2.tags = vec![tag("env", "dev"), tag("solo", "")];
        web2.reservation_id = "r-1".into();
        let mut db = server(P, "srv-3", "db-01", 2000, 20);
        db.flavor_id = LARGE.into();
        db.nics.push(nic(OTHER_SUBNET, Ipv4Addr::new(10, 0, 0, 5)));
        let mut odd = server(P, "srv-4", "odd*[x]?", 1000, 12);
        odd.tags = vec![tag("a", "b")];
        let mut elsewhere = server(Q, "srv-q", "web-03", 5000, 30);
        elsewhere.tags = vec![tag("env", "prod")];
        insert(store, &[web1, web2, db, odd, elsewhere]);

        let ids = |filter: ServerFilter| {
            let (total, ids) = list(store, P, &filter, &page(1, 25));
            assert_eq!(total, ids.len() as u64, "the count of {filter:?}");
            ids
        };
        let none: Vec<String> = vec![];
        let by_name = |name: &str| ids(ServerFilter { name: Some(name.into()), ..Default::default() });
        assert_eq!(by_name("web"), strings(&["srv-1", "srv-2"]));
        assert_eq!(by_name("b-.1"), strings(&["srv-1", "srv-3"]), "`.` matches any one character");
        assert_eq!(by_name("w..-"), strings(&["srv-1", "srv-2"]));
        assert_eq!(by_name("w.-"), none, "`.` matches exactly one character");
        assert_eq!(by_name("WEB"), none);
        for glob_character in ["*", "?", "[x]"] {
            assert_eq!(by_name(glob_character), strings(&["srv-4"]), "{glob_character} is taken literally");
        }

        let by_status = |status| ids(ServerFilter { status: Some(status), ..Default::default() });
        assert_eq!(by_status(Status::Shutoff), strings(&["srv-2"]));
        assert_eq!(by_status(Status::Active), strings(&["srv-1", "srv-3", "srv-4"]));
        assert_eq!(ids(ServerFilter { flavor: Some(LARGE.into()), ..Default::default() }), strings(&["srv-3"]));
        let by_reservation = ServerFilter { reservation_id: Some("r-1".into()), ..Default::default() };
        assert_eq!(ids(by_reservation), strings(&["srv-1", "srv-2"]));

        let by_tag = |tag: &str| ids(ServerFilter { tags: Some(tag.into()), ..Default::default() });
        assert_eq!(by_tag("env"), strings(&["srv-1", "srv-2"]));
        assert_eq!(by_tag("env=prod"), strings(&["srv-1"]));
        assert_eq!(by_tag("env=pro"), none, "a whole tag, not a prefix");
        assert_eq!(by_tag("solo"), strings(&["srv-2"]));
        assert_eq!(by_tag("a/b"), none);
        let without_tag = |tag: &str| ids(ServerFilter { not_tags: Some(tag.into()), ..Default::default() });
        assert_eq!(without_tag("env"), strings(&["srv-3", "srv-4"]));
        assert_eq!(without_tag("env=dev"), strings(&["srv-1", "srv-3", "srv-4"]));

        let by_ip = |ip: &str| ids(ServerFilter { ip: Some(ip.into()), ..Default::default() });
        assert_eq!(by_ip("0.1"), strings(&["srv-1", "srv-2", "srv-4"]));
        assert_eq!(by_ip("10.0.0"), strings(&["srv-3"]), "any NIC's address");
        let by_exact_ip = |ip: &str| ids(ServerFilter { ip_eq: Some(ip.into()), ..Default::default() });
        assert_eq!(by_exact_ip("192.168.0.11"), strings(&["srv-2"]));
        assert_eq!(by_exact_ip("192.168.0.1"), none);

        let web_and_active =
            ServerFilter { name: Some("web".into()), status: Some(Status::Active), ..Default::default() };
        assert_eq!(ids(web_and_active), strings(&["srv-1"]));
        let env_not_dev =
            ServerFilter { tags: Some("env".into()), not_tags: Some("env=dev".into()), ..Default::default() };
        assert_eq!(ids(env_not_dev), strings(&["srv-1"]));

        // The count is of every match, whatever the page.
        let env = ServerFilter { tags: Some("env".into()), ..Default::default() };
        assert_eq!(list(store, P, &env, &page(1, 1)), (2, strings(&["srv-1"])));
        assert_eq!(list(store, P, &env, &page(2, 1)), (2, strings(&["srv-2"])));
        assert_eq!(list(store, P, &env, &after("srv-1", 25)), (2, strings(&["srv-2"])));
        assert_eq!(list(store, Q, &env, &page(1, 25)), (1, strings(&["srv-q"])));
    });
}

#[test]
fn unique_ids_and_addresses_are_enforced_by_the_store() {
    on_every_store(|store| {
        let first = server(P, "srv-1", "web", 0, 10);
        insert(store, std::slice::from_ref(&first));
        let unchanged = || {
            assert_eq!(look(store, |tx| tx.server(P, "srv-1")), Some(first.clone()));
            assert_eq!(look(store, |tx| tx.usage(P)), reserving(1));
        };

        let same_id = transact(store, |tx| insert_in(tx, &[server(P, "srv-1", "again", 1, 11)]));
        assert!(same_id.is_err(), "a second server srv-1 is refused");
        unchanged();
        assert!(!look(store, |tx| tx.address_in_use(P, SUBNET, ip(11))));

        // A taken address fails the insert, and its transaction takes nothing with it.
        let taken = transact(store, |tx| {
            insert_in(tx, &[server(P, "srv-2", "b", 1, 12)])?;
            insert_in(tx, &[server(P, "srv-3", "c", 1, 10)])
        });
        assert_eq!(taken.map_err(|e| e.code.code()), Err("Ecs.0010"));
        unchanged();
        assert_eq!(look(store, |tx| tx.server(P, "srv-2")), None);
        assert!(!look(store, |tx| tx.address_in_use(P, SUBNET, ip(12))));

        let twice_in_one =
            transact(store, |tx| insert_in(tx, &[server(P, "srv-4", "d", 1, 13), server(P, "srv-5", "e", 1, 13)]));
        assert_eq!(twice_in_one.map_err(|e| e.code.code()), Err("Ecs.0010"));
        unchanged();

        // The same address in another subnet is another address.
        let mut next_door = server(P, "srv-6", "f", 1, 10);
        next_door.nics = vec![Nic { port_id: "port-next-door".into(), ..nic(OTHER_SUBNET, ip(10)) }];
        insert(store, &[next_door]);
        assert!(look(store, |tx| tx.address_in_use(P, OTHER_SUBNET, ip(10))));

        commit(store, |tx| tx.insert_job(&stop_job(P, "job-1", "srv-1")));
        assert!(transact(store, |tx| tx.insert_job(&stop_job(P, "job-1", "srv-1"))).is_err());
    });
}

#[test]
fn a_delete_frees_addresses_and_lowers_the_hint() {
    on_every_store(|store| {
        let mut two_nics = server(P, "srv-1", "a", 0, 10);
        two_nics.nics.push(nic(OTHER_SUBNET, ip(50)));
        insert(store, &[two_nics, server(P, "srv-2", "b", 1, 11), server(P, "srv-3", "c", 2, 12)]);
        commit(store, |tx| {
            tx.set_lowest_free_hint(P, SUBNET, 5)?;
            // The later hint replaces the earlier one.
            tx.set_lowest_free_hint(P, SUBNET, u32::from(ip(13)))?;
            tx.set_lowest_free_hint(P, OTHER_SUBNET, u32::from(ip(51)))
        });
        assert_eq!(look(store, |tx| tx.lowest_free_hint(P, SUBNET)), u32::from(ip(13)));
        assert_eq!(look(store, |tx| tx.lowest_free_hint(Q, SUBNET)), 0, "hints are per project");

        commit(store, |tx| tx.delete_server("srv-2"));
        look(store, |tx| {
            assert_eq!(tx.server(P, "srv-2")?, None);
            assert!(!tx.address_in_use(P, SUBNET, ip(11))?);
            assert!(tx.address_in_use(P, SUBNET, ip(10))?);
            assert_eq!(tx.lowest_free_hint(P, SUBNET)?, u32::from(ip(11)));
            assert_eq!(tx.lowest_free_hint(P, OTHER_SUBNET)?, u32::from(ip(51)));
            assert_eq!(tx.usage(P)?, Usage { instances: 2, cores: 2, ram_mib: 2048 });
            Ok(())
        });

        // A higher freed address leaves a lower hint where it is; each NIC lowers its subnet's.
        commit(store, |tx| tx.delete_server("srv-3"));
        assert_eq!(look(store, |tx| tx.lowest_free_hint(P, SUBNET)), u32::from(ip(11)));
        commit(store, |tx| tx.delete_server("srv-1"));
        assert_eq!(look(store, |tx| tx.lowest_free_hint(P, SUBNET)), u32::from(ip(10)));
        assert_eq!(look(store, |tx| tx.lowest_free_hint(P, OTHER_SUBNET)), u32::from(ip(50)));
        assert!(!look(store, |tx| tx.address_in_use(P, OTHER_SUBNET, ip(50))));
        assert_eq!(look(store, |tx| tx.usage(P)), Usage::default());

        commit(store, |tx| tx.delete_server("missing"));
        insert(store, &[server(P, "srv-7", "again", 3, 10)]);
        assert!(look(store, |tx| tx.address_in_use(P, SUBNET, ip(10))));
    });
}

#[test]
fn jobs_round_trip_with_their_sub_jobs_in_request_order() {
    on_every_store(|store| {
        let failure = Failure { code: "Ecs.0100".into(), reason: "not now".into() };
        let mut failed = sub_job("job-1", "sub-b", "srv-2", Operation::Reboot { hard: true }, JobStatus::Fail, 1000);
        failed.failure = Some(failure.clone());
        failed.end_time = Some(at(1500));
        let mut running = sub_job("job-1", "sub-a", "srv-1", Operation::Stop { hard: false }, JobStatus::Running, 1000);
        running.step = 1;
        running.from = VmState::Stopped;
        let waiting = sub_job("job-1", "sub-c", "srv-3", Operation::Stop { hard: true }, JobStatus::Init, 1000);
        let batch = job(P, "job-1", OperationKind::Stop, vec![waiting.clone(), running.clone(), failed]);
        let resize = Operation::Resize { flavor_id: LARGE.into(), with_stop: true, verify: false };
        let mut single = job(
            P,
            "job-0",
            OperationKind::Resize,
            vec![sub_job("job-0", "sub-z", "srv-4", resize, JobStatus::Init, 500)],
        );
        single.single_server = true;
        single.status = JobStatus::Init;
        let mut held = sub_job("job-q", "sub-q", "srv-q", Operation::Delete, JobStatus::Running, 1000);
        held.held_by = Some("rule-1".into());
        let elsewhere = job(Q, "job-q", OperationKind::Delete, vec![held]);
        commit(store, |tx| {
            for job in [&batch, &single, &elsewhere] {
                tx.ensure_project(&job.project_id, "")?;
                tx.insert_job(job)?;
            }
            Ok(())
        });

        look(store, |tx| {
            assert_eq!(tx.job(P, "job-1")?.as_ref(), Some(&batch));
            assert_eq!(tx.job(P, "job-0")?.as_ref(), Some(&single));
            assert_eq!(tx.job(Q, "job-q")?.as_ref(), Some(&elsewhere));
            assert_eq!(tx.job(Q, "job-1")?, None, "a job is seen only in its project");
            assert_eq!(tx.job(P, "missing")?, None);
            assert_eq!(tx.sub_job(P, "sub-a")?.as_ref(), Some(&running));
            assert_eq!(tx.sub_job(Q, "sub-a")?, None);
            let statuses =
                vec![(JobStatus::Init, None), (JobStatus::Running, None), (JobStatus::Fail, Some(failure.clone()))];
            assert_eq!(tx.sub_job_statuses("job-1")?, statuses);
            // Every project's, oldest first, then by job and request order.
            let unfinished =
                vec![single.sub_jobs[0].clone(), waiting.clone(), running.clone(), elsewhere.sub_jobs[0].clone()];
            assert_eq!(tx.unfinished_sub_jobs()?, unfinished);
            Ok(())
        });

        let mut done = waiting.clone();
        done.status = JobStatus::Success;
        done.step = 3;
        done.end_time = Some(at(2000));
        let mut released = elsewhere.sub_jobs[0].clone();
        released.held_by = None;
        commit(store, |tx| {
            tx.update_sub_job(&done)?;
            tx.update_sub_job(&released)?;
            tx.update_job("job-1", JobStatus::Fail, Some(at(2500)), Some(&failure))
        });
        look(store, |tx| {
            assert_eq!(tx.sub_job(P, "sub-c")?.as_ref(), Some(&done));
            assert_eq!(tx.sub_job(Q, "sub-q")?.as_ref(), Some(&released));
            let stored = tx.job(P, "job-1")?.expect("job-1");
            assert_eq!(
                (stored.status, stored.end_time, stored.failure),
                (JobStatus::Fail, Some(at(2500)), Some(failure.clone()))
            );
            assert_eq!(stored.sub_jobs[0], done);
            let unfinished: Vec<String> = tx.unfinished_sub_jobs()?.into_iter().map(|s| s.id).collect();
            assert_eq!(unfinished, strings(&["sub-z", "sub-a", "sub-q"]));
            Ok(())
        });
        commit(store, |tx| tx.update_job("job-1", JobStatus::Success, Some(at(3000)), None));
        assert_eq!(look(store, |tx| tx.job(P, "job-1")).expect("job-1").failure, None);
    });
}

/// The change token (what keeps the cache of access keys exact): if a store gives one, it stays
/// while nothing is committed and changes with a commit by this store or by another one over
/// the same data (`ecsd keys` in another process, another replica).
#[test]
fn the_change_token_changes_with_every_commit_from_anywhere() {
    on_every_database(|database| {
        let (store, other) = (database.open(), database.open());
        let Some(before) = store.change_token().expect("token") else { return };
        assert_eq!(store.change_token().expect("token"), Some(before), "nothing committed");
        look(store.as_ref(), |tx| tx.access_key("AK1").map(drop));
        assert_eq!(store.change_token().expect("token"), Some(before), "a read commits nothing");
        commit(other.as_ref(), |tx| {
            tx.ensure_project(P, "first")?;
            tx.put_access_key(&access_key("AK1", 1000))
        });
        let after_other = store.change_token().expect("token");
        assert_ne!(after_other, Some(before), "another store committed");
        commit(store.as_ref(), |tx| tx.revoke_access_key("AK1", at(2000)).map(drop));
        assert_ne!(store.change_token().expect("token"), after_other, "this store committed");
    });
}

#[test]
fn projects_access_keys_and_tokens() {
    on_every_store(|store| {
        commit(store, |tx| {
            tx.ensure_project(P, "first")?;
            tx.ensure_project(P, "second")?;
            tx.put_access_key(&access_key("AK2", 2000))?;
            tx.put_access_key(&access_key("AK3", 1000))?;
            tx.put_access_key(&access_key("AK1", 1000))
        });
        look(store, |tx| {
            assert!(tx.project_exists(P)?);
            assert!(!tx.project_exists(Q)?);
            assert_eq!(tx.access_key("AK2")?, Some(access_key("AK2", 2000)));
            assert_eq!(tx.access_key("AK9")?, None);
            let listed: Vec<String> = tx.access_keys()?.into_iter().map(|k| k.access_key).collect();
            assert_eq!(listed, strings(&["AK1", "AK3", "AK2"]), "oldest first, then by key");
            Ok(())
        });

        assert!(commit(store, |tx| tx.revoke_access_key("AK1", at(5000))));
        assert!(commit(store, |tx| tx.revoke_access_key("AK1", at(6000))));
        assert!(!commit(store, |tx| tx.revoke_access_key("AK9", at(5000))));
        let revoked = look(store, |tx| tx.access_key("AK1")).expect("AK1");
        assert_eq!(revoked.revoked, Some(at(5000)), "revoked when first revoked");
        assert_eq!(look(store, |tx| tx.access_key("AK3")).expect("AK3").revoked, None);

        // Written again, the key is whole as written (start keeps a revocation itself).
        let mut configured = access_key("AK1", 7000);
        configured.description = "configured".into();
        configured.admin = true;
        commit(store, |tx| tx.put_access_key(&configured));
        assert_eq!(look(store, |tx| tx.access_key("AK1")), Some(configured));
        assert_eq!(look(store, |tx| tx.access_keys()).len(), 3);

        commit(store, |tx| tx.put_token("sha-1", P, "alice", at(60_000)));
        assert_eq!(
            look(store, |tx| tx.token("sha-1")),
            Some(ecsd::store::StoredToken { project_id: P.to_string(), user: "alice".into(), expires: at(60_000) })
        );
        assert_eq!(look(store, |tx| tx.token("sha-2")), None);
    });
}

#[test]
fn fault_rules_keep_their_order_and_counters_and_release_what_they_hold() {
    on_every_store(|store| {
        let hang = rule("rule-1", FaultEffect::Hang);
        let fail = rule("rule-0", FaultEffect::SubJobFail { code: "Ecs.0226".into(), message: Some("boom".into()) });
        commit(store, |tx| {
            tx.put_fault_rule(&hang)?;
            tx.put_fault_rule(&fail)
        });
        assert_eq!(look(store, |tx| tx.fault_rules()), vec![hang.clone(), fail.clone()], "in the order put");

        let mut counted = hang.clone();
        counted.fired = 2;
        counted.evaluations = 5;
        commit(store, |tx| tx.put_fault_rule(&counted));
        assert_eq!(look(store, |tx| tx.fault_rules()), vec![counted.clone(), fail.clone()]);

        assert!(commit(store, |tx| tx.delete_fault_rule("rule-0")));
        assert!(!commit(store, |tx| tx.delete_fault_rule("rule-0")));
        assert_eq!(look(store, |tx| tx.fault_rules()), vec![counted.clone()]);
        commit(store, |tx| tx.put_fault_rule(&fail));
        assert_eq!(look(store, |tx| tx.fault_rules()), vec![counted, fail]);

        let held_by = |mut sub: SubJob, rule: Option<&str>| {
            sub.held_by = rule.map(str::to_string);
            sub
        };
        let stop = || Operation::Stop { hard: false };
        let first = job(
            P,
            "job-a",
            OperationKind::Stop,
            vec![
                held_by(sub_job("job-a", "h-1", "srv-1", stop(), JobStatus::Running, 0), Some("rule-1")),
                sub_job("job-a", "free", "srv-2", stop(), JobStatus::Init, 0),
            ],
        );
        let second = job(
            P,
            "job-b",
            OperationKind::Stop,
            vec![
                held_by(sub_job("job-b", "h-2", "srv-3", stop(), JobStatus::Running, 0), Some("rule-1")),
                held_by(sub_job("job-b", "h-3", "srv-4", stop(), JobStatus::Running, 0), Some("rule-2")),
            ],
        );
        commit(store, |tx| {
            tx.insert_job(&second)?;
            tx.insert_job(&first)
        });

        let mut released = commit(store, |tx| tx.release_held("rule-1"));
        released.sort_by(|a, b| a.id.cmp(&b.id));
        let expected = vec![held_by(first.sub_jobs[0].clone(), None), held_by(second.sub_jobs[0].clone(), None)];
        assert_eq!(released, expected);
        look(store, |tx| {
            assert_eq!(tx.sub_job(P, "h-1")?.and_then(|s| s.held_by), None);
            assert_eq!(tx.sub_job(P, "h-2")?.and_then(|s| s.held_by), None);
            assert_eq!(tx.sub_job(P, "h-3")?.and_then(|s| s.held_by), Some("rule-2".into()));
            Ok(())
        });
        assert_eq!(commit(store, |tx| tx.release_held("rule-1")), vec![]);
        assert_eq!(commit(store, |tx| tx.release_held("nobody")), vec![]);
    });
}

#[test]
fn a_snapshot_restores_exactly_what_was_saved() {
    on_every_store(|store| {
        populate(store);
        let rule_before = rule("rule-1", FaultEffect::Hang);
        commit(store, |tx| {
            tx.put_fault_rule(&rule_before)?;
            tx.put_access_key(&access_key("AK1", 0))?;
            tx.save_snapshot("base", at(100))
        });
        let saved = observe(store);

        // Everything a snapshot holds changes, and some of what it does not.
        let rule_after = rule("rule-2", FaultEffect::Hang);
        commit(store, |tx| {
            tx.delete_server("srv-p1")?;
            insert_in(tx, &[server(P, "srv-p3", "web-3", 9, 13)])?;
            tx.set_lowest_free_hint(P, SUBNET, u32::from(ip(14)))?;
            tx.update_job("job-p", JobStatus::Success, Some(at(200)), None)?;
            let mut sub = tx.sub_job(P, "job-p-sub")?.expect("the sub-job");
            sub.status = JobStatus::Success;
            tx.update_sub_job(&sub)?;
            tx.insert_job(&stop_job(Q, "job-q2", "srv-q1"))?;
            tx.remember_create(P, "tok-2", &remembered("job-x", 0))?;
            tx.put_fault_rule(&rule_after)?;
            tx.revoke_access_key("AK1", at(300))?;
            tx.advance_clock(7)
        });
        assert_ne!(observe(store), saved);

        assert!(commit(store, |tx| tx.restore_snapshot("base")));
        assert_eq!(observe(store), saved);
        look(store, |tx| {
            assert_eq!(tx.job(Q, "job-q2")?, None);
            // The hint may only be lower than the lowest free address, never higher.
            assert!(tx.lowest_free_hint(P, SUBNET)? <= u32::from(ip(12)));
            // Rules, keys and the clock are not part of a snapshot.
            assert_eq!(tx.fault_rules()?, vec![rule_before.clone(), rule_after.clone()]);
            assert_eq!(tx.access_key("AK1")?.and_then(|k| k.revoked), Some(at(300)));
            assert_eq!(tx.clock_advanced_ms()?, 7);
            assert_eq!(tx.snapshots()?, vec![("base".to_string(), at(100))]);
            Ok(())
        });

        // A snapshot outlives its restore; saving again under a name replaces it.
        commit(store, |tx| tx.delete_server("srv-p2"));
        let changed = observe(store);
        commit(store, |tx| {
            tx.save_snapshot("base", at(400))?;
            tx.save_snapshot("alpha", at(500))
        });
        let listed = vec![("alpha".to_string(), at(500)), ("base".to_string(), at(400))];
        assert_eq!(look(store, |tx| tx.snapshots()), listed);
        commit(store, |tx| tx.reset(None));
        assert!(commit(store, |tx| tx.restore_snapshot("base")));
        assert_eq!(observe(store), changed);

        assert!(commit(store, |tx| tx.delete_snapshot("base")));
        assert!(!commit(store, |tx| tx.delete_snapshot("base")));
        commit(store, |tx| tx.delete_server("srv-q1"));
        let after_delete = observe(store);
        assert!(!commit(store, |tx| tx.restore_snapshot("base")));
        assert_eq!(observe(store), after_delete, "restoring a missing snapshot changes nothing");
        assert_eq!(look(store, |tx| tx.snapshots()), vec![("alpha".to_string(), at(500))]);
    });
}

#[test]
fn a_reset_removes_one_project_or_all() {
    on_every_store(|store| {
        populate(store);
        commit(store, |tx| {
            tx.put_fault_rule(&rule("rule-1", FaultEffect::Hang))?;
            tx.put_access_key(&access_key("AK1", 0))?;
            tx.advance_clock(9)?;
            tx.save_snapshot("base", at(0))
        });
        let full = observe(store);

        commit(store, |tx| tx.reset(Some(P)));
        look(store, |tx| {
            assert_eq!(tx.list_servers(P, &ServerFilter::default(), &page(1, 25))?, (0, vec![]));
            assert_eq!(tx.usage(P)?, Usage::default());
            assert_eq!(tx.job(P, "job-p")?, None);
            assert_eq!(tx.sub_job(P, "job-p-sub")?, None);
            assert_eq!(tx.remembered_create(P, "tok-1")?, None);
            assert!(!tx.address_in_use(P, SUBNET, ip(10))?);
            assert_eq!(tx.lowest_free_hint(P, SUBNET)?, 0);
            // The other project keeps everything.
            assert_eq!(tx.list_servers(Q, &ServerFilter::default(), &page(1, 25))?, full.servers[1]);
            assert_eq!(tx.usage(Q)?, reserving(1));
            assert_eq!(tx.job(Q, "job-q")?, full.jobs[3]);
            assert_eq!(tx.remembered_create(Q, "tok-1")?, full.tokens[2]);
            assert!(tx.address_in_use(Q, SUBNET, ip(12))?);
            assert_eq!(tx.lowest_free_hint(Q, SUBNET)?, u32::from(ip(13)));
            assert_eq!(tx.unfinished_sub_jobs()?.len(), 1);
            assert_eq!(tx.fault_rules()?.len(), 1, "a project's reset keeps the rules");
            Ok(())
        });

        commit(store, |tx| tx.reset(None));
        look(store, |tx| {
            assert_eq!(tx.list_servers(Q, &ServerFilter::default(), &page(1, 25))?, (0, vec![]));
            assert_eq!(tx.usage(Q)?, Usage::default());
            assert_eq!(tx.job(Q, "job-q")?, None);
            assert_eq!(tx.remembered_create(Q, "tok-1")?, None);
            assert_eq!(tx.lowest_free_hint(Q, SUBNET)?, 0);
            assert_eq!(tx.unfinished_sub_jobs()?, vec![]);
            assert_eq!(tx.fault_rules()?, vec![]);
            // Identities, the clock and snapshots stay.
            assert!(tx.project_exists(P)? && tx.project_exists(Q)?);
            assert!(tx.access_key("AK1")?.is_some());
            assert_eq!(tx.clock_advanced_ms()?, 9);
            assert_eq!(tx.snapshots()?.len(), 1);
            Ok(())
        });
        assert!(commit(store, |tx| tx.restore_snapshot("base")));
        assert_eq!(observe(store), full);
    });
}

#[test]
fn the_clock_advance_is_stored() {
    on_every_database(|database| {
        let store = database.open();
        assert_eq!(look(store.as_ref(), |tx| tx.clock_advanced_ms()), 0);
        let inside = commit(store.as_ref(), |tx| {
            tx.advance_clock(1_500)?;
            tx.advance_clock(500)?;
            tx.clock_advanced_ms()
        });
        assert_eq!(inside, 2_000);
        assert_eq!(look(store.as_ref(), |tx| tx.clock_advanced_ms()), 2_000);
        insert(store.as_ref(), &[server(P, "srv-1", "web", 0, 10)]);
        drop(store);

        // Time never moves back, not even across a restart; nor does anything else committed.
        let reopened = database.open();
        assert_eq!(look(reopened.as_ref(), |tx| tx.clock_advanced_ms()), 2_000);
        assert!(look(reopened.as_ref(), |tx| tx.server(P, "srv-1")).is_some());
        commit(reopened.as_ref(), |tx| tx.advance_clock(1));
        assert_eq!(look(database.open().as_ref(), |tx| tx.clock_advanced_ms()), 2_001);
    });
}

#[test]
fn client_tokens_are_remembered_per_project() {
    on_every_store(|store| {
        assert_eq!(look(store, |tx| tx.remembered_create(P, "tok-1")), None);
        let first = remembered("job-1", 1000);
        commit(store, |tx| tx.remember_create(P, "tok-1", &first));
        assert_eq!(look(store, |tx| tx.remembered_create(P, "tok-1")), Some(first.clone()));
        assert_eq!(look(store, |tx| tx.remembered_create(P, "tok-2")), None);
        assert_eq!(look(store, |tx| tx.remembered_create(Q, "tok-1")), None);

        let other = remembered("job-2", 2000);
        commit(store, |tx| tx.remember_create(Q, "tok-1", &other));
        assert_eq!(look(store, |tx| tx.remembered_create(Q, "tok-1")), Some(other));
        assert_eq!(look(store, |tx| tx.remembered_create(P, "tok-1")), Some(first));
    });
}

#[test]
fn a_read_sees_one_state_while_a_writer_commits() {
    on_every_store(|store| {
        insert(store, &[server(P, "srv-1", "web", 0, 10)]);
        let (committed, commits) = mpsc::channel();
        let (before, during) = thread::scope(|scope| {
            look(store, |tx| {
                let mut seen =
                    || -> Result<_> { Ok((tx.usage(P)?, tx.list_servers(P, &ServerFilter::default(), &page(1, 25))?)) };
                let before = seen()?;
                let committed = committed.clone();
                scope.spawn(move || {
                    committed.send(transact(store, |tx| insert_in(tx, &[server(P, "srv-2", "db", 1, 11)]))).ok()
                });
                // The writer does not wait for this read to end.
                let outcome = commits.recv_timeout(Duration::from_secs(30)).expect("the writer commits meanwhile");
                assert_eq!(outcome, Ok(()));
                Ok((before, seen()?))
            })
        });
        assert_eq!(before.0, reserving(1));
        assert_eq!(during, before, "a read does not see a write committed after it began");
        // A read begun after the commit sees it.
        assert_eq!(list(store, P, &ServerFilter::default(), &page(1, 25)), (2, strings(&["srv-2", "srv-1"])));
    });
}

#[test]
fn concurrent_writers_all_commit_and_lose_no_update() {
    const WRITERS: usize = 6;
    const SERVERS_EACH: usize = 20;
    on_every_database(|database| {
        // Half the writers go through a second store, as another process would.
        let stores = [database.open(), database.open()];
        let outcomes: Vec<Result<()>> = thread::scope(|scope| {
            let writers: Vec<_> = (0..WRITERS)
                .map(|writer| {
                    let store = stores[writer % 2].as_ref();
                    scope.spawn(move || -> Result<()> {
                        for n in 0..SERVERS_EACH {
                            let mut one = server(P, &format!("srv-{writer}-{n}"), "web", n as i64, 0);
                            one.nics = vec![nic(SUBNET, Ipv4Addr::new(10, 0, writer as u8, n as u8))];
                            transact(store, |tx| {
                                insert_in(tx, std::slice::from_ref(&one))?;
                                tx.advance_clock(1)
                            })?;
                            // Growing every server to two cores moves the usage as well.
                            transact(store, |tx| tx.update_server(&one, None, reserving(2)))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            writers.into_iter().map(|writer| writer.join().expect("a writer finishes")).collect()
        });
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let total = (WRITERS * SERVERS_EACH) as i64;
        let store = stores[0].as_ref();
        assert_eq!(look(store, |tx| tx.usage(P)), Usage { instances: total, cores: 2 * total, ram_mib: 2048 * total });
        assert_eq!(look(store, |tx| tx.clock_advanced_ms()), total);
        assert_eq!(
            list(store, P, &ServerFilter { name: Some("web".into()), ..Default::default() }, &page(1, 1)).0,
            total as u64
        );
    });
}

/// What the service's read-change-save of one server (its tags, Nova's add and delete of one
/// tag) relies on: a write transaction that reads a server sees every write committed before
/// it, so writers of the same server, each through its own store, lose none of each other's
/// changes.
#[test]
fn writers_reading_and_saving_the_same_server_lose_none_of_each_others_changes() {
    const WRITERS: usize = 8;
    on_every_database(|database| {
        let stores = [database.open(), database.open()];
        insert(stores[0].as_ref(), &[server(P, "srv-1", "web", 0, 10)]);
        let barrier = Barrier::new(WRITERS);
        let outcomes: Vec<Result<()>> = thread::scope(|scope| {
            let writers: Vec<_> = (0..WRITERS)
                .map(|writer| {
                    let (store, barrier) = (stores[writer % 2].as_ref(), &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        transact(store, |tx| {
                            let mut one = tx.server(P, "srv-1")?.expect("the server");
                            one.tags.push(tag(&format!("w{writer}"), ""));
                            tx.update_server(&one, one.task_state, reserving(1))
                        })
                    })
                })
                .collect();
            writers.into_iter().map(|writer| writer.join().expect("a writer finishes")).collect()
        });
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let stored = look(stores[1].as_ref(), |tx| tx.server(P, "srv-1")).expect("the server");
        let mut keys: Vec<String> = stored.tags.into_iter().map(|t| t.key).collect();
        keys.sort();
        assert_eq!(keys, (0..WRITERS).map(|w| format!("w{w}")).collect::<Vec<_>>());
    });
}

fn tagged(project_id: &str, id: &str, created_ms: i64, tags: &[(&str, &str)]) -> Server {
    let mut server = server(project_id, id, &format!("name-{id}"), created_ms, created_ms as u8 + 100);
    server.tags = tags.iter().map(|(k, v)| tag(k, v)).collect();
    server
}

fn by_tag(store: &dyn Store, query: &TagQuery, offset: u64, limit: u64) -> (u64, Vec<String>) {
    let (total, servers) = look(store, |tx| tx.servers_by_tag(P, query, offset, limit));
    (total, servers.into_iter().map(|s| s.id).collect())
}

fn key(key: &str, values: &[&str]) -> TagMatch {
    TagMatch { key: key.into(), values: values.iter().map(|v| v.to_string()).collect() }
}

#[test]
fn tags_follow_the_server_documents_for_project_tags_and_queries_by_tag() {
    on_every_store(|store| {
        insert(
            store,
            &[
                tagged(P, "t1", 1, &[("env", "prod"), ("tier", "web")]),
                tagged(P, "t2", 2, &[("env", "dev"), ("tier", "web")]),
                tagged(P, "t3", 3, &[("env", "prod"), ("tier", "db")]),
                tagged(P, "t4", 4, &[]),
                tagged(Q, "q1", 5, &[("secret", "x")]),
            ],
        );
        let project_tags = look(store, |tx| tx.project_tags(P));
        assert_eq!(
            project_tags,
            vec![("env".into(), strings(&["dev", "prod"])), ("tier".into(), strings(&["db", "web"]))]
        );
        let query = |all, any, not_all, not_any| TagQuery { all, any, not_all, not_any, name: None };
        assert_eq!(
            by_tag(store, &query(vec![key("env", &["prod"])], vec![], vec![], vec![]), 0, 10),
            (2, strings(&["t3", "t1"]))
        );
        assert_eq!(
            by_tag(
                store,
                &query(vec![key("env", &["prod", "dev"]), key("tier", &["web"])], vec![], vec![], vec![]),
                0,
                10
            )
            .0,
            2
        );
        assert_eq!(
            by_tag(store, &query(vec![], vec![key("env", &["dev"]), key("tier", &["db"])], vec![], vec![]), 0, 10),
            (2, strings(&["t3", "t2"]))
        );
        assert_eq!(
            by_tag(store, &query(vec![], vec![], vec![key("env", &["prod"]), key("tier", &[])], vec![]), 0, 10),
            (2, strings(&["t4", "t2"]))
        );
        assert_eq!(
            by_tag(store, &query(vec![], vec![], vec![], vec![key("tier", &["web"]), key("env", &["prod"])]), 0, 10),
            (1, strings(&["t4"]))
        );
        assert_eq!(
            by_tag(store, &query(vec![key("secret", &[])], vec![], vec![], vec![]), 0, 10).0,
            0,
            "another project's tags"
        );
        let named = TagQuery { name: Some("e-t2".into()), ..TagQuery::default() };
        assert_eq!(by_tag(store, &named, 0, 10), (1, strings(&["t2"])));
        assert_eq!(by_tag(store, &TagQuery::default(), 1, 2), (4, strings(&["t3", "t2"])));
        assert_eq!(by_tag(store, &TagQuery::default(), 0, 0), (4, vec![]));

        // Changing a server's tags changes what the queries see; a deleted server leaves them.
        commit(store, |tx| {
            let mut t4 = tx.server(P, "t4")?.expect("t4");
            t4.tags = vec![tag("env", "prod")];
            tx.update_server(&t4, None, reserving(1))?;
            tx.delete_server("t1")
        });
        assert_eq!(
            by_tag(store, &query(vec![key("env", &["prod"])], vec![], vec![], vec![]), 0, 10),
            (2, strings(&["t4", "t3"]))
        );
        let project_tags = look(store, |tx| tx.project_tags(P));
        assert_eq!(project_tags[1], ("tier".into(), strings(&["db", "web"])));
    });
}

#[test]
fn host_usage_follows_the_servers_on_each_host() {
    on_every_store(|store| {
        let on = |id: &str, host: &str, ms: i64| {
            let mut server = server(P, id, id, ms, ms as u8 + 10);
            server.host = Some(host.into());
            server
        };
        insert(store, &[on("h1", "pod01.z", 1), on("h2", "pod01.z", 2), on("h3", "pod02.z", 3)]);
        let hosts = strings(&["pod01.z", "pod02.z", "pod03.z"]);
        let usage = look(store, |tx| tx.host_usage(&hosts));
        assert_eq!(usage.get("pod01.z"), Some(&HostUsage { instances: 2, vcpus: 2, ram_mib: 2048 }));
        assert_eq!(usage.get("pod02.z"), Some(&HostUsage { instances: 1, vcpus: 1, ram_mib: 1024 }));
        assert!(!usage.contains_key("pod03.z"));
        // A move and a larger reservation, then a delete.
        commit(store, |tx| {
            let mut moved = tx.server(P, "h2")?.expect("h2");
            moved.host = Some("pod03.z".into());
            tx.update_server(&moved, None, reserving(4))?;
            tx.delete_server("h3")
        });
        let usage = look(store, |tx| tx.host_usage(&hosts));
        assert_eq!(usage.get("pod01.z"), Some(&HostUsage { instances: 1, vcpus: 1, ram_mib: 1024 }));
        assert_eq!(usage.get("pod02.z").copied().unwrap_or_default(), HostUsage::default());
        assert_eq!(usage.get("pod03.z"), Some(&HostUsage { instances: 1, vcpus: 4, ram_mib: 4096 }));
    });
}

fn group(project_id: &str, id: &str, created_ms: i64) -> ServerGroup {
    ServerGroup {
        id: id.into(),
        project_id: project_id.into(),
        name: format!("group-{id}"),
        policies: vec!["anti-affinity".into()],
        created: at(created_ms),
        members: vec![],
    }
}

#[test]
fn server_groups_round_trip_with_their_members_and_page_by_marker() {
    on_every_store(|store| {
        let member = |id: &str, group: &str, ms: i64| {
            let mut server = server(P, id, id, ms, ms as u8 + 20);
            server.server_group_id = Some(group.into());
            server
        };
        commit(store, |tx| {
            tx.ensure_project(P, "")?;
            for (id, ms) in [("g2", 2), ("g1", 1), ("g3", 3)] {
                tx.insert_server_group(&group(P, id, ms))?;
            }
            tx.insert_server_group(&group(Q, "gq", 1))?;
            insert_in(tx, &[member("m2", "g1", 20), member("m1", "g1", 10), member("m3", "g2", 30)])
        });
        let g1 = look(store, |tx| tx.server_group(P, "g1")).expect("g1");
        assert_eq!(g1, ServerGroup { members: strings(&["m1", "m2"]), ..group(P, "g1", 1) });
        assert_eq!(look(store, |tx| tx.server_group(Q, "g1")), None, "another project's group");
        assert_eq!(look(store, |tx| tx.server_group_count(P)), 3);
        let ids = |groups: Option<Vec<ServerGroup>>| groups.map(|g| g.into_iter().map(|g| g.id).collect::<Vec<_>>());
        assert_eq!(ids(look(store, |tx| tx.server_groups(P, None, 2))), Some(strings(&["g1", "g2"])));
        assert_eq!(ids(look(store, |tx| tx.server_groups(P, Some("g2"), 2))), Some(strings(&["g3"])));
        assert_eq!(ids(look(store, |tx| tx.server_groups(P, Some("gq"), 2))), None, "a marker of another project");
        // A member leaves when its document says so, or when it is deleted.
        commit(store, |tx| {
            let mut m1 = tx.server(P, "m1")?.expect("m1");
            m1.server_group_id = None;
            tx.update_server(&m1, None, reserving(1))?;
            tx.delete_server("m2")
        });
        assert_eq!(look(store, |tx| tx.server_group(P, "g1")).map(|g| g.members), Some(vec![]));
        // Snapshots hold groups; a reset of one project removes its groups only.
        commit(store, |tx| tx.save_snapshot("groups", at(9)));
        commit(store, |tx| tx.delete_server_group("g3"));
        assert_eq!(look(store, |tx| tx.server_group_count(P)), 2);
        assert!(commit(store, |tx| tx.restore_snapshot("groups")));
        assert_eq!(look(store, |tx| tx.server_group_count(P)), 3);
        assert_eq!(look(store, |tx| tx.server_group(P, "g2")).map(|g| g.members), Some(strings(&["m3"])));
        commit(store, |tx| tx.reset(Some(P)));
        assert_eq!(look(store, |tx| tx.server_group_count(P)), 0);
        assert!(look(store, |tx| tx.server_group(Q, "gq")).is_some());
    });
}

#[test]
fn a_servers_history_deletion_and_events_follow_it_and_are_in_snapshots_and_resets() {
    use ecsd::domain::lifecycle::{AutoTermination, ServerEvent, ServerEventKind};
    use ecsd::domain::scheduled_events::{EventState, EventType, ScheduledEvent};
    use ecsd::domain::templates::{LaunchTemplate, TemplateData, TemplateVersion};
    on_every_store(|store| {
        populate(store);
        let event = ScheduledEvent {
            id: "ev-1".into(),
            project_id: P.into(),
            server_id: "srv-p1".into(),
            event_type: EventType::InstanceReboot,
            state: EventState::Scheduled,
            description: String::new(),
            publish_time: at(10),
            not_before: Some(at(500)),
            not_before_deadline: at(900),
            job_id: None,
        };
        let template = LaunchTemplate {
            id: "lt-1".into(),
            project_id: P.into(),
            name: "web".into(),
            description: String::new(),
            created: at(1),
            updated: at(1),
            default_version: 1,
            latest_version: 1,
        };
        let version = TemplateVersion {
            id: "ltv-1".into(),
            template_id: "lt-1".into(),
            project_id: P.into(),
            version_number: 1,
            version_description: String::new(),
            created: at(1),
            data: TemplateData { flavor_id: Some("s6.small.1".into()), ..Default::default() },
        };
        commit(store, |tx| {
            for (server_id, kind) in
                [("srv-p1", ServerEventKind::PasswordReset), ("srv-p2", ServerEventKind::CrashDump)]
            {
                tx.record_server_event(&ServerEvent {
                    project_id: P.into(),
                    server_id: server_id.into(),
                    at: at(5),
                    kind,
                })?;
            }
            for (server_id, at_ms) in [("srv-p1", 300), ("srv-p2", 200)] {
                tx.put_auto_termination(&AutoTermination {
                    project_id: P.into(),
                    server_id: server_id.into(),
                    at: at(at_ms),
                    job_id: None,
                })?;
            }
            tx.put_scheduled_event(&event)?;
            tx.insert_launch_template(&template, &version)
        });
        look(store, |tx| {
            assert_eq!(tx.server_project("srv-p1")?.as_deref(), Some(P));
            assert_eq!(tx.server_events(P, "srv-p1")?.len(), 1);
            assert_eq!(tx.server_events(Q, "srv-p1")?.len(), 0, "another project sees none");
            assert_eq!(tx.next_due()?, Some(at(200)));
            let due: Vec<String> = tx.due_auto_terminations(at(250))?.into_iter().map(|t| t.server_id).collect();
            assert_eq!(due, vec!["srv-p2".to_string()]);
            assert_eq!(tx.due_scheduled_events(at(499))?, vec![]);
            assert_eq!(tx.due_scheduled_events(at(500))?, vec![event.clone()]);
            assert_eq!(tx.launch_templates(P)?, vec![template.clone()]);
            assert_eq!(tx.launch_templates(Q)?, vec![]);
            assert_eq!(tx.launch_template_versions(P, Some("lt-1"))?, vec![version.clone()]);
            Ok(())
        });
        let duplicate = transact(store, |tx| tx.insert_launch_template(&template, &version));
        assert_eq!(duplicate.map_err(|e| e.code), Err(ErrorCode::InvalidRequest), "names are unique per project");

        // A fired deletion stays with its job; the server's history and pending deletion go.
        commit(store, |tx| {
            tx.put_auto_termination(&AutoTermination {
                project_id: P.into(),
                server_id: "srv-p2".into(),
                at: at(200),
                job_id: Some("job-del".into()),
            })?;
            tx.save_snapshot("day2", at(20))?;
            tx.delete_server("srv-p1")?;
            tx.delete_server("srv-p2")
        });
        look(store, |tx| {
            assert_eq!(tx.server_events(P, "srv-p1")?, vec![]);
            let left: Vec<_> = tx.auto_terminations(P)?.into_iter().map(|t| (t.server_id, t.job_id)).collect();
            assert_eq!(left, vec![("srv-p2".to_string(), Some("job-del".to_string()))]);
            Ok(())
        });
        assert!(commit(store, |tx| tx.restore_snapshot("day2")));
        look(store, |tx| {
            assert_eq!(tx.server_events(P, "srv-p1")?.len(), 1);
            assert_eq!(tx.auto_terminations(P)?.len(), 2);
            Ok(())
        });
        commit(store, |tx| tx.reset(Some(P)));
        look(store, |tx| {
            assert_eq!(tx.auto_terminations(P)?, vec![]);
            assert_eq!(tx.scheduled_events(P)?, vec![]);
            assert_eq!(tx.launch_templates(P)?, vec![]);
            assert_eq!(tx.next_due()?, None, "nothing due is left");
            Ok(())
        });
    });
}

#[test]
fn the_fingerprint_key_is_made_once_and_stays_the_same() {
    on_every_database(|database| {
        let store = database.open();
        let key = look(store.as_ref(), |tx| tx.fingerprint_key());
        assert!(key.len() >= 32, "a key of {} bytes", key.len());
        assert_eq!(commit(store.as_ref(), |tx| tx.fingerprint_key()), key, "the same in a write transaction");
        commit(store.as_ref(), |tx| tx.reset(None));
        assert_eq!(look(store.as_ref(), |tx| tx.fingerprint_key()), key, "a reset keeps it");
        drop(store);
        assert_eq!(look(database.open().as_ref(), |tx| tx.fingerprint_key()), key, "reopened, the same");
    });
}

#[test]
fn the_recycle_bin_keeps_settings_and_servers_per_project_through_snapshots_and_deletes() {
    on_every_store(|store| {
        insert(store, &[server(P, "srv-1", "a", 0, 10), server(P, "srv-2", "b", 1, 11)]);
        let bin = RecycleBin { project_id: P.into(), enabled: true, retention_hours: 2, threshold_days: 1 };
        commit(store, |tx| {
            tx.put_recycle_bin(&bin)?;
            for (id, purge) in [("srv-1", 500), ("srv-2", 300)] {
                tx.put_recycled(&Recycled {
                    project_id: P.into(),
                    server_id: id.into(),
                    at: at(100),
                    purge_at: at(purge),
                    job_id: None,
                })?;
            }
            Ok(())
        });
        look(store, |tx| {
            assert_eq!(tx.recycle_bin(P)?, Some(bin.clone()));
            assert_eq!(tx.recycle_bin(Q)?, None);
            assert_eq!(tx.recycled_count(P)?, 2);
            assert_eq!(tx.recycled(Q, "srv-1")?, None, "another project sees none");
            assert_eq!(tx.next_due()?, Some(at(300)));
            let due: Vec<String> = tx.due_recycled(at(400))?.into_iter().map(|r| r.server_id).collect();
            assert_eq!(due, vec!["srv-2".to_string()]);
            Ok(())
        });
        commit(store, |tx| {
            tx.save_snapshot("binned", at(5))?;
            tx.delete_recycled("srv-1")?;
            tx.delete_server("srv-2")
        });
        look(store, |tx| {
            assert_eq!(tx.recycled_count(P)?, 0, "a deleted server leaves the bin with it");
            Ok(())
        });
        assert!(commit(store, |tx| tx.restore_snapshot("binned")));
        look(store, |tx| {
            assert_eq!(tx.recycled_count(P)?, 2);
            assert_eq!(tx.recycled(P, "srv-1")?.map(|r| r.purge_at), Some(at(500)));
            Ok(())
        });
        commit(store, |tx| tx.reset(Some(P)));
        look(store, |tx| {
            assert_eq!((tx.recycle_bin(P)?, tx.recycled_count(P)?), (None, 0));
            Ok(())
        });
    });
}

fn disk(project_id: &str, id: &str, name: &str, size_gib: u32, created_ms: i64) -> CloudVolume {
    CloudVolume {
        id: id.into(),
        project_id: project_id.into(),
        name: name.into(),
        description: String::new(),
        size_gib,
        volume_type: "SSD".into(),
        availability_zone: "az1".into(),
        status: VolumeStatus::Available,
        multiattach: false,
        bootable: false,
        image_id: None,
        metadata: BTreeMap::new(),
        attachments: vec![],
        created: at(created_ms),
        updated: at(created_ms),
    }
}

fn disk_ids(store: &dyn Store, project_id: &str, filter: &VolumeFilter) -> Option<(u64, Vec<String>)> {
    look(store, |tx| tx.list_volumes(project_id, filter))
        .map(|(total, found)| (total, found.into_iter().map(|v| v.id).collect()))
}

#[test]
fn disks_round_trip_filter_sort_page_and_follow_snapshots_and_resets() {
    on_every_store(|store| {
        let mut system = disk(P, "vol-a", "system", 40, 1);
        system.bootable = true;
        system.image_id = Some("img-1".into());
        system.status = VolumeStatus::InUse;
        system.metadata = BTreeMap::from([("env".into(), "prod".into())]);
        system.attachments = vec![Attachment {
            server_id: "srv-1".into(),
            attachment_id: "att-1".into(),
            device: "/dev/vda".into(),
            host_name: "host-1".into(),
            attached_at: at(2) + Duration::from_nanos(5_000),
        }];
        let mut shared = disk(P, "vol-b", "shared", 10, 2);
        shared.multiattach = true;
        let other = disk(Q, "vol-q", "theirs", 20, 3);
        commit(store, |tx| tx.insert_volumes(&[system.clone(), shared.clone(), other.clone()]));
        assert_eq!(look(store, |tx| tx.volume(P, "vol-a")), Some(system.clone()));
        assert_eq!(look(store, |tx| tx.volume(Q, "vol-a")), None, "a disk is seen only in its project");
        let found = look(store, |tx| tx.volumes(P, &strings(&["vol-a", "vol-q", "vol-x"])));
        assert_eq!(found.keys().collect::<Vec<_>>(), vec!["vol-a"]);

        let all = VolumeFilter::default();
        assert_eq!(disk_ids(store, P, &all), Some((2, strings(&["vol-b", "vol-a"]))), "newest first");
        let by = |change: &dyn Fn(&mut VolumeFilter)| {
            let mut filter = VolumeFilter::default();
            change(&mut filter);
            disk_ids(store, P, &filter)
        };
        assert_eq!(by(&|f| f.server_id = Some("srv-1".into())), Some((1, strings(&["vol-a"]))));
        assert_eq!(by(&|f| f.multiattach = Some(true)), Some((1, strings(&["vol-b"]))));
        assert_eq!(by(&|f| f.status = Some(VolumeStatus::InUse)), Some((1, strings(&["vol-a"]))));
        assert_eq!(by(&|f| f.name = Some("shared".into())), Some((1, strings(&["vol-b"]))));
        assert_eq!(
            by(&|f| f.metadata = BTreeMap::from([("env".into(), "prod".into())])),
            Some((1, strings(&["vol-a"])))
        );
        assert_eq!(by(&|f| f.ids = Some(strings(&["vol-a", "vol-q"]))), Some((1, strings(&["vol-a"]))));
        let ascending = |f: &mut VolumeFilter| {
            f.sort_key = VolumeSortKey::Size;
            f.descending = false;
        };
        assert_eq!(by(&ascending), Some((2, strings(&["vol-b", "vol-a"]))));
        assert_eq!(
            by(&|f| {
                ascending(f);
                f.marker = Some("vol-b".into());
            }),
            Some((2, strings(&["vol-a"]))),
            "the page after the marker, in the list's order"
        );
        assert_eq!(by(&|f| f.marker = Some("vol-q".into())), None, "another project's disk is no marker");
        assert_eq!(
            by(&|f| {
                f.limit = 1;
                f.offset = 1;
            }),
            Some((2, strings(&["vol-a"])))
        );

        let mut renamed = shared.clone();
        renamed.name = "renamed".into();
        renamed.size_gib = 30;
        renamed.status = VolumeStatus::Extending;
        commit(store, |tx| tx.update_volume(&renamed));
        assert_eq!(look(store, |tx| tx.volume(P, "vol-b")), Some(renamed.clone()));
        assert_eq!(by(&|f| f.name = Some("renamed".into())), Some((1, strings(&["vol-b"]))));

        commit(store, |tx| tx.save_snapshot("disks", at(10)));
        commit(store, |tx| tx.delete_volume("vol-a"));
        assert_eq!(look(store, |tx| tx.volume(P, "vol-a")), None);
        assert!(commit(store, |tx| tx.restore_snapshot("disks")));
        assert_eq!(look(store, |tx| tx.volume(P, "vol-a")), Some(system.clone()));
        commit(store, |tx| tx.reset(Some(P)));
        assert_eq!(disk_ids(store, P, &all), Some((0, vec![])));
        assert_eq!(look(store, |tx| tx.volume(Q, "vol-q")), Some(other.clone()), "the other project keeps its disks");
        commit(store, |tx| tx.reset(None));
        assert_eq!(look(store, |tx| tx.volume(Q, "vol-q")), None);
    });
}

fn port(project_id: &str, id: &str, last: u8, created_ms: i64) -> Port {
    Port {
        id: id.into(),
        project_id: project_id.into(),
        name: String::new(),
        subnet_id: SUBNET.into(),
        ip: ip(last),
        mac: "fa:16:3e:00:00:02".into(),
        device_id: String::new(),
        device_owner: String::new(),
        security_group_ids: vec![],
        allowed_address_pairs: vec![],
        primary: false,
        created: at(created_ms),
    }
}

fn port_ids(ports: Vec<Port>) -> Vec<String> {
    ports.into_iter().map(|p| p.id).collect()
}

#[test]
fn ports_hold_addresses_and_a_servers_nics_are_its_ports() {
    on_every_store(|store| {
        let mut web = server(P, "srv-1", "web", 1000, 10);
        web.security_group_ids = vec!["sg-1".into()];
        web.nics.push(nic(SUBNET, ip(11)));
        insert(store, &[web]);
        let nics = look(store, |tx| tx.ports(P, &PortFilter { device_id: Some("srv-1".into()), ..Default::default() }));
        assert_eq!(port_ids(nics.clone()), strings(&["port-192.168.0.10", "port-192.168.0.11"]));
        assert!(nics.iter().all(|p| p.security_group_ids == ["sg-1"] && p.device_owner == "compute:eu-de-01"));
        assert!(nics[0].primary && !nics[1].primary, "the first NIC is the primary one");

        let taken = transact(store, |tx| tx.insert_port(&port(P, "vip", 10, 2000))).expect_err("the address is held");
        assert_eq!(taken.code, ErrorCode::VpcIpInUse);
        commit(store, |tx| tx.insert_port(&port(P, "vip", 20, 2000)));
        commit(store, |tx| tx.insert_port(&port(Q, "theirs", 10, 2000)));
        assert!(look(store, |tx| tx.address_in_use(P, SUBNET, ip(20))));
        assert_eq!(look(store, |tx| tx.port(Q, "vip")), None, "ports are a project's");

        let mut vip = look(store, |tx| tx.port(P, "vip")).expect("the port");
        vip.name = "renamed".into();
        vip.security_group_ids = vec!["sg-2".into()];
        commit(store, |tx| tx.update_port(&vip));
        assert_eq!(look(store, |tx| tx.port(P, "vip")), Some(vip.clone()));
        let by_group = PortFilter { security_groups: vec!["sg-2".into()], ..Default::default() };
        assert_eq!(port_ids(look(store, |tx| tx.ports(P, &by_group))), strings(&["vip"]));
        assert_eq!(
            port_ids(look(store, |tx| tx.subnet_ports(P, SUBNET))),
            strings(&["port-192.168.0.10", "port-192.168.0.11", "vip"]),
            "by address"
        );

        commit(store, |tx| tx.set_lowest_free_hint(P, SUBNET, u32::from(ip(30))));
        commit(store, |tx| tx.delete_server("srv-1"));
        assert_eq!(port_ids(look(store, |tx| tx.ports(P, &PortFilter::default()))), strings(&["vip"]));
        assert!(!look(store, |tx| tx.address_in_use(P, SUBNET, ip(10))), "the NICs' addresses are free");
        assert_eq!(look(store, |tx| tx.lowest_free_hint(P, SUBNET)), u32::from(ip(10)), "and handed out first");
        commit(store, |tx| tx.delete_port(P, "vip"));
        assert_eq!(look(store, |tx| tx.port(P, "vip")), None);
        assert!(look(store, |tx| tx.port(Q, "theirs")).is_some());
    });
}

#[test]
fn security_groups_keep_their_rules_and_know_when_they_are_in_use() {
    on_every_store(|store| {
        let (group, rules) = default_group(P, at(1000));
        commit(store, |tx| {
            tx.insert_security_group(&group)?;
            rules.iter().try_for_each(|r| tx.insert_security_group_rule(r))
        });
        let (other, other_rules) = default_group(P, at(2000));
        let other = SecurityGroup { name: "web".into(), ..other };
        commit(store, |tx| tx.insert_security_group(&other));
        assert_eq!(look(store, |tx| tx.security_groups(P)), vec![group.clone(), other.clone()]);
        assert_eq!(look(store, |tx| tx.security_groups(Q)), vec![]);
        assert_eq!(look(store, |tx| tx.security_group_rules(P, Some(&group.id))), rules);
        assert_eq!(look(store, |tx| tx.security_group_rule(P, &rules[0].id)), Some(rules[0].clone()));
        assert_eq!(look(store, |tx| tx.security_group_rule(Q, &rules[0].id)), None);
        // The default group's own rules name it: that is no use by another group.
        assert!(!look(store, |tx| tx.security_group_in_use(P, &group.id)));

        let from_default = SecurityGroupRule {
            security_group_id: other.id.clone(),
            remote_group_id: Some(group.id.clone()),
            ..other_rules[0].clone()
        };
        commit(store, |tx| tx.insert_security_group_rule(&from_default));
        assert!(look(store, |tx| tx.security_group_in_use(P, &group.id)), "another group's rule names it");
        let mut on_port = port(P, "p-1", 40, 3000);
        on_port.security_group_ids = vec![other.id.clone()];
        commit(store, |tx| tx.insert_port(&on_port));
        assert!(look(store, |tx| tx.security_group_in_use(P, &other.id)), "a port carries it");

        let renamed = SecurityGroup { name: "web-2".into(), description: "the web tier".into(), ..other.clone() };
        commit(store, |tx| tx.update_security_group(&renamed));
        assert_eq!(look(store, |tx| tx.security_group(P, &other.id)), Some(renamed.clone()));
        let foreign = SecurityGroup { project_id: Q.into(), name: "stolen".into(), ..other.clone() };
        commit(store, |tx| tx.update_security_group(&foreign));
        assert_eq!(look(store, |tx| tx.security_group(P, &other.id)), Some(renamed), "another project's write misses");

        commit(store, |tx| tx.delete_security_group(P, &other.id));
        assert_eq!(look(store, |tx| tx.security_group(P, &other.id)), None);
        assert_eq!(look(store, |tx| tx.security_group_rule(P, &from_default.id)), None, "its rules go with it");
        commit(store, |tx| tx.delete_security_group_rule(P, &rules[0].id));
        assert_eq!(look(store, |tx| tx.security_group_rules(P, None)).len(), 3);
    });
}

#[test]
fn reset_and_snapshots_cover_ports_and_security_groups() {
    on_every_store(|store| {
        let (group, rules) = default_group(P, at(1000));
        commit(store, |tx| {
            tx.ensure_project(P, "")?;
            tx.insert_security_group(&group)?;
            tx.insert_security_group_rule(&rules[0])?;
            tx.insert_port(&port(P, "p-1", 40, 1000))
        });
        commit(store, |tx| tx.save_snapshot("net", at(2000)));
        commit(store, |tx| tx.reset(Some(P)));
        assert_eq!(look(store, |tx| tx.ports(P, &PortFilter::default())), vec![]);
        assert_eq!(look(store, |tx| tx.security_groups(P)), vec![]);
        assert_eq!(look(store, |tx| tx.security_group_rules(P, None)), vec![]);
        assert!(commit(store, |tx| tx.restore_snapshot("net")));
        assert_eq!(port_ids(look(store, |tx| tx.ports(P, &PortFilter::default()))), strings(&["p-1"]));
        assert_eq!(look(store, |tx| tx.security_groups(P)), vec![group.clone()]);
        assert_eq!(look(store, |tx| tx.security_group_rules(P, None)), vec![rules[0].clone()]);
    });
}

#[test]
fn key_pairs_are_unique_per_project_numbered_and_in_snapshots_and_resets() {
    use ecsd::domain::keypairs::{Keypair, KeypairType};
    let keypair = |project: &str, name: &str| Keypair {
        id: 0,
        project_id: project.into(),
        name: name.into(),
        key_type: KeypairType::Ssh,
        public_key: format!("ssh-ed25519 AAAA{name}"),
        fingerprint: "00:11".into(),
        created: at(5),
    };
    on_every_store(|store| {
        let first = commit(store, |tx| tx.insert_keypair(&keypair(P, "b")));
        let second = commit(store, |tx| tx.insert_keypair(&keypair(P, "a")));
        assert!(second > first && first > 0, "numbered in the order made");
        commit(store, |tx| tx.insert_keypair(&keypair(Q, "a")));
        let taken = transact(store, |tx| tx.insert_keypair(&keypair(P, "a"))).expect_err("a name is taken");
        assert_eq!(taken.code, ErrorCode::KeypairExists);
        let listed = look(store, |tx| tx.keypairs(P));
        assert_eq!(listed.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(listed[1], Keypair { id: second, ..keypair(P, "a") });
        assert_eq!(look(store, |tx| tx.keypair(Q, "b")), None);

        commit(store, |tx| tx.save_snapshot("keys", at(10)));
        assert!(commit(store, |tx| tx.delete_keypair(P, "b")));
        assert!(!commit(store, |tx| tx.delete_keypair(P, "b")));
        commit(store, |tx| tx.reset(Some(P)));
        assert_eq!(look(store, |tx| tx.keypairs(P)), vec![]);
        assert_eq!(look(store, |tx| tx.keypairs(Q)).len(), 1, "a project's reset leaves the others");
        assert!(commit(store, |tx| tx.restore_snapshot("keys")));
        assert_eq!(look(store, |tx| tx.keypairs(P)), listed);
    });
}

fn event(project_id: &str, time_ms: i64) -> ecsd::domain::events::Event {
    use ecsd::domain::events::{Event, EventKind, EventStatus};
    Event {
        id: 0,
        time: at(time_ms),
        clock: at(time_ms),
        project_id: project_id.into(),
        kind: EventKind::Call,
        operation: "BatchStopServers".into(),
        request_id: None,
        caller: None,
        server_ids: vec![],
        job_id: None,
        sub_job_id: None,
        status: EventStatus::Http(200),
        code: None,
        message: None,
    }
}

#[test]
fn the_audit_trail_is_trimmed_by_count_and_by_age() {
    use ecsd::domain::events::EventFilter;
    on_every_store(|store| {
        let records: Vec<_> = (0..10).map(|i| event(P, 1_000 * i)).collect();
        commit(store, |tx| tx.append_events(&records));
        let kept = |store: &dyn Store| {
            let filter = EventFilter { limit: 100, ..EventFilter::default() };
            look(store, |tx| tx.list_events(&filter)).into_iter().map(|e| e.time).collect::<Vec<_>>()
        };
        // By count: the newest 6 stay, at most 3 go per call.
        assert_eq!(commit(store, |tx| tx.trim_events(6, at(0), 3)), 3);
        assert_eq!(commit(store, |tx| tx.trim_events(6, at(0), 3)), 1);
        assert_eq!(kept(store), (4..10).map(|i| at(1_000 * i)).collect::<Vec<_>>());
        // By age: what was made before 7 s goes, whatever the count allows.
        assert_eq!(commit(store, |tx| tx.trim_events(100, at(7_000), 100)), 3);
        assert_eq!(kept(store), (7..10).map(|i| at(1_000 * i)).collect::<Vec<_>>());
    });
}

/// A claim by `owner` at `now_ms` for a lease of 1,000 ms; the ids it took, oldest first.
fn claim(store: &dyn Store, owner: &str, now_ms: i64, take: Take, ids: Option<&[String]>, limit: usize) -> Vec<String> {
    let claim = Claim { owner, now_ms, until_ms: now_ms + 1_000, take, ids, project_id: None, limit };
    store.claim_sub_jobs(&claim).expect("a claim").into_iter().map(|sub| sub.id).collect()
}

fn leased(store: &dyn Store, owner: &str, ids: &[String]) -> Vec<String> {
    let mut held: Vec<String> = look(store, |tx| tx.leased_to(owner, ids)).into_iter().collect();
    held.sort();
    held
}

#[test]
fn leases_take_free_unfinished_work_keep_live_leases_and_lapse_when_not_renewed() {
    on_every_store(|store| {
        let stop = Operation::Stop { hard: false };
        let mut held = sub_job("job-1", "sub-4", "srv-4", stop.clone(), JobStatus::Running, 4);
        held.held_by = Some("rule-1".into());
        let subs = vec![
            sub_job("job-1", "sub-1", "srv-1", stop.clone(), JobStatus::Init, 1),
            sub_job("job-1", "sub-2", "srv-2", stop.clone(), JobStatus::Running, 2),
            sub_job("job-1", "sub-3", "srv-3", stop.clone(), JobStatus::Success, 3),
            held,
        ];
        commit(store, |tx| tx.insert_job(&job(P, "job-1", OperationKind::Stop, subs.clone())));
        let all = strings(&["sub-1", "sub-2", "sub-3", "sub-4"]);
        // Finished and held sub-jobs are nobody's work.
        assert_eq!(claim(store, "a", 10_000, Take::Free, None, 100), strings(&["sub-1", "sub-2"]));
        assert_eq!(leased(store, "a", &all), strings(&["sub-1", "sub-2"]));
        // A live lease is kept from the others, and from a claim of one's own that takes only free work.
        assert!(claim(store, "b", 10_500, Take::Free, None, 100).is_empty());
        assert!(claim(store, "b", 10_500, Take::FreeOrMine, None, 100).is_empty());
        assert!(claim(store, "a", 10_500, Take::Free, None, 100).is_empty());
        assert_eq!(claim(store, "a", 10_500, Take::FreeOrMine, None, 100), strings(&["sub-1", "sub-2"]));
        // Renewed: `a` works on sub-2 only, so its lease on sub-1 goes; sub-2's lasts to 11,200.
        assert_eq!(store.renew_leases("a", &strings(&["sub-2"]), 11_200).expect("renewed"), 1);
        assert_eq!(claim(store, "b", 11_000, Take::Free, None, 100), strings(&["sub-1"]));
        assert_eq!(leased(store, "a", &all), strings(&["sub-2"]));
        // An expired lease is free; the limit takes the oldest first.
        assert_eq!(claim(store, "c", 11_500, Take::Free, None, 1), strings(&["sub-2"]));
        assert!(leased(store, "a", &all).is_empty());
        // Taking over ignores leases, and takes only the ids named.
        assert_eq!(claim(store, "a", 12_002, Take::Any, Some(&strings(&["sub-1", "sub-3"])), 10), strings(&["sub-1"]));
        assert_eq!(leased(store, "a", &all), strings(&["sub-1"]));
        assert!(leased(store, "b", &all).is_empty());
        // A project's claim takes only its own.
        let other = Claim {
            owner: "d",
            now_ms: 99_000,
            until_ms: 99_500,
            take: Take::Any,
            ids: None,
            project_id: Some(Q),
            limit: 10,
        };
        assert!(store.claim_sub_jobs(&other).expect("a claim").is_empty());
        // Giving every lease up (a replica stopping) frees its work at once.
        store.renew_leases("a", &[], 0).expect("released");
        assert_eq!(claim(store, "b", 12_003, Take::Free, None, 10), strings(&["sub-1"]));
        // A claimed sub-job comes whole.
        let whole = Claim {
            owner: "e",
            now_ms: 99_000,
            until_ms: 99_500,
            take: Take::Any,
            ids: None,
            project_id: Some(P),
            limit: 1,
        };
        assert_eq!(store.claim_sub_jobs(&whole).expect("a claim"), vec![subs[0].clone()]);
    });
}

#[test]
fn replicas_claiming_at_once_never_share_a_sub_job() {
    const SUBS: usize = 300;
    const REPLICAS: usize = 4;
    on_every_database(|database| {
        let stores: Vec<Box<dyn Store>> = (0..REPLICAS).map(|_| database.open()).collect();
        let subs: Vec<SubJob> = (0..SUBS)
            .map(|n| {
                sub_job("job-1", &format!("sub-{n:04}"), &format!("srv-{n}"), Operation::Start, JobStatus::Init, 0)
            })
            .collect();
        commit(stores[0].as_ref(), |tx| tx.insert_job(&job(P, "job-1", OperationKind::Start, subs.clone())));
        let barrier = Barrier::new(REPLICAS);
        let claimed: Vec<Vec<String>> = thread::scope(|scope| {
            let claimers: Vec<_> = stores
                .iter()
                .enumerate()
                .map(|(replica, store)| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        let owner = format!("replica-{replica}");
                        barrier.wait();
                        let mut mine = Vec::new();
                        // Small claims, many of them, so the claimers interleave.
                        loop {
                            let taken = claim(store.as_ref(), &owner, 1_000, Take::Free, None, 7);
                            if taken.is_empty() {
                                return mine;
                            }
                            mine.extend(taken);
                        }
                    })
                })
                .collect();
            claimers.into_iter().map(|claimer| claimer.join().expect("a claimer finishes")).collect()
        });
        let mut every: Vec<String> = claimed.iter().flatten().cloned().collect();
        every.sort();
        let expected: Vec<String> = subs.iter().map(|sub| sub.id.clone()).collect();
        assert_eq!(every, expected, "each sub-job claimed exactly once");
        for (replica, mine) in claimed.iter().enumerate() {
            let owner = format!("replica-{replica}");
            let mut sorted = mine.clone();
            sorted.sort();
            assert_eq!(leased(stores[0].as_ref(), &owner, &expected), sorted);
        }
    });
}
