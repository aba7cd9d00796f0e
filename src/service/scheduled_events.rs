//! Scheduled events: raised from the control API, listed, accepted and moved through the v3
//! API; [`Ecs::fire_due`] runs them.

use super::Ecs;
use super::templates::page_after;
use crate::domain::scheduled_events::{EventState, EventType, ScheduledEvent};
use crate::domain::server::Timestamp;
use crate::domain::{Error, ErrorCode, Result};
use crate::store::{ReadTx, read, transact};

/// How long before its deadline an event raised without one must start.
const DEFAULT_DEADLINE: time::Duration = time::Duration::days(7);
/// When a scheduled event raised without a time runs.
const DEFAULT_NOT_BEFORE: time::Duration = time::Duration::hours(24);

/// An event as the control API raises it.
pub struct NewEvent {
    pub server_id: String,
    pub event_type: EventType,
    /// `Inquiring` (waits for authorisation) or `Scheduled` (runs at `not_before`).
    pub state: EventState,
    pub not_before: Option<Timestamp>,
    pub not_before_deadline: Option<Timestamp>,
    pub description: Option<String>,
}

/// An event as the API shows it: its state follows its job once it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownEvent {
    pub event: ScheduledEvent,
    pub state: EventState,
    pub start_time: Option<Timestamp>,
    pub finish_time: Option<Timestamp>,
}

/// The filters of `ListScheduledEvents`; every one given must match.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub id: Option<String>,
    pub instance_ids: Option<Vec<String>>,
    pub types: Option<Vec<EventType>>,
    pub states: Option<Vec<EventState>>,
    pub publish_since: Option<Timestamp>,
    pub publish_until: Option<Timestamp>,
    pub marker: Option<String>,
    pub limit: usize,
}

fn not_found(id: &str) -> Error {
    Error::new(ErrorCode::ResourceNotFound, format!("The scheduled event {id} could not be found."))
}

fn shown(tx: &mut dyn ReadTx, event: ScheduledEvent) -> Result<ShownEvent> {
    let job = match &event.job_id {
        Some(job_id) => tx.job(&event.project_id, job_id)?,
        None => None,
    };
    Ok(ShownEvent {
        state: event.shown_state(job.as_ref().map(|j| j.status)),
        start_time: job.as_ref().map(|j| j.begin_time),
        finish_time: job.as_ref().and_then(|j| j.end_time),
        event,
    })
}

fn default_description(event_type: EventType) -> String {
    match event_type {
        EventType::InstanceReboot => "The instance will be restarted for host maintenance.",
        EventType::InstanceStop => "The instance will be stopped for host maintenance.",
        EventType::InstanceMigrate => "The instance will be migrated off a host under maintenance.",
        EventType::InstanceRedeploy => "The instance will be redeployed off a faulty host.",
        EventType::LocaldiskRecovery => "A local disk of the instance will be replaced.",
        EventType::SystemMaintenance => "The host of the instance needs system maintenance.",
    }
    .to_string()
}

impl Ecs {
    /// Raises an event for a server of the project (the control API's part of the platform).
    pub fn schedule_event(&self, project_id: &str, new: NewEvent) -> Result<ShownEvent> {
        if !new.event_type.simulated() {
            return Err(Error::invalid(format!(
                "{} events are not simulated: servers have no local disks.",
                new.event_type.as_str()
            )));
        }
        if !matches!(new.state, EventState::Inquiring | EventState::Scheduled) {
            return Err(Error::invalid("A new event is inquiring or scheduled."));
        }
        if let Some(description) = &new.description
            && description.chars().count() > 1024
        {
            return Err(Error::invalid("description must have at most 1024 characters."));
        }
        let event = transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            if tx.server(project_id, &new.server_id)?.is_none() {
                return Err(Error::server_not_found(&new.server_id));
            }
            let deadline = new.not_before_deadline.unwrap_or(now + DEFAULT_DEADLINE);
            let not_before = match new.state {
                EventState::Scheduled => {
                    Some(new.not_before.unwrap_or_else(|| (now + DEFAULT_NOT_BEFORE).min(deadline)))
                }
                _ => new.not_before,
            };
            if deadline < now || not_before.is_some_and(|at| at > deadline) {
                return Err(Error::invalid("not_before_deadline must be in the future and not before not_before."));
            }
            let event = ScheduledEvent {
                id: uuid::Uuid::new_v4().to_string(),
                project_id: project_id.to_string(),
                server_id: new.server_id.clone(),
                event_type: new.event_type,
                state: new.state,
                description: new.description.clone().unwrap_or_else(|| default_description(new.event_type)),
                publish_time: now,
                not_before,
                not_before_deadline: deadline,
                job_id: None,
            };
            tx.put_scheduled_event(&event)?;
            shown(tx, event)
        })?;
        tracing::info!(%project_id, event_id = %event.event.id, kind = event.event.event_type.as_str(), "event raised");
        // One scheduled for now or earlier runs at once.
        self.fire_due()?;
        Ok(event)
    }

    /// `ListScheduledEvents`: the page and the marker of the next one.
    pub fn list_scheduled_events(
        &self,
        project_id: &str,
        filter: &EventFilter,
    ) -> Result<(Vec<ShownEvent>, Option<String>)> {
        let events = read(self.store.as_ref(), |tx| {
            let mut shown_events = Vec::new();
            for event in tx.scheduled_events(project_id)? {
                shown_events.push(shown(tx, event)?);
            }
            Ok(shown_events)
        })?;
        let matching: Vec<ShownEvent> = events
            .into_iter()
            .filter(|e| {
                filter.id.as_ref().is_none_or(|id| *id == e.event.id)
                    && filter.instance_ids.as_ref().is_none_or(|ids| ids.contains(&e.event.server_id))
                    && filter.types.as_ref().is_none_or(|types| types.contains(&e.event.event_type))
                    && filter.states.as_ref().is_none_or(|states| states.contains(&e.state))
                    && filter.publish_since.is_none_or(|since| e.event.publish_time >= since)
                    && filter.publish_until.is_none_or(|until| e.event.publish_time <= until)
            })
            .collect();
        page_after(matching, |e| e.event.id.as_str(), filter.marker.as_deref(), filter.limit)
    }

    /// `AcceptScheduledEvent`: authorises an inquiring event to run at `not_before`, or now.
    pub fn accept_scheduled_event(&self, project_id: &str, id: &str, not_before: Option<Timestamp>) -> Result<()> {
        self.change_event(project_id, id, |event, now| event.accept(not_before, now))
    }

    /// `UpdateScheduledEvent`: moves a scheduled event that has not started.
    pub fn update_scheduled_event(&self, project_id: &str, id: &str, not_before: Timestamp) -> Result<()> {
        self.change_event(project_id, id, |event, now| event.reschedule(not_before, now))
    }

    fn change_event(
        &self,
        project_id: &str,
        id: &str,
        change: impl Fn(&mut ScheduledEvent, Timestamp) -> Result<()>,
    ) -> Result<()> {
        transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let mut event = tx.scheduled_event(project_id, id)?.ok_or_else(|| not_found(id))?;
            change(&mut event, now)?;
            tx.put_scheduled_event(&event)
        })?;
        self.fire_due()?;
        Ok(())
    }
}
