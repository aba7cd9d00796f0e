//! Fault rules and held sub-jobs.

use super::jobs::{SUB_JOB_COLUMNS, sub_job_from_row};
use super::{PgTx, doc};
use crate::domain::Result;
use crate::domain::faults::FaultRule;
use crate::domain::job::SubJob;
use crate::store::{FaultReads, FaultWrites};

impl FaultReads for PgTx<'_> {
    fn fault_rules(&mut self) -> Result<Vec<FaultRule>> {
        self.docs("SELECT doc FROM fault_rules ORDER BY seq", &[])
    }
}

impl FaultWrites for PgTx<'_> {
    fn put_fault_rule(&mut self, rule: &FaultRule) -> Result<()> {
        self.exec(
            "INSERT INTO fault_rules (id, seq, doc) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM fault_rules), $2)
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            &[&rule.id, &doc(rule)?],
        )
        .map(drop)
    }

    fn delete_fault_rule(&mut self, id: &str) -> Result<bool> {
        self.exec("DELETE FROM fault_rules WHERE id = $1", &[&id]).map(|n| n == 1)
    }

    fn release_held(&mut self, rule_id: &str) -> Result<Vec<SubJob>> {
        let rows = self.rows(
            &format!("SELECT {SUB_JOB_COLUMNS} FROM sub_jobs WHERE held_by = $1 ORDER BY job_id, seq"),
            &[&rule_id],
        )?;
        let mut held = rows.iter().map(sub_job_from_row).collect::<Result<Vec<_>>>()?;
        self.exec("UPDATE sub_jobs SET held_by = NULL WHERE held_by = $1", &[&rule_id])?;
        for sub in &mut held {
            sub.held_by = None;
        }
        Ok(held)
    }
}
