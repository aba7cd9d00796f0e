//! Nova key pairs.

use super::{PgTx, doc, parse};
use crate::domain::Result;
use crate::domain::keypairs::{self, Keypair};
use crate::store::{KeypairReads, KeypairWrites};

fn keypair(id: i64, text: &str) -> Result<Keypair> {
    let mut keypair: Keypair = parse(text)?;
    keypair.id = id;
    Ok(keypair)
}

impl KeypairReads for PgTx<'_> {
    fn keypair(&mut self, project_id: &str, name: &str) -> Result<Option<Keypair>> {
        let row =
            self.row("SELECT id, doc FROM keypairs WHERE project_id = $1 AND name = $2", &[&project_id, &name])?;
        row.map(|row| keypair(row.get(0), row.get(1))).transpose()
    }

    fn keypairs(&mut self, project_id: &str) -> Result<Vec<Keypair>> {
        let rows = self.rows("SELECT id, doc FROM keypairs WHERE project_id = $1 ORDER BY id", &[&project_id])?;
        rows.iter().map(|row| keypair(row.get(0), row.get(1))).collect()
    }
}

impl KeypairWrites for PgTx<'_> {
    fn insert_keypair(&mut self, keypair: &Keypair) -> Result<i64> {
        let row = self.row(
            "INSERT INTO keypairs (project_id, name, doc) VALUES ($1, $2, $3)
             ON CONFLICT (project_id, name) DO NOTHING RETURNING id",
            &[&keypair.project_id, &keypair.name, &doc(keypair)?],
        )?;
        row.map(|row| row.get(0)).ok_or_else(|| keypairs::exists(&keypair.name))
    }

    fn delete_keypair(&mut self, project_id: &str, name: &str) -> Result<bool> {
        self.exec("DELETE FROM keypairs WHERE project_id = $1 AND name = $2", &[&project_id, &name]).map(|n| n == 1)
    }
}
