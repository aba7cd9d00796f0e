//! Pure rules: no I/O, no HTTP. Statuses, transitions, validation, error codes, planning.

pub mod batch;
pub mod catalogue;
pub mod create;
pub mod errors;
pub mod faults;
pub mod job;
pub mod query;
pub mod server;
pub mod status;
pub mod validate;

pub use errors::{Error, ErrorCode, Result};
