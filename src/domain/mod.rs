//! Pure rules: no I/O, no HTTP. Statuses, transitions, validation, error codes, planning.

pub mod batch;
pub mod catalogue;
pub mod console;
pub mod create;
pub mod errors;
pub mod events;
pub mod faults;
pub mod groups;
pub mod job;
pub mod keypairs;
pub mod lifecycle;
pub mod metadata;
pub mod network;
pub mod placement;
pub mod query;
pub mod rebuild;
pub mod recycle_bin;
pub mod scheduled_events;
pub mod server;
pub mod status;
pub mod tags;
pub mod templates;
pub mod validate;
pub mod volumes;

pub use errors::{Error, ErrorCode, Result};
