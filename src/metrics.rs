//! Prometheus metrics of one ecsd process, in the text exposition format (`GET /metrics`).
//!
//! One registry per started ecsd, not the process-global one: tests start many servers in one
//! process, and each must count only its own work. Jobs, sub-jobs and fault firings are counted
//! from the trail records their transactions write, and only once that transaction has
//! committed ([`MeteredStore`]), so a rolled-back change is never counted; requests are counted
//! by the outermost layer once answered; the fleet by status is read from the store when scraped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::domain::Result;
use crate::domain::events::{Event, EventKind, EventStatus};
use crate::domain::job::SubJob;
use crate::store::{Claim, Listener, Notice, ReadTx, Store, WriteTx};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label of a request that matched no operation (an unknown path, or refused before routing).
pub const NO_OPERATION: &str = "none";

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    jobs_started: IntCounterVec,
    jobs_finished: IntCounterVec,
    sub_jobs_started: IntCounterVec,
    sub_jobs_finished: IntCounterVec,
    faults_fired: IntCounterVec,
    transaction_seconds: HistogramVec,
    engine_queue: IntGauge,
    engine_lag_seconds: Gauge,
    servers: IntGaugeVec,
    /// Held from setting the fleet's gauges to gathering them: two scrapes at once (the API
    /// address and `--metrics-listen`) must not interleave a reset with the other's gather.
    rendering: std::sync::Mutex<()>,
}

