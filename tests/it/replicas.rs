//! Several replicas of the real binary on one PostgreSQL database, clients spread over them:
//! one fleet whichever replica a request reaches; a replica killed with `kill -9` leaves its
//! work to the others; fault rules and simulated time are the cluster's; a replica whose
//! database is gone answers 503 and recovers by itself. They need PostgreSQL, as the store
//! conformance suite's PostgreSQL half does (CI starts it).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::pg::PgDatabase;
use rand::seq::IteratorRandom;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const BIG_QUOTA: &str = "
[quota]
max_instances = 10000
max_cores = 100000
max_ram_mib = 1000000000
";

/// Replicas of `ecsd serve` on one database, each with a data dir of its own.
struct Cluster {
    database: PgDatabase,
    dir: tempfile::TempDir,
    config: PathBuf,
    timings: &'static str,
    replicas: Vec<EcsProcess>,
    clients: Vec<TestServer>,
}

impl Cluster {
    /// `count` replicas with `--timings <timings>` and the `[timings]` table `table` (may be
    /// empty).
    fn start(count: usize, timings: &'static str, table: &str) -> Self {
        let database = PgDatabase::create();
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("ecsd.toml");
        std::fs::write(&config, format!("{table}\n{BIG_QUOTA}")).expect("config");
        let mut cluster = Cluster { database, dir, config, timings, replicas: vec![], clients: vec![] };
        for _ in 0..count {
            cluster.add();
        }
        cluster
    }

    fn add(&mut self) {
        let data_dir = self.dir.path().join(format!("replica-{}", self.replicas.len()));
        let replica = self.spawn(&data_dir, &self.database.url.clone());
        self.clients.push(replica.client());
        self.replicas.push(replica);
    }

    fn spawn(&self, data_dir: &std::path::Path, url: &str) -> EcsProcess {
        EcsProcess::try_spawn_with(data_dir, Some(&self.config), self.timings, &["--store", url], &[])
            .unwrap_or_else(|(exit, log)| panic!("a replica did not start ({exit:?}); log:\n{log}"))
    }

    /// The client of the `n`th request, round-robin.
    fn client(&self, n: usize) -> &TestServer {
        &self.clients[n % self.clients.len()]
    }

