//! What the servers on each simulated host hold of it: the `host_usage` table the triggers of
//! migration 4 keep.

use std::collections::HashMap;

use super::{SqliteTx, db};
use crate::domain::placement::HostUsage;
use crate::domain::{Error, Result};
use crate::store::PlacementReads;

impl PlacementReads for SqliteTx<'_> {
    fn host_usage(&mut self, hosts: &[String]) -> Result<HashMap<String, HostUsage>> {
        let hosts = serde_json::to_string(hosts).map_err(Error::internal)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT host, instances, vcpus, ram_mib FROM host_usage WHERE host IN (SELECT value FROM json_each(?1))",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([hosts.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, HostUsage { instances: r.get(1)?, vcpus: r.get(2)?, ram_mib: r.get(3)? }))
            })
            .map_err(db)?;
        rows.map(|row| row.map_err(db)).collect()
    }
}
