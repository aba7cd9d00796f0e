//! The status machine: arbitrary sequences of operations, checked with `Operation::check` and
//! `InstantOperation::check`, planned with `Operation::plan` and applied step by step with
//! `Server::enter`, never panic and keep the invariants: a plan starts where the server is and
//! always ends idle, a busy server refuses everything, each operation ends in its state, the
//! status mapping is total, and an operation survives the store's JSON round trip.
//!
//! Input: two bytes per operation: what (and its flavour), then how far it runs before the
//! next one is tried against the server mid-plan.

#![no_main]

use std::collections::BTreeMap;

use ecsd::domain::ErrorCode;
use ecsd::domain::server::Server;
use ecsd::domain::status::{Effect, InstantOperation, Operation, Status, TaskState, VmState};
use libfuzzer_sys::fuzz_target;

const FLAVORS: [&str; 3] = ["s6.small.1", "s6.medium.2", "s6.large.2"];
const VM_STATES: [VmState; 5] =
    [VmState::Building, VmState::Active, VmState::Stopped, VmState::Error, VmState::Deleted];

fn operation(byte: u8) -> Operation {
    let hard = byte & 0x10 != 0;
    match byte % 14 {
        0 => Operation::Create,
        1 => Operation::Start,
        2 => Operation::Stop { hard },
        3 => Operation::Reboot { hard },
        4 => Operation::Resize {
            flavor_id: FLAVORS[(byte as usize >> 5) % 3].into(),
            with_stop: hard,
            verify: byte & 0x08 != 0,
        },
        5 => Operation::Reinstall { with_stop: hard },
        6 => Operation::ChangeOs { with_stop: hard },
        7 => Operation::Migrate { live: hard },
        8 => Operation::Redeploy,
        9 => Operation::Recycle,
        10 => Operation::Restore,
        11 => Operation::AddNics { nics: vec![] },
        12 => Operation::DeleteNics { port_ids: vec![] },
        _ => Operation::Delete,
    }
}

fn new_server() -> Server {
    let now = time::OffsetDateTime::UNIX_EPOCH;
    Server {
        id: "00000000-0000-0000-0000-000000000001".into(),
        project_id: "p".into(),
        name: "fuzz".into(),
        description: String::new(),
        vm_state: VmState::Building,
        task_state: Some(TaskState::Scheduling),
        locked: false,
        flavor_id: FLAVORS[0].into(),
        resize_target: None,
        image_id: "i".into(),
        availability_zone: "az".into(),
        vpc_id: "v".into(),
        nics: vec![],
        volumes: vec![],
        metadata: BTreeMap::new(),
        tags: vec![],
        security_group_ids: vec![],
        key_name: None,
        user_data: None,
        hostname: "fuzz".into(),
        instance_name: "instance-1".into(),
        reservation_id: "r-1".into(),
        launch_index: 0,
        created: now,
        updated: now,
        launched_at: None,
        password_hash: None,
        pending_password_hash: Some("pending".into()),
        auto_terminate_time: None,
        host: None,
        server_group_id: None,
        metadata_options: Default::default(),
        encrypted_password: None,
        previous_host: None,
        rebuild: None,
        resize_revert: None,
    }
}

