//! The job engine: moves every accepted sub-job through its operation's plan, one persisted
//! step at a time, with the timing the compute driver gives. It keeps no state the store does
//! not have: on start it resumes every unfinished sub-job from its last applied step.
//!
//! Time control: the engine runs on its own virtual time, real time plus what it has been
//! advanced by, so `advance` makes due what would be due later, and `settle` finishes every
//! pending step at once.

pub mod apply;
pub mod driver;
pub mod sim;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::domain::catalogue::Catalogue;
use crate::domain::faults::{FaultEffect, FaultOperation, LoadedRules, Stage};
use crate::domain::job::{self, Failure, JobStatus, SubJob};
use crate::domain::server::{Server, Timestamp};
use crate::domain::status::{Operation, OperationKind};
use crate::domain::{ErrorCode, Result};
use crate::store::{Store, WriteTx, transact};
use driver::ComputeDriver;

/// Most steps applied in one transaction, so a huge batch does not hold the store for long.
const MAX_STEPS_PER_TRANSACTION: usize = 4096;

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
            steps: sub.operation.plan(sub.from).len(),
        }
    }
}

enum Command {
    Wake(Vec<Wakeup>),
    /// Forget the queue and load every unfinished sub-job from the store again.
    Reload,
    /// Apply every pending step now, then answer.
    Settle(oneshot::Sender<()>),
    /// Move virtual time forward, apply what became due, then answer.
    Advance(Duration, oneshot::Sender<()>),
}

/// How the rest of ecsd hands work to the engine.
#[derive(Clone)]
pub struct EngineHandle {
    sender: mpsc::UnboundedSender<Command>,
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

    /// Finishes every pending transition (held sub-jobs stay held).
    pub async fn settle(&self) {
        let (reply, done) = oneshot::channel();
        self.send(Command::Settle(reply));
        let _ = done.await;
    }

    /// Moves time forward and applies every transition that became due.
    pub async fn advance(&self, by: Duration) {
        let (reply, done) = oneshot::channel();
        self.send(Command::Advance(by, reply));
        let _ = done.await;
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    catalogue: Arc<Catalogue>,
    driver: Arc<dyn ComputeDriver>,
    clock: Arc<dyn Clock>,
}

/// The timer queue, on virtual time.
struct Queue {
    heap: BinaryHeap<Reverse<(Instant, u64, Wakeup)>>,
    sequence: u64,
    /// How far virtual time is ahead of real time.
    skew: Duration,
}

impl Queue {
    fn now(&self) -> Instant {
        Instant::now() + self.skew
    }

    fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((due, _, _))| *due - self.skew)
    }

    /// Takes the entries due by `until` (all of them when `None`), at most one transaction's worth.
    fn take_due(&mut self, until: Option<Instant>) -> Vec<Wakeup> {
        let mut due = Vec::new();
        while due.len() < MAX_STEPS_PER_TRANSACTION
            && self.heap.peek().is_some_and(|Reverse((at, _, _))| until.is_none_or(|until| *at <= until))
        {
            if let Some(Reverse((_, _, wakeup))) = self.heap.pop() {
                due.push(wakeup);
            }
        }
        due
    }
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        catalogue: Arc<Catalogue>,
        driver: Arc<dyn ComputeDriver>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Engine { store, catalogue, driver, clock }
    }

    /// Starts the engine task, which first resumes the unfinished sub-jobs.
    pub fn start(self) -> Result<(EngineHandle, tokio::task::JoinHandle<()>)> {
        let resumed = self.unfinished()?;
        if !resumed.is_empty() {
            tracing::info!(sub_jobs = resumed.len(), "resuming unfinished sub-jobs");
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(Arc::new(self).run(receiver, resumed));
        Ok((EngineHandle { sender }, task))
    }

    /// Unfinished sub-jobs that are not held by a fault rule.
    fn unfinished(&self) -> Result<Vec<Wakeup>> {
        let subs = transact(self.store.as_ref(), |tx| tx.unfinished_sub_jobs())?;
        Ok(subs.iter().filter(|s| s.held_by.is_none()).map(Wakeup::of).collect())
    }

    async fn run(self: Arc<Self>, mut receiver: mpsc::UnboundedReceiver<Command>, resumed: Vec<Wakeup>) {
        let mut queue = Queue { heap: BinaryHeap::new(), sequence: 0, skew: Duration::ZERO };
        self.schedule(&mut queue, resumed);
        loop {
            let command = tokio::select! {
                command = receiver.recv() => match command {
                    Some(command) => Some(command),
                    None => return,
                },
                _ = sleep_until(queue.next_due()) => None,
            };
            match command {
                Some(Command::Wake(wakeups)) => self.schedule(&mut queue, wakeups),
                Some(Command::Reload) => {
                    queue.heap.clear();
                    match self.unfinished() {
                        Ok(unfinished) => self.schedule(&mut queue, unfinished),
                        Err(error) => tracing::error!(%error, "job engine could not reload"),
                    }
                }
                Some(Command::Settle(reply)) => {
                    while !queue.heap.is_empty() {
                        while let Ok(Command::Wake(wakeups)) = receiver.try_recv() {
                            self.schedule(&mut queue, wakeups);
                        }
                        let due = queue.take_due(None);
                        self.apply(&mut queue, due).await;
                    }
                    let _ = reply.send(());
                    continue;
                }
                Some(Command::Advance(by, reply)) => {
                    self.advance_time(&mut queue, by).await;
                    let _ = reply.send(());
                    continue;
                }
                None => {}
            }
            self.apply_due(&mut queue).await;
        }
    }

    /// Moves virtual time forward event by event, so that a step scheduled by an earlier step
    /// within the window is applied too, at its own time.
    async fn advance_time(self: &Arc<Self>, queue: &mut Queue, by: Duration) {
        let target = queue.now() + by;
        while let Some(Reverse((due, _, _))) = queue.heap.peek() {
            if *due > target {
                break;
            }
            let step = due.saturating_duration_since(queue.now());
            self.skip(queue, step);
            self.apply_due(queue).await;
        }
        let rest = target.saturating_duration_since(queue.now());
        self.skip(queue, rest);
    }

    /// Jumps virtual time, and the clock timestamps come from, forward.
    fn skip(&self, queue: &mut Queue, by: Duration) {
        queue.skew += by;
        self.clock.advance(by);
    }

    /// Applies every step due by now, including steps that become due while doing so.
    async fn apply_due(self: &Arc<Self>, queue: &mut Queue) {
        loop {
            let due = queue.take_due(Some(queue.now()));
            if due.is_empty() {
                return;
            }
            self.apply(queue, due).await;
        }
    }

    async fn apply(self: &Arc<Self>, queue: &mut Queue, due: Vec<Wakeup>) {
        if due.is_empty() {
            return;
        }
        let worker = Arc::clone(self);
        let retry = due.clone();
        match tokio::task::spawn_blocking(move || worker.advance(&due)).await {
            Ok(Ok(next)) => self.schedule(queue, next),
            Ok(Err(error)) => {
                // The transaction rolled back; the steps are still due and are retried after a
                // pause, so a store that is briefly unavailable loses nothing.
                tracing::error!(%error, "job engine could not apply steps; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                self.schedule_at(queue, retry, Duration::ZERO);
            }
            Err(join_error) => tracing::error!(%join_error, "job engine worker failed"),
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
    /// for another step.
    fn advance(&self, due: &[Wakeup]) -> Result<Vec<Wakeup>> {
        transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let mut faults = LoadedRules::new(tx.fault_rules()?);
            let mut waiting = Vec::with_capacity(due.len());
            let mut touched_jobs = BTreeSet::new();
            for wakeup in due {
                let Some(mut sub) = tx.sub_job(&wakeup.project_id, &wakeup.sub_job_id)? else { continue };
                if sub.status.is_finished() || sub.held_by.is_some() {
                    continue;
                }
                touched_jobs.insert(sub.job_id.clone());
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
            }
            for rule in faults.changed() {
                tx.put_fault_rule(rule)?;
            }
            for job_id in &touched_jobs {
                let (status, failure) = job::aggregate(tx.sub_job_statuses(job_id)?);
                let end = status.is_finished().then_some(now);
                tx.update_job(job_id, status, end, failure.as_ref())?;
            }
            Ok(waiting)
        })
    }

    /// One step of one sub-job. `Err` is a store failure (the whole transaction rolls back).
    fn advance_one(
        &self,
        tx: &mut dyn WriteTx,
        sub: &mut SubJob,
        faults: &mut LoadedRules,
        now: Timestamp,
    ) -> Result<Step> {
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
            return tx.delete_server(&server.id);
        }
        server.vm_state = sub.from;
        server.task_state = None;
        server.resize_target = None;
        server.updated = now;
        apply::save(tx, &self.catalogue, server, current_task)
    }
}

enum Step {
    Advanced,
    Held,
    Failed(Failure),
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}
