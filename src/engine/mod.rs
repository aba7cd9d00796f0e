//! The job engine: moves every accepted sub-job through its operation's plan, one persisted
//! step at a time, with the timing the compute driver gives. It keeps no state the store does
//! not have: on start it resumes every unfinished sub-job from its last applied step.
//!
//! Time control: the engine runs on its own virtual time, real time plus what it has been
//! advanced by, so `advance` makes due what would be due later, and `settle` finishes every
//! pending step at once.
//!
//! Several replicas on one store (PostgreSQL): each engine works only on sub-jobs it holds a
//! lease on ([`Store::claim_sub_jobs`]), renews its leases while it works, and looks for work
//! whose lease expired (a replica killed) every [`POLL_EVERY`] and when another replica says
//! so. Each transaction applies a step only to sub-jobs it still holds, and only the step
//! after the one stored: a step is applied once, whoever took the work over.

pub mod apply;
pub mod disks;
pub mod driver;
pub mod sim;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::audit::Trail;
use crate::clock::Clock;
use crate::domain::catalogue::Catalogue;
use crate::domain::events::{Event, status_before};
use crate::domain::faults::{FaultEffect, FaultOperation, LoadedRules, Stage};
use crate::domain::job::{self, Failure, JobStatus, SubJob};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::{Operation, OperationKind};
use crate::domain::{Error, ErrorCode, Result};
use crate::metrics::Metrics;
use crate::store::{Claim, Notice, Store, Take, Topic, WriteTx, read, transact};
use driver::ComputeDriver;

/// Most steps applied in one transaction, so a huge batch does not hold the store for long.
const MAX_STEPS_PER_TRANSACTION: usize = 4096;

/// How long a lease lasts unless renewed: the work of a replica killed with `kill -9` goes on
/// elsewhere after at most this (and [`POLL_EVERY`]).
const LEASE: Duration = Duration::from_secs(5);
/// How often a replica sharing its store renews its leases, reads the shared clock and looks
/// for work without a live lease.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Most sub-jobs one claim takes.
const CLAIM_LIMIT: usize = MAX_STEPS_PER_TRANSACTION;

/// A sub-job that has applied `applied_step` of its plan of `steps` steps and waits for the next.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wakeup {
    pub project_id: String,
    pub sub_job_id: String,
    pub kind: OperationKind,
    pub applied_step: usize,
    pub steps: usize,
}

impl Wakeup {
    pub fn of(sub: &SubJob) -> Self {
        Wakeup {
            project_id: sub.project_id.clone(),
            sub_job_id: sub.id.clone(),
            kind: sub.operation.kind(),
            applied_step: sub.step as usize,
            steps: sub.operation.steps(sub.from),
        }
    }
}

enum Command {
    Wake(Vec<Wakeup>),
    /// Forget the queue and load every unfinished sub-job from the store again.
    Reload,
    /// Apply every pending step (of one project, or of every project), then answer.
    Settle(Option<String>, oneshot::Sender<Result<()>>),
    /// Move virtual time forward, apply what became due, then answer.
    Advance(Duration, oneshot::Sender<Result<()>>),
    /// Another replica sharing the store said something.
    Notice(Notice),
    /// Give the leases up and end (the replica stops), then answer.
    Stop(oneshot::Sender<()>),
}

/// How the rest of ecsd hands work to the engine.
#[derive(Clone)]
pub struct EngineHandle {
    sender: mpsc::UnboundedSender<Command>,
    store: Arc<dyn Store>,
    /// The replica's id when it shares its store with others.
    owner: Option<String>,
}

/// The answer when the engine is gone (only while ecsd shuts down).
fn stopped() -> Error {
    Error::new(ErrorCode::Unavailable, "The job engine has stopped: ecsd is shutting down.")
}

impl EngineHandle {
    fn send(&self, command: Command) {
        if self.sender.send(command).is_err() {
            // The engine is gone only while ecsd shuts down; the work is stored and resumes
            // at the next start.
            tracing::warn!("job engine stopped; work resumes at next start");
        }
    }

    /// Tells the engine about sub-jobs just committed to the store.
    pub fn wake(&self, wakeups: Vec<Wakeup>) {
        if !wakeups.is_empty() {
            self.send(Command::Wake(wakeups));
        }
    }

