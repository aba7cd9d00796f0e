//! The console log of a simulated guest, told from the server's history: every boot, shutdown,
//! password reset taken up at boot and kernel dump leaves its lines, at the time it happened.

use time::format_description::FormatItem;
use time::macros::format_description;

use super::job::{JobStatus, SubJob};
use super::lifecycle::{ServerEvent, ServerEventKind};
use super::server::{Server, Timestamp};
use super::status::{Operation, VmState};

/// How many lines `ShowServerConsoleOutput` answers when `length` is not given.
pub const DEFAULT_LENGTH: i64 = 50;

/// One thing in a server's history that shows on its console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Happening {
    /// The guest boots; `first` on the server's very first boot.
    Boot { first: bool },
    /// The guest shuts down; `reboot` when it comes back at once.
    Shutdown { reboot: bool },
    /// The guest panics on an NMI and writes a kernel dump.
    Panic,
    /// A recorded password reset, taken up at the next boot.
    PasswordReset,
    /// A new system disk: the next boot is the first of a new guest.
    Reinstall,
}

/// What the console shows of a finished sub-job, at its end: a failed or unfinished one left
/// the guest as it was.
fn of_sub_job(sub: &SubJob) -> Vec<Happening> {
    if sub.status != JobStatus::Success {
        return vec![];
    }
    match &sub.operation {
        Operation::Create => vec![Happening::Boot { first: true }],
        Operation::Start => vec![Happening::Boot { first: false }],
        Operation::Stop { .. } => vec![Happening::Shutdown { reboot: false }],
        Operation::Reboot { hard: false } => {
            vec![Happening::Shutdown { reboot: true }, Happening::Boot { first: false }]
        }
        // A hard reboot resets the guest: no orderly shutdown.
        Operation::Reboot { hard: true } => vec![Happening::Boot { first: false }],
        Operation::Resize { .. } | Operation::RevertResize { vm_state: VmState::Active }
            if sub.from == VmState::Active || matches!(sub.operation, Operation::RevertResize { .. }) =>
        {
            vec![Happening::Shutdown { reboot: false }, Happening::Boot { first: false }]
        }
        Operation::Reinstall { .. } | Operation::ChangeOs { .. } if sub.from == VmState::Active => {
            vec![Happening::Shutdown { reboot: false }, Happening::Reinstall, Happening::Boot { first: true }]
        }
        Operation::Reinstall { .. } | Operation::ChangeOs { .. } => vec![Happening::Reinstall],
        Operation::Redeploy if sub.from == VmState::Active => {
            vec![Happening::Shutdown { reboot: false }, Happening::Boot { first: false }]
        }
        // The recycle bin stops the guest.
        Operation::Recycle if sub.from == VmState::Active => vec![Happening::Shutdown { reboot: false }],
        // A live migration goes unnoticed by the guest; a stopped one has no guest running.
        Operation::Resize { .. }
        | Operation::Delete
        | Operation::Migrate { .. }
        | Operation::Redeploy
        | Operation::Recycle
        | Operation::Restore
        | Operation::AttachVolume { .. }
        | Operation::DetachVolume { .. }
        | Operation::CreateVolume { .. }
        | Operation::ExtendVolume { .. }
        | Operation::DeleteVolume { .. } => vec![],
        Operation::AddNics { .. } | Operation::DeleteNics { .. } | Operation::ChangeVpc { .. } => vec![],
        Operation::ConfirmResize { .. } | Operation::RevertResize { .. } => vec![],
    }
}

fn of_event(event: &ServerEvent) -> Vec<Happening> {
    match event.kind {
        ServerEventKind::PasswordReset => vec![Happening::PasswordReset],
        ServerEventKind::CrashDump => vec![Happening::Panic, Happening::Boot { first: false }],
        ServerEventKind::SerialConsoleEnabled
        | ServerEventKind::SerialConsoleDisabled
        | ServerEventKind::MonitorRegistered => vec![],
    }
}

