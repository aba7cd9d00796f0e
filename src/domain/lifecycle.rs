//! The life of a server outside its jobs: what happened to it that no job records (password
//! resets, kernel dumps, console and monitoring settings), and its scheduled deletion.

use serde::{Deserialize, Serialize};
use time::format_description::FormatItem;
use time::macros::format_description;

use super::errors::{Error, Result};
use super::server::Timestamp;

/// Something that happened to a server at once, without a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerEventKind {
    /// A password reset was recorded; it takes effect at the next boot.
    PasswordReset,
    /// A kernel dump was triggered (NMI): the guest panics, dumps and reboots.
    CrashDump,
    SerialConsoleEnabled,
    SerialConsoleDisabled,
    MonitorRegistered,
}

impl ServerEventKind {
    pub const ALL: [ServerEventKind; 5] = [
        ServerEventKind::PasswordReset,
        ServerEventKind::CrashDump,
        ServerEventKind::SerialConsoleEnabled,
        ServerEventKind::SerialConsoleDisabled,
        ServerEventKind::MonitorRegistered,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ServerEventKind::PasswordReset => "password_reset",
            ServerEventKind::CrashDump => "crash_dump",
            ServerEventKind::SerialConsoleEnabled => "serial_console_enabled",
            ServerEventKind::SerialConsoleDisabled => "serial_console_disabled",
            ServerEventKind::MonitorRegistered => "monitor_registered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEvent {
    pub project_id: String,
    pub server_id: String,
    pub at: Timestamp,
    pub kind: ServerEventKind,
}

/// Whether serial-console login is on: the last switch decides; it is off until switched on.
pub fn serial_console_enabled(events: &[ServerEvent]) -> bool {
    events
        .iter()
        .rev()
        .find_map(|e| match e.kind {
            ServerEventKind::SerialConsoleEnabled => Some(true),
            ServerEventKind::SerialConsoleDisabled => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

/// A scheduled deletion: pending until the clock reaches `at`, then the id of its delete job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoTermination {
    pub project_id: String,
    pub server_id: String,
    pub at: Timestamp,
    pub job_id: Option<String>,
}

const UTC_TIME: &[FormatItem<'_>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// A time in the API's `yyyy-MM-ddTHH:mm:ssZ` form (UTC).
pub fn parse_utc_time(text: &str) -> Option<Timestamp> {
    time::PrimitiveDateTime::parse(text, UTC_TIME).ok().map(|t| t.assume_utc())
}

/// How far ahead a scheduled deletion must be, and may be.
pub const MIN_AUTO_TERMINATE_AHEAD: time::Duration = time::Duration::minutes(30);
pub const MAX_AUTO_TERMINATE_AHEAD_DAYS: i64 = 3 * 365;

/// The deletion time `UpdateServerAutoTerminateTime` asks for: `None` cancels (an empty
/// string, as the docs say, or null). Seconds are dropped (the docs: a time whose seconds are
/// not 00 is set to its minute); it must be at least half an hour and at most three years ahead.
pub fn auto_terminate_time(text: Option<&str>, now: Timestamp) -> Result<Option<Timestamp>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else { return Ok(None) };
    let at = parse_utc_time(text).ok_or_else(|| {
        Error::invalid(format!("auto_terminate_time {text:?} is not a time like 2024-06-01T12:00:00Z (UTC)."))
    })?;
    let at = at.replace_second(0).unwrap_or(at);
    if at < now + MIN_AUTO_TERMINATE_AHEAD {
        return Err(Error::invalid("auto_terminate_time must be at least half an hour later than now."));
    }
    if at > now + time::Duration::days(MAX_AUTO_TERMINATE_AHEAD_DAYS) {
        return Err(Error::invalid("auto_terminate_time must be at most three years later than now."));
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2024-06-01 12:00:00 UTC);

    #[test]
    fn an_empty_or_null_time_cancels_and_seconds_are_dropped() {
        assert_eq!(auto_terminate_time(None, NOW), Ok(None));
        assert_eq!(auto_terminate_time(Some(""), NOW), Ok(None));
        assert_eq!(auto_terminate_time(Some("2024-06-01T13:05:42Z"), NOW), Ok(Some(datetime!(2024-06-01 13:05 UTC))));
    }

    #[test]
    fn a_deletion_time_is_half_an_hour_to_three_years_ahead() {
        assert!(auto_terminate_time(Some("2024-06-01T12:29:00Z"), NOW).is_err());
        assert!(auto_terminate_time(Some("2024-06-01T12:30:00Z"), NOW).is_ok());
        assert!(auto_terminate_time(Some("2027-06-01T12:00:00Z"), NOW).is_ok());
        assert!(auto_terminate_time(Some("2027-06-02T12:00:00Z"), NOW).is_err());
        assert!(auto_terminate_time(Some("tomorrow"), NOW).is_err());
        assert!(auto_terminate_time(Some("2024-06-01 13:00:00"), NOW).is_err());
    }

    #[test]
    fn the_last_switch_decides_whether_the_serial_console_is_on() {
        let event = |kind| ServerEvent { project_id: "p".into(), server_id: "s".into(), at: NOW, kind };
        assert!(!serial_console_enabled(&[]));
        assert!(serial_console_enabled(&[event(ServerEventKind::SerialConsoleEnabled)]));
        let off = [
            event(ServerEventKind::SerialConsoleEnabled),
            event(ServerEventKind::CrashDump),
            event(ServerEventKind::SerialConsoleDisabled),
        ];
        assert!(!serial_console_enabled(&off));
        for kind in ServerEventKind::ALL {
            assert_eq!(ServerEventKind::parse(kind.as_str()), Some(kind));
        }
    }
}
