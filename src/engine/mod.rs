//! The job engine: moves every accepted sub-job through its operation's plan, one persisted
//! step at a time, with the timing the compute driver gives. It keeps no state the store does
//! not have: on start it resumes every unfinished sub-job from its last applied step.

pub mod driver;
pub mod sim;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::domain::catalogue::Catalogue;
use crate::domain::job::{self, Failure, JobStatus, SubJob};
use crate::domain::status::Effect;
use crate::domain::{ErrorCode, Result};
use crate::store::{Store, StoreTx, transact};
use driver::ComputeDriver;

/// Most steps applied in one transaction, so a huge batch does not hold the store for long.
const MAX_STEPS_PER_TRANSACTION: usize = 4096;

/// A sub-job that has applied `applied_step` of its plan of `steps` steps and waits for the next.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wakeup {
    pub project_id: String,
    pub sub_job_id: String,
    pub kind: crate::domain::status::OperationKind,
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

/// How the rest of ecsd hands accepted work to the engine.
#[derive(Clone)]
pub struct EngineHandle {
    sender: mpsc::UnboundedSender<Vec<Wakeup>>,
}

impl EngineHandle {
    /// Tells the engine about sub-jobs just committed to the store.
    pub fn wake(&self, wakeups: Vec<Wakeup>) {
        if !wakeups.is_empty() && self.sender.send(wakeups).is_err() {
            // The engine is gone only while ecsd shuts down; the work is stored and resumes
            // at the next start.
            tracing::warn!("job engine stopped; work resumes at next start");
        }
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    catalogue: Arc<Catalogue>,
    driver: Arc<dyn ComputeDriver>,
    clock: Arc<dyn Clock>,
}

type Queue = BinaryHeap<Reverse<(Instant, u64, Wakeup)>>;

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        catalogue: Arc<Catalogue>,
        driver: Arc<dyn ComputeDriver>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Engine { store, catalogue, driver, clock }
    }

    /// Loads the unfinished sub-jobs and starts the engine task.
    pub fn start(self) -> Result<(EngineHandle, tokio::task::JoinHandle<()>)> {
        let unfinished = transact(self.store.as_ref(), |tx| tx.unfinished_sub_jobs())?;
        if !unfinished.is_empty() {
            tracing::info!(sub_jobs = unfinished.len(), "resuming unfinished sub-jobs");
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let resumed: Vec<Wakeup> = unfinished.iter().map(Wakeup::of).collect();
        let task = tokio::spawn(self.run(receiver, resumed));
        Ok((EngineHandle { sender }, task))
    }

    async fn run(self, mut receiver: mpsc::UnboundedReceiver<Vec<Wakeup>>, resumed: Vec<Wakeup>) {
        let engine = Arc::new(self);
        let mut queue = Queue::new();
        let mut sequence = 0u64;
        engine.schedule(&mut queue, &mut sequence, resumed);
        loop {
            let next_due = queue.peek().map(|Reverse((due, _, _))| *due);
            tokio::select! {
                message = receiver.recv() => match message {
                    Some(wakeups) => engine.schedule(&mut queue, &mut sequence, wakeups),
                    None => return,
                },
                _ = sleep_until(next_due) => {}
            }
            while let Ok(wakeups) = receiver.try_recv() {
                engine.schedule(&mut queue, &mut sequence, wakeups);
            }
            let now = Instant::now();
            let mut due = Vec::new();
            while due.len() < MAX_STEPS_PER_TRANSACTION && queue.peek().is_some_and(|Reverse((at, _, _))| *at <= now) {
                if let Some(Reverse((_, _, wakeup))) = queue.pop() {
                    due.push(wakeup);
                }
            }
            if due.is_empty() {
                continue;
            }
            let worker = Arc::clone(&engine);
            match tokio::task::spawn_blocking(move || worker.advance(&due)).await {
                Ok(Ok(next)) => engine.schedule(&mut queue, &mut sequence, next),
                Ok(Err(error)) => {
                    // The transaction rolled back; the steps are still due and are retried
                    // after a pause, so a store that is briefly unavailable loses nothing.
                    tracing::error!(%error, "job engine could not apply steps; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    let retry = transact(engine.store.as_ref(), |tx| tx.unfinished_sub_jobs());
                    queue.clear();
                    if let Ok(unfinished) = retry {
                        engine.schedule(&mut queue, &mut sequence, unfinished.iter().map(Wakeup::of).collect());
                    }
                }
                Err(join_error) => tracing::error!(%join_error, "job engine worker failed"),
            }
        }
    }

    fn schedule(&self, queue: &mut Queue, sequence: &mut u64, wakeups: Vec<Wakeup>) {
        let now = Instant::now();
        for wakeup in wakeups {
            let next = wakeup.applied_step + 1;
            let due = now + self.driver.step_duration(wakeup.kind, next, wakeup.steps);
            *sequence += 1;
            queue.push(Reverse((due, *sequence, wakeup)));
        }
    }

    /// Applies the next step of each due sub-job in one transaction; returns those that wait
    /// for another step.
    fn advance(&self, due: &[Wakeup]) -> Result<Vec<Wakeup>> {
        let now = self.clock.now();
        transact(self.store.as_ref(), |tx| {
            let mut waiting = Vec::with_capacity(due.len());
            let mut touched_jobs = BTreeSet::new();
            for wakeup in due {
                let Some(mut sub) = tx.sub_job(&wakeup.project_id, &wakeup.sub_job_id)? else {
                    continue;
                };
                if sub.status.is_finished() {
                    continue;
                }
                touched_jobs.insert(sub.job_id.clone());
                if let Err(failure) = self.advance_one(tx, &mut sub, now)? {
                    sub.status = JobStatus::Fail;
                    sub.end_time = Some(now);
                    sub.failure = Some(failure);
                    tx.update_sub_job(&sub)?;
                } else if !sub.status.is_finished() {
                    waiting.push(Wakeup::of(&sub));
                }
            }
            for job_id in &touched_jobs {
                let (status, failure) = job::aggregate(tx.sub_job_statuses(job_id)?);
                let end = status.is_finished().then_some(now);
                tx.update_job(job_id, status, end, failure.as_ref())?;
            }
            Ok(waiting)
        })
    }

    /// One step of one sub-job. The outer `Result` is a store failure (the whole transaction
    /// rolls back); the inner one a failure of this sub-job alone.
    fn advance_one(
        &self,
        tx: &mut dyn StoreTx,
        sub: &mut SubJob,
        now: crate::domain::server::Timestamp,
    ) -> Result<Result<(), Failure>> {
        let plan = sub.operation.plan(sub.from);
        let next = sub.step as usize + 1;
        let (Some(previous), Some(step)) = (plan.get(next - 1), plan.get(next)) else {
            return Ok(Err(Failure::of(ErrorCode::Internal, "the sub-job is past the end of its plan")));
        };
        let Some(mut server) = tx.server(&sub.project_id, &sub.server_id)? else {
            return Ok(Err(Failure::of(
                ErrorCode::ServerNotFound,
                format!("Instance[{}] could not be found.", sub.server_id),
            )));
        };
        if step.effect == Effect::Remove {
            tx.delete_server(&server.id)?;
        } else {
            server.enter(step, now);
            let reserved = self.catalogue.reservation(&server.flavor_id, server.resize_target.as_deref());
            if let Err(conflict) = tx.update_server(&server, previous.task_state, reserved) {
                if conflict.code != ErrorCode::ServerBusy {
                    return Err(conflict);
                }
                return Ok(Err(Failure { code: conflict.code.code().into(), reason: conflict.message }));
            }
        }
        sub.step = next as u32;
        if next + 1 == plan.len() {
            sub.status = JobStatus::Success;
            sub.end_time = Some(now);
        } else {
            sub.status = JobStatus::Running;
        }
        tx.update_sub_job(sub)?;
        Ok(Ok(()))
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}