const WALL_CLOCK: &[FormatItem<'_>] =
    format_description!("[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]");

fn wall_clock(t: Timestamp) -> String {
    t.to_offset(time::UtcOffset::UTC).format(WALL_CLOCK).unwrap_or_default()
}

/// The guest's console lines, oldest first. `os_name` is the image's name.
pub fn log(server: &Server, os_name: &str, sub_jobs: &[SubJob], events: &[ServerEvent]) -> Vec<String> {
    let mut history: Vec<(Timestamp, usize, Happening)> = Vec::new();
    for sub in sub_jobs {
        let at = sub.end_time.unwrap_or(sub.begin_time);
        history.extend(of_sub_job(sub).into_iter().map(|h| (at, 0, h)));
    }
    for event in events {
        history.extend(of_event(event).into_iter().map(|h| (event.at, 1, h)));
    }
    // Stable by time: at one instant, what a job did comes before what was recorded beside it.
    history.sort_by_key(|(at, order, _)| (*at, *order));
    let mut lines = Vec::new();
    let mut reset_pending = false;
    let mut boots = 0u32;
    let mut fresh_disk = false;
    for (at, _, happening) in history {
        match happening {
            Happening::PasswordReset => reset_pending = true,
            Happening::Reinstall => fresh_disk = true,
            Happening::Shutdown { reboot } => shutdown(&mut lines, reboot),
            Happening::Panic => panic(&mut lines, boots),
            Happening::Boot { first } => {
                boots += 1;
                let first = first || std::mem::take(&mut fresh_disk);
                boot(&mut lines, server, os_name, at, first, std::mem::take(&mut reset_pending), boots);
            }
        }
    }
    lines
}

fn shutdown(lines: &mut Vec<String>, reboot: bool) {
    lines.extend(
        [
            "         Stopping OpenSSH server daemon...",
            "[  OK  ] Stopped OpenSSH server daemon.",
            "         Stopping Cloud-init: Final Stage...",
            "[  OK  ] Reached target System Shutdown.",
        ]
        .map(String::from),
    );
    lines.push(
        if reboot { "[ 3141.592653] reboot: Restarting system" } else { "[ 3141.592653] reboot: Power down" }.into(),
    );
}

fn panic(lines: &mut Vec<String>, boots: u32) {
    let uptime = 1000 + u64::from(boots) * 37;
    lines.push(format!("[ {uptime}.000001] Kernel panic - not syncing: NMI: Not continuing"));
    lines.push(format!("[ {uptime}.000002] CPU: 0 PID: 0 Comm: swapper/0 Not tainted"));
    lines.push(format!("[ {uptime}.000003] Hardware name: OpenStack Foundation OpenStack Nova, BIOS"));
    lines.push("kdump: saving vmcore-dmesg.txt to /var/crash/".into());
    lines.push("kdump: saving vmcore complete".into());
    lines.push("kdump: rebooting".into());
}

fn boot(
    lines: &mut Vec<String>,
    server: &Server,
    os_name: &str,
    at: Timestamp,
    first: bool,
    reset_pending: bool,
    boots: u32,
) {
    let host = &server.hostname;
    let pid = 600 + boots * 7;
    lines.extend([
        "[    0.000000] Linux version 5.10.0 (mockbuild@ecsd) #1 SMP".to_string(),
        "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro console=tty0 console=ttyS0,115200n8"
            .to_string(),
        "[    0.000000] DMI: OpenStack Foundation OpenStack Nova, BIOS rel-1.10.2".to_string(),
        "[    1.204711] EXT4-fs (vda1): mounted filesystem with ordered data mode.".to_string(),
        format!("[    2.018826] systemd[1]: Set hostname to <{host}>."),
        format!("Welcome to {os_name}!"),
        format!("cloud-init[{pid}]: Cloud-init v. 21.4 running 'init' at {}. Up 4.21 seconds.", wall_clock(at)),
    ]);
    if first {
        for (index, nic) in server.nics.iter().enumerate() {
            lines.push(format!("cloud-init[{pid}]: ci-info: | eth{index} | True | {} | {} |", nic.ip, nic.mac));
        }
        lines.push(format!("cloud-init[{pid}]: Generating public/private rsa key pair."));
    }
    if reset_pending {
        lines.push(format!("CloudResetPwdUpdateAgent[{}]: The password of user root has been reset.", pid + 3));
    }
    lines.push("[  OK  ] Started OpenSSH server daemon.".into());
    lines.push(format!(
        "cloud-init[{}]: Cloud-init v. 21.4 finished at {}. Datasource DataSourceOpenStackLocal. Up 6.20 seconds",
        pid + 1,
        wall_clock(at)
    ));
    lines.push(String::new());
    lines.push(format!("{host} login: "));
}

/// The last `length` lines as one text (`-1`: all of them).
pub fn tail(lines: &[String], length: i64) -> String {
    let keep = if length < 0 { lines.len() } else { lines.len().min(length as usize) };
    lines[lines.len() - keep..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sub(operation: Operation, from: VmState, end: Timestamp, status: JobStatus) -> SubJob {
        SubJob {
            id: "s".into(),
            job_id: "j".into(),
            project_id: "p".into(),
            server_id: "v".into(),
            operation,
            from,
            status,
            step: 0,
            begin_time: end,
            end_time: Some(end),
            failure: None,
            held_by: None,
        }
    }

    fn event(kind: ServerEventKind, at: Timestamp) -> ServerEvent {
        ServerEvent { project_id: "p".into(), server_id: "v".into(), at, kind }
    }

    fn server() -> Server {
        serde_json::from_value(serde_json::json!({
            "id": "v", "project_id": "p", "name": "web", "description": "", "vm_state": "active",
            "task_state": null, "locked": false, "flavor_id": "s6.small.1", "resize_target": null,
            "image_id": "i", "availability_zone": "az1", "vpc_id": "vpc", "nics": [], "volumes": [],
            "metadata": {}, "tags": [], "security_group_ids": [], "key_name": null, "user_data": null,
            "hostname": "web", "instance_name": "instance-1", "reservation_id": "r", "launch_index": 0,
            "created": "2024-06-01T10:00:00Z", "updated": "2024-06-01T10:00:00Z", "launched_at": null,
            "password_hash": null, "pending_password_hash": null
        }))
        .expect("a server document")
    }

    const T0: Timestamp = datetime!(2024-06-01 10:00:00 UTC);

    fn count(lines: &[String], needle: &str) -> usize {
        lines.iter().filter(|l| l.contains(needle)).count()
    }

    #[test]
    fn the_log_grows_with_each_boot_and_a_reset_shows_at_the_boot_after_it() {
        let created = [sub(Operation::Create, VmState::Building, T0, JobStatus::Success)];
        let first = log(&server(), "Ubuntu 22.04", &created, &[]);
        assert_eq!(count(&first, "Linux version"), 1);
        assert_eq!(count(&first, "web login:"), 1);
        assert!(first.iter().any(|l| l.contains("Welcome to Ubuntu 22.04!")));

        let later = T0 + time::Duration::hours(1);
        let subs =
            [created[0].clone(), sub(Operation::Reboot { hard: false }, VmState::Active, later, JobStatus::Success)];
        let reset = [event(ServerEventKind::PasswordReset, T0 + time::Duration::minutes(5))];
        let rebooted = log(&server(), "Ubuntu 22.04", &subs, &reset);
        assert_eq!(count(&rebooted, "Linux version"), 2);
        assert_eq!(count(&rebooted, "reboot: Restarting system"), 1);
        assert_eq!(count(&rebooted, "has been reset"), 1);
        let reset_line = rebooted.iter().position(|l| l.contains("has been reset")).expect("reset line");
        let restart = rebooted.iter().position(|l| l.contains("Restarting system")).expect("restart line");
        assert!(reset_line > restart, "the reset is taken up at the boot after it");
    }

    #[test]
    fn a_pending_reset_failed_jobs_and_hard_reboots_show_as_they_happened() {
        let subs = [
            sub(Operation::Create, VmState::Building, T0, JobStatus::Success),
            sub(Operation::Stop { hard: false }, VmState::Active, T0 + time::Duration::minutes(1), JobStatus::Fail),
            sub(Operation::Reboot { hard: true }, VmState::Active, T0 + time::Duration::minutes(2), JobStatus::Success),
        ];
        let reset = [event(ServerEventKind::PasswordReset, T0 + time::Duration::minutes(3))];
        let lines = log(&server(), "os", &subs, &reset);
        assert_eq!(count(&lines, "Linux version"), 2);
        assert_eq!(count(&lines, "reboot:"), 0, "a failed stop and a hard reboot shut nothing down");
        assert_eq!(count(&lines, "has been reset"), 0, "not booted since the reset");
    }

    #[test]
    fn a_crash_dump_panics_dumps_and_boots_again() {
        let subs = [sub(Operation::Create, VmState::Building, T0, JobStatus::Success)];
        let dump = [event(ServerEventKind::CrashDump, T0 + time::Duration::minutes(1))];
        let lines = log(&server(), "os", &subs, &dump);
        assert_eq!(count(&lines, "Kernel panic - not syncing: NMI"), 1);
        assert_eq!(count(&lines, "kdump: saving vmcore complete"), 1);
        assert_eq!(count(&lines, "Linux version"), 2);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let lines: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(tail(&lines, 2), "b\nc");
        assert_eq!(tail(&lines, -1), "a\nb\nc");
        assert_eq!(tail(&lines, 0), "");
        assert_eq!(tail(&lines, 10), "a\nb\nc");
    }
}
