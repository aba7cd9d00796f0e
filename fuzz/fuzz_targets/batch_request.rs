//! The request parsers: arbitrary bytes deserialised into the wire request types, then into
//! domain commands (`CreateServer::into_domain`, `CreateServers::validate` against the default
//! catalogue, `server_ids`, the name and password rules). Nothing may panic, and what passes
//! must be what the rules promise.
//!
//! Input: one selector byte, then the JSON body.

#![no_main]

use std::net::Ipv4Addr;
use std::sync::LazyLock;

use ecsd::api::ecs::wire::batch::{
    BatchActionRequest, BatchRenameRequest, BatchResetPasswordRequest, BatchResizeRequest, DeleteServersRequest,
    ResetPasswordRequest, ResizeRequest, ids,
};
use ecsd::api::ecs::wire::servers::{CreateServersRequest, UpdateServerRequest};
use ecsd::domain::batch::{Duplicates, MAX_BATCH_RESIZE_SERVERS, MAX_BATCH_SERVERS, server_ids};
use ecsd::domain::catalogue::Catalogue;
use ecsd::domain::create::MAX_COUNT;
use ecsd::domain::status::Status;
use ecsd::domain::validate;
use libfuzzer_sys::fuzz_target;

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(Catalogue::default);

/// The batch id rules: not empty, at most `max`, no repeats, order kept.
fn check_ids(list: Vec<String>, max: usize, duplicates: Duplicates) {
    let original = list.clone();
    let Ok(checked) = server_ids(list, max, duplicates) else { return };
    assert!(!checked.is_empty() && checked.len() <= max);
    let mut seen = std::collections::HashSet::new();
    assert!(checked.iter().all(|id| seen.insert(id.clone())), "a repeated id passed");
    if duplicates == Duplicates::Refuse {
        assert_eq!(checked, original);
    }
    let mut rest = original.iter();
    assert!(checked.iter().all(|id| rest.any(|o| o == id)), "order changed");
}

fn check_name(name: &str) {
    if validate::server_name(name, validate::MAX_NAME_CHARS).is_ok() {
        let chars = name.chars().count();
        assert!((1..=validate::MAX_NAME_CHARS).contains(&chars));
        let host = validate::hostname_of(name);
        assert!(!host.is_empty() && host.len() <= 63);
        assert!(host.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }
}

fn check_password(password: &str, specials: &str) {
    if validate::password(password, specials).is_ok() {
        assert!((8..=26).contains(&password.chars().count()));
        assert!(!password.to_lowercase().contains("root"));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    match selector % 10 {
        0 => {
            let Ok(request) = serde_json::from_slice::<CreateServersRequest>(body) else { return };
            let Ok(create) = request.server.into_domain() else { return };
            let Ok(flavor) = create.validate(&CATALOGUE) else { return };
            assert!((1..=MAX_COUNT).contains(&create.count));
            let usage = create.usage(flavor);
            assert!(usage.instances >= 1 && usage.cores >= 1 && usage.ram_mib >= 1);
            // What validation passes builds servers whose names pass validation too.
            let addresses: Vec<Vec<Ipv4Addr>> = (0..create.count)
                .map(|i| create.nics.iter().map(|_| Ipv4Addr::from(0x0A00_0000 + i)).collect())
                .collect();
            let servers = create.build(&CATALOGUE, "p", addresses, None, time::OffsetDateTime::UNIX_EPOCH);
            assert_eq!(servers.len(), create.count as usize);
            for server in &servers {
                assert!(validate::server_name(&server.name, validate::MAX_NAME_CHARS).is_ok(), "{}", server.name);
                assert_eq!(server.status(), Status::Build);
                assert_eq!(server.nics.len(), create.nics.len());
            }
        }
        1 => {
            let Ok(request) = serde_json::from_slice::<BatchActionRequest>(body) else { return };
            for servers in
                [request.start.map(|s| s.servers), request.stop.map(|s| s.servers), request.reboot.map(|s| s.servers)]
                    .into_iter()
                    .flatten()
            {
                check_ids(ids(servers), MAX_BATCH_SERVERS, Duplicates::Refuse);
            }
        }
        2 => {
            let Ok(request) = serde_json::from_slice::<DeleteServersRequest>(body) else { return };
            check_ids(ids(request.servers), MAX_BATCH_SERVERS, Duplicates::Refuse);
        }
        3 => {
            let Ok(request) = serde_json::from_slice::<BatchResetPasswordRequest>(body) else { return };
            if let Some(password) = &request.new_password {
                check_password(password, validate::RESET_PASSWORD_SPECIALS);
            }
            check_ids(ids(request.servers), MAX_BATCH_SERVERS, Duplicates::Collapse);
        }
        4 => {
            let Ok(request) = serde_json::from_slice::<BatchRenameRequest>(body) else { return };
            check_name(&request.name);
            check_ids(ids(request.servers), MAX_BATCH_SERVERS, Duplicates::Collapse);
        }
        5 => {
            let Ok(request) = serde_json::from_slice::<BatchResizeRequest>(body) else { return };
            let _ = CATALOGUE.flavor(&request.resize.flavor_ref);
            check_ids(ids(request.resize.servers), MAX_BATCH_RESIZE_SERVERS, Duplicates::Collapse);
        }
        6 => {
            let Ok(request) = serde_json::from_slice::<ResizeRequest>(body) else { return };
            if let Some(target) = CATALOGUE.flavor(&request.resize.flavor_ref) {
                for source in &CATALOGUE.flavors {
                    // A flavor is never a resize target of itself.
                    assert!(!(source.id == target.id && source.can_resize_to(target)));
                }
            }
        }
        7 => {
            let Ok(request) = serde_json::from_slice::<ResetPasswordRequest>(body) else { return };
            check_password(&request.reset_password.new_password, validate::RESET_PASSWORD_SPECIALS);
            check_password(&request.reset_password.new_password, validate::CREATE_PASSWORD_SPECIALS);
        }
        8 => {
            let Ok(request) = serde_json::from_slice::<UpdateServerRequest>(body) else { return };
            if let Some(name) = &request.server.name {
                check_name(name);
            }
            if let Some(description) = &request.server.description {
                let _ = validate::description(description);
            }
        }
        _ => {
            // The body parser every JSON route uses: an empty body, valid JSON or an error.
            let _ = ecsd::api::extract::parse_json::<serde_json::Value>(body);
        }
    }
});
