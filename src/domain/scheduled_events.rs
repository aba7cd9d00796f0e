//! Scheduled events (v3 `instance-scheduled-events`): maintenance the platform announces for a
//! server. ecsd raises them from its control API; accepting one (or reaching its planned time)
//! runs its action as a job, and the event's state follows that job.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::{Error, Result};
use super::job::JobStatus;
use super::server::Timestamp;
use super::status::{Operation, VmState};

/// The event types of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    InstanceReboot,
    InstanceStop,
    InstanceMigrate,
    InstanceRedeploy,
    LocaldiskRecovery,
    SystemMaintenance,
}

impl EventType {
    pub const ALL: [EventType; 6] = [
        EventType::InstanceReboot,
        EventType::InstanceStop,
        EventType::InstanceMigrate,
        EventType::InstanceRedeploy,
        EventType::LocaldiskRecovery,
        EventType::SystemMaintenance,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::InstanceReboot => "instance-reboot",
            EventType::InstanceStop => "instance-stop",
            EventType::InstanceMigrate => "instance-migrate",
            EventType::InstanceRedeploy => "instance-redeploy",
            EventType::LocaldiskRecovery => "localdisk-recovery",
            EventType::SystemMaintenance => "system-maintenance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether ecsd can run the event at all.
    pub fn simulated(self) -> bool {
        self != EventType::LocaldiskRecovery
    }

    /// The operation the event runs on a server now in `vm_state`: a migration moves it to
    /// another host (live while it runs, cold when stopped), a redeploy stops, moves and starts
    /// a running one. Servers have no local disks to replace.
    pub fn operation(self, vm_state: VmState) -> Option<Operation> {
        match self {
            EventType::InstanceReboot | EventType::SystemMaintenance => Some(Operation::Reboot { hard: false }),
            EventType::InstanceStop => Some(Operation::Stop { hard: false }),
            EventType::InstanceMigrate => Some(Operation::Migrate { live: vm_state == VmState::Active }),
            EventType::InstanceRedeploy => Some(Operation::Redeploy),
            EventType::LocaldiskRecovery => None,
        }
    }
}

/// An event's state as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Waits for the user's authorisation (`AcceptScheduledEvent`).
    Inquiring,
    /// Runs at `not_before`.
    Scheduled,
    Executing,
    Completed,
    Failed,
    Canceled,
}

impl EventState {
    pub const ALL: [EventState; 6] = [
        EventState::Inquiring,
        EventState::Scheduled,
        EventState::Executing,
        EventState::Completed,
        EventState::Failed,
        EventState::Canceled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventState::Inquiring => "inquiring",
            EventState::Scheduled => "scheduled",
            EventState::Executing => "executing",
            EventState::Completed => "completed",
            EventState::Failed => "failed",
            EventState::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// How long the platform plans to take once an event starts (`not_after - not_before`).
pub const EXECUTION_WINDOW: time::Duration = time::Duration::hours(2);

/// An event as stored. `state` is the stored one (inquiring, scheduled, canceled); once the
/// event's job exists, what it shows follows the job ([`ScheduledEvent::shown_state`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledEvent {
    pub id: String,
    pub project_id: String,
    pub server_id: String,
    pub event_type: EventType,
    pub state: EventState,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub publish_time: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_before: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before_deadline: Timestamp,
    /// The job that carries the event out, once it has started.
    pub job_id: Option<String>,
}

impl ScheduledEvent {
    /// The time the event is due to run, while it waits for it.
    pub fn due(&self) -> Option<Timestamp> {
        match (self.state, &self.job_id) {
            (EventState::Scheduled, None) => self.not_before,
            _ => None,
        }
    }

    /// The end of the window the event is planned to run in, once it has a start.
    pub fn not_after(&self) -> Option<Timestamp> {
        // Checked: a not_before at the end of the calendar has no window after it.
        self.not_before.and_then(|at| at.checked_add(EXECUTION_WINDOW))
    }

    /// What the API shows, given the status of the event's job (if it has one).
    pub fn shown_state(&self, job: Option<JobStatus>) -> EventState {
        match job {
            Some(JobStatus::Init | JobStatus::Running) => EventState::Executing,
            Some(JobStatus::Success) => EventState::Completed,
            Some(JobStatus::Fail) => EventState::Failed,
            None if self.job_id.is_some() => EventState::Failed,
            None => self.state,
        }
    }