    /// Polls a job, each time through the next replica, until it ends or `limit` passes.
    async fn wait_job(&self, job_id: &str, limit: Duration) -> Value {
        let began = Instant::now();
        for n in 0.. {
            let (status, job) = self.client(n).get(&self.client(n).v1(&format!("/jobs/{job_id}"))).await;
            assert_eq!(status, StatusCode::OK, "job: {job}");
            if job["status"] == "SUCCESS" || job["status"] == "FAIL" {
                return job;
            }
            assert!(began.elapsed() < limit, "job {job_id} did not finish within {limit:?}: {job}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        unreachable!()
    }

    /// Like [`Cluster::wait_job`], taking a 503 (the database not back yet) as not finished.
    async fn wait_job_through_outage(&self, job_id: &str, limit: Duration) -> Value {
        let began = Instant::now();
        loop {
            let (status, job) = self.client(0).get(&self.client(0).v1(&format!("/jobs/{job_id}"))).await;
            if status == StatusCode::OK && (job["status"] == "SUCCESS" || job["status"] == "FAIL") {
                return job;
            }
            assert!(status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE, "job: {status} {job}");
            assert!(began.elapsed() < limit, "job {job_id} did not finish within {limit:?}: {job}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn batch_through(&self, n: usize, action: &str, ids: &[String]) -> (StatusCode, Value) {
        let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
        let ecs = self.client(n);
        ecs.post(&ecs.v1("/cloudservers/action"), json!({ action: {"servers": servers} })).await
    }

    async fn load_fixtures(&self, count: usize) -> Vec<String> {
        let servers: Vec<Value> =
            (0..count.div_ceil(100)).map(|n| json!({"name": format!("fleet-{n}"), "count": 100})).collect();
        let (status, body) = self.client(0).post("/_ecsd/fixtures", json!({ "servers": servers })).await;
        assert_eq!(status, StatusCode::CREATED, "{}", body["error"]);
        let ids: Vec<String> = list_all_servers(self.client(1)).await.iter().map(id_of).collect();
        assert_eq!(ids.len(), count.div_ceil(100) * 100);
        ids
    }
}

fn id_of(server: &Value) -> String {
    server["id"].as_str().expect("id").to_string()
}

/// Every server is in a stable state: none stuck in a transition.
fn assert_stable(servers: &[Value], expected: &str) {
    for server in servers {
        assert_eq!(server["status"], expected, "{server}");
        assert_eq!(server["OS-EXT-STS:task_state"], Value::Null, "{server}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_serve_one_fleet_and_a_batch_goes_through_either() {
    let cluster = Cluster::start(2, "instant", "");
    let (a, b) = (cluster.client(0), cluster.client(1));
    let healths = [a.get("/_ecsd/health").await.1, b.get("/_ecsd/health").await.1];
    for health in &healths {
        assert_eq!(health["store_kind"], "postgres", "{health}");
        assert_eq!(health["status"], "ok", "{health}");
    }
    assert_ne!(healths[0]["replica_id"], healths[1]["replica_id"]);

    let ids = a.create_servers("web", "s6.small.1", 20).await;
    assert_eq!(list_all_servers(b).await.len(), 20, "a server created through one replica is shown by the other");
    // Accepted through B, watched through both, completes at once (instant timings).
    let began = Instant::now();
    let (status, body) = cluster.batch_through(1, "os-stop", &ids).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = cluster.wait_job(body["job_id"].as_str().expect("job"), Duration::from_secs(10)).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert!(began.elapsed() < Duration::from_secs(2), "a stop of 20 took {:?}", began.elapsed());
    assert_stable(&list_all_servers(a).await, "SHUTOFF");
    let (status, body) = cluster.batch_through(0, "os-start", &ids).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = cluster.wait_job(body["job_id"].as_str().expect("job"), Duration::from_secs(10)).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_stable(&list_all_servers(b).await, "ACTIVE");
    // A delete through one replica is seen by the other.
    let job = a.delete(&ids[..1]).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(list_all_servers(b).await.len(), 19);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_clients_on_three_replicas_change_each_server_once_per_accepted_operation() {
    const SERVERS: usize = 30;
    const CLIENTS: usize = 30;
    let cluster = Arc::new(Cluster::start(3, "realistic", "[timings]\nstart_ms = 300\nstop_ms = 300\n"));
    let ids = cluster.client(0).create_servers("race", "s6.small.1", SERVERS as u32).await;
    let seed: u64 = rand::random();
    println!("seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let requests: Vec<(usize, &'static str, Vec<String>)> = (0..CLIENTS)
        .map(|n| {
            let action = if rng.random_bool(0.5) { "os-stop" } else { "os-start" };
            let picked = ids.iter().cloned().choose_multiple(&mut rng, 10);
            (n, action, picked)
        })
        .collect();
    let answers: Vec<_> = requests
        .into_iter()
        .map(|(n, action, picked)| {
            let cluster = Arc::clone(&cluster);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis((n as u64 % 10) * 60)).await;
                let (status, body) = cluster.batch_through(n, action, &picked).await;
                (action, status, body)
            })
        })
        .collect();
    let mut jobs = Vec::new();
    let mut refused = 0;
    for answer in answers {
        let (action, status, body) = answer.await.expect("a client");
        match body["job_id"].as_str() {
            Some(job) if status == StatusCode::OK => jobs.push((action, job.to_string())),
            _ => {
                assert!(status.is_client_error(), "{action}: {status} {body}");
                documented_error_shape(&body).unwrap_or_else(|e| panic!("{e}"));
                refused += 1;
            }
        }
    }
    assert!(!jobs.is_empty(), "every request was refused ({refused})");
    // Per server, the stops and starts that succeeded: each accepted one changed it once.
    let mut changes: HashMap<String, (usize, usize)> = HashMap::new();
    for (n, (action, job)) in jobs.iter().enumerate() {
        let job = cluster.wait_job(job, Duration::from_secs(20)).await;
        for sub in job["entities"]["sub_jobs"].as_array().expect("sub-jobs") {
            let server = sub["entities"]["server_id"].as_str().expect("server").to_string();
            match sub["status"].as_str() {
                Some("SUCCESS") => {
                    let counts = changes.entry(server).or_default();
                    if *action == "os-stop" { counts.0 += 1 } else { counts.1 += 1 }
                }
                Some("FAIL") => {
                    assert!(sub["error_code"].as_str().is_some_and(|c| c.starts_with("Ecs.")), "job {n}: {sub}")
                }
                other => panic!("a sub-job of a finished job is {other:?}: {sub}"),
            }
        }
    }
    let servers = list_all_servers(cluster.client(2)).await;
    assert_eq!(servers.len(), SERVERS);
    for server in &servers {
        assert_eq!(server["OS-EXT-STS:task_state"], Value::Null, "stuck: {server}");
        let (stops, starts) = changes.get(&id_of(server)).copied().unwrap_or_default();
        // Every server began ACTIVE, and a stop or start succeeds only from the other state.
        let expected = if server["status"] == "SHUTOFF" { (starts + 1, starts) } else { (starts, starts) };
        assert_eq!((stops, starts), expected, "{server}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_of_a_replica_killed_with_kill_9_is_finished_by_the_others() {
    const SERVERS: usize = 2000;
    let mut cluster = Cluster::start(3, "realistic", "[timings]\nstop_ms = 2000\n");
    let ids = cluster.load_fixtures(SERVERS).await;
    // Accepted by replica 0, which runs it (the replica that accepts claims the work).
    let mut jobs = Vec::new();
    for chunk in ids.chunks(1000) {
        let (status, body) = cluster.batch_through(0, "os-stop", chunk).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        jobs.push(body["job_id"].as_str().expect("job").to_string());
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, job) = cluster.client(1).get(&cluster.client(1).v1(&format!("/jobs/{}", jobs[0]))).await;
    assert!(job["status"] == "INIT" || job["status"] == "RUNNING", "the kill must come mid-batch: {}", job["status"]);
    let killed_at = Instant::now();
    cluster.replicas[0].kill();
    cluster.clients.remove(0);
    for job in &jobs {
        let job = cluster.wait_job(job, Duration::from_secs(60)).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
        let subs = job["entities"]["sub_jobs"].as_array().expect("sub-jobs");
        assert_eq!(subs.len(), 1000);
        assert!(subs.iter().all(|s| s["status"] == "SUCCESS"), "{job}");
    }
    println!("finished {:?} after the kill", killed_at.elapsed());
    assert_stable(&list_all_servers(cluster.client(0)).await, "SHUTOFF");
    // The survivors serve on: the fleet starts again through them.
    let (status, body) = cluster.batch_through(1, "os-start", &ids[..100]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = cluster.wait_job(body["job_id"].as_str().expect("job"), Duration::from_secs(15)).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopped_gracefully_hands_its_work_over_at_once() {
    let mut cluster = Cluster::start(2, "realistic", "[timings]\nstop_ms = 1000\n");
    let ids = cluster.load_fixtures(100).await;
    let (status, body) = cluster.batch_through(0, "os-stop", &ids).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = body["job_id"].as_str().expect("job").to_string();
    cluster.replicas[0].terminate();
    let stopped_at = Instant::now();
    assert!(cluster.replicas[0].wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
    cluster.clients.remove(0);
    let job = cluster.wait_job(&job, Duration::from_secs(15)).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    // Without the hand-over the other replica would wait for the leases to expire (5 s).
    assert!(stopped_at.elapsed() < Duration::from_secs(4), "took {:?}", stopped_at.elapsed());
    assert_stable(&list_all_servers(cluster.client(0)).await, "SHUTOFF");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_1_fault_rule_fires_once_in_the_cluster() {
    let cluster = Cluster::start(2, "instant", "");
    let ids = cluster.client(0).create_servers("web", "s6.small.1", 6).await;
    let rule = json!({"operation": "stop", "count": 1,
                      "effect": {"kind": "http_error", "status": 503, "code": "Common.1503", "message": "busy"}});
    let (status, body) = cluster.client(1).post("/_ecsd/faults", rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut injected = 0;
    for (n, id) in ids.iter().enumerate() {
        let (status, body) = cluster.batch_through(n, "os-stop", std::slice::from_ref(id)).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(body["error"]["code"], "Common.1503", "{body}");
            injected += 1;
        } else {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    assert_eq!(injected, 1, "a rule with count 1 fires once, whichever replica the requests reach");
    for n in 0..2 {
        let (_, list) = cluster.client(n).get("/_ecsd/faults").await;
        assert_eq!(list["faults"][0]["fired"], 1, "{list}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_advanced_on_one_replica_is_seen_by_the_other() {
    let cluster = Cluster::start(2, "instant", "");
    let now = |body: &Value| {
        time::OffsetDateTime::parse(body["now"].as_str().expect("now"), &time::format_description::well_known::Rfc3339)
            .expect("a time")
    };
    let (status, advanced) = cluster.client(0).post("/_ecsd/clock/advance", json!({"seconds": 3600})).await;
    assert_eq!(status, StatusCode::OK, "{advanced}");
    let target = now(&advanced);
    let began = Instant::now();
    loop {
        let (_, seen) = cluster.client(1).post("/_ecsd/clock/advance", json!({"seconds": 0})).await;
        if now(&seen) >= target {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(3), "the other replica's clock stayed at {seen}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And what it stamps follows it: a server created through it is an hour ahead.
    let id = cluster.client(1).create_servers("later", "s6.small.1", 1).await.remove(0);
    let server = cluster.client(0).server(&id).await;
    let created = time::OffsetDateTime::parse(
        server["created"].as_str().expect("created"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("a time");
    assert!(created >= target - time::Duration::seconds(5), "created {created}, the clock is at {target}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_key_made_and_revoked_in_the_database_holds_on_every_replica() {
    let cluster = Cluster::start(2, "instant", "");
    let store = ecsd::config::StoreChoice::Postgres(cluster.database.url.clone());
    let keys_dir = cluster.dir.path().join("keys");
    let project_id = test_credential().project_id;
    let create = ecsd::keys::Action::Create { project_id: Some(project_id.clone()), description: "ci".into() };
    ecsd::keys::run(&keys_dir, &store, create).expect("created");
    let opened = ecsd::store::PostgresStore::open(&cluster.database.url).expect("the store");
    let keys = ecsd::store::read(&opened, |tx| tx.access_keys()).expect("keys");
    let key = keys.iter().find(|key| key.description == "ci").expect("the new key");
    let credential = ecsd::config::Credential {
        access_key: key.access_key.clone(),
        secret_key: key.secret_key.clone(),
        project_id: key.project_id.clone(),
    };
    let signed_by_key: Vec<TestServer> =
        cluster.replicas.iter().map(|replica| TestServer::remote(&replica.base, credential.clone())).collect();
    for (n, ecs) in signed_by_key.iter().enumerate() {
        // Twice each: the second request must not be answered from a cache of the first.
        for _ in 0..2 {
            let (status, body) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
            assert_eq!(status, StatusCode::OK, "replica {n}: {body}");
        }
    }
    let revoke = ecsd::keys::Action::Revoke { access_key: credential.access_key.clone() };
    ecsd::keys::run(&keys_dir, &store, revoke).expect("revoked");
    for (n, ecs) in signed_by_key.iter().enumerate() {
        let (status, body) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "replica {n}: {body}");
        assert_eq!(body["error_code"], "APIG.0301", "replica {n}: {body}");
    }
}

/// The console's session cookie as replica `base` names it (after its port). A load balancer
/// in front of the replicas gives them one `Host`, so the browser sends one name to all.
fn console_cookie(base: &str, value: &str) -> String {
    format!("ecsd_console_{}={value}", base.rsplit(':').next().expect("a port"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_session_opened_on_one_replica_works_on_the_other_and_signs_out_on_both() {
    let cluster = Cluster::start(2, "instant", "");
    let (a, b) = (&cluster.replicas[0].base, &cluster.replicas[1].base);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let credential = test_credential();
    let signed_in = http
        .post(format!("{a}/console/sign-in"))
        .form(&[("access_key", credential.access_key.as_str()), ("secret_key", credential.secret_key.as_str())])
        .send()
        .await
        .expect("sent");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let set = signed_in.headers()[reqwest::header::SET_COOKIE].to_str().expect("ascii").to_string();
    let value = set.split(';').next().and_then(|pair| pair.split_once('=')).expect("a cookie").1.to_string();
    let page = http
        .get(format!("{a}/console"))
        .header(reqwest::header::COOKIE, console_cookie(a, &value))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    let csrf = page.split("name=\"ecsd-csrf\" content=\"").nth(1).and_then(|rest| rest.split('"').next());
    let csrf = csrf.expect("the page's CSRF token").to_string();

    let me = |base: &String| {
        http.get(format!("{base}/console/api/me")).header(reqwest::header::COOKIE, console_cookie(base, &value)).send()
    };
    let on_b = me(b).await.expect("sent");
    assert_eq!(on_b.status(), StatusCode::OK);
    let on_b: Value = on_b.json().await.expect("json");
    assert_eq!(on_b["project_id"], credential.project_id, "{on_b}");
    // A state-changing call on B with the token of A's page: the same session.
    let out = http
        .post(format!("{b}/console/api/sign-out"))
        .header(reqwest::header::COOKIE, console_cookie(b, &value))
        .header("X-Ecsd-Csrf", &csrf)
        .send()
        .await
        .expect("sent");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(a).await.expect("sent").status(), StatusCode::UNAUTHORIZED, "signed out on B is signed out on A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_signatures_on_two_replicas_together_lock_the_access_key_on_both() {
    let cluster = Cluster::start(2, "instant", "");
    let right = test_credential();
    let wrong = ecsd::config::Credential { secret_key: "not-the-secret-key".repeat(2), ..right.clone() };
    // Three mismatches on each: more than five in all, though no replica saw more than three.
    for replica in &cluster.replicas {
        let ecs = TestServer::remote(&replica.base, wrong.clone());
        for _ in 0..3 {
            let (status, body) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
    }
    for (n, replica) in cluster.replicas.iter().enumerate() {
        let ecs = TestServer::remote(&replica.base, right.clone());
        let (status, body) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "replica {n}: {body}");
        assert!(body["error_msg"].as_str().is_some_and(|m| m.contains("limit")), "replica {n}: {body}");
    }
}

/// A TCP relay to PostgreSQL that the test can cut (the database is gone: connections reset,
/// new ones refused) and restore on the same port.
struct Relay {
    port: u16,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Self {
        let relay = Relay { port: 0, target, tasks: Arc::default() };
        let listener = relay.bind(0);
        let port = listener.local_addr().expect("address").port();
        let relay = Relay { port, ..relay };
        relay.serve(listener);
        relay
    }

    /// A relay to the test PostgreSQL server.
    async fn in_front_of_postgres() -> Self {
        let admin = crate::pg::admin_url();
        let server = admin.split_once('@').map_or(admin.as_str(), |(_, host)| host);
        let host_port = server.split_once('/').map_or(server, |(host, _)| host);
        let target = tokio::net::lookup_host(host_port).await.expect("resolves").next().expect("an address");
        Relay::start(target).await
    }

    /// Starts a replica of `cluster` that reaches its database through the relay; its client.
    fn add_replica(&self, cluster: &mut Cluster) -> TestServer {
        let admin = crate::pg::admin_url();
        let user = admin.split_once("://").and_then(|(_, rest)| rest.split_once('@')).map_or("postgres", |(u, _)| u);
        let relayed = format!("postgres://{user}@127.0.0.1:{}/{}", self.port, cluster.database.name);
        let data_dir = cluster.dir.path().join(format!("relayed-{}", cluster.replicas.len()));
        let replica = cluster.spawn(&data_dir, &relayed);
        let ecs = replica.client();
        cluster.replicas.push(replica);
        ecs
    }

    fn bind(&self, port: u16) -> tokio::net::TcpListener {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("reuseaddr");
        socket.bind(SocketAddr::from(([127, 0, 0, 1], port))).expect("bind");
        socket.listen(64).expect("listen")
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (target, tasks) = (self.target, Arc::clone(&self.tasks));
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let relayed = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().expect("tasks").push(relayed);
            }
        });
        self.tasks.lock().expect("tasks").push(accepting);
    }

    fn cut(&self) {
        for task in self.tasks.lock().expect("tasks").drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.serve(self.bind(self.port));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_database_is_gone_answers_503_in_the_apis_shape_and_recovers() {
    let mut cluster = Cluster::start(1, "instant", "");
    let relay = Relay::in_front_of_postgres().await;
    let ecs = relay.add_replica(&mut cluster);
    let ids = ecs.create_servers("web", "s6.small.1", 2).await;

    relay.cut();
    let began = Instant::now();
    let (status, health) = ecs.get("/_ecsd/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["store"], "unreachable", "{health}");
    for path in [ecs.v1("/cloudservers/detail"), ecs.v1(&format!("/cloudservers/{}", ids[0]))] {
        let answer = ecs.try_call(Method::GET, &path, vec![], &[], Duration::from_secs(15)).await.expect("an answer");
        assert!(answer.status.is_server_error(), "{path}: {} {}", answer.status, answer.body);
        documented_error_shape(&answer.body).unwrap_or_else(|e| panic!("{path}: {e}"));
        let code = answer.body["error"]["code"].as_str().unwrap_or_default();
        assert!(code.starts_with("Common.") || code.starts_with("Ecs."), "{path}: {}", answer.body);
    }
    // The neighbour APIs answer 503 in their own shapes.
    let project = ecs.project().to_string();
    for (path, fault) in [
        (format!("/v2.1/{project}/servers/detail"), "/serviceUnavailable/code"),
        ("/v2.0/ports".to_string(), "/NeutronError/type"),
        (format!("/volume/v3/{project}/volumes"), "/serviceUnavailable/code"),
    ] {
        let answer = ecs.try_call(Method::GET, &path, vec![], &[], Duration::from_secs(15)).await.expect("an answer");
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {}", answer.body);
        assert!(answer.body.pointer(fault).is_some(), "{path}: {}", answer.body);
    }
    let (status, body) = cluster.batch_through(0, "os-stop", &ids).await;
    assert_eq!(status, StatusCode::OK, "the other replica, on a connection of its own, still serves: {body}");
    assert!(began.elapsed() < Duration::from_secs(40), "answers took {:?}", began.elapsed());

    relay.restore();
    let began = Instant::now();
    loop {
        let (status, _) = ecs.get("/_ecsd/health").await;
        if status == StatusCode::OK {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "the replica did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let servers: BTreeMap<String, Value> = list_all_servers(&ecs).await.into_iter().map(|s| (id_of(&s), s)).collect();
    assert_eq!(servers.len(), 2);
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-start": {"servers": [{"id": ids[0]}]}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_cut_off_from_its_database_mid_way_completes_once_it_returns() {
    let mut cluster = Cluster::start(0, "realistic", "[timings]\nstop_ms = 1500\n");
    let relay = Relay::in_front_of_postgres().await;
    let ecs = relay.add_replica(&mut cluster);
    cluster.clients.push(ecs);
    let ids = cluster.load_fixtures(100).await;
    let (status, body) = cluster.batch_through(0, "os-stop", &ids).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = body["job_id"].as_str().expect("job").to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    relay.cut();
    tokio::time::sleep(Duration::from_secs(2)).await;
    relay.restore();
    let job = cluster.wait_job_through_outage(&job, Duration::from_secs(20)).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_stable(&list_all_servers(cluster.client(0)).await, "SHUTOFF");
}

/// A stopped ecsd leaves no connection to its database: the listener's own connection went
/// with its store (it stayed open for good, and a test run of many servers ran PostgreSQL out
/// of connections).
#[tokio::test]
async fn a_stopped_server_leaves_no_connection_to_its_database() {
    let database = PgDatabase::create();
    for _ in 0..3 {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = config(
            data_dir.path().to_path_buf(),
            ecsd::domain::catalogue::Catalogue::default(),
            ecsd::engine::sim::Timings::INSTANT,
        );
        config.store = ecsd::config::StoreChoice::Postgres(database.url.clone());
        let running = ecsd::start(config).await.expect("ecsd starts");
        let ecs = TestServer::remote(&format!("http://{}", running.addr), running.credential.clone());
        ecs.create_servers("conn", "s6.small.1", 2).await;
        running.stop().await.expect("stops");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut open = crate::pg::connections_to(&database.name);
    while open > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        open = crate::pg::connections_to(&database.name);
    }
    assert_eq!(open, 0, "connections left open after three servers stopped");
}
