//! Launch templates and their versions.

use super::{PgTx, doc, ms};
use crate::domain::templates::{LaunchTemplate, TemplateVersion};
use crate::domain::{Error, Result};
use crate::store::{TemplateReads, TemplateWrites};

impl TemplateReads for PgTx<'_> {
    fn launch_templates(&mut self, project_id: &str) -> Result<Vec<LaunchTemplate>> {
        self.docs("SELECT doc FROM launch_templates WHERE project_id = $1 ORDER BY created_ms, id", &[&project_id])
    }

    fn launch_template_versions(
        &mut self,
        project_id: &str,
        template_id: Option<&str>,
    ) -> Result<Vec<TemplateVersion>> {
        match template_id {
            Some(template_id) => self.docs(
                "SELECT doc FROM launch_template_versions WHERE project_id = $1 AND template_id = $2
                 ORDER BY version_number",
                &[&project_id, &template_id],
            ),
            None => self.docs(
                "SELECT doc FROM launch_template_versions WHERE project_id = $1 ORDER BY template_id, version_number",
                &[&project_id],
            ),
        }
    }
}

impl TemplateWrites for PgTx<'_> {
    fn insert_launch_template(&mut self, template: &LaunchTemplate, first: &TemplateVersion) -> Result<()> {
        let inserted = self.exec(
            "INSERT INTO launch_templates (id, project_id, name, created_ms, doc) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (project_id, name) DO NOTHING",
            &[&template.id, &template.project_id, &template.name, &ms(template.created), &doc(template)?],
        )?;
        if inserted == 0 {
            return Err(Error::invalid(format!("The project already has a launch template named {}.", template.name)));
        }
        self.exec(
            "INSERT INTO launch_template_versions (id, template_id, project_id, version_number, doc)
             VALUES ($1, $2, $3, $4, $5)",
            &[&first.id, &first.template_id, &first.project_id, &i64::from(first.version_number), &doc(first)?],
        )
        .map(drop)
    }

    fn delete_launch_template(&mut self, project_id: &str, template_id: &str) -> Result<bool> {
        self.exec(
            "DELETE FROM launch_template_versions WHERE template_id = $1 AND project_id = $2",
            &[&template_id, &project_id],
        )?;
        self.exec("DELETE FROM launch_templates WHERE id = $1 AND project_id = $2", &[&template_id, &project_id])
            .map(|n| n == 1)
    }
}
