//! Launch templates and their versions.

use rusqlite::params;

use super::{SqliteTx, db, ms};
use crate::domain::templates::{LaunchTemplate, TemplateVersion};
use crate::domain::{Error, Result};
use crate::store::{TemplateReads, TemplateWrites};

fn from_doc<T: serde::de::DeserializeOwned>(doc: String) -> Result<T> {
    serde_json::from_str(&doc).map_err(Error::internal)
}

fn to_doc<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

impl SqliteTx<'_> {
    /// The documents the first column of `sql` holds, in its order.
    pub(super) fn docs<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<T>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(db)?;
        let docs = stmt.query_map(args, |r| r.get::<_, String>(0)).map_err(db)?;
        docs.map(|doc| doc.map_err(db).and_then(from_doc)).collect()
    }
}

impl TemplateReads for SqliteTx<'_> {
    fn launch_templates(&mut self, project_id: &str) -> Result<Vec<LaunchTemplate>> {
        self.docs("SELECT doc FROM launch_templates WHERE project_id = ?1 ORDER BY created_ms, id", [project_id])
    }

    fn launch_template_versions(
        &mut self,
        project_id: &str,
        template_id: Option<&str>,
    ) -> Result<Vec<TemplateVersion>> {
        match template_id {
            Some(template_id) => self.docs(
                "SELECT doc FROM launch_template_versions WHERE project_id = ?1 AND template_id = ?2
                 ORDER BY version_number",
                [project_id, template_id],
            ),
            None => self.docs(
                "SELECT doc FROM launch_template_versions WHERE project_id = ?1 ORDER BY template_id, version_number",
                [project_id],
            ),
        }
    }
}

impl TemplateWrites for SqliteTx<'_> {
    fn insert_launch_template(&mut self, template: &LaunchTemplate, first: &TemplateVersion) -> Result<()> {
        let doc = to_doc(template)?;
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO launch_templates (id, project_id, name, created_ms, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (project_id, name) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![template.id, template.project_id, template.name, ms(template.created), doc])
            })
            .map_err(db)?;
        if inserted == 0 {
            return Err(Error::invalid(format!("The project already has a launch template named {}.", template.name)));
        }
        let doc = to_doc(first)?;
        self.tx
            .prepare_cached(
                "INSERT INTO launch_template_versions (id, template_id, project_id, version_number, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![first.id, first.template_id, first.project_id, first.version_number, doc])
            })
            .map(drop)
            .map_err(db)
    }

    fn delete_launch_template(&mut self, project_id: &str, template_id: &str) -> Result<bool> {
        self.tx
            .prepare_cached("DELETE FROM launch_template_versions WHERE template_id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.execute([template_id, project_id]))
            .map_err(db)?;
        self.tx
            .prepare_cached("DELETE FROM launch_templates WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.execute([template_id, project_id]))
            .map(|n| n == 1)
            .map_err(db)
    }
}