/// Request latencies: 100 µs to about 6.5 s, as ecsd answers most calls in well under a
/// millisecond and the default buckets (from 5 ms) would put nearly all of them in the first.
fn latency_buckets() -> Vec<f64> {
    (0..17).map(|i| 0.0001 * 2f64.powi(i)).collect()
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let counter = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
            registry.register(Box::new(counter.clone())).expect("a counter registered once");
            counter
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(latency_buckets());
            let histogram = HistogramVec::new(opts, labels).expect("a valid histogram");
            registry.register(Box::new(histogram.clone())).expect("a histogram registered once");
            histogram
        };
        let requests = counter(
            "ecsd_requests_total",
            "API requests answered, by SDK operation and status class.",
            &["operation", "status"],
        );
        let request_seconds = histogram(
            "ecsd_request_duration_seconds",
            "Time to answer an API request, by SDK operation.",
            &["operation"],
        );
        let jobs_started = counter("ecsd_jobs_started_total", "Jobs accepted, by job type.", &["type"]);
        let jobs_finished =
            counter("ecsd_jobs_finished_total", "Jobs ended, by job type and outcome.", &["type", "status"]);
        let sub_jobs_started = counter("ecsd_sub_jobs_started_total", "Sub-jobs accepted, by type.", &["type"]);
        let sub_jobs_finished =
            counter("ecsd_sub_jobs_finished_total", "Sub-jobs ended, by type and outcome.", &["type", "status"]);
        let faults_fired = counter(
            "ecsd_fault_rules_fired_total",
            "Fault rule firings, by effect and the operation matched.",
            &["effect", "operation"],
        );
        let transaction_seconds = histogram(
            "ecsd_store_transaction_seconds",
            "Time of a store transaction (write) or snapshot read (read), waiting for the writer included.",
            &["kind"],
        );
        let engine_queue =
            IntGauge::new("ecsd_engine_queue_depth", "Sub-job steps the job engine has queued.").expect("a gauge");
        registry.register(Box::new(engine_queue.clone())).expect("a gauge registered once");
        let engine_lag_seconds = Gauge::new(
            "ecsd_engine_lag_seconds",
            "How late, on real time, the job engine last took up its oldest due step.",
        )
        .expect("a gauge");
        registry.register(Box::new(engine_lag_seconds.clone())).expect("a gauge registered once");
        let servers = IntGaugeVec::new(Opts::new("ecsd_servers", "Servers of every project, by status."), &["status"])
            .expect("a gauge");
        registry.register(Box::new(servers.clone())).expect("a gauge registered once");
        Arc::new(Metrics {
            registry,
            requests,
            request_seconds,
            jobs_started,
            jobs_finished,
            sub_jobs_started,
            sub_jobs_finished,
            faults_fired,
            transaction_seconds,
            engine_queue,
            engine_lag_seconds,
            servers,
            rendering: std::sync::Mutex::new(()),
        })
    }

    /// An answered request: `operation` is the SDK operation's name, or [`NO_OPERATION`].
    pub fn answered(&self, operation: &str, status: u16, took: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests.with_label_values(&[operation, class]).inc();
        self.request_seconds.with_label_values(&[operation]).observe(took.as_secs_f64());
    }

    /// How many steps the job engine has queued, each time it waits for more.
    pub fn engine_queued(&self, queued: usize) {
        self.engine_queue.set(i64::try_from(queued).unwrap_or(i64::MAX));
    }

    /// How late the job engine took up its oldest due step, each time it takes steps up.
    pub fn engine_lag(&self, lag: Duration) {
        self.engine_lag_seconds.set(lag.as_secs_f64());
    }

    /// The exposition of every metric, with the fleet counted as it is now.
    pub fn render(&self, fleet: &[(String, u64)]) -> String {
        let _rendering = self.rendering.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.servers.reset();
        for (status, count) in fleet {
            self.servers.with_label_values(&[status.as_str()]).set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }

    fn count(&self, tallies: Tallies) {
        for ((counter, labels), n) in tallies.0 {
            let counter = match counter {
                Counted::JobStarted => &self.jobs_started,
                Counted::JobFinished => &self.jobs_finished,
                Counted::SubJobStarted => &self.sub_jobs_started,
                Counted::SubJobFinished => &self.sub_jobs_finished,
                Counted::FaultFired => &self.faults_fired,
            };
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            counter.with_label_values(&labels).inc_by(n);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Counted {
    JobStarted,
    JobFinished,
    SubJobStarted,
    SubJobFinished,
    FaultFired,
}

/// What one transaction's records add to the counters, summed (a batch of 1,000 servers adds
/// to a handful of label sets).
#[derive(Default)]
struct Tallies(HashMap<(Counted, Vec<String>), u64>);

impl Tallies {
    fn add(&mut self, counted: Counted, labels: Vec<String>) {
        *self.0.entry((counted, labels)).or_default() += 1;
    }
}

thread_local! {
    /// The tallies of the metered transaction running on this thread, if any.
    static PENDING: RefCell<Option<Tallies>> = const { RefCell::new(None) };
}

/// Whether a record tells of a new job or sub-job (as accepted) or of a change to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Records {
    Created,
    Changed,
}

/// Notes the trail records a transaction writes, to be counted if it commits.
pub fn note(records: Records, events: &[Event]) {
    PENDING.with(|pending| {
        if let Some(tallies) = pending.borrow_mut().as_mut() {
            for event in events {
                tally(tallies, records, event);
            }
        }
    });
}

fn tally(tallies: &mut Tallies, records: Records, event: &Event) {
    let kind = event.operation.clone();
    match (&event.kind, &event.status) {
        (EventKind::Job | EventKind::SubJob, EventStatus::Job(status)) => {
            let (started, finished) = match event.kind {
                EventKind::Job => (Counted::JobStarted, Counted::JobFinished),
                _ => (Counted::SubJobStarted, Counted::SubJobFinished),
            };
            if records == Records::Created {
                tallies.add(started, vec![kind.clone()]);
            }
            if status.is_finished() {
                tallies.add(finished, vec![kind, status.as_str().to_string()]);
            }
        }
        (EventKind::Fault, EventStatus::Effect(effect)) => tallies.add(Counted::FaultFired, vec![effect.clone(), kind]),
        _ => {}
    }
}

/// The store, timed, with the counters of what its committed transactions recorded.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        MeteredStore { inner, metrics }
    }
}

