//! Fault rules and held sub-jobs.

use rusqlite::params;

use super::jobs::{SUB_JOB_COLUMNS, decode_sub_job, sub_job_from_row};
use super::{SqliteTx, db};
use crate::domain::faults::FaultRule;
use crate::domain::job::SubJob;
use crate::domain::{Error, Result};
use crate::store::{FaultReads, FaultWrites};

impl FaultReads for SqliteTx<'_> {
    fn fault_rules(&mut self) -> Result<Vec<FaultRule>> {
        let mut stmt = self.tx.prepare_cached("SELECT doc FROM fault_rules ORDER BY seq").map_err(db)?;
        let docs = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        docs.map(|doc| serde_json::from_str(&doc.map_err(db)?).map_err(Error::internal)).collect()
    }
}

impl FaultWrites for SqliteTx<'_> {
    fn put_fault_rule(&mut self, rule: &FaultRule) -> Result<()> {
        let doc = serde_json::to_string(rule).map_err(Error::internal)?;
        self.tx
            .execute(
                "INSERT INTO fault_rules (id, seq, doc) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM fault_rules), ?2)
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                params![rule.id, doc],
            )
            .map(drop)
            .map_err(db)
    }

    fn delete_fault_rule(&mut self, id: &str) -> Result<bool> {
        self.tx.execute("DELETE FROM fault_rules WHERE id = ?1", [id]).map(|n| n == 1).map_err(db)
    }

    fn release_held(&mut self, rule_id: &str) -> Result<Vec<SubJob>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!("SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE held_by = ?1 ORDER BY job_id, seq"))
            .map_err(db)?;
        let mut held = stmt
            .query_map([rule_id], sub_job_from_row)
            .map_err(db)?
            .map(|row| row.map_err(db).and_then(decode_sub_job))
            .collect::<Result<Vec<_>>>()?;
        self.tx.execute("UPDATE sub_jobs SET held_by = NULL WHERE held_by = ?1", [rule_id]).map_err(db)?;
        for sub in &mut held {
            sub.held_by = None;
        }
        Ok(held)
    }
}
