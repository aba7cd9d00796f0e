//! The audit trail as the control API reads it.

use super::{Ecs, Reach};
use crate::domain::events::{Event, EventFilter};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::read;

impl Ecs {
    /// The records `filter` picks among those the caller may see: an admin sees every
    /// project's (or one project's, when `filter` names it), any other caller its own.
    pub fn list_events(&self, reach: &Reach, mut filter: EventFilter) -> Result<Vec<Event>> {
        match (reach, &filter.project_id) {
            (Reach::Everything, _) => {}
            (Reach::Project(own), Some(named)) if named != own => {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    "Events can be listed of only the caller's own project without an admin credential.",
                ));
            }
            (Reach::Project(own), _) => filter.project_id = Some(own.clone()),
        }
        read(self.store.as_ref(), |tx| tx.list_events(&filter))
    }
}