impl Store for MeteredStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn WriteTx) -> Result<()>) -> Result<()> {
        let started = Instant::now();
        let result = self.inner.transaction(&mut |tx| {
            // A store may run `work` again (a retried transaction): only the last run counts.
            PENDING.with(|pending| *pending.borrow_mut() = Some(Tallies::default()));
            work(tx)
        });
        let tallies = PENDING.with(|pending| pending.borrow_mut().take());
        self.metrics.transaction_seconds.with_label_values(&["write"]).observe(started.elapsed().as_secs_f64());
        if result.is_ok()
            && let Some(tallies) = tallies
        {
            self.metrics.count(tallies);
        }
        result
    }

    fn read(&self, work: &mut dyn FnMut(&mut dyn ReadTx) -> Result<()>) -> Result<()> {
        let started = Instant::now();
        let result = self.inner.read(work);
        self.metrics.transaction_seconds.with_label_values(&["read"]).observe(started.elapsed().as_secs_f64());
        result
    }

    fn change_token(&self) -> Result<Option<u64>> {
        self.inner.change_token()
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn claim_sub_jobs(&self, claim: &Claim) -> Result<Vec<SubJob>> {
        self.inner.claim_sub_jobs(claim)
    }

    fn renew_leases(&self, owner: &str, working: &[String], until_ms: i64) -> Result<u64> {
        self.inner.renew_leases(owner, working, until_ms)
    }

    fn notify(&self, notice: &Notice) -> Result<()> {
        self.inner.notify(notice)
    }

    fn listen(&self, listener: Listener) {
        self.inner.listen(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::job::JobStatus;
    use crate::domain::server::Timestamp;

    fn created_job() -> Event {
        Event {
            id: 0,
            time: Timestamp::now_utc(),
            clock: Timestamp::now_utc(),
            project_id: "p".into(),
            kind: EventKind::Job,
            operation: "stopServer".into(),
            request_id: None,
            caller: None,
            server_ids: vec![],
            job_id: Some("job".into()),
            sub_job_id: None,
            status: EventStatus::Job(JobStatus::Running),
            code: None,
            message: None,
        }
    }

    fn started(metrics: &Metrics) -> u64 {
        metrics.jobs_started.get_metric_with_label_values(&["stopServer"]).map(|c| c.get()).unwrap_or_default()
    }

    #[test]
    fn a_transaction_counts_what_it_recorded_only_once_it_commits() {
        let dir = tempfile::tempdir().expect("a dir");
        let inner: Arc<dyn Store> = Arc::new(crate::store::SqliteStore::open(&dir.path().join("s")).expect("a store"));
        let metrics = Metrics::new();
        let store = MeteredStore::new(inner, Arc::clone(&metrics));
        let refused = store.transaction(&mut |_| {
            note(Records::Created, &[created_job()]);
            Err(crate::domain::Error::internal("rolled back"))
        });
        assert!(refused.is_err());
        assert_eq!(started(&metrics), 0, "a rolled-back job is not counted");
        let mut runs = 0;
        store
            .transaction(&mut |_| {
                runs += 1;
                note(Records::Created, &[created_job(), created_job()]);
                Ok(())
            })
            .expect("commits");
        assert_eq!(runs, 1);
        assert_eq!(started(&metrics), 2);
        note(Records::Created, &[created_job()]);
        assert_eq!(started(&metrics), 2, "outside a transaction nothing is noted");
    }

    #[test]
    fn only_finished_changes_count_as_ended_and_changes_never_as_started() {
        let mut tallies = Tallies::default();
        let mut running = created_job();
        tally(&mut tallies, Records::Changed, &running);
        assert!(tallies.0.is_empty());
        running.status = EventStatus::Job(JobStatus::Fail);
        tally(&mut tallies, Records::Changed, &running);
        tally(&mut tallies, Records::Created, &running);
        assert_eq!(tallies.0.get(&(Counted::JobFinished, vec!["stopServer".into(), "FAIL".into()])), Some(&2));
        assert_eq!(tallies.0.get(&(Counted::JobStarted, vec!["stopServer".into()])), Some(&1));
    }
}
