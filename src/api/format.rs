//! The time formats of the API documents, each defined once.

use time::format_description::FormatItem;
use time::macros::format_description;

use crate::domain::server::Timestamp;

const SERVER_TIME: &[FormatItem<'_>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const LAUNCH_TIME: &[FormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]");
const KEYSTONE_TIME: &[FormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const JOB_TIME: &[FormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

fn format(t: Timestamp, layout: &[FormatItem<'_>]) -> String {
    t.to_offset(time::UtcOffset::UTC).format(layout).unwrap_or_default()
}

/// `2019-05-22T03:19:19Z`: server `created`/`updated`.
pub fn server_time(t: Timestamp) -> String {
    format(t, SERVER_TIME)
}

/// `2019-05-22T03:23:59.000000`: `OS-SRV-USG:launched_at`.
pub fn launch_time(t: Timestamp) -> String {
    format(t, LAUNCH_TIME)
}

/// `2016-04-25T20:04:34.604Z`: job times.
pub fn job_time(t: Timestamp) -> String {
    format(t, JOB_TIME)
}

/// `2016-04-25T20:04:34.604000Z`: Keystone token times.
pub fn keystone_time(t: Timestamp) -> String {
    format(t, KEYSTONE_TIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_use_the_documented_formats() {
        let t = time::macros::datetime!(2016-04-25 20:04:34.604 UTC);
        assert_eq!(server_time(t), "2016-04-25T20:04:34Z");
        assert_eq!(launch_time(t), "2016-04-25T20:04:34.604000");
        assert_eq!(job_time(t), "2016-04-25T20:04:34.604Z");
        assert_eq!(keystone_time(t), "2016-04-25T20:04:34.604000Z");
    }
}