    /// The store changed under the engine (reset, snapshot restore): start over from it.
    pub fn reload(&self) {
        self.send(Command::Reload);
    }

    /// Finishes every pending transition of `project` (of every project when `None`); held
    /// sub-jobs stay held. Answers once they are applied, or with the store's error when it
    /// cannot take even one step (the engine then keeps retrying on its own).
    pub async fn settle(&self, project: Option<&str>) -> Result<()> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Settle(project.map(String::from), reply));
        done.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Moves time forward and applies every transition that became due.
    pub async fn advance(&self, by: Duration) -> Result<()> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Advance(by, reply));
        done.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Tells the other replicas sharing the store (if any) what changed in it. They would
    /// find out by polling anyway: a notice that cannot be sent is only logged.
    pub fn announce(&self, topic: Topic) {
        if let Some(owner) = &self.owner
            && let Err(error) = self.store.notify(&Notice { topic, from: owner.clone() })
        {
            tracing::warn!(%error, topic = topic.as_str(), "could not tell the other replicas");
        }
    }

    /// On a shared store, stops the engine once the work in hand is committed and gives its
    /// leases up, so the other replicas take its work over at once instead of once the leases
    /// expire. (Alone on its store, the engine is simply dropped: its work resumes at the next
    /// start.)
    pub async fn stop(&self) {
        if self.owner.is_some() {
            let (reply, done) = oneshot::channel();
            self.send(Command::Stop(reply));
            let _ = done.await;
        }
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    catalogue: Arc<Catalogue>,
    driver: Arc<dyn ComputeDriver>,
    clock: Arc<dyn Clock>,
    trail: Arc<Trail>,
    metrics: Arc<Metrics>,
    /// The replica's id, when the store is shared: the owner of its leases.
    owner: Option<String>,
}

/// The timer queue, on virtual time, and how hard the store may be pushed.
struct Queue {
    heap: BinaryHeap<Reverse<(Instant, u64, Wakeup)>>,
    sequence: u64,
    /// How far virtual time is ahead of real time.
    skew: Duration,
    /// Most steps the next transaction takes: halved after one fails (a smaller transaction
    /// may fit where a large one does not, as on a nearly full disk), doubled after one commits.
    steps_per_transaction: usize,
    /// Once a transaction of a single step failed, no step is tried before this (real time).
    paused_until: Option<Instant>,
    /// The pause after the next such failure.
    backoff: Duration,
}

