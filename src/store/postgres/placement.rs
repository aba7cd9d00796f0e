//! What the servers on each simulated host hold of it: the `host_usage` table the triggers of
//! migration 5 keep.

use std::collections::HashMap;

use super::PgTx;
use crate::domain::Result;
use crate::domain::placement::HostUsage;
use crate::store::PlacementReads;

impl PlacementReads for PgTx<'_> {
    fn host_usage(&mut self, hosts: &[String]) -> Result<HashMap<String, HostUsage>> {
        let rows =
            self.rows("SELECT host, instances, vcpus, ram_mib FROM host_usage WHERE host = ANY($1)", &[&hosts])?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), HostUsage { instances: r.get(1), vcpus: r.get(2), ram_mib: r.get(3) }))
            .collect())
    }
}