/// Every check refuses a busy server, with a code that says why.
fn assert_refuses_everything(server: &Server) {
    let state = server.state();
    for byte in 0..=255u8 {
        match operation(byte).check(state) {
            Ok(()) => panic!("{:?} accepted on a busy server {state:?}", operation(byte)),
            Err(code) => assert!(
                matches!(code, ErrorCode::ServerBusy | ErrorCode::WrongStatus | ErrorCode::AlreadyDeleting),
                "{code:?}"
            ),
        }
    }
    for instant in [InstantOperation::Rename, InstantOperation::ResetPassword] {
        assert!(instant.check(state).is_err(), "{instant:?} accepted on a busy server {state:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    // The mapping is total and consistent with the names.
    for vm in VM_STATES {
        for task in std::iter::once(None).chain(TaskState::ALL.map(Some)) {
            let status = Status::of(vm, task);
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }

    // A server in BUILD finishes its create first, as the engine does.
    let mut server = new_server();
    for step in Operation::Create.plan(VmState::Building).iter().skip(1) {
        server.enter(step, time::OffsetDateTime::UNIX_EPOCH);
    }
    assert_eq!((server.vm_state, server.task_state), (VmState::Active, None));

    for pair in data.chunks(2) {
        let op = operation(pair[0]);
        let interrupt_at = pair.get(1).copied().unwrap_or(u8::MAX) as usize;
        server.locked = pair.get(1).is_some_and(|b| b & 0x80 != 0 && b & 0x40 != 0);
        let stored = serde_json::to_string(&op).expect("serialises");
        assert_eq!(serde_json::from_str::<Operation>(&stored).expect("deserialises"), op);

        let before = server.clone();
        let state = server.state();
        if let Err(code) = op.check(state) {
            let expected =
                [ErrorCode::ServerBusy, ErrorCode::WrongStatus, ErrorCode::ServerLocked, ErrorCode::AlreadyDeleting];
            assert!(expected.contains(&code), "{op:?} on {state:?}: {code:?}");
            assert!(!(state.task_state.is_none() && !state.locked && code == ErrorCode::ServerBusy));
            assert_eq!(server, before, "a refused operation changed the server");
            continue;
        }
        assert!(state.task_state.is_none() && !state.locked, "{op:?} accepted on {state:?}");
        let from = server.vm_state;
        let plan = op.plan(from);
        let (last, busy) = plan.split_last().expect("a plan has steps");
        assert_eq!(last.task_state, None, "{op:?} from {from:?} does not end idle");
        assert!(busy.iter().all(|s| s.task_state.is_some()), "{op:?} from {from:?} is idle mid-plan");
        assert!(plan.iter().filter(|s| s.effect == Effect::Remove).all(|s| std::ptr::eq(s, last)));
        if op != Operation::Create {
            assert_eq!(plan[0].vm_state, from, "{op:?} does not start where the server is");
        }
        assert_eq!(op.plan(from), plan, "plans are deterministic (the engine replans after a restart)");
        if let Operation::Resize { flavor_id, .. } = &op {
            server.resize_target = Some(flavor_id.clone());
        }
        let mut removed = false;
        for (index, step) in plan.iter().enumerate() {
            if step.effect == Effect::Remove {
                removed = true;
                break;
            }
            server.enter(step, time::OffsetDateTime::UNIX_EPOCH);
            let _ = server.status();
            if step.task_state.is_some() {
                assert_refuses_everything(&server);
            }
            // Another client tries something mid-plan: it must be refused, and change nothing.
            if index == interrupt_at % plan.len() && step.task_state.is_some() {
                let other = operation(interrupt_at as u8);
                assert!(other.check(server.state()).is_err());
            }
        }
        if removed {
            // Deleted: a new server takes its place, as a new create would.
            assert!(matches!(op, Operation::Delete));
            server = before;
            server.vm_state = VmState::Active;
            server.task_state = None;
            continue;
        }
        assert_eq!(server.task_state, None);
        let expected = match &op {
            Operation::Create | Operation::Start | Operation::Reboot { .. } => VmState::Active,
            Operation::Stop { .. } => VmState::Stopped,
            Operation::Resize { .. }
            | Operation::Migrate { .. }
            | Operation::Redeploy
            | Operation::AddNics { .. }
            | Operation::DeleteNics { .. } => from,
            Operation::Reinstall { .. } | Operation::ChangeOs { .. } if from == VmState::Active => VmState::Active,
            Operation::Reinstall { .. } | Operation::ChangeOs { .. } | Operation::Restore => VmState::Stopped,
            Operation::Recycle => VmState::SoftDeleted,
            Operation::Delete => unreachable!("delete removes"),
            other => unreachable!("{other:?}: only operations with a plan of server states are drawn"),
        };
        assert_eq!(server.vm_state, expected, "{op:?} from {from:?}");
        match &op {
            Operation::Resize { flavor_id, .. } => {
                assert_eq!(&server.flavor_id, flavor_id);
                assert_eq!(server.resize_target, None);
            }
            _ => assert_eq!(server.flavor_id, before.flavor_id),
        }
        if matches!(op, Operation::Start | Operation::Reboot { .. })
            || (from == VmState::Active && matches!(op, Operation::Resize { .. }))
        {
            assert_eq!(server.pending_password_hash, None, "a boot applies the pending password");
        }
        // Stable again: renaming is allowed; a password reset too (ACTIVE or SHUTOFF).
        assert_eq!(
            InstantOperation::Rename.check(server.state()),
            if server.locked { Err(ErrorCode::ServerLocked) } else { Ok(()) }
        );
        server.pending_password_hash = Some("pending".into());
    }
});