/// The pauses after failed single-step transactions: from the first to the longest.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Queue {
    fn new() -> Self {
        Queue {
            heap: BinaryHeap::new(),
            sequence: 0,
            skew: Duration::ZERO,
            steps_per_transaction: MAX_STEPS_PER_TRANSACTION,
            paused_until: None,
            backoff: FIRST_BACKOFF,
        }
    }

    fn now(&self) -> Instant {
        Instant::now() + self.skew
    }

    /// When the main loop should next try to apply steps (real time).
    fn next_due(&self) -> Option<Instant> {
        let due = self.heap.peek().map(|Reverse((due, _, _))| *due - self.skew)?;
        Some(self.paused_until.map_or(due, |paused| due.max(paused)))
    }

    fn paused(&self) -> bool {
        self.paused_until.is_some_and(|until| Instant::now() < until)
    }

    /// Takes the entries due by `until` (all of them when `None`) that `wanted` picks, at most
    /// one transaction's worth.
    fn take(&mut self, until: Option<Instant>, wanted: impl Fn(&Wakeup) -> bool) -> Vec<Wakeup> {
        let mut due = Vec::new();
        let mut passed = Vec::new();
        while due.len() < self.steps_per_transaction
            && self.heap.peek().is_some_and(|Reverse((at, _, _))| until.is_none_or(|until| *at <= until))
        {
            if let Some(Reverse(entry)) = self.heap.pop() {
                if wanted(&entry.2) { due.push(entry.2) } else { passed.push(Reverse(entry)) }
            }
        }
        self.heap.extend(passed);
        due
    }

    /// Whether a step `wanted` picks is queued.
    fn has(&self, wanted: impl Fn(&Wakeup) -> bool) -> bool {
        self.heap.iter().any(|Reverse((_, _, wakeup))| wanted(wakeup))
    }

    /// The sub-jobs queued, each once.
    fn sub_job_ids(&self) -> HashSet<String> {
        self.heap.iter().map(|Reverse((_, _, wakeup))| wakeup.sub_job_id.clone()).collect()
    }

    fn committed(&mut self) {
        self.steps_per_transaction = (self.steps_per_transaction * 2).min(MAX_STEPS_PER_TRANSACTION);
        self.paused_until = None;
        self.backoff = FIRST_BACKOFF;
    }

    fn failed(&mut self, steps: usize, error: &Error) {
        if self.steps_per_transaction > 1 {
            self.steps_per_transaction = (steps / 2).max(1);
            tracing::warn!(%error, steps, "job engine could not apply steps; retrying with fewer at a time");
        } else {
            tracing::warn!(%error, pause_ms = self.backoff.as_millis() as u64, "job engine could not apply a step; retrying after a pause");
            self.paused_until = Some(Instant::now() + self.backoff);
            self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// Whose pending steps a settle waits for: one project's, or every project's.
fn in_scope(project: Option<&str>) -> impl Fn(&Wakeup) -> bool + '_ {
    move |wakeup| project.is_none_or(|project| wakeup.project_id == project)
}

type Reply = oneshot::Sender<Result<()>>;

impl Engine {
    /// `replica_id` owns the engine's leases when the store is shared with other replicas.
    pub fn new(
        store: Arc<dyn Store>,
        catalogue: Arc<Catalogue>,
        driver: Arc<dyn ComputeDriver>,
        clock: Arc<dyn Clock>,
        trail: Arc<Trail>,
        metrics: Arc<Metrics>,
        replica_id: &str,
    ) -> Self {
        let owner = store.shared().then(|| replica_id.to_string());
        Engine { store, catalogue, driver, clock, trail, metrics, owner }
    }

    /// Starts the engine task, which first resumes the unfinished sub-jobs (on a shared store,
    /// those no live replica holds).
    pub fn start(self) -> Result<(EngineHandle, tokio::task::JoinHandle<()>)> {
        let resumed = self.unfinished(Take::Free)?;
        if !resumed.is_empty() {
            tracing::info!(sub_jobs = resumed.len(), "resuming unfinished sub-jobs");
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        if self.owner.is_some() {
            let notices = sender.clone();
            self.store.listen(Box::new(move |notice| notices.send(Command::Notice(notice)).is_ok()));
        }
        let handle = EngineHandle { sender, store: Arc::clone(&self.store), owner: self.owner.clone() };
        let task = tokio::spawn(Arc::new(self).run(receiver, resumed));
        Ok((handle, task))
    }

    /// Unfinished sub-jobs that are not held by a fault rule; on a shared store, those `take`
    /// claims.
    fn unfinished(&self, take: Take) -> Result<Vec<Wakeup>> {
        if self.owner.is_some() {
            return Ok(self.claim(take, None, None)?.iter().map(Wakeup::of).collect());
        }
        let subs = read(self.store.as_ref(), |tx| tx.unfinished_sub_jobs())?;
        Ok(subs.iter().filter(|s| s.held_by.is_none()).map(Wakeup::of).collect())
    }

    /// Leases sub-jobs to this replica (only when the store is shared).
    fn claim(&self, take: Take, ids: Option<&[String]>, project_id: Option<&str>) -> Result<Vec<SubJob>> {
        let Some(owner) = &self.owner else { return Ok(vec![]) };
        let now_ms = real_ms();
        let limit = ids.map_or(CLAIM_LIMIT, <[String]>::len);
        let until_ms = now_ms + LEASE.as_millis() as i64;
        self.store.claim_sub_jobs(&Claim { owner, now_ms, until_ms, take, ids, project_id, limit })
    }

    /// Runs blocking store work off the runtime's threads.
    async fn blocking<R: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Engine) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let worker = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(&worker)).await.unwrap_or_else(|e| Err(Error::internal(e)))
    }

    async fn reload(self: &Arc<Self>, queue: &mut Queue) {
        queue.heap.clear();
        match self.blocking(|engine| engine.unfinished(Take::FreeOrMine)).await {
            Ok(unfinished) => self.schedule(queue, unfinished),
            Err(error) => tracing::error!(%error, "job engine could not reload"),
        }
    }

    /// Queues sub-jobs just committed. On a shared store they are claimed first, whatever
    /// their lease: the replica that committed them (accepted, released) runs them.
    async fn woken(self: &Arc<Self>, queue: &mut Queue, wakeups: Vec<Wakeup>) {
        if self.owner.is_none() {
            return self.schedule(queue, wakeups);
        }
        let ids: Vec<String> = wakeups.iter().map(|w| w.sub_job_id.clone()).collect();
        match self.blocking(move |engine| engine.claim(Take::Any, Some(&ids), None)).await {
            Ok(claimed) => {
                self.schedule_new(queue, claimed);
            }
            // Unclaimed, the work waits for a poll (of this replica or another).
            Err(error) => tracing::warn!(%error, "job engine could not claim new work"),
        }
    }

    /// Queues claimed sub-jobs that are not queued already.
    fn schedule_new(&self, queue: &mut Queue, claimed: Vec<SubJob>) -> usize {
        let queued = queue.sub_job_ids();
        let new: Vec<Wakeup> = claimed.iter().filter(|s| !queued.contains(&s.id)).map(Wakeup::of).collect();
        let count = new.len();
        self.schedule(queue, new);
        count
    }

    /// Claims what `take` picks (of one project, or of all) and queues what is new; answers
    /// how many.
    async fn take_over(self: &Arc<Self>, queue: &mut Queue, take: Take, project: Option<String>) -> Result<usize> {
        if self.owner.is_none() {
            return Ok(0);
        }
        let claimed = self.blocking(move |engine| engine.claim(take, None, project.as_deref())).await?;
        let count = self.schedule_new(queue, claimed);
        if count > 0 {
            tracing::info!(sub_jobs = count, "took work over");
        }
        Ok(count)
    }

    /// On a shared store, every [`POLL_EVERY`]: renews the leases of the queued work, catches
    /// up with the shared clock and takes over work whose lease expired.
    async fn poll(self: &Arc<Self>, queue: &mut Queue) {
        let Some(owner) = self.owner.clone() else { return };
        let working: Vec<String> = queue.sub_job_ids().into_iter().collect();
        let renewed = self
            .blocking(move |engine| {
                engine.store.renew_leases(&owner, &working, real_ms() + LEASE.as_millis() as i64)?;
                engine.catch_up_clock()
            })
            .await;
        if let Err(error) = renewed {
            tracing::warn!(%error, "job engine could not renew its leases");
        }
        if let Err(error) = self.take_over(queue, Take::Free, None).await {
            tracing::warn!(%error, "job engine could not look for work");
        }
    }

    /// Gives every lease of this replica up and tells the others.
    fn release(&self) -> Result<()> {
        let Some(owner) = &self.owner else { return Ok(()) };
        self.store.renew_leases(owner, &[], 0)?;
        self.store.notify(&Notice { topic: Topic::Work, from: owner.clone() })
    }

    /// Takes in how far another replica moved the shared clock.
    fn catch_up_clock(&self) -> Result<()> {
        let advanced_ms = read(self.store.as_ref(), |tx| tx.clock_advanced_ms())?;
        self.clock.catch_up(advanced_ms);
        Ok(())
    }

    async fn heard(self: &Arc<Self>, queue: &mut Queue, notice: Notice) {
        if self.owner.as_ref() == Some(&notice.from) {
            return;
        }
        match notice.topic {
            Topic::Work => {
                if let Err(error) = self.take_over(queue, Take::Free, None).await {
                    tracing::warn!(%error, "job engine could not look for work");
                }
            }
            Topic::Clock => {
                if let Err(error) = self.blocking(|engine| engine.catch_up_clock()).await {
                    tracing::warn!(%error, "job engine could not read the shared clock");
                }
            }
            Topic::Reload => self.reload(queue).await,
        }
    }

    /// Every command is carried out, and answered only once it has taken effect: a settle
    /// reads what arrives while it runs ([`Engine::settle`]), and the rest waits in the
    /// channel or in `deferred`.
    async fn run(self: Arc<Self>, mut receiver: mpsc::UnboundedReceiver<Command>, resumed: Vec<Wakeup>) {
        let mut queue = Queue::new();
        self.schedule(&mut queue, resumed);
        let mut deferred = VecDeque::new();
        let mut polls = tokio::time::interval(POLL_EVERY);
        polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.metrics.engine_queued(queue.heap.len());
            let command = match deferred.pop_front() {
                Some(command) => Some(command),
                None => tokio::select! {
                    command = receiver.recv() => match command {
                        Some(command) => Some(command),
                        None => return,
                    },
                    _ = sleep_until(queue.next_due()) => None,
                    _ = polls.tick(), if self.owner.is_some() => {
                        self.poll(&mut queue).await;
                        None
                    }
                },
            };
            match command {
                Some(Command::Wake(wakeups)) => self.woken(&mut queue, wakeups).await,
                Some(Command::Reload) => self.reload(&mut queue).await,
                Some(Command::Notice(notice)) => self.heard(&mut queue, notice).await,
                Some(Command::Stop(reply)) => {
                    // After the loop's last claim or step has committed: none can follow the release.
                    if let Err(error) = self.blocking(|engine| engine.release()).await {
                        tracing::warn!(%error, "could not give up the leases; they expire");
                    }
                    let _ = reply.send(());
                    return;
                }
                Some(Command::Settle(project, reply)) => {
                    if self.owner.is_some() {
                        self.settle_shared(&mut queue, &mut receiver, &mut deferred, project, reply).await;
                    } else {
                        self.settle(&mut queue, &mut receiver, &mut deferred, vec![(project, reply)]).await;
                    }
                    continue;
                }
                Some(Command::Advance(by, reply)) => {
                    // Time is one for every replica: the one moving it runs what becomes due.
                    let outcome = match self.take_over(&mut queue, Take::Any, None).await {
                        Ok(_) => self.advance_time(&mut queue, by).await,
                        Err(error) => Err(error),
                    };
                    let _ = reply.send(outcome);
                    continue;
                }
                None => {}
            }
            if !queue.paused() {
                let due = queue.next_due();
                self.metrics
                    .engine_lag(due.map_or(Duration::ZERO, |due| Instant::now().saturating_duration_since(due)));
                // A failure is logged and retried by the queue; nobody waits for this answer.
                let _ = self.apply_due(&mut queue).await;
            }
        }
    }

    /// A settle on a shared store: takes over the pending work of its scope from every
    /// replica, settles it here, and again while more turns up (work another replica was
    /// writing when it was first claimed).
    async fn settle_shared(
        self: &Arc<Self>,
        queue: &mut Queue,
        receiver: &mut mpsc::UnboundedReceiver<Command>,
        deferred: &mut VecDeque<Command>,
        project: Option<String>,
        reply: Reply,
    ) {
        loop {
            let taken = match self.take_over(queue, Take::Any, project.clone()).await {
                Ok(taken) => taken,
                Err(error) => {
                    let _ = reply.send(Err(error));
                    return;
                }
            };
            let (settled, done) = oneshot::channel();
            self.settle(queue, receiver, deferred, vec![(project.clone(), settled)]).await;
            match done.await {
                Ok(Ok(())) if taken > 0 => {}
                Ok(outcome) => {
                    let _ = reply.send(outcome);
                    return;
                }
                Err(_) => {
                    let _ = reply.send(Err(stopped()));
                    return;
                }
            }
        }
    }

    /// Applies every pending step of the waiting settles' projects. Commands that arrive
    /// meanwhile are read between transactions: woken or reloaded sub-jobs are settled too, a
    /// settle joins the wait (and is answered when its own work is done), and an advance waits
    /// in `deferred` until the settles are answered. When the store cannot take even one step,
    /// the settles are answered with its error and the engine retries on its own.
    async fn settle(
        self: &Arc<Self>,
        queue: &mut Queue,
        receiver: &mut mpsc::UnboundedReceiver<Command>,
        deferred: &mut VecDeque<Command>,
        mut waiting: Vec<(Option<String>, Reply)>,
    ) {
        loop {
            while let Ok(command) = receiver.try_recv() {
                match command {
                    Command::Wake(wakeups) => self.woken(queue, wakeups).await,
                    Command::Reload => self.reload(queue).await,
                    Command::Settle(project, reply) => waiting.push((project, reply)),
                    later @ (Command::Advance(..) | Command::Notice(_) | Command::Stop(_)) => deferred.push_back(later),
                }
            }
            let (done, pending): (Vec<_>, Vec<_>) =
                waiting.into_iter().partition(|(project, _)| !queue.has(in_scope(project.as_deref())));
            for (_, reply) in done {
                let _ = reply.send(Ok(()));
            }
            waiting = pending;
            if waiting.is_empty() {
                return;
            }
            let projects: Option<BTreeSet<String>> = waiting.iter().map(|(project, _)| project.clone()).collect();
            let due = queue.take(None, |wakeup| projects.as_ref().is_none_or(|p| p.contains(&wakeup.project_id)));
            if let Err(error) = self.apply(queue, due).await
                && queue.paused()
            {
                for (_, reply) in waiting {
                    let _ = reply.send(Err(error.clone()));
                }
                return;
            }
        }
    }

    /// Moves virtual time forward event by event, so that a step scheduled by an earlier step
    /// within the window is applied too, at its own time. Time moves by `by` in any case; the
    /// error is the store's when it could not take the steps that became due.
    async fn advance_time(self: &Arc<Self>, queue: &mut Queue, by: Duration) -> Result<()> {
        let target = queue.now() + by;
        let mut outcome = Ok(());
        while let Some(Reverse((due, _, _))) = queue.heap.peek() {
            if *due > target {
                break;
            }
            let step = due.saturating_duration_since(queue.now());
            self.skip(queue, step);
            if let Err(error) = self.apply_due(queue).await {
                outcome = Err(error);
                break;
            }
        }
        let rest = target.saturating_duration_since(queue.now());
        self.skip(queue, rest);
        outcome
    }

    /// Jumps virtual time, and the clock timestamps come from, forward.
    fn skip(&self, queue: &mut Queue, by: Duration) {
        queue.skew += by;
        self.clock.advance(by);
    }

    /// Applies every step due by now, including steps that become due while doing so. Fails
    /// only when the store cannot take even one step (the queue then pauses).
    async fn apply_due(self: &Arc<Self>, queue: &mut Queue) -> Result<()> {
        loop {
            let due = queue.take(Some(queue.now()), |_| true);
            if due.is_empty() {
                return Ok(());
            }
            if let Err(error) = self.apply(queue, due).await
                && queue.paused()
            {
                return Err(error);
            }
        }
    }

    /// One transaction of steps. When it fails it rolled back: the steps are queued again,
    /// due at once, and the queue takes fewer at a time or pauses.
    async fn apply(self: &Arc<Self>, queue: &mut Queue, due: Vec<Wakeup>) -> Result<()> {
        if due.is_empty() {
            return Ok(());
        }
        let worker = Arc::clone(self);
        let retry = due.clone();
        let outcome = match tokio::task::spawn_blocking(move || worker.advance(&due)).await {
            Ok(outcome) => outcome,
            Err(join_error) => Err(Error::internal(join_error)),
        };
        match outcome {
            Ok(next) => {
                queue.committed();
                self.schedule(queue, next);
                Ok(())
            }
            Err(error) => {
                queue.failed(retry.len(), &error);
                self.schedule_at(queue, retry, Duration::ZERO);
                Err(error)
            }
        }
    }

    fn schedule(&self, queue: &mut Queue, wakeups: Vec<Wakeup>) {
        for wakeup in wakeups {
            let delay = self.driver.step_duration(wakeup.kind, wakeup.applied_step + 1, wakeup.steps);
            self.schedule_at(queue, vec![wakeup], delay);
        }
    }

    fn schedule_at(&self, queue: &mut Queue, wakeups: Vec<Wakeup>, delay: Duration) {
        let due = queue.now() + delay;
        for wakeup in wakeups {
            queue.sequence += 1;
            queue.heap.push(Reverse((due, queue.sequence, wakeup)));
        }
    }

    /// Applies the next step of each due sub-job in one transaction; returns those that wait
    /// for another step. What finished is logged once the transaction has committed.
    fn advance(&self, due: &[Wakeup]) -> Result<Vec<Wakeup>> {
        let mut finished = Finished::default();
        let waiting = transact(self.store.as_ref(), |tx| {
            finished = Finished::default();
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let origin = crate::audit::origin(now);
            let mut faults = LoadedRules::new(tx.fault_rules()?);
            let mut waiting = Vec::with_capacity(due.len());
            // On a shared store, only work this replica still holds (another may have taken it over).
            let held = match &self.owner {
                Some(owner) => {
                    let ids: Vec<String> = due.iter().map(|w| w.sub_job_id.clone()).collect();
                    Some(tx.leased_to(owner, &ids)?)
                }
                None => None,
            };
            let mut events: Vec<Event> = Vec::new();
            // Per job, a sub-job of it and the (old, new) status of each sub-job that changed.
            let mut touched_jobs: BTreeMap<String, (SubJob, Vec<(JobStatus, JobStatus)>)> = BTreeMap::new();
            for wakeup in due {
                if held.as_ref().is_some_and(|held| !held.contains(&wakeup.sub_job_id)) {
                    continue;
                }
                let Some(mut sub) = tx.sub_job(&wakeup.project_id, &wakeup.sub_job_id)? else { continue };
                if sub.status.is_finished() || sub.held_by.is_some() {
                    continue;
                }
                // A step another replica applied since this one queued the sub-job: wait for
                // the next from where it is (a step is applied once).
                if sub.step as usize != wakeup.applied_step {
                    waiting.push(Wakeup::of(&sub));
                    continue;
                }
                let before = sub.status;
                let fired_before = faults.fired().len();
                match self.advance_one(tx, &mut sub, &mut faults, now)? {
                    Step::Advanced if !sub.status.is_finished() => waiting.push(Wakeup::of(&sub)),
                    Step::Advanced | Step::Held => {}
                    Step::Failed(failure) => {
                        sub.status = JobStatus::Fail;
                        sub.end_time = Some(now);
                        sub.failure = Some(failure);
                        tx.update_sub_job(&sub)?;
                    }
                }
                events.extend(faults.fired()[fired_before..].iter().map(|fired| {
                    let mut event = origin.fault_fired(fired);
                    event.job_id = Some(sub.job_id.clone());
                    event.sub_job_id = Some(sub.id.clone());
                    event
                }));
                let changes = &mut touched_jobs.entry(sub.job_id.clone()).or_insert_with(|| (sub.clone(), vec![])).1;
                if sub.status != before || sub.held_by.is_some() {
                    events.push(origin.sub_job_changed(&sub));
                    changes.push((before, sub.status));
                }
                if sub.status.is_finished() {
                    finished.sub_jobs.push(sub);
                }
            }
            for rule in faults.changed() {
                tx.put_fault_rule(rule)?;
            }
            for (job_id, (sample, changes)) in &touched_jobs {
                let statuses = tx.sub_job_statuses(job_id)?;
                let now_statuses: Vec<JobStatus> = statuses.iter().map(|(status, _)| *status).collect();
                let (status, failure) = job::aggregate(statuses);
                let end = status.is_finished().then_some(now);
                tx.update_job(job_id, status, end, failure.as_ref())?;
                if status_before(&now_statuses, changes) != status {
                    events.push(origin.job_changed(sample, status, failure.as_ref()));
                }
                if status.is_finished() {
                    finished.jobs.push((job_id.clone(), status, failure));
                }
            }
            crate::metrics::note(crate::metrics::Records::Changed, &events);
            tx.append_events(&events)?;
            Ok(waiting)
        })?;
        self.trail.committed();
        finished.log();
        Ok(waiting)
    }

    /// One step of one sub-job. `Err` is a store failure (the whole transaction rolls back).
    fn advance_one(
        &self,
        tx: &mut dyn WriteTx,
        sub: &mut SubJob,
        faults: &mut LoadedRules,
        now: Timestamp,
    ) -> Result<Step> {
        if sub.operation.volume_id().is_some() {
            return disks::advance(tx, &self.catalogue, sub, faults, now);
        }
        let plan = sub.operation.plan(sub.from);
        let next = sub.step as usize + 1;
        let (Some(previous), Some(step)) = (plan.get(next - 1), plan.get(next)) else {
            return Ok(Step::Failed(Failure::of(ErrorCode::Internal, "the sub-job is past the end of its plan")));
        };
        let Some(mut server) = tx.server(&sub.project_id, &sub.server_id)? else {
            let reason = format!("Instance[{}] could not be found.", sub.server_id);
            return Ok(Step::Failed(Failure::of(ErrorCode::ServerNotFound, reason)));
        };
        let operation = FaultOperation::from(sub.operation.kind());
        // Only a sub-job that has not started can be held: a released one goes on.
        if next == 1
            && sub.status == JobStatus::Init
            && let Some((rule_id, FaultEffect::Hang)) =
                faults.fire(Stage::JobStart, operation, &sub.project_id, Some(&server))
        {
            sub.held_by = Some(rule_id);
            sub.status = JobStatus::Running;
            tx.update_sub_job(sub)?;
            return Ok(Step::Held);
        }
        if next + 1 == plan.len()
            && let Some((_, effect)) = faults.fire(Stage::JobEnd, operation, &sub.project_id, Some(&server))
            && let Some((code, reason)) = effect.failure()
        {
            self.roll_back(tx, &mut server, sub, previous.task_state, now)?;
            return Ok(Step::Failed(Failure { code: code.to_string(), reason }));
        }
        if let Err(conflict) = apply::enter(tx, &self.catalogue, &mut server, step, previous.task_state, now) {
            if conflict.code != ErrorCode::ServerBusy {
                return Err(conflict);
            }
            return Ok(Step::Failed(Failure { code: conflict.code.code().into(), reason: conflict.message }));
        }
        sub.step = next as u32;
        if next + 1 == plan.len() {
            if apply::finish_nics(tx, &sub.operation, &mut server)? {
                apply::save(tx, &self.catalogue, &server, server.task_state)?;
            }
            sub.status = JobStatus::Success;
            sub.end_time = Some(now);
        } else {
            sub.status = JobStatus::Running;
        }
        tx.update_sub_job(sub)?;
        Ok(Step::Advanced)
    }

    /// A failed operation leaves the server as it was before it (a failed create removes the
    /// server, as the v1 API rolls back).
    fn roll_back(
        &self,
        tx: &mut dyn WriteTx,
        server: &mut Server,
        sub: &SubJob,
        current_task: Option<crate::domain::status::TaskState>,
        now: Timestamp,
    ) -> Result<()> {
        if sub.operation == Operation::Create {
            disks::release(tx, server, true, now)?;
            apply::release_nics(tx, server)?;
            return tx.delete_server(&server.id);
        }
        apply::undo_nics(tx, &sub.operation, server)?;
        server.vm_state = sub.from;
        server.task_state = None;
        server.resize_target = None;
        if matches!(sub.operation, Operation::Resize { .. }) {
            server.resize_revert = None;
        }
        server.rebuild = None;
        if let Some(host) = server.previous_host.take() {
            server.host = Some(host);
        }
        server.updated = now;
        apply::save(tx, &self.catalogue, server, current_task)
    }
}

/// The sub-jobs and jobs one transaction finished, for the log.
#[derive(Default)]
struct Finished {
    sub_jobs: Vec<SubJob>,
    jobs: Vec<(String, JobStatus, Option<Failure>)>,
}

impl Finished {
    fn log(&self) {
        for sub in &self.sub_jobs {
            let failure = sub.failure.as_ref();
            tracing::info!(
                project_id = %sub.project_id,
                job_id = %sub.job_id,
                sub_job_id = %sub.id,
                server_id = %sub.server_id,
                job_type = sub.operation.kind().job_types().1,
                status = sub.status.as_str(),
                error_code = failure.map(|f| f.code.as_str()),
                reason = failure.map(|f| f.reason.as_str()),
                "sub-job done"
            );
        }
        for (job_id, status, failure) in &self.jobs {
            tracing::info!(
                %job_id,
                status = status.as_str(),
                error_code = failure.as_ref().map(|f| f.code.as_str()),
                "job done"
            );
        }
    }
}

enum Step {
    Advanced,
    Held,
    Failed(Failure),
}

/// Real time in ms since the epoch, which leases are on (the replicas' clocks agree far
/// better than [`LEASE`]).
fn real_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}
