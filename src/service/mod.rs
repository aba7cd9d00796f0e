//! The use cases of the ECS API, named after the SDK's operations. Each composes the pure
//! rules of `domain` with one store transaction, then hands accepted work to the engine.

mod batch;
mod consoles;
mod control;
mod events;
mod groups;
mod keypairs;
mod lifecycle;
mod maintenance;
mod metadata;
mod network;
mod nics;
mod openstack;
mod placement;
mod reads;
mod rebuild;
mod recycle_bin;
mod scheduled_events;
mod servers;
mod tags;
mod templates;
mod volumes;

use std::sync::Arc;

use crate::audit::Trail;
use crate::clock::Clock;
use crate::domain::Result;
use crate::domain::catalogue::Catalogue;
use crate::domain::job::{Job, JobStatus};
use crate::engine::EngineHandle;
use crate::metrics::Metrics;
use crate::store::{Store, read};

pub use batch::{BatchAction, ResizeRequest};
pub use consoles::ConsoleProtocol;
pub use control::{FixtureServer, FixtureServerGroup, FixtureStatus, Fixtures, Reach, RequestFault};
pub use lifecycle::{ChargeModeAccepted, ChargeModeChange, run_timers};
pub use network::{NewPort, NewRule, NewSecurityGroup, PortUpdate, SecurityGroupUpdate};
pub use nics::NewNic;
pub use scheduled_events::{EventFilter, NewEvent, ShownEvent};
pub use servers::{ClientToken, CreateAccepted, ServerUpdate};
pub use templates::{NewTemplate, TemplateFilter, VersionFilter};
pub use volumes::{VolumeUpdate, VolumesAccepted};

pub struct Ecs {
    store: Arc<dyn Store>,
    catalogue: Arc<Catalogue>,
    engine: EngineHandle,
    clock: Arc<dyn Clock>,
    trail: Arc<Trail>,
    metrics: Arc<Metrics>,
}

impl Ecs {
    pub fn new(
        store: Arc<dyn Store>,
        catalogue: Arc<Catalogue>,
        engine: EngineHandle,
        clock: Arc<dyn Clock>,
        trail: Arc<Trail>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Ecs { store, catalogue, engine, clock, trail, metrics }
    }

    /// The audit trail: call records go there, streams wait on it.
    pub fn trail(&self) -> &Trail {
        &self.trail
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The metrics' exposition, with the fleet counted now. They count every project's work, so
    /// a project's own key may not read them (the `--metrics-listen` address serves anyone).
    pub fn render_metrics(&self, reach: &Reach) -> Result<String> {
        if let Reach::Project(_) = reach {
            return Err(crate::domain::Error::of(crate::domain::ErrorCode::NotAdmin));
        }
        let fleet = read(self.store.as_ref(), |tx| tx.fleet_by_status())?;
        Ok(self.metrics.render(&fleet))
    }

    /// What servers are built from: flavors, images, networks, zones, quota.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The simulated time.
    pub fn now(&self) -> crate::domain::server::Timestamp {
        self.clock.now()
    }

    pub fn project_exists(&self, project_id: &str) -> Result<bool> {
        read(self.store.as_ref(), |tx| tx.project_exists(project_id))
    }

    /// A job, or a sub-job asked for by its own id (shown as a job on one server).
    pub fn show_job(&self, project_id: &str, job_id: &str) -> Result<Option<Job>> {
        read(self.store.as_ref(), |tx| {
            if let Some(job) = tx.job(project_id, job_id)? {
                return Ok(Some(job));
            }
            Ok(tx.sub_job(project_id, job_id)?.map(|sub| Job {
                id: sub.id.clone(),
                project_id: sub.project_id.clone(),
                kind: sub.operation.kind(),
                status: sub.status,
                begin_time: sub.begin_time,
                end_time: sub.end_time,
                failure: sub.failure.clone(),
                single_server: true,
                sub_jobs: vec![sub],
            }))
        })
    }

    pub fn show_server_limits(&self, project_id: &str) -> Result<crate::domain::catalogue::Usage> {
        read(self.store.as_ref(), |tx| tx.usage(project_id))
    }
}

/// The parent status of a job whose sub-jobs were just planned.
fn initial_status(job: &Job) -> (JobStatus, Option<crate::domain::job::Failure>) {
    crate::domain::job::aggregate(job.sub_jobs.iter().map(|s| (s.status, s.failure.clone())))
}
