//! Launch templates (v3) and their versions.

use super::Ecs;
use crate::domain::templates::{self, LaunchTemplate, TemplateData, TemplateVersion};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::{read, transact};

/// A template as `CreateLaunchTemplate` gives it.
pub struct NewTemplate {
    pub name: String,
    pub description: Option<String>,
    pub version_description: Option<String>,
    pub data: TemplateData,
}

/// The filters of `ListTemplates`.
#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    pub ids: Option<Vec<String>>,
    pub names: Option<Vec<String>>,
    pub marker: Option<String>,
    pub limit: usize,
}

/// The filters of `ListLaunchTemplateVersions`.
#[derive(Debug, Clone, Default)]
pub struct VersionFilter {
    pub template_id: Option<String>,
    pub image_id: Option<String>,
    pub flavor_id: Option<String>,
    pub versions: Option<Vec<u32>>,
    pub marker: Option<String>,
    pub limit: usize,
}

/// One page of `items` after the item whose id is `marker`, and the marker of the next page
/// when there is one. An unknown marker is a bad request.
pub(super) fn page_after<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
    marker: Option<&str>,
    limit: usize,
) -> Result<(Vec<T>, Option<String>)> {
    let start = match marker {
        Some(marker) => {
            items
                .iter()
                .position(|item| id(item) == marker)
                .ok_or_else(|| Error::invalid(format!("The marker {marker} is not an item of this list.")))?
                + 1
        }
        None => 0,
    };
    let more = items.len() > start + limit;
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = if more { page.last().map(|item| id(item).to_string()) } else { None };
    Ok((page, next))
}

impl Ecs {
    /// `CreateLaunchTemplate`: the template and its version 1, which is its default.
    pub fn create_launch_template(&self, project_id: &str, new: NewTemplate, dry_run: bool) -> Result<Option<String>> {
        templates::template_name(&new.name)?;
        if let Some(description) = &new.description {
            templates::template_description("description", description)?;
        }
        if let Some(description) = &new.version_description {
            templates::template_description("version_description", description)?;
        }
        if dry_run {
            return Ok(None);
        }
        let template_id = transact(self.store.as_ref(), |tx| {
            let now = self.clock.now();
            let template = LaunchTemplate {
                id: uuid::Uuid::new_v4().to_string(),
                project_id: project_id.to_string(),
                name: new.name.clone(),
                description: new.description.clone().unwrap_or_default(),
                created: now,
                updated: now,
                default_version: 1,
                latest_version: 1,
            };
            let first = TemplateVersion {
                id: uuid::Uuid::new_v4().to_string(),
                template_id: template.id.clone(),
                project_id: project_id.to_string(),
                version_number: 1,
                version_description: new.version_description.clone().unwrap_or_default(),
                created: now,
                data: new.data.clone(),
            };
            tx.insert_launch_template(&template, &first)?;
            Ok(template.id)
        })?;
        tracing::info!(%project_id, %template_id, "launch template created");
        Ok(Some(template_id))
    }

    /// `ListTemplates`: oldest first.
    pub fn list_templates(
        &self,
        project_id: &str,
        filter: &TemplateFilter,
    ) -> Result<(Vec<LaunchTemplate>, Option<String>)> {
        let all = read(self.store.as_ref(), |tx| tx.launch_templates(project_id))?;
        let matching = all
            .into_iter()
            .filter(|t| {
                filter.ids.as_ref().is_none_or(|ids| ids.contains(&t.id))
                    && filter.names.as_ref().is_none_or(|names| names.contains(&t.name))
            })
            .collect();
        page_after(matching, |t| t.id.as_str(), filter.marker.as_deref(), filter.limit)
    }

    /// `ListLaunchTemplateVersions`: by template, then version number.
    pub fn list_launch_template_versions(
        &self,
        project_id: &str,
        filter: &VersionFilter,
    ) -> Result<(Vec<TemplateVersion>, Option<String>)> {
        let all =
            read(self.store.as_ref(), |tx| tx.launch_template_versions(project_id, filter.template_id.as_deref()))?;
        let matching = all
            .into_iter()
            .filter(|v| {
                filter.image_id.as_deref().is_none_or(|image| v.data.image_id() == Some(image))
                    && filter.flavor_id.as_deref().is_none_or(|flavor| v.data.flavor_id.as_deref() == Some(flavor))
                    && filter.versions.as_ref().is_none_or(|numbers| numbers.contains(&v.version_number))
            })
            .collect();
        page_after(matching, |v| v.id.as_str(), filter.marker.as_deref(), filter.limit)
    }

    /// `DeleteLaunchTemplates`: the template and all its versions.
    pub fn delete_launch_templates(&self, project_id: &str, template_id: &str) -> Result<()> {
        if !transact(self.store.as_ref(), |tx| tx.delete_launch_template(project_id, template_id))? {
            return Err(Error::new(
                ErrorCode::ResourceNotFound,
                format!("The launch template {template_id} could not be found."),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_marker_and_name_the_next_one() {
        let items = vec!["a", "b", "c"];
        assert_eq!(page_after(items.clone(), |s| s, None, 2).expect("page"), (vec!["a", "b"], Some("b".into())));
        assert_eq!(page_after(items.clone(), |s| s, Some("b"), 2).expect("page"), (vec!["c"], None));
        assert_eq!(page_after(items.clone(), |s| s, None, 3).expect("page"), (vec!["a", "b", "c"], None));
        assert!(page_after(items, |s| s, Some("z"), 2).is_err());
    }
}
