//! The audit trail's moving parts: what the request being served has touched (for its call
//! record), the records a change writes in its own transaction, and the writer that stores call
//! records off the request path.
//!
//! A change's records (a job and its sub-jobs accepted, a step applied, a fault rule fired) are
//! written in the transaction that makes the change, so the trail never tells of work that
//! rolled back. A call is recorded once it has been answered, so its record follows those of the
//! work it started; it goes through [`Trail::record`], a queue that a task empties into the store
//! in batches, so no request waits for the write. Every committed record bumps
//! [`Trail::committed`], which is what streams wait on.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use crate::domain::Result;
use crate::domain::events::{Event, Origin, Retention};
use crate::domain::faults::LoadedRules;
use crate::domain::job::Job;
use crate::domain::server::Timestamp;
use crate::store::{Store, WriteTx, transact};

/// What one request touched, noted by the layers and the service while it is served.
#[derive(Debug, Default)]
pub struct Call {
    pub request_id: String,
    notes: Mutex<CallNotes>,
}

#[derive(Debug, Default, Clone)]
pub struct CallNotes {
    pub caller: Option<String>,
    pub server_ids: Vec<String>,
    pub job_id: Option<String>,
}

impl Call {
    pub fn new(request_id: String) -> Self {
        Call { request_id, notes: Mutex::default() }
    }

    fn note(&self, change: impl FnOnce(&mut CallNotes)) {
        if let Ok(mut notes) = self.notes.lock() {
            change(&mut notes);
        }
    }

    pub fn caller(&self, caller: &str) {
        self.note(|notes| notes.caller = Some(caller.to_string()));
    }

    pub fn server(&self, server_id: &str) {
        self.note(|notes| {
            if !notes.server_ids.iter().any(|id| id == server_id) {
                notes.server_ids.push(server_id.to_string());
            }
        });
    }

    pub fn notes(&self) -> CallNotes {
        self.notes.lock().map(|notes| notes.clone()).unwrap_or_default()
    }

    /// Runs `work` (on this thread) as part of this call: what it touches is noted here.
    pub fn within<R>(self: &Arc<Self>, work: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|current| current.replace(Some(Arc::clone(self))));
        let outcome = work();
        CURRENT.with(|current| *current.borrow_mut() = previous);
        outcome
    }
}

thread_local! {
    /// The call whose service work runs on this thread, if any (the engine runs in none).
    static CURRENT: RefCell<Option<Arc<Call>>> = const { RefCell::new(None) };
}

fn current() -> Option<Arc<Call>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Notes a server the current call writes.
pub fn touched(server_id: &str) {
    if let Some(call) = current() {
        call.server(server_id);
    }
}

/// Who and when for records made now, at `clock` on ecsd's clock, by the current call if any.
pub fn origin(clock: Timestamp) -> Origin {
    let call = current();
    Origin {
        time: Timestamp::now_utc(),
        clock,
        request_id: call.as_ref().map(|call| call.request_id.clone()),
        caller: call.and_then(|call| call.notes().caller),
    }
}

/// Stores a new job with the records of it and its sub-jobs, and notes it for the call.
pub fn insert_job(tx: &mut dyn WriteTx, job: &Job) -> Result<()> {
    tx.insert_job(job)?;
    if let Some(call) = current() {
        call.note(|notes| {
            notes.job_id.get_or_insert_with(|| job.id.clone());
            for sub in job.sub_jobs.iter().filter(|sub| !sub.server_id.is_empty()) {
                if !notes.server_ids.contains(&sub.server_id) {
                    notes.server_ids.push(sub.server_id.clone());
                }
            }
        });
    }
    let events = origin(job.begin_time).job_created(job);
    crate::metrics::note(crate::metrics::Records::Created, &events);
    tx.append_events(&events)
}

/// Stores the records of the fault rules that fired; ecsd's clock is read only when one did.
pub fn record_fired(tx: &mut dyn WriteTx, rules: &LoadedRules) -> Result<()> {
    if rules.fired().is_empty() {
        return Ok(());
    }
    let advanced = time::Duration::milliseconds(tx.clock_advanced_ms()?);
    let origin = origin(Timestamp::now_utc() + advanced);
    let events: Vec<Event> = rules.fired().iter().map(|fired| origin.fault_fired(fired)).collect();
    crate::metrics::note(crate::metrics::Records::Changed, &events);
    tx.append_events(&events)
}