    /// `AcceptScheduledEvent`: an inquiring event is authorised to run at `not_before`, or at
    /// once when absent; the time may not pass the deadline.
    pub fn accept(&mut self, not_before: Option<Timestamp>, now: Timestamp) -> Result<()> {
        if self.state != EventState::Inquiring || self.job_id.is_some() {
            return Err(Error::invalid(format!(
                "The event {} is not waiting for authorisation; only an inquiring event can be accepted.",
                self.id
            )));
        }
        let at = not_before.unwrap_or(now).max(now);
        self.check_deadline(at)?;
        self.state = EventState::Scheduled;
        self.not_before = Some(at);
        Ok(())
    }

    /// `UpdateScheduledEvent`: a scheduled event that has not started moves to `not_before`,
    /// which must be before the deadline and not in the past.
    pub fn reschedule(&mut self, not_before: Timestamp, now: Timestamp) -> Result<()> {
        if self.due().is_none() {
            return Err(Error::invalid(format!(
                "The event {} is not scheduled and waiting; only such an event can be moved.",
                self.id
            )));
        }
        if not_before < now {
            return Err(Error::invalid("not_before must not be in the past."));
        }
        self.check_deadline(not_before)?;
        self.not_before = Some(not_before);
        Ok(())
    }

    fn check_deadline(&self, at: Timestamp) -> Result<()> {
        if at > self.not_before_deadline {
            return Err(Error::invalid("not_before must be earlier than the event's not_before_deadline."));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2024-06-01 12:00:00 UTC);

    fn event(state: EventState) -> ScheduledEvent {
        ScheduledEvent {
            id: "e".into(),
            project_id: "p".into(),
            server_id: "s".into(),
            event_type: EventType::InstanceRedeploy,
            state,
            description: String::new(),
            publish_time: NOW,
            not_before: None,
            not_before_deadline: NOW + time::Duration::days(7),
            job_id: None,
        }
    }

    #[test]
    fn accepting_schedules_an_inquiring_event_within_its_deadline() {
        let mut e = event(EventState::Inquiring);
        assert!(e.accept(Some(NOW + time::Duration::days(8)), NOW).is_err());
        e.accept(None, NOW).expect("accepted");
        assert_eq!((e.state, e.due()), (EventState::Scheduled, Some(NOW)));
        assert!(e.accept(None, NOW).is_err(), "only once");
    }

    #[test]
    fn only_a_waiting_scheduled_event_moves_and_never_into_the_past() {
        let mut e = event(EventState::Inquiring);
        assert!(e.reschedule(NOW, NOW).is_err());
        let mut s = event(EventState::Scheduled);
        s.not_before = Some(NOW + time::Duration::hours(1));
        assert!(s.reschedule(NOW - time::Duration::minutes(1), NOW).is_err());
        s.reschedule(NOW + time::Duration::hours(3), NOW).expect("moved");
        assert_eq!(s.due(), Some(NOW + time::Duration::hours(3)));
        s.job_id = Some("j".into());
        assert!(s.reschedule(NOW + time::Duration::hours(4), NOW).is_err());
        e.state = EventState::Canceled;
        assert_eq!(e.due(), None);
    }

    #[test]
    fn the_shown_state_follows_the_job() {
        let mut e = event(EventState::Scheduled);
        assert_eq!(e.shown_state(None), EventState::Scheduled);
        e.not_before = Some(time::macros::datetime!(9999-12-31 23:00 UTC));
        assert_eq!(e.not_after(), None, "no window past the end of the calendar");
        e.job_id = Some("j".into());
        assert_eq!(e.shown_state(Some(JobStatus::Running)), EventState::Executing);
        assert_eq!(e.shown_state(Some(JobStatus::Success)), EventState::Completed);
        assert_eq!(e.shown_state(Some(JobStatus::Fail)), EventState::Failed);
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        for s in EventState::ALL {
            assert_eq!(EventState::parse(s.as_str()), Some(s));
        }
    }
}