/// How the trail is kept, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrailConfig {
    pub retention: Retention,
    /// Reads are recorded too, not only the calls that change something.
    pub record_reads: bool,
}

enum Command {
    Record(Box<Event>),
    /// Answered once every record queued before it is stored.
    Flush(oneshot::Sender<()>),
}

/// The queue of call records and the signal of committed records.
pub struct Trail {
    sender: mpsc::UnboundedSender<Command>,
    committed: watch::Sender<u64>,
    /// True once ecsd stops: streams end, so the graceful shutdown need not wait for them.
    closing: watch::Sender<bool>,
    config: TrailConfig,
}

/// Most records written in one transaction.
const MAX_BATCH: usize = 1024;
/// How often the writer trims the trail to its retention, and most records one trim deletes
/// (one transaction each, so a trim never holds the store for long).
const TRIM_EVERY: Duration = Duration::from_secs(1);
const TRIM_CHUNK: u64 = 2000;

impl Trail {
    /// The trail and the task that writes its queued records and trims it.
    pub fn start(store: Arc<dyn Store>, config: TrailConfig) -> (Arc<Trail>, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let (committed, _) = watch::channel(0);
        let (closing, _) = watch::channel(false);
        let trail = Arc::new(Trail { sender, committed, closing, config });
        let task = tokio::spawn(write(store, Arc::downgrade(&trail), config, receiver));
        (trail, task)
    }

    pub fn config(&self) -> TrailConfig {
        self.config
    }

    /// Queues a call's record; it is stored soon after, in a batch.
    pub fn record(&self, event: Event) {
        // The writer is gone only while ecsd shuts down.
        let _ = self.sender.send(Command::Record(Box::new(event)));
    }

    /// Waits until every record queued so far is stored (before a reset or a restore, which
    /// would otherwise be followed by records of what they removed). Blocks: call it off the
    /// async workers.
    pub fn flush_blocking(&self) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Command::Flush(done)).is_ok() {
            let _ = wait.blocking_recv();
        }
    }

    /// Says that records were committed.
    pub fn committed(&self) {
        self.committed.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// A receiver that changes whenever records are committed.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Ends every stream: ecsd stops.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// A receiver that turns true when ecsd stops.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

/// The writer: takes what is queued (up to a batch), stores it in one transaction, answers the
/// flushes, and now and then trims the trail. It holds the trail only weakly: the trail's sender
/// is in it, and the writer ends when the queue closes, once the last holder is gone.
async fn write(
    store: Arc<dyn Store>,
    trail: std::sync::Weak<Trail>,
    config: TrailConfig,
    mut receiver: mpsc::UnboundedReceiver<Command>,
) {
    let mut trim_ticker = tokio::time::interval(TRIM_EVERY);
    trim_ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            command = receiver.recv() => match command {
                Some(command) => command,
                None => return,
            },
            _ = trim_ticker.tick() => {
                trim(&store, config.retention).await;
                continue;
            }
        };
        let mut events = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Record(event) => events.push(*event),
                Command::Flush(done) => flushes.push(done),
            }
            if events.len() < MAX_BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if !events.is_empty() {
            let store = Arc::clone(&store);
            let written = tokio::task::spawn_blocking(move || transact(store.as_ref(), |tx| tx.append_events(&events)))
                .await
                .unwrap_or_else(|error| Err(crate::domain::Error::internal(error)));
            match written {
                Ok(()) => {
                    if let Some(trail) = trail.upgrade() {
                        trail.committed();
                    }
                }
                Err(error) => tracing::warn!(%error, "could not store call records; they are lost"),
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Deletes what is beyond the retention, a chunk per transaction.
async fn trim(store: &Arc<dyn Store>, retention: Retention) {
    let store = Arc::clone(store);
    let trimmed = tokio::task::spawn_blocking(move || -> Result<u64> {
        let before = Timestamp::now_utc() - retention.max_age;
        let mut total = 0;
        loop {
            let deleted = transact(store.as_ref(), |tx| tx.trim_events(retention.max_events, before, TRIM_CHUNK))?;
            total += deleted;
            if deleted < TRIM_CHUNK {
                return Ok(total);
            }
        }
    })
    .await;
    match trimmed {
        Ok(Ok(0)) => {}
        Ok(Ok(deleted)) => tracing::debug!(deleted, "audit trail trimmed"),
        Ok(Err(error)) => tracing::warn!(%error, "could not trim the audit trail"),
        Err(error) => tracing::warn!(%error, "could not trim the audit trail"),
    }
}
